"""Agency updates: who may write one, when it is due, saving drafts and submissions as
versions, and the chair's combined view. Plain Python over the database."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import false, func, or_
from sqlalchemy.orm import aliased
from sqlmodel import Session, col, select

from bot.agency_updates.models import AgencyUpdate, AgencyUpdateVersion
from bot.audit.service import Actor, record
from bot.cases.links import LinksInvalid, parse_links
from bot.cases.models import Case
from bot.cases.service import NAME_IN_SLACK_TEXT, mentions_child
from bot.children.service import children_of
from bot.convening.models import Invitation, Meeting, MeetingState
from bot.database import among_ids
from bot.panel.models import AgendaItem, PanelCase, PanelSitting
from bot.partnership.models import Agency, Person
from bot.partnership.service import Member
from bot.schedules import Partnership
from bot.working_days import WorkingCalendar

TEXT_FIELDS: dict[str, str] = {
    "role": "Your role",
    "involvement_current": "Current involvement",
    "involvement_past": "Past involvement",
    "new_missing": "Missing episodes",
    "new_police_intelligence": "Police intelligence",
    "new_school_attendance": "School attendance",
    "new_other": "Other new information",
    "protective_factors": "Protective factors",
    "actions_progress": "Progress on this agency's actions",
    "child_family_views": "Views of the child and family",
    "restriction_detail": "Other restriction on sharing",
    "links": "Links to peers, suspected perpetrators and places",
}
# With several children (or a context), each part of an update says whom it is about.
ABOUT_SECTIONS: dict[str, str] = {
    "about_involvement": "Your agency's involvement",
    "about_new_information": "New information since last contact",
    "about_risk": "Risk indicators and protective factors",
    "about_actions_views": "Actions and views",
}
ABOUT_ALL = "all"
TEXT_LIMIT = 3000
ROLE_LIMIT = 200
RATINGS: dict[str, str] = {
    "not_present": "Not present",
    "historic": "Historic",
    "current": "Current",
    "not_known": "Not known",
}
# An indicator a submitted update leaves unrated: the agency does not know, which the
# chair and the minutes must see as such rather than as "not present".
NOT_KNOWN = "not_known"


def rating_of(ratings: dict[str, str], code: str) -> str:
    """A submitted update's rating of one indicator; unrated is *not known*."""
    return ratings.get(code) or NOT_KNOWN


OPEN_STATES = (MeetingState.CONVENING, MeetingState.SCHEDULED)


class UpdateRefused(Exception):
    """The person may not write this update, or it can no longer change; says why."""


def working_time_before(calendar: WorkingCalendar, moment: datetime, span: timedelta) -> datetime:
    """The moment `span` of working time before `moment` (counting working hours only)."""
    remaining = span
    cursor = moment
    day = calendar.local(cursor).date()
    while True:
        if calendar.is_working_day(day):
            start, end = calendar.start_of_day(day), calendar.end_of_day(day)
            latest = min(cursor, end)
            if latest > start:
                available = latest - start
                if available >= remaining:
                    return latest - remaining
                remaining -= available
        day = calendar.previous_working_day(day)
        cursor = calendar.end_of_day(day)


def deadline_for(meeting: Meeting, partnership: Partnership, calendar: WorkingCalendar) -> datetime | None:
    """When updates are due: a panel sitting's own updates cut-off, or else the meeting
    type's policy for this urgency."""
    return deadline_of(
        meeting.scheduled_start,
        meeting.details,
        meeting.meeting_type,
        meeting.urgency,
        partnership=partnership,
        calendar=calendar,
    )


def deadline_of(
    scheduled_start: datetime | None,
    details: dict[str, Any],
    meeting_type: str,
    urgency: str,
    *,
    partnership: Partnership,
    calendar: WorkingCalendar,
) -> datetime | None:
    """`deadline_for` from a meeting's columns alone, for a sweep that reads no whole rows."""
    if scheduled_start is None:
        return None
    if details.get("updates_cutoff"):
        return datetime.fromisoformat(details["updates_cutoff"])
    level = partnership.meeting_type(meeting_type).urgencies.get(urgency)
    if level is None:
        return scheduled_start
    due = level.updates_due
    if due.working_hours_before is not None:
        return working_time_before(calendar, scheduled_start, timedelta(hours=due.working_hours_before))
    days = due.end_of_working_days_before or 0
    meeting_day = calendar.local(scheduled_start).date()
    return calendar.end_of_day(calendar.add_working_days(meeting_day, -days) if days else meeting_day)


