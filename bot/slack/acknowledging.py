"""Answer Slack the moment a listener acknowledges, not at the next 10 ms tick.

Left to itself (not "processing before response"), Bolt runs a listener on its executor and
the request's thread polls every 10 ms for the `ack()`: every answer waits up to 10 ms more
than the listener took, as much as the whole of a fast acknowledgement, and the wait differs
from one request to the next by the luck of the tick. Here the app processes "before
response" (Bolt runs the listener in the request's thread and answers when it returns), and
every listener is registered wrapped (`AcknowledgingApp`): the wrapper runs the listener on
the listener pool and waits for its `ack()` on an event, so the answer goes as soon as `ack()`
has been called, and what the listener does after its `ack()` carries on on the pool, exactly
as under Bolt's own runner. A failure before the `ack()` is raised in the request's thread for
Bolt's error handler, as before; a failure after it goes to the same report (`report_error`).
Events are acknowledged by Bolt itself: their listeners are handed to the pool at once.
"""

from __future__ import annotations

import inspect
import threading
from collections.abc import Callable
from concurrent.futures import Executor, Future, ThreadPoolExecutor
from typing import Any

from slack_bolt import App
from slack_sdk import WebClient

# Slack waits 3 s for an acknowledgement; waiting longer for one serves no one.
ACK_WAIT_SECONDS = 3.0
# What a listener's failure after its acknowledgement is reported with: the error, the
# request's body and the Web API client (see `bot.slack.errors.report_error`).
Report = Callable[[Exception, dict[str, Any], WebClient], None]
Listener = Callable[..., Any]
_ARGUMENT = inspect.Parameter.POSITIONAL_OR_KEYWORD
# Asked of Bolt for every listener: the ack to watch, and whom to tell about a failure.
_ALWAYS_ASKED = ("ack", "body", "client")


def answering_on_ack(
    listener: Listener, pool: Executor, report: Report, *, acknowledged_by_bolt: bool
) -> Listener:
    """`listener` wrapped to run on `pool`, returning once it has called `ack()` (or has
    finished, or 3 s have passed); with `acknowledged_by_bolt` (events) at once.

    Bolt gives a listener the arguments its signature names; the wrapper's signature is the
    listener's with `ack`, `body` and `client` added where missing, and the listener is
    called with only the ones it named."""
    signature = inspect.signature(listener)
    named = [name for name, parameter in signature.parameters.items() if parameter.kind is _ARGUMENT]
    added = [inspect.Parameter(name, _ARGUMENT, default=None) for name in _ALWAYS_ASKED if name not in named]
    # Bolt passes only plain named arguments (the positional-or-keyword ones).
    wrapper_parameters = [signature.parameters[name] for name in named] + added

    def answering(**given: Any) -> None:
        body, client = given["body"], given["client"]
        arguments = {name: given[name] for name in named}
        acknowledged, answered = threading.Event(), threading.Event()
        if "ack" in arguments:
            arguments["ack"] = _watched(given["ack"], acknowledged, answered)
        running: Future[Any] = pool.submit(listener, **arguments)
        if not acknowledged_by_bolt:
            running.add_done_callback(lambda _: answered.set())
            answered.wait(ACK_WAIT_SECONDS)
            if not acknowledged.is_set() and running.done():
                running.result()  # failed (or ended) before acknowledging: Bolt's handler answers
                return
        running.add_done_callback(lambda done: _report_failure(done, report, body, client))

    answering.__signature__ = inspect.Signature(wrapper_parameters)  # type: ignore[attr-defined]
    answering.__name__ = getattr(listener, "__name__", "listener")
    answering.__qualname__ = getattr(listener, "__qualname__", answering.__name__)
    answering.__doc__ = listener.__doc__
    answering.answers_on_ack = True  # type: ignore[attr-defined]
    return answering


def _watched(
    ack: Callable[..., Any], acknowledged: threading.Event, answered: threading.Event
) -> Callable[..., Any]:
    """`ack` that also says it has been called, once its answer is set."""

    def ack_and_answer(*args: Any, **kwargs: Any) -> Any:
        try:
            return ack(*args, **kwargs)
        finally:
            acknowledged.set()
            answered.set()

    return ack_and_answer


def _report_failure(done: Future[Any], report: Report, body: dict[str, Any], client: WebClient) -> None:
    error = done.exception()
    if isinstance(error, Exception):
        report(error, body, client)


class AcknowledgingApp(App):
    """A Bolt app whose listeners answer on their `ack()` (see the module's docstring).

    Only the registrations the bot uses are wrapped (`command`, `action`, `view`, `options`,
    `shortcut` and `event`); `tests/test_app.py` checks that every listener of the built app
    is wrapped, and that an answer does not wait for the work after the acknowledgement."""

    def __init__(self, *, pool: Executor | None, report: Report, **kwargs: Any) -> None:
        super().__init__(process_before_response=True, **kwargs)
        self._pool = pool or ThreadPoolExecutor(thread_name_prefix="bot-listener")
        self._report = report

    def _wrapping(
        self, register: Callable[..., Any], *, acknowledged_by_bolt: bool = False
    ) -> Callable[..., Any]:
        def decorator(*listeners: Listener) -> Listener:
            register(
                *(
                    answering_on_ack(
                        listener, self._pool, self._report, acknowledged_by_bolt=acknowledged_by_bolt
                    )
                    for listener in listeners
                )
            )
            return listeners[0]  # the name decorated stays the listener itself

        return decorator

    def command(self, *args: Any, **kwargs: Any) -> Any:
        return self._wrapping(super().command(*args, **kwargs))

    def action(self, *args: Any, **kwargs: Any) -> Any:
        return self._wrapping(super().action(*args, **kwargs))

    def view(self, *args: Any, **kwargs: Any) -> Any:
        return self._wrapping(super().view(*args, **kwargs))

    def options(self, *args: Any, **kwargs: Any) -> Any:
        return self._wrapping(super().options(*args, **kwargs))

    def shortcut(self, *args: Any, **kwargs: Any) -> Any:
        return self._wrapping(super().shortcut(*args, **kwargs))

    def event(self, *args: Any, **kwargs: Any) -> Any:
        return self._wrapping(super().event(*args, **kwargs), acknowledged_by_bolt=True)
