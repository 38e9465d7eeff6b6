"""The partner pages: use a link, answer an invitation, see one's actions and close them.

Every page is for the person and purpose of the link that opened the session, and passes
the guard (`bot.partners.guard`) with its rule below, as a Slack request would. Forms are
checked by the same service functions as Slack's forms, and what they change follows to
Slack through the outbox (the discussion's status message, the chair's DM), as a Slack
answer does. Pages show case and discussion references, never a child's name.
"""

from __future__ import annotations

import logging
from typing import Any

from flask import Blueprint, redirect, render_template, request, session, url_for
from sqlmodel import col, func, select
from werkzeug.wrappers import Response

from bot.access import MEMBER, Part, Rule, action_by_id, invitation_by_id, page, part, value
from bot.actions.models import Action
from bot.actions.service import ActionRefused, latest_request, mark_done, request_extension
from bot.cases.models import Case
from bot.cases.service import NAME_IN_SLACK_TEXT, mentions_child_of_case
from bot.convening import effects as convening_effects
from bot.convening.models import Invitation, InvitationState, Meeting
from bot.convening.service import Answer, ConveningRefused, answer_invitation
from bot.convening.views import when
from bot.database import read_scope, session_scope
from bot.partners import forms
from bot.partners.guard import (
    PageRefused,
    allowed,
    client,
    current_runtime,
    guarded,
    needs_session,
    problem,
    too_many,
)
from bot.partners.links import (
    ACTIONS,
    DESK,
    INVITATION,
    MINUTES,
    LinkRefused,
    audit_link_refused,
    check_link,
    end_session,
    redeem,
)
from bot.partners.models import PartnerSession
from bot.partnership.models import Agency, Person
from bot.runtime import Runtime

log = logging.getLogger(__name__)

blueprint = Blueprint("partners", __name__)

ANSWER_REFUSED = "Only the invited agency can answer this invitation."
OWNER_OR_LEAD = part(Part.OWNER, Part.OWNER_LEAD)
RULES = (
    Rule(
        page("invitation_answer"),
        part(Part.AGENCY),
        invitation_by_id(value()),
        refusal=ANSWER_REFUSED,
        act="invitation.answer_refused",
    ),
    Rule(
        page("actions_mine"),
        MEMBER,
        refusal="You are not listed in the partnership's schedules.",
        act="actions.list_refused",
    ),
    Rule(
        page("action_done"),
        OWNER_OR_LEAD,
        action_by_id(value()),
        refusal="Only the owner of the action or their agency lead can mark it done.",
        act="action.done_refused",
    ),
    Rule(
        page("action_extension"),
        OWNER_OR_LEAD,
        action_by_id(value()),
        refusal="Only the owner of the action or their agency lead can ask for an extension.",
        act="action.extension_refused",
    ),
)
PAGE_SIZE = 20
LINK_REFUSED = (
    "This link cannot be used. Links work once and for a limited time. "
    "If you still need to answer, ask the person who contacted you for a new link."
)
# ------------------------------------------------------------------------------ links


@blueprint.route("/p/<token>", methods=["GET", "POST"])
def use_link(token: str) -> Any:
    """GET shows a button (scanners that open links do not use them); POST uses the link."""
    if not allowed("links"):
        return too_many()
    runtime = current_runtime()
    now = runtime.clock.now()
    form = forms.ContinueForm()
    try:
        if request.method == "GET":
            with read_scope(runtime.engine) as db:
                link = check_link(db, runtime.settings.site_secret, token, now)
                person = db.get(Person, link.person_id)
            return render_template("partners/continue.html", form=form, person=person, purpose=link.purpose)
        with session_scope(runtime.engine) as db:
            opened = redeem(
                db,
                runtime.settings.site_secret,
                token,
                now=now,
                minutes=runtime.partnership.settings.partner_session_minutes,
                client=client(),
            )
    except LinkRefused as refused:
        with session_scope(runtime.engine) as db:
            audit_link_refused(db, refused, now=now, client=client())
        log.info("refused a partner link: %s", refused.reason, extra={"event": "partners.link_refused"})
        return problem("This link cannot be used", LINK_REFUSED, 410 if refused.link else 404)
    session.clear()
    session.permanent = True
    session["sid"] = opened.cookie_value
    target = {
        MINUTES: "partner_minutes.minutes",
        INVITATION: "partners.invitation",
        ACTIONS: "partners.my_actions",
        DESK: "desk.home",
    }[opened.session.purpose]
    return redirect(url_for(target), 303)


@blueprint.route("/partner/sign-out", methods=["POST"])
def sign_out() -> Response:
    runtime = current_runtime()
    with session_scope(runtime.engine) as db:
        end_session(db, str(session.get("sid", "")), runtime.clock.now())
    session.clear()
    return redirect(url_for("partners.signed_out"), 303)


