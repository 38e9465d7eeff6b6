"""The Criminal Exploitation Panel through signed Slack requests, on SQLite and PostgreSQL,
with an injected clock: sittings and invitations, referrals and decisions, the agenda at the
cut-off, pre-panel updates per item, VOLT recording, minutes with the network picture, and
cases and actions carried forward to the next sitting."""

from __future__ import annotations

import io
import json
from datetime import UTC, datetime

import docx
from sqlmodel import Session, func, select

from bot.actions.models import Action
from bot.agency_updates.models import AgencyUpdate
from bot.cases.models import Case
from bot.minutes.models import Document
from bot.panel.jobs import sweep_panels
from bot.panel.models import NetworkLink, PanelCase, PanelSitting, Referral
from bot_offline.local_slack.signed_client import StateValue
from bot_offline.panel import recording as panel_recording
from tests.agency_updates_support import update_values
from tests.minutes_support import action_values
from tests.panel_support import (
    ADMIN,
    CHAIR,
    decide,
    invitation_of,
    items_of,
    opened_view,
    outcome_values,
    record_attendance,
    record_item,
    refer,
    sitting_for,
    views_opened,
)

SOCIAL_WORKER = "U0CSC001"
POLICE = "U0PPU001"
CHILD_A, CHILD_B, CHILD_C = "CS-2000001", "CS-2000002", "CS-2000003"
STANDING = ["csc", "police-cid", "police-ppu", "locate", "yos", "health", "education", "early-help"]


def _referrals(bot) -> list[Referral]:
    with Session(bot.runtime.engine) as session:
        return list(session.exec(select(Referral).order_by(Referral.id)))


def _dm_texts(bot, user_id: str) -> list[str]:
    return [
        c.args.get("text", "")
        for c in bot.local_slack.calls_to("chat.postMessage")
        if c.args.get("channel") == user_id and c.ok
    ]


def _document(bot, meeting, kind: str, state: str) -> docx.document.Document:
    with Session(bot.runtime.engine) as session:
        row = session.exec(
            select(Document).where(
                Document.meeting_id == meeting.id, Document.kind == kind, Document.state == state
            )
        ).one()
        return docx.Document(io.BytesIO(row.content))


def _all_text(document) -> str:
    parts = [p.text for p in document.paragraphs]
    for table in document.tables:
        for row in table.rows:
            parts.extend(cell.text for cell in row.cells)
    # References are printed with non-breaking hyphens (U+2011) so they never split a line.
    return "\n".join(parts).replace("\u2011", "-")


def test_each_panels_next_sitting_opens_once_with_its_standing_agencies_invited(bot) -> None:
    assert sweep_panels(bot.runtime) == 2  # both panels' next sittings
    assert sweep_panels(bot.runtime) == 0  # idempotent
    bot.settle()
    meeting, sitting = sitting_for(bot, "2026-11-24")
    assert meeting.reference == "CEP-2026-0001"
    assert sitting.referral_cutoff == datetime(2026, 11, 17, 17, 0, tzinfo=UTC)
    created = bot.local_slack.calls_to("conversations.create")
    assert any(c.args["name"] == "cep-2026-0001" for c in created)
    with Session(bot.runtime.engine) as session:
        from bot.convening.models import Invitation
        from bot.partnership.models import Agency

        codes = set(
            session.exec(
                select(Agency.code)
                .join(Invitation, Invitation.agency_id == Agency.id)
                .where(Invitation.meeting_id == meeting.id)
            )
        )
    assert codes == set(STANDING)
    invitations = [
        c
        for c in bot.local_slack.calls_to("chat.postMessage")
        if "invitation to panel" in c.args.get("text", "")
    ]
    assert {c.args["channel"] for c in invitations} >= {POLICE, "U0LOC001", "U0HLT001"}
    # a panel's invitation asks for updates per agenda item later, not here
    assert all("agency_update_open" not in json.dumps(c.args.get("blocks")) for c in invitations)


