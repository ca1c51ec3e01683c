"""The push channels a running bot has: whichever of Slack and Teams are configured."""

from __future__ import annotations

from bot.channel import Channel
from bot.runtime import Runtime
from bot.settings import Settings

__all__ = ["push_channels"]


def push_channels(settings: Settings, runtime: Runtime) -> dict[str, Channel]:
    """The configured push channels by name (none: reminders wait for the console)."""
    return {}
