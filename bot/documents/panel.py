"""The panel's documents as the templates see them, read from the record: the agenda at
the cut-off and the VOLT minutes with the action log and the network picture. Documents
carry children's details; Slack never does. Rendering and registration stay with the
panel (`bot.panel.records`); what the documents show is built here, beside the others."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlmodel import Session, col, select

from bot.actions.service import ActionRow, actions_of
from bot.agency_updates.service import TEXT_FIELDS, AgencyUpdateSummary, deadline_for, overviews
from bot.cases.links import Link, LinksInvalid, parse_links
from bot.cases.models import Case, IcpcState, Section47Enquiry
from bot.convening.models import Attendance, Meeting
from bot.documents.action_log import action_row, moment_words
from bot.documents.changes import Part, PreviousVersion, changes_since, fingerprint
from bot.documents.handling import (
    Recipient,
    Restricted,
    intelligence_handling,
    restricted,
    withheld_note,
)
from bot.documents.minutes import COPY_WORDS, FULL, Copy, copy_of, copy_words, shows
from bot.documents.vocabulary import NOT_APPLICABLE, NOT_RECORDED, no_break
from bot.minutes.service import ATTENDANCE_WORDS
from bot.panel.calendar import next_sitting
from bot.panel.missing import episode_lines
from bot.panel.models import AgendaItem, Intelligence, PanelSitting
from bot.panel.network import NetworkEdge, NetworkNode, draw_network
from bot.panel.perpetrators import disruptions_of, perpetrators_of_cases
from bot.panel.service import (
    LinkRow,
    agenda_items,
    agenda_lines,
    carried_forward_actions,
    network_groups,
    network_links,
    sitting_of,
)
from bot.panel.stepup import OPERATION_HANDLING, StepUpLinks
from bot.panel.vocabulary import DECISIONS, NRM, RISK_LEVELS, SCREENING_RESULTS, SECTIONS, SUBJECT_KINDS
from bot.partnership.models import Agency, Person
from bot.schedules import Partnership
from bot.working_days import WorkingCalendar

NETWORK_NOTE = (
    "Links between children, contexts, peers, suspected perpetrators and places, as recorded at "
    "referral, in the agencies' pre-panel updates and at the panel."
)
LINK_WORDS = {
    "peer": "Peer",
    "suspected_perpetrator": "Suspected perpetrator",
    "location": "Location",
    "school": "School",
    "peer_group": "Peer group",
    "case": "Linked case",
}


# The parts a version names when it says what changed, in each document's order.
_HEADING_WORDS = {
    "date": "date",
    "time": "time",
    "minute_taker": "minute-taker",
    "joining_link": "joining link",
}
AGENDA_PARTS = (
    Part(
        "Meeting details",
        ("date", "time", "chair", "venue", "joining_link", "referral_cutoff", "updates_cutoff", "next_date"),
        words=_HEADING_WORDS
        | {
            "referral_cutoff": "referral cut-off",
            "updates_cutoff": "updates cut-off",
            "next_date": "next panel",
        },
    ),
    Part("Date moved", ("moved_note",)),
    Part("Invited", ("invitees",)),
    Part(
        "Agenda",
        ("items",),
        itemised="title",
        item_label="item",
        ignore=("number", "starts"),
        words={
            "risk_level": "risk level",
            "screening_result": "screening",
            "plan_status": "plan status",
            "why": "why it is here",
        },
    ),
    Part("Not for discussion", ("not_for_discussion",)),
    Part("Missing episodes and return home interviews", ("missing_episodes",)),
    Part("Actions from last time", ("actions_from_last_time",)),
    Part("Suspected perpetrators", ("perpetrators",)),
    Part("Locations", ("locations",)),
    Part("Peer groups", ("peer_groups",)),
)
PANEL_MINUTES_PARTS = (
    Part("Meeting details", ("date", "time", "chair", "minute_taker"), words=_HEADING_WORDS),
    Part("Attendance", ("attendance",)),
    Part("Actions from last time", ("actions_from_last_time",)),
    Part(
        "Cases",
        ("cases",),
        itemised="reference",
        item_label="case",
        ignore=("number",),
        words={
            "date_of_birth": "date of birth",
            "risk_level": "risk level",
            "screening_result": "screening result",
            "plan_status": "plan status",
            "reasons": "reasons for discussion",
            "updates": "agency updates",
            "decision_reason": "reason",
            "nrm": "National Referral Mechanism",
            "leads_to": "where it leads",
            "missing": "missing episodes",
            "next_review": "next review",
            "links": "links",
            "discussion": "strategy discussion and ICPC",
            "actions": "actions",
        },
    ),
    Part("Suspected perpetrators", ("perpetrators",)),
    Part("Locations", ("locations",)),
    Part("Peer groups", ("peer_groups",)),
    Part("Register of suspected perpetrators", ("register",)),
    Part("Disruption activities", ("disruptions",)),
    Part("Police intelligence", ("intelligence",)),
    Part("Themes and intelligence", ("themes",)),
    Part("Action log", ("actions",)),
    Part("Next panel", ("next_panel",)),
    Part("Circulation", ("circulation",)),
)


def _day(value: datetime | date | None, calendar: WorkingCalendar) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        value = calendar.local(value).date()
    return value.strftime("%A %d %B %Y")


def _name(session: Session, person_id: int | None) -> str:
    person = session.get(Person, person_id) if person_id else None
    if person is None:
        return ""
    return f"{person.name}, {person.role_title}" if person.role_title else person.name


def _action_rows(
    rows: list[ActionRow], calendar: WorkingCalendar, carried: set[int], today: date
) -> list[dict[str, Any]]:
    when = moment_words(calendar)
    return [{**action_row(a, when, today), "carried_forward": a.id in carried} for a in rows]


def _actions(
    session: Session, meeting: Meeting, panel_code: str, calendar: WorkingCalendar, today: date
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Actions carried forward from earlier sittings, and the whole log (carried + new)."""
    carried = carried_forward_actions(session, meeting, panel_code)
    carried_ids = {a.id for a in carried if a.id}
    earlier = actions_of(session, action_ids=sorted(carried_ids)) if carried_ids else []
    own = actions_of(session, meeting_id=meeting.id)
    carried_rows = _action_rows(earlier, calendar, carried_ids, today)
    # the carried rows once, in both lists (nothing changes a row once it is built)
    return carried_rows, carried_rows + _action_rows(own, calendar, carried_ids, today)


