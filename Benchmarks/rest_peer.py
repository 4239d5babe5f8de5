"""The Python REST clients that Scripts/bench.sh measures ours against: httpx and aiohttp.

    .venv/bin/python Benchmarks/rest_peer.py --client httpx|aiohttp --url URL [--concurrency N]
        [--duration S] [--warmup S] [--h2] [--ca FILE] [--scenario NAME]

Keeps N GET requests to URL in flight (one asyncio task each, one AsyncClient / ClientSession
shared by all, as the bridge's original client did), parses every answer as JSON, and prints the
line bench_runner.py reads of every client:

    RESULT client=httpx scenario=rest-get concurrency=16 calls=… events=… errors=… seconds=…
           p50_us=… p99_us=… cpu_us=… http=HTTP/1.1

First every task makes one call (this opens the connections), then the load runs for --warmup
seconds (default 0), then for the --duration seconds that are measured. Only that window counts:
the calls that completed in it, their latencies, and the process's own CPU time in it (user +
system, from getrusage at the window's start and end). So the CPU per call leaves out the
interpreter's start-up, the imports and the connections' set-up, which cost this client much more
than they cost a compiled one (bench_runner.py uses `cpu_us` instead of the process's whole CPU
time when a client prints it). A call counts as an error unless it answered 200 with a JSON
object. `http` lists the HTTP versions the answers came in.

--h2 asks for HTTP/2 (httpx only: `http2=True`, which needs the `h2` package; over https the server
picks it by ALPN); --ca verifies the server's certificate against FILE. The pinned versions are in
Scripts/requirements-bench.txt.
"""

from __future__ import annotations

import argparse
import asyncio
import resource
import ssl
import sys
import time

JSON = "application/json"


def cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def percentile(sorted_values: list[int], fraction: float) -> float:
    """The nearest-rank percentile, as bench_runner.py takes h2load's."""
    if not sorted_values:
        return 0.0
    rank = max(1, int(fraction * len(sorted_values)))
    return float(sorted_values[rank - 1])


class Window:
    """The measured window, from now for `duration` seconds: the calls that complete in it, and the
    process's CPU and wall time over it."""

    def __init__(self, duration: float):
        self.start_cpu, self.start = cpu_seconds(), time.monotonic()
        self.end = self.start + duration
        self.end_cpu: float | None = None
        self.ended: float | None = None
        self.calls = self.errors = 0
        self.latencies_ns: list[int] = []
        self.versions: set[str] = set()
        self.first_errors: list[str] = []

    def close(self) -> None:
        self.end_cpu, self.ended = cpu_seconds(), time.monotonic()

    def record(self, began_ns: int, version: str | None, error: str | None = None) -> None:
        if time.monotonic() >= self.end:
            return
        self.calls += 1
        if error is None:
            self.latencies_ns.append(time.perf_counter_ns() - began_ns)
            self.versions.add(version)
        else:
            self.errors += 1
            if len(self.first_errors) < 3 and error not in self.first_errors:
                self.first_errors.append(error)


async def load(call, concurrency: int, until: float, window: Window | None) -> None:
    """`concurrency` tasks calling `call()` back to back until `until` (time.monotonic())."""
    async def worker() -> None:
        while time.monotonic() < until:
            began = time.perf_counter_ns()
            try:
                version = await call()
            except Exception as error:  # noqa: BLE001 (every failure is a failed call)
                if window:
                    window.record(began, None, f"{type(error).__name__}: {error}"[:200])
            else:
                if window:
                    window.record(began, version)

    await asyncio.gather(*(worker() for _ in range(concurrency)))


