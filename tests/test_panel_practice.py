"""The panel's practice through signed Slack requests, on SQLite and PostgreSQL, with an
injected clock: step up and step down that lead somewhere, reviews when due, NRM records,
suspected perpetrators and disruption, missing episodes and return home interviews."""

from __future__ import annotations

import json
from datetime import UTC, datetime

from sqlmodel import Session, select

from bot.convening.models import Meeting
from bot.panel.jobs import sweep_panels
from bot.panel.models import AgendaItem, PanelCase, Referral
from bot_offline.local_slack.signed_client import StateValue
from tests.panel_support import (
    CHAIR,
    decide,
    items_of,
    opened_view,
    outcome_values,
    record_item,
    refer,
    sitting_for,
    views_opened,
)

SOCIAL_WORKER = "U0CSC001"
MINUTE_TAKER = "U0BSC002"  # pa-lewis: panel administrator and minute-taker
POLICE = "U0PPU001"
CHILD_A, CHILD_B = "CS-2000001", "CS-2000002"
NAMES = ("Jordan Ashby", "Kai Morrow")


def _referred_and_on_the_agenda(bot, clock, children=(CHILD_A,)) -> tuple[Meeting, dict[str, AgendaItem]]:
    """Children referred and accepted, the first sitting's agenda issued, the clock at the
    sitting (24 November 2026)."""
    sweep_panels(bot.runtime)
    for number, reference in enumerate(children):
        refer(bot, SOCIAL_WORKER, case_reference=reference, child_name=NAMES[number])
    with Session(bot.runtime.engine) as session:
        pending = [r.id for r in session.exec(select(Referral).where(Referral.state == "pending"))]
    for referral_id in pending:
        decide(bot, referral_id or 0, accept=True)
    meeting, sitting = sitting_for(bot, "2026-11-24")
    clock.set(datetime(2026, 11, 18, 9, 0, tzinfo=UTC))
    sweep_panels(bot.runtime)
    bot.settle()
    clock.set(datetime(2026, 11, 24, 12, 0, tzinfo=UTC))
    return meeting, items_of(bot, sitting)


def _item(bot, item_id: int) -> AgendaItem:
    with Session(bot.runtime.engine) as session:
        found = session.get(AgendaItem, item_id)
        assert found is not None
        return found


def _posted(bot, channel: str) -> list[dict]:
    return [
        c.args
        for c in bot.local_slack.calls_to("chat.postMessage")
        if c.args.get("channel") == channel and c.ok
    ]


def test_a_step_down_names_where_it_goes_and_who_takes_it_and_a_contradiction_needs_the_chair(
    bot, clock
) -> None:
    _, items = _referred_and_on_the_agenda(bot, clock)
    item_id = items[CHILD_A].id or 0
    # no destination: refused beside the field, nothing stored
    bad = record_item(
        bot, CHAIR, item_id, outcome_values("step_down", review=None, risk="low", destination="")
    ).json()
    assert bad["response_action"] == "errors" and "destination" in bad["errors"]
    # a step up's destination is not a step down's
    bad = record_item(
        bot,
        CHAIR,
        item_id,
        outcome_values("step_down", review=None, risk="low", destination="up:police_operation"),
    ).json()
    assert "destination" in bad["errors"]
    # early help without an agency that takes it
    bad = record_item(
        bot, CHAIR, item_id, outcome_values("step_down", review=None, risk="low", taken_by="")
    ).json()
    assert "taken_by_agency" in bad["errors"]
    # "Risk still high" as a reason to step down contradicts it
    bad = record_item(bot, CHAIR, item_id, outcome_values("step_down", review=None, risk="low")).json()
    assert "risk still high" in bad["errors"]["decision_reason"]
    # stepping down at high risk contradicts the decision's own risk level
    calm = "Engaging with the youth worker; no missing episodes since September."
    bad = record_item(
        bot, CHAIR, item_id, outcome_values("step_down", review=None, risk="high", reason=calm)
    ).json()
    assert "at high risk" in bad["errors"]["decision_reason"]
    # only the chair may confirm it
    bad = record_item(
        bot,
        MINUTE_TAKER,
        item_id,
        outcome_values("step_down", review=None, risk="high", reason=calm, chair_confirms=True),
    ).json()
    assert bad["errors"] == {"chair_confirms": "Only the chair of this sitting can confirm a decision."}
    assert _item(bot, item_id).recorded_at is None  # nothing half-written
    ok = record_item(
        bot,
        CHAIR,
        item_id,
        outcome_values(
            "step_down",
            review=None,
            risk="high",
            reason=calm,
            chair_confirms=True,
            taken_by_person="Early help lead",
        ),
    )
    assert ok.status == 200 and not ok.body
    outcome = _item(bot, item_id).outcome
    assert outcome["destination_name"] == "Early help"
    assert outcome["taken_by"].startswith("Early help lead, ")
    assert "at high risk" in outcome["chair_confirmed"]
    with Session(bot.runtime.engine) as session:
        assert session.exec(select(PanelCase)).one().state == "stepped_down"


