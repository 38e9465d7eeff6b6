"""The app manifest asks for exactly the scopes the bot's Web API calls need, by
conversation type, and the local Slack grants only those: a call the manifest does not
cover fails in the tests as it would in a real workspace."""

from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path

import pytest
import yaml
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from sqlmodel import Session, select

from bot.convening.models import Meeting
from bot.database import session_scope
from bot.delivery.models import OutboxMessage
from bot.delivery.service import enqueue
from bot_offline.local_slack import LocalSlack
from bot_offline.local_slack.scopes import manifest_scopes
from tests.convening_support import POLICE_PPU, convene

ROOT = Path(__file__).resolve().parent.parent
MANIFEST = yaml.safe_load((ROOT / "bot" / "slack" / "manifest.yaml").read_text())


def _error(call) -> dict:
    with pytest.raises(SlackApiError) as raised:
        call()
    return dict(raised.value.response.data)


def test_the_local_slack_grants_only_the_manifests_scopes_and_answers_as_slack_does() -> None:
    with LocalSlack(bot_token="xoxb-scopes") as local:
        local.add_user("U0A", "a")
        private = local.add_channel("sd-2026-0001", is_private=True)
        client = WebClient(token="xoxb-scopes", base_url=local.api_url)
        refused = _error(lambda: client.users_info(user="U0A"))
        assert refused["error"] == "missing_scope" and refused["needed"] == "users:read"
        assert set(refused["provided"].split(",")) == manifest_scopes()
        assert (
            _error(lambda: client.conversations_history(channel="C0GENERAL"))["needed"] == "channels:history"
        )
        assert _error(lambda: client.conversations_list(types="public_channel"))["needed"] == "channels:read"
        assert _error(lambda: client.conversations_create(name="public-one"))["needed"] == "channels:manage"
        assert _error(lambda: client.files_info(file="F1"))["needed"] == "files:read"
        # what the bot does need is granted, per conversation type
        assert client.conversations_history(channel=private)["ok"]
        dm = client.conversations_open(users="U0A")["channel"]["id"]
        assert client.conversations_history(channel=dm)["ok"]
        assert client.conversations_list(types="private_channel")["ok"]


def test_the_manifest_asks_for_exactly_what_the_bots_calls_need(bot) -> None:
    """Convening (a private channel, invitations by DM, calendar files), then the outbox's
    recovery paths: a message whose answer was lost, in a DM and in the private channel,
    found again in the history; a channel created before, found again in the list."""
    meeting = convene(bot)
    with Session(bot.runtime.engine) as session:
        channel = session.get(Meeting, meeting.id).channel_id
    now = bot.clock.now()
    with session_scope(bot.runtime.engine) as session:
        enqueue(
            session,
            key="scope-dm",
            method="chat.postMessage",
            arguments={"channel": POLICE_PPU, "text": "x"},
            now=now,
        )
        enqueue(
            session,
            key="scope-ch",
            method="chat.postMessage",
            arguments={"channel": channel, "text": "y"},
            now=now,
        )
        enqueue(
            session,
            key="scope-create",
            method="conversations.create",
            arguments={"name": meeting.reference.lower(), "is_private": True},
            now=now,
        )
    bot.local_slack.fail_next("chat.postMessage", status=500, times=6)  # beyond the client's retries
    bot.runtime.deliver_now()  # the posts end without an answer: Slack may have them
    bot.clock.advance(timedelta(minutes=5))
    bot.settle()
    calls = bot.local_slack.calls
    refused = [
        (c.method, c.response.get("needed")) for c in calls if c.response.get("error") == "missing_scope"
    ]
    assert refused == []
    with Session(bot.runtime.engine) as session:
        states = {e.key: e.state for e in session.exec(select(OutboxMessage)) if e.key.startswith("scope-")}
    assert states == {"scope-dm": "sent", "scope-ch": "sent", "scope-create": "sent"}
    used = {scope for c in calls for scope in c.scopes}
    assert {"im:history", "groups:history", "groups:read"} <= used, used
    declared = set(MANIFEST["oauth_config"]["scopes"]["bot"])
    assert declared == used | {"commands"}, (declared - used, used - declared)
    assert ("commands" in declared) == bool(MANIFEST["features"]["slash_commands"])


def test_usage_hints_name_exactly_the_sub_commands_that_exist() -> None:
    """Each command's usage hint names every sub-command the guard has a rule for, and
    nothing else (`help` aside, which every command answers)."""
    from bot.access.rules import Kind, Rules
    from bot.schedules import load_partnership
    from bot.slack.app import capabilities

    partnership = load_partnership(ROOT / "schedules")
    rules = Rules.of(*capabilities())
    for entry in MANIFEST["features"]["slash_commands"]:
        name = entry["command"]
        grammar = rules.grammars[name]
        hint = entry["usage_hint"]
        alternatives = [part.strip() for part in hint.strip("[]").split("|")]
        if hint.startswith("["):  # the whole hint optional: the command on its own
            alternatives.append("")
        reference = "CEP-2026-0001" if name == "/panel" else "SD-2026-0001"
        named = set()
        for alternative in alternatives:
            # CASE: a child's case reference, in the partnership's own format
            text = alternative.replace("REF", reference).replace(
                "CASE", partnership.settings.case_reference.example
            )
            bare = re.sub(r"\s*\[[^\]]+\]", "", text)  # optional parts left out
            for variant in {bare, text.replace("[updates]", "updates") if "[updates]" in text else bare}:
                sub, _ = grammar(variant.strip(), partnership)
                assert sub not in {"unknown", "usage"} or alternative == "help", (name, alternative)
                named.add(sub)
        existing = {
            key[1].split(" ", 1)[1]
            for key in rules.exact
            if key[0] == Kind.COMMAND and key[1].startswith(name + " ")
        }
        assert named - {"usage", "unknown"} == existing - {"usage", "unknown"}, (name, hint)
