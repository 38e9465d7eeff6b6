"""The agency update as a page: every field of Slack's modal, checked by the same service
functions (`bot.agency_updates.service.validate` and `save`), with the same messages shown
beside the fields; a draft can be saved and picked up later, and a submitted update amended
until the discussion starts. The link is the invitation's: the same person, the same rule
as Slack's form (the invited agency or its named delegate)."""

from __future__ import annotations

import hashlib
import json
from typing import Any

from flask import Blueprint, render_template, request
from werkzeug.wrappers import Response

from bot.access import Part, Rule, invitation_by_id, page, part, value
from bot.agency_updates.service import (
    RATINGS,
    TEXT_FIELDS,
    UpdateRefused,
    check_may_write,
    context_for,
    current_update,
    deadline_for,
    form_from_version,
    latest_version,
    save,
    validate,
)
from bot.agency_updates.views import AFTER_RISK, SECTIONS
from bot.cases.service import NAME_IN_SLACK_TEXT, mentions_child_of_case
from bot.convening.effects import refresh_status
from bot.convening.views import when
from bot.database import read_scope, session_scope
from bot.partners.guard import PageRefused, current_runtime, guarded, needs_session, problem
from bot.partners.links import INVITATION
from bot.partners.models import PartnerSession
from bot.slack.replies import audit_refusal

blueprint = Blueprint("partner_update", __name__)

WRITERS_NOTE = "Only the invited agency (or its named delegate) can write its update."
RULES = (
    Rule(
        page("agency_update"),
        part(Part.AGENCY, Part.DELEGATE),
        invitation_by_id(value()),
        refusal=WRITERS_NOTE,
        act="agency_update.refused",
    ),
)


def read_page_form(values: Any, indicators: list[str]) -> dict[str, Any]:
    """The posted form in the shape the service reads (as `read_form` gives Slack's)."""
    form: dict[str, Any] = {field: str(values.get(field, "")) for field in TEXT_FIELDS if field != "links"}
    form["risk_ratings"] = {code: values.get(f"risk:{code}") or None for code in indicators}
    form["lawful_basis"] = values.get("lawful_basis") or None
    form["restrictions"] = [str(v) for v in values.getlist("restrictions")]
    return form


def anchor(block: str) -> str:
    """The page element an error for a form block points at (ids cannot hold colons)."""
    return block.replace(":", "-").replace("_", "-")


@blueprint.route("/partner/update", methods=["GET", "POST"])
@needs_session(INVITATION)
def agency_update(opened: PartnerSession) -> Any:
    runtime = current_runtime()
    try:
        access = guarded("agency_update", opened, str(opened.subject_id or ""))
    except PageRefused as refused:
        return problem("You cannot write this update", str(refused), 403)
    member, now = access.known_member, runtime.clock.now()
    policy = runtime.partnership.agency_updates
    indicators = [i.code for i in policy.risk_indicators]
    with read_scope(runtime.engine) as session:
        context = context_for(session, access.known_record.id)
        update = current_update(session, context)
        stored = form_from_version(latest_version(session, update))
        deadline = deadline_for(context.meeting, runtime.partnership, runtime.calendar)
    errors: dict[str, str] = {}
    note = ""
    status = 200
    form = stored
    if request.method == "POST":
        form = read_page_form(request.form, indicators)
        submitting = request.form.get("intent") == "submit"
        errors = validate(form, runtime.partnership, submitting=submitting)
        if not errors:
            with read_scope(runtime.engine) as session:
                named = [
                    f
                    for f in TEXT_FIELDS
                    if form.get(f) and mentions_child_of_case(session, context.meeting.case_id, form[f])
                ]
            errors = {field: NAME_IN_SLACK_TEXT for field in named}
        if not errors:
            digest = hashlib.sha256(json.dumps(form, sort_keys=True).encode()).hexdigest()[:16]
            key = f"{'submit' if submitting else 'draft'}:web:{opened.id}:{digest}"
            try:
                with session_scope(runtime.engine) as session:
                    writing = context_for(session, access.known_record.id)
                    check_may_write(writing, member, now)
                    update, _ = save(
                        session,
                        writing,
                        form,
                        member=member,
                        submitting=submitting,
                        key=key,
                        partnership=runtime.partnership,
                        calendar=runtime.calendar,
                        actor=access.actor,
                        now=now,
                    )
                    if submitting:
                        refresh_status(session, writing.meeting.id or 0, now)
                    version, late = update.current_version, update.late
            except UpdateRefused as refused:
                audit_refusal(
                    runtime, access.actor, "agency_update.refused", access.known_record.id, str(refused)
                )
                errors = {"involvement_current": str(refused)}
            else:
                runtime.kick_delivery()
                if submitting:
                    return render_template(
                        "partners/update_sent.html",
                        reference=context.meeting.reference,
                        agency=context.agency.name,
                        version=version,
                        late=late,
                    )
                saved = runtime.calendar.local(now)
                note = f"Draft saved at {saved:%H:%M} (version {version})."
        if errors:
            status = 400
    elif update is not None:
        note = (
            f"You are amending the submitted update (version {update.current_version})."
            if update.state == "submitted"
            else f"Draft version {update.current_version} is loaded."
        )
    if not form.get("role"):
        form["role"] = _title(runtime, member)
    body = render_template(
        "partners/update.html",
        context=context,
        deadline=when(runtime.calendar, deadline),
        sections=SECTIONS,
        after_risk=AFTER_RISK,
        labels=TEXT_FIELDS,
        ratings=RATINGS,
        policy=policy,
        form=form,
        errors=errors,
        error_list=[{"text": text, "href": f"#{anchor(block)}"} for block, text in errors.items()],
        anchor=anchor,
        note=note,
        csrf_field=True,
    )
    return Response(body, status=status, mimetype="text/html")


def _title(runtime: Any, member: Any) -> str:
    from bot.access.records import configured_person

    configured = configured_person(runtime.partnership, member)
    return str(configured.title) if configured is not None else ""
