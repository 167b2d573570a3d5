#!/usr/bin/env python3
"""mode: cdc steady state: commit → lake-visible lag while a follower keeps up.

Starts a throwaway PostgreSQL 15 (scripts/pg_test_server.py), lets `sluice run` copy an empty table
(creating its slot), then starts `sluice run P --follow` (cdc: commit_every as given) and has a
writer inside PostgreSQL commit --rate transactions per second (each inserts --rows-per-txn rows)
for --seconds. Afterwards it waits until the lake holds every row, stops the follower with SIGTERM
and measures, per change:

  lag = committed_at of the catalog version whose files hold the change   (lake-visible)
        - _commit_ts of the change (the source transaction's commit time, from pgoutput)

A version's rows are told apart by their _loaded_at (one value per micro-batch); the script checks
that each batch's row count equals the rows its catalog version added, so the mapping is exact.
Both clocks are this machine's. Prints lag p50/p90/p99/max, the changes/s written and landed, and
the follower's peak RSS (VmHWM from /proc before it is stopped).

  bench/cdc_lag.py --sluice build/sluice --rate 500 --seconds 60 --commit-every 1s
"""
import argparse
import csv
import io
import os
import re
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "../scripts"))
from pg_test_server import PgServer  # noqa: E402

WRITER = """
CREATE OR REPLACE PROCEDURE bench_writer(rate integer, seconds integer, rows_per_txn integer)
LANGUAGE plpgsql AS $$
DECLARE
  started timestamptz := clock_timestamp();
  n bigint := 0;
  next_at timestamptz;
BEGIN
  LOOP
    next_at := started + make_interval(secs => n::double precision / rate);
    EXIT WHEN next_at >= started + make_interval(secs => seconds);
    IF next_at > clock_timestamp() THEN
      PERFORM pg_sleep(extract(epoch FROM next_at - clock_timestamp()));
    END IF;
    INSERT INTO ticks SELECT n * rows_per_txn + g, clock_timestamp(), md5(n::text)
      FROM generate_series(1, rows_per_txn) g;
    COMMIT;
    n := n + 1;
  END LOOP;
END $$;
"""


def percentile(sorted_values, p):
    if not sorted_values:
        return float("nan")
    k = min(len(sorted_values) - 1, max(0, int(round(p / 100.0 * (len(sorted_values) - 1)))))
    return sorted_values[k]