def test_a_sitting_on_a_bank_holiday_moves_and_everyone_is_told(bot, clock) -> None:
    clock.set(datetime(2029, 12, 19, 9, 0, tzinfo=UTC))  # after the 18 December sitting
    sweep_panels(bot.runtime)
    bot.settle()
    _, sitting = sitting_for(bot, "2030-01-02")
    assert sitting.scheduled_for.isoformat() == "2030-01-01"
    notices = [t for t in _dm_texts(bot, POLICE) if "bank holiday" in t]
    assert len(notices) == 1 and "sits on *Wed 02 Jan 2030 10:00*" in notices[0]
    channel = [
        c
        for c in bot.local_slack.calls_to("chat.postMessage")
        if "bank holiday" in c.args.get("text", "") and not c.args["channel"].startswith("U")
    ]
    assert channel, "the notice also goes to the panel's channel"


def test_referrals_are_decided_and_a_child_under_review_is_linked_not_duplicated(bot) -> None:
    sweep_panels(bot.runtime)
    refer(
        bot,
        SOCIAL_WORKER,
        case_reference=CHILD_A,
        child_name="Test Child Alpha",
        links="perpetrator: Adult male T\npeer: Boy known as K",
    )
    referral = _referrals(bot)[-1]
    asks = [
        c
        for c in bot.local_slack.calls_to("chat.postMessage")
        if c.args.get("channel") == ADMIN and "panel_referral_accept" in json.dumps(c.args.get("blocks"))
    ]
    assert len(asks) == 1 and CHILD_A in asks[0].args["text"] + json.dumps(asks[0].args["blocks"])
    assert "Test Child Alpha" not in json.dumps([c.args for c in bot.local_slack.calls])
    # someone who is not an administrator cannot decide
    decide(bot, referral.id or 0, accept=True, user_id=POLICE)
    assert _referrals(bot)[-1].state == "pending"
    decide(bot, referral.id or 0, accept=True)
    decide(bot, referral.id or 0, accept=True)  # a double click decides once
    assert _referrals(bot)[-1].state == "accepted"
    assert sum("is accepted" in t for t in _dm_texts(bot, SOCIAL_WORKER)) == 1
    # a decline needs a reason, and the referrer hears it
    refer(
        bot, SOCIAL_WORKER, case_reference=CHILD_C, child_name="Test Child Gamma", risk="low", screening="low"
    )
    declined = _referrals(bot)[-1]
    before = views_opened(bot)
    bot.slack.block_actions(ADMIN, [{"action_id": "panel_referral_decline", "value": str(declined.id)}])
    view = opened_view(bot, before)
    empty = bot.slack.view_submission(ADMIN, view, values={"reason": {"value": StateValue.text("  ")}}).json()
    assert empty["response_action"] == "errors" and "reason" in empty["errors"]
    decide(bot, declined.id or 0, accept=False, reason="Below threshold: early help to lead.")
    assert _referrals(bot)[-1].state == "declined"
    assert any("Below threshold: early help to lead." in t for t in _dm_texts(bot, SOCIAL_WORKER))
    # referring the first child again links to the case under review
    refer(
        bot,
        POLICE,
        case_reference=CHILD_A,
        reasons="Arrested with a knife.",
        links="location: Lodge Road park",
    )
    again = _referrals(bot)[-1]
    assert again.state == "accepted" and again.linked_to_existing
    with Session(bot.runtime.engine) as session:
        assert session.exec(select(func.count()).select_from(PanelCase)).one() == 1
        assert (
            session.exec(select(func.count()).select_from(Case).where(Case.reference == CHILD_A)).one() == 1
        )
        kinds = sorted(link.kind for link in session.exec(select(NetworkLink)))
    assert kinds == ["location", "peer", "suspected_perpetrator"]


def test_a_referral_form_with_problems_says_what_is_wrong_and_stores_nothing(bot) -> None:
    before = views_opened(bot)
    bot.slack.command("/panel", "refer", user_id=SOCIAL_WORKER)
    view = opened_view(bot, before)
    from tests.panel_support import referral_values

    body = bot.slack.view_submission(
        SOCIAL_WORKER,
        view,
        values=referral_values(case_reference="nonsense", reasons="", links="friend of T"),
    ).json()
    assert body["response_action"] == "errors"
    assert set(body["errors"]) >= {"case_reference", "reasons", "links"}
    context = bot.slack.view_submission(
        SOCIAL_WORKER, view, values=referral_values(subject="location", label="")
    ).json()
    assert "label" in context["errors"]
    assert _referrals(bot) == []


