"""Recording what a strategy discussion decided, and its minutes and action log as Word
documents: drafts, the chair's approval, versions. Plain Python over the database."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlmodel import Session, col, func, select

from bot.audit.service import Actor, record
from bot.cases.models import Case
from bot.convening.models import Attendance, AttendanceStatus, Invitation, Meeting
from bot.documents.action_log import action_log_context
from bot.documents.changes import PreviousVersion, changes_since, fingerprints
from bot.documents.handling import Recipient, Restricted, entitlement_key
from bot.documents.minutes import (
    FULL,
    MINUTES_PARTS,
    SHARED,
    Copy,
    copy_of,
    minutes_context,
    recipients,
    shared_updates,
)
from bot.minutes.approval import locked_for_approval, store_approved
from bot.minutes.documents import ACTION_LOG_TEMPLATE, MINUTES_TEMPLATE, RenderedDocument, render_document
from bot.minutes.models import Document
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
    # The restricted texts the document holds (bot.documents.handling): approved, it gets a
    # copy per set of them its recipients are entitled to, the others withheld. The render
    # then takes `copy` (FULL, SHARED or the set it shows).
    restricted: (
        Callable[[Session, Meeting, Partnership, WorkingCalendar, datetime], list[Restricted]] | None
    ) = None

    def shared_kind(self, kind: str, copy: Copy = SHARED) -> str:
        """The kind under which a copy withholding restricted text is stored: the shared
        copy (all withheld) by the kind's name, a copy for a set of texts by the set's key."""
        if isinstance(copy, frozenset):
            return f"{kind}_shared_{entitlement_key(copy)}"
        return f"{kind}_shared"


def previous_version(
    session: Session, meeting: Meeting, kind: str, version: int
) -> tuple[int, datetime] | None:
    """The version before this one and when it was made, so a document says what changed."""
    earlier = session.exec(
        select(Document)
        .where(Document.meeting_id == meeting.id, Document.kind == kind, Document.version < version)
        .order_by(col(Document.version).desc())
    ).first()
    return (earlier.version, earlier.created_at) if earlier else None


def previous_document(session: Session, meeting: Meeting, kind: str, version: int) -> PreviousVersion | None:
    """The version before this one with its parts' fingerprints, so a document can say
    which parts changed (bot.documents.changes)."""
    earlier = session.exec(
        select(Document)
        .where(Document.meeting_id == meeting.id, Document.kind == kind, Document.version < version)
        .order_by(col(Document.version).desc())
    ).first()
    return PreviousVersion(earlier.version, earlier.created_at, earlier.sections or {}) if earlier else None


def _render_minutes(
    session: Session, meeting: Meeting, *, templates_dir: Path, copy: str = FULL, **context: Any
) -> RenderedDocument:
    from bot.children.documents import for_several_children

    previous = previous_document(session, meeting, "minutes", context["version"])
    values = minutes_context(session, meeting, copy=copy, previous=previous, **context)
    values = for_several_children(session, meeting, values)  # a section per child, if several
    # Said again once each child has their section, so a change to any child is named.
    values["changes"] = changes_since(values, previous, MINUTES_PARTS, context["calendar"])
    return render_document(
        templates_dir / MINUTES_TEMPLATE, values, sections=fingerprints(values, MINUTES_PARTS)
    )


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
        session,
        meeting,
        partnership=partnership,
        calendar=calendar,
        version=version,
        now=now,
        previous=previous_version(session, meeting, "action_log", version),
    )
    return render_document(templates_dir / ACTION_LOG_TEMPLATE, context)


def _minutes_restricted(
    session: Session, meeting: Meeting, partnership: Partnership, calendar: WorkingCalendar, now: datetime
) -> list[Restricted]:
    updates = shared_updates(session, meeting, partnership=partnership, calendar=calendar, now=now)
    return [u.handling for u in updates if u.handling is not None]


DOCUMENT_KINDS: dict[str, DocumentKind] = {
    "minutes": DocumentKind(
        _render_minutes, approvable=True, companion="action_log", restricted=_minutes_restricted
    ),
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
        sections=rendered.sections,
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
    document, meeting, to_approve = locked_for_approval(
        session,
        document.id or 0,
        approver_id=member.person_id,
        refuse=RecordingRefused,
        not_chair="Only the chair of this discussion can approve its minutes.",
    )
    if not to_approve:
        return document, False
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
    store_approved(session, document, rendered, approver_id=member.person_id, now=now)
    if DOCUMENT_KINDS[document.kind].restricted is not None:
        _store_shared_copy(
            session,
            meeting,
            document,
            templates_dir=templates_dir,
            partnership=partnership,
            calendar=calendar,
            now=now,
            approved_by=approver,
            approved_at=stamp,
        )
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


def _store_shared_copy(
    session: Session,
    meeting: Meeting,
    document: Document,
    *,
    templates_dir: Path,
    partnership: Partnership,
    calendar: WorkingCalendar,
    now: datetime,
    approved_by: str,
    approved_at: str,
) -> list[Document]:
    """Approved minutes holding restricted text get a copy per entitlement besides the full
    one: the shared copy with all of it withheld (the channel's), and one for each other set
    of restricted texts an agency on the attendance is entitled to (bot.documents.handling),
    so the copies are as many as the distinct sets, not every combination. Each is stored
    like the full copy, with its own hash, so what each recipient received is on the record."""
    described = DOCUMENT_KINDS[document.kind]
    assert described.restricted is not None
    items = described.restricted(session, meeting, partnership, calendar, now)
    if not items:
        return []
    copies: list[Copy] = [SHARED]
    for recipient, _, _ in recipients(session, meeting):
        copy = copy_of(recipient, items)
        if isinstance(copy, frozenset) and copy not in copies:
            copies.append(copy)
    stored = []
    for copy in copies:
        kind = described.shared_kind(document.kind, copy)
        existing = session.exec(
            select(Document).where(
                Document.meeting_id == meeting.id, Document.kind == kind, Document.version == document.version
            )
        ).first()
        if existing is not None:  # written already (a retried approval): once per set
            stored.append(existing)
            continue
        rendered = described.render(
            session,
            meeting,
            templates_dir=templates_dir,
            copy=copy,
            partnership=partnership,
            calendar=calendar,
            version=document.version,
            state="APPROVED",
            now=now,
            approved_by=approved_by,
            approved_at=approved_at,
        )
        for earlier in session.exec(
            select(Document).where(
                Document.meeting_id == meeting.id, Document.kind == kind, Document.state == "approved"
            )
        ):
            earlier.state = "superseded"
            session.add(earlier)
        suffix = "-withheld" if copy == SHARED else f"-withheld-{kind.rsplit('_', 1)[-1]}"
        shared = Document(
            meeting_id=meeting.id,
            case_id=meeting.case_id,
            kind=kind,
            version=document.version,
            state="approved",
            filename=document.filename.replace(".docx", f"{suffix}.docx"),
            sha256=rendered.sha256,
            content=rendered.content,
            created_by_id=document.approved_by_id,
            created_at=now,
            approved_by_id=document.approved_by_id,
            approved_at=now,
        )
        session.add(shared)
        session.flush()
        stored.append(shared)
    return stored


def copy_for_person(
    session: Session,
    document: Document,
    person: Person | None,
    partnership: Partnership,
    calendar: WorkingCalendar,
    now: datetime,
) -> Document:
    """The copy of approved minutes this person receives: the full one when their agency
    is entitled to every restricted text in it, else the copy showing exactly the texts it
    is entitled to (none for the channel). Strategy discussion and panel minutes alike
    (`DocumentKind.restricted`). Were no copy written for their set, the shared one: never
    more than they may read."""
    described = DOCUMENT_KINDS.get(document.kind)
    if described is None or described.restricted is None or document.state not in ("approved", "superseded"):
        return document
    copies = {
        c.kind: c
        for c in session.exec(
            select(Document).where(
                Document.meeting_id == document.meeting_id,
                col(Document.kind).startswith(described.shared_kind(document.kind, SHARED), autoescape=True),
                Document.version == document.version,
            )
        )
    }
    shared = copies.get(described.shared_kind(document.kind, SHARED))
    if shared is None:
        return document
    meeting = session.get(Meeting, document.meeting_id)
    assert meeting is not None
    if person is not None and person.id == meeting.chair_id:
        return document
    agency = session.get(Agency, person.agency_id) if person is not None else None
    if agency is None:
        return shared
    took_part = any(
        a.agency_id == agency.id and a.status in ("present", "written_update")
        for a in session.exec(select(Attendance).where(Attendance.meeting_id == meeting.id))
    )
    items = described.restricted(session, meeting, partnership, calendar, now)
    copy = copy_of(Recipient(agency.code, agency.kind, took_part), items)
    if copy == FULL:
        return document
    return copies.get(described.shared_kind(document.kind, copy), shared)


def minutes_recipients(session: Session, meeting: Meeting) -> list[Person]:
    """Who took part by name: each agency's named attendee, and the authors of the updates
    the agencies submitted (an agency may take part by update without answering the
    invitation). Each person once, in attendance order."""
    from bot.agency_updates.models import AgencyUpdate, AgencyUpdateVersion

    ids: list[int] = []
    for attendance in session.exec(
        select(Attendance).where(col(Attendance.meeting_id) == meeting.id).order_by(col(Attendance.id))
    ):
        if attendance.person_id:
            ids.append(attendance.person_id)
    authors = session.exec(
        select(col(AgencyUpdateVersion.author_id))
        .join(AgencyUpdate, col(AgencyUpdate.id) == col(AgencyUpdateVersion.update_id))
        .where(col(AgencyUpdate.meeting_id) == meeting.id, col(AgencyUpdateVersion.is_draft).is_(False))
    ).all()
    ids.extend(authors)
    people = []
    for person_id in dict.fromkeys(ids):
        person = session.get(Person, person_id)
        if person is not None:
            people.append(person)
    return people


def latest(session: Session, meeting: Meeting, kind: str, *, approved_only: bool) -> Document | None:
    query = select(Document).where(col(Document.meeting_id) == meeting.id, col(Document.kind) == kind)
    if approved_only:
        query = query.where(col(Document.state) == "approved")
    return session.exec(query.order_by(col(Document.version).desc())).first()
