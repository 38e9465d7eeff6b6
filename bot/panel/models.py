"""The panel's own records: its sittings, referrals, the children and contexts it keeps
under review, each sitting's agenda items with their VOLT outcome, and the links between
children, peers, suspected perpetrators and places."""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, UniqueConstraint
from sqlmodel import Field, SQLModel

from bot.database import UTCDateTime, utcnow_column_default


class PanelSitting(SQLModel, table=True):
    """One sitting of a panel; its meeting carries the invitations, channel and minutes."""

    __table_args__ = (UniqueConstraint("panel_code", "scheduled_for"),)

    id: int | None = Field(default=None, primary_key=True)
    panel_code: str = Field(max_length=60, index=True)
    meeting_id: int = Field(foreign_key="meeting.id", unique=True)
    scheduled_for: date  # the date the calendar gives
    held_on: date  # after the bank-holiday rule
    referral_cutoff: datetime = Field(sa_type=UTCDateTime)
    updates_cutoff: datetime = Field(sa_type=UTCDateTime)
    agenda_issued_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    # Cases under review but not due, fixed with the agenda: listed by reference only.
    not_for_discussion: list[str] = Field(default_factory=list, sa_type=JSON)
    referrals_chased_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    created_at: datetime = Field(default_factory=utcnow_column_default, sa_type=UTCDateTime)


class ReferralState(StrEnum):
    PENDING = "pending"
    ACCEPTED = "accepted"
    DECLINED = "declined"


class Referral(SQLModel, table=True):
    """A child or a context referred to a panel, waiting for (or given) the administrator's
    decision."""

    id: int | None = Field(default=None, primary_key=True)
    reference: str = Field(max_length=40, unique=True, index=True)  # e.g. PR-2026-0001
    panel_code: str = Field(max_length=60, index=True)
    subject_kind: str = Field(max_length=20)  # child | location | peer_group | school
    case_id: int = Field(foreign_key="case.id", index=True)
    reasons: str = Field(max_length=3000)
    risk_level: str = Field(max_length=20)
    screening_result: str = Field(max_length=40)
    links: list[dict[str, str]] = Field(default_factory=list, sa_type=JSON)
    referred_by_id: int = Field(foreign_key="person.id")
    state: str = Field(default=ReferralState.PENDING, max_length=20)
    sitting_id: int | None = Field(default=None, foreign_key="panelsitting.id", index=True)
    panel_case_id: int | None = Field(default=None, foreign_key="panelcase.id")
    linked_to_existing: bool = False
    decided_by_id: int | None = Field(default=None, foreign_key="person.id")
    decided_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    decline_reason: str = Field(default="", max_length=1000)
    submission_key: str = Field(max_length=200, unique=True)
    created_at: datetime = Field(default_factory=utcnow_column_default, sa_type=UTCDateTime)


class PanelCaseState(StrEnum):
    UNDER_REVIEW = "under_review"
    STEPPED_DOWN = "stepped_down"


class PanelCase(SQLModel, table=True):
    """A child or context the panel keeps under review; it goes on every agenda until it is
    stepped down. One per panel and case: a second referral links to it."""

    __table_args__ = (UniqueConstraint("panel_code", "case_id"),)

    id: int | None = Field(default=None, primary_key=True)
    panel_code: str = Field(max_length=60, index=True)
    case_id: int = Field(foreign_key="case.id", index=True)
    state: str = Field(default=PanelCaseState.UNDER_REVIEW, max_length=20)
    risk_level: str = Field(default="", max_length=20)
    screening_result: str = Field(default="", max_length=40)
    plan_status: str = Field(default="", max_length=200)
    next_review_on: date | None = None
    added_at: datetime = Field(default_factory=utcnow_column_default, sa_type=UTCDateTime)
    stepped_down_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class AgendaItem(SQLModel, table=True):
    """One child or context on one sitting's agenda, and what the panel recorded about it."""

    __table_args__ = (UniqueConstraint("sitting_id", "panel_case_id"),)

    id: int | None = Field(default=None, primary_key=True)
    sitting_id: int = Field(foreign_key="panelsitting.id", index=True)
    panel_case_id: int = Field(foreign_key="panelcase.id", index=True)
    section: str = Field(max_length=30)  # new_referral | under_review | location | peer_group | school
    position: int
    minutes: int
    outcome: dict[str, Any] = Field(default_factory=dict, sa_type=JSON)  # VOLT and decisions
    # Why the case is on this agenda: review due, new referral, missing episode, new link.
    reasons: list[str] = Field(default_factory=list, sa_type=JSON)
    # The strategy discussion a step up convened, once convened.
    stepped_up_meeting_id: int | None = Field(default=None, foreign_key="meeting.id")
    recorded_by_id: int | None = Field(default=None, foreign_key="person.id")
    recorded_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class NetworkLink(SQLModel, table=True):
    """A link from a child or context to a peer, a suspected perpetrator, a place or another
    case, as recorded at referral or at the panel."""

    __table_args__ = (UniqueConstraint("case_id", "kind", "label_key"),)

    id: int | None = Field(default=None, primary_key=True)
    case_id: int = Field(foreign_key="case.id", index=True)
    kind: str = Field(max_length=30)
    label: str = Field(max_length=200)
    label_key: str = Field(max_length=200)
    linked_case_id: int | None = Field(default=None, foreign_key="case.id")
    source: str = Field(max_length=40)  # referral PR-… | panel CEP-…
    recorded_by_id: int | None = Field(default=None, foreign_key="person.id")
    created_at: datetime = Field(default_factory=utcnow_column_default, sa_type=UTCDateTime)


