"""sql: jobs against a real PostgreSQL 15: a multi-statement script commits as one transaction, an
error (or a kill) mid-script commits nothing and names file:line and the SQLSTATE, a timeout and
`sluice cancel` cancel the statement on the server, and `sluice validate` checks the script."""
import json
import sqlite3
import unittest

from pg_project import PostgresProjectTest
from sluice_e2e import FaultPoints, wait_until

ANALYTICS_SQL = """\
-- daily revenue; this ';' is in a comment
CREATE SCHEMA IF NOT EXISTS analytics;
DROP TABLE IF EXISTS analytics.revenue;
CREATE TABLE analytics.revenue AS
  SELECT order_day, sum(amount) AS total, 'a;b' AS note
  FROM staging.orders GROUP BY order_day;
/* a block comment; with /* nesting */ inside */
INSERT INTO analytics.revenue VALUES ('2026-01-01', 0, $$x;y$$);
CREATE OR REPLACE FUNCTION analytics.total() RETURNS numeric AS $fn$
  BEGIN RETURN (SELECT sum(total) FROM analytics.revenue); END;
$fn$ LANGUAGE plpgsql;
UPDATE analytics.revenue SET note = 'it''s; fine' WHERE total = 0
"""


class SqlJobsTest(PostgresProjectTest):
    connection_name = "warehouse"

    def setUp(self):
        super().setUp()
        self.pg.psql("CREATE SCHEMA staging; "
                     "CREATE TABLE staging.orders (id int, order_day date, amount numeric(10,2)); "
                     "INSERT INTO staging.orders SELECT g, DATE '2026-12-01' + g % 3, g * 1.25 "
                     "FROM generate_series(1, 30) g;")

    def pipeline(self, sql_keys, extra=""):
        self.p.pipeline("shop", f"""\
            name: shop
            jobs:
              analytics:
                sql: {sql_keys}
            {extra}""")

    def run_record(self):
        with sqlite3.connect(self.p.path(".sluice", "catalog.db")) as db:
            row = db.execute("SELECT run_id, status, error_message, details_json, rows_written FROM runs "
                             "ORDER BY started_at_us DESC LIMIT 1").fetchone()
        jobs = {j["job"]: j for j in json.loads(row[3]).get("jobs", [])}
        return {"id": row[0], "status": row[1], "error": row[2], "jobs": jobs, "rows_written": row[4]}

    def test_script_commits_as_one_transaction_with_row_counts_per_statement(self):
        self.p.write("sql/analytics.sql", ANALYTICS_SQL)
        self.pipeline("{ connection: warehouse, file: sql/analytics.sql }")
        self.assertOk(self.p.sluice("validate"))
        r = self.p.sluice("run", "shop")
        self.assertOk(r)
        self.assertEqual(self.pg.psql("SELECT order_day, total, note FROM analytics.revenue ORDER BY order_day"),
                         "2026-01-01|0|it's; fine\n"
                         "2026-12-01|206.25|a;b\n2026-12-02|181.25|a;b\n2026-12-03|193.75|a;b\n")
        self.assertEqual(self.pg.psql("SELECT analytics.total()"), "581.25\n")
        run = self.run_record()
        self.assertEqual(run["status"], "succeeded")
        job = run["jobs"]["analytics"]
        self.assertEqual(job["status"], "succeeded")
        # CREATE TABLE AS: 3 rows, INSERT: 1, UPDATE: 1.
        self.assertEqual(job["rows_written"], 5)
        self.assertEqual(run["rows_written"], 5)
        self.assertIn("6 statements of sql/analytics.sql committed", job["message"])
        self.assertIn("line 4 SELECT (3 rows)", job["message"])
        self.assertIn("line 8 INSERT (1 rows)", job["message"])
        self.assertIn("line 12 UPDATE (1 rows)", job["message"])

    def test_error_mid_script_rolls_everything_back_naming_file_line_and_sqlstate(self):
        self.p.write("sql/bad.sql", "CREATE TABLE public.made (x int);\n"
                                    "INSERT INTO public.made VALUES (1);\n"
                                    "\n"
                                    "INSERT INTO public.made\n"
                                    "  SELECT revenu\n"
                                    "  FROM staging.orders;\n"
                                    "INSERT INTO public.made VALUES (2);\n")
        self.pipeline("{ connection: warehouse, file: sql/bad.sql }")
        r = self.p.sluice("run", "shop")
        self.assertEqual(r.rc, 1, repr(r))
        run = self.run_record()
        self.assertEqual(run["status"], "failed")
        message = run["jobs"]["analytics"]["message"]
        # The statement starts at line 4; PostgreSQL's error position points into line 5.
        self.assertIn("sql/bad.sql:5:", message)
        self.assertIn("statement 3 of 4", message)
        self.assertIn("[SQLSTATE 42703]", message)
        self.assertIn('column "revenu" does not exist', message)
        self.assertIn("nothing of the script was committed", message)
        self.assertEqual(self.pg.psql("SELECT to_regclass('public.made') IS NULL"), "t\n")

    def test_inline_script_errors_count_lines_in_the_pipeline_file(self):
        self.p.pipeline("shop", """\
            name: shop
            jobs:
              analytics:
                sql:
                  connection: warehouse
                  script: |
                    CREATE TABLE public.inline_made (x int);
                    SELECT 1/0;
            """)
        r = self.p.sluice("run", "shop")
        self.assertEqual(r.rc, 1, repr(r))
        message = self.run_record()["jobs"]["analytics"]["message"]
        self.assertIn("pipelines/shop.yaml (script: of job 'analytics'):8:", message)
        self.assertIn("[SQLSTATE 22012]", message)
        self.assertEqual(self.pg.psql("SELECT to_regclass('public.inline_made') IS NULL"), "t\n")

    def test_killed_before_commit_leaves_nothing(self):
        self.p.write("sql/a.sql", "CREATE TABLE public.half (x int); INSERT INTO public.half VALUES (1);")
        self.pipeline("{ connection: warehouse, file: sql/a.sql }")
        faults = FaultPoints()
        self.addCleanup(faults.cleanup)
        r = self.p.sluice("run", "shop", env=faults.env("sql_script_before_commit:kill"))
        self.assertNotEqual(r.rc, 0, repr(r))
        wait_until(lambda: self.pg.psql("SELECT count(*) FROM pg_stat_activity "
                                        "WHERE application_name = 'sluice sql job'") == "0\n",
                   "the killed job's backend ended")
        self.assertEqual(self.pg.psql("SELECT to_regclass('public.half') IS NULL"), "t\n")
        # The next run does the whole script.
        self.assertOk(self.p.sluice("run", "shop"))
        self.assertEqual(self.pg.psql("SELECT count(*) FROM public.half"), "1\n")

    def test_retryable_errors_run_the_script_again(self):
        with open(self.p.path("sluice.yaml"), "a") as f:
            f.write("defaults: { retry_backoff: 10ms, retry_backoff_max: 20ms }\n")
        # A sequence is not transactional: the first attempt fails with a serialization failure
        # (SQLSTATE 40001, retryable) after its insert, the second one goes through.
        self.pg.psql("CREATE SEQUENCE public.attempts; CREATE TABLE public.landed (x int)")
        self.p.write("sql/flaky.sql", "INSERT INTO public.landed VALUES (1);\n"
                                      "DO $$ BEGIN IF nextval('public.attempts') = 1 THEN\n"
                                      "  RAISE EXCEPTION 'first try' USING ERRCODE = '40001'; END IF; END $$;\n")
        self.pipeline("{ connection: warehouse, file: sql/flaky.sql }", extra="    retries: 1\n")
        self.assertOk(self.p.sluice("run", "shop"))
        job = self.run_record()["jobs"]["analytics"]
        self.assertEqual((job["status"], job["attempts"]), ("succeeded", 2))
        self.assertEqual(self.pg.psql("SELECT count(*) FROM public.landed"), "1\n")  # the failed try left nothing
        # A syntax error is not retried.
        self.p.write("sql/flaky.sql", "SELEC 1;\n")
        r = self.p.sluice("run", "shop")
        self.assertEqual(r.rc, 1, repr(r))
        job = self.run_record()["jobs"]["analytics"]
        self.assertEqual((job["status"], job["attempts"]), ("failed", 1))
        self.assertIn("sql/flaky.sql:1:", job["message"])
        self.assertIn("[SQLSTATE 42601]", job["message"])

    def sleeping_backends(self):
        return int(self.pg.psql("SELECT count(*) FROM pg_stat_activity "
                                "WHERE state = 'active' AND query LIKE '%pg_sleep(600)%' "
                                "AND pid <> pg_backend_pid()"))

    def test_timeout_cancels_the_statement_on_the_server(self):
        self.p.write("sql/slow.sql", "CREATE TABLE public.slow (x int);\nSELECT pg_sleep(600);\n")
        self.pipeline("{ connection: warehouse, file: sql/slow.sql }", extra="    timeout: 2s\n")
        # The server-side sleep outlasts the timeout whatever the machine's speed; without the
        # cancel request the run would take ten minutes (the subprocess limit fails it first).
        r = self.p.sluice("run", "shop", timeout=300)
        self.assertEqual(r.rc, 1, repr(r))
        job = self.run_record()["jobs"]["analytics"]
        self.assertEqual(job["status"], "failed")
        self.assertIn("ran longer than its timeout", job["message"])
        wait_until(lambda: self.sleeping_backends() == 0, "no statement left running on the server")
        self.assertEqual(self.pg.psql("SELECT to_regclass('public.slow') IS NULL"), "t\n")

    def test_cancel_stops_the_statement_on_the_server(self):
        self.p.write("sql/slow.sql", "SELECT pg_sleep(600);\n")
        self.pipeline("{ connection: warehouse, file: sql/slow.sql }")
        proc = self.p.start("run", "shop")
        self.addCleanup(lambda: proc.poll() is None and proc.kill())
        wait_until(lambda: self.sleeping_backends() == 1, "the script's statement running on the server", proc=proc)
        run_id = self.run_record()["id"]
        self.assertOk(self.p.sluice("cancel", run_id))
        proc.communicate(timeout=120)
        run = self.run_record()
        self.assertEqual(run["status"], "cancelled")
        self.assertEqual(run["jobs"]["analytics"]["status"], "cancelled")
        # The statement was seen running before the cancel: the server answered the cancel request.
        self.assertIn("[SQLSTATE 57014]", run["jobs"]["analytics"]["message"])
        wait_until(lambda: self.sleeping_backends() == 0, "no statement left running on the server")

    def test_validate_checks_file_connection_and_statements(self):
        self.pipeline("{ connection: warehouse, file: sql/missing.sql }")
        r = self.p.sluice("validate")
        self.assertEqual(r.rc, 2, repr(r))
        self.assertIn("the SQL file 'sql/missing.sql' of job 'analytics' of pipeline 'shop' does not exist", r.err)
        self.p.write("sql/tx.sql", "BEGIN;\nDELETE FROM staging.orders;\nCOMMIT;\n")
        self.pipeline("{ connection: warehouse, file: sql/tx.sql }")
        r = self.p.sluice("validate")
        self.assertEqual(r.rc, 2, repr(r))
        self.assertIn("sql/tx.sql:1: BEGIN controls the transaction", r.err)
        self.p.write("sql/open.sql", "SELECT 1;\nSELECT 'never closed;\n")
        self.pipeline("{ connection: warehouse, file: sql/open.sql }")
        r = self.p.sluice("validate")
        self.assertEqual(r.rc, 2, repr(r))
        self.assertIn("sql/open.sql:2: a string literal ('…') is never closed", r.err)
        self.p.pipeline("shop", "name: shop\njobs:\n"
                                "  load:\n"
                                "    source: { type: files, path: x.csv }\n"
                                "    sql: { connection: warehouse, script: 'SELECT 1' }\n")
        r = self.p.sluice("validate")
        self.assertEqual(r.rc, 2, repr(r))
        self.assertIn("job 'load' of pipeline 'shop' has sql: and source:", r.err)
        self.assertEqual(self.pg.psql("SELECT count(*) FROM staging.orders"), "30\n")


if __name__ == "__main__":
    unittest.main()