def _groups(rows: list[LinkRow]) -> dict[str, list[dict[str, str]]]:
    grouped = network_groups(rows)
    return {
        kind: [{"label": label, "linked": ", ".join(cases)} for label, cases in grouped.get(kind, [])]
        for kind in ("suspected_perpetrator", "location", "peer_group")
    }


def _heading(
    partnership: Partnership, panel: str, meeting: Meeting, calendar: WorkingCalendar
) -> dict[str, Any]:
    """What both panel documents open with: marking, who, which sitting and when."""
    settings = partnership.settings
    return {
        "marking": settings.protective_marking,
        "confidentiality": settings.confidentiality_statement,
        "partnership": settings.name,
        "panel": panel,
        "reference": no_break(meeting.reference),
        "date": _day(meeting.scheduled_start, calendar),
        "time": calendar.local(meeting.scheduled_start).strftime("%H:%M") if meeting.scheduled_start else "",
    }


def agenda_context(
    session: Session,
    meeting: Meeting,
    *,
    partnership: Partnership,
    calendar: WorkingCalendar,
    now: datetime,
    version: int = 1,
    previous: PreviousVersion | None = None,
    **_: Any,
) -> dict[str, Any]:
    """The agenda at the cut-off: when and where, who is invited, the timed items naming
    each child as the panel knows them, and what the panel reviews; its version and what
    changed since the one before."""
    sitting = sitting_of(session, meeting)
    assert sitting is not None and meeting.scheduled_start is not None
    panel = partnership.panel(sitting.panel_code)
    lines = agenda_lines(session, sitting, meeting, partnership=partnership)
    carried = _actions(session, meeting, panel.code, calendar, calendar.local(now).date())[0]
    groups = _groups(network_links(session, [case.id for _, _, case in agenda_items(session, sitting)]))
    moved = ""
    if sitting.held_on != sitting.scheduled_for:
        moved = (
            f"This sitting moved from {_day(sitting.scheduled_for, calendar)} (a bank holiday) to "
            f"{_day(sitting.held_on, calendar)}."
        )
    by_item = {item.id: case for item, _, case in agenda_items(session, sitting)}
    # The agenda goes to every agency: a police operation only as its released summary.
    linked = StepUpLinks.of(session, [case.id for case in by_item.values()])
    following = next_sitting(panel, calendar, meeting.scheduled_start)
    invitees = []
    for code in panel.standing_agencies:
        try:
            agency = partnership.agency(code)
        except KeyError:
            continue
        reps = [f"{p.name}, {p.title}" for p in agency.invitees()]
        invitees.append({"agency": agency.name, "people": "; ".join(reps) or "The agency's representative"})
    context: dict[str, Any] = {
        **_heading(partnership, panel.name, meeting, calendar),
        "chair": _name(session, meeting.chair_id) or NOT_RECORDED,
        "venue": panel.venue or NOT_RECORDED,
        "joining_link": panel.joining_link or "None: in person only",
        "invitees": invitees,
        "next_date": _day(following.held_on, calendar),
        "moved_note": moved,
        "referral_cutoff": calendar.local(sitting.referral_cutoff).strftime("%A %d %B %Y %H:%M"),
        "updates_cutoff": calendar.local(sitting.updates_cutoff).strftime("%A %d %B %Y %H:%M"),
        "generated_at": calendar.local(now).strftime("%d %B %Y %H:%M"),
        "version": version,
        "changes": "",
        "items": [
            {
                "number": number,
                "starts": calendar.local(line.starts).strftime("%H:%M"),
                "minutes": line.minutes,
                "section": SECTIONS.get(line.section, line.section),
                "title": _agenda_title(line.title, by_item.get(line.item_id)),
                "risk_level": line.risk_level or ("" if line.item_id is None else NOT_RECORDED),
                "screening_result": line.screening_result or ("" if line.item_id is None else NOT_RECORDED),
                "plan_status": _plan_words(line.plan_status, by_item.get(line.item_id)),
                "why": "; ".join(
                    [line.why] * bool(line.why)
                    + linked.of_case(getattr(by_item.get(line.item_id), "id", 0) or 0, full=False)
                ),
            }
            for number, line in enumerate(lines, start=1)
        ],
        "not_for_discussion": ", ".join(sitting.not_for_discussion or []),
        "missing_episodes": _agenda_episodes(session, sitting, calendar),
        "actions_from_last_time": carried,
        "perpetrators": groups["suspected_perpetrator"],
        "locations": groups["location"],
        "peer_groups": groups["peer_group"],
    }
    context["changes"] = changes_since(context, previous, AGENDA_PARTS, calendar)
    return context


