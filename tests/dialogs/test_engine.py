"""The pure engine: no I/O, every state handled, unclear answers re-asked, stale state restarted."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from dialogs.engine import EngineError, is_stale, route, step
from dialogs.schema import AskStep, ChoiceSpec, Flow, Pack, SayStep
from dialogs.types import MENU_STEP, ChoicePick, DialogState, EffectResult, Reply, Turn, start_step

NOW = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)


class Talk:
    """Drives the engine directly, answering effects from a table."""

    def __init__(self, pack: Pack, outcomes: dict[str, tuple[str, dict[str, object]]] | None = None) -> None:
        self.pack = pack
        self.state = DialogState()
        self.outcomes = outcomes or {}
        self.effects: list[str] = []
        self.count = 0

    def turn(self, **kwargs: object) -> list[Reply]:
        self.count += 1
        self.state, replies, effects = step(
            self.pack, self.state, Turn(id=f"t{self.count}", now=NOW, **kwargs)
        )  # type: ignore[arg-type]
        for effect in effects:
            self.effects.append(effect.name)
            outcome, data = self.outcomes.get(effect.name, ("none", {}))
            replies += self.turn(result=EffectResult(effect=effect.name, outcome=outcome, data=data))  # type: ignore[arg-type]
        return replies

    def say(self, text: str) -> list[str]:
        return [r.key for r in self.turn(text=text)]


def keys(replies: list[Reply]) -> list[str]:
    return [r.key for r in replies]


def test_unknown_text_when_idle_shows_the_menu(pack: Pack) -> None:
    talk = Talk(pack)
    replies = talk.turn(text="hello there")
    assert keys(replies) == ["strings.not_understood"]
    assert replies[0].step == MENU_STEP
    assert [c.value for c in replies[0].choices] == pack.meta.menu
    assert talk.state.menu_open


def test_step_is_pure_and_never_mutates_its_input(pack: Pack) -> None:
    state = DialogState()
    turn = Turn(id="a", now=NOW, text="report assault")
    first = step(pack, state, turn)
    second = step(pack, state, turn)
    assert first == second
    assert state == DialogState()


def test_an_effect_waits_for_its_outcome(pack: Pack) -> None:
    state, replies, effects = step(pack, DialogState(), Turn(id="a", now=NOW, text="report assault"))
    state, replies, effects = step(pack, state, Turn(id="b", now=NOW, text="pc.amy.hart@example.police.uk"))
    assert replies == []
    assert [(e.name, e.args, e.instance) for e in effects] == [
        ("lookup_person", {"email": "pc.amy.hart@example.police.uk"}, "a")
    ]
    assert state.step == "check_victim"
    state, replies, _ = step(
        pack, state, Turn(id="c", now=NOW, result=EffectResult(effect="lookup_person", outcome="known"))
    )
    assert keys(replies) == ["strings.ask_victim_role"]


def test_an_outcome_nobody_waits_for_changes_nothing(pack: Pack) -> None:
    state = DialogState()
    new, replies, effects = step(
        pack, state, Turn(id="a", now=NOW, result=EffectResult(effect="open_case", outcome="opened"))
    )
    assert (replies, effects) == ([], [])
    assert new.flow is None


def test_a_button_from_an_earlier_question_is_recognised(pack: Pack) -> None:
    talk = Talk(pack, {"lookup_person": ("known", {})})
    talk.say("report assault")
    talk.say("pc.amy.hart@example.police.uk")
    replies = talk.turn(pick=ChoicePick(step="kind", value="spitting"))
    assert keys(replies) == ["strings.stale_choice", "strings.ask_victim_role"]
    assert talk.state.step == "victim_role"


def test_help_uses_the_steps_own_help_then_asks_again(pack: Pack) -> None:
    talk = Talk(pack)
    talk.say("report assault")
    assert talk.say("help") == ["strings.help_victim_email", "strings.ask_victim_email"]
    talk.say("cancel")
    assert talk.say("?") == ["strings.help_general", "strings.menu"]


def test_too_long_an_answer_is_refused_and_nothing_is_lost(pack: Pack) -> None:
    talk = Talk(pack, {"lookup_person": ("known", {})})
    talk.say("report assault")
    talk.say("pc.amy.hart@example.police.uk")
    before = talk.state
    replies = talk.turn(text="x" * 10_000)
    assert keys(replies) == ["strings.too_long", "strings.ask_victim_role"]
    assert "10000" in replies[0].text
    assert talk.state.answers == before.answers and talk.state.step == before.step


def test_a_state_whose_step_was_removed_restarts_the_flow(pack: Pack) -> None:
    state = DialogState(
        flow="report_assault", step="no_longer_here", instance="x", answers={"victim_email": "a"}
    )
    assert is_stale(pack, state)
    new, replies, _ = step(pack, state, Turn(id="a", now=NOW, text="anything"))
    assert keys(replies) == ["strings.flow_changed", "strings.report_intro", "strings.ask_victim_email"]
    assert new.step == "victim_email" and new.answers == {}


def test_a_state_whose_flow_was_removed_shows_the_menu(pack: Pack) -> None:
    state = DialogState(flow="gone", step="x")
    new, replies, _ = step(pack, state, Turn(id="a", now=NOW, text="hi"))
    assert keys(replies) == ["strings.flow_changed", "strings.menu"]
    assert new.flow is None


def test_directory_queries_start_a_search_with_the_text(pack: Pack) -> None:
    talk = Talk(pack, {"search_directory": ("last", {"query": "fed", "entries": []})})
    talk.say("fed")
    assert talk.effects == ["search_directory"]
    assert talk.state.answers["query"] == "fed"


@pytest.mark.parametrize(
    ("text", "flow"),
    [
        ("report assault", "report_assault"),
        ("a colleague was assaulted last night", "report_assault"),
        ("reprot assualt", "report_assault"),
        ("report a hate crime", "report_assault"),
        ("what happens next", "what_happens_next"),
        ("what are my rights?", "what_happens_next"),
        ("I was assaulted, what happens next", "what_happens_next"),
        # A colleague telling of their own assault takes the victim's path, not the questionnaire.
        ("I was spat at on duty", "victim_disclosure"),
        ("someone racially abused me", "victim_disclosure"),
        ("I've been assaulted", "victim_disclosure"),
        ("spat at", "report_assault"),
        ("can you help me report an assault", "report_assault"),
        ("my cases", "my_cases"),
        ("federation", "directory_search"),
        ("counselling", "directory_search"),
        ("chaplain", "directory_search"),
        ("unison", "directory_search"),
        ("sikh association", "directory_search"),
        ("hello", None),
        ("the weather is nice", None),
        ("no", None),  # not "no further action"
        ("yes", None),
        ("a", None),  # not found inside "hate crime"
    ],
)
def test_free_text_routes_to_a_flow(pack: Pack, text: str, flow: str | None) -> None:
    assert route(pack, text) == flow


def _report_to_summary(talk: Talk) -> None:
    for text in [
        "report assault",
        "pc.amy.hart@example.police.uk",
        "officer",
        "yesterday 10pm",
        "Broad St",
        "coventry",
        "hate crime",
        "race",
        "none",
        "no",
        "skip",
        "none",
        "ok",
        "nothing",
        "none",
        "yes",
    ]:
        talk.say(text)
    assert talk.state.step == "summary"


def test_correcting_an_answer_keeps_the_others_and_returns_to_the_summary(pack: Pack) -> None:
    talk = Talk(
        pack, {"lookup_person": ("known", {}), "open_case": ("opened", {"reference": "OH-2026-0001"})}
    )
    _report_to_summary(talk)
    talk.say("change")
    assert talk.say("what happened") == ["strings.ask_kind"]
    # Spitting asks whether it was a hate crime; the strand answered before stays.
    assert talk.say("spitting") == ["strings.ask_hate_motivated"]
    assert talk.say("no") == ["strings.summary_intro"]
    summary = talk.turn(text="nonsense")
    labels = [f.label for f in summary[-1].facts]
    assert "Hostility towards" not in labels  # off the path now
    talk.turn(text="confirm")
    assert talk.effects[-1] == "open_case"


def test_the_case_is_opened_with_only_the_answers_on_the_path(pack: Pack) -> None:
    seen: dict[str, object] = {}
    talk = Talk(pack, {"lookup_person": ("known", {})})
    _report_to_summary(talk)
    talk.say("change")
    talk.say("what happened")
    talk.say("spitting")
    talk.say("no")
    state, _, effects = step(pack, talk.state, Turn(id="z", now=NOW, text="confirm"))
    seen.update(effects[0].args)
    assert effects[0].name == "open_case"
    assert seen["kind"] == "spitting" and seen["hate_motivated"] == "no"
    assert "hate_strand" not in seen
    assert effects[0].instance == "t1"


def test_menu_mid_flow_offers_to_carry_on(pack: Pack) -> None:
    talk = Talk(pack)
    talk.say("report assault")
    replies = talk.turn(text="menu")
    assert replies[0].choices[-1].value == "continue"
    assert talk.say("carry on where I was") == ["strings.ask_victim_email"]


def test_hidden_choices_are_accepted_typed_but_not_shown_or_numbered(pack: Pack) -> None:
    talk = Talk(pack, {"search_directory": ("last", {"query": "x", "entries": []})})
    replies = talk.turn(text="chaplain")
    assert [c.value for c in replies[-1].choices] == ["done"]
    talk.say("2")  # there is no second button: typed "2" is a new search, not the hidden choice
    assert talk.state.answers["query"] == "2"
    assert talk.say("more") == ["strings.directory_no_more", "strings.directory_after_last"]


def test_a_pack_that_loops_without_asking_raises(pack: Pack) -> None:
    looping = Flow(
        id="loop",
        title="strings.menu",
        steps=[SayStep(id="a", say="strings.menu", next="b"), SayStep(id="b", say="strings.menu", next="a")],
    )
    broken = pack.model_copy(update={"flows": [*pack.flows, looping]})
    with pytest.raises(EngineError):
        step(broken, DialogState(), Turn(id="a", now=NOW, start="loop"))


def test_ambiguous_typed_choice_is_re_asked(pack: Pack) -> None:
    flow = Flow(
        id="pick",
        title="strings.menu",
        steps=[
            AskStep(
                id="q",
                ask="strings.ask_kind",
                slot="kind",
                choices=[
                    ChoiceSpec(value="physical_assault", label="strings.kind_physical_assault"),
                    ChoiceSpec(value="verbal_abuse", label="strings.kind_verbal_abuse"),
                ],
            )
        ],
    )
    custom = pack.model_copy(update={"flows": [*pack.flows, flow]})
    talk = Talk(custom)
    talk.turn(start="pick")
    assert talk.say("a") == ["strings.pick_one", "strings.ask_kind"]
    assert talk.say("verbal") == ["strings.anything_else"]


# --- understanding people: times confirmed, words that work everywhere, yes at a summary -------


def _report_to(talk: Talk, step_id: str) -> None:
    """Answer the report's questions in order until the flow waits at `step_id`."""
    answers = iter(
        ["report assault", "pc.amy.hart@example.police.uk", "officer", "yesterday 10pm", "Broad St"]
        + ["coventry", "verbal", "no", "none", "no", "skip", "none", "ok", "nothing", "none", "yes"]
    )
    while talk.state.step != step_id:
        talk.say(next(answers))


