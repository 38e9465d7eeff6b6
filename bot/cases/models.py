"""A case holds the child's identifying details; only its reference ever reaches Slack."""

from __future__ import annotations

from datetime import date, datetime

from sqlmodel import Field, SQLModel

from bot.database import UTCDateTime, utcnow_column_default


class Case(SQLModel, table=True):
    """One child known to children's social care, or a context (location, peer group)."""

    id: int | None = Field(default=None, primary_key=True)
    reference: str = Field(max_length=40, unique=True, index=True)
    subject_kind: str = Field(default="child", max_length=20)  # child | location | peer_group | school
    subject_label: str = Field(default="", max_length=200)  # a context's name, e.g. a park
    child_name: str = Field(default="", max_length=200)
    child_date_of_birth: date | None = None
    child_address: str = Field(default="", max_length=500)
    school: str = Field(default="", max_length=200)
    siblings_and_others_at_risk: str = Field(default="", max_length=2000)
    right_help_right_time_level: str = Field(default="", max_length=40)
    created_at: datetime = Field(default_factory=utcnow_column_default, sa_type=UTCDateTime)
    closed_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