def _agenda_episodes(
    session: Session, sitting: PanelSitting, calendar: WorkingCalendar
) -> list[dict[str, str]]:
    """Missing episodes and return home interviews of the children on the agenda."""
    cases = {case.id: case.reference for _, _, case in agenda_items(session, sitting)}
    lines = episode_lines(session, list(cases), calendar.local)
    return [
        {"reference": cases[case_id], "episode": line}
        for case_id in cases
        for line in lines.get(case_id or 0, [])
    ]


def _agenda_title(title: str, case: Case | None) -> str:
    """A case line names the child as the panel knows them (name and date of birth), so
    police and health can look them up before the panel; the agenda is a document, never Slack."""
    if case is None:
        return title
    if case.subject_kind == "child":
        born = f", born {case.child_date_of_birth:%d %B %Y}" if case.child_date_of_birth else ""
        return f"{no_break(case.reference)}: {case.child_name or NOT_RECORDED}{born}"
    return f"{no_break(case.reference)}: {case.subject_label or SUBJECT_KINDS.get(case.subject_kind, '')}"


def _plan_words(plan: str, case: Case | None) -> str:
    if case is None:
        return ""
    if case.subject_kind != "child":
        return NOT_APPLICABLE
    return plan or NOT_RECORDED


Submitted = dict[int, list[tuple[AgencyUpdateSummary, Restricted | None]]]


