"""Meetings, the invitations sent for them and the attendance recorded afterwards."""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, Index, UniqueConstraint
from sqlmodel import Field, SQLModel

from bot.database import UTCDateTime, utcnow_column_default


class MeetingState(StrEnum):
    CONVENING = "convening"
    SCHEDULED = "scheduled"
    HELD = "held"
    CANCELLED = "cancelled"
    CLOSED = "closed"


class InvitationState(StrEnum):
    INVITED = "invited"
    ATTENDING = "attending"
    DELEGATE = "delegate"
    WRITTEN_UPDATE = "written_update"
    DECLINED = "declined"


class AttendanceStatus(StrEnum):
    PRESENT = "present"
    APOLOGIES = "apologies"
    WRITTEN_UPDATE = "written_update"
    DID_NOT_RESPOND = "did_not_respond"


class Meeting(SQLModel, table=True):
    """A strategy discussion (initial or follow-up) or a panel sitting."""

    __table_args__ = (
        Index("ix_meeting_state_start", "state", "scheduled_start"),
        Index("ix_meeting_convenor_state", "convenor_id", "state"),
        Index("ix_meeting_chair_state", "chair_id", "state"),
        Index("ix_meeting_scheduled_start", "scheduled_start"),
        Index("ix_meeting_held_at", "held_at"),  # the timeliness report's periods (migration 0007)
    )

    id: int | None = Field(default=None, primary_key=True)
    reference: str = Field(max_length=40, unique=True, index=True)  # e.g. SD-2026-0001
    meeting_type: str = Field(max_length=60)
    case_id: int | None = Field(default=None, foreign_key="case.id", index=True)
    follows_meeting_id: int | None = Field(default=None, foreign_key="meeting.id")
    state: str = Field(default=MeetingState.CONVENING, max_length=20)
    urgency: str = Field(default="", max_length=40)
    format: str = Field(default="meeting", max_length=20)  # meeting | call | video
    reason: str = Field(default="", max_length=3000)
    concerns: list[str] = Field(default_factory=list, sa_type=JSON)
    right_help_right_time_level: str = Field(default="", max_length=40)
    scheduled_start: datetime | None = Field(default=None, sa_type=UTCDateTime)
    duration_minutes: int = 60
    # The moment the urgency deadline counts from: the referral (asked on the form), or for
    # a follow-up, when it was asked for. The deadline is on the statutory calendar.
    referred_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    deadline: datetime | None = Field(default=None, sa_type=UTCDateTime)
    late_reason: str = Field(default="", max_length=1000)
    convenor_id: int | None = Field(default=None, foreign_key="person.id")
    chair_id: int | None = Field(default=None, foreign_key="person.id")
    minute_taker_id: int | None = Field(default=None, foreign_key="person.id")
    channel_id: str | None = Field(default=None, max_length=32)
    status_message_ts: str | None = Field(default=None, max_length=32)
    calendar_uid: str | None = Field(default=None, max_length=200)
    calendar_sequence: int = 0
    submission_key: str | None = Field(default=None, max_length=200, unique=True)
    cancelled_reason: str = Field(default="", max_length=1000)
    status_refreshed_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    details: dict[str, Any] = Field(default_factory=dict, sa_type=JSON)
    created_at: datetime = Field(default_factory=utcnow_column_default, sa_type=UTCDateTime)
    # When it actually began (recorded; before that, empty) and ended.
    held_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    ended_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    # The case episode (referral to closure) this discussion belongs to; panels have none.
    episode_id: int | None = Field(default=None, foreign_key="caseepisode.id", index=True)
    # Outside working hours, at a weekend or on a bank holiday, and why it could not wait.
    out_of_hours: bool = False
    out_of_hours_reason: str = Field(default="", max_length=1000)
    # The review or next discussion date recorded here, and chasing it on the day.
    review_on: date | None = None
    review_state: str = Field(default="", max_length=20)  # "" | due | followed_up | not_needed | ended
    review_chase_step: int = 0
    review_next_chase_at: datetime | None = Field(default=None, sa_type=UTCDateTime, index=True)
    review_resolution: str = Field(default="", max_length=1000)  # why no follow-up is needed


class Invitation(SQLModel, table=True):
    """One agency's invitation to a meeting; any of its contacts may answer for it."""

    __table_args__ = (UniqueConstraint("meeting_id", "agency_id"),)

    id: int | None = Field(default=None, primary_key=True)
    meeting_id: int = Field(foreign_key="meeting.id", index=True)
    agency_id: int = Field(foreign_key="agency.id", index=True)
    required: bool = True
    why: str = Field(default="required", max_length=20)  # required | exploitation | added
    state: str = Field(default=InvitationState.INVITED, max_length=20)
    delegate_id: int | None = Field(default=None, foreign_key="person.id")
    decline_reason: str = Field(default="", max_length=1000)
    answered_by_id: int | None = Field(default=None, foreign_key="person.id")
    answered_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    chase_step: int = 0
    next_chase_at: datetime | None = Field(default=None, sa_type=UTCDateTime, index=True)
    created_at: datetime = Field(default_factory=utcnow_column_default, sa_type=UTCDateTime)


class InvitationMessage(SQLModel, table=True):
    """The invitation as one person received it in Slack, so it can be updated in place."""

    __table_args__ = (UniqueConstraint("invitation_id", "person_id"),)

    id: int | None = Field(default=None, primary_key=True)
    invitation_id: int = Field(foreign_key="invitation.id", index=True)
    person_id: int = Field(foreign_key="person.id", index=True)
    channel: str | None = Field(default=None, max_length=32)
    ts: str | None = Field(default=None, max_length=32)
    created_at: datetime = Field(default_factory=utcnow_column_default, sa_type=UTCDateTime)


class Attendance(SQLModel, table=True):
    """Who took part as it happened, recorded by the chair or minute-taker."""

    id: int | None = Field(default=None, primary_key=True)
    meeting_id: int = Field(foreign_key="meeting.id", index=True)
    agency_id: int = Field(foreign_key="agency.id")
    person_id: int | None = Field(default=None, foreign_key="person.id")
    name: str = Field(default="", max_length=200)
    role: str = Field(default="", max_length=200)
    status: str = Field(default=AttendanceStatus.PRESENT, max_length=20)
    recorded_at: datetime = Field(default_factory=utcnow_column_default, sa_type=UTCDateTime)
