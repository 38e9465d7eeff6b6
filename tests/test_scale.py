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
from sqlalchemy import delete, event, func, select, update
from sqlalchemy.engine import Engine
from sqlmodel import col

from bot.actions.jobs import send_digests, sweep_actions
from bot.agency_updates.jobs import CHUNK, sweep_agency_updates
from bot.agency_updates.models import AgencyUpdate, AgencyUpdateVersion
from bot.agency_updates.service import OPEN_STATES
from bot.audit.service import verify_chain
from bot.convening.models import Invitation, InvitationMessage, Meeting
from bot.database import read_scope, session_scope, stream_scope
from bot.partnership.models import Person
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


def _updates_owed_and_past_their_point(bot: OfflineBot) -> int:
    """Every discussion ahead moved to Thursday 12 November 14:00, invited ten days before,
    nothing submitted for it, and each invitation sent to its agency's Slack people (two at
    most, as the invitation's fan-out would): at 13:30 that day every invitation is past a
    reminder point (late, or two working hours before its deadline). Returns how many
    invitations that is; done again after growing, it touches only the new ones."""
    start = datetime(2026, 11, 12, 14, 0, tzinfo=UTC)
    with session_scope(bot.runtime.engine) as session:
        ahead = select(Meeting.id).where(
            col(Meeting.state).in_(OPEN_STATES),
            col(Meeting.scheduled_start) > datetime(2026, 11, 10, 10, 0, tzinfo=UTC),
        )
        meeting_ids = list(session.execute(ahead).scalars())
        session.execute(update(Meeting).where(Meeting.id.in_(meeting_ids)).values(scheduled_start=start))
        session.execute(
            update(Invitation)
            .where(Invitation.meeting_id.in_(meeting_ids))
            .values(created_at=datetime(2026, 11, 2, 10, 0, tzinfo=UTC))
        )
        updates = select(AgencyUpdate.id).where(AgencyUpdate.meeting_id.in_(meeting_ids))
        session.execute(delete(AgencyUpdateVersion).where(AgencyUpdateVersion.update_id.in_(updates)))
        session.execute(delete(AgencyUpdate).where(AgencyUpdate.meeting_id.in_(meeting_ids)))
        people: dict[int, list[int]] = {}
        for person_id, agency_id in session.execute(
            select(Person.id, Person.agency_id).where(Person.slack_user_id.is_not(None)).order_by(Person.id)
        ):
            people.setdefault(agency_id, []).append(person_id)
        sent = set(
            session.execute(select(InvitationMessage.invitation_id, InvitationMessage.person_id)).all()
        )
        invitations = session.execute(
            select(Invitation.id, Invitation.agency_id).where(Invitation.meeting_id.in_(meeting_ids))
        ).all()
        for invitation_id, agency_id in invitations:
            for person_id in people.get(agency_id, [])[:2]:
                if (invitation_id, person_id) not in sent:
                    session.add(
                        InvitationMessage(invitation_id=invitation_id, person_id=person_id, created_at=start)
                    )
    bot.clock.set(datetime(2026, 11, 12, 13, 30, tzinfo=UTC))
    return len(invitations)


def _selects(statements: list[str]) -> list[str]:
    return [s for s in statements if s.split(": ", 1)[1].lstrip().upper().startswith("SELECT")]


def test_the_agency_updates_sweep_costs_the_same_at_ten_times_the_data(quiet_bot) -> None:
    """A pass's reads are the same however many invitations are past their reminder point:
    the invitations with their meetings, the people not yet reminded (their reminder's key
    absent), and only when someone is, what they owe (saved updates, panel items) and the
    keys; its writes are a savepoint with one INSERT each for the reminders and the chases
    per chunk of reminders. Once all went, a pass is the same two statements at any size."""

    postgres = quiet_bot.runtime.engine.dialect.name == "postgresql"

    def sweep() -> tuple[int, list[str]]:
        with counting(quiet_bot.runtime.engine) as statements:
            queued = sweep_agency_updates(quiet_bot.runtime)
        chunks = -(-queued // CHUNK)
        writes = len(statements) - len(_selects(statements))
        # PostgreSQL: SAVEPOINT, a multi-row INSERT for the reminders and one for the chases,
        # RELEASE per chunk; SQLite begins its write transaction, and its INSERT ... RETURNING
        # is row by row (no sentinel to match rows to ids), so two per reminder.
        allowed = 4 * chunks if postgres else 1 + 2 * chunks + 2 * queued
        assert writes <= allowed, "\n".join(s[:150] for s in statements)
        return queued, [s.split("\n")[0][:100] for s in statements]

    _grow(quiet_bot, SMALL)
    small_invitations = _updates_owed_and_past_their_point(quiet_bot)
    small_queued, small_first = sweep()
    small_again = sweep()
    _grow(quiet_bot, LARGE - SMALL)
    large_invitations = _updates_owed_and_past_their_point(quiet_bot)
    large_queued, large_first = sweep()
    large_again = sweep()
    assert small_invitations >= 10 and large_invitations >= 8 * small_invitations
    assert small_queued > 0 and 8 * small_queued <= large_queued, (small_queued, large_queued)
    # the first pass: the same reads, and on PostgreSQL writes a few per chunk, not per reminder
    assert _selects(small_first) == _selects(large_first), (small_first, large_first)
    if postgres and large_queued <= CHUNK:
        assert small_first == large_first, (small_first, large_first)
    # every reminder already sent: nothing queued, the same statements, and few of them
    assert small_again[0] == large_again[0] == 0
    assert small_again[1] == large_again[1], (small_again, large_again)
    assert len(_selects(large_again[1])) == 2, large_again
    assert len(large_again[1]) == (2 if postgres else 3), large_again  # SQLite's BEGIN IMMEDIATE
