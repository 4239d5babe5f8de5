"""Reference Chorus Conductor over REST: the HTTP/JSON counterpart of reference_conductor.py.

Serves "The Conductor REST contract" (`CONDUCTOR_PROTOCOL=http`) with hypercorn, a plain ASGI app and
one process: HTTP/1.1 (keep-alive) and cleartext HTTP/2 (prior knowledge) on `http`; with --tls-cert
ALPN offers `h2` and `http/1.1`. Run it from the repository root:

    .venv/bin/python Scripts/reference_rest_conductor.py [options]

It prints exactly one line `LISTENING <port>` to stdout once its sockets accept connections (logs go
to stderr) and exits cleanly on SIGTERM/SIGINT.

Routes:
  GET  /day-proof/{day_number}  GetDayProof        200 DayProof JSON; 404 {"detail": "no proof for day N"}
  POST /events                  SubmitEvent        200 Receipt JSON (201 with --created)
  POST /events/batch            SubmitEventsBatch  200 JSON array of Receipt, in request order
  GET  /health                  HealthCheck        200 {"status": "SERVING"}, else 503 (404 with --no-health-route)
  anything else: 404 text/plain; a known path with another method: 405 text/plain.

The domain is conductor_common.py's, shared with the gRPC conductor: the same days, proofs, event
hashes (the receipt's event_hash is the content hash, so a repeated submit is deduplicated by
content), all-or-nothing batches and --reject-event-type (422). Request bodies are parsed with the
proto3 JSON mapping (protobuf's json_format on the same generated messages): integers as numbers or
numeric strings, null = default, unknown fields ignored; `payload` must be standard base64 with
padding. A POST needs `content-type: application/json` (else 415); a malformed body or day_number
answers 400; a body over --max-message-bytes 413. Error bodies are {"detail": "..."}.

Knobs (`METHOD` = GetDayProof|SubmitEvent|SubmitEventsBatch|HealthCheck or `*`), applied after the
request is read, in this order: --token-file, --delay, --fail-first, --error, then the handler, or
its replacement --status, --non-json or --huge-body (which apply nothing). See `--help`.
Successful handler answers carry `x-served-by: reference-conductor`.

Request log (`--log FILE`): one JSON object per line, flushed per line, for every request to a
route (unknown routes and 405s are not logged, as grpcio does not hand unknown methods to the
gRPC conductor), written before the answer is sent (a --huge-body answer: once it ends):
  {"seq", "time", "start", "method", "outcome": "ok"|"error:<CODE>"|"cancelled", "peer",
   "attempt": 0, "metadata", "user_agent", "status" (HTTP, null when cancelled), "http_version",
   and per method: "day" (GetDayProof; null when malformed), "event_hashes", "payload_bytes",
   "applied" (submits)}
<CODE> is the gRPC code the contract maps the HTTP status to; a health answer is "ok" whether it
says SERVING (200) or not (503), as for the gRPC conductor. "cancelled": the client closed the
connection or reset the stream before the answer (while the request was read or delayed, or during
a --huge-body stream). "metadata" holds the request headers that are not standard HTTP ones.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import binascii
import gzip
import json
import os
import re
import signal
import socket
import ssl
import sys
import threading
import time
import zlib
from dataclasses import asdict, dataclass, field
from pathlib import Path

from google.protobuf import json_format
from hypercorn.asyncio import serve
from hypercorn.config import Config as HypercornConfig

from conductor_common import (
    SOURCE, Config as CommonConfig, ErrorRule, FaultSchedule, Ledger, RejectedEvent, RequestLog,
    UnknownDay, content_hash, remove_stale_socket, split_method_value, tcp_address, wait_for_stop,
)
from reference_conductor import ROOT, load_proto_modules

METHODS = ("GetDayProof", "SubmitEvent", "SubmitEventsBatch", "HealthCheck")
MIB = 1024 * 1024
CHUNK = 64 * 1024
JSON = "application/json"
DAY_PREFIX = "/day-proof/"
# A day_number as the contract writes it: decimal, no leading zeros (nor "-0").
DAY_NUMBER = re.compile(r"0|-?[1-9][0-9]*")
INT32 = range(-2**31, 2**31)
# Request headers that are HTTP or transport rather than application metadata.
STANDARD_HEADERS = frozenset({
    "host", "user-agent", "accept", "accept-encoding", "content-type", "content-length",
    "connection", "keep-alive", "proxy-connection", "te", "transfer-encoding", "upgrade",
    "http2-settings", "expect",
})
# The contract's HTTP status → gRPC code table, but for 2xx and 404 (see code_name); any other
# status, 3xx included, is UNKNOWN.
CODE_OF_STATUS = {
    400: "INVALID_ARGUMENT", 422: "INVALID_ARGUMENT", 401: "UNAUTHENTICATED",
    403: "PERMISSION_DENIED", 405: "UNIMPLEMENTED", 501: "UNIMPLEMENTED", 408: "UNAVAILABLE",
    413: "RESOURCE_EXHAUSTED", 431: "RESOURCE_EXHAUSTED", 429: "RESOURCE_EXHAUSTED",
    415: "INTERNAL", 409: "ABORTED", 500: "INTERNAL", 502: "UNAVAILABLE", 503: "UNAVAILABLE",
    504: "UNAVAILABLE",
}
# --error also takes a gRPC code name, as the gRPC conductor does: the status a REST conductor
# answers for it, so that one test can run against either conductor.
STATUS_OF_CODE = {
    "INVALID_ARGUMENT": 400, "UNAUTHENTICATED": 401, "PERMISSION_DENIED": 403, "UNIMPLEMENTED": 501,
    "UNAVAILABLE": 503, "RESOURCE_EXHAUSTED": 429, "INTERNAL": 500, "ABORTED": 409,
}
NON_JSON_BODY = b"<html>not json</html>"
# Answers that have neither content nor a content-length (RFC 9110, 6.4.1 and 8.6).
NO_CONTENT_STATUSES = (204, 304)


def log(message: str) -> None:
    """Writes one diagnostic line to stderr."""
    print(f"reference-rest-conductor[{os.getpid()}]: {message}", file=sys.stderr, flush=True)


def code_name(status: int, json_not_found: bool) -> str:
    """The gRPC code the contract maps `status` to; `json_not_found`: a 404 on /day-proof/ with a
    JSON body (NOT_FOUND; any other 404 means no such route: UNIMPLEMENTED)."""
    if 200 <= status < 300:
        return "OK"
    if status == 404:
        return "NOT_FOUND" if json_not_found else "UNIMPLEMENTED"
    return CODE_OF_STATUS.get(status, "UNKNOWN")


# --------------------------------------------------------------------------- answers

@dataclass
class Answer:
    """An HTTP answer with a whole body."""
    status: int
    body: bytes = b""
    content_type: str | None = None
    headers: list[tuple[str, str]] = field(default_factory=list)
    outcome: str | None = None  # what the log says; None: mapped from the status


@dataclass
class Filler:
    """A 200 answer streaming `size` bytes of JSON-looking filler (--huge-body)."""
    size: int


class Refused(Exception):
    """Ends a request early with `answer`."""

    def __init__(self, answer: Answer):
        super().__init__(answer.status)
        self.answer = answer


class ClientGone(Exception):
    """The client closed the connection or reset the stream before the answer."""


def json_answer(status: int, value, headers=(), outcome: str | None = None) -> Answer:
    body = json.dumps(value, separators=(",", ":")).encode()
    return Answer(status, body, JSON, list(headers), outcome)


def error_answer(status: int, detail: str, headers=()) -> Answer:
    return json_answer(status, {"detail": detail}, headers)


def text_answer(status: int, text: str, headers=()) -> Answer:
    return Answer(status, text.encode(), "text/plain; charset=utf-8", list(headers))


def served_answer(status: int, value) -> Answer:
    """A handler's own answer: logged "ok" and marked as served by us."""
    return json_answer(status, value, [("x-served-by", SOURCE)], outcome="ok")


