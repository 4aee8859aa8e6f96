#!/usr/bin/env bash
# Makes the CURVE keys of a trainer and its capture nodes on one machine,
# and the trainer's allow-list, unless they exist already:
#   DIR/trainer.key, DIR/trainer.pub     the trainer's pair
#   DIR/NODE.key, DIR/NODE.pub           one pair per capture node
#   DIR/allowed_nodes                    "<node-id> <public key>" per node
# For a real booth make each node's pair on the node itself
# (capture_node keygen) and copy only the .pub files around.
#
#   deploy/make_keys.sh DIR NODE_ID [NODE_ID ...]
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=${BUILD_DIR:-build/release}
TRAINER_BIN=${TRAINER_BIN:-$BIN/trainer_node/trainer_node}
CAPTURE_BIN=${CAPTURE_BIN:-$BIN/capture_node/capture_node}
[ $# -ge 2 ] || { echo "usage: deploy/make_keys.sh DIR NODE_ID [NODE_ID ...]" >&2; exit 2; }
dir=$1; shift
mkdir -p "$dir"
chmod 700 "$dir"
[ -f "$dir/trainer.key" ] || "$TRAINER_BIN" keygen --out "$dir/trainer" >/dev/null
touch "$dir/allowed_nodes"
for node in "$@"; do
  [ -f "$dir/$node.key" ] || "$CAPTURE_BIN" keygen --out "$dir/$node" >/dev/null
  if ! grep -q "^$node " "$dir/allowed_nodes"; then
    echo "$node $(cat "$dir/$node.pub")" >> "$dir/allowed_nodes"
  fi
done
