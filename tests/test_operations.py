"""Operating the bot: one version, one-line errors from every command, `check` reaching the
database and Slack, `init`, `health`, and logs an operator can search."""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
import threading
from importlib.metadata import version
from pathlib import Path

import pytest

import bot
from bot.preflight import check_slack, manifest_scopes
from bot.settings import load_settings
from bot_offline.local_slack import LocalSlack

ROOT = Path(__file__).resolve().parent.parent
UNREACHABLE = "postgresql://nobody:secret-password@127.0.0.1:1/none"
# Every command that opens the database, with what it needs to get that far.
COMMANDS = {
    "run": ["run"],
    "db upgrade": ["db", "upgrade"],
    "sweep": ["sweep"],
    "audit verify": ["audit", "verify"],
    "audit export": ["audit", "export"],
    "retention": ["retention", "--dry-run"],
}


def _cli(*args: str, cwd: Path, env: dict[str, str] | None = None, python: list[str] | None = None):
    full_env = {k: v for k, v in os.environ.items() if not k.startswith("SLACK_") and k != "DATABASE_URL"}
    full_env.update(env or {})
    return subprocess.run(
        [*(python or [sys.executable, "-m", "bot"]), *args],
        capture_output=True,
        text=True,
        env=full_env,
        cwd=cwd,
        timeout=120,
    )


def test_the_version_has_one_source() -> None:
    assert version("safeguarding-panel-bot") == bot.__version__
    result = _cli("--version", cwd=ROOT)
    assert result.returncode == 0
    assert result.stdout.strip() == f"safeguarding-panel-bot {bot.__version__}"


@pytest.mark.parametrize("command", COMMANDS)
@pytest.mark.parametrize(
    ("database_url", "expected"),
    [
        ("nonsense", "configuration error: DATABASE_URL: not a database URL"),
        ("mysql://root@127.0.0.1/bot", "configuration error: DATABASE_URL: unsupported scheme 'mysql'"),
        (UNREACHABLE, "database error: postgresql://nobody:***@127.0.0.1:1/none: connection failed"),
    ],
    ids=["nonsense", "unsupported", "unreachable"],
)
def test_every_command_reports_a_bad_database_in_one_line(tmp_path, command, database_url, expected) -> None:
    env = {"DATABASE_URL": database_url, "SLACK_BOT_TOKEN": "xoxb-1", "SLACK_SIGNING_SECRET": "s"}
    result = _cli(*COMMANDS[command], cwd=tmp_path, env=env)
    assert result.returncode == 2, result.stdout + result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith(expected), lines[0]
    assert "secret-password" not in result.stderr
    assert "Traceback" not in result.stderr + result.stdout


def _without_psycopg(*args: str) -> list[str]:
    """The CLI in an interpreter where psycopg cannot be imported, as without the extra."""
    code = "import sys; sys.modules['psycopg'] = None; from bot.cli import main; raise SystemExit(main())"
    return [sys.executable, "-c", code]


def test_postgresql_without_the_extra_is_one_line_naming_it_and_sqlite_needs_none(tmp_path) -> None:
    result = _cli("db", "upgrade", cwd=tmp_path, env={"DATABASE_URL": UNREACHABLE}, python=_without_psycopg())
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        "configuration error: DATABASE_URL: PostgreSQL needs psycopg; install the PostgreSQL driver: "
        "pip install 'safeguarding-panel-bot[postgresql]'"
    ]
    sqlite = f"sqlite:///{tmp_path / 'bot.sqlite3'}"
    result = _cli("db", "upgrade", cwd=tmp_path, env={"DATABASE_URL": sqlite}, python=_without_psycopg())
    assert result.returncode == 0, result.stderr
    result = _cli("check", cwd=tmp_path, env={"DATABASE_URL": sqlite}, python=_without_psycopg())
    assert result.returncode == 0, result.stdout + result.stderr
    assert "migrations at head" in result.stdout


def test_check_fails_when_the_database_does_not_answer(tmp_path) -> None:
    result = _cli("check", cwd=tmp_path, env={"DATABASE_URL": UNREACHABLE})
    assert result.returncode == 1
    assert "database error: postgresql://nobody:***@127.0.0.1:1/none: connection failed" in result.stdout
    assert "1 problem(s) found." in result.stderr
    assert "Traceback" not in result.stdout + result.stderr


def test_check_says_where_the_migrations_are(database_url, tmp_path) -> None:
    result = _cli("check", cwd=tmp_path, env={"DATABASE_URL": database_url})
    assert result.returncode == 0, result.stdout + result.stderr
    assert "answers; migrations at head" in result.stdout
    fresh = tmp_path / "fresh.sqlite3"
    result = _cli("check", cwd=tmp_path, env={"DATABASE_URL": f"sqlite:///{fresh}"})
    assert result.returncode == 0
    assert "does not exist yet; `python -m bot db upgrade` creates it" in result.stdout
    assert not fresh.exists(), "check must not create the database"


