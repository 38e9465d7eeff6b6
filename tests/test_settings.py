"""Settings: defaults, one clear line per bad setting, and the CLI never shows a traceback."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from bot.settings import SettingsError, load_settings

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(autouse=True)
def _clean_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for name in list(os.environ):
        if name.startswith("SLACK_") or name in {"DATABASE_URL", "PORT", "TIMEZONE"}:
            monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(tmp_path)  # no stray .env is read


def test_defaults_are_embedded_and_london() -> None:
    settings = load_settings()
    assert settings.timezone == "Europe/London"
    assert settings.slack_api_url == "https://slack.com/api/"
    assert settings.effective_database_url.startswith("sqlite:///")
    assert settings.effective_database_url.endswith("data/bot.sqlite3")
    assert settings.port == 3000


def test_environment_and_dotenv_are_read(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    (tmp_path / ".env").write_text("PORT=8123\nSLACK_API_URL=http://127.0.0.1:9/api\n")
    monkeypatch.setenv("TIMEZONE", "Europe/Dublin")
    settings = load_settings()
    assert settings.port == 8123
    assert settings.slack_api_url == "http://127.0.0.1:9/api/"
    assert settings.timezone == "Europe/Dublin"


@pytest.mark.parametrize(
    ("name", "value", "expected"),
    [
        ("PORT", "eighty", "PORT:"),
        ("PORT", "70000", "PORT:"),
        ("TIMEZONE", "Mars/Olympus", "TIMEZONE: unknown time zone"),
        ("SLACK_BOT_TOKEN", "xoxp-user-token", "SLACK_BOT_TOKEN: must start with xoxb-"),
        ("SLACK_APP_TOKEN", "xoxb-1", "SLACK_APP_TOKEN: must start with xapp-"),
        ("SLACK_API_URL", "slack.com/api", "SLACK_API_URL: must start with http"),
    ],
)
def test_a_malformed_setting_is_one_line_naming_it(
    monkeypatch: pytest.MonkeyPatch, name: str, value: str, expected: str
) -> None:
    monkeypatch.setenv(name, value)
    with pytest.raises(SettingsError) as raised:
        load_settings()
    message = str(raised.value)
    assert message.startswith(expected)
    assert "\n" not in message


def test_missing_credentials_are_named() -> None:
    settings = load_settings()
    with pytest.raises(SettingsError, match="SLACK_BOT_TOKEN: missing"):
        settings.require_slack(socket_mode=False)
    settings = load_settings(slack_bot_token="xoxb-1")
    with pytest.raises(SettingsError, match="SLACK_SIGNING_SECRET: missing"):
        settings.require_slack(socket_mode=False)
    with pytest.raises(SettingsError, match="SLACK_APP_TOKEN: missing"):
        settings.require_slack(socket_mode=True)


def _run_cli(*args: str, env: dict[str, str] | None = None, cwd: Path | None = None):
    full_env = {k: v for k, v in os.environ.items() if not k.startswith("SLACK_")}
    full_env.update(env or {})
    return subprocess.run(
        [sys.executable, "-m", "bot", *args],
        capture_output=True,
        text=True,
        env=full_env,
        cwd=cwd or ROOT,
        timeout=120,
    )


def test_cli_reports_a_bad_setting_without_a_traceback(tmp_path: Path) -> None:
    result = _run_cli("run", env={"PORT": "not-a-port"}, cwd=tmp_path)
    assert result.returncode == 2
    assert result.stderr.strip().startswith("configuration error: PORT:")
    assert "Traceback" not in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_cli_run_without_credentials_names_the_missing_one(tmp_path: Path) -> None:
    result = _run_cli("run", env={"DATABASE_URL": f"sqlite:///{tmp_path / 'x.sqlite3'}"}, cwd=tmp_path)
    assert result.returncode == 2
    assert "SLACK_BOT_TOKEN: missing" in result.stderr
    assert "Traceback" not in result.stderr


def test_cli_check_passes_on_the_shipped_configuration(tmp_path: Path) -> None:
    result = _run_cli("check", cwd=tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "valid" in result.stdout


def test_cli_check_lists_every_problem_and_fails(tmp_path: Path) -> None:
    broken = tmp_path / "schedules"
    broken.mkdir()
    for source in (ROOT / "schedules").glob("*.yaml"):
        (broken / source.name).write_text(source.read_text())
    agencies = broken / "agencies.yaml"
    agencies.write_text(agencies.read_text().replace("police-cid", "police cid", 1))
    result = _run_cli("check", env={"SCHEDULES_DIR": str(broken), "PORT": "0"}, cwd=tmp_path)
    assert result.returncode == 1
    lines = result.stdout.strip().splitlines()
    assert any(line.startswith("settings: PORT") for line in lines)
    assert any("agencies.yaml" in line for line in lines)


def test_cli_db_upgrade_creates_the_schema(tmp_path: Path) -> None:
    import sqlite3

    database = tmp_path / "fresh.sqlite3"
    result = _run_cli("db", "upgrade", env={"DATABASE_URL": f"sqlite:///{database}"}, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    tables = {
        row[0]
        for row in sqlite3.connect(database).execute("SELECT name FROM sqlite_master WHERE type='table'")
    }
    assert {"agency", "person", "case", "meeting", "invitation", "action", "auditentry"} <= tables
