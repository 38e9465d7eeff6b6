"""A partnership at scale, on demand: years of records in realistic shapes, loaded fast.

`generate(engine, partnership, now=..., discussions=30_000)` fills a migrated database (whose
agencies and people are already synced from the schedules) with strategy discussions spread
over `years`, their invitations, agency updates (one version each), actions (about 4%
overdue and still open, most done), chases, documents (a superseded draft and an approved
version of each held discussion's minutes, and its action log), the uploads of those
documents in the outbox, cases and episodes, and a valid hash-chained audit trail; each
panel's sittings with their referrals and agendas, and the panel's practice records
(`panel_practice`: missing episodes and return home interviews, NRM referrals, suspected
perpetrators with their disruption actions, the network of links).
Hundreds of extra people are added across the agencies; some of the schedules' people carry
a large share (one convenor convenes a third of the discussions, one police officer owns
one action in eight), so the bot's own users see what a large partnership's users see.

On PostgreSQL rows go in with `COPY`; on SQLite with `executemany`. Ids are given here, so
no row is read back. The tests use it at small sizes (`discussions=10` and `100`); the
benchmark at the issue's (`python -m tests.benchmarks.generate --help`).
"""

from __future__ import annotations

import argparse
import json
import random
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from hashlib import sha256
from operator import itemgetter
from typing import Any

from sqlalchemy import JSON, Table, func, select, text
from sqlalchemy.engine import Connection, Engine
from sqlmodel import Session

from bot.actions.chasing import DatedSteps, timeline
from bot.actions.models import Action, ActionStatus, Chase
from bot.agency_updates.models import AgencyUpdate, AgencyUpdateVersion
from bot.audit.models import AuditEntry, AuditHead
from bot.audit.service import GENESIS_HASH, canonical_entry
from bot.cases.models import Case, CaseEpisode
from bot.convening.models import Invitation, Meeting
from bot.delivery.models import OutboxMessage
from bot.minutes.models import Document
from bot.panel.calendar import next_sitting, sittings
from bot.panel.models import AgendaItem, PanelCase, PanelSitting, Referral
from bot.panel.service import REFERRAL_PREFIX
from bot.partnership.models import Agency, Person
from bot.references import ReferenceCounter
from bot.schedules import Partnership
from bot.working_days import ServiceCalendar
from tests.benchmarks import panel_practice
from tests.benchmarks.panel_practice import PRACTICE_MODELS, Child, Sitting, Staff

# Who carries a large share: the sample convenor, the police officer the tests use.
BUSY_CONVENOR = "U0CSC001"
BUSY_OWNER = "U0PPU001"
BATCH = 20_000


GENERATED = (
    Person,
    Case,
    CaseEpisode,
    Meeting,
    Invitation,
    Action,
    Chase,
    AgencyUpdate,
    AgencyUpdateVersion,
    Document,
    OutboxMessage,
    AuditEntry,
    PanelSitting,
    Referral,
    PanelCase,
    AgendaItem,
    *PRACTICE_MODELS,
)


@dataclass
class Counts:
    """Rows written per table, and how long it took."""

    rows: dict[str, int] = field(default_factory=dict)
    seconds: float = 0.0
    phases: dict[str, float] = field(default_factory=dict)  # seconds per table, indexes, ANALYZE

    def add(self, table: str, number: int) -> None:
        self.rows[table] = self.rows.get(table, 0) + number

    def timed(self, phase: str, started: float) -> None:
        self.phases[phase] = self.phases.get(phase, 0.0) + time.monotonic() - started

    def __str__(self) -> str:
        listed = ", ".join(f"{n:,} {t}" for t, n in self.rows.items())
        spent = ", ".join(f"{p} {s:.1f}" for p, s in sorted(self.phases.items(), key=lambda x: -x[1]))
        return f"{listed} in {self.seconds:.1f} s ({spent})"


def _table(model: Any) -> Table:
    return model.__table__  # type: ignore[no-any-return]


def _json_columns(table: Table) -> set[str]:
    return {c.name for c in table.columns if isinstance(c.type, JSON)}


