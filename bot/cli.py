"""`python -m bot …`: run the bot, play the offline demo, migrate the database, check config.

Every configuration or database problem ends a command with one line on standard error and
exit status 2, never a traceback.
"""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Sequence

from bot import __version__
from bot.settings import SettingsError, load_settings

log = logging.getLogger("bot")


def _configure_logging(level: str, style: str = "json") -> None:
    from bot.logging_setup import configure

    configure(level, style)


def _cmd_check(_args: argparse.Namespace) -> int:
    from bot.bootstrap import check_everything
    from bot.preflight import check_database, check_slack

    problems = check_everything()
    for problem in problems:
        print(problem)
    if not problems:
        print("Settings and schedules are valid.")
    try:
        settings = load_settings()
    except SettingsError:
        settings = None  # already reported above
    if settings is not None:
        for finding in check_database(settings) + check_slack(settings):
            print(finding.text)
            if finding.problem:
                problems.append(finding.text)
    if problems:
        print(f"{len(problems)} problem(s) found.", file=sys.stderr)
        return 1
    return 0


def _cmd_db_upgrade(_args: argparse.Namespace) -> int:
    from bot.database import make_engine, upgrade

    settings = load_settings()
    engine = make_engine(settings.effective_database_url)
    try:
        upgrade(engine)
    finally:
        engine.dispose()
    print("Database is up to date.")
    return 0


def _cmd_init(args: argparse.Namespace) -> int:
    from pathlib import Path

    from bot.defaults import InitError, copy_defaults

    try:
        copied = copy_defaults(Path(args.folder))
    except InitError as error:
        print(f"init: {error}", file=sys.stderr)
        return 1
    for folder in copied:
        print(f"wrote {folder}")
    schedules, templates = copied
    print("Edit them, check them with `python -m bot check`, and point the bot at them:")
    print(f"SCHEDULES_DIR={schedules}")
    print(f"TEMPLATES_DIR={templates}")
    return 0


def _cmd_health(args: argparse.Namespace) -> int:
    import json
    import urllib.error
    import urllib.request

    settings = load_settings()
    url = args.url or f"http://127.0.0.1:{settings.port}/healthz/ready"
    try:
        with urllib.request.urlopen(url, timeout=args.timeout) as response:
            status, body = response.status, response.read()
    except urllib.error.HTTPError as error:
        status, body = error.code, error.read()
    except OSError as error:
        print(f"health: {url}: {error}", file=sys.stderr)
        return 1
    try:
        print(json.dumps(json.loads(body)))
    except ValueError:
        print(body.decode("utf-8", "replace")[:200])
    return 0 if status == 200 else 1


def _cmd_run(_args: argparse.Namespace) -> int:
    from bot.bootstrap import serve

    settings = load_settings()
    _configure_logging(settings.log_level, settings.log_format)
    return serve(settings)


def _cmd_sweep(args: argparse.Namespace) -> int:
    from datetime import datetime

    from bot.bootstrap import run_sweeps
    from bot.clock import SettableClock, SystemClock
    from bot.composition import build_runtime

    settings = load_settings()
    _configure_logging(settings.log_level)
    clock = SettableClock(datetime.fromisoformat(args.now)) if args.now else SystemClock()
    runtime = build_runtime(settings, clock=clock)
    taken, delivered = run_sweeps(runtime)
    print(f"{taken} chase step(s) taken, {delivered} message(s) delivered.")
    return 0


def _engine():
    from bot.database import make_engine

    return make_engine(load_settings().effective_database_url)


def _cmd_audit_verify(_args: argparse.Namespace) -> int:
    from bot.audit.service import verify_chain
    from bot.database import stream_scope

    with stream_scope(_engine()) as session:
        problems = verify_chain(session)
    for problem in problems:
        print(problem)
    if problems:
        print(f"The audit trail is broken: {len(problems)} problem(s).", file=sys.stderr)
        return 1
    print("The audit trail is intact.")
    return 0


def _cmd_audit_export(args: argparse.Namespace) -> int:
    import csv
    from datetime import date, datetime, time, timedelta
    from zoneinfo import ZoneInfo

    from bot.audit.service import export_rows
    from bot.database import stream_scope

    zone = ZoneInfo(load_settings().timezone)

    def moment(text: str | None) -> datetime | None:
        return datetime.combine(date.fromisoformat(text), time(0), zone) if text else None

    start, end = moment(args.date_from), moment(args.date_to)
    if end is not None:
        end = end + timedelta(days=1)  # the end date is included
    output = open(args.output, "w", newline="", encoding="utf-8") if args.output else sys.stdout  # noqa: SIM115
    written = -1  # the header is not an entry
    try:
        writer = csv.writer(output)
        with stream_scope(_engine()) as session:
            # Each row goes to the file as it is read: memory stays flat over years of entries.
            for row in export_rows(session, start=start, end=end, case_reference=args.case):
                writer.writerow(row)
                written += 1
    finally:
        if args.output:
            output.close()
    print(f"{written} audit entries exported.", file=sys.stderr)
    return 0


