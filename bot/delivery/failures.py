"""Messages that failed for good: nothing fails silently.

When Slack (or the mail server) refuses a call in a way no retry will cure, the entry is
marked failed, logged as an error (its method, purpose and the error; never its body) and
the panel administrators are told: a DM through the outbox (one per administrator per
hour, naming the first failure; the rest are on their Home tab) and a section on their
Home tab, a page at a time. `python -m bot outbox` lists failed entries with their reasons
and `python -m bot outbox retry ID|--all-failed` sends them again once the cause is fixed.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import update
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from bot.database import read_scope, session_scope
from bot.delivery.models import OutboxMessage, OutboxState
from bot.delivery.service import enqueue
from bot.partnership.models import Person, PersonRole

# The purpose of the notice itself: a notice that fails is logged, never announced again.
FAILURE_NOTICE = "outbox_failure_notice"
PAGE_SIZE = 5
RETRY_BATCH = 500


@dataclass(frozen=True)
class FailedMessage:
    """A failed entry as an administrator sees it: what it was for and why it failed."""

    id: int
    method: str
    purpose: str
    attempts: int
    created_at: datetime
    reason: str


def shown_reason(error: str) -> str:
    """The reason as Slack may show it: Slack's own error code, or the kind of failure
    (a mail server's refusal may quote an address, so only the CLI shows it whole)."""
    if error.startswith("e-mail refused"):
        return "e-mail refused"
    return error[:80] or "no reason recorded"


def panel_administrators(session: Session) -> list[str]:
    """The Slack ids of every active panel administrator."""
    query = (
        select(Person.slack_user_id)
        .join(PersonRole, col(PersonRole.person_id) == Person.id)
        .where(PersonRole.role == "panel_admin", Person.active, col(Person.slack_user_id).is_not(None))
        .distinct()
    )
    return sorted(str(user) for user in session.exec(query) if user)


def announce_failure(session: Session, message: OutboxMessage, now: datetime) -> None:
    """Tell the panel administrators, in the same transaction that marks `message` failed."""
    if message.purpose == FAILURE_NOTICE:
        return
    what = f"{message.method}" + (f" for {message.purpose}" if message.purpose else "")
    text = (
        f":warning: A message the bot owed Slack failed for good: outbox {message.id} ({what}): "
        f"{shown_reason(message.last_error)}. Any others this hour are listed on your Home tab, "
        f"under *Messages that failed*. Once the cause is fixed, `python -m bot outbox retry "
        f"{message.id}` (or `--all-failed`) sends them again."
    )
    hour = now.strftime("%Y%m%d%H")
    for user in panel_administrators(session):
        try:  # another courier's failure this hour may be telling them at this moment
            with session.begin_nested():
                enqueue(
                    session,
                    key=f"failure-notice:{user}:{hour}",
                    method="chat.postMessage",
                    arguments={"channel": user, "text": text},
                    purpose=FAILURE_NOTICE,
                    now=now,
                )
                session.flush()
        except IntegrityError:
            continue  # told already: the rest are on their Home tab


def _row(message: OutboxMessage) -> FailedMessage:
    return FailedMessage(
        id=message.id or 0,
        method=message.method,
        purpose=message.purpose,
        attempts=message.attempts,
        created_at=message.created_at,
        reason=message.last_error,
    )


def failed_page(session: Session, page: int, size: int = PAGE_SIZE) -> tuple[list[FailedMessage], bool]:
    """One page of failed entries, newest first, and whether there is another: one query."""
    query = (
        select(OutboxMessage)
        .where(OutboxMessage.state == OutboxState.FAILED)
        .order_by(col(OutboxMessage.id).desc())
        .offset(max(page, 0) * size)
        .limit(size + 1)
    )
    rows = [_row(m) for m in session.exec(query)]
    return rows[:size], len(rows) > size


def stream_failed(engine: Engine, batch: int = RETRY_BATCH) -> Iterator[FailedMessage]:
    """Every failed entry, oldest first, read a batch at a time (keyset), however many."""
    after = 0
    while True:
        with read_scope(engine) as session:
            query = (
                select(OutboxMessage)
                .where(OutboxMessage.state == OutboxState.FAILED, col(OutboxMessage.id) > after)
                .order_by(col(OutboxMessage.id))
                .limit(batch)
            )
            rows = [_row(m) for m in session.exec(query)]
        yield from rows
        if len(rows) < batch:
            return
        after = rows[-1].id


def retry_in(session: Session, ids: Iterable[int]) -> int:
    """Put failed entries back to be sent, in the caller's transaction; returns how many.
    Each is due at once (from when it was made: whatever the clock of the process that
    sends it, CLI and bot alike)."""
    result = session.exec(
        update(OutboxMessage)
        .where(col(OutboxMessage.id).in_(list(ids)), col(OutboxMessage.state) == OutboxState.FAILED)
        .values(
            state=OutboxState.PENDING,
            attempts=0,
            next_attempt_at=OutboxMessage.created_at,
            lease_owner="",
            lease_until=None,
            last_error="",
        )
    )
    return int(result.rowcount or 0)


def retry(engine: Engine, ids: list[int]) -> int:
    """Send these failed entries again (others are left alone); returns how many."""
    with session_scope(engine) as session:
        return retry_in(session, ids)


def retry_all_failed(engine: Engine, batch: int = RETRY_BATCH) -> int:
    """Every failed entry pending again, committed a batch at a time; returns how many."""
    total, after = 0, 0
    while True:
        with session_scope(engine) as session:
            ids = list(
                session.exec(
                    select(OutboxMessage.id)
                    .where(OutboxMessage.state == OutboxState.FAILED, col(OutboxMessage.id) > after)
                    .order_by(col(OutboxMessage.id))
                    .limit(batch)
                )
            )
            if not ids:
                return total
            total += retry_in(session, [i for i in ids if i is not None])
            after = max(i for i in ids if i is not None)
