"""The dialog engine: `step(pack, state, turn) -> (state, replies, effects)`, with no I/O.

One generic interpreter walks the steps a pack declares. It persists only where the conversation
is (`DialogState`); everything it says comes from the pack's strings; everything it needs from
the world it asks for as an `Effect`, whose outcome comes back as the next turn.

Rules that hold in every state: "help", "cancel", "start over" and "menu" work; an unclear answer
is re-asked with an example, never silently accepted; a button from an earlier question is
recognised as such; a state whose flow or step the pack no longer has restarts that flow politely.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from pydantic import JsonValue

from dialogs.actions import ACTIONS
from dialogs.dates import when_text
from dialogs.directory import rank
from dialogs.expect import Accepted, validate
from dialogs.render import CHARTS, CHOICES_FROM, RENDERERS, fill
from dialogs.schema import (
    ActionStep,
    AskStep,
    CorrectStep,
    EffectStep,
    Flow,
    Pack,
    SayStep,
    Step,
    SummaryStep,
)
from dialogs.types import (
    MENU_STEP,
    NUDGE_STEP,
    START_STEP,
    Chart,
    Choice,
    DialogState,
    Effect,
    Fact,
    Reply,
    Turn,
)
from dialogs.understand import is_skip, is_yes, match_choice, match_command, normalise, route_intent

__all__ = ["EngineError", "is_stale", "route", "step"]

#: Steps walked in one turn before the engine decides the pack loops without asking anything.
_MAX_HOPS = 200
#: A directory match this good starts a directory search from free text.
_DIRECTORY_ROUTE_SCORE = 85.0
#: Inside a question with options, a service must be named almost exactly to start a search...
_DIRECTORY_SWITCH_SCORE = 95.0
#: ...and name only one or two ("police" names half the directory: it is not a search).
_DIRECTORY_SWITCH_TIES = 2
_CONTINUE = "continue"
#: Where a reading waiting for "Do you mean …?" is kept: in the answers, beside the step's slot.
_PENDING = "_confirm_{step}"


class EngineError(RuntimeError):
    """The pack made the engine loop without asking anything (the checker should catch this)."""


def step(pack: Pack, state: DialogState, turn: Turn) -> tuple[DialogState, list[Reply], list[Effect]]:
    """Advance one conversation by one turn.

    Args:
        pack: the loaded content pack.
        state: where the conversation is (an empty `DialogState` for a new one).
        turn: the input: typed text, a pressed button, an effect's outcome, a start or a resume.

    Returns:
        The new state, the replies to send in order, and the effects to run (in order) before
        feeding each one's outcome back as a turn.
    """
    run = _Run(pack, turn)
    new_state = run.handle(state)
    return new_state.with_(pack_version=pack.version), run.replies, run.effects


def is_stale(pack: Pack, state: DialogState) -> bool:
    """Whether the state points at a flow or step the pack no longer has."""
    if state.flow is None:
        return False
    flow = pack.flow(state.flow)
    return flow is None or _find(flow, state.step) is None


def route(pack: Pack, text: str) -> str | None:
    """The flow free text asks for: an intent, or a directory search when it names a service."""
    intent = route_intent(text, pack.meta.intents)
    categories = {c.id: [c.label, *c.synonyms] for c in pack.directory.categories}
    matches = [
        r
        for r in rank(text, pack.directory.entries, categories, min_score=_DIRECTORY_ROUTE_SCORE)
        if r.field in ("name", "synonyms", "category")
    ]
    if matches and (intent is None or matches[0].score > intent[1]):
        return pack.meta.directory_flow
    return intent[0] if intent else None


def _find(flow: Flow, step_id: str | None) -> Step | None:
    return next((s for s in flow.steps if s.id == step_id), None)


def _following(flow: Flow, step: Step, key: str | None) -> str | None:
    """The step after `step` when its answer or outcome is `key` (None: the flow ends)."""
    if key is not None and key in step.on:
        return step.on[key]
    if step.next:
        return step.next
    if step.end:
        return None
    # By identity: steps are pydantic models, and `==` would compare them field by field.
    index = next(i for i, s in enumerate(flow.steps) if s is step)
    return flow.steps[index + 1].id if index + 1 < len(flow.steps) else None


def _hidden(step: Step) -> set[str]:
    """Values of the step's choices that are accepted when typed but not shown."""
    if isinstance(step, AskStep | SummaryStep):
        return {c.value for c in step.choices if c.hidden}
    return set()


