"""Recording what a strategy discussion decided, and its minutes and action log as Word
documents: drafts, the chair's approval, versions. Plain Python over the database."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any

from sqlmodel import Session, col, func, select

from bot.actions.service import PRIORITIES, ActionRow, actions_of
from bot.agency_updates.service import TEXT_FIELDS, deadline_for, overview
from bot.audit.service import Actor, record
from bot.cases.models import Case
from bot.convening.models import Attendance, AttendanceStatus, Invitation, Meeting
from bot.convening.vocabulary import FORMATS
from bot.minutes.clocks import clocks_for_minutes
from bot.minutes.clocks import decision_rows as explicit_decision_rows
from bot.minutes.documents import ACTION_LOG_TEMPLATE, MINUTES_TEMPLATE, RenderedDocument, render_document
from bot.minutes.models import Decision, Document
from bot.partnership.models import Agency, Person
from bot.partnership.service import Member
from bot.schedules import Partnership
from bot.working_days import WorkingCalendar

ATTENDANCE_WORDS: dict[str, str] = {
    AttendanceStatus.PRESENT: "Present",
    AttendanceStatus.APOLOGIES: "Apologies",
    AttendanceStatus.WRITTEN_UPDATE: "Written update",
    AttendanceStatus.DID_NOT_RESPOND: "Did not respond",
}
FROM_ANSWER = {
    "attending": AttendanceStatus.PRESENT,
    "delegate": AttendanceStatus.PRESENT,
    "written_update": AttendanceStatus.WRITTEN_UPDATE,
    "declined": AttendanceStatus.APOLOGIES,
    "invited": AttendanceStatus.DID_NOT_RESPOND,
}
# The decisions a strategy discussion records (DESIGN.md §3), in the order minutes show them.
DECISION_TOPICS: dict[str, str] = {
    "section_47": "Section 47 enquiries",
    "enquiry_type": "Single-agency or joint enquiry, and who leads",
    "criminal_investigation": "Criminal investigation and its timing",
    "medical_assessment": "Medical assessment",
    "legal_action": "Legal action",
    "immediate_safety": "Immediate safety actions",
    "sharing_with_family": "What is shared with the child and family, and when (or why not)",
    "icpc": "Initial child protection conference",
    "review": "Review or next discussion",
    "dissent": "Dissent and its escalation",
}


class RecordingRefused(Exception):
    """The person may not record or approve this, or it cannot be done yet; says why."""


def may_record(meeting: Meeting, member: Member | None) -> bool:
    """The chair, the meeting's minute-taker, or anyone the schedules name as a minute-taker."""
    if member is None:
        return False
    return member.person_id in {meeting.chair_id, meeting.minute_taker_id} or member.has_role("minute_taker")


def attendance_defaults(session: Session, meeting: Meeting) -> dict[str, str]:
    """Each invited agency's attendance, pre-filled from its answer (or what was recorded)."""
    defaults: dict[str, str] = {}
    rows = session.exec(
        select(Invitation, Agency)
        .join(Agency, col(Agency.id) == col(Invitation.agency_id))
        .where(col(Invitation.meeting_id) == meeting.id)
    ).all()
    recorded = {
        a.agency_id: a.status
        for a in session.exec(select(Attendance).where(col(Attendance.meeting_id) == meeting.id))
    }
    for invitation, agency in rows:
        defaults[agency.code] = recorded.get(
            agency.id or 0, FROM_ANSWER.get(invitation.state, AttendanceStatus.DID_NOT_RESPOND)
        )
    return defaults


def store_attendance(session: Session, meeting: Meeting, attendance: dict[str, str], now: datetime) -> None:
    """Who took part, by agency code, replacing what was recorded before; each agency's
    answering person (or delegate) is named. The meeting has happened, so its invitations
    are no longer chased."""
    agencies = {a.code: a for a in session.exec(select(Agency))}
    for row in session.exec(select(Attendance).where(col(Attendance.meeting_id) == meeting.id)):
        session.delete(row)
    session.flush()
    answered_by = _answering_people(session, meeting)
    for code, status in attendance.items():
        agency = agencies[code]
        person = answered_by.get(agency.id or 0)
        session.add(
            Attendance(
                meeting_id=meeting.id or 0,
                agency_id=agency.id or 0,
                person_id=person.id if person else None,
                name=person.name if person else "",
                role=person.role_title if person else "",
                status=status,
                recorded_at=now,
            )
        )
    for invitation in session.exec(select(Invitation).where(col(Invitation.meeting_id) == meeting.id)):
        invitation.next_chase_at = None
        session.add(invitation)


