"""What the demo prints is read by practitioners, not by Slack: Slack's markup becomes plain
text, with people named as the partnership's schedules name them."""

from __future__ import annotations

import html
import re
from collections.abc import Callable

# Slack's emoji codes the bot uses, as the symbols a terminal shows; others are dropped.
SYMBOLS = {
    "white_check_mark": "✓",
    "heavy_check_mark": "✓",
    "x": "✗",
    "memo": "✎",
    "hourglass_flowing_sand": "…",
    "bust_in_silhouette": "→",
    "rotating_light": "!",
    "warning": "!",
    "red_circle": "●",
    "large_orange_circle": "●",
    "large_yellow_circle": "●",
    "large_green_circle": "●",
    "white_circle": "○",
    "floppy_disk": "",
    "calendar": "",
    "lock": "",
}

_MENTION = re.compile(r"<@([UW][A-Z0-9]+)(?:\|[^>]*)?>")
_CHANNEL = re.compile(r"<#[A-Z0-9]+\|([^>]*)>")
_BARE_CHANNEL = re.compile(r"<#[A-Z0-9]+>")
_SPECIAL = re.compile(r"<!(here|channel|everyone)(?:\|[^>]*)?>")
_LINK = re.compile(r"<([^<>|]+)\|([^<>]+)>")
_BARE_LINK = re.compile(r"<((?:https?|mailto):[^<>]+)>")
_EMOJI = re.compile(r":([a-z][a-z0-9_+\-]*):")  # a name, not the minutes of "22:05-22:50"
_BOLD = re.compile(r"(?<![\w*])\*(?=\S)([^*\n]+?)(?<=\S)\*(?![\w*])")
_ITALIC = re.compile(r"(?<![\w_])_(?=\S)([^_\n]+?)(?<=\S)_(?![\w_])")
_STRIKE = re.compile(r"(?<![\w~])~(?=\S)([^~\n]+?)(?<=\S)~(?![\w~])")
_CODE = re.compile(r"`([^`\n]+)`")


def plain(text: str, name_of: Callable[[str], str | None]) -> str:
    """Slack mrkdwn as plain text: mentions named (`name_of` maps a Slack user id to a name),
    links as their labels, emoji codes as symbols, no bold, italic or code marks."""
    text = _MENTION.sub(lambda m: name_of(m[1]) or "someone not in the schedules", text)
    text = _CHANNEL.sub(lambda m: f"#{m[1]}", text)
    text = _BARE_CHANNEL.sub("a channel", text)
    text = _SPECIAL.sub(lambda m: f"@{m[1]}", text)
    text = _LINK.sub(lambda m: m[2], text)
    text = _BARE_LINK.sub(lambda m: m[1], text)
    text = _EMOJI.sub(lambda m: SYMBOLS.get(m[1], ""), text)
    for pattern in (_CODE, _BOLD, _ITALIC, _STRIKE):
        text = pattern.sub(lambda m: m[1], text)
    text = html.unescape(text)
    # A dropped emoji leaves a leading or doubled space behind.
    return "\n".join(re.sub(r"(?<=\S)  +(?=\S)", " ", line).rstrip() for line in text.splitlines())
