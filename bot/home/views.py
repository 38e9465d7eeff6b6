"""Block Kit for the Home tab; built with slack_sdk.models so limits are checked as it is built."""

from __future__ import annotations

from dataclasses import dataclass

from slack_sdk.models.blocks import (
    ActionsBlock,
    Block,
    ButtonElement,
    ContextBlock,
    DatePickerElement,
    DividerBlock,
    HeaderBlock,
    MarkdownTextObject,
    OverflowMenuElement,
    PlainTextObject,
    SectionBlock,
    StaticSelectElement,
)
from slack_sdk.models.views import View

from bot.partnership.service import Member
from bot.slack.blocks import MARKING, option
from bot.wording import escape_mrkdwn

ROLE_NAMES = {
    "convenor": "a convenor",
    "chair": "a chair",
    "minute_taker": "a minute-taker",
    "agency_rep": "an agency representative",
    "agency_lead": "an agency lead",
    "panel_admin": "a panel administrator",
    "auditor": "an auditor",
}


def role_phrase(member: Member) -> str:
    """Roles in words, e.g. 'a convenor and a chair'."""
    names = [ROLE_NAMES.get(role, role) for role in sorted(member.roles)]
    if len(names) <= 1:
        return "".join(names)
    return ", ".join(names[:-1]) + " and " + names[-1]


@dataclass(frozen=True)
class UpdateToWrite:
    """An agency update this person's agency still owes."""

    invitation_id: int
    reference: str
    due: str
    state: str  # missing | draft
    agenda_item_id: int = 0
    about: str = ""  # the child or context of a panel agenda item, by reference


@dataclass(frozen=True)
class RecordRow:
    """A discussion as a panel administrator's records list shows it."""

    meeting_id: int
    reference: str
    when: str
    state: str
    minutes: str  # e.g. "approved v2", "draft v1", "none"
    is_panel: bool = False


STATES = {"any": "Any state", "open": "Open", "held": "Held", "cancelled": "Cancelled"}
RECORDS_PER_PAGE = 20
RECORDS_PAGE_BUTTONS = ("home_records_previous", "home_records_next")


def _records_section(
    records: list[RecordRow],
    filters: dict[str, str],
    agencies: list[tuple[str, str]],
    page: tuple[int, int] = (0, 0),
) -> list[Block]:
    """The panel administrator's list of discussions, filtered, each with its downloads."""
    state_options = [option(k, v) for k, v in STATES.items()]
    agency_options = [option("any", "Any agency"), *(option(code, name) for code, name in agencies)][:100]
    chosen_state = next(
        (o for o in state_options if o.value == filters.get("state", "any")), state_options[0]
    )
    chosen_agency = next(
        (o for o in agency_options if o.value == filters.get("agency", "any")), agency_options[0]
    )
    blocks: list[Block] = [
        HeaderBlock(text="Records: discussions and their documents"),
        ActionsBlock(
            block_id="record_filters",
            elements=[
                StaticSelectElement(
                    action_id="home_filter_state", options=state_options, initial_option=chosen_state
                ),
                StaticSelectElement(
                    action_id="home_filter_agency", options=agency_options, initial_option=chosen_agency
                ),
                DatePickerElement(
                    action_id="home_filter_from",
                    initial_date=filters.get("from") or None,
                    placeholder=PlainTextObject(text="From date"),
                ),
            ],
        ),
    ]
    if not records:
        blocks.append(SectionBlock(text=MarkdownTextObject(text="No meeting matches these filters.")))
    for row in records:
        blocks.append(
            SectionBlock(
                text=MarkdownTextObject(
                    text=f"*{row.reference}* · {row.when} · {row.state} · minutes: {row.minutes}"
                ),
                accessory=OverflowMenuElement(
                    action_id="home_download",
                    options=[
                        option(f"minutes:{row.meeting_id}", "Download the minutes"),
                        option(f"panel_agenda:{row.meeting_id}", "Download the agenda")
                        if row.is_panel
                        else option(f"action_log:{row.meeting_id}", "Download the action log"),
                    ],
                ),
            )
        )
    number, total = page
    if records:
        first = number * RECORDS_PER_PAGE + 1
        shown = f"{first:,}-{first + len(records) - 1:,} of {total:,}, the newest first"
        blocks.append(ContextBlock(elements=[MarkdownTextObject(text=shown)]))
    buttons = []
    if number > 0:
        buttons.append(ButtonElement(text="Newer", action_id=RECORDS_PAGE_BUTTONS[0], value=str(number - 1)))
    if (number + 1) * RECORDS_PER_PAGE < total:
        buttons.append(ButtonElement(text="Older", action_id=RECORDS_PAGE_BUTTONS[1], value=str(number + 1)))
    if buttons:
        blocks.append(ActionsBlock(block_id="record_pages", elements=buttons))
    return blocks


