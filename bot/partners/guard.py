"""The guard for the partner pages: the same rules (`bot.access`) as Slack's requests.

A page names its rule (`page("invitation_answer")`); the person is the one the link was
e-mailed to (the session's person), found by their id rather than a Slack id. The record
is found by the same locators, the person's part in it decided by the same policies, and a
refusal is written to the audit trail and shown in the same words whether or not the
record exists.
"""

from __future__ import annotations

from bot.access import Access, Kind, Requested, Rules
from bot.access.records import REFERENCE
from bot.access.rules import page
from bot.audit.service import Actor
from bot.database import read_scope
from bot.partners.links import WEB
from bot.partnership.service import member_by_person_id
from bot.runtime import Runtime
from bot.slack.replies import audit_refusal

NO_RULE = "That is not something these pages can do."


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
