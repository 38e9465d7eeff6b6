"""Agency updates through Slack: the form, drafts and amendments, who may write, deadlines and
reminders, and the chair's combined view with its risk grid and restrictions."""

from __future__ import annotations

import json
from datetime import UTC, datetime

from sqlmodel import Session, func, select

from bot.agency_updates.jobs import sweep_agency_updates
from bot.agency_updates.models import AgencyUpdate, AgencyUpdateVersion
from bot.audit.models import AuditEntry
from bot_offline.local_slack.signed_client import StateValue
from tests.agency_updates_support import open_update, update_values
from tests.convening_support import (
    CHAIR,
    HEALTH,
    LOCATE,
    POLICE_PPU,
    POLICE_PPU_2,
    SOCIAL_WORKER,
    convene,
    invitation_for,
    settle,
    status_text,
)


def _count(bot, model) -> int:
    with Session(bot.runtime.engine) as session:
        return int(session.exec(select(func.count()).select_from(model)).one())


def _versions(bot) -> list[AgencyUpdateVersion]:
    with Session(bot.runtime.engine) as session:
        return list(session.exec(select(AgencyUpdateVersion).order_by(AgencyUpdateVersion.id)))


def _update(bot) -> AgencyUpdate:
    with Session(bot.runtime.engine) as session:
        return session.exec(select(AgencyUpdate)).one()


def test_the_form_opens_from_the_invitation_with_every_field(bot) -> None:
    meeting = convene(bot)
    view = open_update(bot, POLICE_PPU, invitation_for(bot, meeting, "police-ppu").id)
    blocks = {b.get("block_id"): b for b in view["blocks"]}
    assert view["title"]["text"] == "Agency update"
    indicators = [k for k in blocks if k and k.startswith("risk:")]
    assert len(indicators) == len(bot.runtime.partnership.agency_updates.risk_indicators) == 18
    assert {
        "involvement_current",
        "new_missing",
        "new_police_intelligence",
        "new_school_attendance",
        "protective_factors",
        "actions_progress",
        "child_family_views",
        "lawful_basis",
        "restrictions",
    } <= set(blocks)
    assert blocks["role"]["element"]["initial_value"]  # their title from the schedules
    assert "due Tue 10 Nov 2026 13:00" in json.dumps(view["blocks"][0])


def test_someone_from_another_agency_is_refused_and_it_is_recorded(bot) -> None:
    meeting = convene(bot)
    bot.slack.block_actions(
        HEALTH,
        [{"action_id": "agency_update_open", "value": str(invitation_for(bot, meeting, "police-ppu").id)}],
    )
    settle(bot)
    refusals = [
        c
        for c in bot.local_slack.calls_to("chat.postMessage")
        if c.args.get("channel") == HEALTH and "can write its update" in c.args.get("text", "")
    ]
    assert refusals
    with Session(bot.runtime.engine) as session:
        assert session.exec(select(AuditEntry).where(AuditEntry.act == "agency_update.refused")).first()
    assert _count(bot, AgencyUpdate) == 0


def test_missing_fields_and_overlong_text_get_inline_errors_and_store_nothing(bot) -> None:
    meeting = convene(bot)
    view = open_update(bot, POLICE_PPU, invitation_for(bot, meeting, "police-ppu").id)
    values = update_values(
        bot,
        involvement_current=StateValue.text("  "),
        lawful_basis=StateValue.static_select(None),
        new_other=StateValue.text("x" * 3001),
        **{"risk:weapons": StateValue.static_select("somewhat")},  # not a rating
    )
    body = bot.slack.view_submission(POLICE_PPU, view, values=values).json()
    assert body["response_action"] == "errors"
    assert set(body["errors"]) == {"involvement_current", "lawful_basis", "new_other", "risk:weapons"}
    assert "lawful basis" in body["errors"]["lawful_basis"]
    assert _count(bot, AgencyUpdate) == 0 and _count(bot, AgencyUpdateVersion) == 0


