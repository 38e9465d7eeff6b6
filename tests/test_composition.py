"""One composition root: every entry point builds its runtime in one place, so a process
that only sweeps delivers whole messages. The decisive test runs `python -m bot sweep` as a
real process against the local Slack through a strategy discussion and a whole panel cycle
(sittings, referrals, the agenda and its Word document, pre-panel updates, the minutes and
their approval), while the app that took the requests delivers nothing itself."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

from sqlmodel import Session, select

from bot.clock import SettableClock
from bot.composition import build_runtime
from bot.delivery.models import OutboxMessage, OutboxState
from bot.minutes.models import Document
from bot.settings import load_settings
from bot_offline import panel
from bot_offline.driver import BOT_TOKEN, OfflineBot, open_strategy_form, strategy_form_values
from bot_offline.local_slack import LocalSlack

ROOT = Path(__file__).resolve().parent.parent
SOCIAL_WORKER = "U0CSC001"
POLICE_PPU = "U0PPU001"


def test_every_entry_points_runtime_can_deliver_every_capabilitys_messages(tmp_path) -> None:
    settings = load_settings(
        slack_bot_token="xoxb-x",
        slack_api_url="http://127.0.0.1:9/api/",
        database_url=f"sqlite:///{tmp_path / 'bot.sqlite3'}",
    )
    runtime = build_runtime(settings)
    # the pseudo-methods the capabilities enqueue, and what renders their messages
    assert {"files.upload_v2", "document.upload", "email.send"} <= set(runtime.courier.senders)
    assert {"invitation_message", "status_post", "discussion_channel", "document_to_channel"} <= (
        set(runtime.courier.preparers) | set(runtime.courier.hooks)
    )
    runtime.engine.dispose()


def _sweep(bot: OfflineBot, local: LocalSlack, database_url: str, at: datetime) -> str:
    """`python -m bot sweep --now AT` as its own process, sharing the database and Slack."""
    bot.wait_idle()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "LOG_"))}
    env.update(
        SLACK_BOT_TOKEN=BOT_TOKEN,
        SLACK_API_URL=local.api_url,
        DATABASE_URL=database_url,
        DOCUMENTS_DIR=str(bot.work_dir / "documents"),
    )
    result = subprocess.run(
        [sys.executable, "-m", "bot", "sweep", "--now", at.isoformat()],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert result.returncode == 0, result.stdout + result.stderr[-3000:]
    return result.stdout


def _opened(bot: OfflineBot, before: int) -> dict:
    return panel.opened_view(bot, before)


def test_sweep_as_a_process_delivers_a_discussion_and_a_whole_panel_cycle(database_url, tmp_path) -> None:
    clock = SettableClock(datetime(2026, 11, 10, 10, 0, tzinfo=UTC))
    with (
        LocalSlack(bot_token=BOT_TOKEN) as local,
        OfflineBot(
            database_url=database_url,
            clock=clock,
            work_dir=tmp_path,
            local_slack=local,
            delivery_interval_seconds=None,  # this app delivers nothing: the sweeps do
        ) as bot,
    ):
        # a strategy discussion, convened through Slack; the sweep process delivers it
        view = open_strategy_form(bot, SOCIAL_WORKER, "CS-1234567")
        assert bot.slack.view_submission(SOCIAL_WORKER, view, values=strategy_form_values()).status == 200
        out = _sweep(bot, local, database_url, clock.now())
        assert "message(s) delivered" in out
        assert local.channel_id_by_name("sd-2026-0001") is not None
        # the panel: sittings open, a child is referred and accepted
        _sweep(bot, local, database_url, clock.now())
        panel.refer(bot, SOCIAL_WORKER, case_reference="CS-3000001", child_name="Sweep Test-Child")
        panel.decide(bot, 1, accept=True)
        _sweep(bot, local, database_url, clock.now())
        # the referral cut-off: the agenda, its Word document, the requests for updates
        clock.set(datetime(2026, 11, 18, 9, 0, tzinfo=UTC))
        _sweep(bot, local, database_url, clock.now())
        meeting, sitting = _sitting(bot)
        assert any(
            u.filename.endswith(".docx") and u.channel == meeting.channel_id for u in local.uploaded_files()
        ), "the agenda document reached the panel's channel"
        # the panel sits: the chair records the item and the sitting, drafts and approves
        clock.set(datetime(2026, 11, 24, 12, 45, tzinfo=UTC))
        items = panel_items(bot, sitting)
        for item in items:
            panel.record_item(bot, panel.CHAIR, item, panel.outcome_values("continue"))
        panel.record_attendance(bot, panel.CHAIR, meeting, ["csc", "police-ppu"], "Themes of the sitting.")
        bot.wait_idle()
        bot.slack.block_actions(panel.CHAIR, [{"action_id": "panel_draft_minutes", "value": str(meeting.id)}])
        _sweep(bot, local, database_url, clock.now())
        with Session(bot.runtime.engine) as session:
            draft = session.exec(select(Document).where(Document.kind == "panel_minutes")).one()
        bot.slack.block_actions(panel.CHAIR, [{"action_id": "minutes_approve", "value": str(draft.id)}])
        _sweep(bot, local, database_url, clock.now())
        refused = [(c.method, c.status, c.response.get("error")) for c in local.calls if not c.ok]
        methods = {c.method for c in local.calls}
        with Session(bot.runtime.engine) as session:
            entries = session.exec(select(OutboxMessage)).all()
    assert refused == []
    assert {"conversations.create", "conversations.invite", "chat.postMessage"} <= methods
    assert {"files.getUploadURLExternal", "files.completeUploadExternal"} <= methods
    assert not {"files.upload_v2", "document.upload", "email.send"} & methods
    states = {e.state for e in entries}
    assert states == {OutboxState.SENT} or states == {OutboxState.SENT, OutboxState.SKIPPED}, [
        (e.id, e.method, e.state, e.last_error) for e in entries if e.state != OutboxState.SENT
    ]
    minutes = [u for u in local.uploaded_files() if "panel-minutes" in u.filename]
    assert {u.filename.endswith("-v1.docx") for u in minutes} == {True} and len(
        minutes
    ) >= 2  # draft, approved
    assert json.dumps([c.args for c in local.calls if c.method != "upload"]).count("Sweep Test-Child") == 0


def _sitting(bot: OfflineBot):
    from bot.convening.models import Meeting
    from bot.panel.models import PanelSitting

    with Session(bot.runtime.engine) as session:
        sitting, meeting = session.exec(
            select(PanelSitting, Meeting)
            .join(Meeting, Meeting.id == PanelSitting.meeting_id)
            .where(PanelSitting.panel_code == panel.PANEL)
            .order_by(Meeting.scheduled_start)
        ).first()
    return meeting, sitting


def panel_items(bot: OfflineBot, sitting) -> list[int]:
    from bot.panel.models import AgendaItem

    with Session(bot.runtime.engine) as session:
        return [
            i.id or 0 for i in session.exec(select(AgendaItem).where(AgendaItem.sitting_id == sitting.id))
        ]
