"""Settings come from the environment and `.env`, so one build runs a pilot or production.

Where things are found: `.env` is read from the current working directory, and every
relative path (SCHEDULES_DIR, TEMPLATES_DIR, an SQLite file in DATABASE_URL, the default
`data/bot.sqlite3`) is taken from the working directory too: the deployment's folder, the
same rule for a checkout, a wheel, a container and a systemd unit. Without SCHEDULES_DIR /
TEMPLATES_DIR the defaults that ship inside the package are used (`bot.defaults`).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import Field, ValidationError, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from bot.defaults import default_schedules_dir, default_templates_dir

# Without DATABASE_URL: an SQLite file under the working directory.
DEFAULT_SQLITE_FILE = Path("data") / "bot.sqlite3"
SUPPORTED_DATABASE_SCHEMES = frozenset({"sqlite", "sqlite+pysqlite", "postgresql", "postgresql+psycopg"})
POSTGRESQL_EXTRA_HINT = "install the PostgreSQL driver: pip install 'safeguarding-panel-bot[postgresql]'"


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
    schedules_dir: Path = Field(default_factory=default_schedules_dir)
    templates_dir: Path = Field(default_factory=default_templates_dir)
    # HTTP mode: where to listen, how many worker processes, and each one's threads.
    host: str = "0.0.0.0"
    port: int = Field(default=3000, ge=1, le=65535)
    http_workers: int = Field(default=2, ge=1, le=64, description="gunicorn worker processes")
    http_threads: int = Field(default=8, ge=1, le=256, description="request threads per worker")
    listener_threads: int = Field(default=16, ge=1, le=256, description="listener pool threads")
    followup_threads: int = Field(default=8, ge=1, le=256, description="work after acknowledgements")
    delivery_threads: int = Field(default=8, ge=1, le=64, description="outbox couriers (PostgreSQL)")
    # Rehearsals and tests: sweep this often instead of chasing.yaml's sweep_interval_minutes.
    sweep_interval_seconds: float | None = Field(default=None, gt=0)
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
    # How partner e-mails (links to the pages) go: SMTP as above, or GOV.UK Notify.
    email_provider: str = Field(default="smtp", pattern="^(smtp|notify)$")
    notify_api_key: str = Field(default="", description="GOV.UK Notify API key")
    notify_base_url: str = "https://api.notifications.service.gov.uk"
    notify_template_id: str = Field(default="", description="Notify template: ((subject)), ((body))")
    # The partner pages: the address people reach the bot at (links in e-mails start with
    # it), the key that signs links and cookies, and whether cookies need HTTPS.
    public_base_url: str = "http://localhost:3000"
    web_secret_key: str = Field(default="", description="Signs partner links and cookies")
    web_cookie_secure: bool = True
    # How many proxies in front of the bot set X-Forwarded-For (the partner pages' rate
    # limits count per client address; behind a balancer that is the header's, not the peer's).
    web_trusted_proxies: int = Field(default=0, ge=0, le=5)

    @property
    def email_enabled(self) -> bool:
        """E-mail goes out only when a server and a sender are configured."""
        return bool(self.smtp_host and self.smtp_from)

    @property
    def partner_email_enabled(self) -> bool:
        """Partner e-mails go out by Notify when it is chosen and configured, else by SMTP."""
        if self.email_provider == "notify":
            return bool(self.notify_api_key and self.notify_template_id)
        return self.email_enabled

    @property
    def site_secret(self) -> bytes:
        """The key for links and cookies: WEB_SECRET_KEY, else one derived from the Slack
        signing secret (so a deployment has one without another setting to lose)."""
        import hashlib

        if self.web_secret_key:
            return self.web_secret_key.encode()
        return hashlib.sha256(b"partner-pages:" + self.slack_signing_secret.encode()).digest()

    @field_validator("slack_api_url")
    @classmethod
    def _api_url_ends_with_slash(cls, value: str) -> str:
        if not value.startswith(("http://", "https://")):
            raise ValueError("must start with http:// or https://")
        return value if value.endswith("/") else value + "/"

    @field_validator("database_url")
    @classmethod
    def _database_url_shape(cls, value: str) -> str:
        """Refuse what SQLAlchemy cannot read or drive, before anything tries to connect."""
        if not value:
            return value
        from sqlalchemy.engine import make_url
        from sqlalchemy.exc import ArgumentError

        try:
            url = make_url(value)
        except ArgumentError:
            raise ValueError(
                "not a database URL (expected sqlite:///PATH or postgresql://USER:PASSWORD@HOST:5432/NAME)"
            ) from None
        if url.drivername not in SUPPORTED_DATABASE_SCHEMES:
            raise ValueError(
                f"unsupported scheme {url.drivername!r} (use sqlite:/// or postgresql://, "
                "driven by psycopg 3)"
            )
        return value

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
        """The configured database, or an SQLite file under the working directory."""
        if self.database_url:
            return self.database_url
        return f"sqlite:///{DEFAULT_SQLITE_FILE.resolve()}"

    def require_slack(self, *, socket_mode: bool) -> None:
        """Running against Slack needs credentials; say which one is missing."""
        if not self.slack_bot_token:
            raise SettingsError("SLACK_BOT_TOKEN: missing (the bot token, xoxb-...)")
        if socket_mode:
            if not self.slack_app_token:
                raise SettingsError("SLACK_APP_TOKEN: missing (the app-level token, xapp-...)")
        elif not self.slack_signing_secret:
            raise SettingsError("SLACK_SIGNING_SECRET: missing (from the app's Basic Information)")


def load_settings(**overrides: Any) -> Settings:
    """Read settings, turning pydantic's report into one line per bad setting."""
    try:
        return Settings(**overrides)
    except ValidationError as error:
        lines = []
        for problem in error.errors():
            name = str(problem["loc"][0]).upper() if problem["loc"] else "SETTINGS"
            message = problem["msg"].removeprefix("Value error, ")
            lines.append(f"{name}: {message}")
        raise SettingsError("; ".join(lines)) from None
