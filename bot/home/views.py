"""Block Kit for the Home tab; built with slack_sdk.models so limits are checked as it is built."""

from __future__ import annotations

from slack_sdk.models.blocks import (
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


def home_view(intro: str) -> dict:
    """The Home tab: marking, then what the person can do."""
    view = View(
        type="home",
        blocks=[
            HeaderBlock(text="Safeguarding panel"),
            ContextBlock(elements=[MarkdownTextObject(text="*OFFICIAL-SENSITIVE*")]),
            DividerBlock(),
            SectionBlock(text=MarkdownTextObject(text=intro)),
        ],
    )
    view.validate_json()
    return view.to_dict()
