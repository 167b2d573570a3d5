"""query.max_bytes_scanned refuses queries over the limit (after partition pruning) before they
run; query.result_location + `sluice query --save` writes results as Parquet or CSV."""
import csv
import os
import unittest

from sluice_e2e import ProjectTest, read_parquet_independently

PIPELINE = """\
name: sales
source: { type: files, path: incoming/sales*.csv }
target: { zone: raw, table: sales, partition_by: [country] }
"""


class QueryGovernanceTest(ProjectTest):
    def setUp(self):
        super().setUp()
        self.p.pipeline("sales", PIPELINE)
        rows = "".join(f"{i},{['DE', 'FR', 'IT', 'ES'][i % 4]},{i * 0.5},filler text {i:08d}\n" for i in range(4000))
        self.p.write("incoming/sales_1.csv", "id,country,amount,note\n" + rows)
        self.assertOk(self.p.sluice("run", "sales"))
        self.sizes = {}
        for f in self.p.lake_files():
            country = [part.split("=")[1] for part in f.split(os.sep) if part.startswith("country=")][0]
            self.sizes[country] = self.sizes.get(country, 0) + os.path.getsize(f)
        self.total = sum(self.sizes.values())

    def with_config(self, query_section):
        self.p.write("sluice.yaml", "project: test\nlake: ./lake\nquery:\n" + query_section)

    def test_over_limit_refused_with_figures_and_pruned_query_allowed(self):
        limit = max(self.sizes.values()) + 10  # one partition fits, the whole table does not
        self.with_config(f"  max_bytes_scanned: {limit}\n")
        r = self.p.sluice("query", "SELECT count(*) FROM raw.sales")
        self.assertEqual(r.rc, 2, repr(r))
        self.assertIn("query refused", r.err)
        self.assertIn(f"{self.total} bytes", r.err)
        self.assertIn(f"({limit} bytes)", r.err)
        self.assertIn("max_bytes_scanned", r.err)
        # A predicate on the partition column prunes the other partitions: allowed.
        ok = self.p.sluice("query", "SELECT count(*) AS n FROM raw.sales WHERE country = 'DE'", "--format", "csv")
        self.assertOk(ok)
        self.assertEqual(ok.out.splitlines(), ["n", "1000"])
        # OR defeats the pruning estimate: counted in full, refused.
        r = self.p.sluice("query", "SELECT count(*) FROM raw.sales WHERE country = 'DE' OR amount > 100")
        self.assertEqual(r.rc, 2, repr(r))
        # Two partitions via IN exceed the one-partition limit.
        r = self.p.sluice("query", "SELECT count(*) FROM raw.sales WHERE country IN ('DE', 'FR')")
        self.assertEqual(r.rc, 2, repr(r))
        self.assertIn(f"{self.sizes['DE'] + self.sizes['FR']} bytes", r.err)

    def test_no_limit_runs_everything(self):
        self.assertEqual(self.p.scalar("SELECT count(*) FROM raw.sales"), 4000)

    def test_unknown_query_key_has_a_hint(self):
        self.with_config("  max_bytes_scaned: 1GB\n")
        r = self.p.sluice("query", "SELECT 1")
        self.assertEqual(r.rc, 2, repr(r))
        self.assertIn("max_bytes_scanned", r.err)

    def test_save_writes_parquet_and_csv_to_result_location(self):
        self.with_config("  result_location: ./results\n")
        sql = "SELECT country, count(*) AS n FROM raw.sales GROUP BY 1 ORDER BY 1"
        r = self.p.sluice("query", sql, "--save")
        self.assertOk(r)
        path = r.out.strip()
        self.assertTrue(path.startswith(self.p.path("results")), path)
        self.assertTrue(path.endswith(".parquet"))
        data = read_parquet_independently([path])
        self.assertEqual([(row["country"], int(row["n"])) for row in data["rows"]],
                         [("DE", 1000), ("ES", 1000), ("FR", 1000), ("IT", 1000)])
        r = self.p.sluice("query", sql, "--save", "--format", "csv")
        self.assertOk(r)
        with open(r.out.strip()) as f:
            rows = list(csv.reader(f))
        self.assertEqual(rows[0], ["country", "n"])
        self.assertEqual(rows[1], ["DE", "1000"])

    def test_save_without_location_says_what_to_set(self):
        r = self.p.sluice("query", "SELECT 1", "--save")
        self.assertEqual(r.rc, 2, repr(r))
        self.assertIn("query.result_location", r.err)


if __name__ == "__main__":
    unittest.main()