async def drive(call, concurrency: int, warmup: float, duration: float) -> Window:
    """Warms up, then measures `duration` seconds of load."""
    # One call per task first, outside the window: it opens the connections (TLS handshakes too)
    # and runs the client's first-use code.
    await asyncio.gather(*(call() for _ in range(concurrency)), return_exceptions=True)
    if warmup > 0:
        await load(call, concurrency, time.monotonic() + warmup, None)
    window = Window(duration)
    # loop.time() is time.monotonic(): the timer fires at the window's end.
    asyncio.get_running_loop().call_at(window.end, window.close)
    await load(call, concurrency, window.end, window)
    # A worker may finish its last call a hair before the timer has fired.
    while window.ended is None:
        await asyncio.sleep(0.001)
    return window


def check_answer(status: int, value) -> None:
    if status != 200:
        raise RuntimeError(f"status {status}")
    if not isinstance(value, dict):
        raise RuntimeError(f"not a JSON object: {value!r:.80}")


async def run_httpx(args) -> Window:
    import httpx

    verify = ssl.create_default_context(cafile=args.ca) if args.ca else True
    # The library's default pool (100 connections, 20 kept alive): the bridge's client used it.
    async with httpx.AsyncClient(http1=True, http2=args.h2, verify=verify,
                                 headers={"accept": JSON}) as client:
        async def call() -> str:
            response = await client.get(args.url)
            check_answer(response.status_code, response.json())
            return response.http_version

        return await drive(call, args.concurrency, args.warmup, args.duration)


async def run_aiohttp(args) -> Window:
    import aiohttp

    ssl_context = ssl.create_default_context(cafile=args.ca) if args.ca else None
    connector = aiohttp.TCPConnector(ssl=ssl_context) if ssl_context else aiohttp.TCPConnector()
    async with aiohttp.ClientSession(connector=connector, headers={"accept": JSON}) as session:
        async def call() -> str:
            async with session.get(args.url) as response:
                check_answer(response.status, await response.json())
                return f"HTTP/{response.version.major}.{response.version.minor}"

        return await drive(call, args.concurrency, args.warmup, args.duration)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--client", choices=("httpx", "aiohttp"), required=True)
    parser.add_argument("--url", required=True, help="e.g. http://127.0.0.1:PORT/day-proof/7")
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--duration", type=float, default=10.0, help="measured seconds")
    parser.add_argument("--warmup", type=float, default=0.0,
                        help="seconds of load before the window, after the first call of every task")
    parser.add_argument("--h2", action="store_true", help="HTTP/2 (httpx only)")
    parser.add_argument("--ca", help="CA certificates (PEM) to verify an https server against")
    parser.add_argument("--scenario", default="rest", help="the scenario name to print")
    args = parser.parse_args(argv)
    if args.h2 and args.client != "httpx":
        parser.error("--h2: aiohttp speaks HTTP/1.1 only")
    if args.concurrency < 1 or args.duration <= 0 or args.warmup < 0:
        parser.error("--concurrency must be ≥ 1, --duration > 0, --warmup ≥ 0")

    window = asyncio.run((run_httpx if args.client == "httpx" else run_aiohttp)(args))
    latencies = sorted(window.latencies_ns)
    fields = {
        "client": args.client, "scenario": args.scenario, "concurrency": args.concurrency,
        "calls": window.calls, "events": window.calls, "errors": window.errors,
        "seconds": f"{window.ended - window.start:.3f}",
        "p50_us": f"{percentile(latencies, 0.50) / 1000:.3f}",
        "p99_us": f"{percentile(latencies, 0.99) / 1000:.3f}",
        "cpu_us": f"{(window.end_cpu - window.start_cpu) * 1e6:.0f}",
        "http": ",".join(sorted(window.versions)) or "none",
    }
    if window.first_errors:
        print(f"{args.client}: {window.errors} calls failed; first errors: "
              + " | ".join(window.first_errors), file=sys.stderr)
    print("RESULT " + " ".join(f"{key}={value}" for key, value in fields.items()), flush=True)
    if args.h2 and "HTTP/2" not in window.versions:
        print(f"{args.client}: asked for HTTP/2 but the answers came in {fields['http']}", file=sys.stderr)
        return 1
    return 0 if window.errors == 0 and window.calls > 0 else 1


if __name__ == "__main__":
    sys.exit(main())
