#!/usr/bin/env bash
# All benchmarks, each against its baseline measured in the same run.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
build=${1:-build}
echo "== CSV → raw Parquet (sluice run vs bare DuckDB COPY)"
"$here/files_to_raw.sh" "$build" ${BENCH_ROWS:-1000000 5000000}
echo "== raw → silver: clean + dedupe + repartition (sluice run vs the same SQL in bare DuckDB)"
"$here/processing_clean.sh" "$build" ${BENCH_PROCESSING_ROWS:-10000000}
