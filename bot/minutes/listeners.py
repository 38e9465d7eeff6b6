"""Slack surface of recording and minutes: `/strategy record REF`, `/actions add REF`,
the chair's approval, and `/strategy minutes REF` downloads. Who may do each is in
`RULES`; the guard decides before the listener runs."""

from __future__ import annotations

import json
import uuid
from datetime import date, datetime, timedelta
from typing import Any

from slack_bolt import Ack, App
from slack_sdk import WebClient
from slack_sdk.errors import SlackObjectFormationError
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from bot.access import (
    Access,
    Part,
    Policy,
    Rule,
    button,
    document_by_id,
    form,
    meeting_by_id,
    metadata,
    part,
    role,
    value,
)
from bot.actions.service import NewAction, add_action, validate_action
from bot.audit.service import record
from bot.cases.models import Case
from bot.cases.timeline import TimelineRefused, icpc_target
from bot.children.service import child_names, subject_references
from bot.convening.effects import refresh_status
from bot.convening.hours import EMERGENCY_DUTY_CONVENOR
from bot.convening.models import Meeting
from bot.convening.service import icpc_due
from bot.convening.views import read_values
from bot.database import read_scope, session_scope
from bot.minutes import effects
from bot.minutes.decisions import Answer
from bot.minutes.models import Decision, Document
from bot.minutes.record_documents import (
    child_documents,
    owe_record_documents,
    send_draft_to_chair,
    send_to_convenor,
    write_version,
)
from bot.minutes.record_views import (
    RECORD_CALLBACK,
    RECORD_CHILD_CALLBACK,
    RECORD_DECISIONS_CALLBACK,
    child_answers_from,
    record_child_step,
    record_step_one,
    record_step_two,
    what_was_decided_from,
    when_and_who_from,
)
from bot.minutes.recording import (
    SAVED,
    ChildFacts,
    DraftOutOfDate,
    RecordingFacts,
    WhatWasDecided,
    WhenAndWho,
    check_may_record_discussion,
    child_decision_problems,
    claim_version,
    draft_of,
    record_version,
    recording_facts,
    save_draft,
    save_record,
    what_was_decided_problems,
    when_and_who_problems,
)
from bot.minutes.service import (
    DOCUMENT_KINDS,
    RecordingRefused,
    approve,
    attendance_defaults,
    copy_for_person,
    generate,
    latest,
    may_record,
    minutes_recipients,
)
from bot.minutes.views import (
    ACTION_CALLBACK,
    CHILD_RECORD_APPROVE,
    action_added_view,
    action_modal,
)
from bot.partnership.models import Person
from bot.partnership.service import Member
from bot.runtime import Runtime
from bot.slack.replies import audit_refusal, tell
from bot.wording import escape_mrkdwn

# The emergency duty convenor records the out-of-hours discussion they convened.
EMERGENCY_DUTY_RECORDS = Policy(
    lambda m, r: (
        m is not None
        and m.has_role(EMERGENCY_DUTY_CONVENOR)
        and r is not None
        and Part.CONVENOR in r.parts
        and bool(getattr(r.meeting, "out_of_hours", False))
    ),
    "the emergency duty convenor of an out-of-hours discussion",
)
MAY_RECORD = part(Part.CHAIR, Part.MINUTE_TAKER) | role("minute_taker") | EMERGENCY_DUTY_RECORDS
# Actions are added by the chair, the convenor or a minute-taker (of a panel sitting too).
MAY_ADD_ACTIONS = part(Part.CONVENOR, Part.CHAIR, Part.MINUTE_TAKER) | role("minute_taker")
# Whoever took part, and panel administrators, may have the minutes.
MAY_HAVE_MINUTES = part(Part.INVOLVED) | role("panel_admin")

