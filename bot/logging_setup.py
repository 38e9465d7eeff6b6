"""Structured logs: one JSON object a line, carrying ids and codes, never case content.

The code logs references, ids, counts and error codes only, as fields of their own
(`log.info("…", extra={"event": "sweep.finished", "reference": "SD-2026-0001"})`), so a log
collector can search them; SQL parameters are hidden by the engine; so a log line never holds
a child's name or what someone typed into a form.
"""

from __future__ import annotations

import json
import logging
import sys
from datetime import UTC, datetime

# What every LogRecord carries; anything else on a record came from `extra=` and is a field.
_STANDARD_ATTRIBUTES = frozenset(vars(logging.LogRecord("", 0, "", 0, "", None, None))) | {
    "message",
    "asctime",
    "taskName",
}
# Third-party loggers that are chatty at INFO: Alembic's plugin set-up and "Running
# upgrade" lines at each start, APScheduler's two lines per job run. Their warnings stay.
QUIET_AT_INFO = ("alembic", "apscheduler")
# Bolt reads SLACK_BOT_TOKEN from the environment itself even when it is handed a client
# built from that very token, then warns that the token is unused; the bot always gives the
# client, so the warning says nothing.
_BOLT_CLIENT_WARNING = "As you gave `client` as well, `token` will be unused."


def fields_of(record: logging.LogRecord) -> dict[str, object]:
    """The structured fields a log call gave through `extra=`."""
    return {key: value for key, value in vars(record).items() if key not in _STANDARD_ATTRIBUTES}


class JsonFormatter(logging.Formatter):
    """`{"at": …, "level": …, "logger": …, "pid": …, "message": …}`, the call's `extra=`
    fields, and the exception type and traceback if any."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, object] = {
            "at": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "pid": record.process,
            "message": record.getMessage(),
        }
        for key, value in fields_of(record).items():
            entry.setdefault(key, value)
        if record.exc_info and record.exc_info[0] is not None:
            entry["error_type"] = record.exc_info[0].__name__
            entry["traceback"] = self.formatException(record.exc_info)
        return json.dumps(entry, ensure_ascii=False, default=str)


class TextFormatter(logging.Formatter):
    """The plain-text style: the message, then the call's fields as `key=value`."""

    def __init__(self) -> None:
        super().__init__("%(asctime)s %(levelname)s %(name)s %(message)s")

    def format(self, record: logging.LogRecord) -> str:
        text = super().format(record)
        fields = fields_of(record)
        if fields:
            text += " " + " ".join(f"{key}={value}" for key, value in fields.items())
        return text


def _not_the_bolt_client_warning(record: logging.LogRecord) -> bool:
    return record.getMessage() != _BOLT_CLIENT_WARNING


def configure(level: str, style: str = "json") -> None:
    """Send logs to standard error, as JSON lines (production) or plain text (the demo)."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter() if style == "json" else TextFormatter())
    handler.addFilter(_not_the_bolt_client_warning)
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    quiet = logging.WARNING if logging.getLevelName(level) >= logging.INFO else logging.NOTSET
    for name in QUIET_AT_INFO:
        logging.getLogger(name).setLevel(quiet)
