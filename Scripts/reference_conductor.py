"""Reference Chorus Conductor: a deterministic gRPC server built on the official `grpcio`.

Used by the client's integration tests as the "real" conductor. Run it from the repository root:

    .venv/bin/python Scripts/reference_conductor.py [options]

It serves `chorus.ConductorBridge` (Protos/conductor.proto) and `grpc.health.v1.Health`
(Protos/health.proto), prints exactly one line `LISTENING <port>` to stdout once serving (logs go to
stderr) and exits cleanly on SIGTERM/SIGINT. The Python modules for the protos are generated with
`grpc_tools.protoc` on first use and cached under `.venv/proto-cache/<hash>/` (atomic rename, so
many servers may start in parallel).

Semantics (deterministic):
  GetDayProof(d): 1..999 canonical, 1000..1999 non-canonical (proof gets `-gen<k>`, k = how many
    times day d has been served, from 1), else NOT_FOUND `no proof for day <d>`.
    proof = `proof-of-day-<d>` (padded with 'x' to N bytes with `--proof-bytes d=N`),
    proof_hash = sha256 hex of proof, source = `reference-conductor`.
  SubmitEvent: receipt.event_hash = event_hash(...) below, receipt.epoch = event.epoch.
  SubmitEventsBatch: all-or-nothing, one receipt per event in request order.
  HealthCheck / grpc.health.v1.Health/Check: `--health-status`; Check with an unknown non-empty
    service name answers NOT_FOUND.

Fault knobs (`METHOD` = SubmitEvent|SubmitEventsBatch|GetDayProof|HealthCheck|Check or `*`), applied
in this order: --token-file, --delay, --fail-first, --error, then the real handler. See `--help`.
Successful answers carry the initial metadata `x-served-by: reference-conductor`.

Request log (`--log FILE`): one JSON object per line, flushed per line, for every request, written
before the answer is sent:
  {"seq", "time", "start", "method", "outcome": "ok"|"error:<CODE>"|"cancelled", "peer",
   "attempt", "metadata", "user_agent", and per method: "day" (GetDayProof),
   "event_hashes", "payload_bytes", "applied" (submits), "service" (health checks)}

The domain (days, proofs, event hashes, the ledger) and the knobs the REST reference conductor
(reference_rest_conductor.py) has too are in conductor_common.py.

Helpers for tests: `load_proto_modules()` returns the generated modules, `event_hash()` and
`day_proof()` compute the expected values.
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import importlib
import importlib.metadata
import os
import shutil
import signal
import sys
import tempfile
import time
from concurrent import futures
from dataclasses import dataclass
from pathlib import Path
from types import SimpleNamespace

from conductor_common import (  # noqa: F401 (event_hash, day_proof, sha256_hex: for the tests)
    SOURCE, Config as CommonConfig, ErrorRule, FaultSchedule, Ledger, RateDraws, RejectedEvent, RequestLog,
    UnknownDay, content_hash, day_proof, event_hash, remove_stale_socket, sha256_hex,
    split_method_value, tcp_address, wait_for_stop,
)

ROOT = Path(__file__).resolve().parent.parent
PROTO_FILES = ("conductor.proto", "health.proto", "rpc_status.proto")
METHODS = ("SubmitEvent", "SubmitEventsBatch", "GetDayProof", "HealthCheck", "Check")
MIB = 1024 * 1024
# Request headers that are part of the gRPC protocol rather than application metadata.
STANDARD_HEADERS = frozenset({
    "user-agent", "te", "content-type", "grpc-timeout", "grpc-encoding",
    "grpc-accept-encoding", "accept-encoding", "grpc-previous-rpc-attempts",
    "grpc-tags-bin", "grpc-trace-bin", "authority", "host",
})
# Service names that grpc.health.v1.Health/Check knows.
KNOWN_HEALTH_SERVICES = frozenset({"", "chorus.ConductorBridge"})


def log(message: str) -> None:
    """Writes one diagnostic line to stderr."""
    print(f"reference-conductor[{os.getpid()}]: {message}", file=sys.stderr, flush=True)


# --------------------------------------------------------------------------- generated modules

def _proto_cache_key(proto_dir: Path) -> str:
    """Hash of the protos and the generator version: names the cache directory."""
    digest = hashlib.sha256()
    digest.update(importlib.metadata.version("grpcio-tools").encode())
    for name in PROTO_FILES:
        digest.update(b"\0" + name.encode() + b"\0")
        digest.update((proto_dir / name).read_bytes())
    return digest.hexdigest()[:24]


def _cache_root() -> Path:
    """$REFERENCE_CONDUCTOR_CACHE, else `.venv/proto-cache` when the venv is writable, else a
    directory under the temp dir."""
    if os.environ.get("REFERENCE_CONDUCTOR_CACHE"):
        return Path(os.environ["REFERENCE_CONDUCTOR_CACHE"])
    venv = ROOT / ".venv"
    if venv.is_dir() and os.access(venv, os.W_OK):
        return venv / "proto-cache"
    return Path(tempfile.gettempdir()) / f"reference-conductor-proto-cache-{os.getuid()}"


def _generate_modules(proto_dir: Path, out_dir: Path) -> None:
    """Runs grpc_tools.protoc in-process for PROTO_FILES into out_dir."""
    from grpc_tools import protoc  # imported lazily: only needed on a cache miss

    args = ["protoc", f"-I{proto_dir}", f"--python_out={out_dir}",
            f"--grpc_python_out={out_dir}", *PROTO_FILES]
    if protoc.main(args) != 0:
        raise RuntimeError(f"grpc_tools.protoc failed for {proto_dir}")


def ensure_generated(proto_dir: Path = ROOT / "Protos") -> Path:
    """Returns a directory holding the generated modules, generating them once per proto hash.

    Generation goes to a private temporary directory that is then renamed into place, so
    parallel starts never see a half-written cache; the loser of a race discards its copy.
    """
    cache = _cache_root()
    final = cache / _proto_cache_key(proto_dir)
    if (final / "COMPLETE").exists():
        return final
    cache.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix="tmp-", dir=cache))
    try:
        _generate_modules(proto_dir, staging)
        (staging / "COMPLETE").write_text("ok\n")
        try:
            os.rename(staging, final)
        except OSError:
            if not (final / "COMPLETE").exists():
                raise
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return final


def load_proto_modules(proto_dir: Path = ROOT / "Protos") -> SimpleNamespace:
    """Imports the generated modules: conductor_pb2(_grpc), health_pb2(_grpc) and rpc_status_pb2."""
    directory = str(ensure_generated(proto_dir))
    if directory not in sys.path:
        sys.path.insert(0, directory)
    names = ("conductor_pb2", "conductor_pb2_grpc", "health_pb2", "health_pb2_grpc", "rpc_status_pb2")
    return SimpleNamespace(**{name: importlib.import_module(name) for name in names})


# --------------------------------------------------------------------------- configuration

@dataclass
class Config(CommonConfig):
    """The common knobs plus the gRPC-only ones."""
    pushback_ms: int | None = None
    error_details: bool = False


def parse_status_code(text: str):
    """A grpc.StatusCode from a name (`UNAVAILABLE`) or a number (`14`)."""
    import grpc

    text = text.strip()
    for code in grpc.StatusCode:
        if text.upper() == code.name or (text.isdigit() and int(text) == code.value[0]):
            return code
    raise argparse.ArgumentTypeError(f"unknown grpc status code {text!r}")


def _parse_rules(args: argparse.Namespace, parser: argparse.ArgumentParser) -> Config:
    """Turns the repeatable METHOD=VALUE flags into a Config."""
    config = Config(pushback_ms=args.error_pushback_ms, health_status=args.health_status,
                    health_file=args.health_file, token_file=args.token_file,
                    error_details=args.error_details, rejected_event_types=tuple(args.reject_event_type),
                    seed=args.seed)
    try:
        for item in args.delay:
            method, value = split_method_value(item, METHODS)
            seconds_text, _, rate_text = value.partition(":")
            config.delays[method] = float(seconds_text)
            if rate_text:
                config.delay_rates[method] = float(rate_text)
        for item in args.error:
            method, value = split_method_value(item, METHODS)
            code_text, _, rate_text = value.partition(":")
            rate = float(rate_text) if rate_text else 1.0
            config.errors[method] = ErrorRule(parse_status_code(code_text), rate)
        for item in args.fail_first:
            method, value = split_method_value(item, METHODS)
            config.fail_first[method] = int(value)
        for item in args.proof_bytes:
            day, _, size = item.partition("=")
            config.proof_bytes[int(day)] = int(size)
    except (ValueError, argparse.ArgumentTypeError) as error:
        parser.error(str(error))
    return config


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description="Reference Chorus Conductor (grpcio server).")
    add = parser.add_argument
    add("--host", default="127.0.0.1", help="address to bind: 127.0.0.1, ::1, 0.0.0.0, [::]")
    add("--port", type=int, default=0, help="TCP port; 0 picks a free one (default)")
    add("--unix", metavar="PATH", help="also listen on the unix socket PATH")
    add("--no-tcp", action="store_true", help="do not listen on TCP (prints LISTENING 0)")
    add("--log", metavar="FILE", help="append one JSON line per request to FILE")
    add("--seed", type=int, default=1, help="seed for --error rates (default 1)")
    add("--health-status", default="SERVING", choices=("SERVING", "NOT_SERVING", "UNKNOWN"))
    add("--no-grpc-health", action="store_true", help="do not serve grpc.health.v1.Health")
    add("--health-file", metavar="FILE",
        help="read the health status (SERVING, NOT_SERVING, UNKNOWN) from FILE on every check, "
             "so a test can change it while the server runs")
    add("--token-file", metavar="FILE",
        help="every call must carry `authorization: Bearer <FILE's content>` (read on every call, so a "
             "test can rotate it), else UNAUTHENTICATED")
    add("--error-details", action="store_true",
        help="injected --error failures carry grpc-status-details-bin (a google.rpc.Status with one "
             "google.rpc.ErrorInfo detail) and the trailer x-error-trailer: injected")
    add("--reject-event-type", action="append", default=[], metavar="TYPE",
        help="events of TYPE are invalid: INVALID_ARGUMENT, and a batch holding one applies nothing")
    add("--proof-bytes", action="append", default=[], metavar="DAY=N",
        help="pad the proof of DAY with 'x' to N bytes")
    add("--delay", action="append", default=[], metavar="METHOD=SECONDS[:RATE]",
        help="wait before answering; with RATE, only that fraction of requests (drawn with --seed)")
    add("--error", action="append", default=[], metavar="METHOD=CODE[:RATE]")
    add("--error-pushback-ms", type=int, metavar="N",
        help="add trailing metadata grpc-retry-pushback-ms: N to injected errors")
    add("--fail-first", action="append", default=[], metavar="METHOD=N",
        help="the first N requests of METHOD get UNAVAILABLE")
    add("--max-connection-age", type=float, metavar="SECONDS")
    add("--max-connection-age-grace", type=float, metavar="SECONDS")
    add("--max-connection-idle", type=float, metavar="SECONDS")
    add("--max-concurrent-streams", type=int, metavar="N")
    add("--max-workers", type=int, default=200, help="handler thread pool size (default 200)")
    add("--max-message-bytes", type=int, default=64 * MIB,
        help="max send/receive message size (default 64 MiB)")
    add("--keepalive-permit-without-calls", action="store_true")
    add("--min-ping-interval-ms", type=int, metavar="N",
        help="grpc.http2.min_ping_interval_without_data_ms")
    add("--max-ping-strikes", type=int, metavar="N", help="grpc.http2.max_ping_strikes")
    add("--keepalive-time-ms", type=int, metavar="N", help="server pings idle clients every N ms")
    add("--keepalive-timeout-ms", type=int, metavar="N")
    add("--server-option", action="append", default=[], metavar="KEY=VALUE",
        help="any other grpc channel argument (integer values are passed as int)")
    add("--compression", choices=("none", "gzip", "deflate"), default="none",
        help="compress responses for clients that accept it")
    add("--tls-cert", metavar="FILE")
    add("--tls-key", metavar="FILE")
    add("--tls-client-ca", metavar="FILE")
    add("--require-client-cert", action="store_true")
    add("--protos", type=Path, default=ROOT / "Protos", help="directory of the .proto files")
    add("--lifetime", type=float, default=0, metavar="SECONDS",
        help="stop by itself after SECONDS (0 = never)")
    add("--exit-with-parent", action="store_true", help="stop when the parent process dies")
    add("--verbose", action="store_true", help="log every request to stderr")
    return parser


def _metadata_value(key: str, value) -> str:
    if isinstance(value, bytes):
        return base64.b64encode(value).decode()
    return value


def describe_metadata(pairs) -> tuple[dict, int, str | None]:
    """Splits request metadata into (custom metadata, attempt number, user-agent).

    Custom metadata maps key to value (a list when the key repeats; `-bin` values base64).
    """
    custom: dict = {}
    attempt, user_agent = 0, None
    for key, value in pairs or ():
        if key == "grpc-previous-rpc-attempts":
            attempt = int(value) if str(value).isdigit() else 0
        elif key == "user-agent":
            user_agent = value
        elif key.startswith(":") or key in STANDARD_HEADERS:
            continue
        elif key in custom:
            previous = custom[key]
            custom[key] = (previous if isinstance(previous, list) else [previous])
            custom[key].append(_metadata_value(key, value))
        else:
            custom[key] = _metadata_value(key, value)
    return custom, attempt, user_agent


# --------------------------------------------------------------------------- the service

class Injected(Exception):
    """Ends a call with a status code (logged as error:<CODE>)."""

    def __init__(self, code, message: str, trailing=()):
        super().__init__(message)
        self.code, self.message, self.trailing = code, message, tuple(trailing)


class Cancelled(Exception):
    """The client went away (cancel or deadline) while the call was delayed."""

    def __init__(self, code):
        super().__init__(code.name)
        self.code = code


class Conductor:
    """State and behaviour of the reference conductor, shared by both services."""

    def __init__(self, config: Config, pb: SimpleNamespace, request_log: RequestLog,
                 verbose: bool = False):
        import grpc

        self.grpc = grpc
        self.config = config
        self.pb = pb
        self.request_log = request_log
        self.verbose = verbose
        self.ledger = Ledger(config)
        self.faults = FaultSchedule(config, grpc.StatusCode.UNAVAILABLE)
        self.delay_draws = RateDraws(config.seed + 1)  # apart from --error's draws, which stay as they were

    # ---- the common request path

    def handle(self, method: str, request, context, describe, respond):
        """Runs one call: log fields, delay, injected faults, then `respond`; logs the outcome."""
        entry = self._new_entry(method, context)
        describe(request, entry)
        try:
            self._authenticate(context)
            self._delay(method, context)
            self._inject_faults(method)
            response = respond(request, entry)
        except Cancelled as cancelled:
            entry["outcome"] = "cancelled"
            self._record(entry)
            # The client is gone, so this sends nothing; it just ends the call without a response.
            context.abort(cancelled.code, "cancelled while delayed")
        except Injected as failure:
            entry["outcome"] = f"error:{failure.code.name}"
            self._record(entry)
            if failure.trailing:
                context.set_trailing_metadata(failure.trailing)
            context.abort(failure.code, failure.message)
        entry["outcome"] = "ok"
        self._record(entry)
        context.send_initial_metadata((("x-served-by", SOURCE),))
        return response

    def _record(self, entry: dict) -> None:
        self.request_log.write(entry)
        if self.verbose:
            log(f"{entry['method']} {entry['outcome']} peer={entry['peer']}")

    def _authenticate(self, context) -> None:
        accepted = self.config.accepted_token()
        if accepted is None:
            return
        sent = dict(context.invocation_metadata()).get("authorization")
        if not accepted or sent != f"Bearer {accepted}":
            raise Injected(self.grpc.StatusCode.UNAUTHENTICATED, "missing or invalid bearer token")

    def _new_entry(self, method: str, context) -> dict:
        custom, attempt, user_agent = describe_metadata(context.invocation_metadata())
        return {"method": method, "start": time.time(), "peer": context.peer(),
                "attempt": attempt, "metadata": custom, "user_agent": user_agent}

    def _delay(self, method: str, context) -> None:
        seconds = Config.lookup(self.config.delays, method)
        if not seconds or not self.delay_draws.strikes(Config.lookup(self.config.delay_rates, method)):
            return
        until = time.monotonic() + seconds
        while True:
            if not context.is_active():
                raise Cancelled(self.grpc.StatusCode.CANCELLED)
            remaining_deadline = context.time_remaining()
            if remaining_deadline is not None and remaining_deadline <= 0:
                raise Cancelled(self.grpc.StatusCode.DEADLINE_EXCEEDED)
            left = until - time.monotonic()
            if left <= 0:
                return
            time.sleep(min(0.01, left))

    def _inject_faults(self, method: str) -> None:
        fault = self.faults.next_fault(method)
        if fault is None:
            return
        trailing = self._pushback()
        if fault.kind == "error":
            trailing += self._details(fault.code)
        raise Injected(fault.code, f"injected {fault.code.name}", trailing)

    def _details(self, code) -> tuple:
        """grpc-status-details-bin and a custom trailer, with --error-details."""
        if not self.config.error_details:
            return ()
        status = self.pb.rpc_status_pb2.Status(
            code=code.value[0], message=f"injected {code.name}",
            details=[self.pb.rpc_status_pb2.StatusDetail(
                type_url="type.googleapis.com/google.rpc.ErrorInfo", value=b"\x0a\x08injected")])
        return (("grpc-status-details-bin", status.SerializeToString()), ("x-error-trailer", "injected"))

    def _pushback(self) -> tuple:
        if self.config.pushback_ms is None:
            return ()
        return (("grpc-retry-pushback-ms", str(self.config.pushback_ms)),)

    # ---- GetDayProof

    def describe_day(self, request, entry) -> None:
        entry["day"] = request.day_number

    def respond_day(self, request, entry):
        try:
            proof = self.ledger.serve_day(request.day_number)
        except UnknownDay as unknown:
            raise Injected(self.grpc.StatusCode.NOT_FOUND, str(unknown))
        return self.pb.conductor_pb2.DayProofResponse(
            day_number=proof.day_number, proof=proof.proof, proof_hash=proof.proof_hash,
            canonical=proof.canonical, source=proof.source)

    # ---- submits

    def describe_events(self, events, entry) -> None:
        entry["event_hashes"] = [content_hash(event) for event in events]
        entry["payload_bytes"] = [len(event.payload) for event in events]
        entry["applied"] = False

    def _apply(self, events, entry) -> list:
        """Applies all events in one step (a batch is all-or-nothing); returns their receipts."""
        try:
            self.ledger.apply(events, entry["event_hashes"])
        except RejectedEvent as rejected:
            raise Injected(self.grpc.StatusCode.INVALID_ARGUMENT, str(rejected))
        entry["applied"] = True
        return [self.pb.conductor_pb2.ConductorReceipt(event_hash=digest, epoch=event.epoch)
                for digest, event in zip(entry["event_hashes"], events)]

    def respond_event(self, request, entry):
        return self._apply([request], entry)[0]

    def respond_batch(self, request, entry):
        receipts = self._apply(list(request.events), entry)
        return self.pb.conductor_pb2.ConductorReceiptBatch(receipts=receipts)

    # ---- health

    def describe_health(self, request, entry) -> None:
        entry["service"] = request.service

    def respond_chorus_health(self, request, entry):
        status_type = self.pb.conductor_pb2.HealthCheckResponse.ServingStatus
        return self.pb.conductor_pb2.HealthCheckResponse(
            status=status_type.Value(self.config.current_health()))

    def respond_grpc_health(self, request, entry):
        if request.service not in KNOWN_HEALTH_SERVICES:
            raise Injected(self.grpc.StatusCode.NOT_FOUND, f"unknown service {request.service}")
        status_type = self.pb.health_pb2.HealthCheckResponse.ServingStatus
        return self.pb.health_pb2.HealthCheckResponse(
            status=status_type.Value(self.config.current_health()))


class ConductorBridgeService:
    """chorus.ConductorBridge servicer (duck-typed for the generated add_..._to_server)."""

    def __init__(self, conductor: Conductor):
        self.c = conductor

    def SubmitEvent(self, request, context):
        c = self.c
        return c.handle("SubmitEvent", request, context,
                        lambda r, e: c.describe_events([r], e), c.respond_event)

    def SubmitEventsBatch(self, request, context):
        c = self.c
        return c.handle("SubmitEventsBatch", request, context,
                        lambda r, e: c.describe_events(r.events, e), c.respond_batch)

    def GetDayProof(self, request, context):
        c = self.c
        return c.handle("GetDayProof", request, context, c.describe_day, c.respond_day)

    def HealthCheck(self, request, context):
        c = self.c
        return c.handle("HealthCheck", request, context, c.describe_health,
                        c.respond_chorus_health)


class HealthService:
    """grpc.health.v1.Health servicer."""

    def __init__(self, conductor: Conductor):
        self.c = conductor

    def Check(self, request, context):
        c = self.c
        return c.handle("Check", request, context, c.describe_health, c.respond_grpc_health)


# --------------------------------------------------------------------------- server setup

def _option_value(text: str):
    try:
        return int(text)
    except ValueError:
        return text


def server_options(args: argparse.Namespace) -> list[tuple[str, object]]:
    """grpc channel arguments from the command line."""
    options = [("grpc.max_receive_message_length", args.max_message_bytes),
               ("grpc.max_send_message_length", args.max_message_bytes),
               ("grpc.so_reuseport", 0)]
    optional = {
        "grpc.max_connection_age_ms": args.max_connection_age,
        "grpc.max_connection_age_grace_ms": args.max_connection_age_grace,
        "grpc.max_connection_idle_ms": args.max_connection_idle,
    }
    for key, seconds in optional.items():
        if seconds is not None:
            options.append((key, int(seconds * 1000)))
    integers = {
        "grpc.max_concurrent_streams": args.max_concurrent_streams,
        "grpc.http2.min_ping_interval_without_data_ms": args.min_ping_interval_ms,
        "grpc.http2.max_ping_strikes": args.max_ping_strikes,
        "grpc.keepalive_time_ms": args.keepalive_time_ms,
        "grpc.keepalive_timeout_ms": args.keepalive_timeout_ms,
    }
    options += [(key, value) for key, value in integers.items() if value is not None]
    if args.keepalive_permit_without_calls:
        options.append(("grpc.keepalive_permit_without_calls", 1))
    for item in args.server_option:
        key, _, value = item.partition("=")
        options.append((key, _option_value(value)))
    return options


def server_credentials(args: argparse.Namespace):
    """grpc.ssl_server_credentials from the TLS flags, or None for plaintext."""
    import grpc

    if not args.tls_cert:
        return None
    key = Path(args.tls_key).read_bytes()
    cert = Path(args.tls_cert).read_bytes()
    client_ca = Path(args.tls_client_ca).read_bytes() if args.tls_client_ca else None
    return grpc.ssl_server_credentials(
        [(key, cert)], root_certificates=client_ca,
        require_client_auth=bool(args.require_client_cert))


def _add_port(server, address: str, credentials) -> int:
    if credentials is None:
        return server.add_insecure_port(address)
    return server.add_secure_port(address, credentials)


def build_server(args, conductor: Conductor):
    """Creates the grpc server with both services and binds it; returns (server, tcp port)."""
    import grpc

    compression = {"none": None, "gzip": grpc.Compression.Gzip,
                   "deflate": grpc.Compression.Deflate}[args.compression]
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=args.max_workers),
                         options=server_options(args), compression=compression)
    pb = conductor.pb
    pb.conductor_pb2_grpc.add_ConductorBridgeServicer_to_server(
        ConductorBridgeService(conductor), server)
    if not args.no_grpc_health:
        pb.health_pb2_grpc.add_HealthServicer_to_server(HealthService(conductor), server)
    credentials = server_credentials(args)
    port = 0
    if not args.no_tcp:
        port = _add_port(server, tcp_address(args.host, args.port), credentials)
        if port == 0:
            raise RuntimeError(f"could not bind {tcp_address(args.host, args.port)}")
    if args.unix:
        remove_stale_socket(args.unix)
        if _add_port(server, f"unix:{args.unix}", credentials) == 0:
            raise RuntimeError(f"could not bind unix:{args.unix}")
    return server, port


def main(argv: list[str] | None = None) -> int:
    # A parent may spawn us from a thread that blocks signals (Swift's Foundation.Process does);
    # the mask is inherited, so clear it or SIGTERM would never arrive.
    signal.pthread_sigmask(signal.SIG_SETMASK, [])
    parser = build_parser()
    args = parser.parse_args(argv)
    config = _parse_rules(args, parser)
    if bool(args.tls_cert) != bool(args.tls_key):
        parser.error("--tls-cert and --tls-key go together")
    if args.no_tcp and not args.unix:
        parser.error("--no-tcp needs --unix")
    pb = load_proto_modules(args.protos)
    request_log = RequestLog(args.log)
    conductor = Conductor(config, pb, request_log, args.verbose)
    try:
        server, port = build_server(args, conductor)
    except (RuntimeError, OSError) as error:
        log(f"error: {error}")
        return 2
    server.start()
    where = [] if args.no_tcp else [tcp_address(args.host, port)]
    where += [f"unix:{args.unix}"] if args.unix else []
    log(f"serving on {', '.join(where)} ({'tls' if args.tls_cert else 'plaintext'})")
    print(f"LISTENING {port}", flush=True)
    wait_for_stop(args, log)
    server.stop(grace=0.5).wait()
    request_log.close()
    log("stopped")
    return 0


if __name__ == "__main__":
    sys.exit(main())
