"""Human references such as SD-2026-0001: numbered per prefix and year, never reused."""

from __future__ import annotations

from sqlalchemy import UniqueConstraint, update
from sqlalchemy.exc import IntegrityError
from sqlmodel import Field, Session, SQLModel, col, select


class ReferenceCounter(SQLModel, table=True):
    """The last number given for one prefix in one year."""

    __table_args__ = (UniqueConstraint("prefix", "year"),)

    id: int | None = Field(default=None, primary_key=True)
    prefix: str = Field(max_length=10)
    year: int
    last: int = 0


def next_reference(session: Session, prefix: str, year: int) -> str:
    """The next reference, e.g. `SD-2026-0001`, inside the caller's transaction.

    The counter row is updated before it is read, so two convenors at once get two
    numbers (the second waits for the first's commit) rather than one number twice.
    """
    for _ in range(3):
        bumped = session.exec(
            update(ReferenceCounter)
            .where(col(ReferenceCounter.prefix) == prefix, col(ReferenceCounter.year) == year)
            .values(last=col(ReferenceCounter.last) + 1)
        )
        if bumped.rowcount:
            counter = session.exec(
                select(ReferenceCounter).where(
                    col(ReferenceCounter.prefix) == prefix, col(ReferenceCounter.year) == year
                )
            ).one()
            session.refresh(counter)
            return f"{prefix}-{year}-{counter.last:04d}"
        try:
            with session.begin_nested():
                session.add(ReferenceCounter(prefix=prefix, year=year, last=0))
        except IntegrityError:
            continue  # someone else created it first; bump theirs
    raise RuntimeError(f"could not allocate a {prefix} reference")
