"""Locate's work: a child's missing episodes and the return home interview owed after each
return (offered within the configured hours, 72 in statutory guidance), recorded per
child. An episode brings the case onto the panel's next agenda (see `reviews`), and the
interview is chased until it is recorded. Plain Python over the database: no Slack here."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlmodel import Session, col, select

from bot.audit.service import Actor, record
from bot.cases.models import Case
from bot.panel.models import InterviewState, MissingEpisode
from bot.partnership.service import Member
from bot.schedules import Partnership

TEXT_LIMIT = 300
OUTCOMES = {"done": "Done", "declined": "Declined by the child"}


class MissingRefused(Exception):
    """The person may not record this, or the child is not known; says why."""


def may_record_missing(member: Member | None, partnership: Partnership) -> bool:
    return member is not None and member.agency_code in partnership.panel_practice.missing.recorded_by


def check_may_record(member: Member | None, partnership: Partnership) -> None:
    if not may_record_missing(member, partnership):
        names = ", ".join(
            partnership.agency(code).name for code in partnership.panel_practice.missing.recorded_by
        )
        raise MissingRefused(f"Missing episodes are recorded by {names}.")


def child_case(session: Session, reference: str) -> Case | None:
    case = session.exec(select(Case).where(Case.reference == reference)).first()
    return case if case is not None and case.subject_kind == "child" else None


def open_episode(session: Session, case_id: int | None) -> MissingEpisode | None:
    """The child's episode with no return recorded yet, if any."""
    return session.exec(
        select(MissingEpisode)
        .where(MissingEpisode.case_id == (case_id or -1), col(MissingEpisode.returned_at).is_(None))
        .order_by(col(MissingEpisode.id).desc())
    ).first()


@dataclass(frozen=True)
class EpisodeForm:
    went_missing_at: datetime | None
    returned_at: datetime | None = None
    where_found: str = ""
    out_of_area: bool = False

    @classmethod
    def from_values(cls, values: dict[str, object]) -> EpisodeForm:
        def moment(name: str) -> datetime | None:
            found = values.get(name)
            return datetime.fromtimestamp(int(found), UTC) if isinstance(found, int | str) and found else None

        where = values.get("where_found")
        return cls(
            went_missing_at=moment("went_missing_at"),
            returned_at=moment("returned_at"),
            where_found=where if isinstance(where, str) else "",
            out_of_area=bool(values.get("out_of_area")),
        )


def validate_episode(form: EpisodeForm, *, now: datetime, child_name: str) -> dict[str, str]:
    from bot.cases.service import NAME_IN_SLACK_TEXT, mentions_child

    errors: dict[str, str] = {}
    if form.went_missing_at is None:
        errors["went_missing_at"] = "Give the date and time the child went missing."
    elif form.went_missing_at > now:
        errors["went_missing_at"] = "That is in the future."
    if form.returned_at is not None:
        if form.returned_at > now:
            errors["returned_at"] = "That is in the future."
        elif form.went_missing_at and form.returned_at < form.went_missing_at:
            errors["returned_at"] = "The return is before the child went missing."
        if not form.where_found.strip():
            errors["where_found"] = "Say where the child was found."
    if len(form.where_found) > TEXT_LIMIT:
        errors["where_found"] = f"Keep this under {TEXT_LIMIT} characters."
    elif child_name and mentions_child(form.where_found, child_name):
        errors["where_found"] = NAME_IN_SLACK_TEXT
    return errors


@dataclass
class Recorded:
    episode: MissingEpisode
    case: Case
    created: bool
    interview_now_owed: bool


def record_episode(
    session: Session,
    case: Case,
    form: EpisodeForm,
    *,
    member: Member,
    actor: Actor,
    key: str,
    partnership: Partnership,
    now: datetime,
) -> Recorded:
    """A new episode, or the return of the child's open one. Once the child is back, the
    return home interview is owed by the configured hours after the return."""
    existing = session.exec(select(MissingEpisode).where(MissingEpisode.submission_key == key)).first()
    if existing is not None:
        return Recorded(existing, case, False, False)
    episode = open_episode(session, case.id)
    created = episode is None
    if episode is None:
        episode = MissingEpisode(
            case_id=case.id or 0,
            went_missing_at=form.went_missing_at or now,
            reported_by_id=member.person_id,
            submission_key=key,
            created_at=now,
        )
    else:
        episode.went_missing_at = form.went_missing_at or episode.went_missing_at
    owed = False
    if form.returned_at is not None:
        episode.returned_at = form.returned_at
        episode.where_found = " ".join(form.where_found.split())
        episode.out_of_area = form.out_of_area
        hours = partnership.panel_practice.missing.return_interview_hours
        episode.interview_state = InterviewState.OWED
        episode.interview_due_at = form.returned_at + timedelta(hours=hours)
        episode.next_chase_at = now  # ask at once
        owed = True
    session.add(episode)
    session.flush()
    record(
        session,
        at=now,
        actor=actor,
        act="panel.missing_recorded" if created else "panel.missing_return_recorded",
        record_type="missing_episode",
        record_id=episode.id or 0,
        case_reference=case.reference,
        details={"returned": form.returned_at is not None, "out_of_area": form.out_of_area},
    )
    return Recorded(episode, case, created, owed)


