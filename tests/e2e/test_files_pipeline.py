"""Files → raw zone → catalog → SQL, driven through the real binary and checked by query and by an
independent Parquet reader."""
import fcntl
import gzip
import json
import os
import shutil
import subprocess
import unittest
import zipfile

from sluice_e2e import Project, ProjectTest, read_parquet_independently, SLUICE

BIRDS_PIPELINE = """\
name: birdstrikes
source:
  type: files
  path: incoming/birdstrikes*.csv     # glob; .gz and .zip are read transparently
  format: csv                         # csv | json | parquet; omitted = from extension
target:
  zone: raw
  table: birdstrikes
on_error: quarantine                  # fail (default) | quarantine → raw.birdstrikes__rejects
"""


def csv_rows(start, count):
    lines = ["id,name,amount,seen_at"]
    for i in range(start, start + count):
        lines.append(f'{i},"name {i}, the {i % 7}th",{i * 1.25:.2f},2024-01-{1 + i % 28:02d} 10:00:00')
    return "\n".join(lines) + "\n"


class InitDemoTest(ProjectTest):
    def test_init_project_runs_end_to_end(self):
        demo = os.path.join(self.p.root, "demo")
        r = subprocess.run([SLUICE, "init", demo], capture_output=True, text=True)
        self.assertEqual(r.returncode, 0, r.stderr)
        p = Project.__new__(Project)
        p.root = demo
        run = p.sluice("run", "birdstrikes")
        self.assertEqual(run.rc, 0, repr(run))
        self.assertIn("succeeded", run.out)
        self.assertEqual(p.scalar("SELECT count(*) FROM raw.birdstrikes"), 8000)
        rejects = p.query("SELECT _source_file, _line, _reason FROM raw.birdstrikes__rejects")
        self.assertEqual(len(rejects), 1)
        self.assertEqual(rejects[0]["_source_file"], "incoming/birdstrikes_2024.csv")
        self.assertEqual(rejects[0]["_line"], 2502)  # header + 2500 rows, then the truncated line
        # The .gz file was read transparently and each row knows its file.
        files = p.query("SELECT _source_file, count(*) AS n FROM raw.birdstrikes GROUP BY 1 ORDER BY 1")
        self.assertEqual(files, [{"_source_file": "incoming/birdstrikes_2024.csv", "n": 5000},
                                 {"_source_file": "incoming/birdstrikes_2025.csv.gz", "n": 3000}])
        again = p.sluice("run", "birdstrikes")
        self.assertEqual(again.rc, 0, repr(again))
        self.assertIn("no changes", again.out + again.err)
        self.assertEqual(p.scalar("SELECT count(*) FROM raw.birdstrikes"), 8000)

    def test_init_refuses_to_overwrite(self):
        demo = os.path.join(self.p.root, "demo")
        self.assertEqual(subprocess.run([SLUICE, "init", demo], capture_output=True).returncode, 0)
        r = subprocess.run([SLUICE, "init", demo], capture_output=True, text=True)
        self.assertNotEqual(r.returncode, 0)
        self.assertIn("--force", r.stderr)


