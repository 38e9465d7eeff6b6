"""What `python -m bot check` asks beyond the files: does the database answer and are its
migrations at head, and does Slack accept the token and grant the scopes the app's manifest
asks for. Each finding is one line; only problems make `check` fail."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import yaml
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from sqlalchemy.engine import make_url
from sqlalchemy.exc import SQLAlchemyError

from bot.settings import Settings, SettingsError

MANIFEST = Path(__file__).resolve().parent / "slack" / "manifest.yaml"
SLACK_TIMEOUT_SECONDS = 10


@dataclass(frozen=True)
class Finding:
    """One line of `check`'s report; `problem` ones make it exit 1."""

    text: str
    problem: bool = False


def manifest_scopes(path: Path = MANIFEST) -> frozenset[str]:
    """The bot scopes the app manifest asks Slack for."""
    manifest = yaml.safe_load(path.read_text(encoding="utf-8"))
    return frozenset(manifest["oauth_config"]["scopes"]["bot"])


def check_database(settings: Settings) -> list[Finding]:
    """Connect to DATABASE_URL (never creating an SQLite file) and say where migrations are."""
    from bot.database import describe_database_error, make_engine, migration_state

    url = settings.effective_database_url
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite" and parsed.database and not Path(parsed.database).exists():
        return [
            Finding(f"database: {parsed.database} does not exist yet; `python -m bot db upgrade` creates it")
        ]
    try:
        engine = make_engine(url)
    except SettingsError as error:
        return [Finding(f"settings: {error}", problem=True)]
    try:
        state = migration_state(engine)
    except SQLAlchemyError as error:
        return [Finding(describe_database_error(error, url), problem=True)]
    finally:
        engine.dispose()
    where = parsed.render_as_string(hide_password=True)
    if state == "at head":
        return [Finding(f"database: {where} answers; migrations at head")]
    return [Finding(f"database: {where} answers; migrations {state}: run `python -m bot db upgrade`")]


def _granted_scopes(headers: object) -> frozenset[str] | None:
    """The scopes Slack says the token has (its `x-oauth-scopes` header), if it said."""
    items = headers.items() if hasattr(headers, "items") else []
    for name, value in items:
        if str(name).lower() == "x-oauth-scopes":
            return frozenset(scope.strip() for scope in str(value).split(",") if scope.strip())
    return None


def check_slack(settings: Settings, *, manifest: Path = MANIFEST) -> list[Finding]:
    """`auth.test` with the bot token, and its granted scopes against the manifest's."""
    if not settings.slack_bot_token:
        return [Finding("slack: SLACK_BOT_TOKEN is not set; Slack not checked")]
    client = WebClient(
        token=settings.slack_bot_token, base_url=settings.slack_api_url, timeout=SLACK_TIMEOUT_SECONDS
    )
    try:
        response = client.auth_test()
    except SlackApiError as error:
        reason = error.response.get("error", "unknown error")
        return [Finding(f"slack: auth.test refused SLACK_BOT_TOKEN ({reason})", problem=True)]
    except Exception as error:
        first_line = (str(error).strip().splitlines() or [""])[0]
        return [
            Finding(
                f"slack: {settings.slack_api_url} unreachable: {type(error).__name__} {first_line}".rstrip(),
                problem=True,
            )
        ]
    findings = [
        Finding(f"slack: token accepted for team {response.get('team_id')} as {response.get('user')}")
    ]
    wanted = manifest_scopes(manifest)
    granted = _granted_scopes(response.headers)
    if granted is None:
        findings.append(Finding("slack: Slack did not say which scopes the token has (no x-oauth-scopes)"))
        return findings
    missing = sorted(wanted - granted)
    extra = sorted(granted - wanted)
    if missing:
        findings.append(
            Finding(
                "slack: the token lacks scopes the app manifest asks for: "
                f"{', '.join(missing)} (add them to the app and reinstall it)",
                problem=True,
            )
        )
    if extra:
        findings.append(
            Finding(
                "slack: the token has scopes the app manifest does not ask for: "
                f"{', '.join(extra)} (remove them: the bot needs no more than the manifest)",
                problem=True,
            )
        )
    if not missing and not extra:
        findings.append(Finding("slack: granted scopes match the app manifest"))
    return findings
