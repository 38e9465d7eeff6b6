"""Statement budgets: what a listener or job sends the database does not grow with the data.

Each test fills the database with a partnership's records (the benchmarks' generator, at a
small size), counts the SQL statements a request or job sends (SQLAlchemy's
`before_cursor_execute`), makes the data ten times larger and counts again: the counts must
be equal. Requests go through the real app, signed as Slack signs them; what the bot
answers after its acknowledgement is awaited before the count closes. Counts are exact,
unlike timings, so they belong here and not with the benchmarks.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime

import pytest
from sqlalchemy import event, func, select
from sqlalchemy.engine import Engine

from bot.actions.jobs import send_digests, sweep_actions
from bot.audit.service import verify_chain
from bot.convening.models import Meeting
from bot.database import read_scope, stream_scope
from bot.retention.service import plan
from bot_offline.driver import OfflineBot
from tests.benchmarks.generate import generate

SMALL, LARGE = 20, 200  # discussions; actions, audit entries and the rest follow
PANEL_ADMIN = "U0BSC001"
PPU_LEAD = "U0PPU020"
BUSY_OWNER = "U0PPU001"
BUSY_CONVENOR = "U0CSC001"


@contextmanager
def counting(engine: Engine) -> Iterator[list[str]]:
    """Every statement sent on the engine's connections while the block runs."""
    statements: list[str] = []

    def count(_connection, _cursor, statement, _parameters, _context, _executemany) -> None:
        statements.append(f"{threading.current_thread().name}: {statement}")

    event.listen(engine, "before_cursor_execute", count)
    try:
        yield statements
    finally:
        event.remove(engine, "before_cursor_execute", count)


def _grow(bot: OfflineBot, discussions: int) -> None:
    generate(
        bot.runtime.engine,
        bot.runtime.partnership,
        now=bot.clock.now(),
        calendar=bot.runtime.calendar,
        discussions=discussions,
        audit_entries=discussions * 20,
        # A few weeks, so that at both sizes there are open discussions, overdue actions and
        # updates owed: a list that is empty skips its look-ups, which is not growth.
        years=0.1,
    )


class Counted(list):
    """The statements one request sent; equal when their number is (shown whole when not)."""

    def __eq__(self, other: object) -> bool:
        return isinstance(other, list) and len(self) == len(other)

    __hash__ = None  # type: ignore[assignment]


def _count(bot: OfflineBot, send: Callable[[], object]) -> Counted:
    """Statements of one request, after a first one warmed what is cached per process."""
    send()
    bot.wait_idle()
    with counting(bot.runtime.engine) as statements:
        send()
        bot.wait_idle()
    return Counted(s.split("\n")[0][:100] for s in statements)


def _at_both_sizes(bot: OfflineBot, send: Callable[[], object]) -> tuple[Counted, Counted]:
    _grow(bot, SMALL)
    small = _count(bot, send)
    _grow(bot, LARGE - SMALL)
    return small, _count(bot, send)


def _answered(bot: OfflineBot, command: str, text: str, user_id: str) -> Callable[[], str]:
    """Send a command and wait for the answer it gives after its acknowledgement."""

    def send() -> str:
        before = len(bot.local_slack.responses())
        response = bot.slack.command(command, text, user_id=user_id)
        assert response.status == 200 and response.body in ("", "{}"), response.body  # acknowledged empty
        bot.local_slack.wait_for(lambda _calls: bot.local_slack.responses()[before:])
        return json.dumps(bot.local_slack.responses()[before:][-1].args)

    return send


@pytest.mark.parametrize(
    ("text", "user_id", "shows"),
    [
        ("", BUSY_OWNER, "Your open actions"),
        ("overdue", PPU_LEAD, "Overdue actions: West Midlands Police"),
        ("overdue", PANEL_ADMIN, "Overdue actions: all agencies"),
    ],
)
def test_action_lists_cost_the_same_at_ten_times_the_data(quiet_bot, text, user_id, shows) -> None:
    send = _answered(quiet_bot, "/actions", text, user_id)
    small, large = _at_both_sizes(quiet_bot, send)
    answer = send()
    assert shows in answer and " of " in answer  # a page, saying where it sits
    if user_id == PANEL_ADMIN:
        assert "Next" in answer  # more than a page at this size, and it says so
    assert small == large, (small, large)


@pytest.mark.parametrize(
    ("command", "shows"),
    [("/actions", "Open actions for CS-9000000"), ("/strategy", "Discussions concerning CS-9000000")],
)
def test_a_childs_lists_cost_the_same_at_ten_times_the_data(quiet_bot, command, shows) -> None:
    """`/actions CS-…` and `/strategy CS-…`: the guard's look-up of the child and the page
    of their actions or discussions, the same statements however many there are."""
    send = _answered(quiet_bot, command, "CS-9000000", PANEL_ADMIN)
    small, large = _at_both_sizes(quiet_bot, send)
    answer = send()
    assert shows in answer and " of " in answer
    assert small == large, (small, large)