class FilesToRawTest(ProjectTest):
    def setUp(self):
        super().setUp()
        self.p.pipeline("birdstrikes", BIRDS_PIPELINE)

    def test_layout_catalog_and_independent_reader_agree(self):
        self.p.write("incoming/birdstrikes_a.csv", csv_rows(1, 500))
        self.assertOk(self.p.sluice("run", "birdstrikes"))
        files = self.p.lake_files()
        self.assertTrue(files)
        for f in files:
            rel = os.path.relpath(f, self.p.path("lake"))
            self.assertRegex(rel, r"^raw/files/birdstrikes/original/incremental/_load_date=\d{4}-\d\d-\d\d/part-.*\.parquet$")
        independent = read_parquet_independently(files)
        self.assertEqual(len(independent["rows"]), 500)
        self.assertIn("_source_file", independent["columns"])
        self.assertIn("_loaded_at", independent["columns"])
        # Partition columns live in paths, not in files.
        self.assertNotIn("_load_date", independent["columns"])
        ids = sorted(int(r["id"]) for r in independent["rows"])
        self.assertEqual(ids, list(range(1, 501)))
        by_query = self.p.query("SELECT id, name, amount FROM raw.birdstrikes WHERE id = 7")
        row = [r for r in independent["rows"] if int(r["id"]) == 7][0]
        self.assertEqual(by_query[0]["name"], row["name"])
        self.assertEqual(by_query[0]["name"], "name 7, the 0th")
        self.assertAlmostEqual(float(by_query[0]["amount"]), 8.75)
        show = self.p.sluice("catalog", "show", "raw.birdstrikes")
        self.assertOk(show)
        self.assertIn("_load_date", show.out)
        self.assertIn("seen_at", show.out)

    def test_only_new_files_load_and_full_refresh_replaces(self):
        self.p.write("incoming/birdstrikes_a.csv", csv_rows(1, 100))
        self.assertOk(self.p.sluice("run", "birdstrikes"))
        self.p.write("incoming/birdstrikes_b.csv", csv_rows(101, 50))
        r = self.p.sluice("run", "birdstrikes")
        self.assertOk(r)
        self.assertIn("50 rows written", r.out)
        self.assertEqual(self.p.scalar("SELECT count(*) FROM raw.birdstrikes"), 150)
        none = self.p.sluice("run", "birdstrikes")
        self.assertOk(none)
        self.assertIn("no_changes", none.out)
        # A file rewritten in place (a new size, whatever the clock's resolution) is loaded again.
        self.p.write("incoming/birdstrikes_b.csv", csv_rows(101, 60))
        self.assertOk(self.p.sluice("run", "birdstrikes"))
        self.assertEqual(self.p.scalar("SELECT count(*) FROM raw.birdstrikes"), 210)
        full = self.p.sluice("run", "birdstrikes", "--full-refresh")
        self.assertOk(full)
        self.assertEqual(self.p.scalar("SELECT count(*) FROM raw.birdstrikes"), 160)
        history = self.p.sluice("catalog", "history", "raw.birdstrikes")
        self.assertOk(history)
        self.assertIn("overwrite", history.out)
        # Time travel: version 1 still holds the first 100 rows.
        r = self.p.sluice("query", "SELECT count(*) AS n FROM raw.birdstrikes", "--as-of", "1", "--format", "csv")
        self.assertOk(r)
        self.assertEqual(r.out.splitlines(), ["n", "100"])

    def test_malformed_file_fails_with_file_and_line_and_publishes_nothing(self):
        self.p.pipeline("strict", BIRDS_PIPELINE.replace("on_error: quarantine", "on_error: fail")
                        .replace("name: birdstrikes", "name: strict"))
        self.p.write("incoming/birdstrikes_a.csv", csv_rows(1, 10) + "11,short row\n" + csv_rows(12, 5).split("\n", 1)[1])
        r = self.p.sluice("run", "strict")
        self.assertEqual(r.rc, 1, repr(r))
        self.assertIn("incoming/birdstrikes_a.csv:12", r.err)
        self.assertIn("on_error: quarantine", r.err)
        tables = self.p.sluice("catalog", "list")
        self.assertNotIn("raw.birdstrikes", tables.out)
        self.assertEqual(self.p.lake_files(), [])
        runs = self.p.sluice("runs")
        self.assertIn("failed", runs.out)

    def test_quarantine_keeps_good_rows_and_reports_bad_ones(self):
        body = csv_rows(1, 20).splitlines()
        body.insert(5, "5x,broken")                                  # too few columns: line 6
        body.insert(9, "99,a,1.0,2024-01-01 10:00:00,surplus")       # too many columns: line 10
        self.p.write("incoming/birdstrikes_a.csv", "\n".join(body) + "\n")
        r = self.p.sluice("run", "birdstrikes")
        self.assertOk(r)
        self.assertIn("2 rejected", r.out)
        bad = self.p.query("SELECT _source_file, _line, _raw_line, _reason FROM raw.birdstrikes__rejects ORDER BY _line")
        self.assertEqual([(b["_line"], b["_raw_line"]) for b in bad],
                         [(6, "5x,broken"), (10, "99,a,1.0,2024-01-01 10:00:00,surplus")])
        self.assertTrue(all(b["_source_file"] == "incoming/birdstrikes_a.csv" and b["_reason"] for b in bad))
        # No silent loss: every good line is loaded.
        ids = [r["id"] for r in self.p.query("SELECT id FROM raw.birdstrikes ORDER BY id")]
        self.assertEqual(ids, list(range(1, 21)))

    def test_pinned_types_reject_bad_values_with_column(self):
        self.p.pipeline("typed", """\
            name: typed
            source:
              type: files
              path: incoming/typed.csv
              columns: { amount: 'DECIMAL(12,2)', id: BIGINT }
            target: { zone: raw, table: typed }
            on_error: quarantine
            """)
        self.p.write("incoming/typed.csv", "id,amount\n1,10.50\n2,oops\n3,\n")
        self.assertOk(self.p.sluice("run", "typed"))
        self.assertEqual(self.p.query("SELECT id, amount FROM raw.typed ORDER BY id"),
                         [{"id": 1, "amount": 10.5}, {"id": 3, "amount": None}])
        bad = self.p.query("SELECT _line, _column FROM raw.typed__rejects")
        self.assertEqual(bad, [{"_line": 3, "_column": "amount"}])
        types = self.p.query("SELECT column_name, data_type FROM information_schema.columns "
                             "WHERE table_schema = 'raw' AND table_name = 'typed' AND column_name = 'amount'")
        self.assertEqual(types[0]["data_type"], "DECIMAL(12,2)")


