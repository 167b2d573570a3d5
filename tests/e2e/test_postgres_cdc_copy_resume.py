"""mode: cdc's initial copy is resumable: a run killed after some chunks of a multi-chunk copy (or
after one of its tables) carries on from its last committed chunk in a new snapshot, while the
stream still starts at the slot's consistent point. Nothing is lost, the current state rebuilt from
the change records equals the source, and the rerun reads only what the killed run had not
(run record rows_read). Crashes happen at fault points, never after a sleep."""
import json
import signal
import sqlite3

from pg_project import PostgresProjectTest

ROWS = 5000
CHUNK = 1000

PIPELINE = f"""\
name: shop_cdc
source:
  connection: shopdb
  tables: [public.orders, public.customers]
  batch_rows: {CHUNK}
mode: cdc
cdc:
  slot: sluice_shop
  publication: sluice_shop
target:
  zone: raw
"""

CURRENT_STATE = """
SELECT * EXCLUDE (_rn) FROM (
  SELECT *, row_number() OVER (PARTITION BY id ORDER BY _lsn DESC) AS _rn FROM raw.{table}
  WHERE _change_type <> 'truncate')
WHERE _rn = 1 AND _change_type <> 'delete' ORDER BY id
"""


class PostgresCdcCopyResumeTest(PostgresProjectTest):
    connection_name = "shopdb"

    def setUp(self):
        super().setUp()
        self.pg.psql(f"""
            CREATE TABLE public.orders (id integer PRIMARY KEY, amount numeric(12,2), note text);
            CREATE TABLE public.customers (id bigint PRIMARY KEY, name text);
            INSERT INTO public.orders SELECT g, g * 1.25, 'order ' || g FROM generate_series(1, {ROWS}) g;
            INSERT INTO public.customers SELECT g, 'customer ' || g FROM generate_series(1, 1500) g;
        """)
        self.p.pipeline("shop_cdc", PIPELINE)

    def catalog(self, sql, *params):
        db = sqlite3.connect(self.p.path(".sluice", "catalog.db"), timeout=30)
        try:
            return db.execute(sql, params).fetchall()
        finally:
            db.close()

    def state(self, scope, key):
        rows = self.catalog("SELECT state_value FROM job_state WHERE scope = ? AND state_key = ?", scope, key)
        return json.loads(rows[0][0]) if rows else None

    def run_cdc(self, *extra, env=None):
        return self.p.sluice("run", "shop_cdc", *extra, env=dict(self.env, **(env or {})))

    def killed_at(self, point, *extra):
        r = self.run_cdc(*extra, env={"SLUICE_FAULTPOINT": f"{point}:kill"})
        self.assertEqual(r.rc, -signal.SIGKILL, f"{point}: {r}")

    def current(self, table, columns):
        rows = self.p.query(f"SELECT {columns} FROM (" + CURRENT_STATE.format(table=table) + ")")
        return [[str(v) if v is not None else "" for v in r.values()] for r in rows]

    def source(self, sql):
        out = self.pg.psql(sql).strip()
        return [line.split("|") for line in out.splitlines()] if out else []

    def assert_converged(self):
        self.assertEqual(self.current("orders", "CAST(id AS VARCHAR) AS id, CAST(amount AS VARCHAR) AS a, note"),
                         self.source("SELECT id, amount::text, note FROM orders ORDER BY id"))
        self.assertEqual(self.current("customers", "CAST(id AS VARCHAR) AS id, name"),
                         self.source("SELECT id, name FROM customers ORDER BY id"))
        dup = self.p.scalar("SELECT count(*) - count(DISTINCT _lsn) FROM raw.orders WHERE _change_type <> 'snapshot'")
        self.assertEqual(dup, 0)

    def last_run(self):
        return self.catalog("SELECT status, rows_read FROM runs ORDER BY started_at_us DESC LIMIT 1")[0]

    def test_copy_killed_after_two_chunks_resumes_from_its_last_chunk(self):
        self.killed_at("chunk_committed@2")
        # What the killed run made durable: the slot and its consistent point, not yet copied, and
        # two chunks of orders as the copy's pending load.
        cdc = self.state("shop_cdc/shop_cdc", "cdc")
        self.assertEqual((cdc["slot"], cdc["created_slot"], cdc["copied"]), ("sluice_shop", True, False))
        consistent_point = cdc["lsn"]
        pending = self.state("shop_cdc/shop_cdc__copy_orders", "pending_load")
        self.assertEqual(len(pending["files"]), 2)
        kept = sum(f["rows"] for f in pending["files"])
        after = int(json.loads(pending["resume_token"])["after"])
        self.assertEqual(kept, after)  # keys 1..after, in chunks of about CHUNK rows
        self.assertLess(kept, ROWS)
        self.assertEqual(self.catalog("SELECT count(*) FROM lake_tables")[0][0], 0)  # nothing visible yet
        status = self.p.sluice("cdc", "status", "--format", "json", env=self.env)
        self.assertOk(status)
        [entry] = json.loads(status.out)
        self.assertIn("copy under way", entry["note"])
        self.assertIsNone(entry["lag_seconds"])
        self.assertEqual(entry["committed_lsn"], consistent_point)

        # The source moves on before the rerun: in copied chunks, in chunks still to copy, and new rows.
        self.assertGreater(after, 1500)
        self.assertLess(after, 2500)
        self.pg.psql("UPDATE orders SET amount = 0, note = 'changed early' WHERE id IN (5, 1500)")
        self.pg.psql("UPDATE orders SET note = 'changed late' WHERE id IN (2500, 4999)")
        self.pg.psql("DELETE FROM orders WHERE id IN (7, 3000)")
        self.pg.psql("INSERT INTO orders VALUES (6001, 1, 'new'), (6002, 2, 'new')")
        self.pg.psql("UPDATE customers SET name = 'renamed' WHERE id = 3")
        later_rows = int(self.pg.psql(f"SELECT count(*) FROM orders WHERE id > {after}").strip())

        r = self.run_cdc("--log-level", "info")
        self.assertOk(r)
        self.assertIn("resuming the interrupted copy", r.err)
        self.assertIn("resuming the full load", r.err)
        self.assertIsNone(self.state("shop_cdc/shop_cdc__copy_orders", "pending_load"))
        self.assertIsNone(self.state("shop_cdc/shop_cdc", "cdc_copy"))
        cdc = self.state("shop_cdc/shop_cdc", "cdc")
        self.assertTrue(cdc["copied"])
        # The copied rows: the kept chunks once, the rest read once now.
        self.assertEqual(self.p.scalar("SELECT count(*) FROM raw.orders WHERE _change_type = 'snapshot'"), kept + later_rows)
        self.assertEqual(self.p.scalar("SELECT count(DISTINCT id) FROM raw.orders WHERE _change_type = 'snapshot'"),
                         kept + later_rows)
        # Streaming began at the consistent point: every change since then is there, once.
        got = self.p.query("SELECT CAST(id AS VARCHAR) AS id, _change_type AS t FROM raw.orders "
                           "WHERE _change_type <> 'snapshot' ORDER BY _lsn")
        self.assertEqual([(g["id"], g["t"]) for g in got],
                         [("5", "update"), ("1500", "update"), ("2500", "update"), ("4999", "update"),
                          ("7", "delete"), ("3000", "delete"), ("6001", "insert"), ("6002", "insert")])
        self.assertEqual(self.pg.psql(f"SELECT '{cdc['lsn']}'::pg_lsn >= '{consistent_point}'::pg_lsn").strip(), "t")
        self.assert_converged()
        # The rerun read only what the killed run had not: the rest of orders, all customers, 9 changes.
        status, rows_read = self.last_run()
        self.assertEqual(status, "succeeded")
        self.assertEqual(rows_read, later_rows + 1500 + 9)

        # And it streams on from there.
        self.pg.psql("UPDATE orders SET note = 'after' WHERE id = 1")
        self.assertOk(self.run_cdc())
        self.assert_converged()

    def test_copy_killed_between_tables_does_not_copy_the_first_again(self):
        self.killed_at("after_commit@1")  # orders published, customers not started
        self.assertEqual(self.state("shop_cdc/shop_cdc", "cdc_copy"), {"tables": ["orders"]})
        orders_version = self.catalog("SELECT current_version FROM lake_tables WHERE table_name = 'orders'")[0][0]
        self.pg.psql("INSERT INTO orders VALUES (7001, 7, 'between')")
        r = self.run_cdc()
        self.assertOk(r)
        status, rows_read = self.last_run()
        self.assertEqual(rows_read, 1500 + 1)  # customers and one change, not orders again
        self.assertEqual(self.p.scalar("SELECT count(*) FROM raw.orders WHERE _change_type = 'snapshot'"), ROWS)
        # orders got only the streamed change on top of its copied version.
        versions = self.catalog("SELECT current_version FROM lake_tables WHERE table_name = 'orders'")[0][0]
        self.assertEqual(versions, orders_version + 1)
        self.assert_converged()

    def test_copy_killed_before_its_first_chunk_and_full_refresh_start_over(self):
        self.killed_at("cdc_copy_started@1")
        self.assertFalse(self.state("shop_cdc/shop_cdc", "cdc")["copied"])
        self.pg.psql("DELETE FROM orders WHERE id = 10")
        self.assertOk(self.run_cdc())
        self.assert_converged()
        self.assertEqual(self.last_run()[1], ROWS - 1 + 1500 + 1)  # the delete streamed from the consistent point
        # A copy interrupted under --full-refresh: the next fresh copy never takes the old one's chunks.
        self.killed_at("chunk_committed@1", "--full-refresh")
        first = self.state("shop_cdc/shop_cdc__copy_orders", "pending_load")["files"]
        self.killed_at("chunk_committed@1", "--full-refresh")
        second = self.state("shop_cdc/shop_cdc__copy_orders", "pending_load")["files"]
        self.assertEqual(len(second), 1)
        self.assertNotEqual(first[0]["key"], second[0]["key"])
        self.assertOk(self.run_cdc())  # resumes the second attempt
        self.assertIsNone(self.state("shop_cdc/shop_cdc__copy_orders", "pending_load"))
        self.assertEqual(self.p.scalar("SELECT count(*) FROM raw.orders WHERE _change_type = 'snapshot'"), ROWS - 1)
        self.assertEqual(self.last_run()[1], ROWS - 1 - second[0]["rows"] + 1500)
        self.assert_converged()


if __name__ == "__main__":
    import unittest
    unittest.main()
