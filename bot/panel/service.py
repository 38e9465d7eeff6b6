"""The Criminal Exploitation Panel as plain Python over the database: opening each sitting
as a meeting, referrals and the administrator's decision, the cases kept under review, the
agenda at the referral cut-off, and what the panel records about each item."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, func, select

from bot.actions.models import Action, ActionStatus
from bot.audit.service import Actor, record
from bot.cases.links import KINDS as LINK_KINDS
from bot.cases.links import Link, LinksInvalid, parse_links
from bot.cases.models import Case
from bot.cases.service import NAME_IN_SLACK_TEXT, case_reference_problem, mentions_child
from bot.convening.calendar_invite import uid_for
from bot.convening.models import Attendance, Meeting, MeetingState
from bot.convening.service import invite_agencies
from bot.database import among_ids
from bot.minutes.models import Document
from bot.minutes.service import ATTENDANCE_WORDS, store_attendance
from bot.panel.calendar import Sitting, next_sitting
from bot.panel.decisions import contradiction, destination, destination_errors
from bot.panel.models import (
    AgendaItem,
    Intelligence,
    NetworkLink,
    PanelCase,
    PanelCaseState,
    PanelSitting,
    Referral,
    ReferralState,
)
from bot.panel.nrm import NrmForm, nrm_words, store_nrm, validate_nrm
from bot.panel.reviews import candidates
from bot.panel.vocabulary import DECISIONS, RISK_LEVELS, RISK_ORDER, SCREENING_RESULTS, SUBJECT_KINDS
from bot.partnership.models import Person
from bot.partnership.service import Member
from bot.references import next_reference
from bot.schedules import Panel, Partnership
from bot.working_days import WorkingCalendar

TEXT_LIMIT = 3000
REFERRAL_PREFIX = "PR"
CONTEXT_PREFIX = "CTX"


class PanelRefused(Exception):
    """The person may not do this, or it cannot be done now; says why."""


def _person(session: Session, schedule_id: str) -> Person | None:
    return session.exec(select(Person).where(col(Person.schedule_id) == schedule_id)).first()


def is_administrator(panel: Panel, member: Member | None, partnership: Partnership) -> bool:
    configured = partnership.person_by_slack_id(member.slack_user_id) if member else None
    return configured is not None and configured.id in panel.administrators


def panels_of_member(partnership: Partnership, slack_user_id: str) -> list[Panel]:
    """The panels this person sits on: as administrator, chair, or named contact of a
    standing agency. Only they see the panel's network of links."""
    configured = partnership.person_by_slack_id(slack_user_id)
    if configured is None:
        return []
    mine = []
    for panel in partnership.panels:
        invitees = {
            person.id for code in panel.standing_agencies for person in partnership.agency(code).invitees()
        }
        if configured.id in {*panel.administrators, *panel.chairs, *invitees}:
            mine.append(panel)
    return mine


def network_lines(session: Session, partnership: Partnership, panels: list[Panel]) -> list[str]:
    """For the Home tab: each case under review with its recorded links, by reference."""
    lines: list[str] = []
    for panel in panels:
        cases = session.exec(
            select(Case)
            .join(PanelCase, col(PanelCase.case_id) == col(Case.id))
            .where(
                col(PanelCase.panel_code) == panel.code, col(PanelCase.state) == PanelCaseState.UNDER_REVIEW
            )
            .order_by(col(Case.reference))
        ).all()
        links: dict[str, list[str]] = {}
        for row in network_links(session, [c.id for c in cases]):
            words = row.linked_reference or row.label
            links.setdefault(row.case_reference, []).append(f"{LINK_KINDS.get(row.kind, row.kind)}: {words}")
        for case in cases:
            kind = SUBJECT_KINDS.get(case.subject_kind, case.subject_kind)
            lines.append(
                f"{case.reference} ({kind}, {panel.code}): "
                + ("; ".join(links.get(case.reference, [])) or "no links yet")
            )
    return lines


def panels_administered(partnership: Partnership, member: Member | None) -> list[Panel]:
    return [p for p in partnership.panels if is_administrator(p, member, partnership)]


def sitting_of(session: Session, meeting: Meeting) -> PanelSitting | None:
    return session.exec(select(PanelSitting).where(col(PanelSitting.meeting_id) == meeting.id)).first()


# ------------------------------------------------------------------------------ sittings


@dataclass(frozen=True)
class OpenedSitting:
    """A sitting this call opened, with what its invitations could not reach."""

    meeting_id: int
    sitting_id: int
    unreachable: list[str]
    skipped: list[date]


def open_next_sittings(
    session: Session, *, partnership: Partnership, calendar: WorkingCalendar, now: datetime
) -> list[OpenedSitting]:
    """Make sure each panel's next sitting exists as a meeting with its standing agencies
    invited. Idempotent, and safe when two processes run it at once."""
    opened: list[OpenedSitting] = []
    for panel in partnership.panels:
        upcoming = next_sitting(panel, calendar, now)
        exists = session.exec(
            select(col(PanelSitting.id)).where(
                col(PanelSitting.panel_code) == panel.code,
                col(PanelSitting.scheduled_for) == upcoming.scheduled_for,
            )
        ).first()
        if exists is not None:
            continue
        try:
            with session.begin_nested():
                opened.append(_open_sitting(session, panel, upcoming, partnership, calendar, now))
        except IntegrityError:
            continue  # another process opened it first
    return opened


