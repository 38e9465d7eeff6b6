"""A case holds the child's identifying details; only its reference ever reaches Slack.

A case's life is recorded per child, as the Children in Need census sees it: an episode
runs from the referral to closure (the census's `CINdetails`), and within it each section 47
enquiry is anchored to the strategy discussion that started it (`Section47`). Statutory
dates on both are counted on the statutory calendar and stored as they were worked out.
"""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum

from sqlalchemy import Index, text
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
    # What a local authority's record holds about the child (documents only, never Slack).
    sex: str = Field(default="", max_length=20)  # bot.documents.vocabulary.SEX
    ethnicity: str = Field(default="", max_length=100)
    disability: str = Field(default="", max_length=500)
    first_language: str = Field(default="", max_length=100)
    interpreter_needed: str = Field(default="", max_length=10)  # "" | yes | no
    nhs_number: str = Field(default="", max_length=12)
    legal_status: str = Field(default="", max_length=30)  # bot.documents.vocabulary.LEGAL_STATUS
    parents_and_carers: str = Field(default="", max_length=2000)  # with parental responsibility
    created_at: datetime = Field(default_factory=utcnow_column_default, sa_type=UTCDateTime)
    # Set when the case's last episode closes (the retention clock runs from here); cleared
    # if a new referral opens another episode.
    closed_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class EpisodeState(StrEnum):
    OPEN = "open"
    CLOSED = "closed"


class CaseEpisode(SQLModel, table=True):
    """One child's case from the referral to closure: the referral's date and time, the
    threshold decision that a strategy discussion is needed, the discussions held (each
    `Meeting.episode_id`), its section 47 enquiries, and how it closed. A child has at most
    one open episode at a time."""

    __table_args__ = (
        Index(
            "ux_caseepisode_one_open_per_case",
            "case_id",
            unique=True,
            sqlite_where=text("state = 'open'"),
            postgresql_where=text("state = 'open'"),
        ),
    )

    id: int | None = Field(default=None, primary_key=True)
    case_id: int = Field(foreign_key="case.id", index=True)
    state: str = Field(default=EpisodeState.OPEN, max_length=20)
    # The referral, as the convenor gave it: the urgency deadline counts from here.
    referred_at: datetime = Field(sa_type=UTCDateTime)
    # The threshold decision: a strategy discussion is needed, at this Right Help Right Time level.
    threshold_level: str = Field(default="", max_length=40)
    threshold_decided_at: datetime = Field(sa_type=UTCDateTime)
    threshold_decided_by_id: int | None = Field(default=None, foreign_key="person.id")
    # Closure: the outcome (cases.yaml closure_outcomes), why, by whom.
    closed_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    closed_by_id: int | None = Field(default=None, foreign_key="person.id")
    closure_outcome: str = Field(default="", max_length=60)
    closure_reason: str = Field(default="", max_length=3000)
    created_at: datetime = Field(default_factory=utcnow_column_default, sa_type=UTCDateTime)


class IcpcState(StrEnum):
    PENDING = "pending"  # needed or not yet decided; the target date stands
    HELD = "held"
    NOT_REQUIRED = "not_required"


class Section47Enquiry(SQLModel, table=True):
    """A section 47 enquiry for one child, anchored to the strategy discussion that started
    it: a follow-up discussion continues it and never restarts its clocks. One open
    (not completed) enquiry per episode at a time."""

    __table_args__ = (
        Index(
            "ux_section47enquiry_one_open_per_episode",
            "episode_id",
            unique=True,
            sqlite_where=text("completed_on IS NULL"),
            postgresql_where=text("completed_on IS NULL"),
        ),
        Index("ix_section47enquiry_started_on", "started_on"),
    )

    id: int | None = Field(default=None, primary_key=True)
    episode_id: int = Field(foreign_key="caseepisode.id", index=True)
    case_id: int = Field(foreign_key="case.id", index=True)
    started_by_meeting_id: int = Field(foreign_key="meeting.id")
    # The census's S47ActualStartDate: the local date the starting discussion began.
    started_on: date
    # The census's InitialCPCtarget: 15 statutory working days after started_on.
    icpc_due_on: date
    icpc_state: str = Field(default=IcpcState.PENDING, max_length=20)
    icpc_held_on: date | None = None  # DateOfInitialCPC
    icpc_not_required_reason: str = Field(default="", max_length=3000)
    # 45 statutory working days from the referral.
    assessment_due_on: date
    concerns_substantiated: str = Field(default="", max_length=20)  # "" | substantiated | not_substantiated
    outcome: str = Field(
        default="", max_length=40
    )  # "" | child_protection_plan | child_in_need_plan | no_further_action
    completed_on: date | None = None
    updated_at: datetime = Field(default_factory=utcnow_column_default, sa_type=UTCDateTime)
