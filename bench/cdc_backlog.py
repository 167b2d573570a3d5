#!/usr/bin/env python3
"""mode: cdc backlog drain: sluice vs the floor, in the same run.

Starts a throwaway PostgreSQL 15 (scripts/pg_test_server.py), creates a table, lets `sluice run`
copy it (creating its slot), creates a second slot for pg_recvlogical, then writes a backlog of
--changes changes (inserts, then updates of some of them, then deletes) while nobody reads. Both
consumers then drain the same backlog:

  sluice      `sluice run P` (stream until caught up, Parquet in the lake, exactly-once commits)
  floor       `pg_recvlogical --plugin=pgoutput -o proto_version=1 -o publication_names=P
               --start -f /dev/null --endpos LSN` over the second slot (decode nothing, write nothing)

Prints changes/s of each, the ratio, and sluice's peak RSS (from /usr/bin/time when present).

  bench/cdc_backlog.py --sluice build/sluice --changes 1000000
"""
import argparse
import os
import re
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "../scripts"))
from pg_test_server import PG_BIN, PgServer  # noqa: E402


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sluice", default=os.path.join(os.path.dirname(__file__), "../build/sluice"))
    ap.add_argument("--changes", type=int, default=1_000_000)
    ap.add_argument("--wrap", default="", help="a command prefix for sluice's drain, e.g. 'perf record -g -o FILE --'")
    args = ap.parse_args()
    sluice = os.path.abspath(args.sluice)
    inserts = int(args.changes * 0.6)
    updates = int(args.changes * 0.3)
    deletes = args.changes - inserts - updates

    with PgServer() as pg, tempfile.TemporaryDirectory(prefix="sluice-cdc-bench-") as project:
        os.makedirs(os.path.join(project, "pipelines"))
        with open(os.path.join(project, "sluice.yaml"), "w") as f:
            f.write(f"project: bench\nlake: ./lake\nconnections:\n  db:\n    type: postgres\n    url: {pg.url}\n"
                    "    password: ${env:BENCH_PG_PASSWORD}\n")
        with open(os.path.join(project, "pipelines", "cdc.yaml"), "w") as f:
            f.write("source: {connection: db, table: public.events}\nmode: cdc\n"
                    "cdc: {slot: bench_sluice, publication: bench, commit_every: 30s, max_rows: 500000}\n"
                    "target: {zone: raw, table: events}\n")
        env = dict(os.environ, BENCH_PG_PASSWORD=pg.password)
        pg.psql("CREATE TABLE events (id bigint PRIMARY KEY, kind text, amount numeric(12,2), at timestamptz, "
                "payload jsonb)")
        run = subprocess.run([sluice, "--project", project, "run", "cdc", "-q"], env=env, capture_output=True,
                             text=True)
        if run.returncode != 0:
            sys.exit(f"first run failed: {run.stderr}")
        pg.psql("SELECT pg_create_logical_replication_slot('bench_floor', 'pgoutput')")
        print(f"writing the backlog: {inserts} inserts, {updates} updates, {deletes} deletes", flush=True)
        pg.psql(f"INSERT INTO events SELECT g, 'kind' || (g % 7), g * 0.01, now(), "
                f"jsonb_build_object('g', g, 'tag', md5(g::text)) FROM generate_series(1, {inserts}) g")
        pg.psql(f"UPDATE events SET amount = amount + 1 WHERE id <= {updates}")
        pg.psql(f"DELETE FROM events WHERE id > {inserts - deletes}")
        end = pg.psql("SELECT pg_current_wal_lsn()").strip()

        timer = ["/usr/bin/time", "-v"] if os.path.exists("/usr/bin/time") else []
        timer += args.wrap.split()
        started = time.monotonic()
        run = subprocess.run(timer + [sluice, "--project", project, "run", "cdc", "-q"], env=env,
                             capture_output=True, text=True)
        sluice_s = time.monotonic() - started
        if run.returncode != 0:
            sys.exit(f"sluice run failed: {run.stderr[-2000:]}")
        rss = re.search(r"Maximum resident set size \(kbytes\): (\d+)", run.stderr)
        landed = subprocess.run([sluice, "--project", project, "query",
                                 "SELECT count(*) FROM raw.events WHERE _change_type <> 'snapshot'", "--format", "csv"],
                                env=env, capture_output=True, text=True).stdout.splitlines()[-1]

        started = time.monotonic()
        floor = subprocess.run([os.path.join(PG_BIN, "pg_recvlogical"), "-h", "127.0.0.1", "-p", str(pg.port),
                                "-U", "sluice", "-d", "postgres", "--slot", "bench_floor", "--start",
                                "--plugin", "pgoutput", "-o", "proto_version=1", "-o", "publication_names=bench",
                                "-f", "/dev/null", "--endpos", end, "--no-loop"],
                               env=dict(env, PGPASSWORD=pg.password), capture_output=True, text=True)
        floor_s = time.monotonic() - started
        if floor.returncode != 0:
            sys.exit(f"pg_recvlogical failed: {floor.stderr}")

        print(f"changes landed by sluice: {landed} (expected {args.changes})")
        print(f"sluice run      {sluice_s:7.2f} s  {args.changes / sluice_s:10.0f} changes/s"
              + (f"  peak RSS {int(rss.group(1)) / 1024:.0f} MB" if rss else ""))
        print(f"pg_recvlogical  {floor_s:7.2f} s  {args.changes / floor_s:10.0f} changes/s")
        print(f"ratio sluice/floor (time): {sluice_s / floor_s:.2f}x")


if __name__ == "__main__":
    main()
