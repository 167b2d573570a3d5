"""A PostgreSQL table as a job's target, against a real PostgreSQL 15: values keep their types
exactly (decimals, NULLs, timestamps with and without zone, multi-line text, JSON, arrays, bytea,
uuid), append/replace/merge over several runs, a failing or killed job leaves the target as it
was, a crash between the database commit and the catalog commit loads nothing twice, unreadable
lines go to the lake's rejects table, and an incompatible existing column is refused by name."""
from pg_project import PostgresProjectTest
from sluice_e2e import FaultPoints

ORDERS_1 = """order_id,customer,amount,ordered_at,note
1,ann,10.10,2026-11-01 08:00:00,plain
2,bob,0.30,2026-11-01 09:30:00,"two
lines"
3,cid,12345678.99,2026-11-02 23:59:59,
"""
ORDERS_2 = ('order_id,customer,amount,ordered_at,note\n'
            '4,dan,5.55,2026-11-03 10:00:00,"quoted ""word"""\n')

TYPED_STEP = """\
  - sql: |
      SELECT CAST(order_id AS INTEGER) AS order_id, customer,
             CAST(CAST(amount AS VARCHAR) AS DECIMAL(12,2)) AS amount,
             CAST(ordered_at AS TIMESTAMP) AS ordered_at,
             CAST(ordered_at AS TIMESTAMP) AT TIME ZONE 'UTC' AS ordered_at_utc,
             CAST(ordered_at AS DATE) AS order_date,
             note, order_id % 2 = 0 AS even,
             [order_id, order_id * 10] AS ids,
             {'customer': customer, 'n': order_id} AS props,
             CAST(customer AS BLOB) AS raw,
             CAST('00000000-0000-0000-0000-00000000000' || CAST(order_id AS VARCHAR) AS UUID) AS uid,
             CAST(amount AS DOUBLE) / 3 AS third
      FROM input
"""