def test_a_full_panel_cycle_from_referral_to_approved_minutes_and_carry_forward(bot, clock) -> None:
    sweep_panels(bot.runtime)
    refer(
        bot,
        SOCIAL_WORKER,
        case_reference=CHILD_A,
        child_name="Test Child Alpha",
        links="perpetrator: Adult male T\npeer: Boy known as K",
    )
    refer(
        bot,
        SOCIAL_WORKER,
        case_reference=CHILD_B,
        child_name="Test Child Beta",
        risk="medium",
        screening="moderate",
        links=f"case: {CHILD_A}\nperpetrator: adult male t",
    )
    refer(
        bot,
        POLICE,
        subject="location",
        label="Lodge Road park",
        reasons="Daily dealing; children seen with adults.",
        links="peer: Boy known as K",
    )
    for referral in _referrals(bot):
        decide(bot, referral.id or 0, accept=True)
    meeting, sitting = sitting_for(bot, "2026-11-24")

    # before the cut-off there is no agenda; after it, one agenda with a time per item
    clock.set(datetime(2026, 11, 17, 16, 0, tzinfo=UTC))
    sweep_panels(bot.runtime)
    assert items_of(bot, sitting) == {}
    clock.set(datetime(2026, 11, 18, 9, 0, tzinfo=UTC))
    sweep_panels(bot.runtime)
    bot.settle()
    items = items_of(bot, sitting)
    assert list(items) == [CHILD_A, CHILD_B, "CTX-2026-0001"]  # higher risk first, contexts last
    agenda = [
        c
        for c in bot.local_slack.calls_to("chat.postMessage")
        if c.args.get("text", "") == f"OFFICIAL-SENSITIVE: agenda for {meeting.reference}"
    ]
    assert len(agenda) == 1
    text = json.dumps(agenda[0].args["blocks"])
    assert "`10:00` Attendance and confidentiality" in text and "Suspected perpetrators (1 named)" in text
    assert "Test Child" not in text and "Lodge Road" not in text  # references only in Slack
    uploads = [c for c in bot.local_slack.calls_to("files.completeUploadExternal") if c.ok]
    assert any("agenda" in json.dumps(c.args) for c in uploads)
    agenda_doc = _document(bot, meeting, "panel_agenda", "issued")
    assert "Adult male T" in _all_text(agenda_doc) and "CTX-2026-0001" in _all_text(agenda_doc)

    # each standing agency gets a button per item; police write one for the first child
    requests = [
        c
        for c in bot.local_slack.calls_to("chat.postMessage")
        if c.args.get("channel") == POLICE and "Pre-panel updates" in json.dumps(c.args.get("blocks"))
    ]
    assert len(requests) == 1
    invitation = invitation_of(bot, meeting, "police-ppu")
    item = items[CHILD_A]
    before = views_opened(bot)
    bot.slack.block_actions(
        POLICE, [{"action_id": f"agency_update_open_{item.id}", "value": f"{invitation.id}:{item.id}"}]
    )
    form = opened_view(bot, before)
    assert CHILD_A in json.dumps(form["blocks"]) and any(b.get("block_id") == "links" for b in form["blocks"])
    values = update_values(bot)
    values["links"] = {"value": StateValue.text("location: Wellington Road trap house")}
    assert bot.slack.view_submission(POLICE, form, values=values).status == 200
    bot.settle()
    with Session(bot.runtime.engine) as session:
        stored = session.exec(select(AgencyUpdate).where(AgencyUpdate.agenda_item_id == item.id)).one()
        assert stored.state == "submitted"

    # the panel sits; the chair records each item under VOLT, attendance and themes
    clock.set(datetime(2026, 11, 24, 12, 30, tzinfo=UTC))
    refused = bot.slack.command("/panel", f"record {meeting.reference}", user_id=POLICE).json()
    assert "Only the chair" in refused["text"]
    recording = panel_recording(bot, CHAIR, meeting.reference)
    assert "panel_record_item_" in json.dumps(recording["blocks"])
    bad = record_item(bot, CHAIR, items[CHILD_A].id or 0, outcome_values(review=None)).json()
    assert bad["response_action"] == "errors" and "next_review_on" in bad["errors"]
    record_item(
        bot, CHAIR, items[CHILD_A].id or 0, outcome_values(nrm="referred", links="school: Riverside Academy")
    )
    record_item(bot, CHAIR, items[CHILD_B].id or 0, outcome_values(risk="medium"))
    # the chair's draft is refused until every item is recorded
    bot.slack.block_actions(CHAIR, [{"action_id": "panel_draft_minutes", "value": str(meeting.id)}])
    bot.settle()
    assert any("still to record: CTX-2026-0001" in t for t in _dm_texts(bot, CHAIR))
    record_item(
        bot,
        CHAIR,
        items["CTX-2026-0001"].id or 0,
        outcome_values(
            "step_down", review=None, risk="low", reason="Dealing has stopped since the closure order."
        ),
    )
    record_attendance(
        bot, CHAIR, meeting, STANDING, "County lines recruitment through a music video channel."
    )
    before = views_opened(bot)  # counted before asking, so the form waited for is this one
    bot.slack.command("/actions", f"add {meeting.reference}", user_id=CHAIR)
    action_form = opened_view(bot, before)
    bot.slack.view_submission(
        CHAIR, action_form, values=action_values(POLICE, text="Disruption visit to Lodge Road park")
    )
    bot.settle()  # the action is stored after the acknowledgement: wait for it before drafting
    bot.slack.block_actions(CHAIR, [{"action_id": "panel_draft_minutes", "value": str(meeting.id)}])
    bot.slack.block_actions(CHAIR, [{"action_id": "panel_draft_minutes", "value": str(meeting.id)}])
    bot.settle()
    assert any(
        "Draft 1 already holds everything recorded" in t for t in _dm_texts(bot, CHAIR)
    )  # double click
    approve = [
        c
        for c in bot.local_slack.calls_to("chat.postMessage")
        if c.args.get("channel") == CHAIR and "minutes_approve" in json.dumps(c.args.get("blocks"))
    ]
    assert len(approve) == 1
    draft = _document(bot, meeting, "panel_minutes", "draft")
    text = _all_text(draft)
    for expected in (
        "Victims",
        "Offenders",
        "Locations",
        "Themes",
        "Test Child Alpha",
        "Step down",
        "Reasonable grounds: Positive (17 November 2026)",
        "Child abduction warning notice",
        "Wellington Road trap house",
        "Disruption visit to Lodge Road park",
        "County lines recruitment",
    ):
        assert expected in text, expected
    assert len(draft.inline_shapes) == 1  # the network picture
    with Session(bot.runtime.engine) as session:
        document_id = session.exec(select(Document.id).where(Document.kind == "panel_minutes")).one()
    bot.slack.block_actions(CHAIR, [{"action_id": "minutes_approve", "value": str(document_id)}])
    bot.settle()
    approved = _document(bot, meeting, "panel_minutes", "approved")
    assert "APPROVED" in _all_text(approved)
    bot.local_slack.reset_calls()
    bot.slack.command("/panel", f"minutes {meeting.reference}", user_id=POLICE)
    bot.settle()
    auditor = bot.slack.command("/panel", f"minutes {meeting.reference}", user_id="U0BSC003").json()
    bot.settle()
    replies = [c.args.get("text", "") for c in bot.local_slack.calls_to("response_url")]
    assert (
        replies[0] == f"Sending you {meeting.reference}-panel-minutes-v1.docx (approved) in a direct message."
    )
    assert len(replies) == 1  # the auditor's refusal is the acknowledgement itself
    assert auditor["text"].startswith(f"Only the people who took part in {meeting.reference}")
    sent = [
        c.args.get("files", [{}])[0].get("title")
        for c in bot.local_slack.calls_to("files.completeUploadExternal")
    ]
    assert sent == [f"{meeting.reference}-panel-minutes-v1.docx"]  # to the police officer only

    # the next sitting opens; at its cut-off the children carry forward, the park does not
    sweep_panels(bot.runtime)
    following, next_sitting = sitting_for(bot, "2026-12-08")
    clock.set(datetime(2026, 12, 2, 9, 0, tzinfo=UTC))
    sweep_panels(bot.runtime)
    bot.settle()
    carried = items_of(bot, next_sitting)
    assert list(carried) == [CHILD_A, CHILD_B]
    assert {i.section for i in carried.values()} == {"under_review"}
    agenda = _all_text(_document(bot, following, "panel_agenda", "issued"))
    assert "Disruption visit to Lodge Road park" in agenda  # an open action from last time
    with Session(bot.runtime.engine) as session:
        # what the code gives each panel template is exactly what the template uses
        from bot.documents.panel import agenda_context, panel_minutes_context
        from bot.panel.documents import PANEL_AGENDA_VARIABLES, PANEL_MINUTES_VARIABLES

        common = {
            "partnership": bot.runtime.partnership,
            "calendar": bot.runtime.calendar,
            "now": clock.now(),
        }
        minutes, picture = panel_minutes_context(session, meeting, version=1, state="DRAFT", **common)
        assert set(minutes) | {"network_picture"} == PANEL_MINUTES_VARIABLES and picture is not None
        assert set(agenda_context(session, following, **common)) == PANEL_AGENDA_VARIABLES
        assert session.exec(select(PanelCase).where(PanelCase.state == "stepped_down")).one()
        assert session.exec(select(func.count()).select_from(Action)).one() == 1
        assert session.exec(select(func.count()).select_from(PanelSitting)).one() >= 3


