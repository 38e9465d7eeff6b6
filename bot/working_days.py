"""Working days and working hours for a safeguarding partnership in England: two calendars.

* `StatutoryCalendar`: Monday to Friday, less England and Wales bank holidays (substitute
  days included), and nothing else. Every statutory date is counted on it: a strategy
  discussion's urgency deadline, the ICPC within 15 working days of the discussion that
  started section 47 enquiries, the 45-working-day assessment, what the Children in Need
  census counts. A partnership's closure days never move these.
* `ServiceCalendar`: the same days less the partnership's own closure days (e.g. between
  Christmas and New Year), with its working hours. For chasing, reminders and when the
  bot's messages go out only.

The two are different types on purpose: code that computes a statutory date asks for a
`StatutoryCalendar` (and refuses anything else at run time, `require_statutory`), and a
`StatutoryCalendar` has no working hours to chase in. Everything here works in the partnership's local
zone (Europe/London by default) so that the March and October clock changes are
handled, while the rest of the app stores aware UTC datetimes: every datetime
returned is aware UTC unless a method says otherwise.

Conventions:

* ``add_working_days(d, n)`` for ``n >= 1`` is the nth working day strictly after ``d``;
  ``n == 0`` is ``d`` itself if it is a working day, else the next one; ``n < 0`` is the
  ``|n|``th working day strictly before ``d``.
* ``working_days_between(a, b)`` counts working days ``d`` with ``a < d <= b`` (negated
  when ``b < a``), so it inverts ``add_working_days`` for working start days.
* Working hours are the half-open interval ``[day_starts, day_ends)`` of local wall time.
* Arithmetic on instants is always done in UTC: adding a timedelta to a local aware
  datetime in Python adds wall time and would be an hour out across a clock change.
* Bank holidays are known for the years the ``holidays`` package covers (1872-2100);
  asking about a weekday outside that range raises ``ValueError`` rather than quietly
  treating it as a working day.
"""

from __future__ import annotations

import bisect
from collections.abc import Iterable, Mapping
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from types import MappingProxyType
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import holidays

__all__ = [
    "ServiceCalendar",
    "StatutoryCalendar",
    "WorkingCalendar",
    "bank_holidays_for_year",
    "require_statutory",
]

_WEEKDAYS_PER_WEEK = 5
_MINUTES_PER_DAY = 24 * 60
# How far earliest_slot will look before deciding no slot exists (about ten years).
_SLOT_SEARCH_DAYS = 3660
_GRIDS_KEPT = 366


@lru_cache(maxsize=256)
def bank_holidays_for_year(year: int) -> Mapping[date, str]:
    """England and Wales bank holidays for one year, built on first use and cached.

    Built per year so that dates far in the future work without building a huge table
    up front; read-only because the cached mapping is shared by every calendar.
    """
    table = holidays.country_holidays("GB", subdiv="ENG", years=year)
    # Outside its range the package returns no holidays at all; silently counting every
    # weekday as working would give wrong statutory dates, so say so instead.
    if not table.start_year <= year <= table.end_year:
        raise ValueError(f"bank holidays are only known for {table.start_year}-{table.end_year}, not {year}")
    return MappingProxyType({day: str(name) for day, name in table.items()})


def _as_utc(moment: datetime, name: str = "moment") -> datetime:
    """``moment`` in UTC, refusing naive datetimes (guessing their zone moves deadlines).

    Converting on the way in matters: Python compares and subtracts two datetimes that
    share a tzinfo by wall time, ignoring ``fold``, which is wrong across a clock change.
    """
    if not isinstance(moment, datetime):
        raise TypeError(f"{name} must be a datetime, not {type(moment).__name__}")
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError(f"{name} must be an aware datetime (got naive {moment!r})")
    return moment.astimezone(UTC)


def _require_date(day: date, name: str = "day") -> None:
    """Refuse datetimes where a date is meant, since they compare unequal to dates."""
    if isinstance(day, datetime) or not isinstance(day, date):
        raise TypeError(f"{name} must be a date, not {type(day).__name__}")


