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

Nothing here can hang (`tests.retention_support`): every wait has a deadline, the child's
output goes to a file (a full pipe cannot block it), the test reads without taking SQLite's
write lock, and the children are killed in a `finally`.
"""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime
from pathlib import Path

from sqlmodel import Session

from bot.clock import SettableClock
from bot.composition import build_runtime
from bot.database import make_engine
from bot.retention.service import DRAFTS_PER_BATCH, plan, uploaded_files
from bot.settings import load_settings
from bot_offline.driver import BOT_TOKEN
from bot_offline.local_slack import LocalSlack
from tests.benchmarks.generate import generate
from tests.retention_support import (
    batches_committed,
    child_backends,
    end_child_backends,
    kill,
    left,
    locked,
    nothing_locked,
    retention_command,
    start,
    wait_for,
)

NOW = datetime(2026, 11, 10, 10, 0, tzinfo=UTC)
DISCUSSIONS = 2_300  # about 2,100 superseded drafts due: five batches
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


def test_retention_killed_mid_run_keeps_whole_batches_and_resumes(database_url: str, tmp_path: Path) -> None:
    due, files = _fill(database_url)
    assert len(due) >= 4 * DRAFTS_PER_BATCH, f"only {len(due)} drafts due: too few batches to kill mid-run"
    postgresql = database_url.startswith("postgresql")
    engine = make_engine(database_url)
    child = resumed = None
    try:
        with LocalSlack(bot_token=BOT_TOKEN) as slack:
            command, env = retention_command(database_url, slack.api_url, BOT_TOKEN, NOW)
            with locked(engine, due[DRAFTS_PER_BATCH:]) if postgresql else nothing_locked() as release:
                child = start(command, env, tmp_path / "killed.log")
                wait_for("batch committed", lambda: batches_committed(engine) >= 1, FIRST_BATCH_S, child)
                if postgresql:  # the second batch waits on the lock, inside its transaction
                    wait_for(
                        "second batch waiting on the locked drafts",
                        lambda: any(wait == "Lock" for _pid, wait in child_backends(engine)),
                        KILLED_S,
                        child,
                    )
                assert kill(child, KILLED_S) < 0  # killed by the signal, not finished
                release()
            if postgresql:
                # The server ends the dead client's backend (rolling its transaction back)
                # when it next writes to it: once the lock is released.
                wait_for("orphaned backend gone", lambda: not child_backends(engine), ORPHAN_S)
            after_kill = left(engine, due)
            assert after_kill.problems(due, files) == []
            removed = len(due) - len(after_kill.present)
            assert removed % DRAFTS_PER_BATCH == 0, f"{removed} removed: a batch half-written"
            assert removed, "killed before any batch committed"
            assert removed < len(due), "the run finished before the kill: nothing to resume"
            if postgresql:
                assert removed == DRAFTS_PER_BATCH
            assert not slack.calls_to("files.delete"), "the killed run delivered nothing"

            resumed = start(command, env, tmp_path / "resumed.log")
            status = resumed.wait(timeout=RESUME_S)
            said = (tmp_path / "resumed.log").read_text()
            assert status == 0, said
            assert f"{len(due) - removed} item(s)." in said

            after = left(engine, due)
            assert after.present == set()
            assert after.problems(due, files) == []
            assert Counter(after.audited) == Counter(due)  # each draft audited exactly once
            # The command delivers one pass of what it queued (the running bot the rest):
            # what went to Slack went once, and only for drafts removed.
            every_file = {f for d in due for f in files[d]}
            deleted = Counter(call.args["file"] for call in slack.calls_to("files.delete"))
            assert deleted and set(deleted) <= every_file and max(deleted.values()) == 1
    finally:
        for process in (child, resumed):
            if process is not None and process.poll() is None:
                kill(process, KILLED_S)
        if postgresql:  # a failed test leaves no backend of its child behind
            end_child_backends(engine)
        engine.dispose()
