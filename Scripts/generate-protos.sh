#!/usr/bin/env bash
# Regenerates Sources/CConductorProto from Protos/ with protoc-c.
# With --check, regenerates into a temporary folder and fails if the committed code differs.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
out="$root/Sources/CConductorProto"
mode=${1:-write}

generate() {
  local dest=$1
  mkdir -p "$dest"
  (cd "$root/Protos" && protoc-c --c_out="$dest" conductor.proto health.proto rpc_status.proto)
}

if [ "$mode" = "--check" ]; then
  tmp=$(mktemp -d)
  trap 'rm -rf "$tmp"' EXIT
  generate "$tmp"
  for f in conductor.pb-c.c health.pb-c.c rpc_status.pb-c.c; do
    cmp -s "$tmp/$f" "$out/$f" || { echo "stale generated code: Sources/CConductorProto/$f (run Scripts/generate-protos.sh)"; exit 1; }
  done
  for f in conductor.pb-c.h health.pb-c.h rpc_status.pb-c.h; do
    cmp -s "$tmp/$f" "$out/include/$f" || { echo "stale generated code: Sources/CConductorProto/include/$f (run Scripts/generate-protos.sh)"; exit 1; }
  done
  echo "generated protobuf-c code is up to date"
else
  tmp=$(mktemp -d)
  trap 'rm -rf "$tmp"' EXIT
  generate "$tmp"
  mkdir -p "$out/include"
  cp "$tmp"/*.pb-c.c "$out/"
  cp "$tmp"/*.pb-c.h "$out/include/"
  echo "wrote $out"
fi
