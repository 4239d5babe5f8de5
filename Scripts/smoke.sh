#!/usr/bin/env bash
# The main job: proves that a conductor answers.
#
#   Scripts/smoke.sh [conductor-smoke options]
#
# With a target (--target URL or CONDUCTOR_BASE_URL) it runs conductor-smoke against it. Without
# one it starts the project's reference conductor on a free loopback port (the REST one when
# CONDUCTOR_PROTOCOL=http), runs conductor-smoke against that, and stops the server. Builds what is missing first (release build; set
# SMOKE_CONFIGURATION=debug for a quicker debug build). Exit code: conductor-smoke's.
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
configuration=${SMOKE_CONFIGURATION:-release}

has_target=""
for arg in "$@"; do
  case "$arg" in --target|--target=*) has_target=1 ;; esac
done
[ -n "${CONDUCTOR_BASE_URL:-}" ] && has_target=1

Scripts/setup.sh >/dev/null
swift build -c "$configuration" --product conductor-smoke 2>&1 | grep -E "error|warning:" | grep -v -P "^warning: '(?!conductor-grpc-swift')[^']+': found" || true
smoke="$(swift build -c "$configuration" --show-bin-path)/conductor-smoke"

if [ -n "$has_target" ]; then
  exec "$smoke" "$@"
fi

server_script=Scripts/reference_conductor.py
scheme=grpc
if [ "$(echo "${CONDUCTOR_PROTOCOL:-grpc}" | tr '[:upper:]' '[:lower:]')" = http ]; then
  server_script=Scripts/reference_rest_conductor.py
  scheme=http
fi
log=$(mktemp)
.venv/bin/python "$server_script" --port 0 --exit-with-parent >"$log" 2>/dev/null &
server=$!
trap 'kill $server 2>/dev/null || true; wait $server 2>/dev/null || true; rm -f "$log"' EXIT
for _ in $(seq 1 100); do
  grep -q LISTENING "$log" && break
  sleep 0.1
done
port=$(awk '/LISTENING/ {print $2}' "$log")
[ -n "$port" ] || { echo "smoke.sh: the reference conductor did not start" >&2; exit 3; }
echo "smoke.sh: reference conductor on $scheme://127.0.0.1:$port"
set +e
"$smoke" --target "$scheme://127.0.0.1:$port" "$@"
status=$?
set -e
exit $status
