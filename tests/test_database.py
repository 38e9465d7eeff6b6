"""The record: migrations match the models, times survive both databases, the audit chain holds."""

from __future__ import annotations

import hashlib
import itertools
import json
import threading
import time
from datetime import UTC, date, datetime, timedelta, timezone

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, select

from bot.audit.models import AuditEntry
from bot.audit.service import Actor, canonical_entry, hash_of, record, verify_chain
from bot.cases.models import Case
from bot.convening.models import Invitation, Meeting
from bot.database import read_scope, session_scope
from bot.models import metadata
from bot.partnership.models import Agency


def test_migrations_create_exactly_the_models(engine) -> None:
    with engine.connect() as connection:
        differences = compare_metadata(MigrationContext.configure(connection), metadata)
    assert differences == []


def test_times_come_back_aware_and_equal_on_both_databases(engine) -> None:
    start = datetime(2026, 10, 25, 0, 30, tzinfo=timezone(timedelta(hours=1)))  # BST, on change day
    with session_scope(engine) as session:
        session.add(
            Meeting(reference="SD-2026-0001", meeting_type="strategy_discussion", scheduled_start=start)
        )
    with Session(engine) as session:
        meeting = session.exec(select(Meeting)).one()
    assert meeting.scheduled_start is not None
    assert meeting.scheduled_start.tzinfo is not None
    assert meeting.scheduled_start == start
    assert meeting.scheduled_start.utcoffset() == timedelta(0)


def test_a_naive_time_is_refused(engine) -> None:
    with pytest.raises(Exception, match="naive datetime"), session_scope(engine) as session:
        session.add(Meeting(reference="SD-2026-0002", meeting_type="x", deadline=datetime(2026, 1, 1)))


def test_references_are_unique_and_nothing_half_written_is_kept(engine) -> None:
    with session_scope(engine) as session:
        session.add(Case(reference="CASE-1", child_name="Test Child", child_date_of_birth=date(2012, 1, 1)))
    with pytest.raises(IntegrityError), session_scope(engine) as session:
        session.add(Agency(code="csc-x", name="x", kind="x"))
        session.flush()
        session.add(Case(reference="CASE-1"))
    with Session(engine) as session:
        assert session.exec(select(Agency).where(Agency.code == "csc-x")).first() is None
        assert len(session.exec(select(Case)).all()) == 1


def test_foreign_keys_are_enforced(engine) -> None:
    with pytest.raises(IntegrityError), session_scope(engine) as session:
        session.add(Invitation(meeting_id=999, agency_id=999))


def _append(engine, act: str, at: datetime) -> None:
    with session_scope(engine) as session:
        record(session, at=at, actor=Actor("U1", "T1"), act=act, record_type="meeting", record_id=1)


def test_audit_chain_links_and_detects_a_changed_entry(engine) -> None:
    at = datetime(2026, 11, 10, 10, 0, tzinfo=UTC)
    for number in range(5):
        _append(engine, f"act-{number}", at + timedelta(minutes=number))
    with Session(engine) as session:
        assert verify_chain(session) == []
        entries = session.exec(select(AuditEntry).order_by(AuditEntry.sequence)).all()
        assert [entry.sequence for entry in entries] == [1, 2, 3, 4, 5]
        assert all(b.previous_hash == a.entry_hash for a, b in itertools.pairwise(entries))
    with engine.begin() as connection:
        connection.execute(text("UPDATE auditentry SET act = 'forged' WHERE sequence = 3"))
    with Session(engine) as session:
        assert verify_chain(session) == ["entry 3 was changed after it was written"]


@pytest.mark.parametrize(
    ("person", "details", "words"),
    [
        (None, {}, "plain"),
        (42, {"b": [1, 2.5, None, True], "a": {"z": "y", "é": "ü"}}, 'quotes " and \\ and \n'),
        (0, {"reason": "Café – “smart” quotes 👍"}, "Zoë’s school"),
    ],
)
def test_the_fast_canonical_text_is_exactly_what_hash_of_hashes(person, details, words) -> None:
    """`audit verify` writes each entry's text directly; it must be byte for byte what
    `json.dumps` gives, or every entry would read as changed (or a change would pass)."""
    payload = {
        "sequence": 123_456,
        "at": datetime(2026, 11, 10, 10, 0, 0, 1234, tzinfo=UTC).isoformat(),
        "team_id": "T1",
        "actor_slack_id": "U1",
        "actor_person_id": person,
        "act": "discussion.viewed",
        "record_type": "meeting",
        "record_id": words,
        "case_reference": "CS-1",
        "details": details,
        "previous_hash": "a" * 64,
    }
    details_text = json.dumps(details, sort_keys=True, separators=(",", ":"))
    text_ = canonical_entry(*[details_text if key == "details" else value for key, value in payload.items()])
    assert hashlib.sha256(text_.encode("utf-8")).hexdigest() == hash_of(payload)


