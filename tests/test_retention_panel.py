"""Erasing a closed child's case takes the panel's records about the child with it (issue 19:
missing episodes, NRM referral, links to suspected perpetrators, disruption activities,
intelligence, step ups, network links) and leaves every other child's untouched, on SQLite
and PostgreSQL with the injected clock. Which tables a case's erasure must reach is read
from the models, so a new table referring to a case cannot be missed silently."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Column, Connection, Engine, Table, event, func, not_, update
from sqlmodel import Session, SQLModel, col, select

import bot.models  # noqa: F401  (every table registered with the metadata)
from bot.actions.jobs import sweep_actions
from bot.actions.models import Action, Chase
from bot.audit.models import AuditEntry
from bot.audit.service import Actor, verify_chain
from bot.cases.models import Case
from bot.cases.timeline import start_section_47
from bot.convening.models import Meeting
from bot.database import session_scope
from bot.delivery.models import OutboxMessage
from bot.panel.jobs import sweep_panels
from bot.panel.models import (
    AgendaItem,
    ConferenceLink,
    Disruption,
    Intelligence,
    MissingEpisode,
    NetworkLink,
    NrmReferral,
    PerpetratorLink,
    PoliceOperation,
    Referral,
    SuspectedPerpetrator,
)
from bot.retention.jobs import run_retention
from bot.retention.service import ERASED_WITH_THE_CASE, KEPT_WITH_REASON
from bot_offline.local_slack.signed_client import StateValue
from tests.convening_support import convene
from tests.panel_support import (
    CHAIR,
    decide,
    items_of,
    opened_view,
    outcome_values,
    record_attendance,
    record_item,
    refer,
    sitting_for,
    views_opened,
)
from tests.test_panel_practice import (
    CHILD_A,
    CHILD_B,
    LOCATE,
    NAMES,
    POLICE,
    SOCIAL_WORKER,
    _episode_values,
    _missing_form,
)

CID = "U0CID001"  # Force CID: records police operations


def _referring_to_a_case() -> set[str]:
    """Every table whose rows refer to a case, directly or through another such row."""
    tables = {"case"}
    while True:
        more = {
            table.name
            for table in SQLModel.metadata.sorted_tables
            for key in table.foreign_keys
            if key.column.table.name in tables
        } - tables
        if not more:
            return tables
        tables |= more


def test_every_table_referring_to_a_case_is_erased_with_it_or_kept_for_a_stated_reason() -> None:
    tables = set(SQLModel.metadata.tables)
    missed = _referring_to_a_case() - set(ERASED_WITH_THE_CASE) - set(KEPT_WITH_REASON)
    assert not missed, f"say what erasing a case does with {sorted(missed)} (bot/retention/service.py)"
    assert not set(ERASED_WITH_THE_CASE) & set(KEPT_WITH_REASON)
    assert set(ERASED_WITH_THE_CASE) | set(KEPT_WITH_REASON) <= tables  # no stale names
    assert all(reason.strip() for reason in (*ERASED_WITH_THE_CASE.values(), *KEPT_WITH_REASON.values()))
    # the issue-19 records are among them, so the list really is read from the models
    assert {"missingepisode", "nrmreferral", "perpetratorlink", "disruption", "intelligence"} <= (
        _referring_to_a_case()
    )


def _columns_to_case() -> list[Column[Any]]:
    return [
        key.parent
        for table in SQLModel.metadata.sorted_tables
        for key in table.foreign_keys
        if key.column.table.name == "case"
    ]


def _naming(session: Session, case_id: int) -> dict[tuple[str, str], int]:
    """How many rows of each table name this case, column by column."""
    counts: dict[tuple[str, str], int] = {}
    for column in _columns_to_case():
        table: Table = column.table  # type: ignore[assignment]
        counts[(table.name, column.name)] = session.exec(
            select(func.count()).select_from(table).where(column == case_id)  # type: ignore[arg-type]
        ).one()
    return counts


def _dangling(session: Session) -> list[str]:
    """Every foreign key in the database whose row is gone: nothing may be left orphaned."""
    found = []
    for table in SQLModel.metadata.sorted_tables:
        for key in table.foreign_keys:
            parent = key.column
            orphans = session.exec(
                select(func.count())
                .select_from(table)
                .where(
                    key.parent.is_not(None),
                    not_(select(parent).where(parent == key.parent).exists()),
                )
            ).one()
            if orphans:
                found.append(f"{table.name}.{key.parent.name} -> {parent.table.name}: {orphans}")
    return found


def _fill_as_the_migration_does(session: Session) -> None:
    """Migration 0016's filling of the outbox's case, run on this database."""
    import importlib

    from alembic.migration import MigrationContext
    from alembic.operations import Operations

    migration = importlib.import_module("bot.migrations.versions.0016_outbox_erasure_index")
    with Operations.context(MigrationContext.configure(session.connection())):
        migration._fill()
    session.commit()


@contextmanager
def _statements(engine: Engine) -> Iterator[list[str]]:
    """The SQL the engine runs inside the block."""
    seen: list[str] = []

    def hear(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        seen.append(statement)

    event.listen(engine, "before_cursor_execute", hear)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", hear)


def _plan(connection: Connection, statement: str) -> str:
    """The database's plan for a statement, as text (PostgreSQL told to avoid a sequential
    scan where it can: on a test's few rows it would rightly prefer one)."""
    if connection.dialect.name == "sqlite":
        rows = connection.exec_driver_sql(f"EXPLAIN QUERY PLAN {statement}").all()
        return " ".join(str(row[-1]) for row in rows)
    with connection.begin():
        connection.exec_driver_sql("SET LOCAL enable_seqscan = off")
        rows = connection.exec_driver_sql(f"EXPLAIN {statement}").all()
    return " ".join(str(row[0]) for row in rows)