def _skipped_since_last(
    session: Session, panel: Panel, calendar: WorkingCalendar, upcoming: Sitting
) -> list[date]:
    """Calendar dates between the last sitting opened and this one that the bank-holiday
    rule skipped, so people are told there is no panel that cycle."""
    last = session.exec(
        select(col(PanelSitting.scheduled_for))
        .where(col(PanelSitting.panel_code) == panel.code)
        .order_by(col(PanelSitting.scheduled_for).desc())
    ).first()
    if last is None:
        return []
    dates = panel.scheduled_dates(last, upcoming.scheduled_for)
    return [d for d in dates if last < d < upcoming.scheduled_for and not calendar.is_working_day(d)]


def _open_sitting(
    session: Session,
    panel: Panel,
    upcoming: Sitting,
    partnership: Partnership,
    calendar: WorkingCalendar,
    now: datetime,
) -> OpenedSitting:
    kind = partnership.meeting_type(panel.meeting_type)
    administrator = _person(session, panel.administrators[0])
    chair = _person(session, panel.chairs[0]) if panel.chairs else None
    taker_code = next((c for c in panel.administrators if "minute_taker" in partnership.roles_of(c)), None)
    minute_taker = _person(session, taker_code) if taker_code else None
    skipped = _skipped_since_last(session, panel, calendar, upcoming)
    meeting = Meeting(
        reference=next_reference(
            session, partnership.settings.panel_reference_prefix, calendar.local(upcoming.starts).year
        ),
        meeting_type=panel.meeting_type,
        state=MeetingState.SCHEDULED,
        urgency=kind.default_urgency,
        format="meeting",
        reason=f"{panel.name}: scheduled sitting",
        scheduled_start=upcoming.starts,
        duration_minutes=panel.duration_minutes,
        deadline=upcoming.starts,
        convenor_id=administrator.id if administrator else None,
        chair_id=chair.id if chair else None,
        minute_taker_id=minute_taker.id if minute_taker else None,
        created_at=now,
        details={
            "panel": panel.code,
            "scheduled_for": upcoming.scheduled_for.isoformat(),
            "referral_cutoff": upcoming.referral_cutoff.isoformat(),
            "updates_cutoff": upcoming.updates_cutoff.isoformat(),
            "skipped": [d.isoformat() for d in skipped],
        },
    )
    session.add(meeting)
    session.flush()
    meeting.calendar_uid = uid_for(meeting.reference)
    sitting = PanelSitting(
        panel_code=panel.code,
        meeting_id=meeting.id or 0,
        scheduled_for=upcoming.scheduled_for,
        held_on=upcoming.held_on,
        referral_cutoff=upcoming.referral_cutoff,
        updates_cutoff=upcoming.updates_cutoff,
        created_at=now,
    )
    session.add(sitting)
    session.flush()
    unreachable = invite_agencies(
        session,
        meeting,
        dict.fromkeys(panel.standing_agencies, "required"),
        host=None,
        partnership=partnership,
        calendar=calendar,
        now=now,
    )
    record(
        session,
        at=now,
        actor=Actor("system", "", None),
        act="panel.sitting_opened",
        record_type="meeting",
        record_id=meeting.reference,
        details={
            "panel": panel.code,
            "held_on": upcoming.held_on.isoformat(),
            "moved_from": upcoming.scheduled_for.isoformat() if upcoming.moved else None,
            "skipped": [d.isoformat() for d in skipped],
        },
    )
    return OpenedSitting(meeting.id or 0, sitting.id or 0, unreachable, skipped)


# ----------------------------------------------------------------------------- referrals


@dataclass(frozen=True)
class ReferralForm:
    """What the referrer typed into `/panel refer`."""

    panel_code: str
    subject_kind: str
    case_reference: str = ""  # a child's case reference
    child_name: str = ""
    child_date_of_birth: date | None = None
    school: str = ""
    label: str = ""  # a context's name: the park, the group, the school
    reasons: str = ""
    risk_level: str = ""
    screening_result: str = ""
    links: str = ""


def validate_referral(
    session: Session, form: ReferralForm, partnership: Partnership, *, today: date
) -> dict[str, str]:
    """Problems keyed by form block, so each shows beside its field."""
    errors: dict[str, str] = {}
    if form.panel_code not in {p.code for p in partnership.panels}:
        errors["panel"] = "Choose the panel."
    if form.subject_kind not in SUBJECT_KINDS:
        errors["subject_kind"] = "Choose a child, a location, a peer group or a school."
    elif form.subject_kind == "child":
        settings = partnership.settings
        reference = settings.normalise_case_reference(form.case_reference)
        problem = case_reference_problem(partnership, reference)
        if problem:
            errors["case_reference"] = problem
        else:
            known = session.exec(select(Case).where(col(Case.reference) == reference)).first()
            if known is not None and known.subject_kind != "child":
                errors["case_reference"] = f"{reference} is a context, not a child."
            elif known is None and not form.child_name.strip():
                errors["child_name"] = "This child is new to the bot: give their name for the records."
            elif (
                known is not None
                and form.child_name.strip()
                and known.child_name
                and form.child_name.strip().casefold() != known.child_name.casefold()
            ):
                errors["child_name"] = f"{reference} is recorded for a different child. Check the reference."
        if form.child_date_of_birth and form.child_date_of_birth > today:
            errors["child_date_of_birth"] = "The date of birth is in the future."
    elif not form.label.strip():
        errors["label"] = "Name the location, peer group or school."
    elif len(form.label) > 200:
        errors["label"] = "Keep the name under 200 characters."
    if not form.reasons.strip():
        errors["reasons"] = "Say why you are referring to the panel."
    elif len(form.reasons) > TEXT_LIMIT:
        errors["reasons"] = f"Keep the reasons under {TEXT_LIMIT} characters."
    if form.risk_level not in RISK_LEVELS:
        errors["risk_level"] = "Choose the risk level."
    if form.screening_result not in SCREENING_RESULTS:
        errors["screening_result"] = "Choose the screening result."
    try:
        parse_links(form.links)
    except LinksInvalid as invalid:
        errors["links"] = str(invalid)
    # Reasons reach administrators in Slack and links the panel's Home tab: never the name.
    name = form.child_name.strip()
    if form.subject_kind == "child" and not name:
        known = session.exec(
            select(Case).where(
                col(Case.reference) == partnership.settings.normalise_case_reference(form.case_reference)
            )
        ).first()
        name = known.child_name if known else ""
    for block, text in (("reasons", form.reasons), ("links", form.links)):
        if name and block not in errors and mentions_child(text, name):
            errors[block] = NAME_IN_SLACK_TEXT
    return errors


