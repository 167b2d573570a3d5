"""examples/web_events_cdc (scenario 4 in full) run as its README says, with `--env dev`, against a
real PostgreSQL 15 (wal_level=logical) and a real `sluice serve`: the orders table copied and then
followed by CDC into raw.orders, web events posted with `sluice send` into raw.web_events, and the
processing pipelines — started by their on_commit triggers — keeping silver.orders equal to the
source table (updates, deletes, a rolled-back transaction, a truncate) and silver.web_events holding
every event once, both with etl_timestamp, event_date and source_filename, partitioned by event_date.
Only the ports, the database URL and its password differ from the example: picked now.

No test waits on time: the daemon's clock is the injected SLUICE_TEST_CLOCK_FILE, moved forward on
every poll of an observable state (a table's rows) so the stream's max_age and the triggers'
min_interval pass; the CDC follower commits by itself every 2 s of real time."""
import datetime
import glob
import json
import os
import shutil
import subprocess
import sys

from sluice_e2e import SLUICE, ProjectTest, wait_until
from test_serve import Daemon, free_port

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "scripts"))
from pg_test_server import PG_BIN, PgServer  # noqa: E402

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
EXAMPLE = os.path.join(ROOT, "examples", "web_events_cdc")
FILES = ("sluice.yaml", "README.md", "make_events.py", "pipelines/shop_cdc.yaml", "pipelines/processed_orders.yaml",
         "pipelines/processed_web_events.yaml", "sql/shop.sql", "sql/shop_activity.sql")
TOKEN = "web-events-token-0123"
START = datetime.datetime(2026, 12, 6, 9, 0, 0, tzinfo=datetime.timezone.utc)

ORDERS_NOW = """
SELECT CAST(id AS VARCHAR) || '|' || customer || '|' || status || '|' || CAST(amount AS VARCHAR) || '|'
       || strftime(placed_at AT TIME ZONE 'UTC', '%Y-%m-%d %H:%M:%S') || '|' || coalesce(note, '') AS line
FROM silver.orders ORDER BY id
"""
SOURCE_ORDERS = """
SELECT id || '|' || customer || '|' || status || '|' || amount || '|'
       || to_char(placed_at AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS') || '|' || coalesce(note, '')
FROM public.orders ORDER BY id
"""


class ServeWithEnv(Daemon):
    """`sluice serve --env dev`, stopped by its PID."""

    def __init__(self, project, port, env):
        self.project, self.port, self._token, self.fault = project, port, None, None
        self.log_path = project.path("serve.log")
        self.log = open(self.log_path, "w")
        self.proc = subprocess.Popen([SLUICE, "--project", project.root, "--env", "dev", "serve"], stdout=self.log,
                                     stderr=subprocess.STDOUT, cwd=project.root, env=dict(os.environ, **env))


