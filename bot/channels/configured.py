"""The push channels a running bot has: whichever of Slack and Teams are configured."""

from __future__ import annotations

from bot.channels.outbound import Channel
from bot.channels.slack.adapter import make_slack_channel
from bot.channels.teams.proactive import make_teams_channel
from bot.clock import Clock, system_clock
from bot.settings import Settings
from dialogs.schema import Pack

__all__ = ["push_channels"]


def push_channels(settings: Settings, *, pack: Pack, clock: Clock = system_clock) -> dict[str, Channel]:
    """The configured push channels by name; with none, reminders wait for the console."""
    channels: dict[str, Channel] = {}
    slack = make_slack_channel(settings, pack)
    if slack is not None:
        channels[slack.name] = slack
    teams = make_teams_channel(settings, pack=pack, clock=clock)
    if teams is not None:
        channels[teams.name] = teams
    return channels
