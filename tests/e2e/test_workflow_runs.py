"""A pipeline as a DAG of jobs: success/failure/always branches, skipped jobs, per-job timeouts,
retries with backoff, and `sluice cancel` — through the real binary, checked in the run record."""
import json
import sqlite3
import time
import unittest

from sluice_e2e import FaultPoints, ProjectTest

GOOD_CSV = "id,name\n1,a\n2,b\n3,c\n"


def job(name, table, path="incoming/good*.csv", fmt="csv", extra=""):
    return (f"  {name}:\n"
            f"    source: {{ type: files, path: \"{path}\", format: {fmt} }}\n"
            f"    target: {{ zone: raw, table: {table} }}\n" + extra)


# Each attempt of the job waits at its start until its watchdog has fired the timeout: the job
# provably outlives its timeout however fast the machine is.
HOLD_UNTIL_TIMED_OUT = "job_started:pause_each,job_timed_out:pause_each"


class WorkflowTest(ProjectTest):
    def setUp(self):
        super().setUp()
        self.faults = FaultPoints()
        self.addCleanup(self.faults.cleanup)

    def let_attempt_time_out(self, attempt, proc):
        self.faults.wait_reached(f"job_started.{attempt}", proc)
        self.faults.wait_reached(f"job_timed_out.{attempt}", proc)
        self.faults.release(f"job_timed_out.{attempt}")
        self.faults.release(f"job_started.{attempt}")

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
        proc = self.p.start("run", "slow", env=self.faults.env(HOLD_UNTIL_TIMED_OUT))
        try:
            for attempt in (1, 2, 3):
                self.let_attempt_time_out(attempt, proc)
            out, err = proc.communicate(timeout=120)
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.communicate()
        took = time.monotonic() - started
        self.assertEqual(proc.returncode, 1, err)
        run = self.run_record()
        load = run["jobs"]["load"]
        self.assertEqual(load["status"], "failed")
        self.assertEqual(load["attempts"], 3)
        self.assertIn("timeout", load["message"])
        self.assertIn("gave up after 3 attempts", load["message"])
        self.assertIn("retrying in", err)
        self.assertGreaterEqual(took, 0.05 + 0.08)  # both pauses were waited
        self.assertEqual(self.p.lake_files(), [])    # nothing of a stopped job was published

    def test_cancel_stops_a_run_waiting_to_retry(self):
        self.p.write("sluice.yaml", "project: test\nlake: ./lake\ndefaults: { retry_backoff: 1h }\n")
        self.p.write("incoming/good.csv", GOOD_CSV)
        self.p.pipeline("stuck", "name: stuck\njobs:\n"
                        + job("load", "stuck", extra="    timeout: 1ms\n    retries: 3\n"))
        proc = self.p.start("run", "stuck", env=self.faults.env(HOLD_UNTIL_TIMED_OUT))
        try:
            self.let_attempt_time_out(1, proc)
            # The runner says so when the first attempt has failed and the hour-long wait begins.
            waiting = ""
            while "retrying in" not in waiting:
                line = proc.stderr.readline()
                self.assertTrue(line, f"sluice ended before waiting to retry: {waiting}")
                waiting += line
            run = self.run_record()
            self.assertEqual(run["status"], "running")
            run_id = run["id"]
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
