"""The panel's whole-table work and lists at ten times the data: the NRM chase reads the
overdue decisions a batch at a time (no cap, a fixed number of statements a batch, each
batch committed, a crash resumed), and the register of suspected perpetrators is paged
with the same statements whatever its length. Counted as `test_scale` counts them."""

from __future__ import annotations

import json
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


POLICE, SOCIAL_WORKER, ADMIN = "U0PPU001", "U0CSC001", "U0BSC001"


def _perpetrators(bot: OfflineBot, how_many: int) -> None:
    """Entries in the register, each linked to a child of its own."""
    from bot.panel.models import PerpetratorLink, SuspectedPerpetrator

    with Session(bot.runtime.engine) as session:
        for _ in range(how_many):
            _made[0] += 1
            case = Case(reference=f"CS-{8000000 + _made[0]}", child_name="")
            session.add(case)
            session.flush()
            row = SuspectedPerpetrator(
                reference=f"SP-2026-{_made[0]:04d}",
                panel_code=PANEL,
                description=f"Adult known as T{_made[0]}",
                submission_key=f"scale:sp:{_made[0]}",
            )
            session.add(row)
            session.flush()
            session.add(PerpetratorLink(perpetrator_id=row.id or 0, case_id=case.id or 0))
        session.commit()


def _listed(answer: dict) -> list[str]:
    import re

    return re.findall(r"\*(SP-2026-\d+)\*", json.dumps(answer))


def _more(answer: dict) -> str | None:
    for block in answer.get("blocks", []):
        for element in block.get("elements", []):
            if element.get("action_id") == "panel_register_more":
                return element["value"]
    return None


def test_the_register_is_paged_newest_first_for_police_and_administrators_only(quiet_bot) -> None:
    from bot.panel.perpetrators import PAGE

    _perpetrators(quiet_bot, 2 * PAGE + 5)
    first = quiet_bot.slack.command("/panel", "perpetrators", user_id=POLICE).json()
    newest = [f"SP-2026-{n:04d}" for n in range(_made[0], _made[0] - 2 * PAGE - 5, -1)]
    assert _listed(first) == newest[:PAGE] and _more(first)
    seen = _listed(first)
    value = _more(first)
    while value is not None:
        before = len(quiet_bot.local_slack.responses())
        quiet_bot.slack.block_actions(
            ADMIN,
            [{"action_id": "panel_register_more", "value": value, "type": "button"}],
            message={"ts": "1.0", "text": "Suspected perpetrators"},
            channel_id="D0BSC001",
        )
        quiet_bot.local_slack.wait_for(lambda _calls, n=before: quiet_bot.local_slack.responses()[n:])
        page = quiet_bot.local_slack.responses()[-1].args
        assert page["replace_original"] is True
        seen += _listed(page)
        value = _more(page)
    assert seen == newest  # every entry once, newest first, the last page without More
    # a social worker sees neither the register nor a page of it (the guard refuses both)
    refused = quiet_bot.slack.command("/panel", "perpetrators", user_id=SOCIAL_WORKER).json()
    assert (
        refused["text"] == "Only police and panel administrators see the register of suspected perpetrators."
    )
    before = len(quiet_bot.local_slack.responses())
    quiet_bot.slack.block_actions(
        SOCIAL_WORKER,
        [{"action_id": "panel_register_more", "value": str(_made[0]), "type": "button"}],
        message={"ts": "1.0", "text": "Suspected perpetrators"},
        channel_id="D0CSC001",
    )
    quiet_bot.wait_idle()
    assert not _listed({"blocks": [r.args for r in quiet_bot.local_slack.responses()[before:]]})


def test_a_page_of_the_register_costs_the_same_at_ten_times_the_entries(quiet_bot) -> None:
    def send() -> int:
        with counting(quiet_bot.runtime.engine) as statements:
            answer = quiet_bot.slack.command("/panel", "perpetrators", user_id=POLICE).json()
            quiet_bot.wait_idle()
        assert _more(answer) is not None
        return len(statements)

    _perpetrators(quiet_bot, 40)
    send()  # warm what is cached per process
    small = send()
    _perpetrators(quiet_bot, 360)
    assert send() == small
