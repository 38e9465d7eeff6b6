"""A local Slack-compatible Web API server for tests and the offline demo.

The bot talks to Slack only through ``slack_sdk``'s ``WebClient``, whose base URL is
configurable. Pointing it at :class:`LocalSlack` lets the real Bolt app run end to end
with no network, while the server refuses what real Slack would refuse (missing
arguments, Block Kit over its limits) and can misbehave on purpose (rate limits, server
errors, stalls) so retry and idempotency paths get exercised.
"""

from __future__ import annotations

import base64
import binascii
import itertools
import json
import re
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs, urlsplit

from slack_sdk.errors import SlackObjectFormationError
from slack_sdk.models.basic_objects import JsonObject
from slack_sdk.models.blocks import Block, BlockElement, TextObject
from slack_sdk.models.views import View

from bot_offline.local_slack.scopes import manifest_scopes, needed_scopes

if TYPE_CHECKING:
    from bot_offline.local_slack.socket_mode import SocketModeEndpoint

__all__ = [
    "LocalSlack",
    "RecordedCall",
    "UploadedFile",
    "validate_message_blocks",
    "validate_message_metadata",
    "validate_view",
]

JsonDict = dict[str, Any]

MESSAGE_BLOCKS_MAX = 50
VIEW_BLOCKS_MAX = 100
MESSAGE_TEXT_MAX = 40_000
CHANNEL_NAME_MAX = 80
INVITE_USERS_MAX = 1000
TRIGGER_TTL_SECONDS = 3.0
RESPONSE_URL_MAX_USES = 5
RESPONSE_URL_TTL_SECONDS = 30 * 60
METADATA_EVENT_TYPE_MAX = 255
HISTORY_LIMIT_DEFAULT = 100
HISTORY_LIMIT_MAX = 999
LIST_LIMIT_DEFAULT = 100
LIST_LIMIT_MAX = 1000
CONVERSATION_TYPES = ("public_channel", "private_channel", "mpim", "im")
_CHANNEL_NAME_RE = re.compile(r"^[a-z0-9_\-]+$")

# Fields Slack requires to be plain_text, per (block or element type, field). slack_sdk
# quietly accepts mrkdwn in these places; Slack refuses the message.
_PLAIN_TEXT_ONLY: dict[str, tuple[str, ...]] = {
    "header": ("text",),
    "input": ("label", "hint"),
    "button": ("text",),
}
_PLAIN_TEXT_ANYWHERE = ("placeholder",)


# ---------------------------------------------------------------------------
# Block Kit validation
# ---------------------------------------------------------------------------


def _run_validators(obj: JsonObject, skip: Iterable[str] = ()) -> list[str]:
    """Every failing slack_sdk validator of one object.

    ``validate_json()`` stops at the first failure; running each ``@JsonValidator``
    method separately reports all of them at once.
    """
    problems: list[str] = []
    for name in sorted(dir(type(obj))):
        if name.startswith("__") or name in skip:
            continue
        check = getattr(obj, name, None)
        if not (callable(check) and getattr(check, "validator", False)):
            continue
        try:
            check()
        except SlackObjectFormationError as exc:
            problems.append(str(exc))
        except (TypeError, AttributeError, KeyError, ValueError) as exc:
            problems.append(f"malformed ({exc!r})")
    return problems


def _deep_check(raw: Any, obj: Any, path: str, errors: list[str]) -> None:
    """Walk a raw JSON object and the slack_sdk object parsed from it side by side.

    slack_sdk's ``validate_json()`` only checks the object it is called on, and its
    parsers drop unknown element types (returning ``None``) and unknown keys (logging at
    debug level). Slack refuses all of these, so the walk runs every nested validator
    and reports what the parsers silently discarded.
    """
    if not isinstance(obj, JsonObject):
        return
    errors.extend(f"{path}: {problem}" for problem in _run_validators(obj))
    if not isinstance(raw, dict):
        return
    strict = isinstance(obj, Block | BlockElement | TextObject)
    if strict:
        unknown = sorted(set(raw) - set(obj.attributes) - {"type"})
        errors.extend(f"{path}: invalid additional property '{key}'" for key in unknown)
        raw_type = raw.get("type")
        parsed_type = getattr(obj, "type", None)
        if raw_type is not None and parsed_type is not None and raw_type != parsed_type:
            errors.append(f"{path}: unsupported type '{raw_type}'")
    if isinstance(obj, TextObject) and not obj.text:
        errors.append(f"{path}: text must be more than 0 characters")
    owner_type = raw.get("type", "")
    for key, raw_value in raw.items():
        if strict and key not in obj.attributes and key != "type":
            continue
        child_path = f"{path}.{key}"
        parsed_value = getattr(obj, key, None)
        if isinstance(parsed_value, TextObject):
            if not isinstance(raw_value, dict):
                kind = type(raw_value).__name__
                errors.append(f"{child_path}: must be a text object, not {kind}")
                continue
            needs_plain = key in _PLAIN_TEXT_ONLY.get(owner_type, ()) or key in _PLAIN_TEXT_ANYWHERE
            if needs_plain and raw_value.get("type") != "plain_text":
                errors.append(f"{child_path}: must be a plain_text text object")
        if isinstance(raw_value, dict):
            if parsed_value is None and strict and "type" in raw_value:
                errors.append(f"{child_path}: unsupported type '{raw_value.get('type')}'")
            _deep_check(raw_value, parsed_value, child_path, errors)
        elif isinstance(raw_value, list) and isinstance(parsed_value, list | tuple):
            if len(raw_value) != len(parsed_value):
                continue
            pairs = zip(raw_value, parsed_value, strict=True)
            for index, (raw_item, parsed_item) in enumerate(pairs):
                item_path = f"{child_path}[{index}]"
                if isinstance(raw_item, dict) and parsed_item is None and strict:
                    errors.append(f"{item_path}: unsupported type '{raw_item.get('type')}'")
                else:
                    _deep_check(raw_item, parsed_item, item_path, errors)


def _action_ids(raw_block: JsonDict) -> list[str]:
    """Action ids of the interactive elements directly inside one block."""
    found: list[str] = []
    candidates: list[Any] = []
    for key in ("elements", "element", "accessory"):
        value = raw_block.get(key)
        if isinstance(value, list):
            candidates.extend(value)
        elif isinstance(value, dict):
            candidates.append(value)
    for element in candidates:
        if isinstance(element, dict) and isinstance(element.get("action_id"), str):
            found.append(element["action_id"])
    return found


def _validate_block_list(blocks: Any, limit: int, where: str) -> list[str]:
    """Check a list of blocks the way Slack does for one surface."""
    if not isinstance(blocks, list):
        return [f"{where} must be an array of blocks"]
    errors: list[str] = []
    if len(blocks) > limit:
        errors.append(f"{where}: no more than {limit} items allowed (got {len(blocks)})")
    seen_block_ids: set[str] = set()
    for index, raw in enumerate(blocks):
        path = f"{where}[{index}]"
        if not isinstance(raw, dict):
            errors.append(f"{path}: must be an object")
            continue
        if "type" not in raw:
            errors.append(f"{path}: missing required field: type")
            continue
        try:
            parsed = Block.parse(dict(raw))
        except (TypeError, KeyError, AttributeError, ValueError) as exc:
            errors.append(f"{path}: invalid {raw.get('type')} block ({exc})")
            continue
        except SlackObjectFormationError as exc:
            errors.append(f"{path}: {exc}")
            continue
        if parsed is None:
            errors.append(f"{path}: unsupported block type '{raw.get('type')}'")
            continue
        _deep_check(raw, parsed, path, errors)
        block_id = raw.get("block_id")
        if isinstance(block_id, str):
            if block_id in seen_block_ids:
                errors.append(f"{path}: duplicate block_id '{block_id}'")
            seen_block_ids.add(block_id)
        action_ids = _action_ids(raw)
        for action_id in sorted({a for a in action_ids if action_ids.count(a) > 1}):
            errors.append(f"{path}: duplicate action_id '{action_id}' within the block")
    return errors


def validate_message_blocks(blocks: Any) -> list[str]:
    """Problems Slack would report for ``blocks`` in a message; empty when acceptable."""
    return _validate_block_list(blocks, MESSAGE_BLOCKS_MAX, "blocks")