def test_audit_chain_detects_changed_details_and_times(engine) -> None:
    at = datetime(2026, 11, 10, 10, 0, 0, 500, tzinfo=UTC)
    with session_scope(engine) as session:
        for number in range(3):
            record(
                session,
                at=at + timedelta(seconds=number),
                actor=Actor("U1", "T1", person_id=number or None),
                act="document.downloaded",
                record_id=f"SD-2026-0000{number}",
                details={"file": f"minutes-{number}.docx", "version": number, "nested": {"b": 1, "a": "é"}},
            )
    with Session(engine) as session:
        assert verify_chain(session) == []
    with engine.begin() as connection:
        connection.execute(
            text("UPDATE auditentry SET details = :details WHERE sequence = 2"),
            {"details": json.dumps({"file": "other.docx", "version": 1, "nested": {"b": 1, "a": "é"}})},
        )
    with Session(engine) as session:
        assert verify_chain(session) == ["entry 2 was changed after it was written"]
    with engine.begin() as connection:
        connection.execute(
            text("UPDATE auditentry SET details = :details WHERE sequence = 2"),
            {"details": json.dumps({"nested": {"a": "é", "b": 1}, "version": 1, "file": "minutes-1.docx"})},
        )
    with Session(engine) as session:
        assert verify_chain(session) == []  # the same details, stored in another key order
    with session_scope(engine) as session:
        entry = session.exec(select(AuditEntry).where(AuditEntry.sequence == 3)).one()
        entry.at = entry.at + timedelta(microseconds=1)
        session.add(entry)
    with Session(engine) as session:
        assert verify_chain(session) == ["entry 3 was changed after it was written"]


def test_audit_chain_detects_a_deleted_entry(engine) -> None:
    at = datetime(2026, 11, 10, 10, 0, tzinfo=UTC)
    for number in range(4):
        _append(engine, f"act-{number}", at)
    with engine.begin() as connection:
        connection.execute(text("DELETE FROM auditentry WHERE sequence = 4"))
        connection.execute(text("DELETE FROM auditentry WHERE sequence = 2"))
    with Session(engine) as session:
        problems = verify_chain(session)
    assert "entry 2 is missing (next is 3)" in problems
    assert "entry 3 does not follow the entry before it" in problems
    assert "the trail ends at 3 but 4 were written" in problems


def test_concurrent_audit_appends_never_fork_the_chain(engine) -> None:
    at = datetime(2026, 11, 10, 10, 0, tzinfo=UTC)
    errors: list[BaseException] = []

    def writer(name: str) -> None:
        try:
            for number in range(10):
                _append(engine, f"{name}-{number}", at)
        except BaseException as error:
            errors.append(error)

    threads = [threading.Thread(target=writer, args=(f"w{n}",)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    with Session(engine) as session:
        assert verify_chain(session) == []
        assert len(session.exec(select(AuditEntry)).all()) == 40


def test_database_errors_never_carry_the_values_written(engine) -> None:
    """A failed write is logged; its message must not hold the child's details."""
    with session_scope(engine) as session:
        session.add(Case(reference="CASE-9", child_name="Secret Child Name"))
    with pytest.raises(IntegrityError) as raised, session_scope(engine) as session:
        session.add(Case(reference="CASE-9", child_name="Secret Child Name"))
    assert "Secret Child Name" not in str(raised.value)


def test_a_read_before_an_acknowledgement_does_not_wait_for_a_writer(engine) -> None:
    """`read_scope` sees what is committed, at once, while another transaction is writing
    (SQLite: holding the write lock; PostgreSQL: a row lock), and leaves nothing open."""
    with session_scope(engine) as session:
        session.add(Agency(code="reader-test", name="Before", kind="police"))
    with Session(engine) as writer:
        agency = writer.exec(select(Agency).where(Agency.code == "reader-test")).one()
        agency.name = "After"
        writer.flush()  # written, not committed
        started = time.monotonic()
        with read_scope(engine) as reader:
            assert reader.exec(select(Agency.name).where(Agency.code == "reader-test")).one() == "Before"
        assert time.monotonic() - started < 1
        writer.commit()
    with read_scope(engine) as reader:
        assert reader.exec(select(Agency.name).where(Agency.code == "reader-test")).one() == "After"


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
def test_documents_content_is_compressed_with_lz4_where_postgresql_has_it(engine) -> None:
    """A timeliness download stores 1.25 MB of CSV at a large partnership: LZ4 compresses it
    several times faster than pglz (migration 0017); a server built without LZ4 keeps its
    default. (SQLite has no such setting.)"""
    with engine.connect() as connection:
        methods = connection.execute(
            text("SELECT enumvals FROM pg_settings WHERE name = 'default_toast_compression'")
        ).scalar()
        compression = connection.execute(
            text(
                "SELECT attcompression FROM pg_attribute"
                " WHERE attrelid = 'document'::regclass AND attname = 'content'"
            )
        ).scalar()
    assert compression == ("l" if methods and "lz4" in methods else "")