def _outcome(state: DialogState, name: str) -> str | None:
    value = state.results.get(name, {}).get("_outcome")
    return value if isinstance(value, str) else None


def _walk(flow: Flow, state: DialogState, until: str) -> Iterator[Step]:
    """The steps on the way from the start to `until`, following the answers and outcomes given."""
    current: str | None = flow.steps[0].id
    seen: set[str] = set()
    while current and current not in seen and current != until:
        seen.add(current)
        step = _find(flow, current)
        if step is None:
            return
        yield step
        key: str | None = None
        if isinstance(step, AskStep):
            if step.slot not in state.answers:
                return
            value = state.answers[step.slot]
            key = value if isinstance(value, str) else None
        elif isinstance(step, EffectStep):
            key = _outcome(state, step.effect)
        elif isinstance(step, ActionStep):
            key = _outcome(state, step.action)
        elif isinstance(step, SummaryStep | CorrectStep):
            picked = state.answers.get(f"_{step.id}")
            key = picked if isinstance(picked, str) else None
        if key is None and isinstance(step, EffectStep | ActionStep | SummaryStep | CorrectStep):
            return
        current = _following(flow, step, key)


class _Run:
    """One call of `step`: accumulates replies and effects while walking the flow."""

    def __init__(self, pack: Pack, turn: Turn) -> None:
        self.pack = pack
        self.turn = turn
        self.replies: list[Reply] = []
        self.effects: list[Effect] = []
        self.hops = 0

    # --- output -----------------------------------------------------------------------------

    def say(
        self,
        key: str,
        state: DialogState | None = None,
        *,
        facts: list[Fact] | None = None,
        choices: list[Choice] | None = None,
        step: str | None = None,
        chart: Chart | None = None,
        **values: Any,
    ) -> None:
        context = self._context(state) if state else {}
        self.replies.append(
            Reply(
                key=key,
                text=fill(self.pack, key, **{**context, **values}),
                facts=tuple(facts or ()),
                choices=tuple(choices or ()),
                step=step,
                chart=chart,
            )
        )

    def _context(self, state: DialogState) -> dict[str, Any]:
        context: dict[str, Any] = {"force": self.pack.meta.name}
        for data in state.results.values():
            context.update({k: v for k, v in data.items() if isinstance(v, str | int | float)})
        flow = self.pack.flow(state.flow) if state.flow else None
        if flow:
            for s in flow.steps:
                if isinstance(s, AskStep) and s.slot in state.answers:
                    context[s.slot] = self._display(state, s, state.answers[s.slot])
        return context

    def _display(self, state: DialogState, step: AskStep, value: JsonValue) -> str:
        if value is None:
            return self.pack.text("strings.not_given")
        if isinstance(value, list):
            return ", ".join(str(v) for v in value) if value else self.pack.text("strings.none_given")
        for choice in self._choices(state, step):
            if choice.value == value:
                return choice.label
        if step.expect == "when_past" and isinstance(value, str):
            return when_text(self.pack, value)
        return str(value)

    # --- dispatch ---------------------------------------------------------------------------

    def handle(self, state: DialogState) -> DialogState:
        flow = self.pack.flow(state.flow) if state.flow else None
        current = _find(flow, state.step) if flow else None
        if state.flow and current is None:
            return self._restart_changed(state, flow)
        turn = self.turn
        if turn.result is not None:
            return self._on_result(state, flow, current)
        if turn.start is not None:
            return self._start(state, turn.start, turn.start_text)
        if turn.resume:
            return self._resume(state, flow, current)
        if turn.pick is not None:
            if turn.pick.step == MENU_STEP:
                return self._menu_pick(state, turn.pick.value)
            if turn.pick.step.startswith(NUDGE_STEP + "/"):
                return self._from_nudge(state, turn.pick.step, turn.pick.value)
            if turn.pick.step.startswith(START_STEP + "/"):
                return self._from_button(state, flow, turn.pick.step, turn.pick.value)
            if flow and current and turn.pick.step == current.id:
                return self._answer(state, flow, current, picked=turn.pick.value)
            self.say("strings.stale_choice")
            return self._reprompt(state)
        return self._on_text(state, flow, current, turn.text or "")

    def _on_text(self, state: DialogState, flow: Flow | None, current: Step | None, text: str) -> DialogState:
        text = text.strip()
        if not text:
            self.say("strings.empty_input")
            return self._reprompt(state)
        if len(text) > self.pack.meta.max_answer_length:
            self.say("strings.too_long", limit=self.pack.meta.max_answer_length, length=len(text))
            return self._reprompt(state)
        command = match_command(text, self.pack.meta.commands)
        if command == "help":
            return self._help(state, current)
        if command == "cancel":
            return self._cancel(state)
        if command == "start_over":
            return self._start_over(state)
        if command == "menu":
            return self._menu(state)
        if state.menu_open:
            picked = match_choice(text, self._menu_choices(state))
            if picked:
                return self._menu_pick(state, picked.value)
            switched = self._switch(state, flow, current, text, menu=True) if flow and current else None
            if switched is not None:
                return switched
        if flow and current:
            return self._answer(state, flow, current, text=text)
        wanted = route(self.pack, text)
        if wanted:
            return self._start(state, wanted, text)
        return self._menu(state, "strings.not_understood")

    # --- commands and the menu --------------------------------------------------------------

    def _menu_choices(self, state: DialogState) -> list[Choice]:
        flows = (self.pack.flow(f) for f in self.pack.meta.menu)
        choices = [Choice(value=f.id, label=self.pack.text(f.title)) for f in flows if f]
        if state.flow:
            choices.append(Choice(value=_CONTINUE, label=self.pack.text("strings.menu_continue")))
        return choices

    def _menu(self, state: DialogState, key: str = "strings.menu") -> DialogState:
        self.say(key, choices=self._menu_choices(state), step=MENU_STEP)
        return state.with_(menu_open=True)

    def _menu_pick(self, state: DialogState, value: str) -> DialogState:
        if value == _CONTINUE and state.flow:
            return self._reprompt(state.with_(menu_open=False))
        if value in self.pack.meta.menu:
            return self._start(state, value, "")
        self.say("strings.stale_choice")
        return self._reprompt(state)

    def _help(self, state: DialogState, current: Step | None) -> DialogState:
        key = current.help if isinstance(current, AskStep) and current.help else "strings.help_general"
        self.say(key)
        return self._reprompt(state)

    def _cancel(self, state: DialogState) -> DialogState:
        self.say("strings.cancelled" if state.flow else "strings.nothing_to_cancel")
        if state.paused:
            return self._resume_paused(state.paused)
        return self._menu(DialogState(), "strings.menu_after_cancel")

    def _from_nudge(self, state: DialogState, step: str, value: str) -> DialogState:
        """A nudge's button: run the nudge flow on top of whatever conversation is in progress."""
        # `__nudge__/<reference>/<point>[/<message>]`: the message id is the adapter's, to update it.
        _, reference, point = (step.split("/") + ["", ""])[:3]
        flow = self.pack.flow(self.pack.meta.nudges.flow)
        if flow is None or not reference or not point:
            self.say("strings.stale_choice")
            return self._reprompt(state)
        paused = state if state.flow and state.flow != flow.id else state.paused
        answers: dict[str, JsonValue] = {"case": reference, "point": point, "nudge_action": value}
        fresh = DialogState(flow=flow.id, instance=self.turn.id, answers=answers, paused=paused)
        return self._goto(fresh, flow, flow.steps[0].id)

    def _from_button(self, state: DialogState, flow: Flow | None, step: str, value: str) -> DialogState:
        """A button that starts a flow (`__start__/<flow>/<value>/…`, see `start_step`).

        The values and then the button's value fill the flow's `given` slots in order; a slot the
        flow also asks is checked as if typed there, and the flow goes on after that question
        (saying what comes before it). A button whose flow or values no longer fit is a stale
        choice. Any other conversation is paused, and one holding answers worth keeping (even
        another report) is paused and said to be kept.
        """
        _, flow_id, *values = step.split("/")
        target = self.pack.flow(flow_id)
        answers = self._given(target, [*values, value]) if target else None
        if target is None or answers is None:
            self.say("strings.stale_choice")
            return self._reprompt(state)
        paused: DialogState | None = state.paused
        if flow is not None and (flow.id != target.id or _worth_keeping(flow, state)):
            if _worth_keeping(flow, state):
                title = self.pack.text(target.title)
                self.say("strings.switching_flow_kept", title=title, previous=self.pack.text(flow.title))
            paused = state
        fresh = DialogState(flow=target.id, instance=self.turn.id, answers=answers, paused=paused)
        # The flow's opening questions that the button answers are passed, and what the flow says
        # before them is said; a flow that opens with anything else starts at its first step.
        opening: list[SayStep] = []
        pending: list[SayStep] = []
        passed: AskStep | None = None
        for first in target.steps:
            if isinstance(first, AskStep) and first.slot in answers:
                opening, pending, passed = [*opening, *pending], [], first
            elif isinstance(first, SayStep):
                pending.append(first)
            else:
                break
        if passed is None:
            return self._goto(fresh, target, target.steps[0].id)
        for say in opening:
            self.say(say.say, fresh, facts=self._render(say.show, fresh))
        return self._goto(fresh, target, _following(target, passed, _key(answers[passed.slot])))

    def _given(self, flow: Flow, values: list[str]) -> dict[str, JsonValue] | None:
        """The answers a button gives `flow`, each checked as its question would; None if any does
        not fit (too many or too few values, or one the question would refuse)."""
        if len(flow.given) != len(values) or not all(values):
            return None
        answers: dict[str, JsonValue] = {}
        for slot, given in zip(flow.given, values, strict=True):
            asked = next(
                (s for s in flow.steps if isinstance(s, AskStep) and s.slot == slot and s.expect), None
            )
            accepted = (
                validate(asked.expect, given, self.pack, self.turn.now) if asked and asked.expect else None
            )
            if asked is not None and not isinstance(accepted, Accepted):
                return None
            answers[slot] = accepted.value if isinstance(accepted, Accepted) else given
        return answers

    def _resume_paused(self, paused: DialogState) -> DialogState:
        flow = self.pack.flow(paused.flow or "")
        if flow is None or _find(flow, paused.step) is None:
            return self._menu(DialogState(), "strings.anything_else")
        self.say("strings.continuing", title=self.pack.text(flow.title))
        return self._goto(paused, flow, paused.step, force=True)

    def _start_over(self, state: DialogState) -> DialogState:
        if not state.flow:
            return self._menu(state)
        self.say("strings.starting_over")
        return self._start(DialogState(), state.flow, "")

    def _resume(self, state: DialogState, flow: Flow | None, current: Step | None) -> DialogState:
        if flow and current:
            self.say("strings.welcome_back", title=self.pack.text(flow.title))
            return self._reprompt(state)
        return self._menu(state, "strings.greeting")

    def _restart_changed(self, state: DialogState, flow: Flow | None) -> DialogState:
        self.say("strings.flow_changed")
        if flow is None:
            return self._menu(DialogState())
        return self._start(DialogState(), flow.id, "")

    def _start(
        self, state: DialogState, flow_id: str, text: str, *, paused: DialogState | None = None
    ) -> DialogState:
        flow = self.pack.flow(flow_id)
        if flow is None:
            return self._menu(state, "strings.not_understood")
        if state.flow == flow_id and not text:
            self.say("strings.continuing", title=self.pack.text(flow.title))
            return self._reprompt(state.with_(menu_open=False))
        answers: dict[str, JsonValue] = {flow.start_slot: text} if flow.start_slot and text else {}
        fresh = DialogState(flow=flow.id, instance=self.turn.id, answers=answers, paused=paused)
        return self._goto(fresh, flow, flow.steps[0].id)

    def _reprompt(self, state: DialogState) -> DialogState:
        flow = self.pack.flow(state.flow) if state.flow else None
        current = _find(flow, state.step) if flow else None
        if flow is None or current is None:
            return self._menu(state)
        return self._goto(state, flow, current.id, force=True)

    # --- effects ----------------------------------------------------------------------------

    def _on_result(self, state: DialogState, flow: Flow | None, current: Step | None) -> DialogState:
        result = self.turn.result
        assert result is not None
        if flow is None or not isinstance(current, EffectStep) or current.effect != result.effect:
            return state  # an outcome nobody is waiting for: nothing to do
        data: dict[str, JsonValue] = {**result.data, "_outcome": result.outcome}
        state = state.with_(results={**state.results, result.effect: data})
        return self._goto(state, flow, _following(flow, current, result.outcome))

    def _effect_args(self, state: DialogState, flow: Flow, step: EffectStep) -> dict[str, JsonValue]:
        if step.args:
            return {param: state.answers.get(slot) for param, slot in step.args.items()}
        slots = [s.slot for s in _walk(flow, state, step.id) if isinstance(s, AskStep)]
        return {slot: state.answers[slot] for slot in slots if slot in state.answers}

    # --- walking steps ----------------------------------------------------------------------

    def _goto(
        self, state: DialogState, flow: Flow, step_id: str | None, *, force: bool = False
    ) -> DialogState:
        """Walk from `step_id` until a step waits for the person or an effect; `force` re-asks it."""
        while True:
            self.hops += 1
            if self.hops > _MAX_HOPS:
                raise EngineError(f"flow {flow.id} loops without asking anything")
            if step_id is None:
                return self._finish(state)
            step = _find(flow, step_id)
            if step is None:
                return self._restart_changed(state, flow)
            if state.returning_to == step.id:
                state = state.with_(returning_to=None)
            if isinstance(step, SayStep):
                # While correcting one answer, only a message that ends the flow is worth repeating.
                if state.returning_to is None or step.end:
                    chart = CHARTS[step.chart](self.pack, state) if step.chart else None
                    self.say(step.say, state, facts=self._render(step.show, state), chart=chart)
                step_id = _following(flow, step, None)
            elif isinstance(step, AskStep) and not force and self._keeps_answer(state, step):
                value = state.answers[step.slot]
                step_id = _following(flow, step, value if isinstance(value, str) else None)
            elif isinstance(step, EffectStep):
                effect = Effect(
                    name=step.effect,
                    instance=state.instance or self.turn.id,
                    args=self._effect_args(state, flow, step),
                )
                self.effects.append(effect)
                return state.with_(step=step.id, menu_open=False)
            elif isinstance(step, ActionStep):
                updates, outcome = ACTIONS[step.action].run(state.answers)
                state = state.with_(
                    answers={**state.answers, **updates},
                    results={**state.results, step.action: {"_outcome": outcome}},
                )
                step_id = _following(flow, step, outcome)
            else:
                return self._prompt(state, flow, step)
            force = False

    def _keeps_answer(self, state: DialogState, step: AskStep) -> bool:
        """Whether an answered question is passed over instead of asked again.

        While correcting one answer, answers the summary shows are kept; anything else on the way
        (a confirmation, say) is asked again, since the person could not see it to check it.
        """
        if step.slot not in state.answers:
            return False
        return step.skip_if_answered or (state.returning_to is not None and step.label is not None)

    def _finish(self, state: DialogState) -> DialogState:
        if state.paused:
            return self._resume_paused(state.paused)
        return self._menu(DialogState(), "strings.anything_else")

    def _render(self, name: str | None, state: DialogState) -> list[Fact]:
        return RENDERERS[name](self.pack, state, self.turn.now) if name else []

    def _choices(self, state: DialogState, step: Step) -> list[Choice]:
        if isinstance(step, AskStep | SummaryStep):
            choices = [Choice(value=c.value, label=fill(self.pack, c.label)) for c in step.choices]
        else:
            choices = []
        if isinstance(step, AskStep):
            if step.choices_from:
                choices += CHOICES_FROM[step.choices_from](self.pack, state)
            if step.expect == "yes_no" and not choices:
                choices = [
                    Choice(value="yes", label=self.pack.text("strings.yes")),
                    Choice(value="no", label=self.pack.text("strings.no")),
                ]
        if isinstance(step, CorrectStep):
            flow = self.pack.flow(state.flow or "")
            assert flow is not None
            choices = [
                Choice(value=s.id, label=self.pack.text(s.label))
                for s in _walk(flow, state, step.return_to)
                if isinstance(s, AskStep) and s.label
            ]
        return choices

    def _prompt(self, state: DialogState, flow: Flow, step: Step) -> DialogState:
        state = state.with_(step=step.id, menu_open=False)
        hidden = _hidden(step)
        choices = [c for c in self._choices(state, step) if c.value not in hidden]
        if isinstance(step, AskStep) and _PENDING.format(step=step.id) in state.answers:
            self._ask_to_confirm(state, step)
        elif isinstance(step, AskStep):
            self.say(step.ask, state, facts=self._render(step.show, state), choices=choices, step=step.id)
        elif isinstance(step, SummaryStep):
            facts = [
                Fact(label=self.pack.text(s.label), value=self._display(state, s, state.answers[s.slot]))
                for s in _walk(flow, state, step.id)
                if isinstance(s, AskStep) and s.label and s.slot in state.answers
            ]
            self.say(step.summary, state, facts=facts, choices=choices, step=step.id)
        elif isinstance(step, CorrectStep):
            self.say(step.correct, state, choices=choices, step=step.id)
        return state

    # --- answers ----------------------------------------------------------------------------

    def _answer(
        self, state: DialogState, flow: Flow, step: Step, *, text: str = "", picked: str | None = None
    ) -> DialogState:
        if isinstance(step, EffectStep):
            return self._goto(state, flow, step.id, force=True)  # still waiting: ask again
        if not isinstance(step, AskStep | SummaryStep | CorrectStep):
            return self._reprompt(state)
        if isinstance(step, AskStep) and _PENDING.format(step=step.id) in state.answers:
            return self._confirmed(state, flow, step, text=text, picked=picked)
        choices = self._choices(state, step)
        choice = self._pick(step, choices, text, picked)
        if isinstance(step, SummaryStep) and choice is None and picked is None:
            correcting = self._correction(state, flow, step, text)
            if correcting is not None:
                return correcting
        if choice is None and picked is None:
            switched = self._switch(state, flow, step, text)
            if switched is not None:
                return switched
        if isinstance(step, SummaryStep | CorrectStep):
            if choice is None:
                self.say("strings.pick_one")
                return self._goto(state, flow, step.id, force=True)
            state = state.with_(answers={**state.answers, f"_{step.id}": choice.value})
            if isinstance(step, CorrectStep):
                return self._goto(state.with_(returning_to=step.return_to), flow, choice.value, force=True)
            return self._goto(state, flow, _following(flow, step, choice.value))
        if choice is not None:
            return self._store(state, flow, step, step.slot, choice.value)
        if picked is not None:
            self.say("strings.stale_choice")
            return self._goto(state, flow, step.id, force=True)
        if step.optional and is_skip(text, self.pack.meta.commands):
            return self._store(state, flow, step, step.slot, None)
        if step.otherwise:
            result = validate(step.otherwise.expect, text, self.pack, self.turn.now)
            if isinstance(result, Accepted):
                answers = {**state.answers, step.otherwise.slot: result.value}
                return self._goto(state.with_(answers=answers), flow, step.otherwise.next)
            self.say(result.key)
        elif step.expect and (step.expect == "yes_no" or not choices):
            result = validate(step.expect, text, self.pack, self.turn.now)
            if isinstance(result, Accepted):
                refused = self._excluded(state, step, result.value)
                if refused is None and result.confirm:
                    answers = {**state.answers, _PENDING.format(step=step.id): result.value}
                    return self._goto(state.with_(answers=answers), flow, step.id, force=True)
                if refused is None:
                    return self._store(state, flow, step, step.slot, result.value)
                self.say(refused)
            else:
                self.say(result.key)
        else:
            self.say("strings.pick_one")
        return self._goto(state, flow, step.id, force=True)

    def _pick(self, step: Step, choices: list[Choice], text: str, picked: str | None) -> Choice | None:
        hidden = _hidden(step)
        if picked is not None:
            return next((c for c in choices if c.value == picked and c.value not in hidden), None)
        if isinstance(step, AskStep) and step.expect == "yes_no":
            result = validate("yes_no", text, self.pack, self.turn.now)
            if isinstance(result, Accepted):
                return next((c for c in choices if c.value == result.value), None)
        if isinstance(step, SummaryStep) and match_choice(text, choices) is None:
            said = is_yes(text, self.pack.meta.commands)
            wanted = step.yes if said is True else step.no if said is False else None
            if wanted is not None:
                return next((c for c in choices if c.value == wanted), None)
        if text.strip().isdigit():  # numbers count only the choices shown
            return match_choice(text, [c for c in choices if c.value not in hidden])
        return match_choice(text, choices)

    def _store(
        self, state: DialogState, flow: Flow, step: AskStep, slot: str, value: JsonValue
    ) -> DialogState:
        state = state.with_(answers={**state.answers, slot: value})
        return self._goto(state, flow, _following(flow, step, value if isinstance(value, str) else None))

    # --- understanding beyond the question asked ------------------------------------------------

    def _switch(
        self, state: DialogState, flow: Flow, step: Step, text: str, *, menu: bool = False
    ) -> DialogState | None:
        """Start the flow a typed request clearly asks for, at a step that offers choices or in
        the menu (`menu`).

        Free-text questions (a location, a description) are never hijacked; at a question that
        also takes typed text (a new directory search) only a named intent switches, not a
        directory match. Answers worth keeping (a report half done) are paused, not lost.
        """
        if not text or not (menu or _offers_choices(step)):
            return None
        if (
            isinstance(step, AskStep)
            and step.expect == "yes_no"
            and is_yes(text, self.pack.meta.commands) is not None
        ):
            return None
        intent = route_intent(text, self.pack.meta.intents)
        wanted = intent[0] if intent else None
        if (
            wanted is None
            and not (isinstance(step, AskStep) and step.otherwise)
            and _names_a_service(self.pack, text)
        ):
            wanted = self.pack.meta.directory_flow
        target = self.pack.flow(wanted) if wanted else None
        if target is None or target.id == flow.id:
            return None
        title = self.pack.text(target.title)
        if _worth_keeping(flow, state):
            self.say("strings.switching_flow_kept", title=title, previous=self.pack.text(flow.title))
            return self._start(state, target.id, text, paused=state)
        self.say("strings.switching_flow", title=title)
        return self._start(state, target.id, text, paused=state.paused)

    def _correction(self, state: DialogState, flow: Flow, step: SummaryStep, text: str) -> DialogState | None:
        """ "Change the time" at a summary: straight to that question, as if picked from the list.

        Needs a change word (the pack's `commands.change`) and one answer named by the other words.
        """
        words = normalise(text).split()
        change_words = {normalise(w) for w in self.pack.meta.commands.change}
        correct = _find(flow, step.on.get(step.no, "")) if step.no else None
        if not isinstance(correct, CorrectStep) or not change_words.intersection(words):
            return None
        answers = self._choices(state, correct)
        named = {c.value for w in words if w not in change_words for c in [match_choice(w, answers)] if c}
        if len(named) != 1:
            return None
        target = named.pop()
        picked = {**state.answers, f"_{step.id}": step.no, f"_{correct.id}": target}
        return self._goto(
            state.with_(answers=picked, returning_to=correct.return_to), flow, target, force=True
        )

    def _ask_to_confirm(self, state: DialogState, step: AskStep) -> None:
        """Ask "Do you mean …?" about the reading waiting in the answers, with Yes and No."""
        value = state.answers[_PENDING.format(step=step.id)]
        choices = [
            Choice(value="yes", label=self.pack.text("strings.yes")),
            Choice(value="no", label=self.pack.text("strings.no")),
        ]
        self.say(
            "strings.confirm_reading", value=self._display(state, step, value), choices=choices, step=step.id
        )

    def _confirmed(
        self, state: DialogState, flow: Flow, step: AskStep, *, text: str, picked: str | None
    ) -> DialogState:
        """The answer to "Do you mean …?": yes stores the reading, no asks the question again,
        and anything else typed is taken as a fresh answer to the question."""
        key = _PENDING.format(step=step.id)
        reading = state.answers[key]
        cleared = state.with_(answers={k: v for k, v in state.answers.items() if k != key})
        said = picked if picked is not None else is_yes(text, self.pack.meta.commands)
        if said in (True, "yes"):
            return self._store(cleared, flow, step, step.slot, reading)
        if said in (False, "no"):
            return self._goto(cleared, flow, step.id, force=True)
        if picked is not None:
            self.say("strings.stale_choice")
            return self._goto(state, flow, step.id, force=True)
        return self._answer(cleared, flow, step, text=text)

    def _excluded(self, state: DialogState, step: AskStep, value: JsonValue) -> str | None:
        """The reason to refuse `value` when it contains an answer the step excludes, else None."""
        given = value if isinstance(value, list) else [value]
        for exclusion in step.exclude:
            other = state.answers.get(exclusion.slot)
            others = other if isinstance(other, list) else [other]
            if any(v is not None and v in others for v in given):
                return exclusion.say
        return None


def _key(value: JsonValue) -> str | None:
    """An answer as the key its step branches on (`on:`): only text answers branch."""
    return value if isinstance(value, str) else None


def _offers_choices(step: Step) -> bool:
    """Whether the step waits for a pick among options (a menu, yes/no, a summary)."""
    if isinstance(step, SummaryStep | CorrectStep):
        return True
    return isinstance(step, AskStep) and bool(step.choices or step.choices_from or step.expect == "yes_no")


def _names_a_service(pack: Pack, text: str) -> bool:
    """Whether `text` names one or two directory entries almost exactly ("federation", "chaplain")."""
    categories = {c.id: [c.label, *c.synonyms] for c in pack.directory.categories}
    found = rank(text, pack.directory.entries, categories, min_score=_DIRECTORY_SWITCH_SCORE)
    best = [r for r in found if r.score == found[0].score] if found else []
    return 0 < len(best) <= _DIRECTORY_SWITCH_TIES


def _worth_keeping(flow: Flow, state: DialogState) -> bool:
    """Whether the flow holds answers the person would not want to give again (a report's)."""
    return any(isinstance(s, AskStep) and s.label and s.slot in state.answers for s in flow.steps)
