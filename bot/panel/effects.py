"""What the panel owes Slack, written to the outbox in the same transaction as the state
it follows: a new sitting's channel and invitations, bank-holiday notices, the agenda and
its Word document, the pre-panel update requests, and the referral messages."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime
from typing import Any

from sqlmodel import Session, col, select

from bot.actions.models import Action
from bot.agency_updates.service import deadline_for
from bot.audit.service import Actor
from bot.cases.models import Case
from bot.convening.effects import announce, dm, open_in_slack
from bot.convening.models import Invitation, InvitationMessage, Meeting
from bot.convening.views import when
from bot.delivery.service import enqueue
from bot.minutes import effects as documents
from bot.minutes.service import generate
from bot.panel.models import AgendaItem, PanelCase, PanelSitting, Referral
from bot.panel.nrm import OverdueDecision
from bot.panel.service import OpenedSitting, agenda_items, agenda_lines
from bot.panel.views import agenda_message, convene_offer, decision_request, update_request
from bot.panel.vocabulary import RISK_LEVELS, SCREENING_RESULTS, SUBJECT_KINDS
from bot.partnership.models import Agency, Person
from bot.runtime import Runtime


def post_about_case(
    session: Session,
    slack_ids: Iterable[str | None],
    message: dict[str, Any],
    *,
    key: str,
    case_id: int | None,
    now: datetime,
) -> None:
    """A panel message about a child's case to each of these people, once each (its key is
    `key` and their Slack id); it carries the case, so erasing the case takes it too."""
    for slack_id in dict.fromkeys(s for s in slack_ids if s):
        enqueue(
            session,
            key=f"{key}:{slack_id}",
            method="chat.postMessage",
            arguments={"channel": slack_id, **message},
            now=now,
            case_id=case_id,
        )


def _day(value: date) -> str:
    return value.strftime("%A %d %B %Y")


def announce_sitting(session: Session, opened: OpenedSitting, runtime: Runtime, now: datetime) -> None:
    """Open the sitting in Slack; if the bank-holiday rule moved or skipped a date, tell
    everyone invited, in the channel and by DM."""
    meeting = session.get(Meeting, opened.meeting_id)
    sitting = session.get(PanelSitting, opened.sitting_id)
    assert meeting is not None and sitting is not None
    open_in_slack(session, meeting, runtime, now, channel_name=meeting.reference)
    panel = runtime.partnership.panel(sitting.panel_code)
    marking = runtime.partnership.settings.protective_marking
    if sitting.held_on != sitting.scheduled_for:
        announce(
            session,
            meeting,
            "moved",
            f"*{marking}* · {panel.name} {meeting.reference}: {_day(sitting.scheduled_for)} is a bank "
            f"holiday, so the panel sits on *{when(runtime.calendar, meeting.scheduled_start)}*.",
            now,
        )
    for skipped in opened.skipped:
        announce(
            session,
            meeting,
            f"skipped:{skipped.isoformat()}",
            f"*{marking}* · {panel.name}: there is no panel on {_day(skipped)} (a bank holiday). The next "
            f"sitting is {meeting.reference} on *{_day(sitting.held_on)}*.",
            now,
        )


def issue_agenda_in_slack(session: Session, sitting: PanelSitting, runtime: Runtime, now: datetime) -> None:
    """The agenda message and document in the channel, and to each standing agency a
    request with a button per item for its pre-panel updates."""
    meeting = session.get(Meeting, sitting.meeting_id)
    assert meeting is not None
    panel = runtime.partnership.panel(sitting.panel_code)
    lines = agenda_lines(session, sitting, meeting, partnership=runtime.partnership)
    moved = ""
    if sitting.held_on != sitting.scheduled_for:
        moved = f"Moved from {_day(sitting.scheduled_for)} (bank holiday)."
    message = agenda_message(
        meeting.reference,
        panel.name,
        when(runtime.calendar, meeting.scheduled_start),
        lines,
        lambda moment: runtime.calendar.local(moment).strftime("%H:%M"),
        moved,
        list(sitting.not_for_discussion or []),
    )
    enqueue(
        session,
        key=f"agenda:{meeting.id}",
        method="chat.postMessage",
        arguments=message,
        now=now,
        purpose="channel_notice",
        subject_id=meeting.id,
    )
    document = generate(
        session,
        meeting,
        "panel_agenda",
        templates_dir=runtime.settings.templates_dir,
        partnership=runtime.partnership,
        calendar=runtime.calendar,
        actor=Actor("system", "", None),
        now=now,
    )
    marking = runtime.partnership.settings.protective_marking
    documents.circulate(session, document, f"{marking}: agenda for {meeting.reference}", now)
    items = [(item.id or 0, case.reference) for item, _, case in agenda_items(session, sitting)]
    if not items:
        return
    due = when(runtime.calendar, deadline_for(meeting, runtime.partnership, runtime.calendar))
    rows = session.exec(
        select(Invitation, Agency)
        .join(Agency, col(Agency.id) == col(Invitation.agency_id))
        .where(col(Invitation.meeting_id) == meeting.id, col(Invitation.state) != "declined")
    ).all()
    for invitation, agency in rows:
        request = update_request(meeting.reference, agency.name, due, invitation.id or 0, items)
        people = session.exec(
            select(Person)
            .join(InvitationMessage, col(InvitationMessage.person_id) == col(Person.id))
            .where(col(InvitationMessage.invitation_id) == invitation.id)
        ).all()
        delegate = session.get(Person, invitation.delegate_id) if invitation.delegate_id else None
        for person in {p.id: p for p in [*people, *([delegate] if delegate else [])]}.values():
            if person.slack_user_id:
                enqueue(
                    session,
                    key=f"update-request:{meeting.id}:{invitation.id}:{person.slack_user_id}",
                    method="chat.postMessage",
                    arguments={"channel": person.slack_user_id, **request},
                    now=now,
                )


def ask_administrators(
    session: Session,
    referral: Referral,
    case_reference: str,
    admins: list[str],
    runtime: Runtime,
    now: datetime,
) -> None:
    panel = runtime.partnership.panel(referral.panel_code)
    message = decision_request(
        referral.id or 0,
        referral.reference,
        case_reference,
        SUBJECT_KINDS.get(referral.subject_kind, referral.subject_kind),
        RISK_LEVELS.get(referral.risk_level, referral.risk_level),
        SCREENING_RESULTS.get(referral.screening_result, referral.screening_result),
        panel.name,
    )
    post_about_case(
        session, admins, message, key=f"referral-decision:{referral.id}", case_id=referral.case_id, now=now
    )


def tell_referrer(
    session: Session, referral: Referral, case_reference: str, runtime: Runtime, now: datetime
) -> None:
    """The referrer hears the decision (and the reason for a decline)."""
    person = session.get(Person, referral.referred_by_id)
    if person is None or not person.slack_user_id:
        return
    marking = runtime.partnership.settings.protective_marking
    panel = runtime.partnership.panel(referral.panel_code).name
    if referral.state == "accepted":
        text = (
            f"*{marking}* · Your referral {referral.reference} ({case_reference}) to {panel} is accepted: "
            "it goes on the next agenda and stays under review until the panel steps it down."
        )
    else:
        text = (
            f"*{marking}* · Your referral {referral.reference} ({case_reference}) to {panel} is declined: "
            f"{referral.decline_reason}"
        )
    dm(
        session,
        key=f"referral-decided:{referral.id}",
        slack_id=person.slack_user_id,
        text=text,
        now=now,
        case_id=referral.case_id,
    )


def offer_to_convene(
    session: Session, item: AgendaItem, recorder_slack_id: str, runtime: Runtime, now: datetime
) -> None:
    """A step up to a strategy discussion: the recorder and the sitting's chair get a button
    that opens /strategy new with the case and its links filled in (once per decision)."""
    outcome = item.outcome or {}
    if outcome.get("convenes") != "strategy_discussion" or item.stepped_up_meeting_id is not None:
        return
    sitting = session.get(PanelSitting, item.sitting_id)
    meeting = session.get(Meeting, sitting.meeting_id) if sitting else None
    panel_case = session.get(PanelCase, item.panel_case_id)
    case = session.get(Case, panel_case.case_id) if panel_case else None
    if meeting is None or case is None:
        return
    chair = session.get(Person, meeting.chair_id) if meeting.chair_id else None
    marking = runtime.partnership.settings.protective_marking
    message = convene_offer(item.id or 0, meeting.reference, case.reference, marking)
    post_about_case(
        session,
        [recorder_slack_id, chair.slack_user_id if chair else None],
        message,
        key=f"step-up-offer:{item.id}",
        case_id=case.id,
        now=now,
    )


def panel_administrators(session: Session, runtime: Runtime, panel_code: str) -> list[str]:
    """The Slack ids of the panel's administrators (one query)."""
    try:
        panel = runtime.partnership.panel(panel_code)
    except KeyError:
        return []
    people = session.exec(select(Person).where(col(Person.schedule_id).in_(panel.administrators))).all()
    return [p.slack_user_id for p in people if p.slack_user_id]