class PostgresTargetTest(PostgresProjectTest):
    connection_name = "warehouse"

    def sluice(self, *args, env=None):
        return self.p.sluice(*args, env=dict(self.env, **(env or {})))

    def orders_pipeline(self, write="append", steps=TYPED_STEP, extra=""):
        self.p.pipeline("orders", f"""\
source: {{ type: files, path: incoming/orders*.csv }}
target: {{ connection: warehouse, schema: staging, table: orders, write: {write} }}
{extra}steps:
{steps}""")

    def rows(self, sql):
        out = self.pg.psql(sql).strip()
        return [line.split("|") for line in out.splitlines()] if out else []

    def count(self, table="staging.orders"):
        return int(self.pg.psql(f"SELECT count(*) FROM {table}").strip())

    def test_types_round_trip_exactly(self):
        self.p.write("incoming/orders_1.csv", ORDERS_1)
        self.orders_pipeline()
        r = self.sluice("run", "orders")
        self.assertOk(r)
        types = dict(self.rows("SELECT column_name, data_type FROM information_schema.columns "
                               "WHERE table_schema = 'staging' AND table_name = 'orders'"))
        self.assertEqual(types["amount"], "numeric")
        self.assertEqual(types["ordered_at"], "timestamp without time zone")
        self.assertEqual(types["ordered_at_utc"], "timestamp with time zone")
        self.assertEqual(types["order_date"], "date")
        self.assertEqual(types["even"], "boolean")
        self.assertEqual(types["ids"], "ARRAY")
        self.assertEqual(types["props"], "jsonb")
        self.assertEqual(types["raw"], "bytea")
        self.assertEqual(types["uid"], "uuid")
        self.assertEqual(types["third"], "double precision")
        self.assertNotIn("_source_file", types)  # metadata columns only with add_metadata_columns: true
        self.assertEqual(self.pg.psql("SELECT format_type(atttypid, atttypmod) FROM pg_attribute "
                                      "WHERE attrelid = 'staging.orders'::regclass AND attname = 'amount'").strip(),
                         "numeric(12,2)")
        got = self.rows("SET TIME ZONE 'UTC'; SELECT order_id, amount::text, ordered_at::text, ordered_at_utc::text, "
                        "order_date::text, coalesce(replace(note, E'\\n', '/'), '<null>'), even, ids::text, props->>'customer', "
                        "encode(raw, 'escape'), uid::text FROM staging.orders ORDER BY order_id")
        self.assertEqual(got[0], ["1", "10.10", "2026-11-01 08:00:00", "2026-11-01 08:00:00+00", "2026-11-01", "plain",
                                  "f", "{1,10}", "ann", "ann", "00000000-0000-0000-0000-000000000001"])
        self.assertEqual(got[1][5], "two/lines")
        self.assertEqual(got[2][1], "12345678.99")
        self.assertEqual(got[2][5], "<null>")
        multi = self.pg.psql("SELECT note = E'two\\nlines' FROM staging.orders WHERE order_id = 2").strip()
        self.assertEqual(multi, "t")
        third = float(self.pg.psql("SELECT third FROM staging.orders WHERE order_id = 3").strip())
        self.assertAlmostEqual(third, 12345678.99 / 3, places=6)
        self.assertIn("orders → warehouse: staging.orders: 3 rows", r.err)
        run_id = r.out.split()[1]
        shown = self.sluice("runs", "show", run_id)
        self.assertOk(shown)
        self.assertRegex(shown.out, r"orders\s+succeeded\s+warehouse: staging.orders\s+3\s")

    def test_append_replace_and_merge_over_several_runs(self):
        self.p.write("incoming/orders_1.csv", ORDERS_1)
        self.orders_pipeline("append")
        self.assertOk(self.sluice("run", "orders"))
        self.assertEqual(self.count(), 3)
        self.assertOk(self.sluice("run", "orders"))  # nothing new: nothing appended
        self.assertEqual(self.count(), 3)
        self.p.write("incoming/orders_2.csv", ORDERS_2)
        self.assertOk(self.sluice("run", "orders"))
        self.assertEqual(self.count(), 4)

        # replace: the table holds exactly what the run read (the whole input, via --full-refresh).
        self.orders_pipeline("replace")
        self.assertOk(self.sluice("run", "orders", "--full-refresh"))
        self.assertEqual(self.count(), 4)
        self.assertOk(self.sluice("run", "orders", "--full-refresh"))
        self.assertEqual(self.count(), 4)

        # merge by key, with deletes applied.
        self.p.pipeline("changes", """\
source: { type: files, path: incoming/changes*.csv }
primary_key: [order_id]
deletes: apply
target: { connection: warehouse, schema: staging, table: orders, write: merge }
steps:
  - sql: "SELECT CAST(order_id AS INTEGER) AS order_id, customer, CAST(CAST(amount AS VARCHAR) AS DECIMAL(12,2)) AS amount, _change_type FROM input"
""")
        self.p.write("incoming/changes_1.csv", "order_id,customer,amount,_change_type\n"
                                                "1,ann,99.90,update\n1,ann,11.11,update\n2,bob,0,delete\n"
                                                "7,eve,7.07,insert\n")
        r = self.sluice("run", "changes")
        self.assertOk(r)
        got = dict((k, v) for k, v in self.rows("SELECT order_id, amount::text FROM staging.orders ORDER BY order_id"))
        self.assertEqual(got, {"1": "11.11", "3": "12345678.99", "4": "5.55", "7": "7.07"})
        # columns the merge does not write keep their values
        self.assertEqual(self.pg.psql("SELECT ordered_at::text FROM staging.orders WHERE order_id = 1").strip(),
                         "2026-11-01 08:00:00")
        self.assertIsNone(self.pg.psql("SELECT ordered_at FROM staging.orders WHERE order_id = 7").strip() or None)

    def test_created_or_replaced_tables_get_planner_statistics_in_the_load(self):
        def analyzed():  # pg_stats is a catalog view: rows appear only with ANALYZE's commit
            return self.count("pg_stats WHERE schemaname = 'staging' AND tablename = 'orders'") > 0

        self.p.write("incoming/orders_1.csv", ORDERS_1)
        self.orders_pipeline("append")
        self.assertOk(self.sluice("run", "orders"))  # created by this load: analyzed (analyze: auto)
        self.assertTrue(analyzed())
        self.pg.psql("DELETE FROM pg_statistic WHERE starelid = 'staging.orders'::regclass")
        self.p.write("incoming/orders_2.csv", ORDERS_2)
        self.assertOk(self.sluice("run", "orders"))  # an append to an existing table: left to autovacuum
        self.assertFalse(analyzed())

        self.orders_pipeline("replace, analyze: never")
        self.assertOk(self.sluice("run", "orders", "--full-refresh"))
        self.assertFalse(analyzed())
        self.assertEqual(self.count(), 4)
        self.orders_pipeline("replace")
        self.assertOk(self.sluice("run", "orders", "--full-refresh"))
        self.assertTrue(analyzed())

        self.orders_pipeline("append, analyze: sometimes")
        r = self.sluice("run", "orders")
        self.assertNotEqual(r.rc, 0, r)
        self.assertIn("analyze 'sometimes'", r.err)
        self.assertIn("auto, always, never", r.err)

    def test_failed_and_killed_jobs_leave_the_target_as_it_was(self):
        self.p.write("incoming/orders_1.csv", ORDERS_1)
        self.orders_pipeline("replace")
        self.assertOk(self.sluice("run", "orders"))
        before = self.rows("SELECT * FROM staging.orders ORDER BY order_id")
        self.p.write("incoming/orders_2.csv", ORDERS_2)

        # An error after the rows were copied, before the commit.
        points = FaultPoints()
        self.addCleanup(points.cleanup)
        r = self.sluice("run", "orders", "--full-refresh", env=points.env("sink_part_written:error"))
        self.assertEqual(r.rc, 1, msg=repr(r))
        self.assertEqual(self.rows("SELECT * FROM staging.orders ORDER BY order_id"), before)

        # A kill -9 while the COPY's transaction is open.
        r = self.sluice("run", "orders", "--full-refresh", env=points.env("sink_part_written:kill"))
        self.assertNotEqual(r.rc, 0, msg=repr(r))
        self.assertEqual(self.rows("SELECT * FROM staging.orders ORDER BY order_id"), before)
        self.assertEqual(self.pg.psql("SELECT count(*) FROM pg_stat_activity WHERE state = 'idle in transaction'")
                         .strip(), "0")

        # The rerun loads both files once.
        self.assertOk(self.sluice("run", "orders", "--full-refresh"))
        self.assertEqual(self.count(), 4)

    def test_crash_between_database_and_catalog_commit_loads_nothing_twice(self):
        self.p.write("incoming/orders_1.csv", ORDERS_1)
        self.orders_pipeline("append")
        points = FaultPoints()
        self.addCleanup(points.cleanup)
        r = self.sluice("run", "orders", env=points.env("sink_committed:kill"))
        self.assertNotEqual(r.rc, 0, msg=repr(r))
        self.assertEqual(self.count(), 3)  # the database committed
        r = self.sluice("run", "orders")
        self.assertOk(r)
        self.assertEqual(self.count(), 3)  # the rerun took the recorded state instead of loading again
        self.assertIn("not loaded again", r.err + r.out)
        self.p.write("incoming/orders_2.csv", ORDERS_2)
        self.assertOk(self.sluice("run", "orders"))
        self.assertEqual(self.count(), 4)

    def test_unreadable_lines_go_to_the_lake_rejects_table(self):
        self.p.write("incoming/orders_1.csv", "order_id,amount\n1,10.5\n2,oops,extra\n3,7.25\n")
        self.p.pipeline("orders", """\
source: { type: files, path: incoming/orders*.csv }
target: { connection: warehouse, schema: staging, table: orders, write: replace }
on_error: quarantine
""")
        r = self.sluice("run", "orders")
        self.assertOk(r)
        self.assertEqual(self.count(), 2)
        rejects = self.p.query("SELECT _line, _source_file FROM raw.orders__rejects")
        self.assertEqual(len(rejects), 1)
        self.assertEqual(int(rejects[0]["_line"]), 3)
        self.assertTrue(rejects[0]["_source_file"].endswith("orders_1.csv"))

    def test_clean_with_on_type_error_null_makes_bad_values_null(self):
        self.p.write("incoming/orders_1.csv", "order_id,ordered_on\n1,2026-11-01\n2,not a date\n")
        self.p.pipeline("orders", """\
source: { type: files, path: incoming/orders*.csv }
target: { connection: warehouse, schema: staging, table: orders }
steps:
  - clean: { types: { order_id: integer, ordered_on: date }, on_type_error: "null" }
""")
        self.assertOk(self.sluice("run", "orders"))
        self.assertEqual(self.rows("SELECT order_id, coalesce(ordered_on::text, '<null>') FROM staging.orders "
                                   "ORDER BY order_id"), [["1", "2026-11-01"], ["2", "<null>"]])

    def test_existing_table_gains_new_columns_and_refuses_incompatible_ones(self):
        self.pg.psql("CREATE SCHEMA staging; CREATE TABLE staging.orders (order_id integer, customer integer, "
                     "kept text DEFAULT 'x')")
        self.p.write("incoming/orders_1.csv", "order_id,customer\n1,ann\n")
        self.p.pipeline("orders", """\
source: { type: files, path: incoming/orders*.csv }
target: { connection: warehouse, schema: staging, table: orders }
""")
        r = self.sluice("run", "orders")
        self.assertEqual(r.rc, 1, msg=repr(r))
        self.assertIn("column 'customer' of staging.orders is integer in PostgreSQL", r.err + r.out)
        self.assertIn("VARCHAR", r.err + r.out)
        self.assertEqual(self.count(), 0)

        self.pg.psql("ALTER TABLE staging.orders ALTER COLUMN customer TYPE text")
        self.p.write("incoming/orders_1.csv", "order_id,customer,region\n1,ann,north\n")
        self.assertOk(self.sluice("run", "orders"))
        self.assertEqual(self.rows("SELECT order_id, customer, kept, region FROM staging.orders"),
                         [["1", "ann", "x", "north"]])

    def test_validate_checks_the_target_and_secrets_stay_out_of_messages(self):
        self.orders_pipeline("upsert")
        r = self.sluice("validate")
        self.assertEqual(r.rc, 2, msg=repr(r))
        self.assertIn("write 'upsert'", r.err + r.out)
        self.assertNotIn(self.pg.password, r.err + r.out)
        self.p.pipeline("orders", """\
source: { type: files, path: incoming/orders*.csv }
target: { connection: warehuose, table: orders }
""")
        r = self.sluice("validate")
        self.assertEqual(r.rc, 2, msg=repr(r))
        self.assertIn("did you mean 'warehouse'", r.err + r.out)


if __name__ == "__main__":
    import unittest
    unittest.main()