def test_a_step_up_to_a_strategy_discussion_offers_to_convene_it_pre_filled_and_links_it(bot, clock) -> None:
    meeting, items = _referred_and_on_the_agenda(bot, clock)
    item_id = items[CHILD_A].id or 0
    bad = record_item(
        bot,
        CHAIR,
        item_id,
        outcome_values("step_up", risk="high", reason="Risk reduced since the last panel."),
    ).json()
    assert "risk reduced" in bad["errors"]["decision_reason"]
    record_item(
        bot,
        CHAIR,
        item_id,
        outcome_values("step_up", reason="Found in Coventry with cash; new older associate."),
    )
    bot.settle()
    offers = [m for m in _posted(bot, CHAIR) if "panel_convene_step_up" in json.dumps(m.get("blocks"))]
    assert len(offers) == 1 and CHILD_A in offers[0]["text"] and "Ashby" not in json.dumps(offers[0])
    # someone who cannot convene is refused, the same words as for a decision that does not exist
    refused = bot.slack.block_actions(POLICE, [{"action_id": "panel_convene_step_up", "value": str(item_id)}])
    missing = bot.slack.block_actions(POLICE, [{"action_id": "panel_convene_step_up", "value": "999999"}])
    assert refused.status == missing.status == 200
    before = views_opened(bot)
    bot.slack.block_actions(CHAIR, [{"action_id": "panel_convene_step_up", "value": str(item_id)}])
    form = opened_view(bot, before)
    blocks = {b.get("block_id"): b for b in form["blocks"]}
    assert blocks["case_reference"]["element"]["initial_value"] == CHILD_A
    assert meeting.reference in blocks["reason"]["element"]["initial_value"]
    values = {
        "case_reference": {"value": StateValue.text(CHILD_A)},
        "child_name": {"value": StateValue.text("Jordan Ashby")},
        "reason": {"value": StateValue.text(blocks["reason"]["element"]["initial_value"])},
        "concerns": {"value": StateValue.checkboxes(["criminal_exploitation"])},
        "right_help_right_time_level": {"value": StateValue.static_select("complex_significant")},
        "urgency": {"value": StateValue.static_select("urgent")},
        "start": {
            "value": StateValue.datetimepicker(int(datetime(2026, 11, 25, 10, 0, tzinfo=UTC).timestamp()))
        },
        "format": {"value": StateValue.radio_buttons("call")},
        "referred_at": {
            "value": StateValue.datetimepicker(int(datetime(2026, 11, 24, 12, 0, tzinfo=UTC).timestamp()))
        },
        "chair": {"value": StateValue.static_select(CHAIR)},
    }
    submitted = bot.slack.view_submission(CHAIR, form, values=values)
    assert submitted.status == 200 and not submitted.body, submitted.body
    bot.settle()
    linked = _item(bot, item_id).stepped_up_meeting_id
    assert linked is not None
    with Session(bot.runtime.engine) as session:
        discussion = session.get(Meeting, linked)
        assert discussion is not None and discussion.reference.startswith("SD-")


def test_the_check_refuses_a_panel_without_a_chair_who_can_approve(tmp_path) -> None:
    import shutil
    import subprocess
    import sys
    from pathlib import Path

    import yaml

    schedules = tmp_path / "schedules"
    shutil.copytree(Path(__file__).resolve().parent.parent / "schedules", schedules)
    panels = yaml.safe_load((schedules / "panels.yaml").read_text())
    panels["panels"][1].pop("chairs")
    (schedules / "panels.yaml").write_text(yaml.safe_dump(panels))
    practice = (schedules / "panel_practice.yaml").read_text()
    (schedules / "panel_practice.yaml").write_text(practice.replace("taken_by: csc", "taken_by: social-care"))
    env = {
        "PATH": "/usr/bin:/bin",
        "SCHEDULES_DIR": str(schedules),
        "DATABASE_URL": f"sqlite:///{tmp_path / 'fresh.sqlite3'}",
    }
    result = subprocess.run(
        [sys.executable, "-m", "bot", "check"],
        capture_output=True,
        text=True,
        env=env,
        cwd=tmp_path,
        timeout=120,
    )
    output = result.stdout + result.stderr
    assert result.returncode != 0, output
    assert (
        "schedules/panels.yaml: panels[birmingham-mace-strategic].chairs: lists no chairs: nobody could "
        "approve this panel's minutes"
    ) in output
    assert (
        "schedules/panel_practice.yaml: step_down[child_in_need].taken_by: unknown agency 'social-care'"
        in output
    )


def test_only_cases_due_come_onto_the_agenda_and_it_says_why(bot, clock) -> None:
    _, items = _referred_and_on_the_agenda(bot, clock, children=(CHILD_A, CHILD_B))
    first = items_of(bot, sitting_for(bot, "2026-11-24")[1])
    assert {i.reasons[0] for i in first.values()} == {"new to the panel"}
    # A is reviewed again at the next sitting; B in a month
    record_item(
        bot, CHAIR, items[CHILD_A].id or 0, outcome_values(review="2026-12-08", reason="Still going missing.")
    )
    record_item(
        bot, CHAIR, items[CHILD_B].id or 0, outcome_values(review="2027-01-05", reason="Plan holding.")
    )
    sweep_panels(bot.runtime)
    following, next_sitting = sitting_for(bot, "2026-12-08")
    clock.set(datetime(2026, 12, 2, 9, 0, tzinfo=UTC))
    sweep_panels(bot.runtime)
    bot.settle()
    due = items_of(bot, next_sitting)
    assert list(due) == [CHILD_A] and due[CHILD_A].reasons == ["review due 08 Dec 2026"]
    with Session(bot.runtime.engine) as session:
        from bot.panel.models import PanelSitting

        stored = session.get(PanelSitting, next_sitting.id)
        assert stored is not None and stored.not_for_discussion == [CHILD_B]
    agenda = [
        c.args
        for c in bot.local_slack.calls_to("chat.postMessage")
        if c.args.get("text") == f"OFFICIAL-SENSITIVE: agenda for {following.reference}"
    ]
    text = json.dumps(agenda[0]["blocks"])
    assert (
        "review due 08 Dec 2026" in text
        and f"*Not for discussion* (under review, not due): {CHILD_B}" in text
    )
    document = _document_text(bot, following, "panel_agenda")
    assert "Why it is here" in document and "review due 08 Dec 2026" in document
    assert "Not for discussion" in document and CHILD_B in document
    assert "Kai Morrow" not in document.split("Not for discussion")[1]  # by reference only

    # something new brings B onto the sitting after: a referral and a new link
    sweep_panels(bot.runtime)
    clock.set(datetime(2026, 12, 10, 9, 0, tzinfo=UTC))
    refer(bot, POLICE, case_reference=CHILD_B, links="location: Wellington Road trap house")
    clock.set(datetime(2026, 12, 16, 9, 0, tzinfo=UTC))
    sweep_panels(bot.runtime)
    bot.settle()
    third = items_of(bot, sitting_for(bot, "2026-12-22")[1])
    assert CHILD_B in third
    assert third[CHILD_B].reasons[0].startswith("new referral PR-2026-")
    assert "new link: location" in third[CHILD_B].reasons


