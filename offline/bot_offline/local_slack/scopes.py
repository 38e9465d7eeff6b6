"""Which OAuth scopes Slack requires of a token for each Web API call, by conversation type.

From Slack's method reference (docs.slack.dev/reference/methods): a conversations method
needs the scope of the kind of conversation it touches (a private channel `groups:*`, a DM
`im:*`, a group DM `mpim:*`, a public channel `channels:*`); the others one fixed scope, or
none (views, auth.test, chat.getPermalink). The local Slack grants a token only the scopes
its app asks for and refuses the rest with `missing_scope`, as Slack does.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from pathlib import Path
from typing import Any

import yaml

from bot.preflight import MANIFEST

READ = {
    "public_channel": "channels:read",
    "private_channel": "groups:read",
    "im": "im:read",
    "mpim": "mpim:read",
}
HISTORY = {
    "public_channel": "channels:history",
    "private_channel": "groups:history",
    "im": "im:history",
    "mpim": "mpim:history",
}
MANAGE = {
    "public_channel": "channels:manage",
    "private_channel": "groups:write",
    "im": "im:write",
    "mpim": "mpim:write",
}
FIXED = {
    "chat.postMessage": "chat:write",
    "chat.update": "chat:write",
    "chat.postEphemeral": "chat:write",
    "chat.delete": "chat:write",
    "users.info": "users:read",
    "users.lookupByEmail": "users:read.email",
    "files.getUploadURLExternal": "files:write",
    "files.completeUploadExternal": "files:write",
    "files.delete": "files:write",
    "files.info": "files:read",
    "apps.connections.open": "connections:write",
}
BY_CONVERSATION = {
    "conversations.history": HISTORY,
    "conversations.info": READ,
    "conversations.members": READ,
    "conversations.invite": MANAGE,
    "conversations.archive": MANAGE,
}
NO_SCOPE = frozenset(
    {"auth.test", "views.open", "views.push", "views.update", "views.publish", "chat.getPermalink"}
)
CONVERSATION_TYPES = ("public_channel", "private_channel", "mpim", "im")
EVERY_SCOPE = frozenset(
    {*FIXED.values(), *READ.values(), *HISTORY.values(), *MANAGE.values(), "commands"}
)  # for testing the server itself


def needed_scopes(method: str, args: dict[str, Any], kind_of: Callable[[str], str | None]) -> list[str]:
    """The scopes a call needs, all of them (`kind_of` gives a conversation's type, or None
    for one that does not exist: the call then fails on the conversation, not the scope)."""
    if method in FIXED:
        return [FIXED[method]]
    if method in BY_CONVERSATION:
        kind = kind_of(str(args.get("channel", "")))
        return [BY_CONVERSATION[method][kind]] if kind else []
    if method == "conversations.create":
        private = str(args.get("is_private", "")).lower() in ("1", "true", "yes")
        return [MANAGE["private_channel" if private else "public_channel"]]
    if method == "conversations.open":
        if args.get("channel"):
            kind = kind_of(str(args["channel"]))
            return [MANAGE[kind]] if kind else []
        users = [u for u in str(args.get("users") or "").split(",") if u.strip()]
        return [MANAGE["mpim" if len(users) > 1 else "im"]]
    if method == "conversations.list":
        types = [t.strip() for t in str(args.get("types") or "public_channel").split(",") if t.strip()]
        return [READ[t] for t in types if t in READ]
    return []


def manifest_scopes(manifest: Path | None = None) -> frozenset[str]:
    """The bot token scopes an app manifest asks for (the bot's own, by default)."""
    path = manifest or MANIFEST
    return _scopes_in(path.read_text(encoding="utf-8"))


@functools.lru_cache(maxsize=4)
def _scopes_in(manifest: str) -> frozenset[str]:
    """Parsed once per process for each manifest text (every local Slack asks at start)."""
    data = yaml.load(manifest, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
    return frozenset(data["oauth_config"]["scopes"]["bot"])
