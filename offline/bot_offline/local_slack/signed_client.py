"""A client that delivers requests to the bot's HTTP endpoint exactly as Slack does.

Slash commands, button clicks, form submissions and events arrive signed with the app's
signing secret. Tests and the offline demo use :class:`SignedSlackClient` to drive the
real Bolt app over real HTTP, including signature checking, instead of calling listener
functions directly. It can also send requests badly (wrong secret, stale timestamp, no
signature) to prove the bot refuses them.
"""

from __future__ import annotations

import hashlib
import hmac
import itertools
import json
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from typing import Any, TypedDict, Unpack
from urllib.parse import urlencode

from bot_offline.local_slack.server import LocalSlack

__all__ = [
    "SendOptions",
    "SignedResponse",
    "SignedSlackClient",
    "StateValue",
    "sign",
    "view_state",
]

JsonDict = dict[str, Any]
API_APP_ID = "A0LOCAL"
VERIFICATION_TOKEN = "local-verification-token"


@dataclass(frozen=True)
class SignedResponse:
    """What the bot's endpoint answered."""

    status: int
    headers: dict[str, str] = field(default_factory=dict)
    body: str = ""

    def json(self) -> Any:
        """The body parsed as JSON (Bolt answers JSON for view errors and challenges)."""
        return json.loads(self.body)


class SendOptions(TypedDict, total=False):
    """Ways to send a request badly, to test that the bot refuses it."""

    signing_secret_override: str
    timestamp_override: int | str
    unsigned: bool
    extra_headers: dict[str, str]


def sign(signing_secret: str, timestamp: str, body: str) -> str:
    """Slack's v0 request signature for ``body`` sent at ``timestamp``."""
    base = f"v0:{timestamp}:{body}".encode()
    digest = hmac.new(signing_secret.encode(), base, hashlib.sha256).hexdigest()
    return f"v0={digest}"


class StateValue:
    """Builders for ``view.state.values`` entries, in Slack's own shapes."""

    @staticmethod
    def text(value: str | None, element_type: str = "plain_text_input") -> JsonDict:
        """plain_text_input (or email/url/number input via ``element_type``)."""
        return {"type": element_type, "value": value}

    @staticmethod
    def option(value: str, text: str | None = None) -> JsonDict:
        """An option object as Slack echoes it back in a selection."""
        return {
            "text": {"type": "plain_text", "text": text if text is not None else value},
            "value": value,
        }

    @staticmethod
    def static_select(value: str | None, text: str | None = None) -> JsonDict:
        """static_select with one selected option, or none."""
        selected = StateValue.option(value, text) if value is not None else None
        return {"type": "static_select", "selected_option": selected}

    @staticmethod
    def multi_static_select(values: list[str]) -> JsonDict:
        """multi_static_select with the given values chosen."""
        return {
            "type": "multi_static_select",
            "selected_options": [StateValue.option(v) for v in values],
        }

    @staticmethod
    def radio_buttons(value: str | None, text: str | None = None) -> JsonDict:
        """radio_buttons with one selected option, or none."""
        selected = StateValue.option(value, text) if value is not None else None
        return {"type": "radio_buttons", "selected_option": selected}

    @staticmethod
    def checkboxes(values: list[str]) -> JsonDict:
        """checkboxes with the given values ticked."""
        return {"type": "checkboxes", "selected_options": [StateValue.option(v) for v in values]}

    @staticmethod
    def datepicker(date: str | None) -> JsonDict:
        """datepicker; ``date`` as YYYY-MM-DD."""
        return {"type": "datepicker", "selected_date": date}

    @staticmethod
    def timepicker(time_of_day: str | None) -> JsonDict:
        """timepicker; ``time_of_day`` as HH:mm."""
        return {"type": "timepicker", "selected_time": time_of_day}

    @staticmethod
    def datetimepicker(epoch_seconds: int | None) -> JsonDict:
        """datetimepicker; Slack sends a Unix timestamp in seconds."""
        return {"type": "datetimepicker", "selected_date_time": epoch_seconds}

    @staticmethod
    def users_select(user_id: str | None) -> JsonDict:
        """users_select with one user chosen."""
        return {"type": "users_select", "selected_user": user_id}

    @staticmethod
    def multi_users_select(user_ids: list[str]) -> JsonDict:
        """multi_users_select with the given users chosen."""
        return {"type": "multi_users_select", "selected_users": list(user_ids)}

    @staticmethod
    def conversations_select(conversation_id: str | None) -> JsonDict:
        """conversations_select with one conversation chosen."""
        return {"type": "conversations_select", "selected_conversation": conversation_id}


