"""The guard: every command, button, form and event passes one check before any listener,
through signed requests on both databases. A rule for every listener; nothing without one;
no form opened for someone who could not submit it; the same refusal, after the same
look-ups, whether or not the record exists; every refusal audited."""

from __future__ import annotations

import json
import re
import threading
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import event
from sqlmodel import Session, select

from bot.access import Kind, Rules, button, command, form
from bot.access.requests import read_request
from bot.actions.models import Action
from bot.audit.models import AuditEntry
from bot.composition import build_runtime
from bot.convening.models import Invitation, Meeting
from bot.panel.models import AgendaItem, Referral
from bot.settings import load_settings
from bot.slack.app import build_app, capabilities
from tests.convening_support import CHAIR, POLICE_PPU, convene, settle
from tests.minutes_support import action_values

OUTSIDER = "U0EHP001"  # early help: in the schedules, in none of these discussions
AUDITOR = "U0BSC003"  # in the schedules, not on the panel nor in any discussion
STRANGER = "U0NOBODY"  # not in the schedules at all
MISSING = "987654"


def _rules() -> Rules:
    return Rules.of(*capabilities())


# -------------------------------------------------------------- a rule for every listener


def _constraints(app) -> list[tuple[str, object]]:
    """What each of Bolt's registered listeners answers: (kind, name or pattern), read from
    its built-in matchers (each closes over the command, action id, callback id or event)."""
    found: list[tuple[str, object]] = []
    for listener in app._listeners:
        for matcher in listener.matchers:
            function = getattr(matcher, "func", None)
            if function is None or function.__closure__ is None:
                continue
            kind = function.__qualname__.split(".")[0]
            for cell in function.__closure__:
                value = cell.cell_contents
                if isinstance(value, dict):
                    value = value.get("action_id") or value.get("callback_id") or value.get("type")
                if isinstance(value, str | re.Pattern):
                    found.append((kind, value))
    return found


NUMBERED_SAMPLES = ("agency_update_open", "agency_update_open_17", "panel_record_item_3")
SUBCOMMAND_TEXTS = [
    "",
    "help",
    "new CS-1234567",
    "list",
    "SD-2026-0001",
    "SD-2026-0001 updates",
    "record SD-2026-0001",
    "minutes SD-2026-0001",
    "overdue",
    "add SD-2026-0001",
    "refer",
    "referrals",
    "next",
    "record CEP-2026-0001",
    "minutes CEP-2026-0001",
    "what is this",
]


def test_every_listener_bolt_has_registered_has_a_rule(tmp_path: Path) -> None:
    settings = load_settings(
        slack_bot_token="xoxb-x",
        slack_signing_secret="s",
        slack_app_token="",
        slack_api_url="http://127.0.0.1:9/api/",
        database_url=f"sqlite:///{tmp_path / 'bot.sqlite3'}",
    )
    runtime = build_runtime(settings)
    app = build_app(runtime)
    rules = _rules()
    constraints = _constraints(app)
    kinds = {kind for kind, _ in constraints}
    assert {"command", "action", "view_submission", "event"} <= kinds, kinds
    missing = []
    for kind, constraint in constraints:
        if kind == "command":
            assert constraint in rules.grammars, f"{constraint} has no grammar"
            for text in SUBCOMMAND_TEXTS:
                body = {"command": constraint, "text": text, "user_id": "U1"}
                requested = read_request(body, rules.grammars, runtime.partnership)
                if rules.find(requested.key) is None:
                    missing.append(requested.key)
            continue
        if isinstance(constraint, re.Pattern):
            names = [name for name in NUMBERED_SAMPLES if constraint.fullmatch(name)]
            assert names, constraint.pattern
        else:
            names = [constraint]
        key_kind = {"action": Kind.BUTTON, "view_submission": Kind.FORM, "event": Kind.EVENT}.get(kind)
        assert key_kind is not None, f"a listener of a kind the guard has no rules for: {kind}"
        missing.extend((key_kind, name) for name in names if rules.find((key_kind, name)) is None)
    assert missing == []
    runtime.engine.dispose()


