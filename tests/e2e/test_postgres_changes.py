"""mode: changes against a real PostgreSQL 15: only inserted, updated and (with deletes: mark)
deleted rows land in the lake, over several runs; "no changes" commits nothing; the key → hash
index advances only with the data; a failed run leaves everything as it was and the rerun loads
exactly what was missing."""
import hashlib
import json
import os
import sqlite3

from sluice_e2e import read_parquet_independently

from pg_project import PostgresProjectTest

PIPELINE = """\
name: compounds
triggers:
  - schedule: "0 2 * * *"
source:
  connection: registry                # or inline: type/url/password
  table: public.compounds
mode: changes                         # full | incremental | window | changes | cdc
primary_key: [id]
deletes: mark                         # ignore (default) | mark (_change_type = delete)
target:
  zone: raw
  table: compounds                    # → raw/registry/compounds/original/incremental/_load_date=…/
"""


class PostgresChangesTest(PostgresProjectTest):
    connection_name = "registry"

    def setUp(self):
        super().setUp()
        self.pg.psql("""
            CREATE TABLE public.compounds (id integer, structure text, weight numeric(10,3),
                                           registered_at timestamp, chemist text);
            INSERT INTO public.compounds
              SELECT g, 'C' || g, g * 1.5, timestamp '2024-01-01' + g * interval '1 hour',
                     CASE WHEN g % 7 = 0 THEN NULL ELSE 'chemist ' || (g % 3) END
              FROM generate_series(1, 200) g;
        """)
        self.p.pipeline("compounds", PIPELINE)

    def run_job(self, *extra):
        return self.p.sluice("run", "compounds", *extra, env=self.env)

    def index_state(self):
        db = sqlite3.connect(self.p.path(".sluice", "catalog.db"))
        try:
            rows = db.execute("SELECT state_value FROM job_state WHERE scope = 'compounds/compounds' "
                              "AND state_key = 'change_index'").fetchall()
        finally:
            db.close()
        return json.loads(rows[0][0]) if rows else None

    def versions(self):
        r = self.p.sluice("catalog", "history", "raw.compounds")
        self.assertOk(r)
        return [line for line in r.out.splitlines()[1:] if line.strip() and line.split()[0].isdigit()]

    def changes_of_last_load(self):
        rows = self.p.query("SELECT id, _change_type, structure FROM raw.compounds "
                            "WHERE _loaded_at = (SELECT max(_loaded_at) FROM raw.compounds) ORDER BY id")
        return [(r["id"], r["_change_type"], r["structure"]) for r in rows]

    def test_inserts_updates_deletes_over_several_runs(self):
        r = self.run_job()
        self.assertOk(r)
        self.assertIn("200 rows written", r.out)
        self.assertEqual(self.p.scalar("SELECT count(*) FROM raw.compounds WHERE _change_type = 'insert'"), 200)
        files = self.p.lake_files("raw/**/*.parquet")
        self.assertTrue(files)
        for f in files:
            self.assertIn("raw/registry/compounds/original/incremental/_load_date=", f)
        independent = read_parquet_independently(files)
        self.assertIn("_change_type", independent["columns"])
        self.assertEqual(len(independent["rows"]), 200)
        first_index = self.index_state()
        self.assertEqual(first_index["rows"], 200)
        self.assertTrue(os.path.exists(self.p.path("lake", first_index["key"])))

        # Unchanged source: "no changes", nothing committed, the index stays.
        r = self.run_job()
        self.assertOk(r)
        self.assertRegex(r.out, r"no[ _]changes")
        self.assertEqual(len(self.versions()), 1)
        self.assertEqual(self.index_state(), first_index)

        # 3 updates (one to NULL, one from NULL), 2 inserts, 2 deletes, and an update that writes
        # the same values (not a change).
        self.pg.psql("""
            UPDATE public.compounds SET structure = 'CC' || id WHERE id IN (1, 2);
            UPDATE public.compounds SET chemist = 'someone' WHERE id = 7;
            UPDATE public.compounds SET structure = structure WHERE id = 3;
            UPDATE public.compounds SET weight = NULL WHERE id = 4;
            INSERT INTO public.compounds VALUES (201, 'N', 1, now(), 'x'), (202, NULL, NULL, NULL, NULL);
            DELETE FROM public.compounds WHERE id IN (10, 11);
        """)
        r = self.run_job()
        self.assertOk(r)
        self.assertIn("8 rows written", r.out)
        got = self.changes_of_last_load()
        self.assertEqual(got, [(1, "update", "CC1"), (2, "update", "CC2"), (4, "update", "C4"),
                               (7, "update", "C7"), (10, "delete", None), (11, "delete", None),
                               (201, "insert", "N"), (202, "insert", None)])
        second_index = self.index_state()
        self.assertEqual(second_index["rows"], 200)
        self.assertNotEqual(second_index["key"], first_index["key"])
        self.assertFalse(os.path.exists(self.p.path("lake", first_index["key"])), "superseded index removed")
        self.assertEqual(len(self.versions()), 2)

        # A deleted key that comes back is an insert again; a deletion is reported once.
        self.pg.psql("INSERT INTO public.compounds VALUES (10, 'back', 2, NULL, NULL)")
        r = self.run_job()
        self.assertOk(r)
        self.assertEqual(self.changes_of_last_load(), [(10, "insert", "back")])

        # The latest state of every key, rebuilt from the lake, equals the source.
        latest = self.p.query("""
            SELECT id, structure, weight FROM (
              SELECT *, row_number() OVER (PARTITION BY id ORDER BY _loaded_at DESC) AS rn FROM raw.compounds)
            WHERE rn = 1 AND _change_type <> 'delete' ORDER BY id""")
        source = self.pg.psql("SELECT id, coalesce(structure, '~'), coalesce(weight::text, '~') FROM public.compounds "
                              "ORDER BY id")
        lake_rows = [f"{r['id']}|{r['structure'] or '~'}|{'~' if r['weight'] is None else '%.3f' % float(r['weight'])}"
                     for r in latest]
        self.assertEqual(lake_rows, [line.strip() for line in source.splitlines() if line.strip()])

    def test_failed_run_advances_nothing_and_rerun_loads_exactly_the_changes(self):
        self.assertOk(self.run_job())
        index = self.index_state()
        self.pg.psql("""
            UPDATE public.compounds SET structure = 'changed' WHERE id = 5;
            INSERT INTO public.compounds VALUES (300, 'x', 1, NULL, NULL), (300, 'dup', 1, NULL, NULL);
        """)
        r = self.run_job()
        self.assertNotEqual(r.rc, 0, repr(r))
        self.assertIn("more than once", r.err)
        self.assertIn("job 'compounds'", r.err)
        self.assertEqual(self.index_state(), index)
        self.assertEqual(len(self.versions()), 1)
        self.assertEqual(self.p.scalar("SELECT count(*) FROM raw.compounds"), 200)

        self.pg.psql("DELETE FROM public.compounds WHERE structure = 'dup'")
        r = self.run_job()
        self.assertOk(r)
        self.assertEqual(self.changes_of_last_load(), [(5, "update", "changed"), (300, "insert", "x")])
        self.assertEqual(self.p.scalar("SELECT count(*) FROM raw.compounds"), 202)

    def test_full_refresh_rebuilds_the_index_and_replaces_the_table(self):
        self.assertOk(self.run_job())
        self.pg.psql("DELETE FROM public.compounds WHERE id > 100")
        r = self.run_job("--full-refresh")
        self.assertOk(r)
        self.assertEqual(self.p.scalar("SELECT count(*) FROM raw.compounds"), 100)
        self.assertEqual(self.p.scalar("SELECT count(*) FROM raw.compounds WHERE _change_type = 'insert'"), 100)
        self.assertEqual(self.index_state()["rows"], 100)

    def test_missing_primary_key_is_a_config_error(self):
        self.p.pipeline("compounds", PIPELINE.replace("primary_key: [id]\n", ""))
        r = self.run_job()
        self.assertNotEqual(r.rc, 0, repr(r))
        self.assertIn("primary_key", r.err)

    def test_row_hash_is_md5_of_the_documented_encoding(self):
        self.pg.psql("DELETE FROM public.compounds WHERE id <> 7")
        self.assertOk(self.run_job())
        rows = self.p.query(f"SELECT id, hex(_row_hash) AS h FROM read_parquet('{self.p.path('lake', self.index_state()['key'])}')")
        # id 7: chemist NULL; compared columns in name order: chemist, registered_at, structure, weight.
        encoding = "N" + "19:2024-01-01 07:00:00" + "2:C7" + "6:10.500"
        self.assertEqual(rows, [{"id": 7, "h": hashlib.md5(encoding.encode()).hexdigest().upper()}])
