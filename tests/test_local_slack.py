"""The local Slack harness refuses what Slack refuses and signs requests as Slack does.

Every other Slack-facing test trusts this harness, so it is tested on its own here: with
the real slack_sdk client and a real Bolt app over HTTP.
"""

from __future__ import annotations

import json
import threading
import time
import urllib.request
from collections.abc import Iterator
from socketserver import ThreadingMixIn
from typing import Any
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

import pytest
from slack_bolt import App
from slack_bolt.adapter.wsgi import SlackRequestHandler
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.builtin_handlers import RateLimitErrorRetryHandler

from bot_offline.local_slack import (
    LocalSlack,
    SignedSlackClient,
    StateValue,
    validate_message_blocks,
    validate_view,
)
from bot_offline.local_slack.scopes import EVERY_SCOPE

TOKEN = "xoxb-local"
SECRET = "test-signing-secret"


def section(text: str = "hello", block_id: str | None = None) -> dict[str, Any]:
    block: dict[str, Any] = {"type": "section", "text": {"type": "mrkdwn", "text": text}}
    if block_id:
        block["block_id"] = block_id
    return block


def modal(title: str = "Strategy discussion", **extra: Any) -> dict[str, Any]:
    return {
        "type": "modal",
        "callback_id": "convene",
        "title": {"type": "plain_text", "text": title},
        "blocks": [section()],
        **extra,
    }


@pytest.fixture
def local() -> Iterator[LocalSlack]:
    # the harness itself is tested with every scope; the bot's tests get its manifest's
    with LocalSlack(bot_token=TOKEN, scopes=EVERY_SCOPE) as server:
        server.add_user("U0ALICE", "alice", email="alice@example.org")
        server.add_user("U0BOB", "bob", email="bob@example.org")
        yield server


@pytest.fixture
def client(local: LocalSlack) -> WebClient:
    return WebClient(token=TOKEN, base_url=local.api_url, timeout=5)


def open_modal(client: WebClient, local: LocalSlack, view: dict[str, Any]) -> dict[str, Any]:
    return client.views_open(trigger_id=local.new_trigger_id(), view=view).data


# ---------------------------------------------------------------------------
# Views
# ---------------------------------------------------------------------------


def test_modal_title_of_24_characters_is_accepted(client: WebClient, local: LocalSlack):
    answer = open_modal(client, local, modal("x" * 24))
    assert answer["ok"] is True
    assert answer["view"]["id"].startswith("V")
    assert local.view(answer["view"]["id"])["title"]["text"] == "x" * 24


def test_modal_title_of_25_characters_is_refused(client: WebClient, local: LocalSlack):
    with pytest.raises(SlackApiError) as caught:
        open_modal(client, local, modal("x" * 25))
    assert caught.value.response["error"] == "invalid_arguments"
    messages = caught.value.response["response_metadata"]["messages"]
    assert any("title" in m and "24" in m for m in messages)
    assert local.calls_to("views.open")[-1].response["ok"] is False


def test_view_limits():
    assert validate_view(modal()) == []
    too_many = modal(blocks=[section(str(i)) for i in range(101)])
    assert any("100" in p for p in validate_view(too_many))
    assert validate_view(modal(blocks=[section(str(i)) for i in range(100)])) == []
    assert any("private_metadata" in p for p in validate_view(modal(private_metadata="m" * 3001)))
    assert any("callback_id" in p for p in validate_view(modal(callback_id="c" * 256)))
    long_submit = modal(submit={"type": "plain_text", "text": "s" * 25})
    assert any("submit" in p for p in validate_view(long_submit))
    assert validate_view({"type": "dialog", "blocks": [section()]})


def test_modal_with_input_needs_submit_but_home_may_hold_input():
    input_block = {
        "type": "input",
        "block_id": "name",
        "label": {"type": "plain_text", "text": "Name"},
        "element": {"type": "plain_text_input", "action_id": "value"},
    }
    problems = validate_view(modal(blocks=[input_block]))
    assert any("submit" in p for p in problems)
    with_submit = modal(blocks=[input_block], submit={"type": "plain_text", "text": "Save"})
    assert validate_view(with_submit) == []
    assert validate_view({"type": "home", "blocks": [{**input_block, "dispatch_action": True}]}) == []
    home_with_submit = {"type": "home", "blocks": [section()], "submit": with_submit["submit"]}
    assert validate_view(home_with_submit)


def test_trigger_ids_are_single_use_and_expire(client: WebClient):
    now = [100.0]
    with LocalSlack(bot_token=TOKEN, time_source=lambda: now[0], scopes=EVERY_SCOPE) as server:
        web = WebClient(token=TOKEN, base_url=server.api_url)
        trigger = server.new_trigger_id()
        assert web.views_open(trigger_id=trigger, view=modal())["ok"]
        with pytest.raises(SlackApiError) as reused:
            web.views_open(trigger_id=trigger, view=modal())
        assert reused.value.response["error"] == "exchanged_trigger_id"
        late = server.new_trigger_id()
        now[0] += 3.5
        with pytest.raises(SlackApiError) as expired:
            web.views_open(trigger_id=late, view=modal())
        assert expired.value.response["error"] == "expired_trigger_id"
        with pytest.raises(SlackApiError) as unknown:
            web.views_open(trigger_id="123.456.nope", view=modal())
        assert unknown.value.response["error"] == "invalid_trigger_id"