def _document_text(bot, meeting: Meeting, kind: str) -> str:
    import io

    import docx

    from bot.minutes.models import Document

    with Session(bot.runtime.engine) as session:
        row = session.exec(
            select(Document)
            .where(Document.meeting_id == meeting.id, Document.kind == kind)
            .order_by(Document.version.desc())  # type: ignore[attr-defined]
        ).first()
        assert row is not None
        document = docx.Document(io.BytesIO(row.content))
    parts = [p.text for p in document.paragraphs]
    for table in document.tables:
        for row_ in table.rows:
            parts.extend(cell.text for cell in row_.cells)
    return "\n".join(parts)


def test_an_nrm_referral_is_a_record_for_children_only_and_an_overdue_decision_is_chased(bot, clock) -> None:
    from bot.panel.models import NrmReferral
    from tests.panel_support import ADMIN, nrm_values

    sweep_panels(bot.runtime)
    refer(bot, POLICE, subject="location", label="Lodge Road park", reasons="Daily dealing.")
    meeting, items = _referred_and_on_the_agenda(bot, clock)
    context = next(reference for reference in items if reference.startswith("CTX-"))
    # the form for a location has no NRM part, and one forced in is refused
    before = views_opened(bot)
    bot.slack.block_actions(
        CHAIR, [{"action_id": f"panel_record_item_{items[context].id}", "value": str(items[context].id)}]
    )
    form = opened_view(bot, before)
    assert not any(str(b.get("block_id", "")).startswith("nrm_") for b in form["blocks"])
    child_form_values = outcome_values(nrm="awaited")
    bad = bot.slack.view_submission(CHAIR, form, values=child_form_values).json()
    assert (
        bad["errors"]["nrm_referred_on"]
        == "The National Referral Mechanism is for children only, not a context."
    )
    # a child's: every part checked beside its field
    item_id = items[CHILD_A].id or 0
    incomplete = outcome_values()
    incomplete.update(
        {
            k: {"value": v}
            for k, v in {**nrm_values("none"), "nrm_reference": StateValue.text("NRM-1")}.items()
        }
    )
    bad = record_item(bot, CHAIR, item_id, incomplete).json()
    assert set(bad["errors"]) >= {"nrm_referred_on", "nrm_first_responder", "nrm_first_responder_name"}
    undated = outcome_values(nrm="awaited")
    undated["nrm_reasonable_grounds"] = {"value": StateValue.static_select("positive")}
    bad = record_item(bot, CHAIR, item_id, undated).json()
    assert bad["errors"] == {"nrm_reasonable_grounds_on": "Give the date of the decision."}
    with Session(bot.runtime.engine) as session:
        assert session.exec(select(NrmReferral)).first() is None  # nothing half-written
    assert record_item(bot, CHAIR, item_id, outcome_values(nrm="awaited")).status == 200
    with Session(bot.runtime.engine) as session:
        stored = session.exec(select(NrmReferral)).one()
        assert (stored.nrm_reference, stored.first_responder_agency, stored.reasonable_grounds) == (
            "NRM-2026-118734",
            "police-ppu",
            "awaited",
        )
    # referred 12 November; five working days on, the reasonable-grounds decision is overdue
    sweep_panels(bot.runtime)
    sweep_panels(bot.runtime)
    bot.settle()
    chases = [m["text"] for m in _posted(bot, ADMIN) if "National Referral Mechanism" in m.get("text", "")]
    assert len(chases) == 1 and "reasonable-grounds decision for *CS-2000001* is overdue" in chases[0]
    # the decision arrives and is recorded: the minutes show the record
    record_item(bot, CHAIR, item_id, outcome_values(nrm="referred"))
    with Session(bot.runtime.engine) as session:
        from bot.documents.panel import panel_minutes_context

        minutes, _ = panel_minutes_context(
            session,
            session.get(Meeting, meeting.id),
            partnership=bot.runtime.partnership,
            calendar=bot.runtime.calendar,
            version=1,
            state="DRAFT",
            now=clock.now(),
        )
        assert session.exec(select(NrmReferral)).one().reasonable_grounds == "positive"
    case = next(c for c in minutes["cases"] if c["reference"] == CHILD_A)
    assert case["nrm"] == (
        "Referred 12 November 2026 by DS Marsh, public protection, West Midlands Police - Public Protection Unit "
        "(Birmingham) (NRM reference NRM-2026-118734). Reasonable grounds: Positive (17 November 2026). Conclusive grounds: "
        "Awaited."
    )


LOCATE, LOCATE_2, LOCATE_LEAD, HEALTH = "U0LOC001", "U0LOC002", "U0LOC020", "U0HLT001"


