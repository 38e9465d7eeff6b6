"""Retention resumes after a kill (issue 14): `python -m bot retention --apply` removes drafts
in batches that commit as they go, so a process killed mid-run keeps the batches it
committed, whole, and the next run carries on from there.

A backlog of several batches of superseded drafts is generated; retention runs in a process
of its own and is killed with SIGKILL once the database shows a batch committed (its audit
entry), not after a guessed sleep. On PostgreSQL the drafts after the first batch are held
locked first, so the kill lands inside the second batch's transaction, deterministically;
on SQLite it lands wherever the run is. What was committed must be consistent: every draft
gone is named in exactly one committed audit entry and has its Slack files' deletions
queued, every draft still there has none, the audit chain verifies. A second run must then
remove the rest, each draft audited exactly once and no file deleted in Slack twice.

Nothing here can hang: every wait has a deadline, the child's output goes to files (a full
pipe cannot block it), the child is killed in a `finally`, and the test's own connections
are short (a read per poll) or released before the second run starts.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, func, select

from bot.audit.models import AuditEntry
from bot.audit.service import verify_chain
from bot.clock import SettableClock
from bot.composition import build_runtime
from bot.database import make_engine
from bot.delivery.models import OutboxMessage
from bot.minutes.models import Document
from bot.retention.service import DRAFTS_PER_BATCH, plan, uploaded_files
from bot.settings import load_settings
from bot_offline.driver import BOT_TOKEN
from bot_offline.local_slack import LocalSlack
from tests.benchmarks.generate import generate

ROOT = Path(__file__).resolve().parent.parent
NOW = datetime(2026, 11, 10, 10, 0, tzinfo=UTC)
DISCUSSIONS = 3_300  # about 3,100 superseded drafts due: seven batches
APP_NAME = "retention-kill-test"  # the child's PostgreSQL connections, to find its backend
FIRST_BATCH_S, KILLED_S, ORPHAN_S, RESUME_S = 120, 30, 60, 300


def _fill(database_url: str) -> tuple[list[int], dict[int, list[str]]]:
    """The backlog; returns the drafts due (in the order retention takes them) and the
    Slack files of each, as retention itself finds them."""
    settings = load_settings().model_copy(update={"database_url": database_url})
    runtime = build_runtime(settings, clock=SettableClock(NOW))
    try:
        generate(
            runtime.engine,
            runtime.partnership,
            now=NOW,
            calendar=runtime.calendar,
            discussions=DISCUSSIONS,
            audit_entries=50,
            actions_per_discussion=0,
        )
        with Session(runtime.engine) as session:
            due = [d.id for d in plan(session, runtime.partnership, NOW).drafts]
            files = uploaded_files(session)
    finally:
        runtime.engine.dispose()
    return due, {d: files.get(d, []) for d in due}


def _wait_for(
    what: str, condition: Callable[[], bool], timeout: float, child: subprocess.Popen | None
) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        if child is not None and child.poll() is not None:
            pytest.fail(f"retention exited ({child.returncode}) before {what}")
        time.sleep(0.005)
    pytest.fail(f"no {what} within {timeout} s")


def _batches_committed(engine: Engine) -> int:
    with engine.connect() as connection:
        return connection.execute(
            select(func.count())
            .select_from(AuditEntry)
            .where(col(AuditEntry.act) == "retention.draft_deleted")
        ).scalar_one()


def _child_backends(engine: Engine) -> list[tuple[int, str | None]]:
    with engine.connect() as connection:
        return [
            (pid, wait)
            for pid, wait in connection.execute(
                text("SELECT pid, wait_event_type FROM pg_stat_activity WHERE application_name = :name"),
                {"name": APP_NAME},
            )
        ]


@contextmanager
def _locked(engine: Engine, ids: list[int]) -> Iterator[Callable[[], None]]:
    """PostgreSQL: these drafts' rows locked (FOR UPDATE) until `release` is called or the
    block ends, so a retention batch that deletes them waits inside its transaction."""
    connection = engine.connect()
    transaction = connection.begin()
    connection.execute(select(Document.id).where(col(Document.id).in_(ids)).with_for_update())

    def release() -> None:
        if transaction.is_active:
            transaction.rollback()

    try:
        yield release
    finally:
        release()
        connection.close()


def _retention(database_url: str, slack: LocalSlack) -> tuple[list[str], dict[str, str]]:
    """`python -m bot retention --apply` at NOW, as its own process, to the local Slack."""
    command = [sys.executable, "-m", "bot", "retention", "--apply", "--now", NOW.isoformat()]
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("SLACK_")},
        "DATABASE_URL": database_url,
        "SLACK_BOT_TOKEN": BOT_TOKEN,
        "SLACK_API_URL": slack.api_url,
        "LOG_LEVEL": "WARNING",
        "PGAPPNAME": APP_NAME,
    }
    return command, env


def _state(engine: Engine, due: list[int]) -> tuple[set[int], list[int], set[str]]:
    """The due drafts still stored, the drafts named by committed audit entries (with
    repeats), and the Slack file deletions queued."""
    with Session(engine) as session:
        present = set(session.exec(select(Document.id).where(col(Document.id).in_(due))).all())
        audited = [
            document["id"]
            for details in session.exec(
                select(AuditEntry.details).where(AuditEntry.act == "retention.draft_deleted")
            ).all()
            for document in details["documents"]
        ]
        queued = set(
            session.exec(
                select(OutboxMessage.key).where(col(OutboxMessage.key).like("retention:file:%"))
            ).all()
        )
        assert verify_chain(session) == []
    return {i for i in present if i is not None}, audited, queued


def _consistent(engine: Engine, due: list[int], files: dict[int, list[str]]) -> set[int]:
    """What was committed holds together; returns the drafts removed."""
    present, audited, queued = _state(engine, due)
    removed = set(due) - present
    assert sorted(audited) == sorted(removed), "a removed draft not audited, or audited twice"
    assert queued == {f"retention:file:{f}" for d in removed for f in files[d]}, "files out of step"
    assert len(removed) % DRAFTS_PER_BATCH == 0, f"{len(removed)} removed: a batch half-written"
    return removed


def test_retention_killed_mid_run_keeps_whole_batches_and_resumes(database_url: str, tmp_path: Path) -> None:
    due, files = _fill(database_url)
    assert len(due) >= 5 * DRAFTS_PER_BATCH, f"only {len(due)} drafts due: too few batches to kill mid-run"
    postgresql = database_url.startswith("postgresql")
    # The test only reads (SQLite: without taking the write lock the child needs).
    engine = make_engine(database_url).execution_options(read_only=True)
    child: subprocess.Popen | None = None
    try:
        with LocalSlack(bot_token=BOT_TOKEN) as slack:
            command, env = _retention(database_url, slack)
            with _locked(engine, due[DRAFTS_PER_BATCH:]) if postgresql else _nothing_locked() as release:
                with open(tmp_path / "killed.out", "w") as out, open(tmp_path / "killed.err", "w") as err:
                    child = subprocess.Popen(command, cwd=ROOT, env=env, stdout=out, stderr=err)
                _wait_for("batch committed", lambda: _batches_committed(engine) >= 1, FIRST_BATCH_S, child)
                if postgresql:  # the second batch waits on the lock, inside its transaction
                    _wait_for(
                        "second batch waiting on the locked drafts",
                        lambda: any(wait == "Lock" for _pid, wait in _child_backends(engine)),
                        KILLED_S,
                        child,
                    )
                child.send_signal(signal.SIGKILL)
                assert child.wait(timeout=KILLED_S) == -signal.SIGKILL
                release()
            if postgresql:
                # The server ends the dead client's backend (rolling its transaction back)
                # when it next writes to it: once the lock is released.
                _wait_for("orphaned backend gone", lambda: not _child_backends(engine), ORPHAN_S, None)
            removed = _consistent(engine, due, files)
            assert removed, "killed before any batch committed"
            assert len(removed) < len(due), "the run finished before the kill: nothing to resume"
            if postgresql:
                assert len(removed) == DRAFTS_PER_BATCH
            assert not slack.calls_to("files.delete"), "the killed run delivered nothing"

            with open(tmp_path / "resumed.out", "w") as out, open(tmp_path / "resumed.err", "w") as err:
                resumed = subprocess.run(
                    command, cwd=ROOT, env=env, stdout=out, stderr=err, timeout=RESUME_S, check=False
                )
            said = (tmp_path / "resumed.out").read_text() + (tmp_path / "resumed.err").read_text()
            assert resumed.returncode == 0, said
            assert f"{len(due) - len(removed)} item(s)." in said

            present, audited, queued = _state(engine, due)
            assert present == set()
            assert Counter(audited) == Counter(due)  # each draft audited exactly once
            every_file = [f for d in due for f in files[d]]
            assert queued == {f"retention:file:{f}" for f in every_file}
            # The command delivers one pass of what it queued (the running bot the rest):
            # what went to Slack went once, and only for drafts removed.
            deleted = Counter(call.args["file"] for call in slack.calls_to("files.delete"))
            assert deleted and set(deleted) <= set(every_file) and max(deleted.values()) == 1
    finally:
        if child is not None and child.poll() is None:
            child.kill()
            child.wait(timeout=KILLED_S)
        if postgresql:  # a failed test leaves no backend of its child behind
            with engine.connect() as connection:
                connection.execute(
                    text(
                        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = :n"
                    ),
                    {"n": APP_NAME},
                )
        engine.engine.dispose()


@contextmanager
def _nothing_locked() -> Iterator[Callable[[], None]]:
    yield lambda: None
