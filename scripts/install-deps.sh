#!/usr/bin/env bash
# Installs everything sluice needs to build, test and benchmark on Debian 12.
# Idempotent: installs only what is missing. Run as root (or with sudo available).
set -euo pipefail

APT_PACKAGES=(
  build-essential cmake pkg-config git ca-certificates time
  libpq-dev libsqlite3-dev libyaml-cpp-dev nlohmann-json3-dev libcli11-dev
  libspdlog-dev libfmt-dev libcpp-httplib-dev libcurl4-openssl-dev libssl-dev
  libzstd-dev libarchive-dev zlib1g-dev
  libgtest-dev libgmock-dev libbenchmark-dev
  postgresql-15 postgresql-client-15
  python3 python3-aiosmtpd python3-boto3 python3-botocore python3-pandas python3-psycopg2 python3-yaml
  zip bc tzdata ccache clang-format
  chromium
)
# `install-deps.sh fuzz` (make fuzz) also installs Debian's clang and libFuzzer.
if [ "${1:-}" = "fuzz" ]; then APT_PACKAGES+=(clang libclang-rt-14-dev); fi
# `install-deps.sh style` (make tidy) also installs clang-tidy; clang-format is always there (the
# suite's format test).
if [ "${1:-}" = "style" ]; then APT_PACKAGES+=(clang-tidy); fi

sudo_if_needed() {
  if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi
}

missing=()
for pkg in "${APT_PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
done
# Node.js images often ship npm inside their nodejs package (it conflicts with Debian's npm).
command -v node >/dev/null 2>&1 || missing+=(nodejs)
command -v npm >/dev/null 2>&1 || missing+=(npm)
if [ ${#missing[@]} -gt 0 ]; then
  echo "install-deps: installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  sudo_if_needed apt-get update -qq
  sudo_if_needed apt-get install -y -qq --no-install-recommends "${missing[@]}"
else
  echo "install-deps: apt packages present"
fi

# Test-only npm tools (independent Parquet reader); installed into a cache folder, never committed.
root=$(cd "$(dirname "$0")/.." && pwd)
tools="$root/build/_npm_tools"
if [ ! -f "$tools/node_modules/hyparquet/package.json" ] || [ ! -f "$tools/node_modules/hyparquet-compressors/package.json" ]; then
  mkdir -p "$tools"
  [ -f "$tools/package.json" ] || echo '{"name":"sluice-test-tools","private":true}' >"$tools/package.json"
  (cd "$tools" && npm install --silent --no-audit --no-fund hyparquet@1.31.5 hyparquet-compressors >/dev/null)
  echo "install-deps: npm test tools installed in $tools"
fi
# Independent Iceberg reader and Avro library for the table-format tests.
if [ ! -f "$tools/node_modules/icebird/package.json" ] || [ ! -f "$tools/node_modules/avsc/package.json" ] || [ ! -f "$tools/node_modules/iceberg-js/package.json" ]; then
  mkdir -p "$tools"
  [ -f "$tools/package.json" ] || echo '{"name":"sluice-test-tools","private":true}' >"$tools/package.json"
  (cd "$tools" && npm install --silent --no-audit --no-fund icebird@0.3.1 avsc@5.7.9 iceberg-js@1.0.0 >/dev/null)
  echo "install-deps: icebird, avsc and iceberg-js installed in $tools"
fi
# S3-compatible server for the S3 store's tests (issue 6).
if [ ! -f "$tools/node_modules/s3rver/package.json" ]; then
  mkdir -p "$tools"
  [ -f "$tools/package.json" ] || echo '{"name":"sluice-test-tools","private":true}' >"$tools/package.json"
  (cd "$tools" && npm install --silent --no-audit --no-fund s3rver@3.7.1 >/dev/null)
  echo "install-deps: s3rver installed in $tools"
fi
# AWS SDK Firehose client for the Firehose-compatibility tests of streams (docs/streams.md); 3.723 runs on Node 18.
if [ ! -f "$tools/node_modules/@aws-sdk/client-firehose/package.json" ]; then
  mkdir -p "$tools"
  [ -f "$tools/package.json" ] || echo '{"name":"sluice-test-tools","private":true}' >"$tools/package.json"
  (cd "$tools" && npm install --silent --no-audit --no-fund @aws-sdk/client-firehose@3.723.0 >/dev/null)
  echo "install-deps: @aws-sdk/client-firehose installed in $tools"
fi
# Headless Chromium driver for the web UI's browser tests (issue 18); the browser is Debian's chromium.
if [ ! -f "$tools/node_modules/puppeteer-core/package.json" ]; then
  mkdir -p "$tools"
  [ -f "$tools/package.json" ] || echo '{"name":"sluice-test-tools","private":true}' >"$tools/package.json"
  (cd "$tools" && npm install --silent --no-audit --no-fund puppeteer-core@24.43.1 >/dev/null)
  echo "install-deps: puppeteer-core installed in $tools"
fi
