#!/usr/bin/env bash
# PostgreSQL → raw zone: `sluice run` against psql and pandas, in the same run, on the
# `compounds` table of gen_data.py.
#   bench/pg_extract.sh BUILD_DIR [ROWS...]        (default rows: 1000000 5000000)
# Env: BENCH_DATA (default /tmp/sluice-bench-pg), BENCH_PANDAS_MAX_ROWS (default 5000000: larger
# tables skip the pandas peer, which needs ~1.5 KB of RAM per row), BENCH_MEMORY_LIMIT (sluice's
# engine memory_limit, default 512MB), BENCH_REPEAT (default 3: the full-extract contenders run that
# many times, interleaved, and their medians are compared; so does the sluice changes run, from the
# same saved state each time), BENCH_PANDAS_REPEAT (default 1: a pandas run takes 25-200 s).
# Per size it prints:
#   full:    sluice mode: full (resumable chunks, and resumable: false) vs the faster of
#            `psql \copy (SELECT * …) TO /dev/null` binary / csv
#   changes: sluice mode: changes after 1 % updates + 1 % inserts vs peers/pandas_hashdiff.py
#            (read_sql + md5, the common way, and copy + md5)
# with wall seconds and peak RSS (/usr/bin/time). The server is a throwaway PostgreSQL 15
# (scripts/pg_test_server.py: temp dir, free loopback port), stopped by its pid at the end.
set -euo pipefail
build=$(cd "${1:-build}" && pwd); shift || true
rows_list=("${@:-1000000 5000000}")
data=${BENCH_DATA:-/tmp/sluice-bench-pg}
pandas_max=${BENCH_PANDAS_MAX_ROWS:-5000000}
memory_limit=${BENCH_MEMORY_LIMIT:-512MB}
repeat=${BENCH_REPEAT:-3}
pandas_repeat=${BENCH_PANDAS_REPEAT:-1}
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/.." && pwd)
sluice="$build/sluice"
peer=${BENCH_PANDAS_PEER:-/work/shared/bench/peers/pandas_hashdiff.py}

mkdir -p "$data"
server="$data/server"
rm -rf "$server"
info=$(/usr/bin/python3 "$repo/scripts/pg_test_server.py" start "$server")
port=$(echo "$info" | /usr/bin/python3 -c 'import json,sys; print(json.load(sys.stdin)["port"])')
url=$(echo "$info" | /usr/bin/python3 -c 'import json,sys; print(json.load(sys.stdin)["url"])')
trap '/usr/bin/python3 "$repo/scripts/pg_test_server.py" stop "$server" >/dev/null 2>&1 || true' EXIT
export PGPASSWORD=$(echo "$info" | /usr/bin/python3 -c 'import json,sys; print(json.load(sys.stdin)["password"])')
psql_cmd=(/usr/bin/psql -X -q -v ON_ERROR_STOP=1 -h "$server" -p "$port" -U postgres -d postgres)
psql_su() { "${psql_cmd[@]}" "$@"; }

measure() {  # prints "seconds peak_kb" of the command
  /usr/bin/time -f '%e %M' -o "$data/time.txt" "$@" >"$data/cmd.out" 2>"$data/cmd.err" || {
    cat "$data/cmd.out" "$data/cmd.err" >&2; return 1; }
  cat "$data/time.txt"
}
ratio() { echo "$1 / $2" | bc -l | xargs printf '%.2f'; }
median() { printf '%s\n' "$@" | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }

load() {  # load CSV $1 into public.compounds (the DDL of /work/shared/bench/pg.sh)
  psql_su <<SQL
SET client_min_messages = warning;
DROP TABLE IF EXISTS public.compounds;
CREATE TABLE public.compounds (
  id bigint PRIMARY KEY, compound_code text NOT NULL, smiles text NOT NULL, formula text NOT NULL,
  mol_weight numeric(12,4) NOT NULL, registered_at timestamp NOT NULL, updated_at timestamp NOT NULL,
  project text NOT NULL, chemist text NOT NULL, purity_pct numeric(5,2), salt_form text, cas_number text,
  status text NOT NULL, notes text);
\copy public.compounds FROM '$1' WITH (FORMAT csv, HEADER true)
GRANT SELECT ON public.compounds TO sluice;
VACUUM ANALYZE public.compounds;
SQL
}

project() {  # project dir $1 with pipeline mode $2 and extra source options $3 (", key: value")
  rm -rf "$1" && mkdir -p "$1/pipelines"
  printf 'project: bench\nlake: ./lake\nengine: { memory_limit: %s }\nconnections:\n  registry: { type: postgres, url: "%s", password: "${env:PGPASSWORD}" }\n' \
    "$memory_limit" "$url" >"$1/sluice.yaml"
  printf 'name: compounds\nsource: { connection: registry, table: public.compounds%s }\nmode: %s\nprimary_key: [id]\ndeletes: mark\ntarget: { zone: raw, table: compounds }\n' \
    "${3:-}" "$2" >"$1/pipelines/compounds.yaml"
}

