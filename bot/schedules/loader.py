"""Reading `schedules/` and turning every mistake into a one-line problem.

Files are validated entry by entry so that one bad agency does not hide the problems in
the next, and cross-file checks use whatever could be read, so an administrator sees the
whole list in one go rather than fixing one error per restart.
"""

from __future__ import annotations

import difflib
import re
import types
import typing
from datetime import date
from pathlib import Path
from typing import Any, TypeVar, get_args, get_origin

import yaml
from pydantic import BaseModel, ValidationError

from bot.schedules.checks import Loaded, run_checks
from bot.schedules.models import (
    UNION_TAGS,
    Agency,
    AgencyUpdatePolicy,
    CasePolicy,
    ChasingPolicy,
    MeetingType,
    Panel,
    Partnership,
    PartnershipSettings,
    RetentionPolicy,
    RoleDefinition,
)
from bot.schedules.practice import PanelPractice
from bot.schedules.problems import (
    AGENCIES,
    AGENCY_UPDATES,
    CASES,
    CHASING,
    FILES,
    MEETING_TYPES,
    PANEL_PRACTICE,
    PANELS,
    PARTNERSHIP,
    RETENTION,
    ROLES_FILE,
    Collector,
    Loc,
    ScheduleError,
    SchedulesProblem,
)

M = TypeVar("M", bound=BaseModel)

_MISSING = object()


def default_schedules_dir() -> Path:
    """The default `schedules/`: inside the installed package, or the checkout's top level."""
    from bot.defaults import default_schedules_dir as packaged_or_checkout

    return packaged_or_checkout()


# ------------------------------------------------------------------------------ reading


_DATE_LIKE = re.compile(r"(?<![\d-])(\d{4})-(\d{1,2})-(\d{1,2})(?![\d-])")


def _impossible_date_line(text: str) -> int | None:
    """The first line holding a date-like value that is not a real date."""
    for number, line in enumerate(text.splitlines(), start=1):
        for match in _DATE_LIKE.finditer(line.split("#", 1)[0]):
            try:
                date(*(int(part) for part in match.groups()))
            except ValueError:
                return number
    return None


def _safe_load(text: str) -> Any:
    """yaml.safe_load, through libyaml when PyYAML has it (several times faster at start-up).
    A file libyaml refuses is read again by the pure-Python parser, so a mistake is reported
    with the same words and line either way."""
    fast = getattr(yaml, "CSafeLoader", None)
    if fast is not None:
        try:
            return yaml.load(text, Loader=fast)  # CSafeLoader: the safe loader, in C
        except yaml.YAMLError:
            pass
    return yaml.safe_load(text)


def _read(col: Collector, filename: str) -> Any:
    """Parse one file with yaml.safe_load; on failure record why and return _MISSING."""
    path = col.directory / filename
    if not path.is_file():
        col.add(filename, (), f"file not found (expected at {path})")
        return _MISSING
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        col.add(filename, (), f"could not read the file: {exc}")
        return _MISSING
    try:
        data = _safe_load(text)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark is not None else None
        column = f" at column {mark.column + 1}" if mark is not None else ""
        detail = exc.problem or "invalid YAML"
        context = ""
        if exc.context:
            start = exc.context_mark
            started = f" that starts on line {start.line + 1}" if start is not None else ""
            context = f" ({exc.context}{started})"
        col.add_line(filename, line, f"YAML syntax error{column}: {detail}{context}")
        return _MISSING
    except yaml.YAMLError as exc:
        col.add_line(filename, None, f"YAML syntax error: {exc}")
        return _MISSING
    except (ValueError, OverflowError) as exc:
        # PyYAML turns YYYY-MM-DD into a date while parsing, so 2025-02-30 fails here.
        line = _impossible_date_line(text)
        col.add_line(
            filename,
            line,
            f"a value could not be read ({exc}); check that dates are real and written as YYYY-MM-DD",
        )
        return _MISSING
    if data is None:
        col.add(filename, (), "the file is empty")
        return _MISSING
    if not isinstance(data, dict):
        col.add(
            filename,
            (),
            f"the file should hold named settings (key: value), not a {type(data).__name__}",
        )
        return _MISSING
    col.raw[filename] = data
    return data


# ------------------------------------------------------------- pydantic errors, friendly


def _leaves(annotation: Any) -> list[Any]:
    """Unwrap Annotated and unions to the concrete types inside."""
    origin = get_origin(annotation)
    if origin is typing.Annotated:
        return _leaves(get_args(annotation)[0])
    if origin is typing.Union or origin is types.UnionType:
        return [leaf for arg in get_args(annotation) for leaf in _leaves(arg)]
    return [annotation]


