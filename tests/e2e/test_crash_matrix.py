"""The crash matrix: every load mode (and compact and vacuum) killed with SIGKILL at every fault point
of its commit path (SLUICE_FAULTPOINT=<point>:kill, so the process dies exactly there, never by
timing). After each crash:

- a reader sees the old version (killed before the catalog commit) or the new one (killed after
  it), never a mix — through `sluice query` and through an independent Parquet reader (hyparquet)
  over the files the catalog's current version lists;
- the rerun succeeds and the table then holds every row exactly once;
- the staging folder is empty;
- `sluice maintain vacuum --retain 0s` leaves no orphan: every Parquet file under the lake is
  referenced by the catalog (a current table version or a job's change index), and every
  referenced file exists.

`make test` runs a representative subset; `make test-crash` (SLUICE_CRASH_MATRIX=full) runs it all.
docs/testing.md ("Crash suite") lists the points and modes."""
import glob
import json
import os
import sqlite3
import sys
import unittest

from sluice_e2e import Project, read_parquet_independently

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "../../scripts"))
from pg_test_server import PgServer  # noqa: E402

FULL = os.environ.get("SLUICE_CRASH_MATRIX", "") == "full"
PASSWORD_ENV = "SLUICE_E2E_PG_PASSWORD"

# Points of a load's commit path, in the order a run reaches them.
LOAD_POINTS = ["part_staged", "after_stage", "mid_upload", "after_upload", "in_commit", "after_commit"]
# A kill at these leaves the old version; only after_commit's leaves the new one.
AFTER_COMMIT = {"after_commit"}

# The cases `make test` runs (mode, point); the rest run under `make test-crash`.
DEFAULT_CASES = {
    ("files_incremental", "mid_upload"), ("files_incremental", "after_commit"), ("merge", "in_commit"),
    ("overwrite_partitions", "after_upload"), ("pg_full_chunked", "chunk_committed"), ("pg_changes", "after_commit"),
    ("compact", "compact_uploaded"), ("vacuum", "vacuum_deleting"),
}


def csv_rows(ids, amount=lambda i: i * 2, grp=lambda i: i % 3):
    return "id,grp,amount\n" + "".join(f"{i},{grp(i)},{amount(i)}\n" for i in ids)


def ids_of(rows):
    return [r["id"] for r in rows]


class Case:
    """One project and, for PostgreSQL modes, one table on the shared server."""

    def __init__(self, test, name, pg):
        self.test, self.pg = test, pg
        self.pg_table = f"public.{name}"
        yaml = "project: test\nlake: ./lake\n"
        if pg is not None:
            yaml += (f"connections:\n  src:\n    type: postgres\n    url: {pg.url}\n"
                     f"    password: ${{env:{PASSWORD_ENV}}}\n")
        self.p = Project(yaml)

    def sluice(self, *args, env=None):
        return self.p.sluice(*args, env=env)

    def ok(self, *args):
        r = self.sluice(*args)
        self.test.assertEqual(r.rc, 0, f"sluice {' '.join(args)}: {r!r}")
        return r

    def catalog(self, sql, *params):
        db = sqlite3.connect(self.p.path(".sluice", "catalog.db"), timeout=30)
        try:
            return db.execute(sql, params).fetchall()
        finally:
            db.close()

    def current_files(self, table):
        zone, name = table.split(".")
        rows = self.catalog("SELECT d.path FROM data_files d JOIN lake_tables t ON t.table_id = d.table_id "
                            "WHERE t.zone = ? AND t.table_name = ? AND d.version_removed IS NULL", zone, name)
        return [self.p.path("lake", r[0]) for r in rows]


# ---- the modes: how each reaches a commit -------------------------------------------------------

class Mode:
    points = LOAD_POINTS
    table = "raw.t"
    uses_pg = False
    key = "id"  # a column in the Parquet files, compared by the independent reader

    def command(self):
        return ["run", "m"]

    def fingerprint(self, case):
        return ids_of(case.p.query(f"SELECT id FROM {self.table} ORDER BY id"))


class FilesIncremental(Mode):
    name = "files_incremental"
    pipeline = ("name: m\nsource: { type: files, path: \"incoming/f*.csv\" }\n"
                "target: { zone: raw, table: t, partition_by: [grp] }\n")

    def setup(self, case):
        case.p.pipeline("m", self.pipeline)
        case.p.write("incoming/f1.csv", csv_rows(range(1, 301)))
        case.ok("run", "m")

    def prepare(self, case):
        case.p.write("incoming/f2.csv", csv_rows(range(301, 601)))

    old, new = list(range(1, 301)), list(range(1, 601))


