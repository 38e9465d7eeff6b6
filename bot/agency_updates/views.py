"""Block Kit for agency updates: the form, and the chair's paged reader with the risk grid.

The form and the reader are modals, private to the person who opens them; nothing an
agency writes is ever posted into a channel.
"""

from __future__ import annotations

from typing import Any

from slack_sdk.models.blocks import (
    ActionsBlock,
    Block,
    ButtonElement,
    CheckboxesElement,
    ContextBlock,
    DividerBlock,
    HeaderBlock,
    InputBlock,
    MarkdownTextObject,
    PlainTextInputElement,
    PlainTextObject,
    SectionBlock,
    StaticSelectElement,
)

from bot.agency_updates.service import RATINGS, TEXT_FIELDS, AgencyUpdateSummary, rating_of
from bot.cases.links import HOW_TO
from bot.schedules import Partnership
from bot.slack.blocks import MARKING, modal, option
from bot.wording import escape_mrkdwn

UPDATE_CALLBACK = "agency_update"
READER_CALLBACK = "agency_updates_reader"
MULTILINE = {f for f in TEXT_FIELDS if f != "role"}
SECTIONS: list[tuple[str, list[str]]] = [
    ("Your agency's involvement", ["role", "involvement_current", "involvement_past"]),
    (
        "New information since last contact",
        ["new_missing", "new_police_intelligence", "new_school_attendance", "new_other"],
    ),
]
AFTER_RISK: list[tuple[str, list[str]]] = [
    ("Actions and views", ["actions_progress", "child_family_views"]),
]
# Agencies see the readers' page size; each agency takes about a dozen blocks.
AGENCIES_PER_PAGE = 4


def _text_input(field: str, form: dict[str, Any]) -> InputBlock:
    limit = 200 if field == "role" else 3000
    return InputBlock(
        block_id=field,
        label=PlainTextObject(text=TEXT_FIELDS[field]),
        element=PlainTextInputElement(
            action_id="value",
            multiline=field in MULTILINE,
            initial_value=(form.get(field) or None),
            max_length=limit,
        ),
        optional=True,
    )


def update_form(
    *,
    partnership: Partnership,
    invitation_id: int,
    reference: str,
    agency_name: str,
    deadline_text: str,
    form: dict[str, Any],
    note: str = "",
    agenda_item_id: int = 0,
    item_reference: str = "",
) -> dict[str, Any]:
    """The agency update form, pre-filled with the latest version. For an item on a panel's
    agenda it names the child or context and also asks for links to peers and places."""
    about = f" · about {escape_mrkdwn(item_reference)}" if item_reference else ""
    readers = (
        "It goes into the panel's minutes, for the panel's members."
        if agenda_item_id
        else "Only the convenor, chair and minute-taker read it."
    )
    policy = partnership.agency_updates
    blocks: list[Block] = [
        ContextBlock(
            elements=[
                MarkdownTextObject(
                    text=f"{MARKING} · {escape_mrkdwn(reference)}{about} · {escape_mrkdwn(agency_name)} · "
                    f"due {deadline_text}. {readers}"
                )
            ]
        )
    ]
    if note:
        blocks.append(ContextBlock(elements=[MarkdownTextObject(text=note)]))
    for title, fields in SECTIONS:
        blocks.append(HeaderBlock(text=title))
        blocks.extend(_text_input(field, form) for field in fields)
    blocks.append(HeaderBlock(text="Risk indicators"))
    blocks.append(
        ContextBlock(
            elements=[
                MarkdownTextObject(
                    text="Rate what your agency knows. "
                    "An indicator you leave unrated is recorded as *not known*."
                )
            ]
        )
    )
    ratings = form.get("risk_ratings") or {}
    rating_options = [option(code, label) for code, label in RATINGS.items()]
    for indicator in policy.risk_indicators:
        chosen = ratings.get(indicator.code)
        blocks.append(
            InputBlock(
                block_id=f"risk:{indicator.code}",
                label=PlainTextObject(text=indicator.name),
                element=StaticSelectElement(
                    action_id="value",
                    options=rating_options,
                    initial_option=option(chosen, RATINGS[chosen]) if chosen in RATINGS else None,
                    placeholder=PlainTextObject(text="Rate"),
                ),
                optional=True,
            )
        )
    blocks.append(_text_input("protective_factors", form))
    if agenda_item_id:
        links = _text_input("links", form)
        links.hint = PlainTextObject(text=f"Optional: {HOW_TO}.")
        blocks.append(links)
    for title, fields in AFTER_RISK:
        blocks.append(HeaderBlock(text=title))
        blocks.extend(_text_input(field, form) for field in fields)
    blocks.append(HeaderBlock(text="Sharing"))
    bases = [option(b.code, b.name) for b in policy.lawful_bases]
    chosen_basis = next((o for o in bases if o.value == form.get("lawful_basis")), None)
    blocks.append(
        InputBlock(
            block_id="lawful_basis",
            label=PlainTextObject(text="Lawful basis for sharing"),
            element=StaticSelectElement(action_id="value", options=bases, initial_option=chosen_basis),
            optional=True,
            hint=PlainTextObject(text="Consent is not needed to share where a child is at risk of harm."),
        )
    )
    restriction_options = [option(r.code, r.name) for r in policy.sharing_restrictions]
    chosen_restrictions = [o for o in restriction_options if o.value in (form.get("restrictions") or [])]
    blocks.append(
        InputBlock(
            block_id="restrictions",
            label=PlainTextObject(text="Restrictions on onward sharing"),
            element=CheckboxesElement(
                action_id="value", options=restriction_options, initial_options=chosen_restrictions or None
            ),
            optional=True,
        )
    )
    blocks.append(_text_input("restriction_detail", form))
    blocks.append(
        ActionsBlock(
            block_id="draft",
            elements=[
                ButtonElement(
                    text="Save draft",
                    action_id="agency_update_save_draft",
                    value=f"{invitation_id}:{agenda_item_id}",
                )
            ],
        )
    )
    return modal(
        callback_id=UPDATE_CALLBACK,
        title="Agency update",
        submit="Submit update",
        close="Close",
        metadata={"invitation_id": invitation_id, "agenda_item_id": agenda_item_id},
        blocks=blocks,
    )


