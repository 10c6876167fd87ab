#!/usr/bin/env bash
# One bounded fault: scripts/chaos/fault.sh [--compose | --dev-dir DIR] kill|pause|partition [TARGET] [SECONDS]
# TARGET: leader (default), follower, random or a node id. The fault is undone after SECONDS
# (default 5) — and on Ctrl-C or any error, by the EXIT trap.
source "$(dirname "$0")/lib.sh"
fault="${args[0]:?usage: fault.sh [--compose|--dev-dir DIR] kill|pause|partition [TARGET] [SECONDS]}"
target="${args[1]:-leader}"
seconds="${args[2]:-5}"
case "$fault" in
  kill) undo=restart ;;
  pause) undo=resume ;;
  partition) undo=heal ;;
  *) echo "unknown fault '$fault' (kill, pause, partition)" >&2; exit 2 ;;
esac
id=""
# Armed before injecting: an interrupted or half-done injection is undone too (heal undoes anything).
undo_it() { if [[ "$undo" == heal || -z "$id" ]]; then chaos heal; else chaos "$undo" "$id"; fi; }
trap undo_it EXIT
out="$(chaos "$fault" "$target")"
echo "$out"
id="${out##* }"
sleep "$seconds"
