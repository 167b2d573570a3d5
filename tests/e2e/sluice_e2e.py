"""Helpers for end-to-end tests: a throwaway project folder and the real sluice binary."""
import glob
import json
import os
import shutil
import subprocess
import tempfile
import textwrap
import time
import unittest

SLUICE = os.environ.get("SLUICE_BIN", os.path.join(os.path.dirname(__file__), "../../build/sluice"))
NPM_TOOLS = os.environ.get("SLUICE_NPM_TOOLS", os.path.join(os.path.dirname(__file__), "../../build/_npm_tools"))
READ_PARQUET = os.path.join(os.path.dirname(os.path.abspath(__file__)), "read_parquet.mjs")


class Result:
    def __init__(self, proc):
        self.rc = proc.returncode
        self.out = proc.stdout
        self.err = proc.stderr

    def __repr__(self):
        return f"rc={self.rc}\n--- stdout\n{self.out}\n--- stderr\n{self.err}"


class Project:
    """A project folder in a temp dir; removed by cleanup()."""

    def __init__(self, sluice_yaml="project: test\nlake: ./lake\n"):
        self.root = tempfile.mkdtemp(prefix="sluice-e2e-")
        os.makedirs(os.path.join(self.root, "pipelines"))
        os.makedirs(os.path.join(self.root, "incoming"))
        self.write("sluice.yaml", sluice_yaml)

    def cleanup(self):
        shutil.rmtree(self.root, ignore_errors=True)

    def path(self, *parts):
        return os.path.join(self.root, *parts)

    def write(self, rel, text, mode="w"):
        full = self.path(rel)
        os.makedirs(os.path.dirname(full), exist_ok=True)
        with open(full, mode) as f:
            f.write(textwrap.dedent(text) if isinstance(text, str) else text)
        return full

    def pipeline(self, name, text):
        return self.write(f"pipelines/{name}.yaml", text)

    def sluice(self, *args, env=None, timeout=600):
        full_env = dict(os.environ)
        full_env.update(env or {})
        proc = subprocess.run([SLUICE, "--project", self.root, *args], capture_output=True, text=True,
                              env=full_env, timeout=timeout, cwd=self.root)
        return Result(proc)

    def start(self, *args, env=None):
        """Starts sluice in the background; the caller waits on or kills the Popen."""
        full_env = dict(os.environ)
        full_env.update(env or {})
        return subprocess.Popen([SLUICE, "--project", self.root, *args], stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, text=True, cwd=self.root, env=full_env)

    def query(self, sql):
        r = self.sluice("query", sql, "--format", "json")
        if r.rc != 0:
            raise AssertionError(f"query failed: {sql}\n{r}")
        return json.loads(r.out)

    def scalar(self, sql):
        rows = self.query(sql)
        return list(rows[0].values())[0]

    def lake_files(self, pattern="**/*.parquet"):
        return sorted(glob.glob(os.path.join(self.root, "lake", pattern), recursive=True))


def wait_until(condition, what, timeout=120, proc=None):
    """Polls `condition()` until it returns a true value, and returns that value. Fails naming `what`
    once `timeout` seconds pass, or as soon as `proc` (a sluice Popen) has ended. The poll interval
    only decides how soon a state is seen, never whether the test passes."""
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if proc is not None and proc.poll() is not None:
            err = proc.stderr.read() if proc.stderr else ""
            raise AssertionError(f"sluice ended (rc {proc.returncode}) before {what}: {err}")
        if time.monotonic() > deadline:
            raise AssertionError(f"{what}: not within {timeout}s")
        time.sleep(0.02)


class FaultPoints:
    """A SLUICE_FAULTPOINT_DIR for one test: env() switches points on for a sluice process, and
    wait_reached()/release() drive `pause` and `pause_each` points (docs/testing.md, "Fault points")."""

    def __init__(self):
        self.dir = tempfile.mkdtemp(prefix="sluice-fault-")

    def cleanup(self):
        shutil.rmtree(self.dir, ignore_errors=True)

    def env(self, spec):
        return {"SLUICE_FAULTPOINT": spec, "SLUICE_FAULTPOINT_DIR": self.dir}

    def wait_reached(self, marker, proc=None, timeout=120):
        """Waits until the point `marker` (a name, or "name.N" for pause_each's N-th hit) is reached;
        fails early when `proc` ends instead."""
        path = os.path.join(self.dir, marker + ".reached")
        wait_until(lambda: os.path.exists(path), f"fault point {marker} reached", timeout, proc)

    def release(self, marker):
        with open(os.path.join(self.dir, marker + ".release"), "w") as f:
            f.write("go\n")


def read_parquet_independently(files):
    """Rows of the files as decoded by hyparquet (node), not by DuckDB."""
    if not files:
        return {"columns": [], "rows": []}
    proc = subprocess.run(["node", READ_PARQUET, *files], capture_output=True, text=True,
                          env=dict(os.environ, SLUICE_NPM_TOOLS=NPM_TOOLS), timeout=300)
    if proc.returncode != 0:
        raise AssertionError(f"hyparquet could not read {files}: {proc.stderr}")
    return json.loads(proc.stdout)


class ProjectTest(unittest.TestCase):
    sluice_yaml = "project: test\nlake: ./lake\n"

    def setUp(self):
        self.p = Project(self.sluice_yaml)

    def tearDown(self):
        self.p.cleanup()

    def assertOk(self, result):
        self.assertEqual(result.rc, 0, msg=repr(result))

    def start_paused(self, point, *args, spec=None):
        """Starts `sluice ARGS` with fault point `point` set to pause (or with `spec`) and waits until it
        holds there; returns (process, FaultPoints) — release with points.release(point)."""
        points = FaultPoints()
        self.addCleanup(points.cleanup)
        proc = self.p.start(*args, env=points.env(spec or f"{point}:pause"))
        self.addCleanup(lambda: proc.poll() is None and proc.kill())
        points.wait_reached(point, proc)
        return proc, points
