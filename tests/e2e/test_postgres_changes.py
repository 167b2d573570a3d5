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


def change_index_state(project, scope):
    """The job state naming the change index of `scope` ("pipeline/job"), or None."""
    db = sqlite3.connect(project.path(".sluice", "catalog.db"))
    try:
        rows = db.execute("SELECT state_value FROM job_state WHERE scope = ? AND state_key = 'change_index'",
                          (scope,)).fetchall()
    finally:
        db.close()
    return json.loads(rows[0][0]) if rows else None


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
        return change_index_state(self.p, "compounds/compounds")

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
        self.p.pipeline("compounds", PIPELINE.replace("table: public.compounds\n",
                                                      "table: public.compounds\n  server_side_hash: false\n"))
        self.pg.psql("DELETE FROM public.compounds WHERE id <> 7")
        self.assertOk(self.run_job())
        self.assertEqual(self.index_state()["hash"], "md5")
        rows = self.p.query(f"SELECT id, hex(_row_hash) AS h FROM read_parquet('{self.p.path('lake', self.index_state()['key'])}')")
        # id 7: chemist NULL; compared columns in name order: chemist, registered_at, structure, weight.
        encoding = "N" + "19:2024-01-01 07:00:00" + "2:C7" + "6:10.500"
        self.assertEqual(rows, [{"id": 7, "h": hashlib.md5(encoding.encode()).hexdigest().upper()}])

    def test_server_row_hash_is_postgres_hash_record_extended_of_the_compared_columns(self):
        self.pg.psql("DELETE FROM public.compounds WHERE id <> 7")
        self.assertOk(self.run_job())
        self.assertEqual(self.index_state()["hash"], "postgres:hash_record_extended")
        rows = self.p.query(f"SELECT id, _row_hash FROM read_parquet('{self.p.path('lake', self.index_state()['key'])}')")
        # The compared columns in name order, as documented.
        want = self.pg.psql("SELECT hash_record_extended(ROW(chemist, registered_at, structure, weight), 0) "
                            "FROM public.compounds WHERE id = 7").strip()
        self.assertEqual(rows, [{"id": 7, "_row_hash": int(want)}])


class PostgresChangesPortableHashTest(PostgresChangesTest):
    """The same behaviour when sluice hashes every row itself (server_side_hash: false)."""

    def setUp(self):
        super().setUp()
        self.p.pipeline("compounds", PIPELINE.replace("table: public.compounds\n",
                                                      "table: public.compounds\n  server_side_hash: false\n"))

    def test_server_row_hash_is_postgres_hash_record_extended_of_the_compared_columns(self):
        self.skipTest("server-side hashing is off in this variant")


MULTI_KEY_PIPELINE = """\
name: readings
source:
  connection: registry
  table: lab.readings
mode: changes
primary_key: [site, taken_at]
deletes: mark
target:
  zone: raw
  table: readings
"""


