"""Recording a discussion, its actions, and its minutes and action log in Word: drafts, the
chair's approval, versions, circulation and downloads, through signed requests."""

from __future__ import annotations

import hashlib
import io
import json
from datetime import UTC, date, datetime

import docx
from sqlmodel import Session, func, select

from bot.actions.models import Action
from bot.audit.models import AuditEntry
from bot.convening.models import Attendance, Meeting
from bot.minutes.models import Decision, Document
from bot_offline.local_slack.signed_client import StateValue
from tests.agency_updates_support import open_update, update_values
from tests.convening_support import (
    CHAIR,
    CHILD_NAME,
    HEALTH,
    LOCATE,
    POLICE_PPU,
    SOCIAL_WORKER,
    convene,
    invitation_for,
    settle,
)
from tests.minutes_support import action_values, decision_values, record_steps, when_and_who_values

AGENCIES = ["csc", "police-ppu", "health", "police-cid", "locate", "yos", "education"]
AFTER_THE_MEETING = datetime(2026, 11, 10, 15, 0, tzinfo=UTC)
PANEL_ADMIN = "U0BSC001"
OUTSIDER = "U0EHP001"


def _count(bot, model) -> int:
    with Session(bot.runtime.engine) as session:
        return int(session.exec(select(func.count()).select_from(model)).one())


def _open(bot, user_id: str, command: str, text: str, title: str) -> dict:
    before = len(bot.local_slack.calls_to("views.open"))
    response = bot.slack.command(command, text, user_id=user_id)
    assert response.status == 200, response.body
    opened = bot.local_slack.wait_for_new("views.open", before)
    assert title in json.dumps(opened.args), opened.args
    return opened.response["view"]


def _minutes_reply(bot, user_id: str, reference: str) -> str:
    """`/strategy minutes REF` acknowledges at once and answers privately afterwards; a
    refusal is the acknowledgement itself (the guard answers before any listener)."""
    before = len(bot.local_slack.responses())
    response = bot.slack.command("/strategy", f"minutes {reference}", user_id=user_id)
    assert response.status == 200, response.body
    if response.body not in ("", "{}"):
        assert response.json()["response_type"] == "ephemeral"
        return str(response.json()["text"])
    calls = bot.local_slack.wait_for(
        lambda calls: len([c for c in calls if c.method == "response_url"]) > before
    )
    reply = [c for c in calls if c.method == "response_url"][-1]
    assert reply.args["response_type"] == "ephemeral"
    return str(reply.args["text"])


def _record(bot, meeting, *, who=None, **what):
    view = _open(bot, CHAIR, "/strategy", f"record {meeting.reference}", "Record discussion")
    step_two, response = record_steps(bot, CHAIR, view, AGENCIES, who=who, what=what)
    settle(bot)
    return step_two, response


def _documents(bot) -> list[Document]:
    with Session(bot.runtime.engine) as session:
        return list(session.exec(select(Document).order_by(Document.id)))


def _text_of(content: bytes) -> str:
    document = docx.Document(io.BytesIO(content))
    parts = [p.text for p in document.paragraphs]
    for table in document.tables:
        for row in table.rows:
            parts.extend(cell.text for cell in row.cells)
    # References are printed with non-breaking hyphens (U+2011) so they never split a line.
    return "\n".join(parts).replace("\u2011", "-")


def test_recording_before_the_discussion_or_by_someone_else_is_refused(bot) -> None:
    meeting = convene(bot)
    early = bot.slack.command("/strategy", f"record {meeting.reference}", user_id=CHAIR).json()
    assert "has not happened yet" in early["text"]
    bot.clock.set(AFTER_THE_MEETING)
    other = bot.slack.command("/strategy", f"record {meeting.reference}", user_id=POLICE_PPU).json()
    assert "Only the chair or a minute-taker" in other["text"]
    assert _count(bot, Decision) == 0 and _count(bot, Attendance) == 0