def test_check_calls_auth_test_and_compares_the_scopes_with_the_manifest(tmp_path) -> None:
    wanted = sorted(manifest_scopes())
    with LocalSlack(bot_token="xoxb-check") as local:
        env = {"SLACK_BOT_TOKEN": "xoxb-check", "SLACK_API_URL": local.api_url}
        result = _cli("check", cwd=tmp_path, env=env)
        assert result.returncode == 0, result.stdout + result.stderr
        assert "slack: token accepted for team T0LOCAL" in result.stdout
        assert "slack: granted scopes match the app manifest" in result.stdout
        assert local.calls_to("auth.test")

        local.scopes = frozenset(scope for scope in wanted if scope != "chat:write")
        result = _cli("check", cwd=tmp_path, env=env)
        assert result.returncode == 1
        assert "slack: the token lacks scopes the app manifest asks for: chat:write" in result.stdout

        settings = load_settings(slack_bot_token="xoxb-check", slack_api_url=local.api_url)
        local.scopes = frozenset([*wanted, "channels:history"])
        [accepted, extra] = check_slack(settings)
        assert not accepted.problem
        assert extra.problem and "does not ask for: channels:history" in extra.text

        wrong = load_settings(slack_bot_token="xoxb-revoked", slack_api_url=local.api_url)
        [refused] = check_slack(wrong)
        assert refused.problem and refused.text == "slack: auth.test refused SLACK_BOT_TOKEN (invalid_auth)"
    unreachable = load_settings(slack_bot_token="xoxb-check", slack_api_url="http://127.0.0.1:1/api/")
    [gone] = check_slack(unreachable)
    assert gone.problem and gone.text.startswith("slack: http://127.0.0.1:1/api/ unreachable")


def test_init_copies_the_defaults_once_and_they_check_clean(tmp_path) -> None:
    result = _cli("init", "partnership", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    schedules, templates = tmp_path / "partnership" / "schedules", tmp_path / "partnership" / "templates"
    assert (schedules / "agencies.yaml").read_text() == (ROOT / "schedules" / "agencies.yaml").read_text()
    docx = templates / "strategy_discussion_minutes.docx"
    assert docx.read_bytes() == (ROOT / "templates" / docx.name).read_bytes()
    assert f"SCHEDULES_DIR={schedules}" in result.stdout
    (schedules / "agencies.yaml").write_text("edited: true\n")
    again = _cli("init", "partnership", cwd=tmp_path)
    assert again.returncode == 1
    assert "already exists; nothing copied" in again.stderr
    assert (schedules / "agencies.yaml").read_text() == "edited: true\n"  # never overwritten
    (tmp_path / "other").mkdir()
    result = _cli("init", "other", cwd=tmp_path)
    env = {
        "SCHEDULES_DIR": str(tmp_path / "other" / "schedules"),
        "TEMPLATES_DIR": str(tmp_path / "other" / "templates"),
    }
    check = _cli("check", cwd=tmp_path, env=env)
    assert check.returncode == 0, check.stdout


def test_health_asks_the_running_bot(bot, capsys) -> None:
    from bot.cli import main

    assert main(["health", "--url", f"{bot.base_url}/healthz/ready"]) == 0
    assert json.loads(capsys.readouterr().out)["scheduler"] == "running"
    assert main(["health", "--url", "http://127.0.0.1:1/healthz/ready", "--timeout", "2"]) == 1


@pytest.fixture
def _restored_logging():
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    levels = {name: logging.getLogger(name).level for name in ("alembic", "apscheduler", "gunicorn")}
    hooks = sys.excepthook, threading.excepthook
    yield
    root.handlers[:] = handlers
    root.setLevel(level)
    for name, saved in levels.items():
        logging.getLogger(name).setLevel(saved)
    sys.excepthook, threading.excepthook = hooks
    logging.captureWarnings(False)


@pytest.mark.usefixtures("_restored_logging")
def test_logs_carry_fields_as_json_keys_and_third_parties_stay_quiet(capsys) -> None:
    from bot.logging_setup import WITHHELD, configure

    configure("INFO", "json")
    logging.getLogger("bot.delivery").warning(
        "an outbox entry will be retried", extra={"event": "outbox.retry", "outbox_id": 7}
    )
    logging.getLogger("alembic.runtime.migration").info("Running upgrade 0001 -> 0002")
    logging.getLogger("apscheduler.executors.default").info('Job "deliver" executed successfully')
    logging.getLogger("gunicorn.error").info("Booting worker with pid: %s", 123)
    logging.getLogger("slack_bolt.App").warning("As you gave `client` as well, `token` will be unused.")
    logging.getLogger("alembic.runtime.migration").warning("a library's own warning %s", "stays")
    lines = [json.loads(line) for line in capsys.readouterr().err.strip().splitlines()]
    assert [line["message"] for line in lines] == [
        "an outbox entry will be retried",
        "a library's own warning …",  # its values withheld, as every library's
    ]
    first = lines[0]
    assert (first["event"], first["outbox_id"], first["logger"]) == ("outbox.retry", 7, "bot.delivery")
    assert first["pid"] == os.getpid()
    assert WITHHELD not in json.dumps(lines)