def test_views_update_and_publish(client: WebClient, local: LocalSlack):
    opened = open_modal(client, local, modal(external_id="case-1"))["view"]
    updated = client.views_update(external_id="case-1", view=modal("Updated")).data["view"]
    assert updated["id"] == opened["id"]
    assert local.view(opened["id"])["title"]["text"] == "Updated"
    with pytest.raises(SlackApiError) as stale:
        client.views_update(view_id=opened["id"], hash=opened["hash"], view=modal())
    assert stale.value.response["error"] == "hash_conflict"

    home = {"type": "home", "blocks": [section("Your actions")]}
    first = client.views_publish(user_id="U0ALICE", view=home).data["view"]
    second = client.views_publish(user_id="U0ALICE", view=home).data["view"]
    assert first["id"] == second["id"]
    assert local.home_view("U0ALICE")["blocks"][0]["text"]["text"] == "Your actions"
    with pytest.raises(SlackApiError) as nobody:
        client.views_publish(user_id="U0NOBODY", view=home)
    assert nobody.value.response["error"] == "user_not_found"


# ---------------------------------------------------------------------------
# Messages and blocks
# ---------------------------------------------------------------------------


def test_unknown_block_type_is_refused(client: WebClient, local: LocalSlack):
    with pytest.raises(SlackApiError) as caught:
        client.chat_postMessage(channel="C0GENERAL", text="x", blocks=[{"type": "carousel2"}])
    assert caught.value.response["error"] == "invalid_blocks"
    assert "carousel2" in " ".join(caught.value.response["response_metadata"]["messages"])
    assert local.messages("C0GENERAL") == []
    assert local.calls_to("chat.postMessage")[-1].response["error"] == "invalid_blocks"


def test_fifty_blocks_accepted_fifty_one_refused(client: WebClient, local: LocalSlack):
    fifty = [section(str(i)) for i in range(50)]
    assert client.chat_postMessage(channel="C0GENERAL", text="ok", blocks=fifty)["ok"]
    with pytest.raises(SlackApiError) as caught:
        client.chat_postMessage(channel="C0GENERAL", text="no", blocks=[*fifty, section("51")])
    assert caught.value.response["error"] == "invalid_blocks"
    assert len(local.messages("C0GENERAL")) == 1


def test_block_limits_slack_sdk_alone_would_let_through():
    assert validate_message_blocks([section("s" * 3000)]) == []
    assert validate_message_blocks([section("s" * 3001)])
    header = {"type": "header", "text": {"type": "plain_text", "text": "h" * 150}}
    assert validate_message_blocks([header]) == []
    assert validate_message_blocks([{**header, "text": {"type": "plain_text", "text": "h" * 151}}])
    assert validate_message_blocks([{**header, "text": {"type": "mrkdwn", "text": "h"}}])

    def button(text: str, action_id: str) -> dict[str, Any]:
        return {
            "type": "button",
            "text": {"type": "plain_text", "text": text},
            "action_id": action_id,
        }

    assert validate_message_blocks([{"type": "actions", "elements": [button("b" * 75, "a")]}]) == []
    long_text = validate_message_blocks([{"type": "actions", "elements": [button("b" * 76, "a")]}])
    assert any("75" in p for p in long_text)
    long_id = validate_message_blocks([{"type": "actions", "elements": [button("b", "a" * 256)]}])
    assert any("action_id" in p for p in long_id)
    duplicate = [{"type": "actions", "elements": [button("x", "same"), button("y", "same")]}]
    assert any("duplicate action_id" in p for p in validate_message_blocks(duplicate))
    assert any(
        "duplicate block_id" in p for p in validate_message_blocks([section("a", "b1"), section("b", "b1")])
    )
    assert validate_message_blocks([section(block_id="b" * 256)])

    def select(count: int) -> list[dict[str, Any]]:
        options = [{"text": {"type": "plain_text", "text": str(i)}, "value": str(i)} for i in range(count)]
        element = {"type": "static_select", "action_id": "pick", "options": options}
        return [{"type": "actions", "elements": [element]}]

    assert validate_message_blocks(select(100)) == []
    assert validate_message_blocks(select(101))
    unknown_element = [{"type": "actions", "elements": [{"type": "buton", "action_id": "x"}]}]
    assert validate_message_blocks(unknown_element)
    assert validate_message_blocks([{"type": "section", "text": "not an object"}])
    assert validate_message_blocks([{**section(), "colour": "red"}])
    assert validate_message_blocks([section("")])


def test_missing_required_argument_is_named(client: WebClient, local: LocalSlack):
    with pytest.raises(SlackApiError) as caught:
        client.api_call("chat.update", json={"channel": "C0GENERAL", "text": "x"})
    assert caught.value.response["error"] == "invalid_arguments"
    assert "ts" in caught.value.response["response_metadata"]["messages"][0]
    with pytest.raises(SlackApiError) as no_text:
        client.chat_postMessage(channel="C0GENERAL")
    assert no_text.value.response["error"] == "no_text"


