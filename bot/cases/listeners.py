"""Slack surface of a case's life: the follow-up form (`/strategy follow-up REF`, or the
review day's button), why no follow-up is needed, the ICPC and the assessment's outcome
(buttons on the timeline in `/strategy REF`), and closing the case (`/strategy close REF`,
or its button). Who may do each is in `RULES`; the guard decides before a listener runs."""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime
from typing import Any

from slack_bolt import Ack, App
from slack_sdk import WebClient
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session

from bot.access import (
    Access,
    Part,
    Policy,
    Rule,
    both,
    command,
    meeting_by_id,
    meeting_by_reference,
    metadata,
    part,
    value,
)
from bot.cases import effects as case_effects
from bot.cases.closure import CloseRequest, ClosureRefused, close_case, closure_problems, open_actions
from bot.cases.details import detail_problems, recorded_fields, save_details
from bot.cases.models import Case, CaseEpisode
from bot.cases.reviews import ReviewRefused, no_follow_up_needed
from bot.cases.service import NAME_IN_SLACK_TEXT, mentions_child_of_case
from bot.cases.timeline import (
    TimelineRefused,
    record_assessment_outcome,
    record_icpc,
    timeline_of_meeting,
)
from bot.cases.views import (
    CLOSE_CALLBACK,
    DETAILS_CALLBACK,
    ICPC_CALLBACK,
    OPEN_CLOSE,
    OPEN_DETAILS,
    OPEN_ICPC,
    OPEN_OUTCOME,
    OUTCOME_CALLBACK,
    REVIEW_FOLLOW_UP,
    REVIEW_NOT_NEEDED,
    REVIEW_NOT_NEEDED_CALLBACK,
    close_modal,
    details_modal,
    icpc_modal,
    outcome_modal,
    review_not_needed_modal,
)
from bot.children.service import ChildDetails, children_of
from bot.convening import effects as convening_effects
from bot.convening.models import Meeting
from bot.convening.service import (
    ConveneRequest,
    convene,
    deadline_for,
    follow_up_type,
    icpc_due,
    may_convene,
    timescales,
    validate,
)
from bot.convening.views import (
    FOLLOW_UP_CALLBACK,
    FollowUpOf,
    concerns_from,
    convene_modal,
    read_values,
)
from bot.database import read_scope, session_scope
from bot.partnership.models import Person
from bot.runtime import Runtime
from bot.slack.followup import after_ack
from bot.slack.replies import tell

log = logging.getLogger(__name__)

CONVENOR_OR_CHAIR = part(Part.CONVENOR, Part.CHAIR)
CASE_REFUSED = "Only the convenor or the chair of the discussion can do that."
# A follow-up is convened by a convenor who has a part in the discussion it follows.
MAY_FOLLOW_UP = Policy(
    lambda m, r: (
        may_convene(m) and r is not None and bool(r.parts & {Part.CONVENOR, Part.CHAIR, Part.INVOLVED})
    ),
    "a convenor involved in the discussion",
)
FOLLOW_UP_REFUSED = "Only a convenor involved in {argument} can convene its follow-up."

RULES = (
    Rule(
        command("/strategy", "follow-up"),
        MAY_FOLLOW_UP,
        meeting_by_reference(),
        refusal=FOLLOW_UP_REFUSED,
        act="discussion.follow_up_refused",
    ),
    *both(
        REVIEW_FOLLOW_UP,
        FOLLOW_UP_CALLBACK,
        allow=MAY_FOLLOW_UP,
        record_from_button=meeting_by_id(value()),
        record_from_form=meeting_by_id(metadata("follows")),
        refusal="Only a convenor involved in the discussion can convene its follow-up.",
        act="discussion.follow_up_refused",
        field="reason",
    ),
    *both(
        REVIEW_NOT_NEEDED,
        REVIEW_NOT_NEEDED_CALLBACK,
        allow=CONVENOR_OR_CHAIR,
        record_from_button=meeting_by_id(value()),
        record_from_form=meeting_by_id(metadata("meeting_id")),
        refusal=CASE_REFUSED,
        act="review.refused",
        field="reason",
    ),
    *both(
        OPEN_ICPC,
        ICPC_CALLBACK,
        allow=CONVENOR_OR_CHAIR,
        record_from_button=meeting_by_id(value()),
        record_from_form=meeting_by_id(metadata("meeting_id")),
        refusal=CASE_REFUSED,
        act="section_47.refused",
        field="icpc",
    ),
    *both(
        OPEN_OUTCOME,
        OUTCOME_CALLBACK,
        allow=CONVENOR_OR_CHAIR,
        record_from_button=meeting_by_id(value()),
        record_from_form=meeting_by_id(metadata("meeting_id")),
        refusal=CASE_REFUSED,
        act="section_47.refused",
        field="outcome",
    ),
    *both(
        OPEN_DETAILS,
        DETAILS_CALLBACK,
        allow=CONVENOR_OR_CHAIR,
        record_from_button=meeting_by_id(value()),
        record_from_form=meeting_by_id(metadata("meeting_id")),
        refusal=CASE_REFUSED,
        act="case.details_refused",
        field="school",
    ),
    Rule(
        command("/strategy", "close"),
        CONVENOR_OR_CHAIR,
        meeting_by_reference(),
        refusal="Only the convenor or the chair of {argument} can close its case.",
        act="case.close_refused",
    ),
    *both(
        OPEN_CLOSE,
        CLOSE_CALLBACK,
        allow=CONVENOR_OR_CHAIR,
        record_from_button=meeting_by_id(value()),
        record_from_form=meeting_by_id(metadata("meeting_id")),
        refusal=CASE_REFUSED,
        act="case.close_refused",
        field="reason",
    ),
)


