"""`POST /api/messages`: every check a Teams request passes before a turn runs, for either SDK.

In order, before the SDK runs a turn or any state is loaded: well-formed JSON (400), channel
`msteams` (403: the Emulator channel is never served), the token (401: the SDK's JWT validation,
whose acceptance is reused for the same token, channel and service URL for a few minutes at most,
`bot.channels.teams.accepted`; then Bot Framework's channel claims: its issuer, our app id, this
service URL), the service URL's origin (403 unless Bot Framework's, or loopback in local mode) and
the tenant (403 unless ours).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Mapping
from functools import partial
from typing import Any

from aiohttp import web

from bot import messages
from bot.channels.port import NotStored, Port, ReplySender
from bot.channels.teams.accepted import AcceptedTokens
from bot.channels.teams.handler import TeamsHandler
from bot.channels.teams.options import TeamsOptions
from bot.channels.teams.proactive import TeamsChannel
from bot.channels.teams.sdk import Binding, Sdk, make_binding
from bot.channels.teams.security import (
    CHANNEL,
    Mode,
    Rules,
    TeamsConfigError,
    channel_claims_allowed,
    teams_mode,
)
from bot.clock import Clock
from bot.settings import Settings

__all__ = ["add_teams_routes"]

log = logging.getLogger(__name__)


def _refusal(status: int, reason: str, activity_id: object = None) -> web.Response:
    log.warning(messages.teams_refused(status, reason, activity_id))
    return web.json_response({"error": reason}, status=status)


def _has_id(body: Mapping[str, Any], key: str) -> bool:
    part = body.get(key)
    return isinstance(part, Mapping) and isinstance(part.get("id"), str) and bool(part["id"])


class _Endpoint:
    """The checks, then the SDK's turn."""

    def __init__(
        self,
        port: Port,
        settings: Settings,
        mode: Mode,
        options: TeamsOptions,
        clock: Clock,
        binding: Binding,
        rules: Rules,
        replies: ReplySender,
    ) -> None:
        self.mode = mode
        self.app_id = settings.microsoft_app_id or ""
        self.rules = rules
        self.binding = binding
        self.handler = TeamsHandler(port, options, clock, replies)
        # Local mode takes no token: nothing to remember.
        self.accepted = AcceptedTokens(clock=clock) if mode == "authenticated" else None

    async def post(self, request: web.Request) -> web.StreamResponse:
        """Check one request and, if it passes, run its turn; answer with the invoke response."""
        if request.content_type != "application/json":
            return _refusal(415, "expected application/json")
        try:
            body = await request.json()
        except ValueError:
            return _refusal(400, "malformed JSON")
        if not isinstance(body, dict):
            return _refusal(400, "expected an activity")
        activity_id = body.get("id")
        # The shape first: what the SDK cannot read, it may log verbatim, and anyone can post it.
        if not (
            isinstance(body.get("type"), str)
            and body["type"]
            and _has_id(body, "conversation")
            and _has_id(body, "from")
            and isinstance(body.get("recipient"), Mapping)
        ):
            return _refusal(400, "incomplete activity", activity_id)
        activity = self.binding.read(body)
        if activity is None:
            return _refusal(400, "malformed activity", activity_id)
        if body.get("channelId") != CHANNEL:
            return _refusal(403, "channel not served", activity_id)
        header = request.headers.get("Authorization", "")
        remembered = self.accepted.get(header, body) if self.accepted is not None else None
        verdict = remembered if remembered is not None else await self.binding.authenticate(activity, header)
        if verdict is None or (
            self.mode == "authenticated"
            and not channel_claims_allowed(
                verdict.claims, app_id=self.app_id, service_url=body.get("serviceUrl")
            )
        ):
            return _refusal(401, "unauthorized", activity_id)
        if remembered is None and self.accepted is not None:
            self.accepted.add(header, body, verdict)  # accepted by the SDK and by the channel checks
        if not self.rules.service_url_allowed(body.get("serviceUrl")):
            return _refusal(403, "service URL not allowed", activity_id)
        tenant = self.rules.tenant_of(body, verdict.claims)
        if tenant is None:
            return _refusal(403, "tenant not served", activity_id)
        if tenant:
            body["conversation"]["tenantId"] = tenant
        else:
            body["conversation"].pop("tenantId", None)
        log.debug(
            messages.teams_activity(body["type"], activity_id if isinstance(activity_id, str) else None)
        )
        try:
            answer = await self.binding.run(verdict, activity, body, self.handler)
        except NotStored as error:
            # Nothing was saved: an error status, so that Teams sends the activity again.
            log.error(messages.turn_failed(CHANNEL, error))
            return web.json_response({"error": "try again later"}, status=503)
        except Exception as error:
            log.error(messages.turn_failed(CHANNEL, error))
            return web.json_response({"error": "internal error"}, status=500)
        if answer is None:
            return web.Response(status=200)
        if answer.body is None:
            return web.Response(status=answer.status)
        return web.json_response(answer.body, status=answer.status)


async def _sending_left_replies(
    sender: ReplySender, settings: Settings, app: web.Application
) -> AsyncIterator[None]:
    task = asyncio.get_running_loop().create_task(sender.keep_sending(settings.work_lease_seconds / 2))
    yield
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task


def add_teams_routes(
    app: web.Application,
    port: Port,
    settings: Settings,
    *,
    clock: Clock,
    options: TeamsOptions | None = None,
    sdk: Sdk | None = None,
) -> None:
    """Serve `POST /api/messages` on `app` with Teams on (`bot.app` answers for Teams off), with
    authentication or locally without, as the settings say, and say which at start-up.

    Args:
        sdk: the SDK that carries Teams (default: the one the settings choose).

    Raises:
        TeamsConfigError: Teams off, an app id without its password or tenant, or an SDK without
            what its binding needs.
    """
    mode = teams_mode(settings)
    if mode == "off":
        raise TeamsConfigError("Teams is off: bot.app answers POST /api/messages itself")
    options = options or TeamsOptions()
    binding = make_binding(settings, mode, options, clock, sdk=sdk)
    rules = Rules.of(settings, mode, options.service_origins)
    # One sender for the process, so that turns answered together share their outbox transactions:
    # a turn's replies go out on the activity's own turn, and replies a crash or an outage left in
    # the outbox go out proactively, to the stored reference.
    replies = port.reply_sender(TeamsChannel(binding, pack=port.pack, rules=rules, options=options))
    endpoint = _Endpoint(port, settings, mode, options, clock, binding, rules, replies)
    app.router.add_post("/api/messages", endpoint.post)
    app.cleanup_ctx.append(binding.lifecycle)
    app.cleanup_ctx.append(partial(_sending_left_replies, replies, settings))
    if mode == "local":
        log.warning(messages.teams_unauthenticated())
        return
    if settings.allow_unauthenticated:
        log.warning(messages.teams_flag_ignored())
    log.info(messages.teams_on(settings.microsoft_app_tenant_id or ""))