def _missing_form(bot, user_id: str, reference: str) -> dict:
    before = views_opened(bot)
    bot.slack.command("/panel", f"missing {reference}", user_id=user_id)
    return opened_view(bot, before)


def _episode_values(
    went: datetime, back: datetime | None, where: str = "", out_of_area: bool = False
) -> dict:
    return {
        "went_missing_at": {"value": StateValue.datetimepicker(int(went.timestamp()))},
        "returned_at": {"value": StateValue.datetimepicker(int(back.timestamp()) if back else None)},
        "where_found": {"value": StateValue.text(where or None)},
        "out_of_area": {"value": StateValue.checkboxes(["yes"] if out_of_area else [])},
    }


def test_locate_records_a_missing_episode_and_the_return_home_interview_is_chased_until_recorded(
    bot, clock
) -> None:
    from bot.panel.models import MissingEpisode

    meeting, items = _referred_and_on_the_agenda(bot, clock)
    record_item(
        bot, CHAIR, items[CHILD_A].id or 0, outcome_values(review="2027-01-05", reason="Plan holding.")
    )
    clock.set(datetime(2026, 11, 27, 9, 0, tzinfo=UTC))
    # health cannot record an episode; an unknown child is refused
    refused = bot.slack.command("/panel", f"missing {CHILD_A}", user_id=HEALTH).json()
    assert refused["text"].startswith("Missing episodes are recorded by")
    unknown = bot.slack.command("/panel", "missing CS-9999999", user_id=LOCATE).json()
    assert unknown["text"] == "No child with the reference CS-9999999 is known to the bot."
    # Locate records the episode while the child is still missing: nothing is owed yet
    went = datetime(2026, 11, 26, 18, 0, tzinfo=UTC)
    form = _missing_form(bot, LOCATE, CHILD_A)
    bad = bot.slack.view_submission(
        LOCATE, form, values=_episode_values(went, datetime(2026, 11, 26, 17, 0, tzinfo=UTC))
    ).json()
    assert bad["errors"] == {
        "returned_at": "The return is before the child went missing.",
        "where_found": "Say where the child was found.",
    }
    named = bot.slack.view_submission(
        LOCATE,
        form,
        values=_episode_values(went, datetime(2026, 11, 27, 7, 0, tzinfo=UTC), "Jordan Ashby's aunt"),
    ).json()
    assert "where_found" in named["errors"]  # never the child's name
    with Session(bot.runtime.engine) as session:
        assert session.exec(select(MissingEpisode)).first() is None
    form = _missing_form(bot, LOCATE, CHILD_A)
    assert bot.slack.view_submission(LOCATE, form, values=_episode_values(went, None)).status == 200
    bot.settle()
    assert not [m for m in _posted(bot, LOCATE_2) if "return home interview" in m.get("text", "")]
    # the child is found in Coventry: the form carries the open episode
    form = _missing_form(bot, POLICE, CHILD_A)
    assert "recording the return" in json.dumps(form["blocks"])
    back = datetime(2026, 11, 27, 8, 30, tzinfo=UTC)
    bot.slack.view_submission(POLICE, form, values=_episode_values(went, back, "Coventry bus station", True))
    bot.settle()
    asked = [m for m in _posted(bot, LOCATE_2) if "return home interview" in m.get("text", "")]
    assert len(asked) == 1 and "must be offered by *Mon 30 Nov 2026 08:30*" in json.dumps(asked[0]["blocks"])
    assert "Ashby" not in json.dumps(asked)
    with Session(bot.runtime.engine) as session:
        episode = session.exec(select(MissingEpisode)).one()
        assert episode.out_of_area and episode.interview_state == "owed"
    # a sweep before it falls due asks nobody again; after the 72 hours it is overdue, to the lead too
    sweep_panels(bot.runtime)
    bot.settle()
    assert len([m for m in _posted(bot, LOCATE_2) if "return home interview" in m.get("text", "")]) == 1
    clock.set(datetime(2026, 11, 30, 9, 0, tzinfo=UTC))
    sweep_panels(bot.runtime)
    sweep_panels(bot.runtime)
    bot.settle()
    overdue = [m for m in _posted(bot, LOCATE_LEAD) if "is overdue" in m.get("text", "")]
    assert len(overdue) == 1
    # health cannot open the interview; Locate records it
    refused = bot.slack.block_actions(
        HEALTH, [{"action_id": "panel_return_interview", "value": str(episode.id)}]
    )
    assert refused.status == 200
    before = views_opened(bot)
    bot.slack.block_actions(LOCATE, [{"action_id": "panel_return_interview", "value": str(episode.id)}])
    interview = opened_view(bot, before)
    values = {
        "offered_at": {
            "value": StateValue.datetimepicker(int(datetime(2026, 11, 29, 14, 0, tzinfo=UTC).timestamp()))
        },
        "outcome": {"value": StateValue.static_select("done")},
        "by": {"value": StateValue.text("Amira Farah, Locate return home worker")},
    }
    assert bot.slack.view_submission(LOCATE, interview, values=values).status == 200
    clock.set(datetime(2026, 12, 2, 9, 0, tzinfo=UTC))
    sweep_panels(bot.runtime)  # the next sitting's agenda, and no more chases
    bot.settle()
    assert len([m for m in _posted(bot, LOCATE_LEAD) if "is overdue" in m.get("text", "")]) == 1
    with Session(bot.runtime.engine) as session:
        episode = session.exec(select(MissingEpisode)).one()
        assert episode.interview_state == "done" and episode.next_chase_at is None
    # the episode brings the case onto the next agenda, though its review is in January
    following, next_sitting = sitting_for(bot, "2026-12-08")
    due = items_of(bot, next_sitting)
    assert list(due) == [CHILD_A] and due[CHILD_A].reasons == ["missing episode reported 27 Nov 2026"]
    agenda = _document_text(bot, following, "panel_agenda")
    assert "where found: Coventry bus station (out of area)" in agenda
    assert "Return home interview offered 29 Nov 2026 14:00 (within the timescale) by Amira Farah" in agenda
    del meeting


