"""examples/shop_drop (scenario 2 in full) run by `sluice serve` as its README says: three CSVs
dropped into a watched folder → one run when the set is complete and settled → staging tables in a
real PostgreSQL 15 (bad lines set aside in the lake's raw zone) → the analytics SQL job → a CSV
export → a mail with row counts per job (a real SMTP server started here), on success and on
failure; at most one run per day, each file once — also across a restart of the daemon. Only the
ports, the database URL and its password differ from the example: picked now.

Time is the daemon's injected test clock (SLUICE_TEST_CLOCK_FILE), moved by the test: the 5 s
settle time and the calendar day are never waited for, and the test cannot straddle midnight.
"Nothing happened" is checked after two whole passes of the daemon's loop at the current time
(the daemon_loop fault point), so a poll that saw the current files and time has certainly run."""
import csv
import datetime
import os
import shutil
import subprocess
import sys
import tempfile
import unittest

from sluice_e2e import FaultPoints, ProjectTest, wait_until
from test_notifications import SmtpServer
from test_serve import Daemon, free_port

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "scripts"))
from pg_test_server import PgServer  # noqa: E402

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
EXAMPLE = os.path.join(ROOT, "examples", "shop_drop")
DAY_ONE = datetime.datetime(2026, 11, 23, 10, 0, 0, tzinfo=datetime.timezone.utc)


