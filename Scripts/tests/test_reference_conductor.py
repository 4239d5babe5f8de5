"""Self-test of Scripts/reference_conductor.py with an official grpcio client.

Run from the repository root (after Scripts/setup.sh):

    .venv/bin/python -m unittest discover -s Scripts/tests -v

Each test starts the server as a subprocess (`LISTENING <port>` handshake), calls it through the
generated stubs and stops it with SIGTERM, checking that it exits with status 0.
"""

from __future__ import annotations

import json
import os
import queue
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import unittest
from concurrent import futures
from pathlib import Path

SCRIPTS = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(SCRIPTS))

import grpc  # noqa: E402

import reference_conductor as rc  # noqa: E402

PB = rc.load_proto_modules()
CONDUCTOR = PB.conductor_pb2
HEALTH = PB.health_pb2
SERVER_SCRIPT = SCRIPTS / "reference_conductor.py"
START_TIMEOUT = 20.0


class ConductorProcess:
    """Runs one reference conductor; use as a context manager."""

    script = SERVER_SCRIPT  # a subclass may run another server with the same handshake

    def __init__(self, *flags: str, env: dict | None = None):
        self.flags = list(flags)
        self.env = env
        self.port = None
        self.returncode = None
        self.server_stderr = ""
        self._stderr = tempfile.TemporaryFile()

    def start(self) -> "ConductorProcess":
        self.process = subprocess.Popen(
            [sys.executable, str(self.script), *self.flags],
            stdout=subprocess.PIPE, stderr=self._stderr, stdin=subprocess.DEVNULL,
            text=True, env=self.env)
        self.port = self._read_port()
        return self

    def _read_port(self) -> int:
        lines: queue.Queue = queue.Queue()
        threading.Thread(target=lambda: lines.put(self.process.stdout.readline()),
                         daemon=True).start()
        try:
            line = lines.get(timeout=START_TIMEOUT)
        except queue.Empty:
            self.process.kill()
            raise AssertionError(f"no LISTENING line; stderr: {self.stderr()}")
        if not line.startswith("LISTENING "):
            self.process.kill()
            raise AssertionError(f"unexpected first line {line!r}; stderr: {self.stderr()}")
        return int(line.split()[1])

    def stderr(self) -> str:
        if self._stderr.closed:
            return self.server_stderr
        self._stderr.seek(0)
        return self._stderr.read().decode(errors="replace")

    def stop(self) -> int:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
        try:
            self.returncode = self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.returncode = self.process.wait()
        extra = self.process.stdout.read()
        self.process.stdout.close()
        self.server_stderr = self.stderr()
        self._stderr.close()
        if extra:
            raise AssertionError(f"more stdout after LISTENING: {extra!r}")
        return self.returncode

    def channel(self, options=()) -> grpc.Channel:
        return grpc.insecure_channel(f"127.0.0.1:{self.port}", options=list(options))

    def __enter__(self) -> "ConductorProcess":
        return self.start()

    def __exit__(self, *exc) -> None:
        code = self.stop()
        if exc[0] is None and code != 0:
            raise AssertionError(f"server exited with {code}")


def read_log(path: Path) -> list[dict]:
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def wait_for_log(path: Path, predicate, timeout: float = 5.0) -> list[dict]:
    """Polls the log until `predicate(entries)` holds; returns the entries."""
    deadline = time.monotonic() + timeout
    while True:
        entries = read_log(path)
        if predicate(entries) or time.monotonic() > deadline:
            return entries
        time.sleep(0.05)


def make_event(event_type="ride.started", epoch=3, payload=b"abc", metadata=None):
    return CONDUCTOR.ConductorEvent(event_type=event_type, epoch=epoch, payload=payload,
                                    metadata=metadata or {})


def stubs(channel):
    return (PB.conductor_pb2_grpc.ConductorBridgeStub(channel),
            PB.health_pb2_grpc.HealthStub(channel))


