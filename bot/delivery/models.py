"""The outbox: each Slack call the bot owes, stored in the same commit as its cause."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, Index
from sqlmodel import Field, SQLModel

from bot.database import UTCDateTime, utcnow_column_default


class OutboxState(StrEnum):
    PENDING = "pending"
    SENT = "sent"
    FAILED = "failed"  # gave up: a permanent error Slack will not accept on retry
    SKIPPED = "skipped"  # no longer needed when its turn came (e.g. the meeting was cancelled)


class OutboxMessage(SQLModel, table=True):
    """One Web API call to make; `key` makes enqueueing idempotent."""

    __table_args__ = (
        Index("ix_outbox_due", "state", "next_attempt_at"),
        Index("ix_outbox_method_state", "method", "state"),
    )

    id: int | None = Field(default=None, primary_key=True)
    key: str = Field(max_length=200, unique=True)
    method: str = Field(max_length=60)
    arguments: dict[str, Any] = Field(default_factory=dict, sa_type=JSON)
    purpose: str = Field(default="", max_length=60)  # names the hook run after delivery
    subject_id: int | None = None  # the row the hook updates (invitation, meeting...)
    # The child's case a panel message names (referral decisions, chases, step-up requests):
    # erasing the case deletes them by this index, not by patterns on `key`.
    case_id: int | None = Field(default=None, foreign_key="case.id", index=True)
    state: str = Field(default=OutboxState.PENDING, max_length=20)
    attempts: int = 0
    next_attempt_at: datetime = Field(sa_type=UTCDateTime)
    lease_owner: str = Field(default="", max_length=40)
    lease_until: datetime | None = Field(default=None, sa_type=UTCDateTime)
    last_error: str = Field(default="", max_length=500)
    uncertain: bool = False  # the last attempt may have reached Slack; check before resending
    result: dict[str, Any] = Field(default_factory=dict, sa_type=JSON)
    created_at: datetime = Field(default_factory=utcnow_column_default, sa_type=UTCDateTime)
    delivered_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
