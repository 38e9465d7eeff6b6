"""`python -m bot demo`: the real app on loopback, a local Slack, a fresh SQLite database, and a
scripted scenario sent as Slack would send it. Each capability adds its steps here."""

from __future__ import annotations

import json
import textwrap
import time
import urllib.request
from collections.abc import Callable
from datetime import UTC, datetime

from bot.clock import SettableClock
from bot.offline import OfflineBot

# The demo's people come from the sample partnership in schedules/.
SOCIAL_WORKER = "U0CSC001"

Step = Callable[[OfflineBot], None]


def _say(text: str) -> None:
    print(textwrap.indent(text, "    "))


def _slack_text(body: str) -> str:
    try:
        return str(json.loads(body).get("text", ""))
    except (ValueError, AttributeError):
        return body


def step_health(bot: OfflineBot) -> None:
    """The load balancer's health check asks the database."""
    with urllib.request.urlopen(f"{bot.base_url}/healthz", timeout=5) as response:
        _say(f"GET /healthz -> {response.status} {response.read().decode()}")


def step_forged_request(bot: OfflineBot) -> None:
    """A request with a forged signature is refused before any listener runs."""
    forged = bot.slack.command("/strategy", "help", user_id=SOCIAL_WORKER, signing_secret_override="wrong")
    stale = bot.slack.command(
        "/strategy", "help", user_id=SOCIAL_WORKER, timestamp_override=int(time.time()) - 600
    )
    _say(f"forged signature -> HTTP {forged.status}; ten-minute-old timestamp -> HTTP {stale.status}")


def step_strategy_help(bot: OfflineBot) -> None:
    """A social worker asks what `/strategy` can do; the answer is private to them."""
    response = bot.slack.command("/strategy", "help", user_id=SOCIAL_WORKER)
    _say(f"/strategy help -> HTTP {response.status}, ephemeral reply:")
    _say(textwrap.indent(_slack_text(response.body), "  | "))


def step_unknown_subcommand(bot: OfflineBot) -> None:
    """A mistyped sub-command gets usage help, not silence."""
    response = bot.slack.command("/strategy", "frobnicate", user_id=SOCIAL_WORKER)
    first_line = _slack_text(response.body).splitlines()[-1]
    _say(f"/strategy frobnicate -> {first_line}")


def step_home_tab(bot: OfflineBot) -> None:
    """Opening the Home tab publishes a view naming the person's agency and roles."""
    bot.slack.event({"type": "app_home_opened", "user": SOCIAL_WORKER, "tab": "home", "channel": "D0HOME"})
    published = bot.local_slack.wait_for(lambda calls: any(c.method == "views.publish" for c in calls))
    view = next(c for c in published if c.method == "views.publish").args["view"]
    if isinstance(view, str):
        view = json.loads(view)
    section = next(b for b in view["blocks"] if b["type"] == "section")
    _say("Home tab published:")
    _say(textwrap.indent(section["text"]["text"], "  | "))


SCENARIO: list[tuple[str, Step]] = [
    ("The bot answers its health check", step_health),
    ("Slack's signature is checked", step_forged_request),
    ("A social worker asks for help", step_strategy_help),
    ("A mistyped command", step_unknown_subcommand),
    ("The Home tab", step_home_tab),
]


def run_demo(*, verbose: bool = False) -> int:
    """Play the scenario and print each step; non-zero if a step fails."""
    clock = SettableClock(datetime.now(UTC))
    with OfflineBot(clock=clock) as bot:
        print("Safeguarding panel bot: offline demo")
        print(f"  app on {bot.server.events_url}")
        print(f"  local Slack Web API on {bot.local_slack.api_url}")
        print(f"  fresh SQLite database {bot.database_url.removeprefix('sqlite:///')}")
        print()
        for number, (title, step) in enumerate(SCENARIO, start=1):
            print(f"{number}. {title}")
            step(bot)
            print()
        methods: dict[str, int] = {}
        for call in bot.local_slack.calls:
            methods[call.method] = methods.get(call.method, 0) + 1
        made = ", ".join(f"{method} x{count}" for method, count in sorted(methods.items()))
        print(f"Web API calls the bot made: {made}")
    print("Demo finished.")
    return 0
