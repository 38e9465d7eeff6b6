"""HTTP mode: every Slack request at POST /slack/events, and the health checks for the
balancer (`bot.health`: /healthz/live, /healthz/ready and /healthz).

A request to /slack/events is checked here before Bolt sees it: its signature strictly
(`bot.slack.signature`), then its body's shape. An unverified request gets 401 with a fixed
body, and a verified one whose body is not what Slack sends (a `payload` that is not a JSON
object, a JSON body that is not an object) gets 400: either way with one log line naming
the reason and nothing of the request, before any listener, middleware or error handler
runs, so nothing reaches Slack. Bolt then checks the signature again, as a second line.

Every other path goes to the partner pages and the administrators' desk (`site`, a Flask
app from `bot.partners.site`), when the server has one: one WSGI app serves both.
"""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Callable, Iterable
from typing import Any
from urllib.parse import parse_qs

from slack_bolt import App, BoltRequest
from slack_bolt.adapter.wsgi.http_response import WsgiHttpResponse
from sqlalchemy.engine import Engine

from bot.health import HEALTH_PATHS, HealthEndpoints, Readiness
from bot.runtime import AcknowledgementsFirst
from bot.slack.signature import SlackSignature

log = logging.getLogger(__name__)

StartResponse = Callable[..., Any]
EVENTS_PATH = "/slack/events"
# Slack's largest requests (a big form's state) are well under this; more is not Slack.
MAX_BODY_BYTES = 1_000_000
UNVERIFIED = b"invalid request signature\n"
MALFORMED = b"bad request\n"
FORM = "application/x-www-form-urlencoded"


def body_problem(content_type: str, body: bytes) -> str:
    """Why a verified body is not one Slack sends (read as Bolt will read it); "" if fine."""
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        return "the body is not UTF-8"
    kind = content_type.split(";")[0].strip().lower()
    if kind == "application/json" or text.startswith("{"):
        try:
            parsed = json.loads(text)
        except ValueError:
            return "the JSON body does not parse"
        return "" if isinstance(parsed, dict) else "the JSON body is not an object"
    if kind != FORM:
        return "the content type is neither a form nor JSON"
    form = parse_qs(text, keep_blank_values=True)
    if "payload" in text:
        payload = form.get("payload")
        if not payload:
            return "the form has no payload field"
        try:
            parsed = json.loads(payload[0])
        except ValueError:
            return "the payload does not parse as JSON"
        if not isinstance(parsed, dict):
            return "the payload is not a JSON object"
    return ""


def _plain(start_response: StartResponse, status: str, body: bytes) -> Iterable[bytes]:
    start_response(
        status, [("Content-Type", "text/plain; charset=utf-8"), ("Content-Length", str(len(body)))]
    )
    return [body]


class BotWsgiApp:
    """A WSGI application: strict checks, then Bolt, for Slack's requests; the health checks.

    Given `acknowledgements`, each Slack request counts as being answered until Bolt
    returns its acknowledgement, and delivery holds back meanwhile. `readiness` defaults to
    the database checks alone; the bot's servers give `bot.health.readiness_for(runtime)`."""

    def __init__(
        self,
        app: App,
        engine: Engine,
        acknowledgements: AcknowledgementsFirst | None = None,
        *,
        signing_secret: str | None = None,
        wall_clock: Callable[[], float] | None = None,
        readiness: Readiness | None = None,
        site: Callable[..., Iterable[bytes]] | None = None,
    ) -> None:
        self._app = app
        self._site = site
        self._health = HealthEndpoints(readiness or Readiness(engine))
        self._acknowledgements = acknowledgements
        secret = signing_secret if signing_secret is not None else (app._signing_secret or "")
        self._signature = SlackSignature(secret, wall_clock) if wall_clock else SlackSignature(secret)

    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        path, method = environ.get("PATH_INFO"), environ.get("REQUEST_METHOD")
        if path in HEALTH_PATHS and method == "GET":
            return self._health(environ, start_response)
        if path != EVENTS_PATH:
            if self._site is not None:
                return self._site(environ, start_response)
            return _plain(start_response, "404 Not Found", b"not found\n")
        if method != "POST":
            return _plain(start_response, "405 Method Not Allowed", b"method not allowed\n")
        return self._slack(environ, start_response)

    def _slack(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        length = str(environ.get("CONTENT_LENGTH") or "0")
        if not length.isdigit() or int(length) > MAX_BODY_BYTES:
            log.warning("refused a request to %s: no usable length, or too long", EVENTS_PATH)
            return _plain(start_response, "413 Content Too Large", MALFORMED)
        body = environ["wsgi.input"].read(int(length)) if int(length) else b""
        problem = self._signature.problem(
            environ.get("HTTP_X_SLACK_REQUEST_TIMESTAMP"), environ.get("HTTP_X_SLACK_SIGNATURE"), body
        )
        if problem:
            log.warning("refused an unverified request to %s: %s", EVENTS_PATH, problem)
            return _plain(start_response, "401 Unauthorized", UNVERIFIED)
        problem = body_problem(str(environ.get("CONTENT_TYPE") or ""), body)
        if problem:
            log.warning("refused a malformed Slack request: %s", problem)
            return _plain(start_response, "400 Bad Request", MALFORMED)
        headers = {
            key[5:].lower().replace("_", "-"): value
            for key, value in environ.items()
            if key.startswith("HTTP_")
        }
        headers["content-type"] = str(environ.get("CONTENT_TYPE") or "")
        try:
            request = BoltRequest(
                body=body.decode("utf-8"), query=environ.get("QUERY_STRING", ""), headers=headers
            )
        except Exception as error:  # a shape Bolt cannot read: still not Slack's
            log.warning("refused a Slack request Bolt could not read: %s", type(error).__name__)
            return _plain(start_response, "400 Bad Request", MALFORMED)
        if self._acknowledgements is None:
            answer = self._app.dispatch(request)
        else:
            with self._acknowledgements.answering():
                answer = self._app.dispatch(request)
        response = WsgiHttpResponse(status=answer.status, headers=answer.headers, body=answer.body)
        start_response(response.status, response.get_headers())
        return response.get_body()


class BotHttpServer:
    """The WSGI app on waitress, in a background thread (tests, the demo) or in front."""

    def __init__(
        self, wsgi_app: BotWsgiApp, host: str = "127.0.0.1", port: int = 0, threads: int = 8
    ) -> None:
        from waitress.server import create_server

        self._server = create_server(
            wsgi_app,
            host=host,
            port=port,
            threads=threads,
            ident="bot",
            max_request_body_size=MAX_BODY_BYTES,
        )
        # The I/O loop waits at most 50 ms, not waitress's whole second (its setting takes whole
        # seconds; the loop takes any), so `stop` returns at once rather than a second later.
        self._server.adj.asyncore_loop_timeout = 0.05
        self._thread: threading.Thread | None = None
        self._stopping = threading.Event()

    @property
    def port(self) -> int:
        return int(self._server.effective_port)

    @property
    def events_url(self) -> str:
        return f"http://127.0.0.1:{self.port}{EVENTS_PATH}"

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
        self._server.task_dispatcher.shutdown(timeout=5)
        if self._thread is not None:
            self._thread.join(timeout=5)