def test_a_guessed_time_is_confirmed_before_it_is_stored(pack: Pack) -> None:
    talk = Talk(pack, {"lookup_person": ("known", {})})
    _report_to(talk, "occurred_at")
    replies = talk.turn(text="at 3")
    assert keys(replies) == ["strings.confirm_reading"]
    assert "Mon 23 Nov 2026, 03:00" in replies[0].text
    assert [c.value for c in replies[0].choices] == ["yes", "no"] and replies[0].step == "occurred_at"
    assert "occurred_at" not in talk.state.answers
    assert talk.say("yes") == ["strings.ask_location"]
    assert talk.state.answers["occurred_at"] == "2026-11-23T03:00:00+00:00"
    assert not any(key.startswith("_confirm") for key in talk.state.answers)


def test_no_to_a_guessed_time_asks_the_time_again_and_a_new_time_replaces_it(pack: Pack) -> None:
    talk = Talk(pack, {"lookup_person": ("known", {})})
    _report_to(talk, "occurred_at")
    talk.say("half ten")
    assert talk.say("no") == ["strings.ask_occurred_at"]
    assert "occurred_at" not in talk.state.answers
    talk.say("at 3")
    assert talk.say("help") == ["strings.help_occurred_at", "strings.confirm_reading"]
    assert talk.say("2.15am") == ["strings.ask_location"]  # typed instead of yes: a fresh answer
    assert talk.state.answers["occurred_at"] == "2026-11-23T02:15:00+00:00"