class NrmReferral(SQLModel, table=True):
    """A child's referral to the National Referral Mechanism, and the Home Office's
    reasonable-grounds and conclusive-grounds decisions as they arrive."""

    id: int | None = Field(default=None, primary_key=True)
    case_id: int = Field(foreign_key="case.id", index=True)
    panel_code: str = Field(max_length=60)
    referred_on: date
    nrm_reference: str = Field(default="", max_length=60)
    first_responder_agency: str = Field(max_length=60)  # agency code
    first_responder_name: str = Field(max_length=200)
    reasonable_grounds: str = Field(default="awaited", max_length=20)  # awaited | positive | negative
    reasonable_grounds_on: date | None = None
    conclusive_grounds: str = Field(default="awaited", max_length=20)
    conclusive_grounds_on: date | None = None
    strategy_meeting_id: int | None = Field(default=None, foreign_key="meeting.id")
    chased: list[str] = Field(default_factory=list, sa_type=JSON)  # decisions already chased
    recorded_by_id: int | None = Field(default=None, foreign_key="person.id")
    submission_key: str = Field(max_length=200, unique=True)
    created_at: datetime = Field(default_factory=utcnow_column_default, sa_type=UTCDateTime)


class SuspectedPerpetrator(SQLModel, table=True):
    """Someone the panel suspects of exploiting children: a record of their own, seen by
    police and administrators only unless a police member releases a summary."""

    id: int | None = Field(default=None, primary_key=True)
    reference: str = Field(max_length=40, unique=True, index=True)  # SP-2026-0001
    panel_code: str = Field(max_length=60, index=True)
    description: str = Field(max_length=200)  # how the panel knows them: "adult male known as T"
    police_reference: str = Field(default="", max_length=60)
    released_summary: str = Field(default="", max_length=1000)
    released_by_id: int | None = Field(default=None, foreign_key="person.id")
    released_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    recorded_by_id: int | None = Field(default=None, foreign_key="person.id")
    submission_key: str = Field(max_length=200, unique=True)
    created_at: datetime = Field(default_factory=utcnow_column_default, sa_type=UTCDateTime)


class PerpetratorLink(SQLModel, table=True):
    """A suspected perpetrator linked to a child or context."""

    __table_args__ = (UniqueConstraint("perpetrator_id", "case_id"),)

    id: int | None = Field(default=None, primary_key=True)
    perpetrator_id: int = Field(foreign_key="suspectedperpetrator.id", index=True)
    case_id: int = Field(foreign_key="case.id", index=True)
    created_at: datetime = Field(default_factory=utcnow_column_default, sa_type=UTCDateTime)


class Disruption(SQLModel, table=True):
    """A disruption activity: an action (owner, due date, chased like any other) with its
    tactic from the configured list, who or where it targets, and its outcome."""

    id: int | None = Field(default=None, primary_key=True)
    action_id: int = Field(foreign_key="action.id", unique=True)
    case_id: int = Field(foreign_key="case.id", index=True)
    perpetrator_id: int | None = Field(default=None, foreign_key="suspectedperpetrator.id")
    tactic: str = Field(max_length=40)
    # Its own outcome, recorded by the owner when it is done ('' until then: still chased).
    result: str = Field(default="", max_length=30)  # bot.panel.vocabulary.DISRUPTION_RESULTS
    outcome: str = Field(default="", max_length=1000)  # what happened
    outcome_recorded_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    outcome_recorded_by_id: int | None = Field(default=None, foreign_key="person.id")
    created_at: datetime = Field(default_factory=utcnow_column_default, sa_type=UTCDateTime)