def test_a_page_turned_costs_the_same_at_ten_times_the_data(quiet_bot) -> None:
    def send() -> None:
        before = len(quiet_bot.local_slack.responses())
        quiet_bot.slack.block_actions(
            PANEL_ADMIN,
            [{"action_id": "actions_overdue_page_next", "value": "1", "type": "button"}],
            message={"ts": "1.0", "text": "Overdue actions"},
            channel_id="D0BSC001",
        )
        quiet_bot.local_slack.wait_for(lambda _calls: quiet_bot.local_slack.responses()[before:])

    small, large = _at_both_sizes(quiet_bot, send)
    assert '"replace_original": true' in json.dumps(quiet_bot.local_slack.responses()[-1].args)
    assert small == large, (small, large)


def test_strategy_list_costs_the_same_at_ten_times_the_data(quiet_bot) -> None:
    send = _answered(quiet_bot, "/strategy", "list", BUSY_CONVENOR)
    small, large = _at_both_sizes(quiet_bot, send)
    assert "Your open strategy discussions" in send()
    assert small == large, (small, large)


@pytest.mark.parametrize("user_id", [PANEL_ADMIN, BUSY_CONVENOR, BUSY_OWNER])
def test_the_home_tab_costs_the_same_at_ten_times_the_data(quiet_bot, user_id) -> None:
    def send() -> None:
        before = len(quiet_bot.local_slack.calls_to("views.publish"))
        quiet_bot.slack.event({"type": "app_home_opened", "user": user_id, "tab": "home"})
        quiet_bot.local_slack.wait_for(
            lambda _calls: quiet_bot.local_slack.calls_to("views.publish")[before:]
        )

    small, large = _at_both_sizes(quiet_bot, send)
    view = json.dumps(quiet_bot.local_slack.calls_to("views.publish")[-1].args)
    if user_id == PANEL_ADMIN:
        with read_scope(quiet_bot.runtime.engine) as session:  # the discussions and the panels' sittings
            meetings = session.execute(select(func.count()).select_from(Meeting)).scalar_one()
        assert meetings > LARGE
        assert "Older" in view and f"1-20 of {meetings:,}" in view  # the records, a page of them
    assert small == large, (small, large)


def test_a_sweep_costs_the_same_per_claim_at_ten_times_the_data(quiet_bot) -> None:
    """A sweep's reads are the same whatever the number of actions and claims (one batch
    query each: the due actions, their meetings, people, agencies, cases, outbox keys);
    its writes are a few per claim (the conditional update that claims the step, an
    escalation, the chase and the reminder), never more."""

    def sweep() -> tuple[int, list[str]]:
        with counting(quiet_bot.runtime.engine) as statements:
            claimed = sweep_actions(quiet_bot.runtime)
        reads = [s for s in statements if s.split(": ", 1)[1].lstrip().upper().startswith("SELECT")]
        assert len(statements) - len(reads) <= 2 + 5 * claimed
        return claimed, reads

    _grow(quiet_bot, SMALL)
    # Three working days on, the overdue actions' next reminders and escalations are due,
    # some to people in Slack (at the small size too, so both sizes send reminders).
    quiet_bot.clock.set(datetime(2026, 11, 13, 10, 0, tzinfo=UTC))
    small_claims, small = sweep()
    _grow(quiet_bot, LARGE - SMALL)
    large_claims, large = sweep()
    assert small_claims > 0 and large_claims > 0
    assert len(small) == len(large), (small, large)


def test_the_daily_digest_checks_first_whether_it_went(quiet_bot) -> None:
    _grow(quiet_bot, LARGE)
    with counting(quiet_bot.runtime.engine) as first:
        sent = send_digests(quiet_bot.runtime)
    assert sent > 0
    agencies = len(quiet_bot.runtime.partnership.agencies)
    assert len(first) <= 4 + 4 * agencies  # two a page, one look-up and one write each
    with counting(quiet_bot.runtime.engine) as again:
        assert send_digests(quiet_bot.runtime) == 0
    # The agencies and today's keys; no overdue list is read once today's digests went.
    assert len([s for s in again if s.split(": ", 1)[1].lstrip().upper().startswith("SELECT")]) == 2, again


@pytest.mark.parametrize("job", ["audit verify", "retention plan"])
def test_whole_table_jobs_send_the_same_statements_at_ten_times_the_data(quiet_bot, job) -> None:
    def run() -> None:
        if job == "audit verify":
            with stream_scope(quiet_bot.runtime.engine) as session:
                assert verify_chain(session) == []
        else:
            with read_scope(quiet_bot.runtime.engine) as session:
                plan(session, quiet_bot.runtime.partnership, quiet_bot.clock.now())

    small, large = _at_both_sizes(quiet_bot, run)
    assert small == large, (small, large)