def filler_chunks(size: int):
    """`size` bytes of `{"filler":"xxx…"}` in CHUNK-sized pieces, never all in memory."""
    head, tail = b'{"filler":"', b'"}'
    if size < len(head) + len(tail):
        yield b"x" * size
        return
    yield head
    left, piece = size - len(head) - len(tail), b"x" * CHUNK
    while left > 0:
        yield piece[:left]
        left -= CHUNK
    yield tail


def accepts_gzip(accept_encoding: str | None) -> bool:
    """Whether an accept-encoding header allows gzip (`gzip` or `*` without q=0)."""
    for item in (accept_encoding or "").split(","):
        coding, _, params = item.partition(";")
        if coding.strip().lower() not in ("gzip", "*"):
            continue
        name, _, quality = params.strip().partition("=")
        try:
            return name.strip() != "q" or float(quality) > 0
        except ValueError:
            return False
    return False


# --------------------------------------------------------------------------- requests

def parse_day(path: str) -> int:
    """The day_number of `/day-proof/{day_number}`; Refused 400 unless a decimal int32."""
    text = path[len(DAY_PREFIX):]
    if not DAY_NUMBER.fullmatch(text) or int(text) not in INT32:
        raise Refused(error_answer(
            400, f"day_number must be a decimal int32 without leading zeros: {text!r}"))
    return int(text)