@dataclass(frozen=True)
class UpdateContext:
    """An invitation with its meeting and agency, as the update form needs them."""

    invitation: Invitation
    meeting: Meeting
    agency: Agency
    case_reference: str
    agenda_item_id: int = 0  # a panel's agenda item; 0 for a strategy discussion
    child_name: str = ""  # to keep it out of what Slack will show
    # A discussion of several children or a context: the references a part may be about.
    subjects: tuple[str, ...] = ()


def agenda_item_case(session: Session, meeting: Meeting, agenda_item_id: int) -> Case:
    """The child or context an item on this meeting's panel agenda is about."""
    item = session.get(AgendaItem, agenda_item_id)
    sitting = session.get(PanelSitting, item.sitting_id) if item else None
    panel_case = session.get(PanelCase, item.panel_case_id) if item else None
    case = session.get(Case, panel_case.case_id) if panel_case else None
    if sitting is None or sitting.meeting_id != meeting.id or case is None:
        raise UpdateRefused("That item is not on this panel's agenda.")
    return case


def context_for(session: Session, invitation_id: int, agenda_item_id: int = 0) -> UpdateContext:
    invitation = session.get(Invitation, invitation_id)
    if invitation is None:
        raise UpdateRefused("That invitation no longer exists.")
    meeting = session.get(Meeting, invitation.meeting_id)
    agency = session.get(Agency, invitation.agency_id)
    assert meeting is not None and agency is not None
    if agenda_item_id:
        case: Case | None = agenda_item_case(session, meeting, agenda_item_id)
    else:
        case = session.get(Case, meeting.case_id) if meeting.case_id else None
    return UpdateContext(
        invitation,
        meeting,
        agency,
        case.reference if case else "",
        agenda_item_id,
        case.child_name if case else "",
        () if agenda_item_id else subjects_of(session, meeting),
    )


def subjects_of(session: Session, meeting: Meeting) -> tuple[str, ...]:
    """What a part of an update may be about: each child by reference, and the context;
    empty for a discussion of one child (every part is about them)."""
    children = [c.reference for c in children_of(session, meeting)]
    context = session.get(Case, meeting.context_case_id) if meeting.context_case_id else None
    if len(children) < 2 and context is None:
        return ()
    return (*children, *((context.reference,) if context else ()))


def check_may_write(context: UpdateContext, member: Member | None, now: datetime) -> None:
    """Only the agency's people or its named delegate, and only while the meeting is open."""
    invitation, meeting, agency = context.invitation, context.meeting, context.agency
    if member is None or (member.agency_code != agency.code and member.person_id != invitation.delegate_id):
        raise UpdateRefused(f"Only {agency.name} (or its named delegate) can write its update.")
    if meeting.state not in OPEN_STATES:
        raise UpdateRefused(f"{meeting.reference} is {meeting.state}: updates are closed.")


def current_update(session: Session, context: UpdateContext) -> AgencyUpdate | None:
    return session.exec(
        select(AgencyUpdate).where(
            col(AgencyUpdate.meeting_id) == context.meeting.id,
            col(AgencyUpdate.agency_id) == context.agency.id,
            col(AgencyUpdate.agenda_item_id) == context.agenda_item_id,
        )
    ).first()


def latest_version(session: Session, update: AgencyUpdate | None) -> AgencyUpdateVersion | None:
    if update is None:
        return None
    return session.exec(
        select(AgencyUpdateVersion)
        .where(col(AgencyUpdateVersion.update_id) == update.id)
        .order_by(col(AgencyUpdateVersion.version).desc())
    ).first()