def _submitted(
    session: Session,
    meeting: Meeting,
    item_ids: list[int],
    partnership: Partnership,
    calendar: WorkingCalendar,
    now: datetime,
) -> Submitted:
    """The updates submitted for each agenda item, each with its handling (if any): read
    for the whole sitting at once, a fixed number of statements however many items."""
    deadline = deadline_for(meeting, partnership, calendar)
    kinds = {a.code: a.kind for a in session.exec(select(Agency))}
    found: Submitted = {}
    for item_id, summaries in overviews(session, meeting, item_ids, deadline=deadline, now=now).items():
        found[item_id] = [
            (
                update,
                restricted(
                    partnership,
                    sharer_code=update.agency_code,
                    sharer_kind=kinds.get(update.agency_code, "other"),
                    codes=update.restrictions,
                    detail=update.content.get("restriction_detail", ""),
                ),
            )
            for update in summaries
            if update.state == "submitted"
        ]
    return found


def _item_updates(
    submitted: list[tuple[AgencyUpdateSummary, Restricted | None]], partnership: Partnership, *, copy: Copy
) -> list[dict[str, Any]]:
    """Each agency's update on one case; in the copy for those not entitled to a restricted
    update, its handling instruction and a line saying the text is withheld, without it."""
    names = {i.code: i.name for i in partnership.agency_updates.risk_indicators}
    out = []
    for update, handling in submitted:
        withheld = not shows(copy, handling)
        out.append(
            {
                # the full content, so the withheld copy says what changed as the full one does
                "fingerprint": fingerprint([update.agency_name, update.content, update.authors, update.late]),
                "agency": update.agency_name,
                "author": ", ".join(sorted(set(update.authors.values()))),
                "role": update.content.get("role", ""),
                "late": update.late,
                "restricted": handling is not None,
                "restriction": handling.instruction if handling else "",
                "withheld": withheld,
                "withheld_note": withheld_note(handling, partnership, update.agency_name)
                if withheld and handling
                else "",
                "current_risks": ", ".join(
                    names.get(code, code)
                    for code, rating in update.risk_ratings.items()
                    if rating == "current"
                ),
                "sections": []
                if withheld
                else [
                    {"label": label, "text": _readable(name, update.content[name])}
                    for name, label in TEXT_FIELDS.items()
                    if name not in ("role", "restriction_detail") and update.content.get(name)
                ],
            }
        )
    return out


def _intelligence(
    session: Session, meeting: Meeting, partnership: Partnership
) -> list[tuple[Intelligence, str, Restricted | None]]:
    """The sitting's police intelligence, each with its handling code's name and, unless
    the code releases it to every agency, its restriction."""
    rows = session.exec(
        select(Intelligence).where(Intelligence.meeting_id == meeting.id).order_by(col(Intelligence.id))
    ).all()
    found = []
    for row in rows:
        code = partnership.panel_practice.handling_code(row.handling_code)
        found.append(
            (
                row,
                code.name if code else row.handling_code,
                intelligence_handling(partnership, row.handling_code, sharer_code=""),
            )
        )
    return found


def _intelligence_rows(
    intelligence: list[tuple[Intelligence, str, Restricted | None]], partnership: Partnership, *, copy: Copy
) -> list[dict[str, str]]:
    """Intelligence as a copy shows it: in full, or withheld under its handling code with
    the agencies that hold it named."""
    out = []
    for row, name, handling in intelligence:
        if handling is not None and not shows(copy, handling):
            text = (
                "Withheld from this copy by its handling code. It is in the copies sent to "
                f"{handling.holders(partnership)}."
            )
        else:
            text = row.text
        out.append({"handling_code": name, "text": text, "fingerprint": fingerprint([name, row.text])})
    return out


def panel_restricted(
    session: Session, meeting: Meeting, partnership: Partnership, calendar: WorkingCalendar, now: datetime
) -> list[Restricted]:
    """Every restricted text the panel minutes hold: agencies' updates under a handling
    instruction and intelligence under a handling code that does not release it to all.
    Those entitled to all receive the full minutes; the others the copy with them withheld."""
    sitting = sitting_of(session, meeting)
    items = agenda_items(session, sitting) if sitting is not None else []
    submitted = _submitted(
        session, meeting, [item.id or 0 for item, _, _ in items], partnership, calendar, now
    )
    linked = StepUpLinks.of(session, [case.id for _, _, case in items])
    return _restricted_texts(submitted, _intelligence(session, meeting, partnership), linked)