def chase_nrm(
    session: Session,
    overdue: OverdueDecision,
    runtime: Runtime,
    now: datetime,
    administrators: list[str] | None = None,
) -> None:
    """An NRM decision is overdue: the panel's administrators (as read for the whole pass,
    or read here) hear it, by case reference."""
    marking = runtime.partnership.settings.protective_marking
    stage = overdue.stage.replace("_", "-")
    text = (
        f"*{marking}* · The National Referral Mechanism's {stage} decision for *{overdue.case_reference}* "
        f"is overdue (awaited since {_day(overdue.since)}). Ask the first responder to follow it up, "
        "then record the decision at the panel."
    )
    if administrators is None:
        administrators = panel_administrators(session, runtime, overdue.panel_code)
    for slack_id in administrators:
        dm(
            session,
            key=f"nrm-chase:{overdue.nrm_id}:{overdue.stage}:{slack_id}",
            slack_id=slack_id,
            text=text,
            now=now,
            case_id=overdue.case_id,
        )


def ask_for_interview(session: Session, episode_id: int, runtime: Runtime, now: datetime) -> None:
    """The interview agency's contacts are asked for the return home interview (again at
    each chase; once it is overdue, their agency lead too). The next chase is set here,
    in the same transaction."""
    from datetime import timedelta

    from bot.panel.missing_views import interview_request
    from bot.panel.models import MissingEpisode

    episode = session.get(MissingEpisode, episode_id, with_for_update=True, populate_existing=True)
    case = session.get(Case, episode.case_id) if episode else None
    if (
        episode is None
        or case is None
        or episode.interview_state != "owed"
        or episode.interview_due_at is None
    ):
        return
    practice = runtime.partnership.panel_practice.missing
    agency = runtime.partnership.agency(practice.interview_agency)
    overdue = now > episode.interview_due_at
    people = [*agency.invitees()]
    if overdue:
        people.append(agency.lead_person())
    message = interview_request(
        episode.id or 0,
        case.reference,
        runtime.calendar.local(episode.interview_due_at).strftime("%a %d %b %Y %H:%M"),
        overdue=overdue,
        marking=runtime.partnership.settings.protective_marking,
    )
    post_about_case(
        session,
        [p.slack_user_id for p in people],
        message,
        key=f"return-interview:{episode.id}:{episode.chases}",
        case_id=case.id,
        now=now,
    )
    episode.chases += 1
    episode.next_chase_at = now + timedelta(hours=practice.chase_every_hours)
    if not overdue and episode.next_chase_at > episode.interview_due_at:
        episode.next_chase_at = episode.interview_due_at  # chase again when it falls due
    session.add(episode)


