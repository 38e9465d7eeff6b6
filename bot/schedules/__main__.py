"""`python -m bot.schedules [DIR]`: list every problem in a schedules folder."""

from __future__ import annotations

import sys
from pathlib import Path

from bot.schedules.loader import check_schedules, default_schedules_dir


def main(argv: list[str] | None = None) -> int:
    """Print each problem on its own line; exit 1 if there are any."""
    args = sys.argv[1:] if argv is None else argv
    directory = Path(args[0]) if args else default_schedules_dir()
    problems = check_schedules(directory)
    for problem in problems:
        print(problem)
    if not problems:
        print(f"{directory}: no problems found")
    return 1 if problems else 0


if __name__ == "__main__":
    raise SystemExit(main())