class Intelligence(SQLModel, table=True):
    """Police intelligence shared at the panel, with its handling code: documents going
    to agencies it is not released to show it as withheld."""

    id: int | None = Field(default=None, primary_key=True)
    meeting_id: int = Field(foreign_key="meeting.id", index=True)
    case_id: int | None = Field(default=None, foreign_key="case.id", index=True)
    text: str = Field(max_length=3000)
    handling_code: str = Field(max_length=40)
    recorded_by_id: int | None = Field(default=None, foreign_key="person.id")
    submission_key: str = Field(max_length=200, unique=True)
    created_at: datetime = Field(default_factory=utcnow_column_default, sa_type=UTCDateTime)


class InterviewState(StrEnum):
    NOT_YET = "not_yet"  # the child has not returned
    OWED = "owed"
    DONE = "done"
    DECLINED = "declined"


class MissingEpisode(SQLModel, table=True):
    """A child's missing episode, as Locate records it, and the return home interview owed
    after it (offered within the configured hours of the return)."""

    id: int | None = Field(default=None, primary_key=True)
    case_id: int = Field(foreign_key="case.id", index=True)
    went_missing_at: datetime = Field(sa_type=UTCDateTime)
    returned_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    where_found: str = Field(default="", max_length=300)
    out_of_area: bool = False
    reported_by_id: int | None = Field(default=None, foreign_key="person.id")
    interview_state: str = Field(default=InterviewState.NOT_YET, max_length=20)
    interview_due_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    interview_offered_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    interview_by: str = Field(default="", max_length=200)
    interview_recorded_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    next_chase_at: datetime | None = Field(default=None, sa_type=UTCDateTime, index=True)
    chases: int = 0
    submission_key: str = Field(max_length=200, unique=True)
    created_at: datetime = Field(default_factory=utcnow_column_default, sa_type=UTCDateTime)


class ConferenceLink(SQLModel, table=True):
    """A step up to a child protection conference, linked to the child's section 47
    enquiry (whose ICPC clock it keeps) and to the action that books it: the lead of the
    booking agency owns it and is chased like any other action until it is booked."""

    id: int | None = Field(default=None, primary_key=True)
    agenda_item_id: int = Field(foreign_key="agendaitem.id", unique=True)
    case_id: int = Field(foreign_key="case.id", index=True)
    enquiry_id: int | None = Field(default=None, foreign_key="section47enquiry.id")
    action_id: int | None = Field(default=None, foreign_key="action.id", unique=True)
    due_on: date  # the ICPC target (from the enquiry, or counted from the sitting)
    booked_for: date | None = None  # the date the conference is booked for
    booked_by_id: int | None = Field(default=None, foreign_key="person.id")
    booked_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    created_at: datetime = Field(default_factory=utcnow_column_default, sa_type=UTCDateTime)


class PoliceOperation(SQLModel, table=True):
    """A step up to a police operation: a record of its own, seen by police and panel
    administrators only, unless a police member releases a summary to the panel."""

    id: int | None = Field(default=None, primary_key=True)
    reference: str = Field(max_length=40, unique=True, index=True)  # PO-2026-0001
    panel_code: str = Field(max_length=60)
    agenda_item_id: int = Field(foreign_key="agendaitem.id", unique=True)
    case_id: int = Field(foreign_key="case.id", index=True)
    name: str = Field(max_length=200)  # the operation's name, e.g. Operation Larch
    police_reference: str = Field(default="", max_length=60)
    lead_officer_id: int = Field(foreign_key="person.id")
    started_on: date
    released_summary: str = Field(default="", max_length=1000)
    released_by_id: int | None = Field(default=None, foreign_key="person.id")
    released_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    recorded_by_id: int | None = Field(default=None, foreign_key="person.id")
    created_at: datetime = Field(default_factory=utcnow_column_default, sa_type=UTCDateTime)
    updated_at: datetime = Field(default_factory=utcnow_column_default, sa_type=UTCDateTime)