def test_drafts_several_authors_submission_and_amendment_keep_every_version(bot) -> None:
    meeting = convene(bot)
    invitation_id = invitation_for(bot, meeting, "police-ppu").id
    view = open_update(bot, POLICE_PPU, invitation_id)
    partial = update_values(bot, lawful_basis=StateValue.static_select(None))
    bot.slack.block_actions(
        POLICE_PPU,
        [{"action_id": "agency_update_save_draft", "value": str(invitation_id)}],
        view={**view, "state": {"values": partial}},
    )
    settle(bot)
    updated = [c for c in bot.local_slack.calls_to("views.update") if c.ok]
    assert updated and "Draft saved at 10:00 (version 1)" in json.dumps(updated[-1].args["view"])
    # a colleague from the same agency opens it, sees the draft, adds to it and submits
    view2 = open_update(bot, POLICE_PPU_2, invitation_id)
    blocks = {b.get("block_id"): b for b in view2["blocks"]}
    assert blocks["new_missing"]["element"]["initial_value"] == "Missing twice this month, found out of area."
    full = update_values(bot, new_school_attendance=StateValue.text("Attendance 40% this term."))
    done = bot.slack.view_submission(POLICE_PPU_2, view2, values=full).json()
    assert done["response_action"] == "update" and "submitted (version 2)" in json.dumps(done["view"])
    again = bot.slack.view_submission(POLICE_PPU_2, view2, values=full)  # a double click
    assert again.status == 200
    versions = _versions(bot)
    assert [(v.version, v.is_draft) for v in versions] == [(1, True), (2, False)]
    update = _update(bot)
    assert (update.state, update.late, update.amended) == ("submitted", False, False)
    # amending before the discussion starts makes version 3 and keeps 1 and 2
    view3 = open_update(bot, POLICE_PPU, invitation_id)
    assert "amending the submitted update (version 2)" in json.dumps(view3["blocks"])
    bot.slack.view_submission(
        POLICE_PPU, view3, values=update_values(bot, new_other=StateValue.text("Arrested on 9 Nov."))
    )
    assert [v.version for v in _versions(bot)] == [1, 2, 3]
    assert _update(bot).amended is True
    # once the discussion has started, amendments go to the chair instead
    bot.clock.set(datetime(2026, 11, 10, 14, 5, tzinfo=UTC))
    view4 = open_update(bot, POLICE_PPU, invitation_id)
    late = bot.slack.view_submission(
        POLICE_PPU, view4, values=update_values(bot, new_other=StateValue.text("More"))
    )
    assert "send any change to the chair" in late.json()["errors"]["involvement_current"]
    assert [v.version for v in _versions(bot)] == [1, 2, 3]


def test_a_late_update_is_accepted_and_marked_late(bot) -> None:
    meeting = convene(bot)
    invitation_id = invitation_for(bot, meeting, "health").id
    bot.clock.set(datetime(2026, 11, 10, 13, 30, tzinfo=UTC))  # due 13:00
    view = open_update(bot, HEALTH, invitation_id)
    done = bot.slack.view_submission(HEALTH, view, values=update_values(bot)).json()
    assert "marked late" in json.dumps(done["view"])
    assert _update(bot).late is True
    settle(bot)
    assert "update: submitted, late" in status_text(bot, meeting.id)


def test_a_delegate_may_write_the_update(bot) -> None:
    meeting = convene(bot)
    invitation = invitation_for(bot, meeting, "locate")
    view = open_update(bot, LOCATE, invitation.id)
    bot.slack.view_submission(LOCATE, view, values=update_values(bot))
    assert _update(bot).state == "submitted"


def test_updates_for_a_cancelled_discussion_are_refused(bot) -> None:
    meeting = convene(bot)
    invitation_id = invitation_for(bot, meeting, "health").id
    view = open_update(bot, HEALTH, invitation_id)
    bot.slack.block_actions(SOCIAL_WORKER, [{"action_id": "open_cancel", "value": str(meeting.id)}])
    modal = bot.local_slack.wait_for(lambda calls: sum(c.method == "views.open" for c in calls) >= 3)
    modal = [c for c in modal if c.method == "views.open"][-1].response["view"]
    bot.slack.view_submission(
        SOCIAL_WORKER, modal, values={"reason": {"value": StateValue.text("No longer needed")}}
    )
    body = bot.slack.view_submission(HEALTH, view, values=update_values(bot)).json()
    assert "cancelled: updates are closed" in body["errors"]["involvement_current"]
    assert _count(bot, AgencyUpdateVersion) == 0