def chase_referrals_of(session: Session, sitting_id: int, runtime: Runtime, now: datetime) -> int:
    """The sitting's administrators hear which referrals still wait for a decision, once
    per sitting (the row is locked and marked in the same transaction). 1 if chased."""
    from bot.panel.service import pending_referrals

    sitting = session.get(PanelSitting, sitting_id, with_for_update=True, populate_existing=True)
    if sitting is None or sitting.referrals_chased_at is not None:
        return 0
    waiting = pending_referrals(session, [sitting.panel_code])
    meeting = session.get(Meeting, sitting.meeting_id)
    if not waiting or meeting is None:
        return 0  # asked again at the next sweep: a referral may still arrive before the cut-off
    sitting.referrals_chased_at = now
    session.add(sitting)
    marking = runtime.partnership.settings.protective_marking
    cutoff = when(runtime.calendar, sitting.referral_cutoff)
    passed = now >= sitting.referral_cutoff
    listed = ", ".join(f"{r.reference} ({case.reference})" for r, case in waiting[:30])
    more = f" and {len(waiting) - 30} more" if len(waiting) > 30 else ""
    text = (
        f"*{marking}* · {len(waiting)} referral(s) to {runtime.partnership.panel(sitting.panel_code).name} "
        + (
            f"missed the cut-off for {meeting.reference}; decide them for the following sitting: "
            if passed
            else f"wait for your decision before the cut-off for {meeting.reference} ({cutoff}): "
        )
        + listed
        + more
        + ". Use the buttons in your DMs or `/panel referrals`."
    )
    for slack_id in panel_administrators(session, runtime, sitting.panel_code):
        dm(session, key=f"referrals-chase:{sitting.id}:{slack_id}", slack_id=slack_id, text=text, now=now)
    return 1


