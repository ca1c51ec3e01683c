"""The engine's contract: what goes into `step()` and what comes out.

These are channel-neutral value objects. Adapters turn platform events into a `Turn` (through the
router) and render `Reply` objects with whatever the platform offers (console lines, Block Kit,
Adaptive Cards). The engine never sees a platform type.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, JsonValue

__all__ = [
    "MENU_STEP",
    "NUDGE_STEP",
    "Chart",
    "START_STEP",
    "Choice",
    "ChoicePick",
    "DialogState",
    "Effect",
    "EffectResult",
    "Fact",
    "Reply",
    "Turn",
    "start_step",
]

#: The pseudo-step that menu buttons belong to; it is never a step id in a pack.
MENU_STEP = "__menu__"
#: The prefix of a nudge button's step: `__nudge__/<case reference>/<point id>`.
NUDGE_STEP = "__nudge__"
#: The prefix of a button that starts a flow: `__start__/<flow>/<value>/…`. The values fill the
#: flow's `given` slots in order and the button's own value the last, so a message sent to someone
#: starts that flow on its subject wherever the person is (an OPCC visit card's buttons, the
#: supervisor's "start the report" for a colleague who told the bot). See `start_step`.
START_STEP = "__start__"


def start_step(flow: str, *values: str) -> str:
    """The step a button carries to start `flow` with `values` (then its own value) given."""
    return "/".join((START_STEP, flow, *values))


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Choice(_Frozen):
    """A button or numbered option offered with a reply."""

    value: str
    label: str


class Fact(_Frozen):
    """A label/value pair shown as part of a reply (a summary line, a plan point, a contact)."""

    label: str
    value: str


class Chart(_Frozen):
    """A chart sent with a reply, which each channel draws as an image: a line over labelled points.

    Args:
        title: what the chart shows (also the image's text alternative).
        labels: the points' labels, in order (e.g. months).
        values: the value at each label.
        value_name: what the values are (the legend).
        trend: an optional second line (e.g. the trend), one value per label.
        trend_name: what the second line is.
    """

    title: str
    labels: tuple[str, ...]
    values: tuple[float, ...]
    value_name: str = ""
    trend: tuple[float, ...] = ()
    trend_name: str = ""


class Reply(_Frozen):
    """One message from the bot.

    Args:
        key: the id of the pack string the message was built from (tests assert on this).
        text: the rendered text, plain with paragraphs separated by blank lines.
        facts: label/value pairs rendered as a list or table.
        choices: options the person can pick; their `step` says which question they answer.
        step: the step the choices belong to, echoed back in a `ChoicePick`.
        chart: a chart to show after the text, drawn by the channel as an image.
    """

    key: str
    text: str
    facts: tuple[Fact, ...] = ()
    choices: tuple[Choice, ...] = ()
    step: str | None = None
    chart: Chart | None = None


class ChoicePick(_Frozen):
    """A pressed button: which question it belonged to and which value it carries."""

    step: str
    value: str


class EffectResult(_Frozen):
    """What the router reports back after running an effect."""

    effect: str
    outcome: str
    data: dict[str, JsonValue] = Field(default_factory=dict)


class Turn(_Frozen):
    """One input to the engine.

    Exactly one of `text`, `pick`, `result`, `start` or `resume` carries the input.

    Args:
        id: unique id of this input (the platform's event id where there is one).
        now: the time of the turn, timezone-aware; the engine never reads a clock.
        text: what the person typed, already stripped of control characters.
        pick: a pressed button.
        result: the outcome of the effect the engine asked for last.
        start: a flow to start directly (a slash command, a shortcut, a Home button).
        start_text: free text that came with `start` (e.g. the directory query).
        resume: re-prompt the current step (a restarted console, a reopened chat).
    """

    id: str
    now: datetime
    text: str | None = None
    pick: ChoicePick | None = None
    result: EffectResult | None = None
    start: str | None = None
    start_text: str = ""
    resume: bool = False

    @property
    def kind(self) -> Literal["text", "pick", "result", "start", "resume"]:
        """Which kind of input this turn carries."""
        if self.result is not None:
            return "result"
        if self.pick is not None:
            return "pick"
        if self.start is not None:
            return "start"
        if self.resume:
            return "resume"
        return "text"


class Effect(_Frozen):
    """A side effect the engine asks the router to perform against the store.

    Args:
        name: the effect's id (declared in `dialogs.effects`).
        instance: the id of this run of the flow; effects use it as an idempotency key.
        args: the answers the effect needs, keyed by slot.
    """

    name: str
    instance: str
    args: dict[str, JsonValue] = Field(default_factory=dict)


class DialogState(_Frozen):
    """Where one conversation is: the persisted part of the engine, stored as JSON.

    Args:
        flow: the running flow, or None when idle.
        step: the current step of `flow`.
        instance: the id of this run of the flow (the id of the turn that started it).
        answers: slot values collected so far (JSON values; times as ISO 8601 strings).
        results: the data of the last result of each effect, keyed by effect name.
        returning_to: the summary step to go back to after correcting one answer.
        menu_open: the menu was shown and its buttons are live.
        pack_version: the version of the pack the state was written under.
        paused: the conversation a nudge's button interrupted, resumed when its flow ends.
    """

    flow: str | None = None
    step: str | None = None
    instance: str | None = None
    answers: dict[str, JsonValue] = Field(default_factory=dict)
    results: dict[str, dict[str, JsonValue]] = Field(default_factory=dict)
    returning_to: str | None = None
    menu_open: bool = False
    pack_version: str = ""
    paused: DialogState | None = None

    def with_(self, **changes: Any) -> DialogState:
        """Return a copy with `changes` applied.

        Not re-validated (the engine only assigns JSON values); stored states are validated when
        they are read back.
        """
        return self.model_copy(update=changes)