@dataclass
class Referred:
    """The stored referral, whether this call made it, and whether it joined a case the
    panel already reviews."""

    referral: Referral
    case: Case
    created: bool
    linked_to_existing: bool = False
    administrators: list[str] = field(default_factory=list)  # Slack ids to ask


def _subject_case(
    session: Session, form: ReferralForm, partnership: Partnership, calendar: WorkingCalendar, now: datetime
) -> Case:
    """The child's case (made if new), or the context's (found by its name, else made)."""
    if form.subject_kind == "child":
        reference = partnership.settings.normalise_case_reference(form.case_reference)
        case = session.exec(select(Case).where(col(Case.reference) == reference)).first()
        if case is None:
            case = Case(reference=reference, subject_kind="child", created_at=now)
        case.child_name = case.child_name or form.child_name.strip()
        case.child_date_of_birth = case.child_date_of_birth or form.child_date_of_birth
        case.school = case.school or form.school.strip()
        session.add(case)
        session.flush()
        return case
    key = Link(form.subject_kind, form.label).key
    for case in session.exec(select(Case).where(col(Case.subject_kind) == form.subject_kind)):
        if Link(case.subject_kind, case.subject_label).key == key:
            return case
    case = Case(
        reference=next_reference(session, CONTEXT_PREFIX, calendar.local(now).year),
        subject_kind=form.subject_kind,
        subject_label=" ".join(form.label.split()),
        created_at=now,
    )
    session.add(case)
    session.flush()
    return case


def refer(
    session: Session,
    form: ReferralForm,
    *,
    member: Member,
    actor: Actor,
    key: str,
    partnership: Partnership,
    calendar: WorkingCalendar,
    now: datetime,
) -> Referred:
    """Store a referral. A child or context already under review is linked to its case at
    once (no second case, no decision needed); anything else waits for an administrator."""
    existing = session.exec(select(Referral).where(col(Referral.submission_key) == key)).first()
    if existing is not None:
        return Referred(existing, session.get_one(Case, existing.case_id), created=False)
    panel = partnership.panel(form.panel_code)
    case = _subject_case(session, form, partnership, calendar, now)
    referral = Referral(
        reference=next_reference(session, REFERRAL_PREFIX, calendar.local(now).year),
        panel_code=panel.code,
        subject_kind=form.subject_kind,
        case_id=case.id or 0,
        reasons=form.reasons.strip(),
        risk_level=form.risk_level,
        screening_result=form.screening_result,
        links=[{"kind": link.kind, "label": link.label} for link in parse_links(form.links)],
        referred_by_id=member.person_id,
        submission_key=key,
        created_at=now,
    )
    session.add(referral)
    session.flush()
    under_review = session.exec(
        select(PanelCase).where(
            col(PanelCase.panel_code) == panel.code,
            col(PanelCase.case_id) == case.id,
            col(PanelCase.state) == PanelCaseState.UNDER_REVIEW,
        )
    ).first()
    if under_review is not None:
        referral.state = ReferralState.ACCEPTED
        referral.linked_to_existing = True
        referral.panel_case_id = under_review.id
        referral.decided_at = now
        _raise_risk(under_review, form.risk_level, form.screening_result)
        session.add(under_review)
        _store_links(session, case, referral.links, source=referral.reference, by=member.person_id, now=now)
    record(
        session,
        at=now,
        actor=actor,
        act="panel.referred",
        record_type="referral",
        record_id=referral.reference,
        case_reference=case.reference,
        details={
            "panel": panel.code,
            "subject": form.subject_kind,
            "risk": form.risk_level,
            "linked_to_existing": referral.linked_to_existing,
        },
    )
    admins = [
        person.slack_user_id
        for person in (_person(session, code) for code in panel.administrators)
        if person is not None and person.slack_user_id
    ]
    return Referred(referral, case, True, referral.linked_to_existing, admins)


def _raise_risk(panel_case: PanelCase, risk_level: str, screening: str) -> None:
    """A new referral can raise what the panel knows of the risk, never quietly lower it."""
    if RISK_ORDER.get(risk_level, 3) < RISK_ORDER.get(panel_case.risk_level, 3):
        panel_case.risk_level = risk_level
    panel_case.screening_result = screening or panel_case.screening_result


