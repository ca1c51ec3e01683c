"""What the Slack app uses, declared once: the adapter registers these and the manifest lists them.

The bot's scopes are derived from the Web API methods and events the code uses, so the manifest
asks for exactly what is needed (a test checks every method the tests saw called is declared).
Wording comes from the content pack's `slack_*` strings.
"""

from __future__ import annotations

from typing import Any

from dialogs.schema import Pack

__all__ = [
    "BOT_EVENTS",
    "BOT_SCOPES",
    "COMMAND",
    "METHOD_SCOPES",
    "REPORT_SHORTCUT",
    "slack_manifest",
]

#: The slash command.
COMMAND = "/hampshire"
#: The callback id of the global shortcut that starts a report.
REPORT_SHORTCUT = "report_assault"

#: Event subscriptions (as the manifest names them) -> the event type bolt listens for.
BOT_EVENTS: dict[str, str] = {
    "message.im": "message",
    "app_mention": "app_mention",
    "app_home_opened": "app_home_opened",
}

#: Web API methods the bot calls with its bot token -> the scopes each needs.
METHOD_SCOPES: dict[str, tuple[str, ...]] = {
    "chat.postMessage": ("chat:write",),
    "chat.postEphemeral": ("chat:write",),
    "users.info": ("users:read", "users:read.email"),
    "views.publish": (),
    "views.open": (),
    # Reconciling a reminder whose send timed out: find it by its metadata in the DM's history.
    "conversations.open": ("im:write",),
    "conversations.history": ("im:history",),
    # A report's chart, shared in the DM of the SLT or SPOC who asked (upload flow v2).
    "files.getUploadURLExternal": ("files:write",),
    "files.completeUploadExternal": ("files:write",),
}

_EVENT_SCOPES: dict[str, tuple[str, ...]] = {
    "message.im": ("im:history",),
    "app_mention": ("app_mentions:read",),
    "app_home_opened": (),
}

#: Every bot scope the app asks for: slash commands and shortcuts need `commands`.
BOT_SCOPES: tuple[str, ...] = tuple(
    sorted(
        {
            "commands",
            *(s for m in METHOD_SCOPES.values() for s in m),
            *(s for e in _EVENT_SCOPES.values() for s in e),
        }
    )
)


def slack_manifest(pack: Pack, *, public_url: str | None = None) -> dict[str, Any]:
    """The Slack app manifest (schema 1.0.0).

    Args:
        public_url: the bot's public base URL (HTTP mode, requests to `<url>/slack/events`);
            without one the app uses Socket Mode and needs no public endpoint.
    """
    name = pack.text("strings.slack_app_name")
    events_url = f"{public_url.rstrip('/')}/slack/events" if public_url else None
    command: dict[str, Any] = {
        "command": COMMAND,
        "description": pack.text("strings.slack_command_description"),
        "usage_hint": pack.text("strings.slack_command_usage_hint"),
        "should_escape": False,
    }
    subscriptions: dict[str, Any] = {"bot_events": sorted(BOT_EVENTS)}
    interactivity: dict[str, Any] = {"is_enabled": True}
    if events_url:
        command["url"] = events_url
        subscriptions["request_url"] = events_url
        interactivity["request_url"] = events_url
    return {
        "_metadata": {"major_version": 1, "minor_version": 1},
        "display_information": {
            "name": name,
            "description": pack.text("strings.slack_app_description"),
        },
        "features": {
            "app_home": {
                "home_tab_enabled": True,
                "messages_tab_enabled": True,
                "messages_tab_read_only_enabled": False,
            },
            "bot_user": {"display_name": name, "always_online": True},
            "slash_commands": [command],
            "shortcuts": [
                {
                    "name": pack.text("strings.slack_shortcut_name"),
                    "type": "global",
                    "callback_id": REPORT_SHORTCUT,
                    "description": pack.text("strings.slack_shortcut_description"),
                }
            ],
        },
        "oauth_config": {"scopes": {"bot": list(BOT_SCOPES)}},
        "settings": {
            "event_subscriptions": subscriptions,
            "interactivity": interactivity,
            "org_deploy_enabled": False,
            "socket_mode_enabled": events_url is None,
            "token_rotation_enabled": False,
        },
    }