class TempDirTest(unittest.TestCase):
    def setUp(self):
        self.tmp = Path(tempfile.mkdtemp(prefix="refcond-test-"))
        self.addCleanup(shutil.rmtree, self.tmp, ignore_errors=True)


class DeterministicSemanticsTest(TempDirTest):
    def test_day_proofs(self):
        with ConductorProcess("--proof-bytes", "7=100000") as server, server.channel() as ch:
            bridge, _ = stubs(ch)
            first = bridge.GetDayProof(CONDUCTOR.DayProofRequest(day_number=5), timeout=5)
            self.assertEqual(first.proof, "proof-of-day-5")
            self.assertEqual(first.proof_hash, rc.sha256_hex("proof-of-day-5"))
            self.assertEqual((first.day_number, first.canonical, first.source),
                             (5, True, "reference-conductor"))
            again = bridge.GetDayProof(CONDUCTOR.DayProofRequest(day_number=5), timeout=5)
            self.assertEqual(first, again)

            gens = [bridge.GetDayProof(CONDUCTOR.DayProofRequest(day_number=1500), timeout=5)
                    for _ in range(2)]
            self.assertEqual([g.proof for g in gens],
                             ["proof-of-day-1500-gen1", "proof-of-day-1500-gen2"])
            self.assertFalse(gens[0].canonical)

            padded = bridge.GetDayProof(CONDUCTOR.DayProofRequest(day_number=7), timeout=5)
            self.assertEqual(len(padded.proof), 100000)
            self.assertTrue(padded.proof.startswith("proof-of-day-7x"))
            self.assertEqual(padded.proof_hash, rc.sha256_hex(padded.proof))

    def test_unknown_days_are_not_found(self):
        with ConductorProcess() as server, server.channel() as ch:
            bridge, _ = stubs(ch)
            for day in (0, -1, 2000, 123456):
                with self.assertRaises(grpc.RpcError) as caught:
                    bridge.GetDayProof(CONDUCTOR.DayProofRequest(day_number=day), timeout=5)
                self.assertEqual(caught.exception.code(), grpc.StatusCode.NOT_FOUND)
                self.assertEqual(caught.exception.details(), f"no proof for day {day}")

    def test_event_hashes_are_content_hashes(self):
        with ConductorProcess() as server, server.channel() as ch:
            bridge, _ = stubs(ch)
            a = bridge.SubmitEvent(make_event(metadata={"b": "2", "a": "1"}), timeout=5)
            b = bridge.SubmitEvent(make_event(metadata={"a": "1", "b": "2"}), timeout=5)
            c = bridge.SubmitEvent(make_event(payload=b"abd", metadata={"a": "1", "b": "2"}),
                                   timeout=5)
            self.assertEqual(a.event_hash, b.event_hash)
            self.assertNotEqual(a.event_hash, c.event_hash)
            self.assertEqual(a.event_hash,
                             rc.event_hash("ride.started", 3, b"abc", {"a": "1", "b": "2"}))
            self.assertEqual(a.epoch, 3)
            self.assertEqual(len(a.event_hash), 64)

    def test_batch_receipts_in_request_order(self):
        events = [make_event(epoch=i, payload=bytes([i]) * (i + 1)) for i in range(6)]
        with ConductorProcess() as server, server.channel() as ch:
            bridge, _ = stubs(ch)
            batch = bridge.SubmitEventsBatch(CONDUCTOR.ConductorEventBatch(events=events),
                                             timeout=5)
            expected = [rc.event_hash(e.event_type, e.epoch, e.payload, {}) for e in events]
            self.assertEqual([r.event_hash for r in batch.receipts], expected)
            self.assertEqual([r.epoch for r in batch.receipts], list(range(6)))
            empty = bridge.SubmitEventsBatch(CONDUCTOR.ConductorEventBatch(), timeout=5)
            self.assertEqual(len(empty.receipts), 0)

    def test_health_services(self):
        serving = CONDUCTOR.HealthCheckResponse.SERVING
        with ConductorProcess() as server, server.channel() as ch:
            bridge, health = stubs(ch)
            self.assertEqual(bridge.HealthCheck(CONDUCTOR.HealthCheckRequest(), timeout=5).status,
                             serving)
            for name in ("", "chorus.ConductorBridge"):
                reply = health.Check(HEALTH.HealthCheckRequest(service=name), timeout=5)
                self.assertEqual(reply.status, HEALTH.HealthCheckResponse.SERVING)
            with self.assertRaises(grpc.RpcError) as caught:
                health.Check(HEALTH.HealthCheckRequest(service="no.such.Service"), timeout=5)
            self.assertEqual(caught.exception.code(), grpc.StatusCode.NOT_FOUND)

        with ConductorProcess("--health-status", "NOT_SERVING", "--no-grpc-health") as server, \
                server.channel() as ch:
            bridge, health = stubs(ch)
            self.assertEqual(bridge.HealthCheck(CONDUCTOR.HealthCheckRequest(), timeout=5).status,
                             CONDUCTOR.HealthCheckResponse.NOT_SERVING)
            with self.assertRaises(grpc.RpcError) as caught:
                health.Check(HEALTH.HealthCheckRequest(), timeout=5)
            self.assertEqual(caught.exception.code(), grpc.StatusCode.UNIMPLEMENTED)


