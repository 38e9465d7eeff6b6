"""`python -m bot check` for templates: each Word template is rendered against its
specimen context (`bot.documents.specimens`) with strict undefined names, so a tag a
partnership typed into a restyled template that the context does not provide (``{{ child.nhs }}``
for ``{{ child.nhs_number }}``) is reported by file and name, not discovered by a chair."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

from jinja2 import TemplateError, UndefinedError

from bot.documents import specimens
from bot.minutes.documents import ACTION_LOG_TEMPLATE, MINUTES_TEMPLATE, TemplateContextError, render
from bot.panel.documents import NETWORK_PICTURE, PANEL_AGENDA_TEMPLATE, PANEL_MINUTES_TEMPLATE

SPECIMENS: dict[str, Callable[[], dict[str, Any]]] = {
    MINUTES_TEMPLATE: specimens.minutes_specimen,
    ACTION_LOG_TEMPLATE: specimens.action_log_specimen,
    PANEL_MINUTES_TEMPLATE: lambda: specimens.panel_minutes_specimen() | {NETWORK_PICTURE: ""},
    PANEL_AGENDA_TEMPLATE: specimens.panel_agenda_specimen,
}
_MISSING = re.compile(r"'(?:[^']*)' has no attribute '([^']+)'|'([^']+)' is undefined")


def template_problems(templates_dir: Path) -> list[str]:
    """One line per template that uses a name its context does not provide (or does not
    render at all); an empty list when every template renders from its context."""
    problems = []
    for name, specimen in SPECIMENS.items():
        path = templates_dir / name
        if not path.is_file():
            continue  # reported as missing by the caller
        try:
            render(path, specimen())
        except TemplateContextError as error:
            problems.append(f"templates/{name}: {error}")
        except UndefinedError as error:
            found = _MISSING.search(str(error))
            tag = (found.group(1) or found.group(2)) if found else str(error)
            problems.append(f"templates/{name}: uses {tag!r}, which the document's context does not provide")
        except TemplateError as error:
            problems.append(f"templates/{name}: a tag Word cannot render: {error}")
    return problems