class FormatsTest(ProjectTest):
    def run_pipeline(self, path, fmt=None, expect_rows=None, extra=""):
        text = f"name: t\nsource:\n  type: files\n  path: {path}\n"
        if fmt:
            text += f"  format: {fmt}\n"
        text += extra + "target: { zone: raw, table: t }\n"
        self.p.pipeline("t", text)
        r = self.p.sluice("run", "t")
        self.assertOk(r)
        if expect_rows is not None:
            self.assertEqual(self.p.scalar("SELECT count(*) FROM raw.t"), expect_rows)
        return r

    def test_json_lines_and_arrays(self):
        self.p.write("incoming/a.jsonl", "\n".join(json.dumps({"id": i, "tags": ["x"] * (i % 3), "nested": {"k": i}})
                                                 for i in range(40)) + "\n")
        self.p.write("incoming/b.json", json.dumps([{"id": 100 + i, "nested": {"k": i}} for i in range(10)]))
        self.run_pipeline("incoming/*.json*", fmt="json", expect_rows=50)
        self.assertEqual(self.p.scalar("SELECT max(nested.k) FROM raw.t"), 39)

    def test_parquet_input_and_zip_and_gzip(self):
        # Parquet input produced by sluice itself from a CSV, then read back as a source.
        self.p.write("incoming/src.csv", csv_rows(1, 30))
        self.run_pipeline("incoming/src.csv", expect_rows=30)
        parquet = self.p.lake_files()[0]
        os.makedirs(self.p.path("drop"), exist_ok=True)
        shutil.copy(parquet, self.p.path("drop", "data.parquet"))
        self.p.pipeline("pq", "name: pq\nsource: { type: files, path: drop/*.parquet }\ntarget: { zone: raw, table: pq }\n")
        self.assertOk(self.p.sluice("run", "pq"))
        self.assertEqual(self.p.scalar("SELECT count(*) FROM raw.pq"), 30)
        # The copied file carried its own _source_file; the new one names where it came from now.
        self.assertEqual(self.p.scalar("SELECT any_value(_source_file) FROM raw.pq"), "drop/data.parquet")

        with zipfile.ZipFile(self.p.path("incoming", "bundle.zip"), "w", zipfile.ZIP_DEFLATED) as z:
            z.writestr("one.csv", csv_rows(1, 7))
            z.writestr("sub/two.csv", csv_rows(8, 3))
        with gzip.open(self.p.path("incoming", "three.csv.gz"), "wt") as g:
            g.write(csv_rows(11, 5))
        self.p.pipeline("z", "name: z\nsource: { type: files, path: [incoming/bundle.zip, incoming/three.csv.gz] }\n"
                        "target: { zone: raw, table: z }\n")
        self.assertOk(self.p.sluice("run", "z"))
        rows = self.p.query("SELECT _source_file, count(*) AS n FROM raw.z GROUP BY 1 ORDER BY 1")
        self.assertEqual(rows, [{"_source_file": "incoming/bundle.zip/one.csv", "n": 7},
                                {"_source_file": "incoming/bundle.zip/sub/two.csv", "n": 3},
                                {"_source_file": "incoming/three.csv.gz", "n": 5}])

    def test_files_with_different_columns_align_by_name(self):
        self.p.write("incoming/a.csv", "id,name\n1,a\n")
        self.p.write("incoming/b.csv", "name,id,extra\nb,2,x\n")
        self.run_pipeline("incoming/*.csv", expect_rows=2, extra="  union_by_name: true\n")
        self.assertEqual(self.p.query("SELECT id, name, extra FROM raw.t ORDER BY id"),
                         [{"id": 1, "name": "a", "extra": None}, {"id": 2, "name": "b", "extra": "x"}])

    def test_semicolon_csv_with_custom_nulls_and_dates(self):
        self.p.write("incoming/eu.csv", "id;day;value\n1;31/12/2024;n/a\n2;01/01/2025;3\n")
        self.run_pipeline("incoming/eu.csv", expect_rows=2,
                          extra="  delimiter: ';'\n  null_values: ['n/a']\n  date_format: '%d/%m/%Y'\n")
        self.assertEqual(self.p.query("SELECT id, day::VARCHAR AS day, value FROM raw.t ORDER BY id"),
                         [{"id": 1, "day": "2024-12-31", "value": None}, {"id": 2, "day": "2025-01-01", "value": 3}])


