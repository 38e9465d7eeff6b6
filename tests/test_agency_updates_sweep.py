"""The agency updates sweep when another process queues a reminder between the sweep's
reads and its writes: the chunk written together is rolled back and written one reminder at
a time, the taken one left out, so each reminder is queued exactly once."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import insert
from sqlmodel import Session, col, select

from bot.actions.models import Chase
from bot.agency_updates import jobs
from bot.delivery.models import OutboxMessage
from tests.convening_support import convene


def _reminders(bot) -> tuple[list[str], list[tuple[int | None, str, int | None]]]:
    with Session(bot.runtime.engine) as session:
        keys = list(
            session.exec(
                select(OutboxMessage.key).where(col(OutboxMessage.key).startswith("update-reminder:"))
            )
        )
        chases = [
            (c.invitation_id, c.step, c.to_person_id)
            for c in session.exec(select(Chase).where(col(Chase.step).startswith("update_")))
        ]
    return sorted(keys), chases


def test_a_reminder_another_process_queued_meanwhile_is_left_out_and_the_rest_go(bot, monkeypatch) -> None:
    convene(bot)
    bot.clock.set(datetime(2026, 11, 10, 11, 1, tzinfo=UTC))  # two working hours before the 13:00 deadline
    now = bot.clock.now()
    real = jobs.look_up_keys
    taken: list[str] = []

    def rival_first(session, keys: list[str]) -> None:
        real(session, keys)
        # As if another process committed this reminder after the sweep read who to remind.
        taken.append(keys[0])
        session.execute(
            insert(OutboxMessage).values(
                key=keys[0], method="chat.postMessage", arguments={}, next_attempt_at=now, created_at=now
            )
        )

    monkeypatch.setattr(jobs, "look_up_keys", rival_first)
    queued = jobs.sweep_agency_updates(bot.runtime)
    keys, chases = _reminders(bot)
    assert len(taken) == 1 and taken[0] in keys
    assert queued == len(keys) - 1 >= 1  # every other reminder went, the taken one not again
    assert len(chases) == queued  # no chase for the reminder this sweep did not queue
    monkeypatch.setattr(jobs, "look_up_keys", real)
    assert jobs.sweep_agency_updates(bot.runtime) == 0
    assert _reminders(bot) == (keys, chases)
