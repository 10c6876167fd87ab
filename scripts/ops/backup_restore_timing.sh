#!/usr/bin/env bash
# Backup and restore timings on a cluster holding N instances (default 100,000):
#   1. a fresh `metaraft dev` cluster, loaded with create_instance at 64 clients until N exist;
#   2. `metaraft ctl backup` while one client keeps writing (its p99 / max latency = the stall);
#   3. `metaraft restore` into three fresh dirs and a second `metaraft dev`-style cluster on them,
#      then a backup of the restored cluster: same record count.
# Usage: scripts/ops/backup_restore_timing.sh [N]     (BIN=path/to/metaraft to override)
set -euo pipefail
cd "$(dirname "$0")/../.."
N=${1:-100000}
BIN=${BIN:-target/release/metaraft}
[ -x "$BIN" ] || cargo build --release --bin metaraft
T=$(mktemp -d /tmp/metaraft-backup-timing.XXXX)
PIDS=()
cleanup() { for p in "${PIDS[@]}"; do kill -TERM "$p" 2>/dev/null || true; done; sleep 2; rm -rf "$T"; }
trap cleanup EXIT
ready() { for p in "$@"; do curl -sf "http://127.0.0.1:$p/readyz" >/dev/null || return 1; done; }
wait_ready() { for _ in $(seq 1 200); do ready "$@" && return 0; sleep 0.1; done; echo "cluster not ready" >&2; exit 1; }
now() { date +%s.%N; }
secs() { python3 -c "print(f'{$2-$1:.2f}')"; }

"$BIN" dev --data-dir "$T/src" --base-port 7100 --token t >"$T/src.log" 2>&1 &
PIDS+=($!)
wait_ready 7100 7101 7102
SRC=http://127.0.0.1:7100,http://127.0.0.1:7101,http://127.0.0.1:7102
created=0
t0=$(now)
while [ "$created" -lt "$N" ]; do
  out=$("$BIN" bench --targets "$SRC" --target-role leader --token t --clients 64 --duration 5s --json)
  created=$((created + $(echo "$out" | python3 -c 'import sys,json; print(sum(r["requests"]-r["errors"] for r in json.load(sys.stdin)["runs"]))')))
done
echo "loaded $created instances in $(secs "$t0" "$(now)") s"

# One client writing through the backup: its worst latency is what the backup costs writers.
"$BIN" bench --targets "$SRC" --target-role leader --token t --clients 1 --duration 6s --json >"$T/during.json" &
BENCH=$!
sleep 1
t0=$(now)
"$BIN" ctl --url "$SRC" --token t backup --out "$T/all.backup"
echo "backup: $(secs "$t0" "$(now)") s, $(stat -c %s "$T/all.backup") bytes"
wait $BENCH
python3 - "$T/during.json" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))["runs"][0]
print(f"writes during backup: {r['requests']} ok={r['requests'] - r['errors']} "
      f"p50 {r['p50_ms']:.2f} ms p99 {r['p99_ms']:.2f} ms max {r['max_ms']:.2f} ms")
PY

PEERS=1=127.0.0.1:7200,2=127.0.0.1:7201,3=127.0.0.1:7202
t0=$(now)
for i in 1 2 3; do
  "$BIN" restore --from "$T/all.backup" --data-dir "$T/dst/node-$i" --node-id "$i" --peers "$PEERS" | head -1
done
echo "restore x3: $(secs "$t0" "$(now)") s"
SECRET=timing-secret
for i in 1 2 3; do
  "$BIN" serve --node-id "$i" --listen "127.0.0.1:720$((i - 1))" --data-dir "$T/dst/node-$i" --peers "$PEERS" \
    --token t --cluster-secret "$SECRET" --encryption-key "$(cat "$T/src/encryption-key")" >"$T/dst-$i.log" 2>&1 &
  PIDS+=($!)
done
t0=$(now)
wait_ready 7200 7201 7202
echo "restored cluster ready in $(secs "$t0" "$(now)") s"
"$BIN" ctl --url http://127.0.0.1:7200,http://127.0.0.1:7201 --token t backup --out "$T/again.backup"
