"""Runs every client × scenario against one bench-server and writes the measurements as TSV.

Called by Scripts/bench.sh after it has built everything (see Benchmarks/README.md). Standard
library only; the report (bench_report.py) is printed and plotted from the TSV afterwards.

For each run, scenario and client: the server (pinned to one core) keeps running, the client is
started pinned to the other core, and the runner records
- what the client printed (its RESULT line; for h2load its summary and per-request log),
- the client's CPU time and context switches (voluntary + involuntary, all threads) from wait4's
  rusage: CPU exact to the microsecond; a context switch is a wake-up, the main cost of thread handoffs,
- the client's peak RSS (VmHWM) and its RSS a second in and at the end, sampled from
  /proc/PID/status every 0.2 s (wait4's ru_maxrss is no good here: on Linux it also counts the
  forked runner's memory from before the exec),
- the server's CPU time (/proc/PID/stat) and its RPC count (SIGUSR1 → STATS line) over the run,
- the CPU that everything else on the machine used meanwhile (/proc/stat busy time less the client's
  and the server's): other people's builds and tests show up here, so a reader can tell a noisy
  measurement from a quiet one.
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

CLIENTS = ("h2load", "cpp", "grpc-swift", "ours")
SCENARIOS = ("unary", "concurrent", "batch", "submit", "cached")
# (a)–(e) of the issue: scenario → (concurrency, events per call, RPC method).
SCENARIO_SHAPE = {
    "unary": (1, 1, "GetDayProof"),
    "concurrent": (64, 1, "GetDayProof"),
    "batch": (8, 100, "SubmitEventsBatch"),
    "submit": (64, 1, "SubmitEvent"),
    "cached": (1, 1, "GetDayProof"),
}
# Which clients can run which scenario: cached lookups exist only in our client.
SUPPORTED = {
    "h2load": {"unary", "concurrent", "batch", "submit"},
    "cpp": {"unary", "concurrent", "batch", "submit"},
    "grpc-swift": {"unary", "concurrent", "batch", "submit"},
    "ours": set(SCENARIOS),
}
TSV_COLUMNS = (
    "run", "client", "scenario", "concurrency", "calls", "events", "errors", "seconds",
    "calls_per_s", "events_per_s", "p50_us", "p99_us", "cpu_us_per_call", "client_cpu_pct",
    "peak_rss_kib", "rss_growth_kib", "server_cpu_pct", "server_cpu_us_per_call",
    "server_rpcs_per_call", "other_cpu_pct", "ctx_switches_per_call", "note",
)


# --------------------------------------------------------------------------- request bodies for h2load

def _varint(value: int) -> bytes:
    out = bytearray()
    while True:
        byte = value & 0x7F
        value >>= 7
        if value:
            out.append(byte | 0x80)
        else:
            out.append(byte)
            return bytes(out)


def _field(number: int, wire_type: int) -> bytes:
    return _varint(number << 3 | wire_type)


def _bytes_field(number: int, data: bytes) -> bytes:
    return _field(number, 2) + _varint(len(data)) + data


def benchmark_event() -> bytes:
    """The event every client sends, protobuf-encoded: the same bytes as the clients' own."""
    metadata_entry = _bytes_field(1, b"origin") + _bytes_field(2, b"bench")
    return (_bytes_field(1, b"bench.event") + _field(2, 0) + _varint(1)
            + _bytes_field(3, bytes(i % 256 for i in range(200))) + _bytes_field(4, metadata_entry))


def grpc_frame(message: bytes) -> bytes:
    return b"\x00" + len(message).to_bytes(4, "big") + message


def request_bodies() -> dict[str, bytes]:
    """gRPC-framed request bodies for h2load, per method."""
    event = benchmark_event()
    return {
        "GetDayProof": grpc_frame(_field(1, 0) + _varint(7)),
        "SubmitEvent": grpc_frame(event),
        "SubmitEventsBatch": grpc_frame(b"".join(_bytes_field(1, event) for _ in range(100))),
    }


# --------------------------------------------------------------------------- processes