def test_the_record_form_is_prefilled_and_missing_decisions_are_refused_inline(bot) -> None:
    meeting = convene(bot)
    bot.slack.block_actions(
        HEALTH,
        [{"action_id": "invitation_written_update", "value": str(invitation_for(bot, meeting, "health").id)}],
    )
    settle(bot)
    bot.clock.set(AFTER_THE_MEETING)
    view = _open(bot, CHAIR, "/strategy", f"record {meeting.reference}", "Record discussion")
    blocks = {b.get("block_id"): b for b in view["blocks"]}
    assert blocks["attendance:health"]["element"]["initial_option"]["value"] == "written_update"
    assert blocks["attendance:police-ppu"]["element"]["initial_option"]["value"] == "did_not_respond"
    assert blocks["actual_start"]["element"]["initial_date_time"] == int(meeting.scheduled_start.timestamp())
    assert len(view["blocks"]) < 30  # step 1 of 2
    # Step 1: health sent a written update only, so a core agency is missing.
    refused = bot.slack.view_submission(
        CHAIR,
        view,
        values=when_and_who_values(
            AGENCIES, **{"attendance:health": StateValue.static_select("written_update")}
        ),
    ).json()
    assert set(refused["errors"]) == {"quorum_reason", "quorum_proceed"}
    assert (
        "Birmingham Community Healthcare - Safeguarding Children Team did not take part"
        in (refused["errors"]["quorum_reason"])
    )
    # Step 2 arrives pushed, carrying step 1, with the ICPC date it would set.
    step_two, body = record_steps(
        bot,
        CHAIR,
        view,
        AGENCIES,
        what={
            "section_47_detail": StateValue.text(" "),
            "sharing_with_family_detail": StateValue.text(""),
            "review_date": StateValue.datepicker("2026-11-01"),
            "medical_assessment": StateValue.radio_buttons("not_yet"),
            "icpc": StateValue.radio_buttons(None),
        },
    )
    assert step_two is not None and len(step_two["blocks"]) < 50
    assert "held by Tuesday 01 December 2026" in json.dumps(step_two)
    assert set(body.json()["errors"]) == {
        "section_47_detail",
        "sharing_with_family_detail",
        "review_date",
        "medical_assessment_by",
        "icpc",
    }
    assert _count(bot, Decision) == 0 and _count(bot, Document) == 0 and _count(bot, Attendance) == 0


def test_recording_writes_draft_minutes_holding_every_section(bot) -> None:
    meeting = convene(bot)
    view = open_update(bot, POLICE_PPU, invitation_for(bot, meeting, "police-ppu").id)
    hostile = "Seen with {{ 7*7 }} and {% for x in y %} <w:p> & 🚨"
    bot.slack.view_submission(
        POLICE_PPU, view, values=update_values(bot, new_police_intelligence=StateValue.text(hostile))
    )
    bot.clock.set(AFTER_THE_MEETING)
    _, response = _record(bot, meeting)
    assert response.json() == {"response_action": "clear"}, response.body  # both steps close
    with Session(bot.runtime.engine) as session:
        stored = session.get(Meeting, meeting.id)
        assert stored is not None and stored.state == "held"
        assert len(session.exec(select(Attendance).where(Attendance.meeting_id == meeting.id)).all()) == len(
            AGENCIES
        )
    documents = _documents(bot)
    assert [(d.kind, d.version, d.state) for d in documents] == [
        ("minutes", 1, "draft"),
        ("action_log", 1, "issued"),
    ]
    draft = documents[0]
    assert draft.sha256 == hashlib.sha256(draft.content).hexdigest()
    text = _text_of(draft.content)
    for expected in (
        CHILD_NAME,
        "CS-1234567",
        "Start section 47 enquiries",
        "Joint enquiry with the police",
        "Safety plan agreed with mother",
        "Tuesday 01 December 2026",
        "He says he owes money",
        "West Midlands Police - Public Protection Unit (Birmingham)",
        hostile,
        "DRAFT",
    ):
        assert expected in text, expected
    assert "49" not in text.replace("2026", "")
    # A handling instruction, not a retired classification word; the draft is the full copy.
    assert "RESTRICTED" not in text
    assert "Handling instruction: Police information: not to be shared with the family" in text
    assert "This copy: Full copy." in text
    # the case's clocks and the threshold are on the record, and nothing is left blank
    for label in ("Referral received", "Urgency", "To be held by", "Held within the timescale"):
        assert label in text, label
    assert "Complex / significant" in text and "Parents told of the enquiries" in text
    header = docx.Document(io.BytesIO(draft.content)).sections[0].header
    assert "OFFICIAL-SENSITIVE" in "\n".join(p.text for p in header.paragraphs) + "".join(
        c.text for t in header.tables for r in t.rows for c in r.cells
    )
    # the chair gets the draft privately, with the buttons to approve it
    uploads = [u for u in bot.local_slack.uploaded_files() if u.filename == "SD-2026-0001-minutes-v1.docx"]
    assert uploads and uploads[0].content == draft.content
    asks = [
        c
        for c in bot.local_slack.calls_to("chat.postMessage")
        if c.args.get("channel") == CHAIR and "minutes_approve" in json.dumps(c.args)
    ]
    assert len(asks) == 1


