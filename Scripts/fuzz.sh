#!/usr/bin/env bash
# Fuzzes the response decoders with libFuzzer and AddressSanitizer, one decoder at a time, each
# starting from Fuzz/corpus:
#   frames    the gRPC length-prefixed message decoder, fed in input-sized pieces
#   response  status interpretation: headers, trailers, reset codes and body
#   messages  every protobuf-c response decoder
#
#   Scripts/fuzz.sh [SECONDS] [DECODER...]    default 600 s (10 minutes) for each of the three
#
# New interesting inputs go to Fuzz/corpus-new/DECODER/ and logs to Fuzz/corpus-new/DECODER.log
# (not committed); crashes to Fuzz/crashes/.
# A crash found is a bug: add the input to Fuzz/corpus once fixed, the test command replays that
# folder. Each run ends with libFuzzer's summary line (inputs executed, edges covered, corpus size).
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
seconds=${1:-600}
shift || true
decoders=("$@")
[ ${#decoders[@]} -eq 0 ] && decoders=(frames response messages)
swift build --product conductor-fuzz --scratch-path .build-fuzz \
  -Xswiftc -sanitize=fuzzer,address -Xswiftc -parse-as-library -Xswiftc -DFUZZING 2>&1 | grep -E "error|warning:|Build complete"
mkdir -p Fuzz/crashes
status=0
for decoder in "${decoders[@]}"; do
  echo "==> fuzzing $decoder for $seconds s (log: Fuzz/corpus-new/$decoder.log)"
  mkdir -p "Fuzz/corpus-new/$decoder"
  if ! CONDUCTOR_FUZZ_DECODER="$decoder" .build-fuzz/debug/conductor-fuzz -max_total_time="$seconds" \
      -max_len=4096 -print_final_stats=1 -artifact_prefix="Fuzz/crashes/$decoder-" \
      "Fuzz/corpus-new/$decoder" Fuzz/corpus >"Fuzz/corpus-new/$decoder.log" 2>&1; then
    echo "fuzz.sh: $decoder found a failure; see Fuzz/corpus-new/$decoder.log and Fuzz/crashes/" >&2
    status=1
  fi
  grep -E "^#[0-9]+ +DONE|^stat::(number_of_executed_units|peak_rss_mb|new_units_added)|^SUMMARY" \
    "Fuzz/corpus-new/$decoder.log" || true
done
exit "$status"
