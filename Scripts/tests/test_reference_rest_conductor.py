"""Self-test of Scripts/reference_rest_conductor.py with standard-library clients (http.client, ssl),
the h2 library for HTTP/2, and nghttp2's h2load when it is installed.

Run from the repository root (after Scripts/setup.sh):

    .venv/bin/python -m unittest discover -s Scripts/tests -v

Each test starts the server as a subprocess (`LISTENING <port>` handshake, the harness of
test_reference_conductor.py), talks HTTP/1.1 or HTTP/2 to it and stops it with SIGTERM, checking
that it exits with status 0 and printed nothing else to stdout.
"""

from __future__ import annotations

import base64
import gzip
import http.client
import json
import shutil
import socket
import ssl
import subprocess
import sys
import time
import unittest
from dataclasses import dataclass, field
from pathlib import Path

import h2.config
import h2.connection
import h2.errors
import h2.events

from test_reference_conductor import ConductorProcess, TempDirTest, read_log, wait_for_log

SCRIPTS = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(SCRIPTS))

import conductor_common as common  # noqa: E402

JSON = "application/json"
# The keys every gRPC conductor log line has (its health-only "service" has no REST counterpart).
GRPC_LOG_KEYS = {"seq", "time", "start", "method", "outcome", "peer", "attempt", "metadata",
                 "user_agent"}


@dataclass
class Response:
    status: int
    headers: dict[str, str]
    body: bytes

    def json(self):
        return json.loads(self.body)


class RestConductorProcess(ConductorProcess):
    """Runs one reference REST conductor; use as a context manager."""

    script = SCRIPTS / "reference_rest_conductor.py"

    def request(self, method: str, path: str, body: bytes | None = None,
                headers: dict | None = None) -> Response:
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=10)
        try:
            return exchange(connection, method, path, body, headers)
        finally:
            connection.close()

    def get(self, path: str, headers: dict | None = None) -> Response:
        return self.request("GET", path, headers=headers)

    def post(self, path: str, value, headers: dict | None = None) -> Response:
        """POSTs `value` as JSON (bytes as they are) with content-type application/json."""
        body = value if isinstance(value, bytes) else json.dumps(value).encode()
        return self.request("POST", path, body, {"content-type": JSON, **(headers or {})})


def exchange(connection: http.client.HTTPConnection, method: str, path: str,
             body: bytes | None = None, headers: dict | None = None) -> Response:
    connection.request(method, path, body=body, headers=headers or {})
    answer = connection.getresponse()
    return Response(answer.status, {k.lower(): v for k, v in answer.getheaders()}, answer.read())


@dataclass
class _Stream:
    status: int = 0
    headers: dict = field(default_factory=dict)
    body: bytearray = field(default_factory=bytearray)
    ended: bool = False


