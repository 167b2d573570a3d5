"""The web UI of `sluice serve` (issue 18) in a real headless Chromium: a real daemon on real data,
driven by puppeteer-core (tests/e2e/ui/web_ui_test.mjs). Screenshots of each page go to
build/test-artifacts/ui/."""
import datetime
import json
import os
import shutil
import subprocess
import tempfile
import unittest

from sluice_e2e import NPM_TOOLS, SLUICE, ProjectTest
from test_serve import Daemon, free_port

BROWSER_TEST = os.path.join(os.path.dirname(os.path.abspath(__file__)), "ui", "web_ui_test.mjs")
CHROMIUM = "/usr/bin/chromium"
XSS = "<img src=x onerror=alert(1)>"
SCHEDULE = "0 0 29 2 *"  # 29 February: never fires while the test runs

BIRDS = f"""\
name: birds
description: "Bird sightings {XSS}"
source:
  type: files
  path: incoming/birds*.csv
  format: csv
checks:
  - not_null: [id]
  - range: {{ column: id, max: 100 }}
    quarantine: true
target:
  zone: raw
  table: birds
triggers:
  - schedule: "{SCHEDULE}"
  - webhook: true
"""

EVENTS = """\
name: events
source:
  type: files
  path: incoming/events*.csv
  format: csv
target:
  zone: raw
  table: events
"""

REPORT = """\
name: report
jobs:
  count:
    source: { table: raw.birds }
    steps:
      - sql: "SELECT count(*) AS birds FROM input"
    target: { zone: gold, table: bird_count, write: overwrite }
  names:
    depends_on:
      - { job: count, condition: always }
    source: { table: raw.birds }
    steps:
      - sql: "SELECT name FROM input"
    target: { zone: gold, table: bird_names, write: overwrite }
"""


def birds_csv(first_id, count):
    # The third column's name and one value are markup: the UI must show them as text.
    lines = [f'id,name,"{XSS}"'] + [f"{i},bird-{i},{XSS if i == first_id else 'seen'}"
                                     for i in range(first_id, first_id + count)]
    return "\n".join(lines) + "\n"


class FaultDir:
    """after_stage:pause_each for the serve process: the browser test releases each hit itself."""

    def __init__(self):
        self.dir = tempfile.mkdtemp(prefix="sluice-fault-")
        self.env = {"SLUICE_FAULTPOINT": "after_stage:pause_each", "SLUICE_FAULTPOINT_DIR": self.dir}

    def release(self):
        for hit in range(1, 6):  # a stopping daemon must not wait on a run the test left held
            open(os.path.join(self.dir, f"after_stage.{hit}.release"), "w").close()


