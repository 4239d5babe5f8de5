"""Runs every client × scenario against one server per protocol and writes the measurements as TSV.

Called by Scripts/bench.sh after it has built everything (see Benchmarks/README.md). Standard
library only; the report (bench_report.py) is printed and plotted from the TSV afterwards.

The gRPC scenarios run against bench-server, the REST ones against the reference REST conductor
(Scripts/reference_rest_conductor.py, through Benchmarks/rest_bench_conductor.py: hypercorn, one
process; plain HTTP, and TLS with ALPN h2 for rest-get-h2, with certificates from
Scripts/make-test-certificates.sh). Each server is started the first time a scenario needs it and
keeps running. For each run, scenario and client: the server
(pinned to one core) keeps running, the client is started pinned to the other core, and the runner
records
- what the client printed (its RESULT line; for h2load its summary and per-request log),
- the client's CPU time and context switches (voluntary + involuntary, all threads) from wait4's
  rusage: CPU exact to the microsecond; a context switch is a wake-up, the main cost of thread handoffs.
  A client that prints `cpu_us` (the Python REST peers, Benchmarks/rest_peer.py: their own rusage
  over the measured window, without the interpreter's start-up) is taken at its word for CPU/call,
- the client's peak RSS (VmHWM) and its RSS a second in and at the end, sampled from
  /proc/PID/status every 0.2 s (wait4's ru_maxrss is no good here: on Linux it also counts the
  forked runner's memory from before the exec),
- the server's CPU time (/proc/PID/stat) and its RPC count over the run (bench-server: SIGUSR1 →
  STATS line; the REST conductor: lines of its request log, which also tell the connections the
  client opened (distinct `peer`s) and the HTTP versions (`http_version`): the row's note),
- the CPU that everything else on the machine used meanwhile (/proc/stat busy time less the client's
  and the server's): other people's builds and tests show up here, so a reader can tell a noisy
  measurement from a quiet one.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import re
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# ours-loop: our client with its calling tasks on the client's event-loop thread
# (`conductor-bench --executor loop`, i.e. withTaskExecutorPreference(client.loopExecutor)).
CLIENTS = ("h2load", "cpp", "grpc-swift", "ours", "ours-loop", "httpx", "aiohttp")
GRPC_SCENARIOS = ("unary", "concurrent", "batch", "submit", "submit-coalesced", "cached", "flood", "concurrent-tls",
                  "cold-start-tls")
REST_SCENARIOS = ("rest-get", "rest-get-h2", "rest-get-1")
SCENARIOS = GRPC_SCENARIOS + REST_SCENARIOS
# --scenario also takes these names for groups of scenarios.
SCENARIO_GROUPS = {"all": SCENARIOS, "grpc": GRPC_SCENARIOS, "rest": REST_SCENARIOS}
# (a)–(e) of the issue, then the REST rows: scenario → (concurrency, events per call, RPC method).
SCENARIO_SHAPE = {
    "unary": (1, 1, "GetDayProof"),
    "concurrent": (64, 1, "GetDayProof"),
    "batch": (8, 100, "SubmitEventsBatch"),
    "submit": (64, 1, "SubmitEvent"),
    # Issue 16's (d′): (d) with submit coalescing on (COALESCE_ENVIRONMENT); the calls on the wire
    # are SubmitEventsBatch, the rate is single submits. Ours only.
    "submit-coalesced": (64, 1, "SubmitEventsBatch"),
    "cached": (1, 1, "GetDayProof"),
    # Issue 16's (g): 10,000 calls in flight over 4 connections (the rest wait in the pool's queue)
    # for FLOOD_SECONDS: failures, peak RSS and RSS growth after the first second. Ours only.
    "flood": (10_000, 1, "GetDayProof"),
    # Issue 16's (f): (b) over TLS; (h): process start to the first answered GetDayProof over TLS,
    # as the wall time of a process that makes one call and exits (COLD_START_LAUNCHES launches).
    "concurrent-tls": (64, 1, "GetDayProof"),
    "cold-start-tls": (1, 1, "GetDayProof"),
    # GET /day-proof/7 over HTTP/1.1 keep-alive (16 connections), over h2 with TLS (one connection,
    # 16 streams), and one request at a time (latency).
    "rest-get": (16, 1, "GetDayProof"),
    "rest-get-h2": (16, 1, "GetDayProof"),
    "rest-get-1": (1, 1, "GetDayProof"),
}
FLOOD_SECONDS = 30.0
GRPC_TLS_SCENARIOS = {"concurrent-tls", "cold-start-tls"}
COLD_START_LAUNCHES = 20
FLOOD_ENVIRONMENT = {"CONDUCTOR_MAX_CONNECTIONS_PER_ENDPOINT": "4", "CONDUCTOR_MAX_PENDING_CALLS": "10000"}
# (d′): the window that made the most single submits per second at 64 in flight (README, "Choosing
# the window").
COALESCE_ENVIRONMENT = {"CONDUCTOR_SUBMIT_COALESCE_WINDOW": "0.00001"}
SCENARIO_ENVIRONMENT = {"flood": FLOOD_ENVIRONMENT, "submit-coalesced": COALESCE_ENVIRONMENT}
# The REST scenarios served over https (ALPN picks h2); the others use plain http (HTTP/1.1).
REST_TLS_SCENARIOS = {"rest-get-h2"}
# Which clients can run which scenario: cached lookups exist only in our client; aiohttp speaks
# HTTP/1.1 only; the C++ and grpc-swift-2 clients speak gRPC only.
SUPPORTED = {
    "h2load": {"unary", "concurrent", "batch", "submit", *GRPC_TLS_SCENARIOS, *REST_SCENARIOS},
    "cpp": {"unary", "concurrent", "batch", "submit", *GRPC_TLS_SCENARIOS},
    "grpc-swift": {"unary", "concurrent", "batch", "submit"},
    "ours": set(SCENARIOS),
    "ours-loop": {"unary", "concurrent", "batch", "submit", "submit-coalesced", "concurrent-tls", *REST_SCENARIOS},
    "httpx": set(REST_SCENARIOS),
    "aiohttp": {"rest-get", "rest-get-1"},
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


@dataclasses.dataclass
class Activity:
    """What a server saw while one client ran."""
    rpcs: int
    note: str = ""  # the REST conductor's: connections and HTTP versions
    failures: int = 0  # the REST conductor's: answers other than 2xx


class Server:
    """A server pinned to one core, started by `command`, that prints `LISTENING <port>`."""

    def __init__(self, name: str, command: list[str], core: str, workdir: Path):
        self.name = name
        self.log_path = workdir / f"{name}.log"
        self.log = open(self.log_path, "w")
        self.process = subprocess.Popen(["taskset", "-c", core, *command],
                                        stdout=self.log, stderr=subprocess.STDOUT)
        self.port = int(self._wait_for_line(r"^LISTENING (\d+)$", lines_before=0).group(1))

    def _lines(self) -> list[str]:
        return self.log_path.read_text().splitlines()

    def _wait_for_line(self, pattern: str, lines_before: int, seconds: float = 10) -> re.Match:
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            for line in self._lines()[lines_before:]:
                match = re.match(pattern, line)
                if match:
                    return match
            if self.process.poll() is not None:
                raise RuntimeError(f"{self.name} exited: {self.log_path.read_text()}")
            time.sleep(0.01)
        raise RuntimeError(f"{self.name} did not print {pattern!r}: {self.log_path.read_text()[-2000:]}")

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


class GRPCServer(Server):
    """bench-server: counts the RPCs it served (SIGUSR1 → `STATS rpcs=…`)."""

    def __init__(self, binary: Path, core: str, workdir: Path, tls: tuple[Path, Path] | None = None):
        arguments = ["--tls-cert", str(tls[0]), "--tls-key", str(tls[1])] if tls else []
        super().__init__("bench-server-tls" if tls else "bench-server", [str(binary), "--port", "0", *arguments],
                         core, workdir)

    def rpc_count(self) -> int:
        before = len(self._lines())
        self.process.send_signal(signal.SIGUSR1)
        return int(self._wait_for_line(r"^STATS rpcs=(\d+)", lines_before=before).group(1))

    def mark(self) -> int:
        return self.rpc_count()

    def activity_since(self, mark: int) -> Activity:
        return Activity(self.rpc_count() - mark)


class RESTServer(Server):
    """The reference REST conductor; its request log (one JSON line per request, written before the
    answer) counts the requests and tells the connections and HTTP versions they came on."""

    def __init__(self, python: str, script: Path, core: str, workdir: Path, tls: tuple[Path, Path] | None):
        name = "rest-conductor-tls" if tls else "rest-conductor"
        self.request_log = workdir / f"{name}-requests.jsonl"
        command = [python, str(script), "--port", "0", "--log", str(self.request_log), "--exit-with-parent"]
        if tls:
            command += ["--tls-cert", str(tls[0]), "--tls-key", str(tls[1])]
        self.scheme = "https" if tls else "http"
        super().__init__(name, command, core, workdir)

    # Python starts slowly on a busy machine (protobuf, hypercorn): it gets longer to say LISTENING.
    def _wait_for_line(self, pattern: str, lines_before: int, seconds: float = 60) -> re.Match:
        return super()._wait_for_line(pattern, lines_before, seconds)

    @property
    def base_url(self) -> str:
        return f"{self.scheme}://127.0.0.1:{self.port}"

    def mark(self) -> int:
        return self.request_log.stat().st_size if self.request_log.exists() else 0

    def activity_since(self, mark: int) -> Activity:
        if not self.request_log.exists():
            return Activity(0, "conns=0")
        with open(self.request_log, "rb") as log:
            log.seek(mark)
            entries = [json.loads(line) for line in log.read().splitlines() if line.strip()]
        peers = {entry.get("peer") for entry in entries}
        versions = sorted({str(entry.get("http_version")) for entry in entries})
        failures = sum(1 for entry in entries if not 200 <= (entry.get("status") or 0) < 300)
        return Activity(len(entries), f"conns={len(peers)} http={'+'.join(versions) or 'none'}", failures)


@dataclasses.dataclass
class ClientRun:
    stdout: str
    stderr: str
    returncode: int
    cpu_seconds: float
    context_switches: int
    peak_rss_kib: int
    rss_growth_kib: int | None


def run_client(command: list[str], core: str, workdir: Path, timeout: float,
               environment: dict[str, str] | None = None) -> ClientRun:
    """Runs a client pinned to `core`, sampling its RSS, and returns its output and rusage."""
    out_path, err_path = workdir / "client.out", workdir / "client.err"
    with open(out_path, "w") as out, open(err_path, "w") as err:
        process = subprocess.Popen(["taskset", "-c", core, *command], stdout=out, stderr=err, env=environment)
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
    # The client's own CPU time over its measured window, when it reports one (`cpu_us`).
    cpu_seconds: float | None = None


def parse_result_line(stdout: str) -> Measurement:
    for line in stdout.splitlines():
        if line.startswith("RESULT "):
            fields = dict(item.split("=", 1) for item in line.split()[1:])
            note = f"served={fields['served']}" if "served" in fields else ""
            cpu = float(fields["cpu_us"]) / 1e6 if "cpu_us" in fields else None
            return Measurement(int(fields["calls"]), int(fields["events"]), int(fields["errors"]),
                               float(fields["seconds"]), float(fields["p50_us"]), float(fields["p99_us"]), note,
                               cpu)
    raise ValueError(f"no RESULT line in: {stdout!r}")


def percentile(sorted_values: list[int], fraction: float) -> float:
    if not sorted_values:
        return 0.0
    rank = max(1, int(fraction * len(sorted_values)))
    return float(sorted_values[rank - 1])


def parse_h2load(stdout: str, log_path: Path, events_per_call: int, server_failures: int | None = None) -> Measurement:
    """h2load's summary: `done` counts the requests answered, `errored` those that got no answer
    (connection lost, or never sent), `failed` both those and the answers without a 2xx status.

    With `server_failures` (the non-2xx answers the REST conductor logged), the HTTP-level failures
    are taken from the server: h2load's HTTP/1.1 parser reads no status from a status line without
    a reason phrase (`HTTP/1.1 200 `, which hypercorn sends), and so counts every answer as failed.
    """
    requests = re.search(r"requests: \d+ total, \d+ started, (\d+) done, (\d+) succeeded, (\d+) failed, "
                         r"(\d+) errored, (\d+) timeout", stdout)
    finished = re.search(r"finished in ([\d.]+)(ms|s),", stdout)
    if not requests or not finished:
        raise ValueError(f"cannot parse h2load output: {stdout!r}")
    done, failed, errored = int(requests.group(1)), int(requests.group(3)), int(requests.group(4))
    errors = failed if server_failures is None else errored + server_failures
    calls = done + errored
    seconds = float(finished.group(1)) / (1000 if finished.group(2) == "ms" else 1)
    latencies = sorted(int(line.split("\t")[2]) for line in log_path.read_text().splitlines() if line.count("\t") >= 2)
    return Measurement(calls, calls * events_per_call, errors, seconds,
                       percentile(latencies, 0.50), percentile(latencies, 0.99),
                       "" if server_failures is None else "status=server-log")


@dataclasses.dataclass
class Binaries:
    server: Path
    cpp_client: Path
    grpc_swift_peer: Path
    ours: Path
    python: str
    rest_server: Path
    rest_peer: Path
    make_certificates: Path


# Every REST client asks for the day the gRPC scenarios ask for.
REST_PATH = "/day-proof/7"


def rest_client_command(client: str, scenario: str, server: RESTServer, duration: float, binaries: Binaries,
                        workdir: Path, ca_file: Path | None) -> tuple[list[str], dict[str, str]]:
    """The command line and environment of a client in a REST scenario."""
    concurrency = SCENARIO_SHAPE[scenario][0]
    h2 = scenario in REST_TLS_SCENARIOS
    url = server.base_url + REST_PATH
    environment = dict(os.environ)
    if client == "h2load":
        # HTTP/1.1: a connection per request in flight (`--h1 -c N -m 1`); h2: one connection with
        # N streams (ALPN picks h2; h2load does not verify the certificate).
        shape = ["-c", "1", "-m", str(concurrency)] if h2 else ["--h1", "-c", str(concurrency), "-m", "1"]
        return (["h2load", "-D", f"{round(duration * 1000)}ms", "-t", "1", *shape,
                 "-H", "accept: application/json", f"--log-file={workdir / 'h2load.log'}", url], environment)
    if client in ("ours", "ours-loop"):
        # The REST client: the protocol from the environment, the base URL from --target. `unary`
        # is conductor-bench's dayProof(7) with .reload: every call goes on the wire.
        environment["CONDUCTOR_PROTOCOL"] = "http"
        if ca_file:
            environment["CONDUCTOR_TLS_CA_FILE"] = str(ca_file)
        executor = ["--executor", "loop"] if client == "ours-loop" else []
        return ([str(binaries.ours), "--target", server.base_url, "--scenario", "unary",
                 "--concurrency", str(concurrency), "--duration", str(duration), *executor], environment)
    command = [binaries.python, str(binaries.rest_peer), "--client", client, "--url", url, "--scenario", scenario,
               "--concurrency", str(concurrency), "--duration", str(duration), "--warmup", "0"]
    if h2:
        command += ["--h2"]
    if ca_file:
        command += ["--ca", str(ca_file)]
    return command, environment


def client_command(client: str, scenario: str, port: int, duration: float, binaries: Binaries,
                   workdir: Path, bodies: dict[str, Path], ca_file: Path | None = None) -> list[str]:
    concurrency, _, method = SCENARIO_SHAPE[scenario]
    tls = scenario in GRPC_TLS_SCENARIOS
    target = f"{'grpcs' if tls else 'grpc'}://127.0.0.1:{port}"
    # conductor-bench runs the flood as its concurrent calls, at the flood's concurrency and length;
    # the cold start is one call.
    shape, length = {"flood": ("concurrent", FLOOD_SECONDS), "concurrent-tls": ("concurrent", duration),
                     "cold-start-tls": ("unary", duration),
                     "submit-coalesced": ("submit", duration)}.get(scenario, (scenario, duration))
    common = ["--target", target, "--scenario", shape, "--concurrency", str(concurrency), "--duration", str(length)]
    if scenario == "cold-start-tls":
        common += ["--calls", "1"]
    if client == "h2load":
        # One connection, one thread, `concurrency` streams; real gRPC-framed requests (over TLS,
        # ALPN h2, for (f) and (h); h2load does not verify the certificate).
        amount = ["-n", "1"] if scenario == "cold-start-tls" else ["-D", f"{round(duration * 1000)}ms"]
        return ["h2load", *amount, "-c", "1", "-t", "1", "-m", str(concurrency),
                "-d", str(bodies[method]), "-H", "content-type: application/grpc", "-H", "te: trailers",
                f"--log-file={workdir / 'h2load.log'}",
                f"{'https' if tls else 'http'}://127.0.0.1:{port}/chorus.ConductorBridge/{method}"]
    if client == "cpp" and tls and ca_file:
        common += ["--ca", str(ca_file)]
    if client == "ours-loop":
        return [str(binaries.ours), *common, "--executor", "loop"]
    binary = {"cpp": binaries.cpp_client, "grpc-swift": binaries.grpc_swift_peer, "ours": binaries.ours}[client]
    return [str(binary), *common]


def measure(client: str, scenario: str, run: int, server: GRPCServer | RESTServer, duration: float,
            binaries: Binaries, workdir: Path, bodies: dict[str, Path], client_core: str,
            ca_file: Path | None = None) -> dict:
    concurrency, events_per_call, _ = SCENARIO_SHAPE[scenario]
    if isinstance(server, RESTServer):
        command, environment = rest_client_command(client, scenario, server, duration, binaries, workdir, ca_file)
    else:
        command = client_command(client, scenario, server.port, duration, binaries, workdir, bodies, ca_file)
        environment = {**os.environ, "CONDUCTOR_PROTOCOL": "grpc", **SCENARIO_ENVIRONMENT.get(scenario, {})}
        if ca_file:
            environment["CONDUCTOR_TLS_CA_FILE"] = str(ca_file)
        if scenario == "cold-start-tls":
            return measure_cold_start(client, scenario, run, server, command, environment, workdir, client_core)
    (workdir / "h2load.log").unlink(missing_ok=True)  # h2load appends to an existing log
    server_mark, server_cpu_before = server.mark(), server.cpu_seconds()
    busy_before, started = machine_busy_seconds(), time.monotonic()
    length = FLOOD_SECONDS if scenario == "flood" else duration
    result = run_client(command, client_core, workdir, timeout=length * 3 + 60, environment=environment)
    busy, wall = machine_busy_seconds() - busy_before, time.monotonic() - started
    server_cpu = server.cpu_seconds() - server_cpu_before
    other_cpu = max(0.0, busy - server_cpu - result.cpu_seconds)
    activity = server.activity_since(server_mark)
    try:
        if client == "h2load":
            http1 = scenario in REST_SCENARIOS and scenario not in REST_TLS_SCENARIOS
            measurement = parse_h2load(result.stdout, workdir / "h2load.log", events_per_call,
                                       activity.failures if http1 else None)
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
    # The client's CPU: its own count over its measured window when it gives one, else wait4's.
    client_cpu = measurement.cpu_seconds if measurement.cpu_seconds is not None else result.cpu_seconds
    note = " ".join(filter(None, [measurement.note, activity.note,
                                  "cpu=window" if measurement.cpu_seconds is not None else "",
                                  f"errors={measurement.errors}" if measurement.errors else ""]))
    return {
        "run": run, "client": client, "scenario": scenario, "concurrency": concurrency,
        "calls": measurement.calls, "events": measurement.events, "errors": measurement.errors,
        "seconds": round(measurement.seconds, 3),
        "calls_per_s": round(succeeded / seconds, 1),
        "events_per_s": round(events / seconds, 1),
        "p50_us": round(measurement.p50_us, 2), "p99_us": round(measurement.p99_us, 2),
        "cpu_us_per_call": round(client_cpu * 1e6 / calls, 3),
        "client_cpu_pct": round(100 * client_cpu / seconds, 1),
        "peak_rss_kib": result.peak_rss_kib,
        "rss_growth_kib": "" if result.rss_growth_kib is None else result.rss_growth_kib,
        "server_cpu_pct": round(100 * server_cpu / seconds, 1),
        "server_cpu_us_per_call": round(server_cpu * 1e6 / calls, 3),
        "server_rpcs_per_call": round(activity.rpcs / calls, 4),
        "other_cpu_pct": round(100 * other_cpu / max(wall, 1e-9), 1),
        "ctx_switches_per_call": round(result.context_switches / calls, 3),
        "note": note,
    }


def measure_cold_start(client: str, scenario: str, run: int, server: GRPCServer, command: list[str],
                       environment: dict[str, str], workdir: Path, client_core: str) -> dict:
    """(h): COLD_START_LAUNCHES launches of a process that connects over TLS, makes one GetDayProof
    and exits; each launch's wall time, from the spawn to the exit the parent sees, is one sample."""
    walls, cpu, switches, failures = [], 0.0, 0, []
    server_mark, server_cpu_before = server.mark(), server.cpu_seconds()
    busy_before = machine_busy_seconds()
    out_path, err_path = workdir / "client.out", workdir / "client.err"
    for _ in range(COLD_START_LAUNCHES):
        with open(out_path, "w") as out, open(err_path, "w") as err:
            started = time.monotonic()
            process = subprocess.Popen(["taskset", "-c", client_core, *command], stdout=out, stderr=err, env=environment)
            _, status, usage = os.wait4(process.pid, 0)
            walls.append(time.monotonic() - started)
        cpu += usage.ru_utime + usage.ru_stime
        switches += usage.ru_nvcsw + usage.ru_nivcsw
        output = out_path.read_text()
        answered = (re.search(r"requests: 1 total, 1 started, 1 done, 1 succeeded", output) if client == "h2load"
                    else re.search(r"^RESULT .* calls=1 .*errors=0 ", output, re.MULTILINE))
        if os.waitstatus_to_exitcode(status) != 0 or not answered:
            failures.append(err_path.read_text().strip()[-300:] or output.strip()[-300:])
    wall_total = sum(walls)
    server_cpu = server.cpu_seconds() - server_cpu_before
    other_cpu = max(0.0, machine_busy_seconds() - busy_before - server_cpu - cpu)
    activity = server.activity_since(server_mark)
    launches = len(walls)
    if failures:
        sys.stderr.write(f"warning: {client}/{scenario}: {len(failures)} launches failed: {failures[0]}\n")
    ordered = sorted(walls)
    return {
        "run": run, "client": client, "scenario": scenario, "concurrency": 1,
        "calls": launches, "events": launches, "errors": len(failures), "seconds": round(wall_total, 3),
        "calls_per_s": round(launches / wall_total, 1), "events_per_s": round(launches / wall_total, 1),
        "p50_us": round(statistics.median(ordered) * 1e6, 1), "p99_us": round(ordered[-1] * 1e6, 1),
        "cpu_us_per_call": round(cpu * 1e6 / launches, 1), "client_cpu_pct": round(100 * cpu / wall_total, 1),
        # wait4's ru_maxrss would count the forked Python before the exec: no peak RSS here.
        "peak_rss_kib": "", "rss_growth_kib": "",
        "server_cpu_pct": round(100 * server_cpu / wall_total, 1),
        "server_cpu_us_per_call": round(server_cpu * 1e6 / launches, 3),
        "server_rpcs_per_call": round(activity.rpcs / launches, 4),
        "other_cpu_pct": round(100 * other_cpu / wall_total, 1),
        "ctx_switches_per_call": round(switches / launches, 3),
        "note": f"launches={launches} p99=max" + (f" errors={len(failures)}" if failures else ""),
    }