def test_the_home_tab_shows_the_links_to_panel_members_only(bot) -> None:
    sweep_panels(bot.runtime)
    refer(
        bot,
        SOCIAL_WORKER,
        case_reference=CHILD_A,
        child_name="Test Child Alpha",
        links="perpetrator: Adult male T",
    )
    decide(bot, _referrals(bot)[-1].id or 0, accept=True)
    for user in (POLICE, "U0BSC003"):
        bot.slack.event({"type": "app_home_opened", "user": user, "tab": "home"})
    bot.settle()
    member = json.dumps(bot.local_slack.home_view(POLICE))
    assert "Panel network" in member and "Adult male T" in member and CHILD_A in member
    outsider = bot.local_slack.home_view("U0BSC003")
    assert outsider is None or "Adult male T" not in json.dumps(outsider)


def test_slack_visible_referral_text_must_not_name_the_child(bot) -> None:
    before = views_opened(bot)
    bot.slack.command("/panel", "refer", user_id=SOCIAL_WORKER)
    view = opened_view(bot, before)
    from tests.panel_support import referral_values

    body = bot.slack.view_submission(
        SOCIAL_WORKER,
        view,
        values=referral_values(
            case_reference=CHILD_A,
            child_name="Zebedee Test-Child",
            reasons="Zebedee was found in Coventry.",
            links="peer: friend of zebedee",
        ),
    ).json()
    assert body["response_action"] == "errors"
    assert "must not name the child" in body["errors"]["reasons"]
    assert "must not name the child" in body["errors"]["links"]
    assert _referrals(bot) == []