@dataclass(frozen=True)
class InterviewForm:
    offered_at: datetime | None
    outcome: str
    by: str


def validate_interview(form: InterviewForm, episode: MissingEpisode, *, now: datetime) -> dict[str, str]:
    errors: dict[str, str] = {}
    if form.offered_at is None:
        errors["offered_at"] = "Give the date and time the interview was offered."
    elif form.offered_at > now:
        errors["offered_at"] = "That is in the future."
    elif episode.returned_at and form.offered_at < episode.returned_at:
        errors["offered_at"] = "The interview is offered after the child's return."
    if form.outcome not in OUTCOMES:
        errors["outcome"] = "Say whether it was done or declined."
    if not form.by.strip():
        errors["by"] = "Say who offered it (name and role)."
    elif len(form.by) > 200:
        errors["by"] = "Keep this under 200 characters."
    return errors


def record_interview(
    session: Session, episode_id: int, form: InterviewForm, *, actor: Actor, now: datetime
) -> MissingEpisode:
    episode = session.get(MissingEpisode, episode_id, with_for_update=True, populate_existing=True)
    if episode is None or episode.returned_at is None:
        raise MissingRefused("That missing episode has no return recorded.")
    episode.interview_offered_at = form.offered_at
    episode.interview_state = form.outcome
    episode.interview_by = form.by.strip()
    episode.interview_recorded_at = now
    episode.next_chase_at = None
    session.add(episode)
    case = session.get(Case, episode.case_id)
    record(
        session,
        at=now,
        actor=actor,
        act="panel.return_interview_recorded",
        record_type="missing_episode",
        record_id=episode.id or 0,
        case_reference=case.reference if case else "",
        details={"outcome": form.outcome, "within_time": within_time(episode)},
    )
    session.flush()
    return episode


def within_time(episode: MissingEpisode) -> bool:
    return bool(
        episode.interview_offered_at
        and episode.interview_due_at
        and episode.interview_offered_at <= episode.interview_due_at
    )


def interviews_to_chase(session: Session, now: datetime, *, after: int = 0, limit: int = 200) -> list[int]:
    """A batch of episodes (by id, after `after`) whose return home interview is owed and
    due a chase; the caller reads on from the last until a batch comes back short."""
    found = list(
        session.exec(
            select(col(MissingEpisode.id))
            .where(
                col(MissingEpisode.id) > after,
                col(MissingEpisode.next_chase_at).is_not(None),
                col(MissingEpisode.next_chase_at) <= now,
                MissingEpisode.interview_state == InterviewState.OWED,
            )
            .order_by(col(MissingEpisode.id))
            .limit(limit)
        ).all()
    )
    return [i for i in found if i is not None]


def _when(moment: datetime | None, local: object) -> str:
    return local(moment).strftime("%d %b %Y %H:%M") if moment else ""  # type: ignore[operator]


def episode_lines(session: Session, case_ids: list[int | None], local: object) -> dict[int, list[str]]:
    """Each child's episodes and interviews in words, newest first, for the documents."""
    ids = [i for i in case_ids if i]
    out: dict[int, list[str]] = {}
    if not ids:
        return out
    for episode in session.exec(
        select(MissingEpisode)
        .where(col(MissingEpisode.case_id).in_(ids))
        .order_by(col(MissingEpisode.went_missing_at).desc())
    ):
        line = f"Missing from {_when(episode.went_missing_at, local)}"
        if episode.returned_at is None:
            line += ": not yet returned."
        else:
            line += f" to {_when(episode.returned_at, local)}; where found: {episode.where_found}"
            line += " (out of area)." if episode.out_of_area else "."
            if episode.interview_state in OUTCOMES:
                timing = "within" if within_time(episode) else "outside"
                line += (
                    f" Return home interview offered {_when(episode.interview_offered_at, local)} "
                    f"({timing} the timescale) by {episode.interview_by}: "
                    f"{OUTCOMES[episode.interview_state].lower()}."
                )
            else:
                line += f" Return home interview owed by {_when(episode.interview_due_at, local)}."
        out.setdefault(episode.case_id, []).append(line)
    return out