def validate_view(view: Any) -> list[str]:
    """Problems Slack would report for a modal or Home tab view; empty when acceptable.

    Input blocks are allowed in both modals and Home tabs (Slack opened them to the Home
    tab; they need ``dispatch_action`` there to be useful), but a modal that holds an
    input block must have a submit button.
    """
    if not isinstance(view, dict):
        return ["view must be an object"]
    errors: list[str] = []
    view_type = view.get("type")
    if view_type not in ("modal", "home"):
        return [f"view.type must be 'modal' or 'home' (got {view_type!r})"]
    required = ("title", "blocks") if view_type == "modal" else ("blocks",)
    errors.extend(f"view: missing required field: {key}" for key in required if key not in view)
    unknown = sorted(set(view) - set(View.attributes))
    errors.extend(f"view: invalid additional property '{key}'" for key in unknown)
    for key in ("title", "submit", "close"):
        if key not in view:
            continue
        value = view[key]
        if not isinstance(value, dict):
            errors.append(f"view.{key}: must be a text object, not {type(value).__name__}")
        elif value.get("type") != "plain_text":
            errors.append(f"view.{key}: must be a plain_text text object")
        elif not value.get("text"):
            errors.append(f"view.{key}: text must be more than 0 characters")
    if view_type == "home" and ("submit" in view or "close" in view):
        errors.append("view: a home view cannot have submit or close")
    for key in ("private_metadata", "callback_id", "external_id"):
        if key in view and not isinstance(view[key], str):
            errors.append(f"view.{key}: must be a string")
    if errors:
        return errors
    try:
        parsed = View(**{k: v for k, v in view.items() if k != "blocks"})
    except (TypeError, AttributeError, KeyError, ValueError) as exc:
        return [f"view: malformed ({exc})"]
    # Blocks are checked below, one by one; slack_sdk's own count check would see none.
    problems = _run_validators(parsed, skip=("_validate_blocks_length",))
    errors.extend(f"view: {problem}" for problem in problems)
    blocks = view.get("blocks")
    errors.extend(_validate_block_list(blocks, VIEW_BLOCKS_MAX, "view.blocks"))
    if isinstance(blocks, list) and not blocks and view_type == "modal":
        errors.append("view.blocks: a modal must contain at least one block")
    has_input = isinstance(blocks, list) and any(
        isinstance(b, dict) and b.get("type") == "input" for b in blocks
    )
    if view_type == "modal" and has_input and "submit" not in view:
        errors.append("view: submit is required when an input block is within the blocks")
    return errors


def validate_message_metadata(metadata: Any) -> list[str]:
    """Problems Slack would report for a message's ``metadata``; empty when acceptable.

    Slack message metadata is ``{"event_type": str, "event_payload": object}``; the
    event type is required, non-empty and at most 255 characters.
    """
    if not isinstance(metadata, dict):
        return [f"metadata must be a JSON object, not {type(metadata).__name__}"]
    errors: list[str] = []
    unknown = sorted(set(metadata) - {"event_type", "event_payload"})
    errors.extend(f"metadata: invalid additional property '{key}'" for key in unknown)
    event_type = metadata.get("event_type")
    if "event_type" not in metadata:
        errors.append("metadata: missing required field: event_type")
    elif not isinstance(event_type, str):
        errors.append("metadata.event_type: must be a string")
    elif not event_type.strip():
        errors.append("metadata.event_type: must be more than 0 characters")
    elif len(event_type) > METADATA_EVENT_TYPE_MAX:
        errors.append(f"metadata.event_type: must be at most {METADATA_EVENT_TYPE_MAX} characters")
    if "event_payload" not in metadata:
        errors.append("metadata: missing required field: event_payload")
    elif not isinstance(metadata["event_payload"], dict):
        errors.append("metadata.event_payload: must be a JSON object")
    return errors


# ---------------------------------------------------------------------------
# Records and state
# ---------------------------------------------------------------------------


@dataclass(frozen=True)
class RecordedCall:
    """One request the server answered, kept so tests can assert on what the bot did."""

    method: str
    args: JsonDict
    status: int
    response: JsonDict
    time: float
    target: str | None = None  # response_url id or upload file id, when relevant
    scopes: tuple[str, ...] = ()  # the OAuth scopes the call needed

    @property
    def ok(self) -> bool:
        """Whether Slack would have called this a success."""
        return self.status == 200 and bool(self.response.get("ok"))


@dataclass
class UploadedFile:
    """A file uploaded through the external-upload flow, with its bytes."""

    id: str
    filename: str
    length: int
    title: str | None = None
    content: bytes | None = None
    channel: str | None = None
    channels: list[str] = field(default_factory=list)
    initial_comment: str | None = None
    thread_ts: str | None = None
    completed: bool = False
    deleted: bool = False
    created: int = 0

    def to_slack(self, team_id: str, user_id: str) -> JsonDict:
        """The file object as Slack returns it from files.info and friends."""
        extension = self.filename.rsplit(".", 1)[-1].lower() if "." in self.filename else ""
        return {
            "id": self.id,
            "created": self.created,
            "timestamp": self.created,
            "name": self.filename,
            "title": self.title or self.filename,
            "filetype": extension,
            "size": self.length,
            "user": user_id,
            "user_team": team_id,
            "channels": list(self.channels),
            "is_public": False,
        }


@dataclass
class _Channel:
    id: str
    name: str
    is_private: bool = False
    is_im: bool = False
    is_mpim: bool = False
    user: str | None = None
    members: list[str] = field(default_factory=list)
    is_archived: bool = False
    created: int = 0
    creator: str = ""

    def to_slack(self, bot_user_id: str) -> JsonDict:
        data: JsonDict = {
            "id": self.id,
            "created": self.created,
            "is_archived": self.is_archived,
            "is_im": self.is_im,
            "is_mpim": self.is_mpim,
            "is_private": self.is_private or self.is_im or self.is_mpim,
        }
        if self.is_im:
            data["user"] = self.user
            return data
        data.update(
            {
                "name": self.name,
                "name_normalized": self.name,
                "is_channel": not self.is_private and not self.is_mpim,
                "is_group": self.is_private,
                "is_general": self.name == "general",
                "creator": self.creator,
                "is_member": bot_user_id in self.members,
                "num_members": len(self.members),
            }
        )
        return data


@dataclass
class _Fault:
    kind: str  # "status", "error" or "stall"
    status: int = 200
    retry_after: int | None = None
    error: str = ""
    seconds: float = 0.0
    after: bool = False  # a stall that holds back the answer, not the work


class _ApiError(Exception):
    """Raised by a method handler; becomes an ``ok: false`` answer with HTTP 200."""

    def __init__(self, error: str, *messages: str, extra: JsonDict | None = None) -> None:
        super().__init__(error)
        self.error = error
        self.messages = list(messages)
        self.extra = extra or {}


def _flag(value: Any) -> bool:
    """Slack's reading of a boolean argument sent as JSON or as a form field."""
    if isinstance(value, str):
        return value.strip().lower() in ("1", "true", "yes")
    return bool(value)


def _ts_key(ts: Any) -> Decimal:
    """A message timestamp as a number that orders exactly (floats would round)."""
    return Decimal(str(ts))


def _ts_arg(args: JsonDict, key: str, error: str) -> Decimal | None:
    """An optional ``oldest``/``latest`` argument; Slack refuses ones that are not numbers."""
    value = args.get(key)
    if value in (None, ""):
        return None
    try:
        parsed = Decimal(str(value).strip())
    except InvalidOperation as exc:
        raise _ApiError(error, f"{key} must be a Unix timestamp") from exc
    if not parsed.is_finite() or parsed < 0:
        raise _ApiError(error, f"{key} must be a Unix timestamp")
    return parsed


def _limit_arg(args: JsonDict, default: int, maximum: int) -> int:
    """The ``limit`` argument: absent or 0 means the default, above the maximum is capped."""
    value = args.get("limit")
    if value in (None, ""):
        return default
    try:
        limit = int(str(value).strip())
    except ValueError as exc:
        raise _ApiError("invalid_limit", "limit must be an integer") from exc
    if limit < 0:
        raise _ApiError("invalid_limit", "limit must not be negative")
    return min(limit or default, maximum)


def _encode_cursor(kind: str, value: str) -> str:
    return base64.b64encode(f"{kind}:{value}".encode()).decode("ascii")


def _decode_cursor(args: JsonDict, kind: str) -> str | None:
    """The position an opaque ``cursor`` argument stands for, or ``None`` for the start."""
    cursor = args.get("cursor")
    if cursor in (None, ""):
        return None
    try:
        decoded = base64.b64decode(str(cursor), validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError) as exc:
        raise _ApiError("invalid_cursor", "cursor was not issued by this method") from exc
    prefix = f"{kind}:"
    if not decoded.startswith(prefix) or len(decoded) == len(prefix):
        raise _ApiError("invalid_cursor", "cursor was not issued by this method")
    return decoded[len(prefix) :]


