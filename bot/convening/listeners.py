"""Slack surface of convening: the form's submission, answers to invitations, and the
discussion's own buttons (section 47 decision, reschedule, cancel)."""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime
from typing import Any

from slack_bolt import Ack, App
from slack_sdk import WebClient
from sqlalchemy.exc import IntegrityError

from bot.audit.service import Actor
from bot.cases.service import NAME_IN_SLACK_TEXT, mentions_child_of_case
from bot.convening import effects
from bot.convening.models import Invitation, InvitationState, Meeting
from bot.convening.service import (
    Answer,
    ConveneRequest,
    ConveningRefused,
    answer_invitation,
    cancel,
    convene,
    deadline_for,
    may_convene,
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
from bot.partnership.service import Member, member_by_slack_id
from bot.runtime import Runtime
from bot.slack.followup import after_ack
from bot.slack.replies import audit_refusal, tell

log = logging.getLogger(__name__)


def _team(body: dict[str, Any]) -> str:
    team = body.get("team")
    return team.get("id", "") if isinstance(team, dict) else str(body.get("team_id", ""))


def _actor(body: dict[str, Any], member: Member | None) -> Actor:
    user = body.get("user", {})
    user_id = user.get("id", "") if isinstance(user, dict) else str(body.get("user_id", ""))
    return Actor(user_id, _team(body), member.person_id if member else None)


def open_convene_form(
    runtime: Runtime, client: WebClient, *, trigger_id: str, channel_id: str, case_reference: str
) -> None:
    """Open `/strategy new` with the deadlines and the first free slot filled in."""
    now = runtime.clock.now()
    kind = runtime.partnership.meeting_type("strategy_discussion")
    deadlines = {
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
        private_metadata=json.dumps({"channel": channel_id}),
        deadlines=deadlines,
        proposed_start=proposed,
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


def register(app: App, runtime: Runtime) -> None:
    """Attach convening's listeners and teach the courier its messages."""
    effects.install(runtime)

    @app.view(CONVENE_CALLBACK)
    def convene_submitted(ack: Ack, body: dict[str, Any], view: dict[str, Any], client: WebClient) -> None:
        user_id = body["user"]["id"]
        now = runtime.clock.now()
        # One read-only transaction for everything the answer depends on.
        with read_scope(runtime.engine) as session:
            member = member_by_slack_id(session, user_id)
            if may_convene(member):
                assert member is not None
                request = _request_from(read_values(view["state"]), member, view, _team(body))
                errors = validate(
                    session,
                    request,
                    partnership=runtime.partnership,
                    calendar=runtime.calendar,
                    statutory=runtime.statutory_calendar,
                    now=now,
                )
        if not may_convene(member):
            ack(
                response_action="errors",
                errors={"case_reference": "Only children's social care convenors can convene."},
            )
            actor = _actor(body, member)
            after_ack(
                runtime,
                body,
                client,
                audit_refusal,
                runtime,
                actor,
                "discussion.convene_refused",
                "",
                "not a convenor",
            )
            return
        if errors:
            ack(response_action="errors", errors=errors)
            return
        ack()
        after_ack(runtime, body, client, lambda: _convene(request, view["id"], now))

    def _convene(request: ConveneRequest, view_id: str, now: datetime) -> None:
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
        except IntegrityError:
            log.info("a duplicate submission of view %s lost the race; the first is kept", view_id)
        runtime.kick_delivery()

    def _answer(body: dict[str, Any], invitation_id: int, answer: Answer) -> str | None:
        """Record an answer; returns the refusal to show, or None when it was recorded."""
        user_id = body["user"]["id"]
        now = runtime.clock.now()
        member = None
        try:
            with session_scope(runtime.engine) as session:
                member = member_by_slack_id(session, user_id)
                invitation, changed = answer_invitation(
                    session,
                    invitation_id,
                    answer,
                    member=member,
                    actor=_actor(body, member),
                    now=now,
                )
                if changed:
                    meeting = session.get(Meeting, invitation.meeting_id)
                    assert meeting is not None
                    effects.after_answer(session, meeting, invitation, runtime, now)
        except ConveningRefused as refused:
            audit_refusal(
                runtime,
                _actor(body, member),
                "invitation.answer_refused",
                invitation_id,
                str(refused),
            )
            return str(refused)
        runtime.kick_delivery()
        return None

    def _quick(state: InvitationState):
        def handler(ack: Ack, body: dict[str, Any], action: dict[str, Any], client: WebClient) -> None:
            ack()

            def answer() -> None:
                refusal = _answer(body, int(action["value"]), Answer(state))
                if refusal:
                    tell(body, client, refusal)

            after_ack(runtime, body, client, answer)

        return handler

    app.action("invitation_attending")(_quick(InvitationState.ATTENDING))
    app.action("invitation_written_update")(_quick(InvitationState.WRITTEN_UPDATE))

    def _invitation_context(
        invitation_id: int, user_id: str
    ) -> tuple[Invitation, Meeting, Agency, Member | None]:
        with session_scope(runtime.engine) as session:
            invitation = session.get(Invitation, invitation_id)
            if invitation is None:
                raise ConveningRefused("That invitation no longer exists.")
            meeting = session.get(Meeting, invitation.meeting_id)
            agency = session.get(Agency, invitation.agency_id)
            assert meeting is not None and agency is not None
            return invitation, meeting, agency, member_by_slack_id(session, user_id)

    def _agency_modal(opens: str):
        """A button that opens a modal for the invited agency only (delegate, decline)."""

        def handler(ack: Ack, body: dict[str, Any], action: dict[str, Any], client: WebClient) -> None:
            ack()
            after_ack(runtime, body, client, lambda: open_modal(body, action, client))

        def open_modal(body: dict[str, Any], action: dict[str, Any], client: WebClient) -> None:
            invitation, meeting, agency, member = _invitation_context(
                int(action["value"]), body["user"]["id"]
            )
            if member is None or member.agency_code != agency.code:
                tell(body, client, f"Only {agency.name} can answer this invitation.")
                audit_refusal(
                    runtime,
                    _actor(body, member),
                    "invitation.answer_refused",
                    invitation.id or 0,
                    "not of the agency",
                )
                return
            if opens == "delegate":
                people = [
                    (f"{p.name}, {p.title}", p.slack_user_id)
                    for p in runtime.partnership.agency(agency.code).people()
                    if p.slack_user_id
                ]
                view = delegate_modal(invitation.id or 0, meeting.reference, people)
            else:
                view = decline_modal(invitation.id or 0, meeting.reference)
            client.views_open(trigger_id=body["trigger_id"], view=view)

        return handler

    app.action("invitation_delegate")(_agency_modal("delegate"))
    app.action("invitation_decline")(_agency_modal("decline"))

    @app.view(DELEGATE_CALLBACK)
    def delegate_submitted(ack: Ack, body: dict[str, Any], view: dict[str, Any]) -> None:
        invitation_id = int(json.loads(view["private_metadata"])["invitation_id"])
        delegate = read_values(view["state"]).get("delegate")
        refusal = _answer(body, invitation_id, Answer(InvitationState.DELEGATE, delegate_slack_id=delegate))
        if refusal:
            ack(response_action="errors", errors={"delegate": refusal})
        else:
            ack()

    @app.view(DECLINE_CALLBACK)
    def decline_submitted(ack: Ack, body: dict[str, Any], view: dict[str, Any]) -> None:
        invitation_id = int(json.loads(view["private_metadata"])["invitation_id"])
        reason = (read_values(view["state"]).get("reason") or "").strip()
        with session_scope(runtime.engine) as session:
            invitation = session.get(Invitation, invitation_id)
            meeting = session.get(Meeting, invitation.meeting_id) if invitation else None
            named = meeting is not None and mentions_child_of_case(session, meeting.case_id, reason)
        if named:
            ack(response_action="errors", errors={"reason": NAME_IN_SLACK_TEXT})
            return
        refusal = _answer(body, invitation_id, Answer(InvitationState.DECLINED, reason=reason))
        if refusal:
            ack(response_action="errors", errors={"reason": refusal})
        else:
            ack()

    def _manage_clicked(builder, act: str):  # noqa: ANN001
        def handler(
            ack: Ack,
            body: dict[str, Any],
            action: dict[str, Any],
            client: WebClient,
        ) -> None:
            ack()
            after_ack(runtime, body, client, lambda: open_modal(body, action, client))

        def open_modal(body: dict[str, Any], action: dict[str, Any], client: WebClient) -> None:
            with read_scope(runtime.engine) as session:
                meeting = session.get(Meeting, int(action["value"]))
                member = member_by_slack_id(session, body["user"]["id"])
            if (
                meeting is None
                or member is None
                or member.person_id not in (meeting.convenor_id, meeting.chair_id)
            ):
                tell(body, client, "Only the convenor or the chair can do that.")
                audit_refusal(runtime, _actor(body, member), act, action["value"], "not convenor or chair")
                return
            client.views_open(trigger_id=body["trigger_id"], view=builder(meeting))

        return handler

    app.action("open_reschedule")(
        _manage_clicked(
            lambda m: reschedule_modal(m.id or 0, m.reference, m.scheduled_start),
            "discussion.reschedule_refused",
        )
    )
    app.action("open_cancel")(
        _manage_clicked(lambda m: cancel_modal(m.id or 0, m.reference), "discussion.cancel_refused")
    )
    app.action("open_section_47")(
        _manage_clicked(lambda m: section_47_modal(m.id or 0, m.reference), "decision.refused")
    )

    def _managed(view: dict[str, Any], body: dict[str, Any]):
        meeting_id = int(json.loads(view["private_metadata"])["meeting_id"])
        return meeting_id, read_values(view["state"]), body["user"]["id"]

    @app.view(RESCHEDULE_CALLBACK)
    def reschedule_submitted(ack: Ack, body: dict[str, Any], view: dict[str, Any]) -> None:
        meeting_id, values, user_id = _managed(view, body)
        now = runtime.clock.now()
        start = datetime.fromtimestamp(int(values["start"]), UTC) if values.get("start") else None
        reason = (values.get("reason") or "").strip()
        try:
            with session_scope(runtime.engine) as session:
                meeting = session.get(Meeting, meeting_id)
                member = member_by_slack_id(session, user_id)
                if meeting is None or member is None:
                    raise ConveningRefused("Only the convenor or the chair can change this discussion.")
                errors = _start_errors(start, reason, meeting, now)
                if reason and mentions_child_of_case(session, meeting.case_id, reason):
                    errors["reason"] = NAME_IN_SLACK_TEXT
                if errors:
                    ack(response_action="errors", errors=errors)
                    return
                assert start is not None
                if reschedule(
                    session,
                    meeting,
                    start=start,
                    reason=reason,
                    member=member,
                    actor=_actor(body, member),
                    now=now,
                ):
                    effects.announce_rescheduled(session, meeting, reason, runtime, now)
        except ConveningRefused as refused:
            ack(response_action="errors", errors={"start": str(refused)})
            return
        ack()
        runtime.kick_delivery()

    def _start_errors(start: datetime | None, reason: str, meeting: Meeting, now: datetime) -> dict[str, str]:
        calendar = runtime.calendar
        if start is None:
            return {"start": "Choose the new date and time."}
        if start < now:
            return {"start": "That time has passed."}
        if not calendar.is_working_time(start):
            hours = runtime.partnership.working_hours
            return {"start": f"Choose a working day, {hours.start:%H:%M} to {hours.end:%H:%M}."}
        if meeting.deadline and start > meeting.deadline and not reason:
            return {"reason": "That is after the deadline: record why it cannot be sooner."}
        return {}

    @app.view(CANCEL_CALLBACK)
    def cancel_submitted(ack: Ack, body: dict[str, Any], view: dict[str, Any]) -> None:
        meeting_id, values, user_id = _managed(view, body)
        now = runtime.clock.now()
        reason = (values.get("reason") or "").strip()
        try:
            with session_scope(runtime.engine) as session:
                meeting = session.get(Meeting, meeting_id)
                member = member_by_slack_id(session, user_id)
                if meeting is None or member is None:
                    raise ConveningRefused("Only the convenor or the chair can change this discussion.")
                if mentions_child_of_case(session, meeting.case_id, reason):
                    ack(response_action="errors", errors={"reason": NAME_IN_SLACK_TEXT})
                    return
                cancel(
                    session,
                    meeting,
                    reason=reason,
                    member=member,
                    actor=_actor(body, member),
                    now=now,
                )
                effects.announce_cancelled(session, meeting, runtime, now)
        except ConveningRefused as refused:
            ack(response_action="errors", errors={"reason": str(refused)})
            return
        ack()
        runtime.kick_delivery()

    @app.view(SECTION_47_CALLBACK)
    def section_47_submitted(ack: Ack, body: dict[str, Any], view: dict[str, Any]) -> None:
        meeting_id, values, user_id = _managed(view, body)
        now = runtime.clock.now()
        try:
            with session_scope(runtime.engine) as session:
                meeting = session.get(Meeting, meeting_id)
                member = member_by_slack_id(session, user_id)
                if meeting is None or member is None:
                    raise ConveningRefused("Only the convenor or the chair can record this decision.")
                record_section_47(
                    session,
                    meeting,
                    start_enquiries=values.get("decision") == "start",
                    reason=values.get("reason") or "",
                    member=member,
                    actor=_actor(body, member),
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