def test_forms_and_the_buttons_that_open_them_refuse_in_the_same_words() -> None:
    rules = _rules()
    pairs = {
        "action_done": "action_done",
        "action_extension": "action_extension",
        "action_reassign": "action_reassign",
        "invitation_delegate": "invitation_delegate",
        "invitation_decline": "invitation_decline",
        "open_reschedule": "discussion_reschedule",
        "open_cancel": "discussion_cancel",
        "open_section_47": "discussion_section_47",
        "agency_update_open": "agency_update",
        "panel_referral_decline": "panel_decline",
        "panel_record_item_4": "panel_item",
        "panel_record_sitting": "panel_sitting",
    }
    for action_id, callback_id in pairs.items():
        opens, submits = rules.find(button(action_id)), rules.find(form(callback_id))
        assert opens is not None and submits is not None, action_id
        assert opens.refusal == submits.refusal, action_id
        assert opens.allow.says == submits.allow.says, action_id


def test_the_forms_mark_done_opens_are_decided_as_mark_done_is() -> None:
    """A conference's date and a disruption's outcome are Mark done's own form for those
    actions: the same people (one policy, not a copy) and the same audited refusal."""
    rules = _rules()
    plain = rules.find(form("action_done"))
    assert plain is not None and plain.record is not None
    for callback_id in ("panel_conference_booked", "disruption_outcome"):
        rule = rules.find(form(callback_id))
        assert rule is not None and rule.record is not None, callback_id
        assert rule.allow is plain.allow, callback_id
        assert (rule.act, rule.record.kind) == (plain.act, plain.record.kind), callback_id


# -------------------------------------------------------------- through signed requests


def _panel(bot) -> tuple[Meeting, AgendaItem, Referral]:
    """A panel sitting with an agenda item and a referral waiting for a decision."""
    from bot.panel.jobs import sweep_panels
    from bot_offline.panel import decide, refer

    start = bot.clock.now()
    sweep_panels(bot.runtime)
    refer(bot, "U0CSC001", case_reference="CS-3000001", child_name="Guard Test-Child")
    decide(bot, 1, accept=True)
    refer(bot, "U0CSC001", case_reference="CS-3000002", child_name="Guard Other-Child")
    bot.clock.set(datetime(2026, 11, 18, 9, 0, tzinfo=UTC))
    sweep_panels(bot.runtime)
    bot.settle()
    bot.clock.set(start)
    with Session(bot.runtime.engine) as session:
        item = session.exec(select(AgendaItem)).first()
        referral = session.exec(select(Referral).where(Referral.state == "pending")).first()
        sitting = session.exec(select(Meeting).where(Meeting.reference.startswith("CEP"))).first()  # type: ignore[union-attr]
    assert item is not None and referral is not None and sitting is not None
    return sitting, item, referral


def _action(bot, meeting: Meeting) -> Action:
    bot.slack.command("/actions", f"add {meeting.reference}", user_id=CHAIR)
    calls = bot.local_slack.wait_for(
        lambda calls: any(c.method == "views.open" and "Add an action" in json.dumps(c.args) for c in calls)
    )
    view = [c for c in calls if c.method == "views.open" and "Add an action" in json.dumps(c.args)][-1]
    bot.slack.view_submission(CHAIR, view.response["view"], values=action_values(POLICE_PPU))
    with Session(bot.runtime.engine) as session:
        found = session.exec(select(Action)).first()
    assert found is not None
    return found


def _acts(bot) -> list[str]:
    with Session(bot.runtime.engine) as session:
        return [entry.act for entry in session.exec(select(AuditEntry).order_by(AuditEntry.sequence))]


def _told(bot, user_id: str) -> list[str]:
    return [
        c.args.get("text", "")
        for c in bot.local_slack.calls
        if (c.method == "chat.postMessage" and c.args.get("channel") == user_id)
        or (c.method == "response_url" and c.args.get("response_type") == "ephemeral")
    ]


