"""Answering the person where they are, and recording refusals: shared by every capability."""

from __future__ import annotations

from typing import Any

from slack_bolt import Respond
from slack_sdk import WebClient

from bot.audit.service import Actor, record
from bot.database import session_scope
from bot.runtime import Runtime


def tell(body: dict[str, Any], client: WebClient, text: str) -> None:
    """A private answer to whoever clicked: in place (response_url) or else by DM."""
    response_url = body.get("response_url")
    if response_url:
        Respond(response_url=response_url)(text=text, response_type="ephemeral", replace_original=False)
    else:
        client.chat_postMessage(channel=body["user"]["id"], text=text)


def audit_refusal(
    runtime: Runtime, actor: Actor, act: str, record_id: str | int, reason: str, *, request: str = ""
) -> None:
    """Refusals are part of the record, written on their own so nothing else is kept."""
    details = {"reason": reason, "request": request} if request else {"reason": reason}
    with session_scope(runtime.engine) as session:
        record(
            session,
            at=runtime.clock.now(),
            actor=actor,
            act=act,
            record_type="refusal",
            record_id=record_id,
            details=details,
        )