def _allowed_keys(model: type[BaseModel], loc: Loc) -> list[str]:
    """The keys valid at `loc` inside `model`, to suggest a fix for a misspelt key."""
    current: list[Any] = [model]
    for element in loc:
        if isinstance(element, str) and element in UNION_TAGS:
            continue
        following: list[Any] = []
        for leaf in (lf for ann in current for lf in _leaves(ann)):
            origin = get_origin(leaf)
            if isinstance(leaf, type) and issubclass(leaf, BaseModel):
                if isinstance(element, str) and element in leaf.model_fields:
                    following.append(leaf.model_fields[element].annotation)
            elif origin in (list, tuple) and isinstance(element, int):
                following.append(get_args(leaf)[0])
            elif origin is dict:
                following.append(get_args(leaf)[1])
        current = following
    keys: list[str] = []
    for leaf in (lf for ann in current for lf in _leaves(ann)):
        if isinstance(leaf, type) and issubclass(leaf, BaseModel):
            keys += [k for k in leaf.model_fields if k not in keys]
    return keys


def _shown(value: Any) -> str | None:
    """A short rendering of a bad scalar value, or None for whole mappings and lists."""
    if isinstance(value, dict | list | tuple):
        return None
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _entries(count: int) -> str:
    """'1 entry', '3 entries'."""
    return f"{count} entr{'y' if count == 1 else 'ies'}"


def _friendly(error: Any, model: type[BaseModel]) -> tuple[Loc, str]:
    """Rewrite one pydantic error as (location, plain-English message)."""
    loc: Loc = tuple(error["loc"])
    kind = error["type"]
    if kind == "missing" and loc:
        return loc[:-1], f"required key '{loc[-1]}' is missing"
    if kind == "extra_forbidden" and loc:
        key = str(loc[-1])
        allowed = _allowed_keys(model, loc[:-1])
        close = difflib.get_close_matches(key, allowed, n=1)
        hint = (
            f" (did you mean '{close[0]}'?)"
            if close
            else (f" (allowed: {', '.join(allowed)})" if allowed else "")
        )
        return loc[:-1], f"unknown key '{key}'{hint}"
    message: str = error["msg"]
    if kind in ("tuple_type", "list_type"):
        message = "should be a list, written like [first, second]"
    elif kind in ("model_type", "model_attributes_type", "dict_type"):
        message = "should be a group of settings written as key: value lines"
        if "inline-person" in loc:
            message = "should be a contact id or a person written out in full"
    elif kind == "value_error":
        return loc, message.removeprefix("Value error, ")
    elif kind in ("too_short", "too_long") and isinstance(error.get("input"), list | tuple):
        ctx = error.get("ctx", {})
        found = len(error["input"])
        if kind == "too_short":
            need = ctx.get("min_length", 1)
            return loc, f"should list at least {_entries(need)} (found {found or 'none'})"
        return loc, f"should list at most {_entries(ctx.get('max_length', 0))} (found {found})"
    elif (kind == "string_too_short" and error.get("ctx", {}).get("min_length") == 1) or (
        kind == "string_type" and error.get("input") is None
    ):
        return loc, "should not be empty"
    message = message.replace("Input should be", "should be", 1)
    shown = _shown(error.get("input"))
    return loc, f"{message} (found {shown})" if shown is not None else message


def _report(col: Collector, filename: str, exc: ValidationError, prefix: Loc, model: type[BaseModel]) -> None:
    """Record every error in a pydantic ValidationError under `prefix`."""
    for error in exc.errors(include_url=False):
        loc, message = _friendly(error, model)
        col.add(filename, prefix + loc, message)


def _list_file(col: Collector, filename: str, key: str, model: type[M]) -> list[tuple[int, M]] | None:
    """Validate a file of the form `key: [entries]`, keeping the entries that are sound."""
    data = _read(col, filename)
    if data is _MISSING:
        return None
    for extra in data:
        if extra != key:
            col.add(
                filename,
                (),
                f"unknown key '{extra}' at the top of the file (expected only '{key}')",
            )
    entries = data.get(key)
    if key not in data:
        col.add(filename, (), f"required key '{key}' is missing")
        return None
    if not isinstance(entries, list):
        col.add(filename, (key,), "should be a list of entries, each starting with '- '")
        return None
    valid: list[tuple[int, M]] = []
    for index, entry in enumerate(entries):
        try:
            valid.append((index, model.model_validate(entry)))
        except ValidationError as exc:
            _report(col, filename, exc, (key, index), model)
    return valid


