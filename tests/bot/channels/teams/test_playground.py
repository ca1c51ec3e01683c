"""End to end with the Microsoft 365 Agents Playground, a local Teams client (npm, Microsoft).

`hampshire serve` runs as a real process in local mode (HAMPSHIRE_ALLOW_UNAUTHENTICATED=1, asked
to listen everywhere but held to 127.0.0.1) on a temporary SQLite database; the Playground runs
with TEAMSAPPTESTER_BROWSER=none and --disable-telemetry on a free port, as its users, tenant and
chats come from a config file of invented people. The test drives it over its HTTP API and watches
its WebSocket stream, as a browser would: a supervisor installs the app, reports an assault with
card buttons and typed answers, the case is opened in the database, and a proactive message sent
through `TeamsChannel` with the stored conversation reference reaches the chat.
"""

from __future__ import annotations

import asyncio
import json
import os
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp
import pytest
import yaml
from sqlalchemy import select

from bot.channels.outbound import Address
from bot.channels.teams.proactive import make_teams_channel
from bot.channels.teams.sdk import Sdk
from bot.settings import Settings
from dialogs.loader import load_pack
from dialogs.types import Fact, Reply
from store.db import make_engine
from store.models import Case, ChannelIdentity
from tests.fake_teams import card_errors
from tests.playground import PLAYGROUND, ROOT, require_playground

SUPERVISOR_EMAIL = "sgt.pat.example@example.police.uk"
STEP_TIMEOUT = 20.0


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def playground_config(tenant: str) -> dict[str, Any]:
    """Invented people only; the Playground wants at least five other users."""

    def user(n: int, name: str, email: str) -> dict[str, str]:
        first, last = name.split(" ", 1)
        return {
            "id": f"user-id-{n}",
            "name": name,
            "userPrincipleName": email,
            "aadObjectId": str(uuid.uuid4()),
            "givenName": first,
            "surname": last,
            "email": email,
        }

    return {
        "version": "0.1.1",
        "tenantId": tenant,
        "bot": {"id": str(uuid.uuid4()), "name": "Op Hampshire"},
        "currentUser": user(0, "Pat Example", SUPERVISOR_EMAIL),
        "users": [user(n, f"Colleague Number{n}", f"colleague.{n}@example.police.uk") for n in range(1, 6)],
        "personalChat": {"id": str(uuid.uuid4())},
        "groupChat": {"id": str(uuid.uuid4()), "name": "Group Chat"},
        "team": {
            "id": "team-id",
            "name": "Response Team",
            "aadGroupId": str(uuid.uuid4()),
            "channels": [{"id": "channel-general-id", "name": "General"}],
        },
    }


@dataclass
class Processes:
    bot_port: int
    playground_port: int
    tenant: str
    database: str
    folder: Path
    serve_log: Path


