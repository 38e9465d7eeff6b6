"""Actions agreed in meetings, their history, and every chase sent about them."""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, Index
from sqlmodel import Field, SQLModel

from bot.database import UTCDateTime, utcnow_column_default


class ActionStatus(StrEnum):
    OPEN = "open"
    DONE = "done"
    ESCALATED = "escalated"
    CANCELLED = "cancelled"
    HANDED_ON = "handed_on"  # taken on by the plan that follows the case's closure


class Action(SQLModel, table=True):
    """One action: its owner, due date and where it stands in the chasing ladder."""

    __table_args__ = (
        Index("ix_action_due_sweep", "status", "next_chase_at"),
        Index("ix_action_agency_open_due", "agency_id", "status", "due_on"),
        Index("ix_action_owner_open_due", "owner_id", "status", "due_on"),
        # The timeliness report: actions due in a period, and overdue now (migration 0007).
        Index(
            "ix_action_status_due",
            "status",
            "due_on",
            "agency_id",
            "priority",
            "escalation_level",
            "completed_at",
        ),
    )

    id: int | None = Field(default=None, primary_key=True)
    reference: str = Field(max_length=40, unique=True, index=True)
    meeting_id: int | None = Field(default=None, foreign_key="meeting.id", index=True)
    case_id: int | None = Field(default=None, foreign_key="case.id", index=True)
    concerns: str = Field(default="", max_length=200)  # the child or context it is about
    text: str = Field(max_length=3000)
    owner_id: int = Field(foreign_key="person.id", index=True)
    agency_id: int = Field(foreign_key="agency.id", index=True)
    priority: str = Field(default="normal", max_length=20)  # immediate | high | normal
    assigned_on: date
    due_on: date
    completed_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    status: str = Field(default=ActionStatus.OPEN, max_length=20)
    escalation_level: int = 0
    chase_step: int = 0  # how many steps of its chasing timeline are done
    snoozed_until: datetime | None = Field(default=None, sa_type=UTCDateTime)
    snoozes: int = 0
    last_chased_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    next_chase_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    submission_key: str | None = Field(default=None, max_length=200, unique=True)
    created_at: datetime = Field(default_factory=utcnow_column_default, sa_type=UTCDateTime)


class ActionEvent(SQLModel, table=True):
    """Something that happened to an action: created, updated, extended, done, reassigned."""

    id: int | None = Field(default=None, primary_key=True)
    action_id: int = Field(foreign_key="action.id", index=True)
    kind: str = Field(max_length=40)
    by_id: int | None = Field(default=None, foreign_key="person.id")
    details: dict[str, Any] = Field(default_factory=dict, sa_type=JSON)
    at: datetime = Field(default_factory=utcnow_column_default, sa_type=UTCDateTime)


class Chase(SQLModel, table=True):
    """A reminder or escalation sent about an action or an unanswered invitation."""

    id: int | None = Field(default=None, primary_key=True)
    action_id: int | None = Field(default=None, foreign_key="action.id", index=True)
    invitation_id: int | None = Field(default=None, foreign_key="invitation.id", index=True)
    step: str = Field(max_length=40)  # reminder | due_today | overdue | escalate_lead | ...
    to_person_id: int | None = Field(default=None, foreign_key="person.id")
    via: str = Field(default="slack_dm", max_length=20)
    outbox_key: str | None = Field(default=None, max_length=200)
    at: datetime = Field(default_factory=utcnow_column_default, sa_type=UTCDateTime)
