"""The children a discussion concerns, their households, and the others at risk.

Plain Python over the database. Every list is bounded: a discussion concerns at most
`MAX_CHILDREN` children, and the others at risk shown for a child are at most
`OTHERS_SHOWN` references (the rest are counted).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import func
from sqlmodel import Session, col, select

from bot.cases.models import Case
from bot.children.models import DiscussionChild, Household
from bot.convening.models import Meeting
from bot.minutes.models import Decision
from bot.panel.models import NetworkLink

MAX_CHILDREN = 8  # per discussion: each takes a step of the recording form
OTHERS_SHOWN = 20
CONTEXT_KINDS = ("location", "peer_group", "school")


@dataclass(frozen=True)
class ChildDetails:
    """One child as the convening form gives them (the name never reaches Slack)."""

    case_reference: str
    name: str
    date_of_birth: date | None


@dataclass(frozen=True)
class ChildOfDiscussion:
    """A child of a discussion with their case: `case.reference` is all Slack may see."""

    link: DiscussionChild
    case: Case

    @property
    def reference(self) -> str:
        return self.case.reference


def children_of(session: Session, meeting: Meeting) -> list[ChildOfDiscussion]:
    """The discussion's children in order (one query). A discussion stored before several
    children were possible, or a panel sitting, has its case's child or none."""
    rows = session.exec(
        select(DiscussionChild, Case)
        .join(Case, col(Case.id) == DiscussionChild.case_id)
        .where(col(DiscussionChild.meeting_id) == meeting.id)
        .order_by(col(DiscussionChild.position))
        .limit(MAX_CHILDREN)
    ).all()
    if rows:
        return [ChildOfDiscussion(link, case) for link, case in rows]
    case = session.get(Case, meeting.case_id) if meeting.case_id else None
    if case is None or case.subject_kind != "child":
        return []
    placeholder = DiscussionChild(
        meeting_id=meeting.id or 0, case_id=case.id or 0, episode_id=meeting.episode_id
    )
    return [ChildOfDiscussion(placeholder, case)]


def subject_of(session: Session, meeting: Meeting, children: list[ChildOfDiscussion] | None = None) -> str:
    """What the discussion concerns, by reference only: `CS-1, CS-2 (siblings)` or
    `LOC-1: CS-1, CS-2`. `children`: the discussion's, when the caller has read them."""
    if children is None:
        children = children_of(session, meeting)
    references = ", ".join(c.reference for c in children)
    households = {c.case.household_id for c in children}
    if len(children) > 1 and len(households) == 1 and None not in households:
        references += " (siblings)"
    context = session.get(Case, meeting.context_case_id) if meeting.context_case_id else None
    return f"{context.reference}: {references}" if context is not None else references


def subject_references(session: Session, meeting: Meeting) -> str:
    """Every child's reference (and the context's), comma-separated: what an action or a
    part of an update concerns when it concerns them all."""
    references = [c.reference for c in children_of(session, meeting)]
    context = session.get(Case, meeting.context_case_id) if meeting.context_case_id else None
    if len(references) < 2 and context is None:
        return ""
    return ", ".join([*references, *([context.reference] if context else [])])


def child_named(session: Session, meeting: Meeting, text: str) -> Case | None:
    """The one child of a discussion of several whose reference the text is (or holds)
    alone; None when it names none or several."""
    children = children_of(session, meeting)
    if len(children) < 2:
        return None
    typed = text.upper()
    named = [c.case for c in children if c.reference in typed]
    return named[0] if len(named) == 1 else None


def child_names(session: Session, meeting: Meeting) -> list[str]:
    """Every child's name, to keep them out of text bound for Slack."""
    return [c.case.child_name for c in children_of(session, meeting) if c.case.child_name]


def add_child(
    session: Session,
    meeting: Meeting,
    case: Case,
    *,
    position: int,
    episode_id: int | None,
    through_context_id: int | None = None,
    now: datetime,
) -> DiscussionChild:
    """Record that the discussion concerns this child, at this place in its order."""
    link = DiscussionChild(
        meeting_id=meeting.id or 0,
        case_id=case.id or 0,
        position=position,
        episode_id=episode_id,
        through_context_id=through_context_id,
        created_at=now,
    )
    session.add(link)
    return link