def read_form(state: dict[str, Any]) -> dict[str, Any]:
    """The form's values as the service expects them."""
    form: dict[str, Any] = {"risk_ratings": {}}
    for block_id, actions in state.get("values", {}).items():
        element = next(iter(actions.values()))
        if block_id.startswith("risk:"):
            form["risk_ratings"][block_id.removeprefix("risk:")] = (element.get("selected_option") or {}).get(
                "value"
            )
        elif block_id == "lawful_basis":
            form["lawful_basis"] = (element.get("selected_option") or {}).get("value")
        elif block_id == "restrictions":
            form["restrictions"] = [o["value"] for o in element.get("selected_options") or []]
        else:
            form[block_id] = element.get("value") or ""
    return form


def submitted_view(reference: str, agency_name: str, version: int, late: bool) -> dict[str, Any]:
    """What the form turns into once submitted."""
    late_text = " It was after the deadline, so it is marked late." if late else ""
    return modal(
        title="Agency update",
        close="Done",
        blocks=[
            SectionBlock(
                text=MarkdownTextObject(
                    text=f"{MARKING}\nThank you. {escape_mrkdwn(agency_name)}'s update for "
                    f"{escape_mrkdwn(reference)} is submitted (version {version}).{late_text}\n"
                    "You can amend it from the invitation until the discussion starts."
                )
            )
        ],
    )


STATE_WORDS = {
    "submitted": ":white_check_mark: submitted",
    "draft": ":pencil2: draft only",
    "missing": ":x: missing",
}


def _state_line(summary: AgencyUpdateSummary, when: str) -> str:
    words = STATE_WORDS[summary.state]
    if summary.state == "submitted":
        words += f" {when}" + (" (amended)" if summary.amended else "")
    if summary.late:
        words += " · *late*"
    return f"*{escape_mrkdwn(summary.agency_name)}*: {words}"


def overview_message(
    reference: str, summaries: list[AgencyUpdateSummary], deadline_text: str, meeting_id: int, when: Any
) -> dict[str, Any]:
    """`/strategy REF updates`: who has submitted, who is late, who is missing."""
    lines = [_state_line(s, when(s.submitted_at)) for s in summaries]
    submitted = sum(1 for s in summaries if s.state == "submitted")
    blocks: list[Block] = [
        SectionBlock(
            text=MarkdownTextObject(
                text=f"{MARKING}\n*Agency updates for {escape_mrkdwn(reference)}* ({submitted} of "
                f"{len(summaries)} submitted; due {deadline_text})\n" + "\n".join(lines)
            )
        ),
        ActionsBlock(
            block_id="updates",
            elements=[
                ButtonElement(
                    text="Read all updates",
                    action_id="agency_updates_read",
                    value=f"{meeting_id}:1",
                    style="primary",
                )
            ],
        ),
    ]
    return {
        "text": f"Agency updates for {reference}: {submitted} of {len(summaries)} submitted",
        "blocks": [b.to_dict() for b in blocks],
    }


