"""Block Kit for the Home tab; built with slack_sdk.models so limits are checked as it is built."""

from __future__ import annotations

from dataclasses import dataclass

from slack_sdk.models.blocks import (
    Block,
    ButtonElement,
    ContextBlock,
    DividerBlock,
    HeaderBlock,
    MarkdownTextObject,
    SectionBlock,
)
from slack_sdk.models.views import View

from bot.partnership.service import Member

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


@dataclass(frozen=True)
class OpenDiscussion:
    reference: str
    when: str
    role: str


def home_view(
    intro: str, updates: list[UpdateToWrite] | None = None, discussions: list[OpenDiscussion] | None = None
) -> dict:
    """The Home tab: marking, what the person can do, updates owed, open discussions."""
    blocks: list[Block] = [
        HeaderBlock(text="Safeguarding panel"),
        ContextBlock(elements=[MarkdownTextObject(text="*OFFICIAL-SENSITIVE*")]),
        DividerBlock(),
        SectionBlock(text=MarkdownTextObject(text=intro)),
    ]
    if updates:
        blocks.append(HeaderBlock(text="Agency updates to write"))
        for item in updates[:30]:
            state = "draft saved, not submitted" if item.state == "draft" else "not started"
            blocks.append(
                SectionBlock(
                    text=MarkdownTextObject(text=f"*{item.reference}* · due {item.due} · {state}"),
                    accessory=ButtonElement(
                        text="Submit agency update",
                        action_id="agency_update_open",
                        value=str(item.invitation_id),
                    ),
                )
            )
    if discussions:
        blocks.append(HeaderBlock(text="Your open strategy discussions"))
        lines = [f"• *{d.reference}* · {d.when} · {d.role}" for d in discussions[:40]]
        blocks.append(SectionBlock(text=MarkdownTextObject(text="\n".join(lines)[:2900])))
    view = View(type="home", blocks=blocks)
    view.validate_json()
    return view.to_dict()