class FilesFullRefresh(FilesIncremental):
    name = "files_full_refresh"

    def prepare(self, case):
        os.remove(case.p.path("incoming", "f1.csv"))
        case.p.write("incoming/f2.csv", csv_rows(range(301, 601)))

    def command(self):
        return ["run", "m", "--full-refresh"]

    old, new = list(range(1, 301)), list(range(301, 601))


class PgMode(Mode):
    uses_pg = True
    source_extra = ""
    mode = "full"

    def pipeline(self, case):
        return (f"name: m\nsource:\n  connection: src\n  table: {case.pg_table}\n{self.source_extra}"
                f"mode: {self.mode}\n{self.job_extra}target: {{ zone: raw, table: t, partition_by: [grp] }}\n")

    job_extra = ""

    def setup(self, case):
        case.pg.psql(f"CREATE TABLE {case.pg_table} (id integer PRIMARY KEY, grp integer, amount integer);"
                     f"INSERT INTO {case.pg_table} SELECT g, g % 3, g * 2 FROM generate_series(1, 300) g;")
        case.p.pipeline("m", self.pipeline(case))
        case.ok("run", "m")


class PgFull(PgMode):
    name = "pg_full"

    def prepare(self, case):
        case.pg.psql(f"DELETE FROM {case.pg_table} WHERE id <= 50;"
                     f"INSERT INTO {case.pg_table} SELECT g, g % 3, g * 2 FROM generate_series(301, 400) g;")

    old, new = list(range(1, 301)), list(range(51, 401))


class PgFullChunked(PgFull):
    """A full load in chunks of 50 rows, each recorded as the job's pending load as it is uploaded."""
    name = "pg_full_chunked"
    source_extra = "  batch_rows: 50\n"
    points = LOAD_POINTS + ["chunk_committed"]


class PgIncremental(PgMode):
    name = "pg_incremental"
    source_extra = "  cursor: id\n"
    mode = "incremental"

    def prepare(self, case):
        case.pg.psql(f"INSERT INTO {case.pg_table} SELECT g, g % 3, g * 2 FROM generate_series(301, 600) g")

    old, new = list(range(1, 301)), list(range(1, 601))


class PgWindow(PgMode):
    """Day windows over `ts`: the first run reads 2018-11-04 (ids 1-144), the next 2018-11-05."""
    name = "pg_window"
    mode = "window"
    job_extra = ('window:\n  column: ts\n  start: "2018-11-04 00:00:00"\n  stop: "2018-11-05 00:00:00"\n'
                 "  step: 1 day\n")

    def setup(self, case):
        case.pg.psql(f"CREATE TABLE {case.pg_table} (id integer PRIMARY KEY, grp integer, amount integer, ts timestamp);"
                     f"INSERT INTO {case.pg_table} SELECT g, g % 3, g * 2, "
                     f"timestamp '2018-11-04 00:00:00' + (g - 1) * interval '10 minutes' FROM generate_series(1, 288) g;")
        case.p.pipeline("m", self.pipeline(case))
        case.ok("run", "m")

    def prepare(self, case):
        pass

    old, new = list(range(1, 145)), list(range(1, 289))


class PgChanges(PgMode):
    """mode: changes: each run appends the inserted, updated and deleted rows since the last."""
    name = "pg_changes"
    mode = "changes"
    job_extra = "primary_key: [id]\ndeletes: mark\n"
    key = None  # the change index also lives in the lake; compared by query only

    def fingerprint(self, case):
        rows = case.p.query(f"SELECT id, _change_type FROM {self.table} ORDER BY id, _change_type")
        return [(r["id"], r["_change_type"]) for r in rows]

    def prepare(self, case):
        case.pg.psql(f"UPDATE {case.pg_table} SET amount = amount + 1 WHERE id <= 50;"
                     f"DELETE FROM {case.pg_table} WHERE id BETWEEN 51 AND 60;"
                     f"INSERT INTO {case.pg_table} SELECT g, g % 3, g * 2 FROM generate_series(301, 320) g;")

    old = [(i, "insert") for i in range(1, 301)]
    new = sorted(old + [(i, "update") for i in range(1, 51)] + [(i, "delete") for i in range(51, 61)]
                 + [(i, "insert") for i in range(301, 321)])