def media_type(content_type: str | None) -> str:
    """`application/json` of `Application/JSON; charset=utf-8`."""
    return (content_type or "").partition(";")[0].strip().lower()


def require_json_content_type(content_type: str | None) -> None:
    if media_type(content_type) != JSON:
        raise Refused(error_answer(415, f"content-type must be {JSON}, not {content_type!r}"))


def _check_payload(value, index: int) -> None:
    """proto3 JSON's bytes parser drops invalid characters; the contract wants strict base64."""
    if not isinstance(value, str):
        return  # null takes the default; other types fail in json_format with a clear message
    try:
        base64.b64decode(value, validate=True)
    except binascii.Error:
        raise Refused(error_answer(
            400, f"event {index}: payload is not standard base64 with padding")) from None


def parse_event(value, index: int, event_class):
    """One Event JSON object → a ConductorEvent message (the gRPC conductor's type)."""
    if not isinstance(value, dict):
        raise Refused(error_answer(400, f"event {index}: not a JSON object"))
    _check_payload(value.get("payload"), index)
    try:
        return json_format.ParseDict(value, event_class(), ignore_unknown_fields=True)
    except json_format.ParseError as error:
        raise Refused(error_answer(400, f"event {index}: {str(error)[:300]}")) from None


def parse_events(body: bytes, batch: bool, event_class) -> list:
    """The events of a SubmitEvent (an object) or SubmitEventsBatch (an array) body."""
    try:
        value = json.loads(body)
    except ValueError as error:
        raise Refused(error_answer(400, f"the body is not JSON: {error}")) from None
    if batch and not isinstance(value, list):
        raise Refused(error_answer(400, "the body must be a JSON array of events"))
    return [parse_event(item, index, event_class)
            for index, item in enumerate(value if batch else [value])]


def route(method: str, path: str, health_route: bool) -> str:
    """The operation for a request; Refused 404 (text) for unknown paths, 405 for other methods."""
    if path in ("/events", "/events/batch"):
        operation, allowed = ("SubmitEvent" if path == "/events" else "SubmitEventsBatch"), "POST"
    elif path == "/health" and health_route:
        operation, allowed = "HealthCheck", "GET"
    elif path.startswith(DAY_PREFIX) and "/" not in path[len(DAY_PREFIX):]:
        operation, allowed = "GetDayProof", "GET"
    else:
        raise Refused(text_answer(404, f"no route {path}\n"))
    if method != allowed:
        raise Refused(text_answer(405, f"{path} takes {allowed}\n", [("allow", allowed)]))
    return operation


def describe_headers(pairs) -> tuple[dict, str | None]:
    """(custom metadata, user-agent) of request headers; a repeated header maps to a list."""
    custom: dict = {}
    user_agent = None
    for raw_name, raw_value in pairs:
        name, value = raw_name.decode("latin-1").lower(), raw_value.decode("latin-1")
        if name == "user-agent":
            user_agent = value
        elif name.startswith(":") or name in STANDARD_HEADERS:
            continue
        elif name in custom:
            previous = custom[name]
            custom[name] = (previous if isinstance(previous, list) else [previous]) + [value]
        else:
            custom[name] = value
    return custom, user_agent


def describe_peer(client) -> str:
    """The peer as grpcio writes it: ipv4:HOST:PORT, ipv6:[HOST]:PORT, unix: (no address)."""
    if not client:
        return "unix:"
    host, port = client[0], client[1]
    return f"ipv6:[{host}]:{port}" if ":" in host else f"ipv4:{host}:{port}"


