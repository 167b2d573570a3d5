"""target: { type: files } against a real PostgreSQL 15 source: CSV, JSON and Parquet exports read
back by independent readers (Python's csv and json modules, hyparquet) and compared with what
PostgreSQL holds; a failing export leaves the previous file byte for byte; {date} and {run_id}."""
import csv
import glob
import json
import os
import sqlite3
import sys
import unittest

from pg_project import PostgresProjectTest
from sluice_e2e import FaultPoints, Project, read_parquet_independently

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "scripts"))
from s3_test_server import ENV, S3Server  # noqa: E402

ROWS = [
    (1, "2026-12-01", "1234.50", "plain"),
    (2, "2026-12-02", "0.01", 'multi\nline, "quoted"'),
    (3, "2026-12-03", None, None),
]


class FileExportsTest(PostgresProjectTest):
    connection_name = "warehouse"

    def setUp(self):
        super().setUp()
        self.pg.psql("CREATE SCHEMA analytics; "
                     "CREATE TABLE analytics.daily_revenue (id int, day date, revenue numeric(12,2), note text); "
                     "INSERT INTO analytics.daily_revenue VALUES "
                     "(1, '2026-12-01', 1234.50, 'plain'), "
                     "(2, '2026-12-02', 0.01, E'multi\\nline, \"quoted\"'), "
                     "(3, '2026-12-03', NULL, NULL);")

    def export_pipeline(self, target, name="export"):
        self.p.pipeline(name, f"""\
            name: {name}
            source: {{ connection: warehouse, table: analytics.daily_revenue }}
            target: {target}
            """)

    def last_run(self):
        with sqlite3.connect(self.p.path(".sluice", "catalog.db")) as db:
            row = db.execute("SELECT run_id, status, details_json FROM runs ORDER BY started_at_us DESC LIMIT 1"
                             ).fetchone()
        return {"id": row[0], "status": row[1], "jobs": json.loads(row[2])["jobs"]}

    def test_csv_json_and_parquet_read_back_equal(self):
        self.p.pipeline("export", """\
            name: export
            jobs:
              as_csv:
                source: { connection: warehouse, table: analytics.daily_revenue }
                target: { type: files, path: exports/daily_revenue.csv, format: csv }
              as_json:
                source: { connection: warehouse, table: analytics.daily_revenue }
                target: { type: files, path: exports/daily_revenue.json }
              as_parquet:
                source: { connection: warehouse, table: analytics.daily_revenue }
                target: { type: files, path: exports/daily_revenue.parquet, format: parquet }
            """)
        self.assertOk(self.p.sluice("validate"))
        self.assertOk(self.p.sluice("run", "export"))
        self.assertEqual(sorted(os.listdir(self.p.path("exports"))),
                         ["daily_revenue.csv", "daily_revenue.json", "daily_revenue.parquet"])

        with open(self.p.path("exports/daily_revenue.csv"), newline="") as f:
            lines = list(csv.reader(f))
        self.assertEqual(lines[0], ["id", "day", "revenue", "note"])
        # DuckDB's CSV writer leaves NULL as an empty field.
        self.assertEqual(sorted(lines[1:]), [[str(i), d, r or "", n or ""] for i, d, r, n in ROWS])

        with open(self.p.path("exports/daily_revenue.json")) as f:
            objects = [json.loads(line) for line in f]
        self.assertEqual(sorted(objects, key=lambda o: o["id"]),
                         [{"id": i, "day": d, "revenue": None if r is None else float(r), "note": n}
                          for i, d, r, n in ROWS])

        table = read_parquet_independently([self.p.path("exports/daily_revenue.parquet")])
        self.assertEqual(table["columns"], ["id", "day", "revenue", "note"])
        got = sorted(table["rows"], key=lambda r: r["id"])
        self.assertEqual([(r["id"], r["note"]) for r in got], [(i, n) for i, _, _, n in ROWS])
        self.assertEqual([None if r["revenue"] is None else f"{float(r['revenue']):.2f}" for r in got],
                         [r for _, _, r, _ in ROWS])

        run = self.last_run()
        self.assertEqual(run["status"], "succeeded")
        self.assertEqual({j["job"]: j["rows_written"] for j in run["jobs"]},
                         {"as_csv": 3, "as_json": 3, "as_parquet": 3})

    def test_a_failing_export_leaves_the_previous_file_intact(self):
        self.export_pipeline("{ type: files, path: exports/daily_revenue.csv }")
        self.assertOk(self.p.sluice("run", "export"))
        with open(self.p.path("exports/daily_revenue.csv"), "rb") as f:
            before = f.read()
        self.pg.psql("INSERT INTO analytics.daily_revenue VALUES (4, '2026-12-04', 5, 'new')")

        # Failing right before publishing: the new rows were read and converted, nothing replaced.
        faults = FaultPoints()
        self.addCleanup(faults.cleanup)
        r = self.p.sluice("run", "export", env=faults.env("files_export_before_publish:error"))
        self.assertEqual(r.rc, 1, repr(r))
        self.assertEqual(self.last_run()["status"], "failed")
        # Killed at the same place.
        r = self.p.sluice("run", "export", env=faults.env("files_export_before_publish:kill"))
        self.assertNotEqual(r.rc, 0, repr(r))
        # The source failing.
        self.pg.psql("ALTER TABLE analytics.daily_revenue RENAME TO gone")
        r = self.p.sluice("run", "export")
        self.assertEqual(r.rc, 1, repr(r))
        with open(self.p.path("exports/daily_revenue.csv"), "rb") as f:
            self.assertEqual(f.read(), before)
        self.assertEqual(os.listdir(self.p.path("exports")), ["daily_revenue.csv"])  # no temporary files

        self.pg.psql("ALTER TABLE analytics.gone RENAME TO daily_revenue")
        self.assertOk(self.p.sluice("run", "export"))
        with open(self.p.path("exports/daily_revenue.csv")) as f:
            self.assertIn("4,2026-12-04,5.00,new", f.read())

    def test_date_and_run_id_placeholders(self):
        clock = self.p.write("clock", "2026-12-05T23:59:00Z\n")
        self.export_pipeline('{ type: files, path: "exports/{date}/revenue-{run_id}.json" }')
        self.assertOk(self.p.sluice("run", "export", env={"SLUICE_TEST_CLOCK_FILE": clock}))
        run_id = self.last_run()["id"]
        path = self.p.path("exports", "2026-12-05", f"revenue-{run_id}.json")
        self.assertTrue(os.path.exists(path), glob.glob(self.p.path("exports", "**"), recursive=True))
        with open(path) as f:
            self.assertEqual(len(f.readlines()), 3)

    def test_large_exports_are_split_with_a_manifest(self):
        self.pg.psql("INSERT INTO analytics.daily_revenue "
                     "SELECT g, DATE '2026-01-01' + g % 300, g, md5(g::text) FROM generate_series(10, 60000) g")
        self.export_pipeline("{ type: files, path: exports/big.csv, max_file_size: 512KB }")
        self.assertOk(self.p.sluice("run", "export"))
        with open(self.p.path("exports/big.manifest.json")) as f:
            manifest = json.load(f)
        names = [entry["name"] for entry in manifest["files"]]
        self.assertGreater(len(names), 1)
        self.assertEqual(sorted(os.listdir(self.p.path("exports"))), sorted(names + ["big.manifest.json"]))
        self.assertEqual(names[0], "big-0001.csv")
        ids = []
        for name in names:
            with open(self.p.path("exports", name), newline="") as f:
                rows = list(csv.reader(f))
            self.assertEqual(rows[0], ["id", "day", "revenue", "note"])
            ids += [int(r[0]) for r in rows[1:]]
        self.assertEqual(sorted(ids), [1, 2, 3] + list(range(10, 60001)))
        self.assertEqual(manifest["rows"], len(ids))


