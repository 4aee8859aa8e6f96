#!/usr/bin/env bash
# Installs the Debian 12 packages the project builds and runs with. Idempotent:
# packages already present are skipped, so a second run costs a few seconds.
# Needs root (apt-get); prints one clear line and exits non-zero otherwise.
set -euo pipefail

PKGS=(
  build-essential cmake pkg-config git ninja-build
  libv4l-dev libopencv-dev
  libzmq3-dev cppzmq-dev
  libprotobuf-dev protobuf-compiler
  libsqlite3-dev libpqxx-dev
  libboost-program-options-dev
  libtorch-dev libopenblas0-pthread
  libcpp-httplib-dev nlohmann-json3-dev libspdlog-dev libqrencode-dev prometheus-cpp-dev
  libavcodec-dev libavformat-dev libavutil-dev libswscale-dev
  libgtest-dev libgmock-dev libbenchmark-dev
  ffmpeg curl jq ccache
)
# For the tests only: the browser test (Debian's Chromium driven by
# Playwright under Node.js), the HTTP and ingest fuzzers (clang's libFuzzer)
# and the PostgreSQL server the shared stores are tested against (the CTest
# fixture in tests/support/pg_server.sh starts a private one). Their tests
# skip (exit 77) where these cannot be installed, so a failure here is a
# warning, not an error.
TEST_PKGS=(chromium clang libclang-rt-14-dev postgresql)
if ! command -v node >/dev/null 2>&1; then TEST_PKGS+=(nodejs); fi
if ! command -v npm >/dev/null 2>&1; then TEST_PKGS+=(npm); fi

missing=()
for p in "${PKGS[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done

missing_test=()
for p in "${TEST_PKGS[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing_test+=("$p")
  fi
done

if [ ${#missing[@]} -eq 0 ] && [ ${#missing_test[@]} -eq 0 ]; then
  echo "[deps] all ${#PKGS[@]} packages present (and the test tools)"
  exit 0
fi

SUDO=""
if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null 2>&1; then SUDO="sudo"; else
    echo "error: missing packages (${missing[*]}) and not root; run this script as root or install them with apt-get" >&2
    exit 1
  fi
fi

export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
if [ ${#missing[@]} -gt 0 ]; then
  echo "[deps] installing ${#missing[@]} missing packages: ${missing[*]}"
  $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
if [ ${#missing_test[@]} -gt 0 ]; then
  echo "[deps] installing test tools: ${missing_test[*]}"
  if ! $SUDO apt-get install -y -qq --no-install-recommends "${missing_test[@]}" >/dev/null; then
    echo "[deps] warning: could not install ${missing_test[*]}; the browser, fuzz or PostgreSQL tests will be skipped" >&2
  fi
fi
# Debian's libtorch uses whichever BLAS the alternatives select; make sure the
# threaded OpenBLAS wins over the single-threaded reference BLAS.
for alt in libblas.so.3-x86_64-linux-gnu liblapack.so.3-x86_64-linux-gnu; do
  path=$(update-alternatives --list "$alt" 2>/dev/null | grep openblas-pthread | head -n1 || true)
  if [ -n "$path" ]; then $SUDO update-alternatives --set "$alt" "$path" >/dev/null; fi
done
echo "[deps] done"
