#!/usr/bin/env bash
# Installs what is missing, builds everything (Release) and runs the whole
# CTest suite. Tests that need a camera, a GPU or ../shared skip (exit 77).
set -euo pipefail
cd "$(dirname "$0")/.."
deploy/install_deps.sh
deploy/build.sh
ctest --test-dir "${BUILD_DIR:-build/release}" --output-on-failure -j 2 --timeout 600