class ConfigErrorsTest(ProjectTest):
    def test_typo_gives_file_line_and_hint_and_exit_2(self):
        self.p.pipeline("birds", "name: birds\nsource:\n  type: files\n  path: x.csv\ntargt:\n  zone: raw\n  table: b\n")
        r = self.p.sluice("validate")
        self.assertEqual(r.rc, 2, repr(r))
        self.assertIn("pipelines/birds.yaml:5", r.err)
        self.assertIn("did you mean 'target'", r.err)

    def test_unknown_source_option_is_named(self):
        self.p.pipeline("birds", "name: birds\nsource:\n  type: files\n  path: x.csv\n  delimeter: ';'\n"
                        "target: { zone: raw, table: b }\n")
        r = self.p.sluice("run", "birds")
        self.assertEqual(r.rc, 2, repr(r))
        self.assertIn("delimeter", r.err)
        self.assertIn("did you mean 'delimiter'", r.err)

    def test_missing_env_reference_names_the_variable(self):
        self.p.write("sluice.yaml", "project: t\nlake: ./lake\ns3:\n  secret_access_key: ${env:SLUICE_E2E_UNSET_VAR}\n")
        r = self.p.sluice("catalog", "list")
        self.assertEqual(r.rc, 2, repr(r))
        self.assertIn("SLUICE_E2E_UNSET_VAR", r.err)
        self.assertIn("sluice.yaml:4", r.err)

    def test_secret_values_never_printed(self):
        self.p.write("sluice.yaml", "project: t\nlake: ./lake\ns3:\n  secret_access_key: ${env:E2E_SECRET}\n")
        self.p.pipeline("p", "name: p\nsource: { type: files, path: 'incoming/${env:E2E_SECRET}.csv' }\n"
                        "target: { zone: raw, table: p }\n")
        secret = "s3cr3t-value-that-must-not-leak"
        self.p.write(f"incoming/{secret}.csv", "a\n1\n")
        r = self.p.sluice("run", "p", "--log-level", "debug", env={"E2E_SECRET": secret})
        self.assertOk(r)
        self.assertNotIn(secret, r.out + r.err)
        runs = self.p.sluice("runs", env={"E2E_SECRET": secret})
        self.assertNotIn(secret, runs.out)
        for log in os.listdir(self.p.path(".sluice", "runs")):
            with open(self.p.path(".sluice", "runs", log)) as f:
                self.assertNotIn(secret, f.read())

    def test_unknown_pipeline_and_usage_errors(self):
        self.p.pipeline("birds", BIRDS_PIPELINE)
        r = self.p.sluice("run", "birdstrike")
        self.assertEqual(r.rc, 2)
        self.assertIn("did you mean 'birdstrikes'", r.err)
        self.assertEqual(self.p.sluice("query").rc, 2)
        bad_sql = self.p.sluice("query", "SELEC 1")
        self.assertEqual(bad_sql.rc, 2)
        self.assertIn("syntax error", bad_sql.err.lower())