@blueprint.route("/partner/signed-out")
def signed_out() -> tuple[str, int]:
    return problem("You have signed out", "You can close this window.", 200)


# ------------------------------------------------------------------------------ invitation


def _invitation_view(invitation_id: int) -> dict[str, Any]:
    runtime = current_runtime()
    with read_scope(runtime.engine) as db:
        invitation = db.get(Invitation, invitation_id)
        assert invitation is not None
        meeting = db.get(Meeting, invitation.meeting_id)
        agency = db.get(Agency, invitation.agency_id)
        assert meeting is not None and agency is not None
        case = db.get(Case, meeting.case_id) if meeting.case_id else None
        people = db.exec(
            select(Person).where(Person.agency_id == agency.id, Person.active == True).order_by(Person.name)  # noqa: E712
        ).all()
        delegate = db.get(Person, invitation.delegate_id) if invitation.delegate_id else None
    return {
        "invitation": invitation,
        "meeting": meeting,
        "agency": agency,
        "case_reference": case.reference if case else "",
        "when": when(runtime.calendar, meeting.scheduled_start),
        "people": [(str(p.id), f"{p.name}, {p.role_title}" if p.role_title else p.name) for p in people],
        "delegate": delegate.name if delegate else "",
        "answer_label": dict(forms.ANSWERS).get(invitation.state, "Not answered yet"),
    }


@blueprint.route("/partner/invitation", methods=["GET", "POST"])
@needs_session(INVITATION)
def invitation(opened: PartnerSession) -> Any:
    try:
        access = guarded("invitation_answer", opened, str(opened.subject_id or ""))
    except PageRefused as refused:
        return problem("You cannot answer this invitation", str(refused), 403)
    view = _invitation_view(access.known_record.id)
    form = forms.InvitationForm()
    form.delegate.choices = [("", "Choose someone"), *view["people"]]
    if request.method == "GET":
        return render_template("partners/invitation.html", form=form, **view)
    if form.validate_on_submit():
        refusal = _record_answer(access, form)
        if refusal is None:
            return redirect(url_for("partners.invitation_answered"), 303)
        field, message = refusal
        getattr(form, field).errors = [message]
    return render_template("partners/invitation.html", form=form, **view), 400


def _record_answer(access: Any, form: forms.InvitationForm) -> tuple[str, str] | None:
    """Record the answer as Slack's buttons and forms do; (field, message) if refused."""
    runtime = current_runtime()
    choice = form.answer.data or ""
    if choice not in dict(forms.ANSWERS):
        return "answer", "Choose your agency's answer."
    reason = (form.reason.data or "").strip() if choice == InvitationState.DECLINED else ""
    delegate = form.delegate.data if choice == InvitationState.DELEGATE else ""
    if choice == InvitationState.DELEGATE and not (delegate or "").isdigit():
        return "delegate", f"Choose a delegate from {access.member.agency_name}."
    if len(reason) > 1000:
        return "reason", "Keep the reason to 1,000 characters or fewer."
    now = runtime.clock.now()
    try:
        with session_scope(runtime.engine) as db:
            if reason and mentions_child_of_case(db, access.meeting.case_id, reason):
                return "reason", NAME_IN_SLACK_TEXT
            answer = Answer(
                InvitationState(choice),
                reason=reason,
                delegate_person_id=int(delegate) if delegate else None,
            )
            invitation, changed = answer_invitation(
                db, access.record.id, answer, member=access.member, actor=access.actor, now=now
            )
            if changed:
                meeting = db.get(Meeting, invitation.meeting_id)
                assert meeting is not None
                convening_effects.after_answer(db, meeting, invitation, runtime, now)
    except ConveningRefused as refused:
        text = str(refused)
        field = "delegate" if "delegate" in text else "reason" if "reason" in text else "answer"
        return field, text
    runtime.kick_delivery()
    return None


@blueprint.route("/partner/invitation/answered")
@needs_session(INVITATION)
def invitation_answered(opened: PartnerSession) -> Any:
    try:
        access = guarded("invitation_answer", opened, str(opened.subject_id or ""))
    except PageRefused as refused:
        return problem("You cannot answer this invitation", str(refused), 403)
    return render_template("partners/answered.html", **_invitation_view(access.known_record.id))


# ------------------------------------------------------------------------------ actions