for rows in ${rows_list[@]}; do
  dir="$data/n$rows"
  [ -f "$dir/compounds_v2.csv" ] || /usr/bin/python3 "$here/gen_data.py" compounds --rows "$rows" --out "$dir" \
    --update-pct 1 --insert-pct 1 --delete-pct 0 >/dev/null
  load "$dir/compounds_v1.csv"
  echo "== $rows rows"

  # One untimed read first, so that no contender pays for bringing the table into the page cache.
  "${psql_cmd[@]}" -c "\\copy (SELECT * FROM public.compounds) TO '/dev/null' WITH (FORMAT binary)"
  bin_t=(); csv_t=(); full_t=(); one_t=(); full_kb=0; one_kb=0
  for rep in $(seq "$repeat"); do  # interleaved, so that a slow spell of the machine hits every contender
    read -r t kb < <(measure "${psql_cmd[@]}" -c "\\copy (SELECT * FROM public.compounds) TO '/dev/null' WITH (FORMAT binary)")
    bin_t+=("$t")
    read -r t kb < <(measure "${psql_cmd[@]}" -c "\\copy (SELECT * FROM public.compounds) TO '/dev/null' WITH (FORMAT csv)")
    csv_t+=("$t")
    project "$dir/full" full
    read -r t kb < <(measure "$sluice" --project "$dir/full" run compounds -q)
    full_t+=("$t"); [ "$kb" -gt "$full_kb" ] && full_kb=$kb
    got=$("$sluice" --project "$dir/full" query "SELECT count(*) FROM raw.compounds" --format csv | tail -1)
    [ "$got" = "$rows" ] || { echo "full load has $got rows, want $rows" >&2; exit 1; }
    # The same load as one COPY per connection, without the key-ordered chunks that make it resumable.
    project "$dir/full_one_copy" full ", resumable: false"
    read -r t kb < <(measure "$sluice" --project "$dir/full_one_copy" run compounds -q)
    one_t+=("$t"); [ "$kb" -gt "$one_kb" ] && one_kb=$kb
  done
  bin_s=$(median "${bin_t[@]}"); csv_s=$(median "${csv_t[@]}"); full_s=$(median "${full_t[@]}"); one_s=$(median "${one_t[@]}")
  floor=$bin_s; [ "$(echo "$csv_s < $bin_s" | bc)" = 1 ] && floor=$csv_s
  printf 'full     medians of %d: psql binary %6.2fs  psql csv %6.2fs  sluice %6.2fs (%sx the faster psql)  sluice peak RSS %d MB\n' \
    "$repeat" "$bin_s" "$csv_s" "$full_s" "$(ratio "$full_s" "$floor")" $((full_kb / 1024))
  printf 'full     sluice resumable: false %6.2fs (%sx the faster psql)  peak RSS %d MB\n' \
    "$one_s" "$(ratio "$one_s" "$floor")" $((one_kb / 1024))
  printf 'full     each run: psql binary %s | psql csv %s | sluice %s | sluice resumable: false %s\n' \
    "${bin_t[*]}" "${csv_t[*]}" "${full_t[*]}" "${one_t[*]}"

  # changes: a first run builds the index from v1, then the table becomes v2 (1 % updated, 1 % new).
  project "$dir/changes" changes
  measure "$sluice" --project "$dir/changes" run compounds -q >/dev/null
  rm -rf "$dir/changes.v1" && cp -a "$dir/changes" "$dir/changes.v1"
  load "$dir/compounds_v2.csv"
  want=$(/usr/bin/python3 -c "import json; e=json.load(open('$dir/compounds_expected.json')); print(e.get('inserted', e.get('inserts', 0)) + e.get('updated', e.get('updates', 0)))" 2>/dev/null || echo "?")
  ch_t=(); ch_kb=0
  for rep in $(seq "$repeat"); do  # each time from the state the v1 run left
    rm -rf "$dir/changes" && cp -a "$dir/changes.v1" "$dir/changes"
    read -r t kb < <(measure "$sluice" --project "$dir/changes" run compounds)
    ch_t+=("$t"); [ "$kb" -gt "$ch_kb" ] && ch_kb=$kb
    written=$(grep -o '[0-9]* rows written' "$data/cmd.out" | cut -d' ' -f1)
    [ "$written" = "$want" ] || { echo "changes run wrote $written rows, expected $want" >&2; exit 1; }
  done
  ch_s=$(median "${ch_t[@]}")
  printf 'changes  sluice median of %d %6.2fs (each run: %s), %s rows written (expected %s), peak RSS %d MB\n' \
    "$repeat" "$ch_s" "${ch_t[*]}" "$written" "$want" $((ch_kb / 1024))
  if [ "$rows" -le "$pandas_max" ]; then
    for extract in read_sql copy; do
      pd_t=(); pd_kb=0
      for rep in $(seq "$pandas_repeat"); do
        rm -rf "$dir/pandas" && mkdir -p "$dir/pandas"
        read -r t kb < <(measure /usr/bin/python3 "$peer" --dsn "host=$server port=$port user=postgres dbname=postgres" \
          --prev "$dir/compounds_v1.csv" --out "$dir/pandas" --extract "$extract" --hash md5 \
          --expect "$dir/compounds_expected.json")
        pd_t+=("$t"); [ "$kb" -gt "$pd_kb" ] && pd_kb=$kb
      done
      pd_s=$(median "${pd_t[@]}")
      printf 'changes  pandas_hashdiff --extract %-8s median of %d %7.2fs, peak RSS %d MB → sluice is %sx faster\n' "$extract" \
        "$pandas_repeat" "$pd_s" $((pd_kb / 1024)) "$(ratio "$pd_s" "$ch_s")"
    done
  fi
done