class TargetOptionsTest(ProjectTest):
    def test_partition_by_columns_and_metadata_columns_off(self):
        self.p.write("incoming/c.csv", "id,country\n1,DE\n2,FR\n3,DE\n4,\n")
        self.p.pipeline("c", "name: c\nsource: { type: files, path: incoming/c.csv }\n"
                        "target: { zone: raw, table: c, partition_by: [country], add_metadata_columns: false }\n")
        self.assertOk(self.p.sluice("run", "c"))
        dirs = sorted({os.path.basename(os.path.dirname(f)) for f in self.p.lake_files()})
        self.assertEqual(dirs, ["country=DE", "country=FR", "country=NULL"])
        self.assertEqual(self.p.query("SELECT country, count(*) AS n FROM raw.c GROUP BY 1 ORDER BY 1"),
                         [{"country": "DE", "n": 2}, {"country": "FR", "n": 1}, {"country": None, "n": 1}])
        columns = read_parquet_independently(self.p.lake_files())["columns"]
        self.assertEqual(columns, ["id"])  # partition columns in paths, no metadata columns

    def test_invalid_utf8_row_is_quarantined(self):
        self.p.write("incoming/u.csv", b"id,name\n1,ok\n2,bad \xff\xfe byte\n3,fine\n", mode="wb")
        self.p.pipeline("u", "name: u\nsource: { type: files, path: incoming/u.csv }\n"
                        "target: { zone: raw, table: u }\non_error: quarantine\n")
        self.assertOk(self.p.sluice("run", "u"))
        self.assertEqual([r["id"] for r in self.p.query("SELECT id FROM raw.u ORDER BY id")], [1, 3])
        self.assertEqual(self.p.query("SELECT _line, _error_type FROM raw.u__rejects"),
                         [{"_line": 3, "_error_type": "INVALID ENCODING"}])

    def test_json_log_format(self):
        self.p.write("incoming/a.csv", "id\n1\n")
        self.p.pipeline("a", "name: a\nsource: { type: files, path: incoming/a.csv }\ntarget: { zone: raw, table: a }\n")
        r = self.p.sluice("run", "a", "--log-format", "json", "-q")
        self.assertOk(r)
        lines = [json.loads(l) for l in r.err.splitlines() if l.startswith("{")]
        self.assertTrue(lines)
        self.assertTrue(all({"ts", "level", "msg"} <= set(l) for l in lines))
        self.assertTrue(any("succeeded" in l["msg"] for l in lines))