def _perpetrator(bot, description: str, linked: str) -> None:
    before = views_opened(bot)
    bot.slack.command("/panel", "perpetrator", user_id=POLICE)
    form = opened_view(bot, before)
    values = {
        "panel": {"value": StateValue.static_select("birmingham-mace")},
        "description": {"value": StateValue.text(description)},
        "police_reference": {"value": StateValue.text(None)},
        "linked": {"value": StateValue.text(linked)},
        "summary": {"value": StateValue.text(None)},
    }
    assert bot.slack.view_submission(POLICE, form, values=values).status == 200


def _disruption(target: str) -> dict[str, Any]:
    return {
        "disruption_tactic": {"value": StateValue.static_select("cawn")},
        "disruption_owner": {"value": StateValue.users_select(POLICE)},
        "disruption_due": {"value": StateValue.datepicker("2026-12-01")},
        "disruption_target": {"value": StateValue.text(target)},
    }


def _missing(bot, reference: str, went: datetime, back: datetime) -> None:
    form = _missing_form(bot, LOCATE, reference)
    answer = bot.slack.view_submission(LOCATE, form, values=_episode_values(went, back, "Coventry"))
    assert answer.status == 200 and not answer.body, answer.body


def _case_id(session: Session, reference: str) -> int:
    case = session.exec(select(Case).where(Case.reference == reference)).one()
    return case.id or 0


