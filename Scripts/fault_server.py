"""Misbehaving gRPC server for hostile-server tests: `.venv/bin/python Scripts/fault_server.py --mode MODE [--log FILE] [--exit-with-parent]`.

A cleartext HTTP/2 server (h2c with prior knowledge, on the `h2` library) that answers every request
on every connection with one chosen fault. It listens on 127.0.0.1 (port 0 = any free port, or
`--port`), prints exactly one line `LISTENING <port>` on stdout once it accepts connections, and
exits on SIGTERM/SIGINT, or when its parent process exits (`--exit-with-parent`).

Modes (`--mode`):
  ok                        a correct answer: HEADERS, one framed message, trailers grpc-status 0
  rst:<CODE>                RST_STREAM(CODE) before any response; CODE is an HTTP/2 error code name
                            (NO_ERROR, PROTOCOL_ERROR, ... HTTP_1_1_REQUIRED) or number
  rst-after-headers:<CODE>  HEADERS and the message, then RST_STREAM(CODE) instead of trailers
  goaway-midstream          HEADERS, then GOAWAY (last-stream-id = the stream), then the socket closes
  goaway-refuse             GOAWAY with a last-stream-id below the stream (not processed), no answer
  truncated-message         a length prefix 100 bytes larger than the data, then trailers grpc-status 0
  prefix-2gib               a length prefix announcing 2 GiB and 1 KiB of data; the stream stays open
  compressed-no-encoding    compressed flag 1 without grpc-encoding, trailers grpc-status 0
  no-grpc-status            HEADERS, message, trailers without grpc-status
  http-<N>                  `:status N` (e.g. 503, 404, 431), text body, END_STREAM, no grpc-status
  content-type-html         `:status 200`, content-type text/html, an HTML body, END_STREAM
  invalid-protobuf          one well-framed message whose bytes are not valid protobuf, grpc-status 0
  informational-first       a `103 Early Hints` header block, then the correct response
  never-ends                HEADERS, then nothing (the stream stays open, PINGs are still answered)
  endless-data              HEADERS, then 1 MiB messages forever, as fast as flow control allows,
                            until the client resets the stream
  huge-headers              a response header block of 64 KiB of custom headers (the client
                            announces SETTINGS_MAX_HEADER_LIST_SIZE 16 KiB)
  huge-trailers             a correct response whose trailers carry 64 KiB of custom headers
  big-headers-and-trailers  a correct response with 12 KiB of custom headers in the headers and
                            12 KiB in the trailers: each list is within 16 KiB, both together are not
  settings-then-silence     the server's SETTINGS, then nothing: it never reads or answers
  silent                    accepts TCP connections and never sends a byte
  not-http2                 writes an HTTP/1.1 400 response and never speaks HTTP/2 (stays open)
  garbage                   writes 256 bytes of garbage and never speaks HTTP/2 (stays open)
  trailers-then-rst-no-error  on the request HEADERS, before reading the request body or its
                            END_STREAM: HEADERS, a message, trailers grpc-status 0, then
                            RST_STREAM(NO_ERROR), as C-core servers do; the message is a canned one
                            (proof/event_hash "answered-before-end-stream")
  rst-after-trailers:<CODE> the same, with RST_STREAM(CODE)
  record                    like ok; the log says how the request's DATA frames and END_STREAM came
  unadvertised-limit-100    like ok, but its SETTINGS carry no MAX_CONCURRENT_STREAMS (unlimited, by
                            RFC 9113) while it enforces 100 as SwiftNIO's server does: the 101st open
                            stream gets GOAWAY(PROTOCOL_ERROR) and the connection closes

Options:
  --only-odd-days    the fault applies only to GetDayProof requests for an odd day; every other
                     request gets the `ok` answer (not for the connection-level modes, nor for
                     trailers-then-rst-no-error and rst-after-trailers, which answer on HEADERS)
  --delay-ok SECONDS the `ok` answers wait this long (keeps a healthy stream open during a fault)

Correct answers: GetDayProof(d) -> DayProofResponse{d, "proof-of-day-<d>", sha256 hex of the proof,
canonical true, "fault-server"}; SubmitEvent -> ConductorReceipt{sha256 hex of the payload, epoch};
HealthCheck and grpc.health.v1.Health/Check -> SERVING; other paths -> UNIMPLEMENTED.

Log (`--log FILE`): one JSON object per line, flushed per line, each with "event", "time", "conn"
(connection number from 1) and, for stream events, "stream":
  connection   {"peer"}                                   a connection was accepted
  headers      {"path"}                                   request HEADERS arrived
  request      {"path", "data_frames", "data_frames_with_bytes", "data_bytes", "end_stream_on":
                "data"|"empty-data"|"headers"|"trailers", "end_stream_with_data": bool,
                "last_data_frame_bytes"}                  the request's END_STREAM arrived
  answer       {"action"}                                 what the server did (mode or "ok")
  goaway       {"open"}                                   unadvertised-limit-100 refused a stream
  reset        {"code", "code_value"}                     RST_STREAM received from the client
  ping         {"open"}                                   a PING from the client (answered by h2)
  sent         {"bytes", "why"}                           endless-data stopped sending
  received     {"bytes"}                                  raw bytes read (non-HTTP/2 modes)
  closed       {}                                         the connection closed
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import json
import os
import signal
import struct
import sys
import time

from h2.config import H2Configuration
from h2.connection import H2Connection
from h2.errors import ErrorCodes
from h2.settings import SettingCodes
from h2.events import (ConnectionTerminated, DataReceived, PingReceived, RemoteSettingsChanged, RequestReceived,
                       StreamReset, TrailersReceived, WindowUpdated)
from h2.exceptions import ProtocolError, StreamClosedError

PREFACE = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"
GRPC_HEADERS = [(b":status", b"200"), (b"content-type", b"application/grpc")]
OK_TRAILERS = [(b"grpc-status", b"0")]
CANNED = "answered-before-end-stream"
CONNECTION_MODES = {"settings-then-silence", "silent", "not-http2", "garbage"}
STREAM_MODES = {"ok", "goaway-midstream", "goaway-refuse", "truncated-message", "prefix-2gib",
                "compressed-no-encoding", "no-grpc-status", "content-type-html", "invalid-protobuf",
                "never-ends", "endless-data", "huge-headers", "huge-trailers", "big-headers-and-trailers",
                "trailers-then-rst-no-error", "record", "unadvertised-limit-100", "informational-first"}
ENFORCED_LIMIT = 100


# ---- protobuf, by hand ----

def _varint(value: int) -> bytes:
    value &= (1 << 64) - 1  # negative int32 values are 10-byte varints
    out = bytearray()
    while True:
        byte = value & 0x7F
        value >>= 7
        if value:
            out.append(byte | 0x80)
        else:
            out.append(byte)
            return bytes(out)


def _field_varint(number: int, value: int) -> bytes:
    return _varint(number << 3) + _varint(value) if value else b""


def _field_bytes(number: int, value: bytes) -> bytes:
    return _varint(number << 3 | 2) + _varint(len(value)) + value if value else b""


def _parse_fields(data: bytes) -> dict[int, list]:
    """Fields of a protobuf message: number -> values (ints for varints, bytes for the rest)."""
    fields: dict[int, list] = {}
    i = 0

    def varint() -> int:
        nonlocal i
        shift = result = 0
        while True:
            byte = data[i]
            i += 1
            result |= (byte & 0x7F) << shift
            shift += 7
            if not byte & 0x80:
                return result

    try:
        while i < len(data):
            key = varint()
            number, wire = key >> 3, key & 7
            if wire == 0:
                value = varint()
            elif wire == 2:
                length = varint()
                value = data[i:i + length]
                i += length
            elif wire == 1:
                value, i = data[i:i + 8], i + 8
            elif wire == 5:
                value, i = data[i:i + 4], i + 4
            else:
                break
            fields.setdefault(number, []).append(value)
    except IndexError:
        pass
    return fields


def _int32(value: int) -> int:
    value &= 0xFFFFFFFF
    return value - (1 << 32) if value & 0x80000000 else value


def frame(message: bytes, compressed: bool = False, length: int | None = None) -> bytes:
    """A gRPC length-prefixed message; `length` overrides the announced length."""
    return struct.pack(">BI", 1 if compressed else 0, len(message) if length is None else length) + message


def day_proof(day: int, proof: str | None = None) -> bytes:
    proof = proof if proof is not None else f"proof-of-day-{day}"
    return (_field_varint(1, day) + _field_bytes(2, proof.encode())
            + _field_bytes(3, hashlib.sha256(proof.encode()).hexdigest().encode())
            + _field_varint(4, 1) + _field_bytes(5, b"fault-server"))


def correct_answer(path: str, body: bytes) -> tuple[bytes | None, list[tuple[bytes, bytes]]]:
    """The message and trailers a correct conductor would answer `path` with."""
    request = b""
    if len(body) >= 5:
        request = body[5:5 + struct.unpack(">I", body[1:5])[0]]
    fields = _parse_fields(request)
    if path == "/chorus.ConductorBridge/GetDayProof":
        return day_proof(_int32(fields.get(1, [0])[0])), OK_TRAILERS
    if path == "/chorus.ConductorBridge/SubmitEvent":
        payload = fields.get(3, [b""])[0]
        epoch = _int32(fields.get(2, [0])[0])
        return _field_bytes(1, hashlib.sha256(payload).hexdigest().encode()) + _field_varint(2, epoch), OK_TRAILERS
    if path in ("/chorus.ConductorBridge/HealthCheck", "/grpc.health.v1.Health/Check"):
        return _field_varint(1, 1), OK_TRAILERS
    return None, [(b"grpc-status", b"12"), (b"grpc-message", b"unknown method " + path.encode())]


def canned_answer(path: str) -> bytes:
    if path == "/chorus.ConductorBridge/SubmitEvent":
        return _field_bytes(1, CANNED.encode())
    if path == "/chorus.ConductorBridge/GetDayProof":
        return day_proof(0, CANNED)
    return _field_varint(1, 1)


def error_code(text: str) -> int:
    try:
        return int(text, 0)
    except ValueError:
        return int(ErrorCodes[text.upper()])


def code_name(value: int) -> str:
    try:
        return ErrorCodes(value).name
    except ValueError:
        return hex(value)


# ---- the log ----

class Log:
    def __init__(self, path: str | None):
        self.file = open(path, "a", buffering=1, encoding="utf-8") if path else None

    def __call__(self, event: str, **fields) -> None:
        if self.file:
            self.file.write(json.dumps({"event": event, "time": round(time.time(), 6), **fields}) + "\n")


# ---- one request ----

class Request:
    def __init__(self, stream_id: int, path: str):
        self.stream_id = stream_id
        self.path = path
        self.body = bytearray()
        self.data_frames = 0
        self.data_frames_with_bytes = 0
        self.last_data_frame_bytes = 0
        self.answered = False
        self.finished = False
        self.reset = False

    def day(self) -> int | None:
        if self.path != "/chorus.ConductorBridge/GetDayProof" or len(self.body) < 5:
            return None
        return _int32(_parse_fields(bytes(self.body[5:])).get(1, [0])[0])


# ---- one HTTP/2 connection ----

class Connection:
    def __init__(self, server: "Server", number: int, reader: asyncio.StreamReader, writer: asyncio.StreamWriter):
        self.server = server
        self.mode = server.mode
        self.number = number
        self.reader = reader
        self.writer = writer
        self.h2 = H2Connection(H2Configuration(client_side=False, header_encoding=None, validate_inbound_headers=False))
        if self.mode == "unadvertised-limit-100":
            del self.h2.local_settings[SettingCodes.MAX_CONCURRENT_STREAMS]
        self.requests: dict[int, Request] = {}
        self.window_changed = asyncio.Event()
        self.closed = False
        self.tasks: set[asyncio.Task] = set()

    def log(self, event: str, stream: int | None = None, **fields) -> None:
        if stream is not None:
            fields = {"stream": stream, **fields}
        self.server.log(event, conn=self.number, **fields)

    async def flush(self) -> None:
        data = self.h2.data_to_send()
        if data and not self.closed:
            self.writer.write(data)
            try:
                await self.writer.drain()
            except (ConnectionError, OSError):
                self.closed = True

    def spawn(self, coroutine) -> None:
        task = asyncio.ensure_future(coroutine)
        self.tasks.add(task)
        task.add_done_callback(self.tasks.discard)

    async def run(self) -> None:
        self.log("connection", peer="%s:%d" % self.writer.get_extra_info("peername")[:2])
        try:
            if self.mode in CONNECTION_MODES:
                await self.run_without_http2()
            else:
                await self.run_http2()
        except (ConnectionError, OSError, ProtocolError) as error:
            self.log("error", detail=repr(error))
        finally:
            self.closed = True
            for task in list(self.tasks):
                task.cancel()
            self.writer.close()
            self.log("closed")

    async def run_without_http2(self) -> None:
        if self.mode == "settings-then-silence":
            self.h2.initiate_connection()
            await self.flush()
            await asyncio.Event().wait()  # never reads again; SIGTERM ends the process
        if self.mode == "not-http2":
            self.writer.write(b"HTTP/1.1 400 Bad Request\r\nContent-Type: text/plain\r\n"
                              b"Content-Length: 11\r\n\r\nBad Request")
        elif self.mode == "garbage":
            self.writer.write(bytes((i * 167 + 13) & 0xFF for i in range(256)))
        await self.writer.drain()
        total = 0
        while chunk := await self.reader.read(65536):
            total += len(chunk)
        self.log("received", bytes=total)

    async def run_http2(self) -> None:
        self.h2.initiate_connection()
        await self.flush()
        buffer = b""
        preface_done = False
        while not self.closed:
            chunk = await self.reader.read(65536)
            if not chunk:
                break
            buffer += chunk
            # Feed h2 one frame at a time so that a mode can answer between two frames, e.g. after
            # the request's HEADERS and before its DATA and END_STREAM are read.
            while True:
                if not preface_done:
                    if len(buffer) < len(PREFACE):
                        break
                    piece, buffer = buffer[:len(PREFACE)], buffer[len(PREFACE):]
                    preface_done = True
                else:
                    if len(buffer) < 9:
                        break
                    length = int.from_bytes(buffer[:3], "big")
                    if len(buffer) < 9 + length:
                        break
                    piece, buffer = buffer[:9 + length], buffer[9 + length:]
                for event in self.h2.receive_data(piece):
                    await self.handle(event)
                await self.flush()
                if self.closed:
                    return

    async def handle(self, event) -> None:
        if isinstance(event, RequestReceived):
            headers = dict(event.headers)
            request = Request(event.stream_id, headers.get(b":path", b"").decode())
            self.requests[event.stream_id] = request
            self.log("headers", event.stream_id, path=request.path)
            if self.mode == "unadvertised-limit-100" and self.open_streams() > ENFORCED_LIMIT:
                self.log("goaway", open=self.open_streams())
                self.h2.close_connection(ErrorCodes.PROTOCOL_ERROR, b"fault-server: more than 100 streams")
                await self.flush()
                self.closed = True
                return
            if event.stream_ended:
                await self.request_ended(request, "headers")
            elif self.mode == "trailers-then-rst-no-error" or self.mode.startswith("rst-after-trailers:"):
                await self.answer_then_reset(request)
        elif isinstance(event, DataReceived):
            request = self.requests.get(event.stream_id)
            if event.flow_controlled_length:
                try:
                    self.h2.acknowledge_received_data(event.flow_controlled_length, event.stream_id)
                except (StreamClosedError, ProtocolError):
                    pass
            if request is None:
                return
            request.data_frames += 1
            request.last_data_frame_bytes = len(event.data)
            if event.data:
                request.data_frames_with_bytes += 1
                request.body += event.data
            if event.stream_ended is not None:
                await self.request_ended(request, "data" if event.data else "empty-data")
        elif isinstance(event, TrailersReceived):
            request = self.requests.get(event.stream_id)
            if request is not None:
                await self.request_ended(request, "trailers")
        elif isinstance(event, StreamReset):
            if event.remote_reset:
                self.log("reset", event.stream_id, code=code_name(event.error_code), code_value=int(event.error_code))
            request = self.requests.get(event.stream_id)
            if request is not None:
                request.reset = True
            self.window_changed.set()
        elif isinstance(event, PingReceived):
            self.log("ping", open=self.open_streams())
        elif isinstance(event, (WindowUpdated, RemoteSettingsChanged)):
            self.window_changed.set()
        elif isinstance(event, ConnectionTerminated):
            self.closed = True

    async def request_ended(self, request: Request, how: str) -> None:
        self.log("request", request.stream_id, path=request.path, data_frames=request.data_frames,
                 data_frames_with_bytes=request.data_frames_with_bytes, data_bytes=len(request.body),
                 end_stream_on=how, end_stream_with_data=how == "data",
                 last_data_frame_bytes=request.last_data_frame_bytes)
        if request.answered:
            return
        faulty = True
        if self.server.only_odd_days:
            day = request.day()
            faulty = day is not None and day % 2 == 1
        if not faulty or self.mode in ("ok", "record", "unadvertised-limit-100"):
            if self.server.delay_ok > 0:
                self.spawn(self.answer_later(request))
            else:
                self.answer_ok(request)
            return
        await self.answer_with_fault(request)

    def open_streams(self) -> int:
        """Request streams neither answered to the end nor reset."""
        return sum(1 for request in self.requests.values() if not request.finished and not request.reset)

    def send_headers(self, request: Request, headers, end_stream: bool = False) -> None:
        self.h2.send_headers(request.stream_id, headers, end_stream=end_stream)

    def send_data(self, request: Request, data: bytes, end_stream: bool = False) -> None:
        """Sends `data` in frames no larger than the peer allows (the windows are large enough)."""
        size = self.h2.max_outbound_frame_size
        for offset in range(0, max(len(data), 1), size):
            last = offset + size >= len(data)
            self.h2.send_data(request.stream_id, data[offset:offset + size], end_stream=end_stream and last)

    def answer_ok(self, request: Request) -> None:
        request.answered = True
        if request.reset or self.closed:
            return
        message, trailers = correct_answer(request.path, bytes(request.body))
        self.log("answer", request.stream_id, action="ok")
        try:
            self.send_headers(request, GRPC_HEADERS)
            if message is not None:
                self.send_data(request, frame(message))
            self.send_headers(request, trailers, end_stream=True)
            request.finished = True
        except (StreamClosedError, ProtocolError) as error:
            self.log("error", request.stream_id, detail=repr(error))

    async def answer_later(self, request: Request) -> None:
        request.answered = True
        await asyncio.sleep(self.server.delay_ok)
        self.answer_ok(request)
        await self.flush()

    async def answer_then_reset(self, request: Request) -> None:
        request.answered = True
        code = ErrorCodes.NO_ERROR if self.mode == "trailers-then-rst-no-error" else error_code(self.mode.split(":", 1)[1])
        self.log("answer", request.stream_id, action=self.mode)
        self.send_headers(request, GRPC_HEADERS)
        self.send_data(request, frame(canned_answer(request.path)))
        self.send_headers(request, OK_TRAILERS, end_stream=True)
        self.h2.reset_stream(request.stream_id, code)

    async def answer_with_fault(self, request: Request) -> None:
        request.answered = True
        mode = self.mode
        self.log("answer", request.stream_id, action=mode)
        message, _ = correct_answer(request.path, bytes(request.body))
        message = message or b""
        sid = request.stream_id
        if mode.startswith("rst:"):
            self.h2.reset_stream(sid, error_code(mode[4:]))
        elif mode.startswith("rst-after-headers:"):
            self.send_headers(request, GRPC_HEADERS)
            self.send_data(request, frame(message))
            self.h2.reset_stream(sid, error_code(mode.split(":", 1)[1]))
        elif mode == "goaway-midstream":
            self.send_headers(request, GRPC_HEADERS)
            self.h2.close_connection(ErrorCodes.NO_ERROR, b"fault-server: going away mid-stream", last_stream_id=sid)
            await self.flush()
            self.closed = True
        elif mode == "goaway-refuse":
            self.h2.close_connection(ErrorCodes.NO_ERROR, b"fault-server: refusing", last_stream_id=max(0, sid - 2))
            await self.flush()
            await asyncio.sleep(0.5)
            self.closed = True
        elif mode == "truncated-message":
            self.send_headers(request, GRPC_HEADERS)
            self.send_data(request, frame(message, length=len(message) + 100))
            self.send_headers(request, OK_TRAILERS, end_stream=True)
        elif mode == "prefix-2gib":
            self.send_headers(request, GRPC_HEADERS)
            self.send_data(request, frame(b"\0" * 1024, length=2 << 30))
        elif mode == "compressed-no-encoding":
            self.send_headers(request, GRPC_HEADERS)
            self.send_data(request, frame(message, compressed=True))
            self.send_headers(request, OK_TRAILERS, end_stream=True)
        elif mode == "no-grpc-status":
            self.send_headers(request, GRPC_HEADERS)
            self.send_data(request, frame(message))
            self.send_headers(request, [(b"x-fault", b"no-grpc-status")], end_stream=True)
        elif mode.startswith("http-"):
            status = mode[5:].encode()
            self.send_headers(request, [(b":status", status), (b"content-type", b"text/plain")])
            self.send_data(request, b"HTTP status " + status + b" from fault-server\n", end_stream=True)
        elif mode == "content-type-html":
            self.send_headers(request, [(b":status", b"200"), (b"content-type", b"text/html; charset=utf-8")])
            self.send_data(request, b"<html><body><h1>Welcome to nginx!</h1></body></html>\n", end_stream=True)
        elif mode == "invalid-protobuf":
            self.send_headers(request, GRPC_HEADERS)
            # Field 2 (proof, length-delimited) announcing 100 bytes of which 3 follow, then a
            # field with the invalid wire type 7.
            self.send_data(request, frame(b"\x08\x01\x12\x64abc\xff\xff\xff\x0f"))
            self.send_headers(request, OK_TRAILERS, end_stream=True)
        elif mode == "never-ends":
            self.send_headers(request, GRPC_HEADERS)
        elif mode == "endless-data":
            self.send_headers(request, GRPC_HEADERS)
            self.spawn(self.send_forever(request))
        elif mode == "informational-first":
            self.send_headers(request, [(b":status", b"103"), (b"link", b"</proof.css>; rel=preload")])
            self.send_headers(request, GRPC_HEADERS)
            self.send_data(request, frame(message))
            self.send_headers(request, OK_TRAILERS, end_stream=True)
        elif mode == "huge-headers":
            self.send_headers(request, GRPC_HEADERS + filler_headers(64))
            self.send_data(request, frame(message))
            self.send_headers(request, OK_TRAILERS, end_stream=True)
        elif mode == "huge-trailers":
            self.send_headers(request, GRPC_HEADERS)
            self.send_data(request, frame(message))
            self.send_headers(request, OK_TRAILERS + filler_headers(64), end_stream=True)
        elif mode == "big-headers-and-trailers":
            self.send_headers(request, GRPC_HEADERS + filler_headers(12))
            self.send_data(request, frame(message))
            self.send_headers(request, OK_TRAILERS + filler_headers(12), end_stream=True)
        else:
            raise SystemExit(f"fault_server: unhandled mode {mode}")

    async def send_forever(self, request: Request) -> None:
        """1 MiB messages, back to back, as fast as the flow-control windows allow."""
        block = frame(bytes(range(256)) * 4096)
        sent = 0
        why = "connection closed"
        while not self.closed:
            if request.reset:
                why = "stream reset"
                break
            try:
                window = self.h2.local_flow_control_window(request.stream_id)
            except (StreamClosedError, ProtocolError, KeyError):
                why = "stream closed"
                break
            if window <= 0:
                self.window_changed.clear()
                await self.window_changed.wait()
                continue
            n = min(window, self.h2.max_outbound_frame_size, 1 << 16)
            offset = sent % len(block)
            chunk = block[offset:offset + n]
            try:
                self.h2.send_data(request.stream_id, chunk)
            except (StreamClosedError, ProtocolError):
                why = "stream closed"
                break
            sent += len(chunk)
            await self.flush()
        self.log("sent", request.stream_id, bytes=sent, why=why)


def filler_headers(kib: int) -> list[tuple[bytes, bytes]]:
    return [(b"x-filler-%02d" % i, bytes([0x61 + i % 26]) * 1000) for i in range(kib)]


# ---- the server ----

class Server:
    def __init__(self, args):
        self.mode = args.mode
        self.only_odd_days = args.only_odd_days
        self.delay_ok = args.delay_ok
        self.log = Log(args.log)
        self.connections = 0

    async def on_connection(self, reader, writer) -> None:
        self.connections += 1
        await Connection(self, self.connections, reader, writer).run()


def valid_mode(mode: str) -> str:
    if mode in STREAM_MODES or mode in CONNECTION_MODES:
        return mode
    if mode.startswith(("rst:", "rst-after-headers:", "rst-after-trailers:")):
        try:
            error_code(mode.split(":", 1)[1])
            return mode
        except (KeyError, ValueError):
            pass
    if mode.startswith("http-") and mode[5:].isdigit() and 100 <= int(mode[5:]) <= 999:
        return mode
    raise argparse.ArgumentTypeError(f"unknown mode {mode!r} (see the docstring)")


async def watch_parent(stop: asyncio.Event) -> None:
    parent = os.getppid()
    while not stop.is_set():
        await asyncio.sleep(0.2)
        if os.getppid() != parent:
            stop.set()


async def serve(args) -> None:
    server = Server(args)
    listener = await asyncio.start_server(server.on_connection, "127.0.0.1", args.port)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)
    watcher = asyncio.ensure_future(watch_parent(stop)) if args.exit_with_parent else None  # keep a reference
    print(f"LISTENING {listener.sockets[0].getsockname()[1]}", flush=True)
    await stop.wait()
    listener.close()
    if watcher:
        watcher.cancel()


def main(argv=None) -> None:
    # Foundation.Process starts children with every signal blocked, and the mask is inherited:
    # clear it or SIGTERM would never arrive.
    signal.pthread_sigmask(signal.SIG_SETMASK, [])
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--mode", type=valid_mode, default="ok")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--log")
    parser.add_argument("--only-odd-days", action="store_true")
    parser.add_argument("--delay-ok", type=float, default=0.0)
    parser.add_argument("--exit-with-parent", action="store_true")
    args = parser.parse_args(argv)
    asyncio.run(serve(args))
    # Open connections (e.g. never-ends) must not keep the process alive.
    sys.stdout.flush()
    os._exit(0)


if __name__ == "__main__":
    main()
