"""The demo prints Slack's text as a practitioner reads it (bot_offline.reading)."""

from __future__ import annotations

from bot_offline.reading import plain

NAMES = {"U0CID002": "DS Tom Reilly"}


def test_slack_markup_becomes_plain_text_with_people_named() -> None:
    text = (
        ":white_check_mark: *Force CID*: attending · <@U0CID002> at 10:00 · `/strategy help` "
        "<https://example.org/x|the guide> :made_up_emoji: _late_ &amp; <@U0NOBODY1>"
    )
    assert plain(text, NAMES.get) == (
        "✓ Force CID: attending · DS Tom Reilly at 10:00 · /strategy help the guide late & "
        "someone not in the schedules"
    )


def test_times_and_snake_case_are_left_alone() -> None:
    text = "held 22:05-22:50, at 10:30:00; action_log v1 and panel_minutes v2"
    assert plain(text, NAMES.get) == text