def _store_links(
    session: Session, case: Case, links: list[dict[str, str]], *, source: str, by: int | None, now: datetime
) -> int:
    """Record each link once per case (same kind and label, any spelling)."""
    stored = 0
    known = {
        (row.kind, row.label_key)
        for row in session.exec(select(NetworkLink).where(col(NetworkLink.case_id) == case.id))
    }
    for raw in links:
        link = Link(raw["kind"], raw["label"])
        if (link.kind, link.key) in known:
            continue
        linked = None
        if link.kind == "case":
            linked = session.exec(select(Case).where(col(Case.reference) == link.label.upper())).first()
        session.add(
            NetworkLink(
                case_id=case.id or 0,
                kind=link.kind,
                label=link.label,
                label_key=link.key,
                linked_case_id=linked.id if linked else None,
                source=source,
                recorded_by_id=by,
                created_at=now,
            )
        )
        known.add((link.kind, link.key))
        stored += 1
    session.flush()
    return stored


def decide_referral(
    session: Session,
    referral_id: int,
    *,
    accept: bool,
    reason: str,
    member: Member | None,
    actor: Actor,
    partnership: Partnership,
    now: datetime,
) -> tuple[Referral, bool]:
    """An administrator accepts (the case goes under review, on the next agenda) or
    declines with a reason. Returns the referral and whether this call decided it."""
    referral = session.get(Referral, referral_id, with_for_update=True, populate_existing=True)
    if referral is None:
        raise PanelRefused("That referral no longer exists.")
    panel = partnership.panel(referral.panel_code)
    if not is_administrator(panel, member, partnership):
        raise PanelRefused(f"Only the administrators of {panel.name} decide its referrals.")
    assert member is not None
    if referral.state != ReferralState.PENDING:
        return referral, False
    if not accept and not reason.strip():
        raise PanelRefused("Say why the referral is declined; the referrer is told.")
    case = session.get(Case, referral.case_id)
    assert case is not None
    referral.decided_by_id, referral.decided_at = member.person_id, now
    if accept:
        panel_case = session.exec(
            select(PanelCase).where(
                col(PanelCase.panel_code) == panel.code, col(PanelCase.case_id) == case.id
            )
        ).first()
        if panel_case is None:
            panel_case = PanelCase(panel_code=panel.code, case_id=case.id or 0, added_at=now)
        elif panel_case.state == PanelCaseState.STEPPED_DOWN:
            panel_case.state, panel_case.stepped_down_at, panel_case.added_at = (
                PanelCaseState.UNDER_REVIEW,
                None,
                now,
            )
        else:
            referral.linked_to_existing = True
        panel_case.risk_level = panel_case.risk_level or referral.risk_level
        _raise_risk(panel_case, referral.risk_level, referral.screening_result)
        session.add(panel_case)
        session.flush()
        referral.state, referral.panel_case_id = ReferralState.ACCEPTED, panel_case.id
        _store_links(session, case, referral.links, source=referral.reference, by=member.person_id, now=now)
    else:
        referral.state, referral.decline_reason = ReferralState.DECLINED, reason.strip()[:1000]
    session.add(referral)
    record(
        session,
        at=now,
        actor=actor,
        act="panel.referral_accepted" if accept else "panel.referral_declined",
        record_type="referral",
        record_id=referral.reference,
        case_reference=case.reference,
        details={"reason": referral.decline_reason} if not accept else {},
    )
    session.flush()
    return referral, True


def pending_referrals(
    session: Session, panel_codes: list[str], *, limit: int | None = None
) -> list[tuple[Referral, Case]]:
    """The referrals waiting for a decision, oldest first; at most `limit` of them (a list
    read before an acknowledgement is bounded)."""
    query = (
        select(Referral, Case)
        .join(Case, col(Case.id) == col(Referral.case_id))
        .where(col(Referral.state) == ReferralState.PENDING, col(Referral.panel_code).in_(panel_codes))
        .order_by(col(Referral.created_at), col(Referral.id))
    )
    return list(session.exec(query if limit is None else query.limit(limit)).all())


# -------------------------------------------------------------------------------- agenda


@dataclass(frozen=True)
class AgendaLine:
    """One timed line of the agenda; a case line points at its item."""

    section: str
    title: str
    starts: datetime
    minutes: int
    item_id: int | None = None
    case_reference: str = ""
    subject: str = ""
    risk_level: str = ""
    screening_result: str = ""
    plan_status: str = ""
    why: str = ""


def _section_of(case: Case, heard_before: bool) -> str:
    if case.subject_kind != "child":
        return case.subject_kind
    return "under_review" if heard_before else "new_referral"