def parse_duration(text):
    m = re.fullmatch(r"(\d+(?:\.\d+)?)(ms|s|m)", text)
    if not m:
        sys.exit(f"--commit-every: '{text}' is not a duration like 500ms, 1s or 1m")
    return float(m.group(1)) * {"ms": 0.001, "s": 1, "m": 60}[m.group(2)]


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sluice", default=os.path.join(os.path.dirname(__file__), "../build/sluice"))
    ap.add_argument("--rate", type=int, default=500, help="transactions per second")
    ap.add_argument("--rows-per-txn", type=int, default=1)
    ap.add_argument("--seconds", type=int, default=60)
    ap.add_argument("--commit-every", default="1s")
    args = ap.parse_args()
    sluice = os.path.abspath(args.sluice)
    commit_every = parse_duration(args.commit_every)
    total = args.rate * args.seconds * args.rows_per_txn

    with PgServer() as pg, tempfile.TemporaryDirectory(prefix="sluice-cdc-lag-") as project:
        os.makedirs(os.path.join(project, "pipelines"))
        with open(os.path.join(project, "sluice.yaml"), "w") as f:
            f.write(f"project: bench\nlake: ./lake\nconnections:\n  db:\n    type: postgres\n    url: {pg.url}\n"
                    "    password: ${env:BENCH_PG_PASSWORD}\n")
        with open(os.path.join(project, "pipelines", "cdc.yaml"), "w") as f:
            f.write("source: {connection: db, table: public.ticks}\nmode: cdc\n"
                    f"cdc: {{slot: bench_lag, publication: bench_lag, commit_every: {args.commit_every}}}\n"
                    "target: {zone: raw, table: ticks}\n")
        env = dict(os.environ, BENCH_PG_PASSWORD=pg.password)
        pg.psql("CREATE TABLE ticks (id bigint PRIMARY KEY, written_at timestamptz, pad text)")
        pg.psql(WRITER)
        run = subprocess.run([sluice, "--project", project, "run", "cdc", "-q"], env=env, capture_output=True, text=True)
        if run.returncode != 0:
            sys.exit(f"first run failed: {run.stderr}")

        err = tempfile.TemporaryFile(mode="w+")
        follower = subprocess.Popen([sluice, "--project", project, "run", "cdc", "--follow", "-q"], env=env,
                                    stdout=subprocess.DEVNULL, stderr=err)
        peak_rss_kb = None
        try:
            deadline = time.monotonic() + 60
            while pg.psql("SELECT active FROM pg_replication_slots WHERE slot_name = 'bench_lag'").strip() != "t":
                if follower.poll() is not None or time.monotonic() > deadline:
                    err.seek(0)
                    sys.exit(f"the follower did not start streaming: {err.read()[-2000:]}")
                time.sleep(0.2)
            print(f"writing {args.rate} txn/s x {args.rows_per_txn} rows for {args.seconds} s "
                  f"(commit_every {args.commit_every})", flush=True)
            started = time.monotonic()
            pg.psql(f"CALL bench_writer({args.rate}, {args.seconds}, {args.rows_per_txn})")
            wrote_s = time.monotonic() - started
            written = int(pg.psql("SELECT count(*) FROM ticks").strip())
            catalog = os.path.join(project, ".sluice", "catalog.db")
            deadline = time.monotonic() + 300
            while True:
                db = sqlite3.connect(catalog, timeout=30)
                try:
                    landed = db.execute("SELECT coalesce(sum(rows_added), 0) FROM table_versions v JOIN lake_tables t "
                                        "USING (table_id) WHERE t.table_name = 'ticks'").fetchone()[0]
                finally:
                    db.close()
                if landed >= written:
                    break
                if follower.poll() is not None or time.monotonic() > deadline:
                    err.seek(0)
                    sys.exit(f"the follower stopped or fell behind ({landed} of {written}): {err.read()[-2000:]}")
                time.sleep(0.2)
            with open(f"/proc/{follower.pid}/status") as f:  # the follower's peak RSS so far
                peak_rss_kb = int(re.search(r"VmHWM:\s+(\d+) kB", f.read()).group(1))
        finally:
            if follower.poll() is None:
                follower.send_signal(signal.SIGTERM)
            follower.wait(timeout=120)
        err.seek(0)
        err_text = err.read()
        if follower.returncode != 0:
            sys.exit(f"the follower exited {follower.returncode}: {err_text[-2000:]}")

        db = sqlite3.connect(os.path.join(project, ".sluice", "catalog.db"))
        versions = db.execute("SELECT version, committed_at_us, rows_added FROM table_versions v JOIN lake_tables t "
                              "USING (table_id) WHERE t.table_name = 'ticks' AND rows_added > 0 "
                              "ORDER BY version").fetchall()
        db.close()
        out = subprocess.run([sluice, "--project", project, "query",
                              "SELECT CAST(epoch_us(_loaded_at) AS BIGINT) AS l, CAST(epoch_us(_commit_ts) AS BIGINT) AS c "
                              "FROM raw.ticks WHERE _change_type = 'insert' ORDER BY l", "--format", "csv"],
                             env=env, capture_output=True, text=True)
        if out.returncode != 0:
            sys.exit(f"query failed: {out.stderr}")
        batches = {}
        for row in csv.DictReader(io.StringIO(out.stdout)):
            batches.setdefault(int(row["l"]), []).append(int(row["c"]))
        if len(batches) != len(versions):
            sys.exit(f"{len(batches)} batches in the data but {len(versions)} catalog versions with rows")
        lags = []
        for (loaded, commits), (version, committed_at, rows_added) in zip(sorted(batches.items()), versions):
            if len(commits) != rows_added:
                sys.exit(f"batch loaded at {loaded} has {len(commits)} rows, version {version} added {rows_added}")
            lags += [(committed_at - c) / 1e6 for c in commits]
        lags.sort()
        print(f"changes written {written} in {wrote_s:.1f} s ({written / wrote_s:.0f}/s), landed {len(lags)} "
              f"(expected {total}) in {len(versions)} commits")
        print(f"lag commit -> lake-visible: p50 {percentile(lags, 50):.3f} s  p90 {percentile(lags, 90):.3f} s  "
              f"p99 {percentile(lags, 99):.3f} s  max {lags[-1]:.3f} s  (target p99 <= commit_every + 1 s = "
              f"{commit_every + 1:.1f} s)")
        print(f"follower peak RSS {peak_rss_kb / 1024:.0f} MB (VmHWM)")


if __name__ == "__main__":
    main()
