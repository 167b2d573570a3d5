"""A pipeline as a DAG of jobs: success/failure/always branches, skipped jobs, per-job timeouts,
retries with backoff, and `sluice cancel` — through the real binary, checked in the run record."""
import json
import os
import sqlite3
import time
import unittest

from sluice_e2e import ProjectTest

GOOD_CSV = "id,name\n1,a\n2,b\n3,c\n"


def job(name, table, path="incoming/good*.csv", fmt="csv", extra=""):
    return (f"  {name}:\n"
            f"    source: {{ type: files, path: \"{path}\", format: {fmt} }}\n"
            f"    target: {{ zone: raw, table: {table} }}\n" + extra)


class WorkflowTest(ProjectTest):
    def run_record(self, run_id=None):
        with sqlite3.connect(self.p.path(".sluice", "catalog.db")) as db:
            if run_id is None:
                row = db.execute("SELECT run_id, status, error_message, details_json FROM runs "
                                 "ORDER BY started_at_us DESC LIMIT 1").fetchone()
            else:
                row = db.execute("SELECT run_id, status, error_message, details_json FROM runs WHERE run_id = ?",
                                 (run_id,)).fetchone()
        jobs = {j["job"]: j for j in json.loads(row[3]).get("jobs", [])}
        return {"id": row[0], "status": row[1], "error": row[2], "jobs": jobs}

    def test_success_and_failure_branches(self):
        self.p.write("incoming/good.csv", GOOD_CSV)
        self.p.write("incoming/broken.json", "{ this is not json")
        self.p.pipeline("flow", "name: flow\njobs:\n"
                        + job("load", "broken", path="incoming/broken.json", fmt="json")
                        + job("on_load_failed", "fallback",
                              extra="    depends_on: [{ job: load, condition: failure }]\n")
                        + job("after_load", "after", extra="    depends_on: [load]\n")
                        + job("report", "report",
                              extra="    depends_on: [{ job: after_load, condition: always }]\n")
                        + job("always_after_fallback", "tail",
                              extra="    depends_on: [{ job: on_load_failed, condition: always }]\n")
                        + job("independent", "independent"))
        r = self.p.sluice("run", "flow")
        self.assertEqual(r.rc, 1, repr(r))
        run = self.run_record()
        self.assertEqual(run["status"], "failed")
        status = {name: j["status"] for name, j in run["jobs"].items()}
        self.assertEqual(status, {
            "load": "failed",
            "on_load_failed": "succeeded",      # its condition (failure) was met
            "after_load": "skipped",            # needs success of load
            "report": "skipped",                # always, but upstream itself never ran
            "always_after_fallback": "succeeded",
            "independent": "succeeded",
        })
        self.assertIn("broken.json", run["error"])
        self.assertEqual(run["jobs"]["load"]["attempts"], 1)  # a data error is not retried
        self.assertEqual(self.p.scalar("SELECT count(*) FROM raw.fallback"), 3)
        self.assertEqual(self.p.scalar("SELECT count(*) FROM raw.independent"), 3)

    def test_timeout_is_retried_with_backoff_then_gives_up_without_publishing(self):
        self.p.write("sluice.yaml", "project: test\nlake: ./lake\n"
                     "defaults: { retry_backoff: 50ms, retry_backoff_max: 80ms }\n")
        self.p.write("incoming/good.csv", GOOD_CSV)
        self.p.pipeline("slow", "name: slow\njobs:\n"
                        + job("load", "slow", extra="    timeout: 1ms\n    retries: 2\n"))
        started = time.monotonic()
        r = self.p.sluice("run", "slow")
        took = time.monotonic() - started
        self.assertEqual(r.rc, 1, repr(r))
        run = self.run_record()
        load = run["jobs"]["load"]
        self.assertEqual(load["status"], "failed")
        self.assertEqual(load["attempts"], 3)
        self.assertIn("timeout", load["message"])
        self.assertIn("gave up after 3 attempts", load["message"])
        self.assertIn("retrying in", r.err)
        self.assertGreaterEqual(took, 0.05 + 0.08)  # both pauses were waited
        self.assertEqual(self.p.lake_files(), [])    # nothing of a stopped job was published

    def test_cancel_stops_a_run_waiting_to_retry(self):
        self.p.write("sluice.yaml", "project: test\nlake: ./lake\ndefaults: { retry_backoff: 1h }\n")
        self.p.write("incoming/good.csv", GOOD_CSV)
        self.p.pipeline("stuck", "name: stuck\njobs:\n"
                        + job("load", "stuck", extra="    timeout: 1ms\n    retries: 3\n"))
        proc = self.p.start("run", "stuck")
        try:
            run_id = None
            deadline = time.monotonic() + 60
            while run_id is None and time.monotonic() < deadline:
                time.sleep(0.1)
                if os.path.exists(self.p.path(".sluice", "catalog.db")):
                    try:
                        run = self.run_record()
                    except (sqlite3.OperationalError, TypeError):
                        continue
                    if run["status"] == "running":
                        run_id = run["id"]
            self.assertIsNotNone(run_id, "the run never showed up as running")
            cancel = self.p.sluice("cancel", run_id)
            self.assertOk(cancel)
            proc.wait(timeout=60)
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
            proc.stdout.close()
            proc.stderr.close()
        run = self.run_record(run_id)
        self.assertEqual(run["status"], "cancelled")
        self.assertEqual(run["jobs"]["load"]["status"], "cancelled")
        again = self.p.sluice("cancel", run_id)
        self.assertEqual(again.rc, 2, repr(again))
        self.assertIn("not running", again.err)


if __name__ == "__main__":
    unittest.main()
