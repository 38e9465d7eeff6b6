"""Settings come from the environment and `.env`, so one build runs a pilot or production."""

from __future__ import annotations

from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import Field, ValidationError, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

PROJECT_ROOT = Path(__file__).resolve().parent.parent


class SettingsError(Exception):
    """A setting is missing or malformed; the message is one line naming it."""


class Settings(BaseSettings):
    """Everything the bot needs to know about where it runs."""

    model_config = SettingsConfigDict(
        env_file=".env", env_file_encoding="utf-8", extra="ignore", case_sensitive=False
    )

    slack_bot_token: str = Field(default="", description="Bot token (xoxb-...)")
    slack_signing_secret: str = Field(default="", description="Signing secret of the Slack app")
    slack_app_token: str = Field(default="", description="App-level token (xapp-...) for Socket Mode")
    slack_api_url: str = Field(
        default="https://slack.com/api/", description="Web API base URL (a local server in tests)"
    )
    database_url: str = Field(default="", description="SQLAlchemy URL; SQLite file by default")
    timezone: str = "Europe/London"
    documents_dir: Path = PROJECT_ROOT / "data" / "documents"
    schedules_dir: Path = PROJECT_ROOT / "schedules"
    templates_dir: Path = PROJECT_ROOT / "templates"
    port: int = Field(default=3000, ge=1, le=65535)
    log_level: str = "INFO"
    log_format: str = Field(default="json", pattern="^(json|text)$")
    # E-mail for calendar invitations to people without Slack (and as a copy for everyone).
    smtp_host: str = ""
    smtp_port: int = Field(default=587, ge=1, le=65535)
    smtp_from: str = ""
    smtp_username: str = ""
    smtp_password: str = ""
    smtp_starttls: bool = True
    smtp_timeout_seconds: float = Field(default=20, gt=0)

    @property
    def email_enabled(self) -> bool:
        """E-mail goes out only when a server and a sender are configured."""
        return bool(self.smtp_host and self.smtp_from)

    @field_validator("slack_api_url")
    @classmethod
    def _api_url_ends_with_slash(cls, value: str) -> str:
        if not value.startswith(("http://", "https://")):
            raise ValueError("must start with http:// or https://")
        return value if value.endswith("/") else value + "/"

    @field_validator("timezone")
    @classmethod
    def _known_timezone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as error:
            raise ValueError(f"unknown time zone {value!r}") from error
        return value

    @field_validator("slack_bot_token")
    @classmethod
    def _bot_token_shape(cls, value: str) -> str:
        if value and not value.startswith("xoxb-"):
            raise ValueError("must start with xoxb-")
        return value

    @field_validator("slack_app_token")
    @classmethod
    def _app_token_shape(cls, value: str) -> str:
        if value and not value.startswith("xapp-"):
            raise ValueError("must start with xapp-")
        return value

    @field_validator("log_level")
    @classmethod
    def _log_level(cls, value: str) -> str:
        upper = value.upper()
        if upper not in {"DEBUG", "INFO", "WARNING", "ERROR"}:
            raise ValueError("must be one of DEBUG, INFO, WARNING, ERROR")
        return upper

    @property
    def effective_database_url(self) -> str:
        """The configured database, or an SQLite file in the data folder."""
        if self.database_url:
            return self.database_url
        return f"sqlite:///{PROJECT_ROOT / 'data' / 'bot.sqlite3'}"

    def require_slack(self, *, socket_mode: bool) -> None:
        """Running against Slack needs credentials; say which one is missing."""
        if not self.slack_bot_token:
            raise SettingsError("SLACK_BOT_TOKEN: missing (the bot token, xoxb-...)")
        if socket_mode:
            if not self.slack_app_token:
                raise SettingsError("SLACK_APP_TOKEN: missing (the app-level token, xapp-...)")
        elif not self.slack_signing_secret:
            raise SettingsError("SLACK_SIGNING_SECRET: missing (from the app's Basic Information)")


def load_settings(**overrides: object) -> Settings:
    """Read settings, turning pydantic's report into one line per bad setting."""
    try:
        return Settings(**overrides)  # type: ignore[arg-type]
    except ValidationError as error:
        lines = []
        for problem in error.errors():
            name = str(problem["loc"][0]).upper() if problem["loc"] else "SETTINGS"
            message = problem["msg"].removeprefix("Value error, ")
            lines.append(f"{name}: {message}")
        raise SettingsError("; ".join(lines)) from None