def validate(form: dict[str, Any], partnership: Partnership, *, submitting: bool) -> dict[str, str]:
    """Problems keyed by form block; drafts need only sane lengths, submissions need more."""
    policy = partnership.agency_updates
    errors: dict[str, str] = {}
    for field, label in TEXT_FIELDS.items():
        limit = ROLE_LIMIT if field == "role" else TEXT_LIMIT
        if len(form.get(field) or "") > limit:
            errors[field] = f"{label}: keep it under {limit} characters (it has {len(form[field])})."
    basis = form.get("lawful_basis")
    if basis:
        try:
            policy.lawful_basis(basis)
        except KeyError:
            errors["lawful_basis"] = "Choose a lawful basis from the list."
    ratings = form.get("risk_ratings") or {}
    for code, rating in ratings.items():
        if rating and rating not in RATINGS:
            errors[f"risk:{code}"] = "Choose not present, historic, current or not known."
    for code in form.get("restrictions") or []:
        try:
            policy.restriction(code)
        except KeyError:
            errors["restrictions"] = "Choose restrictions from the list."
    if form.get("links"):
        try:
            parse_links(form["links"])
        except LinksInvalid as invalid:
            errors["links"] = str(invalid)
    if not submitting:
        return errors
    if not (form.get("involvement_current") or "").strip():
        errors.setdefault(
            "involvement_current", "Say what your agency is doing now (or that it is not involved)."
        )
    if not basis:
        errors.setdefault("lawful_basis", "Choose the lawful basis for sharing this information.")
    return errors


def _content(form: dict[str, Any]) -> dict[str, str]:
    content = {field: (form.get(field) or "").strip() for field in TEXT_FIELDS}
    content.update({key: str(form[key]) for key in ABOUT_SECTIONS if form.get(key)})
    return content


def about_problem(form: dict[str, Any], subjects: tuple[str, ...]) -> str | None:
    """A part said to be about someone the discussion does not concern."""
    allowed = {ABOUT_ALL, *subjects}
    for key in ABOUT_SECTIONS:
        value = form.get(key)
        if value and value not in allowed:
            return "Choose who each part is about from the list: the children's references, or the context."
    return None


def save(
    session: Session,
    context: UpdateContext,
    form: dict[str, Any],
    *,
    member: Member,
    submitting: bool,
    key: str,
    partnership: Partnership,
    calendar: WorkingCalendar,
    actor: Actor,
    now: datetime,
) -> tuple[AgencyUpdate, bool]:
    """Store a draft or a submission as a new version; returns the update and whether a new
    version was made (a retried request, or nothing changed, makes none)."""
    check_may_write(context, member, now)
    problem = about_problem(form, context.subjects)
    if problem:
        raise UpdateRefused(problem)
    # Links show on the panel's Home tab: never the child's name.
    if (
        context.agenda_item_id
        and context.child_name
        and mentions_child(form.get("links") or "", context.child_name)
    ):
        raise UpdateRefused(NAME_IN_SLACK_TEXT)
    update = current_update(session, context)
    if (
        update is not None
        and update.state == "submitted"
        and context.meeting.scheduled_start is not None
        and now >= context.meeting.scheduled_start
    ):
        raise UpdateRefused("The discussion has started: send any change to the chair instead.")
    if update is None:
        update = AgencyUpdate(
            meeting_id=context.meeting.id or 0,
            agency_id=context.agency.id or 0,
            agenda_item_id=context.agenda_item_id,
        )
        session.add(update)
        session.flush()
    if session.exec(
        select(AgencyUpdateVersion).where(
            col(AgencyUpdateVersion.update_id) == update.id, col(AgencyUpdateVersion.submission_key) == key
        )
    ).first():
        return update, False
    previous = latest_version(session, update)
    content = _content(form)
    ratings = {k: v for k, v in (form.get("risk_ratings") or {}).items() if v}
    if submitting:  # what the agency left unrated it does not know, and the record says so
        for indicator in partnership.agency_updates.risk_indicators:
            ratings.setdefault(indicator.code, NOT_KNOWN)
    restrictions = sorted(form.get("restrictions") or [])
    unchanged = previous is not None and (
        previous.content == content
        and previous.risk_ratings == ratings
        and previous.lawful_basis == (form.get("lawful_basis") or "")
        and previous.restrictions == restrictions
        and previous.is_draft == (not submitting)
    )
    if unchanged:
        return update, False
    deadline = deadline_for(context.meeting, partnership, calendar)
    late = bool(submitting and deadline is not None and now > deadline)
    version = AgencyUpdateVersion(
        update_id=update.id or 0,
        version=update.current_version + 1,
        is_draft=not submitting,
        author_id=member.person_id,
        submission_key=key,
        content=content,
        risk_ratings=ratings,
        lawful_basis=form.get("lawful_basis") or "",
        restrictions=restrictions,
        not_for_family=bool(set(restrictions) & partnership.agency_updates.restrictions_not_for_family()),
        late=late,
        created_at=now,
    )
    session.add(version)
    update.current_version = version.version
    if submitting:
        if update.state == "submitted":
            update.amended = True
        else:
            update.first_submitted_at = now
            update.late = late
        update.state = "submitted"
        update.submitted_at = now
    session.add(update)
    record(
        session,
        at=now,
        actor=actor,
        act="agency_update.submitted" if submitting else "agency_update.draft_saved",
        record_type="agency_update",
        record_id=update.id or 0,
        case_reference=context.case_reference,
        details={
            "agency": context.agency.code,
            "version": version.version,
            "late": late,
            "agenda_item": context.agenda_item_id,
        },
    )
    session.flush()
    return update, True