def test_a_number_typed_at_a_confirmation_is_a_new_time_not_a_button(pack: Pack) -> None:
    # Slack and Teams show Yes and No without numbers: "1" there means one o'clock.
    talk = Talk(pack, {"lookup_person": ("known", {})})
    _report_to(talk, "occurred_at")
    talk.say("at 3")
    replies = talk.turn(text="1")
    assert keys(replies) == ["strings.confirm_reading"]
    assert "01:00" in replies[0].text and "03:00" not in replies[0].text
    assert "occurred_at" not in talk.state.answers
    assert talk.say("2") == ["strings.confirm_reading"]
    assert "occurred_at" not in talk.state.answers


@pytest.mark.parametrize(
    ("text", "key"), [("tomorrow 3am", "date_in_future"), ("Tuesday", "date_needs_time")]
)
def test_a_time_that_cannot_be_right_is_asked_again_not_stored(pack: Pack, text: str, key: str) -> None:
    talk = Talk(pack, {"lookup_person": ("known", {})})
    _report_to(talk, "occurred_at")
    assert talk.say(text) == [f"strings.{key}", "strings.ask_occurred_at"]
    assert "occurred_at" not in talk.state.answers


def test_changing_the_time_from_the_summary_confirms_a_guess_then_returns(pack: Pack) -> None:
    talk = Talk(pack, {"lookup_person": ("known", {})})
    _report_to(talk, "summary")
    talk.say("change")
    assert talk.say("when") == ["strings.ask_occurred_at"]
    assert talk.say("half ten") == ["strings.confirm_reading"]
    assert talk.say("yes") == ["strings.summary_intro"]
    assert talk.state.answers["occurred_at"] == "2026-11-22T22:30:00+00:00"