class WorkingCalendar:
    """Working days and hours for one partnership: which days count and when the day runs.

    Immutable after construction, so one instance can be shared between threads.
    """

    def __init__(
        self,
        timezone: str = "Europe/London",
        day_starts: time = time(9, 0),
        day_ends: time = time(17, 0),
        closures: Iterable[date] = (),
    ) -> None:
        """Validate up front so a configuration mistake fails at start-up, not at a deadline.

        ``day_starts``/``day_ends`` are local wall times (any ``fold`` is ignored: on a
        clock-change day they resolve as ``at()`` does with ``fold=0``). ``closures`` are
        whole extra non-working days, e.g. a partnership's Christmas shutdown.
        """
        try:
            self._zone = ZoneInfo(timezone)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"unknown time zone {timezone!r}") from exc
        for label, value in (("day_starts", day_starts), ("day_ends", day_ends)):
            if not isinstance(value, time):
                raise TypeError(f"{label} must be a time, not {type(value).__name__}")
            if value.tzinfo is not None:
                raise ValueError(f"{label} must be a local wall time without a tzinfo")
        if not day_starts < day_ends:
            raise ValueError(
                f"day_starts ({day_starts.isoformat()}) must be before day_ends ({day_ends.isoformat()})"
            )
        closure_set: set[date] = set()
        for closure in closures:
            _require_date(closure, "each closure")
            closure_set.add(closure)
        self._timezone_name = timezone
        self._day_starts = day_starts.replace(fold=0)
        self._day_ends = day_ends.replace(fold=0)
        self._closures = frozenset(closure_set)
        # Weekday closures, sorted, so range counts are a bisect rather than a scan.
        self._weekday_closures = sorted(d for d in closure_set if d.weekday() < 5)
        self._grids: dict[tuple[date, int], tuple[datetime, ...]] = {}

    def __repr__(self) -> str:
        return (
            f"WorkingCalendar(timezone={self._timezone_name!r}, "
            f"day_starts={self._day_starts!r}, day_ends={self._day_ends!r}, "
            f"closures={sorted(self._closures)!r})"
        )

    @property
    def timezone(self) -> ZoneInfo:
        """The zone working hours are reckoned in."""
        return self._zone

    @property
    def day_starts(self) -> time:
        """Local wall time the working day starts."""
        return self._day_starts

    @property
    def day_ends(self) -> time:
        """Local wall time the working day ends (exclusive)."""
        return self._day_ends

    @property
    def closures(self) -> frozenset[date]:
        """Extra whole non-working days the partnership configured."""
        return self._closures

    # ----------------------------------------------------------------- days

    def bank_holiday_name(self, day: date) -> str | None:
        """The bank holiday on ``day``, if any, so a deadline can say why it moved.

        Names come from the ``holidays`` package, which also lists a holiday on its
        calendar date when it falls at a weekend (e.g. Saturday "Boxing Day") as well as
        the weekday it is observed on ("Boxing Day (observed)").
        """
        _require_date(day)
        return bank_holidays_for_year(day.year).get(day)

    def is_working_day(self, day: date) -> bool:
        """Monday to Friday, not a bank holiday and not a configured closure."""
        _require_date(day)
        return day.weekday() < 5 and day not in self._closures and day not in bank_holidays_for_year(day.year)

    def next_working_day(self, day: date) -> date:
        """The first working day strictly after ``day``."""
        _require_date(day)
        candidate = day + timedelta(days=1)
        while not self.is_working_day(candidate):
            candidate += timedelta(days=1)
        return candidate

    def previous_working_day(self, day: date) -> date:
        """The last working day strictly before ``day``."""
        _require_date(day)
        candidate = day - timedelta(days=1)
        while not self.is_working_day(candidate):
            candidate -= timedelta(days=1)
        return candidate

    def add_working_days(self, day: date, n: int) -> date:
        """The nth working day after ``day`` (before it, for negative ``n``).

        ``n == 0`` gives ``day`` if it is a working day, else the next working day, so a
        timescale starting on a weekend starts on the Monday. This is how statutory
        deadlines are computed, e.g. the ICPC is ``add_working_days(discussion, 15)``.
        """
        _require_date(day)
        if isinstance(n, bool) or not isinstance(n, int):
            raise TypeError(f"n must be an int, not {type(n).__name__}")
        if n == 0:
            return day if self.is_working_day(day) else self.next_working_day(day)
        current = day
        step = self.next_working_day if n > 0 else self.previous_working_day
        for _ in range(abs(n)):
            current = step(current)
        return current

    def working_days_between(self, start: date, end: date) -> int:
        """How many working days ``d`` satisfy ``start < d <= end``; negative if reversed.

        Counted arithmetically (weeks, then holidays and closures) rather than day by
        day, so long spans such as assessment reports over years stay cheap.
        """
        _require_date(start, "start")
        _require_date(end, "end")
        if end < start:
            return -self.working_days_between(end, start)
        span = (end - start).days
        full_weeks = span // 7
        count = full_weeks * _WEEKDAYS_PER_WEEK
        for offset in range(full_weeks * 7 + 1, span + 1):
            if (start + timedelta(days=offset)).weekday() < 5:
                count += 1
        # Weekdays in (start, end] that are not worked: bank holidays and closures.
        blocked: set[date] = set()
        for year in range(start.year, end.year + 1):
            blocked.update(d for d in bank_holidays_for_year(year) if start < d <= end and d.weekday() < 5)
        low = bisect.bisect_right(self._weekday_closures, start)
        high = bisect.bisect_right(self._weekday_closures, end)
        blocked.update(self._weekday_closures[low:high])
        return count - len(blocked)

    # ---------------------------------------------------------------- times

    def local(self, moment: datetime) -> datetime:
        """``moment`` in the calendar's zone (aware, local): for display and day-finding."""
        return _as_utc(moment).astimezone(self._zone)

    def at(self, day: date, t: time) -> datetime:
        """Local wall time ``t`` on ``day``, as an aware UTC datetime.

        Clock changes follow zoneinfo's PEP 495 ``fold`` semantics, taken from ``t.fold``:

        * Ambiguous times (the repeated hour in October, e.g. 01:30 on the last Sunday):
          ``fold=0`` (the default) is the first occurrence (BST), ``fold=1`` the second
          (GMT), an hour later.
        * Nonexistent times (the skipped hour in March, e.g. 01:30 on the last Sunday):
          ``fold=0`` reads the wall time with the offset in force before the change, so
          the result lands the length of the gap later (01:30 GMT, shown as 02:30 BST);
          ``fold=1`` uses the offset after it and lands the gap earlier (00:30 GMT).
        """
        _require_date(day)
        if t.tzinfo is not None:
            raise ValueError("t must be a local wall time without a tzinfo")
        return datetime.combine(day, t, tzinfo=self._zone).astimezone(UTC)

    def start_of_day(self, day: date) -> datetime:
        """When working hours begin on ``day`` (UTC), whether or not it is a working day."""
        return self.at(day, self._day_starts)

    def end_of_day(self, day: date) -> datetime:
        """When working hours end on ``day`` (UTC), whether or not it is a working day."""
        return self.at(day, self._day_ends)

    def _local_day(self, moment: datetime) -> date:
        """The calendar date of ``moment`` in the calendar's zone."""
        return self.local(moment).date()

    def is_working_time(self, moment: datetime) -> bool:
        """True on a working day within ``[day_starts, day_ends)`` local time."""
        moment = _as_utc(moment)
        day = self._local_day(moment)
        return self.is_working_day(day) and (self.start_of_day(day) <= moment < self.end_of_day(day))

    def next_working_moment(self, moment: datetime) -> datetime:
        """``moment`` if it is working time, else when the next working period starts.

        Used to hold messages outside working hours until the next working morning.
        """
        moment = _as_utc(moment)
        day = self._local_day(moment)
        if self.is_working_day(day):
            if moment < self.start_of_day(day):
                return self.start_of_day(day)
            if moment < self.end_of_day(day):
                return moment
        return self.start_of_day(self.next_working_day(day))

    def add_working_hours(self, moment: datetime, hours: float | timedelta) -> datetime:
        """The moment ``hours`` of working time after ``moment``, skipping nights and days off.

        Counting starts from ``next_working_moment(moment)``. If the time runs out exactly
        at the end of a working day the result is that day's end, not the next morning.
        """
        moment = _as_utc(moment)
        remaining = hours if isinstance(hours, timedelta) else timedelta(hours=hours)
        if remaining < timedelta(0):
            raise ValueError(f"hours must not be negative (got {hours!r})")
        current = self.next_working_moment(moment)
        while True:
            day = self._local_day(current)
            available = self.end_of_day(day) - current
            if remaining <= available:
                return current + remaining
            remaining -= available
            current = self.start_of_day(self.next_working_day(day))

    def working_time_between(self, a: datetime, b: datetime) -> timedelta:
        """Working time elapsed from ``a`` to ``b``; zero if ``b`` is not after ``a``."""
        a = _as_utc(a, "a")
        b = _as_utc(b, "b")
        total = timedelta(0)
        if b <= a:
            return total
        day = self._local_day(a)
        last = self._local_day(b)
        if not self.is_working_day(day):
            day = self.next_working_day(day)
        while day <= last:
            low = max(self.start_of_day(day), a)
            high = min(self.end_of_day(day), b)
            if high > low:
                total += high - low
            day = self.next_working_day(day)
        return total

    def end_of_working_day_after(self, moment: datetime, n: int) -> datetime:
        """The end of working hours ``n`` working days after ``moment``'s local day.

        For urgency deadlines: immediate is ``n=0`` (today's end if today is a working
        day and it has not yet ended, else the next working day's end), urgent ``n=1``,
        standard ``n=3``. For ``n >= 1`` the count is from the moment's local date, as
        for other working-day timescales, whatever the time of day.
        """
        moment = _as_utc(moment)
        if isinstance(n, bool) or not isinstance(n, int):
            raise TypeError(f"n must be an int, not {type(n).__name__}")
        if n < 0:
            raise ValueError(f"n must not be negative (got {n})")
        day = self._local_day(moment)
        if n == 0:
            if self.is_working_day(day) and moment < self.end_of_day(day):
                return self.end_of_day(day)
            return self.end_of_day(self.next_working_day(day))
        return self.end_of_day(self.add_working_days(day, n))

    def earliest_slot(self, after: datetime, minutes: int = 60, step_minutes: int = 30) -> datetime:
        """The first meeting start at or after ``after`` that fits inside working hours.

        Starts sit on a local wall-clock grid of ``step_minutes`` counted from local
        midnight (:00 and :30 by default); wall times skipped by a clock change are not
        on the grid. The whole slot ``[start, start + minutes]`` must lie within one
        working day's hours. Used to pre-fill a proposed meeting time.
        """
        after = _as_utc(after, "after")
        if minutes <= 0 or step_minutes <= 0:
            raise ValueError("minutes and step_minutes must be positive")
        length = timedelta(minutes=minutes)
        day = self._local_day(after)
        for _ in range(_SLOT_SEARCH_DAYS):
            if self.is_working_day(day):
                found = self._first_slot_on(day, after, length, step_minutes)
                if found is not None:
                    return found
            day += timedelta(days=1)
        raise ValueError(f"no {minutes}-minute slot on a {step_minutes}-minute grid fits in working hours")

    def _first_slot_on(
        self, day: date, after: datetime, length: timedelta, step_minutes: int
    ) -> datetime | None:
        """The earliest grid start on ``day`` not before ``after`` whose slot fits, if any."""
        opens = self.start_of_day(day)
        closes = self.end_of_day(day)
        lower = max(after, opens)
        if lower + length > closes:
            return None
        starts = self._grid_starts(day, step_minutes)
        for start in starts[bisect.bisect_left(starts, lower) :]:
            return start if start + length <= closes else None
        return None

    def _grid_starts(self, day: date, step_minutes: int) -> tuple[datetime, ...]:
        """Every start on ``day``'s local wall-clock grid, sorted. A pure function of the
        day, kept once worked out: every form that proposes a slot asks about the same few
        days, and working them out takes a hundred zone conversions."""
        key = (day, step_minutes)
        known = self._grids.get(key)
        if known is not None:
            return known
        starts: set[datetime] = set()
        for minute_of_day in range(0, _MINUTES_PER_DAY, step_minutes):
            wall = time(minute_of_day // 60, minute_of_day % 60)
            # Both folds, so the repeated October hour offers both of its grid points.
            for fold in (0, 1):
                start = self.at(day, wall.replace(fold=fold))
                if self.local(start).replace(tzinfo=None) == datetime.combine(day, wall):
                    starts.add(start)  # otherwise a wall time skipped by the clock change
        if len(self._grids) >= _GRIDS_KEPT:
            self._grids.clear()
        self._grids[key] = found = tuple(sorted(starts))
        return found


class ServiceCalendar(WorkingCalendar):
    """The partnership's service calendar: its working hours, England and Wales bank
    holidays and its own closure days. For chasing, reminders and when messages go out;
    never for a statutory date (see `StatutoryCalendar`)."""

    def __repr__(self) -> str:
        return "Service" + super().__repr__()


class StatutoryCalendar:
    """Working days as statutory guidance counts them: Monday to Friday, less England and
    Wales bank holidays (substitute days included), and nothing else.

    Deliberately not a `WorkingCalendar`: it takes no closure days, has no working hours to
    chase in, and cannot be handed to code that chases, nor a `ServiceCalendar` to code that
    computes a statutory date. `day_ends` is only for deadlines that run to the end of a
    working day (a strategy discussion's urgency)."""

    def __init__(self, timezone: str = "Europe/London", day_ends: time = time(17, 0)) -> None:
        if not isinstance(day_ends, time) or day_ends == time(0, 0):
            raise ValueError("day_ends must be a local wall time after midnight")
        self._days = WorkingCalendar(timezone, day_starts=time(0, 0), day_ends=day_ends)

    def __repr__(self) -> str:
        return f"StatutoryCalendar(timezone={str(self._days.timezone)!r}, day_ends={self._days.day_ends!r})"

    @property
    def timezone(self) -> ZoneInfo:
        """The zone a moment's local date is taken in."""
        return self._days.timezone

    @property
    def day_ends(self) -> time:
        """Local wall time a working day ends, for end-of-working-day deadlines."""
        return self._days.day_ends

    def local(self, moment: datetime) -> datetime:
        """``moment`` in the calendar's zone (aware, local)."""
        return self._days.local(moment)

    def local_date(self, moment: datetime) -> date:
        """The calendar date of ``moment`` where the partnership is."""
        return self._days.local(moment).date()

    def bank_holiday_name(self, day: date) -> str | None:
        """The bank holiday on ``day``, if any."""
        return self._days.bank_holiday_name(day)

    def is_working_day(self, day: date) -> bool:
        """Monday to Friday and not a bank holiday (closures do not count)."""
        return self._days.is_working_day(day)

    def next_working_day(self, day: date) -> date:
        """The first working day strictly after ``day``."""
        return self._days.next_working_day(day)

    def add_working_days(self, day: date, n: int) -> date:
        """The nth working day after ``day``, as `WorkingCalendar.add_working_days` counts:
        the ICPC target is ``add_working_days(section_47_start, 15)``."""
        return self._days.add_working_days(day, n)

    def working_days_between(self, start: date, end: date) -> int:
        """Working days ``d`` with ``start < d <= end`` (negative if reversed)."""
        return self._days.working_days_between(start, end)

    def end_of_day(self, day: date) -> datetime:
        """When the working day ends on ``day`` (UTC)."""
        return self._days.end_of_day(day)

    def end_of_working_day_after(self, moment: datetime, n: int) -> datetime:
        """The end of the working day ``n`` working days after ``moment``'s local day (0:
        today's end if it is a working day not yet over, else the next working day's)."""
        return self._days.end_of_working_day_after(moment, n)


def require_statutory(calendar: object) -> StatutoryCalendar:
    """The calendar, if it is the statutory one; a TypeError otherwise, so a statutory date
    can never be counted with a partnership's closure days."""
    if not isinstance(calendar, StatutoryCalendar):
        raise TypeError(
            f"statutory dates are counted on a StatutoryCalendar, not a {type(calendar).__name__}"
        )
    return calendar
