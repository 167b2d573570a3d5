#!/usr/bin/env bash
# CSV → raw-zone Parquet: `sluice run` vs bare DuckDB COPY of the same file, in the same run.
#   bench/files_to_raw.sh BUILD_DIR [ROWS...]      (default rows: 1000000 5000000)
# Env: BENCH_DATA (default /tmp/sluice-bench), BENCH_REPEAT (default 3, median reported).
set -euo pipefail
build=$(cd "${1:-build}" && pwd); shift || true
rows_list=("${@:-1000000 5000000}")
data=${BENCH_DATA:-/tmp/sluice-bench}
repeat=${BENCH_REPEAT:-3}
here=$(cd "$(dirname "$0")" && pwd)
sluice="$build/sluice"
bare="$build/bench/duckdb_sql"

median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
measure() {  # prints "seconds peak_kb" of the command
  /usr/bin/time -f '%e %M' -o "$data/time.txt" "$@" >/dev/null 2>"$data/cmd.err" || { cat "$data/cmd.err" >&2; return 1; }
  cat "$data/time.txt"
}

printf '%-9s %10s %10s %7s %12s %12s %10s\n' rows bare_s sluice_s ratio sluice_rss bare_rss sluice_Mrow/s
for rows in ${rows_list[@]}; do
  dir="$data/n$rows"
  csv="$dir/compounds_v2.csv"
  [ -f "$csv" ] || /usr/bin/python3 "$here/gen_data.py" compounds --rows "$rows" --out "$dir" >/dev/null
  bare_times=(); sluice_times=(); bare_rss=0; sluice_rss=0
  for i in $(seq "$repeat"); do
    rm -rf "$dir/bare" && mkdir -p "$dir/bare"
    read -r t m < <(measure "$bare" "COPY (SELECT * FROM read_csv('$csv')) TO '$dir/bare/out.parquet' (FORMAT parquet, COMPRESSION zstd)")
    bare_times+=("$t"); [ "$m" -gt "$bare_rss" ] && bare_rss=$m
    proj="$dir/project"
    rm -rf "$proj" && mkdir -p "$proj/pipelines" && ln -s "$dir" "$proj/incoming"
    printf 'project: bench\nlake: ./lake\n' >"$proj/sluice.yaml"
    printf 'name: compounds\nsource: { type: files, path: incoming/compounds_v2.csv }\ntarget: { zone: raw, table: compounds }\n' \
      >"$proj/pipelines/compounds.yaml"
    read -r t m < <(measure "$sluice" --project "$proj" run compounds -q)
    sluice_times+=("$t"); [ "$m" -gt "$sluice_rss" ] && sluice_rss=$m
    got=$("$sluice" --project "$proj" query "SELECT count(*) FROM raw.compounds" --format csv | tail -1)
    want=$("$bare" "SELECT count(*) FROM '$dir/bare/out.parquet'")
    [ "$got" = "$want" ] || { echo "sluice loaded $got rows, bare DuckDB $want" >&2; exit 1; }
  done
  b=$(printf '%s\n' "${bare_times[@]}" | median); s=$(printf '%s\n' "${sluice_times[@]}" | median)
  printf '%-9s %10s %10s %7.2f %10dMB %10dMB %10.2f\n' "$rows" "$b" "$s" "$(echo "$s / $b" | bc -l)" \
    $((sluice_rss / 1024)) $((bare_rss / 1024)) "$(echo "$rows / $s / 1000000" | bc -l)"
done