def test_only_the_chair_approves_and_approval_locks_and_circulates_once(bot) -> None:
    meeting = convene(bot)
    bot.clock.set(AFTER_THE_MEETING)
    _record(bot, meeting)
    draft = _documents(bot)[0]
    bot.slack.block_actions(SOCIAL_WORKER, [{"action_id": "minutes_approve", "value": str(draft.id)}])
    settle(bot)
    assert _documents(bot)[0].state == "draft"
    bot.slack.block_actions(CHAIR, [{"action_id": "minutes_approve", "value": str(draft.id)}])
    bot.slack.block_actions(CHAIR, [{"action_id": "minutes_approve", "value": str(draft.id)}])
    settle(bot)
    documents = _documents(bot)
    minutes = next(d for d in documents if d.kind == "minutes")
    assert minutes.state == "approved" and minutes.approved_at == AFTER_THE_MEETING
    assert minutes.sha256 == hashlib.sha256(minutes.content).hexdigest()
    assert "APPROVED" in _text_of(minutes.content)
    assert [d.kind for d in documents].count("action_log") == 2  # at recording, and with the approved minutes
    with Session(bot.runtime.engine) as session:
        channel = session.get(Meeting, meeting.id).channel_id  # type: ignore[union-attr]
    circulated = [u.filename for u in bot.local_slack.uploaded_files() if u.channel == channel]
    assert sorted(circulated) == [
        "SD-2026-0001-action-log-v1.docx",
        "SD-2026-0001-action-log-v2.docx",
        "SD-2026-0001-minutes-v1.docx",
    ]
    with Session(bot.runtime.engine) as session:
        acts = [e.act for e in session.exec(select(AuditEntry))]
    assert acts.count("document.approved") == 1 and "document.approve_refused" in acts


