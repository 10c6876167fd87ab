#!/usr/bin/env bash
# A random fault schedule for SECONDS (default 60): every few seconds one of FAULTS (default
# kill,pause,partition) hits the leader or a random node for 1–3 s. Everything is healed at the end,
# on Ctrl-C and on error.   scripts/chaos/random.sh [--compose | --dev-dir DIR] [SECONDS] [FAULTS]
source "$(dirname "$0")/lib.sh"
seconds="${args[0]:-60}"
IFS=, read -r -a faults <<< "${args[1]:-kill,pause,partition}"
trap 'chaos heal >/dev/null' EXIT
end=$((SECONDS + seconds))
while (( SECONDS + 3 < end )); do
  fault="${faults[RANDOM % ${#faults[@]}]}"
  target=$([[ $((RANDOM % 2)) == 0 ]] && echo leader || echo random)
  if out="$(chaos "$fault" "$target" 2>&1)"; then
    echo "$(date +%T) $out"
    sleep $((1 + RANDOM % 3))
    chaos heal >/dev/null
    echo "$(date +%T) healed"
  else
    echo "$(date +%T) skipped $fault: $out"
  fi
  sleep $((1 + RANDOM % 3))
done