def record_household(session: Session, cases: list[Case], now: datetime) -> Household | None:
    """Siblings living together share one household: the first existing household among
    them takes the others in (households already recorded merge into it)."""
    if len(cases) < 2:
        return None
    existing = sorted({c.household_id for c in cases if c.household_id is not None})
    household = session.get(Household, existing[0]) if existing else None
    if household is None:
        household = Household(created_at=now)
        session.add(household)
        session.flush()
    for other in existing[1:]:
        for member in session.exec(select(Case).where(col(Case.household_id) == other)):
            member.household_id = household.id
            session.add(member)
    for case in cases:
        case.household_id = household.id
        session.add(case)
    return household


def link_in_network(
    session: Session,
    cases: list[Case],
    *,
    household: Household | None,
    context: Case | None,
    source: str,
    by: int | None,
    now: datetime,
) -> int:
    """Put the discussion's children in the panel's network: siblings share a household
    node (named by its first reference), and children who came in through a
    context are linked to it. Each link once (the network's own uniqueness)."""
    wanted: list[tuple[Case, str, str, int | None]] = []
    if household is not None:
        members = list(
            session.exec(select(Case).where(col(Case.household_id) == household.id).limit(MAX_CHILDREN * 2))
        )
        label = f"Household of {min(m.reference for m in members)}"  # the same node every time
        wanted += [(member, "household", label, None) for member in members]
    if context is not None:
        label = context.subject_label or context.reference
        wanted += [(child, context.subject_kind, label, context.id) for child in cases]
    stored = 0
    for case, kind, label, linked in wanted:
        key = " ".join(label.split()).casefold()
        exists = session.exec(
            select(NetworkLink.id).where(
                col(NetworkLink.case_id) == case.id,
                col(NetworkLink.kind) == kind,
                col(NetworkLink.label_key) == key,
            )
        ).first()
        if exists is not None:
            continue
        session.add(
            NetworkLink(
                case_id=case.id or 0,
                kind=kind,
                label=label,
                label_key=key,
                linked_case_id=linked,
                source=source,
                recorded_by_id=by,
                created_at=now,
            )
        )
        stored += 1
    session.flush()
    return stored


def household_of(session: Session, case: Case) -> list[str]:
    """The references of the child's siblings in their household (not the child's own)."""
    if case.household_id is None:
        return []
    return list(
        session.exec(
            select(col(Case.reference))
            .where(col(Case.household_id) == case.household_id, col(Case.id) != case.id)
            .order_by(Case.reference)
            .limit(OTHERS_SHOWN)
        )
    )


def find_context(session: Session, reference: str) -> Case | None:
    """A context (a place, a peer group, a school) from the panel's register."""
    case = session.exec(select(Case).where(col(Case.reference) == reference.strip().upper())).first()
    return case if case is not None and case.subject_kind in CONTEXT_KINDS else None


def children_linked_to(session: Session, context: Case) -> list[Case]:
    """The children the panel's network links to the context (either way round), first
    linked first, at most `MAX_CHILDREN`."""
    linked_ids = [
        row
        for row in session.exec(
            select(col(NetworkLink.linked_case_id))
            .where(col(NetworkLink.case_id) == context.id, col(NetworkLink.linked_case_id).is_not(None))
            .order_by(col(NetworkLink.id))
        )
    ] + [
        row
        for row in session.exec(
            select(col(NetworkLink.case_id))
            .where(col(NetworkLink.linked_case_id) == context.id)
            .order_by(col(NetworkLink.id))
        )
    ]
    ordered = list(dict.fromkeys(i for i in linked_ids if i is not None))[: MAX_CHILDREN * 4]
    if not ordered:
        return []
    cases = {
        c.id: c
        for c in session.exec(
            select(Case).where(col(Case.id).in_(ordered), col(Case.subject_kind) == "child")
        )
    }
    return [cases[i] for i in ordered if i in cases][:MAX_CHILDREN]


