"""`sluice maintain compact TABLE`: small files of each partition become one file in one commit;
the data is unchanged, old versions stay readable until vacuum."""
import os
import unittest

from sluice_e2e import ProjectTest

PIPELINE = """\
name: sales
source: { type: files, path: incoming/sales*.csv }
target: { zone: raw, table: sales, partition_by: [country] }
"""


class CompactTest(ProjectTest):
    def setUp(self):
        super().setUp()
        self.p.pipeline("sales", PIPELINE)
        for run in range(3):
            rows = "".join(f"{run * 100 + i},{'DE' if i % 2 else 'FR'},{i * 1.5}\n" for i in range(40))
            self.p.write(f"incoming/sales_{run}.csv", "id,country,amount\n" + rows)
            self.assertOk(self.p.sluice("run", "sales"))

    def summary(self, version=None):
        args = ["query", "SELECT country, count(*) AS n, sum(id) AS ids, sum(amount) AS amount FROM raw.sales "
                "GROUP BY 1 ORDER BY 1", "--format", "json"]
        if version is not None:
            args += ["--as-of", str(version)]
        r = self.p.sluice(*args)
        self.assertOk(r)
        return r.out

    def test_compact_merges_per_partition_and_keeps_rows(self):
        before_files = self.p.lake_files()
        self.assertEqual(len(before_files), 6)  # 3 runs x 2 countries
        before = self.summary()
        r = self.p.sluice("maintain", "compact", "raw.sales")
        self.assertOk(r)
        self.assertIn("version 4: 6 files", r.out)
        self.assertIn("-> 2 files", r.out)
        self.assertIn("2 partitions, 120 rows", r.out)
        self.assertEqual(self.summary(), before)
        current = self.p.query("SELECT DISTINCT country FROM raw.sales ORDER BY 1")
        self.assertEqual(current, [{"country": "DE"}, {"country": "FR"}])
        history = self.p.sluice("catalog", "history", "raw.sales")
        self.assertOk(history)
        self.assertIn("compact", history.out)
        # Old files are still there for time travel; version 3 reads them.
        self.assertTrue(all(os.path.exists(f) for f in before_files))
        self.assertEqual(self.summary(3), before)
        # Vacuum with no retention removes exactly the six replaced files.
        v = self.p.sluice("maintain", "vacuum", "--retain", "0s")
        self.assertOk(v)
        self.assertIn("removed 6 objects", v.out)
        self.assertFalse(any(os.path.exists(f) for f in before_files))
        self.assertEqual(len(self.p.lake_files()), 2)
        self.assertEqual(self.summary(), before)
        # Nothing left to merge.
        again = self.p.sluice("maintain", "compact", "raw.sales")
        self.assertOk(again)
        self.assertIn("nothing to compact", again.out)

    def test_unknown_table_and_bad_size_are_usage_errors(self):
        r = self.p.sluice("maintain", "compact", "raw.nope")
        self.assertEqual(r.rc, 2, repr(r))
        self.assertIn("raw.nope", r.err)
        r = self.p.sluice("maintain", "compact", "raw.sales", "--target-file-size", "big")
        self.assertEqual(r.rc, 2, repr(r))
        self.assertIn("--target-file-size", r.err)


if __name__ == "__main__":
    unittest.main()