class H2Client:
    """Just enough of an HTTP/2 client, on the h2 library, for these tests."""

    def __init__(self, sock: socket.socket, scheme: str = "http"):
        self.sock, self.scheme = sock, scheme
        self.connection = h2.connection.H2Connection(
            h2.config.H2Configuration(client_side=True, header_encoding="utf-8"))
        self.connection.initiate_connection()
        self._streams: dict[int, _Stream] = {}
        self._flush()

    @classmethod
    def cleartext(cls, port: int) -> "H2Client":
        """HTTP/2 with prior knowledge on a plain TCP connection."""
        return cls(socket.create_connection(("127.0.0.1", port), timeout=10))

    def start(self, method: str, path: str, headers=(), body: bytes | None = None) -> int:
        stream = self.connection.get_next_available_stream_id()
        self._streams[stream] = _Stream()
        pseudo = [(":method", method), (":scheme", self.scheme), (":authority", "localhost"),
                  (":path", path)]
        self.connection.send_headers(stream, pseudo + list(headers), end_stream=body is None)
        if body is not None:
            self.connection.send_data(stream, body, end_stream=True)
        self._flush()
        return stream

    def response(self, stream: int, limit: int | None = None) -> Response:
        """Reads until the stream ends, or until `limit` body bytes arrived."""
        state = self._streams[stream]
        while not state.ended and (limit is None or len(state.body) < limit):
            self._receive()
        return Response(state.status, state.headers, bytes(state.body))

    def request(self, method: str, path: str, headers=(), body: bytes | None = None) -> Response:
        return self.response(self.start(method, path, headers, body))

    def reset(self, stream: int) -> None:
        self.connection.reset_stream(stream, h2.errors.ErrorCodes.CANCEL)
        self._flush()

    def close(self) -> None:
        self.sock.close()

    def _receive(self) -> None:
        """Reads once from the socket and files the events under their streams."""
        data = self.sock.recv(65536)
        if not data:
            raise ConnectionError("the server closed the connection")
        for event in self.connection.receive_data(data):
            state = self._streams.get(getattr(event, "stream_id", None))
            if state is None:
                continue
            if isinstance(event, h2.events.ResponseReceived):
                state.headers = dict(event.headers)
                state.status = int(state.headers.pop(":status"))
            elif isinstance(event, h2.events.DataReceived):
                state.body += event.data
                self.connection.acknowledge_received_data(event.flow_controlled_length,
                                                          event.stream_id)
            elif isinstance(event, h2.events.StreamEnded):
                state.ended = True
            elif isinstance(event, h2.events.StreamReset):
                raise ConnectionError(f"stream {event.stream_id} reset by the server")
        self._flush()

    def _flush(self) -> None:
        data = self.connection.data_to_send()
        if data:
            self.sock.sendall(data)


def event(event_type="ride.started", epoch=3, payload=b"abc", metadata=None) -> dict:
    """An Event as the contract's JSON."""
    return {"event_type": event_type, "epoch": epoch,
            "payload": base64.b64encode(payload).decode(), "metadata": metadata or {}}