def test_administrators_list_referrals_and_others_are_told_no(bot) -> None:
    sweep_panels(bot.runtime)
    refer(bot, SOCIAL_WORKER, case_reference=CHILD_A, child_name="Test Child Alpha")
    listing = bot.slack.command("/panel", "referrals", user_id=ADMIN).json()
    assert "PR-2026-0001" in listing["text"] and CHILD_A in listing["text"]
    assert "Test Child Alpha" not in listing["text"]
    refused = bot.slack.command("/panel", "referrals", user_id=POLICE).json()
    assert refused["text"] == "Only panel administrators decide referrals."
    upcoming = bot.slack.command("/panel", "next", user_id=POLICE).json()
    assert "CEP-2026-0001" in upcoming["text"] and "Tue 24 Nov 2026 10:00" in upcoming["text"]


def test_the_referrals_list_is_bounded_and_says_when_more_wait(bot) -> None:
    """Read before the acknowledgement, the list is one page: the oldest 30, and a line
    saying more are waiting, never cut silently."""
    sweep_panels(bot.runtime)
    refer(bot, SOCIAL_WORKER, case_reference=CHILD_A, child_name="Test Child Alpha")
    with Session(bot.runtime.engine) as session:
        first = session.exec(select(Referral)).one()
        copied = first.model_dump(exclude={"id", "reference", "submission_key"})
        for number in range(2, 33):
            session.add(
                Referral(**copied, reference=f"PR-2026-{number:04d}", submission_key=f"bounded-{number}")
            )
        session.commit()
    listing = bot.slack.command("/panel", "referrals", user_id=ADMIN).json()["text"]
    assert listing.count("• *PR-2026-") == 30
    assert "PR-2026-0001" in listing and "PR-2026-0030" in listing and "PR-2026-0031" not in listing
    assert "More are waiting: these are the 30 referred longest ago." in listing


