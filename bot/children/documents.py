"""The documents of a discussion of several children: the minutes' section per child, each
child's action log, and each child's own record for their file.

A child's record holds what was decided for them and what the discussion shared for all
the children; it never carries another child's identifying details: other children are
named by case reference, and their names are replaced by their reference wherever typed
text mentions them.
"""

from __future__ import annotations

import re
from datetime import date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlmodel import Session, col, func, select

from bot.audit.service import Actor, record
from bot.cases.models import Case, IcpcState
from bot.cases.service import name_parts
from bot.cases.timeline import ASSESSMENT_OUTCOMES, SUBSTANTIATION, enquiry_of_meeting
from bot.children.service import ChildOfDiscussion, children_of, others_at_risk
from bot.convening.models import Meeting
from bot.minutes.approval import locked_for_approval, store_approved
from bot.minutes.decisions import CHILD_TOPICS, SHARED_TOPICS, Answer, Topic, answer_words
from bot.minutes.documents import RenderedDocument, render_document
from bot.minutes.models import Decision, Document
from bot.schedules import Partnership
from bot.working_days import WorkingCalendar

if TYPE_CHECKING:
    from bot.documents.minutes import Copy

CHILD_RECORD_TEMPLATE = "child_record.docx"
ACTION_LOG_TEMPLATE = "action_log.docx"
CHILD_RECORD = "child_record"
CHILD_ACTIONS = "child_actions"
# Which part of an agency update each field belongs to (bot.agency_updates ABOUT_SECTIONS).
FIELD_PART = {
    "involvement_current": "about_involvement",
    "involvement_past": "about_involvement",
    "new_missing": "about_new_information",
    "new_police_intelligence": "about_new_information",
    "new_school_attendance": "about_new_information",
    "new_other": "about_new_information",
    "protective_factors": "about_risk",
    "actions_progress": "about_actions_views",
    "child_family_views": "about_actions_views",
}


def _concerns(action: dict[str, Any]) -> str:
    """The references an action concerns, as typed: documents print them unbreakable (U+2011)."""
    return str(action.get("concerns", "")).replace("\u2011", "-")


def _day(value: date | None) -> str:
    return value.strftime("%A %d %B %Y") if value else ""


def others_line(session: Session, case: Case, meeting: Meeting | None) -> tuple[str, str]:
    """(household, others at risk) for one child, by case reference only."""
    others = others_at_risk(session, case, meeting)
    household = ", ".join(others.siblings)
    alongside = ", ".join(others.alongside)
    if others.contexts:
        alongside += (" " if alongside else "") + f"(linked through {', '.join(others.contexts)})"
    if others.more:
        alongside += f" and {others.more} more"
    return household, alongside


def _decision_rows(decisions: dict[str, Decision], topics: tuple[Topic, ...]) -> list[dict[str, str]]:
    rows = []
    for topic in topics:
        found = decisions.get(topic.code)
        if found is None:
            rows.append({"topic": topic.label, "outcome": "Not recorded", "reason": ""})
            continue
        by = found.details.get("by") if isinstance(found.details, dict) else None
        answer = Answer(found.outcome, found.reason, date.fromisoformat(by) if by else None)
        rows.append(
            {"topic": topic.label, "outcome": answer_words(topic.code, answer), "reason": found.reason}
        )
    return rows


def _clocks(session: Session, meeting: Meeting, child: ChildOfDiscussion) -> tuple[str, str]:
    """(ICPC, assessment) for one child, from their own section 47 enquiry."""
    enquiry = enquiry_of_meeting(session, meeting, child.link.episode_id)
    if enquiry is None:
        return "No section 47 enquiry, so no ICPC", ""
    if enquiry.icpc_state == IcpcState.HELD:
        icpc = f"Held on {_day(enquiry.icpc_held_on)}"
    elif enquiry.icpc_state == IcpcState.NOT_REQUIRED:
        icpc = f"Not required: {enquiry.icpc_not_required_reason}"
    else:
        icpc = f"To be held by {_day(enquiry.icpc_due_on)} (15 working days after {_day(enquiry.started_on)})"
    if enquiry.outcome:
        assessment = (
            f"{SUBSTANTIATION.get(enquiry.concerns_substantiated, '')}; "
            f"{ASSESSMENT_OUTCOMES.get(enquiry.outcome, enquiry.outcome)} ({_day(enquiry.completed_on)})"
        )
    else:
        assessment = f"Due by {_day(enquiry.assessment_due_on)}"
    return icpc, assessment