def test_an_amendment_makes_a_new_version_and_keeps_the_old(bot) -> None:
    meeting = convene(bot)
    bot.clock.set(AFTER_THE_MEETING)
    _record(bot, meeting)
    first = _documents(bot)[0]
    bot.slack.block_actions(CHAIR, [{"action_id": "minutes_approve", "value": str(first.id)}])
    settle(bot)
    _record(
        bot,
        meeting,
        dissent=StateValue.radio_buttons("yes"),
        dissent_detail=StateValue.text(
            "Health disagreed with the threshold; escalated to the head of service."
        ),
    )
    minutes = [d for d in _documents(bot) if d.kind == "minutes"]
    assert [(d.version, d.state) for d in minutes] == [(1, "approved"), (2, "draft")]
    bot.slack.block_actions(CHAIR, [{"action_id": "minutes_approve", "value": str(minutes[1].id)}])
    settle(bot)
    minutes = [d for d in _documents(bot) if d.kind == "minutes"]
    assert [(d.version, d.state) for d in minutes] == [(1, "superseded"), (2, "approved")]
    assert "escalated to the head of service" in _text_of(minutes[1].content)
    assert "escalated to the head of service" not in _text_of(minutes[0].content)
    # each version says what changed, by part: only what the amendment touched
    assert "Version: 1 (APPROVED). First version." in _text_of(minutes[0].content)
    said = next(line for line in _text_of(minutes[1].content).splitlines() if line.startswith("Version: 2"))
    assert "Since version 1 (" in said and "changed Decisions; Dissent and escalation." in said, said
    assert minutes[1].sections and minutes[0].sections != minutes[1].sections


def test_actions_need_an_owner_and_a_future_date_and_default_their_due_date(bot) -> None:
    meeting = convene(bot)
    view = _open(bot, CHAIR, "/actions", f"add {meeting.reference}", "Add an action")
    no_owner = action_values(POLICE_PPU)
    no_owner["owner"] = {"value": StateValue.users_select(None)}
    assert "owner" in bot.slack.view_submission(CHAIR, view, values=no_owner).json()["errors"]
    past = bot.slack.view_submission(
        CHAIR, view, values=action_values(POLICE_PPU, due=date(2026, 11, 9))
    ).json()
    assert "has passed" in past["errors"]["due_on"]
    bot.local_slack.add_user("U0STRANGER", "Not In Schedules")
    stranger = bot.slack.view_submission(CHAIR, view, values=action_values("U0STRANGER")).json()
    assert "not in the partnership's schedules" in stranger["errors"]["owner"]
    assert _count(bot, Action) == 0
    done = bot.slack.view_submission(CHAIR, view, values=action_values(POLICE_PPU, priority="high")).json()
    bot.slack.view_submission(
        CHAIR, view, values=action_values(POLICE_PPU, priority="high")
    )  # a double click
    assert "SD-2026-0001-A01" in json.dumps(done["view"])
    with Session(bot.runtime.engine) as session:
        actions = session.exec(select(Action)).all()
    assert len(actions) == 1
    # high priority: 2 working days after the discussion on Tuesday 10 November
    assert actions[0].due_on == date(2026, 11, 12)
    refused = bot.slack.command("/actions", f"add {meeting.reference}", user_id=HEALTH).json()
    assert "can add its actions" in refused["text"]


def test_minutes_go_privately_to_those_who_took_part_and_panel_administrators_only(bot) -> None:
    meeting = convene(bot)
    bot.clock.set(AFTER_THE_MEETING)
    _record(bot, meeting)
    early = _minutes_reply(bot, POLICE_PPU, meeting.reference)
    assert "no approved minutes yet" in early
    bot.slack.block_actions(CHAIR, [{"action_id": "minutes_approve", "value": str(_documents(bot)[0].id)}])
    settle(bot)
    for user in (POLICE_PPU, PANEL_ADMIN):
        reply = _minutes_reply(bot, user, meeting.reference)
        assert "Sending you SD-2026-0001-minutes-v1.docx (approved)" in reply
    refused = _minutes_reply(bot, OUTSIDER, meeting.reference)
    assert "Only the people who took part" in refused
    settle(bot)
    dm_channels = {
        u.channel for u in bot.local_slack.uploaded_files() if u.filename == "SD-2026-0001-minutes-v1.docx"
    }
    opened = {
        c.args["users"]: c.response["channel"]["id"] for c in bot.local_slack.calls_to("conversations.open")
    }
    assert opened[POLICE_PPU] in dm_channels and opened[PANEL_ADMIN] in dm_channels
    assert OUTSIDER not in opened
    with Session(bot.runtime.engine) as session:
        acts = [e.act for e in session.exec(select(AuditEntry))]
    assert acts.count("document.downloaded") == 4 and "document.download_refused" in acts


