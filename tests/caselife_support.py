"""The case timeline's services on a real database (both engines) with a settable clock, and
no Slack: the runtime as the bot builds it, and a convening shortcut through the service."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any

from slack_sdk import WebClient
from sqlalchemy import event
from sqlalchemy.engine import Engine

from bot.audit.service import Actor
from bot.bootstrap import build_runtime
from bot.clock import SettableClock
from bot.convening.models import Meeting
from bot.convening.service import ConveneRequest, convene, validate
from bot.database import read_scope, session_scope
from bot.partnership.service import Member, member_by_slack_id
from bot.runtime import Runtime
from bot.settings import load_settings

SOCIAL_WORKER = "U0CSC001"
CHAIR = "U0CSC004"
OTHER_CHAIR = "U0CSC005"
EDT = "U0CSC007"
CHILD = "Jayden Okonkwo-Test"


def make_runtime(database_url: str, clock: SettableClock, tmp_path: Any) -> Runtime:
    settings = load_settings(
        database_url=database_url,
        documents_dir=tmp_path / "documents",
        slack_bot_token="xoxb-none",
        slack_api_url="http://127.0.0.1:9/",
    )
    return build_runtime(
        settings, clock=clock, client=WebClient(base_url="http://127.0.0.1:9/"), migrate=False
    )


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


@dataclass
class World:
    """A runtime, its clock, and the people of the sample partnership."""

    runtime: Runtime
    clock: SettableClock

    def member(self, slack_id: str) -> Member:
        # A read that never waits for a writer: helpers call it inside a write transaction.
        with read_scope(self.runtime.engine) as session:
            member = member_by_slack_id(session, slack_id)
        assert member is not None
        return member

    def actor(self, slack_id: str) -> Actor:
        return Actor(slack_id, "T1", self.member(slack_id).person_id)

    def request(self, **changes: Any) -> ConveneRequest:
        """A valid initial discussion for the sample child, as the form would give it."""
        now = self.clock.now()
        base = ConveneRequest(
            convenor=self.member(SOCIAL_WORKER),
            submission_key=f"key-{now.timestamp()}-{changes.get('start', '')}",
            case_reference="CS-1234567",
            child_name=CHILD,
            child_date_of_birth=None,
            reason="Found out of area with unexplained cash.",
            concerns=("county_lines",),
            right_help_right_time_level="complex_significant",
            urgency="urgent",
            start=now.replace(hour=14, minute=0, second=0, microsecond=0),
            late_reason="",
            format="call",
            chair_slack_id=CHAIR,
            referred_at=now,
            team_id="T1",
        )
        return replace(base, **changes)

    def problems(self, request: ConveneRequest) -> dict[str, str]:
        with read_scope(self.runtime.engine) as session:
            return validate(
                session,
                request,
                partnership=self.runtime.partnership,
                calendar=self.runtime.calendar,
                statutory=self.runtime.statutory_calendar,
                now=self.clock.now(),
            )

    def convene(self, **changes: Any) -> Meeting:
        request = self.request(**changes)
        problems = self.problems(request)
        assert problems == {}, problems
        with session_scope(self.runtime.engine) as session:
            result = convene(
                session,
                request,
                partnership=self.runtime.partnership,
                calendar=self.runtime.calendar,
                statutory=self.runtime.statutory_calendar,
                now=self.clock.now(),
            )
            return result.meeting

    def meeting(self, meeting_id: int) -> Meeting:
        with read_scope(self.runtime.engine) as session:
            found = session.get(Meeting, meeting_id)
        assert found is not None
        return found


@contextmanager
def counting(engine: Engine) -> Iterator[list[str]]:
    """Every SQL statement sent while the block runs."""
    statements: list[str] = []

    def seen(conn, cursor, statement, parameters, context, executemany) -> None:
        statements.append(statement)

    event.listen(engine, "before_cursor_execute", seen)
    try:
        yield statements
    finally:
        event.remove(engine, "before_cursor_execute", seen)
