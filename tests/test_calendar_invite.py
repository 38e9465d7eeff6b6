"""Calendar invitations: parsed back with icalendar, as a recipient's calendar would."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from icalendar import Calendar, Event

from bot.convening.calendar_invite import Attendee, build_invitation, filename_for, uid_for

LONDON = ZoneInfo("Europe/London")
ORGANIZER = Attendee("Sam Convenor", "sam.convenor@council.example")
ATTENDEES = (
    Attendee("Chris Chair", "chair@council.example", role="CHAIR"),
    Attendee("DS Police, CID", "ds.police@police.example"),
    Attendee("Harper Health", "harper@nhs.example", role="OPT-PARTICIPANT"),
    Attendee("No Email Person", None),
)


def _build(**overrides: Any) -> bytes:
    arguments: dict[str, Any] = {
        "uid": uid_for("SD-2026-0001"),
        "sequence": 0,
        "cancelled": False,
        "summary": "Strategy discussion SD-2026-0001",
        "description": "Join via the link in Slack.",
        "start": datetime(2026, 10, 26, 10, 0, tzinfo=LONDON),
        "duration": timedelta(hours=1),
        "organizer": ORGANIZER,
        "attendees": ATTENDEES,
        "location": "Microsoft Teams",
        "stamped_at": datetime(2026, 10, 20, 8, 30, tzinfo=UTC),
    }
    arguments.update(overrides)
    return build_invitation(**arguments)


def _parse(data: bytes) -> tuple[Calendar, Event]:
    calendar = Calendar.from_ical(data)
    events = calendar.walk("VEVENT")
    assert len(events) == 1
    return calendar, events[0]


def _attendees(event: Event) -> dict[str, Any]:
    found = event.get("ATTENDEE", [])
    if not isinstance(found, list):
        found = [found]
    return {str(address).removeprefix("mailto:"): address.params for address in found}


def test_request_has_the_scheduling_properties() -> None:
    calendar, event = _parse(_build())
    assert str(calendar["METHOD"]) == "REQUEST"
    assert str(calendar["VERSION"]) == "2.0"
    assert "PRODID" in calendar
    assert str(event["UID"]) == "sd-2026-0001@safeguarding-bot.local"
    assert int(event["SEQUENCE"]) == 0
    assert str(event["CLASS"]) == "CONFIDENTIAL"
    assert str(event["STATUS"]) != "CANCELLED"
    assert str(event["SUMMARY"]) == "Strategy discussion SD-2026-0001"
    assert str(event["LOCATION"]) == "Microsoft Teams"
    assert event.decoded("DTSTAMP") == datetime(2026, 10, 20, 8, 30, tzinfo=UTC)
    assert b"DTSTAMP:20261020T083000Z" in _build()


def test_dtstamp_is_written_in_utc_even_if_given_local() -> None:
    data = _build(stamped_at=datetime(2026, 7, 1, 9, 0, tzinfo=LONDON))
    assert b"DTSTAMP:20260701T080000Z" in data


def test_uid_is_stable_across_updates_and_the_sequence_moves() -> None:
    _, first = _parse(_build(sequence=0))
    _, update = _parse(_build(sequence=2, start=datetime(2026, 10, 27, 14, 0, tzinfo=LONDON)))
    _, cancel = _parse(_build(sequence=3, cancelled=True))
    assert str(first["UID"]) == str(update["UID"]) == str(cancel["UID"])
    assert [int(e["SEQUENCE"]) for e in (first, update, cancel)] == [0, 2, 3]


def test_cancel_uses_method_cancel_and_status_cancelled() -> None:
    calendar, event = _parse(_build(sequence=1, cancelled=True))
    assert str(calendar["METHOD"]) == "CANCEL"
    assert str(event["STATUS"]) == "CANCELLED"


@pytest.mark.parametrize(
    ("local", "utc"),
    [
        # After the clock change on Sunday 25 October 2026: GMT, UTC+0.
        (datetime(2026, 10, 26, 10, 0), datetime(2026, 10, 26, 10, 0, tzinfo=UTC)),
        # Before it: BST, UTC+1.
        (datetime(2026, 10, 23, 10, 0), datetime(2026, 10, 23, 9, 0, tzinfo=UTC)),
    ],
)
def test_start_is_london_wall_time_on_both_sides_of_the_clock_change(local: datetime, utc: datetime) -> None:
    data = _build(start=local.replace(tzinfo=LONDON))
    calendar, event = _parse(data)
    stamp = local.strftime("%Y%m%dT%H%M%S").encode()
    assert b"DTSTART;TZID=Europe/London:" + stamp in data
    start = event.decoded("DTSTART")
    assert start.tzinfo is not None
    assert start.replace(tzinfo=None) == local
    assert start.astimezone(UTC) == utc
    assert event.decoded("DTEND").astimezone(UTC) == utc + timedelta(hours=1)
    # The VTIMEZONE itself must describe the offset, for clients that read it rather
    # than recognising the TZID.
    (zone,) = calendar.walk("VTIMEZONE")
    assert str(zone["TZID"]) == "Europe/London"
    from_component = zone.to_tz()
    assert local.replace(tzinfo=from_component).astimezone(UTC) == utc


def test_start_given_in_utc_is_written_as_london_wall_time() -> None:
    data = _build(start=datetime(2026, 10, 23, 9, 0, tzinfo=UTC))
    assert b"DTSTART;TZID=Europe/London:20261023T100000" in data


def test_end_across_the_clock_change_is_elapsed_time() -> None:
    # 00:30 BST on the changeover night plus two hours is 01:30 GMT, the second 01:30 of
    # the night; a TZID time would mean the first, so the end is written in UTC.
    start = datetime(2026, 10, 25, 0, 30, tzinfo=LONDON)
    data = _build(start=start, duration=timedelta(hours=2))
    _, event = _parse(data)
    assert b"DTSTART;TZID=Europe/London:20261025T003000" in data
    assert b"DTEND:20261025T013000Z" in data
    end = event.decoded("DTEND").astimezone(UTC)
    assert end - event.decoded("DTSTART").astimezone(UTC) == timedelta(hours=2)


def test_start_in_the_repeated_hour_is_not_misread_as_the_first_one() -> None:
    second_half_past_one = datetime(2026, 10, 25, 1, 30, tzinfo=UTC)  # 01:30 GMT
    _, event = _parse(_build(start=second_half_past_one))
    assert event.decoded("DTSTART").astimezone(UTC) == second_half_past_one
    first_half_past_one = datetime(2026, 10, 25, 0, 30, tzinfo=UTC)  # 01:30 BST
    data = _build(start=first_half_past_one)
    assert b"DTSTART;TZID=Europe/London:20261025T013000" in data
    _, event = _parse(data)
    assert event.decoded("DTSTART").astimezone(UTC) == first_half_past_one


def test_vtimezone_comes_before_the_event() -> None:
    data = _build()
    assert b"BEGIN:VTIMEZONE" in data
    assert data.index(b"BEGIN:VTIMEZONE") < data.index(b"BEGIN:VEVENT")
    assert Calendar.from_ical(data).get_missing_tzids() == set()


def test_attendees_carry_cn_role_partstat_and_rsvp() -> None:
    _, event = _parse(_build())
    attendees = _attendees(event)
    assert set(attendees) == {
        "chair@council.example",
        "ds.police@police.example",
        "harper@nhs.example",
    }
    police = attendees["ds.police@police.example"]
    assert police["CN"] == "DS Police, CID"
    assert police["ROLE"] == "REQ-PARTICIPANT"
    assert police["PARTSTAT"] == "NEEDS-ACTION"
    assert police["RSVP"] == "TRUE"
    assert attendees["chair@council.example"]["ROLE"] == "CHAIR"
    assert attendees["harper@nhs.example"]["ROLE"] == "OPT-PARTICIPANT"
    assert all(params["RSVP"] == "TRUE" for params in attendees.values())


def test_organizer_is_a_mailto_with_cn() -> None:
    _, event = _parse(_build())
    organizer = event["ORGANIZER"]
    assert str(organizer) == "mailto:sam.convenor@council.example"
    assert organizer.params["CN"] == "Sam Convenor"


def test_attendees_without_email_are_skipped_and_duplicates_listed_once() -> None:
    people = (
        Attendee("Only Phone", None),
        Attendee("Pat Twice", "pat@council.example"),
        Attendee("Pat Twice", "PAT@council.example"),
    )
    data = _build(attendees=people)
    _, event = _parse(data)
    assert list(_attendees(event)) == ["pat@council.example"]
    assert b"Only Phone" not in data


def test_no_attendees_with_email_still_makes_an_invitation() -> None:
    _, event = _parse(_build(attendees=(Attendee("Only Phone", None),)))
    assert _attendees(event) == {}


def test_text_is_escaped_and_round_trips() -> None:
    summary = "Discussion; agencies: police, health, education 🙂"
    description = 'Line one, with comma;\nline two with "quotes" and back\\slash\nline 三'
    location = "Room 4; Floor 2, Civic Centre"
    organizer = Attendee('Jo "JJ" Smith; Convenor', "jo@council.example")
    data = _build(summary=summary, description=description, location=location, organizer=organizer)
    assert b"Discussion\\; agencies: police\\, health" in data
    assert b"comma\\;\\nline two" in data
    _, event = _parse(data)
    assert str(event["SUMMARY"]) == summary
    assert str(event["DESCRIPTION"]) == description
    assert str(event["LOCATION"]) == location
    assert event["ORGANIZER"].params["CN"] == 'Jo "JJ" Smith; Convenor'
    # Long lines are folded at 75 octets, as RFC 5545 requires.
    assert all(len(line) <= 75 for line in data.split(b"\r\n"))


def test_naive_start_is_refused() -> None:
    with pytest.raises(ValueError, match="start"):
        _build(start=datetime(2026, 10, 26, 10, 0))


def test_naive_stamp_is_refused() -> None:
    with pytest.raises(ValueError, match="stamped_at"):
        _build(stamped_at=datetime(2026, 10, 20, 8, 30))


@pytest.mark.parametrize(
    "overrides",
    [
        {"duration": timedelta(0)},
        {"sequence": -1},
        {"timezone": "Europe/Atlantis"},
        {"organizer": Attendee("No Address", None)},
        {"attendees": (Attendee("Odd Role", "odd@council.example", role="BOSS"),)},
        {"attendees": (Attendee("Bad Address", "not an address"),)},
    ],
)
def test_bad_arguments_are_refused(overrides: dict[str, Any]) -> None:
    with pytest.raises(ValueError):
        _build(**overrides)


def test_other_time_zone_gets_its_own_vtimezone() -> None:
    data = _build(timezone="America/New_York", start=datetime(2026, 10, 26, 10, 0, tzinfo=UTC))
    assert b"DTSTART;TZID=America/New_York:20261026T060000" in data
    assert b"TZID:America/New_York" in data


def test_uid_for() -> None:
    assert uid_for("SD-2026-0001") == "sd-2026-0001@safeguarding-bot.local"
    assert uid_for("SD-2026-0001", domain="Bot.Partnership.example") == (
        "sd-2026-0001@bot.partnership.example"
    )
    assert uid_for("SD-2026-0001") == uid_for("SD-2026-0001")


@pytest.mark.parametrize(
    "reference", ["", "Jayden Smith", "JaydenSmith", "SD 2026 0001", "SD-2026-0001@x", "SD--1"]
)
def test_uid_for_refuses_what_is_not_a_reference(reference: str) -> None:
    with pytest.raises(ValueError):
        uid_for(reference)


def test_uid_for_refuses_a_bad_domain() -> None:
    with pytest.raises(ValueError):
        uid_for("SD-2026-0001", domain="bad domain")


def test_filename_for() -> None:
    assert filename_for("SD-2026-0001", 0, cancelled=False) == "SD-2026-0001.ics"
    assert filename_for("SD-2026-0001", 2, cancelled=False) == "SD-2026-0001-update-2.ics"
    assert filename_for("SD-2026-0001", 3, cancelled=True) == "SD-2026-0001-cancelled.ics"
    with pytest.raises(ValueError):
        filename_for("Jayden Smith", 0, cancelled=False)