def _error_body(error: str, messages: Iterable[str] = (), **extra: Any) -> JsonDict:
    listed = [m if m.startswith("[") else f"[ERROR] {m}" for m in messages]
    body: JsonDict = {"ok": False, "error": error, **extra}
    body["response_metadata"] = {"messages": listed or [f"[ERROR] {error}"]}
    return body


# Arguments each method cannot do without. A missing one is ``invalid_arguments``.
_REQUIRED: dict[str, tuple[str, ...]] = {
    "auth.test": (),
    "chat.postMessage": ("channel",),
    "chat.update": ("channel", "ts"),
    "chat.postEphemeral": ("channel", "user"),
    "chat.delete": ("channel", "ts"),
    "conversations.create": ("name",),
    "conversations.invite": ("channel", "users"),
    "conversations.open": (),
    "conversations.info": ("channel",),
    "conversations.members": ("channel",),
    "conversations.archive": ("channel",),
    "conversations.history": ("channel",),
    "conversations.list": (),
    "chat.getPermalink": ("channel", "message_ts"),
    "users.info": ("user",),
    "users.lookupByEmail": ("email",),
    "views.open": ("trigger_id", "view"),
    "views.push": ("trigger_id", "view"),
    "views.update": ("view",),
    "views.publish": ("user_id", "view"),
    "files.getUploadURLExternal": ("filename", "length"),
    "files.completeUploadExternal": ("files",),
    "files.info": ("file",),
    "files.delete": ("file",),
}

# Arguments Slack takes as JSON, which slack_sdk sends as JSON strings inside form posts.
_JSON_ARGS = ("blocks", "view", "attachments", "files", "metadata")


# ---------------------------------------------------------------------------
# The server
# ---------------------------------------------------------------------------


