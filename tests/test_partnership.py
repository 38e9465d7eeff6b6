"""The schedules' people and agencies come into the database, and stay in step with edits."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from sqlmodel import Session, select

from bot.bootstrap import calendar_for
from bot.database import session_scope
from bot.partnership.models import Agency, Person, PersonRole
from bot.partnership.service import member_by_slack_id, sync_partnership
from bot.schedules import load_partnership

ROOT = Path(__file__).resolve().parent.parent
NOW = datetime(2026, 11, 10, 10, 0, tzinfo=UTC)


def _copy_schedules(tmp_path: Path) -> Path:
    target = tmp_path / "schedules"
    target.mkdir()
    for source in (ROOT / "schedules").glob("*.yaml"):
        (target / source.name).write_text(source.read_text())
    return target


def test_sync_brings_in_every_agency_person_and_role(engine) -> None:
    partnership = load_partnership(ROOT / "schedules")
    with session_scope(engine) as session:
        sync_partnership(session, partnership, now=NOW)
    with Session(engine) as session:
        codes = set(session.exec(select(Agency.code)))
        assert {"csc", "police-cid", "police-ppu", "locate", "yos", "health", "education"} <= codes
        people = session.exec(select(Person)).all()
        assert len(people) == len(partnership.people())
        member = member_by_slack_id(session, "U0CSC001")
        assert member is not None
        assert member.agency_code == "csc"
        assert member.has_role("convenor")
        leads = {p.id for p in partnership.people() if "agency_lead" in partnership.roles_of(p)}
        stored_leads = session.exec(select(PersonRole).where(PersonRole.role == "agency_lead")).all()
        assert len(stored_leads) == len(leads)
        assert member_by_slack_id(session, "U0NOBODY") is None


def test_sync_is_idempotent_and_follows_edits(engine, tmp_path) -> None:
    schedules = _copy_schedules(tmp_path)
    with session_scope(engine) as session:
        sync_partnership(session, load_partnership(schedules), now=NOW)
        sync_partnership(session, load_partnership(schedules), now=NOW)
    with Session(engine) as session:
        count = len(session.exec(select(Person)).all())
        assert member_by_slack_id(session, "U0CSC001") is not None
    # The social worker leaves: they are removed from the schedules.
    agencies = schedules / "agencies.yaml"
    text = agencies.read_text()
    assert "U0CSC001" in text
    agencies.write_text(text.replace("U0CSC001", "U0CSC999"))
    with session_scope(engine) as session:
        sync_partnership(session, load_partnership(schedules), now=NOW)
    with Session(engine) as session:
        assert len(session.exec(select(Person)).all()) == count  # matched by id, not duplicated
        assert member_by_slack_id(session, "U0CSC001") is None
        assert member_by_slack_id(session, "U0CSC999") is not None


def test_sync_follows_role_changes_and_marks_people_who_left_inactive(engine, tmp_path) -> None:
    """A role given and one taken away, and a person left out of the schedules, on the
    second sync of the same database."""
    schedules = _copy_schedules(tmp_path)
    with session_scope(engine) as session:
        sync_partnership(session, load_partnership(schedules), now=NOW)
    agencies = schedules / "agencies.yaml"
    text = agencies.read_text()
    first = "        slack_user_id: U0CSC001\n        roles: [convenor]\n"
    second = "        slack_user_id: U0CSC002\n        roles: [convenor]\n"
    third = "      - id: sw-chaudhry\n"
    assert first in text and second in text and third in text
    text = text.replace(first, first.replace("[convenor]", "[chair]"))
    # Imran Chaudhry (U0CSC003) leaves: his entry goes, up to the next one's id.
    start = text.index(third)
    text = text[:start] + text[text.index("      - id:", start + len(third)) :]
    agencies.write_text(text)
    with session_scope(engine) as session:
        sync_partnership(session, load_partnership(schedules), now=NOW)
    with Session(engine) as session:
        moved = member_by_slack_id(session, "U0CSC001")
        assert moved is not None and moved.roles == frozenset({"chair"})
        kept = member_by_slack_id(session, "U0CSC002")
        assert kept is not None and kept.roles == frozenset({"convenor"})
        assert member_by_slack_id(session, "U0CSC003") is None
        left = session.exec(select(Person).where(Person.slack_user_id == "U0CSC003")).one()
        assert not left.active
        roles = session.exec(select(PersonRole.person_id, PersonRole.role)).all()
        assert len(roles) == len(set(roles))


def test_the_calendar_uses_the_partnerships_working_hours() -> None:
    partnership = load_partnership(ROOT / "schedules")
    calendar = calendar_for(partnership, "Europe/London")
    hours = partnership.working_hours
    assert calendar.day_starts == hours.start
    assert calendar.day_ends == hours.end
    # A Saturday morning referral waits for Monday's working start.
    monday_start = calendar.next_working_moment(datetime(2026, 11, 14, 9, 0, tzinfo=UTC))
    assert calendar.local(monday_start).date().isoformat() == "2026-11-16"
    assert calendar.local(monday_start).time() == hours.start
