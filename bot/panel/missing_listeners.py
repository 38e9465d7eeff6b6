"""Slack surface of Locate's work: `/panel missing REF` records a missing episode (or the
return from an open one), and the return home interview's button and form. Who may do
each is in `RULES`; the agencies are the partnership's (panel_practice.yaml), checked by
the service and by the episode's locator."""

from __future__ import annotations

import json
from typing import Any

from slack_bolt import Ack, App
from slack_sdk import WebClient
from sqlalchemy.exc import IntegrityError

from bot.access import (
    MEMBER,
    Access,
    Part,
    Rule,
    button,
    command,
    form,
    meeting_by_id,
    metadata,
    missing_episode_by_id,
    part,
    value,
)
from bot.cases.models import Case, CaseEpisode
from bot.cases.views import OPEN_MISSING
from bot.convening.views import read_values
from bot.database import read_scope, session_scope
from bot.panel.effects import ask_for_interview
from bot.panel.missing import (
    EpisodeForm,
    InterviewForm,
    MissingRefused,
    check_may_record,
    child_case,
    open_episode,
    record_episode,
    record_interview,
    validate_episode,
    validate_interview,
)
from bot.panel.missing_views import INTERVIEW_CALLBACK, MISSING_CALLBACK, interview_modal, missing_modal
from bot.panel.models import MissingEpisode
from bot.runtime import Runtime
from bot.slack.followup import after_ack
from bot.slack.replies import audit_refusal, tell

NOT_LISTED = "You are not listed in the partnership's schedules."
INTERVIEWERS_NOTE = "Only the agencies that record missing episodes and return home interviews can do that."

RULES = (
    Rule(command("/panel", "missing"), MEMBER, refusal=NOT_LISTED, act="panel.missing_refused"),
    # The button on a case's timeline (`/strategy REF`): someone involved in the discussion;
    # the service then checks their agency records missing episodes.
    Rule(
        button(OPEN_MISSING),
        part(Part.INVOLVED),
        meeting_by_id(value()),
        refusal="Only the people taking part in the discussion can record a missing episode from it.",
        act="panel.missing_refused",
    ),
    Rule(
        form(MISSING_CALLBACK),
        MEMBER,
        refusal=NOT_LISTED,
        act="panel.missing_refused",
        field="went_missing_at",
    ),
    Rule(
        button("panel_return_interview"),
        part(Part.AGENCY),
        missing_episode_by_id(value()),
        refusal=INTERVIEWERS_NOTE,
        act="panel.missing_refused",
    ),
    Rule(
        form(INTERVIEW_CALLBACK),
        part(Part.AGENCY),
        missing_episode_by_id(metadata("episode_id")),
        refusal=INTERVIEWERS_NOTE,
        act="panel.missing_refused",
        field="offered_at",
    ),
)


def open_missing_form(
    runtime: Runtime, access: Access, client: WebClient, body: dict[str, Any], ack: Ack
) -> None:
    """`/panel missing REF`: refused inline for someone outside the recording agencies or
    a reference that is no child's; otherwise the form (pre-filled for an open episode)."""
    partnership = runtime.partnership
    reference = partnership.settings.normalise_case_reference(access.requested.argument)
    try:
        check_may_record(access.member, partnership)
        with read_scope(runtime.engine) as session:
            case = child_case(session, reference)
            episode = open_episode(session, case.id) if case else None
        if case is None:
            raise MissingRefused(f"No child with the reference {reference} is known to the bot.")
    except MissingRefused as refused:
        ack(response_type="ephemeral", text=str(refused))
        after_ack(
            runtime,
            body,
            client,
            audit_refusal,
            runtime,
            access.actor,
            "panel.missing_refused",
            reference,
            str(refused),
        )
        return
    ack()
    view = missing_modal(case.reference, episode.went_missing_at if episode else None)
    after_ack(
        runtime, body, client, lambda: client.views_open(trigger_id=access.requested.trigger_id, view=view)
    )


