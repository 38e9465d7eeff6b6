"""The bot as people run it: `python -m bot run` in HTTP mode, and `python -m bot demo`."""

from __future__ import annotations

import json
import os
import re
import socket
import subprocess
import sys
import time
import urllib.request
from itertools import pairwise
from pathlib import Path

import pytest
import yaml

from bot_offline.driver import SAMPLE_CHILD_NAME
from bot_offline.local_slack import LocalSlack, SignedSlackClient
from bot_offline.partner_browser import chromium_installed

ROOT = Path(__file__).resolve().parent.parent
SECRET = "process-test-secret"


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _wait_healthy(url: str, process: subprocess.Popen, timeout: float = 60) -> dict:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(f"bot exited early: {process.stderr.read() if process.stderr else ''}")
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                return json.loads(response.read())
        except OSError:
            time.sleep(0.2)
    raise AssertionError("bot did not become healthy")


READY = {"ok": True, "database": "up", "migrations": "at head", "slack": "up", "scheduler": "running"}


def _bot_environment(local: LocalSlack, database_url: str, port: int, **more: str) -> dict[str, str]:
    return {
        **{k: v for k, v in os.environ.items() if not k.startswith("SLACK_")},
        "SLACK_BOT_TOKEN": "xoxb-process",
        "SLACK_SIGNING_SECRET": SECRET,
        "SLACK_API_URL": local.api_url,
        "DATABASE_URL": database_url,
        "HOST": "127.0.0.1",
        "PORT": str(port),
        **more,
    }


def test_run_serves_slack_over_http_against_the_configured_api(database_url, tmp_path) -> None:
    port = _free_port()
    with LocalSlack(bot_token="xoxb-process") as local:
        process = subprocess.Popen(
            [sys.executable, "-m", "bot", "run"],
            cwd=tmp_path,
            env=_bot_environment(local, database_url, port, HTTP_WORKERS="1"),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        try:
            health = _wait_healthy(f"http://127.0.0.1:{port}/healthz/ready", process)
            assert health == READY
            slack = SignedSlackClient(f"http://127.0.0.1:{port}/slack/events", SECRET, local)
            reply = slack.command("/strategy", "help", user_id="U0CSC001")
            assert reply.status == 200
            assert "`/strategy help`" in reply.json()["text"]
            assert slack.command("/strategy", "help", signing_secret_override="x").status == 401
            local.add_user("U0CSC001", "Social Worker")
            slack.event({"type": "app_home_opened", "user": "U0CSC001", "tab": "home"})
            local.wait_for(lambda calls: any(c.method == "views.publish" and c.ok for c in calls))
        finally:
            process.terminate()
            _, stderr = process.communicate(timeout=30)
    assert process.returncode == 0
    # Every line is JSON from the bot, gunicorn or Bolt (the forged request); no Alembic or
    # APScheduler chatter at INFO, no Bolt warning about the token it read from the environment.
    entries = [json.loads(line) for line in stderr.strip().splitlines()]
    assert [e for e in entries if e["logger"].split(".")[0] not in {"bot", "gunicorn", "slack_bolt"}] == []
    assert not [entry for entry in entries if "will be unused" in entry["message"]]
    assert any(entry.get("event") == "worker.ready" for entry in entries)


def _log_events(path: Path, event: str) -> list[dict]:
    entries = []
    for line in path.read_text().splitlines():
        try:
            entry = json.loads(line)
        except ValueError:
            continue
        if entry.get("event") == event:
            entries.append(entry)
    return entries


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
def test_two_worker_processes_serve_slack_and_sweep_once_per_interval(database_url, tmp_path) -> None:
    """`run` with HTTP_WORKERS=2 on PostgreSQL: two pre-forked workers answer signed
    requests, and the sweep, which both schedule every second, runs once per second."""
    from datetime import datetime

    port = _free_port()
    log_file = tmp_path / "bot.log"
    interval = 1.0
    with LocalSlack(bot_token="xoxb-process") as local, log_file.open("w") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "bot", "run"],
            cwd=tmp_path,
            env=_bot_environment(
                local, database_url, port, HTTP_WORKERS="2", SWEEP_INTERVAL_SECONDS=str(interval)
            ),
            stdout=subprocess.DEVNULL,
            stderr=log,
            text=True,
        )
        try:
            assert _wait_healthy(f"http://127.0.0.1:{port}/healthz/ready", process) == READY
            deadline = time.monotonic() + 60
            while len({e["pid"] for e in _log_events(log_file, "worker.ready")}) < 2:
                assert time.monotonic() < deadline, "two workers did not start"
                time.sleep(0.1)
            slack = SignedSlackClient(f"http://127.0.0.1:{port}/slack/events", SECRET, local)
            replies = [slack.command("/strategy", "help", user_id="U0CSC001") for _ in range(6)]
            assert all(r.status == 200 and "`/strategy help`" in r.json()["text"] for r in replies)
            assert slack.command("/strategy", "help", signing_secret_override="x").status == 401
            time.sleep(6 * interval)
        finally:
            process.terminate()
            process.wait(timeout=30)
    assert process.returncode == 0
    workers = {e["pid"] for e in _log_events(log_file, "worker.ready")}
    assert len(workers) == 2
    sweeps = _log_events(log_file, "sweep.finished")
    turns = sorted(datetime.fromisoformat(e["turn"]).timestamp() for e in sweeps)
    # Both workers ask four times a second; each turn is taken by one of them only, so no
    # two turns are closer than the interval.
    assert len(sweeps) >= 3, sweeps
    gaps = [later - earlier for earlier, later in pairwise(turns)]
    assert min(gaps) >= interval - 0.001, gaps
    assert {e["pid"] for e in sweeps} <= workers


