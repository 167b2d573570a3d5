"""`sluice maintain vacuum`: deletes files removed from tables longer ago than --retain and
uploads no commit ever referenced (if old enough); never touches what a current version reads."""
import json
import os
import shutil
import signal
import sqlite3
import time
import unittest

from pg_project import PostgresProjectTest
from sluice_e2e import ProjectTest

PIPELINE = """\
name: orders
source: { type: files, path: incoming/orders*.csv }
target: { zone: raw, table: orders }
"""


def orders(start, count):
    return "id,amount\n" + "".join(f"{i},{i * 2}\n" for i in range(start, start + count))


class VacuumTest(ProjectTest):
    def setUp(self):
        super().setUp()
        self.p.pipeline("orders", PIPELINE)
        self.p.write("incoming/orders_1.csv", orders(0, 50))
        self.assertOk(self.p.sluice("run", "orders"))
        self.first_files = self.p.lake_files()
        self.assertTrue(self.first_files)
        # A full refresh replaces the table: version 2 no longer references version 1's files.
        self.assertOk(self.p.sluice("run", "orders", "--full-refresh"))
        self.current = [f for f in self.p.lake_files() if f not in self.first_files]
        self.assertTrue(self.current)

    def test_removed_files_stay_within_retain_and_go_after_it(self):
        kept = self.p.sluice("maintain", "vacuum")  # default --retain 7d: removed just now, kept
        self.assertOk(kept)
        self.assertIn("removed 0 objects", kept.out)
        self.assertEqual(self.p.scalar("SELECT count(*) FROM raw.orders"), 50)
        self.assertTrue(all(os.path.exists(f) for f in self.first_files))
        # Time travel to version 1 still reads its files.
        r = self.p.sluice("query", "SELECT count(*) AS n FROM raw.orders", "--as-of", "1", "--format", "csv")
        self.assertOk(r)

        dry = self.p.sluice("maintain", "vacuum", "--retain", "0s", "--dry-run")
        self.assertOk(dry)
        self.assertIn(f"would remove {len(self.first_files)} object", dry.out)
        self.assertIn("removed from its table", dry.out)
        self.assertTrue(all(os.path.exists(f) for f in self.first_files))

        size = sum(os.path.getsize(f) for f in self.first_files)
        done = self.p.sluice("maintain", "vacuum", "--retain", "0s")
        self.assertOk(done)
        self.assertIn(f"removed {len(self.first_files)} object", done.out)
        self.assertIn(f"({size} bytes)", done.out)
        self.assertFalse(any(os.path.exists(f) for f in self.first_files))
        self.assertTrue(all(os.path.exists(f) for f in self.current))
        self.assertEqual(self.p.scalar("SELECT count(*) FROM raw.orders"), 50)
        again = self.p.sluice("maintain", "vacuum", "--retain", "0s")
        self.assertOk(again)
        self.assertIn("removed 0 objects", again.out)

    def test_uncommitted_uploads_go_only_when_older_than_retain(self):
        folder = os.path.dirname(self.current[0])
        old_orphan = os.path.join(folder, "part-dead-run-00000-0.parquet")
        young_orphan = os.path.join(folder, "part-inflight-run-00000-0.parquet")
        shutil.copy(self.current[0], old_orphan)
        shutil.copy(self.current[0], young_orphan)
        ten_days_ago = time.time() - 10 * 86400
        os.utime(old_orphan, (ten_days_ago, ten_days_ago))
        # Committed files as old as the orphan stay: a current version references them.
        for f in self.current:
            os.utime(f, (ten_days_ago, ten_days_ago))
        r = self.p.sluice("maintain", "vacuum", "--retain", "7d")
        self.assertOk(r)
        self.assertIn("never committed", r.out)
        self.assertIn("removed 1 object", r.out)
        self.assertFalse(os.path.exists(old_orphan))
        self.assertTrue(os.path.exists(young_orphan))
        self.assertTrue(all(os.path.exists(f) for f in self.current))
        self.assertTrue(all(os.path.exists(f) for f in self.first_files))  # removed < 7d ago
        self.assertEqual(self.p.scalar("SELECT count(*) FROM raw.orders"), 50)

    def test_vacuum_keeps_the_uploads_of_a_run_in_flight(self):
        self.p.write("incoming/orders_2.csv", orders(50, 30))
        before = set(self.p.lake_files())
        run, points = self.start_paused("after_upload", "run", "orders")
        uploads = [f for f in self.p.lake_files() if f not in before]
        self.assertTrue(uploads)

        r = self.p.sluice("maintain", "vacuum", "--retain", "0s")
        self.assertOk(r)
        self.assertIn("1 run in flight", r.err)
        self.assertTrue(all(os.path.exists(f) for f in uploads), r.out)
        self.assertNotIn("never committed", r.out)
        # Files removed from the table before the run started are not the run's: they go.
        self.assertIn(f"removed {len(self.first_files)} object", r.out)

        points.release("after_upload")
        out, err = run.communicate(timeout=300)
        self.assertEqual(run.returncode, 0, err)
        self.assertEqual(self.p.scalar("SELECT count(*) FROM raw.orders"), 80)
        self.assertEqual(self.p.scalar("SELECT count(DISTINCT id) FROM raw.orders"), 80)

        self.assertTrue(all(os.path.exists(f) for f in uploads))
        done = self.p.sluice("maintain", "vacuum", "--retain", "0s")
        self.assertOk(done)
        self.assertNotIn("in flight", done.err)
        self.assertIn("removed 0 objects", done.out)
        self.assertEqual(self.p.scalar("SELECT count(*) FROM raw.orders"), 80)

    def test_bad_retain_is_a_usage_error(self):
        r = self.p.sluice("maintain", "vacuum", "--retain", "seven days")
        self.assertEqual(r.rc, 2, repr(r))
        self.assertIn("--retain", r.err)



