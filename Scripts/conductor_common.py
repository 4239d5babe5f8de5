"""What the two reference conductors share: Scripts/reference_conductor.py (gRPC, on grpcio) and
Scripts/reference_rest_conductor.py (REST, on hypercorn).

  - the domain: which days have proofs, their text and hash, an event's content hash, and the
    `Ledger` that serves days (non-canonical proofs change per serve) and applies events
    (all-or-nothing, with --reject-event-type);
  - the knobs common to both (`Config`, `FaultSchedule`): delays, --fail-first, --error rates drawn
    from a seeded generator, the token and health files;
  - the JSON-lines request log, and the process plumbing (addresses, stopping).

Each server maps these onto its protocol: a `Fault`'s code is a grpc.StatusCode for one and an
HTTP status for the other.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import random
import signal
import stat
import struct
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

SOURCE = "reference-conductor"


# --------------------------------------------------------------------------- deterministic values

def _length_prefixed(data: bytes) -> bytes:
    return struct.pack(">Q", len(data)) + data


def event_hash(event_type: str, epoch: int, payload: bytes, metadata: dict[str, str]) -> str:
    """sha256 hex over a canonical encoding of an event's content.

    Encoding: b"chorus-event-v1" then, each length-prefixed (8-byte big-endian length):
    event_type (UTF-8), epoch (4-byte big-endian signed), payload, then the number of metadata
    entries (8-byte big-endian) and each key and value (UTF-8) in key order.
    """
    parts = [b"chorus-event-v1",
             _length_prefixed(event_type.encode()),
             _length_prefixed(struct.pack(">i", epoch)),
             _length_prefixed(bytes(payload)),
             struct.pack(">Q", len(metadata))]
    for key in sorted(metadata):
        parts.append(_length_prefixed(key.encode()))
        parts.append(_length_prefixed(metadata[key].encode()))
    return hashlib.sha256(b"".join(parts)).hexdigest()


def day_is_known(day: int) -> bool:
    return 1 <= day <= 1999


def day_is_canonical(day: int) -> bool:
    return 1 <= day <= 999


def day_proof(day: int, generation: int = 1, pad_to: int | None = None) -> str:
    """The proof text for a day; `generation` only matters for non-canonical days."""
    proof = f"proof-of-day-{day}"
    if not day_is_canonical(day):
        proof += f"-gen{generation}"
    if pad_to is not None and len(proof) < pad_to:
        proof += "x" * (pad_to - len(proof))
    return proof


def sha256_hex(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


# --------------------------------------------------------------------------- configuration

@dataclass
class ErrorRule:
    code: object  # grpc.StatusCode or an HTTP status
    rate: float


@dataclass
class Config:
    """The knobs both servers have; each server's own ones live in a subclass."""
    delays: dict[str, float] = field(default_factory=dict)
    delay_rates: dict[str, float] = field(default_factory=dict)  # --delay METHOD=SECONDS:RATE
    errors: dict[str, ErrorRule] = field(default_factory=dict)
    fail_first: dict[str, int] = field(default_factory=dict)
    proof_bytes: dict[int, int] = field(default_factory=dict)
    health_status: str = "SERVING"
    health_file: str | None = None
    token_file: str | None = None
    rejected_event_types: tuple[str, ...] = ()
    seed: int = 1

    def accepted_token(self) -> str | None:
        """The bearer token calls must carry, read from --token-file now (None: no check)."""
        if not self.token_file:
            return None
        try:
            return Path(self.token_file).read_text(encoding="utf-8").strip()
        except OSError:
            return ""

    def current_health(self) -> str:
        """The health status now: the --health-file's content when it names one, else --health-status."""
        if self.health_file:
            try:
                text = Path(self.health_file).read_text(encoding="utf-8").strip().upper()
                if text in ("SERVING", "NOT_SERVING", "UNKNOWN"):
                    return text
            except OSError:
                pass
        return self.health_status

    @staticmethod
    def lookup(table: dict, method: str):
        """The rule for `method`: its own entry wins over `*`."""
        return table.get(method, table.get("*"))


def split_method_value(text: str, methods: tuple[str, ...]) -> tuple[str, str]:
    """`METHOD=VALUE` → (METHOD, VALUE), METHOD being one of `methods` or `*`."""
    method, sep, value = text.partition("=")
    if not sep or method not in (*methods, "*"):
        raise argparse.ArgumentTypeError(
            f"expected METHOD=VALUE with METHOD one of {', '.join(methods)} or *: {text!r}")
    return method, value


# --------------------------------------------------------------------------- injected faults

@dataclass(frozen=True)
class Fault:
    """A failure to inject: from --fail-first (kind "fail-first") or --error (kind "error")."""
    kind: str
    code: object


class RateDraws:
    """Whether a fraction-of-requests knob strikes this request (thread-safe, seeded: reproducible)."""

    def __init__(self, seed: int):
        self._lock = threading.Lock()
        self._rng = random.Random(seed)

    def strikes(self, rate: float | None) -> bool:
        if rate is None:
            return True
        with self._lock:
            return self._rng.random() < rate


