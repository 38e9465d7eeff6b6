"""Slack surface of recording and minutes: `/strategy record REF`, `/actions add REF`,
the chair's approval, and `/strategy minutes REF` downloads."""

from __future__ import annotations

import json
import uuid
from datetime import date
from typing import Any

from slack_bolt import Ack, App
from slack_sdk import WebClient
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, select

from bot.actions.service import NewAction, add_action, validate_action
from bot.audit.service import Actor, record
from bot.cases.models import Case
from bot.convening.effects import refresh_status
from bot.convening.models import Invitation, Meeting
from bot.convening.service import find_meeting, is_involved
from bot.convening.views import read_values
from bot.database import session_scope
from bot.delivery.service import enqueue
from bot.minutes import effects
from bot.minutes.models import Decision, Document
from bot.minutes.service import (
    DOCUMENT_KINDS,
    NARRATIVE,
    RecordForm,
    RecordingRefused,
    approve,
    attendance_defaults,
    check_may_record,
    generate,
    latest,
    may_record,
    save_record,
    validate_record,
)
from bot.minutes.views import (
    ACTION_CALLBACK,
    RECORD_CALLBACK,
    action_added_view,
    action_modal,
    approval_request,
    record_modal,
)
from bot.partnership.models import Agency, Person
from bot.partnership.service import Member, member_by_slack_id
from bot.runtime import Runtime
from bot.slack.replies import audit_refusal, tell


class _AlreadyRecorded(Exception):
    """This form was recorded already (a double submission): nothing more to do."""


def _actor(user_id: str, team_id: str, member: Member | None) -> Actor:
    return Actor(user_id, team_id, member.person_id if member else None)


def _team(body: dict[str, Any]) -> str:
    team = body.get("team")
    return team.get("id", "") if isinstance(team, dict) else str(body.get("team_id", ""))


def open_record_form(
    runtime: Runtime, client: WebClient, *, meeting: Meeting, member: Member | None, trigger_id: str
) -> str | None:
    """Open the recording form; returns a refusal to show instead, if any."""
    now = runtime.clock.now()
    try:
        check_may_record(meeting, member, now)
    except RecordingRefused as refused:
        return str(refused)
    with session_scope(runtime.engine) as session:
        agencies = [
            (a.code, a.name)
            for a in session.exec(
                select(Agency)
                .join(Invitation, Invitation.agency_id == Agency.id)
                .where(Invitation.meeting_id == meeting.id)
                .order_by(Invitation.id)
            )
        ]
        attendance = {k: str(v) for k, v in attendance_defaults(session, meeting).items()}
        decisions = {
            d.topic: (d.outcome, d.reason)
            for d in session.exec(select(Decision).where(Decision.meeting_id == meeting.id))
        }
        review = session.exec(
            select(Decision).where(Decision.meeting_id == meeting.id, Decision.topic == "review")
        ).first()
    narrative = dict(meeting.details.get("record", {}))
    narrative.setdefault("action_taken", meeting.reason)
    held = (
        runtime.calendar.local(meeting.scheduled_start).date()
        if meeting.scheduled_start
        else runtime.calendar.local(now).date()
    )
    days = runtime.partnership.meeting_type(meeting.meeting_type).icpc_within_working_days or 15
    icpc = runtime.calendar.add_working_days(held, days)
    view = record_modal(
        meeting_id=meeting.id or 0,
        reference=meeting.reference,
        agencies=agencies,
        attendance=attendance,
        decisions=decisions,
        narrative=narrative,
        review_date=date.fromisoformat(review.details["date"])
        if review and review.details.get("date")
        else None,
        icpc_hint=f"If section 47 enquiries start, the ICPC must be held by {icpc:%A %d %B %Y} "
        f"({days} working days).",
    )
    client.views_open(trigger_id=trigger_id, view=view)
    return None


