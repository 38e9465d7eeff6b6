"""Retention and erasure: drafts after approval, closed cases after the policy's years, the
audit trail pruned with an attested anchor; Slack's copies go too; every removal audited."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlmodel import Session, func, select

from bot.audit.models import AuditEntry
from bot.audit.service import verify_chain
from bot.cases.models import Case, CaseEpisode, Section47Enquiry
from bot.convening.models import Meeting
from bot.minutes.models import Document
from bot.retention.jobs import run_retention
from tests.convening_support import CHAIR, convene, settle
from tests.minutes_support import record_steps
from tests.test_minutes import AFTER_THE_MEETING, AGENCIES, _documents, _open


def _approve_latest(bot) -> None:
    draft = [d for d in _documents(bot) if d.kind == "minutes"][-1]
    bot.slack.block_actions(CHAIR, [{"action_id": "minutes_approve", "value": str(draft.id)}])
    settle(bot)


def _record(bot, meeting, **overrides) -> None:
    view = _open(bot, CHAIR, "/strategy", f"record {meeting.reference}", "Record discussion")
    view = {**view, "id": f"{view['id']}-{len(_documents(bot))}"}
    record_steps(bot, CHAIR, view, AGENCIES, what=overrides)
    settle(bot)


def test_superseded_drafts_go_after_the_policys_days_with_their_slack_files(bot) -> None:
    meeting = convene(bot)
    bot.clock.set(AFTER_THE_MEETING)
    _record(bot, meeting)
    _approve_latest(bot)
    _record(bot, meeting)
    _approve_latest(bot)
    assert [(d.version, d.state) for d in _documents(bot) if d.kind == "minutes"] == [
        (1, "superseded"),
        (2, "approved"),
    ]
    bot.clock.advance(timedelta(days=29))
    assert run_retention(bot.runtime, dry_run=True) == []
    bot.clock.advance(timedelta(days=2))
    assert run_retention(bot.runtime, dry_run=True) == [
        "draft minutes SD-2026-0001-minutes-v1.docx (version 1)"
    ]
    assert [d.version for d in _documents(bot) if d.kind == "minutes"] == [1, 2]  # a dry run removes nothing
    run_retention(bot.runtime, dry_run=False)
    settle(bot)
    assert [d.version for d in _documents(bot) if d.kind == "minutes"] == [2]
    deleted = {c.args["file"] for c in bot.local_slack.calls_to("files.delete") if c.ok}
    assert len(deleted) == 2  # the chair's copy of the draft and the channel's copy of v1
    with Session(bot.runtime.engine) as session:
        assert session.exec(select(AuditEntry).where(AuditEntry.act == "retention.draft_deleted")).first()
        assert verify_chain(session) == []


def test_a_closed_case_is_erased_after_the_policys_years_here_and_in_slack(bot) -> None:
    meeting = convene(bot)
    bot.clock.set(AFTER_THE_MEETING)
    _record(bot, meeting)
    _approve_latest(bot)
    with Session(bot.runtime.engine) as session:
        case = session.exec(select(Case)).one()
        case.closed_at = datetime(2027, 1, 4, 12, 0, tzinfo=UTC)
        session.add(case)
        session.commit()
    bot.clock.set(datetime(2051, 1, 1, 12, 0, tzinfo=UTC))  # 24 years after closure: kept
    assert not any(line.startswith("case ") for line in run_retention(bot.runtime, dry_run=True))
    bot.clock.set(datetime(2052, 1, 10, 12, 0, tzinfo=UTC))
    plan = run_retention(bot.runtime, dry_run=True)
    assert "case CS-1234567 (closed 04 Jan 2027) and all its records" in plan
    run_retention(bot.runtime, dry_run=False)
    settle(bot)
    with Session(bot.runtime.engine) as session:
        assert session.exec(select(func.count()).select_from(Case)).one() == 0
        assert session.exec(select(func.count()).select_from(Meeting)).one() == 0
        assert session.exec(select(func.count()).select_from(Document)).one() == 0
        assert session.exec(select(func.count()).select_from(CaseEpisode)).one() == 0
        assert session.exec(select(func.count()).select_from(Section47Enquiry)).one() == 0
        acts = [e.act for e in session.exec(select(AuditEntry))]
        assert "retention.case_erased" in acts and "audit.pruned" in acts
        assert verify_chain(session) == []  # the pruned trail still verifies from its anchor
        assert session.exec(select(AuditEntry).where(AuditEntry.act == "discussion.convened")).first() is None
    assert bot.local_slack.calls_to("conversations.archive")
    assert len([c for c in bot.local_slack.calls_to("chat.delete") if c.ok]) >= 2
    assert bot.local_slack.calls_to("files.delete")


def test_tampering_is_still_found_after_pruning(bot) -> None:
    from sqlalchemy import text

    convene(bot)
    bot.clock.set(datetime(2034, 1, 10, 12, 0, tzinfo=UTC))
    run_retention(bot.runtime, dry_run=False)
    bot.slack.command("/strategy", "SD-2026-0001", user_id=CHAIR)
    settle(bot)
    with Session(bot.runtime.engine) as session:
        assert verify_chain(session) == []
        pruned = session.exec(select(AuditEntry).where(AuditEntry.act == "audit.pruned")).one()
    with bot.runtime.engine.begin() as connection:
        connection.execute(text(f"UPDATE auditentry SET details = '{{}}' WHERE sequence = {pruned.sequence}"))
    with Session(bot.runtime.engine) as session:
        assert verify_chain(session) != []
