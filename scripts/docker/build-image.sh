#!/usr/bin/env bash
# Builds the static metaraft binary and the FROM-scratch image metaraft:latest, offline.
#
#   scripts/docker/build-image.sh            # image tag from $METARAFT_IMAGE, default metaraft:latest
#
# The binary is a static-pie glibc build (x86_64-unknown-linux-gnu, +crt-static) made with cargo's
# usual target dir ($CARGO_TARGET_DIR, default ./target), so CI reuses its cache. The docker build
# context is a temporary directory holding only docker/Dockerfile, docker/rootfs/, the binary and an
# empty data/ directory. Uses BuildKit when the buildx plugin is installed, else the classic builder.
set -euo pipefail
cd "$(dirname "$0")/../.."

image=${METARAFT_IMAGE:-metaraft:latest}
triple=x86_64-unknown-linux-gnu
target_dir=${CARGO_TARGET_DIR:-target}

echo "build-image: cargo build --release --target $triple (static, target dir $target_dir)"
RUSTFLAGS="${RUSTFLAGS:-} -C target-feature=+crt-static" \
  cargo build --release --target "$triple" --bin metaraft
bin="$target_dir/$triple/release/metaraft"

# A static binary has no program interpreter; refuse to ship one that needs a dynamic loader.
if command -v readelf >/dev/null && readelf -l "$bin" | grep -q 'Requesting program interpreter'; then
  echo "build-image: $bin is dynamically linked; the scratch image needs a static binary" >&2
  exit 1
fi

ctx=$(mktemp -d)
trap 'rm -rf "$ctx"' EXIT
cp docker/Dockerfile "$ctx/"
cp -r docker/rootfs "$ctx/rootfs"
mkdir "$ctx/data"
cp "$bin" "$ctx/metaraft"
strip "$ctx/metaraft" 2>/dev/null || true

if docker buildx version >/dev/null 2>&1; then
  export DOCKER_BUILDKIT=${DOCKER_BUILDKIT:-1}
else
  export DOCKER_BUILDKIT=0
fi
echo "build-image: docker build -t $image (DOCKER_BUILDKIT=$DOCKER_BUILDKIT)"
docker build --pull=false -t "$image" "$ctx"
docker image inspect --format 'build-image: {{.RepoTags}} {{.Id}} {{.Size}} bytes' "$image"