class DamagedLakeTest(ProjectTest):
    def test_missing_data_file_is_reported_and_other_tables_still_answer(self):
        for name in ("a", "b"):
            self.p.write(f"incoming/{name}.csv", csv_rows(1, 5))
            self.p.pipeline(name, f"name: {name}\nsource: {{ type: files, path: incoming/{name}.csv }}\n"
                                  f"target: {{ zone: raw, table: {name} }}\n")
            self.assertOk(self.p.sluice("run", name))
        os.remove(self.p.lake_files("raw/files/a/**/*.parquet")[0])
        r = self.p.sluice("query", "SELECT count(*) AS n FROM raw.b", "--format", "csv")
        self.assertOk(r)
        self.assertEqual(r.out.splitlines(), ["n", "5"])
        self.assertIn("raw.a", r.err)
        broken = self.p.sluice("query", "SELECT count(*) FROM raw.a")
        self.assertNotEqual(broken.rc, 0)


class ConcurrencyAndCrashTest(ProjectTest):
    def test_second_run_of_same_pipeline_refuses_clearly(self):
        self.p.pipeline("birdstrikes", BIRDS_PIPELINE)
        self.p.write("incoming/birdstrikes_a.csv", csv_rows(1, 10))
        os.makedirs(self.p.path(".sluice", "locks"), exist_ok=True)
        with open(self.p.path(".sluice", "locks", "birdstrikes.lock"), "w") as held:
            fcntl.flock(held, fcntl.LOCK_EX)
            held.write("424242")
            held.flush()
            r = self.p.sluice("run", "birdstrikes")
        self.assertEqual(r.rc, 1, repr(r))
        self.assertIn("already running", r.err)
        self.assertIn("424242", r.err)
        self.assertOk(self.p.sluice("run", "birdstrikes"))

    def test_different_pipelines_commit_concurrently(self):
        for i in range(4):
            self.p.write(f"incoming/t{i}.csv", csv_rows(1, 2000 + i))
            self.p.pipeline(f"t{i}", f"name: t{i}\nsource: {{ type: files, path: incoming/t{i}.csv }}\n"
                                     f"target: {{ zone: raw, table: t{i} }}\n")
        procs = [self.p.start("run", f"t{i}", "-q") for i in range(4)]
        for proc in procs:
            out, err = proc.communicate(timeout=300)
            self.assertEqual(proc.returncode, 0, err)
        for i in range(4):
            self.assertEqual(self.p.scalar(f"SELECT count(*) FROM raw.t{i}"), 2000 + i)
        runs = self.p.query("SELECT 1")  # catalog still opens and answers
        self.assertEqual(runs, [{"1": 1}])

    def test_kill_during_run_leaves_nothing_visible_and_rerun_loads_all(self):
        big = self.p.path("incoming", "big.csv")
        with open(big, "w") as f:
            f.write("id,payload,amount\n")
            chunk = "".join(f"{i},payload number {i} with some text,{i * 0.5}\n" for i in range(100000))
            for _ in range(3):
                f.write(chunk)
        self.p.pipeline("big", "name: big\nsource: { type: files, path: incoming/big.csv }\n"
                        "target: { zone: raw, table: big }\n")
        # The process dies at the worst moment: every file is in the lake, the catalog does not know them.
        killed = self.p.sluice("run", "big", "-q", env={"SLUICE_FAULTPOINT": "after_upload:kill"})
        self.assertEqual(killed.rc, -9, repr(killed))
        self.assertTrue(self.p.lake_files(), "the run was killed before it uploaded anything")
        listed = self.p.sluice("catalog", "list")
        self.assertOk(listed)
        self.assertNotIn("raw.big", listed.out)
        r = self.p.sluice("run", "big", "-q")
        self.assertOk(r)
        self.assertEqual(self.p.scalar("SELECT count(*) FROM raw.big"), 300000)
        runs = self.p.sluice("runs")
        self.assertIn("interrupted", runs.out)
        self.assertNotIn("running", runs.out)
        self.assertEqual(os.listdir(self.p.path(".sluice", "staging")), [])


if __name__ == "__main__":
    unittest.main()
