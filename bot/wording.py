"""Message wording lives in `templates/messages/` so a partnership can change it without code."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined


def escape_mrkdwn(text: str) -> str:
    """Escape what people typed so Slack shows it literally (no mentions, no links)."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


@lru_cache(maxsize=8)
def _environment(directory: str) -> Environment:
    environment = Environment(
        loader=FileSystemLoader(directory),
        undefined=StrictUndefined,
        autoescape=False,
        keep_trailing_newline=False,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    environment.filters["mrkdwn"] = escape_mrkdwn
    return environment


def render_message(templates_dir: Path, name: str, **context: Any) -> str:
    """Render `templates/messages/<name>`; a missing variable is an error, not a blank."""
    environment = _environment(str(templates_dir / "messages"))
    return environment.get_template(name).render(**context).strip()