def _decisions_by_child(session: Session, meeting: Meeting) -> dict[int | None, dict[str, Decision]]:
    """The discussion's decisions by child (None: those shared by all), in one statement
    for every child rather than one each."""
    found: dict[int | None, dict[str, Decision]] = {}
    for d in session.exec(select(Decision).where(col(Decision.meeting_id) == meeting.id)):
        found.setdefault(d.case_id, {})[d.topic] = d
    return found


def _child_row(session: Session, child: ChildOfDiscussion, meeting: Meeting) -> dict[str, str]:
    """The child as the minutes' children table shows them, with their siblings and others
    at risk by reference."""
    from bot.documents.minutes import _child

    household, alongside = others_line(session, child.case, meeting)
    at_risk = "; ".join(p for p in (f"Siblings: {household}" if household else "", alongside) if p)
    typed = child.case.siblings_and_others_at_risk
    row = _child(child.case)
    if at_risk:
        row["siblings"] = "; ".join(p for p in (typed, at_risk) if p)
    return row


def _about(update: dict[str, Any], part: dict[str, Any]) -> str:
    """Whom one part of an agency's information is about: a reference, or "all"."""
    about = update.get("about") or {}
    return str(about.get(FIELD_PART.get(str(part.get("field", "")), ""), "") or "all")


def _labelled(update: dict[str, Any]) -> dict[str, Any]:
    """An agency's information with each part saying whom it is about."""
    return update | {
        "sections": [
            {**part, "label": f"{part['label']} (about {_about(update, part)})"}
            if _about(update, part) != "all"
            else part
            for part in update["sections"]
        ]
    }


def for_several_children(session: Session, meeting: Meeting, context: dict[str, Any]) -> dict[str, Any]:
    """The minutes' context with a section per child: every child (others at risk by
    reference), the shared decisions, then each child's decisions, ICPC and assessment; the
    agency information says which child each part is about. One child: others at risk only."""
    children = children_of(session, meeting)
    if not children:
        return context
    context = {**context, "children": [_child_row(session, c, meeting) for c in children]}
    if len(children) < 2:
        return context
    decided = _decisions_by_child(session, meeting)
    rows = _decision_rows(decided.get(None, {}), SHARED_TOPICS)
    icpc_lines = []
    for child in children:
        icpc, assessment = _clocks(session, meeting, child)
        rows.append(
            {"topic": f"For {child.reference} ({child.case.child_name})", "outcome": "", "reason": ""}
        )
        rows += _decision_rows(decided.get(child.case.id or 0, {}), CHILD_TOPICS)
        rows.append({"topic": "Initial child protection conference date", "outcome": icpc, "reason": ""})
        if assessment:
            rows.append({"topic": "Assessment", "outcome": assessment, "reason": ""})
        icpc_lines.append(f"{child.reference}: {icpc}")
    quorum = next((r for r in context.get("decisions", []) if r.get("topic") == "Quorum"), None)
    context["decisions"] = rows + ([quorum] if quorum else [])
    context["icpc_date"] = "; ".join(icpc_lines)
    context["icpc"] = "Per child: " + "; ".join(icpc_lines)
    context["section_47"] = "Per child: see each child's decisions"
    context["information_shared"] = [_labelled(u) for u in context.get("information_shared", [])]
    return context


