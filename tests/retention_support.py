"""Running `python -m bot retention --apply` in a process of its own, killing it once a batch
has committed, and reading what it left: shared by the kill-and-resume test and bench_scale.

Every wait has a deadline; the child's output goes to files (a full pipe cannot block it);
the database is read through a read-only engine, which on SQLite never takes the write
lock the child needs."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from sqlalchemy import text
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, func, select

from bot.audit.models import AuditEntry
from bot.audit.service import verify_chain
from bot.delivery.models import OutboxMessage
from bot.minutes.models import Document

ROOT = Path(__file__).resolve().parent.parent
APP_NAME = "retention-kill"  # the child's PostgreSQL connections, to find its backends
DELETED = "retention.draft_deleted"


class Timeout(AssertionError):
    """A wait passed its deadline, or the child exited before what was awaited."""


def retention_command(
    database_url: str, slack_api_url: str, token: str, now: datetime
) -> tuple[list[str], dict[str, str]]:
    """`python -m bot retention --apply` at `now`, to the given Slack: the command and its environment."""
    command = [sys.executable, "-m", "bot", "retention", "--apply", "--now", now.isoformat()]
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("SLACK_")},
        "DATABASE_URL": database_url,
        "SLACK_BOT_TOKEN": token,
        "SLACK_API_URL": slack_api_url,
        "LOG_LEVEL": "WARNING",
        "PGAPPNAME": APP_NAME,
    }
    return command, env


def wait_for(
    what: str, condition: Callable[[], bool], timeout: float, child: subprocess.Popen | None = None
) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        if child is not None and child.poll() is not None:
            raise Timeout(f"retention exited ({child.returncode}) before {what}")
        time.sleep(0.005)
    raise Timeout(f"no {what} within {timeout} s")


def reader(engine: Engine) -> Engine:
    return engine.execution_options(read_only=True)


def batches_committed(engine: Engine) -> int:
    with reader(engine).connect() as connection:
        return connection.execute(
            select(func.count()).select_from(AuditEntry).where(col(AuditEntry.act) == DELETED)
        ).scalar_one()


def child_backends(engine: Engine) -> list[tuple[int, str | None]]:
    """PostgreSQL: the child's server processes in this database (tests run side by side)
    and what each waits for."""
    with engine.connect() as connection:
        found = connection.execute(
            text(
                "SELECT pid, wait_event_type FROM pg_stat_activity"
                " WHERE application_name = :name AND datname = current_database()"
            ),
            {"name": APP_NAME},
        )
        return [(pid, wait) for pid, wait in found]


def end_child_backends(engine: Engine) -> None:
    """PostgreSQL: no backend of a killed child left behind (after a failure)."""
    with engine.connect() as connection:
        connection.execute(
            text(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
                " WHERE application_name = :name AND datname = current_database()"
            ),
            {"name": APP_NAME},
        )


@contextmanager
def locked(engine: Engine, ids: list[int]) -> Iterator[Callable[[], None]]:
    """PostgreSQL: these documents' rows locked (FOR UPDATE) until `release` or the block's
    end, so a retention batch deleting them waits inside its transaction."""
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


@contextmanager
def nothing_locked() -> Iterator[Callable[[], None]]:
    yield lambda: None


def start(command: list[str], env: dict[str, str], log: Path) -> subprocess.Popen:
    with open(log, "w") as out:
        return subprocess.Popen(command, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT)


def kill(child: subprocess.Popen, timeout: float = 30) -> int:
    """SIGKILL, as a crash or an OOM kill would; returns the exit status."""
    if child.poll() is None:
        child.send_signal(signal.SIGKILL)
    return child.wait(timeout=timeout)


@dataclass
class Left:
    """What retention left of the drafts due: still stored, named by committed audit
    entries (with repeats), and the Slack file deletions queued."""

    present: set[int]
    audited: list[int]
    queued: set[str]
    chain_problems: list[str]

    def problems(self, due: list[int], files: dict[int, list[str]]) -> list[str]:
        """Whatever does not hold together: a draft gone but not audited (or audited
        twice), files queued for deletion out of step with the drafts gone, a broken chain."""
        removed = set(due) - self.present
        out = list(self.chain_problems)
        if sorted(self.audited) != sorted(removed):
            out.append(
                f"{len(removed)} drafts gone, {len(self.audited)} audited ({len(set(self.audited))} distinct)"
            )
        expected = {f"retention:file:{f}" for d in removed for f in files.get(d, [])}
        if self.queued != expected:
            out.append(f"{len(self.queued)} file deletions queued for {len(expected)} files of drafts gone")
        return out


def left(engine: Engine, due: list[int]) -> Left:
    with Session(reader(engine)) as session:
        present = set(session.exec(select(Document.id).where(col(Document.id).in_(due))).all())
        audited = [
            document["id"]
            for details in session.exec(
                select(AuditEntry.details).where(col(AuditEntry.act) == DELETED)
            ).all()
            for document in details["documents"]
        ]
        queued = set(
            session.exec(
                select(OutboxMessage.key).where(col(OutboxMessage.key).like("retention:file:%"))
            ).all()
        )
        chain = verify_chain(session)
    return Left({i for i in present if i is not None}, audited, queued, chain)
