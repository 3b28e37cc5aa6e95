#!/usr/bin/env bash
# Fails if any C++ file differs from clang-format's output (.clang-format, clang-format 14).
set -euo pipefail
cd "$(dirname "$0")/.."
if ! command -v clang-format >/dev/null; then
  echo "format: clang-format not installed, check skipped" >&2
  exit 0
fi
status=0
while IFS= read -r f; do
  if ! clang-format --dry-run --Werror "$f" >/dev/null 2>&1; then
    echo "format: $f differs from clang-format (run: clang-format -i $f)" >&2
    status=1
  fi
done < <(git ls-files '*.h' '*.cc')
[ $status -eq 0 ] && echo "format: ok"
exit $status
