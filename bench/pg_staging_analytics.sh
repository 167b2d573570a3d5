#!/usr/bin/env bash
# CSV drop → typed PostgreSQL staging → analytics SQL (scenario 2): `sluice run` against the pandas
# way and the floor, in the same run, on the orders/reviews/shipments CSVs of gen_data.py orders.
#   bench/pg_staging_analytics.sh BUILD_DIR [ORDERS...]      (default orders: 1000000)
# Env: BENCH_DATA (default /tmp/sluice-bench-staging), BENCH_REPEAT (default 3, interleaved, medians
# compared), BENCH_PANDAS_REPEAT (default 1), BENCH_MEMORY_LIMIT (sluice's engine memory_limit,
# default 512MB), BENCH_PANDAS_PEER (default /work/shared/bench/peers/pandas_staging_analytics.py).
# Contenders, each from an empty staging/analytics:
#   floor   psql \copy of the three CSVs into untyped text tables (no typing, no analytics)
#   pandas  the peer with --load copy: read + coerce in pandas, COPY into typed staging, analytics SQL
#   sluice  staging jobs (typed, bad values → NULL) + the peer's analytics SQL as a sql: job
#   sluice staging only: the same three staging jobs without the analytics job — the part of the
#           work the floor does too (the floor loads untyped text and runs no analytics)
#   analytics alone: psql runs the analytics SQL (one transaction) on the typed staging tables the
#           staging-only run left; floor + analytics alone is the floor of the whole pipeline
# Each prints wall seconds and peak RSS (/usr/bin/time); the row counts of staging and analytics
# are checked equal between pandas and sluice. The server is a throwaway PostgreSQL 15
# (scripts/pg_test_server.py), stopped by its pid at the end.
set -euo pipefail
build=$(cd "${1:-build}" && pwd); shift || true
sizes=("${@:-1000000}")
data=${BENCH_DATA:-/tmp/sluice-bench-staging}
repeat=${BENCH_REPEAT:-3}
pandas_repeat=${BENCH_PANDAS_REPEAT:-1}
memory_limit=${BENCH_MEMORY_LIMIT:-512MB}
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/.." && pwd)
sluice="$build/sluice"
peer=${BENCH_PANDAS_PEER:-/work/shared/bench/peers/pandas_staging_analytics.py}

mkdir -p "$data"
server="$data/server"
rm -rf "$server"
info=$(/usr/bin/python3 "$repo/scripts/pg_test_server.py" start "$server")
field() { echo "$info" | /usr/bin/python3 -c "import json,sys; print(json.load(sys.stdin)['$1'])"; }
port=$(field port); url=$(field url)
trap '/usr/bin/python3 "$repo/scripts/pg_test_server.py" stop "$server" >/dev/null 2>&1 || true' EXIT
export PGPASSWORD=$(field password)
psql_cmd=(/usr/bin/psql -X -q -v ON_ERROR_STOP=1 -h "$server" -p "$port" -U postgres -d postgres)

measure() {  # prints "seconds peak_kb" of the command
  /usr/bin/time -f '%e %M' -o "$data/time.txt" "$@" >"$data/cmd.out" 2>"$data/cmd.err" || {
    cat "$data/cmd.out" "$data/cmd.err" >&2; return 1; }
  cat "$data/time.txt"
}
ratio() { echo "$1 / $2" | bc -l | xargs printf '%.2f'; }
median() { printf '%s\n' "$@" | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
reset_schemas() {
  "${psql_cmd[@]}" -c "SET client_min_messages = warning; DROP SCHEMA IF EXISTS staging CASCADE; DROP SCHEMA IF EXISTS analytics CASCADE; DROP SCHEMA IF EXISTS floor CASCADE;"
}
counts() {  # staging and analytics row counts, one line
  "${psql_cmd[@]}" -A -t -c "SELECT string_agg(n, ' ' ORDER BY n) FROM (
    SELECT 'staging.orders=' || count(*) AS n FROM staging.orders UNION ALL
    SELECT 'staging.reviews=' || count(*) FROM staging.reviews UNION ALL
    SELECT 'staging.shipments=' || count(*) FROM staging.shipments UNION ALL
    SELECT 'analytics.daily_revenue=' || count(*) FROM analytics.daily_revenue UNION ALL
    SELECT 'analytics.shipping_performance=' || count(*) FROM analytics.shipping_performance UNION ALL
    SELECT 'analytics.review_scores=' || count(*) FROM analytics.review_scores) c"
}
floor_sql() {  # writes $1/floor.sql: the three CSVs of $1 into text tables
  local cols_o cols_r cols_s
  cols_o=$(head -1 "$1/orders.csv" | sed 's/,/ text, /g; s/$/ text/')
  cols_r=$(head -1 "$1/reviews.csv" | sed 's/,/ text, /g; s/$/ text/')
  cols_s=$(head -1 "$1/shipments.csv" | sed 's/,/ text, /g; s/$/ text/')
  cat >"$1/floor.sql" <<SQL
CREATE SCHEMA floor;
CREATE TABLE floor.orders ($cols_o);
CREATE TABLE floor.reviews ($cols_r);
CREATE TABLE floor.shipments ($cols_s);
\\copy floor.orders FROM '$1/orders.csv' WITH (FORMAT csv, HEADER true)
\\copy floor.reviews FROM '$1/reviews.csv' WITH (FORMAT csv, HEADER true)
\\copy floor.shipments FROM '$1/shipments.csv' WITH (FORMAT csv, HEADER true)
SQL
}
project() {  # the sluice project for the CSVs in $2, at $1
  rm -rf "$1" && mkdir -p "$1/pipelines"
  printf 'project: bench\nlake: ./lake\nengine: { memory_limit: %s }\nconnections:\n  warehouse: { type: postgres, url: "%s", password: "${env:PGPASSWORD}" }\n' \
    "$memory_limit" "$url" >"$1/sluice.yaml"
  sed "s|DATA/|$2/|g" "$here/staging_analytics/pipeline.yaml" >"$1/pipelines/shop.yaml"
  # The same pipeline up to (not including) its analytics job.
  sed -e '/^  analytics:/,$d' -e 's/^name: shop$/name: staging/' "$1/pipelines/shop.yaml" >"$1/pipelines/staging.yaml"
  cp "$here/staging_analytics/analytics.sql" "$1/analytics.sql"
}