RULES = (
    Rule(
        form(RECORD_CALLBACK),
        MAY_RECORD,
        meeting_by_id(metadata("meeting_id")),
        refusal="Only the chair or a minute-taker can record a strategy discussion.",
        act="discussion.record_refused",
        field="actual_start",
    ),
    Rule(
        form(RECORD_DECISIONS_CALLBACK),
        MAY_RECORD,
        meeting_by_id(metadata("meeting_id")),
        refusal="Only the chair or a minute-taker can record a strategy discussion.",
        act="discussion.record_refused",
        field="threshold_level",
    ),
    Rule(
        form(RECORD_CHILD_CALLBACK),
        MAY_RECORD,
        meeting_by_id(metadata("meeting_id")),
        refusal="Only the chair or a minute-taker can record a strategy discussion.",
        act="discussion.record_refused",
        field="section_47",
    ),
    Rule(
        form(ACTION_CALLBACK),
        MAY_ADD_ACTIONS,
        meeting_by_id(metadata("meeting_id")),
        refusal="Only the chair, the convenor or a minute-taker can add actions.",
        act="action.add_refused",
        field="text",
    ),
    Rule(
        button("minutes_approve"),
        part(Part.CHAIR),
        document_by_id(value()),
        refusal="Only the chair of the discussion can approve its minutes.",
        act="document.approve_refused",
    ),
    Rule(
        button(CHILD_RECORD_APPROVE),
        part(Part.CHAIR),
        document_by_id(value()),
        refusal="Only the chair of the discussion can approve a child's record.",
        act="document.approve_refused",
    ),
    Rule(
        button("minutes_regenerate"),
        MAY_RECORD | part(Part.PANEL_ADMIN),
        meeting_by_id(value()),
        refusal="Only the chair or a minute-taker can make a new draft.",
        act="document.draft_refused",
    ),
)


class _AlreadyRecorded(Exception):
    """This form was recorded already (a double submission): nothing more to do."""


def open_record_form(
    runtime: Runtime, client: WebClient, *, meeting: Meeting, member: Member | None, trigger_id: str
) -> str | None:
    """Open step 1 of the recording form (when and who), pre-filled from the record: the
    times (as scheduled, until recorded), each agency's answer, and what was recorded
    before. Returns a refusal to show instead, if any."""
    now = runtime.clock.now()
    try:
        check_may_record_discussion(meeting, member, now)
    except RecordingRefused as refused:
        return str(refused)
    with read_scope(runtime.engine) as session:
        fresh = session.get(Meeting, meeting.id)
        assert fresh is not None
        facts = recording_facts(session, fresh, runtime.partnership)
        attendance = {k: str(v) for k, v in attendance_defaults(session, fresh).items()}
        quorum = session.exec(
            select(Decision).where(col(Decision.meeting_id) == fresh.id, col(Decision.topic) == "quorum")
        ).first()
    start = fresh.held_at or fresh.scheduled_start
    end = fresh.ended_at or (start + timedelta(minutes=fresh.duration_minutes) if start else None)
    end = min(end, now) if end else None
    out_of_hours_reason = fresh.out_of_hours_reason
    quorum_reason, proceeds = (quorum.reason if quorum else ""), bool(quorum and quorum.outcome == "proceed")
    # Someone is recording already: carry on from their draft, the same one for everyone.
    draft, note = draft_of(fresh), ""
    if isinstance(draft.get("who"), dict):
        who = WhenAndWho.from_metadata(draft["who"])
        attendance = {**attendance, **{k: str(v) for k, v in who.attendance.items() if v}}
        start, end = who.actual_start or start, who.actual_end or end
        out_of_hours_reason, quorum_reason, proceeds = (
            who.out_of_hours_reason,
            who.quorum_reason,
            who.chair_proceeds,
        )
        saved = fresh.details.get(SAVED) or {}
        at = datetime.fromisoformat(saved["at"]) if saved.get("at") else now
        note = (
            f"Carrying on from the draft {escape_mrkdwn(str(saved.get('by') or 'someone'))} saved at "
            f"{runtime.calendar.local(at):%H:%M on %a %d %b}: everyone recording this discussion "
            "works on the same draft."
        )
    names = {a.code: a.name for a in facts.agencies}
    view = record_step_one(
        meeting_id=fresh.id or 0,
        reference=fresh.reference,
        agencies=[(a.code, a.name) for a in facts.agencies],
        core=[names[code] for code in facts.core if code in names],
        attendance=attendance,
        actual_start=start,
        actual_end=end,
        out_of_hours_reason=out_of_hours_reason,
        quorum_reason=quorum_reason,
        chair_proceeds=proceeds,
        version=record_version(fresh),
        note=note,
    )
    client.views_open(trigger_id=trigger_id, view=view)
    return None


