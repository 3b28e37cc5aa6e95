#!/usr/bin/env bash
# Test-only: what the browser test of the dashboard (tests/e2e/dashboard_test.mjs) needs, and
# nothing when it is already there. Installs Debian's chromium (/usr/bin/chromium) with apt-get
# when it is missing, and playwright-core at a pinned version from npm, once, into the cache.
# Prints the node_modules directory to give the test (NODE_PATH or --node-modules).
# Playwright never downloads a browser here: the test drives Debian's chromium.
# Env: SLUICE_CACHE (default ~/.cache/sluice).
set -euo pipefail

version=1.65.1 # playwright-core; needs node >= 20
dir="${SLUICE_CACHE:-$HOME/.cache/sluice}/node/playwright-core-$version"
stamp="$dir/.installed"

die() { echo "browser-deps: $*" >&2; exit 1; }

if [ ! -x /usr/bin/chromium ]; then
  echo "browser-deps: installing Debian's chromium" >&2
  sudo=""
  if [ "$(id -u)" -ne 0 ]; then sudo="sudo"; fi
  export DEBIAN_FRONTEND=noninteractive
  $sudo apt-get update -qq
  $sudo apt-get install -y -qq --no-install-recommends chromium >/dev/null
  [ -x /usr/bin/chromium ] || die "apt-get did not install /usr/bin/chromium"
fi

command -v node >/dev/null || die "node is missing (apt-get install nodejs npm)"
major=$(node -p 'process.versions.node.split(".")[0]')
[ "$major" -ge 20 ] || die "playwright-core $version needs node >= 20, found $(node --version)"

# The stamp is written last, so an interrupted install is redone from scratch.
if [ ! -f "$stamp" ] || [ ! -f "$dir/node_modules/playwright-core/package.json" ]; then
  command -v npm >/dev/null || die "npm is missing (apt-get install npm)"
  echo "browser-deps: installing playwright-core@$version into $dir (once)" >&2
  rm -rf "$dir"
  mkdir -p "$dir"
  PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm install --no-save --no-audit --no-fund --silent \
    --prefix "$dir" "playwright-core@$version" >&2 || die "npm could not install playwright-core"
  got=$(node -p "require('$dir/node_modules/playwright-core/package.json').version")
  [ "$got" = "$version" ] || die "npm installed playwright-core $got, not $version"
  touch "$stamp"
fi
echo "$dir/node_modules"
