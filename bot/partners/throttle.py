"""Rate limits for the partner pages: so many tries per client per minute, counted in the
database, so every worker process (and every replica) shares the one limit.

A fixed window: one row per client and bucket and minute, its count raised by an upsert
(`INSERT … ON CONFLICT DO UPDATE … RETURNING`, one statement, atomic on PostgreSQL and
SQLite alike). The client's address is kept only as a keyed hash, and rows older than the
last minute are removed as new minutes begin, so the table stays a few rows per client.
This bounds how fast anyone can guess at links or codes (a link's MAC has 256 bits; a code
is tried a few times at most before it is used up)."""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable

from sqlalchemy import delete
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.engine import Engine
from sqlmodel import col

from bot.partners.models import PartnerTry


class Throttle:
    """`allow(client)` is False once `limit` tries came from `client` in this bucket's
    current window of `window` seconds, whichever process counted them."""

    def __init__(
        self,
        engine: Engine,
        bucket: str,
        limit: int,
        window: int = 60,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.engine, self.bucket, self.limit, self.window, self._clock = engine, bucket, limit, window, clock
        insert = postgresql_insert if engine.dialect.name == "postgresql" else sqlite_insert
        self._insert = insert

    def _key(self, client: str) -> str:
        return hashlib.sha256(f"partner-tries:{self.bucket}:{client}".encode()).hexdigest()

    def allow(self, client: str) -> bool:
        number = int(self._clock() // self.window)
        adding = self._insert(PartnerTry).values(key=self._key(client), slot=number, tries=1)
        statement = adding.on_conflict_do_update(
            index_elements=["key", "slot"], set_={"tries": col(PartnerTry.tries) + 1}
        ).returning(col(PartnerTry.tries))
        with self.engine.begin() as connection:
            tries = int(connection.execute(statement).scalar_one())
            if tries == 1:  # a new window for this client: forget the old ones
                connection.execute(delete(PartnerTry).where(col(PartnerTry.slot) < number - 1))
        return tries <= self.limit