def _record_form(values: dict[str, Any]) -> RecordForm:
    attendance = {k.removeprefix("attendance:"): v for k, v in values.items() if k.startswith("attendance:")}
    text = {k: (v or "") for k, v in values.items() if isinstance(v, str) or v is None}
    decisions = {
        "section_47": (values.get("section_47") or "", text.get("section_47_reason", "")),
        "enquiry_type": (values.get("enquiry_type") or "", text.get("enquiry_lead", "")),
        "icpc": (values.get("icpc") or "", ""),
        "review": ("", ""),
    }
    for topic in (
        "criminal_investigation",
        "medical_assessment",
        "legal_action",
        "immediate_safety",
        "sharing_with_family",
        "dissent",
    ):
        decisions[topic] = ("", text.get(topic, ""))
    narrative = {key: text.get(key, "") for key in NARRATIVE}
    return RecordForm(
        attendance=attendance, decisions=decisions, narrative=narrative, review_date=values.get("review_date")
    )


def _generate(
    session: Session, runtime: Runtime, meeting: Meeting, kind: str, actor: Actor, now: Any
) -> Document:
    """A new version of the minutes or the action log, rendered from the record."""
    return generate(
        session,
        meeting,
        kind,
        templates_dir=runtime.settings.templates_dir,
        partnership=runtime.partnership,
        calendar=runtime.calendar,
        actor=actor,
        now=now,
    )


def _send_draft_to_chair(
    session: Session, runtime: Runtime, meeting: Meeting, document: Document, now: Any
) -> None:
    chair = session.get(Person, meeting.chair_id) if meeting.chair_id else None
    if chair is None or not chair.slack_user_id:
        return
    effects.send_privately(session, document, chair.slack_user_id, "", now, why="draft")
    message = approval_request(meeting.reference, document.id or 0, document.version, meeting.id or 0)
    enqueue(
        session,
        key=f"approval-request:{document.id}",
        method="chat.postMessage",
        arguments={"channel": chair.slack_user_id, **message},
        now=now,
    )


