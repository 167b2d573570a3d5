"""Processing jobs: catalog-table sources with bookmarks, steps, checks, write modes, merge and
schema evolution, driven through the real binary."""
import json
import os
import unittest

from sluice_e2e import ProjectTest

# The "A workflow of jobs" example of CONFIG.md, with a files source for the raw job (the http
# source is another module's): clean and by_country exactly as written there.
WORKFLOW = """\
name: worldbank
triggers:
  - on_demand: true
jobs:
  extract:
    source: { type: files, path: "incoming/indicators*.csv", format: csv }
    target: { zone: raw, table: indicators }
  clean:
    depends_on: [extract]             # default condition: success
    source: { table: raw.indicators } # only files committed since this job's last run
    steps:
      - clean: { names: snake_case, dedupe: true, types: { year: integer, value: double } }
      - add_columns: { etl_timestamp: now(), source_filename: _source_file }
    checks:
      - not_null: [country, year]
      - unique: [country, year, indicator]
    target: { zone: silver, table: indicators }
  by_country:
    depends_on: [clean]
    source: { table: silver.indicators }
    target: { zone: gold, table: indicators_by_country, partition_by: [country], write: overwrite }
"""


def indicators_csv(rows):
    lines = ["Country,Year,Indicator,Value"]
    lines += [f"{c},{y},{i},{v}" for c, y, i, v in rows]
    return "\n".join(lines) + "\n"


class WorkflowTest(ProjectTest):
    def setUp(self):
        super().setUp()
        self.p.pipeline("worldbank", WORKFLOW)

    def test_config_example_runs_incrementally(self):
        self.p.write("incoming/indicators_1.csv", indicators_csv(
            [("DE", 2020, "gdp", 1.5), ("DE", 2020, "gdp", 1.5), ("FR", 2020, "gdp", 2.5), (" US ", 2021, "pop", "")]))
        self.assertOk(self.p.sluice("run", "worldbank"))
        self.assertEqual(self.p.scalar("SELECT count(*) FROM silver.indicators"), 3)  # duplicate dropped
        row = self.p.query("SELECT country, year, value, source_filename, typeof(year) AS t, typeof(value) AS tv, "
                           "etl_timestamp IS NOT NULL AS stamped FROM silver.indicators WHERE country = 'US'")[0]
        self.assertEqual(row, {"country": "US", "year": 2021, "value": None, "t": "INTEGER", "tv": "DOUBLE",
                               "source_filename": "incoming/indicators_1.csv", "stamped": True})
        self.assertEqual(self.p.query("SELECT country, count(*) AS n FROM gold.indicators_by_country GROUP BY 1 "
                                      "ORDER BY 1"),
                         [{"country": "DE", "n": 1}, {"country": "FR", "n": 1}, {"country": "US", "n": 1}])
        gold_files = self.p.lake_files("gold/**/*.parquet")
        self.assertTrue(all("/country=" in f for f in gold_files), gold_files)

        # Nothing new: every job reports no changes and nothing is committed.
        again = self.p.sluice("run", "worldbank")
        self.assertOk(again)
        history = self.p.sluice("catalog", "history", "silver.indicators")
        self.assertEqual(history.out.count("append"), 1, history.out)

        # A second file: clean reads only it (its bookmark moved), gold is rebuilt from all of silver.
        self.p.write("incoming/indicators_2.csv", indicators_csv([("IT", 2020, "gdp", 3.0)]))
        self.assertOk(self.p.sluice("run", "worldbank"))
        self.assertEqual(self.p.scalar("SELECT count(*) FROM silver.indicators"), 4)
        self.assertEqual(self.p.scalar("SELECT count(*) FROM gold.indicators_by_country"), 4)
        self.assertEqual(self.p.scalar("SELECT count(DISTINCT source_filename) FROM silver.indicators"), 2)

        # A third run, then --full-refresh rebuilds silver from the whole raw table: same rows.
        self.p.write("incoming/indicators_3.csv", indicators_csv([("ES", 2022, "gdp", 4.0)]))
        self.assertOk(self.p.sluice("run", "worldbank"))
        self.assertEqual(self.p.scalar("SELECT count(*) FROM silver.indicators"), 5)
        self.assertOk(self.p.sluice("run", "worldbank", "--full-refresh"))
        self.assertEqual(self.p.scalar("SELECT count(*) FROM silver.indicators"), 5)
        self.assertEqual(self.p.scalar("SELECT count(*) FROM gold.indicators_by_country"), 5)

    def test_failing_check_blocks_the_commit_and_is_shown_with_the_run(self):
        self.p.write("incoming/indicators_1.csv", indicators_csv([("DE", 2020, "gdp", 1.0), ("DE", 2020, "gdp", 2.0),
                                                                  ("FR", "", "gdp", 2.0)]))
        r = self.p.sluice("run", "worldbank")
        self.assertEqual(r.rc, 1, repr(r))
        text = r.out + r.err
        self.assertIn("check not_null(country, year) failed on silver.indicators: 1 failing row", text)
        self.assertIn("unique(country, year, indicator) failed on silver.indicators: 2 failing rows", text)
        # Nothing of the silver job is visible; the raw job's commit (a different job) is.
        tables = self.p.sluice("catalog", "list").out
        self.assertNotIn("silver.indicators", tables)
        self.assertEqual(self.p.scalar("SELECT count(*) FROM raw.indicators"), 3)
        runs = self.p.query("SELECT 1 AS x")  # the catalog still answers
        self.assertEqual(runs, [{"x": 1}])
        run_id = self.p.sluice("runs", "--format", "json").out
        listing = self.p.sluice("runs").out.splitlines()
        run = [line.split()[0] for line in listing[1:] if "worldbank" in line][0]
        shown = self.p.sluice("runs", "show", run)
        self.assertOk(shown)
        self.assertIn("checks:", shown.out)
        self.assertIn("not_null(country, year)", shown.out)
        self.assertIn("failed", shown.out)
        del run_id


