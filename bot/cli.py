"""`python -m bot …`: run the bot, play the offline demo, migrate the database, check config."""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Sequence

from bot.settings import SettingsError, load_settings

log = logging.getLogger("bot")


def _configure_logging(level: str) -> None:
    logging.basicConfig(
        level=level,
        format="%(asctime)s %(levelname)s %(name)s %(message)s",
        stream=sys.stderr,
    )


def _cmd_check(_args: argparse.Namespace) -> int:
    from bot.bootstrap import check_everything

    problems = check_everything()
    for problem in problems:
        print(problem)
    if problems:
        print(f"{len(problems)} problem(s) found.", file=sys.stderr)
        return 1
    print("Settings and schedules are valid.")
    return 0


def _cmd_db_upgrade(_args: argparse.Namespace) -> int:
    from bot.database import make_engine, upgrade

    settings = load_settings()
    upgrade(make_engine(settings.effective_database_url))
    print("Database is up to date.")
    return 0


def _cmd_run(_args: argparse.Namespace) -> int:
    from bot.bootstrap import serve

    settings = load_settings()
    _configure_logging(settings.log_level)
    return serve(settings)


def _cmd_sweep(args: argparse.Namespace) -> int:
    from datetime import datetime

    from bot.bootstrap import build_runtime, run_sweeps
    from bot.clock import SettableClock, SystemClock

    settings = load_settings()
    _configure_logging(settings.log_level)
    clock = SettableClock(datetime.fromisoformat(args.now)) if args.now else SystemClock()
    runtime = build_runtime(settings, clock=clock)
    taken, delivered = run_sweeps(runtime)
    print(f"{taken} chase step(s) taken, {delivered} message(s) delivered.")
    return 0


def _cmd_demo(args: argparse.Namespace) -> int:
    from bot.demo import run_demo

    _configure_logging("WARNING" if not args.verbose else "INFO")
    return run_demo(verbose=args.verbose)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m bot", description=__doc__)
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
    commands.add_parser("check", help="validate settings and schedules/").set_defaults(handler=_cmd_check)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return int(args.handler(args))
    except SettingsError as error:
        print(f"configuration error: {error}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
