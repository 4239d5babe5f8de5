#!/usr/bin/env bash
# valgrind memcheck on conductor-smoke against the reference conductors, over cleartext and over
# TLS, gRPC and REST: fails on any memory error or leak whose stack passes through the C shims or
# the protobuf-c code (leaks and errors of the Swift runtime and system libraries are counted, not
# judged).
#
#   Scripts/memcheck.sh [SECONDS]    load phase length after the four checks (default 2)
#
# valgrind 3.19 (Debian 12) cannot read the Swift toolchain's DWARF 5 debug info and dies on the
# read-only mask libdispatch passes to sigsuspend, so this runs a copy of the debug build with its
# debug info stripped (symbols stay: stacks are still named) and preloads
# Benchmarks/profiling/sigsuspend_copy.c. Reports go to .build/memcheck/.
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
seconds=${1:-2}

Scripts/setup.sh >/dev/null # installs valgrind and binutils too
swift build --product conductor-smoke 2>&1 | grep -E "error|warning:" | grep -v -P "^warning: '(?!conductor-grpc-swift')[^']+': found" || true
out=.build/memcheck
mkdir -p "$out"
objcopy --strip-debug "$(swift build --show-bin-path)/conductor-smoke" "$out/conductor-smoke"
cc -O2 -shared -fPIC -o "$out/sigsuspend_copy.so" Benchmarks/profiling/sigsuspend_copy.c
Scripts/make-test-certificates.sh "$out/certs" >/dev/null
# The functions a record must pass through to count as ours.
nm --defined-only "$(swift build --show-bin-path)"/{CNGHTTP2Shim,CRESTShim,CConductorProto}.build/*.o |
  awk '$2 ~ /^[Tt]$/ {print $3}' | sort -u >"$out/our-c-functions.txt"

server_pid=""
stop_server() { [ -n "$server_pid" ] && kill "$server_pid" 2>/dev/null; wait "$server_pid" 2>/dev/null || true; server_pid=""; }
trap stop_server EXIT

# start_server SCRIPT LOG [options]: starts a reference conductor in this shell and sets `port`.
start_server() {
  local script=$1 log=$2
  shift 2
  .venv/bin/python "$script" --port 0 --exit-with-parent "$@" >"$log" 2>/dev/null &
  server_pid=$!
  for _ in $(seq 1 100); do grep -q LISTENING "$log" && break; sleep 0.1; done
  port=$(awk '/LISTENING/ {print $2}' "$log")
  [ -n "$port" ] || { echo "memcheck.sh: the reference conductor did not start" >&2; exit 2; }
}

status=0
tls_files=(--tls-cert "$out/certs/server.pem" --tls-key "$out/certs/server.key")
export CONDUCTOR_TLS_CA_FILE="$out/certs/ca.pem"
for transport in cleartext tls rest rest-tls; do
  export CONDUCTOR_PROTOCOL=grpc
  case "$transport" in
    cleartext) start_server Scripts/reference_conductor.py "$out/server-$transport.log"; target="grpc://127.0.0.1:$port" ;;
    tls) start_server Scripts/reference_conductor.py "$out/server-$transport.log" "${tls_files[@]}"; target="grpcs://127.0.0.1:$port" ;;
    rest) start_server Scripts/reference_rest_conductor.py "$out/server-$transport.log"; target="http://127.0.0.1:$port"
      export CONDUCTOR_PROTOCOL=http ;;
    rest-tls) start_server Scripts/reference_rest_conductor.py "$out/server-$transport.log" "${tls_files[@]}"
      target="https://127.0.0.1:$port"; export CONDUCTOR_PROTOCOL=http ;;
  esac
  report="$out/$transport.txt"
  echo "==> memcheck: conductor-smoke against $target (report: $report)"
  # Timeouts are generous: the program runs some 50 times slower under valgrind.
  CONDUCTOR_TIMEOUT=60 CONDUCTOR_CONNECT_TIMEOUT=60 LD_PRELOAD="$ROOT/$out/sigsuspend_copy.so" \
    valgrind --tool=memcheck --leak-check=full --show-leak-kinds=definite,indirect --num-callers=40 \
    --log-file="$report" "$out/conductor-smoke" --target "$target" --duration "$seconds" --concurrency 8 \
    >"$out/smoke-$transport.txt" 2>&1 || { echo "memcheck.sh: conductor-smoke failed under valgrind:"; cat "$out/smoke-$transport.txt"; status=1; }
  stop_server
  .venv/bin/python Scripts/memcheck_verdict.py "$report" "$out/our-c-functions.txt" || status=1
done
exit "$status"