CHECKS = """\
name: checked
jobs:
  load:
    source: { type: files, path: "incoming/m*.csv", format: csv }
    target: { zone: raw, table: m }
  silver:
    depends_on: [load]
    source: { table: raw.m }
    checks:
      - range: { column: amount, min: 0 }
        quarantine: true
      - accepted_values: { column: kind, values: [a, b] }
        severity: warn
      - row_count: { min: 1 }
    target: { zone: silver, table: m }
"""


class ConfigExampleOverHttpTest(ProjectTest):
    """CONFIG.md's "A workflow of jobs" verbatim (only the port of the URL is picked at run time),
    and examples/worldbank, which is the same pipeline, downloading from a real HTTP server."""

    def setUp(self):
        super().setUp()
        import functools
        import http.server
        import threading
        served = self.p.path("served")
        os.makedirs(served)
        handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=served)
        handler.log_message = lambda *args: None
        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.addCleanup(self.server.server_close)
        self.addCleanup(self.server.shutdown)
        self.served = served

    def serve_zip(self, rows):
        import zipfile
        with zipfile.ZipFile(os.path.join(self.served, "indicators.zip"), "w") as z:
            z.writestr("indicators.csv", indicators_csv(rows))

    def test_config_example_as_written(self):
        example = os.path.join(os.path.dirname(os.path.abspath(__file__)), "../../examples/worldbank/pipelines/worldbank.yaml")
        with open(example) as f:
            text = f.read()
        self.assertIn('source: { type: http, url: "http://127.0.0.1:8000/indicators.zip", format: csv }', text)
        self.p.pipeline("worldbank", text.replace("127.0.0.1:8000", f"127.0.0.1:{self.server.server_port}"))
        self.serve_zip([("DE", 2020, "gdp", 1.5), ("DE", 2020, "gdp", 1.5), ("FR", 2020, "gdp", 2.5)])
        self.assertOk(self.p.sluice("run", "worldbank"))
        self.assertEqual(self.p.query("SELECT country, count(*) AS n FROM gold.indicators_by_country GROUP BY 1 "
                                      "ORDER BY 1"), [{"country": "DE", "n": 1}, {"country": "FR", "n": 1}])
        self.assertTrue(all("/country=" in f for f in self.p.lake_files("gold/**/*.parquet")))

        again = self.p.sluice("run", "worldbank")  # the same download: nothing anywhere
        self.assertOk(again)
        self.assertEqual(self.p.query("SELECT count(*) AS n FROM silver.indicators"), [{"n": 2}])

        self.serve_zip([("IT", 2021, "gdp", 3.0), ("ES", 2021, "gdp", 4.0)])
        # Last-Modified has whole seconds: a portal republishing within the same second as the last
        # download would be answered 304 by this server, as HTTP caching prescribes.
        zipped = os.path.join(self.served, "indicators.zip")
        later = os.stat(zipped).st_mtime + 10
        os.utime(zipped, (later, later))
        self.assertOk(self.p.sluice("run", "worldbank"))
        self.assertEqual(self.p.scalar("SELECT count(*) FROM raw.indicators"), 2)  # raw holds the latest download
        self.assertEqual(self.p.scalar("SELECT count(*) FROM silver.indicators"), 4)
        self.assertEqual(self.p.scalar("SELECT count(*) FROM gold.indicators_by_country"), 4)


