#!/usr/bin/env bash
# Benchmarks of the dance booth. Each prints one line per figure:
#   figure.name[param=value] = 123.4 unit  (target >= 100)
#
#   bench/run.sh                 list the benchmarks
#   bench/run.sh NAME [--quick]  build what it needs (Release) and run one
set -euo pipefail
cd "$(dirname "$0")/.."

list() {
  cat <<'LIST'
demo    A whole booth session through deploy/demo.sh --headless (synthetic camera):
        demo.seconds_to_clip and its parts demo.capture_seconds, demo.transfer_seconds,
        demo.train_seconds, demo.render_seconds, plus demo.train_iterations_per_second.
        --quick: 5 s capture and a 30 s training budget instead of 15 s and 240 s.
transport
        Frames from capture nodes into the trainer's store over CURVE on loopback, durable
        acks (fsync): transport.fps[nodes=1], transport.fps[nodes=4], transport.mb_per_s[nodes=1],
        transport.fps_reqrep_baseline (one blocking request/reply per frame) and
        transport.speedup_vs_reqrep. --quick: fewer frames.
pipeline
        The whole edge pipeline with real processes: 2 synthetic cameras at 120 fps for 15 s,
        network pose on 2 workers, spool, streamer, trainer: pipeline.seconds_after_capture,
        pipeline.peak_rss_mb. Needs ../shared/assets. --quick: 5 s.
LIST
}

figure() {  # name value unit target
  printf '%s = %s %s  (target %s)\n' "$1" "$2" "$3" "$4"
}

bench_demo() {
  local seconds=15 budget=240
  if [ "${1:-}" = "--quick" ]; then seconds=5; budget=30; fi
  local out; out=$(mktemp -d)
  local t0; t0=$(date +%s.%N)
  RUN_DIR="$out/run" deploy/demo.sh --headless --seconds "$seconds" --budget "$budget" \
    --job-json "$out/job.json" >"$out/demo.log" 2>&1 || { cat "$out/demo.log" >&2; exit 1; }
  local job="$out/job.json"
  # Seconds from the operator's Start (job created) to the clip (job done),
  # after the build.
  local to_clip; to_clip=$(jq -r '(.updated_ms - .created_ms) / 1000' "$job")
  local p="seconds=$seconds,budget=$budget"
  figure "demo.seconds_to_clip[$p]" "$(printf '%.1f' "$to_clip")" s "<= 600"
  figure "demo.capture_seconds[$p]" "$(jq -r '.timings.capture_seconds + .timings.pose_seconds | .*10|round/10' "$job")" s "<= $((seconds + 1))"
  figure "demo.transfer_seconds[$p]" "$(jq -r '.timings.transfer_seconds | .*100|round/100' "$job")" s "<= 5"
  figure "demo.train_seconds[$p]" "$(jq -r '.timings.train_seconds | .*10|round/10' "$job")" s "<= $((budget + 1)) (budget + the last step)"
  figure "demo.render_seconds[$p,frames=$(jq -r .clip.frames "$job")]" "$(jq -r '.timings.render_seconds | .*10|round/10' "$job")" s "<= 30"
  figure "demo.train_iterations_per_second[$p,resolution=128]" "$(jq -r '.iterations_per_second | .*100|round/100' "$job")" it/s ">= 2"
  echo "# clip: $(jq -r '(.clip.width|tostring) + "x" + (.clip.height|tostring) + ", " + (.clip.frames|tostring) + " frames, " + (.clip.bytes|tostring) + " bytes"' "$job"); iterations $(jq -r .iterations "$job"); log $out/demo.log"
}

bench_transport() {
  deploy/build.sh transport_bench >/dev/null
  "${BUILD_DIR:-build/release}/bench/transport_bench" "$@"
}

bench_pipeline() {
  deploy/build.sh trainer_node capture_node >/dev/null
  bench/pipeline_bench.sh "$@"
}

case "${1:-}" in
  ""|-h|--help|list) list ;;
  demo) shift; bench_demo "$@" ;;
  transport) shift; bench_transport "$@" ;;
  pipeline) shift; bench_pipeline "$@" ;;
  *) echo "bench: error: unknown benchmark '$1'" >&2; list >&2; exit 2 ;;
esac