def cpu_seconds_of(pid: int) -> float:
    """utime + stime of a live process, all its threads, from /proc/PID/stat."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def machine_busy_seconds() -> float:
    """CPU time spent busy by all cores since boot (/proc/stat: everything but idle and iowait)."""
    fields = [int(value) for value in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
    idle = fields[3] + (fields[4] if len(fields) > 4 else 0)
    # guest time is already counted in user and nice
    return (sum(fields[:8]) - idle) / os.sysconf("SC_CLK_TCK")


def memory_kib_of(pid: int) -> tuple[int, int] | None:
    """(VmRSS, VmHWM) of a live process in KiB: its resident set now and at its peak."""
    try:
        fields = dict(line.split(":", 1) for line in Path(f"/proc/{pid}/status").read_text().splitlines() if ":" in line)
        return int(fields["VmRSS"].split()[0]), int(fields["VmHWM"].split()[0])
    except (FileNotFoundError, ProcessLookupError, KeyError, ValueError):
        return None


class Server:
    """bench-server pinned to one core; reports its CPU time and RPC count on demand."""

    def __init__(self, binary: Path, core: str, workdir: Path):
        self.log_path = workdir / "server.log"
        self.log = open(self.log_path, "w")
        self.process = subprocess.Popen(["taskset", "-c", core, str(binary), "--port", "0"],
                                        stdout=self.log, stderr=subprocess.STDOUT)
        self.port = int(self._wait_for_line(r"^LISTENING (\d+)$", lines_before=0).group(1))

    def _lines(self) -> list[str]:
        return self.log_path.read_text().splitlines()

    def _wait_for_line(self, pattern: str, lines_before: int) -> re.Match:
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            for line in self._lines()[lines_before:]:
                match = re.match(pattern, line)
                if match:
                    return match
            if self.process.poll() is not None:
                raise RuntimeError(f"bench-server exited: {self.log_path.read_text()}")
            time.sleep(0.01)
        raise RuntimeError(f"bench-server did not print {pattern!r}")

    def rpc_count(self) -> int:
        before = len(self._lines())
        self.process.send_signal(signal.SIGUSR1)
        return int(self._wait_for_line(r"^STATS rpcs=(\d+)", lines_before=before).group(1))

    def cpu_seconds(self) -> float:
        return cpu_seconds_of(self.process.pid)

    def stop(self) -> None:
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        self.log.close()


@dataclasses.dataclass
class ClientRun:
    stdout: str
    stderr: str
    returncode: int
    cpu_seconds: float
    context_switches: int
    peak_rss_kib: int
    rss_growth_kib: int | None


def run_client(command: list[str], core: str, workdir: Path, timeout: float) -> ClientRun:
    """Runs a client pinned to `core`, sampling its RSS, and returns its output and rusage."""
    out_path, err_path = workdir / "client.out", workdir / "client.err"
    with open(out_path, "w") as out, open(err_path, "w") as err:
        process = subprocess.Popen(["taskset", "-c", core, *command], stdout=out, stderr=err)
    started = time.monotonic()
    rss_at_one_second = last_rss = None
    peak_kib = 0
    while True:
        pid, status, usage = os.wait4(process.pid, os.WNOHANG)
        if pid:
            break
        memory = memory_kib_of(process.pid)
        # taskset execs the client: until then the numbers are taskset's.
        if memory is not None and time.monotonic() - started >= 0.1:
            last_rss, peak_kib = memory[0], max(peak_kib, memory[1])
            if rss_at_one_second is None and time.monotonic() - started >= 1:
                rss_at_one_second = last_rss
        if time.monotonic() - started > timeout:
            process.kill()
        time.sleep(0.2)
    process.returncode = os.waitstatus_to_exitcode(status)
    growth = last_rss - rss_at_one_second if rss_at_one_second is not None and last_rss is not None else None
    return ClientRun(out_path.read_text(), err_path.read_text(), process.returncode,
                     usage.ru_utime + usage.ru_stime, usage.ru_nvcsw + usage.ru_nivcsw, peak_kib, growth)


# --------------------------------------------------------------------------- clients

@dataclasses.dataclass
class Measurement:
    calls: int
    events: int
    errors: int
    seconds: float
    p50_us: float
    p99_us: float
    note: str = ""


def parse_result_line(stdout: str) -> Measurement:
    for line in stdout.splitlines():
        if line.startswith("RESULT "):
            fields = dict(item.split("=", 1) for item in line.split()[1:])
            note = f"served={fields['served']}" if "served" in fields else ""
            return Measurement(int(fields["calls"]), int(fields["events"]), int(fields["errors"]),
                               float(fields["seconds"]), float(fields["p50_us"]), float(fields["p99_us"]), note)
    raise ValueError(f"no RESULT line in: {stdout!r}")


def percentile(sorted_values: list[int], fraction: float) -> float:
    if not sorted_values:
        return 0.0
    rank = max(1, int(fraction * len(sorted_values)))
    return float(sorted_values[rank - 1])


def parse_h2load(stdout: str, log_path: Path, events_per_call: int) -> Measurement:
    requests = re.search(r"requests: \d+ total, \d+ started, \d+ done, (\d+) succeeded, (\d+) failed, "
                         r"(\d+) errored, (\d+) timeout", stdout)
    finished = re.search(r"finished in ([\d.]+)(ms|s),", stdout)
    if not requests or not finished:
        raise ValueError(f"cannot parse h2load output: {stdout!r}")
    succeeded = int(requests.group(1))
    errors = sum(int(requests.group(i)) for i in (2, 3, 4))
    seconds = float(finished.group(1)) / (1000 if finished.group(2) == "ms" else 1)
    latencies = sorted(int(line.split("\t")[2]) for line in log_path.read_text().splitlines() if line.count("\t") >= 2)
    return Measurement(succeeded, succeeded * events_per_call, errors, seconds,
                       percentile(latencies, 0.50), percentile(latencies, 0.99))


@dataclasses.dataclass
class Binaries:
    server: Path
    cpp_client: Path
    grpc_swift_peer: Path
    ours: Path


def client_command(client: str, scenario: str, port: int, duration: float, binaries: Binaries,
                   workdir: Path, bodies: dict[str, Path]) -> list[str]:
    concurrency, _, method = SCENARIO_SHAPE[scenario]
    target = f"grpc://127.0.0.1:{port}"
    common = ["--target", target, "--scenario", scenario, "--concurrency", str(concurrency),
              "--duration", str(duration)]
    if client == "h2load":
        # One connection, one thread, `concurrency` streams; real gRPC-framed requests.
        return ["h2load", "-D", f"{round(duration * 1000)}ms", "-c", "1", "-t", "1", "-m", str(concurrency),
                "-d", str(bodies[method]), "-H", "content-type: application/grpc", "-H", "te: trailers",
                f"--log-file={workdir / 'h2load.log'}",
                f"http://127.0.0.1:{port}/chorus.ConductorBridge/{method}"]
    binary = {"cpp": binaries.cpp_client, "grpc-swift": binaries.grpc_swift_peer, "ours": binaries.ours}[client]
    return [str(binary), *common]


def measure(client: str, scenario: str, run: int, server: Server, duration: float, binaries: Binaries,
            workdir: Path, bodies: dict[str, Path], client_core: str) -> dict:
    concurrency, events_per_call, _ = SCENARIO_SHAPE[scenario]
    command = client_command(client, scenario, server.port, duration, binaries, workdir, bodies)
    (workdir / "h2load.log").unlink(missing_ok=True)  # h2load appends to an existing log
    rpcs_before, server_cpu_before = server.rpc_count(), server.cpu_seconds()
    busy_before, started = machine_busy_seconds(), time.monotonic()
    result = run_client(command, client_core, workdir, timeout=duration * 3 + 30)
    busy, wall = machine_busy_seconds() - busy_before, time.monotonic() - started
    server_cpu = server.cpu_seconds() - server_cpu_before
    other_cpu = max(0.0, busy - server_cpu - result.cpu_seconds)
    server_rpcs = server.rpc_count() - rpcs_before
    try:
        if client == "h2load":
            measurement = parse_h2load(result.stdout, workdir / "h2load.log", events_per_call)
        else:
            measurement = parse_result_line(result.stdout)
    except ValueError as error:
        raise RuntimeError(f"{client}/{scenario} failed (exit {result.returncode}): {error}\n"
                           f"{result.stderr.strip()[-2000:]}") from None
    if result.returncode != 0 or measurement.errors:
        sys.stderr.write(f"warning: {client}/{scenario} exited {result.returncode} with "
                         f"{measurement.errors} errors: {result.stderr.strip()[-500:]}\n")
    # Rates and CPU per call count successful calls only: a failed call costs little and is no work done.
    succeeded = measurement.calls - measurement.errors
    calls = max(succeeded, 1)
    seconds = max(measurement.seconds, 1e-9)
    events = succeeded * events_per_call
    note = " ".join(filter(None, [measurement.note,
                                  f"errors={measurement.errors}" if measurement.errors else ""]))
    return {
        "run": run, "client": client, "scenario": scenario, "concurrency": concurrency,
        "calls": measurement.calls, "events": measurement.events, "errors": measurement.errors,
        "seconds": round(measurement.seconds, 3),
        "calls_per_s": round(succeeded / seconds, 1),
        "events_per_s": round(events / seconds, 1),
        "p50_us": round(measurement.p50_us, 2), "p99_us": round(measurement.p99_us, 2),
        "cpu_us_per_call": round(result.cpu_seconds * 1e6 / calls, 3),
        "client_cpu_pct": round(100 * result.cpu_seconds / seconds, 1),
        "peak_rss_kib": result.peak_rss_kib,
        "rss_growth_kib": "" if result.rss_growth_kib is None else result.rss_growth_kib,
        "server_cpu_pct": round(100 * server_cpu / seconds, 1),
        "server_cpu_us_per_call": round(server_cpu * 1e6 / calls, 3),
        "server_rpcs_per_call": round(server_rpcs / calls, 4),
        "other_cpu_pct": round(100 * other_cpu / max(wall, 1e-9), 1),
        "ctx_switches_per_call": round(result.context_switches / calls, 3),
        "note": note,
    }


# --------------------------------------------------------------------------- main

def write_tsv(rows: list[dict], path: Path) -> None:
    lines = ["\t".join(TSV_COLUMNS)]
    lines += ["\t".join(str(row[column]) for column in TSV_COLUMNS) for row in rows]
    path.write_text("\n".join(lines) + "\n")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--duration", type=float, default=10.0, help="seconds per client × scenario")
    parser.add_argument("--scenario", default="all", help=f"comma-separated subset of {','.join(SCENARIOS)}")
    parser.add_argument("--clients", default="all", help=f"comma-separated subset of {','.join(CLIENTS)}")
    parser.add_argument("--runs", type=int, default=1, help="repetitions of the whole matrix")
    parser.add_argument("--server-core", default="0")
    parser.add_argument("--client-core", default="1")
    parser.add_argument("--results", type=Path, required=True, help="directory for <timestamp>.tsv and latest.tsv")
    parser.add_argument("--server", type=Path, required=True)
    parser.add_argument("--cpp-client", type=Path, required=True)
    parser.add_argument("--grpc-swift-peer", type=Path, required=True)
    parser.add_argument("--ours", type=Path, required=True)
    args = parser.parse_args(argv)

    scenarios = SCENARIOS if args.scenario == "all" else tuple(args.scenario.split(","))
    clients = CLIENTS if args.clients == "all" else tuple(args.clients.split(","))
    for name in scenarios:
        if name not in SCENARIOS:
            parser.error(f"unknown scenario {name!r}")
    for name in clients:
        if name not in CLIENTS:
            parser.error(f"unknown client {name!r}")
    binaries = Binaries(args.server, args.cpp_client, args.grpc_swift_peer, args.ours)

    workdir = Path(tempfile.mkdtemp(prefix="conductor-bench-"))
    bodies = {}
    for method, body in request_bodies().items():
        bodies[method] = workdir / f"{method}.bin"
        bodies[method].write_bytes(body)
    server = Server(args.server, args.server_core, workdir)
    rows: list[dict] = []
    try:
        for run in range(1, args.runs + 1):
            for scenario in scenarios:
                runnable = [client for client in clients if scenario in SUPPORTED[client]]
                # Rotate the order each run so no client always goes first.
                shift = (run - 1) % max(len(runnable), 1)
                for client in runnable[shift:] + runnable[:shift]:
                    row = measure(client, scenario, run, server, args.duration, binaries, workdir, bodies,
                                  args.client_core)
                    rows.append(row)
                    print(f"run {run} {scenario:<10} {client:<10} {row['calls_per_s']:>12.1f} calls/s "
                          f"p50 {row['p50_us']:>9.2f} µs  p99 {row['p99_us']:>9.2f} µs  "
                          f"cpu {row['cpu_us_per_call']:>8.3f} µs/call  server {row['server_cpu_pct']:>5.1f} %  "
                          f"others {row['other_cpu_pct']:>5.1f} %",
                          flush=True)
    finally:
        server.stop()
        shutil.rmtree(workdir, ignore_errors=True)

    args.results.mkdir(parents=True, exist_ok=True)
    stamp = time.strftime("%Y%m%dT%H%M%S")
    path = args.results / f"{stamp}.tsv"
    write_tsv(rows, path)
    shutil.copyfile(path, args.results / "latest.tsv")
    print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