class VacuumResumableLoadTest(PostgresProjectTest):
    """A full load killed after uploading chunks, vacuumed with --retain 0s, then resumed while
    another vacuum runs: every row exactly once, from the chunks the first run left."""
    ROWS = 50_000
    CHUNK = 10_000

    def setUp(self):
        super().setUp()
        self.pg.psql(f"""
            CREATE TABLE public.big (id bigint PRIMARY KEY, payload text);
            INSERT INTO public.big SELECT g, md5(g::text) FROM generate_series(1, {self.ROWS}) g;
        """)
        self.p.pipeline("big", f"""\
name: big
source:
  connection: src
  table: public.big
  batch_rows: {self.CHUNK}
mode: full
target:
  zone: raw
  table: big
""")

    def pending_chunks(self):
        db = sqlite3.connect(self.p.path(".sluice", "catalog.db"), timeout=30)
        try:
            rows = db.execute("SELECT state_value FROM job_state WHERE scope = 'big/big' "
                              "AND state_key = 'pending_load'").fetchall()
        finally:
            db.close()
        return [f["key"] for f in json.loads(rows[0][0])["files"]] if rows else []

    def test_vacuum_keeps_the_chunks_an_interrupted_full_load_resumes_from(self):
        self.assertOk(self.p.sluice("run", "big"))  # the table exists: vacuum looks into its folder
        self.pg.psql("UPDATE public.big SET payload = 'v2'")
        # The next full load is killed once every part is uploaded, just before the commit: all but
        # the last part are chunks of its pending load.
        killed = self.p.start("run", "big", env={"SLUICE_FAULTPOINT": "after_upload:kill"})
        killed.communicate(timeout=300)
        self.assertEqual(killed.returncode, -signal.SIGKILL)
        chunks = self.pending_chunks()
        self.assertGreaterEqual(len(chunks), 2)

        r = self.p.sluice("maintain", "vacuum", "--retain", "0s")
        self.assertOk(r)
        self.assertIn(f"kept {len(chunks)} chunks of interrupted full loads", r.err)
        self.assertIn("never committed", r.out)  # the killed run's last part, which no state names
        self.assertTrue(all(os.path.exists(self.p.path("lake", k)) for k in chunks), r.out)

        # The resumed load has fetched the chunks and uploaded the rest when vacuum runs again.
        resumed, points = self.start_paused("after_upload", "run", "big", spec="after_upload@1:pause")
        again = self.p.sluice("maintain", "vacuum", "--retain", "0s")
        self.assertOk(again)
        self.assertIn("removed 0 objects", again.out)
        points.release("after_upload")
        out, err = resumed.communicate(timeout=300)
        self.assertEqual(resumed.returncode, 0, err)
        self.assertIn("resuming the full load", err)
        self.assertEqual(self.pending_chunks(), [])
        self.assertEqual(self.p.scalar("SELECT count(*) FROM raw.big"), self.ROWS)
        self.assertEqual(self.p.scalar("SELECT count(DISTINCT id) FROM raw.big"), self.ROWS)
        self.assertEqual(self.p.scalar("SELECT count(*) FROM raw.big WHERE payload = 'v2'"), self.ROWS)


if __name__ == "__main__":
    unittest.main()