def test_tokens_are_checked(local: LocalSlack):
    anonymous = WebClient(base_url=local.api_url)
    with pytest.raises(SlackApiError) as missing:
        anonymous.api_call("auth.test")
    assert missing.value.response["error"] == "not_authed"
    with pytest.raises(SlackApiError) as wrong:
        WebClient(token="xoxb-wrong", base_url=local.api_url).auth_test()
    assert wrong.value.response["error"] == "invalid_auth"
    assert WebClient(token=TOKEN, base_url=local.api_url).auth_test()["user_id"] == "UBOT"


def test_unknown_method(client: WebClient):
    with pytest.raises(SlackApiError) as caught:
        client.api_call("chat.frobnicate")
    assert caught.value.response["error"] == "unknown_method"


def test_update_of_unknown_ts_is_message_not_found(client: WebClient, local: LocalSlack):
    posted = client.chat_postMessage(channel="C0GENERAL", text="first", blocks=[section("v1")])
    with pytest.raises(SlackApiError) as caught:
        client.chat_update(channel="C0GENERAL", ts="1.000001", text="x")
    assert caught.value.response["error"] == "message_not_found"
    client.chat_update(channel="C0GENERAL", ts=posted["ts"], text="second", blocks=[section("v2")])
    [message] = local.messages("C0GENERAL")
    assert message["text"] == "second"
    assert message["blocks"][0]["text"]["text"] == "v2"
    client.chat_delete(channel="C0GENERAL", ts=posted["ts"])
    assert local.messages("C0GENERAL") == []


def test_direct_message_by_user_id_uses_the_same_im(client: WebClient, local: LocalSlack):
    opened = client.conversations_open(users="U0ALICE")["channel"]["id"]
    assert opened.startswith("D")
    assert client.conversations_open(users="U0ALICE")["channel"]["id"] == opened
    assert client.chat_postMessage(channel="#general", text="by name")["channel"] == "C0GENERAL"
    posted = client.chat_postMessage(channel="U0ALICE", text="You have an action")
    assert posted["channel"] == opened
    assert local.messages(opened)[0]["text"] == "You have an action"
    with pytest.raises(SlackApiError) as caught:
        client.chat_postMessage(channel="C0MISSING", text="x")
    assert caught.value.response["error"] == "channel_not_found"


def test_ephemeral_needs_member(client: WebClient, local: LocalSlack):
    channel = client.conversations_create(name="s47-case-1")["channel"]["id"]
    with pytest.raises(SlackApiError) as caught:
        client.chat_postEphemeral(channel=channel, user="U0ALICE", text="hi")
    assert caught.value.response["error"] == "user_not_in_channel"
    client.conversations_invite(channel=channel, users="U0ALICE")
    assert client.chat_postEphemeral(channel=channel, user="U0ALICE", text="hi")["message_ts"]
    assert local.ephemerals()[0]["user"] == "U0ALICE"


def test_conversations_create_rules(client: WebClient, local: LocalSlack):
    created = client.conversations_create(name="s47-case-0042", is_private=True)["channel"]
    assert created["is_private"] is True
    assert local.channel(created["id"])["name"] == "s47-case-0042"
    for bad, error in [
        ("Case-42", "invalid_name_specials"),
        ("case 42", "invalid_name_specials"),
        ("c" * 81, "invalid_name_maxlength"),
        ("s47-case-0042", "name_taken"),
    ]:
        with pytest.raises(SlackApiError) as caught:
            client.conversations_create(name=bad)
        assert caught.value.response["error"] == error, bad
    assert client.conversations_create(name="c" * 80)["ok"]


def test_invite_reports_each_user(client: WebClient, local: LocalSlack):
    channel = client.conversations_create(name="panel")["channel"]["id"]
    client.conversations_invite(channel=channel, users="U0ALICE")
    with pytest.raises(SlackApiError) as caught:
        client.conversations_invite(channel=channel, users=["U0ALICE", "U0BOB", "U0GHOST"])
    response = caught.value.response
    assert response["error"] == "already_in_channel"
    assert {e["user"]: e["error"] for e in response["errors"]} == {
        "U0ALICE": "already_in_channel",
        "U0GHOST": "user_not_found",
    }
    assert "U0BOB" not in client.conversations_members(channel=channel)["members"]
    forced = client.conversations_invite(channel=channel, users="U0BOB,U0GHOST", force=True)
    assert forced["errors"][0]["user"] == "U0GHOST"
    assert "U0BOB" in client.conversations_members(channel=channel)["members"]
    client.conversations_archive(channel=channel)
    assert client.conversations_info(channel=channel)["channel"]["is_archived"] is True
    with pytest.raises(SlackApiError) as archived:
        client.chat_postMessage(channel=channel, text="x")
    assert archived.value.response["error"] == "is_archived"


def test_users_lookup(client: WebClient):
    assert client.users_lookupByEmail(email="Alice@example.org")["user"]["id"] == "U0ALICE"
    with pytest.raises(SlackApiError) as caught:
        client.users_lookupByEmail(email="nobody@example.org")
    assert caught.value.response["error"] == "users_not_found"
    with pytest.raises(SlackApiError) as missing:
        client.users_info(user="U0NOBODY")
    assert missing.value.response["error"] == "user_not_found"


# ---------------------------------------------------------------------------
# Files
# ---------------------------------------------------------------------------


