"""The guard for the partner pages, in one place for every page (partner pages, agency
update, minutes, desk): the rate limits, the session a link opened, and the same rules
(`bot.access`) as Slack's requests.

A page names its rule (`page("invitation_answer")`); the person is the one the link was
e-mailed to (the session's person), found by their id rather than a Slack id. The record
is found by the same locators, the person's part in it decided by the same policies, and a
refusal is written to the audit trail and shown in the same words whether or not the
record exists.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from functools import wraps
from typing import Any

from flask import Response, current_app, render_template, request, session
from sqlalchemy.engine import Engine

from bot.access import Access, Kind, Requested, Rules
from bot.access.records import REFERENCE
from bot.access.rules import page
from bot.audit.service import Actor
from bot.database import read_scope
from bot.partners.links import WEB, live_session
from bot.partners.models import PartnerSession
from bot.partners.throttle import Throttle
from bot.partnership.service import member_by_person_id
from bot.runtime import Runtime
from bot.slack.replies import audit_refusal

log = logging.getLogger(__name__)

NO_RULE = "That is not something these pages can do."
# Per client address, per minute: tries at links (shown or used), and form posts.
LINK_TRIES_PER_MINUTE = 10
FORM_POSTS_PER_MINUTE = 30
SESSION_ENDED = (
    "For your security, these pages close after a short while. Use a new link from "
    "your e-mail, or ask the person who contacted you for one."
)


class PageRefused(Exception):
    """The person may not see or send this page; the message is what they are shown."""


def decide(runtime: Runtime, rules: Rules, name: str, *, person_id: int, record_text: str = "") -> Access:
    """The `Access` for an allowed page, or `PageRefused` (audited) for a refused one."""
    rule = rules.find(page(name))
    with read_scope(runtime.engine) as session:
        member = member_by_person_id(session, person_id)
        requested = Requested(
            Kind.PAGE, name, user_id=member.slack_user_id if member else "", value=record_text
        )
        found = None
        if rule is not None and rule.record is not None:
            found = rule.record.find(session, requested, member, runtime.partnership)
    actor = Actor(
        slack_user_id=member.slack_user_id if member and member.slack_user_id else WEB, person_id=person_id
    )
    if rule is not None and (rule.record is None or found is not None) and rule.allow.allows(member, found):
        return Access(requested, actor, member, found)
    named = record_text if record_text.isdigit() or REFERENCE.match(record_text) else ""
    audit_refusal(
        runtime,
        actor,
        rule.act if rule is not None else "request.refused",
        named[:40],
        rule.allow.says if rule is not None else "no rule",
        request=f"page {name[:80]}",
    )
    raise PageRefused(rule.refusal_for(requested) if rule is not None else NO_RULE)


def throttles(engine: Engine) -> dict[str, Throttle]:
    """The site's counters, kept in the database and so shared by every process."""
    return {
        "links": Throttle(engine, "links", limit=LINK_TRIES_PER_MINUTE, window=60),
        "forms": Throttle(engine, "forms", limit=FORM_POSTS_PER_MINUTE, window=60),
    }


def current_runtime() -> Runtime:
    return current_app.extensions["runtime"]


def client() -> str:
    """The client's address (behind WEB_TRUSTED_PROXIES, as the balancer saw it)."""
    return str(request.remote_addr or "unknown")[:60]


def allowed(bucket: str) -> bool:
    return bool(current_app.extensions["partner_throttles"][bucket].allow(client()))


def problem(title: str, message: str, status: int) -> tuple[str, int]:
    return render_template("partners/problem.html", title=title, message=message), status


def word_download(content: bytes, filename: str, fallback: str) -> Response:
    """A Word document as an attachment, its name cut to safe characters for the header."""
    safe = "".join(c for c in filename if c.isalnum() or c in "-_.") or fallback
    return Response(
        content,
        mimetype="application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        headers={"Content-Disposition": f'attachment; filename="{safe}"'},
    )


def too_many() -> tuple[str, int]:
    return problem("Too many tries", "Wait a minute, then try again.", 429)


def _opened(purposes: frozenset[str]) -> PartnerSession | None:
    runtime = current_runtime()
    with read_scope(runtime.engine) as db:
        found = live_session(db, str(session.get("sid", "")), runtime.clock.now())
    return found if found is not None and found.purpose in purposes else None


def needs_session(*purposes: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """The page needs a live session opened by a link for one of these purposes (and a
    form post counts against the client's limit); the view gets the session first."""
    wanted = frozenset(purposes)

    def wrap(view: Callable[..., Any]) -> Callable[..., Any]:
        @wraps(view)
        def gated(*args: Any, **kwargs: Any) -> Any:
            if request.method == "POST" and not allowed("forms"):
                return too_many()
            opened = _opened(wanted)
            if opened is None:
                return problem("Your session has ended", SESSION_ENDED, 401)
            return view(opened, *args, **kwargs)

        return gated

    return wrap


def guarded(name: str, opened: PartnerSession, record_text: str = "") -> Access:
    """`decide` for the session's person, with the rules the site collected."""
    runtime = current_runtime()
    rules: Rules = current_app.extensions["partner_rules"]
    return decide(runtime, rules, name, person_id=opened.person_id, record_text=record_text)