def _wait_until(ready: Any, what: str, processes: list[subprocess.Popen[bytes]], timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for process in processes:
            if process.poll() is not None:
                raise AssertionError(f"{what}: a process exited early with {process.returncode}")
        try:
            if ready():
                return
        except OSError:
            pass
        time.sleep(0.2)
    raise AssertionError(f"{what}: not ready after {timeout} s")


def _get_json(url: str) -> Any:
    import urllib.request

    with urllib.request.urlopen(url, timeout=5) as response:  # noqa: S310 (loopback only)
        return json.loads(response.read())


@pytest.fixture
def processes(tmp_path: Path, sdk: Sdk) -> Iterator[Processes]:
    node = require_playground()
    tenant = str(uuid.uuid4())
    bot_port, playground_port = free_port(), free_port()
    database = f"sqlite:///{tmp_path / 'hampshire.db'}"
    config = tmp_path / "playground.yml"
    config.write_text(yaml.safe_dump(playground_config(tenant), sort_keys=False), encoding="utf-8")
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(
            ("MICROSOFT_APP_", "HAMPSHIRE_", "SLACK_", "M365_AGENTS_PLAYGROUND_", "TEAMSAPPTESTER_")
        )
    }
    serve_log = tmp_path / "serve.log"
    serve_env = {
        **env,
        "HAMPSHIRE_ALLOW_UNAUTHENTICATED": "1",
        "HAMPSHIRE_TEAMS_SDK": sdk,
        "HAMPSHIRE_DATABASE_URL": database,
        "MICROSOFT_APP_TENANT_ID": tenant,
    }
    playground_env = {
        **env,
        "TEAMSAPPTESTER_BROWSER": "none",
        "M365_AGENTS_PLAYGROUND_CONFIG_PATH": str(config),
        "M365_AGENTS_PLAYGROUND_LOGFILE": str(tmp_path / "playground.log"),
    }
    started: list[subprocess.Popen[bytes]] = []
    with serve_log.open("wb") as log:
        try:
            started.append(
                subprocess.Popen(
                    [sys.executable, "-m", "bot.cli", "serve", "--host", "0.0.0.0", "--port", str(bot_port)],
                    cwd=ROOT,
                    env=serve_env,
                    stdout=log,
                    stderr=subprocess.STDOUT,
                )
            )
            _wait_until(
                lambda: _get_json(f"http://127.0.0.1:{bot_port}/healthz")["status"] == "ok", "serve", started
            )
            started.append(
                subprocess.Popen(
                    [
                        node,
                        str(PLAYGROUND),
                        "-e",
                        f"http://127.0.0.1:{bot_port}/api/messages",
                        "-c",
                        "msteams",
                        "--disable-telemetry",
                        "-p",
                        str(playground_port),
                    ],
                    cwd=tmp_path,
                    env=playground_env,
                    stdout=subprocess.DEVNULL,
                    stderr=subprocess.DEVNULL,
                )
            )
            _wait_until(
                lambda: (
                    _get_json(f"http://127.0.0.1:{playground_port}/_internal/v1/config")["config"]["tenantId"]
                    == tenant
                ),
                "Agents Playground",
                started,
            )
            yield Processes(bot_port, playground_port, tenant, database, tmp_path, serve_log)
        finally:
            for process in started:
                process.terminate()
            for process in started:
                try:
                    process.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    process.kill()
                    process.wait()


def keys(message: dict[str, Any]) -> list[str]:
    """The reply ids in a chat message: each reply is a card Container with that id."""
    return [
        item["id"]
        for attachment in message.get("attachments") or []
        for item in attachment["content"]["body"]
        if "id" in item
    ]


def buttons(message: dict[str, Any]) -> list[dict[str, Any]]:
    found = []
    for attachment in message.get("attachments") or []:
        for container in attachment["content"]["body"]:
            for item in container["items"]:
                if item["type"] == "ActionSet":
                    found += [a["data"] for a in item["actions"]]
    return found


class Chat:
    """The supervisor's personal chat in the Playground, driven over its HTTP and WebSocket API."""

    def __init__(self, http: aiohttp.ClientSession, base: str, config: dict[str, Any]) -> None:
        self.http = http
        self.base = base
        self.conversation = config["personalChat"]["id"]
        self.user = config["currentUser"]["id"]
        self.bot = config["bot"]["id"]
        self.inbox: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
        self.last: dict[str, Any] = {}

    async def listen(self, ws: aiohttp.ClientWebSocketResponse) -> None:
        async for frame in ws:
            event = json.loads(frame.data)
            message = event.get("message") or {}
            if event.get("action") == "createMessage" and (message.get("from") or {}).get("id") == self.bot:
                for attachment in message.get("attachments") or []:
                    assert card_errors(attachment["content"]) == []
                await self.inbox.put(message)

    async def next_message(self) -> dict[str, Any]:
        self.last = await asyncio.wait_for(self.inbox.get(), STEP_TIMEOUT)
        return self.last

    async def install(self) -> list[str]:
        url = f"{self.base}/_debug/conversation/{self.conversation}/installation"
        async with self.http.post(url, json={}) as response:
            assert response.status == 200
        return keys(await self.next_message())

    async def say(self, text: str) -> list[str]:
        url = f"{self.base}/_conversation/v1/conversations/{self.conversation}/messages"
        body = {"from": {"id": self.user}, "text": text, "textFormat": "plain"}
        async with self.http.post(url, json=body) as response:
            assert response.status == 200
        return keys(await self.next_message())

    async def press(self, value: str) -> list[str]:
        """Press the button carrying `value` on the last message."""
        return await self._submit(next(d for d in buttons(self.last) if d.get("value") == value))

    async def choose(self, value: str) -> list[str]:
        """Pick `value` in the last message's list and press its button (Teams merges the input)."""
        data = next(d for d in buttons(self.last) if "input" in d)
        return await self._submit({**data, data["input"]: value})

    async def _submit(self, value: dict[str, Any]) -> list[str]:
        body = {
            "conversation": {"id": self.conversation},
            "from": {"id": self.user},
            "replyToId": self.last["messageId"],
            "value": value,
        }
        async with self.http.post(f"{self.base}/_conversation/v1/submit", json=body) as response:
            assert response.status == 200
        return keys(await self.next_message())