def _case(session: Session, meeting: Meeting) -> Case | None:
    return session.get(Case, meeting.case_id) if meeting.case_id else None


def open_follow_up_form(
    runtime: Runtime, client: WebClient, *, meeting: Meeting, trigger_id: str, channel_id: str = ""
) -> str | None:
    """The follow-up form, pre-filled from the discussion it follows (the case, its
    concerns, level, chair and format; the review date's first slot). Returns a refusal to
    show instead when the discussion cannot be followed up."""
    now = runtime.clock.now()
    partnership, calendar = runtime.partnership, runtime.calendar
    with read_scope(runtime.engine) as session:
        earlier = session.get(Meeting, meeting.id)
        assert earlier is not None
        case = _case(session, earlier)
        episode = session.get(CaseEpisode, earlier.episode_id) if earlier.episode_id else None
        chair = session.get(Person, earlier.chair_id) if earlier.chair_id else None
        icpc = icpc_due(session, earlier)
    if case is None or episode is None or episode.state != "open":
        return f"The case of {meeting.reference} is closed: convene a new discussion for a new referral."
    if earlier.state == "cancelled":
        return f"{meeting.reference} was cancelled: follow the discussion that was held."
    kind = follow_up_type(partnership, earlier.meeting_type)
    meeting_type = partnership.meeting_type(kind)
    deadlines: dict[str, datetime] = {
        code: deadline_for(
            partnership, runtime.statutory_calendar, urgency=code, referred_at=now, meeting_type=kind
        )
        for code in meeting_type.urgencies.offered()
    }
    after = now
    if earlier.review_on and calendar.start_of_day(earlier.review_on) > now:
        after = calendar.start_of_day(earlier.review_on)
    proposed = timescales(
        partnership,
        calendar,
        statutory=runtime.statutory_calendar,
        urgency=meeting_type.default_urgency,
        referred_at=now,
        meeting_type=kind,
        now=after,
    ).proposed_start
    if icpc is None:
        anchor = "No section 47 enquiries are under way."
    else:
        anchor = (
            f"ICPC by {icpc.due_on:%a %d %b %Y}, anchored to {icpc.anchored_to}: "
            "a follow-up never restarts it."
            if icpc.state == "pending"
            else f"The ICPC is {icpc.state.replace('_', ' ')}."
        )
    view = convene_modal(
        partnership=partnership,
        calendar=calendar,
        now=now,
        case_reference=case.reference,
        private_metadata=json.dumps({"follows": earlier.id, "channel": channel_id}),
        deadlines=deadlines,
        proposed_start=proposed,
        follow_up=FollowUpOf(
            meeting_id=earlier.id or 0,
            reference=earlier.reference,
            case_reference=case.reference,
            meeting_type=kind,
            concerns=tuple(earlier.concerns),
            right_help_right_time_level=earlier.right_help_right_time_level,
            chair_slack_id=chair.slack_user_id if chair else None,
            format=earlier.format,
            icpc_line=anchor,
            review_on=earlier.review_on,
        ),
    )
    client.views_open(trigger_id=trigger_id, view=view)
    return None


