"""Slack payloads in, neutral work out: the translating half of the Slack adapter (no SDK here).

Each `inbound_from_*` reads one kind of payload as Slack documents it and returns `SlackWork`: what
the person did, with their Slack ids but not yet who they are (that needs the Web API, after the
acknowledgement). `SlackWork` is plain JSON because the inbox stores it until it is done.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any, Literal
from urllib.parse import parse_qs

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from bot.channels.inbound import Inbound
from dialogs.types import ChoicePick

__all__ = [
    "ACTIONS",
    "CHOICE",
    "DONE",
    "NOT_APPLICABLE",
    "NOT_APPLICABLE_VIEW",
    "REASON",
    "SEARCH",
    "SEARCH_GO",
    "START",
    "SlackWork",
    "choice_value",
    "foreign_team",
    "inbound_from_action",
    "inbound_from_command",
    "inbound_from_home_opened",
    "inbound_from_mention",
    "inbound_from_message",
    "inbound_from_reason",
    "inbound_from_shortcut",
    "malformed",
    "plain_text",
    "point_value",
]

CHANNEL = "slack"

# Action ids: `choice:<n>` answers a question; `start:<flow>` starts a flow; the Home search box
# (`search`, or its button `search_go`); `done:<point>` and `not_applicable:<point>` close a point.
CHOICE = "choice"
START = "start"
SEARCH = "search"
SEARCH_GO = "search_go"
DONE = "done"
NOT_APPLICABLE = "not_applicable"
#: The modal asking why a point does not apply, and its one input.
NOT_APPLICABLE_VIEW = "not_applicable_reason"
REASON = "reason"
#: Every action id prefix the bot puts on a button or input.
ACTIONS = (CHOICE, START, SEARCH, SEARCH_GO, DONE, NOT_APPLICABLE)


Surface = Literal["message", "mention", "command", "shortcut", "action", "home", "modal"]


class SlackWork(BaseModel):
    """One thing a person did in Slack, translated, waiting to be done.

    Args:
        kind: `turn` (a conversation turn), `home` (publish their App Home), `mark` (close a point).
        id: Slack's id for it (event id, else the interaction's trigger id): retries carry the same.
        surface: where in Slack it came from (decides where a refusal is shown).
        channel: a channel (not the DM) the person wrote in: it gets a pointer and nothing else.
        refused: why the request itself is out of scope (another organisation), if it is.
        message: the (channel, ts) of the message whose button was pressed, to update it after.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    kind: Literal["turn", "home", "mark"]
    id: str = Field(min_length=1, max_length=200)
    team: str = Field(min_length=1)
    user: str = Field(min_length=1)
    surface: Surface
    text: str | None = None
    step: str | None = None
    value: str | None = None
    start: str | None = None
    start_text: str = ""
    resume: bool = False
    channel: str | None = None
    case: str | None = None
    point: int | None = None
    status: Literal["done", "not_applicable"] | None = None
    reason: str | None = None
    refused: Literal["other_organisation"] | None = None
    message: tuple[str, str] | None = None

    def inbound(self, *, email: str, display_name: str | None) -> Inbound:
        """The turn for the router, once the person's work email is known."""
        pick = ChoicePick(step=self.step, value=self.value) if self.step and self.value is not None else None
        return Inbound(
            channel=CHANNEL,
            tenant=self.team,
            user_id=self.user,
            email=email,
            display_name=display_name,
            text=self.text,
            pick=pick,
            start=self.start,
            start_text=self.start_text,
            resume=self.resume,
            event_id=self.id,
            address={"team": self.team, "user": self.user},
        )

    def redacted(self) -> dict[str, Any]:
        """Its ids and kinds only, without anything the person wrote (for work that is given up)."""
        return self.model_dump(
            mode="json", include={"kind", "id", "team", "user", "surface", "case", "point"}
        )


# --- text ----------------------------------------------------------------------------------------

_MARKUP = re.compile(r"<([^<>]*)>")


def _unlink(match: re.Match[str]) -> str:
    inner = match.group(1)
    target, _, label = inner.partition("|")
    if label:
        return label
    if target.startswith("mailto:"):
        return target.removeprefix("mailto:")
    if target.startswith("!"):
        return "@" + target[1:]
    return target


def plain_text(text: str) -> str:
    """What the person typed, from Slack's message markup (links, mailto:, entity escapes).

    Slack turns a typed email into `<mailto:a@b|a@b>` and escapes `&`, `<` and `>`.
    """
    return _MARKUP.sub(_unlink, text).replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


def choice_value(step: str, value: str) -> str:
    """A choice button's value: the question it answers and the answer."""
    return json.dumps({"s": step, "v": value}, separators=(",", ":"))


def point_value(case: str, point: int) -> str:
    """A Home point button's value: the case and the point."""
    return json.dumps({"c": case, "p": point}, separators=(",", ":"))


def _json_object(text: object) -> dict[str, Any]:
    try:
        data = json.loads(text) if isinstance(text, str) else None
    except ValueError:
        return {}
    return data if isinstance(data, dict) else {}


