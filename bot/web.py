"""HTTP mode: one Flask WSGI app serves Slack's requests at POST /slack/events (through
Bolt's Flask adapter), the health checks for the balancer (`bot.health`: /healthz/live,
/healthz/ready and /healthz) and, when the server has them, the partner pages and the
administrators' desk (`bot.partners.site`).

A request to /slack/events is checked here before Bolt sees it: its signature strictly
(`bot.slack.signature`), then its body's shape. An unverified request gets 401 with a fixed
body, and a verified one whose body is not what Slack sends (a `payload` that is not a JSON
object, a JSON body that is not an object) gets 400: either way with one log line naming
the reason and nothing of the request, before any listener, middleware or error handler
runs, so nothing reaches Slack. Bolt then checks the signature again, as a second line.
The endpoint is exempt from the pages' CSRF check (Slack signs its requests instead).
"""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Callable
from typing import Any
from urllib.parse import parse_qs

from flask import Blueprint, Flask, Request, Response, request
from slack_bolt import App
from slack_bolt.adapter.flask import SlackRequestHandler
from slack_bolt.adapter.flask.handler import to_bolt_request, to_flask_response
from sqlalchemy.engine import Engine

from bot.health import LIVE_PATH, READY_PATHS, Readiness
from bot.runtime import AcknowledgementsFirst
from bot.slack.signature import SlackSignature

log = logging.getLogger(__name__)

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


def _plain(status: int, body: bytes) -> Response:
    return Response(body, status=status, mimetype="text/plain")


class CheckedSlackHandler(SlackRequestHandler):
    """Bolt's Flask adapter behind the strict checks (see the module's docstring).

    Given `acknowledgements`, each Slack request counts as being answered until Bolt
    returns its acknowledgement, and delivery holds back meanwhile."""

    def __init__(
        self,
        app: App,
        acknowledgements: AcknowledgementsFirst | None = None,
        *,
        signing_secret: str | None = None,
        wall_clock: Callable[[], float] | None = None,
    ) -> None:
        super().__init__(app)
        self._acknowledgements = acknowledgements
        secret = signing_secret if signing_secret is not None else (app._signing_secret or "")
        self._signature = SlackSignature(secret, wall_clock) if wall_clock else SlackSignature(secret)

    def handle(self, req: Request) -> Response:
        if req.method != "POST":
            return super().handle(req)
        length = req.content_length
        if (length is None and req.headers.get("Content-Length")) or (length or 0) > MAX_BODY_BYTES:
            log.warning("refused a request to %s: no usable length, or too long", EVENTS_PATH)
            return _plain(413, MALFORMED)
        req.max_content_length = MAX_BODY_BYTES  # the pages' smaller limit is for their forms
        body = req.get_data(cache=True)
        problem = self._signature.problem(
            req.headers.get("X-Slack-Request-Timestamp"), req.headers.get("X-Slack-Signature"), body
        )
        if problem:
            log.warning("refused an unverified request to %s: %s", EVENTS_PATH, problem)
            return _plain(401, UNVERIFIED)
        problem = body_problem(req.content_type or "", body)
        if problem:
            log.warning("refused a malformed Slack request: %s", problem)
            return _plain(400, MALFORMED)
        try:
            bolt_request = to_bolt_request(req)
        except Exception as error:  # a shape Bolt cannot read: still not Slack's
            log.warning("refused a Slack request Bolt could not read: %s", type(error).__name__)
            return _plain(400, MALFORMED)
        if self._acknowledgements is None:
            return to_flask_response(self.app.dispatch(bolt_request))
        with self._acknowledgements.answering():
            answer = self.app.dispatch(bolt_request)
        return to_flask_response(answer)


def build_web_app(
    app: App,
    engine: Engine,
    acknowledgements: AcknowledgementsFirst | None = None,
    *,
    signing_secret: str | None = None,
    wall_clock: Callable[[], float] | None = None,
    readiness: Readiness | None = None,
    site: Flask | None = None,
) -> Flask:
    """The one WSGI app: Slack's endpoint and the health checks, on `site` (the partner
    pages, with their security headers) or, without one, on a Flask app of their own.
    `readiness` defaults to the database checks alone; the bot's servers give
    `bot.health.readiness_for(runtime)`."""
    from bot.partners.site import security_headers

    web = site
    if web is None:
        web = Flask(__name__)
        web.after_request(security_headers)
    checks = readiness or Readiness(engine)
    slack = CheckedSlackHandler(app, acknowledgements, signing_secret=signing_secret, wall_clock=wall_clock)
    endpoints = Blueprint("bot", __name__)

    @endpoints.route(EVENTS_PATH, methods=["POST"])
    def slack_events() -> Response:
        return slack.handle(request)

    def health() -> Response:
        report: dict[str, Any] = {"ok": True} if request.path == LIVE_PATH else checks.report()
        status = 200 if report["ok"] else 503
        answer = Response(json.dumps(report), status=status, mimetype="application/json")
        answer.headers["Cache-Control"] = "no-store"
        return answer

    for path in (LIVE_PATH, *sorted(READY_PATHS)):
        endpoints.add_url_rule(path, f"health{path.replace('/', '_')}", health, methods=["GET"])
    csrf = web.extensions.get("csrf")
    if csrf is not None:
        csrf.exempt(endpoints)
    web.register_blueprint(endpoints)
    return web


class BotHttpServer:
    """The WSGI app on waitress, in a background thread (tests, the demo) or in front."""

    def __init__(self, wsgi_app: Flask, host: str = "127.0.0.1", port: int = 0, threads: int = 8) -> None:
        from waitress.server import create_server

        self.app = wsgi_app
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