def view_state(values: dict[str, dict[str, JsonDict]]) -> JsonDict:
    """A ``view.state`` from ``{block_id: {action_id: StateValue.x(...)}}``.

    Raises ``ValueError`` on a malformed entry, so a test's typo fails loudly rather
    than reaching the bot as an odd payload.
    """
    for block_id, actions in values.items():
        if not isinstance(actions, dict):
            raise ValueError(f"state for block {block_id!r} must map action_id to a value")
        for action_id, value in actions.items():
            if not isinstance(value, dict) or "type" not in value:
                raise ValueError(f"state value {block_id}.{action_id} needs a 'type'")
    return {"values": json.loads(json.dumps(values))}


class SignedSlackClient:
    """Posts Slack-shaped, Slack-signed requests to the bot's events URL."""

    def __init__(
        self,
        events_url: str,
        signing_secret: str,
        local_slack: LocalSlack,
        team_id: str = "T0LOCAL",
        *,
        timeout: float = 10.0,
    ) -> None:
        self.events_url = events_url
        self.signing_secret = signing_secret
        self.local_slack = local_slack
        self.team_id = team_id
        self.team_domain = local_slack.team_domain
        self.timeout = timeout
        self._seq = itertools.count(1)

    # -- helpers -----------------------------------------------------------

    def _user_name(self, user_id: str) -> str:
        """The user's handle as the local directory knows it, for payloads."""
        user = self.local_slack.user(user_id)
        return str(user["name"]) if user else user_id.lower()

    def _channel_name(self, channel_id: str) -> str:
        channel = self.local_slack.channel(channel_id)
        if channel is None:
            return "privategroup" if channel_id.startswith("G") else "unknown"
        if channel.get("is_im"):
            return "directmessage"
        return str(channel.get("name", ""))

    def _user_block(self, user_id: str) -> JsonDict:
        name = self._user_name(user_id)
        return {"id": user_id, "username": name, "name": name, "team_id": self.team_id}

    def _team_block(self) -> JsonDict:
        return {"id": self.team_id, "domain": self.team_domain}

    def _action_ts(self) -> str:
        return f"{time.time():.6f}"

    def full_view(self, view: JsonDict, state: JsonDict | None = None) -> JsonDict:
        """A view as Slack sends it back in payloads: ids, hash and state filled in.

        A view taken from the local server (``local_slack.view(view_id)``) already has
        them; a bare view dict gets made-up ones.
        """
        full: JsonDict = {
            "id": f"V{next(self._seq):08X}",
            "team_id": self.team_id,
            "app_id": API_APP_ID,
            "app_installed_team_id": self.team_id,
            "bot_id": self.local_slack.bot_id,
            "type": "modal",
            "callback_id": "",
            "private_metadata": "",
            "external_id": "",
            "root_view_id": None,
            "previous_view_id": None,
            "hash": f"{int(time.time())}.local",
            "clear_on_close": False,
            "notify_on_close": False,
            "blocks": [],
            "state": {"values": {}},
            **json.loads(json.dumps(view)),
        }
        if full["root_view_id"] is None:
            full["root_view_id"] = full["id"]
        if state is not None:
            full["state"] = state
        return full

    # -- transport -----------------------------------------------------------

    def post_raw(self, body: str, content_type: str, **options: Unpack[SendOptions]) -> SignedResponse:
        """Sign and post a prepared body; the other methods build bodies for this."""
        timestamp = str(options.get("timestamp_override", int(time.time())))
        secret = options.get("signing_secret_override", self.signing_secret)
        headers = {"Content-Type": content_type, **options.get("extra_headers", {})}
        if not options.get("unsigned"):
            headers["X-Slack-Request-Timestamp"] = timestamp
            headers["X-Slack-Signature"] = sign(secret, timestamp, body)
        request = urllib.request.Request(
            self.events_url, data=body.encode("utf-8"), headers=headers, method="POST"
        )
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:
                return SignedResponse(
                    status=response.status,
                    headers=dict(response.headers.items()),
                    body=response.read().decode("utf-8"),
                )
        except urllib.error.HTTPError as error:
            return SignedResponse(
                status=error.code,
                headers=dict(error.headers.items()) if error.headers else {},
                body=error.read().decode("utf-8"),
            )

    def _post_form(self, fields: JsonDict, options: SendOptions) -> SignedResponse:
        return self.post_raw(urlencode(fields), "application/x-www-form-urlencoded", **options)

    def _post_payload(self, payload: JsonDict, options: SendOptions) -> SignedResponse:
        return self._post_form({"payload": json.dumps(payload)}, options)

    # -- what Slack sends ------------------------------------------------------

    def command(
        self,
        command: str,
        text: str = "",
        user_id: str = "U0USER",
        channel_id: str = "C0GENERAL",
        user_name: str | None = None,
        **options: Unpack[SendOptions],
    ) -> SignedResponse:
        """A slash command, with a fresh response_url and trigger_id from the server."""
        fields = {
            "token": VERIFICATION_TOKEN,
            "team_id": self.team_id,
            "team_domain": self.team_domain,
            "channel_id": channel_id,
            "channel_name": self._channel_name(channel_id),
            "user_id": user_id,
            "user_name": user_name or self._user_name(user_id),
            "command": command,
            "text": text,
            "api_app_id": API_APP_ID,
            "is_enterprise_install": "false",
            "response_url": self.local_slack.new_response_url(channel_id, user_id),
            "trigger_id": self.local_slack.new_trigger_id(),
        }
        return self._post_form(fields, options)

    def block_actions(
        self,
        user_id: str,
        actions: list[JsonDict],
        *,
        view: JsonDict | None = None,
        message: JsonDict | None = None,
        channel_id: str | None = None,
        container: JsonDict | None = None,
        **options: Unpack[SendOptions],
    ) -> SignedResponse:
        """A button click or menu choice, in a message or in a view."""
        payload: JsonDict = {
            "type": "block_actions",
            "user": self._user_block(user_id),
            "api_app_id": API_APP_ID,
            "token": VERIFICATION_TOKEN,
            "trigger_id": self.local_slack.new_trigger_id(),
            "team": self._team_block(),
            "enterprise": None,
            "is_enterprise_install": False,
            "actions": [{"action_ts": self._action_ts(), **a} for a in actions],
        }
        if view is not None:
            full = self.full_view(view)
            payload["view"] = full
            payload["container"] = container or {"type": "view", "view_id": full["id"]}
            payload["state"] = full["state"]
        if message is not None:
            cid = channel_id or message.get("channel") or "C0GENERAL"
            payload["message"] = message
            payload["channel"] = {"id": cid, "name": self._channel_name(cid)}
            payload["response_url"] = self.local_slack.new_response_url(cid, user_id)
            payload["container"] = container or {
                "type": "message",
                "message_ts": message.get("ts"),
                "channel_id": cid,
                "is_ephemeral": False,
            }
            payload.setdefault("state", {"values": {}})
        elif channel_id is not None:
            payload["channel"] = {"id": channel_id, "name": self._channel_name(channel_id)}
        if "container" not in payload:
            payload["container"] = container or {}
        return self._post_payload(payload, options)

    def view_submission(
        self,
        user_id: str,
        view: JsonDict,
        *,
        values: dict[str, dict[str, JsonDict]] | None = None,
        **options: Unpack[SendOptions],
    ) -> SignedResponse:
        """A modal's submit button; ``values`` (optional) fills ``view.state.values``."""
        state = view_state(values) if values is not None else None
        payload: JsonDict = {
            "type": "view_submission",
            "team": self._team_block(),
            "user": self._user_block(user_id),
            "api_app_id": API_APP_ID,
            "token": VERIFICATION_TOKEN,
            "trigger_id": self.local_slack.new_trigger_id(),
            "view": self.full_view(view, state),
            "response_urls": [],
            "enterprise": None,
            "is_enterprise_install": False,
        }
        return self._post_payload(payload, options)

    def event(
        self,
        event: JsonDict,
        *,
        retry_num: int | None = None,
        retry_reason: str | None = None,
        event_id: str | None = None,
        **options: Unpack[SendOptions],
    ) -> SignedResponse:
        """An Events API delivery; pass the same ``event_id`` with ``retry_num`` to retry."""
        now = int(time.time())
        envelope = {
            "token": VERIFICATION_TOKEN,
            "team_id": self.team_id,
            "api_app_id": API_APP_ID,
            "event": {"event_ts": f"{now}.000000", **event},
            "type": "event_callback",
            "event_id": event_id or f"Ev{next(self._seq):010X}",
            "event_time": now,
            "authorizations": [
                {
                    "enterprise_id": None,
                    "team_id": self.team_id,
                    "user_id": self.local_slack.bot_user_id,
                    "is_bot": True,
                    "is_enterprise_install": False,
                }
            ],
            "is_ext_shared_channel": False,
        }
        extra = dict(options.get("extra_headers", {}))
        if retry_num is not None:
            extra["X-Slack-Retry-Num"] = str(retry_num)
            extra["X-Slack-Retry-Reason"] = retry_reason or "http_timeout"
        options["extra_headers"] = extra
        return self.post_raw(json.dumps(envelope), "application/json", **options)

    def url_verification(self, challenge: str, **options: Unpack[SendOptions]) -> SignedResponse:
        """The handshake Slack sends when the Request URL is set."""
        body = {"token": VERIFICATION_TOKEN, "challenge": challenge, "type": "url_verification"}
        return self.post_raw(json.dumps(body), "application/json", **options)
