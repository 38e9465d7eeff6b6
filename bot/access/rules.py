"""Who may do what: one rule for each command, button, form and event the bot answers.

A rule names what is requested (`command("/strategy", "record")`, `button("action_done")`,
`form("action_done")`, `event("app_home_opened")`), who may ask (a `Policy`: anyone, any
member of the partnership, a role, a part in the record), how to find the record it names
(a `Locator`), and the refusal to give otherwise: the same words whether or not the record
exists, never showing anything of it. Requests with no rule are refused.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from types import ModuleType

from bot.access.records import Locator, Part, Record, argument
from bot.access.requests import Grammar, Kind, Requested
from bot.partnership.service import Member

Test = Callable[[Member | None, Record | None], bool]


@dataclass(frozen=True)
class Policy:
    """Who may ask: a test of the person and their part in the record; `a | b` allows either."""

    test: Test
    says: str  # for people reading the rules (and the test that lists them)

    def allows(self, member: Member | None, record: Record | None) -> bool:
        return self.test(member, record)

    def __or__(self, other: Policy) -> Policy:
        return Policy(lambda m, r: self.test(m, r) or other.test(m, r), f"{self.says} or {other.says}")


ANYONE = Policy(lambda m, r: True, "anyone")
MEMBER = Policy(lambda m, r: m is not None, "anyone in the partnership's schedules")


def role(*roles: str) -> Policy:
    """Someone holding one of these roles in the partnership's schedules."""
    wanted = frozenset(roles)
    return Policy(lambda m, r: m is not None and bool(m.roles & wanted), f"role {'/'.join(roles)}")


def agency_kind(*kinds: str) -> Policy:
    """Someone from an agency of one of these kinds in agencies.yaml (e.g. police)."""
    wanted = frozenset(kinds)
    return Policy(lambda m, r: m is not None and m.agency_kind in wanted, f"agency {'/'.join(kinds)}")


def part(*parts: Part) -> Policy:
    """Someone with one of these parts in the record the request names (so it must exist)."""
    wanted = frozenset(parts)
    return Policy(
        lambda m, r: m is not None and r is not None and bool(r.parts & wanted),
        f"part {'/'.join(parts)}",
    )


Key = tuple[Kind, str]


def command(name: str, sub: str = "") -> Key:
    """A slash command and its sub-command, as the command's grammar names it."""
    return Kind.COMMAND, f"{name} {sub}".strip()


def button(action_id: str) -> Key:
    """A button (or menu) by its action id; one ending in `_\\d+` covers numbered ones."""
    return Kind.BUTTON, action_id


def form(callback_id: str) -> Key:
    """A modal's submission, by its callback id."""
    return Kind.FORM, callback_id


def form_closed(callback_id: str) -> Key:
    return Kind.FORM_CLOSED, callback_id


def event(event_type: str) -> Key:
    return Kind.EVENT, event_type


def page(name: str) -> Key:
    """A partner page (shown or sent), by its name in `bot.partners.pages`."""
    return Kind.PAGE, name


@dataclass(frozen=True)
class Rule:
    """Who may make one kind of request, and what they are told when they may not."""

    key: Key
    allow: Policy
    record: Locator | None = None
    refusal: str = "You cannot do that."  # may hold {argument}: the reference as typed
    act: str = "request.refused"  # the audit trail's name for a refusal
    field: str = ""  # forms: the input block the refusal is shown beside
    pattern: bool = False  # the name is a regular expression (numbered buttons)

    def __post_init__(self) -> None:
        if self.key[0] == Kind.FORM and not self.field:
            raise ValueError(f"rule for form {self.key[1]!r} must name the field a refusal is shown on")

    def refusal_for(self, requested: Requested) -> str:
        """The refusal, naming the reference the person typed (only a well-formed one:
        nothing else they typed is echoed back into Slack)."""
        return self.refusal.replace("{argument}", argument(requested) or "that")


@dataclass
class Rules:
    """The registry the guard consults: rules by what is requested, and command grammars."""

    exact: dict[Key, Rule] = field(default_factory=dict)
    patterns: list[tuple[Kind, re.Pattern[str], Rule]] = field(default_factory=list)
    grammars: dict[str, Grammar] = field(default_factory=dict)

    def add(self, rule: Rule) -> None:
        if rule.pattern:
            self.patterns.append((rule.key[0], re.compile(rule.key[1]), rule))
            return
        if rule.key in self.exact:
            raise ValueError(f"two rules for {rule.key[0]} {rule.key[1]!r}")
        self.exact[rule.key] = rule

    def grammar(self, command_name: str, grammar: Grammar) -> None:
        self.grammars[command_name] = grammar

    def find(self, key: Key) -> Rule | None:
        """The rule for a request; None when there is none (and the guard refuses)."""
        found = self.exact.get(key)
        if found is not None:
            return found
        kind, name = key
        for pattern_kind, pattern, rule in self.patterns:
            if pattern_kind == kind and pattern.fullmatch(name):
                return rule
        return None

    def all(self) -> list[Rule]:
        return [*self.exact.values(), *(rule for _, _, rule in self.patterns)]

    @classmethod
    def of(cls, *capabilities: ModuleType) -> Rules:
        """The rules and command grammars the capabilities declare (`RULES`, `COMMANDS`)."""
        rules = cls()
        for capability in capabilities:
            for rule in getattr(capability, "RULES", ()):
                rules.add(rule)
            commands: Mapping[str, Grammar] = getattr(capability, "COMMANDS", {})
            for name, grammar in commands.items():
                rules.grammar(name, grammar)
        return rules


def both(
    action_id: str,
    callback_id: str,
    *,
    allow: Policy,
    record_from_button: Locator,
    record_from_form: Locator,
    refusal: str,
    act: str,
    field: str,
) -> Iterable[Rule]:
    """The rule for a button that opens a form, and for that form's submission: the same
    people, the same refusal, so nobody is shown a form they could not submit."""
    yield Rule(button(action_id), allow, record_from_button, refusal, act)
    yield Rule(form(callback_id), allow, record_from_form, refusal, act, field=field)