def test_the_chair_sees_who_is_missing_and_reads_every_update_paged_with_the_risk_grid(bot) -> None:
    meeting = convene(bot)
    writers = {
        "police-ppu": POLICE_PPU,
        "health": HEALTH,
        "locate": LOCATE,
        "police-cid": "U0CID001",
        "yos": "U0YOS001",
    }
    for code, user in writers.items():
        view = open_update(bot, user, invitation_for(bot, meeting, code).id)
        restrictions = ["not_for_family"] if code == "health" else []
        bot.slack.view_submission(
            user, view, values=update_values(bot, restrictions=StateValue.checkboxes(restrictions))
        )
    overview = bot.slack.command("/strategy", f"{meeting.reference} updates", user_id=CHAIR).json()
    text = json.dumps(overview)
    assert "5 of 6 submitted" in text  # the convenor's own agency presents in person
    assert "Education Safeguarding (schools and colleges)*: :x: missing" in text
    bot.slack.block_actions(CHAIR, [{"action_id": "agency_updates_read", "value": f"{meeting.id}:1"}])
    opened = bot.local_slack.wait_for(
        lambda calls: any(
            c.method == "views.open" and c.ok and "Combined risk grid" in json.dumps(c.args) for c in calls
        )
    )
    page1 = [c for c in opened if c.method == "views.open"][-1].response["view"]
    page1_text = json.dumps(page1)
    assert "page 1 of 2" in page1_text
    assert ":red_circle: *Public Protection Unit (Birmingham): current*" in page1_text
    assert "NOT FOR THE FAMILY" in page1_text
    assert len(page1["blocks"]) <= 100
    bot.slack.block_actions(
        CHAIR, [{"action_id": "agency_updates_page", "value": f"{meeting.id}:2"}], view=page1
    )
    turned = bot.local_slack.wait_for(
        lambda calls: any(c.method == "views.update" and "page 2 of 2" in json.dumps(c.args) for c in calls)
    )
    assert turned
    # an agency representative cannot read the others' updates
    bot.slack.block_actions(POLICE_PPU, [{"action_id": "agency_updates_read", "value": f"{meeting.id}:1"}])
    settle(bot)
    assert any(
        "Only the convenor, the chair and the minute-taker" in c.args.get("text", "")
        for c in bot.local_slack.calls_to("chat.postMessage")
        if c.args.get("channel") == POLICE_PPU
    )


def test_reminders_go_once_at_the_policys_points_and_when_late(bot) -> None:
    meeting = convene(bot)
    view = open_update(bot, HEALTH, invitation_for(bot, meeting, "health").id)
    bot.slack.view_submission(HEALTH, view, values=update_values(bot))
    # Due 13:00; a reminder two working hours before, at 11:00 (the one-day point was before
    # the invitation, so it is not sent).
    bot.clock.set(datetime(2026, 11, 10, 10, 59, tzinfo=UTC))
    assert sweep_agency_updates(bot.runtime) == 0
    bot.clock.set(datetime(2026, 11, 10, 11, 1, tzinfo=UTC))
    sent = sweep_agency_updates(bot.runtime)
    assert sent > 0
    assert sweep_agency_updates(bot.runtime) == 0
    settle(bot)
    reminded = {
        c.args["channel"]
        for c in bot.local_slack.calls_to("chat.postMessage")
        if "is due by" in c.args.get("text", "")
    }
    assert POLICE_PPU in reminded and HEALTH not in reminded and SOCIAL_WORKER not in reminded
    bot.clock.set(datetime(2026, 11, 10, 13, 1, tzinfo=UTC))
    assert sweep_agency_updates(bot.runtime) > 0
    settle(bot)
    late = [
        c
        for c in bot.local_slack.calls_to("chat.postMessage")
        if "has not been submitted" in c.args.get("text", "")
    ]
    assert {c.args["channel"] for c in late} >= {POLICE_PPU}
    assert sweep_agency_updates(bot.runtime) == 0


def test_the_home_tab_lists_the_updates_an_agency_owes(bot) -> None:
    meeting = convene(bot)
    bot.slack.event({"type": "app_home_opened", "user": POLICE_PPU, "tab": "home"})
    bot.local_slack.wait_for(lambda calls: any(c.method == "views.publish" and c.ok for c in calls))
    home = json.dumps(bot.local_slack.home_view(POLICE_PPU))
    assert "Agency updates to write" in home and meeting.reference in home
    assert f'"value": "{invitation_for(bot, meeting, "police-ppu").id}:0"' in home
    assert "Your open strategy discussions" in home
    view = open_update(bot, POLICE_PPU, invitation_for(bot, meeting, "police-ppu").id)
    bot.slack.view_submission(POLICE_PPU, view, values=update_values(bot))
    bot.local_slack.reset_calls()
    bot.slack.event({"type": "app_home_opened", "user": POLICE_PPU, "tab": "home"})
    bot.local_slack.wait_for(lambda calls: any(c.method == "views.publish" and c.ok for c in calls))
    assert "Agency updates to write" not in json.dumps(bot.local_slack.home_view(POLICE_PPU))
