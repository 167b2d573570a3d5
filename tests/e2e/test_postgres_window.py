"""mode: window against a real PostgreSQL 15: each run reads its window, then the window rotates
in the same commit; a window not over yet is not read; a failed run leaves the window; reads
over num_partitions concurrent connections in one snapshot equal a single read."""
import json
import os
import sqlite3

from pg_project import PostgresProjectTest

PIPELINE = """\
name: deposits
source:
  connection: bank
  table: public.deposits
mode: window
window:
  column: shipmt_date_tstmp
  start: "2018-11-04 00:00:00"        # first window; afterwards the stored window is used
  stop: "2018-11-05 00:00:00"
  step: 1 day                          # rotation after each successful run
partitioning:                          # parallel reads inside one consistent snapshot
  column: quarter
  lower_bound: 1
  upper_bound: 1000
  num_partitions: 10
target:
  zone: raw
  table: deposits
"""


class PostgresWindowTest(PostgresProjectTest):
    connection_name = "bank"

    def setUp(self):
        super().setUp()
        # 3 days of deposits, one every 5 minutes; quarter spreads over 1..1200 with some NULLs.
        self.pg.psql("""
            CREATE TABLE public.deposits (id integer PRIMARY KEY, account_number text, amount numeric(12,2),
                                          quarter integer, shipmt_date_tstmp timestamp);
            INSERT INTO public.deposits
              SELECT g, 'ACC' || g, g * 0.5, CASE WHEN g % 50 = 0 THEN NULL ELSE (g * 7) % 1200 END,
                     timestamp '2018-11-03 00:00:00' + g * interval '5 minutes'
              FROM generate_series(1, 4 * 288) g;
        """)
        self.p.pipeline("deposits", PIPELINE)

    def run_job(self, name="deposits"):
        return self.p.sluice("run", name, env=self.env)

    def state(self, job="deposits"):
        db = sqlite3.connect(self.p.path(".sluice", "catalog.db"))
        try:
            rows = db.execute("SELECT state_value FROM job_state WHERE scope = ? AND state_key = 'source'",
                              (f"{job}/{job}",)).fetchall()
        finally:
            db.close()
        return json.loads(rows[0][0]) if rows else None

    def test_window_rotates_after_each_run_and_partitions_equal_a_single_read(self):
        r = self.run_job()
        self.assertOk(r)
        self.assertIn("288 rows written", r.out)
        st = self.state()
        self.assertEqual((st["window_start"], st["window_stop"]), ("2018-11-05 00:00:00", "2018-11-06 00:00:00"))
        self.assertEqual(st["window_history"][-1]["start"], "2018-11-04 00:00:00")
        self.assertEqual(st["window_history"][-1]["rows"], 288)
        self.assertEqual(st["window_history"][-1]["partitions"], 10)
        self.assertEqual(self.p.scalar("SELECT count(*) FROM raw.deposits WHERE shipmt_date_tstmp < '2018-11-04' "
                                       "OR shipmt_date_tstmp >= '2018-11-05'"), 0)

        # Second run: the next day, appended; ids are exactly those of the two days, once each.
        self.assertOk(self.run_job())
        self.assertEqual(self.state()["window_start"], "2018-11-06 00:00:00")
        ids = [r["id"] for r in self.p.query("SELECT id FROM raw.deposits ORDER BY id")]
        expected = [int(x) for x in self.pg.psql(
            "SELECT id FROM public.deposits WHERE shipmt_date_tstmp >= '2018-11-04' "
            "AND shipmt_date_tstmp < '2018-11-06' ORDER BY id").split()]
        self.assertEqual(ids, expected)

        # The same window read once with a single connection gives the same rows.
        self.p.pipeline("single", PIPELINE.replace("name: deposits", "name: single")
                        .replace("num_partitions: 10", "num_partitions: 1").replace("table: deposits", "table: single"))
        self.assertOk(self.run_job("single"))
        self.assertEqual(self.p.scalar("SELECT count(*) FROM raw.single"), 288)
        diff = self.p.scalar("""SELECT count(*) FROM (
            (SELECT id, account_number, amount, quarter FROM raw.single
             EXCEPT SELECT id, account_number, amount, quarter FROM raw.deposits WHERE shipmt_date_tstmp < '2018-11-05')
            UNION ALL
            (SELECT id, account_number, amount, quarter FROM raw.deposits WHERE shipmt_date_tstmp < '2018-11-05'
             EXCEPT SELECT id, account_number, amount, quarter FROM raw.single))""")
        self.assertEqual(diff, 0)

    def test_failed_run_keeps_the_window_and_open_window_is_not_read(self):
        self.assertOk(self.run_job())
        window = self.state()
        self.pg.psql("ALTER TABLE public.deposits RENAME TO deposits_moved")
        r = self.run_job()
        self.assertNotEqual(r.rc, 0, repr(r))
        self.assertIn("deposits", r.err)
        self.assertEqual(self.state(), window)
        self.pg.psql("ALTER TABLE public.deposits_moved RENAME TO deposits")
        self.assertOk(self.run_job())
        self.assertEqual(self.state()["window_start"], "2018-11-06 00:00:00")
        self.assertEqual(self.p.scalar("SELECT count(*) FROM raw.deposits"), 2 * 288)

        # A closed window without rows commits an empty version and moves on (it is not retried forever).
        self.p.pipeline("empty", PIPELINE.replace("name: deposits", "name: empty")
                        .replace("2018-11-04 00:00:00", "2018-12-01 00:00:00")
                        .replace("2018-11-05 00:00:00", "2018-12-02 00:00:00").replace("table: deposits", "table: e"))
        r = self.run_job("empty")
        self.assertOk(r)
        self.assertIn("0 rows written", r.out)
        self.assertEqual(self.state("empty")["window_start"], "2018-12-02 00:00:00")
        self.assertEqual(self.state("empty")["window_history"][-1]["rows"], 0)

        # A window that has not ended yet is left for later.
        self.p.pipeline("future", PIPELINE.replace("name: deposits", "name: future")
                        .replace("2018-11-04 00:00:00", "2999-01-01 00:00:00")
                        .replace("2018-11-05 00:00:00", "2999-01-02 00:00:00").replace("table: deposits", "table: f"))
        r = self.run_job("future")
        self.assertOk(r)
        self.assertRegex(r.out, r"no[ _]changes")
        self.assertIsNone(self.state("future"))

    def test_config_example_with_mask_writes_a_masked_variant_beside_the_original(self):
        import hashlib
        import hmac
        self.pg.psql("ALTER TABLE public.deposits ADD COLUMN customer_name text; "
                     "UPDATE public.deposits SET customer_name = 'Customer ' || id WHERE id % 3 <> 0;")
        # The CONFIG.md example exactly as written, mask: included.
        masked_pipeline = PIPELINE.replace("target:", "mask:                                  # also write …/masked/… "
                                           "with these columns protected\n  account_number: hash\n"
                                           "  customer_name: redact\ntarget:")
        self.p.pipeline("deposits", masked_pipeline)
        r = self.run_job()
        self.assertNotEqual(r.rc, 0, repr(r))
        self.assertIn("masking:", r.err)  # hash needs a key, and the message says where to set it
        self.assertEqual(self.p.lake_files(), [])

        key = "e2e-mask-key-0123456789"
        with open(self.p.path("sluice.yaml")) as f:
            project = f.read()
        self.p.write("sluice.yaml", project + "masking:\n  key: ${env:SLUICE_E2E_MASK_KEY}\n")
        self.env["SLUICE_E2E_MASK_KEY"] = key
        os.environ["SLUICE_E2E_MASK_KEY"] = key
        self.addCleanup(os.environ.pop, "SLUICE_E2E_MASK_KEY", None)
        r = self.run_job()
        self.assertOk(r)
        self.assertNotIn(key, r.out + r.err)
        original = {row["id"]: row for row in self.p.query(
            "SELECT id, account_number, customer_name FROM raw.deposits")}
        masked = {row["id"]: row for row in self.p.query(
            "SELECT id, account_number, customer_name, amount FROM raw.deposits__masked")}
        self.assertEqual(len(original), 288)
        self.assertEqual(sorted(masked), sorted(original))
        for id_, row in original.items():
            want = hmac.new(key.encode(), row["account_number"].encode(), hashlib.sha256).hexdigest()
            self.assertEqual(masked[id_]["account_number"], want)
            self.assertEqual(masked[id_]["customer_name"], None if row["customer_name"] is None else "***")
        files = self.p.lake_files()
        self.assertTrue(any("/original/" in f for f in files), files)
        self.assertTrue(any("/masked/" in f for f in files), files)
        for f in files:
            if "/masked/" in f:
                self.assertIn("raw/bank/deposits/masked/incremental/_load_date=", f)

    def test_bad_window_is_a_config_error(self):
        self.p.pipeline("deposits", PIPELINE.replace("step: 1 day", "stepp: 1 day"))
        r = self.run_job()
        self.assertNotEqual(r.rc, 0, repr(r))
        self.assertIn("did you mean 'step'", r.err)