def test_referrals_still_waiting_are_chased_to_the_administrators_before_the_cut_off(bot, clock) -> None:
    from tests.panel_support import ADMIN

    sweep_panels(bot.runtime)
    meeting, _ = sitting_for(bot, "2026-11-24")  # cut-off Tuesday 17 November, 17:00
    refer(bot, SOCIAL_WORKER, case_reference=CHILD_A, child_name="Jordan Ashby")
    clock.set(datetime(2026, 11, 16, 16, 0, tzinfo=UTC))  # before the chase point
    sweep_panels(bot.runtime)
    bot.settle()
    assert not [m for m in _posted(bot, ADMIN) if "wait for your decision" in m.get("text", "")]
    clock.set(datetime(2026, 11, 16, 17, 30, tzinfo=UTC))  # a working day before the cut-off
    sweep_panels(bot.runtime)
    sweep_panels(bot.runtime)
    bot.settle()
    chased = [m["text"] for m in _posted(bot, ADMIN) if "wait for your decision" in m.get("text", "")]
    assert len(chased) == 1
    assert f"before the cut-off for {meeting.reference}" in chased[0] and f"({CHILD_A})" in chased[0]
    assert "Ashby" not in chased[0]
    assert [m for m in _posted(bot, "U0BSC002") if "wait for your decision" in m.get("text", "")]


def test_the_perpetrator_register_disruption_actions_and_intelligence_by_handling_code(bot, clock) -> None:
    from bot.actions.models import Action
    from bot.panel.models import Disruption, Intelligence, SuspectedPerpetrator
    from tests.panel_support import ADMIN, record_attendance

    meeting, items = _referred_and_on_the_agenda(bot, clock)
    # a social worker can neither add to nor see the register
    refused = bot.slack.command("/panel", "perpetrators", user_id=SOCIAL_WORKER).json()
    assert (
        refused["text"] == "Only police and panel administrators see the register of suspected perpetrators."
    )
    before = views_opened(bot)
    bot.slack.command("/panel", "perpetrator", user_id=POLICE)
    form = opened_view(bot, before)
    values = {
        "panel": {"value": StateValue.static_select("birmingham-mace")},
        "description": {"value": StateValue.text("Older man called Tee in the flats")},
        "police_reference": {"value": StateValue.text("WMP/OP-LANTERN/17")},
        "linked": {"value": StateValue.text(f"{CHILD_A}, CS-9999999")},
        "summary": {"value": StateValue.text("Adult male, 19; a child abduction warning notice is planned.")},
    }
    bad = bot.slack.view_submission(POLICE, form, values=values).json()
    assert bad["errors"] == {"linked": "Not known to the bot: CS-9999999."}
    values["linked"] = {"value": StateValue.text(CHILD_A)}
    assert bot.slack.view_submission(POLICE, form, values=values).status == 200
    listed = json.dumps(bot.slack.command("/panel", "perpetrators", user_id=ADMIN).json()["blocks"])
    assert "*SP-2026-0001* Older man called Tee in the flats" in listed and f"linked: {CHILD_A}" in listed
    # a disruption activity agreed for the child becomes an action of the sitting
    item_id = items[CHILD_A].id or 0
    values = outcome_values(reason="Found in Coventry again.")
    values.update(
        {
            "disruption_tactic": {"value": StateValue.static_select("cawn")},
            "disruption_owner": {"value": StateValue.users_select(POLICE)},
            "disruption_due": {"value": StateValue.datepicker("2026-11-10")},
            "disruption_target": {"value": StateValue.text("SP-2026-0001")},
        }
    )
    bad = record_item(bot, CHAIR, item_id, values).json()
    assert bad["errors"] == {"disruption_due": "That date has passed."}
    values["disruption_due"] = {"value": StateValue.datepicker("2026-12-01")}
    assert record_item(bot, CHAIR, item_id, values).status == 200
    with Session(bot.runtime.engine) as session:
        disruption = session.exec(select(Disruption)).one()
        action = session.get(Action, disruption.action_id)
        perpetrator = session.exec(select(SuspectedPerpetrator)).one()
        assert (
            action is not None
            and action.meeting_id == meeting.id
            and action.due_on.isoformat() == "2026-12-01"
        )
        assert action.text == "Disruption: Child abduction warning notice (SP-2026-0001)"
        assert disruption.perpetrator_id == perpetrator.id
    # intelligence shared by the police at the panel carries its handling code
    agencies = ["csc", "police-cid", "police-ppu", "locate", "yos", "health", "education", "early-help"]
    bad = record_attendance(
        bot, CHAIR, meeting, agencies, "Recruitment online.", intelligence="T drives a grey car."
    )
    assert bad.json()["errors"] == {"handling_code": "Choose the handling code the intelligence carries."}
    ok = record_attendance(
        bot,
        CHAIR,
        meeting,
        agencies,
        "Recruitment online.",
        intelligence="T drives a grey car.",
        handling_code="4",
    )
    assert ok.status == 200
    with Session(bot.runtime.engine) as session:
        assert session.exec(select(Intelligence)).one().handling_code == "4"
    # the record the chair approves holds it under its handling code, and the register's
    # released summary (never the police's own description or reference)
    bot.slack.block_actions(CHAIR, [{"action_id": "panel_draft_minutes", "value": str(meeting.id)}])
    bot.settle()
    record = _document_text(bot, meeting, "panel_minutes")
    assert "T drives a grey car" in record and "4: police only" in record
    assert "This copy: Full copy." in record
    assert "Adult male, 19; a child abduction warning notice is planned." in record
    assert "WMP/OP-LANTERN/17" not in record and "Older man called Tee" not in record
    assert "Disruption: Child abduction warning notice (SP-2026-0001)" in record
    # approved, a second copy withholds it from every agency the code does not release it to
    from bot.minutes.models import Document

    with Session(bot.runtime.engine) as session:
        draft_id = session.exec(
            select(Document.id).where(Document.meeting_id == meeting.id, Document.kind == "panel_minutes")
        ).one()
    bot.local_slack.reset_calls()
    bot.slack.block_actions(CHAIR, [{"action_id": "minutes_approve", "value": str(draft_id)}])
    bot.settle()
    shared = _document_text(bot, meeting, "panel_minutes_shared")
    with Session(bot.runtime.engine) as session:  # one restricted text: full and none, no other set
        kinds = session.exec(select(Document.kind).where(Document.meeting_id == meeting.id)).all()
    assert sorted(k for k in kinds if k.startswith("panel_minutes_shared")) == ["panel_minutes_shared"]
    assert "T drives a grey car" not in shared and "4: police only" in shared
    assert "Withheld from this copy by its handling code. It is in the copies sent to" in shared
    assert "This copy: Copy with restricted information withheld." in shared
    assert "Adult male, 19; a child abduction warning notice is planned." in shared
    # the channel (every agency) receives the withheld copy, never the full one; asked for
    # the minutes, the police officer receives the full copy and the panel administrator
    # (of the partnership, which the code does not release it to) the other
    uploads = [(u.channel, u.filename) for u in bot.local_slack.uploaded_files()]
    reference = meeting.reference
    assert (meeting.channel_id, f"{reference}-panel-minutes-v1-withheld.docx") in uploads
    full_to = {channel for channel, title in uploads if title == f"{reference}-panel-minutes-v1.docx"}
    assert meeting.channel_id not in full_to
    bot.local_slack.reset_calls()
    bot.slack.command("/panel", f"minutes {reference}", user_id=POLICE)
    bot.slack.command("/panel", f"minutes {reference}", user_id=MINUTE_TAKER)
    bot.settle()
    replies = [c.args.get("text", "") for c in bot.local_slack.calls_to("response_url")]
    assert f"Sending you {reference}-panel-minutes-v1.docx (approved) in a direct message." in replies
    assert (
        f"Sending you {reference}-panel-minutes-v1-withheld.docx (approved) in a direct message." in replies
    )
    # a new draft after the themes are corrected says which part changed
    record_attendance(bot, CHAIR, meeting, agencies, "Recruitment online and at the park.")
    bot.slack.block_actions(CHAIR, [{"action_id": "panel_draft_minutes", "value": str(meeting.id)}])
    bot.settle()
    second = _document_text(bot, meeting, "panel_minutes")
    said = next(line for line in second.splitlines() if line.startswith("Version: 2"))
    assert "Since version 1 (" in said and said.endswith("changed Themes and intelligence."), said