for orders in ${sizes[@]}; do
  dir="$data/n$orders"
  [ -f "$dir/shipments.csv" ] || /usr/bin/python3 "$here/gen_data.py" orders --rows "$orders" --out "$dir" >/dev/null
  bytes=$(cat "$dir/orders.csv" "$dir/reviews.csv" "$dir/shipments.csv" | wc -c)
  echo "== $orders orders ($((bytes / 1000000)) MB of CSV in three files)"
  cat "$dir"/*.csv >/dev/null  # page cache warm for every contender
  project "$dir/sluice" "$dir"
  floor_sql "$dir"
  floor_t=(); pd_t=(); sl_t=(); st_t=(); an_t=(); floor_kb=0; pd_kb=0; sl_kb=0; st_kb=0
  for rep in $(seq "$repeat"); do  # interleaved, so that a slow spell of the machine hits every contender
    reset_schemas
    read -r t kb < <(measure "${psql_cmd[@]}" -f "$dir/floor.sql")
    floor_t+=("$t"); [ "$kb" -gt "$floor_kb" ] && floor_kb=$kb
    reset_schemas
    rm -rf "$dir/sluice/.sluice" "$dir/sluice/lake"
    read -r t kb < <(measure "$sluice" --project "$dir/sluice" run shop -q)
    sl_t+=("$t"); [ "$kb" -gt "$sl_kb" ] && sl_kb=$kb
    sluice_counts=$(counts)
    reset_schemas
    rm -rf "$dir/sluice/.sluice" "$dir/sluice/lake"
    read -r t kb < <(measure "$sluice" --project "$dir/sluice" run staging -q)
    st_t+=("$t"); [ "$kb" -gt "$st_kb" ] && st_kb=$kb
    read -r t kb < <(measure "${psql_cmd[@]}" -1 -f "$dir/sluice/analytics.sql")
    an_t+=("$t")
    if [ "$rep" -le "$pandas_repeat" ]; then
      reset_schemas
      read -r t kb < <(measure /usr/bin/python3 "$peer" --dsn "host=$server port=$port user=postgres dbname=postgres" \
        --dir "$dir" --load copy)
      pd_t+=("$t"); [ "$kb" -gt "$pd_kb" ] && pd_kb=$kb
      pandas_counts=$(counts)
      [ "$pandas_counts" = "$sluice_counts" ] || {
        echo "row counts differ: pandas $pandas_counts / sluice $sluice_counts" >&2; exit 1; }
    fi
  done
  floor_s=$(median "${floor_t[@]}"); pd_s=$(median "${pd_t[@]}"); sl_s=$(median "${sl_t[@]}"); st_s=$(median "${st_t[@]}")
  an_s=$(median "${an_t[@]}"); whole_floor_s=$(echo "$floor_s + $an_s" | bc -l)
  echo "rows: $sluice_counts"
  printf 'floor  psql \\copy into text tables  median of %d %7.2fs  peak RSS %5d MB  (each: %s)\n' \
    "$repeat" "$floor_s" $((floor_kb / 1024)) "${floor_t[*]}"
  printf 'pandas --load copy                 median of %d %7.2fs  peak RSS %5d MB  (each: %s)\n' \
    "${#pd_t[@]}" "$pd_s" $((pd_kb / 1024)) "${pd_t[*]}"
  printf 'sluice run (staging + analytics)   median of %d %7.2fs  peak RSS %5d MB  (each: %s)\n' \
    "$repeat" "$sl_s" $((sl_kb / 1024)) "${sl_t[*]}"
  printf 'sluice staging only (no analytics)  median of %d %7.2fs  peak RSS %5d MB  (each: %s)\n' \
    "$repeat" "$st_s" $((st_kb / 1024)) "${st_t[*]}"
  printf 'analytics SQL alone (psql, on typed staging) median of %d %7.2fs  (each: %s)\n' \
    "$repeat" "$an_s" "${an_t[*]}"
  printf 'sluice is %sx faster than pandas and takes %sx the floor; its staging alone takes %sx the floor\n' \
    "$(ratio "$pd_s" "$sl_s")" "$(ratio "$sl_s" "$floor_s")" "$(ratio "$st_s" "$floor_s")"
  printf 'the whole pipeline takes %sx the floor of the whole pipeline (floor + analytics alone: %.2fs)\n' \
    "$(ratio "$sl_s" "$whole_floor_s")" "$whole_floor_s"
done
