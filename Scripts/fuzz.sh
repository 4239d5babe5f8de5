#!/usr/bin/env bash
# Fuzzes the response decoders with libFuzzer and AddressSanitizer, one decoder at a time, each
# starting from Fuzz/corpus:
#   frames    the gRPC length-prefixed message decoder, fed in input-sized pieces
#   response  status interpretation: headers, trailers, reset codes and body
#   messages  every protobuf-c response decoder
#   json      the REST contract's JSON readers (yajl's event parser and what keeps the fields)
#   server    the fuzzer plays the server: a real connection on the real loop over a unix socket,
#             three calls in flight, the server's frames generated from the input (corpus:
#             Fuzz/corpus-server); every call must end once the server hangs up
#
#   Scripts/fuzz.sh [SECONDS] [DECODER...]    default 600 s (10 minutes) for each of the five
#
# New interesting inputs go to Fuzz/corpus-new/DECODER/ and logs to Fuzz/corpus-new/DECODER.log
# (not committed); crashes to Fuzz/crashes/.
# A crash found is a bug: add the input to Fuzz/corpus once fixed, the test command replays that
# folder. Each run ends with libFuzzer's summary line (inputs executed, edges covered, corpus size),
# and the inputs that added coverage are merged into Fuzz/corpus (see the end of this script).
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
seconds=${1:-600}
shift || true
decoders=("$@")
[ ${#decoders[@]} -eq 0 ] && decoders=(frames response messages json server)
corpus_of() { if [ "$1" = server ]; then echo Fuzz/corpus-server; else echo Fuzz/corpus; fi; }
build_log=$(mktemp)
if ! swift build --product conductor-fuzz --scratch-path .build-fuzz \
    -Xswiftc -sanitize=fuzzer,address -Xswiftc -parse-as-library -Xswiftc -DFUZZING >"$build_log" 2>&1; then
  grep -v "Cannot export local symbol" "$build_log" >&2
  rm -f "$build_log"
  echo "fuzz.sh: the fuzz build failed" >&2
  exit 1
fi
rm -f "$build_log"
mkdir -p Fuzz/crashes
status=0
for decoder in "${decoders[@]}"; do
  echo "==> fuzzing $decoder for $seconds s (log: Fuzz/corpus-new/$decoder.log)"
  mkdir -p "Fuzz/corpus-new/$decoder"
  if ! CONDUCTOR_FUZZ_DECODER="$decoder" .build-fuzz/debug/conductor-fuzz -max_total_time="$seconds" \
      -max_len=4096 -print_final_stats=1 -artifact_prefix="Fuzz/crashes/$decoder-" \
      "Fuzz/corpus-new/$decoder" "$(corpus_of "$decoder")" >"Fuzz/corpus-new/$decoder.log" 2>&1; then
    echo "fuzz.sh: $decoder found a failure; see Fuzz/corpus-new/$decoder.log and Fuzz/crashes/" >&2
    status=1
  fi
  grep -E "^#[0-9]+[[:space:]]+DONE|^stat::(number_of_executed_units|peak_rss_mb|new_units_added)|^SUMMARY" \
    "Fuzz/corpus-new/$decoder.log" || true
done

# Keep what the runs found: libFuzzer's merge picks the inputs that add coverage; each is stored as
# Fuzz/corpus/DECODER-found-HASH with its first byte set to the decoder's selector, so that the
# corpus replay (which chooses the decoder by that byte) feeds it to the same decoder.
added=0
for decoder in "${decoders[@]}"; do
  corpus=$(corpus_of "$decoder")
  merged=$(mktemp -d)
  cp "$corpus"/* "$merged/" # what is kept already: only inputs adding coverage to it are merged in
  CONDUCTOR_FUZZ_DECODER="$decoder" .build-fuzz/debug/conductor-fuzz -merge=1 "$merged" "Fuzz/corpus-new/$decoder" \
    >/dev/null 2>&1 || true
  count=$(.venv/bin/python - "$decoder" "$merged" "$corpus" <<'PY'
import hashlib, os, sys
decoder, folder, corpus = sys.argv[1], sys.argv[2], sys.argv[3]
selector = ["frames", "response", "messages", "json", "server"].index(decoder)  # server ignores its first byte
added = 0
for name in sorted(os.listdir(folder)):
    data = open(os.path.join(folder, name), "rb").read()
    if not data or os.path.exists(f"{corpus}/{name}"):  # empty, or one of the corpus copied in
        continue
    data = bytes([selector]) + data[1:]
    path = f"{corpus}/{decoder}-found-{hashlib.sha1(data).hexdigest()[:12]}"
    if not os.path.exists(path):
        open(path, "wb").write(data)
        added += 1
print(added)
PY
)
  rm -rf "$merged"
  added=$((added + count))
done
echo "fuzz.sh: $added new inputs added to Fuzz/corpus and Fuzz/corpus-server (commit them: the test command replays both)"
exit "$status"
