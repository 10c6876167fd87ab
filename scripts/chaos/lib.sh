# Shared by the chaos scripts: finds the metaraft binary and the cluster to act on.
#   Cluster: --compose (the docker-compose stack) or --dev-dir DIR (a `metaraft dev` cluster;
#   default ./data). Binary: $METARAFT, else target/release/metaraft (built if missing).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
METARAFT="${METARAFT:-$root/target/release/metaraft}"
if [[ ! -x "$METARAFT" ]]; then
  (cd "$root" && cargo build --release --quiet)
fi
cluster=(--dev-dir "$root/data")
args=()
while [[ $# -gt 0 ]]; do
  case "$1" in
    --compose) cluster=(--compose); shift ;;
    --dev-dir) cluster=(--dev-dir "$2"); shift 2 ;;
    *) args+=("$1"); shift ;;
  esac
done
chaos() { "$METARAFT" chaos "${cluster[@]}" "$@"; }
