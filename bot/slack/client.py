"""A Web API client that waits out rate limits and retries passing server faults."""

from __future__ import annotations

from slack_sdk import WebClient
from slack_sdk.http_retry.builtin_handlers import (
    ConnectionErrorRetryHandler,
    RateLimitErrorRetryHandler,
    ServerErrorRetryHandler,
)


def make_web_client(token: str, base_url: str, *, timeout: int = 10) -> WebClient:
    """A client for `base_url` (Slack's, or a local Slack-compatible server in tests).

    429 answers are retried after the `Retry-After` Slack gives; 500s and dropped
    connections a couple of times. What still fails is left to the outbox to retry later.
    """
    client = WebClient(token=token, base_url=base_url, timeout=timeout)
    client.retry_handlers = [
        ConnectionErrorRetryHandler(max_retry_count=2),
        RateLimitErrorRetryHandler(max_retry_count=5),
        ServerErrorRetryHandler(max_retry_count=2),
    ]
    return client
