"""A step up links what follows, through signed Slack requests on SQLite and PostgreSQL with
the injected clock: a child protection conference on the child's case (its ICPC anchor),
booked by the social care lead and chased until it is; a police operation as a record of
its own, seen in full by police only."""

from __future__ import annotations

import json
from datetime import date

from sqlmodel import Session, select

from bot.actions.models import Action
from bot.audit.models import AuditEntry
from bot.audit.service import Actor
from bot.cases.models import Section47Enquiry
from bot.cases.timeline import start_section_47
from bot.convening.models import Meeting
from bot.database import session_scope
from bot.panel.models import ConferenceLink, PoliceOperation
from bot.partnership.models import Person
from bot_offline.local_slack.signed_client import StateValue
from bot_offline.panel import recording as panel_recording
from tests.convening_support import convene
from tests.panel_support import CHAIR, opened_view, outcome_values, views_opened
from tests.test_panel_practice import (
    CHILD_A,
    MINUTE_TAKER,
    NAMES,
    SOCIAL_WORKER,
    _document_text,
    _posted,
    _referred_and_on_the_agenda,
)

CSC_LEAD = "U0CSC020"  # Nadia Iqbal, Head of Service: children's social care's lead
CID = "U0CID001"  # DC Grace Okafor, Force CID (the agency that leads operations)
POLICE_PPU = "U0PPU001"
AGENCIES = ["csc", "police-cid", "police-ppu", "locate", "yos", "health", "education", "early-help"]


def _item_form(bot, user_id: str, item_id: int) -> dict:
    before = views_opened(bot)
    bot.slack.block_actions(user_id, [{"action_id": f"panel_record_item_{item_id}", "value": str(item_id)}])
    return opened_view(bot, before)


def _acts(bot, act: str) -> int:
    with Session(bot.runtime.engine) as session:
        return len(session.exec(select(AuditEntry).where(AuditEntry.act == act)).all())


def _told(bot, user_id: str, before: int) -> list[str]:
    """What the bot said privately to this person since call number `before`."""
    return [
        c.args.get("text", "")
        for c in bot.local_slack.calls[before:]
        if c.ok
        and (
            c.method == "response_url"
            or (c.method == "chat.postMessage" and c.args.get("channel") == user_id)
        )
    ]


def _minutes_case(bot, meeting: Meeting) -> dict:
    from bot.documents.panel import panel_minutes_context

    runtime = bot.runtime
    with Session(runtime.engine) as session:
        row = session.get(Meeting, meeting.id)
        assert row is not None
        minutes, _ = panel_minutes_context(
            session,
            row,
            partnership=runtime.partnership,
            calendar=runtime.calendar,
            version=1,
            state="draft",
            now=runtime.clock.now(),
        )
    return next(c for c in minutes["cases"] if c["reference"] == CHILD_A)