def test_files_upload_v2_end_to_end(client: WebClient, local: LocalSlack):
    content = b"PK\x03\x04 minutes of the strategy discussion"
    result = client.files_upload_v2(channel="C0GENERAL", content=content, filename="x.docx", title="Minutes")
    file_id = result["file"]["id"]
    [uploaded] = local.uploaded_files()
    assert uploaded.id == file_id
    assert uploaded.content == content
    assert uploaded.title == "Minutes"
    assert uploaded.channel == "C0GENERAL"
    assert client.files_info(file=file_id)["file"]["channels"] == ["C0GENERAL"]
    client.files_delete(file=file_id)
    with pytest.raises(SlackApiError) as caught:
        client.files_info(file=file_id)
    assert caught.value.response["error"] == "file_deleted"


def test_upload_with_wrong_length_is_refused(client: WebClient, local: LocalSlack):
    ticket = client.files_getUploadURLExternal(filename="a.txt", length=10)
    request = urllib.request.Request(ticket["upload_url"], data=b"short", method="POST")
    with pytest.raises(urllib.error.HTTPError) as caught:
        urllib.request.urlopen(request, timeout=5)
    assert caught.value.code == 400
    assert local.uploaded_files() == []
    with pytest.raises(SlackApiError) as incomplete:
        client.files_completeUploadExternal(files=[{"id": ticket["file_id"], "title": "a"}])
    assert incomplete.value.response["error"] == "file_not_found"


# ---------------------------------------------------------------------------
# Fault injection
# ---------------------------------------------------------------------------


def test_rate_limit_is_retried_after_retry_after(local: LocalSlack):
    web = WebClient(
        token=TOKEN,
        base_url=local.api_url,
        retry_handlers=[RateLimitErrorRetryHandler(max_retry_count=2)],
    )
    local.fail_next("chat.postMessage", status=429, retry_after=1)
    started = time.monotonic()
    assert web.chat_postMessage(channel="C0GENERAL", text="hi")["ok"]
    assert time.monotonic() - started >= 0.9
    calls = local.calls_to("chat.postMessage")
    assert [c.status for c in calls] == [429, 200]
    assert calls[0].response["error"] == "ratelimited"
    assert len(local.messages("C0GENERAL")) == 1


def test_rate_limit_without_retry_handler_surfaces(client: WebClient, local: LocalSlack):
    local.fail_next("chat.postMessage", status=429, retry_after=7)
    with pytest.raises(SlackApiError) as caught:
        client.chat_postMessage(channel="C0GENERAL", text="hi")
    assert caught.value.response.status_code == 429
    assert caught.value.response.headers["Retry-After"] == "7"
    assert local.messages("C0GENERAL") == []


def test_server_error_is_a_500(client: WebClient, local: LocalSlack):
    local.fail_next("chat.postMessage", status=500, times=2)
    for _ in range(2):
        with pytest.raises(SlackApiError) as caught:
            client.chat_postMessage(channel="C0GENERAL", text="hi")
        assert caught.value.response.status_code == 500
    assert client.chat_postMessage(channel="C0GENERAL", text="hi")["ok"]
    assert [c.status for c in local.calls_to("chat.postMessage")] == [500, 500, 200]
    assert len(local.messages("C0GENERAL")) == 1


def test_error_next_changes_nothing(client: WebClient, local: LocalSlack):
    local.error_next("conversations.create", error="restricted_action")
    with pytest.raises(SlackApiError) as caught:
        client.conversations_create(name="never-made")
    assert caught.value.response["error"] == "restricted_action"
    assert local.channel_id_by_name("never-made") is None
    assert client.conversations_create(name="never-made")["ok"]


def test_stall_makes_a_client_time_out(local: LocalSlack):
    impatient = WebClient(token=TOKEN, base_url=local.api_url, timeout=1)
    local.stall("chat.postMessage", seconds=2)
    started = time.monotonic()
    with pytest.raises(TimeoutError):
        impatient.chat_postMessage(channel="C0GENERAL", text="slow")
    assert time.monotonic() - started < 1.9
    # Slack finishes the work even though the client gave up: the bot must be idempotent.
    local.wait_for(lambda calls: any(c.method == "chat.postMessage" for c in calls), timeout=5)
    assert local.messages("C0GENERAL")[0]["text"] == "slow"


def test_wait_for_times_out_with_what_was_seen(client: WebClient, local: LocalSlack):
    client.auth_test()
    with pytest.raises(TimeoutError, match=r"auth\.test"):
        local.wait_for(lambda calls: any(c.method == "views.open" for c in calls), timeout=0.2)


