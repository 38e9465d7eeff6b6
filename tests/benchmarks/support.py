"""What the benchmarks share: prepared signed requests, the bare Bolt baseline, figures."""

from __future__ import annotations

import logging
import math
import os
import platform
import sys
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Unpack

import psycopg
from psycopg import sql
from slack_bolt import Ack, App
from slack_sdk import WebClient
from sqlalchemy import create_engine

from bot.web import BotHttpServer, build_web_app
from bot_offline.local_slack import LocalSlack, SendOptions, SignedResponse, SignedSlackClient, sign
from tests.benchmarks.load import PreparedRequest

# The PostgreSQL server for scratch databases; used only to create and drop them.
BENCH_PG_URL = os.environ.get("BENCH_PG_URL", "postgresql://postgres@127.0.0.1:5432/test")


@contextmanager
def scratch_postgres(server_url: str, prefix: str) -> Iterator[str]:
    """A new, empty database `<prefix>_<pid>` on the server, dropped afterwards whatever
    happens (install a SIGTERM handler that raises, so a stopped run unwinds too)."""
    name = f"{prefix}_{os.getpid()}"
    with psycopg.connect(server_url, autocommit=True) as admin:
        admin.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))
        admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    try:
        yield server_url.rsplit("/", 1)[0] + "/" + name
    finally:
        with psycopg.connect(server_url, autocommit=True) as admin:
            admin.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))
        print(f"dropped the scratch database {name}")


def quiet_logs() -> None:
    """Warnings and errors only, so the figures are readable."""
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    for name in ("bot", "slack_bolt", "slack_sdk", "apscheduler", "waitress"):
        logging.getLogger(name).setLevel(logging.WARNING)
    # Under 50 clients every waitress thread is busy by design; it warns about each queued request.
    logging.getLogger("waitress.queue").setLevel(logging.ERROR)


class RequestRecorder(SignedSlackClient):
    """Builds and signs requests exactly as `SignedSlackClient` does, but keeps them
    (body and headers) instead of sending them, so another process can send them."""

    def __init__(self, signing_secret: str, local_slack: LocalSlack) -> None:
        super().__init__("http://unused.invalid/slack/events", signing_secret, local_slack)
        self.prepared: list[PreparedRequest] = []

    def post_raw(self, body: str, content_type: str, **options: Unpack[SendOptions]) -> SignedResponse:
        timestamp = str(int(time.time()))
        headers = {
            "Content-Type": content_type,
            "X-Slack-Request-Timestamp": timestamp,
            "X-Slack-Signature": sign(self.signing_secret, timestamp, body),
        }
        self.prepared.append((body.encode("utf-8"), headers))
        return SignedResponse(status=0)

    def take(self) -> list[PreparedRequest]:
        prepared, self.prepared = self.prepared, []
        return prepared


def bare_web_app(signing_secret: str, bot_token: str, api_url: str, executor: ThreadPoolExecutor) -> Any:
    """A Bolt app configured like the bot's whose listeners only `ack()`, in the bot's own
    WSGI app (the same strict signature check in front; /healthz on an in-memory database)."""
    app = App(
        client=WebClient(token=bot_token, base_url=api_url, timeout=5),
        signing_secret=signing_secret,
        request_verification_enabled=True,
        token_verification_enabled=False,
        raise_error_for_unhandled_request=False,
        ignoring_self_events_enabled=True,
        logger=logging.getLogger("bench.bare_bolt"),
        listener_executor=executor,
    )

    def only_ack(ack: Ack) -> None:
        ack()

    app.command("/strategy")(only_ack)
    app.view("strategy_new")(only_ack)
    return build_web_app(app, create_engine("sqlite://"), signing_secret=signing_secret)


class BareBoltServer:
    """The baseline: a Bolt app configured like the bot's whose listeners only `ack()`,
    behind the bot's own WSGI app and waitress server (same threads, same signing)."""

    def __init__(self, signing_secret: str, bot_token: str, api_url: str, listener_workers: int = 8) -> None:
        self.executor = ThreadPoolExecutor(max_workers=listener_workers, thread_name_prefix="bare-listener")
        self.web_app = bare_web_app(signing_secret, bot_token, api_url, self.executor)
        self.server = BotHttpServer(self.web_app)

    def __enter__(self) -> BareBoltServer:
        self.server.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.server.stop()
        self.executor.shutdown(wait=True)

    @property
    def events_url(self) -> str:
        return self.server.events_url


def percentile(values: list[float], fraction: float) -> float:
    """The nearest-rank percentile (p99 of 300 samples is the 297th smallest)."""
    ordered = sorted(values)
    rank = max(1, math.ceil(fraction * len(ordered)))
    return ordered[rank - 1]


def machine() -> str:
    cpu = "unknown CPU"
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.exists():
        for line in cpuinfo.read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    return f"{os.cpu_count()} CPUs ({cpu}), Python {platform.python_version()}, {platform.system()}"


def table(headers: list[str], rows: list[list[Any]]) -> str:
    """A Markdown table, so the figures paste straight into the README."""
    cells = [[str(c) for c in row] for row in rows]
    widths = [max(len(h), *(len(r[i]) for r in cells)) for i, h in enumerate(headers)]
    line = "| " + " | ".join(h.ljust(w) for h, w in zip(headers, widths, strict=True)) + " |"
    rule = "| " + " | ".join("-" * w for w in widths) + " |"
    body = ["| " + " | ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)) + " |" for r in cells]
    return "\n".join([line, rule, *body])


def verdict(name: str, misses: list[str]) -> int:
    """Print the outcome; the exit status is 1 when any target was missed."""
    if misses:
        for miss in misses:
            print(f"TARGET MISSED ({name}): {miss}")
        return 1
    print(f"TARGET MET ({name})")
    sys.stdout.flush()
    return 0