class FaultSchedule:
    """Decides per request whether --fail-first or --error strikes (thread-safe).

    --fail-first counts a method's arrivals; --error draws from a generator seeded with --seed, one
    draw per request of a method that has a rule, so a run is reproducible.
    """

    def __init__(self, config: Config, fail_first_code):
        self._config = config
        self._fail_first_code = fail_first_code
        self._lock = threading.Lock()
        self._rng = random.Random(config.seed)
        self._arrivals: dict[str, int] = {}

    def next_fault(self, method: str) -> Fault | None:
        with self._lock:
            arrival = self._arrivals.get(method, 0)
            self._arrivals[method] = arrival + 1
            fail_first = Config.lookup(self._config.fail_first, method) or 0
            rule = Config.lookup(self._config.errors, method)
            draw = self._rng.random() if rule is not None else 1.0
        if arrival < fail_first:
            return Fault("fail-first", self._fail_first_code)
        if rule is not None and draw < rule.rate:
            return Fault("error", rule.code)
        return None


# --------------------------------------------------------------------------- the ledger

@dataclass(frozen=True)
class DayProof:
    day_number: int
    proof: str
    proof_hash: str
    canonical: bool
    source: str = SOURCE


class UnknownDay(Exception):
    """No proof for that day (NOT_FOUND)."""

    def __init__(self, day: int):
        super().__init__(f"no proof for day {day}")


class RejectedEvent(Exception):
    """An event of a --reject-event-type type (INVALID_ARGUMENT)."""

    def __init__(self, index: int, event_type: str):
        super().__init__(f"event {index}: event type {event_type} is rejected")


class Ledger:
    """The conductor's state (thread-safe): how often each day was served, which events applied."""

    def __init__(self, config: Config):
        self._config = config
        self._lock = threading.Lock()
        self._day_serves: dict[int, int] = {}
        self.applied: dict[str, int] = {}  # event hash -> times applied

    def serve_day(self, day: int) -> DayProof:
        """The proof of `day`; a non-canonical one changes (`-gen<k>`) with every serve."""
        if not day_is_known(day):
            raise UnknownDay(day)
        with self._lock:
            generation = self._day_serves.get(day, 0) + 1
            self._day_serves[day] = generation
        proof = day_proof(day, generation, self._config.proof_bytes.get(day))
        return DayProof(day, proof, sha256_hex(proof), day_is_canonical(day))

    def apply(self, events, hashes: list[str]) -> None:
        """Records all events as applied in one step (a batch is all-or-nothing).

        `events` have `event_type` (the proto messages of either server); `hashes` their content
        hashes. Raises RejectedEvent, applying nothing, when one has a rejected type.
        """
        for index, event in enumerate(events):
            if event.event_type in self._config.rejected_event_types:
                raise RejectedEvent(index, event.event_type)
        with self._lock:
            for digest in hashes:
                self.applied[digest] = self.applied.get(digest, 0) + 1


def content_hash(event) -> str:
    """event_hash() of a proto ConductorEvent."""
    return event_hash(event.event_type, event.epoch, event.payload, dict(event.metadata))


# --------------------------------------------------------------------------- request log

class RequestLog:
    """Thread-safe JSON-lines writer; numbers entries and flushes each line."""

    def __init__(self, path: str | None):
        self._lock = threading.Lock()
        self._seq = 0
        self._file = open(path, "a", encoding="utf-8") if path else None

    def write(self, entry: dict) -> None:
        """Adds `seq` and `time` to `entry` and appends it."""
        with self._lock:
            self._seq += 1
            entry["seq"] = self._seq
            entry["time"] = time.time()
            if self._file is not None:
                self._file.write(json.dumps(entry, sort_keys=True) + "\n")
                self._file.flush()

    def close(self) -> None:
        with self._lock:
            if self._file is not None:
                self._file.close()
                self._file = None


# --------------------------------------------------------------------------- process plumbing

def tcp_address(host: str, port: int) -> str:
    """`host:port` with IPv6 literals bracketed."""
    if ":" in host and not host.startswith("["):
        host = f"[{host}]"
    return f"{host}:{port}"


def remove_stale_socket(path: str) -> None:
    """Removes a unix socket left by an earlier run (and nothing else) so PATH can be bound."""
    try:
        if stat.S_ISSOCK(os.stat(path).st_mode):
            os.unlink(path)
    except FileNotFoundError:
        pass


def _watch_parent(stop: threading.Event, say: Callable[[str], None]) -> None:
    parent = os.getppid()
    while not stop.wait(0.5):
        if os.getppid() != parent:
            say("parent process exited; stopping")
            stop.set()


def wait_for_stop(args, say: Callable[[str], None]) -> None:
    """Blocks until SIGTERM/SIGINT, --lifetime, or (with --exit-with-parent) the parent's exit.

    Must run on the main thread (it installs the signal handlers); `say` logs why it stops.
    """
    stop = threading.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: stop.set())
    if args.exit_with_parent:
        threading.Thread(target=_watch_parent, args=(stop, say), daemon=True).start()
    deadline = time.monotonic() + args.lifetime if args.lifetime > 0 else None
    while not stop.is_set():
        timeout = 1.0 if deadline is None else max(0.0, min(1.0, deadline - time.monotonic()))
        stop.wait(timeout)
        if deadline is not None and time.monotonic() >= deadline:
            say("lifetime over; stopping")
            break