def _restricted_texts(
    submitted: Submitted,
    intelligence: list[tuple[Intelligence, str, Restricted | None]],
    linked: StepUpLinks,
) -> list[Restricted]:
    """The handlings of the items' updates, in agenda order, then the intelligence's, then
    a police operation's (when a step up linked one)."""
    found = [handling for pairs in submitted.values() for _, handling in pairs if handling is not None]
    found += [h for _, _, h in intelligence if h is not None]
    if linked.any_operation:
        found.append(OPERATION_HANDLING)
    return found


def _readable(field: str, text: str) -> str:
    """Links as the panel reads them ("Location: Wellington Road flat"), not as typed
    ("location: Wellington Road flat"); other fields as they were written."""
    if field != "links":
        return text
    try:
        links = parse_links(text)
    except LinksInvalid:
        return text
    return "\n".join(f"{LINK_WORDS.get(link.kind, link.kind)}: {link.label}" for link in links) or text


def network_picture(
    session: Session,
    case_ids: list[int | None],
    rows: list[LinkRow],
    *,
    title: str,
    stepped_down: frozenset[str] = frozenset(),
) -> bytes | None:
    """The peer and location map of these cases, as a PNG (None when nothing is linked). A
    link naming a place, group or school the panel reviews as a context joins that context."""
    cases = session.exec(select(Case).where(col(Case.id).in_([i for i in case_ids if i]))).all()
    contexts = {
        (c.subject_kind, Link(c.subject_kind, c.subject_label).key): c
        for c in session.exec(select(Case).where(col(Case.subject_kind) != "child"))
    }
    nodes: dict[str, NetworkNode] = {}

    def case_node(case: Case) -> str:
        key = f"case:{case.reference}"
        # Children as the panel knows them (the picture is in the document, never in Slack).
        name = case.child_name if case.subject_kind == "child" else case.subject_label
        label = f"{name}\n{case.reference}" if name else case.reference
        nodes.setdefault(key, NetworkNode(key, label, case.subject_kind, case.reference in stepped_down))
        return key

    for case in cases:
        case_node(case)
    edges: list[NetworkEdge] = []
    for row in rows:
        source = f"case:{row.case_reference}"
        context = contexts.get((row.kind, Link(row.kind, row.label).key))
        if row.kind == "case":
            target = f"case:{row.linked_reference or row.label.upper()}"
            nodes.setdefault(target, NetworkNode(target, row.linked_reference or row.label, "child"))
        elif context is not None:
            target = case_node(context)
        else:
            target = f"{row.kind}:{Link(row.kind, row.label).key}"
            nodes.setdefault(target, NetworkNode(target, row.label, row.kind))
        if target != source:
            edges.append(NetworkEdge(source, target, "linked_case" if row.kind == "case" else row.kind))
    return draw_network(list(nodes.values()), edges, title=title)