# --- scope ---------------------------------------------------------------------------------------


def _get(data: Any, *path: str) -> Any:
    for key in path:
        if not isinstance(data, dict):
            return None
        data = data.get(key)
    return data


def foreign_team(body: dict[str, Any], team: str) -> str | None:
    """The first workspace or organisation named in the request that is not `team`, if any.

    Slack Connect puts a person of another organisation in our channels and DMs: the envelope
    says our workspace, but the person's own team (`user_team`, `user.team_id`) is theirs. An
    organisation-wide (Enterprise Grid) installation is refused too: one workspace is served.
    """
    if body.get("is_enterprise_install") is True:
        return str(_get(body, "enterprise", "id") or body.get("enterprise_id") or "enterprise")
    named = [
        body.get("team_id"),
        body.get("team") if isinstance(body.get("team"), str) else _get(body, "team", "id"),
        _get(body, "user", "team_id"),
        _get(body, "view", "team_id"),
        _get(body, "view", "app_installed_team_id"),
        _get(body, "event", "team"),
        _get(body, "event", "user_team"),
        _get(body, "event", "source_team"),
        *(a.get("team_id") for a in body.get("authorizations") or [] if isinstance(a, dict)),
    ]
    return next((str(t) for t in named if t and t != team), None)


# --- shape ---------------------------------------------------------------------------------------


class _Shape(BaseModel):
    """The fields the bot reads, with the types Slack documents (others are let through)."""

    model_config = ConfigDict(extra="allow", strict=True)


class _Event(_Shape):
    type: str
    user: str | None = None
    text: str | None = None
    channel: str | None = None
    channel_type: str | None = None
    subtype: str | None = None
    bot_id: str | None = None
    tab: str | None = None
    team: str | None = None
    user_team: str | None = None
    source_team: str | None = None


#: The events whose fields the bot reads (others, e.g. `user_change` with `user` an object, pass).
_READ_EVENTS = ("message", "app_mention", "app_home_opened")


class _Envelope(_Shape):
    """An Events API request (and the URL verification handshake)."""

    type: str
    team_id: str | None = None
    enterprise_id: str | None = None
    event_id: str | None = None
    event: dict[str, Any] | None = None
    authorizations: list[dict[str, Any]] | None = None
    is_enterprise_install: bool | None = None
    challenge: str | None = None


class _Named(_Shape):
    id: str | None = None
    team_id: str | None = None


class _Action(_Shape):
    action_id: str | None = None
    value: str | None = None


class _View(_Shape):
    private_metadata: str | None = None
    state: dict[str, Any] | None = None
    team_id: str | None = None
    app_installed_team_id: str | None = None


class _Interaction(_Shape):
    """A button, shortcut or modal submission (the `payload` form field)."""

    type: str
    team: _Named | None = None
    user: _Named | None = None
    enterprise: _Named | None = None
    actions: list[_Action] | None = None
    view: _View | None = None
    container: dict[str, Any] | None = None
    trigger_id: str | None = None
    callback_id: str | None = None
    is_enterprise_install: bool | None = None


def malformed(body: bytes, content_type: str) -> str | None:
    """Why a (signed) request body is not a payload Slack sends, or None when it is one.

    Checked before bolt reads it: bolt answers 500 to a JSON array or an `event` that is a string.
    A slash command is a plain form (strings only) and needs no check.
    """
    try:
        text = body.decode("utf-8")
        if content_type.startswith("application/json"):
            data = json.loads(text)
            if not isinstance(data, dict):
                return "body is not a JSON object"
            event = _Envelope.model_validate(data).event
            if data.get("type") == "event_callback" and event is None:
                return "event callback without an event"
            if event is not None and event.get("type") in _READ_EVENTS:
                _Event.model_validate(event)
            elif event is not None and not isinstance(event.get("type"), str):
                return "event without a type"
            return None
        form = parse_qs(text, keep_blank_values=True)
        if "payload" in form:
            data = json.loads(form["payload"][0])
            if not isinstance(data, dict):
                return "payload is not a JSON object"
            _Interaction.model_validate(data)
        return None
    except (UnicodeDecodeError, ValueError) as error:
        # ValidationError is a ValueError: its first error names the field (never the value).
        detail = error.errors()[0]["loc"] if isinstance(error, ValidationError) else type(error).__name__
        return f"malformed payload ({detail})"


# --- payloads ------------------------------------------------------------------------------------


def _work(**fields: Any) -> SlackWork | None:
    """The work, or None when the payload lacks what Slack always sends (ids): nothing to act on."""
    try:
        return SlackWork(**fields)
    except ValidationError:
        return None


def _event_work(body: dict[str, Any], team: str, **fields: Any) -> SlackWork | None:
    """Work from an Events API payload: keyed by its event id, done for the event's user."""
    user = _get(body, "event", "user")
    return _work(id=str(body.get("event_id") or ""), team=team, user=str(user or ""), **fields)


