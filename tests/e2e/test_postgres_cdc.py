"""mode: cdc against a real PostgreSQL 15 (wal_level=logical): the first run copies the tables from
the slot's exported snapshot, later runs stream the changes pgoutput decodes; every change lands
once, in order, and the current state rebuilt from the change records equals the source table,
also after the process is killed at each fault point of the batch commit. No test waits on time:
runs stop by themselves once caught up, and a follower is watched through observable state."""
import json
import os
import signal
import tempfile

from sluice_e2e import Project, wait_until

from pg_project import PASSWORD_ENV, PostgresProjectTest

PIPELINE = """\
name: shop_cdc
triggers:
  - continuous: true                  # sluice serve keeps it streaming and restarts it after a failure
source:
  connection: shopdb
  tables: [public.orders, public.customers]   # or table: …
mode: cdc
cdc:
  slot: sluice_shop                   # created when missing; the first run copies the tables in full
  publication: sluice_shop            # from the slot's exported snapshot, then streams from there
  commit_every: 10s                   # lake commit cadence; also max_rows / max_bytes
target:
  zone: raw                           # one table per source table: raw.orders, raw.customers
"""

CURRENT_STATE = """
SELECT * EXCLUDE (_rn) FROM (
  SELECT *, row_number() OVER (PARTITION BY id ORDER BY _lsn DESC) AS _rn FROM raw.{table}
  WHERE _change_type <> 'truncate')
WHERE _rn = 1 AND _change_type <> 'delete' ORDER BY id
"""


