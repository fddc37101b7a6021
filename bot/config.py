"""Configuration: a TOML file plus environment variables, validated once at start-up.

Nothing here runs at import time; `load_config` is called by the command line. Secrets may come from
the environment, which wins over the file, and are held as `SecretStr` so they never print.
"""

from __future__ import annotations

import os
import re
import tomllib
from datetime import timedelta
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, SecretStr, ValidationError, field_validator
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

DEFAULT_CONFIG_PATH = Path("concierge.toml")
_DURATION = re.compile(r"^\s*(\d+)\s*([smhdw])\s*$")
_UNIT_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}


class ConfigError(ValueError):
    """Configuration that cannot be used; the message is one line naming the key."""


def parse_duration(text: str) -> timedelta:
    """Parse "90s", "15m", "3d" or "2w" into a timedelta."""
    match = _DURATION.match(text)
    if not match:
        raise ValueError(f"not a duration like '3d' or '12h': {text!r}")
    return timedelta(seconds=int(match.group(1)) * _UNIT_SECONDS[match.group(2)])


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class DatabaseConfig(_Section):
    url: SecretStr = SecretStr("sqlite+aiosqlite:///concierge.db")
    echo: bool = False


class KnowledgeConfig(_Section):
    path: Path | None = None  # None: the demo knowledge base shipped in prompts/


class TemplatesConfig(_Section):
    override_dir: Path | None = None


class UnderstandingConfig(_Section):
    engine: str = "default"
    model: str = "all-MiniLM-L6-v2"
    cache_dir: Path = Path(".concierge-cache")
    oos_threshold: float | None = Field(default=None, ge=0.0, le=1.0)
    close_call_margin: float = Field(default=0.12, ge=0.0, le=1.0)


class RolesConfig(_Section):
    managers: tuple[str, ...] = ()
    agents: tuple[str, ...] = ()
    vip: tuple[str, ...] = ()

    @field_validator("managers", "agents", "vip")
    @classmethod
    def _platform_qualified(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        for entry in value:
            if ":" not in entry:
                raise ValueError(f"{entry!r} must look like 'slack:U123', 'discord:42' or 'console:alice'")
        return value


class SlackConfig(_Section):
    bot_token: SecretStr | None = None
    signing_secret: SecretStr | None = None
    app_token: SecretStr | None = None
    api_url: str = "https://slack.com/api/"
    host: str = "127.0.0.1"
    port: int = Field(default=3000, ge=1, le=65535)
    command: str = "/concierge"
    desk_channel: str | None = None


class DiscordConfig(_Section):
    token: SecretStr | None = None
    api_base: str = "https://discord.com/api/v10"
    gateway_url: str | None = None
    desk_channel_id: int | None = None
    guild_ids: tuple[int, ...] = ()
    application_id: int | None = None
    message_content_intent: bool = False
    support_channel_id: int | None = None


class SellingConfig(_Section):
    max_offers_per_30d: int = Field(default=2, ge=0)
    decline_cooldown_days: int = Field(default=14, ge=0)
    min_rating: int = Field(default=4, ge=1, le=5)


class FollowupConfig(_Section):
    after: str = "3d"

    @field_validator("after")
    @classmethod
    def _is_duration(cls, value: str) -> str:
        parse_duration(value)
        return value

    @property
    def delay(self) -> timedelta:
        return parse_duration(self.after)


class PrivacyConfig(_Section):
    redact: bool = True


class OutboxConfig(_Section):
    """A stored reply unsent after `retry_after_seconds` is sent again; the sweep runs every `sweep_seconds`."""

    retry_after_seconds: float = Field(default=30.0, gt=0)
    sweep_seconds: float = Field(default=10.0, gt=0)
    give_up_after_hours: float = Field(default=24.0, gt=0)
    # Pauses before each further try at a person's words the platform refused; then the desk is told.
    relay_retry_seconds: tuple[float, ...] = Field(default=(0.5, 2.0), max_length=10)

    @field_validator("relay_retry_seconds")
    @classmethod
    def _short_pauses(cls, value: tuple[float, ...]) -> tuple[float, ...]:
        if any(not 0 <= pause <= 60 for pause in value):
            raise ValueError("each pause must be between 0 and 60 seconds")
        return value


class Config(_Section):
    database: DatabaseConfig = DatabaseConfig()
    knowledge: KnowledgeConfig = KnowledgeConfig()
    templates: TemplatesConfig = TemplatesConfig()
    understanding: UnderstandingConfig = UnderstandingConfig()
    roles: RolesConfig = RolesConfig()
    slack: SlackConfig = SlackConfig()
    discord: DiscordConfig = DiscordConfig()
    selling: SellingConfig = SellingConfig()
    followup: FollowupConfig = FollowupConfig()
    privacy: PrivacyConfig = PrivacyConfig()
    outbox: OutboxConfig = OutboxConfig()

    def secrets(self) -> list[str]:
        """Return every secret value set, so logging can scrub them."""
        password = _database_password(self.database.url)
        found = [self.database.url.get_secret_value(), password] if password else []
        for value in (self.slack.bot_token, self.slack.signing_secret, self.slack.app_token, self.discord.token):
            if value is not None and value.get_secret_value():
                found.append(value.get_secret_value())
        return found


# Environment variable -> (section, key). The environment wins over the file.
ENVIRONMENT_KEYS: dict[str, tuple[str, str]] = {
    "CONCIERGE_DATABASE_URL": ("database", "url"),
    "SLACK_BOT_TOKEN": ("slack", "bot_token"),
    "SLACK_SIGNING_SECRET": ("slack", "signing_secret"),
    "SLACK_APP_TOKEN": ("slack", "app_token"),
    "SLACK_API_URL": ("slack", "api_url"),
    "DISCORD_TOKEN": ("discord", "token"),
    "DISCORD_API_BASE": ("discord", "api_base"),
    "DISCORD_GATEWAY_URL": ("discord", "gateway_url"),
}


def load_config(path: Path | None = None, environ: dict[str, str] | None = None) -> Config:
    """Read the config file (if any) and the environment, validate, and return the config.

    With no path, `./concierge.toml` is used when it exists, else the built-in defaults.
    Raises ConfigError with a one-line message naming the bad key.
    """
    environ = dict(os.environ) if environ is None else environ
    raw = _read_file(path)
    for variable, (section, key) in ENVIRONMENT_KEYS.items():
        if environ.get(variable):
            raw.setdefault(section, {})[key] = environ[variable]
    try:
        return Config.model_validate(raw)
    except ValidationError as error:
        first = error.errors()[0]
        where = ".".join(str(part) for part in first["loc"])
        raise ConfigError(f"config key '{where}': {first['msg']}") from None


def _read_file(path: Path | None) -> dict[str, Any]:
    if path is None:
        if not DEFAULT_CONFIG_PATH.exists():
            return {}
        path = DEFAULT_CONFIG_PATH
    try:
        with path.open("rb") as handle:
            return tomllib.load(handle)
    except FileNotFoundError:
        raise ConfigError(f"config file not found: {path}") from None
    except tomllib.TOMLDecodeError as error:
        raise ConfigError(f"config file {path} is not valid TOML: {error}") from None


def _database_password(url: SecretStr) -> str | None:
    try:
        return make_url(url.get_secret_value()).password
    except ArgumentError:
        return None