def form_from_version(version: AgencyUpdateVersion | None) -> dict[str, Any]:
    """What to pre-fill the form with: the latest version, draft or submitted."""
    if version is None:
        return {}
    return {
        **version.content,
        "risk_ratings": dict(version.risk_ratings),
        "lawful_basis": version.lawful_basis,
        "restrictions": list(version.restrictions),
    }


def contributions(session: Session, update: AgencyUpdate) -> dict[str, str]:
    """Who last wrote each field: the author of the version that last changed it."""
    versions = list(
        session.exec(
            select(AgencyUpdateVersion)
            .where(col(AgencyUpdateVersion.update_id) == update.id)
            .order_by(col(AgencyUpdateVersion.version))
        ).all()
    )
    return _authors_of(versions, _names(session, {v.author_id for v in versions}))


def _names(session: Session, person_ids: set[int]) -> dict[int, str]:
    """People's names by id, in one statement (none for no one)."""
    if not person_ids:
        return {}
    rows = session.exec(select(Person.id, Person.name).where(among_ids(col(Person.id), person_ids)))
    return {person_id or 0: name for person_id, name in rows}


def _authors_of(versions: list[AgencyUpdateVersion], names: dict[int, str]) -> dict[str, str]:
    """Who last wrote each field, from an update's versions in order (drafts included)."""
    authors: dict[str, str] = {}
    previous: dict[str, Any] = {}
    for version in versions:
        name = names.get(version.author_id, "unknown")
        current = {
            **version.content,
            "risk_ratings": version.risk_ratings,
            "lawful_basis": version.lawful_basis,
        }
        for field, value in current.items():
            if value and value != previous.get(field):
                authors[field] = name
        previous = current
    return authors


@dataclass(frozen=True)
class AgencyUpdateSummary:
    """One agency's update as the chair's view shows it."""

    agency_code: str
    agency_name: str
    state: str  # missing | draft | submitted
    late: bool
    amended: bool
    submitted_at: datetime | None
    version: int
    content: dict[str, str]
    risk_ratings: dict[str, str]
    lawful_basis: str
    restrictions: tuple[str, ...]
    not_for_family: bool
    authors: dict[str, str]


def overview(
    session: Session,
    meeting: Meeting,
    *,
    deadline: datetime | None,
    now: datetime,
    agenda_item_id: int = 0,
) -> list[AgencyUpdateSummary]:
    """Every invited agency's update (or its absence), in invitation order. A draft counts as
    missing for the chair: only what was submitted is shown. The convenor's own agency
    presents at the discussion, so it is listed only if it chose to submit an update."""
    return overviews(session, meeting, [agenda_item_id], deadline=deadline, now=now)[agenda_item_id]