@dataclass(frozen=True)
class OthersAtRisk:
    """The other children at risk alongside one child, by case reference only."""

    siblings: list[str]
    alongside: list[str]  # in the same discussion, or linked through the same context
    contexts: list[str]  # the contexts that link them
    more: int = 0


def others_at_risk(session: Session, case: Case, meeting: Meeting | None = None) -> OthersAtRisk:
    """Who else is at risk with this child: their household, the other children of the
    discussion, and children linked through a context the child is linked to. References
    only: a child's record never names another child."""
    siblings = household_of(session, case)
    alongside: list[str] = []
    contexts: list[str] = []
    if meeting is not None:
        alongside += [c.reference for c in children_of(session, meeting) if c.case.id != case.id]
        if meeting.context_case_id:
            context = session.get(Case, meeting.context_case_id)
            if context is not None:
                contexts.append(context.reference)
    context_ids = _contexts_of(session, case)
    if context_ids:
        for ctx in session.exec(select(Case).where(col(Case.id).in_(context_ids)).order_by(Case.reference)):
            if ctx.reference not in contexts:
                contexts.append(ctx.reference)
            alongside += [c.reference for c in children_linked_to(session, ctx) if c.id != case.id]
    alongside = [r for r in dict.fromkeys(alongside) if r not in siblings]
    more = max(0, len(alongside) - OTHERS_SHOWN)
    return OthersAtRisk(siblings, alongside[:OTHERS_SHOWN], contexts[:OTHERS_SHOWN], more)


def _contexts_of(session: Session, case: Case) -> list[int]:
    """The contexts the child is linked to in the panel's network or through a discussion."""
    ids = set(
        session.exec(
            select(col(NetworkLink.case_id))
            .where(col(NetworkLink.linked_case_id) == case.id)
            .limit(OTHERS_SHOWN)
        )
    )
    ids |= {
        i
        for i in session.exec(
            select(col(NetworkLink.linked_case_id))
            .where(col(NetworkLink.case_id) == case.id)
            .limit(OTHERS_SHOWN)
        )
        if i is not None
    }
    ids |= {
        i
        for i in session.exec(
            select(col(DiscussionChild.through_context_id))
            .where(
                col(DiscussionChild.case_id) == case.id, col(DiscussionChild.through_context_id).is_not(None)
            )
            .limit(OTHERS_SHOWN)
        )
        if i is not None
    }
    if not ids:
        return []
    found = session.exec(
        select(col(Case.id)).where(col(Case.id).in_(ids), col(Case.subject_kind).in_(CONTEXT_KINDS))
    )
    return [i for i in found if i is not None]


def children_count(session: Session, meeting_id: int) -> int:
    return session.exec(
        select(func.count()).select_from(DiscussionChild).where(col(DiscussionChild.meeting_id) == meeting_id)
    ).one()