@pytest.mark.parametrize("text", ["yes", "Yeah", "y", "ok", "confirm", "correct", "👍"])
def test_yes_at_the_summary_confirms_the_report(pack: Pack, text: str) -> None:
    talk = Talk(pack, {"lookup_person": ("known", {})})
    _report_to(talk, "summary")
    talk.say(text)
    assert talk.effects[-1] == "open_case"


def test_no_at_the_summary_offers_to_change_an_answer(pack: Pack) -> None:
    talk = Talk(pack, {"lookup_person": ("known", {})})
    _report_to(talk, "summary")
    assert talk.say("no") == ["strings.ask_what_to_change"]


@pytest.mark.parametrize(
    "text", ["pc.amy.hart@example.police.uk", "sam.lee@example.police.uk, PC.Amy.Hart@example.police.uk"]
)
def test_the_victim_is_refused_as_a_colleague_present(pack: Pack, text: str) -> None:
    talk = Talk(pack, {"lookup_person": ("known", {})})
    _report_to(talk, "colleagues_present")
    assert talk.say(text) == ["strings.colleague_is_victim", "strings.ask_colleagues_present"]
    assert "colleagues_present" not in talk.state.answers
    assert talk.say("sam.lee@example.police.uk") == ["strings.welfare_intro", "strings.ask_welfare_how"]
    assert talk.state.answers["colleagues_present"] == ["sam.lee@example.police.uk"]


