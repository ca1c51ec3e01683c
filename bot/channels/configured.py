"""Which channels a running bot has on, and why one is off; the push channels of those that are on.

Whether a channel is on is decided here from the settings alone, so that each channel's SDK is
imported only when its channel is on: a bot with Teams off never loads the Bot Framework.
"""

from __future__ import annotations

from bot.channels.outbound import Channel
from bot.channels.teams.security import TeamsConfigError, teams_mode
from bot.clock import Clock, system_clock
from bot.settings import Settings
from dialogs.schema import Pack

__all__ = ["push_channels", "slack_off_reason", "teams_off_reason"]


def slack_off_reason(settings: Settings) -> str | None:
    """Why Slack is off, or None when it is on (a bot token is configured)."""
    return None if settings.slack_bot_token else "SLACK_BOT_TOKEN is not set"


def teams_off_reason(settings: Settings) -> str | None:
    """Why Teams is off, or None when it is on, with authentication or (for a local client) without."""
    # Half a configuration counts as on here: `teams_mode` refuses it where the routes are added.
    try:
        off = teams_mode(settings) == "off"
    except TeamsConfigError:
        return None
    return "MICROSOFT_APP_ID is not set" if off else None


def push_channels(settings: Settings, *, pack: Pack, clock: Clock = system_clock) -> dict[str, Channel]:
    """The configured push channels by name; with none, reminders wait for the console.

    Email (`HAMPSHIRE_SMTP_URL`) reaches only mailboxes: people are reached in chat.
    """
    channels: dict[str, Channel] = {}
    if slack_off_reason(settings) is None:
        from bot.channels.slack.adapter import make_slack_channel

        slack = make_slack_channel(settings, pack)
        if slack is not None:
            channels[slack.name] = slack
    if teams_off_reason(settings) is None:
        from bot.channels.teams.proactive import make_teams_channel

        teams = make_teams_channel(settings, pack=pack, clock=clock)
        if teams is not None:
            channels[teams.name] = teams
    if settings.smtp_url is not None:
        from bot.channels.email.adapter import make_email_channel

        email = make_email_channel(settings, clock=clock)
        if email is not None:
            channels[email.name] = email
    return channels