def decisions_step(
    runtime: Runtime, meeting: Meeting, who: WhenAndWho, facts: RecordingFacts, *, version: int = 0
) -> dict[str, Any]:
    """Step 2 (what was decided), pre-filled with the shared draft if someone saved one,
    else with what was recorded before; it carries step 1 and the draft's version."""
    with read_scope(runtime.engine) as session:
        stored = {
            d.topic: d
            for d in session.exec(
                select(Decision).where(
                    col(Decision.meeting_id) == meeting.id, col(Decision.case_id).is_(None)
                )
            )
        }
        clocks = icpc_due(session, meeting)
    answers = {
        topic: Answer(
            d.outcome,
            d.reason,
            date.fromisoformat(d.details["by"])
            if isinstance(d.details, dict) and d.details.get("by")
            else None,
        )
        for topic, d in stored.items()
    }
    review = stored.get("review")
    narrative = dict(meeting.details.get("record", {}))
    narrative.setdefault("action_taken", meeting.reason)
    threshold = meeting.right_help_right_time_level
    review_date = (
        date.fromisoformat(review.details["date"])
        if review and isinstance(review.details, dict) and review.details.get("date")
        else None
    )
    drafted = draft_of(meeting).get("what")
    if isinstance(drafted, dict):
        what = WhatWasDecided.from_draft(drafted)
        narrative = {**narrative, **{k: v for k, v in what.narrative.items() if v}}
        answers = {**answers, **{k: a for k, a in what.decisions.items() if a.outcome or a.detail}}
        threshold, review_date = what.threshold_level or threshold, what.review_date or review_date
    if clocks is not None and clocks.anchored_to != meeting.reference:
        hint = (
            f"Section 47 enquiries started at {clocks.anchored_to}: the ICPC is due by "
            f"{clocks.due_on:%A %d %B %Y}, and a follow-up does not restart it."
        )
    else:
        statutory = runtime.statutory_calendar
        began = who.actual_start or meeting.scheduled_start or runtime.clock.now()
        days = runtime.partnership.meeting_type(meeting.meeting_type).icpc_within_working_days or 15
        due = icpc_target(statutory, statutory.local_date(began), days)
        hint = (
            f"If section 47 enquiries start, the ICPC must be held by {due:%A %d %B %Y} "
            f"({days} working days, weekends and bank holidays left out)."
        )
    carried = {**json.loads(who.to_metadata(meeting.id or 0)), "v": version}
    return record_step_two(
        carried=json.dumps(carried, ensure_ascii=False, separators=(",", ":")),
        reference=meeting.reference,
        threshold_level=threshold,
        narrative=narrative,
        decisions=answers,
        review_date=review_date,
        enquiry_under_way_from=facts.enquiry_under_way_from,
        icpc_hint=hint,
        children=[c.reference for c in facts.children],
    )


