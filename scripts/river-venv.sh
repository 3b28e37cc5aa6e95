#!/usr/bin/env bash
# Creates (once) a Python virtual environment with exactly river==0.26.1 from PyPI, outside the
# clone, and prints its python. Reused when it already works; SLUICE_RIVER_VENV overrides the
# place. pip resolves river's dependencies; the set it resolved is written to
# <venv>/resolved-requirements.txt (pip freeze) and listed in tests/river/README.md.
set -euo pipefail
version=0.26.1
venv=${SLUICE_RIVER_VENV:-${XDG_CACHE_HOME:-$HOME/.cache}/sluice/river-$version}
python="$venv/bin/python"
check() { "$python" -c "import river, sys; sys.exit(river.__version__ != '$version')" 2>/dev/null; }
if [ ! -x "$python" ] || ! check; then
  echo "river-venv: creating $venv (river==$version from PyPI)" >&2
  rm -rf "$venv"
  mkdir -p "$(dirname "$venv")"
  python3 -m venv "$venv" >&2
  "$python" -m pip install --quiet --disable-pip-version-check "river==$version" >&2
  "$python" -m pip freeze --disable-pip-version-check >"$venv/resolved-requirements.txt"
  check || { echo "river-venv: river $version did not install" >&2; exit 1; }
fi
echo "$python"
