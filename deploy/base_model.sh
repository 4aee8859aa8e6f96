#!/usr/bin/env bash
# The booth's base checkpoint: every visitor's fine-tuning starts from it
# (trainer_node --base-checkpoint). It is made by 'trainer_node pretrain' on
# the built-in synthetic corpus (performers x choreographies) with a fixed
# recipe, once, and cached; this script prints the cached file's path,
# making it first when it is missing.
#
#   deploy/base_model.sh RECIPE        RECIPE: demo | bench-128 | bench-256
#   deploy/base_model.sh --recipe RECIPE   (print the pretrain arguments only)
#
# Recipes:
#   demo       128x128, 3000 iterations capped at 420 s of wall clock (so a
#              first demo on 2 cores stays within 15 minutes), every built-in
#              choreography, 12 random performers plus the built-in ones
#              except 'ada', the synthetic camera's visitor: the demo's
#              fine-tuning learns a person the base has never seen.
#   bench-128  128x128, 20000 iterations, without ada and without the
#              choreographies 'warmup' (the visitor's) and 'disco' (the one
#              rendered): what bench/run.sh trainer-quality compares against.
#   bench-256  the same at 256x256, 6000 iterations.
# Iteration counts make a recipe reproducible; the demo's time cap makes its
# base depend on the machine's speed (a slower machine stops earlier in the
# same schedule, which is compressed to fit).
#
# The cache (BASE_CACHE, default build/base-models) is keyed by the recipe
# and the git trees of trainer_node/train, trainer_node/pretrain and
# common/synthetic, so a change to the model or the corpus makes a new base. An interrupted pretrain resumes from '<file>.resume' next time.
# Progress goes to stderr; the path is the only line on stdout.
set -euo pipefail
cd "$(dirname "$0")/.."

recipe() {
  local common="--random-performers 12 --clips-per-pair 2 --clip-seconds 4 --corpus-seed 1 --seed 1"
  case "$1" in
    demo) echo "--resolution 128 --iterations 3000 --max-seconds 420 --hold-out-performers ada $common" ;;
    bench-128) echo "--resolution 128 --iterations 20000 --hold-out-performers ada" \
                    "--hold-out-choreographies warmup,disco $common" ;;
    bench-256) echo "--resolution 256 --iterations 6000 --hold-out-performers ada" \
                    "--hold-out-choreographies warmup,disco $common" ;;
    *) echo "base_model: error: unknown recipe '$1' (demo, bench-128, bench-256)" >&2; exit 2 ;;
  esac
}

if [ "${1:-}" = "--recipe" ]; then recipe "${2:-}"; exit 0; fi
[ $# -eq 1 ] || { sed -n '2,27p' "$0" | sed 's/^# \{0,1\}//' >&2; exit 2; }
name=$1
args=$(recipe "$name")
cache=${BASE_CACHE:-build/base-models}
tree=$(git rev-parse HEAD:trainer_node/train HEAD:trainer_node/pretrain HEAD:common/synthetic 2>/dev/null | tr '\n' ' ' || echo untracked)
key=$(echo "$args $tree" | sha1sum | cut -c1-12)
base="$cache/base-$name-$key.pt"
if [ ! -f "$base" ]; then
  mkdir -p "$cache"
  bin=${BUILD_DIR:-build/release}/trainer_node/trainer_node
  [ -x "$bin" ] || deploy/build.sh trainer_node >&2
  echo "[base] making the base model '$name' once: trainer_node pretrain $args --out $base" >&2
  # shellcheck disable=SC2086
  "$bin" pretrain $args --out "$base" --progress lines >&2
fi
echo "$base"
