"""Driving `/strategy new` and the invitations as Slack would, for the convening tests."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from sqlmodel import Session, select

from bot.convening.models import Invitation, InvitationMessage, Meeting
from bot.partnership.models import Agency
from bot_offline.driver import (
    SAMPLE_CHAIR,
    SAMPLE_CHILD_NAME,
    OfflineBot,
    open_strategy_form,
    strategy_form_values,
)
from bot_offline.local_slack.signed_client import StateValue

SOCIAL_WORKER = "U0CSC001"
CHAIR = SAMPLE_CHAIR
CHILD_NAME = SAMPLE_CHILD_NAME
POLICE_PPU = "U0PPU001"
POLICE_PPU_2 = "U0PPU002"
HEALTH = "U0HLT001"
LOCATE = "U0LOC001"


def form_values(**overrides: Any) -> dict[str, dict[str, Any]]:
    """A complete, valid `/strategy new` submission; override any field by block id."""
    return strategy_form_values(**overrides)


def at(year: int, month: int, day: int, hour: int, minute: int = 0) -> int:
    """Epoch seconds for a UTC time, as a datetimepicker gives them."""
    return int(datetime(year, month, day, hour, minute, tzinfo=UTC).timestamp())


def open_form(bot: OfflineBot, user_id: str = SOCIAL_WORKER, text: str = "CS-1234567") -> dict[str, Any]:
    """Type `/strategy new` and return the modal Slack was asked to open."""
    return open_strategy_form(bot, user_id, text)


def prefilled(view: dict[str, Any], block_id: str) -> Any:
    """The value a form was opened with for one input (as a person leaving it would send it)."""
    block = next(b for b in view["blocks"] if b.get("block_id") == block_id)
    element = block["element"]
    return element.get("initial_date_time") or element.get("initial_date") or element.get("initial_value")


def submit(bot: OfflineBot, view: dict[str, Any], user_id: str = SOCIAL_WORKER, **overrides: Any):
    """Send the form with the sample values; the referral time is left as the form offered
    it (the moment it was opened), unless a test gives one."""
    if "referred_at" not in overrides and any(b.get("block_id") == "referred_at" for b in view["blocks"]):
        overrides["referred_at"] = StateValue.datetimepicker(prefilled(view, "referred_at"))
    return bot.slack.view_submission(user_id, view, values=form_values(**overrides))


def wait_until(predicate: Callable[[], Any], timeout: float = 10.0) -> Any:
    """Poll until the predicate gives something truthy: work after an ack is asynchronous."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        result = predicate()
        if result:
            return result
        time.sleep(0.02)
    raise AssertionError("condition not met in time")


def meeting_count(bot: OfflineBot) -> int:
    with Session(bot.runtime.engine) as session:
        return len(session.exec(select(Meeting.id)).all())


def convene(bot: OfflineBot, **overrides: Any) -> Meeting:
    """Convene through Slack and wait until every invitation is delivered."""
    before = meeting_count(bot)
    view = open_form(bot)
    response = submit(bot, view, **overrides)
    assert response.status == 200
    assert response.body in ("", "{}"), response.body
    settle(bot)
    assert meeting_count(bot) > before
    with Session(bot.runtime.engine) as session:
        return session.exec(select(Meeting).order_by(Meeting.id.desc())).first()  # type: ignore[union-attr]


def settle(bot: OfflineBot) -> None:
    """Finish the work after each ack, then deliver the outbox (as the scheduler would)."""
    bot.settle()


def invitation_for(bot: OfflineBot, meeting: Meeting, agency_code: str) -> Invitation:
    with Session(bot.runtime.engine) as session:
        return session.exec(
            select(Invitation)
            .join(Agency, Agency.id == Invitation.agency_id)
            .where(Invitation.meeting_id == meeting.id, Agency.code == agency_code)
        ).one()


def invitation_message_of(bot: OfflineBot, meeting: Meeting, agency_code: str) -> dict[str, Any]:
    """The invitation message a contact of that agency received."""
    invitation = invitation_for(bot, meeting, agency_code)
    with Session(bot.runtime.engine) as session:
        row = session.exec(
            select(InvitationMessage).where(InvitationMessage.invitation_id == invitation.id)
        ).first()
    assert row is not None and row.ts
    message = next(m for m in bot.local_slack.messages(row.channel) if m["ts"] == row.ts)
    return {**message, "channel": row.channel}


def click(bot: OfflineBot, user_id: str, action_id: str, value: str, message: dict[str, Any] | None = None):
    return bot.slack.block_actions(
        user_id,
        [{"action_id": action_id, "block_id": "invitation_answer", "value": value, "type": "button"}],
        message=message,
        channel_id=(message or {}).get("channel"),
    )


def status_text(bot: OfflineBot, meeting_id: int) -> str:
    with Session(bot.runtime.engine) as session:
        meeting = session.get(Meeting, meeting_id)
        assert meeting is not None and meeting.channel_id and meeting.status_message_ts
        channel, ts = meeting.channel_id, meeting.status_message_ts
    message = next(m for m in bot.local_slack.messages(channel) if m["ts"] == ts)
    return json.dumps(message["blocks"])


def all_slack_text(bot: OfflineBot) -> str:
    """Everything the bot sent to Slack except file contents, as one string."""
    return "\n".join(json.dumps(c.args, default=str) for c in bot.local_slack.calls if c.method != "upload")
