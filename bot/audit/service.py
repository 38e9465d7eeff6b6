"""Appending to and verifying the hash-chained audit trail."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import update
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


def _entry_hash(entry: AuditEntry) -> str:
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
    canonical = json.dumps(payload, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


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
    entry.entry_hash = _entry_hash(entry)
    head.last_hash = entry.entry_hash
    session.add(entry)
    session.add(head)
    session.flush()
    return entry


def verify_chain(session: Session) -> list[str]:
    """Every break in the chain, as readable lines; an empty list means intact."""
    problems: list[str] = []
    previous = GENESIS_HASH
    expected_sequence = 1
    first = session.exec(select(AuditEntry).order_by(col(AuditEntry.sequence))).first()
    if first is not None and first.sequence > 1:
        # Retention pruned the oldest entries; a later "audit.pruned" entry attests where
        # the remaining chain starts. Without that attestation the gap is a break.
        for attestation in session.exec(select(AuditEntry).where(col(AuditEntry.act) == "audit.pruned")):
            if attestation.details.get("through_sequence") == first.sequence - 1:
                previous = str(attestation.details.get("last_hash"))
                expected_sequence = first.sequence
    for entry in session.exec(select(AuditEntry).order_by(col(AuditEntry.sequence))):
        if entry.sequence != expected_sequence:
            problems.append(f"entry {expected_sequence} is missing (next is {entry.sequence})")
        if entry.previous_hash != previous:
            problems.append(f"entry {entry.sequence} does not follow the entry before it")
        if _entry_hash(entry) != entry.entry_hash:
            problems.append(f"entry {entry.sequence} was changed after it was written")
        previous = entry.entry_hash
        expected_sequence = entry.sequence + 1
    head = session.get(AuditHead, 1)
    if head is not None and head.sequence != expected_sequence - 1:
        problems.append(f"the trail ends at {expected_sequence - 1} but {head.sequence} were written")
    return problems


EXPORT_COLUMNS = (
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
    "entry_hash",
)


def export_rows(
    session: Session,
    *,
    start: datetime | None = None,
    end: datetime | None = None,
    case_reference: str | None = None,
) -> list[list[str]]:
    """Audit entries as CSV rows (header first), for a date range and/or one case. The
    hashes are included so an exported extract can be checked against the live chain."""
    query = select(AuditEntry).order_by(col(AuditEntry.sequence))
    if start is not None:
        query = query.where(col(AuditEntry.at) >= start)
    if end is not None:
        query = query.where(col(AuditEntry.at) < end)
    if case_reference:
        query = query.where(col(AuditEntry.case_reference) == case_reference.strip().upper())
    rows = [list(EXPORT_COLUMNS)]
    for entry in session.exec(query):
        rows.append(
            [
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
        )
    return rows