class Loader:
    """Writes rows to one table a batch at a time: COPY on PostgreSQL, executemany on SQLite."""

    def __init__(self, connection: Connection, counts: Counts) -> None:
        self.connection = connection
        self.counts = counts
        self.postgresql = connection.dialect.name == "postgresql"

    def load(self, model: Any, rows: Iterable[dict[str, Any]]) -> None:
        table = _table(model)
        started = time.monotonic()
        batch: list[dict[str, Any]] = []
        for row in rows:
            batch.append(row)
            if len(batch) >= BATCH:
                self._write(table, batch)
                batch = []
        if batch:
            self._write(table, batch)
        self.counts.timed(table.name, started)

    def _write(self, table: Table, batch: list[dict[str, Any]]) -> None:
        self.counts.add(table.name, len(batch))
        # Columns a row leaves out take their model default (a column added by a later
        # migration, say), else NULL.
        defaults = {
            c.name: c.default.arg if c.default is not None and c.default.is_scalar else None
            for c in table.columns
            if c.name not in batch[0]
        }
        if not self.postgresql:
            self.connection.execute(table.insert(), [{**defaults, **row} for row in batch])
            return
        given = list(batch[0])
        columns = [*given, *defaults]
        pick, fixed = itemgetter(*given), tuple(defaults.values())
        quoted = ", ".join(f'"{c}"' for c in columns)
        # JSON columns go as text; every other value as it is (plain tuples, no per-value calls).
        json_at = [i for i, c in enumerate(columns) if c in _json_columns(table)]
        cursor = self.connection.connection.dbapi_connection.cursor()  # type: ignore[union-attr]
        with cursor.copy(f'COPY "{table.name}" ({quoted}) FROM STDIN') as copy:
            for row in batch:
                values = [*pick(row), *fixed]
                for i in json_at:
                    values[i] = json.dumps(values[i])
                copy.write_row(values)

    def defer_indexes(self, models: Iterable[Any]) -> list[str]:
        """PostgreSQL: drop the tables' secondary indexes before loading (one build after
        the load is many times faster than keeping them up to date row by row); returns the
        statements that build them again. Primary keys and constraints stay."""
        if not self.postgresql:
            return []
        names = [_table(m).name for m in models]
        found = self.connection.execute(
            text(
                "SELECT indexname, indexdef FROM pg_indexes WHERE schemaname = current_schema()"
                " AND tablename = ANY(:names) AND indexname NOT IN (SELECT conname FROM pg_constraint)"
            ),
            {"names": names},
        ).all()
        for name, _definition in found:
            self.connection.execute(text(f'DROP INDEX "{name}"'))
        return [definition for _name, definition in found]

    def build_indexes(self, definitions: list[str]) -> None:
        started = time.monotonic()
        if definitions:
            self.connection.execute(text("SET LOCAL maintenance_work_mem = '256MB'"))
        for definition in definitions:
            self.connection.execute(text(definition))
        self.counts.timed("indexes", started)

    def next_id(self, model: Any) -> int:
        table = _table(model)
        return (self.connection.execute(select(func.max(table.c.id))).scalar() or 0) + 1

    def reset_sequences(self, models: Iterable[Any]) -> None:
        """PostgreSQL: the id sequences after rows written with their ids."""
        if not self.postgresql:
            return
        for model in models:
            name = _table(model).name
            self.connection.execute(
                text(
                    f"SELECT setval(pg_get_serial_sequence('\"{name}\"', 'id'), "
                    f'COALESCE((SELECT MAX(id) FROM "{name}"), 0) + 1, false)'
                )
            )


@dataclass
class People:
    """Who is in the partnership, by agency, as stored (ids) and who is busy."""

    by_agency: dict[int, list[int]]
    agency_codes: dict[int, str]
    convenors: list[int]
    chairs: list[int]
    busy_convenor: int
    busy_owner: int
    busy_owner_agency: int


def _add_people(
    loader: Loader, session: Session, partnership: Partnership, extra: int, now: datetime
) -> People:
    agencies = {a.id: a.code for a in session.exec(select(Agency)).scalars()}  # type: ignore[call-overload]
    people = list(session.exec(select(Person)).scalars())  # type: ignore[call-overload]
    by_agency: dict[int, list[int]] = {}
    for person in people:
        by_agency.setdefault(person.agency_id, []).append(person.id)
    first = loader.next_id(Person)
    agency_ids = sorted(agencies)
    rows = []
    for number in range(extra):
        agency_id = agency_ids[number % len(agency_ids)]
        rows.append(
            {
                "id": first + number,
                "agency_id": agency_id,
                "name": f"Generated Person {number + 1}",
                "role_title": "Practitioner",
                "email": f"person{number + 1}@generated.example.org",
                "active": True,
                "updated_at": now,
            }
        )
        by_agency.setdefault(agency_id, []).append(first + number)
    loader.load(Person, rows)
    by_slack = {p.slack_user_id: p for p in people if p.slack_user_id}
    by_schedule = {p.schedule_id: p.id for p in people if p.schedule_id}
    convenors = [by_schedule[p.id] for p in partnership.people_with_role("convenor") if p.id in by_schedule]
    chairs = [by_schedule[p.id] for p in partnership.people_with_role("chair") if p.id in by_schedule]
    csc = next(a for a, code in agencies.items() if code == "csc")
    # Generated social workers convene too, so the busy convenor is one of many.
    convenors += [r["id"] for r in rows if r["agency_id"] == csc]
    owner = by_slack[BUSY_OWNER]
    return People(
        by_agency=by_agency,
        agency_codes=agencies,
        convenors=convenors,
        chairs=chairs,
        busy_convenor=by_slack[BUSY_CONVENOR].id,
        busy_owner=owner.id,
        busy_owner_agency=owner.agency_id,
    )


def _working_start(moment: datetime) -> datetime:
    """A weekday at 10:00 UTC on or after the moment's day."""
    day = moment.date()
    while day.weekday() >= 5:
        day += timedelta(days=1)
    return datetime(day.year, day.month, day.day, 10, 0, tzinfo=UTC)


