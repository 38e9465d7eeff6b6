"""When each periodic job is next due, shared by every process on the database."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Field, SQLModel

from bot.database import UTCDateTime


class PeriodicJob(SQLModel, table=True):
    """One periodic job (`sweep`, `retention`): its next turn and who took the last one."""

    name: str = Field(primary_key=True, max_length=60)
    next_due_at: datetime = Field(sa_type=UTCDateTime)
    last_started_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    last_holder: str = Field(default="", max_length=120)  # host:pid of the process that took it
