"""Structured logs: one JSON object a line (or plain text), carrying ids and codes, never
case content, at every level, from every logger, on every path.

The bot's own code logs references, ids, counts and error codes only, as fields of their
own (`log.info("sweep finished", extra={"event": "sweep.finished", "steps": 3})`), which
become keys of the JSON line, so a log collector can search them. What it cannot vouch for
is withheld where the logs are written, on the one handler the bot installs:

* Libraries' messages (slack_bolt logs a whole request body when a signature fails,
  slack_sdk logs API request and response bodies at DEBUG, urllib3, waitress,
  apscheduler, alembic, websockets...) keep their logger, level and the wording of their
  message template, but none of the values put into it; a message built before it reached
  logging (an f-string) is withheld whole. Libraries also log at WARNING and above only.
* Exceptions keep their type and where they were raised, never their message: an error
  can quote what someone typed (`int('<a child's name>')`).
* Uncaught exceptions (any thread) go through the same handler, and a record that cannot
  be formatted is reported by its logger's name alone.
"""

from __future__ import annotations

import contextlib
import json
import logging
import re
import sys
import threading
import traceback
from datetime import UTC, datetime
from types import TracebackType
from typing import Any

OWN = "bot"
WITHHELD = "[message withheld]"
LIBRARIES = (
    "slack_bolt",
    "slack_sdk",
    "waitress",
    "urllib3",
    "apscheduler",
    "alembic",
    "sqlalchemy",
    "websockets",
    "websocket",
    "asyncio",
    "concurrent",
    "matplotlib",
    "PIL",
    "fontTools",
    "docxtpl",
    "aiosmtpd",
    "mail.log",
    "gunicorn",
)
# What every LogRecord carries; anything else on one of the bot's own records came from
# `extra=` and is a field of the line.
_STANDARD_ATTRIBUTES = frozenset(vars(logging.LogRecord("", 0, "", 0, "", None, None))) | {
    "message",
    "asctime",
    "taskName",
}
# Bolt reads SLACK_BOT_TOKEN from the environment itself even when it is handed a client
# built from that very token, then warns at every start that the token is unused; the bot
# always gives the client, so the warning says nothing.
BOLT_CLIENT_WARNING = "As you gave `client` as well, `token` will be unused."
_CONVERSION = re.compile(r"%(?:\([^)]*\))?[-#0 +]*(?:\*|\d+)?(?:\.(?:\*|\d+))?[hlL]?[diouxXeEfFgGcrsa%]")


def is_own(name: str) -> bool:
    """The bot's own loggers (`bot`, `bot.…`): what they log is written to be safe."""
    return name == OWN or name.startswith(OWN + ".")


def fields_of(record: logging.LogRecord) -> dict[str, Any]:
    """The fields one of the bot's own log calls gave through `extra=` (none for libraries)."""
    if not is_own(record.name):
        return {}
    return {key: value for key, value in vars(record).items() if key not in _STANDARD_ATTRIBUTES}


def template_only(record: logging.LogRecord) -> str:
    """A library's message with none of its values: the template with each `%s` as `…`,
    or the whole message withheld when there is no template to keep."""
    if not record.args or not isinstance(record.msg, str):
        return WITHHELD
    return _CONVERSION.sub(lambda found: "%" if found.group() == "%%" else "…", record.msg)


class WithholdContent(logging.Filter):
    """On the bot's handler: libraries' messages lose their values (see the module)."""

    def filter(self, record: logging.LogRecord) -> bool:
        if not is_own(record.name):
            record.msg, record.args = template_only(record), ()
        return True


def exception_without_messages(exc_info: Any) -> str:
    """A traceback with every exception's message withheld (chained ones too): types,
    files, lines and code, nothing an error may have quoted."""
    _, error, _ = exc_info
    lines: list[str] = []
    seen: set[int] = set()
    while error is not None and id(error) not in seen:
        seen.add(id(error))
        stack = traceback.extract_tb(error.__traceback__)
        lines[:0] = [
            "Traceback (most recent call last):\n",
            *stack.format(),
            f"{type(error).__module__}.{type(error).__qualname__}: {WITHHELD}\n",
        ]
        error = error.__cause__ or (None if error.__suppress_context__ else error.__context__)
    return "".join(lines).rstrip("\n")


class JsonFormatter(logging.Formatter):
    """`{"at": …, "level": …, "logger": …, "pid": …, "message": …}`, the bot's own fields
    (`extra=`), and the exception type if any."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
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

    def formatException(self, ei: Any) -> str:
        return exception_without_messages(ei)


class TextFormatter(logging.Formatter):
    """`time LEVEL logger message`, tracebacks without exception messages."""

    def __init__(self) -> None:
        super().__init__("%(asctime)s %(levelname)s %(name)s %(message)s")

    def formatException(self, ei: Any) -> str:
        return exception_without_messages(ei)

    def format(self, record: logging.LogRecord) -> str:
        record.exc_text = None  # never a cached traceback another formatter made
        text = super().format(record)
        fields = fields_of(record)
        if fields:
            text += " " + " ".join(f"{key}={value}" for key, value in fields.items())
        return text


def _not_the_bolt_client_warning(record: logging.LogRecord) -> bool:
    return record.msg != BOLT_CLIENT_WARNING


class BotHandler(logging.StreamHandler):
    """Standard error, with content withheld; a record that fails to format is reported
    by its logger alone (logging's default would print the record's values)."""

    def __init__(self, style: str) -> None:
        super().__init__(sys.stderr)
        self.setFormatter(JsonFormatter() if style == "json" else TextFormatter())
        self.addFilter(_not_the_bolt_client_warning)
        self.addFilter(WithholdContent())

    def handleError(self, record: logging.LogRecord) -> None:
        with contextlib.suppress(Exception):
            sys.stderr.write(f"a log record from {record.name} could not be written\n")


def _log_uncaught(
    kind: str, error_type: type[BaseException], error: BaseException, tb: TracebackType | None
) -> None:
    logging.getLogger("bot.crash").error(
        "uncaught %s in %s", error_type.__name__, kind, exc_info=(error_type, error, tb)
    )


def configure(level: str, style: str = "json") -> None:
    """Send every log record to standard error through the bot's one handler: JSON lines
    (production) or plain text (the demo), with content withheld (see the module)."""
    handler = BotHandler(style)
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    quieter = max(logging.getLevelName(level) if isinstance(level, str) else level, logging.WARNING)
    for name in LIBRARIES:
        logging.getLogger(name).setLevel(quieter)
    for name, logger in list(logging.root.manager.loggerDict.items()):
        if isinstance(logger, logging.Logger) and not is_own(name) and logger.handlers:
            logger.handlers.clear()  # a library's own handler would write past the filter
            logger.propagate = True
    logging.captureWarnings(True)
    sys.excepthook = lambda t, e, tb: _log_uncaught("the main thread", t, e, tb)
    threading.excepthook = lambda args: _log_uncaught(
        f"thread {args.thread.name if args.thread else '?'}",
        args.exc_type,
        args.exc_value or args.exc_type(),
        args.exc_traceback,
    )
