"""Environments and their stores: an environment with its own lake gets its own catalog, so a
`--env prod` run loads into the prod lake even though dev already loaded the same files, and
neither catalog lists the other's tables. Also what a failed run's summary line claims."""
import os

from sluice_e2e import ProjectTest

CSV = "id,name\n1,a\n2,b\n3,c\n4,d\n5,e\n"


class EnvironmentCatalogTest(ProjectTest):
    sluice_yaml = "project: envs\nlake: ./lake\nenvironments:\n  prod:\n    lake: ./lake-prod\n"

    def setUp(self):
        super().setUp()
        self.p.write("incoming/people.csv", CSV)
        self.p.pipeline("P", "source: { type: files, path: incoming/people*.csv }\ntarget: { zone: raw, table: people }\n")

    def test_prod_loads_files_dev_already_loaded_and_catalogs_stay_apart(self):
        dev = self.p.sluice("run", "P")
        self.assertOk(dev)
        self.assertIn("5 rows written", dev.out)
        prod = self.p.sluice("--env", "prod", "run", "P")
        self.assertOk(prod)
        self.assertIn("5 rows written", prod.out)  # not "no changes": dev's catalog is not prod's
        self.assertTrue(self.p.lake_files())
        prod_files = [f for f in self.p.lake_files("../lake-prod/**/*.parquet")]
        self.assertTrue(prod_files, os.listdir(self.p.root))
        self.assertTrue(os.path.exists(self.p.path(".sluice", "catalog-prod.db")))
        self.assertEqual(self.p.scalar("SELECT count(*) FROM raw.people"), 5)
        r = self.p.sluice("--env", "prod", "query", "SELECT count(*) AS n FROM raw.people", "--format", "json")
        self.assertOk(r)
        self.assertIn('"n": 5', r.out.replace('"n":5', '"n": 5'))
        # Each catalog lists only its own lake's table files.
        listing = self.p.sluice("--env", "prod", "catalog", "show", "raw.people")
        self.assertOk(listing)
        self.assertIn("lake-prod", listing.out)
        self.assertNotIn(os.path.join(self.p.root, "lake", ""), listing.out)
        # A new file loads once per environment.
        self.p.write("incoming/people2.csv", "id,name\n6,f\n")
        self.assertIn("1 rows written", self.p.sluice("--env", "prod", "run", "P").out)
        self.assertIn("1 rows written", self.p.sluice("run", "P").out)
        self.assertIn("no_changes", self.p.sluice("--env", "prod", "run", "P").out)

    def test_an_environment_moving_the_lake_off_a_shared_postgres_catalog_is_refused(self):
        self.p.write("sluice.yaml", "project: envs\ncatalog: postgresql://sluice@127.0.0.1:1/meta\n"
                                    "environments:\n  prod:\n    lake: ./lake-prod\n")
        r = self.p.sluice("--env", "prod", "validate")
        self.assertEqual(r.rc, 2, r)
        self.assertIn("sluice.yaml:4:3: environment 'prod' moves the lake but keeps the shared catalog", r.err)
        self.assertIn("set catalog: in environments.prod too", r.err)


class FailedRunSummaryTest(ProjectTest):
    def test_a_failed_run_does_not_claim_rows_written(self):
        self.p.write("incoming/people.csv", CSV)
        self.p.pipeline("P", """\
source: { type: files, path: incoming/people*.csv }
checks:
  - row_count: { min: 100 }
target: { zone: raw, table: people }
""")
        r = self.p.sluice("run", "P")
        self.assertEqual(r.rc, 1, r)
        self.assertIn("failed: 5 rows read, nothing committed", r.out)
        self.assertNotIn("rows written", r.out)
        show = self.p.sluice("runs")
        self.assertOk(show)
        self.assertFalse(self.p.lake_files())
