"""Taking a periodic job's turn: a read, and a conditional update only when it is due."""

from __future__ import annotations

import os
import socket
from datetime import datetime
from typing import cast

from sqlalchemy import CursorResult, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Engine
from sqlmodel import col

from bot.database import read_scope, session_scope
from bot.periodic.models import PeriodicJob

# Who took a turn, for the operator reading the table: the host and the process.
HOLDER = f"{socket.gethostname()}:{os.getpid()}"


def schedule_first_turn(engine: Engine, name: str, first_due: datetime) -> None:
    """Record the job's first turn unless some process (now or before) already has."""
    dialect = sqlite if engine.dialect.name == "sqlite" else postgresql
    statement = (
        dialect.insert(PeriodicJob)
        .values(name=name, next_due_at=first_due, last_holder="")
        .on_conflict_do_nothing(index_elements=["name"])
    )
    with session_scope(engine) as session:
        session.execute(statement)


def take_turn(engine: Engine, name: str, *, now: datetime, next_due: datetime, holder: str = HOLDER) -> bool:
    """True when the job is due at `now` and this caller took the turn (then the next one is
    due at `next_due`). Of several processes asking at once, exactly one gets True."""
    with read_scope(engine) as session:
        job = session.get(PeriodicJob, name)
        if job is None or job.next_due_at > now:
            return False  # the common answer, from a read alone: no write lock asked for
    # Of processes that all saw it due, the first update moves the turn on; the rest match nothing.
    taken = (
        update(PeriodicJob)
        .where(col(PeriodicJob.name) == name, col(PeriodicJob.next_due_at) <= now)
        .values(next_due_at=next_due, last_started_at=now, last_holder=holder[:120])
    )
    with session_scope(engine) as session:
        return cast(CursorResult, session.execute(taken)).rowcount == 1
