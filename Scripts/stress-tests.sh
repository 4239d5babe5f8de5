#!/usr/bin/env bash
# Runs the whole Swift test suite N times (default 10), in parallel as `swift test` does by
# default, while a CPU hog keeps every core busy; then lists every failure of every run. A test
# that fails even once here is a defect to find, not a flake to retry.
#
#   Scripts/stress-tests.sh [N]
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
runs=${1:-10}
case "$runs" in ''|*[!0-9]*) echo "stress-tests.sh: N must be a whole number, got '$runs'" >&2; exit 2 ;; esac

Scripts/setup.sh
swift build --build-tests

logs=$(mktemp -d)
hogs=()
cleanup() { for pid in "${hogs[@]}"; do kill "$pid" 2>/dev/null || true; done; }
trap cleanup EXIT
for _ in $(seq 1 "$(nproc)"); do
  ( while :; do :; done ) &
  hogs+=("$!")
done

failed_runs=0
for run in $(seq 1 "$runs"); do
  if swift test --skip-build >"$logs/run-$run.log" 2>&1; then
    echo "run $run: passed ($(grep -Eo 'with [0-9]+ tests' "$logs/run-$run.log" | tail -n 1))"
  else
    failed_runs=$((failed_runs + 1))
    echo "run $run: FAILED"
    grep -E "✘ Test .*(recorded an issue|failed)|error: -\[|XCTAssert" "$logs/run-$run.log" | cut -c1-400 | sed 's/^/    /' || true
  fi
done
echo "$((runs - failed_runs)) passed, $failed_runs failed"
echo "logs: $logs"
[ "$failed_runs" -eq 0 ]