def _through_agenda(bot, clock):
    """Two children referred and accepted, and the agenda issued for 24 November."""
    sweep_panels(bot.runtime)
    refer(bot, SOCIAL_WORKER, case_reference=CHILD_A, child_name="Test Child Alpha")
    refer(bot, SOCIAL_WORKER, case_reference=CHILD_B, child_name="Test Child Beta", risk="medium")
    for referral in _referrals(bot):
        decide(bot, referral.id or 0, accept=True)
    clock.set(datetime(2026, 11, 18, 9, 0, tzinfo=UTC))
    sweep_panels(bot.runtime)
    bot.settle()
    return sitting_for(bot, "2026-11-24")


def test_pre_panel_updates_are_chased_once_per_agency_listing_each_item(bot, clock) -> None:
    from bot.agency_updates.jobs import sweep_agency_updates

    meeting, sitting = _through_agenda(bot, clock)
    items = items_of(bot, sitting)
    invitation = invitation_of(bot, meeting, "police-ppu")
    item = items[CHILD_A]
    before = views_opened(bot)
    bot.slack.block_actions(
        POLICE, [{"action_id": f"agency_update_open_{item.id}", "value": f"{invitation.id}:{item.id}"}]
    )
    form = opened_view(bot, before)
    values = update_values(bot)
    values["links"] = {"value": StateValue.text("peer: Test Child Alpha's cousin")}
    named = bot.slack.view_submission(POLICE, form, values=values).json()
    assert "must not name the child" in named["errors"]["links"]
    values["links"] = {"value": StateValue.text("peer: an older cousin")}
    bot.slack.view_submission(POLICE, form, values=values)
    bot.settle()
    clock.set(datetime(2026, 11, 23, 9, 30, tzinfo=UTC))  # updates were due Friday 20 November 17:00
    assert sweep_agency_updates(bot.runtime) > 0
    bot.settle()
    late = [t for t in _dm_texts(bot, POLICE) if "pre-panel updates for panel" in t]
    assert len(late) == 1
    assert CHILD_B in late[0] and CHILD_A not in late[0]  # police have written on the first child
    assert sweep_agency_updates(bot.runtime) == 0


def test_panel_minutes_download_from_the_home_tab_and_a_forged_kind_is_ignored(bot, clock) -> None:
    meeting, sitting = _through_agenda(bot, clock)
    clock.set(datetime(2026, 11, 24, 13, 0, tzinfo=UTC))
    for item in items_of(bot, sitting).values():
        record_item(bot, CHAIR, item.id or 0, outcome_values())
    record_attendance(bot, CHAIR, meeting, STANDING, "")
    bot.slack.block_actions(CHAIR, [{"action_id": "panel_draft_minutes", "value": str(meeting.id)}])
    bot.settle()
    bot.local_slack.reset_calls()
    pick = {"action_id": "home_download", "selected_option": {"value": f"minutes:{meeting.id}"}}
    bot.slack.block_actions(ADMIN, [pick])
    bot.settle()
    titles = [
        c.args.get("files", [{}])[0].get("title", "")
        for c in bot.local_slack.calls_to("files.completeUploadExternal")
    ]
    assert titles == [f"{meeting.reference}-panel-minutes-v1.docx"]
    bot.local_slack.reset_calls()
    forged = {"action_id": "home_download", "selected_option": {"value": f"__class__:{meeting.id}"}}
    assert bot.slack.block_actions(ADMIN, [forged]).status == 200
    bot.settle()
    assert bot.local_slack.calls_to("files.completeUploadExternal") == []