def _interaction_work(body: dict[str, Any], team: str, **fields: Any) -> SlackWork | None:
    """Work from an interaction (command, shortcut, button, modal): keyed by its trigger id."""
    user = _get(body, "user", "id") or body.get("user_id")
    return _work(id=str(body.get("trigger_id") or ""), team=team, user=str(user or ""), **fields)


def inbound_from_message(body: dict[str, Any], team: str) -> SlackWork | None:
    """A direct message to the bot; None for anything else (edits, bots, other channels)."""
    event = body.get("event") or {}
    if event.get("channel_type") != "im" or event.get("subtype") or event.get("bot_id"):
        return None
    return _event_work(
        body, team, kind="turn", surface="message", text=plain_text(str(event.get("text") or ""))
    )


def inbound_from_mention(body: dict[str, Any], team: str) -> SlackWork | None:
    """A mention in a channel: the channel gets a pointer, the conversation goes to the DM."""
    event = body.get("event") or {}
    channel = str(event.get("channel") or "")
    if event.get("bot_id") or channel.startswith("D"):
        return None  # in a DM the message event carries it
    text = plain_text(re.sub(r"<@[A-Z0-9]+>", "", str(event.get("text") or ""))).strip()
    return _event_work(
        body,
        team,
        kind="turn",
        surface="mention",
        text=text or None,
        resume=not text,
        channel=channel or None,
    )


def inbound_from_command(body: dict[str, Any], team: str, commands: Mapping[str, str]) -> SlackWork | None:
    """`/hampshire [report | next | contacts TEXT | cases | help | anything]`, answered in the DM.

    `commands` maps a command's word to the flow it starts (the pack's `app_commands`).
    """
    words = plain_text(str(body.get("text") or "")).strip()
    first, _, rest = words.partition(" ")
    flow = commands.get(first.lower())
    if flow:
        return _interaction_work(
            body, team, kind="turn", surface="command", start=flow, start_text=rest.strip()
        )
    return _interaction_work(body, team, kind="turn", surface="command", text=words or None, resume=not words)


def inbound_from_shortcut(body: dict[str, Any], team: str) -> SlackWork | None:
    """The global shortcut "Report an assault": the report starts in the DM."""
    return _interaction_work(body, team, kind="turn", surface="shortcut", start="report_assault")


def inbound_from_home_opened(body: dict[str, Any], team: str) -> SlackWork | None:
    """The App Home tab opened: publish it (None for the Messages tab)."""
    event = body.get("event") or {}
    if event.get("tab") != "home":
        return None
    return _event_work(body, team, kind="home", surface="home")


def _search_text(body: dict[str, Any], action: dict[str, Any]) -> str:
    if action.get("action_id") == SEARCH:
        return str(action.get("value") or "")
    value = _get(body, "view", "state", "values", SEARCH, SEARCH, "value")
    return str(value or "")


def inbound_from_action(body: dict[str, Any], team: str) -> SlackWork | None:
    """A button pressed in a DM or on the App Home (or the Home search box), as neutral work."""
    actions = body.get("actions") or []
    action = actions[0] if actions and isinstance(actions[0], dict) else {}
    name, _, arg = str(action.get("action_id") or "").partition(":")
    surface: Surface = "home" if _get(body, "container", "type") == "view" else "action"
    if name == CHOICE:
        value = _json_object(action.get("value"))
        if not isinstance(value.get("s"), str) or not isinstance(value.get("v"), str):
            return None
        channel, ts = _get(body, "container", "channel_id"), _get(body, "container", "message_ts")
        message = (channel, ts) if isinstance(channel, str) and isinstance(ts, str) else None
        return _interaction_work(
            body, team, kind="turn", surface=surface, step=value["s"], value=value["v"], message=message
        )
    if name == START and arg:
        return _interaction_work(body, team, kind="turn", surface=surface, start=arg)
    if name in (SEARCH, SEARCH_GO):
        search = _search_text(body, action).strip()
        return _interaction_work(
            body, team, kind="turn", surface=surface, start="directory_search", start_text=search
        )
    if name in (DONE, NOT_APPLICABLE):
        point = _json_object(action.get("value"))
        if not isinstance(point.get("c"), str) or not isinstance(point.get("p"), int):
            return None
        status = "done" if name == DONE else "not_applicable"  # the latter waits for a reason (a modal)
        return _interaction_work(
            body, team, kind="mark", surface=surface, status=status, case=point["c"], point=point["p"]
        )
    return None


def inbound_from_reason(body: dict[str, Any], team: str) -> SlackWork | None:
    """The "not applicable" modal submitted: close the point with the reason given."""
    point = _json_object(_get(body, "view", "private_metadata"))
    reason = str(_get(body, "view", "state", "values", REASON, REASON, "value") or "").strip()
    if not isinstance(point.get("c"), str) or not isinstance(point.get("p"), int) or not reason:
        return None
    return _interaction_work(
        body,
        team,
        kind="mark",
        surface="modal",
        case=point["c"],
        point=point["p"],
        status="not_applicable",
        reason=reason,
    )
