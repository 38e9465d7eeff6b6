"""Tests for bot.working_days: statutory timescales must land on the right day and hour."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from functools import cache
from zoneinfo import ZoneInfo

import holidays
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.working_days import WorkingCalendar, bank_holidays_for_year

LONDON = ZoneInfo("Europe/London")
CAL = WorkingCalendar()
AMMAN = ZoneInfo("Asia/Amman")
# London's clock changes fall on Sundays, outside working time. Jordan changed clocks at
# midnight going into a Friday until 2022 (a skipped 00:00-01:00 in spring, a repeated
# 00:00-01:00 in autumn), so night working hours there put the changes inside a working
# day and check the module never does wall-clock arithmetic.
AMMAN_NIGHT = WorkingCalendar("Asia/Amman", day_starts=time(0, 0), day_ends=time(3, 0))


def utc(*args: int) -> datetime:
    """An aware UTC datetime, for expected values."""
    return datetime(*args, tzinfo=UTC)


def london(*args: int, fold: int = 0) -> datetime:
    """An aware Europe/London datetime, for inputs written as local wall time."""
    return datetime(*args, tzinfo=LONDON, fold=fold)


# ---------------------------------------------------------------- construction


def test_rejects_day_that_ends_before_it_starts() -> None:
    with pytest.raises(ValueError, match="day_starts"):
        WorkingCalendar(day_starts=time(17, 0), day_ends=time(9, 0))
    with pytest.raises(ValueError, match="day_starts"):
        WorkingCalendar(day_starts=time(9, 0), day_ends=time(9, 0))


def test_rejects_unknown_time_zone() -> None:
    with pytest.raises(ValueError, match="Mars/Olympus"):
        WorkingCalendar(timezone="Mars/Olympus")


def test_rejects_naive_datetimes() -> None:
    with pytest.raises(ValueError, match="aware"):
        CAL.is_working_time(datetime(2026, 6, 1, 10, 0))
    with pytest.raises(ValueError, match="aware"):
        CAL.add_working_hours(datetime(2026, 6, 1, 10, 0), 1)


def test_rejects_datetime_as_closure() -> None:
    with pytest.raises(TypeError):
        WorkingCalendar(closures=[datetime(2026, 12, 24, 0, 0, tzinfo=UTC)])


# ---------------------------------------------------------------- bank holidays


def test_christmas_2026() -> None:
    # Fri 25 Dec is Christmas Day; Boxing Day is Sat 26 Dec, substituted on Mon 28 Dec.
    assert CAL.bank_holiday_name(date(2026, 12, 25)) == "Christmas Day"
    assert CAL.bank_holiday_name(date(2026, 12, 28)) is not None
    assert "Boxing Day" in CAL.bank_holiday_name(date(2026, 12, 28))
    assert not CAL.is_working_day(date(2026, 12, 25))
    assert not CAL.is_working_day(date(2026, 12, 28))
    assert CAL.is_working_day(date(2026, 12, 24))
    assert CAL.is_working_day(date(2026, 12, 29))
    assert CAL.add_working_days(date(2026, 12, 24), 1) == date(2026, 12, 29)
    assert CAL.next_working_day(date(2026, 12, 24)) == date(2026, 12, 29)
    assert CAL.previous_working_day(date(2026, 12, 29)) == date(2026, 12, 24)
    assert CAL.working_days_between(date(2026, 12, 24), date(2026, 12, 29)) == 1


def test_new_year_2027() -> None:
    assert CAL.bank_holiday_name(date(2027, 1, 1)) == "New Year's Day"
    assert not CAL.is_working_day(date(2027, 1, 1))
    assert CAL.add_working_days(date(2026, 12, 31), 1) == date(2027, 1, 4)
    assert CAL.previous_working_day(date(2027, 1, 4)) == date(2026, 12, 31)


def test_easter_2027() -> None:
    assert CAL.bank_holiday_name(date(2027, 3, 26)) == "Good Friday"
    assert CAL.bank_holiday_name(date(2027, 3, 29)) == "Easter Monday"
    assert CAL.add_working_days(date(2027, 3, 25), 1) == date(2027, 3, 30)
    assert CAL.add_working_days(date(2027, 3, 30), -1) == date(2027, 3, 25)
    # Tue 23 to Fri 2 Apr is 9 weekdays, less Good Friday and Easter Monday.
    assert CAL.working_days_between(date(2027, 3, 22), date(2027, 4, 2)) == 7


@pytest.mark.parametrize(
    ("holiday", "before", "after"),
    [
        (date(2026, 5, 4), date(2026, 5, 1), date(2026, 5, 5)),  # early May
        (date(2026, 5, 25), date(2026, 5, 22), date(2026, 5, 26)),  # spring
        (date(2026, 8, 31), date(2026, 8, 28), date(2026, 9, 1)),  # summer
    ],
)
def test_may_and_summer_bank_holidays_2026(holiday: date, before: date, after: date) -> None:
    assert holiday.weekday() == 0
    assert CAL.bank_holiday_name(holiday) is not None
    assert not CAL.is_working_day(holiday)
    assert CAL.next_working_day(before) == after
    assert CAL.add_working_days(before, 1) == after
    assert CAL.previous_working_day(after) == before


def test_ordinary_day_has_no_bank_holiday_name() -> None:
    assert CAL.bank_holiday_name(date(2026, 6, 10)) is None


def test_far_future_years_are_built_on_demand() -> None:
    assert CAL.bank_holiday_name(date(2099, 12, 25)) == "Christmas Day"
    assert not CAL.is_working_day(date(2099, 12, 25))
    # Fri 25 Dec 2099, with Boxing Day substituted on Mon 28 Dec, as in 2026.
    assert CAL.add_working_days(date(2099, 12, 24), 1) == date(2099, 12, 29)


def test_years_the_holidays_package_does_not_cover_are_refused() -> None:
    # The package stops at 2100; treating later years as holiday-free would be wrong.
    assert date(2100, 12, 25) in bank_holidays_for_year(2100)
    with pytest.raises(ValueError, match="2101"):
        CAL.is_working_day(date(2101, 1, 3))


def test_icpc_fifteen_working_days_across_christmas() -> None:
    # Strategy discussion Mon 14 Dec 2026. Counting working days after it:
    #  1 Tue 15, 2 Wed 16, 3 Thu 17, 4 Fri 18, 5 Mon 21, 6 Tue 22, 7 Wed 23, 8 Thu 24,
    #  (Fri 25 Christmas, Sat/Sun, Mon 28 Boxing Day substitute skipped)
    #  9 Tue 29, 10 Wed 30, 11 Thu 31, (Fri 1 Jan New Year, Sat/Sun skipped)
    #  12 Mon 4 Jan, 13 Tue 5, 14 Wed 6, 15 Thu 7 Jan 2027.
    # Fifteen weekdays alone would give Mon 4 Jan; the three bank holidays add three days.
    icpc = CAL.add_working_days(date(2026, 12, 14), 15)
    assert icpc == date(2027, 1, 7)
    assert CAL.working_days_between(date(2026, 12, 14), icpc) == 15


# ---------------------------------------------------------------- weekends, closures


def test_weekends() -> None:
    saturday, sunday, monday = date(2026, 6, 6), date(2026, 6, 7), date(2026, 6, 8)
    friday = date(2026, 6, 5)
    assert not CAL.is_working_day(saturday)
    assert not CAL.is_working_day(sunday)
    assert CAL.bank_holiday_name(saturday) is None
    assert CAL.add_working_days(saturday, 0) == monday
    assert CAL.add_working_days(sunday, 1) == monday
    assert CAL.add_working_days(friday, 1) == monday
    assert CAL.add_working_days(friday, 0) == friday
    assert CAL.add_working_days(saturday, -1) == friday
    assert CAL.previous_working_day(monday) == friday
    assert CAL.working_days_between(friday, monday) == 1
    assert CAL.working_days_between(monday, friday) == -1
    assert CAL.working_days_between(saturday, sunday) == 0
    assert CAL.working_days_between(friday, friday) == 0


def test_configured_closures() -> None:
    closures = [date(2026, 12, 24), date(2026, 12, 29), date(2026, 12, 30), date(2026, 12, 31)]
    cal = WorkingCalendar(closures=closures)
    for closed in closures:
        assert not cal.is_working_day(closed)
        assert cal.bank_holiday_name(closed) is None  # a closure is not a bank holiday
    assert cal.closures == frozenset(closures)
    assert cal.add_working_days(date(2026, 12, 23), 1) == date(2027, 1, 4)
    assert cal.working_days_between(date(2026, 12, 23), date(2027, 1, 4)) == 1
    # The start day is excluded even when it is itself a closure.
    assert cal.working_days_between(date(2026, 12, 24), date(2027, 1, 4)) == 1
    assert cal.working_days_between(date(2026, 12, 22), date(2026, 12, 24)) == 1
    # Weekend closures change nothing.
    weekend_closed = WorkingCalendar(closures=[date(2026, 6, 6)])
    assert weekend_closed.working_days_between(date(2026, 6, 1), date(2026, 6, 30)) == 21
    # Working hours skip closures too.
    assert cal.next_working_moment(london(2026, 12, 23, 17, 0)) == utc(2027, 1, 4, 9, 0)


# ---------------------------------------------------------------- clock changes


def test_october_2026_clock_change() -> None:
    # Clocks go back on Sun 25 Oct 2026: BST (UTC+1) before, GMT (UTC+0) after.
    assert CAL.at(date(2026, 10, 23), time(9, 0)) == utc(2026, 10, 23, 8, 0)
    assert CAL.at(date(2026, 10, 26), time(9, 0)) == utc(2026, 10, 26, 9, 0)
    assert CAL.start_of_day(date(2026, 10, 23)) == utc(2026, 10, 23, 8, 0)
    assert CAL.end_of_day(date(2026, 10, 23)) == utc(2026, 10, 23, 16, 0)
    assert CAL.end_of_day(date(2026, 10, 26)) == utc(2026, 10, 26, 17, 0)
    friday_4pm = london(2026, 10, 23, 16, 0)
    assert friday_4pm == utc(2026, 10, 23, 15, 0)
    result = CAL.add_working_hours(friday_4pm, 2)
    assert result == utc(2026, 10, 26, 10, 0)
    assert result.tzinfo is UTC
    assert CAL.local(result) == london(2026, 10, 26, 10, 0)
    assert CAL.next_working_moment(london(2026, 10, 23, 18, 0)) == utc(2026, 10, 26, 9, 0)
    # Fri 09:00 BST to Mon 17:00 GMT is 73 hours elapsed but 16 working hours.
    assert CAL.working_time_between(utc(2026, 10, 23, 8, 0), utc(2026, 10, 26, 17, 0)) == timedelta(hours=16)


def test_march_2026_clock_change() -> None:
    # Clocks go forward on Sun 29 Mar 2026: GMT before, BST after.
    assert CAL.at(date(2026, 3, 27), time(9, 0)) == utc(2026, 3, 27, 9, 0)
    assert CAL.at(date(2026, 3, 30), time(9, 0)) == utc(2026, 3, 30, 8, 0)
    result = CAL.add_working_hours(london(2026, 3, 27, 16, 0), timedelta(hours=2))
    assert result == utc(2026, 3, 30, 9, 0)  # Mon 10:00 BST
    assert CAL.local(result).hour == 10
    assert CAL.is_working_time(utc(2026, 3, 30, 8, 0))
    assert not CAL.is_working_time(utc(2026, 3, 30, 7, 59))
    assert CAL.is_working_time(utc(2026, 3, 27, 16, 59))
    assert not CAL.is_working_time(utc(2026, 3, 27, 17, 0))


def test_march_2027_clock_change_on_easter_weekend() -> None:
    # Sun 28 Mar 2027 is both Easter Sunday and the clock change: Good Friday and Easter
    # Monday make Thu 25 Mar (GMT) to Tue 30 Mar (BST) the next working pair.
    assert CAL.end_of_day(date(2027, 3, 25)) == utc(2027, 3, 25, 17, 0)
    assert CAL.start_of_day(date(2027, 3, 30)) == utc(2027, 3, 30, 8, 0)
    assert CAL.add_working_hours(london(2027, 3, 25, 16, 0), 2) == utc(2027, 3, 30, 9, 0)
    assert CAL.next_working_moment(london(2027, 3, 26, 10, 0)) == utc(2027, 3, 30, 8, 0)
    assert CAL.end_of_working_day_after(london(2027, 3, 25, 12, 0), 1) == utc(2027, 3, 30, 16, 0)


def test_at_nonexistent_time_in_march_gap() -> None:
    # 01:30 on Sun 29 Mar 2026 never happens (01:00 GMT jumps to 02:00 BST).
    # fold=0 reads it with the old offset: 01:30 UTC, shown as 02:30 BST.
    assert CAL.at(date(2026, 3, 29), time(1, 30)) == utc(2026, 3, 29, 1, 30)
    assert CAL.local(CAL.at(date(2026, 3, 29), time(1, 30))).hour == 2
    # fold=1 reads it with the new offset: 00:30 UTC, i.e. 00:30 GMT.
    assert CAL.at(date(2026, 3, 29), time(1, 30, fold=1)) == utc(2026, 3, 29, 0, 30)


def test_at_ambiguous_time_in_october_overlap() -> None:
    # 01:30 on Sun 25 Oct 2026 happens twice: first in BST, then in GMT.
    assert CAL.at(date(2026, 10, 25), time(1, 30)) == utc(2026, 10, 25, 0, 30)
    assert CAL.at(date(2026, 10, 25), time(1, 30, fold=1)) == utc(2026, 10, 25, 1, 30)


# ---------------------------------------------------------------- working hours


def test_is_working_time_bounds() -> None:
    assert CAL.is_working_time(london(2026, 6, 10, 9, 0))
    assert CAL.is_working_time(london(2026, 6, 10, 16, 59, 59))
    assert not CAL.is_working_time(london(2026, 6, 10, 17, 0))
    assert not CAL.is_working_time(london(2026, 6, 10, 8, 59, 59))
    assert not CAL.is_working_time(london(2026, 6, 13, 12, 0))  # Saturday
    assert not CAL.is_working_time(london(2026, 5, 25, 12, 0))  # spring bank holiday


def test_next_working_moment_examples() -> None:
    # Friday evening waits for Monday morning.
    assert CAL.next_working_moment(london(2026, 6, 12, 18, 0)) == utc(2026, 6, 15, 8, 0)
    # A bank holiday Monday waits for Tuesday.
    assert CAL.next_working_moment(london(2026, 5, 22, 18, 0)) == utc(2026, 5, 26, 8, 0)
    # Early morning waits for 09:00 the same day; working time is returned as is, in UTC.
    assert CAL.next_working_moment(london(2026, 6, 10, 7, 0)) == utc(2026, 6, 10, 8, 0)
    inside = CAL.next_working_moment(london(2026, 6, 10, 11, 15))
    assert inside == utc(2026, 6, 10, 10, 15)
    assert inside.tzinfo is UTC


def test_add_working_hours_examples() -> None:
    assert CAL.add_working_hours(london(2026, 6, 12, 16, 0), 2) == utc(2026, 6, 15, 9, 0)
    # Running out exactly at the close gives the close, not the next morning.
    assert CAL.add_working_hours(london(2026, 6, 10, 9, 0), 8) == utc(2026, 6, 10, 16, 0)
    # Starting out of hours counts from the next morning.
    assert CAL.add_working_hours(london(2026, 6, 13, 3, 0), 0.5) == utc(2026, 6, 15, 8, 30)
    assert CAL.add_working_hours(london(2026, 6, 10, 9, 0), 0) == utc(2026, 6, 10, 8, 0)
    # A working week is 40 hours: Mon 09:00 + 40 h is Fri 17:00.
    assert CAL.add_working_hours(london(2026, 6, 8, 9, 0), 40) == utc(2026, 6, 12, 16, 0)
    with pytest.raises(ValueError, match="negative"):
        CAL.add_working_hours(london(2026, 6, 10, 9, 0), -1)


def test_working_time_between_examples() -> None:
    mon_9 = london(2026, 6, 8, 9, 0)
    assert CAL.working_time_between(mon_9, london(2026, 6, 8, 12, 30)) == timedelta(hours=3.5)
    assert CAL.working_time_between(mon_9, london(2026, 6, 15, 9, 0)) == timedelta(hours=40)
    friday_4pm, monday_10am = london(2026, 6, 12, 16, 0), london(2026, 6, 15, 10, 0)
    assert CAL.working_time_between(friday_4pm, monday_10am) == timedelta(hours=2)
    weekend = CAL.working_time_between(london(2026, 6, 13, 9, 0), london(2026, 6, 14, 17, 0))
    assert weekend == timedelta(0)
    assert CAL.working_time_between(london(2026, 6, 8, 12, 0), mon_9) == timedelta(0)


def test_end_of_working_day_after_urgency_levels() -> None:
    wednesday_10 = london(2026, 6, 10, 10, 0)
    assert CAL.end_of_working_day_after(wednesday_10, 0) == utc(2026, 6, 10, 16, 0)
    assert CAL.end_of_working_day_after(wednesday_10, 1) == utc(2026, 6, 11, 16, 0)
    assert CAL.end_of_working_day_after(wednesday_10, 3) == utc(2026, 6, 15, 16, 0)
    # Before opening still counts as today.
    assert CAL.end_of_working_day_after(london(2026, 6, 10, 6, 0), 0) == utc(2026, 6, 10, 16, 0)
    # After the close, "immediate" rolls to the next working day.
    assert CAL.end_of_working_day_after(london(2026, 6, 10, 17, 0), 0) == utc(2026, 6, 11, 16, 0)
    # A Saturday referral: immediate and urgent both fall on Monday, standard on Wednesday.
    saturday = london(2026, 6, 13, 11, 0)
    assert CAL.end_of_working_day_after(saturday, 0) == utc(2026, 6, 15, 16, 0)
    assert CAL.end_of_working_day_after(saturday, 1) == utc(2026, 6, 15, 16, 0)
    assert CAL.end_of_working_day_after(saturday, 3) == utc(2026, 6, 17, 16, 0)
    # Christmas Eve 2026, urgent: next working day is Tue 29 Dec (GMT).
    assert CAL.end_of_working_day_after(london(2026, 12, 24, 15, 0), 1) == utc(2026, 12, 29, 17, 0)
    with pytest.raises(ValueError):
        CAL.end_of_working_day_after(wednesday_10, -1)


def test_earliest_slot_examples() -> None:
    # Rounds up to the next half hour.
    assert CAL.earliest_slot(london(2026, 6, 10, 10, 10)) == utc(2026, 6, 10, 9, 30)
    assert CAL.earliest_slot(london(2026, 6, 10, 10, 30)) == utc(2026, 6, 10, 9, 30)
    assert CAL.earliest_slot(london(2026, 6, 10, 10, 30, 1)) == utc(2026, 6, 10, 10, 0)
    # 16:00-17:00 fits exactly; 16:01 does not, so Thursday 09:00.
    assert CAL.earliest_slot(london(2026, 6, 10, 16, 0)) == utc(2026, 6, 10, 15, 0)
    assert CAL.earliest_slot(london(2026, 6, 10, 16, 1)) == utc(2026, 6, 11, 8, 0)
    # Friday evening before a bank holiday Monday: Tuesday 09:00.
    assert CAL.earliest_slot(london(2026, 5, 22, 16, 45)) == utc(2026, 5, 26, 8, 0)
    # Longer meeting and a 15-minute grid.
    assert CAL.earliest_slot(london(2026, 6, 10, 14, 50), minutes=120, step_minutes=15) == utc(
        2026, 6, 10, 14, 0
    )
    assert CAL.earliest_slot(london(2026, 6, 10, 15, 5), minutes=120, step_minutes=15) == utc(
        2026, 6, 11, 8, 0
    )
    # Grid is local wall time: 9:30 GMT in winter is 9:30 UTC.
    assert CAL.earliest_slot(london(2026, 12, 1, 9, 1)) == utc(2026, 12, 1, 9, 30)


def test_earliest_slot_impossible_request() -> None:
    with pytest.raises(ValueError):
        CAL.earliest_slot(london(2026, 6, 10, 9, 0), minutes=9 * 60)
    with pytest.raises(ValueError):
        CAL.earliest_slot(london(2026, 6, 10, 9, 0), minutes=0)


# ---------------------------------------------------------------- clock change in hours


def test_skipped_hour_inside_working_hours() -> None:
    # Amman, Fri 26 Mar 2021: 00:00 jumped to 01:00, so 00:00-03:00 held only 2 hours.
    friday = date(2021, 3, 26)
    assert AMMAN_NIGHT.start_of_day(friday) == utc(2021, 3, 25, 22, 0)  # 01:00 +03
    assert AMMAN_NIGHT.end_of_day(friday) == utc(2021, 3, 26, 0, 0)  # 03:00 +03
    thursday_local_midnight = datetime(2021, 3, 25, 0, 0, tzinfo=AMMAN)
    saturday = datetime(2021, 3, 27, 12, 0, tzinfo=AMMAN)
    assert AMMAN_NIGHT.working_time_between(thursday_local_midnight, saturday) == timedelta(hours=5)
    # Thursday 23:30 local is on Thursday (UTC 21:30) and outside Thursday's hours.
    assert not AMMAN_NIGHT.is_working_time(utc(2021, 3, 25, 21, 30))
    assert AMMAN_NIGHT.is_working_time(utc(2021, 3, 25, 22, 0))
    # 00:00 and 00:30 do not exist that night, so the first grid slot is 01:00.
    assert AMMAN_NIGHT.earliest_slot(utc(2021, 3, 25, 12, 0)) == utc(2021, 3, 25, 22, 0)
    # On a 45-minute grid (00:00, 00:45, 01:30, ...) the first real start is 01:30: the
    # skipped 00:00 and 00:45 must not turn into off-grid 01:00 or 01:45.
    assert AMMAN_NIGHT.earliest_slot(utc(2021, 3, 25, 12, 0), minutes=45, step_minutes=45) == utc(
        2021, 3, 25, 22, 30
    )


def test_repeated_hour_inside_working_hours() -> None:
    # Amman, Fri 29 Oct 2021: 01:00 went back to 00:00, so 00:00-03:00 held 4 hours.
    friday = date(2021, 10, 29)
    assert AMMAN_NIGHT.start_of_day(friday) == utc(2021, 10, 28, 21, 0)  # 00:00 +03
    assert AMMAN_NIGHT.end_of_day(friday) == utc(2021, 10, 29, 1, 0)  # 03:00 +02
    # Thu 02:00 (+03) plus 3 h: 1 h on Thursday, then 2 h from Friday 00:00 (+03), which
    # is 01:00 (+02) on the clock. Wall-clock arithmetic would wrongly say 02:00.
    result = AMMAN_NIGHT.add_working_hours(datetime(2021, 10, 28, 2, 0, tzinfo=AMMAN), 3)
    assert result == utc(2021, 10, 28, 23, 0)
    assert AMMAN_NIGHT.local(result).replace(tzinfo=None) == datetime(2021, 10, 29, 1, 0)
    # After 00:40 (+03) the next grid start is the second 00:00 (+02), not 01:00.
    assert AMMAN_NIGHT.earliest_slot(utc(2021, 10, 28, 21, 40)) == utc(2021, 10, 28, 22, 0)
    # The two 00:30s are different instants that at() tells apart by fold.
    assert AMMAN_NIGHT.at(friday, time(0, 30)) == utc(2021, 10, 28, 21, 30)
    assert AMMAN_NIGHT.at(friday, time(0, 30, fold=1)) == utc(2021, 10, 28, 22, 30)
    # Local inputs in the same zone: real elapsed time, not the wall-clock difference.
    first_half_past = datetime(2021, 10, 29, 0, 30, tzinfo=AMMAN)
    second_half_past = datetime(2021, 10, 29, 0, 30, fold=1, tzinfo=AMMAN)
    two_am = datetime(2021, 10, 29, 2, 0, tzinfo=AMMAN)
    assert AMMAN_NIGHT.working_time_between(first_half_past, second_half_past) == timedelta(hours=1)
    assert AMMAN_NIGHT.working_time_between(first_half_past, two_am) == timedelta(hours=2.5)


# ---------------------------------------------------------------- property tests

DATES = st.dates(min_value=date(2020, 1, 1), max_value=date(2035, 12, 31))
COUNTS = st.integers(min_value=0, max_value=60)
SIGNED_COUNTS = st.integers(min_value=-60, max_value=60)
CALENDARS = st.sampled_from([CAL, AMMAN_NIGHT])
INPUT_ZONES = st.sampled_from([UTC, LONDON, AMMAN])


def _last_sunday(year: int, month: int) -> date:
    """The last Sunday of a month: when the UK (and EU) clocks change."""
    day = date(year, month + 1, 1) - timedelta(days=1)
    return day - timedelta(days=(day.weekday() - 6) % 7)


# Clock changes as UTC instants, so moments near them are drawn often.
TRANSITIONS = [
    datetime.combine(_last_sunday(year, month), time(1, 0), tzinfo=UTC)
    for year in range(2020, 2036)
    for month in (3, 10)
] + [
    utc(2020, 3, 26, 22, 0),
    utc(2020, 10, 29, 22, 0),
    utc(2021, 3, 25, 22, 0),
    utc(2021, 10, 28, 22, 0),
    utc(2022, 2, 24, 22, 0),
]

UNIFORM_MOMENTS = st.datetimes(
    min_value=datetime(2020, 1, 1), max_value=datetime(2035, 12, 31), timezones=st.just(UTC)
)
NEAR_TRANSITION = st.builds(
    lambda base, offset: base + timedelta(minutes=offset),
    st.sampled_from(TRANSITIONS),
    st.integers(min_value=-4 * 24 * 60, max_value=4 * 24 * 60),
)


@st.composite
def moments(draw: st.DrawFn) -> datetime:
    """Aware moments 2020-2035, often near a clock change, in a variety of zones."""
    instant = draw(st.one_of(UNIFORM_MOMENTS, NEAR_TRANSITION))
    return instant.astimezone(draw(INPUT_ZONES))


DURATIONS = st.one_of(
    st.integers(min_value=0, max_value=120 * 3600).map(lambda s: timedelta(seconds=s)),
    st.floats(min_value=0, max_value=120, allow_nan=False, allow_infinity=False),
)

FAST = settings(max_examples=150, deadline=None)


@cache
def _oracle_holidays(year: int) -> frozenset[date]:
    """Bank holiday dates straight from the holidays package, bypassing the module."""
    return frozenset(holidays.country_holidays("GB", subdiv="ENG", years=year))


def _oracle_is_working_day(day: date) -> bool:
    """Independent of the module: a weekday that the holidays package does not list."""
    return day.weekday() < 5 and day not in _oracle_holidays(day.year)


@FAST
@given(DATES)
def test_is_working_day_matches_holidays_package(day: date) -> None:
    assert CAL.is_working_day(day) == _oracle_is_working_day(day)


@FAST
@given(DATES, st.integers(min_value=1, max_value=60))
def test_add_working_days_lands_on_working_day(day: date, n: int) -> None:
    forward = CAL.add_working_days(day, n)
    backward = CAL.add_working_days(day, -n)
    assert CAL.is_working_day(forward) and forward > day
    assert CAL.is_working_day(backward) and backward < day


@FAST
@given(DATES, SIGNED_COUNTS)
def test_working_days_between_inverts_add(day: date, n: int) -> None:
    start = CAL.add_working_days(day, 0)  # a working day
    assert CAL.working_days_between(start, CAL.add_working_days(start, n)) == n


@FAST
@given(
    DATES,
    st.integers(min_value=-400, max_value=400),
    st.sets(st.integers(min_value=-30, max_value=30), max_size=8),
)
def test_working_days_between_matches_day_by_day_count(
    start: date, span: int, closure_offsets: set[int]
) -> None:
    closures = {start + timedelta(days=offset) for offset in closure_offsets}
    cal = WorkingCalendar(closures=closures)
    end = start + timedelta(days=span)
    low, high = min(start, end), max(start, end)
    days = (low + timedelta(days=i) for i in range(1, (high - low).days + 1))
    count = sum(_oracle_is_working_day(d) and d not in closures for d in days)
    assert cal.working_days_between(start, end) == (count if end >= start else -count)


@FAST
@given(DATES, COUNTS, COUNTS)
def test_add_working_days_is_monotonic(day: date, a: int, b: int) -> None:
    low, high = min(a, b), max(a, b)
    assert CAL.add_working_days(day, low) <= CAL.add_working_days(day, high)
    if low >= 1 and low < high:
        assert CAL.add_working_days(day, low) < CAL.add_working_days(day, high)


@FAST
@given(DATES, SIGNED_COUNTS, SIGNED_COUNTS)
def test_add_working_days_composes(day: date, a: int, b: int) -> None:
    start = CAL.add_working_days(day, 0)
    assert CAL.add_working_days(CAL.add_working_days(start, a), b) == CAL.add_working_days(start, a + b)


@FAST
@given(DATES, COUNTS)
def test_add_then_subtract_returns(day: date, n: int) -> None:
    start = CAL.add_working_days(day, 0)
    assert CAL.add_working_days(CAL.add_working_days(start, n), -n) == start


@FAST
@given(CALENDARS, moments())
def test_next_working_moment_laws(cal: WorkingCalendar, moment: datetime) -> None:
    nxt = cal.next_working_moment(moment)
    assert nxt.tzinfo is UTC
    assert nxt >= moment
    assert cal.is_working_time(nxt)
    assert cal.next_working_moment(nxt) == nxt
    assert cal.working_time_between(moment, nxt) == timedelta(0)
    if cal.is_working_time(moment):
        # In UTC: Python says a datetime in a repeated hour never == one in another zone.
        assert nxt == moment.astimezone(UTC)


@FAST
@given(CALENDARS, moments(), DURATIONS)
def test_add_working_hours_laws(cal: WorkingCalendar, moment: datetime, hours: float | timedelta) -> None:
    result = cal.add_working_hours(moment, hours)
    wanted = hours if isinstance(hours, timedelta) else timedelta(hours=hours)
    assert result.tzinfo is UTC
    assert result >= moment
    local_day = cal.local(result).date()
    assert cal.is_working_time(result) or (
        cal.is_working_day(local_day) and result == cal.end_of_day(local_day)
    )
    assert abs(cal.working_time_between(moment, result) - wanted) < timedelta(seconds=1)


@FAST
@given(CALENDARS, moments(), DURATIONS, DURATIONS)
def test_working_time_between_is_additive(
    cal: WorkingCalendar, moment: datetime, first: float | timedelta, second: float | timedelta
) -> None:
    def span(value: float | timedelta) -> timedelta:
        return value if isinstance(value, timedelta) else timedelta(hours=value)

    # Add in UTC (adding to a local datetime adds wall time and drops fold), then hand
    # the results back in the input's zone so same-zone inputs are exercised too.
    middle = (moment.astimezone(UTC) + span(first)).astimezone(moment.tzinfo)
    end = (middle.astimezone(UTC) + span(second)).astimezone(moment.tzinfo)
    total = cal.working_time_between(moment, end)
    assert total == cal.working_time_between(moment, middle) + cal.working_time_between(middle, end)
    assert timedelta(0) <= total <= end - moment
    assert cal.working_time_between(end, moment) == timedelta(0)


@FAST
@given(
    CALENDARS,
    moments(),
    st.sampled_from([30, 60, 90, 120]),
)
def test_earliest_slot_laws(cal: WorkingCalendar, after: datetime, minutes: int) -> None:
    slot = cal.earliest_slot(after, minutes=minutes)
    day = cal.local(slot).date()
    assert slot >= after
    assert cal.is_working_time(slot)
    assert slot + timedelta(minutes=minutes) <= cal.end_of_day(day)
    assert cal.local(slot).minute in (0, 30) and cal.local(slot).second == 0
    # Nothing earlier on the half-hour grid would have done. Both zones have whole-hour
    # offsets, so the local half-hour grid is the UTC one.
    utc_after = after.astimezone(UTC)
    probe = utc_after.replace(minute=0, second=0, microsecond=0)
    while probe < slot:
        if probe >= utc_after:
            probe_day = cal.local(probe).date()
            assert not (
                cal.is_working_day(probe_day)
                and cal.start_of_day(probe_day) <= probe
                and probe + timedelta(minutes=minutes) <= cal.end_of_day(probe_day)
            ), f"{probe} was free before {slot}"
        probe += timedelta(minutes=30)


@FAST
@given(CALENDARS, moments(), st.integers(min_value=0, max_value=10))
def test_end_of_working_day_after_laws(cal: WorkingCalendar, moment: datetime, n: int) -> None:
    deadline = cal.end_of_working_day_after(moment, n)
    assert deadline.tzinfo is UTC
    assert deadline > moment
    deadline_day = cal.local(deadline - timedelta(microseconds=1)).date()
    assert cal.is_working_day(deadline_day)
    assert deadline == cal.end_of_day(deadline_day)
    later = cal.end_of_working_day_after(moment, n + 1)
    assert later > deadline if n >= 1 else later >= deadline
    if n == 0:
        first = cal.next_working_moment(moment)
        assert deadline == cal.end_of_day(cal.local(first).date())
