#!/usr/bin/env bash
# Fuzzes the response decoders (gRPC framing, status/trailer interpretation, protobuf-c decoding)
# with libFuzzer and AddressSanitizer, starting from Fuzz/corpus.
#
#   Scripts/fuzz.sh [SECONDS]     default 600 (10 minutes)
#
# New interesting inputs go to Fuzz/corpus-new/ (not committed); crashes to Fuzz/crashes/. A crash
# found is a bug: add the input to Fuzz/corpus once fixed, the test command replays that folder.
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
seconds=${1:-600}
swift build --product conductor-fuzz --scratch-path .build-fuzz \
  -Xswiftc -sanitize=fuzzer,address -Xswiftc -parse-as-library -Xswiftc -DFUZZING 2>&1 | grep -E "error|warning:|Build complete"
mkdir -p Fuzz/corpus-new Fuzz/crashes
.build-fuzz/debug/conductor-fuzz -max_total_time="$seconds" -max_len=4096 -artifact_prefix=Fuzz/crashes/ \
  Fuzz/corpus-new Fuzz/corpus
