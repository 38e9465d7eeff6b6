"""Work after an acknowledgement, off the listener threads.

A listener validates, acknowledges, then hands what follows (its transaction, its Web API
calls) to `after_ack`. The listener thread is then free for the next request at once, so
an acknowledgement never waits for a thread that is busy writing or calling Slack. What
follows still runs after the ack, started in the order it was handed over; a failure is
logged and the person told, exactly as Bolt's error handler does for a failing listener.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from slack_sdk import WebClient

from bot.runtime import Runtime
from bot.slack.errors import report_error


def after_ack(
    runtime: Runtime,
    body: dict[str, Any],
    client: WebClient,
    work: Callable[..., object],
    /,
    *args: Any,
    **kwargs: Any,
) -> None:
    """Run `work(*args, **kwargs)` on the runtime's follow-up pool; call it only once
    `ack()` has been called. `body` and `client` say whom to tell about a failure."""

    def follow_up() -> None:
        try:
            work(*args, **kwargs)
        except Exception as error:
            report_error(runtime.settings.templates_dir, error, body, client)

    runtime.after_ack(follow_up)


# A list's *Previous* and *Next* buttons carry the page asked for (after the last ':'); a
# forged number beyond any real list is capped rather than turned into a huge OFFSET.
LAST_PAGE = 100_000


def asked_page(value: str) -> int:
    """The page a list's button asks for: its value's last ':'-separated part, capped."""
    asked = value.split(":")[-1]
    return min(int(asked), LAST_PAGE) if asked.isdigit() else 0


def replace_with_page(
    runtime: Runtime,
    body: dict[str, Any],
    client: WebClient,
    respond: Callable[..., object],
    page: Callable[[], dict[str, Any]],
) -> None:
    """After the ack, the list message is replaced, for the person only, by `page()`."""
    after_ack(
        runtime, body, client, lambda: respond(response_type="ephemeral", replace_original=True, **page())
    )
