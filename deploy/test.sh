#!/usr/bin/env bash
# Installs what is missing, builds everything (Release) and runs the whole
# CTest suite. Tests that need a camera, a GPU or ../shared skip (exit 77).
set -euo pipefail
cd "$(dirname "$0")/.."
deploy/install_deps.sh
deploy/build.sh
# The browser test's npm packages (exact versions from package-lock.json);
# without them (no npm, no registry) that test skips.
if command -v npm >/dev/null 2>&1; then
  npm ci --prefix tests/browser --no-audit --no-fund >/dev/null ||
    echo "[test] warning: npm ci failed in tests/browser; the browser test will be skipped" >&2
fi
ctest --test-dir "${BUILD_DIR:-build/release}" --output-on-failure -j 2 --timeout 600