def test_no_form_opens_for_someone_who_may_not_submit_it_whether_or_not_the_record_exists(bot) -> None:
    meeting = convene(bot)
    action = _action(bot, meeting)
    sitting, item, referral = _panel(bot)
    settle(bot)
    with Session(bot.runtime.engine) as session:
        invitation = session.exec(select(Invitation).where(Invitation.meeting_id == meeting.id)).first()
    assert invitation is not None
    rules = _rules()
    buttons = {
        "action_done": str(action.id),
        "action_extension": str(action.id),
        "action_reassign": str(action.id),
        "invitation_delegate": str(invitation.id),
        "invitation_decline": str(invitation.id),
        "open_reschedule": str(meeting.id),
        "open_cancel": str(meeting.id),
        "open_section_47": str(meeting.id),
        "agency_update_open": f"{invitation.id}:0",
        "agency_updates_read": f"{meeting.id}:0",
        "panel_referral_decline": str(referral.id),
        f"panel_record_item_{item.id}": str(item.id),
        "panel_record_sitting": str(sitting.id),
    }
    for user in (OUTSIDER, STRANGER):
        bot.local_slack.add_user(user, user)
        for action_id, existing in buttons.items():
            rule = rules.find(button(action_id))
            assert rule is not None
            bot.local_slack.reset_calls()
            before = _acts(bot)
            told = []
            for value in (existing, MISSING + existing[len(existing.split(":")[0]) :]):
                bot.slack.block_actions(user, [{"action_id": action_id, "value": value}])
                bot.wait_idle()
                told.append(_told(bot, user))
            assert bot.local_slack.calls_to("views.open") == [], action_id
            # the same words either way, and nothing of the record in them
            assert told[0] == [rule.refusal], (action_id, told)
            assert told[1] == [rule.refusal, rule.refusal], (action_id, told)
            assert _acts(bot)[len(before) :] == [rule.act, rule.act], action_id
    # and the people the rules name still get their forms
    bot.local_slack.reset_calls()
    bot.slack.block_actions(POLICE_PPU, [{"action_id": "action_done", "value": str(action.id)}])
    bot.local_slack.wait_for(lambda calls: any(c.method == "views.open" and c.ok for c in calls))


def test_an_outsiders_submission_is_refused_beside_the_field_and_audited(bot) -> None:
    meeting = convene(bot)
    action = _action(bot, meeting)
    view = {"callback_id": "action_done", "private_metadata": json.dumps({"action_id": action.id})}
    values = {"note": {"value": {"type": "plain_text_input", "value": "done"}}}
    for metadata in (json.dumps({"action_id": action.id}), json.dumps({"action_id": int(MISSING)})):
        response = bot.slack.view_submission(OUTSIDER, {**view, "private_metadata": metadata}, values=values)
        assert response.json() == {
            "response_action": "errors",
            "errors": {"note": "Only the owner of the action or their agency lead can mark it done."},
        }
    bot.wait_idle()
    assert _acts(bot).count("action.done_refused") == 2
    with Session(bot.runtime.engine) as session:
        assert session.get(Action, action.id).status == "open"


REFERENCE_COMMANDS = [
    ("/strategy", "{ref}"),
    ("/strategy", "{ref} updates"),
    ("/strategy", "record {ref}"),
    ("/strategy", "minutes {ref}"),
    ("/actions", "{ref}"),
    ("/actions", "add {ref}"),
    ("/panel", "record {sitting}"),
    ("/panel", "minutes {sitting}"),
]


def _statements_on_request_threads(bot):
    """SQL sent by the threads that answer HTTP requests (not listeners or follow-ups)."""
    seen: list[str] = []

    def before(conn, cursor, statement, parameters, context, executemany) -> None:
        if threading.current_thread().name.startswith("waitress"):
            seen.append(statement)

    event.listen(bot.runtime.engine, "before_cursor_execute", before)
    return seen, lambda: event.remove(bot.runtime.engine, "before_cursor_execute", before)