def action_row(a: ActionRow, when: Callable[[datetime | None], str]) -> dict[str, Any]:
    """One action as the action log and the panel minutes show it."""
    return {
        "reference": a.reference,
        "text": a.text,
        "concerns": a.concerns,
        "owner": a.owner,
        "agency": a.agency,
        "assigned": a.assigned.strftime("%d %b %Y"),
        "due": a.due.strftime("%d %b %Y"),
        "completed": when(a.completed),
        "status": a.status,
        "priority": PRIORITIES.get(a.priority, a.priority),
        "escalation_level": a.escalation_level,
        "meeting": a.meeting,
        "updates": [{"at": when(at), "by": by, "text": text} for at, by, text in a.updates],
        "chases": [{"at": when(at), "to": to, "step": step, "via": via} for at, to, step, via in a.chases],
    }


def _answering_people(session: Session, meeting: Meeting) -> dict[int, Person]:
    people: dict[int, Person] = {}
    for invitation in session.exec(select(Invitation).where(col(Invitation.meeting_id) == meeting.id)):
        person_id = invitation.delegate_id or invitation.answered_by_id
        person = session.get(Person, person_id) if person_id else None
        if person is not None:
            people[invitation.agency_id] = person
    return people


def _case_reference(session: Session, meeting: Meeting) -> str:
    """The case a document is about, for the audit trail; a panel sitting has none."""
    return _case(session, meeting).reference if meeting.case_id else ""


def _case(session: Session, meeting: Meeting) -> Case:
    case = session.get(Case, meeting.case_id)
    assert case is not None
    return case


def _name(session: Session, person_id: int | None) -> str:
    person = session.get(Person, person_id) if person_id else None
    return (
        f"{person.name}, {person.role_title}"
        if person and person.role_title
        else (person.name if person else "")
    )


def minutes_context(
    session: Session,
    meeting: Meeting,
    *,
    partnership: Partnership,
    calendar: WorkingCalendar,
    version: int,
    state: str,
    now: datetime,
    approved_by: str = "",
    approved_at: str = "",
) -> dict[str, Any]:
    """Everything the minutes template shows, from the record. Documents carry the child's
    details; Slack never does."""
    case = _case(session, meeting)
    settings = partnership.settings
    decisions = {
        d.topic: d for d in session.exec(select(Decision).where(col(Decision.meeting_id) == meeting.id))
    }
    narrative = dict(meeting.details.get("record", {}))
    attendance = [
        {
            "agency": session.get_one(Agency, a.agency_id).name,
            "name": a.name,
            "role": a.role,
            "status": ATTENDANCE_WORDS.get(AttendanceStatus(a.status), a.status),
        }
        for a in session.exec(
            select(Attendance).where(col(Attendance.meeting_id) == meeting.id).order_by(col(Attendance.id))
        )
    ]
    deadline = deadline_for(meeting, partnership, calendar)
    updates = [u for u in overview(session, meeting, deadline=deadline, now=now) if u.state == "submitted"]
    policy = partnership.agency_updates
    information = []
    for update in updates:
        restrictions = [policy.restriction(code).name for code in update.restrictions]
        information.append(
            {
                "agency": update.agency_name,
                "author": ", ".join(sorted(set(update.authors.values()))),
                "role": update.content.get("role", ""),
                "restricted": bool(update.not_for_family or restrictions),
                "restriction": "; ".join(
                    restrictions
                    + (
                        [update.content["restriction_detail"]]
                        if update.content.get("restriction_detail")
                        else []
                    )
                ),
                "sections": [
                    {"label": label, "text": update.content[field]}
                    for field, label in TEXT_FIELDS.items()
                    if field not in ("role", "restriction_detail") and update.content.get(field)
                ],
            }
        )
    grid_agencies = [u.agency_name for u in updates]
    rating_words = {"current": "Current", "historic": "Historic", "not_present": "Not present"}
    risk_rows = [
        {
            "indicator": indicator.name,
            "ratings": [rating_words.get(u.risk_ratings.get(indicator.code, ""), "") for u in updates],
        }
        for indicator in policy.risk_indicators
    ]
    # Case timeline (issue 15): the clocks as stored on the case's timeline (statutory
    # calendar); the ICPC target is the enquiry's, anchored to the discussion that started it.
    clocks = clocks_for_minutes(session, meeting, partnership=partnership, calendar=calendar)
    icpc_date = clocks["icpc_target"]
    review = decisions.get("review")
    review_date = ""
    if review and review.details.get("date"):
        review_date = date.fromisoformat(review.details["date"]).strftime("%A %d %B %Y")
    decision_rows = explicit_decision_rows(decisions)  # issue 15: every decision, answered explicitly
    actions = [
        {
            "reference": a.reference,
            "text": a.text,
            "owner": a.owner,
            "agency": a.agency,
            "due": a.due.strftime("%d %b %Y"),
            "priority": PRIORITIES.get(a.priority, a.priority),
            "concerns": a.concerns,
            "status": a.status,
        }
        for a in actions_of(session, meeting_id=meeting.id)
    ]
    began = meeting.held_at or meeting.scheduled_start  # issue 15: the actual start once recorded
    start = calendar.local(began) if began else None
    follows = session.get(Meeting, meeting.follows_meeting_id) if meeting.follows_meeting_id else None
    circulation = [{"name": a["name"] or "(agency contact)", "agency": a["agency"]} for a in attendance]
    dissent = decisions.get("dissent")
    return {
        "marking": settings.protective_marking,
        "confidentiality": settings.confidentiality_statement,
        "partnership": settings.name,
        "reference": meeting.reference,
        "kind": "Follow-up" if follows else "Initial",
        "follows": follows.reference if follows else "",
        "date": start.strftime("%A %d %B %Y") if start else "",
        "time": start.strftime("%H:%M") if start else "",
        "format": FORMATS.get(meeting.format, meeting.format),
        "chair": _name(session, meeting.chair_id),
        "minute_taker": _name(session, meeting.minute_taker_id),
        "children": [
            {
                "name": case.child_name,
                "date_of_birth": case.child_date_of_birth.strftime("%d %B %Y")
                if case.child_date_of_birth
                else "",
                "case_reference": case.reference,
                "school": case.school,
                "siblings": case.siblings_and_others_at_risk,
            }
        ],
        "attendance": attendance,
        "reason": meeting.reason,
        "action_taken": narrative.get("action_taken", ""),
        "information_shared": information,
        "child_voice": narrative.get("child_voice", ""),
        "risk_grid": {"agencies": grid_agencies, "rows": risk_rows},
        "risk_analysis": {
            "harm": narrative.get("harm", ""),
            "likelihood": narrative.get("likelihood", ""),
            "protective_factors": narrative.get("protective_factors", ""),
            "extra_familial": narrative.get("extra_familial", ""),
        },
        "decisions": decision_rows,
        "safety_plan": decisions["immediate_safety"].reason if "immediate_safety" in decisions else "",
        "actions": actions,
        "icpc_date": icpc_date,
        "review_date": review_date,
        "next_steps": narrative.get("next_steps", ""),
        "dissent": dissent.reason if dissent else "",
        "circulation": circulation,
        "version": version,
        "state": state,
        "generated_at": calendar.local(now).strftime("%d %B %Y %H:%M"),
        "approved_by": approved_by,
        "approved_at": approved_at,
        "clocks": clocks,  # issue 15: referral, actual times, out of hours, s47, ICPC, assessment, closure
    }