def issue_agenda(session: Session, sitting: PanelSitting, *, partnership: Partnership, now: datetime) -> bool:
    """Fix the sitting's agenda at the referral cut-off: the cases due (see `reviews`), new
    ones first within each section, higher risk first; the rest are listed by reference as
    not for discussion. Returns False when it was already out."""
    locked = session.get(PanelSitting, sitting.id, with_for_update=True, populate_existing=True)
    assert locked is not None
    if locked.agenda_issued_at is not None:
        return False
    panel = partnership.panel(locked.panel_code)
    timings = panel.agenda_minutes
    found = candidates(session, locked, partnership=partnership, now=now)
    order = list(SECTION_ORDER)
    entries = sorted(
        ((_section_of(c.case, c.heard_before), c.panel_case, c.case, c.reasons) for c in found if c.due),
        key=lambda e: (order.index(e[0]), RISK_ORDER.get(e[1].risk_level, 3), e[2].reference),
    )
    locked.not_for_discussion = sorted(c.case.reference for c in found if not c.due)
    for position, (section, panel_case, _, reasons) in enumerate(entries, start=1):
        minutes = {
            "new_referral": timings.new_referral,
            "under_review": timings.under_review,
        }.get(section, timings.context)
        session.add(
            AgendaItem(
                sitting_id=locked.id or 0,
                panel_case_id=panel_case.id or 0,
                section=section,
                position=position,
                minutes=minutes,
                reasons=list(reasons),
            )
        )
        for referral in session.exec(
            select(Referral).where(
                col(Referral.panel_case_id) == panel_case.id,
                col(Referral.state) == ReferralState.ACCEPTED,
                col(Referral.sitting_id) == None,  # noqa: E711
            )
        ):
            referral.sitting_id = locked.id
            session.add(referral)
    locked.agenda_issued_at = now
    session.add(locked)
    meeting = session.get(Meeting, locked.meeting_id)
    record(
        session,
        at=now,
        actor=Actor("system", "", None),
        act="panel.agenda_issued",
        record_type="meeting",
        record_id=meeting.reference if meeting else locked.id or 0,
        details={"items": len(entries), "not_for_discussion": len(locked.not_for_discussion)},
    )
    session.flush()
    return True


SECTION_ORDER = ("new_referral", "under_review", "location", "peer_group", "school")
CHILD_SECTIONS = SECTION_ORDER[:2]


def agenda_items(session: Session, sitting: PanelSitting) -> list[tuple[AgendaItem, PanelCase, Case]]:
    return list(
        session.exec(
            select(AgendaItem, PanelCase, Case)
            .join(PanelCase, col(PanelCase.id) == col(AgendaItem.panel_case_id))
            .join(Case, col(Case.id) == col(PanelCase.case_id))
            .where(col(AgendaItem.sitting_id) == sitting.id)
            .order_by(col(AgendaItem.position))
        ).all()
    )


def carried_forward_actions(session: Session, meeting: Meeting, panel_code: str) -> list[Action]:
    """Open actions from this panel's earlier sittings: they carry forward until done."""
    earlier = (
        select(col(PanelSitting.meeting_id))
        .join(Meeting, col(Meeting.id) == col(PanelSitting.meeting_id))
        .where(
            col(PanelSitting.panel_code) == panel_code,
            col(Meeting.scheduled_start) < meeting.scheduled_start,
        )
    )
    return list(
        session.exec(
            select(Action)
            .where(
                col(Action.meeting_id).in_(earlier),
                col(Action.status).in_((ActionStatus.OPEN, ActionStatus.ESCALATED)),
            )
            .order_by(col(Action.due_on), col(Action.id))
        ).all()
    )


def agenda_lines(
    session: Session, sitting: PanelSitting, meeting: Meeting, *, partnership: Partnership
) -> list[AgendaLine]:
    """The timed agenda: opening, actions from last time, each case by section, suspected
    perpetrators, then themes."""
    panel = partnership.panel(sitting.panel_code)
    timings = panel.agenda_minutes
    assert meeting.scheduled_start is not None
    clock = meeting.scheduled_start
    lines: list[AgendaLine] = []

    perpetrators_added = False

    def add(section: str, title: str, minutes: int, **extra: Any) -> None:
        nonlocal clock
        lines.append(AgendaLine(section, title, clock, minutes, **extra))
        clock = clock + timedelta(minutes=minutes)

    def add_perpetrators() -> None:
        nonlocal perpetrators_added
        rows = network_links(session, [case.id for _, _, case in items])
        count = len(network_groups(rows).get("suspected_perpetrator", []))
        add("perpetrators", f"Suspected perpetrators ({count} named)", timings.suspected_perpetrators)
        perpetrators_added = True

    add("opening", "Attendance and confidentiality", timings.opening)
    carried = carried_forward_actions(session, meeting, panel.code)
    add("actions", f"Actions from last time ({len(carried)} open)", timings.actions_from_last_time)
    items = agenda_items(session, sitting)
    # Children first (items come in section order), then who exploits them, then contexts.
    children = [entry for entry in items if entry[0].section in CHILD_SECTIONS]
    contexts = [entry for entry in items if entry[0].section not in CHILD_SECTIONS]
    for item, panel_case, case in children + contexts:
        if item.section not in CHILD_SECTIONS and not perpetrators_added:
            add_perpetrators()
        add(
            item.section,
            f"{case.reference} ({SUBJECT_KINDS.get(case.subject_kind, case.subject_kind)})",
            item.minutes,
            item_id=item.id,
            case_reference=case.reference,
            subject=SUBJECT_KINDS.get(case.subject_kind, case.subject_kind),
            risk_level=RISK_LEVELS.get(panel_case.risk_level, panel_case.risk_level),
            screening_result=SCREENING_RESULTS.get(panel_case.screening_result, panel_case.screening_result),
            plan_status=panel_case.plan_status,
            why="; ".join(item.reasons or []),
        )
    if not perpetrators_added:
        add_perpetrators()
    add("themes", "Themes and intelligence", timings.themes)
    return lines


# ------------------------------------------------------------------------------- network


@dataclass(frozen=True)
class LinkRow:
    """A link as documents and the Home tab show it."""

    case_reference: str
    kind: str
    label: str
    linked_reference: str = ""


