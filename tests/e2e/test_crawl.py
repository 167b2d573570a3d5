"""`sluice catalog crawl PATH --zone Z`: existing folders of files become catalog tables (hive
partitions detected); Parquet under the lake is referenced in place, other files are copied or
converted; crawling again adds only new files."""
import os
import unittest

from sluice_e2e import ProjectTest


class CrawlTest(ProjectTest):
    def write_parquet(self, rel, sql):
        """Writes a Parquet file with sluice's own engine (query --save), then moves it to `rel`."""
        self.p.write("sluice.yaml", "project: test\nlake: ./lake\nquery: { result_location: ./tmp-results }\n")
        r = self.p.sluice("query", sql, "--save")
        self.assertOk(r)
        target = self.p.path(rel)
        os.makedirs(os.path.dirname(target), exist_ok=True)
        os.replace(r.out.strip(), target)
        return target

    def test_folders_become_tables_with_partitions_and_recrawl_adds_new_files(self):
        self.p.write("export/orders/country=DE/part-0.csv", "id,amount\n1,10.5\n2,20\n")
        self.p.write("export/orders/country=FR/part-0.csv", "id,amount\n3,7\n")
        self.p.write("export/orders/_SUCCESS", "")
        self.p.write("export/events/2024.jsonl", '{"kind": "click", "n": 1}\n{"kind": "view", "n": 2}\n')
        r = self.p.sluice("catalog", "crawl", "export", "--zone", "raw")
        self.assertOk(r)
        self.assertIn("raw.orders", r.out)
        self.assertIn("converted to Parquet", r.out)
        self.assertEqual(self.p.query("SELECT country, sum(amount) AS total, count(*) AS n FROM raw.orders "
                                      "GROUP BY 1 ORDER BY 1"),
                         [{"country": "DE", "total": 30.5, "n": 2}, {"country": "FR", "total": 7.0, "n": 1}])
        self.assertEqual(self.p.scalar("SELECT sum(n) FROM raw.events"), 3)
        show = self.p.sluice("catalog", "show", "raw.orders")
        self.assertOk(show)
        self.assertIn("partitions: country", show.out)
        # Crawling again finds nothing new; a new file is added on the next crawl.
        again = self.p.sluice("catalog", "crawl", "export", "--zone", "raw")
        self.assertOk(again)
        self.assertEqual(self.p.scalar("SELECT count(*) FROM raw.orders"), 3)
        self.p.write("export/orders/country=IT/part-0.csv", "id,amount\n4,1\n5,2\n")
        self.assertOk(self.p.sluice("catalog", "crawl", "export", "--zone", "raw"))
        self.assertEqual(self.p.scalar("SELECT count(*) FROM raw.orders"), 5)
        self.assertEqual(self.p.scalar("SELECT count(*) FROM raw.orders WHERE country = 'IT'"), 2)

    def test_parquet_under_the_lake_is_referenced_in_place(self):
        path = self.write_parquet("lake/legacy/sales/year=2023/data.parquet",
                                  "SELECT range AS id, range * 2 AS amount FROM range(100)")
        r = self.p.sluice("catalog", "crawl", "lake/legacy/sales", "--zone", "bronze", "--table", "sales")
        self.assertOk(r)
        self.assertIn("referenced in place", r.out)
        self.assertEqual(self.p.scalar("SELECT count(*) FROM bronze.sales WHERE year = 2023"), 100)
        # No copy was made: the only Parquet file of the table is the original.
        self.assertEqual([f for f in self.p.lake_files() if "sales" in f], [path])
        # vacuum leaves crawled folders alone even with no retention.
        v = self.p.sluice("maintain", "vacuum", "--retain", "0s")
        self.assertOk(v)
        self.assertTrue(os.path.exists(path))

    def test_parquet_outside_the_lake_is_copied(self):
        self.write_parquet("outside/metrics/m.parquet", "SELECT 'a' AS k, 1 AS v UNION ALL SELECT 'b', 2")
        r = self.p.sluice("catalog", "crawl", "outside", "--zone", "raw")
        self.assertOk(r)
        self.assertIn("copied into the lake", r.out)
        self.assertEqual(self.p.scalar("SELECT sum(v) FROM raw.metrics"), 3)
        self.assertTrue(any("raw/crawled/metrics" in f for f in self.p.lake_files()))

    def test_errors_name_the_problem(self):
        r = self.p.sluice("catalog", "crawl", "no-such-folder", "--zone", "raw")
        self.assertNotEqual(r.rc, 0)
        self.assertIn("no-such-folder", r.err)


if __name__ == "__main__":
    unittest.main()
