"""`sluice serve`: the HTTP API driven over a real socket with urllib, against the real binary."""
import json
import os
import shutil
import signal
import socket
import stat
import subprocess
import tempfile
import unittest
import urllib.error
import urllib.request

from sluice_e2e import Project, ProjectTest, SLUICE, wait_until

TOKEN = "s3cr3t-api-token-for-test"

FILES_PIPELINE = """\
name: birds
source:
  type: files
  path: incoming/birds*.csv
  format: csv
target:
  zone: raw
  table: birds
triggers:
  - schedule: "0 * * * *"
  - webhook: true
"""

CHAINED_PIPELINE = """\
name: bird_count
triggers:
  - on_success: birds
jobs:
  count:
    source: { table: raw.birds }
    steps:
      - sql: "SELECT count(*) AS birds FROM input"
    target: { zone: gold, table: bird_count, write: overwrite }
"""

CHAINED_TOO = """\
name: bird_names
triggers:
  - on_success: birds
jobs:
  names:
    source: { table: raw.birds }
    steps:
      - sql: "SELECT name FROM input"
    target: { zone: gold, table: bird_names, write: overwrite }
"""

SCHEDULE_ONLY = """\
name: nightly
source:
  type: files
  path: incoming/none*.csv
  format: csv
target:
  zone: raw
  table: nightly
triggers:
  - schedule: "0 2 * * *"
"""


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Daemon:
    """One `sluice serve` process; stopped by its PID. Without `token`, calls send the token that
    sluice serve generated into .sluice/api_token."""

    def __init__(self, project, port, token=None, env=None, fault=None):
        self.project, self.port, self._token, self.fault = project, port, token, fault
        if fault:
            env = dict(env or {}, **fault.env)
        self.log_path = project.path("serve.log")
        self.log = open(self.log_path, "w")
        self.proc = subprocess.Popen([SLUICE, "--project", project.root, "serve"], stdout=self.log,
                                     stderr=subprocess.STDOUT, cwd=project.root, env=dict(os.environ, **(env or {})))

    @property
    def token(self):
        if self._token is None:
            with open(self.project.path(".sluice", "api_token")) as f:
                self._token = f.read().strip()
        return self._token

    def output(self):
        with open(self.log_path) as f:
            return f.read()

    def healthy(self):
        if self.proc.poll() is not None:
            raise AssertionError(f"sluice serve exited with {self.proc.returncode}: {self.output()}")
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{self.port}/healthz", timeout=2) as r:
                return r.status == 200
        except OSError:
            return False

    def wait_ready(self, timeout=30):
        wait_until(self.healthy, "sluice serve answering /healthz", timeout)

    def call(self, method, path, body=None, token="default", headers=None):
        token = self.token if token == "default" else token
        data = json.dumps(body).encode() if body is not None else None
        request = urllib.request.Request(f"http://127.0.0.1:{self.port}{path}", data=data, method=method,
                                         headers=headers or {})
        if data is not None:
            request.add_header("Content-Type", "application/json")
        if token:
            request.add_header("Authorization", f"Bearer {token}")
        try:
            with urllib.request.urlopen(request, timeout=120) as r:
                return r.status, r.read().decode(), r.headers.get("Content-Type", "")
        except urllib.error.HTTPError as e:
            return e.code, e.read().decode(), e.headers.get("Content-Type", "")

    def json(self, method, path, body=None, token="default", expect=200, headers=None):
        status, text, content_type = self.call(method, path, body, token, headers)
        if status != expect:
            raise AssertionError(f"{method} {path}: expected {expect}, got {status}: {text}")
        assert content_type.startswith("application/json"), content_type
        return json.loads(text)

    def wait_run(self, run_id, timeout=120):
        """Polls GET /api/v1/runs/ID until the run has ended; returns its record."""
        def ended():
            run = self.json("GET", f"/api/v1/runs/{run_id}")
            return run if run["status"] not in ("queued", "claimed", "running") else None
        return wait_until(ended, f"run {run_id} ending", timeout)

    def trigger(self, pipeline, expect=202, key=None):
        return self.json("POST", f"/api/v1/pipelines/{pipeline}/trigger", expect=expect, headers=key and {"Idempotency-Key": key})

    def stop(self):
        if self.fault:
            self.fault.release()  # a run paused at a fault point would hold the stop up
        if self.proc.poll() is None:
            os.kill(self.proc.pid, signal.SIGTERM)
        try:
            return self.proc.wait(timeout=30)
        finally:
            self.log.close()


