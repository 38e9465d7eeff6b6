"""The partnership's starting configuration: the default `schedules/` and `templates/`.

In the repository they live at the top level, where a partnership edits them. A built wheel
carries a copy inside this package (`pyproject.toml` maps them in at build time), so an
installed bot runs without the repository; `python -m bot init DIR` copies them out to edit.
"""

from __future__ import annotations

import shutil
from pathlib import Path

PACKAGED = Path(__file__).resolve().parent
# In a source checkout (an editable install) this package sits in bot/ under the repository.
CHECKOUT = PACKAGED.parents[1]
FOLDERS = ("schedules", "templates")


class InitError(Exception):
    """`init` would overwrite something; the message is one line naming it."""


def default_dir(name: str) -> Path:
    """Where the default `name` folder is: inside the installed package, else the checkout's."""
    packaged = PACKAGED / name
    if packaged.is_dir():
        return packaged
    return CHECKOUT / name


def default_schedules_dir() -> Path:
    return default_dir("schedules")


def default_templates_dir() -> Path:
    return default_dir("templates")


def copy_defaults(target: Path) -> list[Path]:
    """Copy the default folders into `target` (made if missing) for a partnership to edit.

    Refuses, before copying anything, when either folder is already there: a partnership's
    edited configuration is never overwritten."""
    target = target.resolve()
    existing = [target / name for name in FOLDERS if (target / name).exists()]
    if existing:
        raise InitError(f"{existing[0]} already exists; nothing copied (move it away or pick another folder)")
    target.mkdir(parents=True, exist_ok=True)
    copied = []
    for name in FOLDERS:
        shutil.copytree(default_dir(name), target / name, ignore=shutil.ignore_patterns("__pycache__"))
        copied.append(target / name)
    return copied