def follow_step_up(session: Session, item: AgendaItem, actor: Actor, runtime: Runtime, now: datetime) -> None:
    """A step up to a child protection conference links it (once) and asks the booking
    agency's lead to book it; a step up to a police operation asks the leading police
    agency's people to record it (once per decision). A decision recorded again without
    the conference withdraws a booking still owed."""
    from bot.panel.stepup import link_conference, links_of, operation_of_item, withdraw_conference
    from bot.panel.stepup_views import booking_request, operation_request

    links = links_of(item.outcome or {})
    if links != "conference":
        withdraw_conference(session, item.id or 0, actor=actor, now=now)
    if not links:
        return
    sitting = session.get(PanelSitting, item.sitting_id)
    meeting = session.get(Meeting, sitting.meeting_id) if sitting else None
    panel_case = session.get(PanelCase, item.panel_case_id)
    case = session.get(Case, panel_case.case_id) if panel_case else None
    if meeting is None or case is None:
        return
    partnership = runtime.partnership
    marking = partnership.settings.protective_marking
    if links == "conference":
        link, created = link_conference(
            session,
            item.id or 0,
            partnership=partnership,
            calendar=runtime.calendar,
            statutory=runtime.statutory_calendar,
            actor=actor,
            now=now,
        )
        action = session.get(Action, link.action_id) if created and link and link.action_id else None
        owner = session.get(Person, action.owner_id) if action else None
        if link is not None and action is not None and owner is not None and owner.slack_user_id:
            message = booking_request(
                action.id or 0, action.reference, meeting.reference, case.reference, link.due_on, marking
            )
            enqueue(
                session,
                key=f"conference-booking:{link.id}",
                method="chat.postMessage",
                arguments={"channel": owner.slack_user_id, **message},
                now=now,
                case_id=case.id,
            )
        return
    if operation_of_item(session, item.id or 0) is not None:
        return
    step = partnership.panel_practice.step_up_named(
        str((item.outcome or {}).get("destination", "")).split(":")[-1]
    )
    if step is None or not step.led_by:
        return
    agency = partnership.agency(step.led_by)
    message = operation_request(item.id or 0, meeting.reference, case.reference, marking)
    post_about_case(
        session,
        [p.slack_user_id for p in [*agency.invitees(), agency.lead_person()]],
        message,
        key=f"operation-request:{item.id}",
        case_id=case.id,
        now=now,
    )
