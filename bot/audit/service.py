"""Appending to and verifying the hash-chained audit trail."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import ColumnElement, Row, Select, String, cast, func, update
from sqlmodel import Session, col, select

from bot.audit.models import AuditEntry, AuditHead

GENESIS_HASH = "0" * 64


@dataclass(frozen=True)
class Actor:
    """Who did something, as Slack identified them."""

    slack_user_id: str = ""
    team_id: str = ""
    person_id: int | None = None


SYSTEM = Actor(slack_user_id="system")


def entry_hash(entry: AuditEntry) -> str:
    payload = {
        "sequence": entry.sequence,
        "at": entry.at.isoformat(),
        "team_id": entry.team_id,
        "actor_slack_id": entry.actor_slack_id,
        "actor_person_id": entry.actor_person_id,
        "act": entry.act,
        "record_type": entry.record_type,
        "record_id": entry.record_id,
        "case_reference": entry.case_reference,
        "details": entry.details,
        "previous_hash": entry.previous_hash,
    }
    return hash_of(payload)


# Exactly what `json.dumps(payload, sort_keys=True, separators=(",", ":"), default=str)`
# builds, made once: verifying a million entries should not build a million encoders.
_CANONICAL = json.JSONEncoder(sort_keys=True, separators=(",", ":"), default=str).encode


def hash_of(payload: dict[str, Any]) -> str:
    """The chain's hash of one entry's content (the keys `entry_hash` uses, `at` in ISO
    form): shared by appending, verifying, and anything that writes entries in bulk."""
    return hashlib.sha256(_CANONICAL(payload).encode("utf-8")).hexdigest()


_STRING = json.encoder.encode_basestring_ascii  # what `json.dumps` writes a string with


def canonical_entry(
    sequence: int,
    at: str,
    team_id: str,
    actor_slack_id: str,
    actor_person_id: int | None,
    act: str,
    record_type: str,
    record_id: str,
    case_reference: str,
    details: str,
    previous_hash: str,
) -> str:
    """The text `hash_of` hashes for one entry, written directly (keys in sorted order), with
    `details` already canonical JSON: four times faster than encoding a dictionary, which
    counts when a million entries are verified or generated. A test holds it to `hash_of`."""
    person = "null" if actor_person_id is None else int.__repr__(actor_person_id)
    return (
        f'{{"act":{_STRING(act)},"actor_person_id":{person},"actor_slack_id":{_STRING(actor_slack_id)},'
        f'"at":{_STRING(at)},"case_reference":{_STRING(case_reference)},"details":{details},'
        f'"previous_hash":{_STRING(previous_hash)},"record_id":{_STRING(record_id)},'
        f'"record_type":{_STRING(record_type)},"sequence":{int.__repr__(sequence)},"team_id":{_STRING(team_id)}}}'
    )


def record(
    session: Session,
    *,
    at: datetime,
    actor: Actor,
    act: str,
    record_type: str = "",
    record_id: str | int = "",
    case_reference: str = "",
    details: dict[str, Any] | None = None,
) -> AuditEntry:
    """Append one entry in the caller's transaction, chained to the one before.

    The head row is updated before it is read, so a concurrent writer waits for this
    transaction (row lock on PostgreSQL, the write lock on SQLite) instead of forking.
    """
    session.exec(update(AuditHead).where(col(AuditHead.id) == 1).values(sequence=col(AuditHead.sequence) + 1))
    head = session.get(AuditHead, 1, populate_existing=True)
    if head is None:
        head = AuditHead(id=1, sequence=1, last_hash=GENESIS_HASH)
        session.add(head)
        session.flush()
    entry = AuditEntry(
        sequence=head.sequence,
        at=at,
        team_id=actor.team_id,
        actor_slack_id=actor.slack_user_id,
        actor_person_id=actor.person_id,
        act=act,
        record_type=record_type,
        record_id=str(record_id),
        case_reference=case_reference,
        details=details or {},
        previous_hash=head.last_hash,
        entry_hash="",
    )
    entry.entry_hash = entry_hash(entry)
    head.last_hash = entry.entry_hash
    session.add(entry)
    session.add(head)
    session.flush()
    return entry


# Rows read per round trip when the whole trail is read: memory stays flat however long it is.
STREAM_BATCH = 5000
HASHED_COLUMNS = tuple(
    col(column)
    for column in (
        AuditEntry.sequence,
        AuditEntry.at,
        AuditEntry.team_id,
        AuditEntry.actor_slack_id,
        AuditEntry.actor_person_id,
        AuditEntry.act,
        AuditEntry.record_type,
        AuditEntry.record_id,
        AuditEntry.case_reference,
        AuditEntry.details,
        AuditEntry.previous_hash,
        AuditEntry.entry_hash,
    )
)


def _stream(session: Session, query: Select) -> Iterator[Row]:
    """Rows as the database sends them, a batch at a time (a server-side cursor on
    PostgreSQL), never the whole result in memory: the trail holds millions of entries."""
    yield from session.execute(query.execution_options(yield_per=STREAM_BATCH))


# The trail as the driver sends it: plain tuples, the time and details as stored, so
# verifying costs one hash a row and no objects (a million entries in seconds, not minutes).
_RAW_TRAIL = (
    "SELECT sequence, at, team_id, actor_slack_id, actor_person_id, act, record_type,"
    " record_id, case_reference, CAST(details AS TEXT), previous_hash, entry_hash"
    " FROM auditentry ORDER BY sequence"
)


_HASHED_KEYS = (
    "sequence",
    "at",
    "team_id",
    "actor_slack_id",
    "actor_person_id",
    "act",
    "record_type",
    "record_id",
    "case_reference",
    "details",
    "previous_hash",
)


def _iso_utc(value: datetime | str) -> str:
    """`at` as `entry_hash` saw it: aware, UTC, ISO. SQLite keeps the UTC time as text."""
    if isinstance(value, str):
        return datetime.fromisoformat(value).replace(tzinfo=UTC).isoformat()
    if value.tzinfo is None:
        return value.replace(tzinfo=UTC).isoformat()
    return value.astimezone(UTC).isoformat()


def _raw_trail(session: Session) -> Iterator[tuple[Any, ...]]:
    """The whole trail in sequence order, a batch at a time (a server-side cursor on
    PostgreSQL), as tuples straight from the driver, in the session's transaction."""
    connection = session.connection().execution_options(stream_results=True, yield_per=STREAM_BATCH)
    result = connection.exec_driver_sql(_RAW_TRAIL)
    try:
        yield from result
    finally:
        result.close()