class _HttpServer(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False  # stop() must not wait for a client that keeps a socket open
    allow_reuse_address = True

    def __init__(self, local: LocalSlack) -> None:
        self.local = local
        super().__init__(("127.0.0.1", 0), _Handler)


class _Handler(BaseHTTPRequestHandler):
    server: _HttpServer

    def log_message(self, format: str, *args: Any) -> None:
        """Keep test output quiet."""

    def do_POST(self) -> None:
        self._dispatch()

    def do_GET(self) -> None:
        self._dispatch()

    def _dispatch(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        parts = urlsplit(self.path)
        status, headers, payload = self.server.local._handle_http(
            path=parts.path,
            query=parts.query,
            headers={k.lower(): v for k, v in self.headers.items()},
            body=body,
        )
        try:
            self.send_response(status)
            for name, value in headers.items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)
        except (BrokenPipeError, ConnectionResetError):  # the client gave up (timeout)
            pass


class LocalSlack:
    """A Slack Web API stand-in on 127.0.0.1, with recorded calls and fault injection.

    Usage::

        with LocalSlack() as local:
            client = WebClient(token=local.bot_token, base_url=local.api_url)
            client.chat_postMessage(channel="C0GENERAL", text="hi")
            assert local.calls_to("chat.postMessage")
    """

    def __init__(
        self,
        bot_token: str = "xoxb-local",
        team_id: str = "T0LOCAL",
        bot_user_id: str = "UBOT",
        *,
        bot_id: str = "B0LOCAL",
        team_domain: str = "local",
        time_source: Callable[[], float] = time.monotonic,
        trigger_ttl: float | None = TRIGGER_TTL_SECONDS,
        scopes: Iterable[str] | None = None,
        app_token: str = "xapp-local",
    ) -> None:
        self.bot_token = bot_token
        # The bot token holds only the scopes the app's manifest asks for (the bot's own
        # manifest unless told otherwise), so a call the manifest does not cover fails here
        # as it would in a real workspace. The app-level token opens Socket Mode only.
        self.scopes = frozenset(scopes) if scopes is not None else manifest_scopes()
        self.app_token = app_token
        self.team_id = team_id
        self.team_domain = team_domain
        self.bot_user_id = bot_user_id
        self.bot_id = bot_id
        self.time_source = time_source
        self.trigger_ttl = trigger_ttl
        self.latency_ms: float = 0.0
        self._lock = threading.RLock()
        self._stopping = threading.Event()
        self._server: _HttpServer | None = None
        self._thread: threading.Thread | None = None
        self._ids = itertools.count(1)
        self._last_ts = 0.0
        self.calls: list[RecordedCall] = []
        self._faults: dict[str, deque[_Fault]] = {}
        self._users: dict[str, JsonDict] = {}
        self._channels: dict[str, _Channel] = {}
        self._ims: dict[str, str] = {}
        self._mpims: dict[frozenset[str], str] = {}
        self._messages: dict[str, list[JsonDict]] = {}
        self._ephemerals: list[JsonDict] = []
        self._views: dict[str, JsonDict] = {}
        self._external_ids: dict[str, str] = {}
        self._home_views: dict[str, str] = {}
        self._triggers: dict[str, tuple[float, bool]] = {}
        self._response_urls: dict[str, JsonDict] = {}
        self._files: dict[str, UploadedFile] = {}
        self._socket_mode: SocketModeEndpoint | None = None
        self.add_user(bot_user_id, "bot", is_bot=True)
        self.add_channel("general", channel_id="C0GENERAL")
        self._methods: dict[str, Callable[[JsonDict], JsonDict]] = {
            "auth.test": self._auth_test,
            "apps.connections.open": self._apps_connections_open,
            "chat.postMessage": self._chat_post_message,
            "chat.update": self._chat_update,
            "chat.postEphemeral": self._chat_post_ephemeral,
            "chat.delete": self._chat_delete,
            "conversations.create": self._conversations_create,
            "conversations.invite": self._conversations_invite,
            "conversations.open": self._conversations_open,
            "conversations.info": self._conversations_info,
            "conversations.members": self._conversations_members,
            "conversations.archive": self._conversations_archive,
            "conversations.history": self._conversations_history,
            "conversations.list": self._conversations_list,
            "chat.getPermalink": self._chat_get_permalink,
            "users.info": self._users_info,
            "users.lookupByEmail": self._users_lookup_by_email,
            "views.open": self._views_open,
            "views.push": self._views_push,
            "views.update": self._views_update,
            "views.publish": self._views_publish,
            "files.getUploadURLExternal": self._files_get_upload_url,
            "files.completeUploadExternal": self._files_complete_upload,
            "files.info": self._files_info,
            "files.delete": self._files_delete,
        }

    # -- lifecycle ---------------------------------------------------------

    def start(self) -> LocalSlack:
        """Listen on a free port in a daemon thread."""
        if self._server is not None:
            return self
        self._stopping.clear()
        self._server = _HttpServer(self)
        self._thread = threading.Thread(
            target=self._server.serve_forever,
            kwargs={"poll_interval": 0.05},
            name="local-slack",
            daemon=True,
        )
        self._thread.start()
        return self

    def socket_mode(self) -> SocketModeEndpoint:
        """The Socket Mode endpoint whose URLs `apps.connections.open` hands out (started
        on first use: it needs the `websockets` package, a test tool)."""
        with self._lock:
            if self._socket_mode is None:
                from bot_offline.local_slack.socket_mode import SocketModeEndpoint

                self._socket_mode = SocketModeEndpoint()
            return self._socket_mode

    def stop(self) -> None:
        """Shut the server down, releasing any stalled requests."""
        self._stopping.set()
        if self._socket_mode is not None:
            self._socket_mode.close()
            self._socket_mode = None
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
        self._server = None
        self._thread = None

    def __enter__(self) -> LocalSlack:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    @property
    def port(self) -> int:
        """The port the server listens on; only valid once started."""
        if self._server is None:
            raise RuntimeError("LocalSlack is not started")
        return int(self._server.server_address[1])

    @property
    def base_url(self) -> str:
        """Root URL of the server, without the /api/ prefix."""
        return f"http://127.0.0.1:{self.port}"

    @property
    def api_url(self) -> str:
        """The ``base_url`` to give ``slack_sdk.WebClient``."""
        return f"{self.base_url}/api/"

    # -- directory set-up --------------------------------------------------

    def add_user(self, user_id: str, name: str, email: str | None = None, is_bot: bool = False) -> JsonDict:
        """Register a workspace member so users.* and invites know about them."""
        user: JsonDict = {
            "id": user_id,
            "team_id": self.team_id,
            "name": name,
            "real_name": name,
            "deleted": False,
            "is_bot": is_bot,
            "is_app_user": False,
            "tz": "Europe/London",
            "tz_label": "Greenwich Mean Time",
            "tz_offset": 0,
            "profile": {"real_name": name, "display_name": name, "email": email},
        }
        if is_bot:
            user["profile"]["bot_id"] = self.bot_id
        with self._lock:
            self._users[user_id] = user
        return json.loads(json.dumps(user))

    def add_channel(
        self,
        name: str,
        *,
        channel_id: str | None = None,
        is_private: bool = False,
        members: Iterable[str] = (),
        bot_is_member: bool = True,
    ) -> str:
        """Create a channel directly (not through the API); returns its id."""
        with self._lock:
            cid = channel_id or self._new_id("G" if is_private else "C")
            member_list = list(dict.fromkeys(members))
            if bot_is_member and self.bot_user_id not in member_list:
                member_list.insert(0, self.bot_user_id)
            self._channels[cid] = _Channel(
                id=cid,
                name=name,
                is_private=is_private,
                members=member_list,
                created=int(time.time()),
                creator=self.bot_user_id,
            )
            self._messages.setdefault(cid, [])
            return cid

    # -- inspection --------------------------------------------------------

    def calls_to(self, method: str) -> list[RecordedCall]:
        """Recorded calls to one method, oldest first."""
        with self._lock:
            return [c for c in self.calls if c.method == method]

    def reset_calls(self) -> None:
        """Forget recorded calls (state such as messages is kept)."""
        with self._lock:
            self.calls.clear()

    def wait_for(
        self,
        predicate: Callable[[list[RecordedCall]], Any],
        timeout: float = 5.0,
        interval: float = 0.02,
    ) -> list[RecordedCall]:
        """Poll until ``predicate(calls)`` is truthy, for work done after an ack.

        Raises ``TimeoutError`` listing the methods seen, so a failing test says what
        the bot did instead.
        """
        deadline = time.monotonic() + timeout
        while True:
            with self._lock:
                snapshot = list(self.calls)
            if predicate(snapshot):
                return snapshot
            if time.monotonic() >= deadline:
                seen = [c.method for c in snapshot]
                raise TimeoutError(f"condition not met within {timeout}s; calls seen: {seen}")
            time.sleep(interval)

    def wait_for_new(self, method: str, seen: int, timeout: float = 5.0) -> RecordedCall:
        """The first successful call to ``method`` after the ``seen`` there were already.

        Counted by method, not by position among the latest calls: after a button, the bot's
        other work (messages updated, the outbox) may land after the call a test waits for.
        """

        def new_ones(calls: list[RecordedCall]) -> list[RecordedCall]:
            return [c for c in calls if c.method == method][seen:]

        calls = self.wait_for(lambda calls: any(c.ok for c in new_ones(calls)), timeout)
        return next(c for c in new_ones(calls) if c.ok)

    def responses(self) -> list[RecordedCall]:
        """Posts to response URLs (what Bolt's ``respond()`` sent), oldest first."""
        return [c for c in self.calls_to("response_url") if c.status == 200]

    def messages(self, channel: str) -> list[JsonDict]:
        """Messages currently in a channel (or a user's DM, given the user id)."""
        with self._lock:
            cid = self._ims.get(channel, channel)
            return json.loads(json.dumps(self._messages.get(cid, [])))

    def message_metadata(self, channel: str, ts: str) -> JsonDict | None:
        """The ``metadata`` stored on one message, or ``None`` (also for no such message)."""
        with self._lock:
            cid = self._ims.get(channel, channel)
            for message in self._messages.get(cid, []):
                if message["ts"] == str(ts):
                    found = message.get("metadata")
                    return json.loads(json.dumps(found)) if found is not None else None
        return None

    def ephemerals(self) -> list[JsonDict]:
        """Ephemeral messages posted so far."""
        with self._lock:
            return json.loads(json.dumps(self._ephemerals))

    def user(self, user_id: str) -> JsonDict | None:
        """A registered user as users.info would return it."""
        with self._lock:
            found = self._users.get(user_id)
            return json.loads(json.dumps(found)) if found else None

    def channel(self, channel_id: str) -> JsonDict | None:
        """A channel as conversations.info would return it, plus ``members``."""
        with self._lock:
            ch = self._channels.get(channel_id)
            if ch is None:
                return None
            return {**ch.to_slack(self.bot_user_id), "members": list(ch.members)}

    def channel_id_by_name(self, name: str) -> str | None:
        """Look up a channel id by its name."""
        with self._lock:
            for ch in self._channels.values():
                if ch.name == name and not ch.is_im:
                    return ch.id
        return None

    def view(self, view_id: str) -> JsonDict | None:
        """A view the bot opened, pushed, updated or published."""
        with self._lock:
            found = self._views.get(view_id)
            return json.loads(json.dumps(found)) if found else None

    def home_view(self, user_id: str) -> JsonDict | None:
        """The Home tab last published for a user."""
        with self._lock:
            view_id = self._home_views.get(user_id)
        return self.view(view_id) if view_id else None

    def uploaded_files(self) -> list[UploadedFile]:
        """Files whose bytes were uploaded, in upload order (deleted ones excluded)."""
        with self._lock:
            return [f for f in self._files.values() if f.content is not None and not f.deleted]

    # -- tokens for interactions -------------------------------------------

    def new_trigger_id(self) -> str:
        """A trigger_id good for one views.open/views.push within the TTL."""
        with self._lock:
            trigger_id = f"{next(self._ids)}.{int(time.time())}.local{next(self._ids):08x}"
            self._triggers[trigger_id] = (self.time_source(), False)
            return trigger_id

    def new_response_url(self, channel_id: str | None = None, user_id: str | None = None) -> str:
        """A response_url on this server; posts to it are recorded as ``response_url``."""
        with self._lock:
            url_id = self._new_id("R")
            self._response_urls[url_id] = {
                "created": self.time_source(),
                "uses": 0,
                "channel": channel_id,
                "user": user_id,
            }
        return f"{self.base_url}/response/{url_id}"

    # -- fault injection ---------------------------------------------------

    def fail_next(self, method: str, status: int = 429, retry_after: int | None = 1, times: int = 1) -> None:
        """Answer the next ``times`` calls to ``method`` with an HTTP error status."""
        fault = _Fault("status", status=status, retry_after=retry_after if status == 429 else None)
        self._add_fault(method, fault, times)

    def error_next(self, method: str, error: str = "channel_not_found", times: int = 1) -> None:
        """Answer the next ``times`` calls to ``method`` with HTTP 200 ``ok: false``."""
        self._add_fault(method, _Fault("error", error=error), times)

    def clear_faults(self) -> None:
        """End every injected fault still queued: the outage is over."""
        with self._lock:
            self._faults.clear()

    def stall(self, method: str, seconds: float, times: int = 1, *, after: bool = False) -> None:
        """Hold up the next ``times`` calls by ``seconds``; they still take effect.

        By default the wait comes first, so the work happens late. With ``after=True``
        the work is done and recorded at once and only the answer is held back: the
        case of Slack having acted while the client timed out waiting to hear so.
        """
        self._add_fault(method, _Fault("stall", seconds=seconds, after=after), times)

    def _add_fault(self, method: str, fault: _Fault, times: int) -> None:
        with self._lock:
            queue = self._faults.setdefault(method, deque())
            queue.extend(fault for _ in range(times))

    def _take_fault(self, method: str) -> _Fault | None:
        with self._lock:
            queue = self._faults.get(method)
            return queue.popleft() if queue else None

    # -- HTTP plumbing -----------------------------------------------------

    def _handle_http(
        self, *, path: str, query: str, headers: dict[str, str], body: bytes
    ) -> tuple[int, dict[str, str], bytes]:
        """Route one HTTP request; returns (status, headers, body)."""
        if self.latency_ms:
            self._stopping.wait(self.latency_ms / 1000.0)
        if path.startswith("/api/"):
            method = path[len("/api/") :]
            return self._handle_api(method, query, headers, body)
        if path.startswith("/upload/"):
            return self._handle_upload(path[len("/upload/") :], body)
        if path.startswith("/response/"):
            return self._handle_response_url(path[len("/response/") :], headers, body)
        if path.startswith("/archives/"):
            return self._handle_permalink(path[len("/archives/") :])
        return 404, {"Content-Type": "text/plain"}, b"not found"

    def _before(
        self, method: str, args: JsonDict, target: str | None = None
    ) -> tuple[tuple[int, JsonDict, dict[str, str]] | None, float]:
        """Apply an injected fault, if one is queued.

        Returns the answer the fault forces (``None`` to go ahead) and how long to hold
        the answer back once the work is done.
        """
        fault = self._take_fault(method)
        if fault is None:
            return None, 0.0
        if fault.kind == "stall":
            if fault.after:
                return None, fault.seconds
            self._stopping.wait(fault.seconds)
            return None, 0.0
        if fault.kind == "error":
            response = _error_body(fault.error, [f"injected {fault.error}"])
            self._record(method, args, 200, response, target)
            return (200, response, {}), 0.0
        response = (
            {"ok": False, "error": "ratelimited"}
            if fault.status == 429
            else {"ok": False, "error": "internal_error"}
        )
        extra_headers: dict[str, str] = {}
        if fault.retry_after is not None:
            extra_headers["Retry-After"] = str(fault.retry_after)
        self._record(method, args, fault.status, response, target)
        return (fault.status, response, extra_headers), 0.0

    def _hold_answer(self, seconds: float) -> None:
        """Delay a reply whose work is already done (``stall(..., after=True)``)."""
        if seconds:
            self._stopping.wait(seconds)

    def _record(
        self,
        method: str,
        args: JsonDict,
        status: int,
        response: JsonDict,
        target: str | None,
        scopes: tuple[str, ...] = (),
    ) -> None:
        with self._lock:
            self.calls.append(
                RecordedCall(
                    method=method,
                    args=args,
                    status=status,
                    response=response,
                    time=time.time(),
                    target=target,
                    scopes=scopes,
                )
            )

    @staticmethod
    def _json_reply(
        status: int, response: JsonDict, headers: dict[str, str] | None = None
    ) -> tuple[int, dict[str, str], bytes]:
        out = {"Content-Type": "application/json; charset=utf-8", **(headers or {})}
        return status, out, json.dumps(response).encode()

    def _handle_api(
        self, method: str, query: str, headers: dict[str, str], body: bytes
    ) -> tuple[int, dict[str, str], bytes]:
        try:
            args, token = self._parse_args(query, headers, body)
        except ValueError as exc:
            response = _error_body("invalid_form_data", [str(exc)])
            self._record(method, {}, 200, response, None)
            return self._json_reply(200, response)
        forced, hold = self._before(method, args)
        if forced is not None:
            return self._json_reply(*forced)
        response, scopes = self._call(method, args, token)
        self._record(method, args, 200, response, None, scopes)
        self._hold_answer(hold)
        # As Slack does, each answer names the scopes the bot token holds.
        return self._json_reply(200, response, {"X-OAuth-Scopes": ",".join(sorted(self.scopes))})

    def _parse_args(self, query: str, headers: dict[str, str], body: bytes) -> tuple[JsonDict, str | None]:
        """Decode form or JSON arguments the way Slack reads them; split off the token."""
        args: JsonDict = {k: v[0] for k, v in parse_qs(query, keep_blank_values=True).items()}
        content_type = headers.get("content-type", "").split(";")[0].strip().lower()
        if body:
            if content_type == "application/json":
                decoded = json.loads(body.decode("utf-8"))
                if not isinstance(decoded, dict):
                    raise ValueError("JSON body must be an object")
                args.update(decoded)
            elif content_type in ("application/x-www-form-urlencoded", ""):
                form = parse_qs(body.decode("utf-8"), keep_blank_values=True)
                args.update({k: v[0] for k, v in form.items()})
            else:
                raise ValueError(f"unsupported content type {content_type!r}")
        token = args.pop("token", None)
        auth = headers.get("authorization", "")
        if auth.lower().startswith("bearer "):
            token = auth[len("bearer ") :].strip()
        for key in _JSON_ARGS:
            if isinstance(args.get(key), str):
                try:
                    args[key] = json.loads(args[key])
                except json.JSONDecodeError:
                    args[f"_{key}_unparseable"] = True
        return args, token

    def _call(self, method: str, args: JsonDict, token: str | None) -> tuple[JsonDict, tuple[str, ...]]:
        """The answer to one call, and the scopes it needed."""
        handler = self._methods.get(method)
        if handler is None:
            return _error_body("unknown_method", [f"unknown method {method!r}"]), ()
        if not token:
            return _error_body("not_authed", ["no authentication token provided"]), ()
        if token not in (self.bot_token, self.app_token):
            return _error_body("invalid_auth", ["invalid authentication token"]), ()
        if (token == self.app_token) != method.startswith("apps."):
            return _error_body("not_allowed_token_type", ["the wrong kind of token for this method"]), ()
        granted = self.scopes if token == self.bot_token else frozenset({"connections:write"})
        for key in _REQUIRED.get(method, ()):
            if args.get(key) in (None, ""):
                return _error_body("invalid_arguments", [f"missing required field: {key}"]), ()
        with self._lock:
            needed = tuple(needed_scopes(method, args, self._kind_of))
        missing = [scope for scope in needed if scope not in granted]
        if missing:
            body = _error_body(
                "missing_scope",
                [f"the token lacks {missing[0]}"],
                needed=missing[0],
                provided=",".join(sorted(granted)),
            )
            return body, needed
        try:
            with self._lock:
                return handler(args), needed
        except _ApiError as exc:
            return _error_body(exc.error, exc.messages, **exc.extra), needed

    def _kind_of(self, channel: str) -> str | None:
        """A conversation's type, for the scope it needs; None if there is no such one."""
        found = self._channels.get(self._ims.get(channel, channel))
        return self._conversation_type(found) if found is not None else None

    # -- helpers used by method handlers (called with the lock held) ----------

    def _new_id(self, prefix: str) -> str:
        return f"{prefix}{next(self._ids):08X}"

    def _new_ts(self) -> str:
        now = max(time.time(), self._last_ts + 0.000001)
        self._last_ts = now
        return f"{now:.6f}"

    def _user(self, user_id: Any) -> JsonDict:
        user = self._users.get(str(user_id))
        if user is None:
            raise _ApiError("user_not_found", f"no user {user_id!r}")
        return user

    def _im_for(self, user_id: str) -> str:
        self._user(user_id)
        cid = self._ims.get(user_id)
        if cid is None:
            cid = self._new_id("D")
            self._channels[cid] = _Channel(
                id=cid,
                name=user_id,
                is_im=True,
                user=user_id,
                members=[self.bot_user_id, user_id] if user_id != self.bot_user_id else [user_id],
                created=int(time.time()),
                creator=self.bot_user_id,
            )
            self._messages.setdefault(cid, [])
            self._ims[user_id] = cid
        return cid

    def _channel(self, channel: Any, *, allow_user: bool = False) -> _Channel:
        cid = str(channel)
        if allow_user and cid.startswith("#"):  # chat methods also take "#name"
            cid = self.channel_id_by_name(cid[1:]) or cid
        if cid not in self._channels and allow_user and cid in self._users:
            cid = self._im_for(cid)
        found = self._channels.get(cid)
        if found is None:
            raise _ApiError("channel_not_found", f"no channel {channel!r}")
        return found

    def _writable(self, channel: Any) -> _Channel:
        ch = self._channel(channel, allow_user=True)
        if ch.is_archived:
            raise _ApiError("is_archived", f"channel {ch.id} is archived")
        if self.bot_user_id not in ch.members:
            if ch.is_private:
                raise _ApiError("channel_not_found", f"no channel {channel!r}")
            raise _ApiError("not_in_channel", f"the bot is not a member of {ch.id}")
        return ch

    def _visible(self, channel: Any) -> _Channel:
        """A conversation by id; a private one the bot is not in does not exist for it."""
        ch = self._channel(channel)
        if self.bot_user_id not in ch.members and (ch.is_private or ch.is_im or ch.is_mpim):
            raise _ApiError("channel_not_found", f"no channel {channel!r}")
        return ch

    def _readable(self, channel: Any) -> _Channel:
        """A conversation whose history the bot may read: one it is a member of."""
        ch = self._visible(channel)
        if self.bot_user_id not in ch.members:
            raise _ApiError("not_in_channel", f"the bot is not a member of {ch.id}")
        return ch

    @staticmethod
    def _metadata_arg(args: JsonDict, *, clearing_allowed: bool) -> JsonDict | None:
        """The checked ``metadata`` argument, or ``None`` when none was sent.

        ``{}`` is returned only where ``clearing_allowed`` (chat.update, where an empty
        object removes the message's metadata).
        """
        if args.get("_metadata_unparseable"):
            raise _ApiError("invalid_metadata_format", "metadata must be a JSON object")
        metadata = args.get("metadata")
        if metadata is None or metadata == "":
            return None
        if not isinstance(metadata, dict):
            raise _ApiError("invalid_metadata_format", "metadata must be a JSON object")
        if clearing_allowed and metadata == {}:
            return {}
        problems = validate_message_metadata(metadata)
        if problems:
            raise _ApiError("invalid_metadata_schema", *problems)
        return json.loads(json.dumps(metadata))

    def _message_content(self, args: JsonDict, *, required: bool = True) -> JsonDict:
        """Validate text/blocks arguments shared by the chat methods."""
        if args.get("_blocks_unparseable"):
            raise _ApiError("invalid_blocks_format", "blocks must be a JSON array")
        text = args.get("text")
        blocks = args.get("blocks")
        if required and not text and not blocks and not args.get("attachments"):
            raise _ApiError("no_text", "text or blocks is required")
        if isinstance(text, str) and len(text) > MESSAGE_TEXT_MAX:
            raise _ApiError("msg_too_long", f"text is over {MESSAGE_TEXT_MAX} characters")
        content: JsonDict = {}
        if text is not None:
            content["text"] = text
        if blocks is not None:
            problems = validate_message_blocks(blocks)
            if problems:
                raise _ApiError("invalid_blocks", *problems)
            content["blocks"] = blocks
        if args.get("attachments") is not None:
            content["attachments"] = args["attachments"]
        return content

    def _find_message(self, ch: _Channel, ts: Any) -> JsonDict:
        for message in self._messages.get(ch.id, []):
            if message["ts"] == str(ts):
                return message
        raise _ApiError("message_not_found", f"no message {ts!r} in {ch.id}")

    def _store_message(self, ch: _Channel, content: JsonDict, thread_ts: Any = None) -> JsonDict:
        message: JsonDict = {
            "type": "message",
            "user": self.bot_user_id,
            "bot_id": self.bot_id,
            "team": self.team_id,
            "ts": self._new_ts(),
            "text": content.get("text", ""),
            **{k: v for k, v in content.items() if k != "text"},
        }
        if thread_ts:
            message["thread_ts"] = str(thread_ts)
        self._messages.setdefault(ch.id, []).append(message)
        return message

    # -- method handlers -----------------------------------------------------

    def _apps_connections_open(self, _args: JsonDict) -> JsonDict:
        return {"ok": True, "url": self.socket_mode().new_url()}

    def _auth_test(self, args: JsonDict) -> JsonDict:
        return {
            "ok": True,
            "url": f"https://{self.team_domain}.slack.com/",
            "team": self.team_domain,
            "user": self._users[self.bot_user_id]["name"],
            "team_id": self.team_id,
            "user_id": self.bot_user_id,
            "bot_id": self.bot_id,
            "is_enterprise_install": False,
        }

    def _chat_post_message(self, args: JsonDict) -> JsonDict:
        content = self._message_content(args)
        metadata = self._metadata_arg(args, clearing_allowed=False)
        if metadata is not None:
            content["metadata"] = metadata
        ch = self._writable(args["channel"])
        message = self._store_message(ch, content, args.get("thread_ts"))
        return {"ok": True, "channel": ch.id, "ts": message["ts"], "message": message}

    def _chat_update(self, args: JsonDict) -> JsonDict:
        content = self._message_content(args)
        metadata = self._metadata_arg(args, clearing_allowed=True)
        ch = self._channel(args["channel"], allow_user=True)
        message = self._find_message(ch, args["ts"])
        message.update(content)  # omitted blocks/attachments/metadata are kept, as Slack does
        if metadata == {}:
            message.pop("metadata", None)
        elif metadata is not None:
            message["metadata"] = metadata
        message["edited"] = {"user": self.bot_user_id, "ts": self._new_ts()}
        return {
            "ok": True,
            "channel": ch.id,
            "ts": message["ts"],
            "text": message.get("text", ""),
            "message": message,
        }

    def _chat_post_ephemeral(self, args: JsonDict) -> JsonDict:
        content = self._message_content(args)
        ch = self._writable(args["channel"])
        user = self._user(args["user"])
        if user["id"] not in ch.members:
            raise _ApiError("user_not_in_channel", f"{user['id']} is not in {ch.id}")
        ts = self._new_ts()
        self._ephemerals.append({"channel": ch.id, "user": user["id"], "ts": ts, **content})
        return {"ok": True, "message_ts": ts}

    def _chat_delete(self, args: JsonDict) -> JsonDict:
        ch = self._channel(args["channel"], allow_user=True)
        message = self._find_message(ch, args["ts"])
        self._messages[ch.id].remove(message)
        return {"ok": True, "channel": ch.id, "ts": message["ts"]}

    def _conversations_create(self, args: JsonDict) -> JsonDict:
        name = str(args["name"])
        if len(name) > CHANNEL_NAME_MAX:
            raise _ApiError("invalid_name_maxlength", f"name is over {CHANNEL_NAME_MAX} characters")
        if not _CHANNEL_NAME_RE.match(name):
            raise _ApiError(
                "invalid_name_specials",
                "name may contain only lowercase letters, numbers, hyphens and underscores",
            )
        if all(c in "-_" for c in name):
            raise _ApiError("invalid_name_punctuation", "name cannot be only punctuation")
        if self.channel_id_by_name(name) is not None:
            raise _ApiError("name_taken", f"a channel named {name!r} already exists")
        cid = self.add_channel(name, is_private=_flag(args.get("is_private")))
        return {"ok": True, "channel": self._channels[cid].to_slack(self.bot_user_id)}

    def _conversations_invite(self, args: JsonDict) -> JsonDict:
        ch = self._channel(args["channel"])
        if ch.is_im or ch.is_mpim:
            raise _ApiError("method_not_supported_for_channel_type", "cannot invite to a DM")
        if ch.is_archived:
            raise _ApiError("is_archived", f"channel {ch.id} is archived")
        if self.bot_user_id not in ch.members:
            raise _ApiError("not_in_channel", f"the bot is not a member of {ch.id}")
        users = [u.strip() for u in str(args["users"]).split(",") if u.strip()]
        if len(users) > INVITE_USERS_MAX:
            raise _ApiError("too_many_users", f"no more than {INVITE_USERS_MAX} users")
        per_user: list[JsonDict] = []
        valid: list[str] = []
        for user_id in dict.fromkeys(users):
            if user_id == self.bot_user_id:
                error = "cant_invite_self"
            elif user_id not in self._users:
                error = "user_not_found"
            elif user_id in ch.members:
                error = "already_in_channel"
            else:
                valid.append(user_id)
                continue
            per_user.append({"user": user_id, "ok": False, "error": error})
        if per_user and (not _flag(args.get("force")) or not valid):
            raise _ApiError(
                per_user[0]["error"],
                *[f"{e['user']}: {e['error']}" for e in per_user],
                extra={"errors": per_user},
            )
        ch.members.extend(valid)
        answer: JsonDict = {"ok": True, "channel": ch.to_slack(self.bot_user_id)}
        if per_user:
            answer["errors"] = per_user
        return answer

    def _conversations_open(self, args: JsonDict) -> JsonDict:
        if args.get("channel"):
            ch = self._channel(args["channel"])
            return {"ok": True, "channel": {"id": ch.id}}
        users = [u.strip() for u in str(args.get("users") or "").split(",") if u.strip()]
        if not users:
            raise _ApiError("invalid_arguments", "missing required field: users or channel")
        if len(users) > 8:
            raise _ApiError("too_many_users", "a group DM holds at most 8 people")
        for user_id in users:
            self._user(user_id)
        if len(users) == 1:
            cid = self._im_for(users[0])
            already = True
        else:
            key = frozenset([*users, self.bot_user_id])
            cid = self._mpims.get(key) or ""
            already = bool(cid)
            if not cid:
                cid = self._new_id("G")
                self._mpims[key] = cid
                self._channels[cid] = _Channel(
                    id=cid,
                    name="mpdm-" + "--".join(sorted(key)),
                    is_mpim=True,
                    members=sorted(key),
                    created=int(time.time()),
                    creator=self.bot_user_id,
                )
                self._messages.setdefault(cid, [])
        answer: JsonDict = {"ok": True, "channel": {"id": cid}}
        if _flag(args.get("return_im")):
            answer["channel"] = self._channels[cid].to_slack(self.bot_user_id)
        if already:
            answer["already_open"] = True
        return answer

    def _conversations_info(self, args: JsonDict) -> JsonDict:
        ch = self._channel(args["channel"])
        return {"ok": True, "channel": ch.to_slack(self.bot_user_id)}

    def _conversations_members(self, args: JsonDict) -> JsonDict:
        ch = self._channel(args["channel"])
        return {
            "ok": True,
            "members": list(ch.members),
            "response_metadata": {"next_cursor": ""},
        }

    def _conversations_archive(self, args: JsonDict) -> JsonDict:
        ch = self._channel(args["channel"])
        if ch.is_im or ch.is_mpim:
            raise _ApiError("method_not_supported_for_channel_type", "cannot archive a DM")
        if ch.name == "general":
            raise _ApiError("cant_archive_general", "the general channel cannot be archived")
        if ch.is_archived:
            raise _ApiError("already_archived", f"channel {ch.id} is already archived")
        ch.is_archived = True
        return {"ok": True}

    def _conversations_history(self, args: JsonDict) -> JsonDict:
        ch = self._readable(args["channel"])
        limit = _limit_arg(args, HISTORY_LIMIT_DEFAULT, HISTORY_LIMIT_MAX)
        oldest = _ts_arg(args, "oldest", "invalid_ts_oldest")
        latest = _ts_arg(args, "latest", "invalid_ts_latest")
        inclusive = _flag(args.get("inclusive"))
        with_metadata = _flag(args.get("include_all_metadata"))
        stored = self._messages.get(ch.id, [])
        replies: dict[str, int] = {}
        for message in stored:
            parent = message.get("thread_ts")
            if parent and parent != message["ts"]:
                replies[parent] = replies.get(parent, 0) + 1
        # Thread replies live in conversations.replies, not in the channel's history.
        candidates = [
            m
            for m in stored
            if m.get("thread_ts") in (None, m["ts"]) or m.get("subtype") == "thread_broadcast"
        ]
        candidates.sort(key=lambda m: _ts_key(m["ts"]), reverse=True)

        def in_range(ts: Decimal) -> bool:
            if oldest is not None and (ts < oldest or (ts == oldest and not inclusive)):
                return False
            return latest is None or ts < latest or (ts == latest and inclusive)

        selected = [m for m in candidates if in_range(_ts_key(m["ts"]))]
        start = _decode_cursor(args, "next_ts")
        if start is not None:
            try:
                start_ts = _ts_key(start)
            except InvalidOperation as exc:
                raise _ApiError("invalid_cursor", "cursor was not issued by this method") from exc
            selected = [m for m in selected if _ts_key(m["ts"]) <= start_ts]
        page = selected[:limit]
        has_more = len(selected) > limit
        messages: list[JsonDict] = []
        for message in page:
            shown = json.loads(json.dumps(message))
            if not with_metadata:
                shown.pop("metadata", None)
            if message["ts"] in replies:
                shown["thread_ts"] = message["ts"]
                shown["reply_count"] = replies[message["ts"]]
            messages.append(shown)
        return {
            "ok": True,
            "messages": messages,
            "has_more": has_more,
            "pin_count": 0,
            "channel_actions_ts": None,
            "channel_actions_count": 0,
            "response_metadata": {
                "next_cursor": _encode_cursor("next_ts", selected[limit]["ts"]) if has_more else ""
            },
        }

    @staticmethod
    def _conversation_type(ch: _Channel) -> str:
        if ch.is_im:
            return "im"
        if ch.is_mpim:
            return "mpim"
        return "private_channel" if ch.is_private else "public_channel"

    def _conversations_list(self, args: JsonDict) -> JsonDict:
        raw_types = str(args.get("types") or "")
        types = {t.strip() for t in raw_types.split(",") if t.strip()} or {"public_channel"}
        unknown = sorted(types - set(CONVERSATION_TYPES))
        if unknown:
            raise _ApiError("invalid_types", f"unknown conversation types: {', '.join(unknown)}")
        limit = _limit_arg(args, LIST_LIMIT_DEFAULT, LIST_LIMIT_MAX)
        exclude_archived = _flag(args.get("exclude_archived"))
        order = list(self._channels)
        start = _decode_cursor(args, "channel")
        if start is not None:
            if start not in self._channels:
                raise _ApiError("invalid_cursor", "cursor was not issued by this method")
            order = order[order.index(start) :]
        selected: list[_Channel] = []
        for cid in order:
            ch = self._channels[cid]
            kind = self._conversation_type(ch)
            if kind not in types or (exclude_archived and ch.is_archived):
                continue
            if kind != "public_channel" and self.bot_user_id not in ch.members:
                continue  # the bot cannot see private conversations it is not in
            selected.append(ch)
        page = selected[:limit]
        next_cursor = _encode_cursor("channel", selected[limit].id) if len(selected) > limit else ""
        return {
            "ok": True,
            "channels": [ch.to_slack(self.bot_user_id) for ch in page],
            "response_metadata": {"next_cursor": next_cursor},
        }

    def _permalink(self, ch: _Channel, message: JsonDict) -> str:
        url = f"{self.base_url}/archives/{ch.id}/p{message['ts'].replace('.', '')}"
        thread_ts = message.get("thread_ts")
        if thread_ts and thread_ts != message["ts"]:
            url += f"?thread_ts={thread_ts}&cid={ch.id}"
        return url

    def _chat_get_permalink(self, args: JsonDict) -> JsonDict:
        ch = self._visible(args["channel"])
        message = self._find_message(ch, args["message_ts"])
        return {"ok": True, "channel": ch.id, "permalink": self._permalink(ch, message)}

    def _users_info(self, args: JsonDict) -> JsonDict:
        return {"ok": True, "user": self._user(args["user"])}

    def _users_lookup_by_email(self, args: JsonDict) -> JsonDict:
        wanted = str(args["email"]).strip().lower()
        for user in self._users.values():
            email = user["profile"].get("email")
            if email and email.lower() == wanted:
                return {"ok": True, "user": user}
        raise _ApiError("users_not_found", f"no user with email {args['email']!r}")

    def _checked_view(self, args: JsonDict) -> JsonDict:
        if args.get("_view_unparseable"):
            raise _ApiError("invalid_arguments", "view must be a JSON object")
        view = args["view"]
        problems = validate_view(view)
        if problems:
            raise _ApiError("invalid_arguments", *problems)
        return view

    def _use_trigger(self, trigger_id: Any) -> None:
        entry = self._triggers.get(str(trigger_id))
        if entry is None:
            raise _ApiError("invalid_trigger_id", f"unknown trigger_id {trigger_id!r}")
        created, used = entry
        if used:
            raise _ApiError("exchanged_trigger_id", "trigger_id was already used")
        if self.trigger_ttl is not None and self.time_source() - created > self.trigger_ttl:
            raise _ApiError("expired_trigger_id", f"trigger_id is older than {self.trigger_ttl}s")
        self._triggers[str(trigger_id)] = (created, True)

    def _store_view(
        self, view: JsonDict, view_id: str | None = None, previous: str | None = None
    ) -> JsonDict:
        external_id = view.get("external_id")
        if external_id and view_id is None and external_id in self._external_ids:
            raise _ApiError("duplicate_external_id", f"external_id {external_id!r} in use")
        vid = view_id or self._new_id("V")
        stored: JsonDict = {
            "id": vid,
            "team_id": self.team_id,
            "app_id": "A0LOCAL",
            "bot_id": self.bot_id,
            "root_view_id": vid,
            "previous_view_id": previous,
            "callback_id": "",
            "private_metadata": "",
            "external_id": "",
            "state": {"values": {}},
            "hash": f"{int(time.time())}.{next(self._ids):08x}",
            "clear_on_close": False,
            "notify_on_close": False,
            **json.loads(json.dumps(view)),
        }
        if previous:
            stored["root_view_id"] = self._views.get(previous, {}).get("root_view_id", previous)
        self._views[vid] = stored
        if external_id:
            self._external_ids[external_id] = vid
        return stored

    def _views_open(self, args: JsonDict) -> JsonDict:
        view = self._checked_view(args)
        if view.get("type") != "modal":
            raise _ApiError("invalid_arguments", "view.type must be 'modal' for views.open")
        self._use_trigger(args["trigger_id"])
        return {"ok": True, "view": self._store_view(view)}

    def _views_push(self, args: JsonDict) -> JsonDict:
        view = self._checked_view(args)
        if view.get("type") != "modal":
            raise _ApiError("invalid_arguments", "view.type must be 'modal' for views.push")
        self._use_trigger(args["trigger_id"])
        return {"ok": True, "view": self._store_view(view)}

    def _views_update(self, args: JsonDict) -> JsonDict:
        view = self._checked_view(args)
        view_id = args.get("view_id")
        external_id = args.get("external_id")
        if not view_id and not external_id:
            raise _ApiError("invalid_arguments", "missing required field: view_id or external_id")
        if not view_id:
            view_id = self._external_ids.get(str(external_id))
        if not view_id or view_id not in self._views:
            raise _ApiError("not_found", f"no view {view_id or external_id!r}")
        current = self._views[view_id]
        if args.get("hash") and args["hash"] != current["hash"]:
            raise _ApiError("hash_conflict", "the view changed since this hash was issued")
        if view.get("type") != current.get("type"):
            raise _ApiError("invalid_arguments", "views.update cannot change the view type")
        stored = self._store_view(view, view_id=view_id, previous=current.get("previous_view_id"))
        stored["root_view_id"] = current.get("root_view_id", view_id)
        return {"ok": True, "view": stored}

    def _views_publish(self, args: JsonDict) -> JsonDict:
        view = self._checked_view(args)
        if view.get("type") != "home":
            raise _ApiError("invalid_arguments", "view.type must be 'home' for views.publish")
        user = self._user(args["user_id"])
        current_id = self._home_views.get(user["id"])
        if current_id and args.get("hash") and args["hash"] != self._views[current_id]["hash"]:
            raise _ApiError("hash_conflict", "the Home tab changed since this hash was issued")
        stored = self._store_view(view, view_id=current_id)
        self._home_views[user["id"]] = stored["id"]
        return {"ok": True, "view": stored}

    def _files_get_upload_url(self, args: JsonDict) -> JsonDict:
        try:
            length = int(args["length"])
        except (TypeError, ValueError) as exc:
            raise _ApiError("invalid_arguments", "length must be an integer") from exc
        if length <= 0:
            raise _ApiError("invalid_arguments", "length must be greater than 0")
        file_id = self._new_id("F")
        self._files[file_id] = UploadedFile(
            id=file_id, filename=str(args["filename"]), length=length, created=int(time.time())
        )
        return {"ok": True, "upload_url": f"{self.base_url}/upload/{file_id}", "file_id": file_id}

    def _files_complete_upload(self, args: JsonDict) -> JsonDict:
        entries = args["files"]
        if args.get("_files_unparseable") or not isinstance(entries, list) or not entries:
            raise _ApiError("invalid_arguments", "files must be a non-empty JSON array")
        pending: list[tuple[UploadedFile, JsonDict]] = []
        for entry in entries:
            if not isinstance(entry, dict) or not entry.get("id"):
                raise _ApiError("invalid_arguments", "each file needs an id")
            upload = self._files.get(str(entry["id"]))
            if upload is None or upload.deleted:
                raise _ApiError("file_not_found", f"no file {entry['id']!r}")
            if upload.content is None:
                raise _ApiError("file_not_found", f"file {entry['id']!r} was never uploaded")
            if upload.completed:
                raise _ApiError("invalid_arguments", f"file {entry['id']!r} already completed")
            pending.append((upload, entry))
        targets: list[_Channel] = []
        if args.get("channel_id"):
            targets.append(self._writable(args["channel_id"]))
        for cid in str(args.get("channels") or "").split(","):
            if cid.strip():
                targets.append(self._writable(cid.strip()))
        thread_ts = args.get("thread_ts")
        for upload, entry in pending:
            upload.title = entry.get("title") or upload.filename
            upload.completed = True
            upload.initial_comment = args.get("initial_comment")
            upload.thread_ts = str(thread_ts) if thread_ts else None
            upload.channels = [ch.id for ch in targets]
            upload.channel = targets[0].id if targets else None
        files = [u.to_slack(self.team_id, self.bot_user_id) for u, _ in pending]
        for ch in targets:
            content: JsonDict = {"text": args.get("initial_comment") or "", "files": files}
            self._store_message(ch, content, thread_ts)
        return {"ok": True, "files": files}

    def _live_file(self, file_id: Any) -> UploadedFile:
        upload = self._files.get(str(file_id))
        if upload is None or not upload.completed:
            raise _ApiError("file_not_found", f"no file {file_id!r}")
        if upload.deleted:
            raise _ApiError("file_deleted", f"file {file_id!r} was deleted")
        return upload

    def _files_info(self, args: JsonDict) -> JsonDict:
        upload = self._live_file(args["file"])
        return {"ok": True, "file": upload.to_slack(self.team_id, self.bot_user_id)}

    def _files_delete(self, args: JsonDict) -> JsonDict:
        self._live_file(args["file"]).deleted = True
        return {"ok": True}

    # -- non-API endpoints -------------------------------------------------

    def _handle_permalink(self, rest: str) -> tuple[int, dict[str, str], bytes]:
        """A permalink from chat.getPermalink: answers with the message it points at."""
        cid, _, digits = rest.partition("/")
        found: JsonDict | None = None
        if digits.startswith("p") and digits[1:].isdigit() and len(digits) > 7:
            ts = f"{digits[1:-6]}.{digits[-6:]}"
            with self._lock:
                for message in self._messages.get(cid, []):
                    if message["ts"] == ts:
                        found = json.loads(json.dumps(message))
        if found is None:
            return 404, {"Content-Type": "text/plain"}, b"message not found"
        return self._json_reply(200, {"ok": True, "channel": cid, "message": found})

    def _handle_upload(self, file_id: str, body: bytes) -> tuple[int, dict[str, str], bytes]:
        """The files.slack.com upload step of files_upload_v2."""
        args: JsonDict = {"file_id": file_id, "size": len(body)}
        forced, hold = self._before("upload", args, file_id)
        if forced is not None:
            return self._json_reply(*forced)
        with self._lock:
            upload = self._files.get(file_id)
            if upload is None or upload.completed:
                status, text = 404, "no such upload"
            elif len(body) != upload.length:
                status, text = 400, f"length mismatch: expected {upload.length}, got {len(body)}"
            else:
                upload.content = bytes(body)
                status, text = 200, f"OK - {len(body)}"
            self._record("upload", args, status, {"ok": status == 200, "text": text}, file_id)
        self._hold_answer(hold)
        return status, {"Content-Type": "text/plain"}, text.encode()

    def _handle_response_url(
        self, url_id: str, headers: dict[str, str], body: bytes
    ) -> tuple[int, dict[str, str], bytes]:
        """A post to a response_url, as Bolt's ``respond()`` sends it."""
        try:
            payload = json.loads(body.decode("utf-8")) if body else {}
            if not isinstance(payload, dict):
                raise ValueError("payload must be a JSON object")
        except ValueError:
            response = _error_body("invalid_payload", ["body must be a JSON object"])
            self._record("response_url", {}, 400, response, url_id)
            return self._json_reply(400, response)
        forced, hold = self._before("response_url", payload, url_id)
        if forced is not None:
            return self._json_reply(*forced)
        with self._lock:
            status, response = self._apply_response(url_id, payload)
            self._record("response_url", payload, status, response, url_id)
        self._hold_answer(hold)
        return self._json_reply(status, response)

    def _apply_response(self, url_id: str, payload: JsonDict) -> tuple[int, JsonDict]:
        entry = self._response_urls.get(url_id)
        if entry is None:
            return 404, _error_body("no_service", ["unknown response_url"])
        if self.time_source() - entry["created"] > RESPONSE_URL_TTL_SECONDS:
            return 404, _error_body("expired_url", ["response_url is older than 30 minutes"])
        if entry["uses"] >= RESPONSE_URL_MAX_USES:
            return 404, _error_body("used_url", [f"used more than {RESPONSE_URL_MAX_USES} times"])
        if payload.get("blocks") is not None:
            problems = validate_message_blocks(payload["blocks"])
            if problems:
                return 400, _error_body("invalid_blocks", problems)
        if not payload.get("delete_original") and not payload.get("text") and not payload.get("blocks"):
            return 400, _error_body("no_text", ["text or blocks is required"])
        entry["uses"] += 1
        channel = entry.get("channel")
        if payload.get("response_type") == "in_channel" and channel in self._channels:
            content: JsonDict = {k: payload[k] for k in ("text", "blocks") if k in payload}
            self._store_message(self._channels[channel], content, payload.get("thread_ts"))
        elif not payload.get("replace_original") and not payload.get("delete_original"):
            self._ephemerals.append(
                {"channel": channel, "user": entry.get("user"), "ts": self._new_ts(), **payload}
            )
        return 200, {"ok": True}