class Processing(Mode):
    """A catalog-input job with a SQL step; its input is loaded first, then only it is killed."""
    name = "processing"
    table = "silver.p"
    proc = ("    steps:\n      - sql: \"SELECT id, grp, amount * 10 AS v FROM input\"\n"
            "    target: { zone: silver, table: p, partition_by: [grp] }\n")
    second_file = csv_rows(range(301, 601))

    def setup(self, case):
        case.p.pipeline("m", "name: m\njobs:\n  load:\n    source: { type: files, path: \"incoming/f*.csv\" }\n"
                             "    target: { zone: raw, table: t }\n  proc:\n    depends_on: [load]\n"
                             "    source: { table: raw.t }\n" + self.proc)
        case.p.write("incoming/f1.csv", csv_rows(range(1, 301)))
        case.ok("run", "m")

    def prepare(self, case):
        case.p.write("incoming/f2.csv", self.second_file)
        case.ok("run", "m", "--job", "load")

    def command(self):
        return ["run", "m", "--job", "proc"]

    old, new = list(range(1, 301)), list(range(1, 601))


class Merge(Processing):
    """write: merge: the second file updates ids 201-300 and adds 301-500."""
    name = "merge"
    proc = ("    primary_key: [id]\n    steps:\n      - sql: \"SELECT id, amount FROM input\"\n"
            "    target: { zone: silver, table: p, write: merge }\n")
    second_file = csv_rows(range(201, 501), amount=lambda i: i * 3)

    def fingerprint(self, case):
        return [(r["id"], r["amount"]) for r in case.p.query(f"SELECT id, amount FROM {self.table} ORDER BY id")]

    old = [(i, i * 2) for i in range(1, 301)]
    new = [(i, i * 2) for i in range(1, 201)] + [(i, i * 3) for i in range(201, 501)]


class OverwritePartitions(Processing):
    """Totals per grp; the second file reaches grp 0 and 1 only, which are recomputed from all rows."""
    name = "overwrite_partitions"
    table = "gold.p"
    key = None
    proc = ("    steps:\n      - sql: \"SELECT grp, count(*) AS n, CAST(sum(amount) AS BIGINT) AS s FROM input "
            "GROUP BY grp\"\n    target: { zone: gold, table: p, partition_by: [grp], write: overwrite_partitions }\n")
    second_file = csv_rows(range(301, 601), grp=lambda i: i % 2)

    def fingerprint(self, case):
        return [(r["grp"], r["n"], r["s"]) for r in case.p.query(f"SELECT grp, n, s FROM {self.table} ORDER BY grp")]

    @staticmethod
    def totals(rows):
        return [(g, sum(1 for i, k in rows if k == g), sum(i * 2 for i, k in rows if k == g)) for g in (0, 1, 2)]

    first = [(i, i % 3) for i in range(1, 301)]
    old = totals.__func__(first)
    new = totals.__func__(first + [(i, i % 2) for i in range(301, 601)])


class Compact(FilesIncremental):
    """`sluice maintain compact`: three runs' small files per grp merged into one."""
    name = "compact"
    points = ["mid_upload", "compact_uploaded", "in_commit"]

    def setup(self, case):
        case.p.pipeline("m", self.pipeline)
        for n in range(3):
            case.p.write(f"incoming/f{n}.csv", csv_rows(range(n * 100 + 1, n * 100 + 101)))
            case.ok("run", "m")

    def prepare(self, case):
        self.files_before = len(case.current_files(self.table))

    def command(self):
        return ["maintain", "compact", "raw.t"]

    def after_rerun(self, case):
        case.test.assertLess(len(case.current_files(self.table)), self.files_before)

    old = new = list(range(1, 301))


class Vacuum(FilesIncremental):
    """`sluice maintain vacuum`: the files a full refresh replaced are deleted."""
    name = "vacuum"
    points = ["vacuum_deleting"]

    def setup(self, case):
        super().setup(case)
        case.ok("run", "m", "--full-refresh")

    def prepare(self, case):
        pass

    def command(self):
        return ["maintain", "vacuum", "--retain", "0s"]

    old = new = list(range(1, 301))