def network_links(session: Session, case_ids: list[int | None]) -> list[LinkRow]:
    """Links recorded for these cases: at referral, at the panel, and in the agencies'
    submitted pre-panel updates."""
    from bot.agency_updates.models import AgencyUpdate, AgencyUpdateVersion

    ids = [i for i in case_ids if i]
    if not ids:
        return []
    references = dict(session.exec(select(Case.id, Case.reference).where(col(Case.id).in_(ids))).all())
    rows: dict[tuple[int, str, str], LinkRow] = {}
    links = session.exec(
        select(NetworkLink).where(col(NetworkLink.case_id).in_(ids)).order_by(col(NetworkLink.id))
    ).all()
    linked_ids = {link.linked_case_id for link in links if link.linked_case_id}
    linked_references = (
        dict(session.exec(select(Case.id, Case.reference).where(col(Case.id).in_(linked_ids))).all())
        if linked_ids
        else {}
    )
    for link in links:
        rows.setdefault(
            (link.case_id, link.kind, link.label_key),
            LinkRow(
                references[link.case_id],
                link.kind,
                link.label,
                linked_references.get(link.linked_case_id, "") if link.linked_case_id else "",
            ),
        )
    # plain columns: an update's id and case, and only the links of its latest submission
    # (the versions' other text is never needed here, so it is not read and decoded)
    updates = session.exec(
        select(AgencyUpdate.id, PanelCase.case_id)
        .join(AgendaItem, col(AgendaItem.id) == col(AgencyUpdate.agenda_item_id))
        .join(PanelCase, col(PanelCase.id) == col(AgendaItem.panel_case_id))
        .where(
            col(PanelCase.case_id).in_(ids),
            # never true of a strategy discussion's update (item 0): it lets PostgreSQL read
            # the panels' updates through their index even while it counts none at all
            col(AgencyUpdate.agenda_item_id) > 0,
            col(AgencyUpdate.state) == "submitted",
        )
        .order_by(col(AgencyUpdate.id))  # the first to name a link gives its label
    ).all()
    # each update's latest submitted version's links, all read in one statement
    submitted: dict[int, str] = {}
    if updates:
        for update_id, written_links in session.exec(
            select(AgencyUpdateVersion.update_id, col(AgencyUpdateVersion.content)["links"].as_string())
            .where(
                among_ids(col(AgencyUpdateVersion.update_id), (shared for shared, _ in updates)),
                col(AgencyUpdateVersion.is_draft).is_(False),
            )
            .order_by(col(AgencyUpdateVersion.version).desc())
        ):
            submitted.setdefault(update_id, written_links or "")
    for shared_id, case_id in updates:
        try:
            parsed = parse_links(submitted.get(shared_id or 0, ""))
        except LinksInvalid:
            continue
        for written in parsed:  # a Link as the agency wrote it, not a stored NetworkLink
            linked_reference = written.label.upper() if written.kind == "case" else ""
            rows.setdefault(
                (case_id, written.kind, written.key),
                LinkRow(references[case_id], written.kind, written.label, linked_reference),
            )
    return list(rows.values())


def network_groups(rows: list[LinkRow]) -> dict[str, list[tuple[str, list[str]]]]:
    """Peers, suspected perpetrators, locations, schools and groups, each with the cases
    linked to it (from `network_links`): the panel's contextual picture."""
    grouped: dict[str, dict[str, tuple[str, set[str]]]] = {}
    for row in rows:
        if row.kind == "case":
            continue
        key = Link(row.kind, row.label).key
        _, cases = grouped.setdefault(row.kind, {}).setdefault(key, (row.label, set()))
        cases.add(row.case_reference)
    return {
        kind: sorted(
            ((label, sorted(cases)) for label, cases in entries.values()), key=lambda e: e[0].casefold()
        )
        for kind, entries in grouped.items()
    }


# ----------------------------------------------------------------------------- recording


def may_record_panel(meeting: Meeting, member: Member | None, partnership: Partnership) -> bool:
    """The chair, the minute-taker and the panel's administrators record a sitting."""
    if member is None or not meeting.details.get("panel"):
        return False
    panel = partnership.panel(meeting.details["panel"])
    return member.person_id in {meeting.chair_id, meeting.minute_taker_id} or is_administrator(
        panel, member, partnership
    )


def check_may_record_panel(
    meeting: Meeting, member: Member | None, partnership: Partnership, now: datetime
) -> None:
    if not may_record_panel(meeting, member, partnership):
        raise PanelRefused("Only the chair, the minute-taker or a panel administrator can record the panel.")
    if meeting.scheduled_start is None or now < meeting.scheduled_start:
        raise PanelRefused(f"{meeting.reference} has not sat yet: record it once it has started.")


OUTCOME_FIELDS = (
    "victims",
    "offenders",
    "locations",
    "themes",
    "decision_reason",
    "disruption",
    "plan_status",
)


@dataclass(frozen=True)
class ItemOutcome:
    """What the panel recorded about one child or context."""

    victims: str = ""
    offenders: str = ""
    locations: str = ""
    themes: str = ""
    decision: str = ""
    decision_reason: str = ""
    nrm: NrmForm = field(default_factory=NrmForm)
    disruption: str = ""
    risk_level: str = ""
    plan_status: str = ""
    next_review_on: date | None = None
    links: str = ""
    destination: str = ""  # up:strategy_discussion, down:early_help ...
    taken_by_agency: str = ""
    taken_by_person: str = ""
    chair_confirms: bool = False