class Exchange:
    """One request as the ASGI server hands it over, and the sending of its answer."""

    def __init__(self, scope, receive, send):
        self.scope = scope
        self._receive = receive
        self._send = send
        self._gone = asyncio.Event()
        self._watcher: asyncio.Task | None = None

    @property
    def path(self) -> str:
        return self.scope["path"]

    def header(self, name: str) -> str | None:
        wanted = name.encode()
        for key, value in self.scope["headers"]:
            if key.lower() == wanted:
                return value.decode("latin-1")
        return None

    async def read_body(self, limit: int) -> bytes:
        """The whole request body, then watches for the client leaving.

        Raises ClientGone when the client leaves first, Refused 413 past `limit` bytes.
        """
        chunks, size = [], 0
        while True:
            message = await self._receive()
            if message["type"] == "http.disconnect":
                raise ClientGone()
            chunks.append(message.get("body", b""))
            size += len(chunks[-1])
            if size > limit:
                raise Refused(error_answer(413, f"the request body exceeds {limit} bytes"))
            if not message.get("more_body", False):
                break
        self._watcher = asyncio.create_task(self._watch_disconnect())
        return b"".join(chunks)

    async def _watch_disconnect(self) -> None:
        # After the body, the server's next message is http.disconnect (also sent once the
        # answer is complete, by which time nobody waits for it).
        while (await self._receive())["type"] != "http.disconnect":
            pass
        self._gone.set()

    async def gone_within(self, seconds: float) -> bool:
        """Waits `seconds`; True as soon as the client leaves."""
        try:
            await asyncio.wait_for(self._gone.wait(), seconds)
            return True
        except asyncio.TimeoutError:
            return False

    async def send_answer(self, answer: Answer, gzip_ok: bool) -> None:
        body, headers = answer.body, list(answer.headers)
        if answer.status in NO_CONTENT_STATUSES:
            await self._start(answer.status, headers)
            await self._send({"type": "http.response.body", "body": b""})
            return
        if answer.content_type:
            headers.append(("content-type", answer.content_type))
        if gzip_ok and body:
            body = gzip.compress(body, mtime=0)
            headers.append(("content-encoding", "gzip"))
        headers.append(("content-length", str(len(body))))
        await self._start(answer.status, headers)
        await self._send({"type": "http.response.body", "body": body})

    async def send_filler(self, filler: Filler, gzip_ok: bool) -> bool:
        """Streams the filler (gzip-compressed on the fly with `gzip_ok`); False when the
        client left before the end."""
        streaming = asyncio.create_task(self._stream_filler(filler, gzip_ok))
        gone = asyncio.create_task(self._gone.wait())
        try:
            done, _ = await asyncio.wait({streaming, gone}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            gone.cancel()
            # On HTTP/2 a send waiting for flow-control window never returns once the client left.
            streaming.cancel()
        if streaming in done:
            streaming.result()  # raises what the stream raised
            return True
        return False

    async def _stream_filler(self, filler: Filler, gzip_ok: bool) -> None:
        headers = [("content-type", JSON)]
        compressor = None
        if gzip_ok:
            # Fastest level: 1 GiB of filler takes seconds, not tens of them.
            compressor = zlib.compressobj(zlib.Z_BEST_SPEED, wbits=16 + zlib.MAX_WBITS)
            headers.append(("content-encoding", "gzip"))
        await self._start(200, headers)
        for chunk in filler_chunks(filler.size):
            data = compressor.compress(chunk) if compressor else chunk
            if data:
                await self._send({"type": "http.response.body", "body": data, "more_body": True})
            # Yield: once the socket is dead, hypercorn's HTTP/1.1 send returns without ever
            # suspending, which would starve the task that hears the disconnect.
            await asyncio.sleep(0)
        tail = compressor.flush() if compressor else b""
        await self._send({"type": "http.response.body", "body": tail})

    async def _start(self, status: int, headers: list[tuple[str, str]]) -> None:
        await self._send({"type": "http.response.start", "status": status,
                          "headers": [(k.encode(), v.encode("latin-1")) for k, v in headers]})

    def close(self) -> None:
        if self._watcher is not None:
            self._watcher.cancel()


# --------------------------------------------------------------------------- configuration

@dataclass
class RestConfig(CommonConfig):
    """The common knobs plus the REST-only ones."""
    retry_after: str | None = None
    gzip: bool = False
    created: bool = False
    health_route: bool = True
    max_body_bytes: int = 64 * MIB
    not_found_days: frozenset[int] = frozenset()
    statuses: dict[str, int] = field(default_factory=dict)
    status_body: bytes | None = None
    status_content_type: str | None = None
    non_json: dict[str, bool] = field(default_factory=dict)
    huge_bodies: dict[str, int] = field(default_factory=dict)


def parse_method(text: str) -> str:
    if text not in (*METHODS, "*"):
        raise argparse.ArgumentTypeError(f"METHOD must be one of {', '.join(METHODS)} or *: {text!r}")
    return text


def parse_http_status(text: str, lowest: int) -> int:
    status = int(text)
    if not lowest <= status <= 599:
        raise argparse.ArgumentTypeError(f"HTTP status {status} is not in {lowest}..599")
    return status


def parse_size(text: str) -> int:
    """Bytes, with an optional binary suffix: 1000, 64K, 1M, 1G."""
    units = {"K": 1024, "M": MIB, "G": 1024 * MIB}
    text = text.strip().upper()
    if text[-1:] in units:
        return int(text[:-1]) * units[text[-1]]
    return int(text)


def parse_day_list(text: str | None) -> frozenset[int]:
    """`5,7,100-120` → those days."""
    days: set[int] = set()
    for item in filter(None, (text or "").split(",")):
        first, dash, last = item.strip().partition("-")
        days.update(range(int(first), int(last) + 1) if dash and first else [int(item)])
    return frozenset(days)


def parse_config(args: argparse.Namespace, parser: argparse.ArgumentParser) -> RestConfig:
    """Turns the command line into a RestConfig (exits with a usage error on a bad value)."""
    try:
        config = RestConfig(
            health_status=args.health_status, health_file=args.health_file,
            token_file=args.token_file, rejected_event_types=tuple(args.reject_event_type),
            seed=args.seed, retry_after=args.retry_after, gzip=args.compression == "gzip",
            created=args.created, health_route=not args.no_health_route,
            max_body_bytes=args.max_message_bytes, not_found_days=parse_day_list(args.not_found_days),
            status_body=None if args.status_body is None else args.status_body.encode(),
            status_content_type=args.status_content_type)
        for item in args.delay:
            method, value = split_method_value(item, METHODS)
            config.delays[method] = float(value)
        for item in args.error:
            method, value = split_method_value(item, METHODS)
            status_text, _, rate_text = value.partition(":")
            status = STATUS_OF_CODE.get(status_text.upper()) or parse_http_status(status_text, 400)
            config.errors[method] = ErrorRule(status, float(rate_text) if rate_text else 1.0)
        for item in args.fail_first:
            method, value = split_method_value(item, METHODS)
            config.fail_first[method] = int(value)
        for item in args.proof_bytes:
            day, _, size = item.partition("=")
            config.proof_bytes[int(day)] = int(size)
        for item in args.status:
            method, value = split_method_value(item, METHODS)
            config.statuses[method] = parse_http_status(value, 200)
        config.non_json.update((method, True) for method in args.non_json)
        for item in args.huge_body:
            method, value = split_method_value(item, METHODS)
            config.huge_bodies[method] = parse_size(value)
    except (ValueError, argparse.ArgumentTypeError) as error:
        parser.error(str(error))
    return config


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        description="Reference Chorus Conductor over REST (hypercorn, HTTP/1.1 and HTTP/2). "
                    "METHOD is GetDayProof, SubmitEvent, SubmitEventsBatch, HealthCheck or *.")
    add = parser.add_argument
    add("--host", default="127.0.0.1", help="address to bind: 127.0.0.1, ::1, 0.0.0.0, ::")
    add("--port", type=int, default=0, help="TCP port; 0 picks a free one (default)")
    add("--unix", metavar="PATH", help="also listen on the unix socket PATH")
    add("--no-tcp", action="store_true", help="do not listen on TCP (prints LISTENING 0)")
    add("--log", metavar="FILE", help="append one JSON line per request to FILE")
    add("--seed", type=int, default=1, help="seed for --error rates (default 1)")
    add("--health-status", default="SERVING", choices=("SERVING", "NOT_SERVING", "UNKNOWN"),
        help="GET /health answers 200 when SERVING, else 503 (default SERVING)")
    add("--no-health-route", action="store_true", help="GET /health answers 404 (no such route)")
    add("--health-file", metavar="FILE",
        help="read the health status (SERVING, NOT_SERVING, UNKNOWN) from FILE on every check, "
             "so a test can change it while the server runs")
    add("--token-file", metavar="FILE",
        help="every request must carry `authorization: Bearer <FILE's content>` (read on every "
             "request, so a test can rotate it), else 401")
    add("--reject-event-type", action="append", default=[], metavar="TYPE",
        help="events of TYPE are invalid: 422, and a batch holding one applies nothing")
    add("--proof-bytes", action="append", default=[], metavar="DAY=N",
        help="pad the proof of DAY with 'x' to N bytes")
    add("--not-found-days", metavar="LIST",
        help="these days answer 404 `no proof for day N` too: a comma-separated list of days "
             "and FIRST-LAST ranges, e.g. 5,7,100-120")
    add("--created", action="store_true", help="submits answer 201 Created instead of 200")
    add("--delay", action="append", default=[], metavar="METHOD=SECONDS",
        help="wait before answering (a client leaving meanwhile is logged as cancelled)")
    add("--error", action="append", default=[], metavar="METHOD=HTTPSTATUS[:RATE]",
        help="answer HTTPSTATUS (400..599, or a gRPC code name such as UNAVAILABLE for its status: "
             + ", ".join(f"{code} {status}" for code, status in STATUS_OF_CODE.items())
             + ") with {\"detail\": \"injected <CODE>\"}, to a RATE "
             "fraction of requests (default all), drawn with --seed")
    add("--retry-after", metavar="VALUE",
        help="add `retry-after: VALUE` (seconds or an HTTP date) to --error and --fail-first answers")
    add("--fail-first", action="append", default=[], metavar="METHOD=N",
        help="the first N requests of METHOD get 503")
    add("--status", action="append", default=[], metavar="METHOD=HTTPSTATUS",
        help="always answer HTTPSTATUS (200..599) with --status-body; a 3xx carries "
             "`location: /moved<path>`")
    add("--status-body", metavar="TEXT",
        help="the body of --status answers (default {\"detail\": \"injected status N\"}; "
             "'' for none)")
    add("--status-content-type", metavar="TYPE",
        help="the content-type of --status answers (default application/json when there is a body)")
    add("--non-json", action="append", default=[], metavar="METHOD", type=parse_method,
        help="answer 200 with `<html>not json</html>` as text/html")
    add("--huge-body", action="append", default=[], metavar="METHOD=BYTES",
        help="answer 200 with BYTES (suffix K, M, G allowed) of JSON-looking filler, streamed in "
             f"{CHUNK // 1024} KiB chunks without a content-length; stops when the client leaves")
    add("--max-message-bytes", type=parse_size, default=64 * MIB, metavar="BYTES",
        help="largest request body; a larger one gets 413 (default 64M)")
    add("--max-concurrent-streams", type=int, default=100, metavar="N",
        help="HTTP/2 SETTINGS_MAX_CONCURRENT_STREAMS (default 100)")
    add("--max-connection-idle", type=float, default=5.0, metavar="SECONDS",
        help="close a connection idle for SECONDS (default 5)")
    add("--compression", choices=("none", "gzip"), default="none",
        help="gzip answers whose request's accept-encoding allows it")
    add("--tls-cert", metavar="FILE", help="serve TLS with this certificate (PEM); needs --tls-key")
    add("--tls-key", metavar="FILE", help="the private key of --tls-cert (PEM)")
    add("--tls-client-ca", metavar="FILE",
        help="ask for a client certificate and verify it against these CA certificates")
    add("--http1-only", action="store_true",
        help="TLS: ALPN offers only http/1.1 (a server without HTTP/2)")
    add("--no-alpn", action="store_true",
        help="TLS: no ALPN at all (an older TLS terminator: the client must assume HTTP/1.1)")
    add("--require-client-cert", action="store_true",
        help="refuse a TLS handshake without a valid client certificate (needs --tls-client-ca)")
    add("--protos", type=Path, default=ROOT / "Protos", help="directory of the .proto files")
    add("--lifetime", type=float, default=0, metavar="SECONDS",
        help="stop by itself after SECONDS (0 = never)")
    add("--exit-with-parent", action="store_true", help="stop when the parent process dies")
    add("--verbose", action="store_true", help="log every request to stderr")
    return parser