def test_a_step_up_to_a_conference_is_linked_to_the_childs_icpc_and_booked_by_the_social_care_lead(
    bot, clock
) -> None:
    # the child's strategy discussion started section 47 enquiries: the ICPC is due 1 December
    discussion = convene(bot, case_reference=StateValue.text(CHILD_A), child_name=StateValue.text(NAMES[0]))
    runtime = bot.runtime
    with session_scope(runtime.engine) as session:
        row = session.get(Meeting, discussion.id)
        assert row is not None
        enquiry, _ = start_section_47(
            session,
            row,
            statutory=runtime.statutory_calendar,
            partnership=runtime.partnership,
            actor=Actor("system", "", None),
            now=clock.now(),
        )
        enquiry_id, icpc_due = enquiry.id, enquiry.icpc_due_on
    assert icpc_due == date(2026, 12, 1)
    meeting, items = _referred_and_on_the_agenda(bot, clock)
    item_id = items[CHILD_A].id or 0
    # the recording form submitted twice (a double click): one conference, one booking action
    form = _item_form(bot, CHAIR, item_id)
    values = outcome_values(
        "step_up",
        destination="up:child_protection_conference",
        reason="Sexual exploitation now suspected alongside the county lines concerns.",
    )
    for _ in range(2):
        answer = bot.slack.view_submission(CHAIR, form, values=values)
        assert answer.status == 200 and not answer.body, answer.body
    bot.settle()
    with Session(runtime.engine) as session:
        link = session.exec(select(ConferenceLink)).one()
        action = session.get(Action, link.action_id)
        owner = session.get(Person, action.owner_id) if action else None
        assert action is not None and owner is not None
        assert (link.enquiry_id, link.due_on, link.booked_for) == (enquiry_id, icpc_due, None)
        assert owner.slack_user_id == CSC_LEAD and action.case_id == link.case_id
        assert action.meeting_id == meeting.id and action.due_on == date(2026, 11, 27)  # 3 working days
        action_id, action_reference = action.id or 0, action.reference
    assert _acts(bot, "panel.conference_linked") == 1
    # the lead is asked to book it, by case reference only, with the action's own button
    asks = [m for m in _posted(bot, CSC_LEAD) if "child protection conference" in m.get("text", "")]
    assert len(asks) == 1 and CHILD_A in json.dumps(asks[0]) and "Ashby" not in json.dumps(asks[0])
    assert action_reference in json.dumps(asks[0]) and "1 Dec 2026" in json.dumps(asks[0])
    assert '"action_id": "action_done"' in json.dumps(asks[0]["blocks"])
    # before it is booked: the minutes and the child's record say who books it and by when
    case = _minutes_case(bot, meeting)
    assert (
        "Child protection conference; child protection conference to be booked by Nadia Iqbal"
        in (case["leads_to"])
    )
    assert "ICPC by 01 Dec 2026" in case["leads_to"]
    # someone who neither owns the action nor leads its agency cannot book it
    before_calls, before_views = len(bot.local_slack.calls), views_opened(bot)
    bot.slack.block_actions(SOCIAL_WORKER, [{"action_id": "action_done", "value": str(action_id)}])
    bot.settle()
    assert views_opened(bot) == before_views
    assert any("owner of the action" in t for t in _told(bot, SOCIAL_WORKER, before_calls))
    # Mark done opens the booking form; the plain done form is refused for it
    before = views_opened(bot)
    bot.slack.block_actions(CSC_LEAD, [{"action_id": "action_done", "value": str(action_id)}])
    booking = opened_view(bot, before)
    assert booking["callback_id"] == "panel_conference_booked"
    plain = dict(booking, callback_id="action_done")
    refused = bot.slack.view_submission(
        CSC_LEAD, plain, values={"note": {"value": StateValue.text("Booked")}}
    )
    assert "give its date with Mark done" in refused.json()["errors"]["note"]
    # a weekend is refused beside the field; a working day books it, once
    saturday = {"booked_for": {"value": StateValue.datepicker("2026-11-28")}}
    bad = bot.slack.view_submission(CSC_LEAD, booking, values=saturday).json()
    assert bad["errors"]["booked_for"].startswith("Sat 28 Nov 2026 is a weekend")
    monday = {"booked_for": {"value": StateValue.datepicker("2026-11-30")}}
    for _ in range(2):
        answer = bot.slack.view_submission(CSC_LEAD, booking, values=monday)
        assert answer.status == 200 and not answer.body, answer.body
    bot.settle()
    with Session(runtime.engine) as session:
        link = session.exec(select(ConferenceLink)).one()
        action = session.get(Action, action_id)
        assert link.booked_for == date(2026, 11, 30) and action is not None and action.status == "done"
        assert action.next_chase_at is None  # no longer chased
    assert _acts(bot, "panel.conference_booked") == 1
    # the child's record (the case's timeline in /strategy SD-…) shows the link and its state
    shown = json.dumps(bot.slack.command("/strategy", discussion.reference, user_id=SOCIAL_WORKER).json())
    assert f"stepped up at {meeting.reference}: child protection conference booked for 30 Nov 2026" in shown
    assert "Ashby" not in shown
    # and so do the panel's record (/panel record) and its minutes
    recording = json.dumps(panel_recording(bot, CHAIR, meeting.reference))
    assert f"{CHILD_A}: child protection conference booked for 30 Nov 2026" in recording
    assert "child protection conference booked for 30 Nov 2026" in _minutes_case(bot, meeting)["leads_to"]
    # once the ICPC is held, on the section 47 enquiry, the link says so
    from bot.cases.timeline import record_icpc

    with session_scope(runtime.engine) as session:
        record_icpc(
            session,
            enquiry_id or 0,
            held_on=date(2026, 11, 30),
            not_required_reason="",
            statutory=runtime.statutory_calendar,
            actor=Actor("system", "", None),
            today=date(2026, 12, 1),
            now=clock.now(),
        )
    assert "child protection conference held 30 Nov 2026" in _minutes_case(bot, meeting)["leads_to"]
    with Session(runtime.engine) as session:
        assert session.get(Section47Enquiry, enquiry_id).icpc_state == "held"  # type: ignore[union-attr]