class ChecksTest(ProjectTest):
    def test_quarantine_and_warn(self):
        self.p.pipeline("checked", CHECKS)
        self.p.write("incoming/m1.csv", "id,amount,kind\n1,5,a\n2,-3,b\n3,7,z\n")
        self.assertOk(self.p.sluice("run", "checked"))
        self.assertEqual(self.p.query("SELECT id FROM silver.m ORDER BY id"), [{"id": 1}, {"id": 3}])
        rejects = self.p.query("SELECT id, _failed_check FROM silver.m__rejects")
        self.assertEqual(rejects, [{"id": 2, "_failed_check": "range(amount)"}])


STEPS_AND_MODES = """\
name: modes
jobs:
  load:
    source: { type: files, path: "incoming/o*.csv", format: csv }
    target: { zone: raw, table: orders }
  current:
    depends_on: [load]
    source: { table: raw.orders }
    primary_key: [id]
    steps:
      - sql: "SELECT id, status, amount, _change_type FROM raw.orders"
    target: { zone: silver, table: orders_current, write: merge }
  history:
    depends_on: [load]
    source: { table: raw.orders }
    steps:
      - sql: "SELECT id, status FROM input WHERE _change_type <> 'delete'"
      - merge: { key: [id], mode: scd2 }
    target: { zone: silver, table: orders_history }
  daily:
    depends_on: [load]
    source: { table: raw.orders }
    steps:
      - sql: "SELECT day, count(*) AS n FROM input GROUP BY day"
    target: { zone: gold, table: orders_daily, partition_by: [day], write: overwrite_partitions }
"""


class StepsAndModesTest(ProjectTest):
    def test_merge_scd2_and_partition_overwrite(self):
        self.p.pipeline("modes", STEPS_AND_MODES)
        self.p.write("incoming/o1.csv", "id,status,amount,day,_change_type\n1,new,10,d1,insert\n2,new,20,d1,insert\n"
                                        "3,new,30,d2,insert\n")
        self.assertOk(self.p.sluice("run", "modes"))
        self.p.write("incoming/o2.csv", "id,status,amount,day,_change_type\n2,paid,20,d2,update\n"
                                        "3,new,30,d2,delete\n4,new,40,d3,insert\n")
        self.assertOk(self.p.sluice("run", "modes"))
        self.assertEqual(self.p.query("SELECT id, status FROM silver.orders_current ORDER BY id"),
                         [{"id": 1, "status": "new"}, {"id": 2, "status": "paid"}, {"id": 4, "status": "new"}])
        history = self.p.query("SELECT id, status, is_current, valid_to IS NULL AS open FROM silver.orders_history "
                               "ORDER BY id, is_current")
        self.assertEqual(history, [
            {"id": 1, "status": "new", "is_current": True, "open": True},
            {"id": 2, "status": "new", "is_current": False, "open": False},
            {"id": 2, "status": "paid", "is_current": True, "open": True},
            {"id": 3, "status": "new", "is_current": True, "open": True},
            {"id": 4, "status": "new", "is_current": True, "open": True}])
        # d1 kept from run 1 as it was; d2, reached by run 2's new rows, recomputed from all raw rows
        # (1 from run 1 + 2 from run 2), not from run 2's rows alone; d3 new.
        self.assertEqual(self.p.query("SELECT day, n FROM gold.orders_daily ORDER BY day"),
                         [{"day": "d1", "n": 2}, {"day": "d2", "n": 3}, {"day": "d3", "n": 1}])

    def test_failure_between_write_and_commit_leaves_nothing_and_rerun_is_exact(self):
        self.p.pipeline("modes", STEPS_AND_MODES)
        self.p.write("incoming/o1.csv", "id,status,amount,day,_change_type\n1,new,10,d1,insert\n")
        self.assertOk(self.p.sluice("run", "modes"))
        self.p.write("incoming/o2.csv", "id,status,amount,day,_change_type\n2,new,20,d1,insert\n5,new,1,d9,insert\n")
        # A plain file where the new partition's folder must go: the upload fails after staging and checks.
        blocker = self.p.path("lake/gold/orders_daily/day=d9")
        os.makedirs(os.path.dirname(blocker), exist_ok=True)
        with open(blocker, "w") as f:
            f.write("in the way")
        # The whole pipeline: load commits o2.csv, then daily fails at its upload (--job daily alone would
        # find no new raw files, since load would not run).
        r = self.p.sluice("run", "modes")
        self.assertEqual(r.rc, 1, repr(r))
        self.assertIn("daily", r.err + r.out)
        self.assertEqual(self.p.query("SELECT day, n FROM gold.orders_daily ORDER BY day"), [{"day": "d1", "n": 1}])
        os.remove(blocker)
        # daily's bookmark did not move with the failed run, so the rerun sees o2's rows: d1 and d9 are
        # recomputed from all raw rows, each row counted once.
        self.assertOk(self.p.sluice("run", "modes", "--job", "daily"))
        self.assertEqual(self.p.query("SELECT day, n FROM gold.orders_daily ORDER BY day"),
                         [{"day": "d1", "n": 2}, {"day": "d9", "n": 1}])