# --------------------------------------------------------------------------- the service

class RestConductor:
    """The ASGI app: routes a request, applies the knobs, answers from the shared Ledger."""

    def __init__(self, config: RestConfig, pb, request_log: RequestLog, verbose: bool = False):
        self.config = config
        self.event_class = pb.conductor_pb2.ConductorEvent
        self.request_log = request_log
        self.verbose = verbose
        self.ledger = Ledger(config)
        self.faults = FaultSchedule(config, 503)

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] == "lifespan":
            await self._lifespan(receive, send)
        elif scope["type"] == "http":
            exchange = Exchange(scope, receive, send)
            try:
                await self._serve(exchange)
            finally:
                exchange.close()

    @staticmethod
    async def _lifespan(receive, send) -> None:
        # Answered so that hypercorn does not warn about an app without lifespan support.
        while True:
            message = await receive()
            await send({"type": f"{message['type']}.complete"})
            if message["type"] == "lifespan.shutdown":
                return

    # ---- the common request path

    async def _serve(self, exchange: Exchange) -> None:
        gzip_ok = self.config.gzip and accepts_gzip(exchange.header("accept-encoding"))
        try:
            operation = route(exchange.scope["method"], exchange.path, self.config.health_route)
        except Refused as refused:
            await exchange.send_answer(refused.answer, gzip_ok)
            return
        entry = self._new_entry(operation, exchange)
        try:
            request = await self._read_request(operation, exchange, entry)
            self._authenticate(exchange)
            delay = RestConfig.lookup(self.config.delays, operation)
            if delay and await exchange.gone_within(delay):
                raise ClientGone()
            self._inject_faults(operation)
            answer = self._respond(operation, request, exchange, entry)
        except ClientGone:
            self._record(entry, "cancelled", None)
            return
        except Refused as refused:
            answer = refused.answer
        if isinstance(answer, Filler):
            completed = await exchange.send_filler(answer, gzip_ok)
            self._record(entry, "ok" if completed else "cancelled", 200)
            return
        json_not_found = operation == "GetDayProof" and media_type(answer.content_type) == JSON
        code = code_name(answer.status, json_not_found)
        outcome = answer.outcome or ("ok" if code == "OK" else f"error:{code}")
        self._record(entry, outcome, answer.status)
        await exchange.send_answer(answer, gzip_ok)

    def _new_entry(self, operation: str, exchange: Exchange) -> dict:
        metadata, user_agent = describe_headers(exchange.scope["headers"])
        return {"method": operation, "start": time.time(),
                "peer": describe_peer(exchange.scope.get("client")), "attempt": 0,
                "metadata": metadata, "user_agent": user_agent,
                "http_version": exchange.scope["http_version"]}

    def _record(self, entry: dict, outcome: str, status: int | None) -> None:
        entry["outcome"], entry["status"] = outcome, status
        self.request_log.write(entry)
        if self.verbose:
            log(f"{entry['method']} {outcome} ({status}) peer={entry['peer']}")

    async def _read_request(self, operation: str, exchange: Exchange, entry: dict):
        """The request's value: its day, its events, or None for a health check."""
        if operation == "GetDayProof":
            entry["day"] = None
            await exchange.read_body(self.config.max_body_bytes)
            entry["day"] = parse_day(exchange.path)
            return entry["day"]
        if operation == "HealthCheck":
            await exchange.read_body(self.config.max_body_bytes)
            return None
        entry.update(event_hashes=[], payload_bytes=[], applied=False)
        body = await exchange.read_body(self.config.max_body_bytes)
        require_json_content_type(exchange.header("content-type"))
        events = parse_events(body, operation == "SubmitEventsBatch", self.event_class)
        entry["event_hashes"] = [content_hash(event) for event in events]
        entry["payload_bytes"] = [len(event.payload) for event in events]
        return events

    def _authenticate(self, exchange: Exchange) -> None:
        accepted = self.config.accepted_token()
        if accepted is None:
            return
        if not accepted or exchange.header("authorization") != f"Bearer {accepted}":
            raise Refused(error_answer(401, "missing or invalid bearer token",
                                       [("www-authenticate", "Bearer")]))

    def _inject_faults(self, operation: str) -> None:
        fault = self.faults.next_fault(operation)
        if fault is None:
            return
        headers = [("retry-after", self.config.retry_after)] if self.config.retry_after else []
        name = code_name(fault.code, operation == "GetDayProof")
        raise Refused(error_answer(fault.code, f"injected {name}", headers))

    # ---- answers

    def _respond(self, operation: str, request, exchange: Exchange, entry: dict):
        replacement = self._replacement(operation, exchange.path)
        if replacement is not None:
            return replacement
        if operation == "GetDayProof":
            return self._day_proof(request)
        if operation == "HealthCheck":
            return self._health()
        return self._submit(request, entry, batch=operation == "SubmitEventsBatch")

    def _replacement(self, operation: str, path: str) -> Answer | Filler | None:
        """The --status, --non-json or --huge-body answer for `operation`, if it has one."""
        status = RestConfig.lookup(self.config.statuses, operation)
        if status is not None:
            return self._status_answer(status, path)
        if RestConfig.lookup(self.config.non_json, operation):
            return Answer(200, NON_JSON_BODY, "text/html")
        size = RestConfig.lookup(self.config.huge_bodies, operation)
        return None if size is None else Filler(size)

    def _status_answer(self, status: int, path: str) -> Answer:
        body = self.config.status_body
        if body is None:
            body = json.dumps({"detail": f"injected status {status}"}).encode()
        content_type = self.config.status_content_type or (JSON if body else None)
        headers = [("location", f"/moved{path}")] if 300 <= status < 400 else []
        return Answer(status, body, content_type, headers)

    def _day_proof(self, day: int) -> Answer:
        try:
            if day in self.config.not_found_days:
                raise UnknownDay(day)
            proof = self.ledger.serve_day(day)
        except UnknownDay as unknown:
            return error_answer(404, str(unknown))
        return served_answer(200, asdict(proof))

    def _submit(self, events: list, entry: dict, batch: bool) -> Answer:
        try:
            self.ledger.apply(events, entry["event_hashes"])
        except RejectedEvent as rejected:
            return error_answer(422, str(rejected))
        entry["applied"] = True
        receipts = [{"event_hash": digest, "epoch": event.epoch}
                    for digest, event in zip(entry["event_hashes"], events)]
        return served_answer(201 if self.config.created else 200, receipts if batch else receipts[0])

    def _health(self) -> Answer:
        status = self.config.current_health()
        return served_answer(200 if status == "SERVING" else 503, {"status": status})