MODES = [FilesIncremental(), FilesFullRefresh(), PgFull(), PgFullChunked(), PgIncremental(), PgWindow(), PgChanges(),
         Processing(), Merge(), OverwritePartitions(), Compact(), Vacuum()]


class CrashMatrixTest(unittest.TestCase):
    pg = None

    @classmethod
    def shared_pg(cls):
        if cls.pg is None:
            server = PgServer()
            server.__enter__()
            CrashMatrixTest.pg = server
            cls.addClassCleanup(server.__exit__, None, None, None)
            os.environ[PASSWORD_ENV] = server.password
            cls.addClassCleanup(os.environ.pop, PASSWORD_ENV, None)
        return cls.pg

    def crash_and_recover(self, mode, point):
        case = Case(self, f"{mode.name}_{point}", self.shared_pg() if mode.uses_pg else None)
        self.addCleanup(case.p.cleanup)
        mode.setup(case)
        self.assertEqual(mode.fingerprint(case), mode.old, "the first version is not what was loaded")
        mode.prepare(case)

        killed = case.sluice(*mode.command(), env={"SLUICE_FAULTPOINT": f"{point}:kill"})
        self.assertEqual(killed.rc, -9, f"the run was not killed at {point}: {killed!r}")
        expected = mode.new if point in AFTER_COMMIT else mode.old
        self.assertEqual(mode.fingerprint(case), expected, f"after a kill at {point} a reader sees a mix")
        self.assertIndependentReaderAgrees(case, mode)

        case.ok(*mode.command())
        self.assertEqual(mode.fingerprint(case), mode.new, "the rerun did not end with every row exactly once")
        self.assertIndependentReaderAgrees(case, mode)
        if hasattr(mode, "after_rerun"):
            mode.after_rerun(case)
        staging = case.p.path(".sluice", "staging")
        left = os.listdir(staging) if os.path.isdir(staging) else []
        self.assertEqual(left, [], "staging is not clean")
        # Every process has ended: the killed one's spill and scratch folder was swept by the rerun.
        spill = case.p.path(".sluice", "tmp")
        self.assertEqual(os.listdir(spill) if os.path.isdir(spill) else [], [], "a spill folder was left behind")
        self.assertEqual(case.catalog("SELECT scope FROM job_state WHERE state_key = 'pending_load'"), [])

        case.ok("maintain", "vacuum", "--retain", "0s")
        self.assertNoOrphans(case)
        self.assertEqual(mode.fingerprint(case), mode.new, "vacuum changed what a reader sees")

    def assertIndependentReaderAgrees(self, case, mode):
        files = case.current_files(mode.table)
        for f in files:
            self.assertTrue(os.path.exists(f), f"the catalog lists {f}, which is not in the lake")
        rows = read_parquet_independently(files)["rows"]
        if mode.key is None:
            self.assertEqual(len(rows), case.p.scalar(f"SELECT count(*) FROM {mode.table}"))
        else:
            self.assertEqual(sorted(int(r[mode.key]) for r in rows),
                             ids_of(case.p.query(f"SELECT {mode.key} AS id FROM {mode.table} ORDER BY 1")))

    def assertNoOrphans(self, case):
        referenced = {r[0] for r in case.catalog("SELECT path FROM data_files WHERE version_removed IS NULL")}
        for (value,) in case.catalog("SELECT state_value FROM job_state WHERE state_key = 'change_index'"):
            referenced.add(json.loads(value)["key"])
        lake = case.p.path("lake")
        present = {os.path.relpath(f, lake) for f in glob.glob(os.path.join(lake, "**", "*.parquet"), recursive=True)}
        self.assertEqual(sorted(present - referenced), [], "Parquet files in the lake that no catalog entry references")
        self.assertEqual(sorted(referenced - present), [], "files the catalog references that are not in the lake")


def _add_cases():
    for mode in MODES:
        for point in mode.points:
            def test(self, mode=mode, point=point):
                if not FULL and (mode.name, point) not in DEFAULT_CASES:
                    self.skipTest("full matrix only: make test-crash (SLUICE_CRASH_MATRIX=full)")
                self.crash_and_recover(mode, point)
            test.__doc__ = f"{mode.name} killed at {point}"
            setattr(CrashMatrixTest, f"test_{mode.name}__{point}", test)


_add_cases()

if __name__ == "__main__":
    unittest.main()