def _redactor(session: Session, meeting: Meeting, child: ChildOfDiscussion) -> Any:
    """Replace every other child's name (and each part of it) by their case reference."""
    patterns = []
    for other in children_of(session, meeting):
        if other.case.id == child.case.id or not other.case.child_name:
            continue
        for part in name_parts(other.case.child_name):
            if part.casefold() in (p.casefold() for p in name_parts(child.case.child_name)):
                continue  # a shared surname stays: it names this child too
            patterns.append((re.compile(rf"(?<!\w){re.escape(part)}(?!\w)", re.IGNORECASE), other.reference))

    def redact(value: Any) -> Any:
        if isinstance(value, str):
            for pattern, reference in patterns:
                value = pattern.sub(reference, value)
            return value
        if isinstance(value, list):
            return [redact(v) for v in value]
        if isinstance(value, dict):
            return {k: redact(v) for k, v in value.items()}
        return value

    return redact


def child_record_context(
    session: Session,
    meeting: Meeting,
    child: ChildOfDiscussion,
    minutes: dict[str, Any],
    *,
    version: int,
    now: str,
    state: str = "DRAFT",
    approved_by: str = "",
    approved_at: str = "",
) -> dict[str, Any]:
    """One child's own record, from the minutes' context: their details, the shared parts,
    their decisions, clocks and actions. Other children by reference only. A DRAFT until
    the chair approves it, like the minutes."""
    household, alongside = others_line(session, child.case, meeting)
    icpc, assessment = _clocks(session, meeting, child)
    reference = child.reference
    references = {c.reference for c in children_of(session, meeting)}
    information = []
    for update in minutes.get("information_shared", []):
        # Parts about this child, about them all, or about the context; not another child's.
        parts = [p for p in update["sections"] if _about(update, p) not in references - {reference}]
        if parts:
            information.append({**update, "sections": parts})
    concerning = [
        a
        for a in minutes.get("actions", [])
        if reference in _concerns(a) or not any(r in _concerns(a) for r in references)
    ]
    redact = _redactor(session, meeting, child)
    decided = _decisions_by_child(session, meeting)
    shared = {
        "attendance": minutes["attendance"],
        "reason": minutes["reason"],
        "action_taken": minutes["action_taken"],
        "information_shared": information,
        "child_voice": minutes["child_voice"],
        "risk_analysis": minutes["risk_analysis"],
        "shared_decisions": _decision_rows(decided.get(None, {}), SHARED_TOPICS),
        "child_decisions": _decision_rows(decided.get(child.case.id or 0, {}), CHILD_TOPICS),
        "actions": concerning,
        "next_steps": minutes["next_steps"],
    }
    return {
        "marking": minutes["marking"],
        "confidentiality": minutes["confidentiality"],
        "partnership": minutes["partnership"],
        "reference": meeting.reference,
        "date": minutes["date"],
        "time": minutes["time"],
        "chair": minutes["chair"],
        "children_count": len(children_of(session, meeting)),
        "child": {
            "name": child.case.child_name,
            "date_of_birth": child.case.child_date_of_birth.strftime("%d %B %Y")
            if child.case.child_date_of_birth
            else "",
            "case_reference": reference,
            "school": child.case.school,
        },
        "household": household or "None recorded",
        "others_at_risk": alongside or "None recorded",
        **redact(shared),
        "icpc": icpc,
        "assessment": assessment or "No section 47 assessment",
        "review_date": minutes["review_date"],
        "version": version,
        "generated_at": now,
        "state": state,
        "approved_by": approved_by,
        "approved_at": approved_at,
    }


def _next_version(session: Session, meeting: Meeting, kind: str) -> int:
    latest = session.exec(
        select(func.max(col(Document.version))).where(
            col(Document.meeting_id) == meeting.id, col(Document.kind) == kind
        )
    ).one()
    return int(latest or 0) + 1


