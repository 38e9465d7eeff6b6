"""Slack surface of convening: the form's submission, answers to invitations, and the
discussion's own buttons (section 47 decision, reschedule, cancel). Who may do each is in
`RULES`; the guard decides before a listener runs, and before any form opens."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

from slack_bolt import Ack, App
from slack_sdk import WebClient
from sqlalchemy.exc import IntegrityError

from bot.access import (
    Access,
    Part,
    Rule,
    both,
    button,
    form,
    invitation_by_id,
    meeting_by_id,
    metadata,
    part,
    role,
    value,
)
from bot.cases.service import NAME_IN_SLACK_TEXT, mentions_child_of_case
from bot.convening import effects
from bot.convening.hours import EMERGENCY_DUTY_CONVENOR, out_of_hours_because
from bot.convening.models import InvitationState, Meeting
from bot.convening.service import (
    CONVENING_ROLES,
    Answer,
    ConveneRequest,
    ConveningRefused,
    answer_invitation,
    cancel,
    convene,
    deadline_for,
    find_meeting,
    follow_up_type,
    record_section_47,
    reschedule,
    timescales,
    validate,
)
from bot.convening.views import (
    CANCEL_CALLBACK,
    CONVENE_CALLBACK,
    DECLINE_CALLBACK,
    DELEGATE_CALLBACK,
    RESCHEDULE_CALLBACK,
    SECTION_47_CALLBACK,
    cancel_modal,
    concerns_from,
    convene_modal,
    decline_modal,
    delegate_modal,
    read_values,
    reschedule_modal,
    section_47_modal,
)
from bot.database import read_scope, session_scope
from bot.partnership.models import Agency
from bot.partnership.service import Member
from bot.runtime import Runtime
from bot.slack.followup import after_ack
from bot.slack.replies import audit_refusal, tell

log = logging.getLogger(__name__)


INVITED_AGENCY = part(Part.AGENCY)
ANSWER_REFUSED = "Only the invited agency can answer this invitation."
CONVENOR_OR_CHAIR = part(Part.CONVENOR, Part.CHAIR)
MANAGE_REFUSED = "Only the convenor or the chair can do that."

RULES = (
    Rule(
        form(CONVENE_CALLBACK),
        role(*CONVENING_ROLES),
        refusal="Only children's social care convenors can convene.",
        act="discussion.convene_refused",
        field="case_reference",
    ),
    *(
        Rule(
            button(answer),
            INVITED_AGENCY,
            invitation_by_id(value()),
            refusal=ANSWER_REFUSED,
            act="invitation.answer_refused",
        )
        for answer in ("invitation_attending", "invitation_written_update")
    ),
    *both(
        "invitation_delegate",
        DELEGATE_CALLBACK,
        allow=INVITED_AGENCY,
        record_from_button=invitation_by_id(value()),
        record_from_form=invitation_by_id(metadata("invitation_id")),
        refusal=ANSWER_REFUSED,
        act="invitation.answer_refused",
        field="delegate",
    ),
    *both(
        "invitation_decline",
        DECLINE_CALLBACK,
        allow=INVITED_AGENCY,
        record_from_button=invitation_by_id(value()),
        record_from_form=invitation_by_id(metadata("invitation_id")),
        refusal=ANSWER_REFUSED,
        act="invitation.answer_refused",
        field="reason",
    ),
    *both(
        "open_reschedule",
        RESCHEDULE_CALLBACK,
        allow=CONVENOR_OR_CHAIR,
        record_from_button=meeting_by_id(value()),
        record_from_form=meeting_by_id(metadata("meeting_id")),
        refusal=MANAGE_REFUSED,
        act="discussion.reschedule_refused",
        field="start",
    ),
    *both(
        "open_cancel",
        CANCEL_CALLBACK,
        allow=CONVENOR_OR_CHAIR,
        record_from_button=meeting_by_id(value()),
        record_from_form=meeting_by_id(metadata("meeting_id")),
        refusal=MANAGE_REFUSED,
        act="discussion.cancel_refused",
        field="reason",
    ),
    *both(
        "open_section_47",
        SECTION_47_CALLBACK,
        allow=CONVENOR_OR_CHAIR,
        record_from_button=meeting_by_id(value()),
        record_from_form=meeting_by_id(metadata("meeting_id")),
        refusal=MANAGE_REFUSED,
        act="decision.refused",
        field="reason",
    ),
)


def open_convene_form(
    runtime: Runtime,
    client: WebClient,
    *,
    trigger_id: str,
    channel_id: str,
    case_reference: str,
    reason: str = "",
    concerns: tuple[str, ...] = (),
    metadata: dict[str, Any] | None = None,
) -> None:
    """Open `/strategy new` with the deadlines and the first free slot filled in (and, from
    a panel's step up, the case, its links and the sitting item it came from)."""
    now = runtime.clock.now()
    kind = runtime.partnership.meeting_type("strategy_discussion")
    deadlines: dict[str, datetime] = {
        code: deadline_for(runtime.partnership, runtime.statutory_calendar, urgency=code, referred_at=now)
        for code in kind.urgencies.offered()
    }
    proposed = timescales(
        runtime.partnership,
        runtime.calendar,
        statutory=runtime.statutory_calendar,
        urgency=kind.default_urgency,
        referred_at=now,
    ).proposed_start
    view = convene_modal(
        partnership=runtime.partnership,
        calendar=runtime.calendar,
        now=now,
        case_reference=case_reference.strip().upper()[:40],
        private_metadata=json.dumps({"channel": channel_id, **(metadata or {})}),
        deadlines=deadlines,
        proposed_start=proposed,
        reason=reason,
        concerns=concerns,
    )
    client.views_open(trigger_id=trigger_id, view=view)


def _request_from(
    values: dict[str, Any], member: Member, view: dict[str, Any], team_id: str
) -> ConveneRequest:
    start = values.get("start")
    referred = values.get("referred_at")
    return ConveneRequest(
        convenor=member,
        submission_key=f"view:{view['id']}",
        case_reference=values.get("case_reference") or "",
        child_name=values.get("child_name") or "",
        child_date_of_birth=values.get("child_date_of_birth"),
        reason=values.get("reason") or "",
        concerns=concerns_from(values),
        right_help_right_time_level=values.get("right_help_right_time_level") or "",
        urgency=values.get("urgency") or "",
        start=datetime.fromtimestamp(int(start), UTC) if start else None,
        late_reason=values.get("late_reason") or "",
        format=values.get("format") or "",
        chair_slack_id=values.get("chair"),
        extra_agencies=tuple(values.get("extra_agencies") or ()),
        extra_people_slack_ids=tuple(values.get("extra_people") or ()),
        follows_reference=values.get("follows") or "",
        team_id=team_id,
        referred_at=datetime.fromtimestamp(int(referred), UTC) if referred else None,
        out_of_hours_reason=values.get("out_of_hours_reason") or "",
        held_already=bool(values.get("held_already")),
    )


def _as_follow_up_if_it_follows(session: Any, request: ConveneRequest, partnership: Any) -> ConveneRequest:
    """A discussion typed into the *follows* field makes this a follow-up (the follow-up
    meeting type, the earlier discussion's episode); an unknown one is refused inline."""
    if not request.follows_reference.strip():
        return request
    earlier = find_meeting(session, request.follows_reference)
    if earlier is None:
        return request
    try:
        return replace(request, meeting_type=follow_up_type(partnership, earlier.meeting_type))
    except (KeyError, ValueError):
        return request


def step_up_convened(session: Any, metadata: str, meeting: Meeting, now: datetime) -> None:
    """A discussion convened from a panel's step up is linked to the panel's decision."""
    try:
        found = json.loads(metadata or "{}")
    except ValueError:
        return
    item_id = found.get("panel_item") if isinstance(found, dict) else None
    if isinstance(item_id, int):
        from bot.panel.decisions import link_step_up

        link_step_up(session, item_id, meeting, now)


def register(app: App, runtime: Runtime) -> None:
    """Attach convening's listeners (the courier learns its messages in `bot.composition`)."""

    @app.view(CONVENE_CALLBACK)
    def convene_submitted(
        ack: Ack, body: dict[str, Any], view: dict[str, Any], client: WebClient, access: Access
    ) -> None:
        now = runtime.clock.now()
        # One read-only transaction for everything the answer depends on.
        with read_scope(runtime.engine) as session:
            request = _request_from(
                read_values(view["state"]), access.known_member, view, access.actor.team_id
            )
            request = _as_follow_up_if_it_follows(session, request, runtime.partnership)
            errors = validate(
                session,
                request,
                partnership=runtime.partnership,
                calendar=runtime.calendar,
                statutory=runtime.statutory_calendar,
                now=now,
            )
        if errors:
            ack(response_action="errors", errors=errors)
            return
        ack()
        after_ack(
            runtime,
            body,
            client,
            lambda: _convene(request, view["id"], now, view.get("private_metadata", "")),
        )

    def _convene(request: ConveneRequest, view_id: str, now: datetime, metadata: str = "") -> None:
        """Store a validated submission and what it owes Slack; once per view (the
        submission key), however often Slack sends it."""
        try:
            with session_scope(runtime.engine) as session:
                result = convene(
                    session,
                    request,
                    partnership=runtime.partnership,
                    calendar=runtime.calendar,
                    statutory=runtime.statutory_calendar,
                    now=now,
                )
                if result.created:
                    effects.announce_convened(session, result.meeting, result.unreachable, runtime, now)
                    step_up_convened(session, metadata, result.meeting, now)
        except IntegrityError:
            log.info(
                "a duplicate submission lost the race; the first is kept",
                extra={"event": "convening.duplicate_submission", "view_id": view_id},
            )
        runtime.kick_delivery()

    def _answer(access: Access, answer: Answer) -> str | None:
        """Record an answer; returns the refusal to show, or None when it was recorded."""
        now, invitation_id = runtime.clock.now(), access.known_record.id
        try:
            with session_scope(runtime.engine) as session:
                invitation, changed = answer_invitation(
                    session, invitation_id, answer, member=access.member, actor=access.actor, now=now
                )
                if changed:
                    meeting = session.get(Meeting, invitation.meeting_id)
                    assert meeting is not None
                    effects.after_answer(session, meeting, invitation, runtime, now)
        except ConveningRefused as refused:
            audit_refusal(runtime, access.actor, "invitation.answer_refused", invitation_id, str(refused))
            return str(refused)
        runtime.kick_delivery()
        return None

    def _quick(state: InvitationState) -> Callable[..., None]:
        def handler(ack: Ack, body: dict[str, Any], client: WebClient, access: Access) -> None:
            ack()

            def answer() -> None:
                refusal = _answer(access, Answer(state))
                if refusal:
                    tell(body, client, refusal)

            after_ack(runtime, body, client, answer)

        return handler

    app.action("invitation_attending")(_quick(InvitationState.ATTENDING))
    app.action("invitation_written_update")(_quick(InvitationState.WRITTEN_UPDATE))

    def _agency_modal(opens: str) -> Callable[..., None]:
        """A button that opens a modal for the invited agency (the guard has checked)."""

        def handler(ack: Ack, body: dict[str, Any], client: WebClient, access: Access) -> None:
            ack()
            after_ack(runtime, body, client, lambda: open_modal(client, access))

        def open_modal(client: WebClient, access: Access) -> None:
            invitation, meeting = access.row, access.meeting
            if opens == "delegate":
                with read_scope(runtime.engine) as session:
                    agency = session.get_one(Agency, invitation.agency_id)
                people = [
                    (f"{p.name}, {p.title}", p.slack_user_id)
                    for p in runtime.partnership.agency(agency.code).people()
                    if p.slack_user_id
                ]
                view = delegate_modal(invitation.id or 0, meeting.reference, people)
            else:
                view = decline_modal(invitation.id or 0, meeting.reference)
            client.views_open(trigger_id=access.requested.trigger_id, view=view)

        return handler

    app.action("invitation_delegate")(_agency_modal("delegate"))
    app.action("invitation_decline")(_agency_modal("decline"))

    @app.view(DELEGATE_CALLBACK)
    def delegate_submitted(ack: Ack, view: dict[str, Any], access: Access) -> None:
        delegate = read_values(view["state"]).get("delegate")
        refusal = _answer(access, Answer(InvitationState.DELEGATE, delegate_slack_id=delegate))
        if refusal:
            ack(response_action="errors", errors={"delegate": refusal})
        else:
            ack()

    @app.view(DECLINE_CALLBACK)
    def decline_submitted(ack: Ack, view: dict[str, Any], access: Access) -> None:
        reason = (read_values(view["state"]).get("reason") or "").strip()
        with read_scope(runtime.engine) as session:
            named = mentions_child_of_case(session, access.meeting.case_id, reason)
        if named:
            ack(response_action="errors", errors={"reason": NAME_IN_SLACK_TEXT})
            return
        refusal = _answer(access, Answer(InvitationState.DECLINED, reason=reason))
        if refusal:
            ack(response_action="errors", errors={"reason": refusal})
        else:
            ack()

    def _manage_clicked(builder):  # noqa: ANN001
        """The convenor's and chair's buttons: each opens its form (the guard has checked)."""

        def handler(ack: Ack, body: dict[str, Any], client: WebClient, access: Access) -> None:
            ack()
            after_ack(
                runtime,
                body,
                client,
                lambda: client.views_open(
                    trigger_id=access.requested.trigger_id, view=builder(access.meeting)
                ),
            )

        return handler

    app.action("open_reschedule")(
        _manage_clicked(lambda m: reschedule_modal(m.id or 0, m.reference, m.scheduled_start))
    )
    app.action("open_cancel")(_manage_clicked(lambda m: cancel_modal(m.id or 0, m.reference)))
    app.action("open_section_47")(_manage_clicked(lambda m: section_47_modal(m.id or 0, m.reference)))

    def _locked_meeting(session: Any, access: Access) -> Meeting:
        meeting = session.get(Meeting, access.meeting.id)
        if meeting is None:
            raise ConveningRefused("That discussion no longer exists.")
        return meeting

    @app.view(RESCHEDULE_CALLBACK)
    def reschedule_submitted(ack: Ack, view: dict[str, Any], access: Access) -> None:
        values, now = read_values(view["state"]), runtime.clock.now()
        start = datetime.fromtimestamp(int(values["start"]), UTC) if values.get("start") else None
        reason = (values.get("reason") or "").strip()
        try:
            with session_scope(runtime.engine) as session:
                meeting = _locked_meeting(session, access)
                errors = _start_errors(start, reason, meeting, now, access.member)
                if reason and mentions_child_of_case(session, meeting.case_id, reason):
                    errors["reason"] = NAME_IN_SLACK_TEXT
                if errors:
                    ack(response_action="errors", errors=errors)
                    return
                assert start is not None
                why = out_of_hours_because(
                    runtime.calendar, start, start + timedelta(minutes=meeting.duration_minutes)
                )
                meeting.out_of_hours, meeting.out_of_hours_reason = bool(why), reason if why else ""
                if reschedule(
                    session,
                    meeting,
                    start=start,
                    reason=reason,
                    member=access.known_member,
                    actor=access.actor,
                    now=now,
                ):
                    effects.announce_rescheduled(session, meeting, reason, runtime, now)
        except ConveningRefused as refused:
            ack(response_action="errors", errors={"start": str(refused)})
            return
        ack()
        runtime.kick_delivery()

    def _start_errors(
        start: datetime | None, reason: str, meeting: Meeting, now: datetime, member: Member | None
    ) -> dict[str, str]:
        calendar = runtime.calendar
        if start is None:
            return {"start": "Choose the new date and time."}
        if start < now:
            return {"start": "That time has passed."}
        why = out_of_hours_because(calendar, start, start + timedelta(minutes=meeting.duration_minutes))
        if why and not (member is not None and member.has_role(EMERGENCY_DUTY_CONVENOR)):
            hours = runtime.partnership.working_hours
            return {
                "start": f"That is {why}. Only an emergency duty convenor can move a discussion out of "
                f"hours; choose a working day, {hours.start:%H:%M} to {hours.end:%H:%M}."
            }
        if why and not reason:
            return {"reason": f"That is {why}: say why it cannot wait for working hours."}
        if meeting.deadline and start > meeting.deadline and not reason:
            return {"reason": "That is after the deadline: record why it cannot be sooner."}
        return {}

    @app.view(CANCEL_CALLBACK)
    def cancel_submitted(ack: Ack, view: dict[str, Any], access: Access) -> None:
        reason, now = (read_values(view["state"]).get("reason") or "").strip(), runtime.clock.now()
        try:
            with session_scope(runtime.engine) as session:
                meeting = _locked_meeting(session, access)
                if mentions_child_of_case(session, meeting.case_id, reason):
                    ack(response_action="errors", errors={"reason": NAME_IN_SLACK_TEXT})
                    return
                cancel(
                    session, meeting, reason=reason, member=access.known_member, actor=access.actor, now=now
                )
                effects.announce_cancelled(session, meeting, runtime, now)
        except ConveningRefused as refused:
            ack(response_action="errors", errors={"reason": str(refused)})
            return
        ack()
        runtime.kick_delivery()

    @app.view(SECTION_47_CALLBACK)
    def section_47_submitted(ack: Ack, view: dict[str, Any], access: Access) -> None:
        values, now = read_values(view["state"]), runtime.clock.now()
        try:
            with session_scope(runtime.engine) as session:
                meeting = _locked_meeting(session, access)
                record_section_47(
                    session,
                    meeting,
                    start_enquiries=values.get("decision") == "start",
                    reason=values.get("reason") or "",
                    member=access.known_member,
                    actor=access.actor,
                    partnership=runtime.partnership,
                    statutory=runtime.statutory_calendar,
                    now=now,
                )
                effects.refresh_discussion(session, meeting, now)
        except ConveningRefused as refused:
            ack(response_action="errors", errors={"reason": str(refused)})
            return
        ack()
        runtime.kick_delivery()