def test_erasing_a_closed_case_removes_its_panel_rows_and_keeps_the_rest(bot, clock) -> None:
    from datetime import timedelta

    from bot.panel.models import AgendaItem
    from bot.retention.service import apply, plan

    _through_agenda(bot, clock)
    with Session(bot.runtime.engine) as session:
        case = session.exec(select(Case).where(Case.reference == CHILD_A)).one()
        case.closed_at = clock.now() - timedelta(days=365 * 30)
        session.add(case)
        session.commit()
    with Session(bot.runtime.engine) as session:
        result = plan(session, bot.runtime.partnership, clock.now())
        assert [c.reference for c in result.cases] == [CHILD_A]
        apply(session, result, clock.now())
        session.commit()
    with Session(bot.runtime.engine) as session:
        left = [c.reference for c in session.exec(select(Case))]
        assert CHILD_A not in left and CHILD_B in left
        assert session.exec(select(func.count()).select_from(Referral)).one() == 1
        assert session.exec(select(func.count()).select_from(AgendaItem)).one() == 1
        assert session.exec(select(func.count()).select_from(PanelCase)).one() == 1


def test_a_sitting_skipped_for_a_bank_holiday_is_announced_with_the_next_one(bot, clock) -> None:
    clock.set(datetime(2036, 12, 3, 9, 0, tzinfo=UTC))  # before the strategic panel of 4 December
    sweep_panels(bot.runtime)
    clock.set(datetime(2036, 12, 5, 9, 0, tzinfo=UTC))
    sweep_panels(bot.runtime)
    bot.settle()
    with Session(bot.runtime.engine) as session:
        held = sorted(
            s.held_on.isoformat()
            for s in session.exec(
                select(PanelSitting).where(PanelSitting.panel_code == "birmingham-mace-strategic")
            )
        )
    assert held == ["2036-12-04", "2037-01-29"]  # 1 January 2037 is skipped, not moved
    notices = [t for t in _dm_texts(bot, POLICE) if "there is no panel on Thursday 01 January 2037" in t]
    assert len(notices) == 1 and "Thursday 29 January 2037" in notices[0]


def test_a_referral_submitted_twice_is_stored_once(bot) -> None:
    from tests.panel_support import referral_values

    before = views_opened(bot)
    bot.slack.command("/panel", "refer", user_id=SOCIAL_WORKER)
    view = opened_view(bot, before)
    values = referral_values(case_reference=CHILD_A, child_name="Test Child Alpha")
    first = bot.slack.view_submission(SOCIAL_WORKER, view, values=values).json()
    again = bot.slack.view_submission(SOCIAL_WORKER, view, values=values).json()
    bot.settle()
    assert first["response_action"] == again["response_action"] == "update"
    assert len(_referrals(bot)) == 1
    asks = [
        c
        for c in bot.local_slack.calls_to("chat.postMessage")
        if "panel_referral_accept" in json.dumps(c.args.get("blocks"))
    ]
    assert len(asks) == 2  # one to each of the panel's two administrators, once


def test_a_referral_accepted_after_the_cut_off_goes_to_the_following_sitting(bot, clock) -> None:
    _, sitting = _through_agenda(bot, clock)
    refer(bot, POLICE, case_reference=CHILD_C, child_name="Test Child Gamma")
    decide(bot, _referrals(bot)[-1].id or 0, accept=True)
    assert CHILD_C not in items_of(bot, sitting)  # this sitting's agenda is fixed
    clock.set(datetime(2026, 11, 24, 12, 0, tzinfo=UTC))
    sweep_panels(bot.runtime)  # the next sitting opens once this one has started
    _, following = sitting_for(bot, "2026-12-08")
    clock.set(datetime(2026, 12, 2, 9, 0, tzinfo=UTC))
    sweep_panels(bot.runtime)
    items = items_of(bot, following)
    assert items[CHILD_C].section == "new_referral"
    assert items[CHILD_A].section == items[CHILD_B].section == "under_review"
    assert next(iter(items)) == CHILD_C  # new referrals come first
