"""Enqueue Slack calls with the state they follow, and deliver them until Slack accepts.

A handler writes its rows and its outbox entries in one transaction. Delivery happens
afterwards, so a crash or a Slack outage leaves the entries pending and a later pass sends
them. Entries are leased before they are sent, a few of the oldest at a time in one
transaction (a conditional UPDATE that only one process can win, on SQLite and PostgreSQL
alike; PostgreSQL passes over rows another process is leasing, `SKIP LOCKED`), so several
bot processes never send the same entry at once, and no transaction stays open while Slack
is being called. Each call's arguments are built from the record just before it is made,
in a read-only transaction, and its outcome is recorded in one write transaction.

When an attempt ends without a clear answer (a stall, a dropped connection, a 500), Slack
may have done the work anyway. Messages carry their outbox key in Slack message metadata,
so the next attempt first looks for the message in the channel's history; a private channel
is looked up by name. Nothing is sent twice for a stalled call.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import uuid
from collections import deque
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from sqlalchemy import ColumnElement, insert, inspect, or_, update
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, func, select

from bot.clock import Clock
from bot.database import read_scope, session_scope
from bot.delivery.models import OutboxMessage, OutboxState

log = logging.getLogger(__name__)

DeliveryHook = Callable[[Session, OutboxMessage, dict[str, Any]], None]
Preparer = Callable[[Session, OutboxMessage], dict[str, Any]]
Sender = Callable[[WebClient, OutboxMessage, dict[str, Any]], dict[str, Any]]
FailureHook = Callable[[Session, OutboxMessage, datetime], None]


METADATA_EVENT_TYPE = "safeguarding_bot_outbox"

# Errors that no retry will cure; the entry is marked failed and the failure is visible.
PERMANENT_ERRORS = frozenset(
    {
        "invalid_blocks",
        "invalid_arguments",
        "invalid_metadata_format",
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
        "cant_update_message",
        "message_not_found",
        "unknown_method",
    }
)
MAX_BACKOFF = timedelta(minutes=15)
# A lease is short and renewed by its holder while it works (every RENEW_EVERY), so an entry
# leased by a process that died is free again within LEASE, and sent by the next pass of any
# process (they poll every few seconds); a process that restarts on the same host frees its
# dead predecessor's leases at once (`reclaim_dead_leases`).
LEASE = timedelta(seconds=10)
RENEW_EVERY = 2.0
HOST = socket.gethostname()[:14]
REFRESH_PREFIX = "refresh:"
WAITING = "waiting for an earlier call"


class Defer(Exception):
    """Raised by a preparer when the call cannot be made yet (e.g. no message ts yet)."""


class Skip(Exception):
    """Raised by a preparer when the call is no longer wanted."""


class PermanentFailure(Exception):
    """Raised by a sender when retrying cannot help (e.g. an e-mail address refused)."""


def enqueue(
    session: Session,
    *,
    key: str,
    method: str,
    arguments: dict[str, Any] | None = None,
    now: datetime,
    purpose: str = "",
    subject_id: int | None = None,
    not_before: datetime | None = None,
    case_id: int | None = None,
) -> OutboxMessage:
    """Add a call to the outbox unless one with this key exists; returns the entry.

    The row is written with the session's next flush (at the latest, its commit), so the
    entries a handler adds go to the database together, in one multi-row INSERT."""
    pending = _pending(session)
    added = pending.get(key)
    if added is not None and inspect(added).pending:
        return added  # added by this session and not yet written
    absent = _absent_keys(session)
    if key in absent:
        absent.discard(key)  # from now on it is this session's entry
    else:
        with session.no_autoflush:  # looking for this key must not write the entries added so far
            existing = session.exec(select(OutboxMessage).where(col(OutboxMessage.key) == key)).first()
        if existing is not None:
            return existing
    message = OutboxMessage(
        key=key,
        method=method,
        arguments=arguments or {},
        purpose=purpose,
        subject_id=subject_id,
        case_id=case_id,
        next_attempt_at=not_before or now,
        created_at=now,
    )
    session.add(message)
    pending[key] = message
    return message


_ABSENT_KEYS = "outbox_absent_keys"
_PENDING = "outbox_pending"


def _pending(session: Session) -> dict[str, OutboxMessage]:
    """The entries `enqueue` added in this session's current transaction, by key: looked
    up by key rather than by a walk through every new object (a job adding thousands of
    entries walked them all for each one). Only `enqueue` adds entries whose key may repeat
    (`enqueue_refresh`'s are fresh uuids)."""
    found = session.info.get(_PENDING)
    if found is None or found[0] is not session.get_transaction():
        found = (session.get_transaction(), {})
        session.info[_PENDING] = found
    entries: dict[str, OutboxMessage] = found[1]
    return entries


def _absent_keys(session: Session) -> set[str]:
    """The keys `look_up_keys` found free in this session's current transaction."""
    found = session.info.get(_ABSENT_KEYS)
    if found is None or found[0] is not session.get_transaction():
        return set()
    keys: set[str] = found[1]
    return keys


def look_up_keys(session: Session, keys: list[str]) -> None:
    """Look up in one query the keys about to be `enqueue`d (one look-up each otherwise);
    those free are remembered for this transaction only."""
    if not keys:
        return
    with session.no_autoflush:
        taken = set(session.exec(select(OutboxMessage.key).where(col(OutboxMessage.key).in_(keys))).all())
    session.info[_ABSENT_KEYS] = (session.get_transaction(), _absent_keys(session) | (set(keys) - taken))


def enqueue_refresh(
    session: Session, *, purpose: str, subject_id: int, method: str, now: datetime
) -> OutboxMessage:
    """Ask for a message to be re-rendered from the record and updated in place.

    Every change asks anew; when an older request's turn comes and a newer one is waiting,
    the older is skipped, so Slack gets one update that shows the latest state and no
    change is lost to a race between rendering and committing.
    """
    # The key is new by construction (a fresh uuid), so it is not looked up first.
    message = OutboxMessage(
        key=f"{REFRESH_PREFIX}{purpose}:{subject_id}:{uuid.uuid4().hex}",
        method=method,
        arguments={},
        purpose=purpose,
        subject_id=subject_id,
        next_attempt_at=now,
        created_at=now,
    )
    session.add(message)
    return message


def enqueue_many(session: Session, calls: list[tuple[str, str, dict[str, Any]]], *, now: datetime) -> int:
    """Several calls (key, method, arguments) at once, each unless its key exists: one
    look-up for all the keys where `enqueue` makes one each. Returns how many were added."""
    keys = [key for key, _method, _arguments in calls]
    if not keys:
        return 0
    with session.no_autoflush:
        taken = set(session.exec(select(OutboxMessage.key).where(col(OutboxMessage.key).in_(keys))).all())
    taken |= {m.key for m in session.new if isinstance(m, OutboxMessage)}
    rows = []
    for key, method, arguments in calls:
        if key not in taken:
            taken.add(key)
            rows.append(_row(key, method, arguments, now))
    _insert(session, rows)
    return len(rows)


def refresh_many(
    session: Session, *, purpose: str, subject_ids: list[int], method: str, now: datetime
) -> None:
    """`enqueue_refresh` for many messages at once, written in one statement."""
    _insert(
        session,
        [
            _row(
                f"{REFRESH_PREFIX}{purpose}:{subject_id}:{uuid.uuid4().hex}",
                method,
                {},
                now,
                purpose,
                subject_id,
            )
            for subject_id in subject_ids
        ],
    )


def _row(
    key: str,
    method: str,
    arguments: dict[str, Any],
    now: datetime,
    purpose: str = "",
    subject_id: int | None = None,
) -> dict[str, Any]:
    return {
        "key": key,
        "method": method,
        "arguments": arguments,
        "purpose": purpose,
        "subject_id": subject_id,
        "state": OutboxState.PENDING,
        "attempts": 0,
        "next_attempt_at": now,
        "lease_owner": "",
        "last_error": "",
        "uncertain": False,
        "result": {},
        "created_at": now,
    }


def _insert(session: Session, rows: list[dict[str, Any]]) -> None:
    """Outbox rows as one multi-row INSERT (no ORM object per row: a sweep writes hundreds)."""
    if rows:
        session.execute(insert(OutboxMessage), rows)


def _refresh_order(session: Session, message: OutboxMessage) -> str:
    """For refreshes of one message: "wait" while an older one is unsettled (so updates
    never overtake each other when delivered in parallel), "skip" when a newer one is
    waiting (it will show the latest state), else "send"."""
    if not message.key.startswith(REFRESH_PREFIX):
        return "send"
    siblings = select(col(OutboxMessage.id)).where(
        col(OutboxMessage.purpose) == message.purpose,
        col(OutboxMessage.subject_id) == message.subject_id,
        col(OutboxMessage.state) == OutboxState.PENDING,
    )
    if session.exec(siblings.where(col(OutboxMessage.id) < (message.id or 0))).first() is not None:
        return "wait"
    if session.exec(siblings.where(col(OutboxMessage.id) > (message.id or 0))).first() is not None:
        return "skip"
    return "send"


@dataclass(frozen=True)
class _Outcome:
    ok: bool
    data: dict[str, Any] = field(default_factory=dict)
    error: str = ""
    permanent: bool = False
    uncertain: bool = False
    retry_after: float | None = None
    defer: bool = False
    skip: bool = False


def _backoff(attempts: int, retry_after: float | None) -> timedelta:
    if retry_after is not None:
        return timedelta(seconds=max(retry_after, 1))
    return min(timedelta(seconds=2 ** min(attempts, 10)), MAX_BACKOFF)


def _due(now: datetime) -> ColumnElement[bool]:
    return (
        (col(OutboxMessage.state) == OutboxState.PENDING)
        & (col(OutboxMessage.next_attempt_at) <= now)
        & or_(col(OutboxMessage.lease_until).is_(None), col(OutboxMessage.lease_until) < now)
    )


def _lease_batch(
    engine: Engine, now: datetime, owner: str, size: int, excluded: set[int]
) -> list[OutboxMessage]:
    """Claim up to `size` of the oldest due entries in one transaction; entries this pass
    deferred (`excluded`) are left alone. Returns them detached, oldest first."""
    with session_scope(engine) as session:
        query = select(col(OutboxMessage.id)).where(_due(now))
        if excluded:
            query = query.where(col(OutboxMessage.id).not_in(excluded))
        # PostgreSQL: rows another deliverer has locked are someone else's; take the next.
        # (SQLite renders no FOR UPDATE: its write lock already makes this one at a time.)
        query = query.order_by(col(OutboxMessage.id)).limit(size).with_for_update(skip_locked=True)
        candidates = list(session.exec(query))
        if not candidates:
            return []
        session.exec(
            update(OutboxMessage)
            .where(col(OutboxMessage.id).in_(candidates), _due(now))
            .values(
                lease_owner=owner,
                lease_until=now + LEASE,
                attempts=col(OutboxMessage.attempts) + 1,
                # a lease that ran out unreturned: its holder died, perhaps mid-call, so
                # look for the message in Slack before sending it again
                uncertain=col(OutboxMessage.uncertain) | (col(OutboxMessage.lease_owner) != ""),
            )
        )
        won = session.exec(
            select(OutboxMessage)
            .where(col(OutboxMessage.id).in_(candidates), col(OutboxMessage.lease_owner) == owner)
            .order_by(col(OutboxMessage.id))
        ).all()
        session.expunge_all()
        return list(won)


def lease_owner() -> str:
    """A lease holder's name: host, process id and a random part (at most 40 characters),
    so a restarted process can tell its dead predecessor's leases from live ones."""
    return f"{HOST}/{os.getpid()}/{uuid.uuid4().hex[:16]}"


_LIVE_OWNERS: set[str] = set()  # this process's passes now holding leases
_LIVE_LOCK = threading.Lock()


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _dead_here(owner: str) -> bool:
    """True when `owner` was a process on this host that is gone (or this process's own
    id, reused after a restart, but not one of its live passes)."""
    host, _, rest = owner.partition("/")
    pid_text = rest.partition("/")[0]
    if host != HOST or not pid_text.isdigit():
        return False
    with _LIVE_LOCK:
        if owner in _LIVE_OWNERS:
            return False
    pid = int(pid_text)
    return pid == os.getpid() or not _alive(pid)


def reclaim_dead_leases(engine: Engine, now: datetime) -> int:
    """On start: free the leases a dead process on this host still holds (their owner name
    stays, so the next lease knows the call may have been made). Returns how many."""
    with session_scope(engine) as session:
        owners = session.exec(
            select(OutboxMessage.lease_owner)
            .where(
                col(OutboxMessage.state) == OutboxState.PENDING,
                col(OutboxMessage.lease_owner) != "",
                col(OutboxMessage.lease_until) >= now,
            )
            .distinct()
        ).all()
        dead = [owner for owner in owners if _dead_here(owner)]
        if not dead:
            return 0
        result = session.exec(
            update(OutboxMessage)
            .where(
                col(OutboxMessage.lease_owner).in_(dead),
                col(OutboxMessage.state) == OutboxState.PENDING,
            )
            .values(lease_until=now - timedelta(microseconds=1))
        )
        count = int(result.rowcount or 0)
    log.warning(
        "freed the outbox leases of a process that died",
        extra={"event": "outbox.reclaimed", "count": count, "holders": len(dead)},
    )
    return count


class _LeaseKeeper:
    """Renews one pass's leases every RENEW_EVERY seconds while the pass works, so only a
    holder that died (or hangs for LEASE) loses them."""

    def __init__(self, engine: Engine, clock: Clock, owner: str) -> None:
        self.engine, self.clock, self.owner = engine, clock, owner
        self.stopped = threading.Event()
        self.thread = threading.Thread(target=self._run, name="outbox-lease", daemon=True)

    def __enter__(self) -> _LeaseKeeper:
        with _LIVE_LOCK:
            _LIVE_OWNERS.add(self.owner)
        self.thread.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stopped.set()
        self.thread.join()
        with _LIVE_LOCK:
            _LIVE_OWNERS.discard(self.owner)

    def _run(self) -> None:
        while not self.stopped.wait(RENEW_EVERY):
            try:
                with session_scope(self.engine) as session:
                    session.exec(
                        update(OutboxMessage)
                        .where(
                            col(OutboxMessage.lease_owner) == self.owner,
                            col(OutboxMessage.state) == OutboxState.PENDING,
                        )
                        .values(lease_until=self.clock.now() + LEASE)
                    )
            except Exception:  # the next renewal tries again; the lease has LEASE to run
                log.warning("could not renew outbox leases", extra={"event": "outbox.renew_failed"})


def _prepare(
    engine: Engine, message: OutboxMessage, owner: str, preparers: dict[str, Preparer]
) -> tuple[OutboxMessage, _Outcome | None, bool] | None:
    """Build a leased entry's arguments from the record as it is now, reading only (on
    SQLite, without the write lock). Returns the entry, an outcome when no call is to be
    made, and whether a preparer built the arguments; None if the lease is no longer ours."""
    with read_scope(engine) as session:
        row = session.get(OutboxMessage, message.id)
        if row is None or row.lease_owner != owner or row.state != OutboxState.PENDING:
            return None
        order = _refresh_order(session, row)
        if order != "send":
            return row, _Outcome(False, skip=order == "skip", defer=order == "wait"), False
        preparer = preparers.get(row.purpose)
        if preparer is None:
            return row, None, False
        try:
            arguments = preparer(session, row)
        except Defer:
            return row, _Outcome(False, defer=True), False
        except Skip:
            return row, _Outcome(False, skip=True), False
        if session.new or session.dirty or session.deleted:
            raise RuntimeError(f"the {row.purpose!r} preparer changed the record; preparers only read")
        session.expunge(row)
    row.arguments = arguments
    return row, None, True


def _release(engine: Engine, owner: str, ids: list[int]) -> None:
    """Give back leased entries that this pass did not get to (not an attempt)."""
    if not ids:
        return
    with session_scope(engine) as session:
        session.exec(
            update(OutboxMessage)
            .where(
                col(OutboxMessage.id).in_(ids),
                col(OutboxMessage.lease_owner) == owner,
                col(OutboxMessage.state) == OutboxState.PENDING,
            )
            .values(lease_owner="", lease_until=None, attempts=col(OutboxMessage.attempts) - 1)
        )


def _with_metadata(message: OutboxMessage) -> dict[str, Any]:
    arguments = dict(message.arguments)
    if message.method == "chat.postMessage" and "metadata" not in arguments:
        arguments["metadata"] = {
            "event_type": METADATA_EVENT_TYPE,
            "event_payload": {"key": message.key},
        }
    return arguments


def _find_posted(client: WebClient, message: OutboxMessage) -> dict[str, Any] | None:
    """The message an earlier, unanswered attempt may have posted, found by its key."""
    channel = str(message.arguments.get("channel", ""))
    if channel.startswith(("U", "W")):
        channel = client.conversations_open(users=channel)["channel"]["id"]
    cursor = None
    for _ in range(10):  # the message is recent: the newest pages reach back far enough
        history = client.conversations_history(
            channel=channel, limit=200, include_all_metadata=True, cursor=cursor
        )
        messages: list[dict[str, Any]] = history.get("messages", [])
        for posted in messages:
            payload = (posted.get("metadata") or {}).get("event_payload") or {}
            if payload.get("key") == message.key:
                return {"ok": True, "channel": channel, "ts": posted["ts"], "message": posted}
        cursor = (history.get("response_metadata") or {}).get("next_cursor")
        if not cursor:
            break
    return None


def _find_channel(client: WebClient, message: OutboxMessage) -> dict[str, Any] | None:
    """The private channel an earlier attempt created, found by its name."""
    name = message.arguments.get("name")
    cursor = None
    while True:
        page = client.conversations_list(
            types="private_channel", exclude_archived=True, limit=1000, cursor=cursor
        )
        channels: list[dict[str, Any]] = page.get("channels", [])
        for channel in channels:
            if channel.get("name") == name:
                return {"ok": True, "channel": channel}
        cursor = (page.get("response_metadata") or {}).get("next_cursor")
        if not cursor:
            return None


_RECOVERIES: dict[str, Callable[[WebClient, OutboxMessage], dict[str, Any] | None]] = {
    "chat.postMessage": _find_posted,
    "conversations.create": _find_channel,
}


def _call(client: WebClient, message: OutboxMessage, senders: dict[str, Sender]) -> _Outcome:
    try:
        recover = _RECOVERIES.get(message.method)
        if message.uncertain and recover is not None:
            found = recover(client, message)
            if found is not None:
                return _Outcome(True, found)
        custom = senders.get(message.method)
        if custom is not None:
            return _Outcome(True, custom(client, message, message.arguments))
        response = client.api_call(message.method, json=_with_metadata(message))
    except SlackApiError as error:
        response = error.response
        code = str(response.get("error", "")) if response is not None else ""
        status = response.status_code if response is not None else 0
        if code == "name_taken" and message.method == "conversations.create":
            found = _find_channel(client, message)
            if found is not None:
                return _Outcome(True, found)
        if code == "already_in_channel":
            return _Outcome(True, dict(response.data) if response is not None else {})
        retry_after = None
        if response is not None and status == 429:
            retry_after = float(response.headers.get("Retry-After", "1") or 1)
        return _Outcome(
            False,
            error=f"{status} {code}".strip(),
            permanent=code in PERMANENT_ERRORS,
            uncertain=status >= 500,
            retry_after=retry_after,
        )
    except PermanentFailure as error:
        return _Outcome(False, error=str(error), permanent=True)
    except Exception as error:
        return _Outcome(False, error=f"{type(error).__name__}: {error}", uncertain=True)
    data = dict(response.data) if isinstance(response.data, dict) else {}
    return _Outcome(True, data)


def _settle(
    engine: Engine,
    message: OutboxMessage,
    outcome: _Outcome,
    now: datetime,
    owner: str,
    hooks: dict[str, DeliveryHook],
    *,
    prepared: bool = False,
    failure_hooks: tuple[FailureHook, ...] = (),
) -> None:
    """Record the outcome of one attempt (and, when a preparer built them, the arguments
    actually sent) in one transaction, if the lease is still ours."""
    with session_scope(engine) as session:
        row = session.get(OutboxMessage, message.id, populate_existing=True)
        if row is None or row.lease_owner != owner or row.state != OutboxState.PENDING:
            return
        row.lease_owner, row.lease_until = "", None
        if prepared:
            row.arguments = message.arguments  # what was actually sent stays on the record
        if outcome.ok:
            row.state = OutboxState.SENT
            row.delivered_at = now
            row.last_error = ""
            row.uncertain = False
            row.result = {k: outcome.data[k] for k in ("channel", "ts", "view", "file") if k in outcome.data}
            hook = hooks.get(row.purpose)
            if hook is not None:
                hook(session, row, outcome.data)
        elif outcome.skip:
            row.state = OutboxState.SKIPPED
        elif outcome.defer:
            # Waiting for an earlier call is not a failed attempt; it is due again at once,
            # and the worker that deferred it leaves it to the next pass.
            row.attempts -= 1
            row.last_error = WAITING
        elif outcome.permanent:
            row.state = OutboxState.FAILED
            row.last_error = outcome.error[:500]
            log.error(
                "an outbox entry failed for good",
                extra={
                    "event": "outbox.failed",
                    "outbox_id": row.id,
                    "method": row.method,
                    "purpose": row.purpose,
                    "error": row.last_error,
                },
            )
            for announce in failure_hooks:  # in this transaction: told if and only if failed
                announce(session, row, now)
        else:
            row.last_error = outcome.error[:500]
            row.uncertain = row.uncertain or outcome.uncertain
            row.next_attempt_at = now + _backoff(row.attempts, outcome.retry_after)
            log.warning(
                "an outbox entry will be retried",
                extra={
                    "event": "outbox.retry",
                    "outbox_id": row.id,
                    "method": row.method,
                    "attempts": row.attempts,
                    "error": row.last_error,
                },
            )
        session.add(row)


class Courier:
    """Delivers the outbox, knowing how each capability renders and records its calls.

    Capabilities register, per purpose, a preparer (build the arguments from the state
    when the call is made), a hook (record what Slack answered), and, per pseudo-method,
    a sender (work that is more than one Web API call, such as a file upload).
    """

    def __init__(self) -> None:
        self.hooks: dict[str, DeliveryHook] = {}
        self.preparers: dict[str, Preparer] = {}
        self.senders: dict[str, Sender] = {}
        self.failure_hooks: tuple[FailureHook, ...] = ()

    def on_failed(self, hook: FailureHook) -> FailureHook:
        """Register what to do, in the same transaction, when an entry fails for good."""
        self.failure_hooks = (*self.failure_hooks, hook)
        return hook

    def on_delivered(self, purpose: str) -> Callable[[DeliveryHook], DeliveryHook]:
        """Register what to record once a call of this purpose succeeds."""

        def register(hook: DeliveryHook) -> DeliveryHook:
            self.hooks[purpose] = hook
            return hook

        return register

    def on_prepare(self, purpose: str) -> Callable[[Preparer], Preparer]:
        """Register how to build a call's arguments at the moment it is sent."""

        def register(preparer: Preparer) -> Preparer:
            self.preparers[purpose] = preparer
            return preparer

        return register

    def sender(self, method: str) -> Callable[[Sender], Sender]:
        """Register how to perform a pseudo-method (e.g. `files.upload_v2`)."""

        def register(function: Sender) -> Sender:
            self.senders[method] = function
            return function

        return register

    def deliver_pending(
        self,
        engine: Engine,
        client: WebClient,
        clock: Clock,
        *,
        limit: int = 500,
        workers: int = 1,
        pause: Callable[[], object] | None = None,
    ) -> int:
        """Send every due entry (up to `limit`), oldest first, on `workers` threads at once
        (independent calls in parallel, as Slack's per-channel limits allow); returns how
        many succeeded. Each worker calls `pause` before each entry (to let more urgent
        work go first)."""
        delivery = _Pass(self, engine, client, clock, limit=limit, workers=workers, pause=pause)
        with _LeaseKeeper(engine, clock, delivery.owner):
            try:
                if workers <= 1:
                    return delivery.work()
                with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="courier") as pool:
                    shares = [pool.submit(delivery.work) for _ in range(workers)]
                    return sum(share.result() for share in shares)
            finally:
                delivery.release_unsent()


