"""Settings: the environment's names, blanks as unset, secrets kept out of repr, errors and logs."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from bot.settings import ConfigurationError, Settings

SECRETS = {
    "SLACK_BOT_TOKEN": "xoxb-test-only-bot-token",
    "SLACK_SIGNING_SECRET": "test-only-signing-secret",
    "SLACK_APP_TOKEN": "xapp-test-only-app-token",
    "MICROSOFT_APP_PASSWORD": "test-only-client-secret",
}
ENV = {
    **SECRETS,
    "HAMPSHIRE_DATABASE_URL": "postgresql+psycopg://bot@db.example.police.uk/hampshire",
    "HAMPSHIRE_PACK": "/srv/packs/west-midlands",
    "SLACK_TEAM_ID": "T0TEST",
    "SLACK_API_URL": "http://127.0.0.1:9/api/",
    "MICROSOFT_APP_ID": "00000000-0000-0000-0000-000000000001",
    "MICROSOFT_APP_TENANT_ID": "00000000-0000-0000-0000-000000000002",
    "HAMPSHIRE_ALLOW_UNAUTHENTICATED": "1",
    "HAMPSHIRE_LOG_FORMAT": "json",
    "HAMPSHIRE_TEAMS_SDK": "agents",
    "HAMPSHIRE_PUBLIC_URL": "https://bot.example.police.uk",
    "HAMPSHIRE_PUBLIC_HOST": "bot.example.police.uk",
    "TEAMS_APP_ID": "00000000-0000-0000-0000-000000000003",
}


def test_each_variable_sets_its_field() -> None:
    settings = Settings.from_env(ENV)
    assert settings.database_url == ENV["HAMPSHIRE_DATABASE_URL"]
    assert settings.pack_dir == Path("/srv/packs/west-midlands")
    assert settings.slack_team_id == "T0TEST" and settings.slack_api_url == ENV["SLACK_API_URL"]
    assert settings.microsoft_app_id == ENV["MICROSOFT_APP_ID"]
    assert settings.microsoft_app_tenant_id == ENV["MICROSOFT_APP_TENANT_ID"]
    assert settings.allow_unauthenticated is True
    assert (settings.log_format, settings.teams_sdk) == ("json", "agents")
    assert (settings.public_url, settings.public_host, settings.teams_app_id) == (
        ENV["HAMPSHIRE_PUBLIC_URL"],
        ENV["HAMPSHIRE_PUBLIC_HOST"],
        ENV["TEAMS_APP_ID"],
    )
    secrets = (
        settings.slack_bot_token,
        settings.slack_signing_secret,
        settings.slack_app_token,
        settings.microsoft_app_password,
    )
    assert [s.get_secret_value() if s else None for s in secrets] == list(SECRETS.values())


def test_nothing_set_gives_the_defaults() -> None:
    settings = Settings.from_env({})
    assert settings == Settings()
    assert settings.database_url is None and settings.slack_bot_token is None
    assert (settings.allow_unauthenticated, settings.log_format, settings.teams_sdk) == (
        False,
        "text",
        "botbuilder",
    )


def test_empty_and_blank_values_count_as_unset() -> None:
    blank = {name: "" for name in ENV} | {"SLACK_BOT_TOKEN": "   ", "HAMPSHIRE_LOG_FORMAT": " "}
    assert Settings.from_env(blank) == Settings()


def test_values_are_trimmed() -> None:
    settings = Settings.from_env({"SLACK_TEAM_ID": " T0TEST\n", "HAMPSHIRE_LOG_FORMAT": "json "})
    assert (settings.slack_team_id, settings.log_format) == ("T0TEST", "json")


def test_from_env_reads_the_process_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SLACK_TEAM_ID", "T0PROCESS")
    monkeypatch.setenv("HAMPSHIRE_TEAMS_SDK", "agents")
    settings = Settings.from_env()
    assert (settings.slack_team_id, settings.teams_sdk) == ("T0PROCESS", "agents")


def test_constructing_settings_never_reads_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for name, value in ENV.items():
        monkeypatch.setenv(name, value)
    assert Settings() == Settings.from_env({})
    assert Settings(slack_team_id="T0GIVEN").slack_bot_token is None


def test_a_copy_with_changes_is_validated_like_the_original() -> None:
    changed = Settings().replace(slack_bot_token="xoxb-test-only", log_format="json")
    assert changed.slack_bot_token is not None
    assert changed.slack_bot_token.get_secret_value() == "xoxb-test-only"
    with pytest.raises(ValueError, match="log_format"):
        Settings().replace(log_format="xml")


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("HAMPSHIRE_ALLOW_UNAUTHENTICATED", "perhaps"),
        ("HAMPSHIRE_LOG_FORMAT", "xml"),
        ("HAMPSHIRE_TEAMS_SDK", "botkit"),
    ],
)
def test_an_unusable_value_is_one_line_naming_the_variable(name: str, value: str) -> None:
    with pytest.raises(ConfigurationError) as raised:
        Settings.from_env(SECRETS | {name: value})
    message = str(raised.value)
    assert "\n" not in message and message.startswith(f"invalid setting: {name}: ")
    assert value not in message
    assert not any(secret in message for secret in SECRETS.values())


def test_every_problem_is_on_the_one_line() -> None:
    with pytest.raises(ConfigurationError) as raised:
        Settings.from_env({"HAMPSHIRE_LOG_FORMAT": "xml", "HAMPSHIRE_TEAMS_SDK": "botkit"})
    assert "HAMPSHIRE_LOG_FORMAT" in str(raised.value) and "HAMPSHIRE_TEAMS_SDK" in str(raised.value)


def test_secrets_never_appear_in_repr_str_or_a_dump() -> None:
    settings = Settings.from_env(ENV)
    shown = [repr(settings), str(settings), settings.model_dump_json(), repr(settings.model_dump())]
    for text in shown:
        assert not any(secret in text for secret in SECRETS.values()), text
    assert "T0TEST" in repr(settings)  # what is not secret still shows, for support


def test_secrets_never_reach_the_logs(caplog: pytest.LogCaptureFixture) -> None:
    settings = Settings.from_env(ENV)
    logger = logging.getLogger("bot.settings.test")
    with caplog.at_level(logging.DEBUG):
        logger.info("starting with %s", settings)
        logger.debug("settings %r; %s", settings, settings.model_dump())
        try:
            Settings(microsoft_app_id=ENV["MICROSOFT_APP_ID"], log_format=SECRETS["SLACK_BOT_TOKEN"])  # type: ignore[arg-type]
        except ValueError:
            logger.exception("refused")
    assert "refused" in caplog.text and "log_format" in caplog.text
    assert not any(secret in caplog.text for secret in SECRETS.values()), caplog.text


def test_the_log_format_is_read_as_the_logs_read_it() -> None:
    # The logs are set up from the variable before the settings load: one parser for both.
    assert Settings.from_env({"HAMPSHIRE_LOG_FORMAT": " JSON "}).log_format == "json"


def test_a_database_password_never_appears_in_repr() -> None:
    settings = Settings.from_env(
        {"HAMPSHIRE_DATABASE_URL": "postgresql+psycopg://bot:s3cret-test@db/hampshire"}
    )
    assert "s3cret-test" not in repr(settings) and "s3cret-test" not in str(settings)
