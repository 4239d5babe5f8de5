#!/usr/bin/env bash
# Benchmarks our client against its peers, in one run, on loopback (see Benchmarks/README.md).
#
#   Scripts/bench.sh [--duration S] [--scenario NAME[,NAME…]] [--runs N] [--clients NAME[,NAME…]]
#
#   --duration S   seconds per client × scenario (default 10)
#   --scenario     gRPC: unary, concurrent, batch, submit, submit-coalesced (ours only), cached, flood (30 s,
#                  ours only), concurrent-tls, cold-start-tls (20 launches); REST: rest-get, rest-get-h2,
#                  rest-get-1; or the groups grpc, rest (default: all)
#   --runs N       repeat the whole matrix N times (default 1; use ≥ 3 for ratios worth quoting)
#   --clients      h2load, cpp, grpc-swift, ours, ours-loop, httpx, aiohttp (default: all; ours-loop is ours
#                  with its callers on the client's event-loop thread: --executor loop)
#
# 1. Installs what is missing (Debian packages when run as root; the project venv through
#    Scripts/setup.sh on a fresh clone, matplotlib in it, and Scripts/requirements-bench.txt
#    (httpx, aiohttp) in it when a REST scenario runs them).
# 2. Builds what is missing, niced: the C++ server and client (Benchmarks/cpp, make), conductor-bench
#    (release, scratch path .build-bench) and the grpc-swift-2 peer (Benchmarks/GRPCSwiftPeer, release).
#    One build at a time: the machines have two cores.
# 3. Starts the servers pinned to core 0 (bench-server for gRPC, the reference REST conductor for
#    REST) and runs each client pinned to core 1 (Benchmarks/bench_runner.py), writing
#    Benchmarks/results/<timestamp>.tsv and latest.tsv.
# 4. Prints the table, ours ÷ each peer and the target checks (Benchmarks/bench_report.py), writes
#    Benchmarks/results/latest.md and latest.png, and (for a whole matrix) puts the tables into
#    Benchmarks/README.md.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BENCH="$ROOT/Benchmarks"
RESULTS="$BENCH/results"
VENV="$ROOT/.venv"
MATPLOTLIB_PIN="matplotlib==3.11.2"
BENCH_REQUIREMENTS="$ROOT/Scripts/requirements-bench.txt"
BENCH_REQUIREMENTS_STAMP="$VENV/.requirements-bench.sha256"
APT_PACKAGES=(g++ make pkg-config libssl-dev libgrpc++-dev libprotobuf-dev protobuf-compiler
              protobuf-compiler-grpc nghttp2-client util-linux openssl)

say() { echo "bench: $*" >&2; }
die() { echo "bench: error: $*" >&2; exit 1; }

DURATION=10
SCENARIOS=all
RUNS=1
CLIENTS=all
while [ $# -gt 0 ]; do
  case "$1" in
    --duration) DURATION=${2:?--duration needs a value}; shift 2 ;;
    --scenario) SCENARIOS=${2:?--scenario needs a value}; shift 2 ;;
    --runs) RUNS=${2:?--runs needs a value}; shift 2 ;;
    --clients) CLIENTS=${2:?--clients needs a value}; shift 2 ;;
    -h|--help) sed -n '2,23p' "$0"; exit 0 ;;
    *) die "unknown option $1 (see --help)" ;;
  esac
done

wants_client() { [ "$CLIENTS" = all ] || [[ ",$CLIENTS," == *",$1,"* ]]; }
# Whether --scenario names a REST scenario (rest-…, or the group rest) / any other (gRPC) one.
wants_rest() {
  local name
  for name in ${SCENARIOS//,/ }; do
    case "$name" in all|rest|rest-*) return 0 ;; esac
  done
  return 1
}
wants_grpc() {
  local name
  for name in ${SCENARIOS//,/ }; do
    case "$name" in rest|rest-*) ;; *) return 0 ;; esac
  done
  return 1
}

install_missing_packages() {
  local missing=() pkg
  for pkg in "${APT_PACKAGES[@]}"; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  [ "$(id -u)" -eq 0 ] || die "missing Debian packages (install them as root): ${missing[*]}"
  say "installing ${missing[*]}"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
}