class PostgresChangesServerHashTest(PostgresProjectTest):
    """Keys first: PostgreSQL hashes every row, only changed rows are fetched by key."""
    connection_name = "registry"

    def setUp(self):
        super().setUp()
        # Keys that need quoting in an array literal, a composite primary key, and columns of
        # types without a hash function of their own (json, arrays) that are hashed as text.
        self.pg.psql("""
            CREATE SCHEMA lab;
            CREATE TABLE lab.readings (site text, taken_at timestamp, value numeric(8,2), tags text[], doc json,
                                       PRIMARY KEY (site, taken_at));
            INSERT INTO lab.readings
              SELECT s, timestamp '2024-03-01' + g * interval '1 minute', g / 4.0, ARRAY['t' || g], '{"g": 1}'
              FROM generate_series(1, 50) g,
                   unnest(ARRAY['plain', 'quo"te', 'back\\slash', '{brace,comma}', 'NULL', 'sp ace', '']) s;
        """)
        self.p.pipeline("readings", MULTI_KEY_PIPELINE)

    def run_job(self, *extra):
        return self.p.sluice("run", "readings", *extra, env=self.env)

    def index_state(self):
        return change_index_state(self.p, "readings/readings")

    def last_load(self):
        rows = self.p.query("SELECT site, CAST(taken_at AS VARCHAR) AS t, _change_type AS c, CAST(value AS VARCHAR) AS v "
                            "FROM raw.readings WHERE _loaded_at = (SELECT max(_loaded_at) FROM raw.readings) "
                            "ORDER BY site, taken_at")
        return [(r["site"], r["t"], r["c"], r["v"]) for r in rows]

    def test_changed_rows_are_fetched_by_composite_keys_that_need_quoting(self):
        r = self.run_job()
        self.assertOk(r)
        self.assertIn("350 rows written", r.out)
        self.assertEqual(self.index_state()["hash"], "postgres:hash_record_extended")

        self.pg.psql("""
            UPDATE lab.readings SET value = 99 WHERE taken_at = timestamp '2024-03-01 00:05:00';
            UPDATE lab.readings SET tags = ARRAY['new'] WHERE site = 'plain' AND taken_at = timestamp '2024-03-01 00:06:00';
            UPDATE lab.readings SET doc = '{"g": 2}' WHERE site = 'NULL' AND taken_at = timestamp '2024-03-01 00:07:00';
            UPDATE lab.readings SET value = value WHERE taken_at = timestamp '2024-03-01 00:08:00';
            DELETE FROM lab.readings WHERE site = 'quo"te' AND taken_at = timestamp '2024-03-01 00:09:00';
            INSERT INTO lab.readings VALUES ('back\\slash', timestamp '2025-01-01 12:30:00.25', 1, NULL, NULL);
        """)
        r = self.run_job("--log-level", "debug")
        self.assertOk(r)
        self.assertIn("10 changed rows fetched by key", r.err)
        self.assertIn("11 rows written", r.out)
        sites = ["", "NULL", "back\\slash", "plain", "quo\"te", "sp ace", "{brace,comma}"]
        want = sorted([(s, "2024-03-01 00:05:00", "update", "99.00") for s in sites]
                      + [("plain", "2024-03-01 00:06:00", "update", "1.50"),
                         ("NULL", "2024-03-01 00:07:00", "update", "1.75"),
                         ('quo"te', "2024-03-01 00:09:00", "delete", None),
                         ("back\\slash", "2025-01-01 12:30:00.25", "insert", "1.00")])
        self.assertEqual(self.last_load(), want)
        self.assertEqual(self.index_state()["rows"], 350)

        r = self.run_job()
        self.assertOk(r)
        self.assertRegex(r.out, r"no[ _]changes")

    def test_switching_to_the_server_hash_compares_once_with_the_portable_index(self):
        portable = MULTI_KEY_PIPELINE.replace("table: lab.readings\n", "table: lab.readings\n  server_side_hash: false\n")
        self.p.pipeline("readings", portable)
        self.assertOk(self.run_job())
        self.assertEqual(self.index_state()["hash"], "md5")
        self.pg.psql("UPDATE lab.readings SET value = -1 WHERE site = 'plain' AND taken_at < timestamp '2024-03-01 00:03:00'")

        # This run reads every row, compares the portable hashes and keeps PostgreSQL's.
        self.p.pipeline("readings", MULTI_KEY_PIPELINE)
        r = self.run_job("--log-level", "debug")
        self.assertOk(r)
        self.assertNotIn("fetched by key", r.err)
        self.assertEqual([(c[0], c[2]) for c in self.last_load()], [("plain", "update"), ("plain", "update")])
        self.assertEqual(self.index_state()["hash"], "postgres:hash_record_extended")

        self.pg.psql("UPDATE lab.readings SET value = -2 WHERE site = '' AND taken_at = timestamp '2024-03-01 00:10:00'")
        r = self.run_job("--log-level", "debug")
        self.assertOk(r)
        self.assertIn("1 changed rows fetched by key", r.err)
        self.assertEqual(self.last_load(), [("", "2024-03-01 00:10:00", "update", "-2.00")])

        # Back to sluice's own hash: the index of PostgreSQL hashes cannot be compared with it.
        self.p.pipeline("readings", portable)
        r = self.run_job()
        self.assertNotEqual(r.rc, 0, repr(r))
        self.assertIn("--full-refresh", r.err)
        self.assertIn("job 'readings'", r.err)
        self.assertOk(self.run_job("--full-refresh"))
        self.assertEqual(self.index_state()["hash"], "md5")