def test_calls_are_recorded_from_many_threads(local: LocalSlack):
    def post(n: int) -> None:
        WebClient(token=TOKEN, base_url=local.api_url).chat_postMessage(channel="C0GENERAL", text=str(n))

    threads = [threading.Thread(target=post, args=(n,)) for n in range(20)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(local.calls_to("chat.postMessage")) == 20
    timestamps = [m["ts"] for m in local.messages("C0GENERAL")]
    assert len(set(timestamps)) == 20
    local.reset_calls()
    assert local.calls == []


# ---------------------------------------------------------------------------
# Signed requests against a real Bolt app
# ---------------------------------------------------------------------------


class _ThreadingWSGIServer(ThreadingMixIn, WSGIServer):
    daemon_threads = True


class _QuietHandler(WSGIRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture
def bolt(local: LocalSlack) -> Iterator[tuple[SignedSlackClient, dict[str, Any]]]:
    seen: dict[str, Any] = {}
    app = App(
        token=TOKEN,
        signing_secret=SECRET,
        client=WebClient(token=TOKEN, base_url=local.api_url),
    )

    @app.command("/strategy")
    def strategy(ack: Any, respond: Any, command: dict[str, Any]) -> None:
        ack()
        seen["command"] = command
        respond(text=f"Convening for {command['text']}")

    @app.action("approve")
    def approve(ack: Any, body: dict[str, Any], respond: Any) -> None:
        ack()
        seen["action"] = body
        respond(text="approved", replace_original=True)

    @app.view("convene")
    def convene(ack: Any, view: dict[str, Any]) -> None:
        values = view["state"]["values"]
        if not values["name"]["value"]["value"]:
            ack(response_action="errors", errors={"name": "Enter a name"})
            return
        ack()
        seen["view"] = view

    @app.event("app_home_opened")
    def home_opened(event: dict[str, Any], client: WebClient) -> None:
        client.views_publish(user_id=event["user"], view={"type": "home", "blocks": [section()]})

    handler = SlackRequestHandler(app)
    server = make_server(
        "127.0.0.1", 0, handler, server_class=_ThreadingWSGIServer, handler_class=_QuietHandler
    )
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    url = f"http://127.0.0.1:{server.server_address[1]}/slack/events"
    try:
        yield SignedSlackClient(url, SECRET, local), seen
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


def test_signed_command_reaches_handler_and_respond_arrives(local: LocalSlack, bolt):
    signed, seen = bolt
    response = signed.command("/strategy", "case 42", user_id="U0ALICE")
    assert response.status == 200
    [reply] = local.wait_for(lambda calls: [c for c in calls if c.method == "response_url"])[-1:]
    assert reply.args["text"] == "Convening for case 42"
    assert seen["command"]["user_name"] == "alice"
    assert seen["command"]["channel_name"] == "general"
    assert seen["command"]["trigger_id"]
    assert local.responses()[0].args["text"] == "Convening for case 42"


def test_bad_signature_and_stale_timestamp_are_refused(local: LocalSlack, bolt):
    signed, seen = bolt
    assert signed.command("/strategy", "x", signing_secret_override="wrong").status == 401
    stale = signed.command("/strategy", "x", timestamp_override=int(time.time()) - 600)
    assert stale.status == 401
    assert signed.command("/strategy", "x", unsigned=True).status == 401
    time.sleep(0.2)
    assert "command" not in seen
    assert local.responses() == []


def test_block_action_on_a_message(local: LocalSlack, bolt):
    signed, seen = bolt
    message = {"type": "message", "ts": "1700000000.000100", "text": "Approve?"}
    action = {"type": "button", "action_id": "approve", "block_id": "b", "value": "7"}
    response = signed.block_actions("U0BOB", [action], message=message, channel_id="C0GENERAL")
    assert response.status == 200
    local.wait_for(lambda calls: any(c.method == "response_url" for c in calls))
    assert seen["action"]["actions"][0]["value"] == "7"
    assert seen["action"]["container"]["message_ts"] == "1700000000.000100"
    assert local.responses()[0].args["replace_original"] is True


def test_view_submission_with_state(local: LocalSlack, bolt):
    signed, seen = bolt
    view = modal(submit={"type": "plain_text", "text": "Save"})
    refused = signed.view_submission("U0ALICE", view, values={"name": {"value": StateValue.text("")}})
    assert refused.status == 200
    assert refused.json() == {"response_action": "errors", "errors": {"name": "Enter a name"}}
    values = {
        "name": {"value": StateValue.text("Case 42")},
        "when": {"date": StateValue.datepicker("2025-03-04")},
        "who": {"people": StateValue.multi_users_select(["U0ALICE", "U0BOB"])},
    }
    accepted = signed.view_submission("U0ALICE", view, values=values)
    assert accepted.status == 200
    assert accepted.body == ""
    state = seen["view"]["state"]["values"]
    assert state["when"]["date"]["selected_date"] == "2025-03-04"
    assert state["who"]["people"]["selected_users"] == ["U0ALICE", "U0BOB"]


def test_events_and_url_verification(local: LocalSlack, bolt):
    signed, _ = bolt
    assert signed.url_verification("abc123").json() == {"challenge": "abc123"}
    response = signed.event({"type": "app_home_opened", "user": "U0ALICE", "tab": "home"})
    assert response.status == 200
    local.wait_for(lambda calls: any(c.method == "views.publish" for c in calls))
    assert local.home_view("U0ALICE") is not None
    retried = signed.event(
        {"type": "app_home_opened", "user": "U0ALICE", "tab": "home"},
        retry_num=1,
        retry_reason="http_timeout",
        event_id="Ev0000000001",
    )
    assert retried.status == 200


def test_response_url_refuses_bad_blocks_and_overuse(local: LocalSlack):
    url = local.new_response_url("C0GENERAL", "U0ALICE")

    def post(payload: dict[str, Any]) -> int:
        request = urllib.request.Request(
            url,
            data=json.dumps(payload).encode(),
            headers={"Content-Type": "application/json"},
            method="POST",
        )
        try:
            with urllib.request.urlopen(request, timeout=5) as answer:
                return answer.status
        except urllib.error.HTTPError as error:
            return error.code

    assert post({"text": "x", "blocks": [{"type": "nope"}]}) == 400
    assert [post({"text": str(n)}) for n in range(6)] == [200] * 5 + [404]
    assert len(local.responses()) == 5


# ---------------------------------------------------------------------------
# Message metadata, history, listing and permalinks (what outbox recovery reads)
# ---------------------------------------------------------------------------


def outbox(key: str) -> dict[str, Any]:
    return {"event_type": "outbox", "event_payload": {"key": key}}


def history(client: WebClient, channel: str, **kwargs: Any) -> list[dict[str, Any]]:
    return client.conversations_history(channel=channel, **kwargs)["messages"]


def test_metadata_round_trip_is_shown_only_with_include_all_metadata(client: WebClient, local: LocalSlack):
    posted = client.chat_postMessage(channel="C0GENERAL", text="one", metadata=outbox("k-1"))
    assert posted["message"]["metadata"] == outbox("k-1")
    # A form post carries metadata as a JSON string, as slack_sdk sends it in form data.
    form = client.api_call(
        "chat.postMessage",
        data={"channel": "C0GENERAL", "text": "two", "metadata": json.dumps(outbox("k-2"))},
    )
    plain = client.chat_postMessage(channel="C0GENERAL", text="three")

    hidden = history(client, "C0GENERAL")
    assert [m["text"] for m in hidden] == ["three", "two", "one"]
    assert all("metadata" not in m for m in hidden)
    hidden_explicitly = history(client, "C0GENERAL", include_all_metadata=False)
    assert all("metadata" not in m for m in hidden_explicitly)

    shown = {m["ts"]: m.get("metadata") for m in history(client, "C0GENERAL", include_all_metadata=True)}
    assert shown == {posted["ts"]: outbox("k-1"), form["ts"]: outbox("k-2"), plain["ts"]: None}
    assert local.message_metadata("C0GENERAL", form["ts"]) == outbox("k-2")
    assert local.message_metadata("C0GENERAL", plain["ts"]) is None

    # chat.update keeps metadata it is not given, replaces it when given, and drops it on {}.
    client.chat_update(channel="C0GENERAL", ts=posted["ts"], text="one, edited")
    assert local.message_metadata("C0GENERAL", posted["ts"]) == outbox("k-1")
    client.chat_update(channel="C0GENERAL", ts=posted["ts"], text="again", metadata=outbox("k-9"))
    assert local.message_metadata("C0GENERAL", posted["ts"]) == outbox("k-9")
    client.chat_update(channel="C0GENERAL", ts=posted["ts"], text="bare", metadata={})
    assert local.message_metadata("C0GENERAL", posted["ts"]) is None


@pytest.mark.parametrize(
    ("metadata", "error"),
    [
        ({"event_payload": {"key": "k"}}, "invalid_metadata_schema"),
        ({"event_type": "", "event_payload": {"key": "k"}}, "invalid_metadata_schema"),
        ({"event_type": "x" * 256, "event_payload": {"key": "k"}}, "invalid_metadata_schema"),
        ({"event_type": 7, "event_payload": {"key": "k"}}, "invalid_metadata_schema"),
        ({"event_type": "outbox", "event_payload": ["k"]}, "invalid_metadata_schema"),
        ({"event_type": "outbox"}, "invalid_metadata_schema"),
        ({"event_type": "outbox", "event_payload": {}, "extra": 1}, "invalid_metadata_schema"),
        ({}, "invalid_metadata_schema"),
        ("{not json", "invalid_metadata_format"),
        ('["outbox"]', "invalid_metadata_format"),
    ],
)
def test_bad_metadata_is_refused(client: WebClient, local: LocalSlack, metadata: Any, error: str):
    with pytest.raises(SlackApiError) as caught:
        client.api_call("chat.postMessage", json={"channel": "C0GENERAL", "text": "x", "metadata": metadata})
    assert caught.value.response["error"] == error
    assert local.messages("C0GENERAL") == []

    posted = client.chat_postMessage(channel="C0GENERAL", text="kept", metadata=outbox("k"))
    if metadata != {}:  # on chat.update an empty object clears the metadata instead
        with pytest.raises(SlackApiError) as on_update:
            client.api_call(
                "chat.update",
                json={
                    "channel": "C0GENERAL",
                    "ts": posted["ts"],
                    "text": "y",
                    "metadata": metadata,
                },
            )
        assert on_update.value.response["error"] == error
    [message] = local.messages("C0GENERAL")
    assert message["text"] == "kept"
    assert message["metadata"] == outbox("k")


def test_metadata_event_type_of_255_characters_is_accepted(client: WebClient, local: LocalSlack):
    metadata = {"event_type": "e" * 255, "event_payload": {}}
    posted = client.chat_postMessage(channel="C0GENERAL", text="x", metadata=metadata)
    assert local.message_metadata("C0GENERAL", posted["ts"]) == metadata


def test_history_is_newest_first_and_pages_with_cursors(client: WebClient, local: LocalSlack):
    sent = [client.chat_postMessage(channel="C0GENERAL", text=f"m{n}")["ts"] for n in range(7)]
    client.chat_postMessage(channel="C0GENERAL", text="in a thread", thread_ts=sent[0])

    seen: list[str] = []
    cursor = None
    pages = []
    while True:
        page = client.conversations_history(channel="C0GENERAL", limit=3, cursor=cursor)
        pages.append(page)
        seen.extend(m["text"] for m in page["messages"])
        cursor = page["response_metadata"]["next_cursor"]
        if not cursor:
            break
    assert seen == [f"m{n}" for n in reversed(range(7))]  # thread replies are not history
    assert [len(p["messages"]) for p in pages] == [3, 3, 1]
    assert [p["has_more"] for p in pages] == [True, True, False]
    # slack_sdk's own pagination (iterating the response) follows the same cursors.
    iterated = [
        m["text"]
        for page in client.conversations_history(channel="C0GENERAL", limit=2)
        for m in page["messages"]
    ]
    assert iterated == seen
    parent = next(m for m in history(client, "C0GENERAL") if m["ts"] == sent[0])
    assert parent["reply_count"] == 1

    def texts(**kwargs: Any) -> list[str]:
        return [m["text"] for m in history(client, "C0GENERAL", **kwargs)]

    assert texts(oldest=sent[4]) == ["m6", "m5"]
    assert texts(oldest=sent[4], inclusive=True) == ["m6", "m5", "m4"]
    assert texts(latest=sent[2]) == ["m1", "m0"]
    assert texts(latest=sent[2], inclusive=True) == ["m2", "m1", "m0"]
    assert texts(oldest=sent[1], latest=sent[5]) == ["m4", "m3", "m2"]
    assert texts(limit=5000) == seen  # capped at 999, not refused

    for bad, error in [
        ({"cursor": "not-a-cursor"}, "invalid_cursor"),
        ({"oldest": "yesterday"}, "invalid_ts_oldest"),
        ({"latest": "soon"}, "invalid_ts_latest"),
        ({"limit": "many"}, "invalid_limit"),
    ]:
        with pytest.raises(SlackApiError) as caught:
            client.conversations_history(channel="C0GENERAL", **bad)
        assert caught.value.response["error"] == error, bad


def test_history_needs_a_conversation_the_bot_can_read(client: WebClient, local: LocalSlack):
    with pytest.raises(SlackApiError) as missing:
        client.api_call("conversations.history", params={})
    assert missing.value.response["error"] == "invalid_arguments"
    assert "channel" in missing.value.response["response_metadata"]["messages"][0]
    outside_public = local.add_channel("town-hall", bot_is_member=False)
    outside_private = local.add_channel("hr", is_private=True, bot_is_member=False)
    for channel, error in [
        ("C0MISSING", "channel_not_found"),
        (outside_public, "not_in_channel"),
        (outside_private, "channel_not_found"),  # the bot cannot see it at all
    ]:
        with pytest.raises(SlackApiError) as caught:
            client.conversations_history(channel=channel)
        assert caught.value.response["error"] == error, channel
    assert local.calls_to("conversations.history")[-1].response["ok"] is False
    created = client.conversations_create(name="s47-case-7", is_private=True)["channel"]["id"]
    client.chat_postMessage(channel=created, text="private note")
    assert [m["text"] for m in history(client, created)] == ["private note"]


def test_history_of_a_dm_posted_by_user_id(client: WebClient, local: LocalSlack):
    posted = client.chat_postMessage(channel="U0BOB", text="You have an action", metadata=outbox("dm-1"))
    dm = posted["channel"]
    assert dm.startswith("D")
    assert client.conversations_open(users="U0BOB")["channel"]["id"] == dm
    [message] = history(client, dm, include_all_metadata=True)
    assert message["text"] == "You have an action"
    assert message["metadata"]["event_payload"] == {"key": "dm-1"}
    assert local.message_metadata("U0BOB", posted["ts"]) == outbox("dm-1")
    group = client.conversations_open(users="U0ALICE,U0BOB")["channel"]["id"]
    client.chat_postMessage(channel=group, text="to both")
    assert [m["text"] for m in history(client, group)] == ["to both"]


def test_conversations_list_filters_by_type_and_membership(client: WebClient, local: LocalSlack):
    outside_public = local.add_channel("town-hall", bot_is_member=False)
    outside_private = local.add_channel("hr", is_private=True, bot_is_member=False)
    private = client.conversations_create(name="s47-case-1", is_private=True)["channel"]["id"]
    archived = client.conversations_create(name="old-panel", is_private=True)["channel"]["id"]
    client.conversations_archive(channel=archived)
    dm = client.conversations_open(users="U0ALICE")["channel"]["id"]
    group = client.conversations_open(users="U0ALICE,U0BOB")["channel"]["id"]

    def ids(**kwargs: Any) -> list[str]:
        return [c["id"] for c in client.conversations_list(**kwargs)["channels"]]

    listed = client.conversations_list()["channels"]
    assert [c["id"] for c in listed] == ["C0GENERAL", outside_public]  # default: public only
    assert {c["id"]: c["is_member"] for c in listed} == {"C0GENERAL": True, outside_public: False}
    assert ids(types="private_channel") == [private, archived]
    assert outside_private not in ids(types="public_channel,private_channel,im,mpim")
    assert ids(types="private_channel", exclude_archived=True) == [private]
    assert ids(types="im") == [dm]
    assert ids(types="mpim") == [group]
    assert ids(types="public_channel, private_channel") == [
        "C0GENERAL",
        outside_public,
        private,
        archived,
    ]
    found = next(c for c in client.conversations_list(types="private_channel")["channels"])
    assert found["name"] == "s47-case-1"
    assert found["is_private"] is True
    with pytest.raises(SlackApiError) as caught:
        client.conversations_list(types="public_channel,shared_channel")
    assert caught.value.response["error"] == "invalid_types"


def test_conversations_list_pages_with_cursors(client: WebClient, local: LocalSlack):
    made = [local.add_channel(f"case-{n}", is_private=True) for n in range(5)]
    pages = []
    cursor = None
    while True:
        page = client.conversations_list(types="private_channel", limit=2, cursor=cursor)
        pages.append([c["id"] for c in page["channels"]])
        cursor = page["response_metadata"]["next_cursor"]
        if not cursor:
            break
    assert pages == [made[0:2], made[2:4], made[4:]]
    iterated = [
        c["id"]
        for page in client.conversations_list(types="private_channel", limit=3)
        for c in page["channels"]
    ]
    assert iterated == made
    with pytest.raises(SlackApiError) as caught:
        client.conversations_list(cursor="bm9wZQ==")
    assert caught.value.response["error"] == "invalid_cursor"


def test_permalink_points_at_the_message_on_the_local_server(client: WebClient, local: LocalSlack):
    posted = client.chat_postMessage(channel="C0GENERAL", text="minutes are ready")
    link = client.chat_getPermalink(channel="C0GENERAL", message_ts=posted["ts"])
    assert link["channel"] == "C0GENERAL"
    expected = f"{local.base_url}/archives/C0GENERAL/p{posted['ts'].replace('.', '')}"
    assert link["permalink"] == expected
    with urllib.request.urlopen(link["permalink"], timeout=5) as page:
        assert json.loads(page.read())["message"]["text"] == "minutes are ready"
    reply = client.chat_postMessage(channel="C0GENERAL", text="r", thread_ts=posted["ts"])
    threaded = client.chat_getPermalink(channel="C0GENERAL", message_ts=reply["ts"])["permalink"]
    assert threaded.endswith(f"?thread_ts={posted['ts']}&cid=C0GENERAL")

    with pytest.raises(SlackApiError) as unknown:
        client.chat_getPermalink(channel="C0GENERAL", message_ts="1.000001")
    assert unknown.value.response["error"] == "message_not_found"
    with pytest.raises(urllib.error.HTTPError) as gone:
        urllib.request.urlopen(f"{local.base_url}/archives/C0GENERAL/p1000001", timeout=5)
    assert gone.value.code == 404
    with pytest.raises(SlackApiError) as missing:
        client.api_call("chat.getPermalink", params={"channel": "C0GENERAL"})
    assert missing.value.response["error"] == "invalid_arguments"
    assert "message_ts" in missing.value.response["response_metadata"]["messages"][0]


def test_faults_apply_to_the_read_methods(client: WebClient, local: LocalSlack):
    posted = client.chat_postMessage(channel="C0GENERAL", text="x")
    local.error_next("conversations.history", error="ratelimited")
    local.fail_next("conversations.list", status=500)
    local.error_next("chat.getPermalink", error="internal_error")
    with pytest.raises(SlackApiError) as history_error:
        client.conversations_history(channel="C0GENERAL")
    assert history_error.value.response["error"] == "ratelimited"
    with pytest.raises(SlackApiError) as list_error:
        client.conversations_list()
    assert list_error.value.response.status_code == 500
    with pytest.raises(SlackApiError) as link_error:
        client.chat_getPermalink(channel="C0GENERAL", message_ts=posted["ts"])
    assert link_error.value.response["error"] == "internal_error"
    assert [c.ok for c in local.calls_to("conversations.list")] == [False]
    assert client.conversations_history(channel="C0GENERAL")["messages"][0]["text"] == "x"
    assert client.conversations_list()["channels"]
    local.stall("conversations.list", seconds=2)
    with pytest.raises(TimeoutError):
        WebClient(token=TOKEN, base_url=local.api_url, timeout=1).conversations_list()


@pytest.mark.parametrize("after", [False, True])
def test_stalled_post_still_lands_and_history_finds_it_by_key(local: LocalSlack, after: bool):
    impatient = WebClient(token=TOKEN, base_url=local.api_url, timeout=1)
    local.stall("chat.postMessage", seconds=2, after=after)
    started = time.monotonic()
    with pytest.raises(TimeoutError):
        impatient.chat_postMessage(channel="U0ALICE", text="slow", metadata=outbox("k-stall"))
    assert time.monotonic() - started < 1.9
    if not after:  # the work happens once the stall ends
        local.wait_for(lambda calls: any(c.method == "chat.postMessage" for c in calls))
    # What the bot's retry does: look for its key before sending again.
    dm = impatient.conversations_open(users="U0ALICE")["channel"]["id"]
    found = [
        m
        for m in history(impatient, dm, include_all_metadata=True)
        if (m.get("metadata") or {}).get("event_payload", {}).get("key") == "k-stall"
    ]
    assert [m["text"] for m in found] == ["slow"]
    assert [c.ok for c in local.calls_to("chat.postMessage")] == [True]