def action_log_context(
    session: Session,
    meeting: Meeting,
    *,
    partnership: Partnership,
    calendar: WorkingCalendar,
    version: int,
    now: datetime,
) -> dict[str, Any]:
    """Every action of the discussion with its updates and chase history."""

    def when(moment: datetime | None) -> str:
        return calendar.local(moment).strftime("%d %b %Y %H:%M") if moment else ""

    return {
        "marking": partnership.settings.protective_marking,
        "reference": meeting.reference,
        "title": f"Action log: strategy discussion {meeting.reference}",
        "generated_at": calendar.local(now).strftime("%d %B %Y %H:%M"),
        "version": version,
        "actions": [action_row(a, when) for a in actions_of(session, meeting_id=meeting.id)],
    }


def next_version(session: Session, meeting: Meeting, kind: str) -> int:
    latest = session.exec(
        select(func.max(col(Document.version))).where(
            col(Document.meeting_id) == meeting.id, col(Document.kind) == kind
        )
    ).one()
    return int(latest or 0) + 1


@dataclass(frozen=True)
class DocumentKind:
    """How one kind of document is rendered from the record, and whether the chair
    approves it (minutes) or it is simply issued (an action log, an agenda)."""

    render: Callable[..., RenderedDocument]
    approvable: bool
    companion: str | None = None  # a document issued alongside on approval


def _render_minutes(
    session: Session, meeting: Meeting, *, templates_dir: Path, **context: Any
) -> RenderedDocument:
    return render_document(templates_dir / MINUTES_TEMPLATE, minutes_context(session, meeting, **context))


def _render_action_log(
    session: Session,
    meeting: Meeting,
    *,
    templates_dir: Path,
    partnership: Partnership,
    calendar: WorkingCalendar,
    version: int,
    now: datetime,
    **_: Any,
) -> RenderedDocument:
    context = action_log_context(
        session, meeting, partnership=partnership, calendar=calendar, version=version, now=now
    )
    return render_document(templates_dir / ACTION_LOG_TEMPLATE, context)


