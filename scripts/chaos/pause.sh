#!/usr/bin/env bash
# scripts/chaos/pause.sh [--compose | --dev-dir DIR] [TARGET] [SECONDS]: see fault.sh.
exec "$(dirname "$0")/fault.sh" pause "$@"
