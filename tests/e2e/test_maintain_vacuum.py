"""`sluice maintain vacuum`: deletes files removed from tables longer ago than --retain and
uploads no commit ever referenced (if old enough); never touches what a current version reads."""
import os
import shutil
import time
import unittest

from sluice_e2e import ProjectTest

PIPELINE = """\
name: orders
source: { type: files, path: incoming/orders*.csv }
target: { zone: raw, table: orders }
"""


def orders(start, count):
    return "id,amount\n" + "".join(f"{i},{i * 2}\n" for i in range(start, start + count))


class VacuumTest(ProjectTest):
    def setUp(self):
        super().setUp()
        self.p.pipeline("orders", PIPELINE)
        self.p.write("incoming/orders_1.csv", orders(0, 50))
        self.assertOk(self.p.sluice("run", "orders"))
        self.first_files = self.p.lake_files()
        self.assertTrue(self.first_files)
        # A full refresh replaces the table: version 2 no longer references version 1's files.
        self.assertOk(self.p.sluice("run", "orders", "--full-refresh"))
        self.current = [f for f in self.p.lake_files() if f not in self.first_files]
        self.assertTrue(self.current)

    def test_removed_files_stay_within_retain_and_go_after_it(self):
        kept = self.p.sluice("maintain", "vacuum")  # default --retain 7d: removed just now, kept
        self.assertOk(kept)
        self.assertIn("removed 0 objects", kept.out)
        self.assertEqual(self.p.scalar("SELECT count(*) FROM raw.orders"), 50)
        self.assertTrue(all(os.path.exists(f) for f in self.first_files))
        # Time travel to version 1 still reads its files.
        r = self.p.sluice("query", "SELECT count(*) AS n FROM raw.orders", "--as-of", "1", "--format", "csv")
        self.assertOk(r)

        dry = self.p.sluice("maintain", "vacuum", "--retain", "0s", "--dry-run")
        self.assertOk(dry)
        self.assertIn(f"would remove {len(self.first_files)} object", dry.out)
        self.assertIn("removed from its table", dry.out)
        self.assertTrue(all(os.path.exists(f) for f in self.first_files))

        size = sum(os.path.getsize(f) for f in self.first_files)
        done = self.p.sluice("maintain", "vacuum", "--retain", "0s")
        self.assertOk(done)
        self.assertIn(f"removed {len(self.first_files)} object", done.out)
        self.assertIn(f"({size} bytes)", done.out)
        self.assertFalse(any(os.path.exists(f) for f in self.first_files))
        self.assertTrue(all(os.path.exists(f) for f in self.current))
        self.assertEqual(self.p.scalar("SELECT count(*) FROM raw.orders"), 50)
        again = self.p.sluice("maintain", "vacuum", "--retain", "0s")
        self.assertOk(again)
        self.assertIn("removed 0 objects", again.out)

    def test_uncommitted_uploads_go_only_when_older_than_retain(self):
        folder = os.path.dirname(self.current[0])
        old_orphan = os.path.join(folder, "part-dead-run-00000-0.parquet")
        young_orphan = os.path.join(folder, "part-inflight-run-00000-0.parquet")
        shutil.copy(self.current[0], old_orphan)
        shutil.copy(self.current[0], young_orphan)
        ten_days_ago = time.time() - 10 * 86400
        os.utime(old_orphan, (ten_days_ago, ten_days_ago))
        # Committed files as old as the orphan stay: a current version references them.
        for f in self.current:
            os.utime(f, (ten_days_ago, ten_days_ago))
        r = self.p.sluice("maintain", "vacuum", "--retain", "7d")
        self.assertOk(r)
        self.assertIn("never committed", r.out)
        self.assertIn("removed 1 object", r.out)
        self.assertFalse(os.path.exists(old_orphan))
        self.assertTrue(os.path.exists(young_orphan))
        self.assertTrue(all(os.path.exists(f) for f in self.current))
        self.assertTrue(all(os.path.exists(f) for f in self.first_files))  # removed < 7d ago
        self.assertEqual(self.p.scalar("SELECT count(*) FROM raw.orders"), 50)

    def test_bad_retain_is_a_usage_error(self):
        r = self.p.sluice("maintain", "vacuum", "--retain", "seven days")
        self.assertEqual(r.rc, 2, repr(r))
        self.assertIn("--retain", r.err)


if __name__ == "__main__":
    unittest.main()