def test_panel_minutes_give_each_agency_exactly_the_restricted_text_it_is_entitled_to(bot, clock) -> None:
    """The police's pre-panel update is shared with those who took part; their intelligence
    (code C) with social care and the police only. The youth justice service took part: its
    copy holds the update and withholds the intelligence; the police's is the full one."""
    from bot.minutes.models import Document
    from tests.agency_updates_support import update_values
    from tests.panel_support import invitation_of, record_attendance

    youth_justice = "U0YOS001"
    meeting, items = _referred_and_on_the_agenda(bot, clock)
    item = items[CHILD_A]
    shared_update = "Stopped twice near the Wellington Road flat with an older male."
    intelligence = "The older male uses a grey Audi registered out of area."
    invitation = invitation_of(bot, meeting, "police-ppu")
    before = views_opened(bot)
    bot.slack.block_actions(
        POLICE, [{"action_id": f"agency_update_open_{item.id}", "value": f"{invitation.id}:{item.id}"}]
    )
    form = opened_view(bot, before)
    values = update_values(
        bot,
        involvement_current=StateValue.text(shared_update),
        new_police_intelligence=StateValue.text(None),
        restrictions=StateValue.checkboxes(["not_outside_meeting"]),
    )
    submitted = bot.slack.view_submission(POLICE, form, values=values)
    assert json.loads(submitted.body or "{}").get("response_action") != "errors", submitted.body
    bot.settle()
    assert record_item(bot, CHAIR, item.id or 0, outcome_values()).status == 200
    agencies = ["csc", "police-cid", "police-ppu", "locate", "yos", "health", "education", "early-help"]
    recorded = record_attendance(
        bot, CHAIR, meeting, agencies, "Recruitment online.", intelligence=intelligence, handling_code="C"
    )
    assert recorded.status == 200, recorded.body
    bot.slack.block_actions(CHAIR, [{"action_id": "panel_draft_minutes", "value": str(meeting.id)}])
    bot.settle()
    with Session(bot.runtime.engine) as session:
        draft_id = session.exec(
            select(Document.id).where(Document.meeting_id == meeting.id, Document.kind == "panel_minutes")
        ).one()
    bot.slack.block_actions(CHAIR, [{"action_id": "minutes_approve", "value": str(draft_id)}])
    bot.settle()
    with Session(bot.runtime.engine) as session:
        copies = {
            d.kind: d
            for d in session.exec(
                select(Document).where(Document.meeting_id == meeting.id, Document.state == "approved")
            )
            if d.kind.startswith("panel_minutes")
        }
    partial = [kind for kind in copies if kind.startswith("panel_minutes_shared_")]
    assert len(copies) == 3 and len(partial) == 1, sorted(copies)  # full, none, {the update}
    full = " ".join(_document_text(bot, meeting, "panel_minutes").split())
    none = " ".join(_document_text(bot, meeting, "panel_minutes_shared").split())
    part = " ".join(_document_text(bot, meeting, partial[0]).split())
    assert shared_update in full and intelligence in full
    assert shared_update not in none and intelligence not in none
    assert shared_update in part and intelligence not in part
    assert "Withheld from this copy by its handling code. It is in the copies sent to" in part
    assert "This copy: Copy with some restricted information withheld." in part
    # asked for the minutes, each receives the copy for their set
    bot.local_slack.reset_calls()
    for user in (youth_justice, POLICE):
        bot.slack.command("/panel", f"minutes {meeting.reference}", user_id=user)
    bot.settle()
    replies = [c.args.get("text", "") for c in bot.local_slack.calls_to("response_url")]
    assert f"Sending you {copies[partial[0]].filename} (approved) in a direct message." in replies, replies
    assert f"Sending you {copies['panel_minutes'].filename} (approved) in a direct message." in replies