class PostgresCdcTest(PostgresProjectTest):
    connection_name = "shopdb"

    def setUp(self):
        super().setUp()
        self.pg.psql("""
            CREATE TABLE public.orders (id integer PRIMARY KEY, amount numeric(12,2), note text);
            CREATE TABLE public.customers (id bigint PRIMARY KEY, name text);
            INSERT INTO public.orders SELECT g, g * 1.25, 'order ' || g FROM generate_series(1, 50) g;
            INSERT INTO public.customers SELECT g, 'customer ' || g FROM generate_series(1, 10) g;
        """)
        self.p.pipeline("shop_cdc", PIPELINE)

    # -- helpers ---------------------------------------------------------------------------------

    def run_cdc(self, *extra, env=None, pipeline="shop_cdc", project=None):
        return (project or self.p).sluice("run", pipeline, *extra, env=dict(self.env, **(env or {})))

    def source_rows(self, sql):
        out = self.pg.psql(sql).strip()
        return [line.split("|") for line in out.splitlines()] if out else []

    def lake_orders(self):
        rows = self.p.query("SELECT CAST(id AS VARCHAR) AS id, CAST(amount AS VARCHAR) AS amount, note FROM ("
                            + CURRENT_STATE.format(table="orders") + ")")
        return [[r["id"], r["amount"] or "", (r["note"] or "").replace("\n", "<NL>")] for r in rows]

    def source_orders(self):
        return self.source_rows("SELECT id, coalesce(amount::text, ''), coalesce(replace(note, E'\\n', '<NL>'), '') FROM orders "
                                "ORDER BY id")

    def slot(self, name="sluice_shop"):
        out = self.pg.psql(f"SELECT active, confirmed_flush_lsn FROM pg_replication_slots WHERE slot_name = '{name}'")
        return out.strip().split("|") if out.strip() else None

    def wait_inactive(self):
        """The walsender releases the slot a moment after sluice has closed its connection."""
        wait_until(lambda: (self.slot() or ["f"])[0] == "f", "the slot is no longer active")

    def assert_exactly_once(self, table, changes):
        """Every change of `changes` (list of (id, change_type)) is in the lake once, with unique _lsn."""
        dup = self.p.scalar(f"SELECT count(*) - count(DISTINCT _lsn) FROM raw.{table} WHERE _change_type <> 'snapshot'")
        self.assertEqual(dup, 0)
        got = self.p.query(f"SELECT CAST(id AS VARCHAR) AS id, _change_type AS t FROM raw.{table} "
                           "WHERE _change_type NOT IN ('snapshot', 'truncate') ORDER BY _lsn")
        self.assertEqual([(r["id"], r["t"]) for r in got], [(str(i), t) for i, t in changes])

    # -- tests -----------------------------------------------------------------------------------

    def test_copy_then_stream_exactly_once(self):
        r = self.run_cdc()
        self.assertOk(r)
        self.assertEqual(self.p.scalar("SELECT count(*) FROM raw.orders WHERE _change_type = 'snapshot'"), 50)
        self.assertEqual(self.p.scalar("SELECT count(*) FROM raw.customers"), 10)
        self.assertEqual(self.lake_orders(), self.source_orders())
        self.wait_inactive()

        changes = []
        for i in range(51, 71):  # many small transactions
            self.pg.psql(f"INSERT INTO orders VALUES ({i}, {i}.5, 'new {i}')")
            changes.append((i, "insert"))
        self.pg.psql("BEGIN; UPDATE orders SET amount = 1 WHERE id = 3; UPDATE orders SET amount = 2, note = 'twice' "
                     "WHERE id = 3; COMMIT")
        changes += [(3, "update"), (3, "update")]
        self.pg.psql("BEGIN; INSERT INTO orders VALUES (999, 9, 'rolled back'); UPDATE orders SET note = 'no' "
                     "WHERE id = 1; ROLLBACK")
        self.pg.psql("DELETE FROM orders WHERE id IN (4, 5)")
        changes += [(4, "delete"), (5, "delete")]
        self.pg.psql("UPDATE orders SET note = E'multi\\nline \"quoted\" it''s' WHERE id = 60")
        changes.append((60, "update"))
        self.pg.psql("INSERT INTO customers VALUES (11, 'eleven')")

        r = self.run_cdc()
        self.assertOk(r)
        self.assertEqual(self.lake_orders(), self.source_orders())
        self.assert_exactly_once("orders", changes)
        self.assertEqual(self.p.scalar("SELECT count(*) FROM raw.orders WHERE id = 999"), 0)
        self.assertEqual(self.p.scalar("SELECT name FROM raw.customers WHERE id = 11"), "eleven")
        deleted = self.p.query("SELECT amount, note FROM raw.orders WHERE _change_type = 'delete'")
        self.assertEqual(deleted, [{"amount": None, "note": None}] * 2)  # deletes carry the key only
        commit_ts = self.p.scalar("SELECT count(*) FROM raw.orders WHERE _change_type <> 'snapshot' "
                                  "AND (_commit_ts IS NULL OR _txid IS NULL)")
        self.assertEqual(commit_ts, 0)

        # Nothing new: the rerun commits nothing and the slot's position is confirmed.
        r = self.run_cdc()
        self.assertOk(r)
        self.assert_exactly_once("orders", changes)
        committed = self.cdc_state()["lsn"]
        self.assertEqual(self.pg.psql(f"SELECT '{self.slot()[1]}'::pg_lsn >= '{committed}'::pg_lsn").strip(), "t")

    def cdc_state(self):
        import sqlite3
        db = sqlite3.connect(self.p.path(".sluice", "catalog.db"))
        try:
            rows = db.execute("SELECT state_value FROM job_state WHERE scope = 'shop_cdc/shop_cdc' AND state_key = 'cdc'"
                              ).fetchall()
        finally:
            db.close()
        return json.loads(rows[0][0]) if rows else None

    def test_types_round_trip_copy_and_stream_agree(self):
        self.pg.psql("""
            CREATE TABLE public.types (id integer PRIMARY KEY, i bigint, n numeric(30,10), t text, ts timestamp,
              tz timestamptz, d date, b boolean, j jsonb, ia integer[], ta text[], bt bytea, nothing text);
        """)
        values = ("9223372036854775807, 12345678901234567890.0123456789, E'line1\\nline2 \"q\" it''s \\\\ back', "
                  "'2024-02-29 13:14:15.123456', '2024-02-29 13:14:15.5+02', '2024-02-29', true, "
                  "'{\"a\": [1, 2, {\"b\": null}]}', '{1,NULL,3}', '{\"a b\",\"c,d\",\"e\\\"f\",NULL}', "
                  "'\\x00ff10'::bytea, NULL")
        self.pg.psql(f"INSERT INTO types VALUES (1, {values})")
        self.p.pipeline("types", "source: {connection: shopdb, table: public.types}\nmode: cdc\n"
                        "target: {zone: raw, table: types}\n")
        self.assertOk(self.run_cdc(pipeline="types"))
        self.pg.psql(f"INSERT INTO types VALUES (2, {values})")
        self.pg.psql("INSERT INTO types (id) VALUES (3)")
        self.assertOk(self.run_cdc(pipeline="types"))
        cols = "i, n, t, ts, tz, d, b, j, ia, ta, bt, nothing"
        rows = self.p.query(f"SELECT id, _change_type, {cols} FROM raw.types ORDER BY id")
        self.assertEqual([(r["id"], r["_change_type"]) for r in rows], [(1, "snapshot"), (2, "insert"), (3, "insert")])
        copied, streamed, empty = rows
        for c in cols.split(", "):
            self.assertEqual(copied[c], streamed[c], f"column {c}: copy and stream disagree")
        self.assertEqual(streamed["t"], "line1\nline2 \"q\" it's \\ back")
        self.assertEqual(streamed["ia"], [1, None, 3])
        self.assertEqual(streamed["ta"], ["a b", "c,d", "e\"f", None])
        exact = self.p.query("SELECT CAST(n AS VARCHAR) AS n FROM raw.types WHERE id <= 2 ORDER BY id")
        self.assertEqual(exact, [{"n": "12345678901234567890.0123456789"}] * 2)
        self.assertIsNone(streamed["nothing"])
        self.assertTrue(all(empty[c] is None for c in cols.split(", ")))
        schema = self.p.query("SELECT column_name, column_type AS data_type FROM (DESCRIBE raw.types)")
        types = {r["column_name"]: r["data_type"] for r in schema}
        self.assertEqual(types["n"], "DECIMAL(30,10)")
        self.assertEqual(types["_lsn"], "BIGINT")

    def test_unchanged_toast_value_is_filled(self):
        self.pg.psql("CREATE TABLE public.docs (id integer PRIMARY KEY, version integer, body text);"
                     "ALTER TABLE docs ALTER COLUMN body SET STORAGE EXTERNAL;"
                     "INSERT INTO docs SELECT g, 1, repeat(md5(g::text), 400) FROM generate_series(1, 3) g")
        self.p.pipeline("docs", "source: {connection: shopdb, table: public.docs}\nmode: cdc\n"
                        "target: {zone: raw, table: docs}\n")
        self.assertOk(self.run_cdc(pipeline="docs"))
        # From the lake (the copied row), and within one batch (insert then update of a new row).
        self.pg.psql("UPDATE docs SET version = 2 WHERE id = 1")
        self.pg.psql("INSERT INTO docs VALUES (4, 1, repeat(md5('4'), 400))")
        self.pg.psql("UPDATE docs SET version = 2 WHERE id = 4")
        self.assertOk(self.run_cdc(pipeline="docs"))
        # From the lake again, the previous value being a streamed (filled) row.
        self.pg.psql("UPDATE docs SET version = 3 WHERE id = 1")
        self.assertOk(self.run_cdc(pipeline="docs"))
        rows = self.p.query("SELECT id, version, length(body) AS len, body = repeat(md5(CAST(id AS VARCHAR)), 400) AS ok "
                            "FROM raw.docs WHERE _change_type = 'update' ORDER BY _lsn")
        self.assertEqual([(r["id"], r["version"], r["len"], r["ok"]) for r in rows],
                         [(1, 2, 12800, True), (4, 2, 12800, True), (1, 3, 12800, True)])

    def test_add_column_mid_stream_and_truncate(self):
        self.assertOk(self.run_cdc())
        self.pg.psql("INSERT INTO orders VALUES (100, 1, 'before')")
        self.pg.psql("ALTER TABLE orders ADD COLUMN channel text")
        self.pg.psql("INSERT INTO orders VALUES (101, 2, 'after', 'web')")
        self.assertOk(self.run_cdc())
        rows = self.p.query("SELECT id, channel FROM raw.orders WHERE id >= 100 ORDER BY id")
        self.assertEqual(rows, [{"id": 100, "channel": None}, {"id": 101, "channel": "web"}])
        self.pg.psql("TRUNCATE customers")
        self.assertOk(self.run_cdc())
        self.assertEqual(self.p.scalar("SELECT count(*) FROM raw.customers WHERE _change_type = 'truncate'"), 1)

    def test_idle_published_tables_do_not_pin_wal(self):
        self.assertOk(self.run_cdc())
        self.pg.psql("CREATE TABLE busy (id serial, pad text); "
                     "INSERT INTO busy (pad) SELECT repeat('x', 200) FROM generate_series(1, 20000)")
        before = self.pg.psql("SELECT pg_current_wal_lsn()").strip()
        self.assertOk(self.run_cdc())
        self.assertEqual(self.pg.psql(f"SELECT '{self.slot()[1]}'::pg_lsn >= '{before}'::pg_lsn").strip(), "t")
        self.assertEqual(self.p.scalar("SELECT count(*) FROM raw.orders WHERE _change_type <> 'snapshot'"), 0)
        status = self.p.sluice("cdc", "status", "--format", "json", env=self.env)
        self.assertOk(status)
        [entry] = json.loads(status.out)
        self.assertEqual((entry["slot"], entry["active"], entry["wal_status"]), ("sluice_shop", False, "reserved"))
        self.assertLess(entry["lag_bytes"], 1 << 20)

    def test_kill_at_each_fault_point_then_rerun_is_exactly_once(self):
        self.p.pipeline("shop_cdc", PIPELINE.replace("commit_every: 10s", "commit_every: 10s\n  max_rows: 7"))
        self.assertOk(self.run_cdc())
        changes = []
        next_id = 1000
        for point in ("cdc_batch_staged@2", "mid_upload@1", "in_commit@2", "cdc_after_commit_before_confirm@2",
                      "cdc_after_commit_before_confirm@1"):
            for k in range(12):
                self.pg.psql(f"INSERT INTO orders VALUES ({next_id}, {k}, 'p')")
                changes.append((next_id, "insert"))
                if k % 4 == 1:
                    self.pg.psql(f"UPDATE orders SET note = 'u{k}' WHERE id = {next_id - 1}")
                    changes.append((next_id - 1, "update"))
                if k % 5 == 2:
                    self.pg.psql(f"DELETE FROM orders WHERE id = {next_id - 2}")
                    changes.append((next_id - 2, "delete"))
                next_id += 1
            killed = self.run_cdc(env={"SLUICE_FAULTPOINT": point.split("@")[0] + "@" + point.split("@")[1] + ":kill"})
            self.assertEqual(killed.rc, -signal.SIGKILL, f"{point}: {killed}")
            self.assertOk(self.run_cdc())
            self.assertEqual(self.lake_orders(), self.source_orders(), point)
            self.assert_exactly_once("orders", [c for c in changes])

    def test_second_consumer_refused_and_follow_stops_on_sigterm(self):
        self.assertOk(self.run_cdc())
        follower = self.p.start("run", "shop_cdc", "--follow", "--quiet", env=self.env)
        self.addCleanup(lambda: follower.poll() is None and follower.kill())
        wait_until(lambda: (self.slot() or ["f"])[0] == "t", "the follower streams", proc=follower)
        self.pg.psql("INSERT INTO orders VALUES (500, 5, 'followed')")
        wait_until(lambda: self.p.scalar("SELECT count(*) FROM raw.orders WHERE id = 500") == 1,
                   "the followed insert lands", proc=follower)
        # A second consumer of the same slot from another project (another machine, say).
        with open(self.p.path("sluice.yaml")) as f:
            other = Project(f.read())
        self.addCleanup(other.cleanup)
        other.pipeline("shop_cdc", PIPELINE)
        refused = self.run_cdc(project=other)
        self.assertNotEqual(refused.rc, 0)
        self.assertIn("already being followed by another process", refused.err + refused.out)
        self.assertIn("sluice_shop", refused.err + refused.out)
        dropped = self.p.sluice("cdc", "drop", "shop_cdc", env=self.env)
        self.assertNotEqual(dropped.rc, 0)
        self.assertIn("in use", dropped.err)
        follower.send_signal(signal.SIGTERM)
        out, err = follower.communicate(timeout=120)
        self.assertEqual(follower.returncode, 0, err)
        self.wait_inactive()

    def test_continuous_trigger_follows_under_serve(self):
        import socket
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            port = sock.getsockname()[1]
        with open(self.p.path("sluice.yaml"), "a") as f:
            f.write(f"server:\n  listen: 127.0.0.1:{port}\n")
        serve = self.p.start("serve", env=self.env)
        self.addCleanup(lambda: serve.poll() is None and serve.kill())
        # The daemon starts the run by itself: the copy lands, then the slot stays streamed.
        wait_until(lambda: (self.slot() or ["f"])[0] == "t", "the continuous run streams", proc=serve)
        self.pg.psql("INSERT INTO orders VALUES (700, 7, 'served')")
        wait_until(lambda: self.p.scalar("SELECT count(*) FROM raw.orders WHERE id = 700") == 1,
                   "the change lands while serve follows", proc=serve)
        serve.send_signal(signal.SIGTERM)
        serve.communicate(timeout=120)
        self.assertEqual(serve.returncode, 0)
        self.wait_inactive()
        self.assertEqual(self.lake_orders(), self.source_orders())

    def test_status_and_drop(self):
        status = self.p.sluice("cdc", "status", env=self.env)
        self.assertOk(status)
        self.assertIn("not started", status.out)
        self.assertOk(self.run_cdc())
        status = self.p.sluice("cdc", "status", "--format", "json", env=self.env)
        self.assertOk(status)
        [entry] = json.loads(status.out)
        self.assertEqual(entry["pipeline"], "shop_cdc")
        self.assertTrue(entry["exists"])
        self.assertEqual(entry["plugin"], "pgoutput")
        for key in ("confirmed_flush_lsn", "committed_lsn", "lag_bytes", "wal_status", "safe_wal_size"):
            self.assertIn(key, entry)
        dropped = self.p.sluice("cdc", "drop", "shop_cdc", env=self.env)
        self.assertOk(dropped)
        self.assertIn("slot sluice_shop", dropped.out)
        self.assertIn("publication sluice_shop", dropped.out)
        self.assertIsNone(self.slot())
        self.assertEqual(self.pg.psql("SELECT count(*) FROM pg_publication").strip(), "0")
        # A user's own publication is never dropped.
        self.pg.psql("CREATE PUBLICATION mine FOR TABLE orders, customers")
        self.p.pipeline("shop_cdc", PIPELINE.replace("publication: sluice_shop", "publication: mine"))
        self.assertOk(self.run_cdc())
        self.assertOk(self.p.sluice("cdc", "drop", "shop_cdc", env=self.env))
        self.assertEqual(self.pg.psql("SELECT pubname FROM pg_publication").strip(), "mine")

    def test_lost_slot_asks_for_a_resnapshot(self):
        self.assertOk(self.run_cdc())
        self.pg.psql("SELECT pg_drop_replication_slot('sluice_shop')")
        r = self.run_cdc()
        self.assertEqual(r.rc, 1, r)
        self.assertIn("resnapshot needed", r.err)
        self.assertIn("sluice run shop_cdc --full-refresh", r.err)
        self.assertOk(self.run_cdc("--full-refresh"))
        self.assertEqual(self.lake_orders(), self.source_orders())
        self.wait_inactive()


if __name__ == "__main__":
    import unittest
    unittest.main()
