#!/usr/bin/env bash
# A private PostgreSQL server for the tests (the CTest fixture `postgres`):
#   pg_server.sh start STATE_DIR   initdb + pg_ctl start in a new folder under
#                                  ${TMPDIR:-/tmp}, a database `booth_test`;
#                                  writes STATE_DIR/database_url
#   pg_server.sh stop STATE_DIR    stops that server and removes its folder
#   pg_server.sh crash STATE_DIR   stops it at once (pg_ctl -m immediate, as a
#                                  crash), keeping its folder and port
#   pg_server.sh restart STATE_DIR starts it again after a crash
#
# The server listens on 127.0.0.1 only, on a free port (tried at random and
# retried when taken), with its unix socket in its own 0700 folder; the
# role `booth` has a random password (scram-sha-256 over TCP). initdb and
# pg_ctl refuse to run as root, so under root they run as the `postgres`
# user (Debian's postgresql package creates it) and the folder is theirs;
# it lives under /tmp, not in the build tree, which may sit in root's home.
#
# Where the server programs are absent (Debian's `postgresql` not installed:
# deploy/install_deps.sh installs it) or root has no `postgres` user to run
# them as, `start` writes STATE_DIR/skip_reason instead and exits 0: the
# tests that need the server then exit 77 with that reason. A server that is
# installed but does not start is a failure (exit 1, with its log).
set -euo pipefail

usage() { echo "usage: $0 start|stop|crash|restart STATE_DIR" >&2; exit 2; }
[ $# -eq 2 ] || usage
action=$1
state=$2

run_pg() {  # runs a server program as the user that owns the folder
  if [ "$(id -u)" -eq 0 ]; then
    (cd / && runuser -u postgres -- "$@")
  else
    (cd / && "$@")
  fi
}

stop_server() {
  [ -f "$state/server_dir" ] || return 0
  local dir bin
  dir=$(cat "$state/server_dir")
  bin=$(cat "$state/pg_bin" 2>/dev/null || true)
  if [ -n "$bin" ] && [ -f "$dir/data/postmaster.pid" ]; then
    run_pg "$bin/pg_ctl" -D "$dir/data" -m fast -w -t 60 stop >/dev/null 2>&1 || true
  fi
  case "$dir" in
    */booth-pg.*) rm -rf -- "$dir" ;;
    *) echo "[pg] not removing unexpected folder '$dir'" >&2 ;;
  esac
  rm -f "$state/server_dir" "$state/pg_bin" "$state/database_url"
}

skip() {
  echo "[pg] $1; tests that need PostgreSQL will be skipped" >&2
  printf '%s\n' "$1" >"$state/skip_reason"
  exit 0
}

case "$action" in
  stop)
    stop_server
    rm -f "$state/skip_reason"
    echo "[pg] stopped"
    exit 0
    ;;
  crash | restart)
    dir=$(cat "$state/server_dir")
    bin=$(cat "$state/pg_bin")
    if [ "$action" = crash ]; then
      run_pg "$bin/pg_ctl" -D "$dir/data" -m immediate -w -t 60 stop >/dev/null
    else
      run_pg "$bin/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 start >/dev/null
    fi
    echo "[pg] $action done"
    exit 0
    ;;
  start) ;;
  *) usage ;;
esac

mkdir -p "$state"
# A server left by an interrupted run (its cleanup never ran) goes first.
stop_server
rm -f "$state/skip_reason"

# BOOTH_PG_BIN: the folder of initdb/pg_ctl/postgres/psql, where they are
# not Debian's.
bin=""
for d in ${BOOTH_PG_BIN:-/usr/lib/postgresql/*/bin}; do
  if [ -x "$d/initdb" ] && [ -x "$d/pg_ctl" ]; then bin=$d; fi  # the glob sorts: newest last
done
[ -n "$bin" ] || skip "PostgreSQL server programs not found in ${BOOTH_PG_BIN:-/usr/lib/postgresql/*/bin} (Debian package 'postgresql'; deploy/install_deps.sh installs it)"
if [ "$(id -u)" -eq 0 ] && ! id postgres >/dev/null 2>&1; then
  skip "running as root and there is no 'postgres' user to run initdb/pg_ctl as"
fi

dir=$(mktemp -d "${TMPDIR:-/tmp}/booth-pg.XXXXXX")
printf '%s\n' "$dir" >"$state/server_dir"
printf '%s\n' "$bin" >"$state/pg_bin"
chmod 0700 "$dir"
if [ "$(id -u)" -eq 0 ]; then chown postgres:postgres "$dir"; fi

password=$(od -An -N16 -tx1 /dev/urandom | tr -d ' \n')
( umask 077; printf '%s\n' "$password" >"$dir/pwfile" )
if [ "$(id -u)" -eq 0 ]; then chown postgres:postgres "$dir/pwfile"; fi

if ! run_pg "$bin/initdb" -D "$dir/data" -U booth --pwfile="$dir/pwfile" -E UTF8 --locale=C \
    --auth-local=trust --auth-host=scram-sha-256 --no-sync >"$state/initdb.log" 2>&1; then
  cat "$state/initdb.log" >&2
  echo "[pg] initdb failed (log above)" >&2
  exit 1
fi
rm -f "$dir/pwfile"

# Tests need no durability across a machine crash: no fsync, small buffers.
# A stop with `-m immediate` (a server crash) still keeps every committed
# transaction: its WAL is written to the page cache at commit
# (synchronous_commit stays on; off would lose the last ones).
# PG_SERVER_FSYNC=on (benchmarks that compare with fsync'd files): fsync and
# full-page writes on, as a production server has them.
durable=${PG_SERVER_FSYNC:-off}
case "$durable" in on|off) ;; *) echo "[pg] PG_SERVER_FSYNC must be on or off, not '$durable'" >&2; exit 2 ;; esac
{
  echo "listen_addresses = '127.0.0.1'"
  echo "unix_socket_directories = '$dir'"
  echo "fsync = $durable"
  echo "full_page_writes = $durable"
  echo "shared_buffers = 32MB"
  echo "max_connections = 200"
} | run_pg tee -a "$dir/data/postgresql.conf" >/dev/null

port=""
for attempt in 1 2 3 4 5 6 7 8; do
  candidate=$((20000 + (RANDOM * 32768 + RANDOM) % 40000))
  if run_pg "$bin/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 \
      -o "-p $candidate" start >/dev/null 2>&1; then
    port=$candidate
    break
  fi
  if ! grep -qE 'could not bind|Address already in use|could not create any TCP/IP sockets' \
      "$dir/server.log" 2>/dev/null; then
    break
  fi
  echo "[pg] port $candidate taken (attempt $attempt), trying another" >&2
done
if [ -z "$port" ]; then
  cat "$dir/server.log" >&2 || true
  echo "[pg] the server did not start (log above)" >&2
  stop_server
  exit 1
fi
# Pin the port for restarts (a test may stop and start the server again).
echo "port = $port" | run_pg tee -a "$dir/data/postgresql.conf" >/dev/null

if ! run_pg "$bin/psql" -X -q -h "$dir" -p "$port" -U booth -d postgres \
    -c 'CREATE DATABASE booth_test' >/dev/null; then
  echo "[pg] could not create the test database" >&2
  stop_server
  exit 1
fi

url="postgresql://booth:$password@127.0.0.1:$port/booth_test"
( umask 077; printf '%s\n' "$url" >"$state/database_url" )
echo "[pg] PostgreSQL $("$bin/postgres" --version | awk '{print $3}') on 127.0.0.1:$port, folder $dir"