# The Python that runs the runner and the report: the project venv (matplotlib for the plot),
# made by Scripts/setup.sh on a fresh clone.
python_for_report() {
  if [ ! -x "$VENV/bin/python" ]; then
    say "no project venv at $VENV: running Scripts/setup.sh"
    "$ROOT/Scripts/setup.sh" >&2 || say "Scripts/setup.sh failed"
  fi
  if [ ! -x "$VENV/bin/python" ]; then
    say "still no project venv: using python3, no plot"
    echo python3
    return
  fi
  if ! "$VENV/bin/python" -c "import matplotlib" 2>/dev/null; then
    say "installing $MATPLOTLIB_PIN into the project venv"
    "$VENV/bin/pip" install -q "$MATPLOTLIB_PIN" >&2 || say "could not install matplotlib: no plot"
  fi
  echo "$VENV/bin/python"
}

# httpx and aiohttp, the REST peers, with their pins: into the project venv when the file changed
# since its last install there (or they are missing).
install_bench_requirements() {
  [ -x "$VENV/bin/pip" ] || die "the REST peers need the project venv $VENV (Scripts/setup.sh makes it)"
  local want
  want=$(sha256sum "$BENCH_REQUIREMENTS" | cut -d' ' -f1)
  if [ "$(cat "$BENCH_REQUIREMENTS_STAMP" 2>/dev/null)" = "$want" ] \
     && "$VENV/bin/python" -c "import httpx, h2, aiohttp, sniffio" 2>/dev/null; then
    return 0
  fi
  say "installing Scripts/requirements-bench.txt (httpx, aiohttp) into the project venv"
  "$VENV/bin/pip" install -q -r "$BENCH_REQUIREMENTS" >&2 || die "pip install -r $BENCH_REQUIREMENTS failed"
  "$VENV/bin/pip" check >&2 || die "pip check failed after installing $BENCH_REQUIREMENTS"
  echo "$want" > "$BENCH_REQUIREMENTS_STAMP"
}

install_missing_packages
PYTHON=$(python_for_report)
if wants_rest; then
  [ "$PYTHON" != python3 ] || die "the REST scenarios need the project venv (the reference REST conductor's hypercorn)"
  if wants_client httpx || wants_client aiohttp; then install_bench_requirements; fi
fi

# Builds share the two cores with whoever else is working here: niced.
CPP_BUILD="$BENCH/cpp/.build"
if wants_grpc; then
  say "building the C++ server and client"
  nice -n 10 make -s -C "$BENCH/cpp" >&2
fi

OURS=/nonexistent
if wants_client ours || wants_client ours-loop; then
  say "building conductor-bench (release, .build-bench)"
  nice -n 10 swift build -c release --package-path "$ROOT" --scratch-path "$ROOT/.build-bench" --product conductor-bench >&2
  OURS="$(nice -n 10 swift build -c release --package-path "$ROOT" --scratch-path "$ROOT/.build-bench" --show-bin-path)/conductor-bench"
fi

PEER=/nonexistent
if wants_client grpc-swift && wants_grpc; then
  say "building the grpc-swift-2 peer (release; the first build takes about 15 minutes on 2 cores)"
  nice -n 10 swift build -c release --package-path "$BENCH/GRPCSwiftPeer" --product grpc-swift-peer >&2
  PEER="$(nice -n 10 swift build -c release --package-path "$BENCH/GRPCSwiftPeer" --show-bin-path)/grpc-swift-peer"
fi

if [ "$(nproc)" -lt 2 ]; then
  say "warning: fewer than two cores: server and client will share one"
fi

say "running: duration ${DURATION}s, scenarios $SCENARIOS, clients $CLIENTS, runs $RUNS"
"$PYTHON" "$BENCH/bench_runner.py" \
  --duration "$DURATION" --scenario "$SCENARIOS" --clients "$CLIENTS" --runs "$RUNS" \
  --results "$RESULTS" --server "$CPP_BUILD/bench-server" --cpp-client "$CPP_BUILD/bench-client" \
  --grpc-swift-peer "$PEER" --ours "$OURS" >&2

echo
NEWEST=$(ls -t "$RESULTS"/2*.tsv | head -n 1)
README_ARGS=()
# Only a whole matrix replaces the README's table.
if [ "$SCENARIOS" = all ] && [ "$CLIENTS" = all ]; then README_ARGS=(--readme "$BENCH/README.md"); fi
"$PYTHON" "$BENCH/bench_report.py" "$NEWEST" \
  --markdown "$RESULTS/latest.md" --plot "$RESULTS/latest.png" "${README_ARGS[@]}"
