"""The load generator: signed requests fired at an endpoint from a separate process.

It imports only the standard library, so the process that runs it is light, and it runs
apart from the server under test so that the clients' own work does not share the
server's interpreter lock (Slack's requests come from another machine, after all).
"""

from __future__ import annotations

import threading
import time
import urllib.error
import urllib.request
from collections import Counter
from dataclasses import dataclass, field

PreparedRequest = tuple[bytes, dict[str, str]]


@dataclass
class LoadResult:
    """Per-request latencies in milliseconds, and what the server answered (status, body)."""

    latencies_ms: list[float] = field(default_factory=list)
    answers: Counter[tuple[int, str]] = field(default_factory=Counter)
    wall_seconds: float = 0.0


def _send(url: str, request: PreparedRequest, timeout: float) -> tuple[float, int, str]:
    body, headers = request
    http_request = urllib.request.Request(url, data=body, headers=headers, method="POST")
    started = time.perf_counter()
    try:
        with urllib.request.urlopen(http_request, timeout=timeout) as response:
            answer = response.read()
            status = response.status
    except urllib.error.HTTPError as error:
        answer = error.read()
        status = error.code
    elapsed = (time.perf_counter() - started) * 1000.0
    return elapsed, status, answer.decode("utf-8", "replace")[:120]


def fire(url: str, requests: list[PreparedRequest], concurrency: int, timeout: float = 30.0) -> LoadResult:
    """Send every request, `concurrency` at a time (each client sends its next request as
    soon as the previous one is answered); all clients start together."""
    result = LoadResult()
    lock = threading.Lock()
    queue = iter(requests)
    start_together = threading.Barrier(concurrency)

    def client() -> None:
        start_together.wait()
        while True:
            with lock:
                request = next(queue, None)
            if request is None:
                return
            elapsed, status, answer = _send(url, request, timeout)
            with lock:
                result.latencies_ms.append(elapsed)
                result.answers[(status, answer)] += 1

    threads = [threading.Thread(target=client, name=f"client-{n}") for n in range(concurrency)]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    result.wall_seconds = time.perf_counter() - started
    return result
