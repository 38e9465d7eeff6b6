"""Audit entries and the single head row that serialises appends on every database."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON
from sqlmodel import Field, SQLModel

from bot.database import UTCDateTime


class AuditEntry(SQLModel, table=True):
    """One audited act; `entry_hash` covers its content and the previous entry's hash."""

    id: int | None = Field(default=None, primary_key=True)
    sequence: int = Field(unique=True, index=True)
    at: datetime = Field(sa_type=UTCDateTime, index=True)
    team_id: str = Field(default="", max_length=32)
    actor_slack_id: str = Field(default="", max_length=32)
    actor_person_id: int | None = Field(default=None)
    act: str = Field(max_length=60, index=True)
    record_type: str = Field(default="", max_length=40)
    record_id: str = Field(default="", max_length=60, index=True)
    case_reference: str = Field(default="", max_length=40, index=True)
    details: dict[str, Any] = Field(default_factory=dict, sa_type=JSON)
    previous_hash: str = Field(max_length=64)
    entry_hash: str = Field(max_length=64, unique=True)


class AuditHead(SQLModel, table=True):
    """The chain's tip. Updating it first takes a write lock, so appends never fork."""

    id: int = Field(default=1, primary_key=True)
    sequence: int = 0
    last_hash: str = Field(default="0" * 64, max_length=64)
