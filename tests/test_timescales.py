"""Statutory and local timescales computed on an injected clock: urgency deadlines, the first
free slot, chasing times and the ICPC date, across bank holidays and the clock changes."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from bot.bootstrap import calendar_for, statutory_calendar_for
from bot.convening.chasing import first_chase_at, timeline
from bot.convening.service import timescales
from bot.schedules import load_partnership

ROOT = Path(__file__).resolve().parent.parent
PARTNERSHIP = load_partnership(ROOT / "schedules")
CALENDAR = calendar_for(PARTNERSHIP, "Europe/London")
STATUTORY = statutory_calendar_for(PARTNERSHIP, "Europe/London")


def london(year: int, month: int, day: int, hour: int, minute: int = 0) -> datetime:
    return CALENDAR.at(date(year, month, day), datetime(2000, 1, 1, hour, minute).time())


@pytest.mark.parametrize(
    ("referred", "urgency", "deadline"),
    [
        # Thursday 24 Dec 2026: Christmas Day (Fri) and Boxing Day substitute (Mon 28) are bank
        # holidays, so "1 working day" ends on Tuesday 29 December.
        (london(2026, 12, 24, 11), "urgent", london(2026, 12, 29, 17)),
        (london(2026, 12, 24, 11), "immediate", london(2026, 12, 24, 17)),
        (london(2026, 12, 24, 11), "standard", london(2026, 12, 31, 17)),  # 29, 30, 31
        # Friday 23 Oct 2026 (BST) to Monday 26 Oct (GMT): 17:00 local is 16:00 UTC, then 17:00 UTC.
        (london(2026, 10, 23, 15), "immediate", datetime(2026, 10, 23, 16, 0, tzinfo=UTC)),
        (london(2026, 10, 23, 15), "urgent", datetime(2026, 10, 26, 17, 0, tzinfo=UTC)),
        # Easter 2027: Good Friday 26 March and Easter Monday 29 March; clocks change on the Sunday.
        (london(2027, 3, 25, 12), "urgent", datetime(2027, 3, 30, 16, 0, tzinfo=UTC)),
    ],
)
def test_urgency_deadlines_count_working_days(referred, urgency, deadline) -> None:
    assert (
        timescales(PARTNERSHIP, CALENDAR, statutory=STATUTORY, urgency=urgency, referred_at=referred).deadline
        == deadline
    )


def test_the_first_slot_waits_for_the_next_working_morning() -> None:
    christmas_eve_evening = london(2026, 12, 24, 18)
    slot = timescales(
        PARTNERSHIP, CALENDAR, statutory=STATUTORY, urgency="urgent", referred_at=christmas_eve_evening
    ).proposed_start
    assert slot == london(2026, 12, 29, 9, 0)  # after Christmas and the substitute Boxing Day


def test_the_first_slot_allows_the_minimum_notice() -> None:
    slot = timescales(
        PARTNERSHIP, CALENDAR, statutory=STATUTORY, urgency="urgent", referred_at=london(2026, 11, 10, 10, 20)
    ).proposed_start
    assert slot == london(2026, 11, 10, 11, 0)  # 10:20 + 15 minutes' notice -> the 11:00 slot


def test_chasing_happens_in_working_time_across_the_october_change() -> None:
    sent = london(2026, 10, 23, 16, 30)  # Friday, BST
    # Urgent: one working hour later is Monday 09:30 GMT.
    assert first_chase_at(PARTNERSHIP, CALENDAR, "urgent", sent) == datetime(2026, 10, 26, 9, 30, tzinfo=UTC)
    steps = timeline(PARTNERSHIP, CALENDAR, "police-ppu", "urgent", sent)
    assert [s.kind for s in steps] == ["route", "route", "route", "convenor"]
    assert all(
        CALENDAR.is_working_time(s.at) or s.at == CALENDAR.end_of_day(CALENDAR.local(s.at).date())
        for s in steps
    )
    assert steps == sorted(steps, key=lambda s: s.at)


def test_icpc_is_fifteen_working_days_after_the_discussion() -> None:
    # A discussion on Monday 14 Dec 2026: three bank holidays fall in the next 15 working days.
    assert STATUTORY.add_working_days(date(2026, 12, 14), 15) == date(2027, 1, 7)