def test_a_reference_gets_the_same_refusal_after_the_same_look_ups_whether_or_not_it_exists(bot) -> None:
    meeting = convene(bot)
    sitting, _, _ = _panel(bot)
    missing = {"ref": "SD-2026-0999", "sitting": "CEP-2026-0999"}
    existing = {"ref": meeting.reference, "sitting": sitting.reference}
    seen, stop = _statements_on_request_threads(bot)
    try:
        for name, template in REFERENCE_COMMANDS:
            answers, statements = [], []
            for names in (existing, missing):
                seen.clear()
                response = bot.slack.command(name, template.format(**names), user_id=AUDITOR)
                assert response.status == 200 and response.body, (name, template, response.body)
                answers.append(
                    response.json()["text"].replace(names["ref"], "REF").replace(names["sitting"], "REF")
                )
                statements.append(list(seen))
            assert answers[0] == answers[1], (name, template, answers)
            assert "REF" in answers[0], answers[0]
            assert statements[0] == statements[1], (name, template)
            assert statements[0], "the guard looked nothing up"
    finally:
        stop()
    bot.wait_idle()
    assert _acts(bot).count("discussion.view_refused") == 4


def test_a_request_with_no_rule_is_refused_and_audited(bot) -> None:
    bot.local_slack.reset_calls()
    response = bot.slack.block_actions(
        "U0CSC001", [{"action_id": "a_button_nobody_gave_a_rule", "value": "1"}]
    )
    assert response.status == 200
    unknown = bot.slack.command("/frobnicate", "now", user_id="U0CSC001")
    assert unknown.json() == {"response_type": "ephemeral", "text": "That is not something I can do."}
    bot.wait_idle()
    assert _told(bot, "U0CSC001") == ["That is not something I can do."]
    assert _acts(bot) == ["request.refused", "request.refused"]
    with Session(bot.runtime.engine) as session:
        entries = session.exec(select(AuditEntry)).all()
    assert {e.details["request"] for e in entries} == {
        "button a_button_nobody_gave_a_rule",
        "command /frobnicate",
    }
    assert {e.details["reason"] for e in entries} == {"no rule"}


def test_requests_are_read_without_raising_whatever_the_body_holds() -> None:
    from bot.defaults import default_schedules_dir
    from bot.schedules import load_partnership

    partnership = load_partnership(default_schedules_dir())
    grammars = _rules().grammars
    for body in (
        {},
        {"type": "block_actions", "actions": "nope", "user": "U1"},
        {"type": "block_actions", "actions": [None], "user": {"id": 5}},
        {"type": "view_submission", "view": [], "user": {}},
        {"type": "event_callback", "event": "x"},
        {"command": 7, "text": None},
        {"command": "/strategy", "text": ["record"]},
    ):
        requested = read_request(body, grammars, partnership)
        assert _rules().find(requested.key) is None or requested.key == command("/strategy", "help")


@pytest.mark.parametrize("text", ["record sd-2026-0001", "RECORD SD-2026-0001 "])
def test_a_reference_is_read_whatever_its_case(text) -> None:
    from bot.defaults import default_schedules_dir
    from bot.schedules import load_partnership

    partnership = load_partnership(default_schedules_dir())
    requested = read_request({"command": "/strategy", "text": text}, _rules().grammars, partnership)
    assert requested.key == command("/strategy", "record") and requested.argument == "SD-2026-0001"


def test_the_guard_needs_no_more_look_ups_for_a_later_year(bot) -> None:
    """What the guard reads before the acknowledgement does not grow with the records: the
    same statements for the first discussion and for one among many."""
    meeting = convene(bot)
    seen, stop = _statements_on_request_threads(bot)
    try:
        bot.slack.command("/strategy", meeting.reference, user_id=AUDITOR)
        first = list(seen)
        for _ in range(3):
            convene(bot)
        seen.clear()
        bot.slack.command("/strategy", meeting.reference, user_id=AUDITOR)
    finally:
        stop()
    assert seen == first and len(first) <= 6
