"""The spans a report covers: a month, a quarter, or the financial year to date (from
1 April, as the Children in Need census counts its year), in the partnership's local dates."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

MONTHS = (
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
)


@dataclass(frozen=True)
class Period:
    """Local dates `first` to `last` inclusive, named by `code` (e.g. `month:2026-11`,
    `quarter:2026-4`, `ytd:2026`) and `label` (as people read it)."""

    code: str
    label: str
    first: date
    last: date

    def window(self, timezone: ZoneInfo) -> tuple[datetime, datetime]:
        """The UTC instants the period's local days run between (start inclusive, end
        exclusive), across any clock change, so timestamps are compared in SQL as stored."""
        return (
            datetime.combine(self.first, time(0), timezone).astimezone(UTC),
            datetime.combine(self.last + timedelta(days=1), time(0), timezone).astimezone(UTC),
        )

    def days(self) -> list[date]:
        return [self.first + timedelta(days=n) for n in range((self.last - self.first).days + 1)]


def month(year: int, number: int) -> Period:
    first = date(year, number, 1)
    following = date(year + (number == 12), number % 12 + 1, 1)
    last = following - timedelta(days=1)
    return Period(f"month:{year}-{number:02d}", f"{MONTHS[number - 1]} {year}", first, last)


def quarter(year: int, number: int) -> Period:
    """Calendar quarter `number` (1 = January to March) of `year`."""
    first_month = 3 * (number - 1) + 1
    last = month(year, first_month + 2).last
    label = f"{MONTHS[first_month - 1]} to {MONTHS[first_month + 1]} {year}"
    return Period(f"quarter:{year}-{number}", label, date(year, first_month, 1), last)


def financial_year_start(day: date) -> date:
    return date(day.year if day.month >= 4 else day.year - 1, 4, 1)


def year_to_date(today: date) -> Period:
    """From 1 April of the financial year `today` is in, to `today`."""
    first = financial_year_start(today)
    label = (
        f"Year to date ({first.year}-{str(first.year + 1)[2:]}: "
        f"1 April to {today.day} {MONTHS[today.month - 1]} {today.year})"
    )
    return Period(f"ytd:{first.year}", label, first, today)


def last_complete_month(today: date) -> Period:
    previous = today.replace(day=1) - timedelta(days=1)
    return month(previous.year, previous.month)


def parse(code: str, today: date) -> Period | None:
    """The period a select's value names; None for anything malformed or in the future.
    A year to date always runs to today."""
    found = re.fullmatch(r"(month|quarter|ytd):(\d{4})(?:-(\d{1,2}))?", code.strip())
    if not found:
        return None
    kind, year, number = found.group(1), int(found.group(2)), int(found.group(3) or 0)
    if kind == "month" and 1 <= number <= 12:
        period = month(year, number)
    elif kind == "quarter" and 1 <= number <= 4:
        period = quarter(year, number)
    elif kind == "ytd" and not number:
        period = year_to_date(today)
        if financial_year_start(today).year != year:
            return None
    else:
        return None
    if period.first > today:
        return None
    return period


def choices(today: date, months: int = 12) -> list[Period]:
    """What the select offers: this month and the eleven before it, this quarter and the
    three before it, and the year to date (most recent first)."""
    offered: list[Period] = [year_to_date(today)]
    year, number = today.year, today.month
    for _ in range(months):
        offered.append(month(year, number))
        year, number = (year - 1, 12) if number == 1 else (year, number - 1)
    year, q = today.year, (today.month - 1) // 3 + 1
    for _ in range(4):
        offered.append(quarter(year, q))
        year, q = (year - 1, 4) if q == 1 else (year, q - 1)
    return offered