# --------------------------------------------------------------------------- server setup

def bind_sockets(args) -> tuple[list[socket.socket], int]:
    """Listening sockets for --host/--port and --unix, bound here so the port is known before
    hypercorn starts; returns them and the TCP port (0 with --no-tcp)."""
    sockets, port = [], 0
    if not args.no_tcp:
        host = args.host.strip("[]")
        family = socket.AF_INET6 if ":" in host else socket.AF_INET
        tcp = socket.create_server((host, args.port), family=family, backlog=1024,
                                   dualstack_ipv6=host == "::")
        sockets.append(tcp)
        port = tcp.getsockname()[1]
    if args.unix:
        remove_stale_socket(args.unix)
        unix = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        unix.bind(args.unix)
        unix.listen(1024)
        sockets.append(unix)
    return sockets, port


def hypercorn_config(args, sockets: list[socket.socket]) -> HypercornConfig:
    """hypercorn's settings: our sockets (by descriptor), TLS, HTTP/2 and idle limits."""
    config = HypercornConfig()
    config.bind = [f"fd://{sock.detach()}" for sock in sockets]
    config.h2_max_concurrent_streams = args.max_concurrent_streams
    config.keep_alive_timeout = args.max_connection_idle
    config.graceful_timeout = 0.5  # as the gRPC conductor's stop(grace=0.5)
    config.accesslog = None  # the request log is ours
    if args.tls_cert:
        config.certfile, config.keyfile = args.tls_cert, args.tls_key
        if args.tls_client_ca:
            config.ca_certs = args.tls_client_ca
            config.verify_mode = ssl.CERT_REQUIRED if args.require_client_cert else ssl.CERT_OPTIONAL
        if args.http1_only:
            config.alpn_protocols = ["http/1.1"]
        if args.no_alpn:
            config.alpn_protocols = []
        config.create_ssl_context()  # fails now, before LISTENING, on a bad certificate or key
    return config


