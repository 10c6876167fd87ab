#!/usr/bin/env bash
# Repeated `metaraft verify` runs against a fresh local cluster (one IP per node, so partitions
# work; needs root for iptables):  scripts/chaos/verify-runs.sh [RUNS] [DURATION] [FAULTS]
# Prints one line per run and a total; exits non-zero if any run found an anomaly. Outputs and
# histories are kept under $OUT (default: a new temp dir).
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
runs="${1:-20}"; duration="${2:-60s}"; faults="${3:-kill,pause,partition}"
METARAFT="${METARAFT:-$root/target/release/metaraft}"
[[ -x "$METARAFT" ]] || (cd "$root" && cargo build --release --quiet)
out="${OUT:-$(mktemp -d)}"; data="$out/data"; mkdir -p "$data"
base=$((20000 + RANDOM % 10000))
"$METARAFT" dev --data-dir "$data" --base-port "$base" --ip-per-node >"$out/dev.out" 2>&1 &
dev=$!
cleanup() { "$METARAFT" chaos --dev-dir "$data" heal >/dev/null 2>&1 || true; kill "$dev" 2>/dev/null || true; wait "$dev" 2>/dev/null || true; }
trap cleanup EXIT
until [[ -f "$data/members" ]]; do
  kill -0 "$dev" 2>/dev/null || { echo "metaraft dev exited:"; cat "$out/dev.out"; exit 1; }
  sleep 0.2
done
failed=0; ops=0; events=0
for i in $(seq 1 "$runs"); do
  if "$METARAFT" verify --quiet --dev-dir "$data" --duration "$duration" --nemesis "$faults" \
      --history "$out/run-$i.json" >"$out/run-$i.out" 2>&1; then verdict=ok; else verdict=FAILED; failed=$((failed + 1)); fi
  n=$(grep -oP '^\d+(?= operations)' "$out/run-$i.out" || echo 0)
  e=$(grep -oP '(?<=== nemesis: )\d+' "$out/run-$i.out" || echo 0)
  ops=$((ops + n)); events=$((events + e))
  echo "run $i: $verdict — $(grep -E '^[0-9]+ operations' "$out/run-$i.out" || true); $e nemesis events; $(grep -E '^== (checker|result)' "$out/run-$i.out" | tr '\n' ' ')"
done
echo "total: $runs runs, $ops operations, $events nemesis events, $failed run(s) with anomalies; outputs in $out"
exit $((failed > 0))