class PausePoint:
    """A fault point of the serve process set to pause (SLUICE_FAULTPOINT=name:pause): a run that
    reaches it is provably in flight until the test releases it."""

    def __init__(self, test, name="job_started"):
        self.name = name
        self.dir = tempfile.mkdtemp(prefix="sluice-fault-")
        test.addCleanup(shutil.rmtree, self.dir, True)
        self.env = {"SLUICE_FAULTPOINT": f"{name}:pause", "SLUICE_FAULTPOINT_DIR": self.dir}

    def _path(self, suffix):
        return os.path.join(self.dir, f"{self.name}.{suffix}")

    def wait_reached(self, timeout=120):
        wait_until(lambda: os.path.exists(self._path("reached")), f"a run reaching fault point {self.name}", timeout)

    def release(self):
        open(self._path("release"), "w").close()

    def rearm(self):
        """The next run to reach the point pauses again."""
        for suffix in ("release", "reached"):
            if os.path.exists(self._path(suffix)):
                os.remove(self._path(suffix))


class ServeTest(ProjectTest):
    def start(self, token=True, env=None, fault=None):
        port = free_port()
        lines = [f"project: test", "lake: ./lake", "server:", f"  listen: 127.0.0.1:{port}"]
        if token:
            lines.append("  token: ${env:SLUICE_TEST_TOKEN}")
        self.p.write("sluice.yaml", "\n".join(lines) + "\n")
        daemon = Daemon(self.p, port, TOKEN if token else None, env=dict({"SLUICE_TEST_TOKEN": TOKEN}, **(env or {})),
                        fault=fault)
        self.addCleanup(lambda: daemon.proc.poll() is None and daemon.stop())
        daemon.wait_ready()
        return daemon

    def test_api_end_to_end_with_token(self):
        self.p.pipeline("birds", FILES_PIPELINE)
        self.p.write("incoming/birds_1.csv", "id,name\n1,robin\n2,wren\n3,kite\n")
        d = self.start()

        # Every /api/v1 call needs the token; /healthz and errors never echo it.
        for token in (None, "wrong"):
            status, text, content_type = d.call("GET", "/api/v1/pipelines", token=token)
            self.assertEqual(status, 401, text)
            self.assertIn("error", json.loads(text))
            self.assertNotIn(TOKEN, text)

        pipelines = d.json("GET", "/api/v1/pipelines")["pipelines"]
        self.assertEqual([p["name"] for p in pipelines], ["birds"])
        self.assertEqual(pipelines[0]["jobs"][0]["target"], "raw.birds")
        self.assertEqual(pipelines[0]["triggers"], [{"schedule": "0 * * * *"}, {"webhook": "true"}])

        missing = d.json("POST", "/api/v1/pipelines/nope/trigger", expect=404)
        self.assertIn("nope", missing["error"])

        queued = d.trigger("birds")
        self.assertTrue(queued["created"])
        run = d.wait_run(queued["run_id"])
        self.assertEqual(run["id"], queued["run_id"])
        self.assertEqual(run["status"], "succeeded", run)
        self.assertEqual(run["rows_written"], 3)
        self.assertEqual(run["trigger"], "api")

        runs = d.json("GET", "/api/v1/runs?limit=5")["runs"]
        self.assertEqual([r["id"] for r in runs], [run["id"]])
        self.assertEqual(d.json("GET", "/api/v1/runs?limit=zero", expect=400)["error"],
                         "limit must be a positive whole number, not 'zero'")
        one = d.json("GET", f"/api/v1/runs/{run['id']}")
        self.assertEqual(one["pipeline"], "birds")
        self.assertEqual(one["rows_written"], 3)
        self.assertIsInstance(one["log"], str)
        self.assertIn("birds", one["log"])
        self.assertEqual(d.json("GET", "/api/v1/runs/no-such-run", expect=404)["error"][:6], "no run")

        tables = {t["name"]: t for t in d.json("GET", "/api/v1/tables")["tables"]}
        self.assertEqual(tables["raw.birds"]["rows"], 3)
        self.assertEqual(tables["raw.birds"]["version"], 1)
        self.assertIn("name", [c["name"] for c in tables["raw.birds"]["schema"]])

        result = d.json("POST", "/api/v1/query", {"sql": "SELECT id, name FROM raw.birds ORDER BY id", "max_rows": 2})
        self.assertEqual(result["rows"], [{"id": 1, "name": "robin"}, {"id": 2, "name": "wren"}])
        self.assertTrue(result["truncated"])
        self.assertEqual([c["name"] for c in result["columns"]], ["id", "name"])
        bad = d.json("POST", "/api/v1/query", {"sql": "SELECT * FROM raw.nothing_here"}, expect=400)
        self.assertIn("nothing_here", bad["error"])
        self.assertIn("error", d.json("POST", "/api/v1/query", {"no_sql": 1}, expect=400))

        # A second run finds nothing new; metrics count both from the catalog.
        # The same Idempotency-Key twice makes one run.
        first = d.trigger("birds", key="delivery-42")
        again = d.trigger("birds", expect=200, key="delivery-42")
        self.assertEqual(again["run_id"], first["run_id"])
        self.assertFalse(again["created"])
        self.assertEqual(d.wait_run(first["run_id"])["status"], "no_changes")
        # The run record is final a moment before the daemon's worker counts the run as done.
        def metrics_when_idle():
            status, text, _ = d.call("GET", "/metrics")
            self.assertEqual(status, 200)
            return text if "sluice_runs_in_progress 0\n" in text else None

        metrics = wait_until(metrics_when_idle, "the finished run no longer counted in progress")
        self.assertIn('sluice_runs_total{pipeline="birds",status="succeeded"} 1\n', metrics)
        self.assertIn('sluice_runs_total{pipeline="birds",status="no_changes"} 1\n', metrics)
        self.assertIn('sluice_rows_written_total{pipeline="birds"} 3\n', metrics)
        self.assertIn('sluice_run_duration_seconds_count{pipeline="birds"} 2\n', metrics)
        self.assertIn("sluice_queue_depth 0\n", metrics)
        self.assertIn("sluice_runs_in_progress 0\n", metrics)
        self.assertEqual(len(d.json("GET", "/api/v1/runs")["runs"]), 2)
        bytes_line = [l for l in metrics.splitlines() if l.startswith('sluice_bytes_written_total{pipeline="birds"} ')][0]
        self.assertGreater(int(bytes_line.split()[1]), 0)

        self.assertEqual(d.stop(), 0)
        self.assertNotIn(TOKEN, d.output())

    def test_a_pipeline_webhook_token_starts_that_pipeline_and_opens_nothing_else(self):
        hook = "hook-only-for-birds-9f2c"
        self.p.pipeline("birds", FILES_PIPELINE.replace("  - webhook: true\n",
                                                        "  - webhook: { token: \"${env:BIRDS_HOOK}\" }\n"))
        self.p.pipeline("wrens", FILES_PIPELINE.replace("name: birds", "name: wrens").replace("table: birds", "table: wrens"))
        self.p.write("incoming/birds_1.csv", "id,name\n1,robin\n")
        for token in (True, False):  # with server.token, and with the generated token
            d = self.start(token=token, env={"BIRDS_HOOK": hook})
            run = d.json("POST", "/api/v1/pipelines/birds/trigger", token=hook, expect=202)
            self.assertIn(d.wait_run(run["run_id"])["status"], ("succeeded", "no_changes"))
            # The pipeline's token opens nothing else; its trigger needs that token (or server.token).
            self.assertEqual(d.call("POST", "/api/v1/pipelines/birds/trigger", token=None)[0], 401)
            self.assertEqual(d.call("POST", "/api/v1/pipelines/birds/trigger", token="wrong")[0], 401)
            if token:
                self.assertEqual(d.call("POST", "/api/v1/pipelines/wrens/trigger", token=hook)[0], 401)
                self.assertEqual(d.call("GET", "/api/v1/runs", token=hook)[0], 401)
                self.assertEqual(d.json("POST", "/api/v1/pipelines/birds/trigger", expect=202)["pipeline"], "birds")
            listed = {p["name"]: p for p in d.json("GET", "/api/v1/pipelines")["pipelines"]}
            self.assertIn({"webhook": {"token": "***"}}, listed["birds"]["triggers"])
            self.assertNotIn(hook, json.dumps(d.json("GET", "/api/v1/runs")))
            self.assertEqual(d.stop(), 0)
            self.assertNotIn(hook, d.output())

    def test_the_api_can_ask_for_a_full_refresh_of_one_job(self):
        self.p.pipeline("birds", FILES_PIPELINE)
        self.p.write("incoming/birds_1.csv", "id,name\n1,robin\n2,wren\n3,kite\n")
        d = self.start()
        self.assertEqual(d.wait_run(d.trigger("birds")["run_id"])["status"], "succeeded")
        self.assertEqual(d.wait_run(d.trigger("birds")["run_id"])["status"], "no_changes")

        # Bodies that are wrong are refused, naming what is wrong, and queue nothing.
        trigger = "/api/v1/pipelines/birds/trigger"
        self.assertIn("did you mean 'full_refresh'", d.json("POST", trigger, {"fullrefresh": True}, expect=400)["error"])
        self.assertIn("true or false", d.json("POST", trigger, {"full_refresh": "yes"}, expect=400)["error"])
        self.assertIn("has no job 'bird'", d.json("POST", trigger, {"job": "bird"}, expect=404)["error"])
        self.assertEqual(len(d.json("GET", "/api/v1/runs?pipeline=birds")["runs"]), 2)

        queued = d.json("POST", trigger, {"full_refresh": True, "job": "birds"}, expect=202)
        run = d.wait_run(queued["run_id"])
        self.assertEqual(run["status"], "succeeded", run)
        self.assertEqual(run["job"], "birds")
        self.assertEqual(run["rows_written"], 3)  # the file is read again and the table replaced
        self.assertIn("full refresh", run["details"]["trigger_detail"])
        table = {t["name"]: t for t in d.json("GET", "/api/v1/tables")["tables"]}["raw.birds"]
        self.assertEqual((table["rows"], table["version"]), (3, 2))
        self.assertEqual(d.stop(), 0)

    def test_success_starts_the_chained_pipeline_and_schedule_only_pipelines_refuse_the_api(self):
        self.p.pipeline("birds", FILES_PIPELINE)
        self.p.pipeline("bird_count", CHAINED_PIPELINE)
        self.p.pipeline("bird_names", CHAINED_TOO)
        self.p.pipeline("nightly", SCHEDULE_ONLY)
        self.p.write("incoming/birds_1.csv", "id,name\n1,robin\n2,wren\n")
        d = self.start()
        refused = d.json("POST", "/api/v1/pipelines/nightly/trigger", expect=403)
        self.assertIn("webhook: true", refused["error"])
        self.assertEqual(d.wait_run(d.trigger("birds")["run_id"])["status"], "succeeded")
        chained = self.wait_runs(d, "bird_count", lambda runs: runs and runs[0]["status"] not in ("queued", "running"),
                                 "the chained bird_count run did not end")
        self.assertEqual(len(chained), 1, chained)
        self.assertEqual(chained[0]["trigger"], "on_success")
        self.assertEqual(chained[0]["status"], "succeeded", chained[0])
        result = d.json("POST", "/api/v1/query", {"sql": "SELECT birds FROM gold.bird_count"})
        self.assertEqual(result["rows"], [{"birds": 2}])
        # The same upstream run starts every pipeline chained to it, each once.
        names = self.wait_runs(d, "bird_names", lambda runs: runs and runs[0]["status"] not in ("queued", "running"),
                               "the chained bird_names run did not end")
        self.assertEqual([(r["trigger"], r["status"]) for r in names], [("on_success", "succeeded")])
        self.assertEqual(d.stop(), 0)

    def small_pipeline(self, rows=1000):
        """A files pipeline; tests hold its run in flight with a PausePoint, not by its size."""
        self.p.pipeline("big", """\
name: big
source:
  type: files
  path: incoming/big*.csv
  format: csv
retries: 1
target:
  zone: raw
  table: big
""")
        with open(self.p.path("incoming/big_1.csv"), "w") as f:
            f.write("id,name,score\n")
            f.writelines(f"{i},name-{i},{i * 0.5}\n" for i in range(rows))

    def wait_runs(self, d, pipeline, done, what, timeout=120):
        """Polls the runs of `pipeline` until done(runs) holds; returns them."""
        def finished():
            runs = d.json("GET", f"/api/v1/runs?pipeline={pipeline}")["runs"]
            return runs if done(runs) else None
        return wait_until(finished, what, timeout)

    def wait_log(self, d, text, what, timeout=120):
        wait_until(lambda: text in d.output(), what, timeout)

    def wait_cancel_seen(self, d, run_id):
        """The run has seen its cancel request (it logs so); a run held at a fault point can go on now."""
        self.wait_log(d, f"run {run_id}: cancel requested", "the run did not see its cancel request")

    def test_a_run_in_flight_when_the_daemon_dies_is_marked_interrupted_and_run_again(self):
        rows = 1000
        self.small_pipeline(rows)
        pause = PausePoint(self)
        d = self.start(fault=pause)
        run_id = d.trigger("big")["run_id"]
        pause.wait_reached()
        self.assertEqual(d.json("GET", f"/api/v1/runs/{run_id}")["status"], "running")
        os.kill(d.proc.pid, signal.SIGKILL)
        d.proc.wait(timeout=30)
        d.log.close()

        d = self.start()
        first = d.wait_run(run_id)
        self.assertEqual(first["status"], "interrupted", first)
        runs = self.wait_runs(d, "big", lambda runs: any(r["trigger"] == "retry" and r["status"] not in
                                                         ("queued", "running") for r in runs), "no retry ran")
        retry = [r for r in runs if r["trigger"] == "retry"]
        self.assertEqual(len(retry), 1, runs)
        self.assertIn(run_id, retry[0]["details"]["trigger_detail"])
        # Whatever the kill interrupted, the table holds every row exactly once.
        result = d.json("POST", "/api/v1/query",
                        {"sql": "SELECT count(*) AS n, count(DISTINCT id) AS ids FROM raw.big"})
        self.assertEqual(result["rows"], [{"n": rows, "ids": rows}])
        self.assertEqual(d.stop(), 0)

    def test_cancel_over_the_api_and_a_stop_queues_the_running_run_again(self):
        rows = 1000
        self.small_pipeline(rows)
        pause = PausePoint(self)
        d = self.start(fault=pause)
        run_id = d.trigger("big")["run_id"]
        pause.wait_reached()
        self.assertTrue(d.json("POST", f"/api/v1/runs/{run_id}/cancel", expect=202)["cancel_requested"])
        self.wait_cancel_seen(d, run_id)
        pause.release()
        self.assertEqual(d.wait_run(run_id)["status"], "cancelled")
        self.assertIn("not running", d.json("POST", f"/api/v1/runs/{run_id}/cancel", expect=400)["error"])

        pause.rearm()
        run_id = d.trigger("big")["run_id"]
        pause.wait_reached()
        # Stop while the run is held: the stop cancels it (and says so in the log) before it goes on.
        os.kill(d.proc.pid, signal.SIGTERM)
        self.wait_log(d, f"run {run_id} of 'big' was asked to stop", "the stop did not cancel the run")
        pause.release()
        self.assertEqual(d.proc.wait(timeout=120), 0)
        d.log.close()
        d = self.start()
        self.assertEqual(d.wait_run(run_id)["status"], "cancelled")
        runs = self.wait_runs(d, "big", lambda runs: any(run_id in r["details"].get("trigger_detail", "") and
                                                         r["status"] not in ("queued", "running") for r in runs),
                              "the stopped run was not run again")
        again = [r for r in runs if run_id in r["details"].get("trigger_detail", "")]
        self.assertEqual(again[0]["status"], "succeeded", again[0])
        self.assertEqual(again[0]["rows_written"], rows)
        self.assertEqual(d.stop(), 0)

    def test_cancel_by_the_start_of_a_run_id_reaches_the_run(self):
        self.small_pipeline()
        pause = PausePoint(self)
        d = self.start(fault=pause)
        run_id = d.trigger("big")["run_id"]
        pause.wait_reached()
        prefix = run_id[:len(run_id) - 4]
        answer = d.json("POST", f"/api/v1/runs/{prefix}/cancel", expect=202)
        self.assertEqual(answer["run_id"], run_id)  # resolved to the whole id
        self.wait_cancel_seen(d, run_id)
        pause.release()
        run = d.wait_run(run_id)
        self.assertEqual(run["status"], "cancelled", run)
        # `sluice cancel PREFIX` on the command line resolves the same way.
        pause.rearm()
        run_id = d.trigger("big")["run_id"]
        pause.wait_reached()
        r = self.p.sluice("cancel", run_id[:len(run_id) - 4], env={"SLUICE_TEST_TOKEN": TOKEN})
        self.assertEqual(r.rc, 0, repr(r))
        self.assertIn(run_id, r.out)
        self.wait_cancel_seen(d, run_id)
        pause.release()
        self.assertEqual(d.wait_run(run_id)["status"], "cancelled")
        self.assertEqual(d.stop(), 0)

    def test_a_queued_run_cancelled_before_it_starts_never_runs(self):
        self.small_pipeline()
        pause = PausePoint(self)
        d = self.start(fault=pause)
        first = d.trigger("big")["run_id"]
        pause.wait_reached()
        second = d.trigger("big")["run_id"]  # one run per pipeline at a time: it waits in the queue
        self.assertEqual(d.json("GET", f"/api/v1/runs/{second}")["status"], "queued")
        answer = d.json("POST", f"/api/v1/runs/{second}/cancel", expect=200)
        self.assertEqual(answer["status"], "cancelled")
        run = d.json("GET", f"/api/v1/runs/{second}")
        self.assertEqual(run["status"], "cancelled", run)
        self.assertIn("never started", run["error"])
        self.assertIn("not running", d.json("POST", f"/api/v1/runs/{second}/cancel", expect=400)["error"])

        self.assertTrue(d.json("POST", f"/api/v1/runs/{first}/cancel", expect=202)["cancel_requested"])
        self.wait_cancel_seen(d, first)
        pause.release()
        self.assertEqual(d.wait_run(first)["status"], "cancelled")
        # A run queued after the cancelled one starts after it would have: once it has ended, a worker
        # that wrongly took the cancelled entry would have run it already.
        third = d.trigger("big")["run_id"]
        self.assertEqual(d.wait_run(third)["status"], "succeeded")
        self.assertEqual(d.json("GET", "/api/v1/queue")["queue"], [])
        runs = d.json("GET", "/api/v1/runs?pipeline=big")["runs"]
        self.assertEqual(sorted((r["id"], r["status"]) for r in runs),
                         sorted([(first, "cancelled"), (second, "cancelled"), (third, "succeeded")]))
        self.assertEqual(d.stop(), 0)

    def test_a_job_that_throws_fails_its_run_and_the_server_carries_on(self):
        self.small_pipeline(10)
        d = self.start(env={"SLUICE_FAULTPOINT": "job_started@1:throw"})
        run = d.wait_run(d.trigger("big")["run_id"])
        self.assertEqual(run["status"], "failed", run)
        self.assertIn("unexpected error", run["error"])
        self.assertIsNone(d.proc.poll(), "sluice serve died")
        self.assertEqual(d.wait_run(d.trigger("big")["run_id"])["status"], "succeeded")
        self.assertEqual(d.stop(), 0)

    def test_a_schedule_with_seconds_fires_runs_by_itself(self):
        self.p.pipeline("ticker", """\
name: ticker
source:
  type: files
  path: incoming/tick*.csv
  format: csv
target:
  zone: raw
  table: ticks
triggers:
  - schedule: "*/2 * * * * *"
    timezone: Europe/Berlin
""")
        self.p.write("incoming/tick_1.csv", "id\n1\n2\n")
        d = self.start()
        def ended_runs(runs):
            return [r for r in runs if r["status"] not in ("queued", "running")]
        runs = self.wait_runs(d, "ticker", lambda runs: len(ended_runs(runs)) >= 2, "the schedule did not fire twice")
        ended = ended_runs(runs)
        self.assertEqual({r["trigger"] for r in runs}, {"schedule"})
        # Each fire time is one run: the first loads the file, later ones find nothing new.
        self.assertEqual(sorted(r["status"] for r in ended)[-1], "succeeded")
        self.assertEqual(len({r["details"]["trigger_detail"] for r in runs}), len(runs))
        self.assertEqual(d.json("POST", "/api/v1/query", {"sql": "SELECT count(*) AS n FROM raw.ticks"})["rows"],
                         [{"n": 2}])
        self.assertEqual(d.stop(), 0)

    def test_without_server_token_the_generated_token_opens_the_api(self):
        d = self.start(token=False)
        self.assertEqual(d.call("GET", "/api/v1/pipelines", token=None)[0], 401)
        self.assertEqual(d.json("GET", "/api/v1/pipelines")["pipelines"], [])
        self.assertIn("no endpoint", d.json("GET", "/api/v1/nothing", expect=404)["error"])
        os.kill(d.proc.pid, signal.SIGINT)
        self.assertEqual(d.proc.wait(timeout=30), 0)
        d.log.close()

    def test_refuses_public_address_without_token(self):
        self.p.write("sluice.yaml", f"project: test\nlake: ./lake\nserver:\n  listen: 0.0.0.0:{free_port()}\n")
        r = self.p.sluice("serve", timeout=60)
        self.assertEqual(r.rc, 2, repr(r))
        self.assertIn("server.token", r.err)


if __name__ == "__main__":
    unittest.main()