# --------------------------------------------------------------------------- main

def write_tsv(rows: list[dict], path: Path) -> None:
    lines = ["\t".join(TSV_COLUMNS)]
    lines += ["\t".join(str(row[column]) for column in TSV_COLUMNS) for row in rows]
    path.write_text("\n".join(lines) + "\n")


class Servers:
    """The servers the scenarios need, each started (pinned to `core`) the first time it is asked for."""

    def __init__(self, binaries: Binaries, core: str, workdir: Path):
        self.binaries, self.core, self.workdir = binaries, core, workdir
        self.running: dict[str, GRPCServer | RESTServer] = {}
        self.ca_file: Path | None = None

    def for_scenario(self, scenario: str) -> GRPCServer | RESTServer:
        if scenario in REST_SCENARIOS:
            kind = "rest-tls" if scenario in REST_TLS_SCENARIOS else "rest"
        else:
            kind = "grpc-tls" if scenario in GRPC_TLS_SCENARIOS else "grpc"
        if kind not in self.running:
            if kind in ("grpc", "grpc-tls"):
                self.running[kind] = GRPCServer(self.binaries.server, self.core, self.workdir,
                                                self._certificates() if kind == "grpc-tls" else None)
            else:
                self.running[kind] = RESTServer(self.binaries.python, self.binaries.rest_server, self.core,
                                                self.workdir, self._certificates() if kind == "rest-tls" else None)
        return self.running[kind]

    def ca_for(self, scenario: str) -> Path | None:
        return self.ca_file if scenario in REST_TLS_SCENARIOS or scenario in GRPC_TLS_SCENARIOS else None

    def _certificates(self) -> tuple[Path, Path]:
        directory = self.workdir / "certificates"
        if self.ca_file is None:
            subprocess.run([str(self.binaries.make_certificates), str(directory)], check=True, stdout=subprocess.DEVNULL)
            self.ca_file = directory / "ca.pem"
        return directory / "server.pem", directory / "server.key"

    def stop(self) -> None:
        for server in self.running.values():
            server.stop()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--duration", type=float, default=10.0, help="seconds per client × scenario")
    parser.add_argument("--scenario", default="all",
                        help=f"comma-separated subset of {','.join(SCENARIOS)}, or of the groups "
                             f"{','.join(SCENARIO_GROUPS)}")
    parser.add_argument("--clients", default="all", help=f"comma-separated subset of {','.join(CLIENTS)}")
    parser.add_argument("--runs", type=int, default=1, help="repetitions of the whole matrix")
    parser.add_argument("--server-core", default="0")
    parser.add_argument("--client-core", default="1")
    parser.add_argument("--results", type=Path, required=True, help="directory for <timestamp>.tsv and latest.tsv")
    parser.add_argument("--server", type=Path, required=True)
    parser.add_argument("--cpp-client", type=Path, required=True)
    parser.add_argument("--grpc-swift-peer", type=Path, required=True)
    parser.add_argument("--ours", type=Path, required=True)
    parser.add_argument("--python", default=sys.executable,
                        help="the Python (with the project's requirements) for the REST conductor and peers")
    parser.add_argument("--rest-server", type=Path, default=ROOT / "Benchmarks" / "rest_bench_conductor.py",
                        help="the REST conductor (default: the reference one without hypercorn's 1000 requests a connection)")
    parser.add_argument("--rest-peer", type=Path, default=ROOT / "Benchmarks" / "rest_peer.py")
    parser.add_argument("--make-certificates", type=Path, default=ROOT / "Scripts" / "make-test-certificates.sh")
    args = parser.parse_args(argv)

    scenarios: list[str] = []
    for name in args.scenario.split(","):
        if name not in SCENARIOS and name not in SCENARIO_GROUPS:
            parser.error(f"unknown scenario {name!r}")
        scenarios += [scenario for scenario in SCENARIO_GROUPS.get(name, (name,)) if scenario not in scenarios]
    clients = CLIENTS if args.clients == "all" else tuple(args.clients.split(","))
    for name in clients:
        if name not in CLIENTS:
            parser.error(f"unknown client {name!r}")
    binaries = Binaries(args.server, args.cpp_client, args.grpc_swift_peer, args.ours, args.python,
                        args.rest_server, args.rest_peer, args.make_certificates)

    workdir = Path(tempfile.mkdtemp(prefix="conductor-bench-"))
    bodies = {}
    for method, body in request_bodies().items():
        bodies[method] = workdir / f"{method}.bin"
        bodies[method].write_bytes(body)
    servers = Servers(binaries, args.server_core, workdir)
    rows: list[dict] = []
    try:
        for run in range(1, args.runs + 1):
            for scenario in scenarios:
                runnable = [client for client in clients if scenario in SUPPORTED[client]]
                if not runnable:
                    continue
                server = servers.for_scenario(scenario)
                # Rotate the order each run so no client always goes first.
                shift = (run - 1) % max(len(runnable), 1)
                for client in runnable[shift:] + runnable[:shift]:
                    row = measure(client, scenario, run, server, args.duration, binaries, workdir, bodies,
                                  args.client_core, servers.ca_for(scenario))
                    rows.append(row)
                    print(f"run {run} {scenario:<11} {client:<10} {row['calls_per_s']:>12.1f} calls/s "
                          f"p50 {row['p50_us']:>9.2f} µs  p99 {row['p99_us']:>9.2f} µs  "
                          f"cpu {row['cpu_us_per_call']:>8.3f} µs/call  server {row['server_cpu_pct']:>5.1f} %  "
                          f"others {row['other_cpu_pct']:>5.1f} %  {row['note']}",
                          flush=True)
    finally:
        servers.stop()
        shutil.rmtree(workdir, ignore_errors=True)

    if not rows:
        print("no client runs any of the scenarios asked for", file=sys.stderr)
        return 1
    args.results.mkdir(parents=True, exist_ok=True)
    stamp = time.strftime("%Y%m%dT%H%M%S")
    path = args.results / f"{stamp}.tsv"
    write_tsv(rows, path)
    shutil.copyfile(path, args.results / "latest.tsv")
    print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