def child_step(
    runtime: Runtime,
    meeting: Meeting,
    who: WhenAndWho,
    facts: RecordingFacts,
    index: int,
    *,
    version: int = 0,
) -> dict[str, Any]:
    """The step for the child at `index`: their decisions, pre-filled from what was recorded
    for them before, with their own ICPC clock."""
    child: ChildFacts = facts.children[index]
    with read_scope(runtime.engine) as session:
        stored = session.exec(
            select(Decision).where(
                col(Decision.meeting_id) == meeting.id, col(Decision.case_id) == child.case_id
            )
        ).all()
        clocks = icpc_due(session, meeting, child.episode_id)
    answers = {
        d.topic: Answer(
            d.outcome,
            d.reason,
            date.fromisoformat(d.details["by"])
            if isinstance(d.details, dict) and d.details.get("by")
            else None,
        )
        for d in stored
    }
    drafted = draft_of(meeting).get("what")
    if isinstance(drafted, dict):  # the shared draft's answers for this child, if any
        answers = {**answers, **WhatWasDecided.from_draft(drafted).per_child.get(child.case_id, {})}
    if clocks is not None and clocks.anchored_to != meeting.reference:
        hint = (
            f"{child.reference}: section 47 enquiries started at {clocks.anchored_to}; the ICPC is due "
            f"by {clocks.due_on:%A %d %B %Y}, and a follow-up does not restart it."
        )
    else:
        statutory = runtime.statutory_calendar
        began = who.actual_start or meeting.scheduled_start or runtime.clock.now()
        days = runtime.partnership.meeting_type(meeting.meeting_type).icpc_within_working_days or 15
        due = icpc_target(statutory, statutory.local_date(began), days)
        hint = (
            f"If section 47 enquiries start for {child.reference}, their ICPC must be held by "
            f"{due:%A %d %B %Y} ({days} working days, weekends and bank holidays left out)."
        )
    return record_child_step(
        meeting_id=meeting.id or 0,
        reference=meeting.reference,
        child_reference=child.reference,
        number=index + 1,
        total=len(facts.children),
        decisions=answers,
        enquiry_under_way_from=child.enquiry_under_way_from,
        icpc_hint=hint,
        version=version,
    )


def _carried(view: dict[str, Any]) -> dict[str, Any]:
    """A step's private metadata (what the steps before carried, and the draft's version)."""
    try:
        carried = json.loads(view.get("private_metadata") or "{}")
    except ValueError:
        return {}
    return carried if isinstance(carried, dict) else {}


def _version(carried: dict[str, Any]) -> int:
    value = carried.get("v")
    return value if isinstance(value, int) and value >= 0 else 0