DOCUMENT_KINDS: dict[str, DocumentKind] = {
    "minutes": DocumentKind(_render_minutes, approvable=True, companion="action_log"),
    "action_log": DocumentKind(_render_action_log, approvable=False),
}


def register_document_kind(name: str, kind: DocumentKind) -> None:
    """Another capability (the panel) adds its documents to the same versions and approval."""
    DOCUMENT_KINDS[name] = kind


def generate(
    session: Session,
    meeting: Meeting,
    kind: str,
    *,
    templates_dir: Path,
    partnership: Partnership,
    calendar: WorkingCalendar,
    actor: Actor,
    now: datetime,
) -> Document:
    """Render a new version of a document from the record and store it: a draft when the
    chair approves this kind, else issued."""
    version = next_version(session, meeting, kind)
    described = DOCUMENT_KINDS[kind]
    rendered = described.render(
        session,
        meeting,
        templates_dir=templates_dir,
        partnership=partnership,
        calendar=calendar,
        version=version,
        state="DRAFT",
        now=now,
    )
    document = Document(
        meeting_id=meeting.id,
        case_id=meeting.case_id,
        kind=kind,
        version=version,
        state="draft" if described.approvable else "issued",
        filename=f"{meeting.reference}-{kind.replace('_', '-')}-v{version}.docx",
        sha256=rendered.sha256,
        content=rendered.content,
        created_by_id=actor.person_id,
        created_at=now,
    )
    session.add(document)
    session.flush()
    record(
        session,
        at=now,
        actor=actor,
        act="document.generated",
        record_type="document",
        record_id=document.id or 0,
        case_reference=_case_reference(session, meeting),
        details={"kind": kind, "version": version, "sha256": rendered.sha256},
    )
    return document


def approve(
    session: Session,
    document: Document,
    *,
    member: Member,
    actor: Actor,
    templates_dir: Path,
    partnership: Partnership,
    calendar: WorkingCalendar,
    now: datetime,
) -> tuple[Document, bool]:
    """The chair approves a draft: it is re-rendered as APPROVED, locked and stored with its
    hash; earlier approved versions are superseded. Returns the approved document and
    whether this call approved it (False when it already was)."""
    # Lock the row: a double click must approve (and circulate) once, not twice.
    locked = session.get(Document, document.id, with_for_update=True, populate_existing=True)
    assert locked is not None
    document = locked
    meeting = session.get(Meeting, document.meeting_id)
    assert meeting is not None
    if member.person_id != meeting.chair_id:
        raise RecordingRefused("Only the chair of this discussion can approve its minutes.")
    if document.state == "approved":
        return document, False
    if document.state != "draft":
        raise RecordingRefused("That version has been replaced by a newer one.")
    newer = session.exec(
        select(Document).where(
            col(Document.meeting_id) == meeting.id,
            col(Document.kind) == document.kind,
            col(Document.version) > document.version,
        )
    ).first()
    if newer is not None:
        raise RecordingRefused(f"There is a newer draft (version {newer.version}); approve that one.")
    approver = _name(session, member.person_id)
    stamp = calendar.local(now).strftime("%d %B %Y %H:%M")
    rendered = DOCUMENT_KINDS[document.kind].render(
        session,
        meeting,
        templates_dir=templates_dir,
        partnership=partnership,
        calendar=calendar,
        version=document.version,
        state="APPROVED",
        now=now,
        approved_by=approver,
        approved_at=stamp,
    )
    for earlier in session.exec(
        select(Document).where(
            col(Document.meeting_id) == meeting.id,
            col(Document.kind) == document.kind,
            col(Document.state) == "approved",
        )
    ):
        earlier.state = "superseded"
        session.add(earlier)
    document.content, document.sha256 = rendered.content, rendered.sha256
    document.state = "approved"
    document.approved_by_id, document.approved_at = member.person_id, now
    session.add(document)
    record(
        session,
        at=now,
        actor=actor,
        act="document.approved",
        record_type="document",
        record_id=document.id or 0,
        case_reference=_case_reference(session, meeting),
        details={"version": document.version, "sha256": document.sha256},
    )
    session.flush()
    return document, True


def latest(session: Session, meeting: Meeting, kind: str, *, approved_only: bool) -> Document | None:
    query = select(Document).where(col(Document.meeting_id) == meeting.id, col(Document.kind) == kind)
    if approved_only:
        query = query.where(col(Document.state) == "approved")
    return session.exec(query.order_by(col(Document.version).desc())).first()