def risk_grid(summaries: list[AgencyUpdateSummary], partnership: Partnership) -> list[str]:
    """Indicator by agency: current ratings in bold with a red mark, historic plain, and
    *not known* (rated so, or left unrated) in italics; not present is left out."""
    lines = []
    submitted = [s for s in summaries if s.state == "submitted"]
    for indicator in partnership.agency_updates.risk_indicators:
        cells = []
        for summary in submitted:
            rating = rating_of(summary.risk_ratings, indicator.code)
            short = escape_mrkdwn(summary.agency_name.split(" - ")[-1][:45])
            if rating == "current":
                cells.append(f":red_circle: *{short}: current*")
            elif rating == "historic":
                cells.append(f"{short}: historic")
            elif rating == "not_known":
                cells.append(f"_{short}: not known_")
        if cells:
            lines.append(f"*{escape_mrkdwn(indicator.name)}*: " + " · ".join(cells))
    return lines or ["No agency has rated any indicator as present or not known."]


def _chunks(lines: list[str], limit: int = 2900) -> list[str]:
    chunks, current = [], ""
    for line in lines:
        if len(current) + len(line) + 1 > limit and current:
            chunks.append(current)
            current = ""
        current += line[:limit] + "\n"
    if current:
        chunks.append(current)
    return chunks


def reader_view(
    *,
    reference: str,
    meeting_id: int,
    summaries: list[AgencyUpdateSummary],
    partnership: Partnership,
    page: int,
    when: Any,
) -> dict[str, Any]:
    """The chair's reader: page 1 opens with the risk grid, then a few agencies a page."""
    submitted = [s for s in summaries if s.state == "submitted"]
    pages = max(1, -(-len(submitted) // AGENCIES_PER_PAGE))
    page = min(max(page, 1), pages)
    blocks: list[Block] = [
        ContextBlock(
            elements=[
                MarkdownTextObject(text=f"{MARKING} · {escape_mrkdwn(reference)} · page {page} of {pages}")
            ]
        )
    ]
    if page == 1:
        blocks.append(HeaderBlock(text="Combined risk grid"))
        blocks.extend(
            SectionBlock(text=MarkdownTextObject(text=chunk))
            for chunk in _chunks(risk_grid(summaries, partnership))
        )
        missing = [s.agency_name for s in summaries if s.state != "submitted"]
        if missing:
            blocks.append(
                ContextBlock(
                    elements=[
                        MarkdownTextObject(text="No update yet: " + escape_mrkdwn(", ".join(missing))[:2900])
                    ]
                )
            )
    policy = partnership.agency_updates
    for summary in submitted[(page - 1) * AGENCIES_PER_PAGE : page * AGENCIES_PER_PAGE]:
        blocks.append(DividerBlock())
        blocks.append(HeaderBlock(text=summary.agency_name[:150]))
        flags = []
        if summary.not_for_family:
            flags.append(":no_entry_sign: *NOT FOR THE FAMILY*")
        if summary.late:
            flags.append("*late*")
        basis = next(
            (b.name for b in policy.lawful_bases if b.code == summary.lawful_basis), summary.lawful_basis
        )
        restrictions = [r.name for r in policy.sharing_restrictions if r.code in summary.restrictions]
        meta = (
            f"Version {summary.version}, {when(summary.submitted_at)} · lawful basis: {escape_mrkdwn(basis)}"
        )
        if restrictions:
            meta += " · restrictions: " + escape_mrkdwn("; ".join(restrictions))
        blocks.append(ContextBlock(elements=[MarkdownTextObject(text=" · ".join([*flags, meta])[:2900])]))
        lines = []
        for field, label in TEXT_FIELDS.items():
            value = summary.content.get(field)
            if value:
                author = summary.authors.get(field)
                by = f" _({escape_mrkdwn(author)})_" if author else ""
                lines.append(f"*{label}*{by}: {escape_mrkdwn(value)}")
        blocks.extend(SectionBlock(text=MarkdownTextObject(text=chunk)) for chunk in _chunks(lines)[:6])
    navigation = []
    if page > 1:
        navigation.append(
            ButtonElement(text="Previous", action_id="agency_updates_page", value=f"{meeting_id}:{page - 1}")
        )
    if page < pages:
        navigation.append(
            ButtonElement(text="Next page", action_id="agency_updates_page", value=f"{meeting_id}:{page + 1}")
        )
    if navigation:
        blocks.append(ActionsBlock(block_id="pages", elements=navigation))
    return modal(
        callback_id=READER_CALLBACK,
        title="Agency updates",
        close="Close",
        blocks=blocks[:100],
    )
