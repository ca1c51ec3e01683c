"""Conversation references: where to reach a person later, as Bot Framework wire JSON.

A reference is stored as our own camelCase JSON (never a pickled SDK object), written from the
activity's wire JSON and read back into `StoredReference`, from which each SDK binding builds its
own reference object. Both SDKs read and write this one shape, so a force can switch between them
without losing its people's conversations.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from bot.channels.teams.security import CHANNEL

__all__ = ["StoredReference", "conversation_reference", "read_reference"]


def _part(body: Mapping[str, Any], key: str) -> Mapping[str, Any]:
    value = body.get(key)
    return value if isinstance(value, Mapping) else {}


def conversation_reference(activity: Mapping[str, Any]) -> dict[str, Any]:
    """Where to reach the sender of `activity` (its wire JSON) later, as camelCase wire JSON.

    Built field by field rather than with an SDK's serializer (botbuilder's writes the tenant under
    the key `tenantID`, and so loses Teams' `tenantId`); this shape outlives any SDK.
    """
    sender, conversation, bot = (
        _part(activity, "from"),
        _part(activity, "conversation"),
        _part(activity, "recipient"),
    )
    reference: dict[str, Any] = {
        "channelId": activity.get("channelId"),
        "serviceUrl": activity.get("serviceUrl"),
        "conversation": {
            "id": conversation.get("id"),
            "conversationType": conversation.get("conversationType"),
            "tenantId": conversation.get("tenantId"),
        },
        "user": {
            "id": sender.get("id"),
            "name": sender.get("name"),
            "aadObjectId": sender.get("aadObjectId"),
        },
        "bot": {"id": bot.get("id"), "name": bot.get("name")},
        "locale": activity.get("locale"),
    }
    return _without_nulls(reference)


def _without_nulls(value: dict[str, Any]) -> dict[str, Any]:
    return {k: _without_nulls(v) if isinstance(v, dict) else v for k, v in value.items() if v is not None}


@dataclass(frozen=True)
class StoredReference:
    """A stored conversation reference with what a send needs checked present."""

    channel_id: str
    service_url: str
    conversation_id: str
    conversation_type: str | None
    tenant_id: str | None
    user_id: str | None
    user_name: str | None
    user_aad_object_id: str | None
    bot_id: str | None
    bot_name: str | None
    locale: str | None


def read_reference(data: Mapping[str, Any]) -> StoredReference | None:
    """The reference in stored wire JSON, or None when it lacks what a send needs."""
    conversation, user, bot = data.get("conversation"), data.get("user"), data.get("bot")
    if not (isinstance(conversation, Mapping) and isinstance(user, Mapping) and isinstance(bot, Mapping)):
        return None
    service_url, conversation_id = data.get("serviceUrl"), conversation.get("id")
    if not (
        isinstance(service_url, str) and service_url and isinstance(conversation_id, str) and conversation_id
    ):
        return None
    return StoredReference(
        channel_id=data.get("channelId") or CHANNEL,
        service_url=service_url,
        conversation_id=conversation_id,
        conversation_type=conversation.get("conversationType"),
        tenant_id=conversation.get("tenantId"),
        user_id=user.get("id"),
        user_name=user.get("name"),
        user_aad_object_id=user.get("aadObjectId"),
        bot_id=bot.get("id"),
        bot_name=bot.get("name"),
        locale=data.get("locale"),
    )