class RequestLogTest(TempDirTest):
    def test_every_request_is_logged(self):
        log_path = self.tmp / "requests.jsonl"
        with ConductorProcess("--log", str(log_path)) as server, server.channel() as ch:
            bridge, health = stubs(ch)
            bridge.GetDayProof(CONDUCTOR.DayProofRequest(day_number=9), timeout=5,
                               metadata=[("x-test-id", "t1"), ("x-blob-bin", b"\x00\x01")])
            with self.assertRaises(grpc.RpcError):
                bridge.GetDayProof(CONDUCTOR.DayProofRequest(day_number=5000), timeout=5)
            event = make_event(payload=b"p" * 10)
            bridge.SubmitEvent(event, timeout=5)
            bridge.SubmitEventsBatch(CONDUCTOR.ConductorEventBatch(events=[event, event]),
                                     timeout=5)
            health.Check(HEALTH.HealthCheckRequest(), timeout=5)
            entries = read_log(log_path)  # readable while the server runs

        self.assertEqual([e["seq"] for e in entries], [1, 2, 3, 4, 5])
        self.assertEqual([e["method"] for e in entries],
                         ["GetDayProof", "GetDayProof", "SubmitEvent", "SubmitEventsBatch",
                          "Check"])
        self.assertEqual([e["outcome"] for e in entries],
                         ["ok", "error:NOT_FOUND", "ok", "ok", "ok"])
        first = entries[0]
        self.assertEqual(first["day"], 9)
        self.assertEqual(first["attempt"], 0)
        self.assertEqual(first["metadata"], {"x-test-id": "t1", "x-blob-bin": "AAE="})
        self.assertTrue(first["peer"].startswith("ipv4:127.0.0.1:"), first["peer"])
        self.assertIn("grpc-python", first["user_agent"])
        self.assertIsInstance(first["time"], float)
        digest = rc.event_hash(event.event_type, event.epoch, event.payload, {})
        self.assertEqual(entries[2]["event_hashes"], [digest])
        self.assertEqual(entries[2]["payload_bytes"], [10])
        self.assertTrue(entries[2]["applied"])
        self.assertEqual(entries[3]["event_hashes"], [digest, digest])
        self.assertTrue(entries[3]["applied"])