class S3ExportsTest(unittest.TestCase):
    """An export to an s3:// prefix of a real S3-compatible server (s3rver), checked with boto3."""

    @classmethod
    def setUpClass(cls):
        cls.server = S3Server(buckets=["exports"]).__enter__()

    @classmethod
    def tearDownClass(cls):
        cls.server.__exit__(None, None, None)

    def setUp(self):
        # A local lake; the project's s3: block reaches the server, as for an S3 lake.
        self.p = Project(self.server.sluice_yaml("./lake"))
        self.addCleanup(self.p.cleanup)
        self.boto = self.server.boto3_client()
        self.p.write("incoming/orders.csv", "id,amount\n1,10.5\n2,20.25\n")
        self.p.pipeline("export", """\
            name: export
            source: { type: files, path: incoming/orders.csv }
            target: { type: files, path: "s3://exports/daily/{date}/orders.csv" }
            """)
        self.clock = self.p.write("clock", "2026-12-05T10:00:00Z\n")
        self.env = dict(ENV, SLUICE_TEST_CLOCK_FILE=self.clock)

    def body(self, key):
        return self.boto.get_object(Bucket="exports", Key=key)["Body"].read().decode()

    def test_export_lands_whole_and_a_failed_one_changes_nothing(self):
        r = self.p.sluice("run", "export", env=self.env)
        self.assertEqual(r.rc, 0, repr(r))
        keys = [o["Key"] for o in self.boto.list_objects_v2(Bucket="exports").get("Contents", [])]
        self.assertEqual(keys, ["daily/2026-12-05/orders.csv"])
        self.assertEqual(self.body("daily/2026-12-05/orders.csv"), "id,amount\n1,10.5\n2,20.25\n")

        self.p.write("incoming/orders.csv", "id,amount\n1,10.5\n2,20.25\n3,1.5\n")
        faults = FaultPoints()
        self.addCleanup(faults.cleanup)
        r = self.p.sluice("run", "export", env=dict(self.env, **faults.env("files_export_before_publish:error")))
        self.assertEqual(r.rc, 1, repr(r))
        self.assertEqual(self.body("daily/2026-12-05/orders.csv"), "id,amount\n1,10.5\n2,20.25\n")
        r = self.p.sluice("run", "export", env=self.env)
        self.assertEqual(r.rc, 0, repr(r))
        self.assertEqual(self.body("daily/2026-12-05/orders.csv"), "id,amount\n1,10.5\n2,20.25\n3,1.5\n")


if __name__ == "__main__":
    unittest.main()
