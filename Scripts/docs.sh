#!/usr/bin/env bash
# Builds the ConductorGRPC DocC catalog with the toolchain's docc (no plugin needed) and fails on
# any warning (a broken symbol link, an ambiguous article name).
#
#   Scripts/docs.sh     writes .build-docs/ConductorGRPC.doccarchive
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
graphs=.build-docs/symbol-graphs
# The compiler writes a module's graph only when it compiles the module: keep "all" between runs
# (an up-to-date build leaves the graph of the last compilation, which is current).
rm -rf "$graphs/ConductorGRPC" && mkdir -p "$graphs/all" "$graphs/ConductorGRPC"
swift build --target ConductorGRPC --scratch-path .build-docs \
  -Xswiftc -emit-symbol-graph -Xswiftc -emit-symbol-graph-dir -Xswiftc "$graphs/all" >/dev/null
cp "$graphs/all/ConductorGRPC.symbols.json" "$graphs/ConductorGRPC/"
"$(dirname "$(readlink -f "$(command -v swift)")")/docc" convert Sources/ConductorGRPC/ConductorGRPC.docc \
  --additional-symbol-graph-dir "$graphs/ConductorGRPC" --output-path .build-docs/ConductorGRPC.doccarchive \
  --fallback-display-name ConductorGRPC --fallback-bundle-identifier conductor.grpc --warnings-as-errors
echo "docs.sh: .build-docs/ConductorGRPC.doccarchive"