def generate_child_documents(
    session: Session,
    meeting: Meeting,
    *,
    templates_dir: Path,
    partnership: Partnership,
    calendar: WorkingCalendar,
    actor: Actor,
    now: datetime,
) -> list[Document]:
    """Each child's own record and action log (new versions), stored with the child's case,
    from the same record as the minutes. Nothing for a discussion of one child."""

    children = children_of(session, meeting)
    if len(children) < 2:
        return []
    minutes = _minutes_for_children(session, meeting, partnership, calendar, now)
    generated_at = calendar.local(now).strftime("%d %B %Y %H:%M")
    documents = []
    for child in children:
        for kind, rendered, stem in _renderings(
            session,
            meeting,
            child,
            minutes,
            templates_dir=templates_dir,
            partnership=partnership,
            calendar=calendar,
            now=now,
            generated_at=generated_at,
        ):
            document = Document(
                meeting_id=meeting.id,
                case_id=child.case.id,
                kind=kind,
                version=rendered[0],
                # The child's record waits for the chair's approval; their action log is
                # issued, like the discussion's.
                state="draft" if kind.startswith(f"{CHILD_RECORD}:") else "issued",
                filename=f"{meeting.reference}-{child.reference}-{stem}-v{rendered[0]}.docx",
                sha256=rendered[1].sha256,
                content=rendered[1].content,
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
                case_reference=child.reference,
                details={"kind": kind, "version": document.version, "sha256": document.sha256},
            )
            documents.append(document)
    return documents


def _convenors_copy(
    session: Session, meeting: Meeting, partnership: Partnership, calendar: WorkingCalendar, now: datetime
) -> Copy:
    """The children's records go to the convenor: each restricted agency text only if their
    agency is entitled to it (bot.documents.handling), else withheld with a line saying so."""
    from bot.convening.models import Attendance
    from bot.documents.handling import Recipient
    from bot.documents.minutes import SHARED, copy_for, shared_updates
    from bot.partnership.models import Agency, Person

    convenor = session.get(Person, meeting.convenor_id) if meeting.convenor_id else None
    agency = session.get(Agency, convenor.agency_id) if convenor is not None else None
    if agency is None:
        return SHARED
    took_part = any(
        a.agency_id == agency.id and a.status in ("present", "written_update")
        for a in session.exec(select(Attendance).where(col(Attendance.meeting_id) == meeting.id))
    )
    updates = shared_updates(session, meeting, partnership=partnership, calendar=calendar, now=now)
    return copy_for(Recipient(agency.code, agency.kind, took_part), updates)


def _renderings(
    session: Session,
    meeting: Meeting,
    child: ChildOfDiscussion,
    minutes: dict[str, Any],
    *,
    templates_dir: Path,
    partnership: Partnership,
    calendar: WorkingCalendar,
    now: datetime,
    generated_at: str,
) -> list[tuple[str, tuple[int, RenderedDocument], str]]:
    record_kind = f"{CHILD_RECORD}:{child.reference}"[:40]
    actions_kind = f"{CHILD_ACTIONS}:{child.reference}"[:40]
    record_version = _next_version(session, meeting, record_kind)
    actions_version = _next_version(session, meeting, actions_kind)
    context = child_record_context(session, meeting, child, minutes, version=record_version, now=generated_at)
    record_doc = render_document(templates_dir / CHILD_RECORD_TEMPLATE, context)

    from bot.documents.action_log import action_log_context

    references = {c.reference for c in children_of(session, meeting)}
    log_context = action_log_context(
        session, meeting, partnership=partnership, calendar=calendar, version=actions_version, now=now
    )
    log_context["title"] += f", for {child.reference}"
    log_context["actions"] = [
        row
        for row in log_context["actions"]
        if child.reference in _concerns(row) or not any(r in _concerns(row) for r in references)
    ]
    log = render_document(templates_dir / ACTION_LOG_TEMPLATE, log_context)
    return [
        (record_kind, (record_version, record_doc), "child-record"),
        (actions_kind, (actions_version, log), "action-log"),
    ]


