"""An agency's update for a meeting and every version of it, kept for the record."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, UniqueConstraint
from sqlmodel import Field, SQLModel

from bot.database import UTCDateTime, utcnow_column_default


class AgencyUpdate(SQLModel, table=True):
    """The current state of one agency's update for one meeting, or for one item on a
    panel's agenda (a strategy discussion has a single item, 0)."""

    __table_args__ = (
        UniqueConstraint("meeting_id", "agency_id", "agenda_item_id", name="uq_agencyupdate_item"),
    )

    id: int | None = Field(default=None, primary_key=True)
    meeting_id: int = Field(foreign_key="meeting.id", index=True)
    agency_id: int = Field(foreign_key="agency.id", index=True)
    agenda_item_id: int = Field(default=0, index=True)  # a panel's item; 0 for a strategy discussion
    state: str = Field(default="draft", max_length=20)  # draft | submitted
    current_version: int = 0
    late: bool = False
    amended: bool = False
    first_submitted_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    submitted_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class AgencyUpdateVersion(SQLModel, table=True):
    """One saved version (draft or submission); earlier versions are never overwritten."""

    __table_args__ = (
        UniqueConstraint("update_id", "version"),
        UniqueConstraint("update_id", "submission_key"),
    )

    id: int | None = Field(default=None, primary_key=True)
    update_id: int = Field(foreign_key="agencyupdate.id", index=True)
    version: int
    is_draft: bool = True
    author_id: int = Field(foreign_key="person.id")
    submission_key: str = Field(default="", max_length=200)
    content: dict[str, Any] = Field(default_factory=dict, sa_type=JSON)
    risk_ratings: dict[str, str] = Field(default_factory=dict, sa_type=JSON)
    lawful_basis: str = Field(default="", max_length=60)
    restrictions: list[str] = Field(default_factory=list, sa_type=JSON)
    not_for_family: bool = False
    late: bool = False
    created_at: datetime = Field(default_factory=utcnow_column_default, sa_type=UTCDateTime)