def register(app: App, runtime: Runtime) -> None:
    """Attach the listeners (the courier learns to upload documents in `bot.composition`)."""

    def out_of_date(stale: DraftOutOfDate, reference: str) -> str:
        """Said on the form, where the person is: whose newer version this form would have
        overwritten, and how to carry on from it (nothing from this form was saved)."""
        return (
            f"{stale.by} saved a newer version of this record at {runtime.calendar.local(stale.at):%H:%M} "
            f"(version {stale.version}), so this form was not saved: it would have overwritten theirs. "
            f"Copy anything you need from here, then open the record again (/strategy record {reference}) "
            "to carry on from their version."
        )

    @app.view(RECORD_CALLBACK)
    def when_and_who(ack: Ack, view: dict[str, Any], access: Access) -> None:
        """Step 1: checked here; step 2 is pushed with step 1 in its metadata."""
        who = when_and_who_from(read_values(view["state"]))
        now = runtime.clock.now()
        with read_scope(runtime.engine) as session:
            meeting = session.get(Meeting, access.meeting.id)
            assert meeting is not None
            facts = recording_facts(session, meeting, runtime.partnership)
        errors = when_and_who_problems(who, meeting=meeting, facts=facts, calendar=runtime.calendar, now=now)
        if errors:
            ack(response_action="errors", errors=errors)
            return
        try:
            with session_scope(runtime.engine) as session:
                version = save_draft(
                    session,
                    meeting.id or 0,
                    expected=_version(_carried(view)),
                    form=str(view.get("id") or ""),
                    by=access.known_member.name,
                    now=now,
                    who=who,
                )
        except DraftOutOfDate as stale:
            ack(response_action="errors", errors={"actual_start": out_of_date(stale, meeting.reference)})
            return
        with read_scope(runtime.engine) as session:
            meeting = session.get_one(Meeting, meeting.id)
        try:
            step_two = decisions_step(runtime, meeting, who, facts, version=version)
        except SlackObjectFormationError:  # step 1 would not fit in the form's metadata
            ack(
                response_action="errors",
                errors={"quorum_reason": "Shorten the reasons on this step: they travel with the form."},
            )
            return
        ack(response_action="push", view=step_two)

    @app.view(RECORD_DECISIONS_CALLBACK)
    def recorded(
        ack: Ack, body: dict[str, Any], view: dict[str, Any], client: WebClient, access: Access
    ) -> None:
        """Step 2: both steps checked together, then stored; the minutes follow."""
        try:
            carried = json.loads(view.get("private_metadata") or "{}")
        except ValueError:
            carried = {}
        who = WhenAndWho.from_metadata(carried if isinstance(carried, dict) else {})
        what = what_was_decided_from(read_values(view["state"]))
        now = runtime.clock.now()
        with read_scope(runtime.engine) as session:
            found = session.get(Meeting, access.meeting.id)
            assert found is not None
            facts = recording_facts(session, found, runtime.partnership)
        back = when_and_who_problems(who, meeting=found, facts=facts, calendar=runtime.calendar, now=now)
        # With several children, their own decisions come in the steps that follow.
        errors = what_was_decided_problems(
            what, who, facts=facts, today=runtime.calendar.local(now).date(), complete=not facts.children
        )
        if back:
            errors["threshold_level"] = "Go back to step 1: " + next(iter(back.values()))
        if errors:
            ack(response_action="errors", errors=errors)
            return
        expected = _version(carried if isinstance(carried, dict) else {})
        if facts.children:
            # Several children: the shared record waits (the draft) for a step per child.
            version = _keep_draft(
                ack, access, who, what, expected=expected, form=view["id"], key=f"view:{view['id']}"
            )
            if version is not None:
                with read_scope(runtime.engine) as session:
                    found = session.get_one(Meeting, found.id)
                ack(response_action="push", view=child_step(runtime, found, who, facts, 0, version=version))
            return
        _store(ack, access, who, what, key=f"view:{view['id']}", now=now, expected=expected, form=view["id"])

    def _keep_draft(
        ack: Ack,
        access: Access,
        who: WhenAndWho,
        what: WhatWasDecided,
        *,
        expected: int,
        form: str,
        key: str = "",
        field: str = "threshold_level",
    ) -> int | None:
        """The record so far, checked, saved as the shared draft until the last child's
        step; None (the form told why) when someone saved a newer version meanwhile."""
        try:
            with session_scope(runtime.engine) as session:
                return save_draft(
                    session,
                    access.meeting.id,
                    expected=expected,
                    form=form,
                    by=access.known_member.name,
                    now=runtime.clock.now(),
                    who=who,
                    what=what,
                    key=key,
                )
        except DraftOutOfDate as stale:
            ack(response_action="errors", errors={field: out_of_date(stale, access.meeting.reference)})
            return None

    @app.view(RECORD_CHILD_CALLBACK)
    def child_recorded(ack: Ack, view: dict[str, Any], access: Access) -> None:
        """One child's step: checked, added to the draft; the next child's step, or (after
        the last) the whole record checked again and stored."""
        carried = _carried(view)
        index = carried.get("child")
        expected = _version(carried)
        now = runtime.clock.now()
        with read_scope(runtime.engine) as session:
            found = session.get(Meeting, access.meeting.id)
            assert found is not None
            facts = recording_facts(session, found, runtime.partnership)
            draft = found.details.get("record_draft")
        if not isinstance(index, int) or not 0 <= index < len(facts.children) or not isinstance(draft, dict):
            ack(
                response_action="errors",
                errors={"section_47": "This form is out of date: record the discussion again."},
            )
            return
        who = WhenAndWho.from_metadata(draft.get("who") or {})
        what = WhatWasDecided.from_draft(draft.get("what") or {})
        child = facts.children[index]
        what = WhatWasDecided(
            what.threshold_level,
            what.narrative,
            what.decisions,
            what.review_date,
            {**what.per_child, child.case_id: child_answers_from(read_values(view["state"]))},
        )
        errors = child_decision_problems(
            what, who, child, facts=facts, today=runtime.calendar.local(now).date()
        )
        if errors:
            ack(response_action="errors", errors=errors)
            return
        key = str(draft.get("key") or f"view:{view['id']}")
        if index + 1 < len(facts.children):
            version = _keep_draft(
                ack, access, who, what, expected=expected, form=view["id"], field="section_47"
            )
            if version is not None:
                with read_scope(runtime.engine) as session:
                    found = session.get_one(Meeting, found.id)
                step = child_step(runtime, found, who, facts, index + 1, version=version)
                ack(response_action="push", view=step)
            return
        _store(ack, access, who, what, key=key, now=now, expected=expected, form=view["id"])

    def _store(
        ack: Ack,
        access: Access,
        who: WhenAndWho,
        what: WhatWasDecided,
        *,
        key: str,
        now: Any,
        expected: int,
        form: str,
    ) -> None:
        """Store the whole record (checked again inside), then the minutes and action log,
        unless someone saved a newer version since this form was opened."""
        actor = access.actor
        try:
            with session_scope(runtime.engine) as session:
                meeting = session.get(Meeting, access.meeting.id)
                if meeting is None:
                    raise RecordingRefused("That discussion no longer exists.")
                if key not in meeting.details.get("recorded_forms", []):  # else a retry, told below
                    meeting, _ = claim_version(
                        session,
                        meeting.id or 0,
                        expected=expected,
                        form=form,
                        by=access.known_member.name,
                        now=now,
                    )
                    session.add(meeting)
                    session.flush()
                fresh = save_record(
                    session,
                    meeting,
                    who,
                    what,
                    member=access.known_member,
                    actor=actor,
                    partnership=runtime.partnership,
                    calendar=runtime.calendar,
                    statutory=runtime.statutory_calendar,
                    now=now,
                    key=key,
                )
                if not fresh:
                    raise _AlreadyRecorded()
                # The minutes and the action log are written by the courier, after the
                # acknowledgement (rendering Word documents can outlast Slack's 3 s), from
                # the same committed record, and retried until written.
                owe_record_documents(session, meeting, actor, key=key, now=now)
                refresh_status(session, meeting.id or 0, now)
        except _AlreadyRecorded:
            ack(response_action="clear")
            return
        except DraftOutOfDate as stale:
            ack(
                response_action="errors",
                errors={"section_47_detail": out_of_date(stale, access.meeting.reference)},
            )
            return
        except (RecordingRefused, TimelineRefused) as refused:
            ack(response_action="errors", errors={"section_47_detail": str(refused)})
            return
        ack(response_action="clear")
        runtime.kick_delivery()

    @app.view(ACTION_CALLBACK)
    def action_submitted(ack: Ack, view: dict[str, Any], access: Access) -> None:
        values = read_values(view["state"])
        new = NewAction(
            text=values.get("text") or "",
            owner_slack_id=values.get("owner"),
            priority=values.get("priority") or "",
            due_on=values.get("due_on"),
            concerns=values.get("concerns") or "",
            owner_contact=values.get("owner_contact"),
        )
        now = runtime.clock.now()
        with session_scope(runtime.engine) as session:
            meeting = session.get(Meeting, access.meeting.id)
            assert meeting is not None
            errors = validate_action(
                session,
                new,
                today=runtime.calendar.local(now).date(),
                case_id=meeting.case_id,
                child_names=tuple(child_names(session, meeting)),
            )
            if errors:
                ack(response_action="errors", errors=errors)
                return
            try:
                action, _ = add_action(
                    session,
                    meeting,
                    new,
                    partnership=runtime.partnership,
                    calendar=runtime.calendar,
                    actor=access.actor,
                    key=f"view:{view['id']}",
                    now=now,
                )
            except IntegrityError:
                ack()
                return
            owner = session.get(Person, action.owner_id)
            done = action_added_view(
                action.reference,
                action.due_on.strftime("%a %d %b %Y"),
                new.owner_slack_id or (owner.name if owner else ""),
            )
        ack(response_action="update", view=done)

    @app.action("minutes_approve")
    def approve_clicked(ack: Ack, body: dict[str, Any], client: WebClient, access: Access) -> None:
        ack()
        now = runtime.clock.now()
        try:
            with session_scope(runtime.engine) as session:
                document = session.get(Document, access.known_record.id)
                if document is None or access.member is None:
                    raise RecordingRefused("That version no longer exists.")
                approved, changed = approve(
                    session,
                    document,
                    member=access.member,
                    actor=access.actor,
                    templates_dir=runtime.settings.templates_dir,
                    partnership=runtime.partnership,
                    calendar=runtime.calendar,
                    now=now,
                )
                if changed:
                    meeting = session.get(Meeting, approved.meeting_id)
                    assert meeting is not None
                    marking = runtime.partnership.settings.protective_marking
                    _circulate_approved(session, runtime, meeting, approved, marking, now)
                    companion = DOCUMENT_KINDS[approved.kind].companion
                    if companion:
                        log = write_version(session, runtime, meeting, companion, access.actor, now)
                        effects.circulate(session, log, f"{marking}: action log of {meeting.reference}", now)
                reply = f"Version {approved.version} is approved and circulated to the discussion's channel."
        except RecordingRefused as refused:
            audit_refusal(
                runtime, access.actor, "document.approve_refused", access.known_record.id, str(refused)
            )
            tell(body, client, str(refused))
            return
        tell(body, client, reply)
        runtime.kick_delivery()

    @app.action(CHILD_RECORD_APPROVE)
    def child_record_approved(ack: Ack, body: dict[str, Any], client: WebClient, access: Access) -> None:
        """The chair approves a child's record: locked, then sent to the convenor for the
        child's file (once, however many clicks)."""
        from bot.children.documents import ChildRecordRefused, approve_child_record

        ack()
        now = runtime.clock.now()
        try:
            with session_scope(runtime.engine) as session:
                approved, changed = approve_child_record(
                    session,
                    access.known_record.id,
                    chair_person_id=access.known_member.person_id,
                    actor=access.actor,
                    templates_dir=runtime.settings.templates_dir,
                    partnership=runtime.partnership,
                    calendar=runtime.calendar,
                    now=now,
                )
                if changed:
                    meeting = session.get_one(Meeting, approved.meeting_id)
                    send_to_convenor(session, runtime, meeting, approved, now)
                reference = approved.kind.split(":", 1)[-1]
                reply = (
                    f"The record of {reference}, version {approved.version}, is approved and sent to "
                    "the convenor for the child's file."
                )
        except ChildRecordRefused as refused:
            audit_refusal(
                runtime, access.actor, "document.approve_refused", access.known_record.id, str(refused)
            )
            tell(body, client, str(refused))
            return
        tell(body, client, reply)
        runtime.kick_delivery()

    @app.action("minutes_regenerate")
    def regenerate_clicked(ack: Ack, client: WebClient, access: Access) -> None:
        ack()
        now = runtime.clock.now()
        with session_scope(runtime.engine) as session:
            meeting = session.get(Meeting, access.meeting.id)
            assert meeting is not None
            document = generate(
                session,
                meeting,
                minutes_kind(meeting),
                templates_dir=runtime.settings.templates_dir,
                partnership=runtime.partnership,
                calendar=runtime.calendar,
                actor=access.actor,
                now=now,
            )
            send_draft_to_chair(session, runtime, meeting, document, now)
            child_documents(session, runtime, meeting, access.actor, now)
        runtime.kick_delivery()


