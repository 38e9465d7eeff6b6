"""A stored UTC moment's local calendar date, worked out inside the database, so "done by
the due date" (done before the local midnight that ends the due day) is counted in SQL for
every row at once, correctly across the clock changes.

PostgreSQL knows time zones (`timezone(zone, moment)`). SQLite does not: there the moment
is shifted by the offset in force at that instant, chosen by a CASE over the zone's
transitions in the years the report can reach (for London, two a year)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from functools import lru_cache
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Date, case, cast, func, literal
from sqlalchemy.sql.elements import ColumnElement

from bot.database import UTCDateTime


@lru_cache(maxsize=64)
def transitions(zone: ZoneInfo, first_year: int, last_year: int) -> tuple[tuple[datetime, int], ...]:
    """The UTC instants from which the zone's offset changes, with the new offset in seconds,
    preceded by the offset in force at the start of `first_year` (worked out once per span)."""

    def offset(moment: datetime) -> int:
        found = moment.astimezone(zone).utcoffset()
        return int(found.total_seconds()) if found is not None else 0

    moment = datetime(first_year, 1, 1, tzinfo=UTC)
    end = datetime(last_year + 1, 1, 1, tzinfo=UTC)
    found = [(moment, offset(moment))]
    while moment < end:
        following = moment + timedelta(days=1)
        if offset(following) != offset(moment):
            low, high = moment, following  # the change is in here: find its minute
            while high - low > timedelta(minutes=1):
                middle = low + (high - low) / 2
                low, high = (middle, high) if offset(middle) == offset(low) else (low, middle)
            found.append((high, offset(high)))
        moment = following
    return tuple(found)


def local_date(
    column: Any, dialect: str, zone: ZoneInfo, first_year: int, last_year: int
) -> ColumnElement[Any]:
    """SQL for the local date of the UTC moment in `column`."""
    if dialect == "postgresql":
        return cast(func.timezone(zone.key, column), Date)
    changes = transitions(zone, first_year, last_year)

    def shifted(seconds: int) -> ColumnElement[Any]:
        return func.date(column, f"{seconds:+d} seconds")

    whens = [
        (column < literal(start, UTCDateTime), shifted(previous))
        for (start, _), (_, previous) in zip(changes[1:], changes[:-1], strict=True)
    ]
    if not whens:
        return shifted(changes[0][1])
    return case(*whens, else_=shifted(changes[-1][1]))
