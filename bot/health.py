"""Liveness and readiness, for a load balancer, an orchestrator or the container's health check.

- `GET /healthz/live`: the process answers. Nothing else is asked, because restarting the
  process would not mend a database or Slack outage.
- `GET /healthz/ready`: this process can do its work: the database answers, its migrations
  are at head, Slack answers `auth.test` with the bot's token (the answer is kept for a short
  while, so probes do not become Slack traffic), and this process's scheduler is running.
  503 with the failing check named otherwise.
- `GET /healthz`: the same as ready, for balancers set up before the split.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from sqlalchemy.engine import Engine

from bot.database import database_is_reachable, migration_state

if TYPE_CHECKING:
    from bot.runtime import Runtime

LIVE_PATH = "/healthz/live"
READY_PATHS = frozenset({"/healthz/ready", "/healthz"})
HEALTH_PATHS = READY_PATHS | {LIVE_PATH}
# How long one auth.test answer stands for Slack's; and how long a probe waits for it.
SLACK_ANSWER_KEPT_SECONDS = 30.0
SLACK_PROBE_TIMEOUT_SECONDS = 3

StartResponse = Callable[..., Any]


class SlackProbe:
    """`auth.test` with the bot's token, asked at most once per `kept_for` seconds."""

    def __init__(
        self,
        client: WebClient,
        *,
        kept_for: float = SLACK_ANSWER_KEPT_SECONDS,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        # A client of its own: short timeout and no retries, so a probe answers quickly.
        self._client = WebClient(
            token=client.token, base_url=client.base_url, timeout=SLACK_PROBE_TIMEOUT_SECONDS
        )
        self._kept_for = kept_for
        self._monotonic = monotonic
        self._lock = threading.Lock()
        self._asked_at: float | None = None
        self._answer = ""

    def status(self) -> str:
        """Says "up", or what went wrong ("refused: invalid_auth", "unreachable: …")."""
        with self._lock:
            now = self._monotonic()
            if self._asked_at is None or now - self._asked_at >= self._kept_for:
                self._answer = self._ask()
                self._asked_at = self._monotonic()
            return self._answer

    def _ask(self) -> str:
        if not self._client.token:
            return "refused: no token (SLACK_BOT_TOKEN)"
        try:
            self._client.auth_test()
        except SlackApiError as error:
            return f"refused: {error.response.get('error', 'unknown error')}"
        except Exception as error:
            return f"unreachable: {type(error).__name__}"
        return "up"


@dataclass
class Readiness:
    """The checks behind /healthz/ready. `slack` and `scheduler` are left out when None
    (a tool that has neither); the bot's own server always gives both."""

    engine: Engine
    slack: SlackProbe | None = None
    scheduler_running: Callable[[], bool] | None = None
    _passing: dict[str, str] = field(
        default_factory=lambda: {
            "database": "up",
            "migrations": "at head",
            "slack": "up",
            "scheduler": "running",
        }
    )

    def report(self) -> dict[str, Any]:
        """Each check's state and `ok`, true only when every one passes."""
        checks: dict[str, str] = {}
        database_up = database_is_reachable(self.engine)
        checks["database"] = "up" if database_up else "down"
        checks["migrations"] = migration_state(self.engine) if database_up else "unknown"
        if self.slack is not None:
            checks["slack"] = self.slack.status()
        if self.scheduler_running is not None:
            checks["scheduler"] = "running" if self.scheduler_running() else "stopped"
        ok = all(self._passing[name] == state for name, state in checks.items())
        return {"ok": ok, **checks}


def readiness_for(runtime: Runtime) -> Readiness:
    """Every readiness check, for a process that serves Slack with `runtime`."""

    def scheduler_running() -> bool:
        scheduler = runtime.scheduler
        return scheduler is not None and scheduler.running

    return Readiness(runtime.engine, SlackProbe(runtime.client), scheduler_running)