def panel_minutes_context(
    session: Session,
    meeting: Meeting,
    *,
    partnership: Partnership,
    calendar: WorkingCalendar,
    version: int,
    state: str,
    now: datetime,
    approved_by: str = "",
    approved_at: str = "",
    copy: Copy = FULL,
    previous: PreviousVersion | None = None,
    **_: Any,
) -> tuple[dict[str, Any], bytes | None]:
    """The VOLT minutes: attendance, each case with the agencies' updates and the panel's
    decisions, the contextual picture, and the action log with carried-forward actions.
    `copy` is FULL (the record, and those entitled to every restricted text), SHARED
    (each restricted update and intelligence withheld, with a line saying so) or the set of
    restricted texts a recipient may read (the others withheld)."""
    sitting = sitting_of(session, meeting)
    assert sitting is not None and meeting.scheduled_start is not None
    panel = partnership.panel(sitting.panel_code)
    items = agenda_items(session, sitting)
    submitted = _submitted(
        session, meeting, [item.id or 0 for item, _, _ in items], partnership, calendar, now
    )
    intelligence = _intelligence(session, meeting, partnership)
    case_ids = [case.id for _, _, case in items]
    linked = StepUpLinks.of(session, case_ids)
    held_back = _restricted_texts(submitted, intelligence, linked)
    attendance = []
    recipients: list[Recipient] = []
    for a, agency in session.exec(
        select(Attendance, Agency)
        .join(Agency, col(Agency.id) == col(Attendance.agency_id))
        .where(col(Attendance.meeting_id) == meeting.id)
        .order_by(col(Attendance.id))
    ):
        name, role = a.name, a.role
        if not name:  # nobody answered by name: the agency's lead, from the schedules
            try:
                lead = partnership.agency(agency.code).lead_person()
                name, role = lead.name, f"{lead.title} (agency lead)".strip()
            except (KeyError, LookupError):
                name, role = "No one named", "Agency lead"
        attendance.append(
            {
                "agency": agency.name,
                "name": name,
                "role": role or NOT_RECORDED,
                "status": ATTENDANCE_WORDS.get(a.status, a.status),
            }
        )
        recipients.append(Recipient(agency.code, agency.kind, a.status in ("present", "written_update")))
    heard_before = set(
        session.exec(
            select(col(AgendaItem.panel_case_id))
            .join(PanelSitting, col(PanelSitting.id) == col(AgendaItem.sitting_id))
            .where(col(PanelSitting.panel_code) == panel.code, col(PanelSitting.held_on) < sitting.held_on)
        ).all()
    )
    links_by_case: dict[str, list[dict[str, str]]] = {}
    link_rows = network_links(session, case_ids)
    for row in link_rows:
        links_by_case.setdefault(row.case_reference, []).append(
            {"kind": LINK_WORDS.get(row.kind, row.kind), "label": row.linked_reference or row.label}
        )
    episodes = episode_lines(session, case_ids, calendar.local)
    operations_shown = shows(copy, OPERATION_HANDLING)
    reasons = _referral_reasons(session, [panel_case.id for _, panel_case, _ in items])
    convened = _stepped_up(session, [item for item, _, _ in items])
    discussions = _discussion_lines(session, [case for _, _, case in items])
    cases = []
    for number, (item, panel_case, case) in enumerate(items, start=1):
        outcome = item.outcome or {}
        review = outcome.get("next_review_on") or ""
        nrm_text = nrm_sentence(outcome.get("nrm"), outcome.get("nrm_detail", ""))
        cases.append(
            {
                "number": number,
                "reference": case.reference,
                "subject": SUBJECT_KINDS.get(case.subject_kind, case.subject_kind),
                "name": case.child_name if case.subject_kind == "child" else case.subject_label,
                "date_of_birth": (
                    case.child_date_of_birth.strftime("%d %B %Y")
                    if case.child_date_of_birth
                    else (NOT_RECORDED if case.subject_kind == "child" else NOT_APPLICABLE)
                ),
                "section": "Under review" if panel_case.id in heard_before else "New referral",
                "risk_level": _risk_words(outcome.get("risk_level", ""), panel_case.risk_level),
                "screening_result": SCREENING_RESULTS.get(
                    panel_case.screening_result, panel_case.screening_result
                ),
                "plan_status": (
                    outcome.get("plan_status") or panel_case.plan_status or NOT_RECORDED
                    if case.subject_kind == "child"
                    else NOT_APPLICABLE
                ),
                "reasons": reasons.get(panel_case.id or 0, ""),
                "updates": _item_updates(submitted.get(item.id or 0, []), partnership, copy=copy),
                "victims": outcome.get("victims", ""),
                "offenders": outcome.get("offenders", ""),
                "locations": outcome.get("locations", ""),
                "themes": outcome.get("themes", ""),
                "decision": DECISIONS.get(outcome.get("decision", ""), "Not recorded"),
                "decision_reason": outcome.get("decision_reason", ""),
                "nrm": nrm_text,
                "leads_to": _leads_to(
                    item, outcome, convened, linked.of_item(case.id or 0, item.id or 0, full=operations_shown)
                ),
                "missing": episodes.get(case.id or 0, []),
                "disruption": outcome.get("disruption", ""),
                "next_review": _review_words(review, outcome.get("decision", ""), calendar),
                "links": links_by_case.get(case.reference, []),
                "discussion": "; ".join(
                    [
                        discussions.get(case.id or 0, NO_DISCUSSION),
                        *linked.of_case(case.id or 0, full=operations_shown, besides=item.id),
                    ]
                )
                if case.subject_kind == "child"
                else NOT_APPLICABLE,
            }
        )
    groups = _groups(link_rows)
    carried, log = _actions(session, meeting, panel.code, calendar, calendar.local(now).date())
    # each action's references read once, not once for every case on the agenda
    concerning = [(str(a["concerns"]).replace("\u2011", "-").casefold(), a) for a in log]
    for entry in cases:
        reference = str(entry["reference"]).replace("\u2011", "-").casefold()
        entry["actions"] = [
            f"{a['reference']}: {a['text']} ({a['owner']}, due {a['due']}, {a['status']})"
            for concerns, a in concerning
            if reference and reference in concerns
        ] or ["No actions were agreed for this case."]
    following = session.exec(
        select(PanelSitting)
        .where(col(PanelSitting.panel_code) == panel.code, col(PanelSitting.held_on) > sitting.held_on)
        .order_by(col(PanelSitting.held_on))
    ).first()
    following_on = (
        following.held_on if following else next_sitting(panel, calendar, meeting.scheduled_start).held_on
    )
    circulation = [
        {
            "name": f"{a['name']}, {a['role']}",
            "agency": a["agency"],
            "receives": copy_words(copy_of(recipient, held_back)),
        }
        for a, recipient in zip(attendance, recipients, strict=True)
    ]
    chair = _name(session, meeting.chair_id)
    if chair:
        circulation.insert(0, {"name": chair, "agency": "Chair", "receives": COPY_WORDS[FULL]})
    context = {
        **_heading(partnership, panel.name, meeting, calendar),
        "chair": chair or NOT_RECORDED,
        "minute_taker": _name(session, meeting.minute_taker_id) or chair or NOT_RECORDED,
        "copy": copy_words(copy),
        "changes": "",
        "version": version,
        "state": state,
        "generated_at": calendar.local(now).strftime("%d %B %Y %H:%M"),
        "approved_by": approved_by,
        "approved_at": approved_at,
        "attendance": attendance,
        "actions_from_last_time": carried,
        "cases": cases,
        "perpetrators": groups["suspected_perpetrator"],
        "locations": groups["location"],
        "peer_groups": groups["peer_group"],
        "themes": meeting.details.get("themes", ""),
        "register": perpetrators_of_cases(session, case_ids),
        "disruptions": disruptions_of(session, meeting, partnership, calendar, case_ids),
        "intelligence": _intelligence_rows(intelligence, partnership, copy=copy),
        "network_note": NETWORK_NOTE,
        "actions": log,
        "next_panel": _day(following_on, calendar),
        "circulation": circulation,
    }
    context["changes"] = changes_since(context, previous, PANEL_MINUTES_PARTS, calendar)
    stepped = frozenset(
        case.reference for item, _, case in items if (item.outcome or {}).get("decision") == "step_down"
    )
    picture = network_picture(
        session, case_ids, link_rows, title=f"{panel.name} {meeting.reference}", stepped_down=stepped
    )
    return context, picture