def _play_demo(cwd: Path, *args: str, **more: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SLACK_") and k != "DATABASE_URL"}
    env.update(more)
    result = subprocess.run(
        [sys.executable, "-m", "bot", "demo", *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stdout + result.stderr[-2000:]
    return result


def _logs_hold_nothing_of_the_child(logs: str) -> None:
    """The whole demo's logs (the bot's and the offline Slack's): the sample child's name,
    date of birth and what the agencies typed about him appear nowhere in them."""
    assert "INFO" in logs  # the bot did log
    for secret in (
        SAMPLE_CHILD_NAME,
        SAMPLE_CHILD_NAME.split()[0],
        "2011-05-01",
        "unexplained cash",
        "owes money",
        "Seen with older males",
    ):
        assert secret not in logs, secret


def test_demo_plays_the_scenario_offline_as_a_practitioner_reads_it(tmp_path: Path) -> None:
    first = _play_demo(tmp_path)
    out = first.stdout
    assert first.stderr == "", first.stderr  # nothing but the story on the terminal
    # The same story on every run: nothing depends on the machine's time, ports or timing.
    # The second run drives the partner pages over plain HTTP (as where Chromium is not
    # installed): the same story, but for the words saying how the pages were opened. It
    # logs as it goes (--verbose, to stderr), and those logs hold no child's details.
    second = _play_demo(tmp_path, "--verbose", DEMO_BROWSER="http")
    _logs_hold_nothing_of_the_child(second.stderr)
    # --verbose also says where the app, the local Slack and the database are (ports and
    # paths differ run to run): two lines more, before the story.
    verbose_only = ("  app on http://127.0.0.1:", "  database ")
    again = "\n".join(line for line in second.stdout.splitlines() if not line.startswith(verbose_only))
    assert len(again.splitlines()) == len(second.stdout.splitlines()) - 2
    browser = "in headless Chromium" if chromium_installed() else "over plain HTTP"
    assert "over plain HTTP" in again
    assert again.replace("over plain HTTP", browser).splitlines() == out.splitlines()

    # No Slack markup: no user ids, no emoji codes, no bold or code marks.
    assert not re.search(r"<[@#!]", out), re.findall(r".*<[@#!].*", out)[:3]
    assert not re.search(r"\bU0[A-Z0-9]{5,}\b", out), re.findall(r".*\bU0[A-Z0-9]{5,}\b.*", out)[:3]
    assert not re.search(r":[a-z][a-z0-9_+-]*:", out), re.findall(r".*:[a-z][a-z0-9_+-]*:.*", out)[:3]
    assert not re.search(r"(^|[\s(])\*\S[^*\n]*\*", out), re.findall(r".*\*\S[^*\n]*\*.*", out)[:3]
    assert "`" not in out
    # London time throughout, and no sentence cut short.
    assert "UTC" not in out
    assert not [line for line in out.splitlines() if line.rstrip().endswith(("...", "…"))]
    # Counts match what is listed.
    invited = re.search(r"(\d+) invitations sent by DM to (\d+) agencies: (.*)", out)
    assert invited and int(invited[2]) == len(invited[3].split(", ")), invited
    sittings = re.search(r"the sweep opened (\d+) sittings?: (.*)", out)
    assert sittings and int(sittings[1]) == len(sittings[2].split(", ")), sittings
    assert not re.search(r"\(s\)", out)

    # The story itself.
    assert "GET /healthz -> 200" in out
    assert "forged signature -> HTTP 401; ten-minute-old timestamp -> HTTP 401" in out
    assert "• /strategy help: show this help" in out
    assert "I did not recognise frobnicate" in out
    assert "You act for Birmingham Children's Social Care as a convenor" in out
    assert "first free slot Tue 10 Nov 10:30\n" in out
    assert "stored as SD-2026-0001, deadline Wed 11 Nov 17:00" in out
    assert "private channel #sd-2026-0001 created" in out
    assert (
        "submitted for Saturday -> inline error: That is a Saturday. Only an emergency duty convenor" in out
    )
    assert "Locate clicks [Sending a delegate] and picks Kieran Doyle" in out
    assert "Health tries to answer for Force CID -> refused" in out
    assert "E-mail to Harpreet Kaur (Education, no Slack): OFFICIAL-SENSITIVE: invitation to strategy" in out
    assert "She chooses 'We will attend' and sends it -> 'Your answer is recorded'" in out
    assert "The same link opened again -> 410" in out
    assert (
        "-> DS Tom Reilly: OFFICIAL-SENSITIVE · Escalation: West Midlands Police - Force CID has not" in out
    )
    assert "West Midlands Police - Force CID: no answer yet · escalated to duty" in out
    assert "→ Locate (missing children team): sending a delegate (Kieran Doyle)" in out
    assert "the children's names appear in none of them" in out
    # the siblings' discussion: its number depends on the discussions convened before it
    assert re.search(r"(SD-2026-\d{4}): one channel \(#(?i:\1)\)", out), "one channel for the siblings"
    assert "CS-4000001, CS-4000002 (siblings)" in out
    assert "his sister's name is not in it: she is CS-4000001 there" in out
    assert (
        "Police (PPU) submits -> Thank you. West Midlands Police - Public Protection Unit (Birmingham)'s "
        "update for SD-2026-0001 is submitted (version 1).\n" in out
    )
    assert "version 1). It was after the deadline, so it is marked late." in out
    assert "(3 of 6 submitted; due Tue 10 Nov 2026 13:00)" in out
    assert "update: submitted, amended" in out
    assert "Convenor: Tola Adeyemi · Chair: Ruth Okonkwo" in out
    assert "/strategy record -> SD-2026-0001 has not happened yet" in out
    assert "minutes v1 (approved" in out and "demo-output/SD-2026-0001-minutes-v1.docx" in out
    assert "circulated to the discussion's channel: SD-2026-0001-action-log-v1.docx" in out
    assert "Escalation to the agency lead" in out
    assert "the owner marks it done -> done; chasing stops" in out
    # a police officer without Slack: answers, writes the update and closes her action on the
    # pages, in headless Chromium where it is installed (over plain HTTP otherwise)
    browser = "in headless Chromium" if chromium_installed() else "over plain HTTP"
    assert "E-mails to DC Priya Sandhu (Force CID, no Slack): 2" in out
    assert f"She opens the reminder's link {browser}: 'Continue to your page'" in out
    assert "presses [Continue] -> 'Answer the invitation to SD-2026-0001', marked OFFICIAL-SENSITIVE" in out
    assert "chooses 'We will attend' and presses [Send] -> 'Your answer is recorded'" in out
    assert "presses [Submit update] -> 'Your update is submitted' (after the deadline: marked late)" in out
    assert "Force CID's invitation is now 'attending' and its update submitted (version 1)" in out
    assert "SD-2026-0001-A03 is added, owned by DC Priya Sandhu, due Fri 13 Nov 2026; she has no Slack" in out
    assert f"She opens the latest {browser} and presses [Continue] -> 'Your actions'" in out
    assert "follows 'Mark done' beside SD-2026-0001-A03 -> 'Mark SD-2026-0001-A03 as done'" in out
    assert "SD-2026-0001-A03 is now done; its chasing stops" in out
    # the life of a case: the review day's follow-up, out of hours, the ICPC and closure
    assert "the review sweep takes 1 step; Tola Adeyemi is asked" in out
    assert ": Follow-up strategy discussion, following SD-2026-0001" in out
    assert "ICPC: by Tue 01 Dec 2026 (15 working days after SD-2026-0001, which started section 47" in out
    assert ": Out of hours: Found at an address linked to the county line tonight" in out
    assert "as held 22:05-22:50" in out
    assert "chasing keeps to the service calendar: first at Mon 07 Dec 09:20" in out
    assert "ICPC: by Tue 29 Dec 2026 (15 working days after this discussion" in out
    assert "/strategy close SD-2026-0001 -> inline: Actions are still open (SD-2026-0001-A01)" in out
    assert "Case CS-1234567 is closed: Child protection plan." in out

    # It ends by naming every document it wrote, with its full path.
    lines = out.rstrip().splitlines()
    assert lines[-1] == "Demo finished."
    heading = next(i for i, line in enumerate(lines) if line.startswith("Documents written ("))
    named = [Path(line.strip()) for line in lines[heading + 1 : -1]]
    assert int(re.findall(r"\d+", lines[heading])[0]) == len(named)
    on_disk = sorted((tmp_path / "demo-output").iterdir())
    assert sorted(named) == on_disk
    assert all(path.is_absolute() and path.stat().st_size > 0 for path in named)
    assert {p.name for p in named} >= {
        "SD-2026-0001-minutes-v1.docx",
        "CEP-2026-0001-panel-agenda-v1.docx",
        "CEP-2026-0001-panel-minutes-v1.docx",
    }


def test_manifest_declares_what_the_bot_uses() -> None:
    manifest = yaml.safe_load((ROOT / "bot" / "slack" / "manifest.yaml").read_text())
    commands = {c["command"]: c for c in manifest["features"]["slash_commands"]}
    assert set(commands) == {"/strategy", "/actions", "/panel"}
    assert all(c["url"].endswith("/slack/events") for c in commands.values())
    settings = manifest["settings"]
    assert settings["interactivity"]["is_enabled"] is True
    assert settings["interactivity"]["request_url"].endswith("/slack/events")
    assert "app_home_opened" in settings["event_subscriptions"]["bot_events"]
    assert manifest["features"]["app_home"]["home_tab_enabled"] is True
    assert len(manifest["display_information"]["name"]) <= 35
    scopes = set(manifest["oauth_config"]["scopes"]["bot"])
    # exactly what the calls need (tests/test_scopes.py); never public channels or users
    assert "channels:manage" not in scopes, "the bot never makes public channels"
    assert not {"users:read", "users:read.email", "files:read", "im:read"} & scopes


@pytest.mark.parametrize("name", ["Socket Mode", "HTTP"])
def test_readme_explains_both_ways_to_run(name) -> None:
    assert name in (ROOT / "README.md").read_text()