def follow_up_request(
    session: Session, earlier: Meeting, values: dict[str, Any], access: Access, view_id: str, partnership: Any
) -> ConveneRequest:
    """The follow-up form's values as a convening request: the case and child are the
    earlier discussion's, read from the record (never from the form)."""
    case = _case(session, earlier)
    assert case is not None and access.member is not None
    context = session.get(Case, earlier.context_case_id) if earlier.context_case_id else None
    start = values.get("start")
    return ConveneRequest(
        convenor=access.member,
        submission_key=f"view:{view_id}",
        case_reference=case.reference,
        child_name=case.child_name,
        child_date_of_birth=case.child_date_of_birth,
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
        follows_reference=earlier.reference,
        meeting_type=follow_up_type(partnership, earlier.meeting_type),
        team_id=access.actor.team_id,
        referred_at=None,  # set to the moment it is asked for
        out_of_hours_reason=values.get("out_of_hours_reason") or "",
        held_already=bool(values.get("held_already")),
        # A discussion of several children is followed up for all of them, each on their own
        # timeline (their section 47 enquiries continue; the ICPC clocks stand).
        further_children=tuple(
            ChildDetails(c.reference, c.case.child_name, c.case.child_date_of_birth)
            for c in children_of(session, earlier)
            if c.case.id != case.id
        ),
        context_reference=context.reference if context else "",
    )


def open_close_form(runtime: Runtime, client: WebClient, *, meeting: Meeting, trigger_id: str) -> str | None:
    """The closing form, listing the case's open actions (a page of them)."""
    with read_scope(runtime.engine) as session:
        case = _case(session, meeting)
        episode = session.get(CaseEpisode, meeting.episode_id) if meeting.episode_id else None
        actions = open_actions(session, meeting.case_id or 0) if case else []
    if case is None or episode is None:
        return f"{meeting.reference} is not part of a case's timeline."
    if episode.state != "open":
        return f"The case {case.reference} is already closed."
    view = close_modal(
        meeting.id or 0,
        case.reference,
        partnership=runtime.partnership,
        open_actions=[a.reference for a in actions[:10]],
        more_actions=len(actions) > 10,
    )
    client.views_open(trigger_id=trigger_id, view=view)
    return None


def timeline_for(
    runtime: Runtime, meeting: Meeting, *, may_manage: bool, may_record_missing: bool = False
) -> list[dict[str, Any]]:
    """The timeline blocks `/strategy REF` shows (as dicts), or none for a panel sitting."""
    from bot.cases.views import timeline_blocks

    with read_scope(runtime.engine) as session:
        timeline = timeline_of_meeting(
            session,
            meeting,
            partnership=runtime.partnership,
            statutory=runtime.statutory_calendar,
            now=runtime.clock.now(),
        )
    if timeline is None:
        return []
    blocks = timeline_blocks(
        timeline,
        partnership=runtime.partnership,
        calendar=runtime.calendar,
        meeting_id=meeting.id or 0,
        may_manage=may_manage,
        may_record_missing=may_record_missing,
    )
    return [b.to_dict() for b in blocks]


