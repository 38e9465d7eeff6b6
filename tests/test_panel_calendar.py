"""The panel's calendar: fortnightly sittings, moved or skipped on bank holidays by the
partnership's rule, and the cut-offs for referrals and updates, across the clock change."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path

from bot.bootstrap import calendar_for
from bot.panel.calendar import next_sitting, sittings
from bot.schedules import load_partnership

ROOT = Path(__file__).resolve().parent.parent
PARTNERSHIP = load_partnership(ROOT / "schedules")
CALENDAR = calendar_for(PARTNERSHIP, "Europe/London")
MACE = PARTNERSHIP.panel("birmingham-mace")
THEMES = PARTNERSHIP.panel("birmingham-mace-strategic")


def test_fortnightly_tuesdays_at_ten_london_time_across_the_clock_change() -> None:
    held = sittings(MACE, CALENDAR, date(2026, 10, 1), date(2026, 11, 30))
    assert [s.held_on for s in held] == [
        date(2026, 10, 13),
        date(2026, 10, 27),
        date(2026, 11, 10),
        date(2026, 11, 24),
    ]
    assert held[0].starts == datetime(2026, 10, 13, 9, 0, tzinfo=UTC)  # 10:00 BST
    assert held[1].starts == datetime(2026, 10, 27, 10, 0, tzinfo=UTC)  # 10:00 GMT
    # referrals close at the end of the working day five working days before
    assert held[2].referral_cutoff == datetime(2026, 11, 3, 17, 0, tzinfo=UTC)
    assert held[2].updates_cutoff == datetime(2026, 11, 6, 17, 0, tzinfo=UTC)


def test_a_sitting_on_a_bank_holiday_moves_or_is_skipped_by_the_panels_rule() -> None:
    start, end = date(2025, 1, 1), date(2060, 12, 31)
    # The fortnightly MACE moves to the next working day...
    moved = [s for s in sittings(MACE, CALENDAR, start, end) if s.moved]
    assert moved, "the calendar should hit a bank holiday in 35 years"
    assert all(not CALENDAR.is_working_day(s.scheduled_for) for s in moved)
    assert all(s.held_on == CALENDAR.next_working_day(s.scheduled_for) for s in moved)
    # ...while the four-weekly themes panel skips that sitting.
    themes = sittings(THEMES, CALENDAR, start, end)
    skipped = [d for d in THEMES.scheduled_dates(start, end) if not CALENDAR.is_working_day(d)]
    assert skipped, "the calendar should hit a bank holiday in 35 years"
    assert all(not s.moved for s in themes)
    assert not set(skipped) & {s.held_on for s in themes}
    assert len(themes) == len(THEMES.scheduled_dates(start, end)) - len(skipped)


def test_every_moved_sitting_lands_on_the_next_working_day() -> None:
    for sitting in sittings(MACE, CALENDAR, date(2025, 1, 1), date(2035, 12, 31)):
        assert CALENDAR.is_working_day(sitting.held_on)
        if sitting.moved:
            assert sitting.held_on == CALENDAR.next_working_day(sitting.scheduled_for)


def test_a_late_referral_goes_to_the_sitting_after() -> None:
    wednesday = datetime(2026, 11, 4, 12, 0, tzinfo=UTC)  # after the 10 Nov cut-off (3 Nov)
    assert next_sitting(MACE, CALENDAR, wednesday).held_on == date(2026, 11, 10)
    assert next_sitting(MACE, CALENDAR, wednesday, for_referrals=True).held_on == date(2026, 11, 24)