class ShopDropExampleTest(ProjectTest):
    def setUp(self):
        super().setUp()
        for name in ("sluice.yaml", "make_drop.py", "pipelines/shop.yaml", "sql/analytics.sql"):
            os.makedirs(os.path.dirname(self.p.path(name)), exist_ok=True)
            shutil.copy(os.path.join(EXAMPLE, name), self.p.path(name))
        self.pg = PgServer()
        self.pg.__enter__()
        self.addCleanup(self.pg.__exit__, None, None, None)
        mail_dir = tempfile.mkdtemp(prefix="sluice-mail-")
        self.addCleanup(shutil.rmtree, mail_dir, True)
        self.smtp = SmtpServer(mail_dir)
        self.addCleanup(self.smtp.stop)
        self.port = free_port()
        with open(self.p.path("sluice.yaml")) as f:
            text = f.read()
        self.assertIn("port: 8025", text)
        self.assertIn("listen: 127.0.0.1:8080", text)
        self.assertIn("url: postgresql://sluice@127.0.0.1:5432/shop", text)
        self.p.write("sluice.yaml", text.replace("port: 8025", f"port: {self.smtp.port}")
                     .replace("listen: 127.0.0.1:8080", f"listen: 127.0.0.1:{self.port}")
                     .replace("postgresql://sluice@127.0.0.1:5432/shop", self.pg.url))
        self.faults = FaultPoints()
        self.addCleanup(self.faults.cleanup)
        self.faults.release("daemon_loop")  # the point only marks each pass; it never holds the loop
        self.clock_file = os.path.join(self.faults.dir, "clock")
        self.set_clock(DAY_ONE)

    def set_clock(self, when):
        # Written aside and renamed, so the daemon never reads half a timestamp.
        with open(self.clock_file + ".new", "w") as f:
            f.write(when.strftime("%Y-%m-%dT%H:%M:%SZ") + "\n")
        os.replace(self.clock_file + ".new", self.clock_file)

    def serve(self):
        env = dict(self.faults.env("daemon_loop:pause"), SLUICE_TEST_CLOCK_FILE=self.clock_file,
                   WAREHOUSE_PASSWORD=self.pg.password)
        d = Daemon(self.p, self.port, env=env)
        self.addCleanup(lambda: d.proc.poll() is None and d.stop())
        d.wait_ready()
        return d

    def two_whole_passes(self, d):
        """Returns once the daemon's loop has begun and finished a pass after this call: that pass
        read the clock and listed the folder as they are now."""
        marker = os.path.join(self.faults.dir, "daemon_loop.reached")
        for _ in range(2):
            if os.path.exists(marker):
                os.remove(marker)
            self.faults.wait_reached("daemon_loop", d.proc)

    def drop(self, day, *which):
        subprocess.run([sys.executable, self.p.path("make_drop.py"), day, *which], check=True,
                       stdout=subprocess.DEVNULL)

    def runs(self, d):
        return d.json("GET", "/api/v1/runs?pipeline=shop")["runs"]

    def wait_finished_runs(self, d, count):
        def finished():
            runs = self.runs(d)
            return runs if len(runs) >= count and all(r["status"] not in ("queued", "running") for r in runs) else None
        return wait_until(finished, f"{count} finished runs", 120)

    def assertNothingStarted(self, d, runs):
        self.two_whole_passes(d)
        self.assertEqual(len(self.runs(d)), runs, self.runs(d))
        self.assertEqual(d.json("GET", "/api/v1/queue")["queue"], [])

    def test_one_run_per_complete_set_and_day_with_a_mail(self):
        d = self.serve()
        self.drop("2026-11-23", "orders", "reviews")
        self.two_whole_passes(d)  # both seen at 10:00:00
        self.set_clock(DAY_ONE + datetime.timedelta(seconds=6))
        # Past the 5 s settle time: two of three files never start a run.
        self.assertNothingStarted(d, 0)

        self.drop("2026-11-23", "shipments")  # seen at 10:00:06 ...
        self.assertNothingStarted(d, 0)       # ... and not settled yet
        self.set_clock(DAY_ONE + datetime.timedelta(seconds=12))
        (run,) = self.wait_finished_runs(d, 1)
        self.assertEqual(run["trigger"], "file_arrival")
        self.assertEqual(run["status"], "succeeded", run)
        for name in ("orders_20261123.csv", "reviews_20261123.csv", "shipments_20261123.csv"):
            self.assertIn(name, run["details"]["trigger_detail"])
        jobs = {j["job"]: j for j in run["details"]["jobs"]}
        self.assertEqual({name: j["status"] for name, j in jobs.items()},
                         {name: "succeeded" for name in ("orders", "reviews", "shipments", "analytics", "export")})
        self.assertEqual(jobs["orders"]["rows_written"], 199)
        self.assertEqual(jobs["orders"]["rows_rejected"], 1)
        self.assertEqual(jobs["reviews"]["rows_written"], 80)
        self.assertEqual(jobs["shipments"]["rows_written"], 100)
        self.assertEqual(jobs["shipments"]["rows_rejected"], 1)
        self.assertEqual(jobs["export"]["rows_written"], 1)
        # Staging holds the typed rows: exact decimals, empty shipment dates as NULL.
        self.assertEqual(self.pg.psql("SELECT count(*), count(amount), pg_typeof(sum(amount))::text "
                                      "FROM staging.orders"), "199|199|numeric\n")
        self.assertEqual(self.pg.psql("SELECT count(*) - count(shipped_on) FROM staging.shipments"), "20\n")
        # The bad lines are in the lake, with their line numbers.
        rejects = d.json("POST", "/api/v1/query", {"sql": "SELECT _line FROM raw.orders__rejects"})
        self.assertEqual(rejects["rows"], [{"_line": 9}])
        # The analytics job's tables, and their export read back as CSV.
        revenue = self.pg.psql("SELECT day, orders, revenue, shipped, not_shipped_yet FROM analytics.daily_revenue")
        self.assertEqual(revenue.split("|")[:2], ["2026-11-23", "199"])
        self.assertEqual(revenue.strip().split("|")[3:], ["100", "119"])
        with open(self.p.path("exports", "daily_revenue.csv"), newline="") as f:
            exported = list(csv.reader(f))
        self.assertEqual(exported[0], ["day", "orders", "revenue", "shipped", "not_shipped_yet", "avg_stars"])
        day, orders, total, shipped, not_shipped = revenue.strip().split("|")
        self.assertEqual([exported[1][i] for i in (0, 1, 3, 4)], [day, orders, shipped, not_shipped])
        self.assertEqual(float(exported[1][2]), float(total))
        self.assertEqual(len(exported), 2)
        self.assertIn("statements of sql/analytics.sql committed", jobs["analytics"]["message"])

        ((envelope, raw, message),) = self.smtp.messages(1)
        body = message.get_body(preferencelist=("plain",)).get_content()
        self.assertIn("succeeded", message["Subject"])
        self.assertIn("shop", message["Subject"])
        self.assertIn(run["id"], body)
        for job_name, rows in (("orders", 199), ("reviews", 80), ("shipments", 100), ("export", 1)):
            self.assertRegex(body, rf"{job_name}\s+succeeded\s+{rows} rows")
        self.assertRegex(body, r"analytics\s+succeeded\s+\d+ rows")
        self.assertEqual(envelope["rcpt_tos"], ["data-team@shop.test"])

        # A second complete set the same day waits for tomorrow — also across a restart, and the
        # first day's files never start another run.
        self.drop("2026-11-24")
        self.two_whole_passes(d)  # seen at 10:00:12
        self.set_clock(DAY_ONE + datetime.timedelta(seconds=30))
        self.assertNothingStarted(d, 1)
        self.assertEqual(d.stop(), 0)
        d = self.serve()
        self.assertNothingStarted(d, 1)

        # Tomorrow comes: the waiting set runs, once.
        self.set_clock(datetime.datetime(2026, 11, 24, 0, 0, 1, tzinfo=datetime.timezone.utc))
        runs = self.wait_finished_runs(d, 2)
        self.assertEqual(len(runs), 2, runs)
        second = next(r for r in runs if r["id"] != run["id"])
        self.assertEqual(second["status"], "succeeded", second)
        for name in ("orders_20261124.csv", "reviews_20261124.csv", "shipments_20261124.csv"):
            self.assertIn(name, second["details"]["trigger_detail"])
        self.assertNotIn("20261123", second["details"]["trigger_detail"])
        self.assertNothingStarted(d, 2)
        self.assertEqual(d.stop(), 0)

    def test_a_failing_analytics_job_mails_the_row_counts_and_keeps_the_old_export(self):
        self.p.write("exports/daily_revenue.csv", "yesterday's export\n")
        # Something in the database that the analysis cannot replace: its SQL fails.
        self.pg.psql("CREATE SCHEMA analytics; CREATE VIEW analytics.daily_revenue AS SELECT 1 AS x")
        d = self.serve()
        self.drop("2026-11-23")
        self.two_whole_passes(d)
        self.set_clock(DAY_ONE + datetime.timedelta(seconds=6))
        (run,) = self.wait_finished_runs(d, 1)
        self.assertEqual(run["status"], "failed", run)
        jobs = {j["job"]: j for j in run["details"]["jobs"]}
        self.assertEqual(jobs["orders"]["status"], "succeeded", jobs["orders"])
        self.assertEqual(jobs["analytics"]["status"], "failed")
        self.assertEqual(jobs["export"]["status"], "skipped")
        self.assertIn("sql/analytics.sql:5:", jobs["analytics"]["message"])
        self.assertIn("SQLSTATE 42809", jobs["analytics"]["message"])
        with open(self.p.path("exports", "daily_revenue.csv")) as f:
            self.assertEqual(f.read(), "yesterday's export\n")
        # Nothing of the script was committed: no other analytics table appeared.
        self.assertEqual(self.pg.psql("SELECT to_regclass('analytics.shipping_weight') IS NULL"), "t\n")

        ((envelope, raw, message),) = self.smtp.messages(1)
        body = message.get_body(preferencelist=("plain",)).get_content()
        self.assertIn("failed", message["Subject"])
        self.assertRegex(body, r"orders\s+succeeded\s+199 rows")
        self.assertRegex(body, r"analytics\s+failed")
        self.assertIn("sql/analytics.sql:5:", body)
        self.assertEqual(d.stop(), 0)


if __name__ == "__main__":
    unittest.main()
