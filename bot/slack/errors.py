"""One place that turns an unexpected failure into a clear message and a logged error id."""

from __future__ import annotations

import logging
import uuid
from pathlib import Path
from typing import Any

from slack_bolt import App, BoltResponse
from slack_sdk import WebClient

from bot.wording import render_message

log = logging.getLogger("bot.errors")


def _user_id(body: dict[str, Any]) -> str | None:
    """The person behind a command, an interaction or an event."""
    user = body.get("user")
    if isinstance(user, dict):
        return user.get("id")
    event = body.get("event")
    if isinstance(event, dict) and isinstance(event.get("user"), str):
        return event["user"]
    return body.get("user_id")


def _channel_id(body: dict[str, Any]) -> str | None:
    """Where an ephemeral reply can go: the command's or interaction's channel, not events'."""
    if "event" in body:
        return None
    channel = body.get("channel")
    return body.get("channel_id") or (channel.get("id") if isinstance(channel, dict) else None)


def report_error(templates_dir: Path, error: Exception, body: dict[str, Any], client: WebClient) -> None:
    """Log the failure with an id; tell the person the id, never the details."""
    error_id = uuid.uuid4().hex[:8].upper()
    kind = body.get("type") or ("slash_command" if "command" in body else "unknown")
    log.error(
        "a listener failed",
        extra={"event": "listener.failed", "error_id": error_id, "request_kind": kind},
        exc_info=error,
    )
    text = render_message(templates_dir, "error.md.j2", error_id=error_id)
    user_id = _user_id(body)
    channel_id = _channel_id(body)
    try:
        if user_id and channel_id:
            client.chat_postEphemeral(channel=channel_id, user=user_id, text=text)
        elif user_id:
            client.chat_postMessage(channel=user_id, text=text)
    except Exception:
        log.warning(
            "could not tell the person about an error",
            extra={"event": "listener.failure_untold", "error_id": error_id},
        )


def install_error_handler(app: App, templates_dir: Path) -> None:
    """Every listener's unexpected failure goes to `report_error`."""

    @app.error
    def handle_error(error: Exception, body: dict[str, Any], client: WebClient) -> BoltResponse:
        report_error(templates_dir, error, body, client)
        return BoltResponse(status=200, body="")
