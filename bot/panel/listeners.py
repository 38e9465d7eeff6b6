"""Slack surface of the panel: `/panel` (refer, referrals, next, record, minutes), the
administrator's accept and decline, and the recording forms. Each acknowledges first or
answers inline within Slack's three seconds. Who may do each is in `RULES`; the guard
decides before a listener runs, and before any form opens."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any

from slack_bolt import Ack, App, Respond
from slack_sdk import WebClient
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from bot.access import (
    ANYONE,
    MEMBER,
    Access,
    Part,
    Policy,
    Rule,
    agency_kind,
    agenda_item_by_id,
    both,
    button,
    command,
    form,
    metadata,
    part,
    referral_by_id,
    role,
    sitting_by_id,
    sitting_by_reference,
    value,
)
from bot.actions.listeners import mark_done_rule, mark_done_submitted
from bot.cases.models import Case
from bot.convening.listeners import open_convene_form
from bot.convening.models import Invitation, Meeting
from bot.convening.service import CONVENING_ROLES
from bot.convening.views import read_values, when
from bot.database import read_scope, session_scope
from bot.minutes.listeners import MAY_HAVE_MINUTES, send_minutes
from bot.minutes.record_documents import send_draft_to_chair
from bot.minutes.service import attendance_defaults, generate
from bot.panel import records  # noqa: F401  (registers the panel's document kinds)
from bot.panel.commands import USAGE, grammar
from bot.panel.decisions import destinations, step_up_prefill
from bot.panel.effects import ask_administrators, follow_step_up, offer_to_convene, tell_referrer
from bot.panel.missing_listeners import open_missing_form
from bot.panel.models import AgendaItem, PanelCase, PanelSitting
from bot.panel.nrm import NrmForm, nrm_of
from bot.panel.perpetrators import (
    DisruptionForm,
    DisruptionOutcome,
    PerpetratorForm,
    add_disruption,
    add_intelligence,
    add_perpetrator,
    is_police,
    record_disruption_outcome,
    register_page,
    validate_disruption,
    validate_disruption_outcome,
    validate_intelligence,
    validate_perpetrator,
)
from bot.panel.service import (
    ItemOutcome,
    PanelRefused,
    ReferralForm,
    agenda_items,
    agenda_lines,
    check_may_record_panel,
    decide_referral,
    drafted,
    panels_administered,
    pending_referrals,
    ready_for_minutes,
    record_item,
    record_sitting,
    refer,
    sitting_of,
    subject_of_item,
    validate_outcome,
    validate_referral,
    validate_sitting,
)
from bot.panel.stepup import StepUpLinks
from bot.panel.stepup_listeners import operation_reply
from bot.panel.views import (
    DECLINE_CALLBACK,
    DISRUPTION_OUTCOME_CALLBACK,
    ITEM_CALLBACK,
    PERPETRATOR_CALLBACK,
    REFER_CALLBACK,
    REGISTER_MORE,
    SITTING_CALLBACK,
    decline_modal,
    item_modal,
    perpetrator_modal,
    recording_message,
    referral_done,
    referral_modal,
    register_message,
    sitting_modal,
)
from bot.panel.vocabulary import SUBJECT_KINDS
from bot.partnership.models import Agency
from bot.partnership.service import Member
from bot.runtime import Runtime
from bot.slack.followup import after_ack
from bot.slack.replies import audit_refusal, tell

NOT_LISTED = "You are not listed in the partnership's schedules."
RECORDERS = part(Part.CHAIR, Part.MINUTE_TAKER, Part.PANEL_ADMIN)
RECORDERS_NOTE = "Only the chair, the minute-taker or a panel administrator can record the panel."
DECIDERS_NOTE = "Only the panel's administrators decide its referrals."
REFERRALS_SHOWN = 30  # referrals listed by `/panel referrals`; a line says when more wait
# A convenor, and the decision must exist (a refusal reads the same either way).
CONVENERS = Policy(
    lambda m, r: m is not None and r is not None and bool(m.roles & frozenset(CONVENING_ROLES)),
    f"role {'/'.join(CONVENING_ROLES)} and the decision exists",
)

# The register of suspected perpetrators: police and panel administrators only.
SEES_REGISTER = agency_kind("police") | role("panel_admin")
REGISTER_NOTE = "Only police and panel administrators see the register of suspected perpetrators."

COMMANDS = {"/panel": grammar}
RULES = (
    Rule(command("/panel", "help"), ANYONE),
    Rule(command("/panel", "usage"), ANYONE),
    Rule(command("/panel", "refer"), MEMBER, refusal=NOT_LISTED, act="panel.refused"),
    Rule(command("/panel", "next"), MEMBER, refusal=NOT_LISTED, act="panel.refused"),
    Rule(
        command("/panel", "referrals"),
        role("panel_admin"),
        refusal="Only panel administrators decide referrals.",
        act="panel.refused",
    ),
    Rule(
        command("/panel", "record"),
        RECORDERS,
        sitting_by_reference(),
        refusal="Only the chair, the minute-taker or a panel administrator can record {argument}.",
        act="panel.record_refused",
    ),
    Rule(
        command("/panel", "minutes"),
        MAY_HAVE_MINUTES,
        sitting_by_reference(),
        refusal="Only the people who took part in {argument} and panel administrators can have its minutes.",
        act="document.download_refused",
    ),
    Rule(
        command("/panel", "perpetrator"), SEES_REGISTER, refusal=REGISTER_NOTE, act="panel.register_refused"
    ),
    Rule(
        command("/panel", "perpetrators"), SEES_REGISTER, refusal=REGISTER_NOTE, act="panel.register_refused"
    ),
    Rule(button(REGISTER_MORE), SEES_REGISTER, refusal=REGISTER_NOTE, act="panel.register_refused"),
    Rule(
        form(PERPETRATOR_CALLBACK),
        SEES_REGISTER,
        refusal=REGISTER_NOTE,
        act="panel.register_refused",
        field="description",
    ),
    Rule(form(REFER_CALLBACK), MEMBER, refusal=NOT_LISTED, act="panel.refused", field="reasons"),
    Rule(
        button("panel_referral_accept"),
        part(Part.PANEL_ADMIN),
        referral_by_id(value()),
        refusal=DECIDERS_NOTE,
        act="panel.decision_refused",
    ),
    *both(
        "panel_referral_decline",
        DECLINE_CALLBACK,
        allow=part(Part.PANEL_ADMIN),
        record_from_button=referral_by_id(value()),
        record_from_form=referral_by_id(metadata("referral_id")),
        refusal=DECIDERS_NOTE,
        act="panel.decision_refused",
        field="reason",
    ),
    # One button per agenda item: panel_record_item_<item>.
    Rule(
        button(r"panel_record_item_\d+"),
        RECORDERS,
        agenda_item_by_id(value()),
        refusal=RECORDERS_NOTE,
        act="panel.record_refused",
        pattern=True,
    ),
    Rule(
        form(ITEM_CALLBACK),
        RECORDERS,
        agenda_item_by_id(metadata("item_id")),
        refusal=RECORDERS_NOTE,
        act="panel.record_refused",
        field="decision_reason",
    ),
    *both(
        "panel_record_sitting",
        SITTING_CALLBACK,
        allow=RECORDERS,
        record_from_button=sitting_by_id(value()),
        record_from_form=sitting_by_id(metadata("meeting_id")),
        refusal=RECORDERS_NOTE,
        act="panel.record_refused",
        field="themes",
    ),
    Rule(
        button("panel_convene_step_up"),
        CONVENERS,
        agenda_item_by_id(value()),
        refusal="Only children's social care convenors can convene a strategy discussion.",
        act="discussion.convene_refused",
    ),
    Rule(
        button("panel_draft_minutes"),
        RECORDERS,
        sitting_by_id(value()),
        refusal=RECORDERS_NOTE,
        act="panel.record_refused",
    ),
    # A disruption action's outcome: the form its Mark done opens.
    mark_done_rule(
        DISRUPTION_OUTCOME_CALLBACK,
        refusal="Only the owner of the action or their agency lead can record its outcome.",
        field="result",
    ),
)


def _case_of_item(session: Any, item_id: int) -> int | None:
    item = session.get(AgendaItem, item_id)
    panel_case = session.get(PanelCase, item.panel_case_id) if item else None
    return panel_case.case_id if panel_case else None


def register(app: App, runtime: Runtime) -> None:
    partnership = runtime.partnership

    @app.command("/panel")
    def panel_command(
        ack: Ack, command: dict[str, Any], client: WebClient, respond: Respond, access: Access
    ) -> None:
        sub = access.requested.name.removeprefix("/panel").strip()
        if sub == "refer":
            ack()
            view = referral_modal(list(partnership.panels), partnership.settings.case_reference.example)
            after_ack(
                runtime,
                command,
                client,
                lambda: client.views_open(trigger_id=access.requested.trigger_id, view=view),
            )
        elif sub in ("perpetrator", "perpetrators"):
            _register(sub, ack, command, client, access)
        elif sub == "missing":
            open_missing_form(runtime, access, client, command, ack)
        elif sub == "operation":
            ack()
            after_ack(
                runtime,
                command,
                client,
                lambda: respond(
                    text=operation_reply(runtime, access),
                    response_type="ephemeral",
                ),
            )
        elif sub == "referrals":
            ack(response_type="ephemeral", text=_referrals_text(access.member))
        elif sub == "next":
            ack(response_type="ephemeral", text=_next_text())
        elif sub == "minutes":
            ack()

            def send() -> None:
                reply = send_minutes(runtime, meeting=access.meeting, access=access, kinds=("panel_minutes",))
                respond(text=reply, response_type="ephemeral")

            after_ack(runtime, command, client, send)
        elif sub == "record":
            meeting = access.meeting
            try:
                check_may_record_panel(meeting, access.member, partnership, runtime.clock.now())
            except PanelRefused as refused:
                ack(response_type="ephemeral", text=str(refused))
                after_ack(
                    runtime,
                    command,
                    client,
                    audit_refusal,
                    runtime,
                    access.actor,
                    "panel.record_refused",
                    meeting.reference,
                    str(refused),
                )
                return
            # The agenda with what each child's record links to grows with the panel's history:
            # read after the acknowledgement, the recording message sent to the chair alone.
            ack()
            meeting_id = meeting.id or 0
            after_ack(
                runtime,
                command,
                client,
                lambda: respond(response_type="ephemeral", **_recording(meeting_id)),
            )
        else:
            ack(response_type="ephemeral", text=USAGE)

    def _register(sub: str, ack: Ack, command: dict[str, Any], client: WebClient, access: Access) -> None:
        """`/panel perpetrator` adds to the register; `/panel perpetrators` lists a page
        (the guard's `SEES_REGISTER` let only police and administrators this far)."""
        if sub == "perpetrators":
            ack(response_type="ephemeral", **_register_message(None))
            return
        ack()
        view = perpetrator_modal(
            {p.code: p.name for p in partnership.panels}, is_police(access.member, partnership)
        )
        after_ack(
            runtime,
            command,
            client,
            lambda: client.views_open(trigger_id=access.requested.trigger_id, view=view),
        )

    def _register_message(before: int | None) -> dict[str, Any]:
        """A page of the register (two queries), older than the id `before` when given."""
        with read_scope(runtime.engine) as session:
            rows, more_before = register_page(session, [p.code for p in partnership.panels], before=before)
        return register_message(rows, before=more_before, marking=partnership.settings.protective_marking)

    @app.action(REGISTER_MORE)
    def register_more(
        ack: Ack, body: dict[str, Any], client: WebClient, respond: Respond, access: Access
    ) -> None:
        ack()
        text = access.requested.value
        before = int(text) if text.isdigit() and len(text) <= 12 else None
        after_ack(
            runtime,
            body,
            client,
            lambda: respond(response_type="ephemeral", replace_original=True, **_register_message(before)),
        )

    @app.view(DISRUPTION_OUTCOME_CALLBACK)
    def disruption_outcome_recorded(ack: Ack, view: dict[str, Any], access: Access) -> None:
        """The owner records what came of a disruption: checked, stored with the action
        marked done (its chasing stops), all or nothing; a second submission is a no-op."""
        from bot.panel.perpetrators import disruption_of_action

        values = read_values(view["state"])
        outcome = DisruptionOutcome(result=values.get("result") or "", text=values.get("what_happened") or "")

        def done(session: Session, now: datetime) -> bool | dict[str, str]:
            disruption = disruption_of_action(session, access.known_record.id)
            if disruption is None:
                return {"result": "That action is not a disruption."}
            errors = {} if disruption.result else validate_disruption_outcome(session, outcome, disruption)
            if errors:
                return errors
            _, recorded = record_disruption_outcome(
                session, access.known_record.id, outcome, actor=access.actor, partnership=partnership, now=now
            )
            return recorded

        mark_done_submitted(runtime, ack, access, done, field="result")

    @app.view(PERPETRATOR_CALLBACK)
    def perpetrator_added(ack: Ack, view: dict[str, Any], access: Access) -> None:
        values = read_values(view["state"])
        form = PerpetratorForm(
            panel_code=values.get("panel") or "",
            description=values.get("description") or "",
            police_reference=values.get("police_reference") or "",
            linked=values.get("linked") or "",
            summary=values.get("summary") or "",
        )
        now = runtime.clock.now()
        try:
            with session_scope(runtime.engine) as session:
                errors = validate_perpetrator(
                    session, form, partnership, police=is_police(access.member, partnership)
                )
                if errors:
                    ack(response_action="errors", errors=errors)
                    return
                assert access.member is not None
                add_perpetrator(
                    session,
                    form,
                    member=access.member,
                    actor=access.actor,
                    key=f"view:{view['id']}",
                    partnership=partnership,
                    calendar=runtime.calendar,
                    now=now,
                )
        except IntegrityError:
            ack()
            return
        ack()

    def _referrals_text(member: Member | None) -> str:
        panels = panels_administered(partnership, member)
        if not panels:
            return "Only panel administrators decide referrals."
        with read_scope(runtime.engine) as session:
            # Read before the acknowledgement: one more than is shown, to say if there are more.
            rows = pending_referrals(session, [p.code for p in panels], limit=REFERRALS_SHOWN + 1)
        if not rows:
            return "No referrals are waiting for a decision."
        lines = [
            f"• *{r.reference}* · {SUBJECT_KINDS.get(r.subject_kind, r.subject_kind)} {case.reference} · "
            f"risk {r.risk_level} · {r.reasons[:200]}"
            for r, case in rows[:REFERRALS_SHOWN]
        ]
        if len(rows) > REFERRALS_SHOWN:
            lines.append(f"More are waiting: these are the {REFERRALS_SHOWN} referred longest ago.")
        return (
            "*OFFICIAL-SENSITIVE* · Referrals waiting for a decision (use the buttons in your DMs):\n"
            + "\n".join(lines)
        )

    def _next_text() -> str:
        with read_scope(runtime.engine) as session:
            rows = session.exec(
                select(PanelSitting, Meeting)
                .join(Meeting, col(Meeting.id) == col(PanelSitting.meeting_id))
                .where(col(Meeting.scheduled_start) > runtime.clock.now())
                .order_by(col(Meeting.scheduled_start))
            ).all()
        if not rows:
            return "No panel sittings are open yet."
        return "\n".join(
            f"• *{meeting.reference}* · {partnership.panel(sitting.panel_code).name} · "
            f"{when(runtime.calendar, meeting.scheduled_start)} · referrals by "
            f"{when(runtime.calendar, sitting.referral_cutoff)}"
            + (" · moved for a bank holiday" if sitting.held_on != sitting.scheduled_for else "")
            for sitting, meeting in rows
        )

    def _recording(meeting_id: int) -> dict[str, Any]:
        with read_scope(runtime.engine) as session:
            meeting = session.get(Meeting, meeting_id)
            sitting = sitting_of(session, meeting) if meeting else None
            assert meeting is not None and sitting is not None
            lines = agenda_lines(session, sitting, meeting, partnership=partnership)
            recorded = {
                item.id or 0
                for item in session.exec(select(AgendaItem).where(col(AgendaItem.sitting_id) == sitting.id))
                if item.recorded_at is not None
            }
            cases = {
                case.id: (item.id or 0, case.reference) for item, _, case in agenda_items(session, sitting)
            }
            linked = StepUpLinks.of(session, list(cases))
            # the recorders are not all police: an operation as its released summary only
            step_ups = [
                f"{reference}: {words}"
                for case_id, (item_id, reference) in cases.items()
                for words in linked.of_item(case_id or 0, item_id, full=False)
            ]
        return recording_message(meeting_id, meeting.reference, lines, recorded, step_ups)

    @app.view(REFER_CALLBACK)
    def referred(ack: Ack, view: dict[str, Any], access: Access) -> None:
        values = read_values(view["state"])
        form = ReferralForm(
            panel_code=values.get("panel") or "",
            subject_kind=values.get("subject_kind") or "",
            case_reference=values.get("case_reference") or "",
            child_name=values.get("child_name") or "",
            child_date_of_birth=values.get("child_date_of_birth"),
            school=values.get("school") or "",
            label=values.get("label") or "",
            reasons=values.get("reasons") or "",
            risk_level=values.get("risk_level") or "",
            screening_result=values.get("screening_result") or "",
            links=values.get("links") or "",
        )
        now = runtime.clock.now()
        try:
            with session_scope(runtime.engine) as session:
                errors = validate_referral(
                    session, form, partnership, today=runtime.calendar.local(now).date()
                )
                if errors:
                    ack(response_action="errors", errors=errors)
                    return
                result = refer(
                    session,
                    form,
                    member=access.known_member,
                    actor=access.actor,
                    key=f"view:{view['id']}",
                    partnership=partnership,
                    calendar=runtime.calendar,
                    now=now,
                )
                if result.created and not result.linked_to_existing:
                    ask_administrators(
                        session, result.referral, result.case.reference, result.administrators, runtime, now
                    )
                done = referral_done(
                    result.referral.reference, result.case.reference, result.referral.linked_to_existing
                )
        except IntegrityError:
            ack()  # the same form, submitted twice at once: the first one stored it
            return
        ack(response_action="update", view=done)
        runtime.kick_delivery()

    def _decide(access: Access, *, accept: bool, reason: str) -> str:
        now, referral_id = runtime.clock.now(), access.known_record.id
        try:
            with session_scope(runtime.engine) as session:
                referral, changed = decide_referral(
                    session,
                    referral_id,
                    accept=accept,
                    reason=reason,
                    member=access.member,
                    actor=access.actor,
                    partnership=partnership,
                    now=now,
                )
                case = session.get(Case, referral.case_id)
                assert case is not None
                if changed:
                    tell_referrer(session, referral, case.reference, runtime, now)
                reply = f"{referral.reference} ({case.reference}) is {referral.state}." + (
                    "" if changed else " (It was already decided.)"
                )
        except PanelRefused as refused:
            audit_refusal(runtime, access.actor, "panel.decision_refused", referral_id, str(refused))
            return str(refused)
        runtime.kick_delivery()
        return reply

    @app.action("panel_referral_accept")
    def accept_clicked(ack: Ack, body: dict[str, Any], client: WebClient, access: Access) -> None:
        ack()
        after_ack(runtime, body, client, lambda: tell(body, client, _decide(access, accept=True, reason="")))

    @app.action("panel_referral_decline")
    def decline_clicked(ack: Ack, client: WebClient, access: Access) -> None:
        ack()
        referral = access.row
        client.views_open(
            trigger_id=access.requested.trigger_id, view=decline_modal(referral.id or 0, referral.reference)
        )

    @app.view(DECLINE_CALLBACK)
    def declined(ack: Ack, view: dict[str, Any], access: Access) -> None:
        reason = read_values(view["state"]).get("reason") or ""
        if not reason.strip():
            ack(response_action="errors", errors={"reason": "Say why the referral is declined."})
            return
        ack()
        reply = _decide(access, accept=False, reason=reason)
        with session_scope(runtime.engine) as session:
            from bot.convening.effects import dm

            dm(
                session,
                key=f"decline-reply:{view['id']}",
                slack_id=access.actor.slack_user_id,
                text=reply,
                now=runtime.clock.now(),
            )
        runtime.kick_delivery()

    @app.action(re.compile(r"^panel_record_item_\d+$"))
    def item_clicked(ack: Ack, body: dict[str, Any], client: WebClient, access: Access) -> None:
        ack()
        item, meeting = access.row, access.meeting
        with read_scope(runtime.engine) as session:
            panel_case = session.get(PanelCase, item.panel_case_id)
            case = session.get(Case, panel_case.case_id) if panel_case else None
            row = nrm_of(session, case.id) if case and case.subject_kind == "child" else None
            nrm = (
                {
                    "referred_on": row.referred_on,
                    "reference": row.nrm_reference,
                    "first_responder": row.first_responder_agency,
                    "first_responder_name": row.first_responder_name,
                    "reasonable_grounds": row.reasonable_grounds,
                    "reasonable_grounds_on": row.reasonable_grounds_on,
                    "conclusive_grounds": row.conclusive_grounds,
                    "conclusive_grounds_on": row.conclusive_grounds_on,
                }
                if row
                else {}
            )
        try:
            if case is None or panel_case is None:
                raise PanelRefused("That agenda item no longer exists.")
            check_may_record_panel(meeting, access.member, partnership, runtime.clock.now())
        except PanelRefused as refused:
            tell(body, client, str(refused))
            return
        client.views_open(
            trigger_id=access.requested.trigger_id,
            view=item_modal(
                item.id or 0,
                meeting.reference,
                case.reference,
                SUBJECT_KINDS.get(case.subject_kind, case.subject_kind),
                item.outcome or {},
                panel_case.risk_level,
                destinations={d.value: d.label for d in destinations(partnership.panel_practice)},
                agencies={a.code: a.name for a in partnership.agencies},
                responders={
                    code: partnership.agency(code).name
                    for code in partnership.panel_practice.nrm.first_responder_agencies
                },
                nrm=nrm,
                tactics={t.code: t.name for t in partnership.panel_practice.disruption_tactics},
            ),
        )

    @app.view(ITEM_CALLBACK)
    def item_recorded(ack: Ack, view: dict[str, Any], access: Access) -> None:
        values = read_values(view["state"])
        outcome = ItemOutcome(
            **{
                name: values.get(name) or ""
                for name in (
                    "victims",
                    "offenders",
                    "locations",
                    "themes",
                    "decision",
                    "decision_reason",
                    "disruption",
                    "risk_level",
                    "plan_status",
                    "links",
                    "destination",
                    "taken_by_agency",
                    "taken_by_person",
                )
            },
            next_review_on=values.get("next_review_on"),
            chair_confirms=bool(values.get("chair_confirms")),
            nrm=NrmForm.from_values(values),
        )
        disruption = DisruptionForm(
            tactic=values.get("disruption_tactic") or "",
            owner_slack_id=values.get("disruption_owner"),
            due_on=values.get("disruption_due"),
            target=values.get("disruption_target") or "",
        )
        now, item_id = runtime.clock.now(), access.known_record.id
        with read_scope(runtime.engine) as session:
            child_name, subject_kind = subject_of_item(session, item_id)
            disruption_errors = validate_disruption(
                session,
                disruption,
                partnership,
                case_id=_case_of_item(session, item_id),
                today=runtime.calendar.local(now).date(),
            )
        errors = (
            validate_outcome(
                outcome,
                today=runtime.calendar.local(now).date(),
                child_name=child_name,
                partnership=partnership,
                is_chair=Part.CHAIR in access.known_record.parts,
                subject_kind=subject_kind,
            )
            | disruption_errors
        )
        if errors:
            ack(response_action="errors", errors=errors)
            return
        try:
            with session_scope(runtime.engine) as session:
                item = record_item(
                    session,
                    item_id,
                    outcome,
                    member=access.member,
                    actor=access.actor,
                    partnership=partnership,
                    now=now,
                )
                offer_to_convene(session, item, access.actor.slack_user_id, runtime, now)
                follow_step_up(session, item, access.actor, runtime, now)
                case = session.get(Case, _case_of_item(session, item_id))
                if case is not None and access.meeting is not None:
                    meeting_row = session.get(Meeting, access.meeting.id)
                    assert meeting_row is not None
                    add_disruption(
                        session,
                        meeting_row,
                        case,
                        disruption,
                        partnership=partnership,
                        calendar=runtime.calendar,
                        actor=access.actor,
                        key=f"disruption:{view['id']}",
                        now=now,
                    )
        except PanelRefused as refused:
            ack(response_action="errors", errors={"decision_reason": str(refused)})
            return
        ack()
        runtime.kick_delivery()

    @app.action("panel_convene_step_up")
    def convene_step_up(ack: Ack, body: dict[str, Any], client: WebClient, access: Access) -> None:
        ack()
        with read_scope(runtime.engine) as session:
            prefill = step_up_prefill(session, access.known_record.id)
        if prefill is None:
            tell(body, client, "That panel decision no longer exists.")
            return
        case_reference, reason = prefill
        open_convene_form(
            runtime,
            client,
            trigger_id=access.requested.trigger_id,
            channel_id=access.actor.slack_user_id,
            case_reference=case_reference,
            reason=reason,
            concerns=tuple(c.code for c in partnership.cases.concerns_of_kind("exploitation")[:1]),
            metadata={"panel_item": access.known_record.id},
        )

    @app.action("panel_record_sitting")
    def sitting_clicked(ack: Ack, body: dict[str, Any], client: WebClient, access: Access) -> None:
        ack()
        meeting = access.meeting
        with read_scope(runtime.engine) as session:
            agencies = [
                (agency.code, agency.name)
                for _, agency in session.exec(
                    select(Invitation, Agency)
                    .join(Agency, col(Agency.id) == col(Invitation.agency_id))
                    .where(col(Invitation.meeting_id) == meeting.id)
                    .order_by(col(Invitation.id))
                )
            ]
            defaults = attendance_defaults(session, meeting)
        try:
            check_may_record_panel(meeting, access.member, partnership, runtime.clock.now())
        except PanelRefused as refused:
            tell(body, client, str(refused))
            return
        client.views_open(
            trigger_id=access.requested.trigger_id,
            view=sitting_modal(
                meeting.id or 0,
                meeting.reference,
                agencies,
                defaults,
                meeting.details.get("themes", ""),
                {c.code: c.name for c in partnership.panel_practice.handling_codes},
            ),
        )

    @app.view(SITTING_CALLBACK)
    def sitting_recorded(ack: Ack, view: dict[str, Any], access: Access) -> None:
        values = read_values(view["state"])
        attendance = {
            k.removeprefix("attendance:"): v or "" for k, v in values.items() if k.startswith("attendance:")
        }
        themes = values.get("themes") or ""
        intelligence, code = values.get("intelligence") or "", values.get("handling_code") or ""
        errors = validate_sitting(attendance, themes) | validate_intelligence(intelligence, code, partnership)
        if errors:
            ack(response_action="errors", errors=errors)
            return
        try:
            with session_scope(runtime.engine) as session:
                meeting = session.get(Meeting, access.meeting.id)
                assert meeting is not None
                record_sitting(
                    session,
                    meeting,
                    attendance=attendance,
                    themes=themes,
                    member=access.member,
                    actor=access.actor,
                    partnership=partnership,
                    now=runtime.clock.now(),
                )
                add_intelligence(
                    session,
                    meeting,
                    intelligence,
                    code,
                    by=access.member.person_id if access.member else None,
                    actor=access.actor,
                    key=f"intelligence:{view['id']}",
                    now=runtime.clock.now(),
                )
        except PanelRefused as refused:
            ack(response_action="errors", errors={"themes": str(refused)})
            return
        ack()

    @app.action("panel_draft_minutes")
    def draft_clicked(ack: Ack, body: dict[str, Any], client: WebClient, access: Access) -> None:
        ack()

        # Rendering the minutes and drawing the network takes about a second: off the
        # listener threads, so the next acknowledgement does not wait for it.
        def draft() -> None:
            now = runtime.clock.now()
            with session_scope(runtime.engine) as session:
                try:
                    meeting = ready_for_minutes(session, access.meeting.id, access.member, partnership, now)
                except PanelRefused as refused:
                    reply = str(refused)
                else:
                    document = generate(
                        session,
                        meeting,
                        "panel_minutes",
                        templates_dir=runtime.settings.templates_dir,
                        partnership=partnership,
                        calendar=runtime.calendar,
                        actor=access.actor,
                        now=now,
                    )
                    send_draft_to_chair(session, runtime, meeting, document, now)
                    drafted(meeting, session)
                    reply = f"Draft {document.version} of {meeting.reference}'s minutes is with the chair."
            tell(body, client, reply)
            runtime.kick_delivery()

        after_ack(runtime, body, client, draft)
