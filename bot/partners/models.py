"""Links e-mailed to partners, and the short sessions they open once used."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Index
from sqlmodel import Field, SQLModel

from bot.database import UTCDateTime, utcnow_column_default


class PartnerLink(SQLModel, table=True):
    """One link for one person and one purpose (answer invitation 12, my actions...).

    The e-mailed token is the id and an HMAC of the id and `nonce` under the site's secret:
    neither the database alone nor the secret alone can make one. It is used once; a second
    use, an expired or revoked one, or an altered one is refused and audited."""

    __table_args__ = (Index("ix_partnerlink_person_purpose", "person_id", "purpose", "subject_id"),)

    id: int | None = Field(default=None, primary_key=True)
    person_id: int = Field(foreign_key="person.id", index=True)
    purpose: str = Field(max_length=40)  # invitation | actions | desk
    subject_id: int | None = None  # the invitation (for "invitation"), else none
    nonce: str = Field(max_length=64)
    created_at: datetime = Field(default_factory=utcnow_column_default, sa_type=UTCDateTime)
    expires_at: datetime = Field(sa_type=UTCDateTime, index=True)
    redeemed_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    revoked_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class PartnerSession(SQLModel, table=True):
    """A session opened by using a link: the link's person and purpose, for a short while.

    The browser holds a random id in a signed, HttpOnly, SameSite=Strict cookie; the table
    holds only its SHA-256, so a copy of the database opens no session."""

    id: int | None = Field(default=None, primary_key=True)
    token_hash: str = Field(max_length=64, unique=True, index=True)
    link_id: int = Field(foreign_key="partnerlink.id", index=True)
    person_id: int = Field(foreign_key="person.id", index=True)
    purpose: str = Field(max_length=40)
    subject_id: int | None = None
    created_at: datetime = Field(default_factory=utcnow_column_default, sa_type=UTCDateTime)
    expires_at: datetime = Field(sa_type=UTCDateTime, index=True)
    ended_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    # Downloading minutes: a code e-mailed to the link's address, confirmed on the page.
    code_hash: str = Field(default="", max_length=64)
    code_expires_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    code_tries: int = 0
    code_confirmed_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class PartnerTry(SQLModel, table=True):
    """Tries at the partner pages from one client in one bucket (links, forms) in one
    window, shared by every process (`bot.partners.throttle`). `key` is a hash of the
    bucket and the client's address, never the address itself."""

    key: str = Field(primary_key=True, max_length=64)
    slot: int = Field(primary_key=True, index=True)  # whole windows since the epoch
    tries: int = 0