def validate_outcome(
    outcome: ItemOutcome,
    *,
    today: date,
    child_name: str = "",
    partnership: Partnership | None = None,
    is_chair: bool = False,
    subject_kind: str = "child",
) -> dict[str, str]:
    """Problems keyed by form block. New links show on the panel's Home tab, so they must
    not name the child. A step up or down names where it leads; a decision its own risk
    level or reason contradicts needs the chair to confirm it."""
    errors: dict[str, str] = {}
    if partnership is not None:
        errors.update(
            destination_errors(
                partnership,
                decision=outcome.decision,
                chosen=outcome.destination,
                taken_by_agency=outcome.taken_by_agency,
                taken_by_person=outcome.taken_by_person,
            )
        )
        against = contradiction(
            partnership.panel_practice, outcome.decision, outcome.risk_level, outcome.decision_reason
        )
        if outcome.chair_confirms and not is_chair:
            errors["chair_confirms"] = "Only the chair of this sitting can confirm a decision."
        elif against and not outcome.chair_confirms and outcome.decision_reason.strip():
            errors["decision_reason"] = f"{against} If the panel agreed it, the chair confirms it below."
    if child_name and mentions_child(outcome.links, child_name):
        errors["links"] = NAME_IN_SLACK_TEXT
    for name in OUTCOME_FIELDS:
        limit = 200 if name == "plan_status" else TEXT_LIMIT
        if len(getattr(outcome, name)) > limit:
            errors[name] = f"Keep this under {limit} characters."
    if outcome.decision not in DECISIONS:
        errors["decision"] = "Record the decision: step up, continue under review or step down."
    elif not outcome.decision_reason.strip():
        errors["decision_reason"] = "Record why."
    if partnership is not None:
        errors.update(validate_nrm(outcome.nrm, partnership, subject_kind=subject_kind, today=today))
    if outcome.risk_level not in RISK_LEVELS:
        errors["risk_level"] = "Record the risk level now."
    if outcome.decision != "step_down":
        if outcome.next_review_on is None:
            errors["next_review_on"] = "Set the next review date (it stays under review)."
        elif outcome.next_review_on <= today:
            errors["next_review_on"] = "The next review must be after today."
    try:
        parse_links(outcome.links)
    except LinksInvalid as invalid:
        errors["links"] = str(invalid)
    return errors


def child_name_of_item(session: Session, item_id: int) -> str:
    return subject_of_item(session, item_id)[0]


def subject_of_item(session: Session, item_id: int) -> tuple[str, str]:
    """The child's name (for the check that Slack text does not hold it) and the kind."""
    item = session.get(AgendaItem, item_id)
    panel_case = session.get(PanelCase, item.panel_case_id) if item else None
    case = session.get(Case, panel_case.case_id) if panel_case else None
    return (case.child_name, case.subject_kind) if case else ("", "")


def record_item(
    session: Session,
    item_id: int,
    outcome: ItemOutcome,
    *,
    member: Member | None,
    actor: Actor,
    partnership: Partnership,
    now: datetime,
) -> AgendaItem:
    """Store the VOLT record and decision for one item; the case steps down, or stays under
    review with its new risk level and review date. Recording again replaces it."""
    item = session.get(AgendaItem, item_id, with_for_update=True, populate_existing=True)
    sitting = session.get(PanelSitting, item.sitting_id) if item else None
    meeting = session.get(Meeting, sitting.meeting_id) if sitting else None
    if item is None or meeting is None:
        raise PanelRefused("That agenda item no longer exists.")
    check_may_record_panel(meeting, member, partnership, now)
    assert member is not None
    panel_case = session.get(PanelCase, item.panel_case_id)
    case = session.get(Case, panel_case.case_id) if panel_case else None
    assert panel_case is not None and case is not None
    item.outcome = {
        **{name: getattr(outcome, name).strip() for name in OUTCOME_FIELDS},
        "decision": outcome.decision,
        "risk_level": outcome.risk_level,
        "next_review_on": outcome.next_review_on.isoformat() if outcome.next_review_on else "",
        **_destination_record(outcome, partnership),
    }
    item.recorded_by_id, item.recorded_at = member.person_id, now
    session.add(item)
    panel_case.risk_level = outcome.risk_level
    panel_case.plan_status = outcome.plan_status.strip()[:200]
    panel_case.next_review_on = outcome.next_review_on
    if outcome.decision == "step_down":
        panel_case.state, panel_case.stepped_down_at = PanelCaseState.STEPPED_DOWN, now
    else:
        panel_case.state, panel_case.stepped_down_at = PanelCaseState.UNDER_REVIEW, None
    session.add(panel_case)
    links = [{"kind": link.kind, "label": link.label} for link in parse_links(outcome.links)]
    _store_links(session, case, links, source=meeting.reference, by=member.person_id, now=now)
    nrm = store_nrm(
        session,
        case,
        outcome.nrm,
        panel_code=panel_case.panel_code,
        by=member.person_id,
        actor=actor,
        key=f"item:{item.id}:{now.isoformat()}",
        now=now,
    )
    item.outcome = {**item.outcome, "nrm": nrm_words(session, nrm, partnership)}
    record(
        session,
        at=now,
        actor=actor,
        act="panel.item_recorded",
        record_type="agenda_item",
        record_id=item.id or 0,
        case_reference=case.reference,
        details={
            "decision": outcome.decision,
            "destination": outcome.destination,
            "chair_confirmed": outcome.chair_confirms,
            "nrm": outcome.nrm.given,
            "risk": outcome.risk_level,
        },
    )
    session.flush()
    return item


