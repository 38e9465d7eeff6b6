"""A Web API client that waits out rate limits and retries passing server faults."""

from __future__ import annotations

import random

from slack_sdk import WebClient
from slack_sdk.http_retry.builtin_handlers import (
    ConnectionErrorRetryHandler,
    RateLimitErrorRetryHandler,
    ServerErrorRetryHandler,
)
from slack_sdk.http_retry.builtin_interval_calculators import BackoffRetryIntervalCalculator
from slack_sdk.http_retry.interval_calculator import RetryIntervalCalculator
from slack_sdk.http_retry.jitter import Jitter


class _ProportionalJitter(Jitter):
    """Up to half the wait again at random (slack_sdk's default adds up to a whole second)."""

    def recalculate(self, duration: float) -> float:
        return duration * (1 + random.random() / 2)


def make_web_client(
    token: str, base_url: str, *, timeout: int = 10, retry_backoff: float | None = None
) -> WebClient:
    """A client for `base_url` (Slack's, or a local Slack-compatible server in tests).

    429 answers are retried after the `Retry-After` Slack gives; 500s and dropped
    connections a couple of times, with slack_sdk's backoff (half a second, doubling, plus
    up to a second at random), or from `retry_backoff` seconds with a proportional jitter
    (a local server that answers at once). What still fails is left to the outbox to retry
    later.
    """
    client = WebClient(token=token, base_url=base_url, timeout=timeout)
    backoff: RetryIntervalCalculator = (
        BackoffRetryIntervalCalculator()
        if retry_backoff is None
        else BackoffRetryIntervalCalculator(backoff_factor=retry_backoff, jitter=_ProportionalJitter())
    )
    client.retry_handlers = [
        ConnectionErrorRetryHandler(max_retry_count=2, interval_calculator=backoff),
        RateLimitErrorRetryHandler(max_retry_count=5),
        ServerErrorRetryHandler(max_retry_count=2, interval_calculator=backoff),
    ]
    return client
