"""mode: cdc health against a real PostgreSQL 15: lag in seconds in `sluice cdc status` (bounded by
the source's commit times, never by sleeping), the warning before max_slot_wal_keep_size would
invalidate the slot, the lag on `sluice serve`'s /metrics, and the optional heartbeat write."""
import json
import socket
import urllib.request
from datetime import datetime

from sluice_e2e import wait_until

from pg_project import PostgresProjectTest

PIPELINE = """\
name: shop_cdc
source:
  connection: shopdb
  tables: [public.orders]
mode: cdc
cdc:
  slot: sluice_shop
  publication: sluice_shop
target:
  zone: raw
"""


def unix_us(iso):
    return int(datetime.fromisoformat(iso.replace("Z", "+00:00")).timestamp() * 1_000_000)


class PostgresCdcHealthTest(PostgresProjectTest):
    connection_name = "shopdb"

    def setUp(self):
        super().setUp()
        self.pg.psql("CREATE TABLE public.orders (id integer PRIMARY KEY, note text);"
                     "INSERT INTO public.orders SELECT g, 'order ' || g FROM generate_series(1, 20) g;")
        self.p.pipeline("shop_cdc", PIPELINE)

    def status(self):
        r = self.p.sluice("cdc", "status", "--format", "json", env=self.env)
        self.assertOk(r)
        [entry] = json.loads(r.out)
        return entry

    def server_now_us(self):
        return int(self.pg.psql("SELECT (extract(epoch FROM clock_timestamp()) * 1000000)::bigint").strip())

    def test_lag_seconds_follows_the_source_commit_times(self):
        before = self.status()
        self.assertIsNone(before["lag_seconds"])  # not started
        self.assertOk(self.p.sluice("run", "shop_cdc", env=self.env))
        copied = self.status()
        self.assertIsNotNone(copied["as_of"])
        self.assertGreaterEqual(copied["lag_seconds"], 0)

        # A change the lake does not have yet: the lake is known complete only up to before it.
        # synchronous_commit is off on the test server: on for this commit, so its WAL is written
        # (and counted in the lag) before the status below reads the server's WAL position.
        written_us = int(self.pg.psql("SET synchronous_commit = on; INSERT INTO orders VALUES (100, 'new') "
                                      "RETURNING (extract(epoch FROM now()) * 1000000)::bigint").strip().splitlines()[0])
        behind = self.status()
        self.assertGreater(behind["lag_bytes"], 0)
        self.assertLess(unix_us(behind["as_of"]), written_us)
        self.assertGreater(behind["lag_seconds"], 0)
        lower_bound_s = (written_us - unix_us(behind["as_of"])) / 1e6
        self.assertGreaterEqual(behind["lag_seconds"], lower_bound_s)

        # After the next run the lake holds it: as_of is past its commit, the lag below its age.
        run_started_us = self.server_now_us()
        self.assertOk(self.p.sluice("run", "shop_cdc", env=self.env))
        caught_up = self.status()
        self.assertGreaterEqual(unix_us(caught_up["as_of"]), written_us)
        self.assertGreaterEqual(unix_us(caught_up["as_of"]), run_started_us)  # the run's own probe of the server
        self.assertLessEqual(caught_up["lag_seconds"], (self.server_now_us() - run_started_us) / 1e6)

    def test_status_warns_before_max_slot_wal_keep_size_invalidates_the_slot(self):
        self.assertOk(self.p.sluice("run", "shop_cdc", env=self.env))
        self.assertIsNone(self.status()["safe_wal_size"])
        self.pg.psql("ALTER SYSTEM SET max_slot_wal_keep_size = '64MB'")
        self.pg.psql("SELECT pg_reload_conf()")
        wait_until(lambda: self.pg.psql("SHOW max_slot_wal_keep_size").strip() == "64MB", "the server reloaded its config")
        entry = self.status()
        self.assertLess(entry["safe_wal_size"], 1 << 30)
        self.assertIn("warning: only", entry["note"])
        self.assertIn("max_slot_wal_keep_size", entry["note"])
        table = self.p.sluice("cdc", "status", env=self.env)
        self.assertOk(table)
        self.assertIn("lag_seconds", table.out)
        self.assertIn("shop_cdc: warning: only", table.err)
        # A run says so too (log and run message).
        r = self.p.sluice("run", "shop_cdc", env=self.env)
        self.assertOk(r)
        self.assertIn("of WAL left before max_slot_wal_keep_size invalidates it", r.err)

    def metrics(self, port):
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=60) as response:
            text = response.read().decode()
        series = {}
        for line in text.splitlines():
            if line.startswith("sluice_cdc_"):
                name, value = line.rsplit(" ", 1)
                series[name] = float(value)
        return text, series

    def test_metrics_export_the_lag_of_a_followed_pipeline(self):
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            port = sock.getsockname()[1]
        with open(self.p.path("sluice.yaml"), "a") as f:
            f.write(f"server:\n  listen: 127.0.0.1:{port}\n")
        self.p.pipeline("shop_cdc", PIPELINE.replace("name: shop_cdc\n", "name: shop_cdc\ntriggers:\n  - continuous: true\n"))
        serve = self.p.start("serve", env=self.env)
        self.addCleanup(lambda: serve.poll() is None and serve.kill())
        labels = '{pipeline="shop_cdc",job="shop_cdc",slot="sluice_shop"}'

        scraped = {}

        def streaming():
            # Copied (a lag in seconds is known) and followed; the slot is active during the copy too.
            try:
                scraped["text"], scraped["series"] = self.metrics(port)
            except OSError:
                return False
            series = scraped["series"]
            return series.get("sluice_cdc_slot_active" + labels) == 1 and "sluice_cdc_lag_seconds" + labels in series
        wait_until(streaming, "/metrics shows the copied slot streamed", proc=serve)
        text, series = scraped["text"], scraped["series"]
        self.assertIn("# TYPE sluice_cdc_lag_seconds gauge", text)
        self.assertEqual(series["sluice_cdc_up" + labels], 1)
        self.assertGreaterEqual(series["sluice_cdc_lag_bytes" + labels], 0)
        self.assertGreaterEqual(series["sluice_cdc_lag_seconds" + labels], 0)
        self.assertNotIn("sluice_cdc_safe_wal_bytes" + labels, series)  # no max_slot_wal_keep_size
        # A change lands, and the lag in seconds then stays below the change's age.
        written_us = int(self.pg.psql("INSERT INTO orders VALUES (700, 'served') "
                                      "RETURNING (extract(epoch FROM now()) * 1000000)::bigint").strip().splitlines()[0])
        wait_until(lambda: self.p.scalar("SELECT count(*) FROM raw.orders WHERE id = 700") == 1,
                   "the change lands while serve follows", proc=serve)
        _, series = self.metrics(port)
        self.assertLessEqual(series["sluice_cdc_lag_seconds" + labels], (self.server_now_us() - written_us) / 1e6)
        serve.terminate()
        serve.communicate(timeout=120)
        self.assertEqual(serve.returncode, 0)

    def test_heartbeat_write_runs_when_streaming_starts_and_then_every_interval(self):
        self.pg.psql("CREATE TABLE public.sluice_heartbeat (id integer PRIMARY KEY, beats integer, at timestamptz)")
        sql = ("INSERT INTO sluice_heartbeat VALUES (1, 1, now()) "
               "ON CONFLICT (id) DO UPDATE SET beats = sluice_heartbeat.beats + 1, at = now()")
        self.p.pipeline("shop_cdc", PIPELINE.replace("  publication: sluice_shop\n",
                                                     f"  publication: sluice_shop\n  heartbeat:\n    sql: \"{sql}\"\n"
                                                     "    every: 1h\n"))
        self.assertOk(self.p.sluice("run", "shop_cdc", env=self.env))
        self.assertEqual(self.pg.psql("SELECT beats FROM sluice_heartbeat").strip(), "1")
        self.assertOk(self.p.sluice("run", "shop_cdc", env=self.env))
        self.assertEqual(self.pg.psql("SELECT beats FROM sluice_heartbeat").strip(), "2")
        # The heartbeat table is not captured: nothing of it lands.
        self.assertEqual(self.p.scalar("SELECT count(*) FROM raw.orders WHERE _change_type <> 'snapshot'"), 0)

        # While following, every interval (observed through the counter, not a clock).
        self.p.pipeline("shop_cdc", PIPELINE.replace("  publication: sluice_shop\n",
                                                     f"  publication: sluice_shop\n  heartbeat:\n    sql: \"{sql}\"\n"
                                                     "    every: 200ms\n"))
        follower = self.p.start("run", "shop_cdc", "--follow", "--quiet", env=self.env)
        self.addCleanup(lambda: follower.poll() is None and follower.kill())
        wait_until(lambda: int(self.pg.psql("SELECT beats FROM sluice_heartbeat").strip()) >= 5,
                   "the follower beats again", proc=follower)
        follower.terminate()
        follower.communicate(timeout=120)
        self.assertEqual(follower.returncode, 0)

        # A statement that fails stops the run with what failed, where and what to do.
        self.p.pipeline("shop_cdc", PIPELINE.replace("  publication: sluice_shop\n",
                                                     "  publication: sluice_shop\n  heartbeat:\n"
                                                     "    sql: UPDATE no_such_table SET x = 1\n"))
        wait_until(lambda: (self.pg.psql("SELECT active FROM pg_replication_slots WHERE slot_name = 'sluice_shop'")
                            .strip() == "f"), "the slot is released")
        r = self.p.sluice("run", "shop_cdc", env=self.env)
        self.assertNotEqual(r.rc, 0)
        self.assertIn("cdc: heartbeat: sql of pipeline 'shop_cdc' failed", r.err)
        self.assertIn("no_such_table", r.err)
        self.assertIn("shop_cdc.yaml", r.err)


if __name__ == "__main__":
    import unittest
    unittest.main()
