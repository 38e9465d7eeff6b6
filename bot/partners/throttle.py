"""Rate limits for the partner pages: so many tries per client per window, in memory.

Each process counts its own requests (a sliding window per client address and bucket);
with several workers behind a balancer the limit is per worker, still bounding how fast
anyone can guess at links or codes (a link's MAC has 256 bits; a code is tried a few times
at most before it is used up)."""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable


class Throttle:
    """`allow(key)` is False once `limit` requests came from `key` in `window` seconds."""

    def __init__(self, limit: int, window: float, clock: Callable[[], float] = time.monotonic) -> None:
        self.limit, self.window, self._clock = limit, window, clock
        self._seen: dict[str, deque[float]] = {}
        self._lock = threading.Lock()

    def allow(self, key: str) -> bool:
        now = self._clock()
        with self._lock:
            if len(self._seen) > 10_000:  # forget quiet clients so the table stays small
                self._seen = {k: v for k, v in self._seen.items() if v and v[-1] > now - self.window}
            times = self._seen.setdefault(key, deque())
            while times and times[0] <= now - self.window:
                times.popleft()
            if len(times) >= self.limit:
                return False
            times.append(now)
            return True
