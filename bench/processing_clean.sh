#!/usr/bin/env bash
# raw → silver: clean (trim, null tokens, type coercion) + dedupe + repartition by country.
# `sluice run` of the processing job vs bare DuckDB running the same SQL over the same raw files,
# in the same run.
#   bench/processing_clean.sh BUILD_DIR [ROWS...]      (default rows: 10000000)
# Env: BENCH_DATA (default /tmp/sluice-bench), BENCH_REPEAT (default 3, median reported),
# BENCH_MEMORY_LIMIT (default 2GB, sluice's default engine.memory_limit): both engines get the same
# memory limit and spill to their own temp folder, so the ratio is sluice's overhead, not a
# difference in memory (bare DuckDB's own default is 80 % of RAM).
set -euo pipefail
build=$(cd "${1:-build}" && pwd); shift || true
rows_list=("${@:-10000000}")
data=${BENCH_DATA:-/tmp/sluice-bench}
repeat=${BENCH_REPEAT:-3}
memory_limit=${BENCH_MEMORY_LIMIT:-2GB}
here=$(cd "$(dirname "$0")" && pwd)
sluice="$build/sluice"
bare="$build/bench/duckdb_sql"

# Each size's project (raw + silver lake, catalog) and bare DuckDB's output are removed on exit;
# the generated CSV stays in $BENCH_DATA for the next run, like the other benchmarks' data.
cleanup_dirs=()
cleanup() { rm -rf "${cleanup_dirs[@]}" "$data/time.txt" "$data/cmd.err"; }
trap cleanup EXIT

median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
measure() {  # prints "seconds peak_kb" of the command
  /usr/bin/time -f '%e %M' -o "$data/time.txt" "$@" >/dev/null 2>"$data/cmd.err" || { cat "$data/cmd.err" >&2; return 1; }
  cat "$data/time.txt"
}

# The SQL sluice's clean step generates for these options (see src/transforms/steps/clean/).
clean_sql() {
  local input=$1 cols=() c
  for c in order_id customer_id customer_name order_ts country currency amount items status; do
    local e="CASE WHEN trim(\"$c\") IN ('', 'NULL', 'null', 'N/A') THEN NULL ELSE trim(\"$c\") END"
    if [ "$c" = amount ]; then cols+=("TRY_CAST($e AS DOUBLE) AS \"$c\""); else cols+=("$e AS \"$c\""); fi
  done
  local IFS=,
  echo "SELECT DISTINCT ON (order_id, customer_id, customer_name, order_ts, country, currency, amount, items, status) * FROM (SELECT ${cols[*]}, \"_source_file\", \"_loaded_at\", \"_load_date\" FROM $input)"
}

echo "memory_limit $memory_limit for both; median of $repeat, bare DuckDB and sluice interleaved"
printf '%-9s %10s %10s %7s %12s %12s\n' rows bare_s sluice_s ratio sluice_rss bare_rss
for rows in ${rows_list[@]}; do
  dir="$data/orders$rows"
  [ -f "$dir/orders.csv" ] || /usr/bin/python3 "$here/gen_data.py" orders --rows "$rows" --out "$dir" >/dev/null
  proj="$dir/project"
  cleanup_dirs+=("$proj" "$dir/bare" "$dir/bare.tmp")
  rm -rf "$proj" && mkdir -p "$proj/pipelines" "$proj/incoming" && ln -s "$dir/orders.csv" "$proj/incoming/orders.csv"
  printf 'project: bench\nlake: ./lake\nengine: { memory_limit: %s }\n' "$memory_limit" >"$proj/sluice.yaml"
  cat >"$proj/pipelines/orders.yaml" <<'YAML'
name: orders
jobs:
  load:
    source: { type: files, path: incoming/orders.csv, format: csv, all_varchar: true }
    target: { zone: raw, table: orders }
  silver:
    source: { table: raw.orders }
    steps:
      - clean: { types: { amount: double }, on_type_error: "null", dedupe: true }
      - repartition: { by: [country] }
    target: { zone: silver, table: orders }
YAML
  "$sluice" --project "$proj" run orders --job load -q >/dev/null
  raw_files=$(find "$proj/lake/raw" -name '*.parquet' | sed "s/.*/'&'/" | paste -sd, -)
  raw="read_parquet([$raw_files], hive_partitioning = true)"
  bare_times=(); sluice_times=(); bare_rss=0; sluice_rss=0
  for i in $(seq "$repeat"); do
    rm -rf "$dir/bare" "$dir/bare.tmp" && mkdir -p "$dir/bare"
    read -r t m < <(measure "$bare" "SET memory_limit = '$memory_limit'" "SET temp_directory = '$dir/bare.tmp'" "COPY ($(clean_sql "$raw")) TO '$dir/bare' (FORMAT parquet, COMPRESSION zstd, PARTITION_BY (country), OVERWRITE_OR_IGNORE true)")
    bare_times+=("$t"); [ "$m" -gt "$bare_rss" ] && bare_rss=$m
    read -r t m < <(measure "$sluice" --project "$proj" run orders --job silver --full-refresh -q)
    sluice_times+=("$t"); [ "$m" -gt "$sluice_rss" ] && sluice_rss=$m
    got=$("$sluice" --project "$proj" query "SELECT count(*) FROM silver.orders" --format csv | tail -1)
    want=$("$bare" "SELECT count(*) FROM read_parquet('$dir/bare/**/*.parquet')")
    [ "$got" = "$want" ] || { echo "sluice wrote $got rows, bare DuckDB $want" >&2; exit 1; }
  done
  b=$(printf '%s\n' "${bare_times[@]}" | median); s=$(printf '%s\n' "${sluice_times[@]}" | median)
  printf '%-9s %10s %10s %7.2f %10dMB %10dMB\n' "$rows" "$b" "$s" "$(echo "$s / $b" | bc -l)" \
    $((sluice_rss / 1024)) $((bare_rss / 1024))
done