def test_an_unbooked_conference_is_chased_like_any_other_action(bot, clock) -> None:
    from datetime import UTC, datetime

    from bot.actions.jobs import sweep_actions

    _, items = _referred_and_on_the_agenda(bot, clock)
    values = outcome_values(
        "step_up", destination="up:child_protection_conference", reason="Concerns within the family too."
    )
    form = _item_form(bot, CHAIR, items[CHILD_A].id or 0)
    assert bot.slack.view_submission(CHAIR, form, values=values).status == 200
    bot.settle()
    with Session(bot.runtime.engine) as session:
        link = session.exec(select(ConferenceLink)).one()
        assert link.enquiry_id is None  # no section 47 enquiry yet: 15 working days from the sitting
        assert link.due_on == date(2026, 12, 15)
        action = session.get(Action, link.action_id)
        assert action is not None
        reference = action.reference
    clock.set(datetime(2026, 11, 30, 9, 0, tzinfo=UTC))  # after its due date (27 November)
    bot.local_slack.reset_calls()
    sweep_actions(bot.runtime)
    bot.settle()
    chased = [m for m in _posted(bot, CSC_LEAD) if reference in json.dumps(m)]
    assert chased, "the booking action was not chased"
    # the decision recorded again without the conference: the booking is withdrawn, no longer chased
    clock.set(datetime(2026, 11, 24, 16, 0, tzinfo=UTC))
    form = _item_form(bot, CHAIR, items[CHILD_A].id or 0)
    assert bot.slack.view_submission(CHAIR, form, values=outcome_values("continue")).status == 200
    bot.settle()
    with Session(bot.runtime.engine) as session:
        assert session.exec(select(ConferenceLink)).all() == []
        action = session.exec(select(Action).where(Action.reference == reference)).one()
        assert action.status == "cancelled" and action.next_chase_at is None
    assert _acts(bot, "panel.conference_withdrawn") == 1