def _cmd_retention(args: argparse.Namespace) -> int:
    from datetime import datetime

    from bot.clock import SettableClock, SystemClock
    from bot.composition import build_runtime
    from bot.retention.jobs import run_retention

    settings = load_settings()
    clock = SettableClock(datetime.fromisoformat(args.now)) if args.now else SystemClock()
    runtime = build_runtime(settings, clock=clock)
    lines = run_retention(runtime, dry_run=not args.apply)
    verb = "Removed" if args.apply else "Would remove"
    for line in lines:
        print(f"{verb}: {line}")
    if args.apply:
        print(f"{runtime.deliver_now()} Slack deletion(s) delivered.")
    print(f"{len(lines)} item(s).")
    return 0


def _cmd_census(args: argparse.Namespace) -> int:
    """The Children in Need census's section 47 items as CSV and XML, the date problems the
    census would reject, and the ICPC working days summary."""
    from datetime import date
    from pathlib import Path

    from sqlmodel import Session

    from bot.composition import statutory_calendar_for
    from bot.schedules import load_partnership
    from bot.timeliness import census

    settings = load_settings()
    statutory = statutory_calendar_for(load_partnership(settings.schedules_dir), settings.timezone)
    try:
        first, last = date.fromisoformat(args.date_from), date.fromisoformat(args.date_to)
    except ValueError:
        print("error: --from and --to are dates, YYYY-MM-DD", file=sys.stderr)
        return 2
    if last < first:
        print("error: --to is before --from", file=sys.stderr)
        return 2
    folder = Path(args.output)
    folder.mkdir(parents=True, exist_ok=True)
    with Session(_engine()) as session:
        rows = list(census.census_rows(session, first=first, last=last, statutory=statutory))
    stem = f"cin-census-section47-{first.isoformat()}-to-{last.isoformat()}"
    (folder / f"{stem}.csv").write_bytes(census.as_csv(rows))
    (folder / f"{stem}.xml").write_bytes(census.as_xml(rows))
    print(f"{len(rows)} section 47 enquiries written to {folder / stem}.csv and .xml")
    for line in census.summary_lines(census.icpc_summary(rows, statutory)):
        print(line)
    problems = census.date_problems(rows, statutory)
    for problem in problems:
        print(f"Date problem: {problem.case_reference} ({problem.started_by}): {problem.problem}")
    print(f"{len(problems)} date problem(s).")
    return 1 if problems else 0


def _cmd_outbox(args: argparse.Namespace) -> int:
    """List the messages that failed for good, with their reasons, oldest first, read a
    batch at a time (whatever their number); or put some back to be sent again."""
    from bot.delivery.failures import retry, retry_all_failed, stream_failed

    engine = _engine()
    if getattr(args, "outbox_command", None) == "retry":
        if args.all_failed:
            count = retry_all_failed(engine)
        elif args.ids:
            count = retry(engine, args.ids)
        else:
            print("retry: name the entries (ID ...) or --all-failed", file=sys.stderr)
            return 2
        print(f"{count} failed message(s) will be sent again (the running bot sends them within seconds).")
        return 0
    shown = 0
    for failed in stream_failed(engine):
        if args.limit and shown >= args.limit:
            print("… more: raise --limit, or 0 for all")
            break
        what = failed.method + (f" ({failed.purpose})" if failed.purpose else "")
        print(
            f"{failed.id}\t{failed.created_at:%Y-%m-%d %H:%M}\t{what}\t"
            f"{failed.attempts} attempt(s)\t{failed.reason or 'no reason recorded'}"
        )
        shown += 1
    print(f"{shown} failed message(s) listed.", file=sys.stderr)
    return 0


