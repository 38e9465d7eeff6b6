"""Quorum: whether a strategy discussion had the agencies without which it is not one.

The meeting type names its core agencies (`core_agencies` in meeting_types.yaml; by default
children's social care, police and health). Recording checks who actually took part, not
who said they would: a core agency not present (a written update does not count) must be
recorded with the reason and the chair's decision to go ahead. Health taking part by
written update only is flagged on its own, in the minutes and the audit trail.
"""

from __future__ import annotations

from dataclasses import dataclass

from bot.convening.models import AttendanceStatus

REASON_LIMIT = 1000  # carried between the recording form's steps, so kept short


@dataclass(frozen=True)
class AgencyFacts:
    """An invited agency as the quorum check needs it."""

    code: str
    name: str
    kind: str  # the agency's kind in agencies.yaml: police, health...


@dataclass(frozen=True)
class Quorum:
    """Who of the core agencies was missing, and what else the minutes should flag."""

    missing: tuple[str, ...]  # names of core agencies not present
    written_update_only: tuple[str, ...]  # names of agencies that took part only in writing
    health_written_only: bool  # health's only part was a written update
    police_present: bool

    @property
    def complete(self) -> bool:
        return not self.missing


def assess(attendance: dict[str, str], agencies: list[AgencyFacts], core: tuple[str, ...]) -> Quorum:
    """Read actual attendance (agency code -> status) against the core agencies."""
    present = {code for code, status in attendance.items() if status == AttendanceStatus.PRESENT}
    written = {code for code, status in attendance.items() if status == AttendanceStatus.WRITTEN_UPDATE}
    named = {a.code: a for a in agencies}
    missing = tuple(named[code].name for code in core if code in named and code not in present)
    health = [a for a in agencies if a.kind == "health"]
    return Quorum(
        missing=missing,
        written_update_only=tuple(named[code].name for code in sorted(written) if code in named),
        health_written_only=bool(health)
        and not any(a.code in present for a in health)
        and any(a.code in written for a in health),
        police_present=any(a.kind == "police" and a.code in present for a in agencies),
    )


def quorum_problems(quorum: Quorum, reason: str, chair_proceeds: bool) -> dict[str, str]:
    """A missing core agency needs the reason and the chair's decision to go ahead."""
    errors: dict[str, str] = {}
    if len(reason) > REASON_LIMIT:
        errors["quorum_reason"] = f"Keep it under {REASON_LIMIT:,} characters."
    if quorum.complete:
        return errors
    missing = " and ".join(quorum.missing)
    if not reason.strip():
        errors["quorum_reason"] = (
            f"{missing} did not take part: without them it is not a strategy discussion. Record "
            "why, and whether the chair decided to go ahead."
        )
    if not chair_proceeds:
        errors["quorum_proceed"] = (
            f"Without {missing} it goes ahead only if the chair decides so: tick it, or reschedule "
            "the discussion."
        )
    return errors


def quorum_words(quorum: Quorum, reason: str) -> str:
    """How the minutes state the quorum, in a sentence or two."""
    if quorum.complete:
        text = "Every core agency took part."
    else:
        missing = " and ".join(quorum.missing)
        text = f"{missing} did not take part. The chair decided to go ahead: {reason.strip()}"
    if quorum.health_written_only:
        text += " Health took part by written update only."
    return text