def child_record_specimen() -> dict[str, Any]:
    """A child's record as the template sees it, for `python -m bot check` (every name the
    template may use), built on the minutes' specimen."""
    from bot.documents.specimens import minutes_specimen

    minutes = minutes_specimen()
    shared = {
        key: minutes[key]
        for key in (
            "marking",
            "confidentiality",
            "partnership",
            "reference",
            "date",
            "time",
            "chair",
            "attendance",
            "reason",
            "action_taken",
            "information_shared",
            "child_voice",
            "risk_analysis",
            "actions",
            "review_date",
            "next_steps",
            "version",
            "generated_at",
            "state",
            "approved_by",
            "approved_at",
        )
    }
    return shared | {
        "children_count": 2,
        "child": minutes["children"][0],
        "household": "CS-2345678",
        "others_at_risk": "CS-3456789 (linked through CTX-2026-0001)",
        "shared_decisions": minutes["decisions"],
        "child_decisions": minutes["decisions"][:3],
        "icpc": "To be held by Tuesday 01 December 2026",
        "assessment": "Due by Monday 18 January 2027",
    }


def _minutes_for_children(
    session: Session, meeting: Meeting, partnership: Partnership, calendar: WorkingCalendar, now: datetime
) -> dict[str, Any]:
    """The minutes' context the children's records are cut from (the convenor's copy)."""
    from bot.minutes.service import minutes_context

    return for_several_children(
        session,
        meeting,
        minutes_context(
            session,
            meeting,
            partnership=partnership,
            calendar=calendar,
            version=0,
            state="DRAFT",
            now=now,
            copy=_convenors_copy(session, meeting, partnership, calendar, now),
        ),
    )


class ChildRecordRefused(Exception):
    """The chair may not approve this version (someone else, or it was replaced); says why."""


def is_child_record(document: Document) -> bool:
    return document.kind.startswith(f"{CHILD_RECORD}:")


def approve_child_record(
    session: Session,
    document_id: int,
    *,
    chair_person_id: int,
    actor: Actor,
    templates_dir: Path,
    partnership: Partnership,
    calendar: WorkingCalendar,
    now: datetime,
) -> tuple[Document, bool]:
    """The chair approves a child's record, as the minutes are approved: re-rendered from
    the record as APPROVED with who and when, locked with its hash, earlier approved
    versions superseded. Returns the record and whether this call approved it (False when
    it already was: a double click approves, and sends, once)."""
    from bot.partnership.models import Person

    locked, meeting, to_approve = locked_for_approval(
        session,
        document_id,
        approver_id=chair_person_id,
        refuse=ChildRecordRefused,
        not_chair="Only the chair of the discussion can approve a child's record.",
        approvable=is_child_record,
    )
    if not to_approve:
        return locked, False
    reference = locked.kind.split(":", 1)[1]
    child = next((c for c in children_of(session, meeting) if c.reference == reference), None)
    if child is None:
        raise ChildRecordRefused("That child is no longer part of the discussion.")
    chair = session.get(Person, chair_person_id)
    stamp = calendar.local(now).strftime("%d %B %Y %H:%M")
    minutes = _minutes_for_children(session, meeting, partnership, calendar, now)
    context = child_record_context(
        session,
        meeting,
        child,
        minutes,
        version=locked.version,
        now=stamp,
        state="APPROVED",
        approved_by=chair.name if chair else "",
        approved_at=stamp,
    )
    rendered = render_document(templates_dir / CHILD_RECORD_TEMPLATE, context)
    store_approved(session, locked, rendered, approver_id=chair_person_id, now=now)
    record(
        session,
        at=now,
        actor=actor,
        act="document.approved",
        record_type="document",
        record_id=locked.id or 0,
        case_reference=reference,
        details={"kind": CHILD_RECORD, "version": locked.version, "sha256": locked.sha256},
    )
    session.flush()
    return locked, True
