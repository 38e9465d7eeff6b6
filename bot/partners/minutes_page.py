"""Approved minutes for partners without Slack: an e-mail with a link when the minutes are
approved, and a page that e-mails a code to the same address before the download, so a
forwarded link alone is not enough. The copy is the one the person is entitled to
(`bot.minutes.service.copy_for_person`: restricted text withheld unless their agency may
have it); every code, every wrong try and every download is audited."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Callable
from datetime import datetime, timedelta
from functools import wraps
from typing import Any

from flask import Blueprint, redirect, render_template, request, url_for
from sqlmodel import Session, col, select

from bot.access import Access, Part, Rule, meeting_by_id, page, part, role, value
from bot.audit.service import record
from bot.cases.models import Case
from bot.convening.models import Meeting
from bot.database import read_scope, session_scope
from bot.minutes.models import Document
from bot.minutes.service import copy_for_person, minutes_recipients
from bot.partners.guard import PageRefused, current_runtime, guarded, needs_session, problem, word_download
from bot.partners.links import MINUTES
from bot.partners.models import PartnerSession
from bot.partnership.models import Person
from bot.runtime import Runtime
from bot.wording import render_message

blueprint = Blueprint("partner_minutes", __name__)

CODE_MINUTES = 10
CODE_TRIES = 5
RULES = (
    Rule(
        page("minutes_download"),
        part(Part.INVOLVED) | role("panel_admin"),
        meeting_by_id(value()),
        refusal="Only the people who took part in a discussion and panel administrators can have its "
        "minutes.",
        act="document.download_refused",
    ),
)


def email_minutes(session: Session, meeting: Meeting, runtime: Runtime, now: datetime) -> int:
    """A link to the approved minutes for each person who took part and gets e-mails."""
    from bot.partners.effects import email_link, wants_email

    case = session.get(Case, meeting.case_id) if meeting.case_id else None
    sent = 0
    for person in minutes_recipients(session, meeting):
        if not wants_email(runtime, person.slack_user_id, person.email):
            continue
        email_link(
            session,
            runtime,
            person,
            purpose=MINUTES,
            subject_id=meeting.id,
            template="partner_minutes.txt.j2",
            key=f"partner:minutes:{meeting.id}:{person.id}:{{link}}",
            now=now,
            reference=meeting.reference,
            case_reference=case.reference if case else "",
        )
        sent += 1
    return sent


def _code_hash(opened_id: int, code: str) -> str:
    return hashlib.sha256(f"minutes-code:{opened_id}:{code}".encode()).hexdigest()


def _approved(session: Session, meeting_id: int) -> Document | None:
    return session.exec(
        select(Document)
        .where(col(Document.meeting_id) == meeting_id, col(Document.kind) == "minutes")
        .where(col(Document.state) == "approved")
        .order_by(col(Document.version).desc())
    ).first()


def minutes_view(view: Callable[..., Any]) -> Callable[..., Any]:
    """A minutes page: a live minutes session (`needs_session`), then the rule, refused in
    one set of words; the view gets the session and the access."""

    @wraps(view)
    def checked(opened: PartnerSession) -> Any:
        try:
            access = guarded("minutes_download", opened, str(opened.subject_id or ""))
        except PageRefused as refused:
            return problem("You cannot have these minutes", str(refused), 403)
        return view(opened, access)

    return needs_session(MINUTES)(checked)


def check_code(current: PartnerSession, typed: str, now: datetime) -> tuple[str, str]:
    """Try `typed` against the session's code, counting the try: the audit act, and the
    error shown ("" when confirmed; "too_many" once the tries are used up, which ends
    the code; "expired" or "wrong")."""
    expired = current.code_expires_at is None or current.code_expires_at <= now
    used_up = current.code_tries >= CODE_TRIES
    right = bool(current.code_hash) and hmac.compare_digest(
        current.code_hash, _code_hash(current.id or 0, typed)
    )
    if right and not expired and not used_up:
        current.code_confirmed_at = now
        return "partner_code.confirmed", ""
    current.code_tries += 1
    if used_up or current.code_tries >= CODE_TRIES:
        current.code_hash = ""
        return "partner_code.refused", "too_many"
    return "partner_code.refused", "expired" if expired else "wrong"


@blueprint.route("/partner/minutes")
@minutes_view
def minutes(opened: PartnerSession, access: Access) -> Any:
    runtime = current_runtime()
    with read_scope(runtime.engine) as session:
        current = session.get(PartnerSession, opened.id)
        approved = _approved(session, access.known_record.id)
    assert current is not None
    return render_template(
        "partners/minutes.html",
        meeting=access.known_record.row,
        approved=approved,
        confirmed=current.code_confirmed_at is not None,
        code_sent=bool(current.code_hash),
        error=request.args.get("error", ""),
    )


@blueprint.route("/partner/minutes/code", methods=["POST"])
@minutes_view
def send_code(opened: PartnerSession, access: Access) -> Any:
    from bot.partners.effects import enqueue_email
    from bot.partners.models import PartnerLink

    runtime = current_runtime()
    now = runtime.clock.now()
    code = f"{secrets.randbelow(1_000_000):06d}"
    with session_scope(runtime.engine) as session:
        current = session.get(PartnerSession, opened.id)
        link = session.get(PartnerLink, opened.link_id)
        person = session.get(Person, opened.person_id)
        assert current is not None and link is not None and person is not None
        current.code_hash = _code_hash(current.id or 0, code)
        current.code_expires_at = now + timedelta(minutes=CODE_MINUTES)
        current.code_tries = 0
        session.add(current)
        text = render_message(
            runtime.settings.templates_dir,
            "partner_code.txt.j2",
            marking=runtime.partnership.settings.protective_marking,
            person=person.name,
            reference=access.known_record.reference,
            code=code,
            minutes=CODE_MINUTES,
        )
        enqueue_email(session, f"partner:code:{current.id}:{secrets.token_hex(4)}", link, text, now)
        record(
            session,
            at=now,
            actor=access.actor,
            act="partner_code.sent",
            record_type="partner_session",
            record_id=current.id or 0,
        )
    runtime.kick_delivery()
    return redirect(url_for("partner_minutes.minutes"), 303)


@blueprint.route("/partner/minutes/confirm", methods=["POST"])
@minutes_view
def confirm_code(opened: PartnerSession, access: Access) -> Any:
    runtime = current_runtime()
    now = runtime.clock.now()
    typed = "".join(c for c in request.form.get("code", "") if c.isdigit())[:6]
    with session_scope(runtime.engine) as session:
        current = session.get(PartnerSession, opened.id, with_for_update=True)
        assert current is not None
        act, error = check_code(current, typed, now)
        session.add(current)
        record(
            session,
            at=now,
            actor=access.actor,
            act=act,
            record_type="partner_session",
            record_id=current.id or 0,
        )
    return redirect(
        url_for("partner_minutes.minutes", error=error) if error else url_for("partner_minutes.minutes"), 303
    )


@blueprint.route("/partner/minutes/download")
@minutes_view
def download(opened: PartnerSession, access: Access) -> Any:
    runtime = current_runtime()
    now = runtime.clock.now()
    with session_scope(runtime.engine) as session:
        current = session.get(PartnerSession, opened.id)
        approved = _approved(session, access.known_record.id)
        person = session.get(Person, opened.person_id)
        if current is None or current.code_confirmed_at is None:
            return redirect(url_for("partner_minutes.minutes"), 303)
        if approved is None:
            return problem("Not available", "These minutes are not approved yet.", 404)
        copy = copy_for_person(session, approved, person, runtime.partnership, runtime.calendar, now)
        content, filename = copy.content, copy.filename
        record(
            session,
            at=now,
            actor=access.actor,
            act="document.downloaded",
            record_type="document",
            record_id=copy.id or 0,
            details={"via": "partner page", "full": copy.id == approved.id},
        )
    return word_download(content, filename, "minutes.docx")