def register(app: App, runtime: Runtime) -> None:
    """Attach the listeners; each acknowledges within Slack's three seconds."""

    @app.action(REVIEW_FOLLOW_UP)
    def follow_up_clicked(ack: Ack, body: dict[str, Any], client: WebClient, access: Access) -> None:
        ack()

        def open_form() -> None:
            refusal = open_follow_up_form(
                runtime, client, meeting=access.meeting, trigger_id=access.requested.trigger_id
            )
            if refusal:
                tell(body, client, refusal)

        after_ack(runtime, body, client, open_form)

    @app.view(FOLLOW_UP_CALLBACK)
    def follow_up_submitted(
        ack: Ack, body: dict[str, Any], view: dict[str, Any], client: WebClient, access: Access
    ) -> None:
        now = runtime.clock.now()
        with read_scope(runtime.engine) as session:
            earlier = session.get(Meeting, access.meeting.id)
            assert earlier is not None
            request = follow_up_request(
                session, earlier, read_values(view["state"]), access, view["id"], runtime.partnership
            )
            request = _asked_now(request, now)
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

        def store() -> None:
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
                        convening_effects.announce_convened(
                            session, result.meeting, result.unreachable, runtime, now
                        )
            except IntegrityError:
                log.info("a duplicate follow-up submission lost the race; the first is kept")
            runtime.kick_delivery()

        after_ack(runtime, body, client, store)

    def _modal_from(builder: Any) -> Any:
        def handler(ack: Ack, body: dict[str, Any], client: WebClient, access: Access) -> None:
            ack()
            after_ack(runtime, body, client, lambda: builder(body, client, access))

        return handler

    def _open_review_not_needed(body: dict[str, Any], client: WebClient, access: Access) -> None:
        client.views_open(
            trigger_id=access.requested.trigger_id,
            view=review_not_needed_modal(access.meeting.id or 0, access.meeting.reference),
        )

    def _enquiry_of(access: Access) -> tuple[Any, str] | None:
        with read_scope(runtime.engine) as session:
            meeting = session.get_one(Meeting, access.meeting.id)
            timeline = timeline_of_meeting(
                session,
                meeting,
                partnership=runtime.partnership,
                statutory=runtime.statutory_calendar,
                now=runtime.clock.now(),
            )
        if timeline is None or timeline.enquiry is None or timeline.state != "open":
            return None
        return timeline.enquiry, timeline.case_reference

    def _open_icpc(body: dict[str, Any], client: WebClient, access: Access) -> None:
        found = _enquiry_of(access)
        if found is None:
            tell(body, client, "There is no section 47 enquiry under way for this case.")
            return
        enquiry, reference = found
        client.views_open(
            trigger_id=access.requested.trigger_id,
            view=icpc_modal(access.meeting.id or 0, reference, enquiry),
        )

    def _open_outcome(body: dict[str, Any], client: WebClient, access: Access) -> None:
        found = _enquiry_of(access)
        if found is None:
            tell(body, client, "There is no section 47 enquiry under way for this case.")
            return
        enquiry, reference = found
        client.views_open(
            trigger_id=access.requested.trigger_id,
            view=outcome_modal(access.meeting.id or 0, reference, enquiry),
        )

    def _open_close(body: dict[str, Any], client: WebClient, access: Access) -> None:
        refusal = open_close_form(
            runtime, client, meeting=access.meeting, trigger_id=access.requested.trigger_id
        )
        if refusal:
            tell(body, client, refusal)

    def _open_details(body: dict[str, Any], client: WebClient, access: Access) -> None:
        with read_scope(runtime.engine) as session:
            case = session.get_one(Case, access.meeting.case_id)
            reference, recorded = case.reference, recorded_fields(case)
        client.views_open(
            trigger_id=access.requested.trigger_id,
            view=details_modal(access.meeting.id or 0, reference, recorded),
        )

    @app.view(DETAILS_CALLBACK)
    def details_submitted(ack: Ack, view: dict[str, Any], access: Access) -> None:
        values = {k: v for k, v in read_values(view["state"]).items() if isinstance(v, str) or v is None}
        typed = {k: (v or "").strip() for k, v in values.items()}
        errors = detail_problems(typed)
        if errors:
            ack(response_action="errors", errors=errors)
            return
        now = runtime.clock.now()
        with session_scope(runtime.engine) as session:
            case = session.get_one(Case, access.meeting.case_id)
            save_details(session, case, typed, actor=access.actor, now=now)
        ack()

    app.action(OPEN_DETAILS)(_modal_from(_open_details))
    app.action(REVIEW_NOT_NEEDED)(_modal_from(_open_review_not_needed))
    app.action(OPEN_ICPC)(_modal_from(_open_icpc))
    app.action(OPEN_OUTCOME)(_modal_from(_open_outcome))
    app.action(OPEN_CLOSE)(_modal_from(_open_close))

    @app.view(REVIEW_NOT_NEEDED_CALLBACK)
    def review_not_needed_submitted(ack: Ack, view: dict[str, Any], access: Access) -> None:
        reason = read_values(view["state"]).get("reason") or ""
        now = runtime.clock.now()
        with read_scope(runtime.engine) as session:
            named = mentions_child_of_case(session, access.meeting.case_id, reason)
        if named:
            ack(response_action="errors", errors={"reason": NAME_IN_SLACK_TEXT})
            return
        try:
            with session_scope(runtime.engine) as session:
                meeting = no_follow_up_needed(
                    session,
                    access.meeting.id or 0,
                    reason,
                    member=access.known_member,
                    actor=access.actor,
                    now=now,
                )
                convening_effects.refresh_status(session, meeting.id or 0, now)
        except ReviewRefused as refused:
            ack(response_action="errors", errors={"reason": str(refused)})
            return
        ack()
        runtime.kick_delivery()

    @app.view(ICPC_CALLBACK)
    def icpc_submitted(ack: Ack, view: dict[str, Any], access: Access) -> None:
        values = read_values(view["state"])
        held = values.get("icpc") == "held"
        reason = (values.get("not_required_reason") or "") if values.get("icpc") == "not_required" else ""
        enquiry_id = int(json.loads(view["private_metadata"]).get("enquiry_id") or 0)
        now = runtime.clock.now()
        if values.get("icpc") not in ("held", "not_required"):
            ack(
                response_action="errors", errors={"icpc": "Say whether the ICPC was held or is not required."}
            )
            return
        with read_scope(runtime.engine) as session:
            named = bool(reason) and mentions_child_of_case(session, access.meeting.case_id, reason)
        if named:
            ack(response_action="errors", errors={"not_required_reason": NAME_IN_SLACK_TEXT})
            return
        try:
            with session_scope(runtime.engine) as session:
                _same_case(session, enquiry_id, access.meeting)
                record_icpc(
                    session,
                    enquiry_id,
                    held_on=values.get("held_on") if held else None,
                    not_required_reason=reason,
                    statutory=runtime.statutory_calendar,
                    actor=access.actor,
                    today=runtime.calendar.local(now).date(),
                    now=now,
                )
                convening_effects.refresh_status(session, access.meeting.id or 0, now)
        except TimelineRefused as refused:
            field = "held_on" if held else "not_required_reason"
            ack(response_action="errors", errors={field: str(refused)})
            return
        ack()
        runtime.kick_delivery()

    @app.view(OUTCOME_CALLBACK)
    def outcome_submitted(ack: Ack, view: dict[str, Any], access: Access) -> None:
        values = read_values(view["state"])
        enquiry_id = int(json.loads(view["private_metadata"]).get("enquiry_id") or 0)
        now = runtime.clock.now()
        try:
            with session_scope(runtime.engine) as session:
                _same_case(session, enquiry_id, access.meeting)
                record_assessment_outcome(
                    session,
                    enquiry_id,
                    substantiated=values.get("substantiated") or "",
                    outcome=values.get("outcome") or "",
                    completed_on=values.get("completed_on"),
                    actor=access.actor,
                    today=runtime.calendar.local(now).date(),
                    now=now,
                )
                convening_effects.refresh_status(session, access.meeting.id or 0, now)
        except TimelineRefused as refused:
            words = str(refused)
            field = "completed_on" if "date" in words else "outcome"
            ack(response_action="errors", errors={field: words})
            return
        ack()
        runtime.kick_delivery()

    @app.view(CLOSE_CALLBACK)
    def close_submitted(
        ack: Ack, body: dict[str, Any], view: dict[str, Any], client: WebClient, access: Access
    ) -> None:
        values = read_values(view["state"])
        request = CloseRequest(
            outcome=values.get("outcome") or "",
            reason=values.get("reason") or "",
            hand_on="yes" in (values.get("hand_on") or []),
            hand_on_note=values.get("hand_on_note") or "",
        )
        meeting = access.meeting
        with read_scope(runtime.engine) as session:
            episode = session.get(CaseEpisode, meeting.episode_id) if meeting.episode_id else None
            errors = (
                closure_problems(session, episode, request, partnership=runtime.partnership)
                if episode is not None
                else {"reason": "This discussion is not part of a case's timeline."}
            )
        if errors:
            ack(response_action="errors", errors=errors)
            return
        ack()
        now = runtime.clock.now()

        def store() -> None:
            try:
                with session_scope(runtime.engine) as session:
                    closed = close_case(
                        session,
                        meeting.episode_id or 0,
                        request,
                        member=access.known_member,
                        actor=access.actor,
                        partnership=runtime.partnership,
                        now=now,
                    )
                    if closed.closed_now:
                        case_effects.announce_closed(session, closed, runtime, now)
            except ClosureRefused as refused:  # something changed since the form was checked
                tell(body, client, str(refused))
                return
            runtime.kick_delivery()
            if closed.closed_now:
                tell(
                    body,
                    client,
                    f"Case {closed.case_reference} is closed. Nothing about it is chased any more; its "
                    f"records are kept until {closed.records_kept_until:%d %B %Y}.",
                )

        after_ack(runtime, body, client, store)

    def _asked_now(request: ConveneRequest, now: datetime) -> ConveneRequest:
        from dataclasses import replace

        return replace(request, referred_at=now)


def _same_case(session: Session, enquiry_id: int, meeting: Meeting) -> None:
    """The enquiry named in the form's metadata belongs to the discussion's case; anything
    else reads as not found (the same words as a missing one)."""
    from bot.cases.models import Section47Enquiry

    enquiry = session.get(Section47Enquiry, enquiry_id)
    if enquiry is None or enquiry.episode_id != meeting.episode_id:
        raise TimelineRefused("That enquiry no longer exists.")
