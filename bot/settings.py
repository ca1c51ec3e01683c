"""Typed settings, read once from the environment. Secrets never appear in `repr`, errors or logs.

`Settings.from_env()` reads the variables (pydantic-settings does the parsing); constructing
`Settings(...)` directly takes only what it is given, so a test never picks up a developer's tokens.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Annotated, Literal

from pydantic import BeforeValidator, Field, SecretStr, ValidationError, field_validator
from pydantic_settings import (
    BaseSettings,
    EnvSettingsSource,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
)

from bot.channels.email import parse_smtp_url
from bot.logs import LOG_FORMAT_VARIABLE, LogFormat
from bot.logs import log_format as parse_log_format

__all__ = ["ConfigurationError", "Settings", "TeamsSdk", "revealed"]

#: The SDKs that can carry Microsoft Teams (`bot.channels.teams.sdk`).
TeamsSdk = Literal["botbuilder", "agents"]


def revealed(secret: SecretStr | None) -> str | None:
    """The value of a secret setting, for the one call that hands it to a platform's client."""
    return secret.get_secret_value() if secret else None


class ConfigurationError(ValueError):
    """An environment variable has a value the bot cannot use; the message is one line."""


class Settings(BaseSettings):
    """Everything the bot is configured with; each field names its environment variable."""

    model_config = SettingsConfigDict(
        frozen=True,
        case_sensitive=True,
        extra="ignore",
        validate_by_name=True,
        validate_by_alias=True,
        hide_input_in_errors=True,
    )

    # A server's URL may hold its password: kept out of repr like the secrets (the CLI masks it).
    database_url: str | None = Field(None, validation_alias="HAMPSHIRE_DATABASE_URL", repr=False)
    pack_dir: Path | None = Field(None, validation_alias="HAMPSHIRE_PACK")
    slack_bot_token: SecretStr | None = Field(None, validation_alias="SLACK_BOT_TOKEN")
    slack_signing_secret: SecretStr | None = Field(None, validation_alias="SLACK_SIGNING_SECRET")
    slack_app_token: SecretStr | None = Field(None, validation_alias="SLACK_APP_TOKEN")
    slack_team_id: str | None = Field(None, validation_alias="SLACK_TEAM_ID")
    slack_api_url: str | None = Field(None, validation_alias="SLACK_API_URL")
    microsoft_app_id: str | None = Field(None, validation_alias="MICROSOFT_APP_ID")
    microsoft_app_password: SecretStr | None = Field(None, validation_alias="MICROSOFT_APP_PASSWORD")
    microsoft_app_tenant_id: str | None = Field(None, validation_alias="MICROSOFT_APP_TENANT_ID")
    # Encryption at rest (`store.crypto`): keys comma-separated, newest first. Without it, a SQLite
    # file keeps a 0600 key file beside it; a server database refuses to start.
    data_key: SecretStr | None = Field(None, validation_alias="HAMPSHIRE_DATA_KEY")
    allow_unauthenticated: bool = Field(False, validation_alias="HAMPSHIRE_ALLOW_UNAUTHENTICATED")
    # The logs are set up from the variable before settings load, by the same parser (bot.logs);
    # declared here too so a wrong value is refused with the rest.
    log_format: Annotated[LogFormat, BeforeValidator(parse_log_format)] = Field(
        "text", validation_alias=LOG_FORMAT_VARIABLE
    )
    teams_sdk: TeamsSdk = Field("botbuilder", validation_alias="HAMPSHIRE_TEAMS_SDK")
    # How long a worker may hold acknowledged work or a reply it is sending before another takes it
    # over (after a crash). Longer than any one turn or send; shorter brings recovery sooner.
    work_lease_seconds: int = Field(120, ge=2, le=3600, validation_alias="HAMPSHIRE_WORK_LEASE_SECONDS")
    # For the app manifests (`hampshire manifest slack|teams`), not for serving.
    public_url: str | None = Field(None, validation_alias="HAMPSHIRE_PUBLIC_URL")
    public_host: str | None = Field(None, validation_alias="HAMPSHIRE_PUBLIC_HOST")
    teams_app_id: str | None = Field(None, validation_alias="TEAMS_APP_ID")
    # Email to people outside chat (a staff association's mailbox); off when unset. A secret: the
    # URL may hold the server's password.
    smtp_url: SecretStr | None = Field(None, validation_alias="HAMPSHIRE_SMTP_URL")

    @field_validator("smtp_url")
    @classmethod
    def _smtp_url_usable(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None:
            parse_smtp_url(value.get_secret_value())  # a ValueError says why, never the URL
        return value

    def replace(self, **changes: object) -> Settings:
        """A copy with `changes`, validated as the constructor validates them."""
        return self.model_validate(self.model_dump() | changes)

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        """Only the values passed in: `from_env` is the one place the environment is read."""
        return (init_settings,)

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Settings:
        """Read the settings from environment variables (`os.environ` unless `env` is given).

        Empty values count as unset. An unusable value raises `ConfigurationError`, naming the
        variable and never its value.
        """
        values = _Environment(cls, os.environ if env is None else env)()
        try:
            return cls(**values)
        except ValidationError as error:
            raise ConfigurationError(_one_line(error)) from None


class _Environment(EnvSettingsSource):
    """pydantic-settings' environment source over a given mapping, blank values left out."""

    def __init__(self, settings_cls: type[BaseSettings], env: Mapping[str, str]) -> None:
        self._env = env
        super().__init__(settings_cls)

    def _load_env_vars(self) -> Mapping[str, str | None]:
        return {name: value.strip() for name, value in self._env.items() if value.strip()}


def _one_line(error: ValidationError) -> str:
    problems = (f"{'.'.join(str(part) for part in e['loc'])}: {e['msg']}" for e in error.errors())
    return "invalid setting: " + "; ".join(problems)