def _disruption_agreed(bot, clock) -> tuple[Meeting, int]:
    """A child on the agenda with a child abduction warning notice agreed for the police,
    due 1 December; returns the sitting and the action's id."""
    from bot.actions.models import Action
    from bot.panel.models import Disruption

    meeting, items = _referred_and_on_the_agenda(bot, clock)
    values = outcome_values(reason="Found in Coventry again.")
    values.update(
        {
            "disruption_tactic": {"value": StateValue.static_select("cawn")},
            "disruption_owner": {"value": StateValue.users_select(POLICE)},
            "disruption_due": {"value": StateValue.datepicker("2026-12-01")},
            "disruption_target": {"value": StateValue.text("Lodge Road flats")},
        }
    )
    # what is typed is checked for the child's name (the tactic's own name is not typed)
    named = dict(values, disruption_target={"value": StateValue.text("Jordan Ashby's uncle")})
    bad = record_item(bot, CHAIR, items[CHILD_A].id or 0, named).json()
    assert bad["errors"] == {
        "disruption_target": "This is shown in Slack, so it must not name the child. Use the case reference instead."
    }
    assert record_item(bot, CHAIR, items[CHILD_A].id or 0, values).status == 200
    with Session(bot.runtime.engine) as session:
        disruption = session.exec(select(Disruption)).one()
        action = session.get(Action, disruption.action_id)
        assert action is not None and action.status == "open" and disruption.result == ""
        return meeting, action.id or 0


def test_a_disruption_is_chased_until_its_owner_records_its_outcome(bot, clock) -> None:
    from bot.actions.jobs import sweep_actions
    from bot.actions.models import Action
    from bot.documents.panel import panel_minutes_context
    from bot.panel.models import Disruption

    meeting, action_id = _disruption_agreed(bot, clock)
    # chased like any other action: on its due day the owner is reminded, with Mark done
    clock.set(datetime(2026, 12, 1, 10, 0, tzinfo=UTC))
    sweep_actions(bot.runtime)
    bot.settle()
    chases = [
        m for m in _posted(bot, POLICE) if "Disruption: Child abduction warning notice" in json.dumps(m)
    ]
    assert chases and '"action_id": "action_done"' in json.dumps(chases[-1]["blocks"])
    # Mark done opens the outcome form, not the plain one
    before = views_opened(bot)
    bot.slack.block_actions(POLICE, [{"action_id": "action_done", "value": str(action_id)}])
    form = opened_view(bot, before)
    assert form["callback_id"] == "disruption_outcome"
    # the plain done form is refused for a disruption (its outcome is owed)
    plain = dict(form, callback_id="action_done")
    refused = bot.slack.view_submission(
        POLICE, plain, values={"note": {"value": StateValue.text("Done.")}}
    ).json()
    assert refused["errors"] == {"note": "This is a disruption action: record its outcome with Mark done."}
    # someone other than the owner or their lead cannot record it
    refused = bot.slack.view_submission(
        SOCIAL_WORKER,
        form,
        values={
            "result": {"value": StateValue.static_select("achieved")},
            "what_happened": {"value": StateValue.text("Served.")},
        },
    ).json()
    assert refused["errors"] == {
        "result": "Only the owner of the action or their agency lead can record its outcome."
    }
    # every part is checked, and the child's name refused; nothing is stored meanwhile
    bad = bot.slack.view_submission(
        POLICE,
        form,
        values={
            "result": {"value": StateValue.static_select(None)},
            "what_happened": {"value": StateValue.text(None)},
        },
    ).json()
    assert set(bad["errors"]) == {"result", "what_happened"}
    named = bot.slack.view_submission(
        POLICE,
        form,
        values={
            "result": {"value": StateValue.static_select("achieved")},
            "what_happened": {"value": StateValue.text("Served on T; Jordan Ashby told.")},
        },
    ).json()
    assert "must not name the child" in named["errors"]["what_happened"]
    with Session(bot.runtime.engine) as session:
        assert session.exec(select(Disruption)).one().result == ""
        assert session.get(Action, action_id).status == "open"
    # the next working day it is overdue and chased again
    clock.set(datetime(2026, 12, 2, 10, 0, tzinfo=UTC))
    sweep_actions(bot.runtime)
    bot.settle()
    chased_before = len(
        [m for m in _posted(bot, POLICE) if "Disruption: Child abduction warning notice" in json.dumps(m)]
    )
    assert chased_before > len(chases)
    values = {
        "result": {"value": StateValue.static_select("achieved")},
        "what_happened": {
            "value": StateValue.text("Notice served on T at the Lodge Road flats on 1 December.")
        },
    }
    assert bot.slack.view_submission(POLICE, form, values=values).status == 200
    assert bot.slack.view_submission(POLICE, form, values=values).status == 200  # twice: no change
    with Session(bot.runtime.engine) as session:
        disruption = session.exec(select(Disruption)).one()
        action = session.get(Action, action_id)
        assert (disruption.result, action.status, action.next_chase_at) == ("achieved", "done", None)
        assert disruption.outcome_recorded_at is not None
    # no more chases once the outcome is in
    for day in (3, 4, 7):
        clock.set(datetime(2026, 12, day, 10, 0, tzinfo=UTC))
        sweep_actions(bot.runtime)
    bot.settle()
    assert chased_before == len(
        [m for m in _posted(bot, POLICE) if "Disruption: Child abduction warning notice" in json.dumps(m)]
    )
    # the minutes show it, with the outcome
    with Session(bot.runtime.engine) as session:
        minutes, _ = panel_minutes_context(
            session,
            session.get(Meeting, meeting.id),
            partnership=bot.runtime.partnership,
            calendar=bot.runtime.calendar,
            version=1,
            state="DRAFT",
            now=clock.now(),
        )
    (row,) = minutes["disruptions"]
    assert row["outcome"] == (
        "Achieved (served, made or carried out): Notice served on T at the Lodge Road flats on 1 December. "
        "(recorded 02 Dec 2026)"
    )
    assert row["status"].startswith("Done. Outcome: Achieved")


