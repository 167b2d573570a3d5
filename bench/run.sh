#!/usr/bin/env bash
# All benchmarks, each against its baseline measured in the same run.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
build=${1:-build}
echo "== CSV → raw Parquet (sluice run vs bare DuckDB COPY)"
"$here/files_to_raw.sh" "$build" ${BENCH_ROWS:-1000000 5000000}
echo "== S3 upload/download of a 1 GiB file (sluice's S3 store vs boto3, s3rver on loopback)"
/usr/bin/python3 "$here/s3_throughput.py" "$build" ${BENCH_S3_MB:-1024}
echo "== PostgreSQL → raw (sluice full/changes vs psql \\copy and pandas_hashdiff)"
"$here/pg_extract.sh" "$build" ${BENCH_ROWS:-1000000 5000000}
echo "== raw → silver: clean + dedupe + repartition (sluice run vs the same SQL in bare DuckDB)"
"$here/processing_clean.sh" "$build" ${BENCH_PROCESSING_ROWS:-10000000}
echo "== CSV drop → typed PostgreSQL staging → analytics SQL (sluice run vs pandas --load copy and psql \\copy)"
"$here/pg_staging_analytics.sh" "$build" ${BENCH_STAGING_ORDERS:-1000000}
