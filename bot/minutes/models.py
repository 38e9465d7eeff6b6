"""Decisions taken in a meeting and the Word documents generated from them."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Index, LargeBinary, UniqueConstraint, text
from sqlmodel import Field, SQLModel

from bot.database import UTCDateTime, utcnow_column_default


class Decision(SQLModel, table=True):
    """One decision of a meeting (section 47 or not, joint or single, ICPC, dissent...).

    A decision the law takes per child (section 47, the enquiry, the ICPC) names the child's
    case when the discussion concerns several children; a decision without a case is the
    discussion's as a whole (for one child, that child's)."""

    __table_args__ = (
        Index(
            "ux_decision_discussion_topic",
            "meeting_id",
            "topic",
            unique=True,
            sqlite_where=text("case_id IS NULL"),
            postgresql_where=text("case_id IS NULL"),
        ),
        Index(
            "ux_decision_child_topic",
            "meeting_id",
            "case_id",
            "topic",
            unique=True,
            sqlite_where=text("case_id IS NOT NULL"),
            postgresql_where=text("case_id IS NOT NULL"),
        ),
    )

    id: int | None = Field(default=None, primary_key=True)
    meeting_id: int = Field(foreign_key="meeting.id", index=True)
    case_id: int | None = Field(default=None, foreign_key="case.id")
    topic: str = Field(max_length=60)
    outcome: str = Field(default="", max_length=200)
    reason: str = Field(default="", max_length=3000)
    details: dict[str, Any] = Field(default_factory=dict, sa_type=JSON)
    recorded_by_id: int | None = Field(default=None, foreign_key="person.id")
    recorded_at: datetime = Field(default_factory=utcnow_column_default, sa_type=UTCDateTime)


class Document(SQLModel, table=True):
    """A generated document version: minutes, action log, agenda or panel minutes."""

    __table_args__ = (UniqueConstraint("meeting_id", "kind", "version"),)

    id: int | None = Field(default=None, primary_key=True)
    meeting_id: int | None = Field(default=None, foreign_key="meeting.id", index=True)
    case_id: int | None = Field(default=None, foreign_key="case.id", index=True)
    kind: str = Field(max_length=40)
    version: int = 1
    state: str = Field(default="draft", max_length=20)  # draft | approved | superseded
    filename: str = Field(max_length=200)
    sha256: str = Field(max_length=64)
    content: bytes = Field(sa_type=LargeBinary)  # the record keeps the document itself
    created_by_id: int | None = Field(default=None, foreign_key="person.id")
    created_at: datetime = Field(default_factory=utcnow_column_default, sa_type=UTCDateTime)
    approved_by_id: int | None = Field(default=None, foreign_key="person.id")
    approved_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    circulated_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    # A fingerprint of each part the version showed (bot.documents.changes), so the next
    # version can say which parts changed; never the content itself.
    sections: dict[str, str] = Field(default_factory=dict, sa_type=JSON)