def _a_child_with_every_panel_record(bot, clock) -> None:
    """CHILD_A with a strategy discussion and section 47 enquiry, referred (with a link to
    CHILD_B), on the agenda with a step up to a conference, an NRM referral awaiting its
    decision and a disruption, then a police operation, intelligence, two suspected
    perpetrators (one also CHILD_B's) and a missing episode, all chased; CHILD_B on the
    same agenda with its own disruption against the shared perpetrator, a link back to
    CHILD_A and a missing episode of its own."""
    runtime = bot.runtime
    discussion = convene(bot, case_reference=StateValue.text(CHILD_A), child_name=StateValue.text(NAMES[0]))
    with session_scope(runtime.engine) as session:
        row = session.get(Meeting, discussion.id)
        assert row is not None
        start_section_47(
            session,
            row,
            statutory=runtime.statutory_calendar,
            partnership=runtime.partnership,
            actor=Actor("system", "", None),
            now=clock.now(),
        )
    sweep_panels(runtime)
    refer(bot, SOCIAL_WORKER, case_reference=CHILD_B, child_name=NAMES[1])
    refer(
        bot,
        SOCIAL_WORKER,
        case_reference=CHILD_A,
        child_name=NAMES[0],
        links=f"case: {CHILD_B}\npeer: Boy known as K",
    )
    with Session(runtime.engine) as session:
        pending = [r.id for r in session.exec(select(Referral).where(Referral.state == "pending"))]
    for referral_id in pending:
        decide(bot, referral_id or 0, accept=True)
    _perpetrator(bot, "Older man called Tee in the flats", f"{CHILD_A}, {CHILD_B}")  # SP-2026-0001
    _perpetrator(bot, "Woman known as Dee", CHILD_A)  # SP-2026-0002: CHILD_A's alone
    meeting, sitting = sitting_for(bot, "2026-11-24")
    clock.set(datetime(2026, 11, 18, 9, 0, tzinfo=UTC))
    sweep_panels(runtime)
    bot.settle()
    clock.set(datetime(2026, 11, 24, 12, 0, tzinfo=UTC))
    items = items_of(bot, sitting)
    item_a, item_b = items[CHILD_A].id or 0, items[CHILD_B].id or 0
    values = outcome_values(
        "step_up", destination="up:child_protection_conference", nrm="awaited", reason="Exploitation grows."
    )
    answer = record_item(bot, CHAIR, item_a, values | _disruption("SP-2026-0001"))
    assert answer.status == 200 and not answer.body, answer.body
    values = outcome_values(links=f"case: {CHILD_A}", reason="Still at risk.")
    answer = record_item(bot, CHAIR, item_b, values | _disruption("SP-2026-0001"))
    assert answer.status == 200 and not answer.body, answer.body
    bot.settle()
    # The same decision is then recorded as a step up to a police operation, which CID records.
    with session_scope(runtime.engine) as session:
        item = session.get(AgendaItem, item_a)
        assert item is not None
        item.outcome = {**item.outcome, "links": "police_operation"}
        session.add(item)
    before = views_opened(bot)
    bot.slack.block_actions(CID, [{"action_id": "panel_operation_open", "value": str(item_a)}])
    operation = opened_view(bot, before)
    answer = bot.slack.view_submission(
        CID,
        operation,
        values={
            "name": {"value": StateValue.text("Operation Larch")},
            "police_reference": {"value": StateValue.text("WMP/LARCH/2026/44")},
            "lead_officer": {"value": StateValue.users_select("U0CID002")},
            "started_on": {"value": StateValue.datepicker("2026-11-20")},
            "summary": {"value": StateValue.text(None)},
        },
    )
    assert answer.status == 200 and not answer.body, answer.body
    agencies = ["csc", "police-cid", "police-ppu", "locate", "yos", "health", "education", "early-help"]
    answer = record_attendance(
        bot, CHAIR, meeting, agencies, "County lines.", intelligence="Seen at the flats.", handling_code="4"
    )
    assert answer.status == 200 and not answer.body, answer.body
    with session_scope(runtime.engine) as session:
        # The sitting's form records intelligence for the sitting; the column for a child's
        # own exists, so the one recorded is made CHILD_A's.
        shared = session.exec(select(Intelligence)).one()
        shared.case_id = _case_id(session, CHILD_A)
        session.add(shared)
    clock.set(datetime(2026, 11, 27, 9, 0, tzinfo=UTC))
    _missing(
        bot, CHILD_A, datetime(2026, 11, 26, 18, 0, tzinfo=UTC), datetime(2026, 11, 27, 8, 0, tzinfo=UTC)
    )
    _missing(
        bot, CHILD_B, datetime(2026, 11, 26, 19, 0, tzinfo=UTC), datetime(2026, 11, 27, 7, 0, tzinfo=UTC)
    )
    sweep_panels(runtime)  # NRM decision overdue; return home interviews asked for
    clock.set(datetime(2026, 12, 3, 9, 0, tzinfo=UTC))
    sweep_actions(runtime)  # disruptions and the conference booking overdue: chased
    sweep_panels(runtime)
    bot.settle()


