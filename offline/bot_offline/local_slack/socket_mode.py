"""Slack's side of Socket Mode, locally: the WebSocket the bot connects to.

The bot asks `apps.connections.open` (with its app-level token) for a URL; the local Slack
answers with this endpoint's `ws://127.0.0.1:PORT/link/?ticket=…`. Once connected it sends
`hello`, then envelopes (`slash_commands`, `interactive`, `events_api`) as Slack does, and
waits, as Slack does, at most three seconds for each envelope's acknowledgement (the
`envelope_id` back, with the response payload when the envelope accepts one).
`SocketModeSlackClient` sends the very requests `SignedSlackClient` builds, as envelopes,
so a test drives the bot over Socket Mode exactly as it does over HTTP.
"""

from __future__ import annotations

import itertools
import json
import threading
import time
from typing import Any, Unpack
from urllib.parse import parse_qsl

from websockets.exceptions import ConnectionClosed
from websockets.sync.server import Server, ServerConnection, serve

from bot_offline.local_slack.signed_client import API_APP_ID, SendOptions, SignedResponse, SignedSlackClient

JsonDict = dict[str, Any]
ACK_SECONDS = 3.0  # Slack's deadline for an acknowledgement


class NoAcknowledgement(AssertionError):
    """The bot did not acknowledge an envelope within Slack's three seconds."""


class SocketModeEndpoint:
    """A WebSocket server speaking Slack's Socket Mode protocol to one app."""

    def __init__(self, app_id: str = API_APP_ID) -> None:
        self.app_id = app_id
        self._ids = itertools.count(1)
        self._ready = threading.Condition()
        self._connections: list[ServerConnection] = []
        self._acks: dict[str, JsonDict] = {}
        self.envelopes: list[JsonDict] = []  # every envelope sent, in order
        self._server: Server = serve(self._handle, "127.0.0.1", 0)
        self._thread = threading.Thread(
            target=self._server.serve_forever, name="local-socket-mode", daemon=True
        )
        self._thread.start()

    @property
    def port(self) -> int:
        return int(self._server.socket.getsockname()[1])

    def new_url(self) -> str:
        """A URL for `apps.connections.open` to hand out (one ticket each, as Slack's)."""
        return f"ws://127.0.0.1:{self.port}/link/?ticket=local-{next(self._ids)}&app_id={self.app_id}"

    def _handle(self, connection: ServerConnection) -> None:
        hello = {
            "type": "hello",
            "num_connections": 1,
            "debug_info": {"host": "local-socket-mode", "approximate_connection_time": 3600},
            "connection_info": {"app_id": self.app_id},
        }
        connection.send(json.dumps(hello))
        with self._ready:
            self._connections.append(connection)
            self._ready.notify_all()
        try:
            for message in connection:
                try:
                    answer = json.loads(message)
                except ValueError:
                    continue
                envelope_id = answer.get("envelope_id") if isinstance(answer, dict) else None
                if envelope_id:
                    with self._ready:
                        self._acks[str(envelope_id)] = answer
                        self._ready.notify_all()
        except ConnectionClosed:
            pass
        finally:
            with self._ready:
                if connection in self._connections:
                    self._connections.remove(connection)
                self._ready.notify_all()

    @property
    def connected(self) -> int:
        with self._ready:
            return len(self._connections)

    def wait_connected(self, timeout: float = 30.0) -> None:
        with self._ready:
            if not self._ready.wait_for(lambda: bool(self._connections), timeout):
                raise AssertionError("the bot did not connect in Socket Mode")

    def send(self, kind: str, payload: JsonDict, *, accepts_response_payload: bool) -> JsonDict:
        """Send one envelope and return its acknowledgement (raises NoAcknowledgement)."""
        envelope_id = f"local-envelope-{next(self._ids)}"
        envelope = {
            "envelope_id": envelope_id,
            "type": kind,
            "payload": payload,
            "accepts_response_payload": accepts_response_payload,
            "retry_attempt": 0,
            "retry_reason": "",
        }
        self.wait_connected()
        with self._ready:
            connection = self._connections[-1]
            self.envelopes.append(envelope)
        sent = time.monotonic()
        connection.send(json.dumps(envelope))
        with self._ready:
            if not self._ready.wait_for(lambda: envelope_id in self._acks, ACK_SECONDS):
                raise NoAcknowledgement(f"{kind} not acknowledged within {ACK_SECONDS:.0f} s")
            ack = self._acks.pop(envelope_id)
        ack["_seconds"] = round(time.monotonic() - sent, 3)
        return ack

    def close(self) -> None:
        """Close every connection (as Slack does when it ends one) and stop listening."""
        with self._ready:
            connections = list(self._connections)
        for connection in connections:
            connection.close()
        self._server.shutdown()
        self._thread.join(timeout=5)


class SocketModeSlackClient(SignedSlackClient):
    """`SignedSlackClient`'s requests, sent as Socket Mode envelopes instead of HTTP posts.

    A slash command goes as `slash_commands`, a button or form as `interactive`, an event
    as `events_api`. The answer is the acknowledgement's payload, as a 200 response with
    that body, so a test reads it the same way over either transport."""

    def __init__(self, endpoint: SocketModeEndpoint, local_slack: Any, team_id: str = "T0LOCAL") -> None:
        super().__init__("socket-mode", "", local_slack, team_id)
        self.endpoint = endpoint
        self.ack_seconds: list[float] = []  # how long each acknowledgement took

    def post_raw(self, body: str, content_type: str, **options: Unpack[SendOptions]) -> SignedResponse:
        if content_type == "application/json":
            payload = json.loads(body)
            ack = self.endpoint.send("events_api", payload, accepts_response_payload=False)
        else:
            fields = dict(parse_qsl(body, keep_blank_values=True))
            if "payload" in fields:
                payload = json.loads(fields["payload"])
                accepts = payload.get("type") in ("view_submission", "view_closed")
                ack = self.endpoint.send("interactive", payload, accepts_response_payload=accepts)
            else:
                ack = self.endpoint.send("slash_commands", fields, accepts_response_payload=True)
        self.ack_seconds.append(float(ack["_seconds"]))
        answer = ack.get("payload")
        return SignedResponse(
            status=200,
            headers={"X-Acknowledged-In": str(ack["_seconds"])},
            body=json.dumps(answer) if answer else "",
        )
