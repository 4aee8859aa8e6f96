#!/usr/bin/env bash
# Records the CPU time of every thread of process PID about once a second,
# until the process ends:
#   bench/proc_cpu_sampler.sh PID OUT
# Each line of OUT: EPOCH_SECONDS TID TICKS, TICKS being the thread's user +
# system time in clock ticks (/proc/PID/task/TID/stat). bench/run.sh demo
# turns two snapshots into trainer.threads[job=demo] (bench/README.md).
# Bash builtins only: the sampler itself costs next to nothing.
set -uo pipefail
pid=$1 out=$2
: >"$out"
while [ -d "/proc/$pid/task" ]; do
  now=$EPOCHREALTIME
  snapshot=""
  for stat in /proc/"$pid"/task/*/stat; do
    read -r line <"$stat" 2>/dev/null || continue
    tid=${stat%/stat}
    tid=${tid##*/}
    # Fields after the command name (which may hold spaces, in parentheses):
    # state is field 3 (${1} here), utime 14 (${12}), stime 15 (${13}).
    set -f  # split on spaces, never globbed
    # shellcheck disable=SC2086
    set -- ${line##*) }
    set +f
    [ $# -ge 13 ] || continue
    snapshot+="$now $tid $((${12} + ${13}))"$'\n'
  done
  printf '%s' "$snapshot" >>"$out"
  sleep 1
done