def _destination_record(outcome: ItemOutcome, partnership: Partnership) -> dict[str, Any]:
    """Where the decision leads, in words as recorded (the configuration may change later)."""
    found = destination(partnership.panel_practice, outcome.destination) if outcome.destination else None
    agency = ""
    if outcome.taken_by_agency:
        try:
            agency = partnership.agency(outcome.taken_by_agency).name
        except KeyError:
            agency = outcome.taken_by_agency
    against = contradiction(
        partnership.panel_practice, outcome.decision, outcome.risk_level, outcome.decision_reason
    )
    step_up = (
        partnership.panel_practice.step_up_named(found.code) if found and found.direction == "up" else None
    )
    return {
        "destination": outcome.destination if found else "",
        "destination_name": found.name if found else "",
        "convenes": found.convenes if found else "",
        "links": step_up.links or "" if step_up else "",
        "taken_by_agency": outcome.taken_by_agency,
        "taken_by": ", ".join(p for p in (outcome.taken_by_person.strip(), agency) if p),
        "chair_confirmed": against if outcome.chair_confirms and against else "",
    }


def record_sitting(
    session: Session,
    meeting: Meeting,
    *,
    attendance: dict[str, str],
    themes: str,
    member: Member | None,
    actor: Actor,
    partnership: Partnership,
    now: datetime,
) -> None:
    """Attendance by agency and the panel's themes and intelligence; the sitting is held."""
    check_may_record_panel(meeting, member, partnership, now)
    store_attendance(session, meeting, attendance, now)
    meeting.details = {**meeting.details, "themes": themes.strip()}
    if meeting.state != MeetingState.HELD:
        meeting.state, meeting.held_at = MeetingState.HELD, meeting.held_at or now
    session.add(meeting)
    record(
        session,
        at=now,
        actor=actor,
        act="panel.sitting_recorded",
        record_type="meeting",
        record_id=meeting.reference,
        details={"attendance": attendance},
    )
    session.flush()


def validate_sitting(attendance: dict[str, str], themes: str) -> dict[str, str]:
    errors = {
        f"attendance:{code}": "Choose present, apologies, written update or did not respond."
        for code, status in attendance.items()
        if status not in {str(k) for k in ATTENDANCE_WORDS}
    }
    if len(themes) > TEXT_LIMIT:
        errors["themes"] = f"Keep this under {TEXT_LIMIT} characters."
    return errors


def _record_fingerprint(session: Session, meeting: Meeting, sitting: PanelSitting) -> str:
    """What the minutes are drawn from, hashed: a draft is only worth making when it changed."""
    state = {
        "items": [(item.id, item.outcome) for item, _, _ in agenda_items(session, sitting)],
        "themes": meeting.details.get("themes", ""),
        "intelligence": sorted(
            i
            for i in session.exec(
                select(col(Intelligence.id)).where(col(Intelligence.meeting_id) == meeting.id)
            )
            if i
        ),
        "attendance": sorted(
            (a.agency_id, a.status)
            for a in session.exec(select(Attendance).where(col(Attendance.meeting_id) == meeting.id))
        ),
        "actions": sorted(
            (a.id, a.text, a.owner_id, a.due_on.isoformat())
            for a in session.exec(select(Action).where(col(Action.meeting_id) == meeting.id))
        ),
    }
    return hashlib.sha256(json.dumps(state, sort_keys=True, default=str).encode()).hexdigest()


def ready_for_minutes(
    session: Session, meeting_id: int, member: Member | None, partnership: Partnership, now: datetime
) -> Meeting:
    """The sitting, locked, once every item, attendance and themes are recorded and the
    record has changed since the last draft (a double click makes one draft, not two)."""
    meeting = session.get(Meeting, meeting_id, with_for_update=True, populate_existing=True)
    sitting = sitting_of(session, meeting) if meeting else None
    if meeting is None or sitting is None:
        raise PanelRefused("That panel sitting no longer exists.")
    check_may_record_panel(meeting, member, partnership, now)
    missing = unrecorded_items(session, sitting)
    if missing:
        raise PanelRefused(f"Record every item first; still to record: {', '.join(missing[:20])}.")
    if meeting.state != MeetingState.HELD:
        raise PanelRefused("Record attendance and themes first.")
    last = meeting.details.get("drafted") or {}
    if last.get("fingerprint") == _record_fingerprint(session, meeting, sitting):
        raise PanelRefused(
            f"Draft {last.get('version')} already holds everything recorded; it is with the chair."
        )
    return meeting


def drafted(meeting: Meeting, session: Session) -> None:
    """Remember what the newest draft was drawn from."""
    sitting = sitting_of(session, meeting)
    assert sitting is not None
    version = session.exec(
        select(func.max(col(Document.version))).where(
            col(Document.meeting_id) == meeting.id, col(Document.kind) == "panel_minutes"
        )
    ).one()
    meeting.details = {
        **meeting.details,
        "drafted": {"fingerprint": _record_fingerprint(session, meeting, sitting), "version": version},
    }
    session.add(meeting)
    session.flush()


def unrecorded_items(session: Session, sitting: PanelSitting) -> list[str]:
    return [case.reference for item, _, case in agenda_items(session, sitting) if item.recorded_at is None]
