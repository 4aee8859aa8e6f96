#!/usr/bin/env bash
# Builds a libFuzzer target with clang (address + undefined sanitizers) in
# its own build folder and runs it for a bounded time on a copy of its seed
# corpus. Exit code: the fuzzer's (0: nothing found), 77 when clang or its
# fuzzer runtime is not installed.
#
#   tests/fuzz/run_fuzzer.sh TARGET SECONDS SEED_DIR [DICTIONARY]
# BOOTH_FUZZ_BUILD_DIR: where to build (default build/fuzz).
set -euo pipefail
target=$1 seconds=$2 seeds=$(realpath "$3") dict=${4:+$(realpath "$4")}
root=$(cd "$(dirname "$0")/../.." && pwd)
build=${BOOTH_FUZZ_BUILD_DIR:-$root/build/fuzz}

if ! command -v clang++ >/dev/null 2>&1 || ! command -v clang >/dev/null 2>&1; then
  echo "SKIP: clang is not installed (deploy/install_deps.sh installs clang and libclang-rt-14-dev)"
  exit 77
fi
probe=$(mktemp -d)
trap 'rm -rf "$probe"' EXIT
printf 'extern "C" int LLVMFuzzerTestOneInput(const unsigned char*, unsigned long) { return 0; }\n' \
  > "$probe/p.cpp"
if ! clang++ -fsanitize=fuzzer,address,undefined "$probe/p.cpp" -o "$probe/p" 2>"$probe/err"; then
  echo "SKIP: clang cannot build a libFuzzer target here: $(head -n1 "$probe/err")"
  exit 77
fi

flags="-fsanitize=fuzzer-no-link,address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer -g -O1"
if [ ! -f "$build/CMakeCache.txt" ]; then
  generator=()
  if command -v ninja >/dev/null 2>&1; then generator=(-G Ninja); fi
  echo "[fuzz] configuring $build (clang, sanitizers)"
  CC=clang CXX=clang++ cmake -S "$root" -B "$build" "${generator[@]}" -DCMAKE_BUILD_TYPE=RelWithDebInfo \
    -DBOOTH_FUZZ=ON -DBOOTH_BUILD_TESTS=OFF -DBOOTH_BUILD_BENCH=OFF \
    "-DCMAKE_C_FLAGS=$flags" "-DCMAKE_CXX_FLAGS=$flags" \
    "-DCMAKE_EXE_LINKER_FLAGS=-fsanitize=address,undefined" >/dev/null
fi
echo "[fuzz] building $target"
cmake --build "$build" --target "$target" -j "${JOBS:-2}" >"$build/$target.build.log" 2>&1 ||
  { tail -n 30 "$build/$target.build.log"; exit 1; }

corpus=$(mktemp -d)
trap 'rm -rf "$probe" "$corpus"' EXIT
cp "$seeds"/* "$corpus"/
args=(-max_total_time="$seconds" -timeout=20 -rss_limit_mb=2048 -max_len=16384 -print_final_stats=1)
[ -n "$dict" ] && args+=(-dict="$dict")
echo "[fuzz] running $target for $seconds s from $(ls "$seeds" | wc -l) seeds"
cd "$build"  # crash-* files land here
exec "$build/tests/fuzz/$target" "${args[@]}" "$corpus"