class WebUiTest(ProjectTest):
    def test_web_ui_in_headless_chromium(self):
        puppeteer = os.path.join(NPM_TOOLS, "node_modules", "puppeteer-core", "package.json")
        self.assertTrue(os.path.exists(CHROMIUM) and os.path.exists(puppeteer),
                        "the browser test needs Debian's chromium and puppeteer-core: run scripts/install-deps.sh")
        self.p.pipeline("birds", BIRDS)
        self.p.pipeline("events", EVENTS)
        self.p.pipeline("report", REPORT)
        self.p.write("incoming/birds_1.csv", birds_csv(1, 3))
        self.p.write("incoming/events_1.csv", "id,kind,note\n" + "".join(
            f"{i},kind-{i % 7},a note long enough to make this table the larger one {i:08d}\n" for i in range(20000)))
        for pipeline in ("birds", "events"):  # report never runs: its health says so
            self.assertOk(self.p.sluice("run", pipeline))
        birds_bytes = sum(os.path.getsize(f) for f in self.p.lake_files("raw/**/birds/**/*.parquet"))
        events_bytes = sum(os.path.getsize(f) for f in self.p.lake_files("raw/**/events/**/*.parquet"))
        # The query console's refusal: raw.events is over the limit, raw.birds (three loads of it) well under.
        limit = events_bytes // 2
        self.assertGreater(limit, 4 * birds_bytes, (birds_bytes, events_bytes))

        port = free_port()
        self.p.write("sluice.yaml", f"project: test\nlake: ./lake\nserver:\n  listen: 127.0.0.1:{port}\n"
                                    f"query:\n  max_bytes_scanned: {limit}\n")
        fault = FaultDir()
        self.addCleanup(shutil.rmtree, fault.dir, True)
        daemon = Daemon(self.p, port, fault=fault)
        self.addCleanup(lambda: daemon.proc.poll() is None and daemon.stop())
        daemon.wait_ready()
        runs = {p: daemon.json("GET", f"/api/v1/runs?pipeline={p}")["runs"][0]["id"] for p in ("birds", "events")}

        artifacts = os.path.join(os.path.dirname(os.path.abspath(SLUICE)), "test-artifacts", "ui")
        expect = {
            # Ids 100..103 arrive; the range check sets 101..103 aside in raw.birds__rejects.
            "birds_rows": 3, "events_rows": 20000, "new_birds_rows": 1, "new_birds_rejected": 3,
            "new_birds_csv": birds_csv(100, 4),
            "birds_schedule": SCHEDULE, "birds_next_fire": self.next_fire(),
            "birds_run": runs["birds"], "events_run": runs["events"],
        }
        env = dict(os.environ, SLUICE_URL=f"http://127.0.0.1:{port}", SLUICE_PROJECT=self.p.root,
                   SLUICE_FAULT_DIR=fault.dir, SLUICE_ARTIFACTS=artifacts, SLUICE_NPM_TOOLS=NPM_TOOLS,
                   SLUICE_EXPECT=json.dumps(expect))
        proc = subprocess.run(["node", BROWSER_TEST], capture_output=True, text=True, env=env, timeout=600)
        print(proc.stdout)
        self.assertEqual(proc.returncode, 0,
                         f"browser test failed (screenshots in {artifacts}):\n{proc.stdout}\n{proc.stderr}\n"
                         f"--- sluice serve\n{daemon.output()[-4000:]}")
        self.assertEqual(daemon.stop(), 0)

    def test_status_reports_health_relative_to_the_schedule(self):
        """GET /api/v1/status (the Pipelines page's health): on time, late once a scheduled fire passed
        without a run, failing, never run — on an injected clock, so no waiting for a schedule."""
        clock = self.p.path("clock")

        def set_clock(text):
            with open(clock + ".tmp", "w") as f:
                f.write(text)
            os.replace(clock + ".tmp", clock)

        self.p.pipeline("hourly", """\
name: hourly
source: { type: files, path: incoming/hourly*.csv, format: csv }
target: { zone: raw, table: hourly }
triggers:
  - schedule: "0 * * * *"
""")
        self.p.pipeline("broken", """\
name: broken
source: { type: files, path: incoming/broken*.csv, format: csv }
checks:
  - row_count: { min: 100 }
target: { zone: raw, table: broken }
""")
        # A value written as ${env:…} is a secret: the configuration the UI shows has *** instead.
        self.p.pipeline("idle", "name: idle\nsource: { type: files, path: \"${env:IDLE_PATH}\", format: csv }\n"
                                "target: { zone: raw, table: idle }\n")
        self.p.write("incoming/hourly_1.csv", "id\n1\n")
        self.p.write("incoming/broken_1.csv", "id\n1\n")
        set_clock("2026-11-23T10:00:00Z")
        clock_env = {"SLUICE_TEST_CLOCK_FILE": clock, "IDLE_PATH": "incoming/idle-secret-folder/*.csv"}
        self.assertOk(self.p.sluice("run", "hourly", env=clock_env))
        self.assertNotEqual(self.p.sluice("run", "broken", env=clock_env).rc, 0)

        set_clock("2026-11-23T10:30:00Z")
        port = free_port()
        self.p.write("sluice.yaml", f"project: test\nlake: ./lake\nserver:\n  listen: 127.0.0.1:{port}\n")
        daemon = Daemon(self.p, port, env=clock_env)
        self.addCleanup(lambda: daemon.proc.poll() is None and daemon.stop())
        daemon.wait_ready()

        def status():
            return {p["name"]: p for p in daemon.json("GET", "/api/v1/status")["pipelines"]}

        now = status()
        self.assertEqual(now["hourly"]["health"], "on_time", now["hourly"])
        self.assertEqual(now["hourly"]["next_fire"], "2026-11-23T11:00:00.000000Z")
        self.assertEqual(now["hourly"]["last_run"]["status"], "succeeded")
        self.assertEqual(now["broken"]["health"], "failing", now["broken"])
        self.assertIn("row_count", now["broken"]["last_run"]["error"])
        self.assertEqual(now["idle"]["health"], "never_run")
        self.assertIsNone(now["idle"]["next_fire"])
        self.assertTrue(now["idle"]["accepts_api"])  # no triggers: on demand
        self.assertFalse(now["hourly"]["accepts_api"])  # scheduled only
        # The 11:00 fire passes unseen (the clock jumps past it and its grace): the schedule skips it,
        # and the pipeline is late.
        set_clock("2026-11-23T11:05:00Z")
        later = status()
        self.assertEqual(later["hourly"]["health"], "late", later["hourly"])
        self.assertEqual(later["hourly"]["missed_fire"], "2026-11-23T11:00:00.000000Z")
        self.assertEqual(later["hourly"]["next_fire"], "2026-11-23T12:00:00.000000Z")
        one = daemon.json("GET", "/api/v1/pipelines/hourly")
        self.assertEqual(one["health"], "late")
        self.assertIn('schedule: "0 * * * *"', one["config_yaml"])
        idle = daemon.json("GET", "/api/v1/pipelines/idle")["config_yaml"]
        self.assertIn('path: "***"', idle)
        self.assertNotIn("idle-secret-folder", idle)
        self.assertEqual(daemon.stop(), 0)

    def next_fire(self):
        """29 February of the next leap year, as the UI writes times."""
        now = datetime.datetime.now(datetime.timezone.utc)
        year = now.year + (1 if (now.month, now.day) >= (2, 29) else 0)
        while not (year % 4 == 0 and (year % 100 != 0 or year % 400 == 0)):
            year += 1
        return f"{year}-02-29 00:00:00 UTC"


if __name__ == "__main__":
    unittest.main()
