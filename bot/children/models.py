"""Which children a discussion concerns, and the households siblings share.

A child's identifying details (name, date of birth) stay on their `Case`, keyed by the
case reference; a `DiscussionChild` says that a discussion concerns that case, in what
order, on which episode of the child's timeline, and whether the child came in through a
context (a place, a peer group, a school) from the panel's register.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import UniqueConstraint
from sqlmodel import Field, SQLModel

from bot.database import UTCDateTime, utcnow_column_default


class DiscussionChild(SQLModel, table=True):
    """One child a strategy discussion concerns. Position 0 is the first child (the one
    `Meeting.case_id` names); each child has their own episode, section 47 enquiry and
    ICPC clock."""

    __table_args__ = (
        UniqueConstraint("meeting_id", "case_id", name="uq_discussionchild_case"),
        UniqueConstraint("meeting_id", "position", name="uq_discussionchild_position"),
    )

    id: int | None = Field(default=None, primary_key=True)
    meeting_id: int = Field(foreign_key="meeting.id", index=True)
    case_id: int = Field(foreign_key="case.id", index=True)
    position: int = 0
    episode_id: int | None = Field(default=None, foreign_key="caseepisode.id")
    # The context (a `Case` whose subject is a place, peer group or school) that brought
    # this child into the discussion; None for a child named on the form.
    through_context_id: int | None = Field(default=None, foreign_key="case.id")
    created_at: datetime = Field(default_factory=utcnow_column_default, sa_type=UTCDateTime)


class Household(SQLModel, table=True):
    """Siblings living together: each member's `Case.household_id` names it."""

    id: int | None = Field(default=None, primary_key=True)
    created_at: datetime = Field(default_factory=utcnow_column_default, sa_type=UTCDateTime)
