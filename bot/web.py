"""HTTP mode: every Slack request at POST /slack/events, and GET /healthz for the balancer."""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Callable, Iterable
from typing import Any

from slack_bolt import App
from slack_bolt.adapter.wsgi import SlackRequestHandler
from sqlalchemy.engine import Engine

from bot.database import database_is_reachable
from bot.runtime import AcknowledgementsFirst

log = logging.getLogger(__name__)

StartResponse = Callable[..., Any]


class BotWsgiApp:
    """A WSGI application: Bolt for Slack's requests, a database check for health.

    Given `acknowledgements`, each Slack request counts as being answered until Bolt
    returns its acknowledgement, and delivery holds back meanwhile."""

    def __init__(
        self, app: App, engine: Engine, acknowledgements: AcknowledgementsFirst | None = None
    ) -> None:
        self._slack = SlackRequestHandler(app, path="/slack/events")
        self._engine = engine
        self._acknowledgements = acknowledgements

    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        if environ.get("PATH_INFO") == "/healthz" and environ.get("REQUEST_METHOD") == "GET":
            healthy = database_is_reachable(self._engine)
            body = json.dumps({"ok": healthy, "database": "up" if healthy else "down"}).encode()
            status = "200 OK" if healthy else "503 Service Unavailable"
            start_response(status, [("Content-Type", "application/json"), ("Content-Length", str(len(body)))])
            return [body]
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
