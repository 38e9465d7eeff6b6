"""Fixtures shared by the tests: both databases, and the whole bot on loopback."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import Engine

from bot.clock import SettableClock
from bot.database import make_engine, upgrade

POSTGRES_ADMIN_URL = os.environ.get("TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
TEMPLATE_DATABASE = f"bot_test_template_{os.getpid()}"  # one per run: parallel runs do not clash
IN_CI = os.environ.get("CI", "").lower() in {"1", "true", "yes"}

_postgres_state: dict[str, object] = {}


def _admin_engine() -> Engine:
    return create_engine(POSTGRES_ADMIN_URL, isolation_level="AUTOCOMMIT", pool_pre_ping=True)


def _url_for(database: str) -> str:
    base, _, _ = POSTGRES_ADMIN_URL.rpartition("/")
    return f"{base}/{database}"


def _postgres_template() -> str:
    """Migrate a template database once per run; each test copies it (fast, isolated)."""
    if "error" in _postgres_state:
        raise RuntimeError(str(_postgres_state["error"]))
    if "ready" not in _postgres_state:
        try:
            admin = _admin_engine()
            with admin.connect() as connection:
                connection.execute(text(f"DROP DATABASE IF EXISTS {TEMPLATE_DATABASE} WITH (FORCE)"))
                connection.execute(text(f"CREATE DATABASE {TEMPLATE_DATABASE}"))
            template_engine = make_engine(_url_for(TEMPLATE_DATABASE))
            upgrade(template_engine)
            template_engine.dispose()
            admin.dispose()
        except Exception as error:
            _postgres_state["error"] = f"PostgreSQL not reachable at {POSTGRES_ADMIN_URL}: {error}"
            raise RuntimeError(str(_postgres_state["error"])) from error
        _postgres_state["ready"] = True
    return TEMPLATE_DATABASE


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path) -> Iterator[str]:
    """A fresh, migrated database on each engine the bot supports.

    PostgreSQL tests skip with the reason when no server answers, except under CI=true,
    where a missing server is a failure.
    """
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'bot.sqlite3'}"
        engine = make_engine(url)
        upgrade(engine)
        engine.dispose()
        yield url
        return
    try:
        template = _postgres_template()
    except RuntimeError as error:
        if IN_CI:
            pytest.fail(f"{error} (CI=true: PostgreSQL tests may not skip)")
        pytest.skip(str(error))
    name = f"bot_test_{uuid.uuid4().hex[:12]}"
    admin = _admin_engine()
    with admin.connect() as connection:
        connection.execute(text(f"CREATE DATABASE {name} TEMPLATE {template}"))
    try:
        yield _url_for(name)
    finally:
        with admin.connect() as connection:
            connection.execute(text(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
        admin.dispose()


@pytest.fixture
def engine(database_url: str) -> Iterator[Engine]:
    engine = make_engine(database_url)
    yield engine
    engine.dispose()


@pytest.fixture
def clock() -> SettableClock:
    """Tuesday 10 November 2026, 10:00 in London (GMT), a working morning."""
    return SettableClock(datetime(2026, 11, 10, 10, 0, tzinfo=UTC))


@pytest.fixture
def bot(database_url: str, clock: SettableClock, tmp_path):
    """The real app on loopback with a local Slack and a fresh database."""
    from bot.offline import OfflineBot

    with OfflineBot(database_url=database_url, clock=clock, work_dir=tmp_path) as running:
        yield running


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """Drop this run's template database."""
    if "ready" not in _postgres_state:
        return
    admin = _admin_engine()
    with admin.connect() as connection:
        connection.execute(text(f"DROP DATABASE IF EXISTS {TEMPLATE_DATABASE} WITH (FORCE)"))
    admin.dispose()


@pytest.fixture(scope="module")
def fuzz_bot(tmp_path_factory):
    """One running bot with one convened discussion, shared by the fuzzing examples."""
    from bot.offline import OfflineBot
    from tests.convening_support import convene

    clock = SettableClock(datetime(2026, 11, 10, 10, 0, tzinfo=UTC))
    with OfflineBot(clock=clock, work_dir=tmp_path_factory.mktemp("fuzz")) as running:
        meeting = convene(running)
        _panel_with_an_agenda(running, clock)
        running.local_slack.reset_calls()
        yield running, meeting.id


def _panel_with_an_agenda(running, clock: SettableClock) -> None:
    """A panel sitting whose agenda holds one accepted child (item 1, referral 1), and a
    referral still waiting (2), so hostile payloads reach the panel's listeners too."""
    from bot.panel.jobs import sweep_panels
    from bot.panel.offline import decide, refer

    sweep_panels(running.runtime)
    refer(running, "U0CSC001", case_reference="CS-3000001", child_name="Fuzz Test-Child")
    decide(running, 1, accept=True)
    refer(running, "U0CSC001", case_reference="CS-3000002", child_name="Fuzz Other-Child")
    start = clock.now()
    clock.set(datetime(2026, 11, 18, 9, 0, tzinfo=UTC))
    sweep_panels(running.runtime)
    running.settle()
    clock.set(start)