def test_a_supervisor_reports_an_assault_in_the_local_teams_client(processes: Processes) -> None:
    serve_output = processes.serve_log.read_text(encoding="utf-8")
    assert "listening on 127.0.0.1 only" in serve_output
    assert "WITHOUT AUTHENTICATION" in serve_output
    base = f"http://127.0.0.1:{processes.playground_port}"

    async def scenario() -> None:
        async with aiohttp.ClientSession() as http:
            async with http.get(f"{base}/_internal/v1/config") as response:
                config = (await response.json())["config"]
            chat = Chat(http, base, config)
            ws = await http.ws_connect(
                f"ws://127.0.0.1:{processes.playground_port}/_ws_conversation/v1/conversations/stream"
            )
            listener = asyncio.create_task(chat.listen(ws))
            try:
                assert await chat.install() == ["strings.greeting"]
                assert await chat.press("report_assault") == [
                    "strings.report_intro",
                    "strings.ask_victim_email",
                ]
                assert await chat.say("pc.sam.example@example.police.uk") == [
                    "strings.ask_confirm_new_person"
                ]
                assert await chat.press("yes") == ["strings.ask_victim_role"]
                assert await chat.press("officer") == ["strings.ask_occurred_at"]
                assert await chat.say("yesterday 10pm") == ["strings.ask_location"]
                assert await chat.say("Outside the custody suite") == ["strings.ask_area"]
                assert await chat.choose("coventry") == ["strings.ask_kind"]
                assert await chat.press("spitting") == ["strings.ask_hate_motivated"]
                assert await chat.press("no") == ["strings.ask_injury_level"]
                assert await chat.press("none") == ["strings.ask_suspect_arrested"]
                assert await chat.press("yes") == ["strings.ask_crime_reference"]
                assert await chat.say("skip") == ["strings.ask_colleagues_present"]
                assert await chat.say("none") == ["strings.welfare_intro", "strings.ask_welfare_how"]
                assert await chat.say("Upset but wants to carry on") == ["strings.ask_welfare_support"]
                assert await chat.say("A call tomorrow") == ["strings.ask_welfare_handover"]
                assert await chat.say("Nothing") == ["strings.ask_consent_contact"]
                assert await chat.press("yes") == ["strings.ask_consent_association"]
                assert await chat.press("yes") == ["strings.summary_intro"]
                assert await chat.press("confirm") == [
                    "strings.case_opened",
                    "strings.report_next_steps",
                    "strings.anything_else",
                ]

                engine = make_engine(processes.database)
                try:
                    with engine.connect() as connection:
                        reference = connection.scalar(select(Case.reference))
                        # The supervisor's Teams account (the Federation's mailbox has one on email).
                        identity = connection.execute(
                            select(
                                ChannelIdentity.tenant, ChannelIdentity.user_id, ChannelIdentity.address
                            ).where(ChannelIdentity.channel == "msteams")
                        ).one()
                finally:
                    engine.dispose()
                assert reference and reference.startswith("OH-")
                assert identity.address["conversation"]["id"] == chat.conversation

                settings = Settings(allow_unauthenticated=True, microsoft_app_tenant_id=processes.tenant)
                channel = make_teams_channel(settings, pack=load_pack())
                assert channel is not None
                nudge = Reply(
                    key="strings.e2e_nudge",
                    text="You have an update on a case.",
                    facts=(Fact(label="Reference", value=reference),),
                )
                address = Address("msteams", identity.tenant, identity.user_id, identity.address)
                delivery = await channel.send(address, [nudge])
                assert delivery.status == "sent", delivery
                message = await chat.next_message()
                assert keys(message) == ["strings.e2e_nudge"]
                assert message["messageId"] == delivery.message_id
            finally:
                listener.cancel()
                await ws.close()

    asyncio.run(scenario())