def _review_words(review: str, decision: str, calendar: WorkingCalendar) -> str:
    """When the panel next reviews the case, or plainly why it does not."""
    if review:
        return _day(date.fromisoformat(review), calendar)
    if decision == "step_down":
        return "None: stepped down from the panel"
    return "No review date set"


def _stepped_up(session: Session, items: list[AgendaItem]) -> dict[int, Meeting]:
    """The strategy discussions the items' decisions convened, by id, in one statement."""
    ids = {item.stepped_up_meeting_id for item in items if item.stepped_up_meeting_id}
    if not ids:
        return {}
    return {m.id or 0: m for m in session.exec(select(Meeting).where(col(Meeting.id).in_(ids)))}


def _leads_to(
    item: AgendaItem, outcome: dict[str, Any], convened: dict[int, Meeting], linked: list[str]
) -> str:
    """Where the decision leads, who takes it, the discussion it convened, the conference or
    police operation it linked and their state (as this copy may show them), and the
    chair's confirmation of a decision against its risk level or reason."""
    parts = []
    if outcome.get("destination_name"):
        parts.append(outcome["destination_name"])
    if outcome.get("taken_by"):
        parts.append(f"taken on by {outcome['taken_by']}")
    if item.stepped_up_meeting_id:
        discussion = convened.get(item.stepped_up_meeting_id)
        if discussion is not None:
            parts.append(f"strategy discussion {discussion.reference} convened")
    elif outcome.get("convenes"):
        parts.append("strategy discussion to be convened")
    parts += linked
    if not linked and outcome.get("links") == "police_operation" and outcome.get("decision") == "step_up":
        parts.append("police operation to be recorded by the police")
    sentence = "; ".join(parts)
    if outcome.get("chair_confirmed"):
        sentence += f". The chair confirmed this decision: {outcome['chair_confirmed']}"
    return sentence


