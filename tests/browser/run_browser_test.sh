#!/usr/bin/env bash
# CTest entry of the browser test (label `browser`). Skips with exit code 77
# and one clear line when what it needs is not installed: Debian's
# chromium, Node.js 20+ and the npm packages of package-lock.json
# (deploy/install_deps.sh installs the first two, deploy/test.sh runs
# `npm ci` here).
set -u
here=$(cd "$(dirname "$0")" && pwd)
if [ ! -x /usr/bin/chromium ]; then
  echo "SKIP: /usr/bin/chromium is not installed (deploy/install_deps.sh installs Debian's chromium)"
  exit 77
fi
if ! command -v node >/dev/null 2>&1; then
  echo "SKIP: Node.js is not installed (deploy/install_deps.sh installs nodejs)"
  exit 77
fi
major=$(node -p 'process.versions.node.split(".")[0]')
if [ "$major" -lt 20 ]; then
  echo "SKIP: playwright-core needs Node.js 20 or newer, found $(node --version)"
  exit 77
fi
if [ ! -f "$here/node_modules/playwright-core/package.json" ] || [ ! -f "$here/node_modules/jsqr/package.json" ]; then
  echo "SKIP: the browser test's npm packages are missing: run 'npm ci --prefix tests/browser' (deploy/test.sh does)"
  exit 77
fi
exec node "$here/operator_flow.mjs" "$@"