def register(app: App, runtime: Runtime) -> None:
    """Attach the listeners and teach the courier to upload documents."""
    effects.install(runtime)

    @app.view(RECORD_CALLBACK)
    def recorded(ack: Ack, body: dict[str, Any], view: dict[str, Any]) -> None:
        meeting_id = int(json.loads(view["private_metadata"])["meeting_id"])
        values = read_values(view["state"])
        form = _record_form(values)
        now = runtime.clock.now()
        errors = validate_record(form, today=runtime.calendar.local(now).date())
        if errors:
            ack(response_action="errors", errors=errors)
            return
        user_id = body["user"]["id"]
        try:
            with session_scope(runtime.engine) as session:
                member = member_by_slack_id(session, user_id)
                meeting = session.get(Meeting, meeting_id)
                if meeting is None:
                    raise RecordingRefused("That discussion no longer exists.")
                actor = _actor(user_id, _team(body), member)
                fresh = save_record(
                    session,
                    meeting,
                    form,
                    member=member,  # type: ignore[arg-type]
                    actor=actor,
                    partnership=runtime.partnership,
                    calendar=runtime.calendar,
                    now=now,
                    key=f"view:{view['id']}",
                )
                if not fresh:
                    raise _AlreadyRecorded()
                document = _generate(session, runtime, meeting, "minutes", actor, now)
                _send_draft_to_chair(session, runtime, meeting, document, now)
                # Decisions and actions go out the same working day, before the full minutes.
                log = _generate(session, runtime, meeting, "action_log", actor, now)
                marking = runtime.partnership.settings.protective_marking
                effects.circulate(
                    session, log, f"{marking}: decisions and action log of {meeting.reference}", now
                )
                refresh_status(session, meeting.id or 0, now)
        except _AlreadyRecorded:
            ack()
            return
        except RecordingRefused as refused:
            ack(response_action="errors", errors={"section_47_reason": str(refused)})
            return
        ack()
        runtime.kick_delivery()

    @app.view(ACTION_CALLBACK)
    def action_submitted(ack: Ack, body: dict[str, Any], view: dict[str, Any]) -> None:
        meeting_id = int(json.loads(view["private_metadata"])["meeting_id"])
        values = read_values(view["state"])
        new = NewAction(
            text=values.get("text") or "",
            owner_slack_id=values.get("owner"),
            priority=values.get("priority") or "",
            due_on=values.get("due_on"),
            concerns=values.get("concerns") or "",
        )
        now = runtime.clock.now()
        user_id = body["user"]["id"]
        with session_scope(runtime.engine) as session:
            meeting = session.get(Meeting, meeting_id)
            errors = validate_action(
                session,
                new,
                today=runtime.calendar.local(now).date(),
                case_id=meeting.case_id if meeting else None,
            )
            member = member_by_slack_id(session, user_id)
            if not errors and (meeting is None or not may_add_actions(meeting, member)):
                errors = {"text": "Only the chair, the convenor or a minute-taker can add actions."}
            if errors:
                ack(response_action="errors", errors=errors)
                return
            assert meeting is not None
            try:
                action, _ = add_action(
                    session,
                    meeting,
                    new,
                    partnership=runtime.partnership,
                    calendar=runtime.calendar,
                    actor=_actor(user_id, _team(body), member),
                    key=f"view:{view['id']}",
                    now=now,
                )
            except IntegrityError:
                ack()
                return
            done = action_added_view(
                action.reference, action.due_on.strftime("%a %d %b %Y"), new.owner_slack_id or ""
            )
        ack(response_action="update", view=done)

    @app.action("minutes_approve")
    def approve_clicked(ack: Ack, body: dict[str, Any], action: dict[str, Any], client: WebClient) -> None:
        ack()
        user_id = body["user"]["id"]
        now = runtime.clock.now()
        member = None
        try:
            with session_scope(runtime.engine) as session:
                member = member_by_slack_id(session, user_id)
                document = session.get(Document, int(action["value"]))
                if document is None or member is None:
                    raise RecordingRefused("Only the chair of this discussion can approve its minutes.")
                actor = _actor(user_id, _team(body), member)
                approved, changed = approve(
                    session,
                    document,
                    member=member,
                    actor=actor,
                    templates_dir=runtime.settings.templates_dir,
                    partnership=runtime.partnership,
                    calendar=runtime.calendar,
                    now=now,
                )
                if changed:
                    meeting = session.get(Meeting, approved.meeting_id)
                    assert meeting is not None
                    marking = runtime.partnership.settings.protective_marking
                    effects.circulate(
                        session,
                        approved,
                        f"{marking}: approved minutes of {meeting.reference}, version {approved.version}",
                        now,
                    )
                    companion = DOCUMENT_KINDS[approved.kind].companion
                    if companion:
                        log = _generate(session, runtime, meeting, companion, actor, now)
                        effects.circulate(session, log, f"{marking}: action log of {meeting.reference}", now)
                reply = f"Version {approved.version} is approved and circulated to the discussion's channel."
        except RecordingRefused as refused:
            audit_refusal(
                runtime,
                _actor(user_id, _team(body), member),
                "document.approve_refused",
                action["value"],
                str(refused),
            )
            tell(body, client, str(refused))
            return
        tell(body, client, reply)
        runtime.kick_delivery()

    @app.action("minutes_regenerate")
    def regenerate_clicked(ack: Ack, body: dict[str, Any], action: dict[str, Any], client: WebClient) -> None:
        ack()
        user_id = body["user"]["id"]
        now = runtime.clock.now()
        with session_scope(runtime.engine) as session:
            member = member_by_slack_id(session, user_id)
            meeting = session.get(Meeting, int(action["value"]))
            if meeting is None or not (
                may_record(meeting, member) or may_record_panel_minutes(meeting, member)
            ):
                refused = "Only the chair or a minute-taker can make a new draft."
            else:
                refused = ""
                document = generate(
                    session,
                    meeting,
                    minutes_kind(meeting),
                    templates_dir=runtime.settings.templates_dir,
                    partnership=runtime.partnership,
                    calendar=runtime.calendar,
                    actor=_actor(user_id, _team(body), member),
                    now=now,
                )
                _send_draft_to_chair(session, runtime, meeting, document, now)
        if refused:
            tell(body, client, refused)
            return
        runtime.kick_delivery()