def _cmd_demo(args: argparse.Namespace) -> int:
    # The demo, its local Slack and offline driver are a separate distribution, so that a
    # deployment carries no test server; imported only when asked for.
    try:
        from bot_offline.demo import run_demo
    except ModuleNotFoundError as missing:
        if not (missing.name or "").startswith("bot_offline"):
            raise
        print(
            "python -m bot demo: the demo is not installed; install safeguarding-panel-bot-offline "
            "(in a checkout: pip install -e offline; or its wheel from bash scripts/package)",
            file=sys.stderr,
        )
        return 2

    # The demo's story is its output; the refusals it provokes on purpose (a forged signature)
    # would log warnings with the machine's time in them. Errors still show.
    _configure_logging("ERROR" if not args.verbose else "INFO", "text")
    return run_demo(verbose=args.verbose)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m bot", description=__doc__)
    parser.add_argument("--version", action="version", version=f"safeguarding-panel-bot {__version__}")
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser(
        "run", help="serve Slack (Socket Mode with SLACK_APP_TOKEN, else HTTP on $PORT)"
    ).set_defaults(handler=_cmd_run)
    demo = commands.add_parser("demo", help="play the offline end-to-end demo")
    demo.add_argument("--verbose", action="store_true", help="also print the bot's own log")
    demo.set_defaults(handler=_cmd_demo)
    database = commands.add_parser("db", help="database tasks")
    database_commands = database.add_subparsers(dest="db_command", required=True)
    database_commands.add_parser("upgrade", help="apply migrations").set_defaults(handler=_cmd_db_upgrade)
    sweep = commands.add_parser(
        "sweep", help="run every chasing sweep once, then deliver (what the scheduler does)"
    )
    sweep.add_argument("--now", help="the time to sweep at, ISO 8601 with offset (rehearsals and tests)")
    sweep.set_defaults(handler=_cmd_sweep)
    audit = commands.add_parser("audit", help="the audit trail")
    audit_commands = audit.add_subparsers(dest="audit_command", required=True)
    audit_commands.add_parser("verify", help="check the hash chain; exit 1 if broken").set_defaults(
        handler=_cmd_audit_verify
    )
    export = audit_commands.add_parser("export", help="write audit entries as CSV")
    export.add_argument("--from", dest="date_from", help="first day (YYYY-MM-DD), included")
    export.add_argument("--to", dest="date_to", help="last day (YYYY-MM-DD), included")
    export.add_argument("--case", help="only entries about this case reference")
    export.add_argument("--output", "-o", help="file to write (default: standard output)")
    export.set_defaults(handler=_cmd_audit_export)
    census = commands.add_parser(
        "census", help="the Children in Need census's section 47 items (CSV, XML), date checks, ICPC summary"
    )
    census.add_argument(
        "--from", dest="date_from", required=True, help="first S47ActualStartDate (YYYY-MM-DD)"
    )
    census.add_argument("--to", dest="date_to", required=True, help="last S47ActualStartDate (YYYY-MM-DD)")
    census.add_argument(
        "--output", "-o", default=".", help="folder to write the CSV and XML to (default: here)"
    )
    census.set_defaults(handler=_cmd_census)
    retention = commands.add_parser("retention", help="apply schedules/retention.yaml")
    mode = retention.add_mutually_exclusive_group(required=True)
    mode.add_argument("--dry-run", action="store_true", help="list what would be removed")
    mode.add_argument("--apply", action="store_true", help="remove it (and what Slack holds of it)")
    retention.add_argument("--now", help="the time to apply the policy at, ISO 8601 with offset (tests)")
    retention.set_defaults(handler=_cmd_retention)
    outbox = commands.add_parser("outbox", help="list the messages that failed for good, with reasons")
    outbox.add_argument("--limit", type=int, default=0, help="list at most this many (default: all)")
    outbox.set_defaults(handler=_cmd_outbox)
    outbox_commands = outbox.add_subparsers(dest="outbox_command")
    retry = outbox_commands.add_parser("retry", help="send failed messages again: ID ... or --all-failed")
    retry.add_argument("ids", metavar="ID", type=int, nargs="*")
    retry.add_argument("--all-failed", action="store_true", help="every failed message")
    retry.set_defaults(handler=_cmd_outbox)
    commands.add_parser(
        "check", help="validate settings, schedules/ and templates; reach the database and Slack"
    ).set_defaults(handler=_cmd_check)
    init = commands.add_parser("init", help="copy the default schedules/ and templates/ into FOLDER to edit")
    init.add_argument("folder", metavar="FOLDER")
    init.set_defaults(handler=_cmd_init)
    health = commands.add_parser("health", help="ask the running bot's /healthz/ready; exit 1 unless ready")
    health.add_argument("--url", help="default: http://127.0.0.1:$PORT/healthz/ready")
    health.add_argument("--timeout", type=float, default=8.0, help="seconds (default 8)")
    health.set_defaults(handler=_cmd_health)
    return parser


def _database_url() -> str:
    try:
        return load_settings().effective_database_url
    except SettingsError:
        return ""


def main(argv: Sequence[str] | None = None) -> int:
    from alembic.util import CommandError
    from sqlalchemy.exc import SQLAlchemyError

    from bot.database import describe_database_error
    from bot.schedules import ScheduleError

    args = build_parser().parse_args(argv)
    try:
        return int(args.handler(args))
    except SettingsError as error:
        print(f"configuration error: {error}", file=sys.stderr)
    except ScheduleError as error:
        for problem in error.problems:
            print(f"configuration error: {problem}", file=sys.stderr)
    except SQLAlchemyError as error:
        print(describe_database_error(error, _database_url()), file=sys.stderr)
    except CommandError as error:  # Alembic: e.g. the database is at a revision this bot lacks
        print(f"database error: migrations: {error}", file=sys.stderr)
    except OSError as error:  # a folder or file the settings name cannot be used
        print(f"error: {error}", file=sys.stderr)
    except KeyboardInterrupt:
        return 130
    return 2