class WebEventsCdcExampleTest(ProjectTest):
    def setUp(self):
        super().setUp()
        for name in FILES:
            os.makedirs(os.path.dirname(self.p.path(name)), exist_ok=True)
            shutil.copy(os.path.join(EXAMPLE, name), self.p.path(name))
        self.pg = PgServer()
        self.pg.__enter__()
        self.addCleanup(self.pg.__exit__, None, None, None)
        self.port = free_port()
        with open(self.p.path("sluice.yaml")) as f:
            text = f.read()
        self.assertIn("listen: 127.0.0.1:8080", text)
        self.assertIn("url: postgresql://sluice@127.0.0.1:5432/shop\n", text)
        self.p.write("sluice.yaml", text.replace("listen: 127.0.0.1:8080", f"listen: 127.0.0.1:{self.port}")
                     .replace("postgresql://sluice@127.0.0.1:5432/shop\n", self.pg.url + "\n"))
        self.env = {"SHOPDB_PASSWORD": self.pg.password, "WEB_EVENTS_TOKEN": TOKEN}
        self.clock_file = self.p.path("clock.txt")
        self.now = START
        self.set_clock(START)

    # -- helpers ---------------------------------------------------------------------------------

    def set_clock(self, when):
        with open(self.clock_file + ".new", "w") as f:
            f.write(when.strftime("%Y-%m-%dT%H:%M:%SZ") + "\n")
        os.replace(self.clock_file + ".new", self.clock_file)

    def tick(self):
        """Moves the daemon's clock past the stream's max_age and the triggers' min_interval."""
        self.now += datetime.timedelta(seconds=61)
        self.set_clock(self.now)

    def sluice(self, *args):
        r = self.p.sluice(*args, "--env", "dev", env=self.env)
        self.assertEqual(r.rc, 0, f"sluice {' '.join(args)}: {r}")
        return r

    def psql_file(self, name):
        subprocess.run([os.path.join(PG_BIN, "psql"), "-X", "-q", "-v", "ON_ERROR_STOP=1", "-h", self.pg.dir, "-p",
                        str(self.pg.port), "-U", "postgres", "-d", "postgres", "-f", self.p.path(name)],
                       check=True, stdout=subprocess.DEVNULL)

    def source_orders(self):
        return self.pg.psql(SOURCE_ORDERS).strip().splitlines()

    def silver_orders(self):
        r = self.p.sluice("query", ORDERS_NOW, "--format", "json", env=self.env)
        return [row["line"] for row in json.loads(r.out)] if r.rc == 0 else None

    def query(self, sql):
        r = self.p.sluice("query", sql, "--format", "json", env=self.env)
        self.assertEqual(r.rc, 0, r)
        return json.loads(r.out)

    def count(self, sql):
        r = self.p.sluice("query", sql, "--format", "json", env=self.env)
        return list(json.loads(r.out)[0].values())[0] if r.rc == 0 else None

    def wait_ticking(self, condition, what, serve):
        def ticked():
            self.tick()
            return condition()
        return wait_until(ticked, what, 240, serve.proc)

    def serve(self):
        d = ServeWithEnv(self.p, self.port, dict(self.env, SLUICE_TEST_CLOCK_FILE=self.clock_file))
        self.addCleanup(lambda: d.proc.poll() is None and d.stop())
        d.wait_ready(60)
        return d

    # -- the example -----------------------------------------------------------------------------

    def test_scenario_four_as_the_readme_says(self):
        self.psql_file("sql/shop.sql")
        for env in ("dev", "staging"):
            r = self.p.sluice("validate", "--env", env, env=self.env)
            self.assertEqual(r.rc, 0, f"validate --env {env}: {r}")

        # The first copy and the first processing run, by hand.
        self.sluice("run", "shop_cdc")
        self.assertEqual(self.count("SELECT count(*) FROM raw.orders WHERE _change_type = 'snapshot'"), 500)
        self.sluice("run", "processed_orders")
        self.assertEqual(self.silver_orders(), self.source_orders())
        self.assertEqual(len(self.source_orders()), 500)

        d = self.serve()
        self.psql_file("sql/shop_activity.sql")
        # 60 inserts, 30 + 10 updates, 2 deletes; the rolled-back update never arrives.
        wait_until(lambda: self.count("SELECT count(*) FROM raw.orders WHERE _change_type <> 'snapshot'") == 102,
                   "the 102 changes of shop_activity.sql in raw.orders", 240, d.proc)
        self.assertEqual(self.count("SELECT count(*) - count(DISTINCT _lsn) FROM raw.orders "
                                    "WHERE _change_type <> 'snapshot'"), 0)
        expected = self.source_orders()
        self.assertEqual(len(expected), 558)
        self.wait_ticking(lambda: self.silver_orders() == expected, "silver.orders equal to public.orders", d)

        # Web events, as the README sends them.
        for name, args in (("day1.ndjson", ["2026-12-04", "1000"]), ("day2.ndjson", ["2026-12-05", "500", "1001"])):
            with open(self.p.path(name), "w") as out:
                subprocess.run([sys.executable, self.p.path("make_events.py"), *args], check=True, stdout=out)
            sent = self.sluice("send", "web_events", self.p.path(name))
            self.assertIn(f"{args[1]} records accepted", sent.out)
        # An event without a time (so without an event_date) is set aside, not processed.
        self.p.write("untimed.ndjson", '{"event_id": "untimed-1", "event_type": "page_view", "page": "/"}\n')
        self.sluice("send", "web_events", self.p.path("untimed.ndjson"))
        self.wait_ticking(lambda: self.count("SELECT count(*) FROM silver.web_events") == 1500
                          and self.count("SELECT count(*) FROM silver.web_events__rejects") == 1,
                          "1500 events in silver.web_events, 1 in its rejects", d)
        self.assertEqual(self.query("SELECT event_id, _failed_check FROM silver.web_events__rejects"),
                         [{"event_id": "untimed-1", "_failed_check": "not_null(event_id, event_date)"}])
        per_day = self.query("SELECT CAST(event_date AS VARCHAR) AS day, count(*) AS n, count(DISTINCT event_id) AS ids, "
                               "count(etl_timestamp) AS stamped, bool_and(source_filename LIKE 'web_events/%.seg') AS "
                               "from_spool FROM silver.web_events GROUP BY 1 ORDER BY 1")
        self.assertEqual(per_day, [{"day": "2026-12-04", "n": 1000, "ids": 1000, "stamped": 1000, "from_spool": True},
                                   {"day": "2026-12-05", "n": 500, "ids": 500, "stamped": 500, "from_spool": True}])
        for day in ("2026-12-04", "2026-12-05"):
            self.assertTrue(glob.glob(self.p.path("lake", "silver", "web_events", f"event_date={day}", "*.parquet")), day)

        # silver.orders: processing columns, one folder per order date, lineage to the raw files.
        orders = self.query("SELECT count(*) AS n, count(etl_timestamp) AS stamped, count(DISTINCT event_date) AS days, "
                              "bool_and(source_filename LIKE 'raw/%.parquet') AS from_raw FROM silver.orders")
        days = int(self.pg.psql("SELECT count(DISTINCT (placed_at AT TIME ZONE 'UTC')::date) FROM public.orders"))
        self.assertEqual(orders, [{"n": 558, "stamped": 558, "days": days, "from_raw": True}])
        self.assertEqual(self.count("SELECT count(*) FROM silver.orders WHERE CAST(placed_at AS DATE) <> event_date"), 0)
        self.assertTrue(glob.glob(self.p.path("lake", "silver", "orders", "event_date=2026-12-04", "*.parquet")))

        # A truncate empties the processed table too; what comes after it stays.
        self.pg.psql("TRUNCATE public.orders; INSERT INTO public.orders VALUES "
                     "(900, 'customer-1', 'new', 12.50, '2026-12-06 08:00:00+00', NULL)")
        expected = self.source_orders()
        self.assertEqual(len(expected), 1)
        self.wait_ticking(lambda: self.silver_orders() == expected, "silver.orders after the truncate", d)
        self.assertEqual(d.stop(), 0)