def test_panel_administrators_filter_the_records_and_download_from_the_home_tab(bot) -> None:
    meeting = convene(bot)
    convene(
        bot,
        case_reference=StateValue.text("CS-7654321"),
        child_name=StateValue.text("Other Child"),
        concerns=StateValue.checkboxes([]),
    )
    bot.clock.set(AFTER_THE_MEETING)
    _record(bot, meeting)
    bot.slack.block_actions(CHAIR, [{"action_id": "minutes_approve", "value": str(_documents(bot)[0].id)}])
    settle(bot)
    bot.slack.event({"type": "app_home_opened", "user": PANEL_ADMIN, "tab": "home"})
    bot.local_slack.wait_for(lambda calls: any(c.method == "views.publish" and c.ok for c in calls))
    home = bot.local_slack.home_view(PANEL_ADMIN)
    text = json.dumps(home)
    assert "SD-2026-0001" in text and "SD-2026-0002" in text and "approved v1" in text
    # filter to held discussions: only the first remains
    state = {
        "values": {
            "record_filters": {
                "home_filter_state": {"type": "static_select", "selected_option": {"value": "held"}}
            }
        }
    }
    bot.local_slack.reset_calls()
    bot.slack.block_actions(
        PANEL_ADMIN,
        [
            {
                "action_id": "home_filter_state",
                "block_id": "record_filters",
                "selected_option": {"value": "held"},
            }
        ],
        view={**home, "state": state},
    )
    bot.local_slack.wait_for(lambda calls: any(c.method == "views.publish" and c.ok for c in calls))
    filtered = json.dumps(bot.local_slack.home_view(PANEL_ADMIN))
    assert "SD-2026-0001" in filtered and "SD-2026-0002" not in filtered
    # education was invited only to the first (exploitation concerns): filter by agency
    state = {
        "values": {
            "record_filters": {
                "home_filter_agency": {"type": "static_select", "selected_option": {"value": "education"}}
            }
        }
    }
    bot.slack.block_actions(
        PANEL_ADMIN,
        [
            {
                "action_id": "home_filter_agency",
                "block_id": "record_filters",
                "selected_option": {"value": "education"},
            }
        ],
        view={**home, "state": state},
    )
    settle(bot)
    assert "SD-2026-0002" not in json.dumps(bot.local_slack.home_view(PANEL_ADMIN))
    bot.slack.block_actions(
        PANEL_ADMIN,
        [
            {
                "action_id": "home_download",
                "block_id": "x",
                "selected_option": {"value": f"minutes:{meeting.id}"},
            }
        ],
        view=home,
    )
    settle(bot)
    opened = {
        c.args["users"]: c.response["channel"]["id"] for c in bot.local_slack.calls_to("conversations.open")
    }
    assert any(
        u.filename == "SD-2026-0001-minutes-v1.docx" and u.channel == opened.get(PANEL_ADMIN)
        for u in bot.local_slack.uploaded_files()
    )
    # a representative sees no records section
    bot.slack.event({"type": "app_home_opened", "user": POLICE_PPU, "tab": "home"})
    settle(bot)
    assert "Records: discussions" not in json.dumps(bot.local_slack.home_view(POLICE_PPU))


def test_a_double_submitted_record_makes_one_draft(bot) -> None:
    meeting = convene(bot)
    bot.clock.set(AFTER_THE_MEETING)
    view, _ = _record(bot, meeting)
    bot.slack.view_submission(CHAIR, view, values=decision_values())
    settle(bot)
    assert [(d.kind, d.version) for d in _documents(bot)] == [("minutes", 1), ("action_log", 1)]


