"""Out of hours: when a strategy discussion falls outside the partnership's working time.

The Emergency Duty Team and the police hold strategy discussions at night, at weekends and
on bank holidays. Such a discussion is convened by an emergency duty convenor, with the
reason it could not wait; the record says it was out of hours, and chasing (which keeps to
the service calendar) starts on the next working day.
"""

from __future__ import annotations

from datetime import datetime

from bot.working_days import WorkingCalendar

EMERGENCY_DUTY_CONVENOR = "emergency_duty_convenor"
OUT_OF_HOURS_REASON_LIMIT = 500  # also shown in Slack; carried between the record form's steps


def out_of_hours_because(
    calendar: WorkingCalendar, start: datetime, end: datetime | None = None
) -> str | None:
    """Why a discussion from `start` (to `end`) is out of hours, in words (`a Saturday`, `a
    bank holiday (Boxing Day)`, `a day the partnership is closed`, `outside working hours,
    09:00 to 17:00`), or None when it lies within working time."""
    day = calendar.local(start).date()
    if not calendar.is_working_day(day):
        holiday = calendar.bank_holiday_name(day)
        if holiday:
            return f"a bank holiday ({holiday})"
        if day.weekday() >= 5:
            return f"a {day:%A}"
        return "a day the partnership is closed"
    if not calendar.is_working_time(start) or (end is not None and end > calendar.end_of_day(day)):
        return f"outside working hours, {calendar.day_starts:%H:%M} to {calendar.day_ends:%H:%M}"
    return None