PARTITION_OVERWRITE = """\
name: po
jobs:
  load:
    source: { type: files, path: "incoming/*.csv", format: csv }
    target: { zone: raw, table: sales }
  silver:
    depends_on: [load]
    source: { table: raw.sales }
    steps:
      - sql: "SELECT id, country, kind, amount FROM input"
    target: { zone: silver, table: sales, partition_by: [country, kind], write: overwrite_partitions }
"""


class PartitionOverwriteTest(ProjectTest):
    def test_new_rows_recompute_their_partitions_from_all_input_and_leave_others_alone(self):
        self.p.pipeline("po", PARTITION_OVERWRITE)
        self.p.write("incoming/s1.csv", "id,country,kind,amount\n1,DE,a,10\n2,DE,a,20\n3,DE,b,30\n4,US,a,40\n")
        self.assertOk(self.p.sluice("run", "po"))
        untouched = sorted(f for f in self.p.lake_files("silver/**/*.parquet") if "country=US" in f or "kind=b" in f)
        self.assertEqual(len(untouched), 2, untouched)
        # Run 2's only new file holds one row of (DE, a): that partition keeps its two older rows.
        self.p.write("incoming/s2.csv", "id,country,kind,amount\n5,DE,a,50\n")
        r = self.p.sluice("run", "po")
        self.assertOk(r)
        self.assertEqual(self.p.query("SELECT country, kind, list(id ORDER BY id) AS ids FROM silver.sales "
                                      "GROUP BY ALL ORDER BY ALL"),
                         [{"country": "DE", "kind": "a", "ids": [1, 2, 5]}, {"country": "DE", "kind": "b", "ids": [3]},
                          {"country": "US", "kind": "a", "ids": [4]}])
        # (DE, b) and (US, a) were not reached by the new rows: their files are the same as before.
        self.assertEqual(sorted(f for f in self.p.lake_files("silver/**/*.parquet")
                                if "country=US" in f or "kind=b" in f), untouched)
        self.assertEqual(self.p.scalar("SELECT count(*) FROM silver.sales"), 5)
        # A run with nothing new changes nothing; --full-refresh rebuilds the same rows.
        self.assertOk(self.p.sluice("run", "po"))
        self.assertOk(self.p.sluice("run", "po", "--full-refresh"))
        self.assertEqual(self.p.scalar("SELECT count(*) FROM silver.sales"), 5)


REPARTITION_SIZE = """\
name: sized
jobs:
  load:
    source: { type: files, path: "incoming/*.csv", format: csv }
    target: { zone: raw, table: blobs }
  silver:
    depends_on: [load]
    source: { table: raw.blobs }
    steps:
      - sql: "SELECT k, v FROM input"
      - repartition: { by: [k], file_size: 1MB }
    target: { zone: silver, table: blobs }
"""