def _timeline_text(bot, user_id: str, reference: str) -> tuple[str, list[dict]]:
    answer = bot.slack.command("/strategy", reference, user_id=user_id).json()
    blocks = answer.get("blocks", [])
    text = "\n".join(str(b.get("text", {}).get("text", "")) for b in blocks if b.get("type") == "section")
    return text, blocks


def test_locate_records_a_missing_episode_from_the_case_and_it_shows_on_the_timeline(bot, clock) -> None:
    from bot.panel.models import MissingEpisode
    from tests.convening_support import convene

    meeting = convene(bot)  # a strategy discussion for CS-1234567; Locate is invited
    reference, case = meeting.reference, "CS-1234567"
    # Locate sees the button on the case's timeline; health, also taking part, does not
    text, blocks = _timeline_text(bot, LOCATE, reference)
    assert f"Case {case}: timeline" in text and "case_missing_open" in json.dumps(blocks)
    _, blocks = _timeline_text(bot, HEALTH, reference)
    assert "case_missing_open" not in json.dumps(blocks)
    # health pressing it anyway is told who records them; nothing opens
    before = views_opened(bot)
    bot.slack.block_actions(HEALTH, [{"action_id": "case_missing_open", "value": str(meeting.id)}])
    bot.settle()
    assert views_opened(bot) == before
    told = [*bot.local_slack.responses(), *bot.local_slack.calls_to("chat.postMessage")]
    assert [c for c in told if "Missing episodes are recorded by" in json.dumps(c.args)]
    # someone with no part in the discussion is refused by the guard
    before = views_opened(bot)
    bot.slack.block_actions("U0EDU001", [{"action_id": "case_missing_open", "value": str(meeting.id)}])
    bot.settle()
    assert views_opened(bot) == before
    # Locate opens the form from the case and records the episode and the return
    clock.set(datetime(2026, 11, 12, 9, 0, tzinfo=UTC))
    before = views_opened(bot)
    bot.slack.block_actions(LOCATE, [{"action_id": "case_missing_open", "value": str(meeting.id)}])
    form = opened_view(bot, before)
    assert form["callback_id"] == "panel_missing" and json.loads(form["private_metadata"]) == {
        "case_reference": case
    }
    went, back = datetime(2026, 11, 10, 20, 0, tzinfo=UTC), datetime(2026, 11, 11, 7, 30, tzinfo=UTC)
    values = _episode_values(went, back, "Coventry bus station", True)
    assert bot.slack.view_submission(LOCATE, form, values=values).status == 200
    bot.settle()
    text, _ = _timeline_text(bot, LOCATE, reference)
    assert (
        "*Missing* Tue 10 Nov 2026 20:00, back Wed 11 Nov 2026 07:30, found: Coventry bus station (out of area)"
        " · return home interview owed by Sat 14 Nov 2026 07:30"
    ) in text
    # the interview is recorded: the timeline says when, by whom, and within the timescale
    with Session(bot.runtime.engine) as session:
        episode = session.exec(select(MissingEpisode)).one()
    before = views_opened(bot)
    bot.slack.block_actions(LOCATE, [{"action_id": "panel_return_interview", "value": str(episode.id)}])
    interview = opened_view(bot, before)
    offered = int(datetime(2026, 11, 11, 16, 0, tzinfo=UTC).timestamp())
    interview_values = {
        "offered_at": {"value": StateValue.datetimepicker(offered)},
        "outcome": {"value": StateValue.static_select("done")},
        "by": {"value": StateValue.text("Amira Farah, Locate return home worker")},
    }
    assert bot.slack.view_submission(LOCATE, interview, values=interview_values).status == 200
    text, _ = _timeline_text(bot, SOCIAL_WORKER, reference)
    assert (
        "return home interview offered Wed 11 Nov 2026 16:00 (within the timescale) by Amira Farah, "
        "Locate return home worker: done"
    ) in text
    assert "Jordan" not in text and "Ashby" not in text