def verify_chain(session: Session) -> list[str]:
    """Every break in the chain, as readable lines; an empty list means intact. Streams the
    trail in sequence order, holding one batch of rows at a time."""
    problems: list[str] = []
    previous = GENESIS_HASH
    expected_sequence = 1
    first = session.exec(select(func.min(col(AuditEntry.sequence)))).one()
    if first is not None and first > 1:
        # Retention pruned the oldest entries; a later "audit.pruned" entry attests where
        # the remaining chain starts. Without that attestation the gap is a break.
        for attestation in session.exec(select(AuditEntry).where(col(AuditEntry.act) == "audit.pruned")):
            if attestation.details.get("through_sequence") == first - 1:
                previous = str(attestation.details.get("last_hash"))
                expected_sequence = first
    sha256, canonical, loads, iso = hashlib.sha256, _CANONICAL, json.loads, _iso_utc
    for (
        sequence,
        at,
        team_id,
        actor_slack_id,
        actor_person_id,
        act,
        record_type,
        record_id,
        case_reference,
        details,
        previous_hash,
        stored_hash,
    ) in _raw_trail(session):
        if sequence != expected_sequence:
            problems.append(f"entry {expected_sequence} is missing (next is {sequence})")
        if previous_hash != previous:
            problems.append(f"entry {sequence} does not follow the entry before it")
        canonical_details = "{}" if details == "{}" else canonical(loads(details))
        fields = (
            sequence,
            iso(at),
            team_id,
            actor_slack_id,
            actor_person_id,
            act,
            record_type,
            record_id,
            case_reference,
            canonical_details,
            previous_hash,
        )
        try:
            text = canonical_entry(*fields)
        except TypeError:  # a NULL where text belongs: hashed as `hash_of` would, as null
            text = canonical(dict(zip(_HASHED_KEYS, fields, strict=True)) | {"details": loads(details)})
        if sha256(text.encode("utf-8")).hexdigest() != stored_hash:
            problems.append(f"entry {sequence} was changed after it was written")
        previous = stored_hash
        expected_sequence = sequence + 1
    head = session.get(AuditHead, 1)
    if head is not None and head.sequence != expected_sequence - 1:
        problems.append(f"the trail ends at {expected_sequence - 1} but {head.sequence} were written")
    return problems