def overviews(
    session: Session,
    meeting: Meeting,
    agenda_item_ids: list[int],
    *,
    deadline: datetime | None,
    now: datetime,
) -> dict[int, list[AgencyUpdateSummary]]:
    """`overview` for several items of one meeting (a panel sitting's agenda) at once. A
    fixed number of statements however many agencies, items and versions: the convenor,
    the invitations with their agencies, the items' updates, the versions shown (each
    latest submission with those before it, never a draft saved since), the authors."""
    convenor = session.get(Person, meeting.convenor_id) if meeting.convenor_id else None
    rows = session.exec(
        select(Invitation, Agency)
        .join(Agency, col(Agency.id) == col(Invitation.agency_id))
        .where(col(Invitation.meeting_id) == meeting.id)
        .order_by(col(Invitation.id))
    ).all()
    wanted = sorted(set(agenda_item_ids))
    updates: dict[tuple[int, int], AgencyUpdate] = {}
    if rows and wanted:
        for update in session.exec(
            select(AgencyUpdate)
            .where(
                col(AgencyUpdate.meeting_id) == meeting.id,
                col(AgencyUpdate.agenda_item_id).in_(wanted),
                col(AgencyUpdate.agency_id).in_({agency.id for _, agency in rows}),
            )
            .order_by(col(AgencyUpdate.id))
        ):
            updates.setdefault((update.agenda_item_id, update.agency_id), update)
    submitted_ids = [u.id for u in updates.values() if u.state == "submitted" and u.id is not None]
    versions: dict[int, list[AgencyUpdateVersion]] = {}
    if submitted_ids:
        # Only what is shown: the latest submission and the versions before it (whose
        # authors it credits); drafts saved since are the agency's and not read.
        earlier = aliased(AgencyUpdateVersion)
        latest_submission = (
            select(func.max(earlier.version))
            .where(earlier.update_id == AgencyUpdateVersion.update_id, earlier.is_draft == false())
            .correlate(AgencyUpdateVersion)
            .scalar_subquery()
        )
        for version in session.exec(
            select(AgencyUpdateVersion)
            .where(
                among_ids(col(AgencyUpdateVersion.update_id), submitted_ids),
                col(AgencyUpdateVersion.version) <= latest_submission,
            )
            .order_by(col(AgencyUpdateVersion.update_id), col(AgencyUpdateVersion.version))
        ):
            versions.setdefault(version.update_id, []).append(version)
    names = _names(session, {v.author_id for listed in versions.values() for v in listed})
    return {
        item_id: _summaries(rows, updates, versions, names, item_id, convenor, deadline, now)
        for item_id in agenda_item_ids
    }


def _summaries(
    rows: Sequence[tuple[Invitation, Agency]],
    updates: dict[tuple[int, int], AgencyUpdate],
    versions: dict[int, list[AgencyUpdateVersion]],
    names: dict[int, str],
    item_id: int,
    convenor: Person | None,
    deadline: datetime | None,
    now: datetime,
) -> list[AgencyUpdateSummary]:
    """One item's summaries, in invitation order, from what `overviews` read."""
    summaries: list[AgencyUpdateSummary] = []
    for _, agency in rows:
        update = updates.get((item_id, agency.id or 0))
        history = versions.get(update.id or 0, []) if update is not None else []
        # the latest submission (a draft saved after it is not shown to the chair)
        submitted = next((v for v in reversed(history) if not v.is_draft), None)
        if submitted is None and convenor is not None and agency.id == convenor.agency_id:
            continue
        state = "submitted" if submitted else ("draft" if update is not None else "missing")
        late = bool(update and update.late) or (submitted is None and deadline is not None and now > deadline)
        summaries.append(
            AgencyUpdateSummary(
                agency_code=agency.code,
                agency_name=agency.name,
                state=state,
                late=late,
                amended=bool(update and update.amended),
                submitted_at=update.submitted_at if update else None,
                version=submitted.version if submitted else 0,
                content=dict(submitted.content) if submitted else {},
                risk_ratings=dict(submitted.risk_ratings) if submitted else {},
                lawful_basis=submitted.lawful_basis if submitted else "",
                restrictions=tuple(submitted.restrictions) if submitted else (),
                not_for_family=bool(submitted and submitted.not_for_family),
                authors=_authors_of(history, names) if update is not None and submitted else {},
            )
        )
    return summaries


