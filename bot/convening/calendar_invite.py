"""Calendar invitations (RFC 5545 iCalendar) for strategy discussions.

An invitation goes by e-mail to people who are not in Slack, so their own calendar shows
the meeting and can answer it. Updates and cancellations reuse the same UID with a higher
SEQUENCE, which is how calendar clients know they replace the earlier invitation.

The summary and description come from the caller, who guarantees that no child's name is
in them; the UID and the file name are derived only from the case reference, so nothing
this module adds can identify a child.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from icalendar import Calendar, Event, vCalAddress

PRODID = "-//Safeguarding Panel Bot//Strategy discussions//EN"
ROLES = frozenset({"REQ-PARTICIPANT", "OPT-PARTICIPANT", "NON-PARTICIPANT", "CHAIR"})

# A reference is letters, digits and hyphens with at least one digit (e.g. SD-2026-0001):
# a shape that a person's name cannot take, so a name can never leak into a UID.
_REFERENCE = re.compile(r"[A-Za-z0-9]+(?:-[A-Za-z0-9]+)*")
_DOMAIN = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9-]+)*")
_EMAIL = re.compile(r"[^@\s<>\"]+@[^@\s<>\"]+")


@dataclass(frozen=True)
class Attendee:
    """Someone invited to the discussion.

    `email` may be None: iCalendar names every ATTENDEE by a URI (mailto:), so a person
    without an e-mail address cannot be listed and is left out of the invitation. Their
    invitation has to reach them another way (Slack, a phone call), which the caller
    records.
    """

    name: str
    email: str | None
    role: str = "REQ-PARTICIPANT"  # or OPT-PARTICIPANT / CHAIR


def _check_reference(reference: str) -> str:
    """Refuse anything that is not shaped like a case reference, as a guard against names."""
    if (
        len(reference) > 40
        or not _REFERENCE.fullmatch(reference)
        or not any(character.isdigit() for character in reference)
    ):
        raise ValueError(f"not a case reference: {reference!r} (expected e.g. SD-2026-0001)")
    return reference


def uid_for(reference: str, domain: str = "safeguarding-bot.local") -> str:
    """A UID that stays the same for every update and cancellation of one discussion."""
    _check_reference(reference)
    if not _DOMAIN.fullmatch(domain):
        raise ValueError(f"not a domain name: {domain!r}")
    return f"{reference.lower()}@{domain.lower()}"


def filename_for(reference: str, sequence: int, cancelled: bool) -> str:
    """An attachment name that says which version of the invitation this is.

    The first invitation is `SD-2026-0001.ics`, an update `SD-2026-0001-update-2.ics`
    (its SEQUENCE), a cancellation `SD-2026-0001-cancelled.ics`; distinct names stop a
    mail client from showing two versions as the same file.
    """
    _check_reference(reference)
    if sequence < 0:
        raise ValueError("sequence must not be negative")
    if cancelled:
        return f"{reference}-cancelled.ics"
    if sequence == 0:
        return f"{reference}.ics"
    return f"{reference}-update-{sequence}.ics"


def _address(person: Attendee, role: str | None) -> vCalAddress:
    """A mailto: address with its parameters; the library quotes and escapes the name."""
    if person.email is None or not _EMAIL.fullmatch(person.email):
        raise ValueError(f"not an e-mail address for {person.name!r}")
    if role is None:
        return vCalAddress.new(person.email, cn=person.name)
    return vCalAddress.new(
        person.email,
        cn=person.name,
        cutype="INDIVIDUAL",
        role=role,
        partstat="NEEDS-ACTION",
        rsvp=True,
    )


def _unambiguous(moment: datetime) -> datetime:
    """Local time, except in the repeated hour when clocks go back: there a TZID time means
    the first occurrence (RFC 5545 3.3.5), so the second one is written in UTC instead."""
    return moment.astimezone(UTC) if moment.fold else moment


def build_invitation(
    *,
    uid: str,
    sequence: int,
    cancelled: bool,
    summary: str,
    description: str,
    start: datetime,
    duration: timedelta,
    organizer: Attendee,
    attendees: Sequence[Attendee],
    location: str,
    stamped_at: datetime,
    timezone: str = "Europe/London",
) -> bytes:
    """The invitation (METHOD:REQUEST) or its cancellation (METHOD:CANCEL) as .ics bytes.

    Times are written as local wall time with a TZID and a VTIMEZONE, so a meeting at
    10:00 stays at 10:00 in the recipient's calendar across the clock change (a time in
    the repeated hour when the clocks go back is written in UTC instead). Attendees
    without an e-mail address are skipped (see `Attendee`); one address listed twice is
    listed once. CLASS:CONFIDENTIAL keeps the details out of shared free/busy views.
    """
    if start.tzinfo is None or start.utcoffset() is None:
        raise ValueError("start must be timezone-aware")
    if stamped_at.tzinfo is None or stamped_at.utcoffset() is None:
        raise ValueError("stamped_at must be timezone-aware")
    if duration <= timedelta(0):
        raise ValueError("duration must be positive")
    if sequence < 0:
        raise ValueError("sequence must not be negative")
    if not uid.strip():
        raise ValueError("uid must not be empty")
    try:
        zone = ZoneInfo(timezone)
    except (ZoneInfoNotFoundError, ValueError) as error:
        raise ValueError(f"unknown time zone {timezone!r}") from error

    local_start = start.astimezone(zone)
    # Add in UTC then convert: a duration is elapsed time, even across a clock change.
    local_end = (start.astimezone(UTC) + duration).astimezone(zone)

    calendar = Calendar()
    calendar.add("prodid", PRODID)
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("method", "CANCEL" if cancelled else "REQUEST")

    event = Event()
    event.add("uid", uid)
    event.add("sequence", sequence)
    event.add("dtstamp", stamped_at.astimezone(UTC))
    event.add("dtstart", _unambiguous(local_start))
    event.add("dtend", _unambiguous(local_end))
    event.add("summary", summary)
    event.add("description", description)
    event.add("location", location)
    event.add("class", "CONFIDENTIAL")
    event.add("status", "CANCELLED" if cancelled else "CONFIRMED")
    event.add("transp", "OPAQUE")
    event.add("organizer", _address(organizer, role=None))

    seen: set[str] = set()
    for person in attendees:
        if person.email is None:
            continue
        if person.role not in ROLES:
            raise ValueError(f"unknown attendee role {person.role!r}")
        key = person.email.strip().lower()
        if key in seen:
            continue
        seen.add(key)
        event.add("attendee", _address(person, role=person.role))

    calendar.add_component(event)
    # A VTIMEZONE that covers the meeting with a year's margin either side: small, and
    # enough for any client that reads the rules from the file rather than by TZID.
    calendar.add_missing_timezones(
        first_date=date(local_start.year - 1, 1, 1), last_date=date(local_end.year + 2, 1, 1)
    )
    if calendar.get_missing_tzids():
        raise ValueError(f"no VTIMEZONE could be made for {timezone!r}")
    return calendar.to_ical()