def nrm_sentence(nrm: Any, detail: str = "") -> str:
    """The child's NRM record in one sentence ('' when there is none). Sittings recorded
    before the NRM became a record hold a position code and a note."""
    if isinstance(nrm, dict) and nrm:
        sentence = (
            f"Referred {nrm['referred_on']} by {nrm['first_responder']} (NRM reference "
            f"{nrm['reference']}). Reasonable grounds: {nrm['reasonable_grounds']}. Conclusive "
            f"grounds: {nrm['conclusive_grounds']}."
        )
        if nrm.get("strategy_discussion"):
            sentence += f" Strategy discussion {nrm['strategy_discussion']}."
        return sentence
    if isinstance(nrm, str) and nrm and nrm != "none":
        return NRM.get(nrm, nrm) + (f": {detail}" if detail else "")
    return ""


NO_DISCUSSION = "No strategy discussion recorded"


def _discussion_lines(session: Session, cases: list[Case]) -> dict[int, str]:
    """Each child's latest strategy discussion and the ICPC it set, so the panel sees both;
    two statements for the whole agenda (the children's discussions, their enquiries)."""
    ids = sorted({case.id for case in cases if case.id and case.subject_kind == "child"})
    if not ids:
        return {}
    latest: dict[int, Meeting] = {}
    for discussion in session.exec(
        select(Meeting)
        .where(col(Meeting.case_id).in_(ids), col(Meeting.meeting_type) == "strategy_discussion")
        .order_by(col(Meeting.scheduled_start).desc(), col(Meeting.id).desc())
    ):
        latest.setdefault(discussion.case_id or 0, discussion)
    enquiries: dict[int, Section47Enquiry] = {}
    for enquiry in session.exec(
        select(Section47Enquiry)
        .where(col(Section47Enquiry.case_id).in_(ids))
        .order_by(col(Section47Enquiry.started_on).desc(), col(Section47Enquiry.id).desc())
    ):
        enquiries.setdefault(enquiry.case_id, enquiry)
    return {case_id: _discussion_words(latest.get(case_id), enquiries.get(case_id)) for case_id in ids}


def _discussion_words(discussion: Meeting | None, enquiry: Section47Enquiry | None) -> str:
    """One child's discussion line, from its latest discussion and section 47 enquiry."""
    if discussion is None:
        return NO_DISCUSSION
    when = discussion.held_at or discussion.scheduled_start
    line = f"{no_break(discussion.reference)}" + (f" ({when:%d %B %Y})" if when else "")
    if enquiry is None:
        return f"{line}; no section 47 enquiry"
    if enquiry.icpc_state == IcpcState.HELD and enquiry.icpc_held_on:
        return f"{line}; ICPC held {enquiry.icpc_held_on:%d %B %Y}"
    if enquiry.icpc_state == IcpcState.NOT_REQUIRED:
        return f"{line}; ICPC not required"
    return f"{line}; ICPC due by {enquiry.icpc_due_on:%d %B %Y}"


def _risk_words(now: str, at_referral: str) -> str:
    """Which risk level it is: now (as the panel rated it) and at referral, never one bare word."""
    current = RISK_LEVELS.get(now, "")
    referred = RISK_LEVELS.get(at_referral, "")
    if current and referred:
        return (
            f"{current} (at referral and now)"
            if current == referred
            else f"{current} now (at referral: {referred})"
        )
    if current:
        return f"{current} now"
    if referred:
        return f"{referred} at referral"
    return NOT_RECORDED


def _referral_reasons(session: Session, panel_case_ids: list[int | None]) -> dict[int, str]:
    """Each panel case's referrals with their reasons, oldest first, in one statement."""
    from bot.panel.models import Referral

    ids = sorted({i for i in panel_case_ids if i})
    if not ids:
        return {}
    lines: dict[int, list[str]] = {}
    for r in session.exec(
        select(Referral)
        .where(col(Referral.panel_case_id).in_(ids))
        .order_by(col(Referral.created_at), col(Referral.id))
    ):
        lines.setdefault(r.panel_case_id or 0, []).append(f"{r.reference}: {r.reasons}")
    return {panel_case_id: "\n".join(found) for panel_case_id, found in lines.items()}
