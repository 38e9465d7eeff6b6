"""Protecting the records: the audit trail's export and verification, logs free of case
content, and hostile payloads that must never cause a 5xx, a partial row or a leak."""

from __future__ import annotations

import csv
import io
import json
import os
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import text
from sqlmodel import Session, func, select

from bot.audit.models import AuditEntry
from bot.audit.service import Actor, record, verify_chain
from bot.convening.models import Invitation, Meeting
from bot.database import session_scope
from bot.minutes.models import Document
from bot.panel.models import AgendaItem, PanelCase, Referral
from bot_offline.driver import SAMPLE_CHILD_NAME

ROOT = Path(__file__).resolve().parent.parent


def _cli(*args: str, database_url: str) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SLACK_")}
    env["DATABASE_URL"] = database_url
    return subprocess.run(
        [sys.executable, "-m", "bot", *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
    )


def test_audit_verify_and_export_from_the_command_line(engine, database_url) -> None:
    base = datetime(2026, 11, 10, 10, 0, tzinfo=UTC)
    with session_scope(engine) as session:
        for day, case in enumerate(["CS-1111111", "CS-2222222", "CS-1111111"]):
            record(
                session,
                at=base + timedelta(days=day),
                actor=Actor("U1", "T1"),
                act="discussion.viewed",
                record_type="meeting",
                record_id=f"SD-2026-000{day}",
                case_reference=case,
            )
    assert _cli("audit", "verify", database_url=database_url).returncode == 0
    result = _cli(
        "audit",
        "export",
        "--case",
        "cs-1111111",
        "--from",
        "2026-11-10",
        "--to",
        "2026-11-11",
        database_url=database_url,
    )
    assert result.returncode == 0, result.stderr
    rows = list(csv.reader(io.StringIO(result.stdout)))
    assert rows[0][:3] == ["sequence", "at", "team_id"]
    assert [r[7] for r in rows[1:]] == ["SD-2026-0000"]
    with engine.begin() as connection:
        connection.execute(text("UPDATE auditentry SET actor_slack_id = 'U2' WHERE sequence = 2"))
    broken = _cli("audit", "verify", database_url=database_url)
    assert broken.returncode == 1
    assert "entry 2 was changed after it was written" in broken.stdout


# The logs of a whole demo (run with --verbose) are checked for the child's details by the
# demo's own test, on its second run (tests/test_process.py): one run of the demo less.


def test_json_log_lines_carry_the_message_and_the_error_type() -> None:
    import logging

    from bot.logging_setup import JsonFormatter

    try:
        raise ValueError("boom")
    except ValueError:
        record_ = logging.LogRecord(
            "bot", logging.ERROR, __file__, 1, "error %s in %s", ("ABC123", "block_actions"), sys.exc_info()
        )
    line = json.loads(JsonFormatter().format(record_))
    assert line["message"] == "error ABC123 in block_actions" and line["error_type"] == "ValueError"


ACTION_IDS = [
    "invitation_attending",
    "invitation_written_update",
    "invitation_delegate",
    "invitation_decline",
    "agency_update_open",
    "agency_update_save_draft",
    "agency_updates_read",
    "agency_updates_page",
    "open_reschedule",
    "open_cancel",
    "open_section_47",
    "minutes_approve",
    "minutes_regenerate",
    "action_done",
    "action_extension",
    "action_snooze",
    "action_reassign",
    "extension_accept",
    "extension_refuse",
    "home_download",
    "home_filter_state",
    "panel_referral_accept",
    "panel_referral_decline",
    "panel_record_item_1",
    "panel_record_sitting",
    "panel_draft_minutes",
    "agency_update_open_1",
]
CALLBACKS = [
    "strategy_new",
    "invitation_delegate",
    "invitation_decline",
    "discussion_reschedule",
    "discussion_cancel",
    "discussion_section_47",
    "agency_update",
    "strategy_record",
    "action_add",
    "action_done",
    "action_extension",
    "action_reassign",
    "panel_refer",
    "panel_decline",
    "panel_item",
    "panel_sitting",
]
hostile_text = st.one_of(
    st.text(max_size=50),
    st.just("{{ 7*7 }}"),
    st.just("<!channel> <@U0CSC001>"),
    st.text(alphabet="🚨𝕏\u202e\x00\n", max_size=20),
    st.just("x" * 5000),
)
values = st.one_of(
    st.none(), st.integers(), hostile_text, st.lists(st.integers(), max_size=3), st.just("1"), st.just("1:1")
)
# people outside the discussion: an early-help worker, the auditor, unknown and forged ids
users = st.sampled_from(["U0EHP001", "U0BSC003", "U0NOBODY", "W0FORGED", ""])


@settings(
    max_examples=80,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    kind=st.sampled_from(["action", "view", "command"]),
    command=st.sampled_from(["/strategy", "/panel"]),
    action_id=st.sampled_from(ACTION_IDS),
    callback=st.sampled_from(CALLBACKS),
    value=values,
    user=users,
    metadata=st.one_of(
        st.just("{}"),
        st.just("not json"),
        st.just('{"meeting_id": 1}'),
        st.just('{"invitation_id": "x"}'),
        st.just('{"item_id": 1}'),
        st.just('{"referral_id": 1}'),
        hostile_text,
    ),
    command_text=hostile_text,
    state=st.dictionaries(
        st.text(max_size=20),
        st.dictionaries(
            st.just("value"),
            st.fixed_dictionaries(
                {
                    "type": st.sampled_from(["plain_text_input", "static_select", "datepicker"]),
                    "value": values,
                }
            ),
        ),
        max_size=4,
    ),
)
def test_hostile_payloads_never_cause_a_5xx_a_partial_row_or_a_leak(
    fuzz_bot, kind, command, action_id, callback, value, user, metadata, command_text, state
) -> None:
    bot, _ = fuzz_bot
    before = _snapshot(bot)
    if kind == "action":
        response = bot.slack.block_actions(
            user or "U0EHP001",
            [
                {
                    "action_id": action_id,
                    "value": value if isinstance(value, str) else json.dumps(value),
                    "selected_option": {"value": str(value)},
                }
            ],
        )
    elif kind == "view":
        view = {
            "id": "VFUZZ",
            "callback_id": callback,
            "private_metadata": metadata if isinstance(metadata, str) else "",
            "type": "modal",
            "blocks": [],
        }
        response = bot.slack.view_submission(user or "U0EHP001", view, values=state)
    else:
        response = bot.slack.command(command, command_text[:3000], user_id=user or "U0EHP001")
    assert response.status < 500, response.body
    bot.wait_idle()
    after = _snapshot(bot)
    # nobody outside the discussion changed it, and the record still holds together
    assert after["meetings"] == before["meetings"] and after["invitations"] == before["invitations"]
    assert after["panel"] == before["panel"]
    with Session(bot.runtime.engine) as session:
        assert verify_chain(session) == []
    names = (SAMPLE_CHILD_NAME, "Fuzz Test-Child", "Fuzz Other-Child")  # the panel's children too
    leaked = [c for c in bot.local_slack.calls if any(name in json.dumps(c.args) for name in names)]
    assert leaked == []


def _snapshot(bot) -> dict:
    with Session(bot.runtime.engine) as session:
        meetings = [(m.id, m.state, m.scheduled_start, m.chair_id) for m in session.exec(select(Meeting))]
        invitations = [(i.id, i.state, i.delegate_id) for i in session.exec(select(Invitation))]
        entries = int(session.exec(select(func.count()).select_from(AuditEntry)).one())
        panel = (
            [(r.id, r.state) for r in session.exec(select(Referral).order_by(Referral.id))],
            [(c.id, c.state, c.risk_level) for c in session.exec(select(PanelCase))],
            [(i.id, i.recorded_at) for i in session.exec(select(AgendaItem))],
            int(session.exec(select(func.count()).select_from(Document)).one()),
        )
    return {"meetings": meetings, "invitations": invitations, "entries": entries, "panel": panel}