def test_the_chair_is_chased_once_when_approval_is_late(bot) -> None:
    from bot.minutes.jobs import sweep_minutes

    meeting = convene(bot)
    bot.clock.set(AFTER_THE_MEETING)
    _record(bot, meeting)
    # chair approval within 3 working days of the draft (Tue 10 Nov): late from Mon 16 Nov
    bot.clock.set(datetime(2026, 11, 13, 16, 0, tzinfo=UTC))
    assert sweep_minutes(bot.runtime) == 0
    bot.clock.set(datetime(2026, 11, 16, 9, 30, tzinfo=UTC))
    assert sweep_minutes(bot.runtime) == 1
    settle(bot)
    assert sweep_minutes(bot.runtime) == 0  # once per draft
    settle(bot)
    chased = [
        c
        for c in bot.local_slack.calls_to("chat.postMessage")
        if c.args.get("channel") == CHAIR and "waited more than" in c.args.get("text", "")
    ]
    assert len(chased) == 1


def test_an_unrated_risk_indicator_is_not_known_in_the_record_the_chairs_grid_and_the_minutes(bot) -> None:
    meeting = convene(bot)
    policy = bot.runtime.partnership.agency_updates
    weapons = next(i for i in policy.risk_indicators if i.code == "weapons")
    trauma = next(i for i in policy.risk_indicators if i.code == "trauma")
    view = open_update(bot, POLICE_PPU, invitation_for(bot, meeting, "police-ppu").id)
    assert "recorded as *not known*" in json.dumps(view["blocks"])
    options = next(b for b in view["blocks"] if b.get("block_id") == "risk:weapons")["element"]["options"]
    assert [o["text"]["text"] for o in options] == ["Not present", "Historic", "Current", "Not known"]
    values = update_values(
        bot,
        **{
            "risk:weapons": StateValue.static_select(None),  # left unrated: optional means optional
            "risk:trauma": StateValue.static_select("not_known"),
        },
    )
    response = bot.slack.view_submission(POLICE_PPU, view, values=values)
    assert response.status == 200 and json.loads(response.body or "{}").get("response_action") != "errors", (
        response.body
    )
    settle(bot)
    with Session(bot.runtime.engine) as session:
        from bot.agency_updates.models import AgencyUpdateVersion

        version = session.exec(select(AgencyUpdateVersion)).one()
    assert not version.is_draft
    assert version.risk_ratings["weapons"] == "not_known" and version.risk_ratings["trauma"] == "not_known"
    assert set(version.risk_ratings) == {i.code for i in policy.risk_indicators}
    # the chair's combined risk grid says so
    bot.slack.block_actions(CHAIR, [{"action_id": "agency_updates_read", "value": f"{meeting.id}:1"}])
    opened = bot.local_slack.wait_for(
        lambda calls: any(
            c.method == "views.open" and c.ok and "Combined risk grid" in json.dumps(c.args) for c in calls
        )
    )
    grid = json.dumps([c for c in opened if c.method == "views.open"][-1].response["view"])
    assert f"*{weapons.name}*: _Public Protection Unit (Birmingham): not known_" in grid
    assert f"*{trauma.name}*: _Public Protection Unit (Birmingham): not known_" in grid
    # and so do the minutes' grid, read back from the Word document
    bot.clock.set(AFTER_THE_MEETING)
    _, recorded = _record(bot, meeting)
    assert recorded.json() == {"response_action": "clear"}, recorded.body
    draft = next(d for d in _documents(bot) if d.kind == "minutes")
    rows = {
        row.cells[0].text: [cell.text for cell in row.cells[1:]]
        for table in docx.Document(io.BytesIO(draft.content)).tables
        for row in table.rows
    }
    # one column per rating (current, historic, not known, not present) naming the agencies
    police = "West Midlands Police - Public Protection Unit (Birmingham)"
    assert rows[weapons.name] == ["None", "None", police, "None"]
    assert rows[trauma.name] == ["None", "None", police, "None"]
    assert rows[next(i.name for i in policy.risk_indicators if i.code == "repeated_missing")][0] == police