# Entries about one child of a discussion of several, written under the discussion's
# reference: they belong to that child's trail alone, not to the shared part.
CHILD_ACTS = ("discussion.child_added", "discussion.child_recorded")


def about_case(session: Session, reference: str) -> ColumnElement[bool]:
    """Which entries are about a case: those filed under its reference, and, for a child,
    the shared part of every discussion concerning them (filed under the discussion's first
    child): the discussion's own entries, its invitations, agency updates and shared
    documents, and the actions the child shares. Another child's own entries (their
    actions, their record, their decisions) are not among them. One condition (sub-queries,
    no rows read here), so the export still streams."""
    from bot.actions.models import Action
    from bot.actions.service import child_actions_condition
    from bot.agency_updates.models import AgencyUpdate
    from bot.cases.models import Case
    from bot.children.service import concerning_child
    from bot.convening.models import Invitation, Meeting
    from bot.minutes.models import Document

    filed = col(AuditEntry.case_reference) == reference
    case = session.exec(select(Case).where(col(Case.reference) == reference)).first()
    if case is None or case.subject_kind != "child":
        return filed
    meetings = concerning_child(case.id)
    record_id = col(AuditEntry.record_id)
    kind = col(AuditEntry.record_type)
    as_text = lambda column: cast(column, String)  # noqa: E731 - record ids are stored as text
    shared_documents = select(as_text(Document.id)).where(
        col(Document.meeting_id).in_(meetings),
        col(Document.kind).in_(("minutes", "action_log", "minutes_shared")),
    )
    return (
        filed
        | (
            (kind == "meeting")
            & record_id.in_(select(col(Meeting.reference)).where(col(Meeting.id).in_(meetings)))
            & col(AuditEntry.act).not_in(CHILD_ACTS)
        )
        | (
            (kind == "action")
            & record_id.in_(select(col(Action.reference)).where(child_actions_condition(case)))
        )
        | ((kind == "document") & record_id.in_(shared_documents))
        | (
            (kind == "invitation")
            & record_id.in_(select(as_text(Invitation.id)).where(col(Invitation.meeting_id).in_(meetings)))
        )
        | (
            (kind == "agency_update")
            & record_id.in_(
                select(as_text(AgencyUpdate.id)).where(col(AgencyUpdate.meeting_id).in_(meetings))
            )
        )
    )


EXPORT_COLUMNS = (*_HASHED_KEYS, "entry_hash")  # every hashed field, then the hash


def export_rows(
    session: Session,
    *,
    start: datetime | None = None,
    end: datetime | None = None,
    case_reference: str | None = None,
) -> Iterator[list[str]]:
    """Audit entries as CSV rows (header first), for a date range and/or one case, yielded
    as they are read so an export of years holds one batch in memory. The hashes are
    included so an exported extract can be checked against the live chain."""
    query = select(*HASHED_COLUMNS).order_by(col(AuditEntry.sequence))
    if start is not None:
        query = query.where(col(AuditEntry.at) >= start)
    if end is not None:
        query = query.where(col(AuditEntry.at) < end)
    if case_reference:
        query = query.where(about_case(session, case_reference.strip().upper()))
    yield list(EXPORT_COLUMNS)
    for entry in _stream(session, query):
        yield export_row(entry)


def export_row(entry: Row) -> list[str]:
    """One entry, read as `HASHED_COLUMNS`, as every export writes it (the command line's
    and the desk's download): the same columns and text, so either can be checked
    against the live chain."""
    return [
        str(entry.sequence),
        entry.at.isoformat(),
        entry.team_id,
        entry.actor_slack_id,
        "" if entry.actor_person_id is None else str(entry.actor_person_id),
        entry.act,
        entry.record_type,
        entry.record_id,
        entry.case_reference,
        json.dumps(entry.details, sort_keys=True),
        entry.previous_hash,
        entry.entry_hash,
    ]
