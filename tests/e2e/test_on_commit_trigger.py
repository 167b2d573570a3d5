"""on_commit: under `sluice serve`, a processing pipeline runs when the lake table it follows gets a commit
(here made by `sluice run` on the command line, another process), once per batch of commits, at most once
per min_interval, and never again for the same versions after a restart. Time is the daemon's injected
test clock; the daemon_loop fault point witnesses whole passes of its loop, so nothing waits on timing."""
import datetime
import os

from sluice_e2e import FaultPoints, ProjectTest, wait_until
from test_serve import Daemon, free_port

T0 = datetime.datetime(2026, 12, 3, 9, 0, 0, tzinfo=datetime.timezone.utc)


class OnCommitTriggerTest(ProjectTest):
    def setUp(self):
        super().setUp()
        self.port = free_port()
        self.p.write("sluice.yaml", f"project: test\nlake: ./lake\nserver:\n  listen: 127.0.0.1:{self.port}\n")
        self.p.pipeline("load", "name: load\nsource: { type: files, path: incoming/events*.csv }\n"
                                "target: { zone: raw, table: events }\n")
        self.p.pipeline("follow", "name: follow\ntriggers:\n  - on_commit: raw.events\n    min_interval: 1m\n"
                                  "source: { table: raw.events }\n"
                                  "steps:\n  - add_columns: { source_filename: _source_file }\n"
                                  "target: { zone: silver, table: events }\n")
        self.faults = FaultPoints()
        self.addCleanup(self.faults.cleanup)
        self.faults.release("daemon_loop")  # the point only marks each pass; it never holds the loop
        self.clock_file = os.path.join(self.faults.dir, "clock")
        self.set_clock(T0)

    def set_clock(self, when):
        with open(self.clock_file + ".new", "w") as f:
            f.write(when.strftime("%Y-%m-%dT%H:%M:%SZ") + "\n")
        os.replace(self.clock_file + ".new", self.clock_file)

    def serve(self):
        env = dict(self.faults.env("daemon_loop:pause"), SLUICE_TEST_CLOCK_FILE=self.clock_file)
        d = Daemon(self.p, self.port, env=env)
        self.addCleanup(lambda: d.proc.poll() is None and d.stop())
        d.wait_ready()
        self.two_whole_passes(d)  # the trigger has read the tables' versions at least once
        return d

    def two_whole_passes(self, d):
        marker = os.path.join(self.faults.dir, "daemon_loop.reached")
        for _ in range(2):
            if os.path.exists(marker):
                os.remove(marker)
            self.faults.wait_reached("daemon_loop", d.proc)

    def load(self, n, ids):
        self.p.write(f"incoming/events_{n}.csv", "id,name\n" + "".join(f"{i},e{i}\n" for i in ids))
        self.assertOk(self.p.sluice("run", "load"))

    def follow_runs(self, d):
        return d.json("GET", "/api/v1/runs?pipeline=follow")["runs"]

    def wait_follow_runs(self, d, count):
        def done():
            runs = self.follow_runs(d)
            return runs if len(runs) >= count and all(r["status"] not in ("queued", "running") for r in runs) else None
        return wait_until(done, f"{count} finished runs of 'follow'", 120)

    def test_commits_start_one_run_within_min_interval_and_none_after_a_restart(self):
        d = self.serve()
        self.load(0, range(1, 4))
        self.set_clock(T0 + datetime.timedelta(seconds=3))  # past the 2 s check
        (run,) = self.wait_follow_runs(d, 1)
        self.assertEqual(run["trigger"], "on_commit", run)
        self.assertEqual(run["status"], "succeeded", run)
        self.assertIn("raw.events version 1 (was 0)", run["details"]["trigger_detail"])
        self.assertEqual(self.p.query("SELECT count(*) AS n FROM silver.events")[0]["n"], 3)

        # Two more commits within the minute: they wait, then one run covers both.
        self.load(1, range(4, 6))
        self.load(2, range(6, 7))
        self.set_clock(T0 + datetime.timedelta(seconds=30))
        self.two_whole_passes(d)
        self.assertEqual(len(self.follow_runs(d)), 1)
        self.set_clock(T0 + datetime.timedelta(seconds=64))
        runs = self.wait_follow_runs(d, 2)
        self.assertEqual(len(runs), 2)
        self.assertIn("raw.events version 3 (was 1)", runs[0]["details"]["trigger_detail"])
        rows = self.p.query("SELECT id, source_filename FROM silver.events ORDER BY id")
        self.assertEqual([r["id"] for r in rows], list(range(1, 7)))  # each committed row processed once
        self.assertTrue(all(r["source_filename"] for r in rows), rows)

        # A restart does not run again for versions already handled.
        self.assertEqual(d.stop(), 0)
        d = self.serve()
        self.set_clock(T0 + datetime.timedelta(seconds=200))
        self.two_whole_passes(d)
        self.assertEqual(len(self.follow_runs(d)), 2)
        self.assertEqual(d.stop(), 0)
