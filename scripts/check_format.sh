#!/usr/bin/env bash
# Fails when a C++ file under src/ or tests/ differs from what .clang-format makes of it, naming the
# files; `make format` (the files changed since the last commit) or `clang-format -i FILE` fixes them.
#   check_format.sh [REPO_ROOT]
set -euo pipefail
root=$(cd "${1:-.}" && pwd)
formatter=$(command -v clang-format || true)
if [ -z "$formatter" ]; then
  echo "check_format: clang-format is not installed; run bash scripts/install-deps.sh" >&2
  exit 2
fi
cd "$root"
mapfile -t files < <(find src tests -type f \( -name '*.cpp' -o -name '*.hpp' \) | sort)
bad=()
for file in "${files[@]}"; do
  "$formatter" --dry-run --Werror "$file" >/dev/null 2>&1 || bad+=("$file")
done
if [ ${#bad[@]} -gt 0 ]; then
  printf 'check_format: %d file(s) are not formatted as .clang-format says:\n' "${#bad[@]}"
  printf '  %s\n' "${bad[@]}"
  echo "fix: clang-format -i FILE (or make format for the files you changed)"
  exit 1
fi
echo "check_format: ${#files[@]} files formatted"