@dataclass(frozen=True)
class Outstanding:
    """An invitation whose agency has not submitted its update for an open discussion."""

    invitation: Invitation
    meeting: Meeting
    agency: Agency
    update: AgencyUpdate | None  # a draft, or None when nothing is saved
    agenda_item_id: int = 0
    case_reference: str = ""  # a panel item's child or context


def outstanding_updates(
    session: Session,
    *,
    starting_after: datetime | None = None,
    agency_id: int | None = None,
    delegate_id: int | None = None,
) -> list[Outstanding]:
    """Updates still owed: open discussions, agencies that have not declined, leaving out
    the convenor's own agency (it presents at the discussion rather than writing ahead).
    With `agency_id` (and `delegate_id`), only what that agency (or that delegate) owes.
    A fixed number of queries besides one per open panel sitting: the invitations, their
    convenors' agencies, and every saved update of those discussions, read together."""
    query = (
        select(Invitation, Meeting, Agency)
        .join(Meeting, col(Meeting.id) == col(Invitation.meeting_id))
        .join(Agency, col(Agency.id) == col(Invitation.agency_id))
        .where(col(Meeting.state).in_(OPEN_STATES), col(Invitation.state) != "declined")
        .order_by(col(Meeting.scheduled_start), col(Invitation.id))
    )
    if starting_after is not None:
        query = query.where(col(Meeting.scheduled_start) > starting_after)
    if agency_id is not None or delegate_id is not None:
        query = query.where(
            or_(col(Invitation.agency_id) == agency_id, col(Invitation.delegate_id) == delegate_id)
        )
    listed = session.exec(query).all()
    meeting_ids = {meeting.id for _invitation, meeting, _agency in listed}
    convenors = {meeting.convenor_id for _invitation, meeting, _agency in listed if meeting.convenor_id}
    convenor_agency = (
        dict(session.exec(select(Person.id, Person.agency_id).where(col(Person.id).in_(convenors))).all())
        if convenors
        else {}
    )
    saved = (
        {
            (u.meeting_id, u.agency_id, u.agenda_item_id): u
            for u in session.exec(select(AgencyUpdate).where(col(AgencyUpdate.meeting_id).in_(meeting_ids)))
        }
        if meeting_ids
        else {}
    )
    owed: list[Outstanding] = []
    items: dict[int, list[tuple[int, str]]] = {}  # per meeting, read once
    for invitation, meeting, agency in listed:
        own = convenor_agency.get(meeting.convenor_id) == agency.id
        if own and not meeting.details.get("panel"):
            continue
        if (meeting.id or 0) not in items:
            items[meeting.id or 0] = _items_of(session, meeting)
        for item_id, case_reference in items[meeting.id or 0]:
            update = saved.get((meeting.id or 0, agency.id or 0, item_id))
            if update is None or update.state != "submitted":
                owed.append(Outstanding(invitation, meeting, agency, update, item_id, case_reference))
    return owed


def _items_of(session: Session, meeting: Meeting) -> list[tuple[int, str]]:
    """What updates a meeting asks for: one for a strategy discussion (item 0); one per
    agenda item for a panel sitting, once its agenda is out (none before)."""
    if not meeting.details.get("panel"):
        return [(0, "")]
    rows = session.exec(
        select(col(AgendaItem.id), col(Case.reference))
        .join(PanelSitting, col(PanelSitting.id) == col(AgendaItem.sitting_id))
        .join(PanelCase, col(PanelCase.id) == col(AgendaItem.panel_case_id))
        .join(Case, col(Case.id) == col(PanelCase.case_id))
        .where(col(PanelSitting.meeting_id) == meeting.id)
        .order_by(col(AgendaItem.position))
    ).all()
    return [(item_id or 0, reference) for item_id, reference in rows]