def test_restricted_text_goes_only_to_the_agencies_entitled_to_it(bot) -> None:
    """The police restrict their intelligence to social care and the police: the channel and
    health receive the copy with it withheld; the police receive the full copy."""
    meeting = convene(bot)
    secret = "Seen with a known county lines associate at the Wellington Road address."
    view = open_update(bot, POLICE_PPU, invitation_for(bot, meeting, "police-ppu").id)
    bot.slack.view_submission(
        POLICE_PPU, view, values=update_values(bot, new_police_intelligence=StateValue.text(secret))
    )
    bot.clock.set(AFTER_THE_MEETING)
    _record(bot, meeting)
    draft = _documents(bot)[0]
    bot.slack.block_actions(CHAIR, [{"action_id": "minutes_approve", "value": str(draft.id)}])
    settle(bot)
    documents = {(d.kind, d.state): d for d in _documents(bot)}
    full, shared = documents[("minutes", "approved")], documents[("minutes_shared", "approved")]
    assert shared.sha256 == hashlib.sha256(shared.content).hexdigest() and shared.version == full.version
    full_text, shared_text = _text_of(full.content), _text_of(shared.content)
    instruction = "Police information: not to be shared with the family or beyond social care and the police"
    assert secret in full_text and instruction in full_text
    assert secret not in shared_text and instruction in shared_text
    assert "The full text is withheld from this copy" in shared_text
    assert "This copy: Copy with restricted information withheld." in shared_text
    with Session(bot.runtime.engine) as session:
        channel = session.get_one(Meeting, meeting.id).channel_id
    to_channel = {u.filename for u in bot.local_slack.uploaded_files() if u.channel == channel}
    assert "SD-2026-0001-minutes-v1-withheld.docx" in to_channel
    assert "SD-2026-0001-minutes-v1.docx" not in to_channel
    opened = {
        c.args["users"]: c.response["channel"]["id"] for c in bot.local_slack.calls_to("conversations.open")
    }
    full_to = {
        u.channel for u in bot.local_slack.uploaded_files() if u.filename == "SD-2026-0001-minutes-v1.docx"
    }
    assert opened[POLICE_PPU] in full_to  # the police took part and are entitled
    assert opened.get(HEALTH) not in full_to  # health is not
    # a download is the copy the person's agency is entitled to
    assert "SD-2026-0001-minutes-v1-withheld.docx" in _minutes_reply(bot, HEALTH, meeting.reference)
    assert "SD-2026-0001-minutes-v1.docx (approved)" in _minutes_reply(bot, POLICE_PPU, meeting.reference)


def _own_update(bot, meeting, user_id: str, agency: str, text: str, restrictions: list[str]) -> None:
    """An agency's update whose only text of its own is `text`, under these restrictions."""
    view = open_update(bot, user_id, invitation_for(bot, meeting, agency).id)
    values = update_values(
        bot,
        involvement_current=StateValue.text(text),
        new_police_intelligence=StateValue.text(None),
        restrictions=StateValue.checkboxes(restrictions),
    )
    response = bot.slack.view_submission(user_id, view, values=values)
    assert json.loads(response.body or "{}").get("response_action") != "errors", response.body


