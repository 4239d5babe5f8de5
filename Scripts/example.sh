#!/usr/bin/env bash
# Builds the example service Examples/EventRelay and runs it briefly against the reference
# conductor: it must answer /health, relay an event and a day proof, expose the client's
# bridge_conductor_* metrics on /metrics, and exit 0 within a few seconds of SIGTERM.
#
#   Scripts/example.sh
#
# The example is a package of its own (depending on this one by path), built in
# Examples/EventRelay/.build. Its first build compiles Hummingbird and SwiftNIO: minutes on 2 cores.
# Assumes a prepared machine (Scripts/setup.sh; run here too, it is quick when nothing is missing).
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
EXAMPLE="$ROOT/Examples/EventRelay"
cd "$ROOT"

say() { echo "example.sh: $*"; }

tmp=$(mktemp -d)
build_log="$tmp/build.log" conductor_log="$tmp/conductor.log" relay_log="$tmp/relay.log"
conductor="" relay=""
cleanup() {
  [ -n "$relay" ] && kill -KILL "$relay" 2>/dev/null || true
  [ -n "$conductor" ] && kill "$conductor" 2>/dev/null || true
  wait 2>/dev/null || true
  rm -rf "$tmp"
}
trap cleanup EXIT

# Prints why it failed, the end of the relay's log when it ran, and exits 1.
fail() {
  echo "example.sh: FAILED: $*" >&2
  if [ -s "$relay_log" ]; then
    echo "--- the relay's log (last 30 lines):" >&2
    tail -n 30 "$relay_log" >&2
  fi
  exit 1
}

command -v curl >/dev/null || fail "curl is needed to call the example (apt-get install curl)"
Scripts/setup.sh >/dev/null

say "building Examples/EventRelay"
started=$SECONDS
if ! swift build --package-path "$EXAMPLE" >"$build_log" 2>&1; then
  cat "$build_log" >&2
  fail "the example did not build"
fi
say "built in $((SECONDS - started)) s: $(tail -n 1 "$build_log")"
# As in test.sh: warnings inside dependencies' checkouts, and a dependency's manifest warning about
# its own unhandled files, are theirs; any other warning (the example's or this package's) is ours.
our_warnings() {
  grep -v "/.build/checkouts/" "$build_log" \
    | grep -v -P "^warning: '(?!event-relay'|conductor-grpc-swift')[^']+': found \d+ file\(s\) which are unhandled" \
    | grep "warning:"
}
if our_warnings >/dev/null; then
  our_warnings >&2
  fail "the example's build has warnings (it builds warning-free)"
fi
relay_bin="$(swift build --package-path "$EXAMPLE" --show-bin-path)/EventRelay"

.venv/bin/python Scripts/reference_conductor.py --port 0 --exit-with-parent >"$conductor_log" 2>/dev/null &
conductor=$!
for _ in $(seq 1 100); do
  grep -q LISTENING "$conductor_log" && break
  sleep 0.1
done
conductor_port=$(awk '/LISTENING/ {print $2}' "$conductor_log")
[ -n "$conductor_port" ] || fail "the reference conductor did not start (no LISTENING line within 10 s)"
say "reference conductor on 127.0.0.1:$conductor_port"

port=$(.venv/bin/python -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
CONDUCTOR_BASE_URL="grpc://127.0.0.1:$conductor_port" PORT="$port" HEARTBEAT_SECONDS=1 \
  "$relay_bin" >"$relay_log" 2>&1 &
relay=$!
base="http://127.0.0.1:$port"

# Waits until /health answers SERVING (the server is up and the conductor reachable).
health=""
for _ in $(seq 1 100); do
  kill -0 "$relay" 2>/dev/null || fail "the relay exited before it answered"
  health=$(curl -sS --max-time 2 "$base/health" 2>/dev/null || true)
  [ "$health" = "SERVING" ] && break
  sleep 0.2
done
[ "$health" = "SERVING" ] || fail "GET /health did not answer SERVING within 20 s (last answer: '${health}')"
say "GET /health: $health"

# Every request below must succeed (-f) within 10 s.
request() { curl -fsS --max-time 10 "$@"; }

receipt=$(request -X POST -H 'content-type: application/json' \
  -d '{"event_type": "example.created", "epoch": 7, "payload": "hello from example.sh"}' "$base/events") \
  || fail "POST /events failed"
echo "$receipt" | grep -q '"event_hash"' || fail "POST /events answered without an event_hash: $receipt"
say "POST /events: $receipt"

proof=$(request "$base/proofs/42") || fail "GET /proofs/42 failed"
echo "$proof" | grep -q '"proof_hash"' || fail "GET /proofs/42 answered without a proof_hash: $proof"
say "GET /proofs/42: $proof"

# A day without a proof: the conductor's NOT_FOUND becomes a 404, not a 500.
missing=$(curl -sS --max-time 10 -o /dev/null -w '%{http_code}' "$base/proofs/5000") || fail "GET /proofs/5000 failed"
[ "$missing" = "404" ] || fail "GET /proofs/5000 answered $missing, expected 404 (no proof for that day)"
say "GET /proofs/5000: $missing"

# The heartbeat submits an event every second here, in the background: wait for its first one
# (two successful submits: the POST above and a heartbeat), so that SIGTERM meets it running.
submits=0
for _ in $(seq 1 50); do
  metrics=$(request "$base/metrics") || fail "GET /metrics failed"
  submits=$(echo "$metrics" | awk '/^bridge_conductor_requests_total\{method="SubmitEvent",status="success"/ {print $2}')
  [ "${submits:-0}" -ge 2 ] && break
  sleep 0.1
done
[ "${submits:-0}" -ge 2 ] || fail "no heartbeat was submitted within 5 s (successful submits: ${submits:-none})"
echo "$metrics" | grep -q '^bridge_conductor_requests_total' \
  || fail "GET /metrics has no bridge_conductor_requests_total; it has: $(echo "$metrics" | grep -v '^#' | cut -d'{' -f1 | sort -u | tr '\n' ' ')"
say "GET /metrics:"
echo "$metrics" | grep -E '^bridge_conductor_(requests_total|circuit_breaker_state)' | sed 's/^/    /'

kill -TERM "$relay"
for _ in $(seq 1 50); do
  kill -0 "$relay" 2>/dev/null || break
  sleep 0.1
done
kill -0 "$relay" 2>/dev/null && fail "the relay was still running 5 s after SIGTERM"
set +e
wait "$relay"
status=$?
set -e
relay=""
[ "$status" -eq 0 ] || fail "the relay exited with status $status after SIGTERM, expected 0"
say "SIGTERM: the relay shut down cleanly (exit 0); its last log lines:"
tail -n 3 "$relay_log" | sed 's/^/    /'
say "passed"
