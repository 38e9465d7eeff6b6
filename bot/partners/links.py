"""Issuing, checking and using partner links, and the sessions they open.

A token is `<link id>.<mac>`, the MAC an HMAC-SHA256 of the id and the link's nonce under
the site's secret. Checking one always reads the one row its id names (or none), so an
altered, unknown, expired, used or revoked token takes the same path to its refusal. A link
is used by one conditional UPDATE (not used, not revoked, not expired): of two browsers
racing with the same link, exactly one gets a session. Every use and every refusal is
written to the audit trail with the person, never the token.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import update
from sqlmodel import Session, col, select

from bot.audit.service import Actor, record
from bot.partners.models import PartnerLink, PartnerSession

INVITATION = "invitation"
ACTIONS = "actions"
DESK = "desk"
MINUTES = "minutes"
PURPOSES = frozenset({INVITATION, ACTIONS, DESK, MINUTES})
WEB = "web"  # the audit trail's name for the pages as the channel a person acted through


class LinkRefused(Exception):
    """A link cannot be used; `reason` is for the audit trail, never shown as it is."""

    def __init__(self, reason: str, link: PartnerLink | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.link = link


@dataclass(frozen=True)
class Opened:
    """A link just used: the session row and the raw session id for the cookie."""

    session: PartnerSession
    cookie_value: str


def _mac(secret: bytes, link_id: int, nonce: str) -> str:
    digest = hmac.new(secret, f"partner-link:{link_id}:{nonce}".encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).decode().rstrip("=")


def token_for(secret: bytes, link: PartnerLink) -> str:
    """The token e-mailed for a link (recomputed on every send, never stored)."""
    return f"{link.id}.{_mac(secret, link.id or 0, link.nonce)}"


def hash_of(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()


def issue_link(
    session: Session,
    *,
    person_id: int,
    purpose: str,
    subject_id: int | None,
    now: datetime,
    lifetime: timedelta,
) -> PartnerLink:
    """A link for one person and purpose; an unused, unexpired one for the same is reused,
    so a reminder does not leave several live links behind."""
    if purpose not in PURPOSES:
        raise ValueError(f"unknown purpose {purpose!r}")
    existing = session.exec(
        select(PartnerLink).where(
            PartnerLink.person_id == person_id,
            PartnerLink.purpose == purpose,
            PartnerLink.subject_id == subject_id
            if subject_id is not None
            else PartnerLink.subject_id.is_(None),  # type: ignore[union-attr]
            col(PartnerLink.redeemed_at).is_(None),
            col(PartnerLink.revoked_at).is_(None),
            PartnerLink.expires_at > now + min(lifetime / 2, timedelta(days=1)),
        )
    ).first()
    if existing is not None:
        return existing
    link = PartnerLink(
        person_id=person_id,
        purpose=purpose,
        subject_id=subject_id,
        nonce=secrets.token_urlsafe(24),
        created_at=now,
        expires_at=now + lifetime,
    )
    session.add(link)
    session.flush()
    return link


def _parse(token: str) -> tuple[int, str]:
    text = token.strip()
    head, _, mac = text.partition(".")
    if not head.isdigit() or len(head) > 12 or not mac or len(mac) > 64:
        return -1, ""
    return int(head), mac


def check_link(session: Session, secret: bytes, token: str, now: datetime) -> PartnerLink:
    """The link a token names if it could be used now; else `LinkRefused` saying why."""
    link_id, mac = _parse(token)
    link = session.get(PartnerLink, link_id)
    expected = _mac(secret, link_id, link.nonce if link is not None else "-")
    if link is None or not hmac.compare_digest(expected, mac):
        raise LinkRefused("altered or unknown link")
    if link.revoked_at is not None:
        raise LinkRefused("revoked link", link)
    if link.redeemed_at is not None:
        raise LinkRefused("link already used", link)
    if link.expires_at <= now:
        raise LinkRefused("expired link", link)
    return link


def redeem(
    session: Session, secret: bytes, token: str, *, now: datetime, minutes: int, client: str
) -> Opened:
    """Use a link once: mark it used, open a session, audit it; or raise `LinkRefused`."""
    link = check_link(session, secret, token, now)
    won = session.exec(
        update(PartnerLink)
        .where(
            col(PartnerLink.id) == link.id,
            col(PartnerLink.redeemed_at).is_(None),
            col(PartnerLink.revoked_at).is_(None),
            col(PartnerLink.expires_at) > now,
        )
        .values(redeemed_at=now)
    )
    if won.rowcount != 1:
        raise LinkRefused("link already used", link)
    raw = secrets.token_urlsafe(32)
    opened = PartnerSession(
        token_hash=hash_of(raw),
        link_id=link.id or 0,
        person_id=link.person_id,
        purpose=link.purpose,
        subject_id=link.subject_id,
        created_at=now,
        expires_at=now + timedelta(minutes=minutes),
    )
    session.add(opened)
    record(
        session,
        at=now,
        actor=Actor(slack_user_id=WEB, person_id=link.person_id),
        act="partner_link.used",
        record_type="partner_link",
        record_id=link.id or 0,
        details={"purpose": link.purpose, "subject_id": link.subject_id, "client": client},
    )
    session.flush()
    return Opened(opened, raw)


def audit_link_refused(session: Session, refused: LinkRefused, *, now: datetime, client: str) -> None:
    """A refused link on the audit trail: the reason and, if the link exists, its person."""
    link = refused.link
    record(
        session,
        at=now,
        actor=Actor(slack_user_id=WEB, person_id=link.person_id if link else None),
        act="partner_link.refused",
        record_type="refusal",
        record_id=(link.id or 0) if link else "",
        details={"reason": refused.reason, "client": client},
    )


def live_session(session: Session, cookie_value: str, now: datetime) -> PartnerSession | None:
    """The open session a cookie names; None if unknown, ended or expired."""
    if not cookie_value or len(cookie_value) > 100:
        return None
    found = session.exec(
        select(PartnerSession).where(PartnerSession.token_hash == hash_of(cookie_value))
    ).first()
    if found is None or found.ended_at is not None or found.expires_at <= now:
        return None
    return found


def end_session(session: Session, cookie_value: str, now: datetime) -> None:
    found = live_session(session, cookie_value, now)
    if found is not None:
        found.ended_at = now
        session.add(found)


def forget(session: Session, *, invitation_ids: list[int], action_ids: list[int]) -> None:
    """Retention: the links to these invitations, their sessions, and the partner e-mails
    about these invitations and actions (their text names the case) go with the case."""
    from sqlalchemy import delete, or_

    from bot.delivery.models import OutboxMessage

    links = list(
        session.exec(
            select(PartnerLink.id).where(
                col(PartnerLink.purpose) == INVITATION, col(PartnerLink.subject_id).in_(invitation_ids)
            )
        )
    )
    about_actions = [col(OutboxMessage.key).like(f"partner:action:{action_id}:%") for action_id in action_ids]
    session.exec(
        delete(OutboxMessage).where(
            col(OutboxMessage.method) == "partner.email",
            or_(col(OutboxMessage.subject_id).in_(links), *about_actions),
        )
    )
    session.exec(delete(PartnerSession).where(col(PartnerSession.link_id).in_(links)))
    session.exec(delete(PartnerLink).where(col(PartnerLink.id).in_(links)))


# Used and expired links, and ended sessions, are kept this long for the audit trail's sake
# (it names them by id), then removed by the nightly retention run.
KEEP_EXPIRED = timedelta(days=30)
PURGE_BATCH = 1000


def expired_count(session: Session, before: datetime) -> int:
    from sqlalchemy import func

    return int(session.exec(select(func.count()).where(col(PartnerLink.expires_at) < before)).one())


def purge_expired(engine: Any, before: datetime) -> int:
    """Remove links that expired before `before` and their sessions, a batch per
    transaction (a stopped run keeps what it did); returns how many links went."""
    from sqlalchemy import delete

    from bot.database import session_scope

    removed = 0
    while True:
        with session_scope(engine) as session:
            ids = list(
                session.exec(
                    select(PartnerLink.id).where(col(PartnerLink.expires_at) < before).limit(PURGE_BATCH)
                )
            )
            if not ids:
                return removed
            session.exec(delete(PartnerSession).where(col(PartnerSession.link_id).in_(ids)))
            session.exec(delete(PartnerLink).where(col(PartnerLink.id).in_(ids)))
        removed += len(ids)