def erase_child_part(session: Session, case: Case) -> None:
    """Before a child's case is erased: in every discussion that also concerns other
    children, remove this child's part (their place, their decisions) and keep the others';
    a discussion that named this child first is re-pointed at the next child. Discussions of
    this child alone are left for the caller to erase whole."""
    from sqlalchemy import delete, update

    from bot.actions.models import Action, ActionEvent, Chase
    from bot.minutes.models import Document

    for link in list(session.exec(select(DiscussionChild).where(col(DiscussionChild.case_id) == case.id))):
        others = session.exec(
            select(DiscussionChild)
            .where(
                col(DiscussionChild.meeting_id) == link.meeting_id, col(DiscussionChild.case_id) != case.id
            )
            .order_by(col(DiscussionChild.position))
        ).first()
        if others is None:
            continue
        meeting = session.get(Meeting, link.meeting_id)
        if meeting is not None and meeting.case_id == case.id:
            meeting.case_id, meeting.episode_id = others.case_id, others.episode_id
            session.add(meeting)
        # The discussion's minutes and action log name this child: they go with their case
        # (a new draft covers the others); actions shared with the others stay, without them.
        session.exec(
            update(Document)
            .where(
                col(Document.meeting_id) == link.meeting_id, col(Document.kind).in_(("minutes", "action_log"))
            )
            .values(case_id=case.id)
        )
        for action in list(session.exec(select(Action).where(col(Action.meeting_id) == link.meeting_id))):
            named = [r.strip() for r in action.concerns.split(",") if r.strip()]
            rest = [r for r in named if r != case.reference]
            if rest and len(rest) < len(named):
                action.concerns = ", ".join(rest)
                if action.case_id == case.id:
                    action.case_id = others.case_id
                session.add(action)
            elif action.case_id == case.id:  # this child's own action goes, with its history
                session.exec(delete(Chase).where(col(Chase.action_id) == action.id))
                session.exec(delete(ActionEvent).where(col(ActionEvent.action_id) == action.id))
                session.delete(action)
        session.delete(link)
    session.flush()
    session.exec(delete(Decision).where(col(Decision.case_id) == case.id))
    session.exec(
        update(DiscussionChild)
        .where(col(DiscussionChild.through_context_id) == case.id)
        .values(through_context_id=None)
    )
    session.exec(update(Meeting).where(col(Meeting.context_case_id) == case.id).values(context_case_id=None))
    session.flush()


DISCUSSIONS_PAGE = 20  # a child's discussions a message lists at a time


@dataclass(frozen=True)
class ChildDiscussion:
    """One discussion concerning a child, as `/strategy CS-…` lists it (references only)."""

    reference: str
    meeting_type: str
    state: str
    scheduled_start: datetime | None
    others: tuple[str, ...]  # the other children it concerns, by case reference


@dataclass(frozen=True)
class ChildDiscussionsPage:
    case_reference: str
    rows: list[ChildDiscussion]
    page: int
    total: int
    size: int = DISCUSSIONS_PAGE

    @property
    def has_next(self) -> bool:
        return self.page * self.size + len(self.rows) < self.total


def concerning_child(case_id: int | None) -> Any:
    """The ids of every discussion concerning the child: as its first child, or one of several."""
    return (
        select(col(Meeting.id))
        .where(col(Meeting.case_id) == case_id)
        .union(select(col(DiscussionChild.meeting_id)).where(col(DiscussionChild.case_id) == case_id))
    )


def child_discussions_page(
    session: Session, case: Case, *, page: int = 0, size: int = DISCUSSIONS_PAGE
) -> ChildDiscussionsPage:
    """The discussions concerning one child, the latest first, a page at a time: three
    statements whatever their number (a count, the page, the other children of the page)."""
    concerning = col(Meeting.id).in_(concerning_child(case.id))
    total = session.exec(select(func.count()).select_from(Meeting).where(concerning)).one()
    page = max(0, min(page, max(total - 1, 0) // size))
    meetings = session.exec(
        select(Meeting)
        .where(concerning)
        .order_by(col(Meeting.scheduled_start).desc(), col(Meeting.id).desc())
        .offset(page * size)
        .limit(size)
    ).all()
    others: dict[int, list[str]] = {}
    ids = [m.id for m in meetings]
    if ids:
        for meeting_id, reference in session.exec(
            select(DiscussionChild.meeting_id, Case.reference)
            .join(Case, col(Case.id) == DiscussionChild.case_id)
            .where(col(DiscussionChild.meeting_id).in_(ids), col(DiscussionChild.case_id) != case.id)
            .order_by(col(DiscussionChild.meeting_id), col(DiscussionChild.position))
        ):
            others.setdefault(meeting_id, []).append(reference)
    rows = [
        ChildDiscussion(
            m.reference, m.meeting_type, m.state, m.scheduled_start, tuple(others.get(m.id or 0, ()))
        )
        for m in meetings
    ]
    return ChildDiscussionsPage(case.reference, rows, page, total, size)