class FaultInjectionTest(TempDirTest):
    def test_injected_error_applies_nothing(self):
        log_path = self.tmp / "requests.jsonl"
        flags = ("--log", str(log_path), "--error", "SubmitEventsBatch=UNAVAILABLE",
                 "--error-pushback-ms", "250")
        with ConductorProcess(*flags) as server, server.channel() as ch:
            bridge, _ = stubs(ch)
            batch = CONDUCTOR.ConductorEventBatch(events=[make_event(), make_event(epoch=4)])
            with self.assertRaises(grpc.RpcError) as caught:
                bridge.SubmitEventsBatch(batch, timeout=5)
            self.assertEqual(caught.exception.code(), grpc.StatusCode.UNAVAILABLE)
            self.assertEqual(caught.exception.details(), "injected UNAVAILABLE")
            trailing = dict(caught.exception.trailing_metadata() or ())
            self.assertEqual(trailing.get("grpc-retry-pushback-ms"), "250")
            bridge.SubmitEvent(make_event(), timeout=5)  # other methods are unaffected
        entries = read_log(log_path)
        self.assertEqual(entries[0]["outcome"], "error:UNAVAILABLE")
        self.assertFalse(entries[0]["applied"])
        self.assertEqual(len(entries[0]["event_hashes"]), 2)
        self.assertEqual(entries[1]["outcome"], "ok")

    def test_rejected_event_type_is_invalid_and_a_batch_holding_one_applies_nothing(self):
        log_path = self.tmp / "requests.jsonl"
        with ConductorProcess("--log", str(log_path), "--reject-event-type", "poison") as server, \
                server.channel() as ch:
            bridge, _ = stubs(ch)
            poison = CONDUCTOR.ConductorEvent(event_type="poison", epoch=1)
            batch = CONDUCTOR.ConductorEventBatch(events=[make_event(), poison])
            with self.assertRaises(grpc.RpcError) as caught:
                bridge.SubmitEventsBatch(batch, timeout=5)
            self.assertEqual(caught.exception.code(), grpc.StatusCode.INVALID_ARGUMENT)
            self.assertEqual(caught.exception.details(), "event 1: event type poison is rejected")
            bridge.SubmitEvent(make_event(), timeout=5)
        entries = read_log(log_path)
        self.assertEqual([e["outcome"] for e in entries], ["error:INVALID_ARGUMENT", "ok"])
        self.assertFalse(entries[0]["applied"])

    def outcomes_with_rate(self, seed: str) -> list[str]:
        flags = ("--error", "*=14:0.5", "--seed", seed)
        outcomes = []
        with ConductorProcess(*flags) as server, server.channel() as ch:
            bridge, _ = stubs(ch)
            for _ in range(20):
                try:
                    bridge.GetDayProof(CONDUCTOR.DayProofRequest(day_number=1), timeout=5)
                    outcomes.append("ok")
                except grpc.RpcError as error:
                    outcomes.append(error.code().name)
        return outcomes

    def test_error_rate_is_reproducible(self):
        first, second = self.outcomes_with_rate("7"), self.outcomes_with_rate("7")
        self.assertEqual(first, second)
        self.assertEqual(set(first), {"ok", "UNAVAILABLE"})

    def test_fail_first_and_retry_attempts_are_logged(self):
        log_path = self.tmp / "requests.jsonl"
        service_config = json.dumps({"methodConfig": [{
            "name": [{"service": "chorus.ConductorBridge"}],
            "retryPolicy": {"maxAttempts": 4, "initialBackoff": "0.01s", "maxBackoff": "0.05s",
                            "backoffMultiplier": 2, "retryableStatusCodes": ["UNAVAILABLE"]}}]})
        options = [("grpc.service_config", service_config), ("grpc.enable_retries", 1)]
        with ConductorProcess("--log", str(log_path), "--fail-first", "GetDayProof=2") as server, \
                server.channel(options) as ch:
            bridge, _ = stubs(ch)
            reply = bridge.GetDayProof(CONDUCTOR.DayProofRequest(day_number=2), timeout=5)
            self.assertEqual(reply.proof, "proof-of-day-2")
        entries = read_log(log_path)
        self.assertEqual([e["outcome"] for e in entries],
                         ["error:UNAVAILABLE", "error:UNAVAILABLE", "ok"])
        self.assertEqual([e["attempt"] for e in entries], [0, 1, 2])

    def test_delay_then_deadline_is_logged_as_cancelled(self):
        log_path = self.tmp / "requests.jsonl"
        with ConductorProcess("--log", str(log_path), "--delay", "GetDayProof=5") as server, \
                server.channel() as ch:
            bridge, _ = stubs(ch)
            started = time.monotonic()
            with self.assertRaises(grpc.RpcError) as caught:
                bridge.GetDayProof(CONDUCTOR.DayProofRequest(day_number=1), timeout=0.3)
            self.assertEqual(caught.exception.code(), grpc.StatusCode.DEADLINE_EXCEEDED)
            entries = wait_for_log(log_path, lambda es: len(es) >= 1)
            self.assertLess(time.monotonic() - started, 3)
        self.assertEqual(entries[0]["outcome"], "cancelled")


