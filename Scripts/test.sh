#!/usr/bin/env bash
# The project's test command: prepares a fresh Debian machine, builds, and runs every test.
#
#   Scripts/test.sh                      everything (what CI runs)
#   Scripts/test.sh --sanitize=address   the Swift suites under AddressSanitizer (own build folder)
#   Scripts/test.sh --sanitize=thread    the Swift suites under ThreadSanitizer (own build folder)
#
# Steps: Scripts/setup.sh (apt packages, Python venv), stale-generated-code check, C warnings check,
# the reference conductor's self-test, `swift build` + `swift test` (unit and integration tests
# against real servers on loopback), the DocC catalog, the fuzz corpus replay, a conductor-bench smoke, valgrind
# memcheck of conductor-smoke, a smoke run of conductor-smoke, and the example service.
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"

sanitize=""
for arg in "$@"; do
  case "$arg" in
    --sanitize=address|--sanitize=thread) sanitize=${arg#--sanitize=} ;;
    *) echo "test.sh: unknown argument $arg (use --sanitize=address or --sanitize=thread)" >&2; exit 2 ;;
  esac
done

step() { echo; echo "==> $*"; }

# A test that outlives its Swift Testing time limit can leave the runner waiting for ever; the bound
# turns a hang into a failure that names itself, instead of a CI run cut off at 90 minutes.
bounded() {
  local status=0
  timeout --kill-after=30s 25m "$@" || status=$?
  if [ "$status" -eq 124 ] || [ "$status" -eq 137 ]; then
    echo "test.sh: '$*' did not finish within 25 minutes: a test hangs" >&2
  fi
  return "$status"
}

step "setup"
Scripts/setup.sh

if [ -n "$sanitize" ]; then
  step "swift test --sanitize=$sanitize"
  export CONDUCTOR_TEST_SANITIZER="$sanitize"
  # Leaks inside Foundation's Process/FileHandle and XCTest (test scaffolding) are not ours.
  export LSAN_OPTIONS="suppressions=$ROOT/Scripts/lsan-suppressions.txt:print_suppressions=0"
  # Continuation hand-offs are ordered inside the (uninstrumented) Swift concurrency runtime.
  export TSAN_OPTIONS="suppressions=$ROOT/Scripts/tsan-suppressions.txt:print_suppressions=0"
  swift build --build-tests --sanitize="$sanitize" --scratch-path ".build-$sanitize"
  bounded swift test --skip-build --no-parallel --sanitize="$sanitize" --scratch-path ".build-$sanitize"
  exit 0
fi

step "generated protobuf-c code is current"
Scripts/generate-protos.sh --check

step "C shim compiles cleanly with -Wall -Wextra"
Scripts/check-c-warnings.sh

step "reference conductor self-test"
.venv/bin/python -m unittest discover -s Scripts/tests 2>&1 | tail -n 4

step "swift build"
build_log=$(mktemp)
trap 'rm -f "$build_log"' EXIT
if ! swift build --build-tests >"$build_log" 2>&1; then
  cat "$build_log"
  echo "test.sh: the build failed" >&2
  exit 1
fi
tail -n 1 "$build_log"
# Warnings of dependencies are theirs: lines under .build/checkouts, and a package manifest's
# "found N file(s) which are unhandled" about another package (swift-distributed-tracing ships
# CMakeLists.txt files in its targets).
our_warnings() {
  grep -v "/.build/checkouts/" "$build_log" \
    | grep -v -P "^warning: '(?!conductor-grpc-swift')[^']+': found \d+ file\(s\) which are unhandled" \
    | grep "warning:"
}
if our_warnings >/dev/null; then
  our_warnings >&2
  echo "test.sh: the build has warnings (this project builds warning-free)" >&2
  exit 1
fi

step "swift test"
# One suite at a time: several suites assert timing (a deadline within 100 ms) and load the
# 2-core machine with hundreds of concurrent calls; run side by side they starve each other.
bounded swift test --skip-build --no-parallel

step "DocC catalog of ConductorGRPC builds without a warning"
Scripts/docs.sh

step "fuzz corpus replay (the decoders, and the client against a server playing every saved input)"
"$(swift build --show-bin-path)/conductor-fuzz" Fuzz/corpus/*
CONDUCTOR_FUZZ_DECODER=server "$(swift build --show-bin-path)/conductor-fuzz" Fuzz/corpus-server/*

step "conductor-bench smoke: a few hundred calls per scenario (the benchmark itself is Scripts/bench.sh)"
bench_out=$(mktemp)
.venv/bin/python Scripts/reference_conductor.py --port 0 --exit-with-parent >"$bench_out" 2>/dev/null &
bench_server=$!
for _ in $(seq 1 100); do grep -q LISTENING "$bench_out" && break; sleep 0.1; done
bench_port=$(awk '/LISTENING/ {print $2}' "$bench_out")
for scenario in unary concurrent batch submit cached; do
  "$(swift build --show-bin-path)/conductor-bench" --target "grpc://127.0.0.1:$bench_port" --scenario "$scenario" --calls 300
done
kill "$bench_server"
wait "$bench_server" 2>/dev/null || true
.venv/bin/python Scripts/reference_rest_conductor.py --port 0 --exit-with-parent >"$bench_out" 2>/dev/null &
bench_server=$!
for _ in $(seq 1 100); do grep -q LISTENING "$bench_out" && break; sleep 0.1; done
bench_port=$(awk '/LISTENING/ {print $2}' "$bench_out")
for scenario in unary concurrent batch submit; do
  CONDUCTOR_PROTOCOL=http "$(swift build --show-bin-path)/conductor-bench" --target "http://127.0.0.1:$bench_port" \
    --scenario "$scenario" --calls 300
done
kill "$bench_server"
wait "$bench_server" 2>/dev/null || true

step "valgrind memcheck of conductor-smoke (gRPC and REST, cleartext and TLS): nothing lost or misused by the C shims"
Scripts/memcheck.sh 1

step "smoke run against the reference conductor"
SMOKE_CONFIGURATION=debug Scripts/smoke.sh --duration 2

step "smoke run against the reference REST conductor (CONDUCTOR_PROTOCOL=http)"
CONDUCTOR_PROTOCOL=http SMOKE_CONFIGURATION=debug Scripts/smoke.sh --duration 2

step "example service (Examples/EventRelay) against the reference conductor"
Scripts/example.sh
