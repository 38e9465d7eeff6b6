"""Which cases a sitting discusses: a case under review comes onto the agenda when its
review date falls on or before the sitting, or when something new arrived since the panel
last heard it (a referral, a missing episode, a new link). Each reason is kept with the
item so the agenda says why; the rest are listed by reference as not for discussion.

A fixed number of grouped queries per sitting, whatever the number of cases."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlmodel import Session, col, func, select

from bot.cases.links import KINDS as LINK_KINDS
from bot.cases.models import Case
from bot.panel.models import (
    AgendaItem,
    MissingEpisode,
    NetworkLink,
    PanelCase,
    PanelCaseState,
    PanelSitting,
    Referral,
    ReferralState,
)
from bot.schedules import Partnership


@dataclass(frozen=True)
class Candidate:
    """A case under review, whether it is due at this sitting, and why."""

    panel_case: PanelCase
    case: Case
    heard_before: bool
    reasons: tuple[str, ...]

    @property
    def due(self) -> bool:
        return bool(self.reasons)


def _day(value: datetime | None) -> str:
    return value.strftime("%d %b %Y") if value else ""


def candidates(
    session: Session, sitting: PanelSitting, *, partnership: Partnership, now: datetime
) -> list[Candidate]:
    """Every case the panel keeps under review, with the reasons it is due (none: not due)."""
    practice = partnership.panel_practice.missing
    rows = session.exec(
        select(PanelCase, Case)
        .join(Case, col(Case.id) == col(PanelCase.case_id))
        .where(
            col(PanelCase.panel_code) == sitting.panel_code,
            col(PanelCase.state) == PanelCaseState.UNDER_REVIEW,
        )
    ).all()
    ids = [panel_case.id for panel_case, _ in rows]
    case_ids = [case.id for _, case in rows]
    last_heard: dict[int, datetime] = dict(
        session.exec(
            select(
                col(AgendaItem.panel_case_id),
                func.max(func.coalesce(col(AgendaItem.recorded_at), col(PanelSitting.agenda_issued_at))),
            )
            .join(PanelSitting, col(PanelSitting.id) == col(AgendaItem.sitting_id))
            .where(col(AgendaItem.panel_case_id).in_(ids), col(PanelSitting.id) != sitting.id)
            .group_by(col(AgendaItem.panel_case_id))
        ).all()
    )
    new_referrals: dict[int, list[str]] = {}
    for panel_case_id, reference in session.exec(
        select(Referral.panel_case_id, Referral.reference).where(
            col(Referral.panel_case_id).in_(ids),
            Referral.state == ReferralState.ACCEPTED,
            col(Referral.sitting_id).is_(None),
        )
    ):
        new_referrals.setdefault(panel_case_id or 0, []).append(reference)
    window = now - timedelta(days=practice.repeated_within_days)
    episodes: dict[int, list[datetime]] = {}
    for case_id, created in session.exec(
        select(MissingEpisode.case_id, MissingEpisode.created_at).where(
            col(MissingEpisode.case_id).in_(case_ids), MissingEpisode.went_missing_at >= window
        )
    ):
        episodes.setdefault(case_id, []).append(created)
    links: dict[int, list[tuple[str, datetime]]] = {}
    for case_id, kind, created in session.exec(
        select(NetworkLink.case_id, NetworkLink.kind, NetworkLink.created_at).where(
            col(NetworkLink.case_id).in_(case_ids)
        )
    ):
        links.setdefault(case_id, []).append((kind, created))
    out = []
    for panel_case, case in rows:
        heard = last_heard.get(panel_case.id or 0)
        reasons: list[str] = []
        if heard is None:
            reasons.append("new to the panel")
        elif panel_case.next_review_on is None:
            reasons.append("no review date set")
        elif panel_case.next_review_on <= sitting.held_on:
            reasons.append(f"review due {panel_case.next_review_on.strftime('%d %b %Y')}")
        referrals = new_referrals.get(panel_case.id or 0, [])
        if referrals and heard is not None:
            reasons.append("new referral " + ", ".join(sorted(referrals)))
        recent = episodes.get(case.id or 0, [])
        new_episodes = [at for at in recent if heard is None or at > heard]
        if new_episodes and heard is not None:
            reasons.append(
                f"missing episode reported {_day(max(new_episodes))}"
                if len(new_episodes) == 1
                else f"{len(new_episodes)} missing episodes since last heard"
            )
        if len(recent) >= practice.repeated_episodes:
            reasons.append(
                f"repeated missing episodes ({len(recent)} in {practice.repeated_within_days} days)"
            )
        if heard is not None:
            kinds = sorted(
                {LINK_KINDS.get(k, k).lower() for k, at in links.get(case.id or 0, []) if at > heard}
            )
            if kinds:
                reasons.append("new link: " + ", ".join(kinds))
        out.append(Candidate(panel_case, case, heard is not None, tuple(reasons)))
    return out