def open_action_form(
    runtime: Runtime, client: WebClient, *, reference: str, user_id: str, trigger_id: str
) -> str | None:
    """`/actions add REF`: the action form, for the chair, convenor or a minute-taker.
    Returns a refusal to show instead, if any."""
    with session_scope(runtime.engine) as session:
        meeting = find_meeting(session, reference)
        member = member_by_slack_id(session, user_id)
        case = session.get(Case, meeting.case_id) if meeting and meeting.case_id else None
    if meeting is None or not may_add_actions(meeting, member):
        return f"Only the chair, the convenor or a minute-taker of {reference.upper()} can add its actions."
    client.views_open(
        trigger_id=trigger_id,
        view=action_modal(meeting.id or 0, meeting.reference, case.reference if case else ""),
    )
    return None


def may_add_actions(meeting: Meeting, member: Member | None) -> bool:
    return member is not None and (
        member.person_id == meeting.convenor_id
        or may_record(meeting, member)
        or may_record_panel_minutes(meeting, member)
    )


def minutes_kind(meeting: Meeting) -> str:
    """A panel sitting's minutes are the panel minutes; a discussion's are its own."""
    return "panel_minutes" if meeting.details.get("panel") else "minutes"


def may_record_panel_minutes(meeting: Meeting, member: Member | None) -> bool:
    """A panel's chair and minute-taker; its administrators are checked by the panel."""
    return (
        member is not None
        and bool(meeting.details.get("panel"))
        and member.person_id in {meeting.chair_id, meeting.minute_taker_id, meeting.convenor_id}
    )


def send_minutes(
    runtime: Runtime,
    *,
    meeting: Meeting,
    member: Member | None,
    user_id: str,
    team_id: str,
    kinds: tuple[str, ...] = ("minutes", "action_log"),
) -> str:
    """`/strategy minutes REF`: the latest approved minutes and action log, privately, to
    those who took part and to panel administrators; the chair and minute-takers may also
    fetch the current draft. Every download is audited. Returns the reply to show."""
    now = runtime.clock.now()
    with session_scope(runtime.engine) as session:
        allowed = is_involved(session, meeting, member) or bool(member and member.has_role("panel_admin"))
        if not allowed:
            refused = True
        else:
            refused = False
            documents = []
            for kind in kinds:
                if DOCUMENT_KINDS[kind].approvable:
                    minutes = latest(session, meeting, kind, approved_only=True)
                    if minutes is None and (
                        may_record(meeting, member) or may_record_panel_minutes(meeting, member)
                    ):
                        minutes = latest(session, meeting, kind, approved_only=False)
                    if minutes is None:
                        return f"{meeting.reference} has no approved minutes yet."
                    documents.append(minutes)
                else:
                    issued = latest(session, meeting, kind, approved_only=False)
                    if issued is not None:
                        documents.append(issued)
            if not documents:
                return f"{meeting.reference} has no action log yet."
            for document in documents:
                effects.send_privately(
                    session, document, user_id, "", now, why=f"download-{uuid.uuid4().hex[:8]}"
                )
                record(
                    session,
                    at=now,
                    actor=_actor(user_id, team_id, member),
                    act="document.downloaded",
                    record_type="document",
                    record_id=document.id or 0,
                    case_reference=session.get(Case, meeting.case_id).reference if meeting.case_id else "",  # type: ignore[union-attr]
                    details={"kind": document.kind, "version": document.version, "state": document.state},
                )
            names = ", ".join(f"{d.filename} ({d.state})" for d in documents)
    if refused:
        audit_refusal(
            runtime,
            _actor(user_id, team_id, member),
            "document.download_refused",
            meeting.reference,
            "not involved",
        )
        return (
            f"Only the people who took part in {meeting.reference} and panel administrators "
            "can have its minutes."
        )
    runtime.kick_delivery()
    return f"Sending you {names} in a direct message."