def open_missing_from_case(runtime: Runtime, access: Access, client: WebClient, body: dict[str, Any]) -> None:
    """The timeline's button: the missing-episode form for the discussion's child (pre-filled
    for an open episode), or why not, told where the person is."""
    try:
        check_may_record(access.member, runtime.partnership)
        with read_scope(runtime.engine) as session:
            meeting = access.meeting
            episode_of_case = session.get(CaseEpisode, meeting.episode_id) if meeting.episode_id else None
            case = session.get(Case, episode_of_case.case_id) if episode_of_case else None
            case = case if case is not None and case.subject_kind == "child" else None
            episode = open_episode(session, case.id) if case else None
        if case is None:
            raise MissingRefused(f"{meeting.reference} is not about a child's case.")
    except MissingRefused as refused:
        tell(body, client, str(refused))
        audit_refusal(runtime, access.actor, "panel.missing_refused", access.meeting.reference, str(refused))
        return
    client.views_open(
        trigger_id=access.requested.trigger_id,
        view=missing_modal(case.reference, episode.went_missing_at if episode else None),
    )


def register(app: App, runtime: Runtime) -> None:
    partnership = runtime.partnership

    @app.action(OPEN_MISSING)
    def missing_from_case(ack: Ack, body: dict[str, Any], client: WebClient, access: Access) -> None:
        ack()
        after_ack(runtime, body, client, open_missing_from_case, runtime, access, client, body)

    @app.view(MISSING_CALLBACK)
    def missing_submitted(ack: Ack, view: dict[str, Any], access: Access) -> None:
        form_values = EpisodeForm.from_values(read_values(view["state"]))
        reference = str(json.loads(view.get("private_metadata") or "{}").get("case_reference", ""))
        now = runtime.clock.now()
        try:
            check_may_record(access.member, partnership)
            with session_scope(runtime.engine) as session:
                case = child_case(session, reference)
                if case is None:
                    raise MissingRefused("That child is no longer known to the bot.")
                errors = validate_episode(form_values, now=now, child_name=case.child_name)
                if errors:
                    ack(response_action="errors", errors=errors)
                    return
                assert access.member is not None
                result = record_episode(
                    session,
                    case,
                    form_values,
                    member=access.member,
                    actor=access.actor,
                    key=f"view:{view['id']}",
                    partnership=partnership,
                    now=now,
                )
                if result.interview_now_owed:
                    ask_for_interview(session, result.episode.id or 0, runtime, now)
        except MissingRefused as refused:
            ack(response_action="errors", errors={"went_missing_at": str(refused)})
            return
        except IntegrityError:
            ack()  # the same form twice at once: the first stored it
            return
        ack()
        runtime.kick_delivery()

    @app.action("panel_return_interview")
    def interview_clicked(ack: Ack, body: dict[str, Any], client: WebClient, access: Access) -> None:
        ack()
        episode: MissingEpisode = access.row
        if episode.interview_state in ("done", "declined"):
            tell(
                body,
                client,
                f"The return home interview for {access.known_record.reference} is already recorded.",
            )
            return
        due = (
            runtime.calendar.local(episode.interview_due_at).strftime("%a %d %b %H:%M")
            if episode.interview_due_at
            else ""
        )
        client.views_open(
            trigger_id=access.requested.trigger_id,
            view=interview_modal(episode.id or 0, access.known_record.reference, due),
        )

    @app.view(INTERVIEW_CALLBACK)
    def interview_submitted(ack: Ack, view: dict[str, Any], access: Access) -> None:
        from datetime import UTC, datetime

        values = read_values(view["state"])
        offered = values.get("offered_at")
        interview = InterviewForm(
            offered_at=datetime.fromtimestamp(int(offered), UTC) if offered else None,
            outcome=values.get("outcome") or "",
            by=values.get("by") or "",
        )
        now = runtime.clock.now()
        errors = validate_interview(interview, access.row, now=now)
        if errors:
            ack(response_action="errors", errors=errors)
            return
        try:
            with session_scope(runtime.engine) as session:
                record_interview(session, access.known_record.id, interview, actor=access.actor, now=now)
        except MissingRefused as refused:
            ack(response_action="errors", errors={"offered_at": str(refused)})
            return
        ack()