def test_each_agency_receives_exactly_the_restricted_text_it_is_entitled_to(bot, tmp_path) -> None:
    """Health shares an update with those who took part; the police restrict theirs to social
    care and the police. Locate took part: its copy holds health's text and withholds the
    police's with the line saying so; the police get everything; the channel gets none. One
    copy per distinct set among the recipients, found by every route that hands one out."""
    meeting = convene(bot)
    shared_with_all = "Seen at the walk-in centre with an injury to the hand, health visitor told."
    police_only = "Phone seized from an adult linked to the Wellington Road county line."
    _own_update(bot, meeting, HEALTH, "health", shared_with_all, ["not_outside_meeting"])
    _own_update(bot, meeting, POLICE_PPU, "police-ppu", police_only, ["police_intelligence"])
    _own_update(bot, meeting, LOCATE, "locate", "Weekly sessions with the youth worker.", [])
    bot.clock.set(AFTER_THE_MEETING)
    _record(bot, meeting)
    draft = next(d for d in _documents(bot) if d.kind == "minutes")
    bot.slack.block_actions(CHAIR, [{"action_id": "minutes_approve", "value": str(draft.id)}])
    settle(bot)
    approved = [d for d in _documents(bot) if d.state == "approved" and d.kind.startswith("minutes")]
    by_kind = {d.kind: d for d in approved}
    partial = [d for d in approved if d.kind.startswith("minutes_shared_")]
    # full, the channel's, and one for {health's text}: locate and health share that set
    assert len(approved) == 3 and len(partial) == 1, sorted(by_kind)
    full, shared, part = by_kind["minutes"], by_kind["minutes_shared"], partial[0]
    texts = {d.kind: " ".join(_text_of(d.content).split()) for d in approved}
    withheld_line = "The full text is withheld from this copy under its handling instruction."
    assert shared_with_all in texts["minutes"] and police_only in texts["minutes"]
    assert shared_with_all not in texts["minutes_shared"] and police_only not in texts["minutes_shared"]
    assert shared_with_all in texts[part.kind] and police_only not in texts[part.kind]
    assert texts[part.kind].count(withheld_line) == 1  # the police's text, with the line saying so
    assert "This copy: Copy with some restricted information withheld." in texts[part.kind]
    assert part.sha256 == hashlib.sha256(part.content).hexdigest() and part.version == full.version
    # and as a reader sees it: the partial copy through LibreOffice to PDF, read back
    from tests.test_documents import _convert_all, _office

    office = _office()
    assert office is not None, "LibreOffice is needed to read the copy back"
    read = " ".join(" ".join(_convert_all(office, {"part": part.content}, tmp_path)["part"]).split())
    assert shared_with_all in read and police_only not in read and withheld_line in read
    # circulation: the channel gets the shared copy only; locate its own copy privately
    with Session(bot.runtime.engine) as session:
        channel = session.get_one(Meeting, meeting.id).channel_id
    uploads = bot.local_slack.uploaded_files()
    assert {u.filename for u in uploads if u.channel == channel} & {full.filename, part.filename} == set()
    assert shared.filename in {u.filename for u in uploads if u.channel == channel}
    opened = {
        c.args["users"]: c.response["channel"]["id"] for c in bot.local_slack.calls_to("conversations.open")
    }
    received = {
        who: {u.filename for u in uploads if u.channel == opened.get(who)} for who in (LOCATE, POLICE_PPU)
    }
    assert part.filename in received[LOCATE] and full.filename not in received[LOCATE]
    assert full.filename in received[POLICE_PPU]
    # a download gives each person the copy for their set
    assert part.filename in _minutes_reply(bot, LOCATE, meeting.reference)
    assert part.filename in _minutes_reply(bot, HEALTH, meeting.reference)
    assert f"{full.filename} (approved)" in _minutes_reply(bot, POLICE_PPU, meeting.reference)
    # retention erases every copy with the case, the partial one too
    from bot.cases.models import Case
    from bot.retention.jobs import run_retention

    with Session(bot.runtime.engine) as session:
        case = session.exec(select(Case)).one()
        case.closed_at = datetime(2027, 1, 4, 12, 0, tzinfo=UTC)
        session.add(case)
        session.commit()
    bot.clock.set(datetime(2052, 1, 10, 12, 0, tzinfo=UTC))
    run_retention(bot.runtime, dry_run=False)
    settle(bot)
    assert _documents(bot) == []