class RepartitionFileSizeTest(ProjectTest):
    def test_a_partition_bigger_than_file_size_is_written_as_several_files(self):
        import hashlib
        rows = ["k,v"] + [f"{'big' if i < 300000 else 'small'},{hashlib.md5(str(i).encode()).hexdigest()}"
                          for i in range(300010)]
        self.p.write("incoming/b.csv", "\n".join(rows) + "\n")
        self.p.pipeline("sized", REPARTITION_SIZE)
        self.assertOk(self.p.sluice("run", "sized"))
        big = self.p.lake_files("silver/blobs/k=big/*.parquet")
        small = self.p.lake_files("silver/blobs/k=small/*.parquet")
        self.assertGreater(len(big), 1, big)
        self.assertEqual(len(small), 1, small)
        self.assertEqual(self.p.query("SELECT k, count(*) AS n, count(DISTINCT v) AS d FROM silver.blobs "
                                      "GROUP BY k ORDER BY k"),
                         [{"k": "big", "n": 300000, "d": 300000}, {"k": "small", "n": 10, "d": 10}])
        # Each file is closed after the row group that crosses 1 MB: at most 1 MB plus one row group
        # (122,880 rows of 32 hex characters, about 4 MB; how full it is depends on the threads).
        for f in big:
            self.assertLess(os.path.getsize(f), (1 << 20) + (5 << 20), f)


EVOLVE = """\
name: evolve
jobs:
  load:
    source: { type: files, path: "incoming/e*.csv", format: csv }
    target: { zone: raw, table: e, add_metadata_columns: false, schema_evolution: evolve }
  silver:
    depends_on: [load]
    source: { table: raw.e }
    steps:
      - sql: "SELECT * EXCLUDE (_load_date) FROM input"
    target: { zone: silver, table: e, schema_evolution: POLICY }
"""


class SchemaEvolutionTest(ProjectTest):
    def run_two(self, policy, second):
        self.p.pipeline("evolve", EVOLVE.replace("POLICY", policy))
        self.p.write("incoming/e1.csv", "id,n\n1,5\n2,6\n")
        self.assertOk(self.p.sluice("run", "evolve"))
        self.p.write("incoming/e2.csv", second)
        return self.p.sluice("run", "evolve")

    def test_new_column_added_and_int_widened(self):
        r = self.run_two("fail", "id,n,extra\n3,1.5,x\n")
        self.assertOk(r)
        rows = self.p.query("SELECT id, n, extra FROM silver.e ORDER BY id")
        self.assertEqual(rows, [{"id": 1, "n": 5, "extra": None}, {"id": 2, "n": 6, "extra": None},
                                {"id": 3, "n": 1.5, "extra": "x"}])
        history = self.p.sluice("catalog", "history", "silver.e").out
        self.assertIn("created: id BIGINT, n BIGINT", history)  # version 1: the inferred schema
        self.assertIn("added column extra", history)
        self.assertIn("BIGINT -> DOUBLE", history)
        self.assertIn("evolve/silver", history)  # which job wrote each version


    def test_incompatible_change_fails_by_default(self):
        r = self.run_two("fail", "id,n\n3,abc\n")
        self.assertEqual(r.rc, 1, repr(r))
        self.assertIn("column 'n' of silver.e is BIGINT in the table but VARCHAR", r.out + r.err)
        self.assertEqual(self.p.scalar("SELECT count(*) FROM silver.e"), 2)

    def test_incompatible_change_evolves_to_text(self):
        self.assertOk(self.run_two("evolve", "id,n\n3,abc\n"))
        self.assertEqual(self.p.query("SELECT n FROM silver.e ORDER BY id"), [{"n": "5"}, {"n": "6"}, {"n": "abc"}])


    def test_incompatible_change_quarantines_rows(self):
        self.assertOk(self.run_two("quarantine", "id,n\n3,abc\n4,7\n"))
        self.assertEqual(self.p.query("SELECT id, n FROM silver.e ORDER BY id"),
                         [{"id": 1, "n": 5}, {"id": 2, "n": 6}, {"id": 4, "n": 7}])
        self.assertEqual(self.p.query("SELECT id, n FROM silver.e__rejects"), [{"id": 3, "n": "abc"}])


if __name__ == "__main__":
    unittest.main()