@dataclass(frozen=True)
class OpenDiscussion:
    reference: str
    when: str
    role: str


def home_view(
    intro: str,
    updates: list[UpdateToWrite] | None = None,
    discussions: list[OpenDiscussion] | None = None,
    *,
    records: list[RecordRow] | None = None,
    records_page: tuple[int, int] = (0, 0),
    filters: dict[str, str] | None = None,
    agencies: list[tuple[str, str]] | None = None,
    network: list[str] | None = None,
    cases: list[Block] | None = None,
    timeliness: list[Block] | None = None,
    failed: list[Block] | None = None,
    desk: bool = False,
) -> dict:
    """The Home tab: marking, what the person can do, updates owed, open discussions."""
    blocks: list[Block] = [
        HeaderBlock(text="Safeguarding panel"),
        ContextBlock(elements=[MarkdownTextObject(text=MARKING)]),
        DividerBlock(),
        SectionBlock(text=MarkdownTextObject(text=intro)),
    ]
    if updates:
        blocks.append(HeaderBlock(text="Agency updates to write"))
        for item in updates[:30]:
            state = "draft saved, not submitted" if item.state == "draft" else "not started"
            blocks.append(
                SectionBlock(
                    text=MarkdownTextObject(
                        text=f"*{item.reference}*{f' · {item.about}' if item.about else ''} · "
                        f"due {item.due} · {state}"
                    ),
                    accessory=ButtonElement(
                        text="Submit agency update",
                        action_id="agency_update_open",
                        value=f"{item.invitation_id}:{item.agenda_item_id}",
                    ),
                )
            )
    if desk:  # issue 21: panel administrators and agency leads sign in to the desk from here
        blocks.append(
            SectionBlock(
                text=MarkdownTextObject(
                    text="*Administrators' desk*: discussions and panels, downloads, the audit export "
                    "and timeliness, in your browser. The link comes to you here, for you only."
                ),
                accessory=ButtonElement(
                    text="Send me a sign-in link", action_id="desk_sign_in", value="desk"
                ),
            )
        )
    if cases:  # issue 15: the open cases this person convenes or chairs, a page at a time
        blocks.extend(cases)
    if timeliness:  # issue 18: administrators' and agency leads' headline figures
        blocks.extend(timeliness)
    if failed:  # panel administrators: messages that failed for good, a page at a time
        blocks.extend(failed)
    if records is not None:
        blocks.extend(_records_section(records, filters or {}, agencies or [], records_page))
    if discussions:
        blocks.append(HeaderBlock(text="Your open strategy discussions"))
        lines = [f"• *{d.reference}* · {d.when} · {d.role}" for d in discussions[:40]]
        blocks.append(SectionBlock(text=MarkdownTextObject(text="\n".join(lines)[:2900])))
    if network is not None:
        # Panel members only: who and where each child or context under review is linked to.
        blocks.append(HeaderBlock(text="Panel network"))
        text = "\n".join(f"• {escape_mrkdwn(line)}" for line in network[:60]) or "No cases under review yet."
        blocks.append(SectionBlock(text=MarkdownTextObject(text=text[:2900])))
        blocks.append(ContextBlock(elements=[MarkdownTextObject(text="Shown to panel members only.")]))
    view = View(type="home", blocks=blocks)
    view.validate_json()
    return view.to_dict()
