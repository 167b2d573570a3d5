"""PostgreSQL → raw zone through the real binary, against a real PostgreSQL 15 started per test:
full copies (replacing the table), incremental loads by a cursor column, batching, credentials
that never leak, and a run killed mid-load that publishes nothing."""
import glob
import json
import os
import sqlite3
import sys
import unittest

from sluice_e2e import ProjectTest, read_parquet_independently

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "../../scripts"))
from pg_test_server import PgServer  # noqa: E402

PASSWORD_ENV = "SLUICE_E2E_PG_PASSWORD"


def project_yaml(url):
    return f"""\
project: test
lake: ./lake
connections:
  registry:
    type: postgres
    url: {url}
    password: ${{env:{PASSWORD_ENV}}}
"""


class PostgresSourceTest(ProjectTest):
    def setUp(self):
        super().setUp()
        self.pg = PgServer()
        self.pg.__enter__()
        self.addCleanup(self.pg.__exit__, None, None, None)
        self.p.write("sluice.yaml", project_yaml(self.pg.url))
        self.env = {PASSWORD_ENV: self.pg.password}
        # `sluice query` and `catalog` load sluice.yaml too, so the reference must resolve for them.
        os.environ[PASSWORD_ENV] = self.pg.password
        self.addCleanup(os.environ.pop, PASSWORD_ENV, None)

    def run_job(self, name, *extra, env=None):
        return self.p.sluice("run", name, *extra, env=env or self.env)

    def state(self, pipeline, job=None):
        """The job's committed source state (the watermark), read from the catalog file directly."""
        db = sqlite3.connect(self.p.path(".sluice", "catalog.db"))
        try:
            rows = db.execute("SELECT state_value FROM job_state WHERE scope = ? AND state_key = 'source'",
                              (f"{pipeline}/{job or pipeline}",)).fetchall()
        finally:
            db.close()
        return json.loads(rows[0][0]) if rows else None

    def assertNoChanges(self, result):
        self.assertOk(result)
        self.assertRegex(result.out, r"no[ _]changes", repr(result))

    def history(self, table):
        r = self.p.sluice("catalog", "history", table)
        self.assertOk(r)
        return [line.split() for line in r.out.splitlines()[1:] if line.strip() and line.split()[0].isdigit()]

    # --- full ---------------------------------------------------------------------------------

    def test_full_load_of_mixed_types_through_a_connection_and_replacing_rerun(self):
        self.pg.psql("""
            CREATE TABLE public.compounds (
              id integer PRIMARY KEY, name text, weight numeric(10,3), active boolean,
              created timestamptz, day date, tags text[], doc jsonb, payload bytea,
              ratio double precision, uid uuid, big bigint, plain numeric);
            INSERT INTO public.compounds VALUES
              (1, 'aspirin', 180.158, true, '2024-05-01 10:00:00+02', '2024-05-01', '{a,b}',
               '{"b": 2, "a": 1}', '\\x00ff', 0.5, 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11', 9007199254740993,
               0.00000000000000000001),
              (2, 'caffeine, "quoted"', 194.19, false, '2024-05-02 00:00:00+00', '2024-05-02', '{}',
               '[1, 2]', '', -1.25, NULL, -5, 12.5),
              (3, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL);
        """)
        self.p.pipeline("compounds", """\
            name: compounds
            source:
              connection: registry
              table: public.compounds
            mode: full
            target:
              zone: raw
              table: compounds
            """)
        r = self.run_job("compounds")
        self.assertOk(r)
        self.assertIn("succeeded", r.out)
        self.assertIn("3 rows written", r.out)

        rows = self.p.query("SELECT id, name, weight::VARCHAR AS weight, active, created::VARCHAR AS created, "
                            "day::VARCHAR AS day, tags, doc::VARCHAR AS doc, hex(payload) AS payload, ratio, "
                            "uid::VARCHAR AS uid, big::VARCHAR AS big, plain FROM raw.compounds ORDER BY id")
        self.assertEqual(len(rows), 3)
        first, second, third = rows
        self.assertEqual(first["name"], "aspirin")
        self.assertEqual(first["weight"], "180.158")
        self.assertIs(first["active"], True)
        self.assertTrue(first["created"].startswith("2024-05-01 08:00:00"), first["created"])
        self.assertEqual(first["day"], "2024-05-01")
        self.assertEqual(first["tags"], ["a", "b"])
        self.assertEqual(json.loads(first["doc"]), {"a": 1, "b": 2})
        self.assertEqual(first["payload"], "00FF")
        self.assertEqual(first["uid"], "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11")
        self.assertEqual(first["big"], "9007199254740993")
        self.assertEqual(first["plain"], "0.00000000000000000001")
        self.assertEqual(second["name"], 'caffeine, "quoted"')
        self.assertEqual(second["tags"], [])
        self.assertIsNone(second["uid"])
        self.assertAlmostEqual(second["ratio"], -1.25)
        self.assertEqual({k: v for k, v in third.items() if k != "id"}, {k: None for k in third if k != "id"})

        types = {r["column_name"]: r["data_type"] for r in self.p.query(
            "SELECT column_name, data_type FROM information_schema.columns "
            "WHERE table_schema = 'raw' AND table_name = 'compounds'")}
        self.assertEqual(types["weight"], "DECIMAL(10,3)")
        self.assertEqual(types["created"], "TIMESTAMP WITH TIME ZONE")
        self.assertEqual(types["tags"], "VARCHAR[]")
        self.assertEqual(types["plain"], "VARCHAR")

        files = self.p.lake_files()
        self.assertTrue(files)
        for f in files:
            rel = os.path.relpath(f, self.p.path("lake"))
            self.assertRegex(rel, r"^raw/registry/compounds/original/full/_load_date=\d{4}-\d\d-\d\d/part-.*\.parquet$")
        independent = read_parquet_independently(files)
        self.assertEqual(len(independent["rows"]), 3)
        self.assertIn("_loaded_at", independent["columns"])
        by_id = {int(r["id"]): r for r in independent["rows"]}
        self.assertEqual(by_id[1]["name"], "aspirin")
        self.assertEqual(by_id[2]["name"], 'caffeine, "quoted"')
        self.assertIsNone(by_id[3]["name"])
        self.assertIsNone(by_id[3]["active"])
        self.assertEqual(str(by_id[1]["big"]), "9007199254740993")

        # The second full run replaces: same rows, not twice as many; a new overwrite version.
        r = self.run_job("compounds")
        self.assertOk(r)
        self.assertEqual(self.p.scalar("SELECT count(*) FROM raw.compounds"), 3)
        history = self.history("raw.compounds")
        self.assertEqual([h[0] for h in history][-2:], ["1", "2"], history)
        self.assertIn("overwrite", history[-1])
        # The table follows the source: a deleted and an added row show up in the next copy.
        self.pg.psql("DELETE FROM public.compounds WHERE id = 2; "
                     "INSERT INTO public.compounds (id, name) VALUES (4, 'ibuprofen')")
        self.assertOk(self.run_job("compounds"))
        self.assertEqual([r["id"] for r in self.p.query("SELECT id FROM raw.compounds ORDER BY id")], [1, 3, 4])
        self.assertEqual(self.history("raw.compounds")[-1][0], "3")
        # Version 1 is still there to travel back to.
        old = self.p.sluice("query", "SELECT count(*) AS n FROM raw.compounds WHERE id = 2", "--as-of", "1",
                            "--format", "csv")
        self.assertOk(old)
        self.assertEqual(old.out.splitlines(), ["n", "1"])

    def test_batches_become_parts_and_every_row_arrives_once(self):
        self.pg.psql("CREATE TABLE public.readings AS "
                     "SELECT g AS id, 'sensor-' || (g % 17) AS sensor, g * 0.5 AS value "
                     "FROM generate_series(1, 10000) g")
        # Inline form (type: postgres) with a query and a column list.
        self.p.pipeline("readings", f"""\
            name: readings
            source:
              type: postgres
              url: {self.pg.url}
              password: ${{env:{PASSWORD_ENV}}}
              query: SELECT * FROM public.readings WHERE id % 2 = 0 OR id % 2 = 1;
              columns: [id, sensor]
              batch_rows: 1000
              cursor: id
            mode: incremental
            target: {{ zone: raw, table: readings }}
            """)
        # Rows are held in batches (an incremental load computes its watermark from each batch).
        r = self.run_job("readings")
        self.assertOk(r)
        self.assertIn("10000 rows written", r.out)
        files = self.p.lake_files()
        self.assertGreaterEqual(len(files), 10, files)
        for f in files:
            self.assertIn("raw/postgres/readings/original/incremental/", f)
        stats = self.p.query("SELECT count(*) AS n, count(DISTINCT id) AS d, min(id) AS lo, max(id) AS hi "
                             "FROM raw.readings")
        self.assertEqual(stats, [{"n": 10000, "d": 10000, "lo": 1, "hi": 10000}])
        columns = [c["column_name"] for c in self.p.query(
            "SELECT column_name FROM information_schema.columns WHERE table_schema = 'raw' "
            "AND table_name = 'readings' ORDER BY ordinal_position")]
        self.assertEqual(columns[:2], ["id", "sensor"])
        self.assertNotIn("value", columns)
        self.assertEqual(len(read_parquet_independently(files)["rows"]), 10000)

    # --- full loads streamed over several connections ------------------------------------------

    FINGERPRINT = ("SELECT count(*) AS n, sum(id) AS s, md5(string_agg(id::text || '|' || coalesce(name, '-') || '|' || "
                   "coalesce(amount::text, '-'), ',' ORDER BY id)) AS h FROM {}")

    def assertSameRowsAsPostgres(self, pg_table, lake_table):
        pg = self.pg.psql(self.FINGERPRINT.format(pg_table)).strip().split("|")
        lake = self.p.query(self.FINGERPRINT.format(lake_table))[0]
        self.assertEqual([int(pg[0]), int(pg[1]), pg[2]], [lake["n"], lake["s"], lake["h"]])

    def test_full_load_without_a_key_is_read_by_block_ranges_over_parallel_connections(self):
        self.pg.psql("CREATE TABLE public.events AS SELECT g AS id, CASE WHEN g % 13 = 0 THEN NULL ELSE 'e-' || g END AS name, "
                     "((g % 1000) * 0.25)::numeric(10,2) AS amount, jsonb_build_object('g', g) AS doc "
                     "FROM generate_series(1, 30000) g")
        for connections in (3, 1):
            with self.subTest(read_connections=connections):
                self.p.pipeline("events", f"""\
                    name: events
                    source: {{ connection: registry, table: public.events, read_connections: {connections} }}
                    target: {{ zone: raw, table: events }}
                    """)
                r = self.run_job("events")
                self.assertOk(r)
                self.assertIn("30000 rows written", r.out)
                if connections > 1:
                    self.assertIn(f"read by {connections} connections side by side", r.out + r.err)
                self.assertSameRowsAsPostgres("public.events", "raw.events")
                self.assertEqual(self.p.scalar("SELECT count(DISTINCT id) FROM raw.events"), 30000)
                types = {c["column_name"]: c["data_type"] for c in self.p.query(
                    "SELECT column_name, data_type FROM information_schema.columns WHERE table_name = 'events'")}
                self.assertEqual(types["doc"], "JSON")
                self.assertEqual(types["amount"], "DECIMAL(10,2)")

    def test_resumable_full_load_splits_each_chunk_into_key_ranges(self):
        self.pg.psql("CREATE TABLE public.items (id bigint PRIMARY KEY, name text, amount numeric(12,2)); "
                     "INSERT INTO public.items SELECT g * 3, 'item ' || g, g * 1.5 FROM generate_series(1, 10001) g")
        self.p.pipeline("items", """\
            name: items
            source: { connection: registry, table: public.items, batch_rows: 3000, read_connections: 2 }
            target: { zone: raw, table: items }
            """)
        r = self.run_job("items")
        self.assertOk(r)
        self.assertIn("10001 rows written", r.out)
        self.assertSameRowsAsPostgres("public.items", "raw.items")
        # One part per chunk of 3000 rows per connection: 6000 + 4001 rows.
        self.assertEqual(len(self.p.lake_files("raw/registry/items/**/*.parquet")), 2)
        self.assertIn("in chunks of 6000 by id, read by 2 connections side by side", r.out + r.err)

        self.pg.psql("DELETE FROM public.items WHERE id % 2 = 0; UPDATE public.items SET name = NULL WHERE id < 100")
        self.assertOk(self.run_job("items"))
        self.assertSameRowsAsPostgres("public.items", "raw.items")

    def test_unevenly_spread_keys_change_chunk_sizes_but_every_row_arrives_once(self):
        # Dense keys, a gap of a billion, sparse keys, then dense again: estimated range boundaries
        # are off in every direction.
        self.pg.psql("CREATE TABLE public.skewed (id bigint PRIMARY KEY, name text, amount numeric(12,2)); "
                     "INSERT INTO public.skewed SELECT g, 'a' || g, g FROM generate_series(1, 7000) g; "
                     "INSERT INTO public.skewed SELECT 1000000000 + g * 997, 'b' || g, g FROM generate_series(1, 5000) g; "
                     "INSERT INTO public.skewed SELECT 2000000000 + g, NULL, NULL FROM generate_series(1, 9001) g; "
                     "ANALYZE public.skewed")
        for connections in (2, 3):
            with self.subTest(read_connections=connections):
                self.p.pipeline("skewed", f"""\
                    name: skewed
                    source: {{ connection: registry, table: public.skewed, batch_rows: 2000, read_connections: {connections} }}
                    target: {{ zone: raw, table: skewed }}
                    """)
                r = self.run_job("skewed")
                self.assertOk(r)
                self.assertIn("21001 rows written", r.out)
                self.assertSameRowsAsPostgres("public.skewed", "raw.skewed")

    def test_chunk_by_needs_a_unique_integer_column(self):
        self.pg.psql("CREATE TABLE public.logs (code text PRIMARY KEY, seq bigint NOT NULL, batch bigint NOT NULL, "
                     "name text); CREATE UNIQUE INDEX logs_seq ON public.logs (seq); "
                     "INSERT INTO public.logs SELECT 'c' || g, g * 2, g / 10, 'n' || g FROM generate_series(1, 5000) g")
        # Rows sharing a chunk's last key would be skipped by the next chunk: refused.
        self.p.pipeline("logs", """\
            name: logs
            source: { connection: registry, table: public.logs, chunk_by: batch, batch_rows: 1000 }
            target: { zone: raw, table: logs }
            """)
        r = self.run_job("logs")
        self.assertEqual(r.rc, 1, repr(r))
        self.assertIn("chunk_by column 'batch' of public.logs has no unique index", r.err)
        self.assertIn("pipelines/logs.yaml", r.err)
        self.p.pipeline("logs", """\
            name: logs
            source: { connection: registry, table: public.logs, chunk_by: seq, batch_rows: 1000 }
            target: { zone: raw, table: logs }
            """)
        r = self.run_job("logs")
        self.assertOk(r)
        self.assertIn("in chunks of 2000 by seq", r.out + r.err)
        self.assertEqual(self.p.scalar("SELECT count(DISTINCT seq) FROM raw.logs"), 5000)

    def test_a_bad_value_mid_stream_fails_naming_row_and_column_and_publishes_nothing(self):
        self.pg.psql("CREATE TABLE public.prices (id int, name text, amount numeric); "
                     "INSERT INTO public.prices SELECT g, 'p' || g, g / 4.0 FROM generate_series(1, 20000) g; "
                     "UPDATE public.prices SET amount = 'NaN' WHERE id = 15000")
        self.p.pipeline("prices", """\
            name: prices
            source: { connection: registry, query: "SELECT id, name, amount::numeric(10,2) AS amount FROM public.prices" }
            target: { zone: raw, table: prices }
            """)
        r = self.run_job("prices")
        self.assertEqual(r.rc, 1, repr(r))
        self.assertIn("NaN cannot be stored in a DECIMAL column", r.err)
        self.assertIn("job 'prices'", r.err)
        # The updated row moved to the end of the table, where the COPY meets it.
        self.assertRegex(r.err, r"row 20000, column 'amount'")
        self.assertEqual(self.p.lake_files(), [])
        self.assertNotEqual(self.p.sluice("catalog", "history", "raw.prices").rc, 0)

        self.pg.psql("UPDATE public.prices SET amount = 0 WHERE id = 15000")
        self.assertOk(self.run_job("prices"))
        self.assertSameRowsAsPostgres("(SELECT id, name, amount::numeric(10,2) AS amount FROM public.prices) q", "raw.prices")

    def test_quarantine_of_a_streamed_full_load_holds_the_rows_once(self):
        self.pg.psql("CREATE TABLE public.gauges (id int PRIMARY KEY, name text, amount bigint); "
                     "INSERT INTO public.gauges SELECT g, 'g' || g, g FROM generate_series(1, 5000) g")
        self.p.pipeline("gauges", """\
            name: gauges
            source: { connection: registry, table: public.gauges }
            target: { zone: raw, table: gauges, schema_evolution: quarantine }
            """)
        self.assertOk(self.run_job("gauges"))
        # The column becomes text; one value no longer fits the table's BIGINT.
        self.pg.psql("ALTER TABLE public.gauges ALTER COLUMN amount TYPE text; "
                     "UPDATE public.gauges SET amount = 'n/a' WHERE id = 4000")
        r = self.run_job("gauges")
        self.assertOk(r)
        self.assertIn("4999 rows written", r.out)
        self.assertEqual(self.p.scalar("SELECT count(*) FROM raw.gauges"), 4999)
        rejects = self.p.query("SELECT id, _reject_reason FROM raw.gauges__rejects")
        self.assertEqual(len(rejects), 1, rejects)
        self.assertEqual(rejects[0]["id"], 4000)
        self.assertIn("amount", rejects[0]["_reject_reason"])

    # --- incremental --------------------------------------------------------------------------

    def test_incremental_reads_only_newer_rows_then_reports_no_changes(self):
        self.pg.psql("""
            CREATE TABLE public.orders (id integer PRIMARY KEY, status text, updated_at timestamp);
            INSERT INTO public.orders
              SELECT g, 'new', timestamp '2024-01-01 00:00:00' + g * interval '1 minute'
              FROM generate_series(1, 100) g;
        """)
        self.p.pipeline("orders", """\
            name: orders
            source:
              connection: registry
              table: public.orders
              cursor: updated_at
            mode: incremental
            primary_key: [id]
            target: { zone: raw, table: orders }
            """)
        r = self.run_job("orders")
        self.assertOk(r)
        self.assertIn("100 rows written", r.out)
        self.assertEqual(self.state("orders"), {"watermark": "2024-01-01 01:40:00", "cursor": "updated_at"})
        for f in self.p.lake_files():
            self.assertIn("raw/registry/orders/original/incremental/", f)

        # 10 inserts and 5 updates: exactly those 15 rows arrive, appended.
        self.pg.psql("""
            INSERT INTO public.orders
              SELECT g, 'new', timestamp '2024-02-01 00:00:00' + g * interval '1 second'
              FROM generate_series(101, 110) g;
            UPDATE public.orders SET status = 'shipped', updated_at = '2024-03-01 12:00:00.25' WHERE id <= 5;
        """)
        r = self.run_job("orders")
        self.assertOk(r)
        self.assertIn("15 rows written", r.out)
        self.assertEqual(self.p.scalar("SELECT count(*) FROM raw.orders"), 115)
        second = self.p.query("SELECT id, status FROM raw.orders WHERE updated_at >= TIMESTAMP '2024-02-01' "
                              "ORDER BY id")
        self.assertEqual([r["id"] for r in second], [1, 2, 3, 4, 5] + list(range(101, 111)))
        self.assertTrue(all(r["status"] == "shipped" for r in second[:5]))
        self.assertEqual(self.state("orders")["watermark"], "2024-03-01 12:00:00.25")
        latest = self.p.query("SELECT status FROM raw.orders WHERE id = 3 ORDER BY updated_at DESC LIMIT 1")
        self.assertEqual(latest, [{"status": "shipped"}])
        self.assertIn("append", self.history("raw.orders")[-1])

        # Nothing newer: "no changes", exit 0, nothing committed.
        self.assertNoChanges(self.run_job("orders"))
        self.assertEqual(self.p.scalar("SELECT count(*) FROM raw.orders"), 115)
        self.assertEqual(len(self.history("raw.orders")), 2)
        self.assertEqual(self.state("orders")["watermark"], "2024-03-01 12:00:00.25")

    def test_integer_cursor_with_lookback_rereads_the_window(self):
        self.pg.psql("CREATE TABLE public.events AS SELECT g AS seq, 'e' || g AS what FROM generate_series(1, 50) g")
        self.p.pipeline("events", """\
            name: events
            source: { connection: registry, table: events, cursor: seq, lookback: 10 }
            mode: incremental
            target: { zone: raw, table: events }
            """)
        self.assertOk(self.run_job("events"))
        self.assertEqual(self.state("events"), {"watermark": "50", "cursor": "seq"})
        self.pg.psql("INSERT INTO public.events SELECT g, 'e' || g FROM generate_series(51, 55) g")
        r = self.run_job("events")
        self.assertOk(r)
        self.assertIn("15 rows written", r.out)  # 41..50 again (lookback) and 51..55
        self.assertEqual(self.state("events")["watermark"], "55")
        self.assertNoChanges(self.run_job("events"))

    def test_incremental_without_cursor_and_unavailable_modes_are_config_errors(self):
        self.pg.psql("CREATE TABLE public.t (id int)")
        self.p.pipeline("nocursor", "name: nocursor\nsource: { connection: registry, table: t }\n"
                        "mode: incremental\ntarget: { zone: raw, table: t }\n")
        r = self.p.sluice("validate", env=self.env)
        self.assertNotEqual(r.rc, 0, repr(r))
        self.assertIn("cursor", r.err)
        self.assertIn("pipelines/nocursor.yaml:2", r.err)
        os.remove(self.p.path("pipelines", "nocursor.yaml"))
        self.p.pipeline("win", "name: win\nsource: { connection: registry, query: SELECT 1 }\n"
                        "mode: cdc\nprimary_key: [id]\n"
                        "target: { zone: raw, table: t }\n")
        r = self.run_job("win")
        self.assertNotEqual(r.rc, 0, repr(r))
        self.assertIn("mode: cdc", r.err)
        self.assertIn("not query:", r.err)
        self.assertIn("pipelines/win.yaml:2", r.err)

    # --- failures -----------------------------------------------------------------------------

    def test_wrong_password_fails_naming_server_and_job_but_not_the_password(self):
        self.pg.psql("CREATE TABLE public.t (id int)")
        self.p.pipeline("t", "name: t\nsource: { connection: registry, table: public.t }\n"
                        "target: { zone: raw, table: t }\n")
        wrong = "Wr0ng-Passw0rd-xyz"
        r = self.run_job("t", env={PASSWORD_ENV: wrong})
        self.assertEqual(r.rc, 1, repr(r))
        self.assertIn(f"127.0.0.1:{self.pg.port}/postgres", r.err)
        self.assertIn("job 't'", r.err)
        self.assertIn("connection 'registry'", r.err)
        self.assertNotIn(wrong, r.out + r.err)
        self.assertNotIn(self.pg.password, r.out + r.err)
        runs = self.p.sluice("runs", env=self.env)
        self.assertNotIn(wrong, runs.out + runs.err)
        for log in glob.glob(self.p.path(".sluice", "runs", "*.log")):
            with open(log) as f:
                self.assertNotIn(wrong, f.read())

    def test_killed_large_load_publishes_nothing_and_rerun_loads_everything_once(self):
        self.pg.psql("CREATE TABLE public.big AS SELECT g AS id, md5(g::text) AS h FROM generate_series(1, 1000) g")
        self.p.pipeline("big", """\
            name: big
            source: { connection: registry, table: public.big, cursor: id, batch_rows: 100000 }
            mode: incremental
            target: { zone: raw, table: big }
            """)
        self.assertOk(self.run_job("big"))
        self.assertEqual(self.state("big")["watermark"], "1000")
        self.pg.psql("INSERT INTO public.big SELECT g, md5(g::text) FROM generate_series(1001, 301000) g")

        # Killed once its first part of 100000 rows is staged, with more still to read.
        killed = self.run_job("big", env=dict(self.env, SLUICE_FAULTPOINT="part_staged@1:kill"))
        self.assertEqual(killed.rc, -9, repr(killed))
        staging = self.p.path(".sluice", "staging")
        self.assertTrue(glob.glob(os.path.join(staging, "**", "*.parquet"), recursive=True))

        self.assertEqual(self.p.scalar("SELECT count(*) FROM raw.big"), 1000)
        self.assertEqual(self.state("big")["watermark"], "1000")
        self.assertEqual(len(self.history("raw.big")), 1)

        r = self.run_job("big")
        self.assertOk(r)
        self.assertIn("300000 rows written", r.out)
        stats = self.p.query("SELECT count(*) AS n, count(DISTINCT id) AS d, max(id) AS hi FROM raw.big")
        self.assertEqual(stats, [{"n": 301000, "d": 301000, "hi": 301000}])
        self.assertEqual(self.state("big")["watermark"], "301000")
        self.assertNoChanges(self.run_job("big"))


if __name__ == "__main__":
    unittest.main()
