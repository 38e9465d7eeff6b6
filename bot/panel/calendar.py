"""When a panel sits: its recurring calendar with the partnership's bank-holiday rule, and
the referral and update cut-offs before each sitting. No Slack, no database."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from bot.schedules import Panel
from bot.working_days import WorkingCalendar


@dataclass(frozen=True)
class Sitting:
    """One sitting of a panel: when it meets, and whether the bank-holiday rule moved it."""

    panel_code: str
    scheduled_for: date  # the date the calendar gives
    held_on: date  # the date it actually sits (moved off a bank holiday)
    starts: datetime  # aware UTC
    referral_cutoff: datetime  # end of the working day, N working days before
    updates_cutoff: datetime

    @property
    def moved(self) -> bool:
        return self.held_on != self.scheduled_for


def _moved(panel: Panel, calendar: WorkingCalendar, day: date) -> date | None:
    """The day the sitting is held, by the panel's rule; None when the rule is to skip."""
    if calendar.is_working_day(day):
        return day
    if panel.on_bank_holiday == "next_working_day":
        return calendar.next_working_day(day)
    if panel.on_bank_holiday == "previous_working_day":
        return calendar.previous_working_day(day)
    return None


def sittings(panel: Panel, calendar: WorkingCalendar, start: date, end: date) -> list[Sitting]:
    """Every sitting whose calendar date falls from start to end inclusive."""
    out: list[Sitting] = []
    for day in panel.scheduled_dates(start, end):
        held = _moved(panel, calendar, day)
        if held is None:
            continue
        out.append(
            Sitting(
                panel_code=panel.code,
                scheduled_for=day,
                held_on=held,
                starts=calendar.at(held, panel.start_time),
                referral_cutoff=calendar.end_of_day(
                    calendar.add_working_days(held, -panel.referral_cutoff_working_days)
                ),
                updates_cutoff=calendar.end_of_day(
                    calendar.add_working_days(held, -panel.updates_cutoff_working_days)
                ),
            )
        )
    return out


def next_sitting(
    panel: Panel, calendar: WorkingCalendar, after: datetime, *, for_referrals: bool = False
) -> Sitting:
    """The next sitting that starts after `after` (and, for a referral, whose referral
    cut-off has not passed: a late referral goes to the sitting after)."""
    day = calendar.local(after).date()
    for window in range(0, 520, 26):
        for sitting in sittings(
            panel, calendar, day + timedelta(weeks=window), day + timedelta(weeks=window + 26)
        ):
            if sitting.starts > after and (not for_referrals or sitting.referral_cutoff >= after):
                return sitting
    raise ValueError(f"panel {panel.code} has no sitting in the next ten years")
