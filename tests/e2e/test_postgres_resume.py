"""A full load killed after some chunks were uploaded resumes from its last completed chunk: the
next run reads only the remaining key ranges and publishes every chunk in one commit, exactly
once, and clears the pending load. A table without a key to chunk on starts over."""
import json
import os
import sqlite3

from pg_project import PostgresProjectTest

ROWS = 400_000
CHUNK = 10_000

PIPELINE = f"""\
name: big
source:
  connection: src
  table: public.big
  batch_rows: {CHUNK}
mode: full
target:
  zone: raw
  table: big
"""


class PostgresResumeTest(PostgresProjectTest):
    def setUp(self):
        super().setUp()
        # Keys with gaps, so chunks are ranges of keys rather than of row numbers.
        self.pg.psql(f"""
            CREATE TABLE public.big (id bigint PRIMARY KEY, payload text, n integer);
            INSERT INTO public.big SELECT g * 3, repeat(md5(g::text), 4), g % 1000 FROM generate_series(1, {ROWS}) g;
        """)
        self.p.pipeline("big", PIPELINE)

    def catalog(self, sql, *params):
        db = sqlite3.connect(self.p.path(".sluice", "catalog.db"), timeout=30)
        try:
            return db.execute(sql, params).fetchall()
        finally:
            db.close()

    def pending(self):
        try:
            rows = self.catalog("SELECT state_value FROM job_state WHERE scope = 'big/big' AND state_key = 'pending_load'")
        except sqlite3.OperationalError:  # the catalog is not created yet
            return None
        return json.loads(rows[0][0]) if rows else None

    def kill_after_chunks(self, chunks):
        """Runs `sluice run big` to die right after its `chunks`-th chunk is recorded as pending; returns the
        pending load."""
        killed = self.p.sluice("run", "big", env={"SLUICE_FAULTPOINT": f"chunk_committed@{chunks}:kill"})
        self.assertEqual(killed.rc, -9, repr(killed))
        pending = self.pending()
        self.assertEqual(len(pending["files"]), chunks, pending)
        return pending

    def test_killed_full_load_resumes_from_its_last_chunk_exactly_once(self):
        pending = self.kill_after_chunks(3)
        kept = sum(f["rows"] for f in pending["files"])
        self.assertGreaterEqual(kept, 3 * CHUNK)
        self.assertLess(kept, ROWS)
        # Nothing is visible: no table version references the chunks.
        self.assertEqual(self.catalog("SELECT count(*) FROM lake_tables WHERE table_name = 'big'")[0][0], 0)
        for f in pending["files"]:
            self.assertTrue(os.path.exists(self.p.path("lake", f["key"])), f["key"])

        r = self.p.sluice("run", "big")
        self.assertOk(r)
        self.assertIn("resuming the full load", r.err)
        self.assertIsNone(self.pending())
        self.assertEqual(self.p.scalar("SELECT count(*) FROM raw.big"), ROWS)
        self.assertEqual(self.p.scalar("SELECT count(DISTINCT id) FROM raw.big"), ROWS)
        self.assertEqual(self.p.scalar("SELECT min(id) FROM raw.big"), 3)
        self.assertEqual(self.p.scalar("SELECT max(id) FROM raw.big"), 3 * ROWS)
        self.assertEqual(int(self.p.scalar("SELECT sum(n) FROM raw.big")),
                         int(self.pg.psql("SELECT sum(n) FROM public.big").strip()))
        # One load date for the whole version, the interrupted run's.
        self.assertEqual(self.p.scalar("SELECT count(DISTINCT _load_date) FROM raw.big"), 1)
        # The run record says it read only what the killed run had not.
        runs = self.catalog("SELECT status, rows_read, rows_written FROM runs ORDER BY started_at_us")
        self.assertEqual(runs[0][0], "interrupted")
        self.assertEqual(runs[-1][0], "succeeded")
        self.assertEqual(runs[-1][1], ROWS - kept)
        self.assertEqual(runs[-1][2], ROWS)

        # The next full load starts from scratch and replaces the version.
        self.pg.psql("DELETE FROM public.big WHERE id <= 30")
        self.assertOk(self.p.sluice("run", "big"))
        self.assertEqual(self.p.scalar("SELECT count(*) FROM raw.big"), ROWS - 10)
        self.assertEqual(self.catalog("SELECT rows_read FROM runs ORDER BY started_at_us DESC LIMIT 1")[0][0], ROWS - 10)

    def test_a_changed_table_definition_starts_the_load_over(self):
        pending = self.kill_after_chunks(2)
        self.assertTrue(pending["files"])
        self.pg.psql("ALTER TABLE public.big ADD COLUMN extra integer DEFAULT 7")
        r = self.p.sluice("run", "big")
        self.assertOk(r)
        self.assertIn("starting over", r.err)
        self.assertIsNone(self.pending())
        self.assertEqual(self.p.scalar("SELECT count(*) FROM raw.big"), ROWS)
        self.assertEqual(self.p.scalar("SELECT count(*) FROM raw.big WHERE extra = 7"), ROWS)
        self.assertEqual(self.catalog("SELECT rows_read FROM runs ORDER BY started_at_us DESC LIMIT 1")[0][0], ROWS)

    def test_a_table_without_a_key_is_read_in_one_go(self):
        self.pg.psql("CREATE TABLE public.nokey AS SELECT * FROM public.big WHERE id <= 300")
        self.p.pipeline("big", PIPELINE.replace("public.big", "public.nokey"))
        r = self.p.sluice("run", "big", "--log-level", "info")
        self.assertOk(r)
        self.assertIn("starts over", r.err)
        self.assertIsNone(self.pending())
        self.assertEqual(self.p.scalar("SELECT count(*) FROM raw.big"), 100)


if __name__ == "__main__":
    import unittest
    unittest.main()
