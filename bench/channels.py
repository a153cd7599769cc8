"""Cost of the outbound guard: guarded `integrations.http.request` vs plain requests.

    .venv/bin/python bench/channels.py [--requests 500]

Sends JSON POSTs to a local HTTP receiver (127.0.0.1, ephemeral port) first with a
plain `requests.post`, then through the guarded helper (resolve + check + connect to
the checked address, capped body read, a fresh session per call as deliveries use),
and prints requests/s and latency percentiles of each. Bounded by --requests.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "hcserver.settings")
os.environ.setdefault("SECRET_KEY", "bench-only")
os.environ["ALLOWED_TARGET_NETWORKS"] = "127.0.0.1/32"

import django  # noqa: E402

django.setup()

import requests  # noqa: E402

from integrations import http  # noqa: E402
from tests.servers import HttpReceiver  # noqa: E402

PAYLOAD = {"check": "backup", "status": "down", "text": "x" * 500}


def measure(label: str, send: Callable[[], None], count: int) -> None:
    latencies = []
    started = time.perf_counter()
    for _ in range(count):
        t0 = time.perf_counter()
        send()
        latencies.append((time.perf_counter() - t0) * 1000)
    elapsed = time.perf_counter() - started
    q = statistics.quantiles(latencies, n=100)
    print(
        f"{label:<28} {count / elapsed:8.0f} req/s   "
        f"p50 {q[49]:6.2f} ms   p99 {q[98]:6.2f} ms"
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--requests", type=int, default=500)
    args = parser.parse_args()
    receiver = HttpReceiver()
    receiver.start()
    try:
        url = f"{receiver.url}/hook"
        measure(
            "plain requests.post",
            lambda: requests.post(url, json=PAYLOAD, timeout=5).raise_for_status(),
            args.requests,
        )
        measure(
            "guarded http.request",
            lambda: http.request("POST", url, json=PAYLOAD),
            args.requests,
        )
    finally:
        receiver.stop()


if __name__ == "__main__":
    main()