def _circulate_approved(
    session: Session, runtime: Runtime, meeting: Meeting, approved: Document, marking: str, now: datetime
) -> None:
    """The channel receives the copy everyone there may read (restricted text withheld when
    there is any); those who took part for an agency entitled to some or all of it receive
    privately the copy showing exactly that (bot.documents.handling)."""
    from bot.partners.minutes_page import email_minutes

    email_minutes(session, meeting, runtime, now)  # partners without Slack: a link by e-mail
    title = f"{marking}: approved minutes of {meeting.reference}, version {approved.version}"
    channel_copy = copy_for_person(session, approved, None, runtime.partnership, runtime.calendar, now)
    effects.circulate(session, channel_copy, title, now)
    if channel_copy.id == approved.id:
        return
    for person in minutes_recipients(session, meeting):
        if not person.slack_user_id:
            continue
        entitled = copy_for_person(session, approved, person, runtime.partnership, runtime.calendar, now)
        if entitled.id == approved.id:
            effects.send_privately(
                session, approved, person.slack_user_id, f"{title} (full copy)", now, why="full-copy"
            )
        elif entitled.id != channel_copy.id:  # entitled to some of the restricted text
            effects.send_privately(
                session, entitled, person.slack_user_id, f"{title} (your agency's copy)", now, why="own-copy"
            )


