#!/usr/bin/env bash
# The first-time loop: an example project, one pipeline run into a local lake, a query.
set -euo pipefail
build=${1:-build}
sluice="$(cd "$build" && pwd)/sluice"
demo="$build/demo"
rm -rf "$demo"
"$sluice" init "$demo"
cd "$demo"
echo
"$sluice" run birdstrikes
echo
"$sluice" catalog list
echo
"$sluice" query "SELECT state, count(*) AS strikes, sum(cost_usd) AS cost_usd
                 FROM raw.birdstrikes GROUP BY state ORDER BY strikes DESC LIMIT 5"
echo
"$sluice" query "SELECT _source_file, _line, _reason FROM raw.birdstrikes__rejects"
echo
echo "Running again loads nothing new:"
"$sluice" run birdstrikes