def _ignore_cancelled_connections(loop, context) -> None:
    # Python 3.11's asyncio.start_server reports a connection task cancelled at shutdown (an open
    # keep-alive connection) as an error with a traceback; 3.12 closes it quietly.
    if not isinstance(context.get("exception"), asyncio.CancelledError):
        loop.default_exception_handler(context)


class ServerThread:
    """Runs hypercorn on its own event loop thread; the main thread keeps the signals."""

    def __init__(self, app, config: HypercornConfig):
        self._stop = threading.Event()
        self.failed = False
        self._thread = threading.Thread(target=self._run, args=(app, config), name="hypercorn")

    def start(self) -> None:
        self._thread.start()

    def _run(self, app, config: HypercornConfig) -> None:
        try:
            asyncio.run(self._serve(app, config))
        except Exception as error:  # noqa: BLE001 (any failure must end the process)
            log(f"error: the server failed: {error!r}")
            self.failed = True
            os.kill(os.getpid(), signal.SIGTERM)  # ends wait_for_stop on the main thread

    async def _serve(self, app, config: HypercornConfig) -> None:
        asyncio.get_running_loop().set_exception_handler(_ignore_cancelled_connections)
        await serve(app, config, shutdown_trigger=self._shutdown_trigger)

    async def _shutdown_trigger(self) -> None:
        await asyncio.to_thread(self._stop.wait)

    def stop(self) -> None:
        self._stop.set()
        self._thread.join()


