"""Bringing `schedules/agencies.yaml` into the database and finding people by Slack id."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlmodel import Session, col, select

from bot.partnership.models import Agency, Person, PersonRole
from bot.schedules import Partnership


@dataclass(frozen=True)
class Member:
    """A person as the listeners need them: who, which agency, which roles."""

    person_id: int
    slack_user_id: str
    name: str
    agency_code: str
    agency_name: str
    roles: frozenset[str]
    schedule_id: str = ""  # their id in agencies.yaml (for people without Slack)
    agency_kind: str = ""  # the agency's kind in agencies.yaml: police, health, ...

    def has_role(self, role: str) -> bool:
        return role in self.roles


def sync_partnership(session: Session, partnership: Partnership, *, now: datetime) -> None:
    """Make the agencies and people tables match the schedules (idempotent).

    People are matched by their id in the schedules, else Slack id, else e-mail; people no
    longer listed are marked inactive rather than deleted, because records refer to them.
    Every start runs this, so it reads each table once and writes in a few flushes (new
    agencies, then people, then roles) rather than a query or two per person.
    """
    agencies = {agency.code: agency for agency in session.exec(select(Agency))}
    people = list(session.exec(select(Person)))
    by_schedule_id = {person.schedule_id: person for person in people if person.schedule_id}
    by_slack = {person.slack_user_id: person for person in people if person.slack_user_id}
    by_email = {person.email.lower(): person for person in people if person.email}
    held_roles: dict[int, dict[str, PersonRole]] = {}
    for row in session.exec(select(PersonRole).order_by(col(PersonRole.id))):
        held_roles.setdefault(row.person_id, {})[row.role] = row
    configured_agencies = []
    for configured in partnership.agencies:
        agency = agencies.get(configured.code) or Agency(code=configured.code, name="", kind="")
        agency.name, agency.kind, agency.active = configured.name, configured.kind, True
        session.add(agency)
        configured_agencies.append((configured, agency))
    session.flush()  # the new agencies' ids, for their people
    placed = []
    for configured, agency in configured_agencies:
        for contact in partnership.people_of(configured.code):
            person = (
                by_schedule_id.get(contact.id)
                or (by_slack.get(contact.slack_user_id) if contact.slack_user_id else None)
                or (by_email.get(contact.email.lower()) if contact.email else None)
            )
            if person is None:
                person = Person(agency_id=agency.id or 0, name=contact.name)
            person.agency_id = agency.id or 0
            person.schedule_id = contact.id
            person.name = contact.name
            person.role_title = contact.title
            person.email = contact.email
            person.slack_user_id = contact.slack_user_id
            person.active = True
            person.updated_at = now
            session.add(person)
            placed.append((person, contact))
    session.flush()  # the new people's ids, for their roles
    seen_people: set[int] = set()
    for person, contact in placed:
        assert person.id is not None
        if person.id in seen_people:  # matched by two entries: the first one's roles are written first
            session.flush()
        seen_people.add(person.id)
        held = held_roles.setdefault(person.id, {})
        wanted = set(partnership.roles_of(contact))
        for role in sorted(wanted - held.keys()):
            held[role] = PersonRole(person_id=person.id, role=role)
            session.add(held[role])
        for role in sorted(held.keys() - wanted):
            session.delete(held.pop(role))
    for person in people:
        if person.id not in seen_people and person.active:
            person.active = False
            person.updated_at = now
            session.add(person)
    configured_codes = {agency.code for agency in partnership.agencies}
    for code, agency in agencies.items():
        if code not in configured_codes and agency.active:
            agency.active = False
            session.add(agency)
    session.flush()


def member_by_slack_id(session: Session, slack_user_id: str) -> Member | None:
    """The active person with this Slack id, with their agency and roles; None if unknown.

    One query (a row per role), as every listener asks this before it answers."""
    rows = session.exec(
        select(Person, Agency, col(PersonRole.role))
        .join(Agency, col(Agency.id) == col(Person.agency_id))
        .outerjoin(PersonRole, col(PersonRole.person_id) == col(Person.id))
        .where(col(Person.slack_user_id) == slack_user_id, col(Person.active) == True)  # noqa: E712
        .order_by(col(Person.id))
    ).all()
    if not rows:
        return None
    person, agency, _ = rows[0]
    return Member(
        person_id=person.id or 0,
        slack_user_id=slack_user_id,
        name=person.name,
        agency_code=agency.code,
        agency_name=agency.name,
        roles=frozenset(role for p, _, role in rows if p.id == person.id and role is not None),
        agency_kind=agency.kind,
    )


def member_by_person_id(session: Session, person_id: int) -> Member | None:
    """The active person with this id, as `member_by_slack_id` gives them: for the partner
    pages, where the person is the one a link was e-mailed to, Slack or not. One query."""
    rows = session.exec(
        select(Person, Agency, PersonRole.role)
        .join(Agency, col(Agency.id) == col(Person.agency_id))
        .outerjoin(PersonRole, col(PersonRole.person_id) == col(Person.id))
        .where(col(Person.id) == person_id, col(Person.active) == True)  # noqa: E712
    ).all()
    if not rows:
        return None
    person, agency, _ = rows[0]
    return Member(
        person_id=person_id,
        slack_user_id=person.slack_user_id or "",
        name=person.name,
        agency_code=agency.code,
        agency_name=agency.name,
        roles=frozenset(role for _, _, role in rows if role is not None),
        schedule_id=person.schedule_id or "",
        agency_kind=agency.kind,
    )