def test_a_closed_childs_panel_records_are_erased_and_other_childrens_are_untouched(bot, clock) -> None:
    _a_child_with_every_panel_record(bot, clock)
    engine = bot.runtime.engine
    with Session(engine) as session:
        a, b = _case_id(session, CHILD_A), _case_id(session, CHILD_B)
        # every kind of record is there, and chased, before the erasure
        episodes = list(session.exec(select(MissingEpisode.id).where(MissingEpisode.case_id == a)))
        nrms = list(session.exec(select(NrmReferral.id).where(NrmReferral.case_id == a)))
        actions = list(session.exec(select(Action.id).where(Action.case_id == a)))
        assert len(episodes) == len(nrms) == 1 and len(actions) >= 2
        for model in (Disruption, ConferenceLink, PoliceOperation, PerpetratorLink, Intelligence):
            assert session.exec(select(model).where(model.case_id == a)).first() is not None, model
        assert session.exec(select(NetworkLink).where(NetworkLink.linked_case_id == a)).first() is not None
        assert session.exec(select(Chase).where(col(Chase.action_id).in_(actions))).first() is not None
        keys = list(session.exec(select(OutboxMessage.key)))
        assert any(k.startswith(f"return-interview:{episodes[0]}:") for k in keys)
        assert any(k.startswith(f"nrm-chase:{nrms[0]}:") for k in keys)
        other_episode = session.exec(select(MissingEpisode.id).where(MissingEpisode.case_id == b)).one()
        assert any(k.startswith(f"return-interview:{other_episode}:") for k in keys)
        naming_b = _naming(session, b)
        # the panel's messages carry their case; the migration fills it in for those already
        # there from the record each key names, to the same cases
        carried = dict(session.exec(select(OutboxMessage.id, OutboxMessage.case_id)).all())
        assert {
            carried[i]
            for i, k in session.exec(select(OutboxMessage.id, OutboxMessage.key))
            if k.startswith(("return-interview:", "nrm-chase:"))
        } == {a, b}
        session.exec(update(OutboxMessage).values(case_id=None))
        session.commit()
        _fill_as_the_migration_does(session)
        assert dict(session.exec(select(OutboxMessage.id, OutboxMessage.case_id)).all()) == carried
        case = session.get(Case, a)
        assert case is not None
        case.closed_at = datetime(2027, 1, 4, 12, 0, tzinfo=UTC)
        session.add(case)
        session.commit()
    clock.set(datetime(2052, 1, 10, 12, 0, tzinfo=UTC))
    assert f"case {CHILD_A} (closed 04 Jan 2027) and all its records" in run_retention(
        bot.runtime, dry_run=True
    )
    with _statements(engine) as statements:
        assert f"case {CHILD_A} (closed 04 Jan 2027) and all its records" in run_retention(
            bot.runtime, dry_run=False
        )
    # the erasure deletes the case's panel messages by their indexed case, never by a key
    # pattern (the partner e-mails about its actions, by their links, are another statement)
    outbox = [s for s in statements if s.upper().startswith("DELETE FROM OUTBOXMESSAGE")]
    panel = [s for s in outbox if "subject_id" not in s]
    assert len(panel) == 1 and "case_id" in panel[0] and "LIKE" not in panel[0].upper(), outbox
    with engine.connect() as connection:
        assert "ix_outboxmessage_case_id" in _plan(connection, "DELETE FROM outboxmessage WHERE case_id = 1")
    bot.settle()
    with Session(engine) as session:
        assert session.get(Case, a) is None
        assert {k: v for k, v in _naming(session, a).items() if v} == {}  # nothing names the child
        assert _dangling(session) == []  # and nothing is left orphaned
        assert session.exec(select(Chase).where(col(Chase.action_id).in_(actions))).first() is None
        keys = list(session.exec(select(OutboxMessage.key)))
        assert not any(
            k.startswith((f"return-interview:{episodes[0]}:", f"nrm-chase:{nrms[0]}:")) for k in keys
        )
        assert any(k.startswith(f"return-interview:{other_episode}:") for k in keys)  # CHILD_B's chase kept
        # the shared perpetrator keeps CHILD_B's link and disruption; CHILD_A's alone has gone
        register = {
            p.reference: p.id
            for p in session.exec(select(SuspectedPerpetrator).order_by(SuspectedPerpetrator.id))
        }
        assert list(register) == ["SP-2026-0001"]
        assert list(session.exec(select(PerpetratorLink.case_id))) == [b]
        assert list(session.exec(select(Disruption.perpetrator_id))) == [register["SP-2026-0001"]]
        # CHILD_B's records are all there, less only its network link to the erased child
        expected = dict(naming_b)
        expected[("networklink", "case_id")] -= 1  # B -> A
        expected[("networklink", "linked_case_id")] -= 1  # A -> B
        assert _naming(session, b) == expected
        erased = session.exec(select(AuditEntry).where(AuditEntry.act == "retention.case_erased")).one()
        assert erased.case_reference == CHILD_A
        assert erased.details["perpetrators_removed"] == ["SP-2026-0002"]
        assert (erased.details["missing_episodes"], erased.details["nrm_referrals"]) == (1, 1)
        assert verify_chain(session) == []