@blueprint.route("/partner/actions")
@needs_session(ACTIONS)
def my_actions(opened: PartnerSession) -> Any:
    try:
        guarded("actions_mine", opened)
    except PageRefused as refused:
        return problem("You cannot see these actions", str(refused), 403)
    runtime = current_runtime()
    number = request.args.get("page", "1")
    page_number = int(number) if number.isdigit() and 0 < int(number) < 100_000 else 1
    with read_scope(runtime.engine) as db:
        mine = Action.owner_id == opened.person_id
        total = int(db.exec(select(func.count()).select_from(Action).where(mine)).one())
        rows = db.exec(
            select(Action, Meeting.reference)
            .outerjoin(Meeting, col(Meeting.id) == Action.meeting_id)
            .where(mine)
            .order_by(col(Action.status) == "done", col(Action.due_on), col(Action.id))
            .offset((page_number - 1) * PAGE_SIZE)
            .limit(PAGE_SIZE)
        ).all()
    pages = max(1, -(-total // PAGE_SIZE))
    return render_template(
        "partners/actions.html",
        rows=rows,
        page_number=page_number,
        pages=pages,
        total=total,
        sign_out=forms.SignOutForm(),
    )


def _action_page(opened: PartnerSession, action_id: int, name: str) -> Any:
    try:
        return guarded(name, opened, str(action_id))
    except PageRefused as refused:
        return refused


@blueprint.route("/partner/actions/<int:action_id>/done", methods=["GET", "POST"])
@needs_session(ACTIONS)
def action_done(opened: PartnerSession, action_id: int) -> Any:
    access = _action_page(opened, action_id, "action_done")
    if isinstance(access, PageRefused):
        return problem("You cannot change this action", str(access), 403)
    form = forms.DoneForm()
    action = access.row
    if request.method == "POST" and form.validate_on_submit():
        runtime = current_runtime()
        now = runtime.clock.now()
        note = (form.note.data or "").strip()
        try:
            with session_scope(runtime.engine) as db:
                if note and action.case_id and mentions_child_of_case(db, action.case_id, note):
                    raise ActionRefused(NAME_IN_SLACK_TEXT)
                if len(note) > 2000:
                    raise ActionRefused("Keep the note to 2,000 characters or fewer.")
                done, changed = mark_done(
                    db, action.id, note, actor=access.actor, partnership=runtime.partnership, now=now
                )
                if changed and done.meeting_id:
                    convening_effects.refresh_status(db, done.meeting_id, now)
        except ActionRefused as refused:
            form.note.errors = [str(refused)]
            return render_template("partners/action_done.html", form=form, action=action), 400
        runtime.kick_delivery()
        return redirect(url_for("partners.my_actions"), 303)
    status = 400 if request.method == "POST" else 200
    return render_template("partners/action_done.html", form=form, action=action), status


@blueprint.route("/partner/actions/<int:action_id>/extension", methods=["GET", "POST"])
@needs_session(ACTIONS)
def action_extension(opened: PartnerSession, action_id: int) -> Any:
    access = _action_page(opened, action_id, "action_extension")
    if isinstance(access, PageRefused):
        return problem("You cannot change this action", str(access), 403)
    form = forms.ExtensionForm()
    action = access.row
    if request.method == "POST":
        form.validate_on_submit()
        runtime = current_runtime()
        now = runtime.clock.now()
        reason = (form.reason.data or "").strip()
        try:
            with session_scope(runtime.engine) as db:
                if reason and action.case_id and mentions_child_of_case(db, action.case_id, reason):
                    raise ActionRefused(NAME_IN_SLACK_TEXT)
                asked = request_extension(
                    db,
                    action.id,
                    form.due_on.data if not form.due_on.errors else None,
                    reason,
                    actor=access.actor,
                    partnership=runtime.partnership,
                    today=runtime.calendar.local(now).date(),
                    now=now,
                )
                _tell_chair(db, asked, runtime, now)
        except ActionRefused as refused:
            text = str(refused)
            field = form.due_on if "date" in text else form.reason
            field.errors = [text]
            return render_template("partners/action_extension.html", form=form, action=action), 400
        runtime.kick_delivery()
        return redirect(url_for("partners.my_actions"), 303)
    return render_template("partners/action_extension.html", form=form, action=action)


def _tell_chair(db: Any, action: Action, runtime: Runtime, now: Any) -> None:
    """The chair decides an extension in Slack, as when it is asked for there."""
    from datetime import date

    from bot.actions.views import extension_request
    from bot.delivery.service import enqueue

    asked = latest_request(db, action)
    meeting = db.get(Meeting, action.meeting_id) if action.meeting_id else None
    chair = db.get(Person, meeting.chair_id) if meeting and meeting.chair_id else None
    if asked is None or chair is None or not chair.slack_user_id:
        return
    owner = db.get(Person, action.owner_id)
    message = extension_request(
        action.reference,
        (owner.slack_user_id or owner.name) if owner else "",
        action.due_on,
        date.fromisoformat(asked.details["due_on"]),
        asked.details.get("note", ""),
        str(asked.id),
    )
    enqueue(
        db,
        key=f"extension:{asked.id}",
        method="chat.postMessage",
        arguments={"channel": chair.slack_user_id, **message},
        now=now,
    )
