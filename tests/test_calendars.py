"""The two calendars: statutory dates count weekends and England and Wales bank holidays only
(substitute days included); the partnership's closure days pause chasing on the service
calendar and never move a statutory date. Across Christmas, Easter and the clock changes."""

from __future__ import annotations

from datetime import UTC, date, datetime, time

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.bootstrap import calendar_for, statutory_calendar_for
from bot.cases.timeline import assessment_deadline, icpc_target, urgency_deadline
from bot.schedules import default_schedules_dir, load_partnership
from bot.working_days import ServiceCalendar, StatutoryCalendar, WorkingCalendar, require_statutory

PARTNERSHIP = load_partnership(default_schedules_dir())
STATUTORY = statutory_calendar_for(PARTNERSHIP, "Europe/London")
SERVICE = calendar_for(PARTNERSHIP, "Europe/London")  # closures 29, 30, 31 December 2025
# Closures a partnership might keep between Christmas and New Year, and a training day.
CLOSED = ServiceCalendar(
    closures=[date(2026, 12, 29), date(2026, 12, 30), date(2026, 12, 31), date(2026, 4, 8)]
)


def test_the_runtime_builds_one_of_each_from_the_schedules() -> None:
    assert isinstance(STATUTORY, StatutoryCalendar)
    assert isinstance(SERVICE, ServiceCalendar)
    assert SERVICE.closures == {date(2025, 12, 29), date(2025, 12, 30), date(2025, 12, 31)}
    assert STATUTORY.day_ends == SERVICE.day_ends == time(17, 0)


def test_the_issue_example_friday_19_december_2025() -> None:
    """15 working days from Friday 19 December 2025: Christmas Day, Boxing Day and New Year's
    Day are bank holidays; the partnership's closures (29-31 December) are not statutory."""
    assert icpc_target(STATUTORY, date(2025, 12, 19)) == date(2026, 1, 14)  # Wednesday
    assert SERVICE.add_working_days(date(2025, 12, 19), 15) == date(2026, 1, 19)  # what it used to say


@pytest.mark.parametrize(
    ("day", "expected"),
    [
        # 2027: Christmas Day and Boxing Day fall at the weekend; Monday 27 and Tuesday 28 are
        # their substitutes, and New Year's Day (a Saturday) is Monday 3 January 2028.
        (date(2027, 12, 24), date(2028, 1, 19)),
        # 2022: Christmas Day is a Sunday: Boxing Day (Mon 26), the substitute Tue 27, and New
        # Year's Day (a Sunday) on Monday 2 January 2023.
        (date(2022, 12, 23), date(2023, 1, 18)),
        # 2026: Boxing Day is a Saturday; Monday 28 December is its substitute.
        (date(2026, 12, 24), date(2027, 1, 19)),
    ],
)
def test_christmas_substitute_days_are_not_working_days(day: date, expected: date) -> None:
    assert icpc_target(STATUTORY, day) == expected
    assert STATUTORY.working_days_between(day, expected) == 15


def test_substitute_days_are_named() -> None:
    assert not STATUTORY.is_working_day(date(2027, 12, 27))
    assert not STATUTORY.is_working_day(date(2027, 12, 28))
    assert "observed" in (STATUTORY.bank_holiday_name(date(2027, 12, 28)) or "").lower()
    assert STATUTORY.is_working_day(date(2027, 12, 29))


def test_easter_2026_good_friday_and_easter_monday() -> None:
    # A discussion on Thursday 2 April 2026: Good Friday (3rd) and Easter Monday (6th) do not
    # count; Wednesday 8 April, a local closure, does.
    assert icpc_target(STATUTORY, date(2026, 4, 2)) == date(2026, 4, 27)
    assert CLOSED.add_working_days(date(2026, 4, 2), 15) == date(2026, 4, 28)


def test_closures_pause_chasing_and_never_move_a_statutory_date() -> None:
    assert not CLOSED.is_working_day(date(2026, 12, 29))
    assert STATUTORY.is_working_day(date(2026, 12, 29))
    # The 45-working-day assessment from a referral on Monday 14 December 2026.
    assert assessment_deadline(STATUTORY, date(2026, 12, 14)) == date(2027, 2, 18)
    assert CLOSED.add_working_days(date(2026, 12, 14), 45) == date(2027, 2, 23)


def test_a_statutory_date_refuses_the_service_calendar() -> None:
    with pytest.raises(TypeError, match="StatutoryCalendar"):
        icpc_target(SERVICE, date(2025, 12, 19))  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        assessment_deadline(WorkingCalendar(), date(2025, 12, 19))  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        require_statutory(SERVICE)
    # And the statutory calendar has nothing to chase with.
    assert not hasattr(STATUTORY, "add_working_hours")
    assert not isinstance(STATUTORY, WorkingCalendar)


def test_the_urgency_deadline_runs_from_the_referral_through_closure_days() -> None:
    """Referred on Christmas Eve 2025 at 11:00, urgent (1 working day): Christmas Day, Boxing
    Day and the weekend do not count, the partnership's closure on Monday 29 December does."""
    referred = datetime(2025, 12, 24, 11, 0, tzinfo=UTC)
    deadline = urgency_deadline(PARTNERSHIP, STATUTORY, urgency="urgent", referred_at=referred)
    assert deadline == datetime(2025, 12, 29, 17, 0, tzinfo=UTC)
    assert SERVICE.end_of_working_day_after(referred, 1) == datetime(2026, 1, 2, 17, 0, tzinfo=UTC)


def test_urgency_deadlines_keep_london_time_across_the_clock_change() -> None:
    # Friday 23 October 2026 (BST) to Monday 26 October (GMT).
    referred = datetime(2026, 10, 23, 14, 0, tzinfo=UTC)
    assert urgency_deadline(PARTNERSHIP, STATUTORY, urgency="immediate", referred_at=referred) == datetime(
        2026, 10, 23, 16, 0, tzinfo=UTC
    )
    assert urgency_deadline(PARTNERSHIP, STATUTORY, urgency="urgent", referred_at=referred) == datetime(
        2026, 10, 26, 17, 0, tzinfo=UTC
    )
    with pytest.raises(ValueError, match="no urgency"):
        urgency_deadline(
            PARTNERSHIP,
            STATUTORY,
            urgency="immediate",
            referred_at=referred,
            meeting_type="follow_up_strategy_discussion",
        )


@settings(max_examples=200, deadline=None)
@given(
    st.dates(min_value=date(2020, 1, 1), max_value=date(2035, 12, 31)),
    st.integers(min_value=0, max_value=60),
)
def test_statutory_days_are_a_working_calendar_without_closures(day: date, n: int) -> None:
    plain = WorkingCalendar()
    assert STATUTORY.add_working_days(day, n) == plain.add_working_days(day, n)
    assert STATUTORY.is_working_day(day) == plain.is_working_day(day)
    later = STATUTORY.add_working_days(day, n)
    if n >= 1:
        assert STATUTORY.working_days_between(day, later) == n
    # The service calendar never gives an earlier date: closures only ever add days.
    assert SERVICE.add_working_days(day, n) >= later