def process_is_running(pid: int) -> bool:
    """Whether `pid` runs (a zombie, left to an init that does not reap, has stopped)."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (FileNotFoundError, IndexError):
        return False
    return state != "Z"


def make_certificates(directory: Path) -> Path:
    subprocess.run(["bash", str(SCRIPTS / "make-test-certificates.sh"), str(directory)],
                   check=True, capture_output=True)
    return directory


def tls_context(certs: Path, alpn: list[str], client_cert: bool = False) -> ssl.SSLContext:
    context = ssl.create_default_context(cafile=str(certs / "ca.pem"))
    if alpn:
        context.set_alpn_protocols(alpn)
    if client_cert:
        context.load_cert_chain(str(certs / "client.pem"), str(certs / "client.key"))
    return context


class SemanticsTest(TempDirTest):
    def test_day_proofs(self):
        flags = ("--proof-bytes", "7=100000", "--not-found-days", "20,30-32")
        with RestConductorProcess(*flags) as server:
            first = server.get("/day-proof/5")
            self.assertEqual(first.status, 200)
            self.assertEqual(first.headers["content-type"], JSON)
            self.assertEqual(first.headers["x-served-by"], "reference-conductor")
            self.assertEqual(first.json(), {
                "day_number": 5, "proof": "proof-of-day-5",
                "proof_hash": common.sha256_hex("proof-of-day-5"), "canonical": True,
                "source": "reference-conductor"})
            self.assertEqual(server.get("/day-proof/5").body, first.body)

            gens = [server.get("/day-proof/1500").json() for _ in range(2)]
            self.assertEqual([g["proof"] for g in gens],
                             ["proof-of-day-1500-gen1", "proof-of-day-1500-gen2"])
            self.assertFalse(gens[0]["canonical"])

            padded = server.get("/day-proof/7").json()
            self.assertEqual(len(padded["proof"]), 100000)
            self.assertTrue(padded["proof"].startswith("proof-of-day-7x"))
            self.assertEqual(padded["proof_hash"], common.sha256_hex(padded["proof"]))

            for day in (0, -1, 2000, 2147483647, -2147483648, 20, 31):
                missing = server.get(f"/day-proof/{day}")
                self.assertEqual((missing.status, missing.headers["content-type"]), (404, JSON))
                self.assertEqual(missing.json(), {"detail": f"no proof for day {day}"})
            self.assertEqual(server.get("/day-proof/33").status, 200)

    def test_submits(self):
        log_path = self.tmp / "requests.jsonl"
        with RestConductorProcess("--log", str(log_path)) as server:
            a = server.post("/events", event(metadata={"b": "2", "a": "1"}))
            self.assertEqual(a.status, 200)
            self.assertEqual(a.headers["x-served-by"], "reference-conductor")
            digest = common.event_hash("ride.started", 3, b"abc", {"a": "1", "b": "2"})
            self.assertEqual(a.json(), {"event_hash": digest, "epoch": 3})
            self.assertEqual(server.post("/events", event(metadata={"a": "1", "b": "2"})).json(), a.json())
            other = server.post("/events", event(payload=b"abd", metadata={"a": "1", "b": "2"}))
            self.assertNotEqual(other.json()["event_hash"], digest)

            # proto3 JSON: integers as strings or integral numbers, null = default, extras ignored
            lenient = dict(event(), epoch="3", comment="a newer client's field")
            plain = common.event_hash("ride.started", 3, b"abc", {})
            self.assertEqual(server.post("/events", lenient).json(), {"event_hash": plain, "epoch": 3})
            self.assertEqual(server.post("/events", dict(event(), epoch=3.0)).json()["event_hash"], plain)
            nulls = {"event_type": None, "epoch": None, "payload": None, "metadata": None}
            self.assertEqual(server.post("/events", nulls).json(),
                             {"event_hash": common.event_hash("", 0, b"", {}), "epoch": 0})

            events = [event(epoch=i, payload=bytes([i]) * (i + 1)) for i in range(6)]
            batch = server.post("/events/batch", events + [events[0]])
            self.assertEqual(batch.status, 200)
            expected = [common.event_hash("ride.started", i, bytes([i]) * (i + 1), {}) for i in range(6)]
            self.assertEqual(batch.json(), [{"event_hash": h, "epoch": i}
                                            for i, h in enumerate(expected)]
                             + [{"event_hash": expected[0], "epoch": 0}])
            self.assertEqual(server.post("/events/batch", []).json(), [])
        entries = read_log(log_path)
        self.assertTrue(all(e["applied"] and e["outcome"] == "ok" for e in entries))
        self.assertEqual(entries[-2]["event_hashes"], expected + [expected[0]])
        self.assertEqual(entries[-2]["payload_bytes"], [1, 2, 3, 4, 5, 6, 1])

    def test_health(self):
        health_file = self.tmp / "health"
        log_path = self.tmp / "requests.jsonl"
        flags = ("--health-status", "NOT_SERVING", "--health-file", str(health_file),
                 "--log", str(log_path))
        with RestConductorProcess(*flags) as server:
            answers = [server.get("/health")]
            for status in ("SERVING", "UNKNOWN", "nonsense"):
                health_file.write_text(status + "\n")
                answers.append(server.get("/health"))
        self.assertEqual([(a.status, a.json()) for a in answers],
                         [(503, {"status": "NOT_SERVING"}), (200, {"status": "SERVING"}),
                          (503, {"status": "UNKNOWN"}), (503, {"status": "NOT_SERVING"})])
        entries = read_log(log_path)
        self.assertEqual([(e["method"], e["outcome"], e["status"]) for e in entries],
                         [("HealthCheck", "ok", s) for s in (503, 200, 503, 503)])


class RequestValidationTest(TempDirTest):
    def test_bad_requests(self):
        log_path = self.tmp / "requests.jsonl"
        flags = ("--log", str(log_path), "--max-message-bytes", "1K", "--no-health-route")
        with RestConductorProcess(*flags) as server:
            body = json.dumps(event()).encode()
            self.assertEqual(server.request("POST", "/events", body).status, 415)  # no content-type
            wrong_type = server.request("POST", "/events", body, {"content-type": "text/plain"})
            self.assertEqual(wrong_type.status, 415)
            self.assertIn("content-type must be application/json", wrong_type.json()["detail"])
            with_charset = {"content-type": "application/json; charset=utf-8"}
            self.assertEqual(server.request("POST", "/events", body, with_charset).status, 200)

            invalid = {
                "/events": [b"{not json", b"[]", {"epoch": 1.5}, {"epoch": 2**31}, {"epoch": True},
                            {"payload": "YWI"}, {"payload": "-_8="}, {"payload": "!!"},
                            {"metadata": {"a": 1}}, {"event_type": 5}],
                "/events/batch": [{"events": []}, [event(), "not an event"], [{"epoch": "x"}]],
            }
            for path, bodies in invalid.items():
                for value in bodies:
                    answer = server.post(path, value)
                    self.assertEqual(answer.status, 400, (path, value, answer.body))
                    self.assertIsInstance(answer.json()["detail"], str)
            self.assertEqual(server.post("/events/batch", [event(), {"payload": "!!"}]).json(),
                             {"detail": "event 1: payload is not standard base64 with padding"})

            for day in ("05", "-0", "1.0", "abc", "2147483648", "-2147483649", ""):
                answer = server.get(f"/day-proof/{day}")
                self.assertEqual(answer.status, 400, day)
                self.assertIn("day_number must be a decimal int32", answer.json()["detail"])

            too_big = server.post("/events", dict(event(), payload="A" * 2048))
            self.assertEqual(too_big.status, 413)

            for path in ("/nope", "/day-proof/1/x", "/events/", "/health", "/"):
                answer = server.get(path)
                self.assertEqual(answer.status, 404, path)
                self.assertTrue(answer.headers["content-type"].startswith("text/plain"))
            wrong_method = server.get("/events")
            self.assertEqual((wrong_method.status, wrong_method.headers["allow"]), (405, "POST"))
            self.assertEqual(server.post("/day-proof/1", {}).headers["allow"], "GET")
        entries = read_log(log_path)
        outcomes = [e["outcome"] for e in entries]  # unknown routes and 405s are not logged
        self.assertEqual(outcomes[:3], ["error:INTERNAL", "error:INTERNAL", "ok"])
        self.assertEqual(outcomes[3:-1], ["error:INVALID_ARGUMENT"] * (len(entries) - 4))
        self.assertEqual(outcomes[-1], "error:RESOURCE_EXHAUSTED")
        self.assertEqual({e["day"] for e in entries if e["method"] == "GetDayProof"}, {None})


class RequestLogTest(TempDirTest):
    def test_every_request_is_logged(self):
        log_path = self.tmp / "requests.jsonl"
        with RestConductorProcess("--log", str(log_path)) as server:
            connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=10)
            connection.putrequest("GET", "/day-proof/9")
            for name, value in (("x-test-id", "t1"), ("x-multi", "a"), ("x-multi", "b"),
                                ("authorization", "Bearer z"), ("user-agent", "test-agent/1.0"),
                                ("accept", JSON)):
                connection.putheader(name, value)
            connection.endheaders()
            self.assertEqual(connection.getresponse().read()[:1], b"{")
            connection.close()
            self.assertEqual(server.get("/day-proof/5000").status, 404)
            submitted = event(payload=b"p" * 10)
            server.post("/events", submitted)
            server.post("/events/batch", [submitted, submitted])
            server.get("/health")
            client = H2Client.cleartext(server.port)
            over_h2 = client.request("GET", "/day-proof/2", [("x-test-id", "t2")])
            client.close()
            self.assertEqual(over_h2.json()["proof"], "proof-of-day-2")
            entries = read_log(log_path)  # readable while the server runs

        self.assertEqual([e["seq"] for e in entries], [1, 2, 3, 4, 5, 6])
        self.assertEqual([e["method"] for e in entries],
                         ["GetDayProof", "GetDayProof", "SubmitEvent", "SubmitEventsBatch",
                          "HealthCheck", "GetDayProof"])
        self.assertEqual([e["outcome"] for e in entries],
                         ["ok", "error:NOT_FOUND", "ok", "ok", "ok", "ok"])
        self.assertEqual([e["status"] for e in entries], [200, 404, 200, 200, 200, 200])
        self.assertEqual([e["http_version"] for e in entries], ["1.1"] * 5 + ["2"])
        for entry in entries:
            self.assertLessEqual(GRPC_LOG_KEYS, set(entry))
            self.assertEqual(entry["attempt"], 0)
            self.assertTrue(entry["peer"].startswith("ipv4:127.0.0.1:"), entry["peer"])
            self.assertLessEqual(entry["start"], entry["time"])
        first = entries[0]
        self.assertEqual(first["day"], 9)
        self.assertEqual(first["metadata"], {"x-test-id": "t1", "x-multi": ["a", "b"],
                                             "authorization": "Bearer z"})
        self.assertEqual(first["user_agent"], "test-agent/1.0")
        self.assertEqual(entries[1]["day"], 5000)
        self.assertEqual(entries[5]["metadata"], {"x-test-id": "t2"})
        digest = common.event_hash("ride.started", 3, b"p" * 10, {})
        self.assertEqual((entries[2]["event_hashes"], entries[2]["payload_bytes"]), ([digest], [10]))
        self.assertEqual(entries[3]["event_hashes"], [digest, digest])
        self.assertTrue(entries[3]["applied"])


class FaultInjectionTest(TempDirTest):
    def test_injected_errors_fail_first_and_rejected_events(self):
        log_path = self.tmp / "requests.jsonl"
        date = "Wed, 21 Oct 2015 07:28:00 GMT"
        flags = ("--log", str(log_path), "--error", "SubmitEvent=503", "--error", "HealthCheck=429",
                 "--retry-after", date, "--fail-first", "GetDayProof=2",
                 "--reject-event-type", "poison", "--created")
        with RestConductorProcess(*flags) as server:
            failed = server.post("/events", event())
            self.assertEqual((failed.status, failed.json()), (503, {"detail": "injected UNAVAILABLE"}))
            self.assertEqual(failed.headers["retry-after"], date)
            limited = server.get("/health")
            self.assertEqual((limited.status, limited.json()["detail"]),
                             (429, "injected RESOURCE_EXHAUSTED"))
            days = [server.get("/day-proof/2") for _ in range(3)]
            self.assertEqual([d.status for d in days], [503, 503, 200])
            self.assertEqual(days[0].headers["retry-after"], date)
            rejected = server.post("/events/batch", [event(), event(event_type="poison")])
            self.assertEqual((rejected.status, rejected.json()),
                             (422, {"detail": "event 1: event type poison is rejected"}))
            created = server.post("/events/batch", [event()])
            self.assertEqual(created.status, 201)
        entries = read_log(log_path)
        self.assertEqual([(e["method"], e["outcome"]) for e in entries], [
            ("SubmitEvent", "error:UNAVAILABLE"), ("HealthCheck", "error:RESOURCE_EXHAUSTED"),
            ("GetDayProof", "error:UNAVAILABLE"), ("GetDayProof", "error:UNAVAILABLE"),
            ("GetDayProof", "ok"), ("SubmitEventsBatch", "error:INVALID_ARGUMENT"),
            ("SubmitEventsBatch", "ok")])
        self.assertEqual([e.get("applied") for e in entries],
                         [False, None, None, None, None, False, True])
        self.assertEqual(len(entries[5]["event_hashes"]), 2)

    def outcomes_with_rate(self, seed: str) -> list[int]:
        with RestConductorProcess("--error", "*=500:0.5", "--seed", seed) as server:
            return [server.get("/day-proof/1").status for _ in range(20)]

    def test_error_rate_is_reproducible(self):
        first, second = self.outcomes_with_rate("7"), self.outcomes_with_rate("7")
        self.assertEqual(first, second)
        self.assertEqual(set(first), {200, 500})

    def test_error_takes_a_grpc_code_name_for_its_status(self):
        with RestConductorProcess("--error", "GetDayProof=unavailable", "--error", "SubmitEvent=INVALID_ARGUMENT") as server:
            self.assertEqual(server.get("/day-proof/1").status, 503)
            self.assertEqual(server.post("/events", event()).status, 400)

    def test_token_file(self):
        token = self.tmp / "token"
        token.write_text("s3cret\n")
        log_path = self.tmp / "requests.jsonl"
        with RestConductorProcess("--token-file", str(token), "--log", str(log_path)) as server:
            refused = server.get("/day-proof/1")
            self.assertEqual((refused.status, refused.headers["www-authenticate"]), (401, "Bearer"))
            self.assertEqual(refused.json(), {"detail": "missing or invalid bearer token"})
            self.assertEqual(server.get("/health", {"authorization": "Bearer s3cret"}).status, 200)
            token.write_text("rotated")
            self.assertEqual(server.get("/health", {"authorization": "Bearer s3cret"}).status, 401)
            self.assertEqual(server.post("/events", event(), {"authorization": "Bearer rotated"}).status, 200)
        self.assertEqual([e["outcome"] for e in read_log(log_path)],
                         ["error:UNAUTHENTICATED", "ok", "error:UNAUTHENTICATED", "ok"])

    def test_client_leaving_during_a_delay_is_logged_as_cancelled(self):
        log_path = self.tmp / "requests.jsonl"
        flags = ("--log", str(log_path), "--delay", "GetDayProof=5", "--delay", "SubmitEvent=0.2")
        with RestConductorProcess(*flags) as server:
            started = time.monotonic()
            connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=0.3)
            with self.assertRaises(TimeoutError):
                exchange(connection, "GET", "/day-proof/1")
            connection.close()
            client = H2Client.cleartext(server.port)
            stream = client.start("GET", "/day-proof/2")
            time.sleep(0.2)
            client.reset(stream)
            entries = wait_for_log(log_path, lambda es: len(es) >= 2)
            self.assertLess(time.monotonic() - started, 3)
            delayed = time.monotonic()
            self.assertEqual(client.request("POST", "/events", [("content-type", JSON)],
                                            json.dumps(event()).encode()).status, 200)
            self.assertGreaterEqual(time.monotonic() - delayed, 0.2)
            client.close()
        self.assertEqual([(e["day"], e["outcome"], e["status"]) for e in entries],
                         [(1, "cancelled", None), (2, "cancelled", None)])
        self.assertEqual([e["http_version"] for e in entries], ["1.1", "2"])

    def test_status_answers(self):
        log_path = self.tmp / "requests.jsonl"
        flags = ("--log", str(log_path), "--status", "GetDayProof=404", "--status", "SubmitEvent=302",
                 "--status", "SubmitEventsBatch=431", "--status", "HealthCheck=415")
        with RestConductorProcess(*flags) as server:
            not_found = server.get("/day-proof/1")
            self.assertEqual((not_found.status, not_found.headers["content-type"]), (404, JSON))
            self.assertEqual(not_found.json(), {"detail": "injected status 404"})
            moved = server.post("/events", event())
            self.assertEqual((moved.status, moved.headers["location"]), (302, "/moved/events"))
            self.assertEqual(server.post("/events/batch", []).status, 431)
            self.assertEqual(server.get("/health").status, 415)
        self.assertEqual([e["outcome"] for e in read_log(log_path)],
                         ["error:NOT_FOUND", "error:UNKNOWN", "error:RESOURCE_EXHAUSTED",
                          "error:INTERNAL"])
        self.assertFalse(read_log(log_path)[1]["applied"])

        flags = ("--log", str(log_path), "--status", "GetDayProof=404", "--status-body", "gone",
                 "--status-content-type", "text/plain", "--status", "HealthCheck=204",
                 "--status", "SubmitEvent=200")
        log_path.unlink()
        with RestConductorProcess(*flags) as server:
            proxy = server.get("/day-proof/1")
            self.assertEqual((proxy.status, proxy.body, proxy.headers["content-type"]),
                             (404, b"gone", "text/plain"))
            self.assertEqual(server.get("/health").status, 204)
            self.assertEqual(server.post("/events", event()).body, b"gone")
        self.assertEqual([e["outcome"] for e in read_log(log_path)],
                         ["error:UNIMPLEMENTED", "ok", "ok"])

    def test_non_json_huge_bodies_and_gzip(self):
        log_path = self.tmp / "requests.jsonl"
        flags = ("--log", str(log_path), "--compression", "gzip", "--non-json", "HealthCheck",
                 "--huge-body", "GetDayProof=1G", "--huge-body", "SubmitEventsBatch=300000")
        gzip_ok = {"accept-encoding": "gzip"}
        with RestConductorProcess(*flags) as server:
            html = server.get("/health")
            self.assertEqual((html.status, html.headers["content-type"], html.body),
                             (200, "text/html", b"<html>not json</html>"))

            filler = server.post("/events/batch", [])
            self.assertEqual((filler.status, len(filler.body)), (200, 300000))
            self.assertNotIn("content-length", filler.headers)
            self.assertEqual(set(filler.json()["filler"]), {"x"})
            packed = server.post("/events/batch", [], gzip_ok)
            self.assertEqual(packed.headers["content-encoding"], "gzip")
            self.assertEqual(gzip.decompress(packed.body), filler.body)

            receipt = server.post("/events", event(), gzip_ok)
            self.assertEqual(receipt.headers["content-encoding"], "gzip")
            self.assertEqual(json.loads(gzip.decompress(receipt.body))["epoch"], 3)
            for refused in ({}, {"accept-encoding": "gzip;q=0"}, {"accept-encoding": "br"}):
                self.assertNotIn("content-encoding", server.post("/events", event(), refused).headers)
            self.assertIn("content-encoding", server.post("/events", event(), {"accept-encoding": "*"}).headers)

            # 1 GiB answers: a client that stops reading and leaves is noticed (HTTP/1.1 close,
            # HTTP/2 reset, HTTP/2 connection closed while the server waits for flow control)
            connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=10)
            connection.request("GET", "/day-proof/1")
            self.assertEqual(len(connection.getresponse().read(1 << 20)), 1 << 20)
            connection.close()
            client = H2Client.cleartext(server.port)
            stream = client.start("GET", "/day-proof/2")
            self.assertEqual(client.response(stream, limit=1 << 20).body[:12], b'{"filler":"x')
            client.reset(stream)
            stalled = client.start("GET", "/day-proof/3")
            client.response(stalled, limit=1)  # then stops reading: the server waits for window
            client.close()
            entries = wait_for_log(log_path, lambda es: len(es) >= 11)
        self.assertEqual(sorted((e.get("day"), e["outcome"]) for e in entries[-3:]),
                         [(1, "cancelled"), (2, "cancelled"), (3, "cancelled")])
        self.assertEqual([e["outcome"] for e in entries[:-3]], ["ok"] * 8)


class TransportTest(TempDirTest):
    def test_tls_offers_h2_and_http11(self):
        certs = make_certificates(self.tmp / "certs")
        log_path = self.tmp / "requests.jsonl"
        flags = ("--tls-cert", str(certs / "server.pem"), "--tls-key", str(certs / "server.key"),
                 "--tls-client-ca", str(certs / "ca.pem"), "--log", str(log_path))
        with RestConductorProcess(*flags) as server:
            raw = socket.create_connection(("127.0.0.1", server.port), timeout=10)
            tls = tls_context(certs, ["h2", "http/1.1"]).wrap_socket(raw, server_hostname="localhost")
            self.assertEqual(tls.selected_alpn_protocol(), "h2")
            client = H2Client(tls, scheme="https")
            self.assertEqual(client.request("GET", "/day-proof/4").json()["proof"], "proof-of-day-4")
            client.close()
            for alpn, client_cert in ((["http/1.1"], False), ([], True)):
                connection = http.client.HTTPSConnection(
                    "localhost", server.port, timeout=10, context=tls_context(certs, alpn, client_cert))
                self.assertEqual(exchange(connection, "GET", "/health").status, 200)
                connection.close()
            if shutil.which("h2load"):  # many concurrent streams on one connection
                run = subprocess.run(["h2load", "-n", "200", "-c", "1", "-m", "50",
                                      f"https://127.0.0.1:{server.port}/day-proof/1"],
                                     capture_output=True, text=True, timeout=20)
                self.assertIn("200 succeeded", run.stdout, run.stdout + run.stderr)
                self.assertIn("Application protocol: h2", run.stdout)
        versions = [e["http_version"] for e in read_log(log_path)]
        self.assertEqual(versions[:3], ["2", "1.1", "1.1"])

    def test_required_client_certificate(self):
        certs = make_certificates(self.tmp / "certs")
        flags = ("--tls-cert", str(certs / "server.pem"), "--tls-key", str(certs / "server.key"),
                 "--tls-client-ca", str(certs / "ca.pem"), "--require-client-cert")
        with RestConductorProcess(*flags) as server:
            anonymous = http.client.HTTPSConnection(
                "localhost", server.port, timeout=10, context=tls_context(certs, ["http/1.1"]))
            with self.assertRaises((ssl.SSLError, ConnectionError)):
                exchange(anonymous, "GET", "/health")
            anonymous.close()
            known = http.client.HTTPSConnection(
                "localhost", server.port, timeout=10, context=tls_context(certs, ["http/1.1"], True))
            self.assertEqual(exchange(known, "GET", "/health").status, 200)
            known.close()

    def test_h2c_streams_and_idle_connections(self):
        flags = ("--max-concurrent-streams", "20", "--max-connection-idle", "0.3")
        with RestConductorProcess(*flags) as server:
            client = H2Client.cleartext(server.port)
            streams = [client.start("GET", f"/day-proof/{day}") for day in range(1, 21)]
            answers = [client.response(stream) for stream in streams]
            self.assertEqual(client.connection.remote_settings.max_concurrent_streams, 20)
            client.close()
            idle = socket.create_connection(("127.0.0.1", server.port), timeout=5)
            idle.sendall(b"GET /health HTTP/1.1\r\nhost: localhost\r\n\r\n")
            answer = b""
            while not answer.endswith(b'{"status":"SERVING"}'):
                answer += idle.recv(65536)
            self.assertTrue(answer.startswith(b"HTTP/1.1 200"))
            started = time.monotonic()
            self.assertEqual(idle.recv(65536), b"")  # closed by the server once idle
            self.assertLess(time.monotonic() - started, 2)
            idle.close()
        self.assertEqual([a.json()["day_number"] for a in answers], list(range(1, 21)))

    def test_unix_socket_only(self):
        socket_path = self.tmp / "conductor.sock"
        log_path = self.tmp / "requests.jsonl"
        flags = ("--unix", str(socket_path), "--no-tcp", "--log", str(log_path), "--verbose")
        with RestConductorProcess(*flags) as server:
            self.assertEqual(server.port, 0)
            unix = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            unix.connect(str(socket_path))
            connection = http.client.HTTPConnection("localhost", timeout=10)
            connection.sock = unix
            self.assertEqual(exchange(connection, "GET", "/day-proof/3").json()["day_number"], 3)
            connection.close()
        self.assertEqual(read_log(log_path)[0]["peer"], "unix:")
        self.assertIn("GetDayProof ok (200) peer=unix:", server.server_stderr)

    def test_exit_with_parent(self):
        script = RestConductorProcess.script
        parent = subprocess.Popen(  # a shell that starts the server, reports its pid, and exits
            ["sh", "-c", f'"{sys.executable}" "{script}" --exit-with-parent >/dev/null 2>&1 & '
                         'echo $!; sleep 1'], stdout=subprocess.PIPE, text=True)
        pid = int(parent.stdout.readline())
        parent.wait(timeout=5)
        parent.stdout.close()
        deadline = time.monotonic() + 5
        while process_is_running(pid) and time.monotonic() < deadline:
            time.sleep(0.1)
        self.assertFalse(process_is_running(pid), "the server outlived its parent")

    @unittest.skipUnless(socket.has_ipv6, "no IPv6")
    def test_ipv6_loopback_and_lifetime(self):
        server = RestConductorProcess("--host", "::1", "--lifetime", "1").start()
        try:
            connection = http.client.HTTPConnection("::1", server.port, timeout=10)
            self.assertEqual(exchange(connection, "GET", "/health").status, 200)
            connection.close()
            self.assertEqual(server.process.wait(timeout=5), 0)  # stopped by itself
        finally:
            server.stop()


if __name__ == "__main__":
    unittest.main()
