"""A local stand-in for GOV.UK Notify's e-mail API, for tests and the demo (as the local
Slack is for Slack): it checks each request's JWT as Notify does (HS256, the service id as
issuer, a fresh `iat`, signed with the key's secret) and keeps what it accepted."""

from __future__ import annotations

import json
import threading
import time
import uuid
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import jwt

SERVICE_ID = "11111111-2222-3333-4444-555555555555"
SECRET = "66666666-7777-8888-9999-000000000000"
API_KEY = f"local-{SERVICE_ID}-{SECRET}"
TEMPLATE_ID = "aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee"


@dataclass
class LocalNotify:
    """Start with `with LocalNotify() as notify:`; `notify.base_url`, `notify.emails`."""

    emails: list[dict[str, Any]] = field(default_factory=list)
    # Answer the next N requests with this status instead (to test retries).
    fail_next: list[int] = field(default_factory=list)

    def __post_init__(self) -> None:
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def __enter__(self) -> LocalNotify:
        self._thread.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        notify = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *_args: object) -> None:  # quiet
                pass

            def _answer(self, status: int, body: Any) -> None:
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def do_GET(self) -> None:
                """`/_sent`: what the stand-in accepted (for the demo; Notify has no such page)."""
                if self.path == "/_sent":
                    self._answer(200, notify.emails)
                else:
                    self._answer(404, {"status_code": 404})

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = json.loads(self.rfile.read(length) or b"{}")
                problem = _auth_problem(self.headers.get("Authorization", ""))
                if problem:
                    self._answer(
                        403, {"errors": [{"error": "AuthError", "message": problem}], "status_code": 403}
                    )
                    return
                if notify.fail_next:
                    status = notify.fail_next.pop(0)
                    self._answer(
                        status,
                        {"errors": [{"error": "Error", "message": "told to fail"}], "status_code": status},
                    )
                    return
                if self.path != "/v2/notifications/email":
                    self._answer(
                        404,
                        {"errors": [{"error": "NotFound", "message": "no such path"}], "status_code": 404},
                    )
                    return
                if body.get("template_id") != TEMPLATE_ID or "@" not in str(body.get("email_address", "")):
                    self._answer(
                        400,
                        {
                            "errors": [{"error": "BadRequestError", "message": "bad request"}],
                            "status_code": 400,
                        },
                    )
                    return
                notification = {"id": str(uuid.uuid4()), "reference": body.get("reference"), **body}
                notify.emails.append(notification)
                self._answer(
                    201, {"id": notification["id"], "reference": body.get("reference"), "content": {}}
                )

        return Handler


def _auth_problem(header: str) -> str:
    if not header.startswith("Bearer "):
        return "no bearer token"
    try:
        claims = jwt.decode(header[7:], SECRET, algorithms=["HS256"], options={"require": ["iss", "iat"]})
    except jwt.PyJWTError as error:
        return f"invalid token: {type(error).__name__}"
    if claims.get("iss") != SERVICE_ID:
        return "wrong service"
    if abs(time.time() - int(claims["iat"])) > 30:
        return "token expired"
    return ""