def test_a_police_operation_is_seen_in_full_by_police_only(bot, clock) -> None:
    meeting, items = _referred_and_on_the_agenda(bot, clock)
    item_id = items[CHILD_A].id or 0
    form = _item_form(bot, CHAIR, item_id)
    values = outcome_values(
        "step_up", destination="up:police_operation", reason="Linked to a line the police are targeting."
    )
    assert bot.slack.view_submission(CHAIR, form, values=values).status == 200
    bot.settle()
    # Force CID (the agency that leads it) is asked to record it
    asks = [m for m in _posted(bot, CID) if "panel_operation_open" in json.dumps(m.get("blocks"))]
    assert len(asks) == 1 and CHILD_A in asks[0]["text"]
    assert "police operation to be recorded by the police" in _minutes_case(bot, meeting)["leads_to"]
    # a social worker is refused the same words whether or not the decision exists
    told = []
    for value in (str(item_id), "999999"):
        before_calls, before_views = len(bot.local_slack.calls), views_opened(bot)
        bot.slack.block_actions(SOCIAL_WORKER, [{"action_id": "panel_operation_open", "value": value}])
        bot.settle()
        assert views_opened(bot) == before_views
        told.append(_told(bot, SOCIAL_WORKER, before_calls))
    assert told[0] == told[1] == ["Only police and panel administrators see police operations."]
    # the police officer records it: the lead officer must be police, the summary must not name the child
    before = views_opened(bot)
    bot.slack.block_actions(CID, [{"action_id": "panel_operation_open", "value": str(item_id)}])
    operation_form = opened_view(bot, before)
    values = {
        "name": {"value": StateValue.text("Operation Larch")},
        "police_reference": {"value": StateValue.text("WMP/LARCH/2026/44")},
        "lead_officer": {"value": StateValue.users_select(SOCIAL_WORKER)},
        "started_on": {"value": StateValue.datepicker("2026-11-20")},
        "summary": {"value": StateValue.text("Jordan Ashby's line is being disrupted.")},
    }
    bad = bot.slack.view_submission(CID, operation_form, values=values).json()
    assert bad["errors"]["lead_officer"] == "The lead officer must be from a police agency."
    assert "must not name the child" in bad["errors"]["summary"]
    values["lead_officer"] = {"value": StateValue.users_select("U0CID002")}
    values["summary"] = {
        "value": StateValue.text("A police operation is disrupting the line the child runs for.")
    }
    for _ in range(2):  # a double submission records it once
        answer = bot.slack.view_submission(CID, operation_form, values=values)
        assert answer.status == 200 and not answer.body, answer.body
    bot.settle()
    with Session(bot.runtime.engine) as session:
        operation = session.exec(select(PoliceOperation)).one()
        assert (operation.reference, operation.name) == ("PO-2026-0001", "Operation Larch")
        assert operation.released_summary.startswith("A police operation is disrupting")
    assert _acts(bot, "panel.operation_recorded") == 1 and _acts(bot, "panel.operation_changed") == 0
    # the sitting's record (its recorders are not all police) shows the released summary only
    recording = json.dumps(panel_recording(bot, CHAIR, meeting.reference))
    assert f"{CHILD_A}: police operation: A police operation is disrupting the line" in recording
    assert "Operation Larch" not in recording and "WMP/LARCH" not in recording
    # /panel operation: police see it; anyone else the same refusal whether or not it exists
    seen = bot.slack.command("/panel", "operation PO-2026-0001", user_id=POLICE_PPU)
    assert seen.status == 200
    bot.settle()
    replies = [c.args.get("text", "") for c in bot.local_slack.calls_to("response_url")]
    assert any("Operation Larch" in r and "WMP/LARCH/2026/44" in r for r in replies), replies
    assert _acts(bot, "panel.operation_viewed") == 1
    # (the guard's rule, not the listener: a reference that names nothing is refused in the
    # same words to the police too, and every refusal is audited with the reference asked for)
    asked = [(SOCIAL_WORKER, "PO-2026-0001"), (SOCIAL_WORKER, "PO-2026-0404"), (POLICE_PPU, "PO-2026-0404")]
    refused = [
        bot.slack.command("/panel", f"operation {ref}", user_id=who).json()["text"] for who, ref in asked
    ]
    assert set(refused) == {"Only police and panel administrators see police operations."}, refused
    bot.settle()
    with Session(bot.runtime.engine) as session:
        audited = session.exec(
            select(AuditEntry.actor_slack_id, AuditEntry.record_id)
            .where(AuditEntry.act == "panel.operation_refused", AuditEntry.record_id.startswith("PO-"))
            .order_by(AuditEntry.id)
        ).all()
    # (each refusal is audited after its acknowledgement, so the three may land in any order)
    assert sorted(tuple(row) for row in audited) == sorted(asked)
    assert _acts(bot, "panel.operation_viewed") == 1
    # the minutes: the full copy (the police's) names it; every other agency's withholds it
    from bot.minutes.models import Document
    from tests.panel_support import record_attendance

    assert record_attendance(bot, CHAIR, meeting, AGENCIES, "County lines recruitment.").status == 200
    bot.slack.block_actions(CHAIR, [{"action_id": "panel_draft_minutes", "value": str(meeting.id)}])
    bot.settle()
    with Session(bot.runtime.engine) as session:
        draft_id = session.exec(
            select(Document.id).where(Document.meeting_id == meeting.id, Document.kind == "panel_minutes")
        ).one()
    bot.slack.block_actions(CHAIR, [{"action_id": "minutes_approve", "value": str(draft_id)}])
    bot.settle()
    full = " ".join(_document_text(bot, meeting, "panel_minutes").split())
    shared = " ".join(_document_text(bot, meeting, "panel_minutes_shared").split())
    assert "Operation Larch" in full and "WMP/LARCH/2026/44" in full
    assert "Operation Larch" not in shared and "WMP/LARCH/2026/44" not in shared
    assert "police operation: A police operation is disrupting the line the child runs for." in shared
    # asked for the minutes, the police officer receives the full copy, youth justice the other
    bot.local_slack.reset_calls()
    for user in (POLICE_PPU, "U0YOS001"):
        bot.slack.command("/panel", f"minutes {meeting.reference}", user_id=user)
    bot.settle()
    replies = [c.args.get("text", "") for c in bot.local_slack.calls_to("response_url")]
    reference = meeting.reference
    assert f"Sending you {reference}-panel-minutes-v1.docx (approved) in a direct message." in replies
    assert (
        f"Sending you {reference}-panel-minutes-v1-withheld.docx (approved) in a direct message." in replies
    )
    # the next agenda (a document every agency receives) says what the step up linked, as
    # the released summary only
    from datetime import UTC, datetime

    from bot.panel.jobs import sweep_panels
    from tests.panel_support import sitting_for

    sweep_panels(bot.runtime)
    following, _ = sitting_for(bot, "2026-12-08")
    clock.set(datetime(2026, 12, 2, 9, 0, tzinfo=UTC))
    sweep_panels(bot.runtime)
    bot.settle()
    agenda = " ".join(_document_text(bot, following, "panel_agenda").split())
    assert f"stepped up at {reference}: police operation: A police operation is disrupting the line" in agenda
    assert "Operation Larch" not in agenda and "WMP/LARCH/2026/44" not in agenda
    # a panel administrator may correct it but not release a summary (a police member's call)
    before = views_opened(bot)
    bot.slack.block_actions(MINUTE_TAKER, [{"action_id": "panel_operation_open", "value": str(item_id)}])
    admin_form = opened_view(bot, before)
    assert "summary" not in {b.get("block_id") for b in admin_form["blocks"]}