def open_action_form(runtime: Runtime, client: WebClient, *, meeting: Meeting, trigger_id: str) -> None:
    """`/actions add REF`: the action form (the guard has checked who may add actions)."""
    with session_scope(runtime.engine) as session:
        case = session.get(Case, meeting.case_id) if meeting.case_id else None
        # Several children: the action concerns them all unless one reference is kept.
        concerns = subject_references(session, meeting) or (case.reference if case else "")
    # Contacts without Slack can own actions too: their reminders come by e-mail.
    contacts = [(p.id, p.name) for p in runtime.partnership.people() if not p.slack_user_id and p.email]
    client.views_open(
        trigger_id=trigger_id, view=action_modal(meeting.id or 0, meeting.reference, concerns, contacts)
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
    access: Access,
    kinds: tuple[str, ...] = ("minutes", "action_log"),
) -> str:
    """`/strategy minutes REF`: the latest approved minutes and action log, privately, to
    those who took part and to panel administrators (the guard has checked which); the
    chair and minute-takers may also fetch the current draft. Every download is audited.
    Returns the reply to show."""
    now = runtime.clock.now()
    member, user_id = access.member, access.actor.slack_user_id
    with session_scope(runtime.engine) as session:
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
        case = session.get(Case, meeting.case_id) if meeting.case_id else None
        person = session.get(Person, member.person_id) if member is not None else None
        documents = [
            copy_for_person(session, d, person, runtime.partnership, runtime.calendar, now) for d in documents
        ]
        for document in documents:
            effects.send_privately(
                session, document, user_id, "", now, why=f"download-{uuid.uuid4().hex[:8]}"
            )
            record(
                session,
                at=now,
                actor=access.actor,
                act="document.downloaded",
                record_type="document",
                record_id=document.id or 0,
                case_reference=case.reference if case else "",
                details={"kind": document.kind, "version": document.version, "state": document.state},
            )
        names = ", ".join(f"{d.filename} ({d.state})" for d in documents)
    runtime.kick_delivery()
    return f"Sending you {names} in a direct message."
