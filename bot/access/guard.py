"""The guard: one Bolt middleware every command, button, form and event passes through.

Before any listener runs, the guard reads what is requested, finds its rule, looks up the
person (in the partnership's schedules or not, with their roles) and the record the request
names (with their part in it), and decides. An allowed request goes on to its listener with
what the guard found in Bolt's context (`access`). A refused one is answered here, where
the person is, in the same words whether or not the record exists and after the same
look-ups, and is written to the audit trail after the acknowledgement. A request with no
rule is refused: a new button that forgets its rule does nothing.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from slack_bolt import App, BoltRequest, BoltResponse
from slack_bolt.middleware import Middleware
from slack_sdk import WebClient

from bot.access.records import REFERENCE, Record
from bot.access.requests import Kind, Requested, read_request
from bot.access.rules import Rule, Rules
from bot.audit.service import Actor
from bot.database import read_scope
from bot.partnership.service import Member, member_by_slack_id
from bot.runtime import Runtime

log = logging.getLogger(__name__)

NO_RULE = "That is not something I can do."


@dataclass(frozen=True)
class Access:
    """What the guard found for an allowed request; listeners take it as `access`."""

    requested: Requested
    actor: Actor
    member: Member | None
    record: Record | None

    @property
    def known_member(self) -> Member:
        """The member, for a listener whose rule admits only members (every rule but the
        open ones): a missing one is a rule wrongly declared, said as such."""
        if self.member is None:
            raise LookupError(f"{self.requested.key}: its rule let through someone who is not a member")
        return self.member

    @property
    def known_record(self) -> Record:
        """The record, for a listener whose rule names one (the guard refuses when it is missing)."""
        if self.record is None:
            raise LookupError(f"{self.requested.key}: its rule names no record")
        return self.record

    @property
    def row(self) -> Any:
        """The record itself (a Meeting, an Action, an Invitation...); None if none was named."""
        return self.record.row if self.record is not None else None

    @property
    def meeting(self) -> Any:
        """The discussion or panel sitting the record belongs to, if any."""
        return self.record.meeting if self.record is not None else None


class Guard(Middleware):
    """Decides every request by its rule before Bolt hands it to a listener."""

    def __init__(self, runtime: Runtime, rules: Rules) -> None:
        self.runtime = runtime
        self.rules = rules

    def process(
        self, *, req: BoltRequest, resp: BoltResponse, next: Callable[[], BoltResponse]
    ) -> BoltResponse | None:
        body: Mapping[str, Any] = req.body if isinstance(req.body, Mapping) else {}
        requested = read_request(body, self.rules.grammars, self.runtime.partnership)
        rule = self.rules.find(requested.key)
        member, record = self._look_up(requested, rule)
        actor = Actor(requested.user_id, requested.team_id, member.person_id if member else None)
        if (
            rule is not None
            and (rule.record is None or record is not None)
            and rule.allow.allows(member, record)
        ):
            req.context["access"] = Access(requested, actor, member, record)
            next()
            return resp
        return self._refuse(req, body, requested, rule, actor)

    def _look_up(self, requested: Requested, rule: Rule | None) -> tuple[Member | None, Record | None]:
        """The person and the record: a handful of reads by id or reference, always the
        same ones for a given rule, found or not."""
        with read_scope(self.runtime.engine) as session:
            member = member_by_slack_id(session, requested.user_id)
            record = None
            if rule is not None and rule.record is not None:
                record = rule.record.find(session, requested, member, self.runtime.partnership)
        return member, record

    def _refuse(
        self,
        req: BoltRequest,
        body: Mapping[str, Any],
        requested: Requested,
        rule: Rule | None,
        actor: Actor,
    ) -> BoltResponse:
        text = rule.refusal_for(requested) if rule is not None else NO_RULE
        reason = rule.allow.says if rule is not None else "no rule"
        log.info("refused %s %s (%s)", requested.kind, requested.name[:80], "rule" if rule else "no rule")
        client = req.context.client
        self.runtime.after_ack(
            lambda: self._after_refusal(body, requested, rule, actor, text, reason, client)
        )
        if requested.kind == Kind.COMMAND:
            return BoltResponse(status=200, body={"response_type": "ephemeral", "text": text})
        if requested.kind == Kind.FORM and rule is not None:
            return BoltResponse(status=200, body={"response_action": "errors", "errors": {rule.field: text}})
        return BoltResponse(status=200, body="")

    def _after_refusal(
        self,
        body: Mapping[str, Any],
        requested: Requested,
        rule: Rule | None,
        actor: Actor,
        text: str,
        reason: str,
        client: WebClient | None,
    ) -> None:
        """After the acknowledgement: audit, then tell whoever pressed a button."""
        from bot.slack.replies import audit_refusal, tell

        named = rule.record.source(requested) if rule is not None and rule.record is not None else ""
        if not (named.isdigit() or REFERENCE.match(named)):
            named = ""  # only an id or a reference goes into the audit trail, never typed text
        audit_refusal(
            self.runtime,
            actor,
            rule.act if rule is not None else "request.refused",
            named[:40],
            reason,
            request=f"{requested.kind} {requested.name[:80]}",
        )
        # Told only once the refusal is on the record, so whoever sees the reply can find it there.
        if requested.kind == Kind.BUTTON and requested.user_id and client is not None:
            try:
                tell(dict(body), client, text)
            except Exception as error:  # the refusal is already audited
                log.warning("could not tell %s of a refusal: %s", requested.user_id, type(error).__name__)


def install_guard(app: App, runtime: Runtime, rules: Rules) -> Guard:
    """Put the guard in front of every listener of `app`."""
    guard = Guard(runtime, rules)
    app.use(guard)
    return guard
