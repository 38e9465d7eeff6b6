"""The panel's whole-table work and lists at ten times the data: the NRM chase reads the
overdue decisions a batch at a time (no cap, a fixed number of statements a batch, each
batch committed, a crash resumed), and the register of suspected perpetrators is paged
with the same statements whatever its length. Counted as `test_scale` counts them."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import date

import pytest
from sqlmodel import Session, col, select

from bot.cases.models import Case
from bot.delivery.models import OutboxMessage
from bot.panel import jobs
from bot.panel.jobs import chase_nrm_decisions
from bot.panel.models import NrmReferral
from bot_offline.driver import OfflineBot
from tests.test_scale import counting

BATCH = 10
PANEL = "birmingham-mace"
ADMINS = 2  # pa-hussain and pa-lewis administer the MACE panel


@pytest.fixture
def quiet_bot(database_url: str, clock, tmp_path) -> Iterator[OfflineBot]:
    """The app with no delivery of its own, so only the job's statements are counted."""
    with OfflineBot(
        database_url=database_url, clock=clock, work_dir=tmp_path, delivery_interval_seconds=None
    ) as running:
        yield running


_made = [0]


def _referrals(bot: OfflineBot, overdue: int) -> None:
    """`overdue` children whose reasonable-grounds decision is long overdue, and as many
    again that the chase must not read: one decided, one referred this week."""
    with Session(bot.runtime.engine) as session:
        for _ in range(overdue):
            for kind, referred_on, grounds in (
                ("overdue", date(2026, 9, 1), "awaited"),
                ("decided", date(2026, 9, 1), "negative"),
                ("recent", date(2026, 11, 9), "awaited"),
            ):
                _made[0] += 1
                case = Case(reference=f"CS-{8000000 + _made[0]}", child_name="")
                session.add(case)
                session.flush()
                session.add(
                    NrmReferral(
                        case_id=case.id or 0,
                        panel_code=PANEL,
                        referred_on=referred_on,
                        first_responder_agency="police-ppu",
                        first_responder_name="DS Marsh",
                        reasonable_grounds=grounds,
                        reasonable_grounds_on=date(2026, 10, 1) if grounds != "awaited" else None,
                        submission_key=f"scale:{kind}:{_made[0]}",
                    )
                )
        session.commit()


def _chases(bot: OfflineBot) -> list[str]:
    with Session(bot.runtime.engine) as session:
        return list(
            session.exec(select(OutboxMessage.key).where(col(OutboxMessage.key).startswith("nrm-chase:")))
        )


def _pass(bot: OfflineBot) -> tuple[int, list[str]]:
    with counting(bot.runtime.engine) as statements:
        chased = chase_nrm_decisions(bot.runtime, bot.clock.now(), batch=BATCH)
    return chased, [" ".join(s.split(": ", 1)[1].split()) for s in statements]


def _scans(statements: list[str]) -> int:
    return len([s for s in statements if s.upper().startswith("SELECT") and "FROM nrmreferral" in s])


def test_the_nrm_chase_reads_every_overdue_decision_a_batch_at_a_time(quiet_bot) -> None:
    # 1x: two batches of overdue decisions
    _referrals(quiet_bot, 2 * BATCH)
    small_chased, small = _pass(quiet_bot)
    assert small_chased == 2 * BATCH
    # 10x: twenty batches, and ten times the referrals the chase must not read
    _referrals(quiet_bot, 18 * BATCH)
    large_chased, large = _pass(quiet_bot)
    assert large_chased == 18 * BATCH  # every one, none chased twice, no cap
    assert len(_chases(quiet_bot)) == 20 * BATCH * ADMINS
    # The scan reads a batch at a time (the overdue, already chased ones too, and one
    # query that finds nothing more); the other statements are a fixed few per chase.
    assert _scans(small) == 2 + 1 and _scans(large) == 20 + 1
    per_chase_small = (len(small) - _scans(small)) / small_chased
    per_chase_large = (len(large) - _scans(large) - 2) / large_chased  # +1 administrators, +1 batch
    assert per_chase_small == pytest.approx(per_chase_large, abs=0.2), (small, large)
    # A pass with nothing new chases nobody and writes nothing.
    again, statements = _pass(quiet_bot)
    assert again == 0
    assert not [s for s in statements if s.upper().startswith(("INSERT", "UPDATE", "DELETE"))]


def test_a_crashed_nrm_chase_keeps_what_it_committed_and_the_next_pass_finishes(
    quiet_bot, monkeypatch
) -> None:
    _referrals(quiet_bot, 3 * BATCH)
    real = jobs.chase_nrm
    calls = [0]

    def failing(*args, **kwargs) -> None:
        calls[0] += 1
        if calls[0] == BATCH + 5:  # in the second batch
            raise RuntimeError("the process died")
        real(*args, **kwargs)

    monkeypatch.setattr(jobs, "chase_nrm", failing)
    with pytest.raises(RuntimeError):
        chase_nrm_decisions(quiet_bot.runtime, quiet_bot.clock.now(), batch=BATCH)
    assert len(_chases(quiet_bot)) == BATCH * ADMINS  # the first batch was committed, not the second
    with Session(quiet_bot.runtime.engine) as session:
        marked = [r for r in session.exec(select(NrmReferral)) if r.chased]
        assert len(marked) == BATCH
    monkeypatch.setattr(jobs, "chase_nrm", real)
    assert chase_nrm_decisions(quiet_bot.runtime, quiet_bot.clock.now(), batch=BATCH) == 2 * BATCH
    keys = _chases(quiet_bot)
    assert len(keys) == len(set(keys)) == 3 * BATCH * ADMINS
    with Session(quiet_bot.runtime.engine) as session:
        texts = [m.arguments["text"] for m in session.exec(select(OutboxMessage)) if m.key.startswith("nrm")]
    assert all("awaited since Tuesday 01 September 2026" in t for t in texts)
    assert json.dumps(texts).count("reasonable-grounds decision for") == len(texts)

