"""Enqueue Slack calls with the state they follow, and deliver them until Slack accepts.

A handler writes its rows and its outbox entries in one transaction. Delivery happens
afterwards, so a crash or a Slack outage leaves the entries pending and a later pass sends
them. An entry is leased before it is sent (a conditional UPDATE that only one process can
win, on SQLite and PostgreSQL alike), so several bot processes never send the same entry
at once, and no transaction stays open while Slack is being called.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from sqlalchemy import or_, update
from sqlalchemy.engine import Engine
from sqlmodel import Session, func, select

from bot.clock import Clock
from bot.database import session_scope
from bot.delivery.models import OutboxMessage, OutboxState

log = logging.getLogger(__name__)

DeliveryHook = Callable[[Session, OutboxMessage, dict[str, Any]], None]

_hooks: dict[str, DeliveryHook] = {}

# Errors that no retry will cure; the entry is marked failed and the failure is visible.
PERMANENT_ERRORS = frozenset(
    {
        "invalid_blocks",
        "invalid_arguments",
        "channel_not_found",
        "user_not_found",
        "users_not_found",
        "not_in_channel",
        "is_archived",
        "msg_too_long",
        "no_text",
        "invalid_auth",
        "not_authed",
        "account_inactive",
        "missing_scope",
        "cant_invite_self",
    }
)
MAX_BACKOFF = timedelta(minutes=15)
LEASE = timedelta(minutes=2)


def on_delivered(purpose: str) -> Callable[[DeliveryHook], DeliveryHook]:
    """Register what to record once a call of this purpose succeeds (e.g. a message ts)."""

    def register(hook: DeliveryHook) -> DeliveryHook:
        _hooks[purpose] = hook
        return hook

    return register


def enqueue(
    session: Session,
    *,
    key: str,
    method: str,
    arguments: dict[str, Any],
    now: datetime,
    purpose: str = "",
    subject_id: int | None = None,
) -> OutboxMessage:
    """Add a call to the outbox unless one with this key exists; returns the entry."""
    existing = session.exec(select(OutboxMessage).where(OutboxMessage.key == key)).first()
    if existing is not None:
        return existing
    message = OutboxMessage(
        key=key,
        method=method,
        arguments=arguments,
        purpose=purpose,
        subject_id=subject_id,
        next_attempt_at=now,
        created_at=now,
    )
    session.add(message)
    session.flush()
    return message


@dataclass(frozen=True)
class _Outcome:
    ok: bool
    data: dict[str, Any]
    error: str = ""
    permanent: bool = False
    retry_after: float | None = None


def _backoff(attempts: int, retry_after: float | None) -> timedelta:
    if retry_after is not None:
        return timedelta(seconds=max(retry_after, 1))
    return min(timedelta(seconds=2 ** min(attempts, 10)), MAX_BACKOFF)


def _due(now: datetime):
    return (
        (OutboxMessage.state == OutboxState.PENDING)
        & (OutboxMessage.next_attempt_at <= now)
        & or_(OutboxMessage.lease_until.is_(None), OutboxMessage.lease_until < now)  # type: ignore[union-attr]
    )


def _lease_next(engine: Engine, now: datetime, owner: str) -> OutboxMessage | None:
    """Claim the oldest due entry for this owner; None when nothing is due."""
    while True:
        with session_scope(engine) as session:
            candidate = session.exec(
                select(OutboxMessage.id).where(_due(now)).order_by(OutboxMessage.id).limit(1)
            ).first()
            if candidate is None:
                return None
            won = session.exec(
                update(OutboxMessage)
                .where(OutboxMessage.id == candidate, _due(now))
                .values(
                    lease_owner=owner,
                    lease_until=now + LEASE,
                    attempts=OutboxMessage.attempts + 1,
                )
            ).rowcount
            if won:
                return session.get(OutboxMessage, candidate, populate_existing=True)


def _call(client: WebClient, message: OutboxMessage) -> _Outcome:
    try:
        response = client.api_call(message.method, json=message.arguments)
    except SlackApiError as error:
        response = error.response
        code = str(response.get("error", "")) if response is not None else ""
        status = response.status_code if response is not None else 0
        retry_after = None
        if response is not None and status == 429:
            retry_after = float(response.headers.get("Retry-After", "1") or 1)
        return _Outcome(
            False, {}, f"{status} {code}".strip(), code in PERMANENT_ERRORS, retry_after
        )
    except Exception as error:
        return _Outcome(False, {}, f"{type(error).__name__}: {error}")
    data = dict(response.data) if isinstance(response.data, dict) else {}
    return _Outcome(True, data)


def _settle(
    engine: Engine, message: OutboxMessage, outcome: _Outcome, now: datetime, owner: str
) -> None:
    with session_scope(engine) as session:
        row = session.get(OutboxMessage, message.id, populate_existing=True)
        if row is None or row.lease_owner != owner or row.state != OutboxState.PENDING:
            return
        row.lease_owner, row.lease_until = "", None
        if outcome.ok:
            row.state = OutboxState.SENT
            row.delivered_at = now
            row.last_error = ""
            row.result = {
                k: outcome.data[k] for k in ("channel", "ts", "view", "file") if k in outcome.data
            }
            hook = _hooks.get(row.purpose)
            if hook is not None:
                hook(session, row, outcome.data)
        elif outcome.permanent:
            row.state = OutboxState.FAILED
            row.last_error = outcome.error[:500]
            log.error("outbox %s failed for good: %s", row.id, row.last_error)
        else:
            row.last_error = outcome.error[:500]
            row.next_attempt_at = now + _backoff(row.attempts, outcome.retry_after)
            log.warning("outbox %s will be retried: %s", row.id, row.last_error)
        session.add(row)


def deliver_pending(engine: Engine, client: WebClient, clock: Clock, *, limit: int = 200) -> int:
    """Send every due entry, oldest first; returns how many Slack accepted."""
    owner = uuid.uuid4().hex
    delivered = 0
    for _ in range(limit):
        message = _lease_next(engine, clock.now(), owner)
        if message is None:
            break
        outcome = _call(client, message)
        _settle(engine, message, outcome, clock.now(), owner)
        delivered += outcome.ok
    return delivered


def pending_count(session: Session) -> int:
    """How many calls are still owed to Slack."""
    query = (
        select(func.count())
        .select_from(OutboxMessage)
        .where(OutboxMessage.state == OutboxState.PENDING)
    )
    return int(session.exec(query).one())
