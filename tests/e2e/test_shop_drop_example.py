"""examples/shop_drop (scenario 2's trigger logic) run by `sluice serve` as its README says: three
CSVs dropped into a watched folder → one run when the set is complete and settled → a mail with
row counts (a real SMTP server started here), at most one run per day, each file once — also
across a restart of the daemon. Only the ports differ from the example: free ones, picked now."""
import os
import shutil
import subprocess
import sys
import tempfile
import time
import unittest

from sluice_e2e import ProjectTest
from test_notifications import SmtpServer
from test_serve import Daemon, free_port

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
EXAMPLE = os.path.join(ROOT, "examples", "shop_drop")


class ShopDropExampleTest(ProjectTest):
    def setUp(self):
        super().setUp()
        for name in ("sluice.yaml", "make_drop.py", "pipelines/shop.yaml"):
            shutil.copy(os.path.join(EXAMPLE, name), self.p.path(name))
        mail_dir = tempfile.mkdtemp(prefix="sluice-mail-")
        self.addCleanup(shutil.rmtree, mail_dir, True)
        self.smtp = SmtpServer(mail_dir)
        self.addCleanup(self.smtp.stop)
        self.port = free_port()
        with open(self.p.path("sluice.yaml")) as f:
            text = f.read()
        self.assertIn("port: 8025", text)
        self.assertIn("listen: 127.0.0.1:8080", text)
        self.p.write("sluice.yaml", text.replace("port: 8025", f"port: {self.smtp.port}")
                     .replace("listen: 127.0.0.1:8080", f"listen: 127.0.0.1:{self.port}"))

    def serve(self):
        d = Daemon(self.p, self.port)
        self.addCleanup(lambda: d.proc.poll() is None and d.stop())
        d.wait_ready()
        return d

    def drop(self, day, *which):
        subprocess.run([sys.executable, self.p.path("make_drop.py"), day, *which], check=True,
                       stdout=subprocess.DEVNULL)

    def runs(self, d):
        return d.json("GET", "/api/v1/runs?pipeline=shop")["runs"]

    def test_one_run_per_complete_set_and_day_with_a_mail(self):
        d = self.serve()
        self.drop("2026-11-23", "orders", "reviews")
        time.sleep(7)  # past the 5 s settle time: two of three files never start a run
        self.assertEqual(self.runs(d), [])
        self.assertEqual(d.json("GET", "/api/v1/queue")["queue"], [])

        self.drop("2026-11-23", "shipments")
        deadline = time.time() + 60
        while not (self.runs(d) and self.runs(d)[0]["status"] not in ("queued", "running")):
            self.assertLess(time.time(), deadline, "the complete set did not start a run")
            time.sleep(0.2)
        (run,) = self.runs(d)
        self.assertEqual(run["trigger"], "file_arrival")
        self.assertEqual(run["status"], "succeeded", run)
        for name in ("orders_20261123.csv", "reviews_20261123.csv", "shipments_20261123.csv"):
            self.assertIn(name, run["details"]["trigger_detail"])
        jobs = {j["job"]: j for j in run["details"]["jobs"]}
        self.assertEqual(jobs["orders"]["rows_written"], 199)
        self.assertEqual(jobs["orders"]["rows_rejected"], 1)
        self.assertEqual(jobs["shipments"]["rows_rejected"], 1)
        summary = d.json("POST", "/api/v1/query", {"sql": "SELECT orders, shipped FROM gold.daily_summary"})
        self.assertEqual(summary["rows"], [{"orders": 199, "shipped": 100}])

        ((envelope, raw, message),) = self.smtp.messages(1)
        body = message.get_body(preferencelist=("plain",)).get_content()
        self.assertIn("succeeded", message["Subject"])
        self.assertIn("shop", message["Subject"])
        self.assertIn(run["id"], body)
        self.assertIn("199", body)
        self.assertEqual(envelope["rcpt_tos"], ["data-team@shop.test"])

        # A second complete set the same day waits for tomorrow — also across a restart, and the
        # first day's files never start another run.
        self.drop("2026-11-24")
        time.sleep(7)
        self.assertEqual(len(self.runs(d)), 1)
        self.assertEqual(d.stop(), 0)
        d = self.serve()
        time.sleep(3)
        self.assertEqual(len(self.runs(d)), 1, self.runs(d))
        self.assertEqual(d.json("GET", "/api/v1/queue")["queue"], [])
        self.assertEqual(d.stop(), 0)


if __name__ == "__main__":
    unittest.main()