def _object_file(
    col: Collector, filename: str, model: type[M], context: dict[str, Any] | None = None
) -> M | None:
    """Validate a file that is one mapping of settings; `context` reaches its validators."""
    data = _read(col, filename)
    if data is _MISSING:
        return None
    try:
        return model.model_validate(data, context=context)
    except ValidationError as exc:
        _report(col, filename, exc, (), model)
        return None


# ------------------------------------------------------------------------------- public


def _load(directory: Path) -> tuple[Loaded, Collector]:
    """Read and check everything, returning the parts and all problems found."""
    col = Collector(Path(directory))
    if not col.directory.is_dir():
        col.problems.append(SchedulesProblem(str(directory), "", "schedules directory not found"))
        return Loaded(None, None, None, None, None, None, None, None, None, None), col
    chasing = _object_file(col, CHASING, ChasingPolicy)
    loaded = Loaded(
        settings=_object_file(col, PARTNERSHIP, PartnershipSettings),
        agencies=_list_file(col, AGENCIES, "agencies", Agency),
        roles=_list_file(col, ROLES_FILE, "roles", RoleDefinition),
        meeting_types=_list_file(col, MEETING_TYPES, "meeting_types", MeetingType),
        chasing=chasing,
        panels=_list_file(col, PANELS, "panels", Panel),
        retention=_object_file(col, RETENTION, RetentionPolicy),
        # Reminders are compared and ordered in working minutes, so they need the day.
        agency_updates=_object_file(
            col,
            AGENCY_UPDATES,
            AgencyUpdatePolicy,
            {"working_day_minutes": chasing.working_hours.minutes} if chasing else None,
        ),
        cases=_object_file(col, CASES, CasePolicy),
        panel_practice=_object_file(col, PANEL_PRACTICE, PanelPractice),
    )
    run_checks(col, loaded)
    order = {col.display(name): i for i, name in enumerate(FILES)}
    col.problems.sort(key=lambda p: order.get(p.file, len(order)))
    return loaded, col


def check_schedules(directory: Path) -> list[SchedulesProblem]:
    """Every problem in the schedules directory; an empty list means it is usable."""
    return _load(directory)[1].problems


# What each set of schedules gave, by the files' contents: a process that starts the bot
# many times (the tests start one per test) parses and checks them once. A Partnership is
# frozen, so sharing one is safe; files that fail are read again each time.
_LOADED: dict[tuple[bytes | None, ...], Partnership] = {}
_LOADED_AT_MOST = 8


def _contents(directory: Path) -> tuple[bytes | None, ...] | None:
    """Every schedules file's bytes (None where missing); None when a file cannot be read."""
    try:
        return tuple(
            (directory / name).read_bytes() if (directory / name).is_file() else None for name in FILES
        )
    except OSError:
        return None


def load_partnership(directory: Path) -> Partnership:
    """Load `schedules/`, raising ScheduleError listing every problem if any are found."""
    key = _contents(Path(directory))
    if key is not None and key in _LOADED:
        return _LOADED[key]
    partnership = _parse_partnership(directory)
    if key is not None:
        if len(_LOADED) >= _LOADED_AT_MOST:
            _LOADED.clear()
        _LOADED[key] = partnership
    return partnership


def _parse_partnership(directory: Path) -> Partnership:
    loaded, col = _load(directory)
    if col.problems:
        raise ScheduleError(col.problems)
    if (
        loaded.settings is None
        or loaded.agencies is None
        or loaded.roles is None
        or loaded.meeting_types is None
        or loaded.panels is None
        or loaded.chasing is None
        or loaded.retention is None
        or loaded.agency_updates is None
        or loaded.cases is None
        or loaded.panel_practice is None
    ):
        raise ScheduleError([SchedulesProblem(str(directory), "", "incomplete schedules")])
    return Partnership(
        settings=loaded.settings,
        agencies=tuple(a for _, a in loaded.agencies),
        roles=tuple(r for _, r in loaded.roles),
        meeting_types=tuple(m for _, m in loaded.meeting_types),
        panels=tuple(p for _, p in loaded.panels),
        chasing=loaded.chasing,
        retention=loaded.retention,
        agency_updates=loaded.agency_updates,
        cases=loaded.cases,
        panel_practice=loaded.panel_practice,
    )