@pytest.mark.parametrize("word", ["counselling", "federation", "chaplain"])
def test_a_word_the_support_topic_suggests_starts_that_search(pack: Pack, word: str) -> None:
    talk = Talk(pack)
    talk.say("what happens next")
    talk.say("support")
    assert talk.state.step == "topics"
    assert pack.text("strings.next_support").count(f'"{word}"') == 1  # the bot suggests it here
    replies = talk.say(word)
    assert replies[0] == "strings.switching_flow"
    assert talk.effects[-1] == "search_directory"
    assert talk.state.flow == "directory_search" and talk.state.answers["query"] == word


@pytest.mark.parametrize(
    ("text", "first"),
    [
        ("my cases", "list_my_cases"),
        ("report assault", "strings.report_intro"),
        ("update case OH-2026-0001", "show_case"),
        ("federation", "search_directory"),
    ],
)
def test_a_clear_request_inside_a_menu_switches_flow(pack: Pack, text: str, first: str) -> None:
    talk = Talk(pack)
    talk.say("what happens next")
    replies = talk.say(text)
    assert replies[0] == "strings.switching_flow"
    assert first in (replies[1], talk.effects[-1])  # the other flow has started
    assert talk.state.paused is None  # nothing worth keeping in a menu of topics


@pytest.mark.parametrize("text", ["no", "back", "police", "purple elephant"])
def test_words_that_are_not_a_clear_request_are_re_asked_in_a_menu(pack: Pack, text: str) -> None:
    talk = Talk(pack)
    talk.say("what happens next")
    assert talk.say(text) == ["strings.pick_one", "strings.next_topics"]


def test_a_report_in_progress_is_kept_while_another_flow_runs(pack: Pack) -> None:
    talk = Talk(pack, {"lookup_person": ("known", {})})
    _report_to(talk, "area")
    assert talk.say("what happens next")[0] == "strings.switching_flow_kept"
    assert talk.state.flow == "what_happens_next"
    assert talk.state.paused is not None and talk.state.paused.step == "area"
    assert talk.say("cancel") == ["strings.cancelled", "strings.continuing", "strings.ask_area"]
    assert talk.state.answers["location"] == "Broad St"


def test_free_text_answers_are_never_taken_as_a_request(pack: Pack) -> None:
    talk = Talk(pack, {"lookup_person": ("known", {})})
    _report_to(talk, "location")
    assert talk.say("my cases") == ["strings.ask_area"]
    assert talk.state.answers["location"] == "my cases"


def test_a_new_search_is_a_search_but_a_named_request_switches(pack: Pack) -> None:
    talk = Talk(pack, {"search_directory": ("last", {})})
    talk.say("federation")
    assert talk.state.step == "after_last"
    talk.say("counselling")
    assert talk.state.flow == "directory_search" and talk.state.answers["query"] == "counselling"
    assert talk.say("my cases")[0] == "strings.switching_flow"
    assert talk.effects[-1] == "list_my_cases"


@pytest.mark.parametrize(
    ("text", "asked"),
    [
        ("change the time", "strings.ask_occurred_at"),
        ("wrong date", "strings.ask_occurred_at"),
        ("edit what happened", "strings.ask_kind"),
        ("change the location", "strings.ask_location"),  # the question's id works as well as its label
        ("change something", None),  # no answer named: re-asked
    ],
)
def test_change_and_an_answer_at_the_summary_asks_that_question(
    pack: Pack, text: str, asked: str | None
) -> None:
    talk = Talk(pack, {"lookup_person": ("known", {})})
    _report_to(talk, "summary")
    replies = talk.say(text)
    if asked is None:
        assert replies == ["strings.pick_one", "strings.summary_intro"]
        return
    assert replies == [asked]
    assert talk.state.returning_to == "summary"


def test_a_request_typed_in_the_menu_during_a_free_text_question_switches(pack: Pack) -> None:
    talk = Talk(pack, {"lookup_person": ("known", {})})
    _report_to(talk, "location")
    talk.say("menu")
    assert talk.say("federation")[0] == "strings.switching_flow_kept"
    assert talk.state.paused is not None and talk.state.paused.step == "location"
    assert talk.say("cancel") == ["strings.cancelled", "strings.continuing", "strings.ask_location"]