def generate(
    engine: Engine,
    partnership: Partnership,
    *,
    now: datetime,
    calendar: ServiceCalendar,
    discussions: int = 30_000,
    audit_entries: int | None = None,
    years: float = 5,
    actions_per_discussion: int = 10,
    extra_people: int | None = None,
    seed: int = 14,
) -> Counts:
    """Fill the database with `discussions` strategy discussions over `years` up to `now`
    (a few days ahead too: the open ones), and everything hanging off them."""
    random.seed(seed)
    started = time.monotonic()
    counts = Counts()
    audit_entries = audit_entries if audit_entries is not None else discussions * 100 // 3
    extra_people = extra_people if extra_people is not None else max(20, min(400, discussions // 75))
    with engine.begin() as connection, Session(bind=connection) as session:
        loader = Loader(connection, counts)
        deferred = loader.defer_indexes(GENERATED)
        people = _add_people(loader, session, partnership, extra_people, now)
        ids = {m: loader.next_id(m) for m in (Case, CaseEpisode, Meeting, Invitation, Action, Chase)}
        ids |= {m: loader.next_id(m) for m in (AgencyUpdate, AgencyUpdateVersion, Document, OutboxMessage)}
        before = session.exec(select(func.count()).select_from(_table(Meeting))).scalar_one()  # type: ignore[call-overload]
        cases_before = session.exec(select(func.count()).select_from(_table(Case))).scalar_one()  # type: ignore[call-overload]
        plan = _discussions(people, now, discussions, years, before=before, cases_before=cases_before)
        loader.load(Case, _cases(plan, ids[Case], now))
        loader.load(CaseEpisode, _episodes(plan, ids[Case], ids[CaseEpisode]))
        loader.load(Meeting, _meetings(plan, ids, people))
        agencies = sorted(a for a, code in people.agency_codes.items() if code != "partnership")
        loader.load(Invitation, _invitations(plan, ids, agencies))
        loader.load(AgencyUpdate, _updates(plan, ids, agencies, first=True))
        loader.load(AgencyUpdateVersion, _updates(plan, ids, agencies, first=False))
        planned = time.monotonic()
        actions = _actions(plan, ids, people, actions_per_discussion, now, partnership, calendar)
        counts.timed("timelines", planned)
        loader.load(Action, actions)
        loader.load(Chase, _chases(plan, ids, actions_per_discussion))
        loader.load(Document, _documents(plan, ids))
        loader.load(OutboxMessage, _uploads(plan, ids))
        serials: dict[tuple[str, int], int] = {
            (c.prefix, c.year): c.last
            for c in session.exec(select(ReferenceCounter)).scalars()  # type: ignore[call-overload]
        }
        children = _panels(loader, session, people, partnership, calendar, serials, now=now, years=years)
        children += _discussion_children(plan, ids, partnership)
        panel_practice.write(
            loader,
            children,
            staff=_staff(people),
            partnership=partnership,
            calendar=calendar,
            now=now,
            serials=serials,
            place_on_timeline=lambda row, due_now: _place_on_timeline(
                row, partnership, calendar, now, due_now=due_now, known={}
            ),
        )
        _reference_counters(session, serials)
        _audit(loader, session, plan, audit_entries, now)
        _counters(loader, session, plan)
        loader.reset_sequences(GENERATED)
        loader.build_indexes(deferred)
        session.commit()  # joined to the connection's transaction, which commits as the block ends
    if engine.dialect.name == "postgresql":
        analysed = time.monotonic()
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            connection.execute(text("ANALYZE"))
        counts.timed("ANALYZE", analysed)
    counts.seconds = time.monotonic() - started
    return counts


@dataclass(frozen=True)
class Planned:
    """One discussion to write: its number, when, its state and its case."""

    number: int  # in this run: ids follow on from it
    serial: int  # in the database: references follow on from it
    start: datetime
    state: str
    convenor: int
    chair: int
    case: int  # index into this run's cases
    case_reference: str


def _discussions(
    people: People, now: datetime, count: int, years: float, *, before: int, cases_before: int
) -> list[Planned]:
    span = timedelta(days=365.25 * years)
    first = now - span
    cases = max(1, int(count * 0.6))
    plan = []
    for number in range(count):
        # Spread evenly over the years, the last few days ahead of now.
        start = _working_start(first + (span + timedelta(days=10)) * number / max(count, 1))
        if start > now - timedelta(days=5):
            state = "scheduled" if number % 3 else "convening"
        else:
            state = "cancelled" if number % 20 == 0 else "held"
        convenor = (
            people.busy_convenor if number % 3 == 0 else people.convenors[number % len(people.convenors)]
        )
        case = number % cases
        chair = people.chairs[number % len(people.chairs)]
        reference = f"CS-9{cases_before + case:06d}"
        plan.append(Planned(number, before + number, start, state, convenor, chair, case, reference))
    return plan


def _reference(item: Planned) -> str:
    return f"SD-{item.start.year}-{item.serial + 1:05d}"


def _cases(plan: list[Planned], first: int, now: datetime) -> Iterator[dict[str, Any]]:
    references = {p.case: p.case_reference for p in plan}
    for index in range(max(p.case for p in plan) + 1):
        yield {
            "id": first + index,
            "reference": references[index],
            "subject_kind": "child",
            "subject_label": "",
            "child_name": f"Generated Child {index}",
            "child_date_of_birth": date(2010, 1, 1) + timedelta(days=index % 2000),
            "child_address": "",
            "school": "",
            "siblings_and_others_at_risk": "",
            "right_help_right_time_level": "complex_significant",
            "created_at": plan[min(index, len(plan) - 1)].start,
            "closed_at": None,
        }


def _episodes(plan: list[Planned], first_case: int, first: int) -> Iterator[dict[str, Any]]:
    for index in range(max(p.case for p in plan) + 1):
        moment = plan[min(index, len(plan) - 1)].start - timedelta(days=1)
        yield {
            "id": first + index,
            "case_id": first_case + index,
            "state": "closed",  # one open episode per case is enforced; history is closed
            "referred_at": moment,
            "threshold_level": "complex_significant",
            "threshold_decided_at": moment,
            "threshold_decided_by_id": None,
            "closed_at": None,
            "closed_by_id": None,
            "closure_outcome": "",
            "closure_reason": "",
            "created_at": moment,
        }


def _meetings(plan: list[Planned], ids: dict[Any, int], people: People) -> Iterator[dict[str, Any]]:
    for item in plan:
        held = item.state == "held"
        yield {
            "id": ids[Meeting] + item.number,
            "reference": _reference(item),
            "meeting_type": "strategy_discussion",
            "case_id": ids[Case] + item.case,
            "follows_meeting_id": None,
            "state": item.state,
            "urgency": "standard",
            "format": "video",
            "reason": "Generated discussion.",
            "concerns": ["criminal_exploitation"],
            "right_help_right_time_level": "complex_significant",
            "scheduled_start": item.start,
            "duration_minutes": 60,
            "referred_at": item.start - timedelta(days=1),
            "deadline": item.start + timedelta(days=2),
            "late_reason": "",
            "convenor_id": item.convenor,
            "chair_id": item.chair,
            "minute_taker_id": None,
            "channel_id": f"CG{item.serial:08d}",
            "status_message_ts": f"{item.start.timestamp():.6f}",
            "calendar_uid": f"generated-{item.serial}@example.org",
            "calendar_sequence": 0,
            "submission_key": None,
            "cancelled_reason": "Generated." if item.state == "cancelled" else "",
            "status_refreshed_at": None,
            "details": {},
            "created_at": item.start - timedelta(days=1),
            "held_at": item.start if held else None,
            "ended_at": item.start + timedelta(hours=1) if held else None,
            "episode_id": ids[CaseEpisode] + item.case,
            "out_of_hours": False,
            "out_of_hours_reason": "",
            "review_on": None,
            "review_state": "",
            "review_chase_step": 0,
            "review_next_chase_at": None,
            "review_resolution": "",
        }


def _invitations(plan: list[Planned], ids: dict[Any, int], agencies: list[int]) -> Iterator[dict[str, Any]]:
    for item in plan:
        for offset, agency in enumerate(agencies):
            answered = item.state == "held" or offset % 2 == 0
            yield {
                "id": ids[Invitation] + item.number * len(agencies) + offset,
                "meeting_id": ids[Meeting] + item.number,
                "agency_id": agency,
                "required": True,
                "why": "required",
                "state": "attending" if answered else "invited",
                "delegate_id": None,
                "decline_reason": "",
                "answered_by_id": None,
                "answered_at": item.start - timedelta(hours=20) if answered else None,
                "chase_step": 0,
                "next_chase_at": None,
                "created_at": item.start - timedelta(days=1),
            }


def _updates(
    plan: list[Planned], ids: dict[Any, int], agencies: list[int], *, first: bool
) -> Iterator[dict[str, Any]]:
    """One agency update per agency but one (and its one version), for each discussion."""
    writers = agencies[:-1]
    for item in plan:
        for offset, agency in enumerate(writers):
            update_id = ids[AgencyUpdate] + item.number * len(writers) + offset
            moment = item.start - timedelta(hours=18)
            if first:
                yield {
                    "id": update_id,
                    "meeting_id": ids[Meeting] + item.number,
                    "agency_id": agency,
                    "agenda_item_id": 0,
                    "state": "submitted",
                    "current_version": 1,
                    "late": False,
                    "amended": False,
                    "first_submitted_at": moment,
                    "submitted_at": moment,
                }
            else:
                yield {
                    "id": ids[AgencyUpdateVersion] + item.number * len(writers) + offset,
                    "update_id": update_id,
                    "version": 1,
                    "is_draft": False,
                    "author_id": 1,
                    "submission_key": f"generated-{update_id}",
                    "content": {"current_involvement": "Generated update."},
                    "risk_ratings": {},
                    "lawful_basis": "public_task",
                    "restrictions": [],
                    "not_for_family": False,
                    "late": False,
                    "created_at": moment,
                }


def _actions(
    plan: list[Planned],
    ids: dict[Any, int],
    people: People,
    per: int,
    now: datetime,
    partnership: Partnership,
    calendar: ServiceCalendar,
) -> list[dict[str, Any]]:
    """About 4% of all actions overdue and open, the rest of the past done; the future open.
    Open actions carry their place on the chasing timeline; about a third of the overdue
    ones have a step due now (what a sweep claims)."""
    agencies = sorted(people.by_agency)
    rows = []
    known: DatedSteps = {}  # the chasing steps of each due date, worked out once
    for item in plan:
        if item.state == "cancelled":
            continue
        for offset in range(per):
            number = item.number * per + offset
            if number % 8 == 0:
                owner, agency = people.busy_owner, people.busy_owner_agency
            else:
                agency = agencies[number % len(agencies)]
                staff = people.by_agency[agency]
                owner = staff[(number // len(agencies)) % len(staff)]
            due = (item.start + timedelta(days=5 + number % 25)).date()
            overdue = due < now.date()
            open_ = not overdue or number % 100 < 4
            row = {
                "id": ids[Action] + number,
                "reference": f"{_reference(item)}-A{offset + 1:02d}",
                "meeting_id": ids[Meeting] + item.number,
                "case_id": ids[Case] + item.case,
                "concerns": item.case_reference,
                "text": f"Generated action {offset + 1}: share the safety plan with the school.",
                "owner_id": owner,
                "agency_id": agency,
                "priority": "normal",
                "assigned_on": item.start.date(),
                "due_on": due,
                "completed_at": None if open_ else item.start + timedelta(days=3),
                "status": ActionStatus.OPEN if open_ else ActionStatus.DONE,
                "escalation_level": 0,
                "chase_step": 0,
                "snoozed_until": None,
                "snoozes": 0,
                "last_chased_at": None,
                "next_chase_at": None,
                "submission_key": None,
                "created_at": item.start,
            }
            if open_:
                _place_on_timeline(
                    row, partnership, calendar, now, due_now=overdue and number % 3 == 0, known=known
                )
            rows.append(row)
    return rows


def _place_on_timeline(
    row: dict[str, Any],
    partnership: Partnership,
    calendar: ServiceCalendar,
    now: datetime,
    *,
    due_now: bool,
    known: DatedSteps,
) -> None:
    """Chase steps done up to now; with `due_now`, the last one passed is left to claim."""
    action = Action(**{k: v for k, v in row.items() if k != "id"})
    steps = timeline(action, partnership, calendar, known)
    done = sum(1 for s in steps if s.at <= now)
    if due_now and done:
        done -= 1
    row["chase_step"] = done
    row["next_chase_at"] = steps[done].at if done < len(steps) else None
    if row["next_chase_at"] is None:
        row["status"] = ActionStatus.ESCALATED


def _chases(plan: list[Planned], ids: dict[Any, int], per: int) -> Iterator[dict[str, Any]]:
    """About one chase per action: the reminder on its due day."""
    number = 0
    for item in plan:
        if item.state == "cancelled":
            continue
        for offset in range(per):
            yield {
                "id": ids[Chase] + number,
                "action_id": ids[Action] + item.number * per + offset,
                "invitation_id": None,
                "step": "due_today",
                "to_person_id": None,
                "via": "slack_dm",
                "outbox_key": None,
                "at": item.start + timedelta(days=5),
            }
            number += 1


def _held(plan: list[Planned]) -> Iterator[Planned]:
    return (p for p in plan if p.state == "held")


def _documents(plan: list[Planned], ids: dict[Any, int]) -> Iterator[dict[str, Any]]:
    """A superseded draft and the approved minutes of every held discussion (what retention
    clears once the policy's days have passed), and its action log."""
    for index, item in enumerate(_held(plan)):
        base = {
            "meeting_id": ids[Meeting] + item.number,
            "case_id": ids[Case] + item.case,
            "sha256": "0" * 64,
            "content": b"PK generated document",
            "created_by_id": item.chair,
            "created_at": item.start + timedelta(hours=2),
            "circulated_at": None,
        }
        reference = _reference(item)
        approved_at = item.start + timedelta(days=1)
        yield {
            **base,
            "id": ids[Document] + index * 3,
            "kind": "minutes",
            "version": 1,
            "state": "superseded",
            "filename": f"{reference}-minutes-v1.docx",
            "approved_by_id": None,
            "approved_at": None,
        }
        yield {
            **base,
            "id": ids[Document] + index * 3 + 1,
            "kind": "minutes",
            "version": 2,
            "state": "approved",
            "filename": f"{reference}-minutes-v2.docx",
            "approved_by_id": item.chair,
            "approved_at": approved_at,
        }
        yield {
            **base,
            "id": ids[Document] + index * 3 + 2,
            "kind": "action_log",
            "version": 1,
            "state": "approved",
            "filename": f"{reference}-action-log-v1.docx",
            "approved_by_id": item.chair,
            "approved_at": approved_at,
        }


def _uploads(plan: list[Planned], ids: dict[Any, int]) -> Iterator[dict[str, Any]]:
    """The outbox's record of each document uploaded to Slack (sent)."""
    for index, item in enumerate(_held(plan)):
        for kind in range(3):
            document = ids[Document] + index * 3 + kind
            yield {
                "id": ids[OutboxMessage] + index * 3 + kind,
                "key": f"generated-upload:{document}",
                "method": "document.upload",
                "arguments": {"document_id": document},
                "purpose": "",
                "subject_id": None,
                "state": "sent",
                "attempts": 1,
                "next_attempt_at": item.start,
                "lease_owner": "",
                "lease_until": None,
                "last_error": "",
                "uncertain": False,
                "result": {"file": {"id": f"FG{document:09d}"}},
                "created_at": item.start,
                "delivered_at": item.start,
            }


# A panel's children and contexts: new referrals each sitting, kept under review for a few
# sittings (carried forward onto each agenda), then stepped down.
REFERRALS_PER_SITTING = 4
DECLINED_EVERY = 6  # one referral in six is declined
PENDING_FOR_NEXT = 3  # referrals waiting for the administrator before the next sitting


def _panels(
    loader: Loader,
    session: Session,
    people: People,
    partnership: Partnership,
    calendar: ServiceCalendar,
    serials: dict[tuple[str, int], int],
    *,
    now: datetime,
    years: float,
) -> list[Child]:
    """Every panel's sittings, each fortnight (its configured calendar, from its first date or
    `years` back) up to now, held with their agendas: new referrals first heard, and the
    children under review carried forward from sitting to sitting until stepped down; then
    the next sitting, open, with referrals waiting for a decision. Each panel child has a
    case of its own (`CS-8…`), so the discussions' cases are left as they are."""
    if not partnership.panels:
        return []
    agency_ids = {code: agency_id for agency_id, code in people.agency_codes.items()}
    stored = dict(session.exec(select(Person.schedule_id, Person.id)).all())  # type: ignore[call-overload]
    ids = {m: loader.next_id(m) for m in (Meeting, Invitation, Case, CaseEpisode)}
    ids |= {m: loader.next_id(m) for m in (PanelSitting, Referral, PanelCase, AgendaItem)}
    meetings, invitations, sitting_rows, cases, episodes = [], [], [], [], []
    referrals, panel_cases, items = [], [], []
    # References follow on from those already given (`serials`); sittings already stored
    # are left alone (a second run adds discussions, not the same sittings again).
    children: list[Child] = []
    existing = set(session.exec(select(PanelSitting.panel_code, PanelSitting.scheduled_for)).all())  # type: ignore[call-overload]
    first_case = session.exec(select(func.count()).select_from(_table(Case))).scalar_one()  # type: ignore[call-overload]
    start = (now - timedelta(days=365.25 * years)).date()
    for panel in partnership.panels:
        kind = partnership.meeting_type(panel.meeting_type)
        administrator = stored.get(panel.administrators[0])
        chair = stored.get(panel.chairs[0]) if panel.chairs else None
        held = [
            s for s in sittings(panel, calendar, max(start, panel.first_date), now.date()) if s.starts < now
        ]
        upcoming = next_sitting(panel, calendar, now)
        under_review: list[tuple[int, int, str]] = []  # panel case id, sittings left, risk
        if any((panel.code, s.scheduled_for) in existing for s in [*held, upcoming]):
            continue
        for number, sitting in enumerate([*held, upcoming]):
            is_held = sitting.starts < now
            year = calendar.local(sitting.starts).year
            prefix = partnership.settings.panel_reference_prefix
            serials[(prefix, year)] = serials.get((prefix, year), 0) + 1
            meeting_id = ids[Meeting] + len(meetings)
            reference = f"{prefix}-{year}-{serials[(prefix, year)]:04d}"
            meetings.append(
                {
                    "id": meeting_id,
                    "reference": reference,
                    "meeting_type": panel.meeting_type,
                    "case_id": None,
                    "follows_meeting_id": None,
                    "state": "held" if is_held else "scheduled",
                    "urgency": kind.default_urgency,
                    "format": "meeting",
                    "reason": f"{panel.name}: scheduled sitting",
                    "concerns": [],
                    "right_help_right_time_level": "",
                    "scheduled_start": sitting.starts,
                    "duration_minutes": panel.duration_minutes,
                    "referred_at": None,
                    "deadline": sitting.starts,
                    "late_reason": "",
                    "convenor_id": administrator,
                    "chair_id": chair,
                    "minute_taker_id": None,
                    "channel_id": f"CP{meeting_id:08d}",
                    "status_message_ts": f"{sitting.starts.timestamp():.6f}",
                    "calendar_uid": f"generated-panel-{meeting_id}@example.org",
                    "calendar_sequence": 0,
                    "submission_key": None,
                    "cancelled_reason": "",
                    "status_refreshed_at": None,
                    "details": {
                        "panel": panel.code,
                        "scheduled_for": sitting.scheduled_for.isoformat(),
                        "referral_cutoff": sitting.referral_cutoff.isoformat(),
                        "updates_cutoff": sitting.updates_cutoff.isoformat(),
                        "skipped": [],
                    },
                    "created_at": sitting.starts - timedelta(days=14),
                    "held_at": sitting.starts if is_held else None,
                    "ended_at": sitting.starts + timedelta(minutes=panel.duration_minutes)
                    if is_held
                    else None,
                    "episode_id": None,
                    "out_of_hours": False,
                    "out_of_hours_reason": "",
                    "review_on": None,
                    "review_state": "",
                    "review_chase_step": 0,
                    "review_next_chase_at": None,
                    "review_resolution": "",
                }
            )
            for code in panel.standing_agencies:
                if code not in agency_ids:
                    continue
                invitations.append(
                    {
                        "id": ids[Invitation] + len(invitations),
                        "meeting_id": meeting_id,
                        "agency_id": agency_ids[code],
                        "required": True,
                        "why": "required",
                        "state": "attending" if is_held else "invited",
                        "delegate_id": None,
                        "decline_reason": "",
                        "answered_by_id": None,
                        "answered_at": sitting.starts - timedelta(days=2) if is_held else None,
                        "chase_step": 0,
                        "next_chase_at": None,
                        "created_at": sitting.starts - timedelta(days=14),
                    }
                )
            sitting_id = ids[PanelSitting] + len(sitting_rows)
            issued = sitting.referral_cutoff if sitting.referral_cutoff <= now else None
            # The children referred for this sitting: new cases, most accepted.
            new = REFERRALS_PER_SITTING if is_held else PENDING_FOR_NEXT
            for offset in range(new):
                case_index = len(cases)
                referred_at = sitting.referral_cutoff - timedelta(days=3 + offset)
                case_id = ids[Case] + case_index
                cases.append(
                    {
                        "id": case_id,
                        "reference": f"CS-8{first_case + case_index:06d}",
                        "subject_kind": "child",
                        "subject_label": "",
                        "child_name": f"Generated Panel Child {case_index}",
                        "child_date_of_birth": date(2009, 1, 1) + timedelta(days=case_index % 2000),
                        "child_address": "",
                        "school": "",
                        "siblings_and_others_at_risk": "",
                        "right_help_right_time_level": "complex_significant",
                        "created_at": referred_at,
                        "closed_at": None,
                    }
                )
                episodes.append(
                    {
                        "id": ids[CaseEpisode] + case_index,
                        "case_id": case_id,
                        "state": "closed",
                        "referred_at": referred_at,
                        "threshold_level": "complex_significant",
                        "threshold_decided_at": referred_at,
                        "threshold_decided_by_id": None,
                        "closed_at": None,
                        "closed_by_id": None,
                        "closure_outcome": "",
                        "closure_reason": "",
                        "created_at": referred_at,
                    }
                )
                pending = not is_held
                declined = is_held and (len(referrals) % DECLINED_EVERY == DECLINED_EVERY - 1)
                risk = ("high", "medium", "low")[len(referrals) % 3]
                panel_case_id = None
                if is_held and not declined:
                    panel_case_id = ids[PanelCase] + len(panel_cases)
                    stays = 3 + len(panel_cases) % 8  # sittings under review, carried forward
                    stepped_down = number + stays < len(held)
                    last_sitting = held[min(number + stays, len(held) - 1)]
                    panel_cases.append(
                        {
                            "id": panel_case_id,
                            "panel_code": panel.code,
                            "case_id": case_id,
                            "state": "stepped_down" if stepped_down else "under_review",
                            "risk_level": risk,
                            "screening_result": "moderate",
                            "plan_status": "Safety plan in place.",
                            "next_review_on": None if stepped_down else upcoming.held_on,
                            "added_at": referred_at + timedelta(days=1),
                            "stepped_down_at": last_sitting.starts if stepped_down else None,
                        }
                    )
                    under_review.append((panel_case_id, stays, risk))
                year_referred = calendar.local(referred_at).year
                serials[(REFERRAL_PREFIX, year_referred)] = (
                    serials.get((REFERRAL_PREFIX, year_referred), 0) + 1
                )
                referral_id = ids[Referral] + len(referrals)
                referrals.append(
                    {
                        "id": referral_id,
                        "reference": f"{REFERRAL_PREFIX}-{year_referred}-"
                        f"{serials[(REFERRAL_PREFIX, year_referred)]:04d}",
                        "panel_code": panel.code,
                        "subject_kind": "child",
                        "case_id": case_id,
                        "reasons": "Generated referral: going missing, found out of area.",
                        "risk_level": risk,
                        "screening_result": "moderate",
                        "links": [],
                        "referred_by_id": people.busy_owner,
                        "state": "pending" if pending else ("declined" if declined else "accepted"),
                        "sitting_id": sitting_id if is_held and not declined else None,
                        "panel_case_id": panel_case_id,
                        "linked_to_existing": False,
                        "decided_by_id": None if pending else administrator,
                        "decided_at": None if pending else referred_at + timedelta(days=1),
                        "decline_reason": "Below the panel's threshold." if declined else "",
                        "submission_key": f"generated-referral-{referral_id}",
                        "created_at": referred_at,
                    }
                )
                heard = is_held and not declined
                children.append(
                    Child(
                        case_id=case_id,
                        reference=cases[-1]["reference"],
                        panel_code=panel.code,
                        since=referred_at,
                        referred_by=people.busy_owner,
                        source=f"referral {referrals[-1]['reference']}",
                        sitting=Sitting(meeting_id, reference, sitting.starts) if heard else None,
                        stepped_down_at=panel_cases[-1]["stepped_down_at"] if heard else None,
                    )
                )
            # The agenda: every child under review, the new ones first, then those carried forward.
            if is_held or issued is not None:
                still = []
                for position, (panel_case_id, left, risk) in enumerate(reversed(under_review), start=1):
                    first_time = left == 3 + (panel_case_id - ids[PanelCase]) % 8
                    items.append(
                        {
                            "id": ids[AgendaItem] + len(items),
                            "sitting_id": sitting_id,
                            "panel_case_id": panel_case_id,
                            "section": "new_referral" if first_time else "under_review",
                            "position": position,
                            "minutes": 15 if first_time else 5,
                            "outcome": {
                                "decision": "step_down" if left == 1 else "continue",
                                "risk_level": risk,
                                "plan_status": "Safety plan in place.",
                                "next_review_on": "",
                            }
                            if is_held
                            else {},
                            "reasons": ["new to the panel"] if first_time else ["review due"],
                            "stepped_up_meeting_id": None,
                            "recorded_by_id": administrator if is_held else None,
                            "recorded_at": sitting.starts + timedelta(hours=1) if is_held else None,
                        }
                    )
                    if left > 1:
                        still.append((panel_case_id, left - 1, risk))
                under_review = still
            sitting_rows.append(
                {
                    "id": sitting_id,
                    "panel_code": panel.code,
                    "meeting_id": meeting_id,
                    "scheduled_for": sitting.scheduled_for,
                    "held_on": sitting.held_on,
                    "referral_cutoff": sitting.referral_cutoff,
                    "updates_cutoff": sitting.updates_cutoff,
                    "agenda_issued_at": issued,
                    "not_for_discussion": [],
                    "referrals_chased_at": None,
                    "created_at": sitting.starts - timedelta(days=14),
                }
            )
    loader.load(Case, cases)
    loader.load(CaseEpisode, episodes)
    loader.load(Meeting, meetings)
    loader.load(Invitation, invitations)
    loader.load(PanelSitting, sitting_rows)
    loader.load(PanelCase, panel_cases)
    loader.load(Referral, referrals)
    loader.load(AgendaItem, items)
    return children


def _reference_counters(session: Session, serials: dict[tuple[str, int], int]) -> None:
    """The counters past the references given here, so the bot's new ones follow on."""
    for (prefix, year), number in serials.items():
        counter = session.exec(  # type: ignore[call-overload]
            select(ReferenceCounter).where(ReferenceCounter.prefix == prefix, ReferenceCounter.year == year)
        ).scalar_one_or_none()
        counter = counter or ReferenceCounter(prefix=prefix, year=year)
        counter.last = max(counter.last, number)
        session.add(counter)
    session.flush()


AUDITED_ACTS = ("discussion.viewed", "invitation.answered", "action.created", "document.downloaded")


def _discussion_children(plan: list[Planned], ids: dict[Any, int], partnership: Partnership) -> list[Child]:
    """Each discussion's child, from its first discussion: its NRM referral (if any) links to it."""
    panel = partnership.panels[0].code if partnership.panels else ""
    first: dict[int, Planned] = {}
    for item in plan:
        first.setdefault(item.case, item)
    return [
        Child(
            case_id=ids[Case] + item.case,
            reference=item.case_reference,
            panel_code=panel,
            since=item.start,
            referred_by=item.convenor,
            source=f"discussion {_reference(item)}",
            strategy_meeting_id=ids[Meeting] + item.number,
            on_panel=False,
        )
        for item in first.values()
    ]


def _staff(people: People) -> Staff:
    police = [
        (person, agency)
        for agency, code in sorted(people.agency_codes.items())
        if code.startswith("police")
        for person in people.by_agency.get(agency, [])
    ]
    locate = [
        person
        for agency, code in people.agency_codes.items()
        if code == "locate"
        for person in people.by_agency.get(agency, [])
    ]
    return Staff(police=police or [(people.busy_owner, people.busy_owner_agency)], locate=locate)


def _audit(loader: Loader, session: Session, plan: list[Planned], count: int, now: datetime) -> None:
    """`count` entries spread over the years, chained after whatever is already there."""
    head = session.get(AuditHead, 1)
    sequence, previous = (head.sequence, head.last_hash) if head else (0, GENESIS_HASH)
    first_at = plan[0].start if plan else now
    span = (now - first_at) if now > first_at else timedelta(days=1)

    def rows() -> Iterator[dict[str, Any]]:
        nonlocal sequence, previous
        first_id = loader.next_id(AuditEntry)
        for number in range(count):
            sequence += 1
            item = plan[number * len(plan) // max(count, 1)] if plan else None
            entry = {
                "sequence": sequence,
                "at": first_at + span * (number / max(count, 1)),
                "team_id": "T0LOCAL",
                "actor_slack_id": BUSY_CONVENOR,
                "actor_person_id": None,
                "act": AUDITED_ACTS[number % len(AUDITED_ACTS)],
                "record_type": "meeting",
                "record_id": _reference(item) if item else "",
                "case_reference": item.case_reference if item else "",
                "details": {},
                "previous_hash": previous,
            }
            entry["entry_hash"] = sha256(
                canonical_entry(
                    sequence,
                    entry["at"].isoformat(),
                    "T0LOCAL",
                    BUSY_CONVENOR,
                    None,
                    entry["act"],
                    "meeting",
                    entry["record_id"],
                    entry["case_reference"],
                    "{}",
                    previous,
                ).encode("utf-8")
            ).hexdigest()
            previous = entry["entry_hash"]
            yield {"id": first_id + number, **entry}

    loader.load(AuditEntry, rows())
    if head is None:
        session.add(AuditHead(id=1, sequence=sequence, last_hash=previous))
    else:
        head.sequence, head.last_hash = sequence, previous
        session.add(head)
    session.flush()


def _counters(loader: Loader, session: Session, plan: list[Planned]) -> None:
    """The reference counters past the generated numbers, so new discussions follow on."""
    last: dict[int, int] = {}
    for item in plan:
        last[item.start.year] = max(last.get(item.start.year, 0), item.serial + 1)
    for year, number in last.items():
        counter = session.exec(  # type: ignore[call-overload]
            select(ReferenceCounter).where(ReferenceCounter.prefix == "SD", ReferenceCounter.year == year)
        ).scalar_one_or_none()
        counter = counter or ReferenceCounter(prefix="SD", year=year)
        counter.last = max(counter.last, number)
        session.add(counter)
    session.flush()


def main() -> int:
    """Fill a database (`--database-url`, migrated and synced here) at the size asked."""
    from bot.clock import SettableClock
    from bot.composition import build_runtime
    from bot.database import session_scope, upgrade
    from bot.partnership.service import sync_partnership
    from bot.settings import load_settings

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", required=True)
    parser.add_argument("--scale", type=float, default=1.0, help="1.0: 30,000 discussions, 1,000,000 audit")
    parser.add_argument("--now", default="2026-11-10T10:00:00+00:00")
    args = parser.parse_args()
    settings = load_settings().model_copy(update={"database_url": args.database_url})
    now = datetime.fromisoformat(args.now)
    runtime = build_runtime(settings, clock=SettableClock(now))
    upgrade(runtime.engine)
    with session_scope(runtime.engine) as session:
        sync_partnership(session, runtime.partnership, now=now)
    counts = generate(
        runtime.engine,
        runtime.partnership,
        now=now,
        calendar=runtime.calendar,
        discussions=int(30_000 * args.scale),
        audit_entries=int(1_000_000 * args.scale),
    )
    print(counts)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
