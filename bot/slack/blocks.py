"""Block Kit pieces every capability uses: the marking, options, and validated modals.

Built with `slack_sdk.models`, so Slack's limits (title length, block counts, option text)
are checked when a view is made, not when Slack refuses it.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from slack_sdk.models.blocks import Block, Option, PlainTextObject
from slack_sdk.models.views import View

MARKING = "*OFFICIAL-SENSITIVE*"


def option(value: str, text: str, description: str | None = None) -> Option:
    """A select or radio option; text and description cut to Slack's 75 characters."""
    return Option(
        value=value,
        text=PlainTextObject(text=text[:75]),
        description=description[:75] if description else None,
    )


def modal(
    *,
    title: str,
    blocks: Sequence[Block],
    callback_id: str | None = None,
    submit: str | None = None,
    close: str = "Close",
    metadata: dict[str, Any] | str | None = None,
) -> dict[str, Any]:
    """A modal as the Web API takes it, validated first. `metadata` becomes the view's
    `private_metadata` (ids only, never a child's details)."""
    private = json.dumps(metadata) if isinstance(metadata, dict) else metadata
    view = View(
        type="modal",
        callback_id=callback_id,
        title=PlainTextObject(text=title),
        submit=PlainTextObject(text=submit) if submit else None,
        close=PlainTextObject(text=close),
        private_metadata=private,
        blocks=list(blocks),
    )
    view.validate_json()
    return view.to_dict()