def test_a_victim_changed_to_a_colleague_listed_present_is_refused(pack: Pack) -> None:
    talk = Talk(pack, {"lookup_person": ("known", {})})
    _report_to(talk, "colleagues_present")
    talk.say("sam.lee@example.police.uk")
    _report_to(talk, "summary")
    talk.say("change")
    talk.say("colleague")
    assert talk.say("sam.lee@example.police.uk") == [
        "strings.victim_listed_present",
        "strings.ask_victim_email",
    ]
    assert talk.state.answers["victim_email"] == "pc.amy.hart@example.police.uk"


def test_a_prompt_button_starts_the_report_with_the_victim_given(pack: Pack) -> None:
    talk = Talk(pack, {"lookup_person": ("known", {})})
    step = start_step("report_assault")
    replies = talk.turn(pick=ChoicePick(step=step, value="pc.amy.hart@example.police.uk"))
    assert keys(replies) == ["strings.report_intro", "strings.ask_victim_role"]
    assert talk.state.answers["victim_email"] == "pc.amy.hart@example.police.uk"
    assert talk.effects == ["lookup_person"]


@pytest.mark.parametrize(
    "step",
    [
        start_step("report_assault"),  # a value that is not a work email
        start_step("no_such_flow"),
        start_step("report_assault", "pc.amy.hart@example.police.uk"),  # more values than it takes
    ],
)
def test_a_prompt_button_that_does_not_fit_is_refused_and_loses_nothing(pack: Pack, step: str) -> None:
    talk = Talk(pack)
    talk.say("report assault")
    before = talk.state
    replies = talk.turn(pick=ChoicePick(step=step, value="someone@gmail.com"))
    assert keys(replies) == ["strings.stale_choice", "strings.ask_victim_email"]
    assert talk.state.flow == before.flow and talk.state.step == before.step


def test_a_prompt_button_pauses_a_report_in_progress(pack: Pack) -> None:
    talk = Talk(pack, {"lookup_person": ("known", {})})
    talk.say("report assault")
    talk.say("pc.ben.ward@example.police.uk")
    replies = talk.turn(
        pick=ChoicePick(step=start_step("report_assault"), value="pc.amy.hart@example.police.uk")
    )
    assert keys(replies) == ["strings.switching_flow_kept", "strings.report_intro", "strings.ask_victim_role"]
    assert talk.state.answers["victim_email"] == "pc.amy.hart@example.police.uk"
    assert talk.state.paused is not None
    assert talk.state.paused.answers["victim_email"] == "pc.ben.ward@example.police.uk"


def test_any_button_that_starts_a_flow_keeps_a_report_in_progress_and_says_so(pack: Pack) -> None:
    # One mechanism for an OPCC visit card and a supervisor's prompt: both keep the report.
    talk = Talk(pack, {"lookup_person": ("known", {})})
    talk.say("report assault")
    talk.say("pc.ben.ward@example.police.uk")
    card = ChoicePick(step=start_step("visit_action", "OV-2026-0001"), value="seek_guidance")
    state, replies, effects = step(pack, talk.state, Turn(id="t9", now=NOW, pick=card))
    assert keys(replies) == ["strings.switching_flow_kept"]
    assert state.flow == "visit_action" and state.paused == talk.state
    assert [(e.name, e.args) for e in effects] == [
        ("check_visit_step", {"visit": "OV-2026-0001", "visit_action": "seek_guidance"})
    ]


def test_a_prompt_button_pauses_a_conversation_in_another_flow(pack: Pack) -> None:
    busy = DialogState(flow="update_case", step="ask_case", instance="t0")
    prompt = ChoicePick(step=start_step("report_assault"), value="pc.amy.hart@example.police.uk")
    state, replies, effects = step(pack, busy, Turn(id="t1", now=NOW, pick=prompt))
    assert keys(replies) == ["strings.report_intro"]
    assert state.flow == "report_assault" and state.paused == busy
    assert [(e.name, e.args) for e in effects] == [
        ("lookup_person", {"email": "pc.amy.hart@example.police.uk"})
    ]