def main(argv: list[str] | None = None) -> int:
    # A parent may spawn us from a thread that blocks signals (Swift's Foundation.Process does);
    # the mask is inherited, so clear it or SIGTERM would never arrive.
    signal.pthread_sigmask(signal.SIG_SETMASK, [])
    parser = build_parser()
    args = parser.parse_args(argv)
    config = parse_config(args, parser)
    if bool(args.tls_cert) != bool(args.tls_key):
        parser.error("--tls-cert and --tls-key go together")
    if (args.tls_client_ca or args.require_client_cert) and not args.tls_cert:
        parser.error("--tls-client-ca and --require-client-cert need --tls-cert")
    if args.require_client_cert and not args.tls_client_ca:
        parser.error("--require-client-cert needs --tls-client-ca")
    if args.no_tcp and not args.unix:
        parser.error("--no-tcp needs --unix")
    pb = load_proto_modules(args.protos)
    request_log = RequestLog(args.log)
    try:
        sockets, port = bind_sockets(args)
        server = ServerThread(RestConductor(config, pb, request_log, args.verbose),
                              hypercorn_config(args, sockets))
    except OSError as error:  # ssl.SSLError (a bad certificate or key) is one too
        log(f"error: {error}")
        return 2
    server.start()
    where = [] if args.no_tcp else [tcp_address(args.host, port)]
    where += [f"unix:{args.unix}"] if args.unix else []
    log(f"serving on {', '.join(where)} ({'tls' if args.tls_cert else 'plaintext'})")
    print(f"LISTENING {port}", flush=True)
    wait_for_stop(args, log)
    server.stop()
    request_log.close()
    log("stopped")
    return 1 if server.failed else 0


if __name__ == "__main__":
    sys.exit(main())
