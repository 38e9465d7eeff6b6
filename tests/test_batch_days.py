"""The sweep's table of working days gives the working calendar's own answers."""

from __future__ import annotations

import random
from datetime import date, timedelta

from bot.actions.chasing import BatchDays
from bot.working_days import WorkingCalendar


def test_batch_days_add_working_days_as_the_calendar_does_across_holidays_and_closures() -> None:
    """Forwards, backwards and zero, from working and non-working days, far past the
    table's first span (so it extends both ways), with bank holidays and closures."""
    calendar = WorkingCalendar(closures=[date(2026, 12, 29), date(2026, 12, 30), date(2024, 5, 28)])
    days = BatchDays(calendar)
    chosen = random.Random(14)
    tried = 0
    for _ in range(3000):
        day = date(2022, 1, 1) + timedelta(days=chosen.randrange(0, 1900))
        n = chosen.randrange(-60, 260)
        assert days.add_working_days(day, n) == calendar.add_working_days(day, n), (day, n)
        assert days.start_of_day(day) == calendar.start_of_day(day)
        tried += 1
    for day in (date(2026, 12, 24), date(2026, 12, 25), date(2026, 12, 28), date(2026, 12, 31)):
        for n in (-3, -1, 0, 1, 2, 5):
            assert days.add_working_days(day, n) == calendar.add_working_days(day, n), (day, n)
    assert tried == 3000
