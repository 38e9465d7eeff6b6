"""HTTP mode: every Slack request at POST /slack/events, and the health checks (`bot.health`)."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterable
from typing import Any

from slack_bolt import App
from slack_bolt.adapter.wsgi import SlackRequestHandler
from sqlalchemy.engine import Engine

from bot.health import HEALTH_PATHS, HealthEndpoints, Readiness
from bot.runtime import AcknowledgementsFirst

log = logging.getLogger(__name__)

StartResponse = Callable[..., Any]


class BotWsgiApp:
    """A WSGI application: Bolt for Slack's requests, and the health checks.

    Given `acknowledgements`, each Slack request counts as being answered until Bolt
    returns its acknowledgement, and delivery holds back meanwhile. `readiness` defaults to
    the database checks alone; the bot's servers give `bot.health.readiness_for(runtime)`."""

    def __init__(
        self,
        app: App,
        engine: Engine,
        acknowledgements: AcknowledgementsFirst | None = None,
        *,
        readiness: Readiness | None = None,
    ) -> None:
        self._slack = SlackRequestHandler(app, path="/slack/events")
        self._health = HealthEndpoints(readiness or Readiness(engine))
        self._acknowledgements = acknowledgements

    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        if environ.get("REQUEST_METHOD") == "GET" and environ.get("PATH_INFO") in HEALTH_PATHS:
            return self._health(environ, start_response)
        if self._acknowledgements is None:
            return self._slack(environ, start_response)
        with self._acknowledgements.answering():
            return self._slack(environ, start_response)


class BotHttpServer:
    """The WSGI app on waitress, in a background thread (tests, the demo) or in front."""

    def __init__(
        self, wsgi_app: BotWsgiApp, host: str = "127.0.0.1", port: int = 0, threads: int = 8
    ) -> None:
        from waitress.server import create_server

        self._server = create_server(wsgi_app, host=host, port=port, threads=threads, ident="bot")
        # The I/O loop waits at most 50 ms, not waitress's whole second (its setting takes whole
        # seconds; the loop takes any), so `stop` returns at once rather than a second later.
        self._server.adj.asyncore_loop_timeout = 0.05
        self._thread: threading.Thread | None = None
        self._stopping = threading.Event()

    @property
    def port(self) -> int:
        return int(self._server.effective_port)  # type: ignore[union-attr]

    @property
    def events_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/slack/events"

    def serve_forever(self) -> None:
        self._server.run()

    def _run_until_stopped(self) -> None:
        try:
            self._server.run()
        except (OSError, ValueError):
            if not self._stopping.is_set():
                raise  # a real failure; closing the socket under the loop is not

    def start(self) -> BotHttpServer:
        self._thread = threading.Thread(target=self._run_until_stopped, name="bot-http", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop accepting, let requests in progress finish, then close."""
        self._stopping.set()
        self._server.close()
        self._server.task_dispatcher.shutdown(timeout=5)  # type: ignore[union-attr]
        if self._thread is not None:
            self._thread.join(timeout=5)