class TransportTest(TempDirTest):
    def test_unix_socket_only(self):
        socket_path = self.tmp / "conductor.sock"
        with ConductorProcess("--unix", str(socket_path), "--no-tcp") as server, \
                grpc.insecure_channel(f"unix:{socket_path}") as ch:
            self.assertEqual(server.port, 0)
            bridge, _ = stubs(ch)
            reply = bridge.GetDayProof(CONDUCTOR.DayProofRequest(day_number=3), timeout=5)
            self.assertEqual(reply.day_number, 3)

    def test_ipv6_loopback(self):
        with ConductorProcess("--host", "::1") as server, \
                grpc.insecure_channel(f"[::1]:{server.port}") as ch:
            bridge, _ = stubs(ch)
            self.assertEqual(bridge.HealthCheck(CONDUCTOR.HealthCheckRequest(), timeout=5).status,
                             CONDUCTOR.HealthCheckResponse.SERVING)

    @unittest.skipUnless(shutil.which("openssl"), "openssl not installed")
    def test_tls(self):
        cert, key = self.tmp / "cert.pem", self.tmp / "key.pem"
        subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
                        "ec_paramgen_curve:prime256v1", "-nodes", "-days", "2",
                        "-subj", "/CN=localhost", "-addext", "subjectAltName=DNS:localhost",
                        "-keyout", str(key), "-out", str(cert)],
                       check=True, capture_output=True)
        credentials = grpc.ssl_channel_credentials(root_certificates=cert.read_bytes())
        with ConductorProcess("--tls-cert", str(cert), "--tls-key", str(key)) as server, \
                grpc.secure_channel(f"localhost:{server.port}", credentials) as ch:
            bridge, _ = stubs(ch)
            reply = bridge.GetDayProof(CONDUCTOR.DayProofRequest(day_number=4), timeout=5)
            self.assertEqual(reply.proof, "proof-of-day-4")

    def test_thousand_concurrent_calls_on_one_connection(self):
        with ConductorProcess() as server, server.channel() as ch:
            bridge, _ = stubs(ch)
            calls = [bridge.GetDayProof.future(CONDUCTOR.DayProofRequest(day_number=1 + i % 999),
                                               timeout=30) for i in range(1000)]
            replies = [call.result() for call in calls]
        self.assertEqual([r.day_number for r in replies], [1 + i % 999 for i in range(1000)])

    def test_parallel_cold_starts_share_the_cache(self):
        env = dict(os.environ, REFERENCE_CONDUCTOR_CACHE=str(self.tmp / "cache"))
        servers = [ConductorProcess("--lifetime", "30", env=env) for _ in range(4)]
        with futures.ThreadPoolExecutor(len(servers)) as pool:
            list(pool.map(ConductorProcess.start, servers))
        try:
            ports = {server.port for server in servers}
            self.assertEqual(len(ports), 4)
        finally:
            codes = [server.stop() for server in servers]
        self.assertEqual(codes, [0, 0, 0, 0])
        cached = [p.name for p in (self.tmp / "cache").iterdir()]
        self.assertEqual(len(cached), 1, cached)  # one complete copy, no leftover staging dirs


if __name__ == "__main__":
    unittest.main()