class _Pass:
    """One delivery pass: workers share the entries it leases, a batch per transaction.

    An entry that cannot be sent yet (its preparer defers, e.g. until the channel it goes to
    exists) is left out of the next leases until another entry of this pass is settled,
    which may be the one it waits for; then it is tried again, up to `max(2, workers)`
    times a pass (as often as the one-at-a-time workers before could). What is still
    deferred when the pass ends waits for the next pass. A deferral is not counted against
    the pass's limit (it is not an attempt either)."""

    BATCH_PER_WORKER = 2

    def __init__(
        self,
        courier: Courier,
        engine: Engine,
        client: WebClient,
        clock: Clock,
        *,
        limit: int,
        workers: int,
        pause: Callable[[], object] | None = None,
    ) -> None:
        self.courier, self.engine, self.client, self.clock = courier, engine, client, clock
        self.pause = pause
        self.owner = lease_owner()
        self.batch = max(1, workers) * self.BATCH_PER_WORKER
        self.tries = max(2, workers)
        self.remaining = limit
        self.queue: deque[OutboxMessage] = deque()
        self.deferrals: dict[int, int] = {}  # entry -> times deferred in this pass
        self.waiting: set[int] = set()  # deferred, not to be leased again for now
        self.lock = threading.Lock()

    def _next(self) -> OutboxMessage | None:
        if self.pause is not None:
            self.pause()
        with self.lock:
            if not self.queue and self.remaining > 0:
                leased = _lease_batch(
                    self.engine, self.clock.now(), self.owner, min(self.batch, self.remaining), self.waiting
                )
                self.remaining -= len(leased)
                self.queue.extend(leased)
            return self.queue.popleft() if self.queue else None

    def work(self) -> int:
        delivered = 0
        courier = self.courier
        while (message := self._next()) is not None:
            try:
                prepared = _prepare(self.engine, message, self.owner, courier.preparers)
            except Exception as error:  # a failed attempt, retried later; the pass goes on
                log.exception(
                    "preparing an outbox entry failed",
                    extra={"event": "outbox.prepare_failed", "outbox_id": message.id},
                )
                prepared = message, _Outcome(False, error=f"{type(error).__name__}: {error}"), False
            if prepared is None:
                continue  # the lease ran out and another deliverer has it
            message, early, built = prepared
            outcome = early or _call(self.client, message, courier.senders)
            _settle(
                self.engine,
                message,
                outcome,
                self.clock.now(),
                self.owner,
                courier.hooks,
                prepared=built,
                failure_hooks=courier.failure_hooks,
            )
            with self.lock:
                if outcome.defer:
                    self.deferrals[message.id or 0] = self.deferrals.get(message.id or 0, 0) + 1
                    self.waiting.add(message.id or 0)
                    # Not an attempt, so not counted against the pass's limit: else a backlog of
                    # old entries waiting (as many as the limit) would use every pass up and
                    # newer ones would never be sent. Each is deferred `tries` times a pass at most.
                    self.remaining += 1
                else:  # what the deferred wait for may have just happened
                    self.waiting = {entry for entry, times in self.deferrals.items() if times >= self.tries}
            delivered += outcome.ok
        return delivered

    def release_unsent(self) -> None:
        with self.lock:
            unsent = [message.id or 0 for message in self.queue]
            self.queue.clear()
        _release(self.engine, self.owner, unsent)


def deliver_pending(engine: Engine, client: WebClient, clock: Clock, *, limit: int = 500) -> int:
    """Deliver with no capability hooks (plain Web API calls)."""
    return Courier().deliver_pending(engine, client, clock, limit=limit)


def pending_count(session: Session) -> int:
    """How many calls are still owed to Slack."""
    query = (
        select(func.count()).select_from(OutboxMessage).where(col(OutboxMessage.state) == OutboxState.PENDING)
    )
    return int(session.exec(query).one())
