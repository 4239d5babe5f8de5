"""The reference REST conductor as the benchmarks run it: Scripts/reference_rest_conductor.py, with the
same options, but without hypercorn's limit of 1000 requests per connection.

hypercorn closes a connection after `keep_alive_max_requests` (1000) requests: over HTTP/1.1 with
`connection: close` on the 1000th answer; over h2 with a GOAWAY, after which it drops the streams still
in flight, so every client loses up to 16 calls per connection and reconnects (a TLS handshake each
time). At a few thousand calls/s that is a reconnect every second or so, which measures the clients'
recovery rather than their cost per call, so the benchmark server keeps its connections for good.
Run the reference conductor itself to see the clients meet the limit.

    .venv/bin/python Benchmarks/rest_bench_conductor.py [reference_rest_conductor.py options]
"""

import sys
from pathlib import Path

from hypercorn.config import Config

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "Scripts"))

import reference_rest_conductor  # noqa: E402 (needs Scripts/ on the path)

Config.keep_alive_max_requests = 2**62

if __name__ == "__main__":
    sys.exit(reference_rest_conductor.main())
