"""Load a content pack from its folder and check it, reporting every problem with file and line.

A pack folder holds `pack.yaml` (the force, clock, menu, intents), `strings.yaml` (every sentence),
`plan.yaml` (the plan's points), `directory.yaml` (support services) and `flows/*.yaml` (one flow
per file). Shape is checked by the pydantic models in `dialogs.schema`; this module then checks
what refers to what: steps, strings, effects, actions, validators, renderers, facts, directory
keys; duplicate ids; steps that cannot be reached; loops that never ask anything.
"""

from __future__ import annotations

import dataclasses
import hashlib
import re
import string
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import holidays
from pydantic import BaseModel, ValidationError

from dialogs.actions import ACTIONS
from dialogs.dates import parse_locale
from dialogs.durations import DURATION_NAMES, pack_duration
from dialogs.effects import EFFECTS, VISIT_EFFECTS
from dialogs.expect import EXPECT, is_work_email, normalise_email
from dialogs.notices import NOTICE_KINDS
from dialogs.plan import CASE_FACTS, EVIDENCE_EVENTS
from dialogs.render import CHARTS, CHOICES_FROM, RENDERERS
from dialogs.safe_yaml import Limits, YamlRefused, read_yaml_file
from dialogs.schema import (
    ActionStep,
    AskStep,
    Condition,
    CorrectStep,
    Directory,
    EffectStep,
    Flow,
    Grounded,
    Pack,
    PackMeta,
    Plan,
    SayStep,
    Sourced,
    Step,
    SummaryStep,
    Visits,
)
from dialogs.strings import REQUIRED_STRINGS, VISIT_STRINGS
from dialogs.visits import VISIT_STEPS, visit_string_keys

__all__ = [
    "PACK_FILE_LIMITS",
    "PackError",
    "Problem",
    "bundled_pack_dir",
    "check_pack",
    "load_pack",
    "seed_text",
]

_M = TypeVar("_M", bound=BaseModel)
Path_ = tuple[str | int, ...]
_STRING_REF = re.compile(r"^strings\.[a-z][a-z0-9_]*$")


@dataclass(frozen=True, order=True)
class Problem:
    """One thing wrong with a pack, where it is."""

    file: str
    line: int
    message: str
    #: A file missing or unreadable (not YAML, too big, over a limit): nothing else was checked.
    unreadable: bool = dataclasses.field(default=False, compare=False)

    def __str__(self) -> str:
        return f"{self.file}:{self.line}: {self.message}"


class PackError(ValueError):
    """A pack that cannot be used; `problems` says why."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = problems
        super().__init__("\n".join(str(p) for p in problems))


def bundled_pack_dir() -> Path:
    """The folder of the pack shipped with the product (West Midlands Police)."""
    return Path(__file__).parent / "packs" / "west-midlands"


# --- YAML with line numbers ------------------------------------------------------------------------

#: How big a pack's file may be: the bundled pack's largest is about 25 kB.
PACK_FILE_LIMITS = Limits(max_bytes=1_000_000, max_depth=32, max_aliases=100, max_values=200_000)


@dataclass
class _Source:
    """One YAML file: its data and the line of every path inside it."""

    name: str
    data: Any
    lines: dict[Path_, int]

    def line(self, path: Iterable[str | int]) -> int:
        """The line of the deepest prefix of `path` that the file has (1 for the file itself)."""
        parts = tuple(path)
        while parts and parts not in self.lines:
            parts = parts[:-1]
        return self.lines.get(parts, 1)


def _read_yaml(file: Path, root: Path, problems: list[Problem]) -> _Source:
    name = str(file.relative_to(root.parent)) if file.is_relative_to(root.parent) else str(file)
    source = _Source(name, None, {})
    try:
        document = read_yaml_file(file, limits=PACK_FILE_LIMITS)
    except YamlRefused as error:
        problems.append(Problem(name, error.line, error.reason, unreadable=True))
    except OSError as error:
        problems.append(Problem(name, 1, f"cannot read: {error.strerror or error}", unreadable=True))
    else:
        source.data, source.lines = document.data, document.lines
        problems += [Problem(name, line, f"duplicate key {key!r}") for line, key in document.duplicates]
    return source


def _validate(model: type[_M], source: _Source, problems: list[Problem], data: Any = None) -> _M | None:
    try:
        return model.model_validate(source.data if data is None else data)
    except ValidationError as error:
        for item in error.errors():
            path = _data_path(source.data, item["loc"])
            where = ".".join(str(p) for p in path) or "(top)"
            problems.append(Problem(source.name, source.line(path), f"{where}: {item['msg']}"))
        return None


def _data_path(data: Any, loc: tuple[int | str, ...]) -> Path_:
    """The part of a pydantic error location that exists in the data (drops union tags)."""
    path: list[str | int] = []
    for part in loc:
        if isinstance(data, dict) and part in data:
            data = data[part]
        elif isinstance(data, list) and isinstance(part, int) and part < len(data):
            data = data[part]
        else:
            continue
        path.append(part)
    return tuple(path)


# --- loading ---------------------------------------------------------------------------------------


def load_pack(directory: Path | str | None = None, *, seeds: Path | str | None = None) -> Pack:
    """Load and check the pack in `directory` (the bundled pack by default); raise `PackError`.

    With `seeds` (the folder of the source documents) the plan's citations are checked too.
    """
    pack, problems = check_pack(directory, seeds=seeds)
    if pack is None or problems:
        raise PackError(problems)
    return pack


def check_pack(
    directory: Path | str | None = None, *, seeds: Path | str | None = None
) -> tuple[Pack | None, list[Problem]]:
    """Load the pack and return it with every problem found (the pack is None if unusable).

    The plan's citations are checked against the seed documents only when `seeds` names their
    folder: a force's pack ships without them.
    """
    root = Path(directory) if directory else bundled_pack_dir()
    problems: list[Problem] = []
    if not root.is_dir():
        return None, [Problem(str(root), 1, "not a folder", unreadable=True)]
    files = {name: root / f"{name}.yaml" for name in ("pack", "strings", "plan", "directory")}
    for name, file in files.items():
        if not file.is_file():
            problems.append(Problem(str(file), 1, f"missing: a pack needs {name}.yaml", unreadable=True))
    flow_files = sorted((root / "flows").glob("*.yaml"))
    if not flow_files:
        problems.append(Problem(str(root / "flows"), 1, "no flows (flows/*.yaml)", unreadable=True))
    if problems:
        return None, problems

    # The OPCC visits protocol is optional: a pack without visits.yaml has no visit flows.
    if (root / "visits.yaml").is_file():
        files["visits"] = root / "visits.yaml"
    sources = {name: _read_yaml(file, root, problems) for name, file in files.items()}
    flow_sources = [_read_yaml(file, root, problems) for file in flow_files]
    if problems:
        return None, problems

    meta = _validate(PackMeta, sources["pack"], problems)
    strings = _validate_strings(sources["strings"], problems)
    plan = _validate(Plan, sources["plan"], problems)
    directory_ = _validate(Directory, sources["directory"], problems)
    flows = [_validate(Flow, source, problems) for source in flow_sources]
    visits = _validate(Visits, sources["visits"], problems) if "visits" in sources else None
    if meta is None or strings is None or plan is None or directory_ is None or None in flows:
        return None, sorted(problems)
    if "visits" in sources and visits is None:
        return None, sorted(problems)

    digest = hashlib.sha256()
    for file in [*files.values(), *flow_files]:
        digest.update(file.name.encode() + b"\0" + file.read_bytes())
    pack = Pack(
        meta=meta,
        strings=strings,
        flows=[f for f in flows if f is not None],
        plan=plan,
        directory=directory_,
        visits=visits,
        version_hash=digest.hexdigest()[:12],
    )
    checker = _Checker(pack, sources, dict(zip((f.id for f in pack.flows), flow_sources, strict=True)))
    checker.run()
    if seeds is not None:
        checker.check_citations(Path(seeds))
    return pack, sorted(problems + checker.problems)


def _validate_strings(source: _Source, problems: list[Problem]) -> dict[str, str] | None:
    data = source.data
    if not isinstance(data, dict):
        problems.append(Problem(source.name, 1, "strings.yaml must map string ids to text"))
        return None
    result: dict[str, str] = {}
    for key, text in data.items():
        if not isinstance(key, str) or not re.match(r"^[a-z][a-z0-9_]*$", key):
            problems.append(Problem(source.name, source.line((key,)), f"bad string id {key!r}"))
        elif not isinstance(text, str) or not text.strip():
            problems.append(Problem(source.name, source.line((key,)), f"string {key!r} must be text"))
        else:
            result[key] = text.strip("\n")
    return result if len(result) == len(data) else None


# --- cross-reference checks ------------------------------------------------------------------------


class _Checker:
    def __init__(self, pack: Pack, sources: dict[str, _Source], flow_sources: dict[str, _Source]) -> None:
        self.pack = pack
        self.sources = sources
        self.flow_sources = flow_sources
        self.problems: list[Problem] = []

    def problem(self, source: _Source, path: Path_, message: str) -> None:
        self.problems.append(Problem(source.name, source.line(path), message))

    def run(self) -> None:
        self._check_meta()
        self._check_strings_used()
        self._check_flows()
        self._check_plan()
        self._check_directory()
        self._check_visits()
        self._check_associations()
        self._check_leaflet()

    def _check_meta(self) -> None:
        meta, source = self.pack.meta, self.sources["pack"]
        flow_ids = {f.id for f in self.pack.flows}
        try:
            ZoneInfo(meta.timezone)
        except (ZoneInfoNotFoundError, ValueError):
            self.problem(source, ("timezone",), f"unknown time zone {meta.timezone!r}")
        try:
            parse_locale(meta.locale)
        except ValueError:
            self.problem(source, ("locale",), f"unknown locale {meta.locale!r} (a CLDR name: en_GB, cy)")
        country, _, subdiv = meta.bank_holidays.partition("-")
        try:
            holidays.country_holidays(country, subdiv=subdiv or None)
        except NotImplementedError:
            self.problem(source, ("bank_holidays",), f"unknown bank-holiday calendar {meta.bank_holidays!r}")
        for i, flow_id in enumerate(meta.menu):
            if flow_id not in flow_ids:
                self.problem(source, ("menu", i), f"menu names unknown flow {flow_id!r}")
        for flow_id, intent in meta.intents.items():
            if flow_id not in flow_ids:
                self.problem(source, ("intents", flow_id), f"intent for unknown flow {flow_id!r}")
            for other in intent.instead_of:
                if other not in meta.intents:
                    self.problem(source, ("intents", flow_id, "instead_of"), f"unknown intent {other!r}")
        if meta.directory_flow not in flow_ids:
            self.problem(source, ("directory_flow",), f"unknown flow {meta.directory_flow!r}")
        for word, flow_id in meta.app_commands.items():
            if flow_id not in flow_ids:
                self.problem(
                    source, ("app_commands", word), f"command {word!r} starts unknown flow {flow_id!r}"
                )
        nudge_flow = self.pack.flow(meta.nudges.flow)
        if nudge_flow is None:
            self.problem(source, ("nudges", "flow"), f"unknown flow {meta.nudges.flow!r}")
        elif not {"case", "point", "nudge_action"} <= set(nudge_flow.given):
            self.problem(
                source, ("nudges", "flow"), "the nudge flow must be `given` case, point and nudge_action"
            )
        keys = {e.key for e in self.pack.directory.entries}
        for strand, entries in meta.signposts.items():
            for i, key in enumerate(entries):
                if key not in keys:
                    self.problem(source, ("signposts", strand, i), f"unknown directory entry {key!r}")
        for i, key in enumerate(meta.victims.support):
            if key not in keys:
                self.problem(source, ("victims", "support", i), f"unknown directory entry {key!r}")

    def _string_refs(self) -> Iterator[tuple[_Source, Path_, str]]:
        for flow in self.pack.flows:
            yield from _refs(self.flow_sources[flow.id], flow.model_dump(exclude_defaults=True), ())

    def _check_strings_used(self) -> None:
        known = self.pack.strings
        for source, path, ref in self._string_refs():
            if ref.removeprefix("strings.") not in known:
                self.problem(source, path, f"unknown string key {ref!r}")
        for ref in sorted(REQUIRED_STRINGS):
            if ref.removeprefix("strings.") not in known:
                self.problem(self.sources["strings"], (), f"missing string {ref!r} (the engine uses it)")
        self._check_durations_named()

    def _check_durations_named(self) -> None:
        """A duration placeholder names a real clock: a typo would otherwise print as nothing."""
        source = self.sources["strings"]
        for key, text in self.pack.strings.items():
            try:
                names = {name for _, name, _, _ in string.Formatter().parse(text) if name}
            except ValueError as error:
                self.problem(source, (key,), f"string {key!r}: {error}")
                continue
            for name in sorted(names):
                is_duration = name.startswith(("due_", "every_")) or name in DURATION_NAMES
                if is_duration and pack_duration(self.pack, name) is None:
                    self.problem(source, (key,), f"string {key!r}: {{{name}}} names no clock of the plan")

    def _check_flows(self) -> None:
        seen: set[str] = set()
        for flow in self.pack.flows:
            source = self.flow_sources[flow.id]
            if flow.id in seen:
                self.problem(source, ("id",), f"duplicate flow id {flow.id!r}")
            seen.add(flow.id)
            _FlowChecker(self, flow, source).run()

    def _check_conditions(self, condition: Condition, source: _Source, path: Path_) -> None:
        for fact, wanted in condition.items():
            if fact not in CASE_FACTS:
                self.problem(source, (*path, fact), f"unknown fact {fact!r} (known: {', '.join(CASE_FACTS)})")
                continue
            for value in wanted if isinstance(wanted, list) else [wanted]:
                if value not in CASE_FACTS[fact]:
                    self.problem(source, (*path, fact), f"fact {fact!r} is never {value!r}")

    def _check_plan(self) -> None:
        source = self.sources["plan"]
        for role in self.pack.plan.owners:
            if f"owner_{role}" not in self.pack.strings:
                self.problem(
                    source, ("owners", role), f"missing string 'strings.owner_{role}' (names the role)"
                )
        codes: set[str] = set()
        for i, point in enumerate(self.pack.plan.points):
            path: Path_ = ("points", i)
            if point.code in codes:
                self.problem(source, (*path, "code"), f"duplicate point code {point.code!r}")
            codes.add(point.code)
            self._check_conditions(point.when, source, (*path, "when"))
            if point.owner not in self.pack.plan.owners:
                self.problem(source, (*path, "owner"), f"unknown owner role {point.owner!r}")
            evidence = point.completed_by
            if evidence and evidence.event and evidence.event not in EVIDENCE_EVENTS:
                self.problem(source, (*path, "completed_by", "event"), f"unknown event {evidence.event!r}")
            if evidence and evidence.delivered and evidence.delivered not in NOTICE_KINDS:
                self.problem(
                    source, (*path, "completed_by", "delivered"), f"unknown notice {evidence.delivered!r}"
                )
            if (
                evidence
                and evidence.delivered == "victim_decision"
                and not self.pack.meta.nudges.decision_detail_to_victim
            ):
                # A notice that only says "your officer will contact you" tells the victim nothing.
                self.problem(
                    source,
                    (*path, "completed_by", "delivered"),
                    "the victim's decision notice does not name the decision here "
                    "(nudges.decision_detail_to_victim is false), so its delivery cannot complete a point",
                )
            if evidence and f"evidence_{evidence.event or evidence.delivered}" not in self.pack.strings:
                key = f"strings.evidence_{evidence.event or evidence.delivered}"
                self.problem(source, (*path, "completed_by"), f"missing string {key!r} (shows the evidence)")
            rules = [(point.due, (*path, "due"))]
            for j, variant in enumerate(point.due_when):
                self._check_conditions(variant.when, source, (*path, "due_when", j, "when"))
                rules.append((variant.due, (*path, "due_when", j, "due")))
            rules += [(rule, (*path, "follow_ups", j)) for j, rule in enumerate(point.follow_ups)]
            for rule, rule_path in rules:
                if rule.next_meeting and rule.next_meeting not in self.pack.meta.meetings:
                    self.problem(source, rule_path, f"unknown meeting {rule.next_meeting!r}")

    def _check_visits(self) -> None:
        """The visits protocol names every step the code runs, with strings that exist."""
        visits = self.pack.visits
        if visits is None:
            for flow in self.pack.flows:
                for i, step in enumerate(flow.steps):
                    if isinstance(step, EffectStep) and step.effect in VISIT_EFFECTS:
                        self.problem(
                            self.flow_sources[flow.id],
                            ("steps", i, "effect"),
                            f"{flow.id}.{step.id}: {step.effect!r} needs the visits protocol (visits.yaml)",
                        )
            return
        source = self.sources["visits"]
        for ref in sorted(VISIT_STRINGS | visit_string_keys()):
            if ref.removeprefix("strings.") not in self.pack.strings:
                self.problem(source, (), f"missing string {ref!r} (the visits protocol uses it)")
        action_flow = self.pack.flow(visits.flow)
        if action_flow is None:
            self.problem(source, ("flow",), f"unknown flow {visits.flow!r}")
        elif action_flow.given != ["visit", "visit_action"]:
            self.problem(source, ("flow",), "the visit flow must be `given` visit and visit_action")
        for code in VISIT_STEPS:
            if code not in visits.steps:
                self.problem(source, ("steps",), f"missing visit step {code!r} (the visits protocol runs it)")
        for code, spec in visits.steps.items():
            if code not in VISIT_STEPS:
                self.problem(
                    source, ("steps", code), f"unknown visit step {code!r} (known: {', '.join(VISIT_STEPS)})"
                )
            for key in ("title",):
                ref = getattr(spec, key)
                if ref.removeprefix("strings.") not in self.pack.strings:
                    self.problem(source, ("steps", code, key), f"unknown string key {ref!r}")
            if spec.escalate_to is not None and spec.escalate_to == spec.owner:
                self.problem(
                    source, ("steps", code, "escalate_to"), "a step is never escalated to its own owner"
                )
            if spec.due.next_meeting is not None:
                self.problem(source, ("steps", code, "due"), "a visit step cannot fall due at a meeting")

    def check_citations(self, seeds: Path) -> None:
        """Each citation's quote is in the seed it names (and in the numbered point, if given)."""
        source = self.sources["plan"]
        if not seeds.is_dir():
            self.problems.append(Problem(str(seeds), 1, "the seeds folder does not exist"))
            return
        for i, point in enumerate(self.pack.plan.points):
            for j, citation in enumerate(point.cite):
                wrong = _check_citation(seeds, citation.seed, citation.point, citation.quote)
                if wrong:
                    self.problem(source, ("points", i, "cite", j), f"{point.code}: {wrong}")
        if self.pack.visits is not None:
            for code, spec in self.pack.visits.steps.items():
                for j, citation in enumerate(spec.cite):
                    wrong = _check_citation(seeds, citation.seed, citation.point, citation.quote)
                    if wrong:
                        self.problem(self.sources["visits"], ("steps", code, "cite", j), f"{code}: {wrong}")
        meta = self.sources["pack"]
        for path, grounded in self._grounded():
            for j, citation in enumerate(grounded.cite):
                wrong = _check_citation(seeds, citation.seed, citation.point, citation.quote)
                if wrong:
                    self.problem(meta, (*path, "cite", j), f"{'.'.join(map(str, path))}: {wrong}")

    def _grounded(self) -> Iterator[tuple[Path_, Grounded]]:
        """Every rule and sentence of points 9 and 10 in pack.yaml, with where it is."""
        rules, leaflet = self.pack.meta.associations, self.pack.meta.leaflet
        if rules is not None:
            for role, rule in rules.by_role.items():
                yield ("associations", "by_role", role), rule
            yield ("associations", "notice"), rules.notice
            for why in type(rules.guidance).model_fields:
                yield ("associations", "guidance", why), getattr(rules.guidance, why)
            for i, sourced in enumerate(rules.sentences):
                yield ("associations", "sentences", i), sourced
        if leaflet is not None:
            for i, sourced in enumerate(leaflet.sections):
                yield ("leaflet", "sections", i), sourced
            for name in ("io", "io_pending", "contacts_intro", "hate_crime"):
                yield ("leaflet", name), getattr(leaflet, name)
            for why in type(leaflet.guidance).model_fields:
                yield ("leaflet", "guidance", why), getattr(leaflet.guidance, why)
            for i, sourced in enumerate(leaflet.sentences):
                yield ("leaflet", "sentences", i), sourced

    def _check_associations(self) -> None:
        """Point 9's roles, associations, directory entries, contacts and strings exist."""
        source, rules = self.sources["pack"], self.pack.meta.associations
        roles = CASE_FACTS["victim_role"]
        keys = {e.key for e in self.pack.directory.entries}
        if rules is None:
            for i, point in enumerate(self.pack.plan.points):
                if point.guide == "association":
                    self.problem(
                        self.sources["plan"], ("points", i, "guide"), "no `associations` in pack.yaml"
                    )
            return
        for role, rule in rules.by_role.items():
            if role not in roles:
                self.problem(source, ("associations", "by_role", role), f"unknown victim role {role!r}")
            for j, named in enumerate(rule.bodies):
                if named not in rules.bodies:
                    self.problem(
                        source,
                        ("associations", "by_role", role, "bodies", j),
                        f"unknown association {named!r}",
                    )
        for key, body in rules.bodies.items():
            path: Path_ = ("associations", "bodies", key)
            if body.directory not in keys:
                self.problem(source, (*path, "directory"), f"unknown directory entry {body.directory!r}")
            self._check_string(source, (*path, "name"), body.name)
            for field, addresses in (("people", body.people), ("emails", body.emails)):
                for j, address in enumerate(addresses):
                    if normalise_email(address) is None:
                        self.problem(source, (*path, field, j), f"not an email address: {address!r}")
                    elif field == "people" and not is_work_email(address, self.pack):
                        self.problem(source, (*path, field, j), f"not a work email: {address!r}")
        for path, grounded in self._grounded():
            if isinstance(grounded, Sourced):
                self._check_string(source, (*path, "text"), grounded.text)

    def _check_leaflet(self) -> None:
        """Point 10's sections, contacts and strings exist."""
        source, leaflet = self.sources["pack"], self.pack.meta.leaflet
        if leaflet is None:
            for i, point in enumerate(self.pack.plan.points):
                if point.guide == "leaflet":
                    self.problem(self.sources["plan"], ("points", i, "guide"), "no `leaflet` in pack.yaml")
            return
        keys = {e.key for e in self.pack.directory.entries}
        for role, entries in leaflet.contacts.items():
            if role not in CASE_FACTS["victim_role"]:
                self.problem(source, ("leaflet", "contacts", role), f"unknown victim role {role!r}")
            for j, key in enumerate(entries):
                if key not in keys:
                    self.problem(source, ("leaflet", "contacts", role, j), f"unknown directory entry {key!r}")

    def _check_string(self, source: _Source, path: Path_, ref: str) -> None:
        if ref.removeprefix("strings.") not in self.pack.strings:
            self.problem(source, path, f"unknown string key {ref!r}")

    def _check_directory(self) -> None:
        source = self.sources["directory"]
        categories = {c.id for c in self.pack.directory.categories}
        if len(categories) != len(self.pack.directory.categories):
            self.problem(source, ("categories",), "duplicate category id")
        keys: set[str] = set()
        for i, entry in enumerate(self.pack.directory.entries):
            if entry.key in keys:
                self.problem(source, ("entries", i, "key"), f"duplicate directory key {entry.key!r}")
            keys.add(entry.key)
            if entry.category not in categories:
                self.problem(source, ("entries", i, "category"), f"unknown category {entry.category!r}")
            for field in entry.flags:
                if not getattr(entry, field):
                    self.problem(source, ("entries", i, "flags", field), f"flag on empty field {field!r}")


# --- citations -------------------------------------------------------------------------------------

_QUOTE_MARKS = str.maketrans({"\u2018": "'", "\u2019": "'", "\u201c": '"', "\u201d": '"'})
_NUMBERED_POINT = re.compile(r"^- (\d+) ", re.MULTILINE)
_PARAGRAPH_BREAK = re.compile(r"\n[ \t]*\n[ \t]*\n")


def _plain(text: str) -> str:
    """Text compared for quoting: typographic quotes made straight, every run of spacing one space."""
    return " ".join(text.translate(_QUOTE_MARKS).split())


def seed_text(seeds: Path, seed: str, point: int | None = None) -> str | None:
    """The text of seed `seed` (a file `<seed>_*.txt` in `seeds`), or of its numbered `point`.

    A numbered point runs from its `- N ` line to the next numbered point or the next gap of two
    blank lines. None when the seed or the point is not there.
    """
    files = sorted(seeds.glob(f"{seed}_*.txt"))
    if not files:
        return None
    text = files[0].read_text(encoding="utf-8")
    if point is None:
        return text
    starts = list(_NUMBERED_POINT.finditer(text))
    for i, match in enumerate(starts):
        if int(match.group(1)) == point:
            end = starts[i + 1].start() if i + 1 < len(starts) else len(text)
            return _PARAGRAPH_BREAK.split(text[match.end() : end], maxsplit=1)[0]
    return None


def _check_citation(seeds: Path, seed: str, point: int | None, quote: str) -> str | None:
    """What is wrong with a citation, or None."""
    whole = seed_text(seeds, seed)
    if whole is None:
        return f"no seed {seed!r} in {seeds}"
    if _plain(quote) not in _plain(whole):
        return f"seed {seed} does not say {quote!r}"
    if point is not None:
        text = seed_text(seeds, seed, point)
        if text is None:
            return f"seed {seed} has no point {point}"
        if _plain(quote) not in _plain(text):
            return f"{quote!r} is in seed {seed} but not in its point {point}"
    return None


def _refs(source: _Source, data: Any, path: Path_) -> Iterator[tuple[_Source, Path_, str]]:
    if isinstance(data, str) and _STRING_REF.match(data):
        yield source, path, data
    elif isinstance(data, dict):
        for key, value in data.items():
            yield from _refs(source, value, (*path, key))
    elif isinstance(data, list):
        for i, value in enumerate(data):
            yield from _refs(source, value, (*path, i))


class _FlowChecker:
    """Checks one flow: ids, targets, bindings, reachability and loops."""

    def __init__(self, parent: _Checker, flow: Flow, source: _Source) -> None:
        self.parent = parent
        self.flow = flow
        self.source = source
        self.ids = [s.id for s in flow.steps]

    def problem(self, index: int, key: str | None, message: str) -> None:
        path: Path_ = ("steps", index) if key is None else ("steps", index, key)
        self.parent.problem(self.source, path, f"{self.flow.id}.{self.flow.steps[index].id}: {message}")

    def run(self) -> None:
        seen: set[str] = set()
        for i, step in enumerate(self.flow.steps):
            if step.id in seen:
                self.problem(i, "id", f"duplicate step id {step.id!r}")
            seen.add(step.id)
            for key, target in self._targets(step):
                if target not in self.ids:
                    self.problem(i, key, f"unknown step {target!r}")
            self._check_bindings(i, step)
        self._check_reachable()
        self._check_loops()

    def _slots(self) -> set[str]:
        slots = set(self.flow.given) | ({self.flow.start_slot} if self.flow.start_slot else set())
        for step in self.flow.steps:
            if isinstance(step, AskStep):
                slots.add(step.slot)
                if step.otherwise:
                    slots.add(step.otherwise.slot)
            if isinstance(step, ActionStep) and step.action in ACTIONS:
                slots.update(ACTIONS[step.action].sets)
        return slots

    def _targets(self, step: Step) -> Iterator[tuple[str, str]]:
        if step.next:
            yield "next", step.next
        for target in step.on.values():
            yield "on", target
        if isinstance(step, AskStep) and step.otherwise:
            yield "otherwise", step.otherwise.next
        if isinstance(step, CorrectStep):
            yield "return_to", step.return_to

    def _check_bindings(self, i: int, step: Step) -> None:
        if isinstance(step, SayStep | AskStep) and step.show and step.show not in RENDERERS:
            self.problem(i, "show", f"unknown renderer {step.show!r} (known: {', '.join(RENDERERS)})")
        if isinstance(step, SayStep) and step.chart and step.chart not in CHARTS:
            self.problem(i, "chart", f"unknown chart {step.chart!r} (known: {', '.join(CHARTS)})")
        if isinstance(step, ActionStep):
            if step.action not in ACTIONS:
                self.problem(i, "action", f"unknown action {step.action!r} (known: {', '.join(ACTIONS)})")
            else:
                self._check_on(i, step.on, set(ACTIONS[step.action].outcomes))
        if isinstance(step, AskStep):
            self._check_ask(i, step)
        if isinstance(step, SummaryStep):
            values = {c.value for c in step.choices}
            self._check_on(i, step.on, values)
            for key, picked in (("yes", step.yes), ("no", step.no)):
                if picked is not None and picked not in values:
                    self.problem(i, key, f"{key} picks {picked!r}, which is not one of its choices")
        if isinstance(step, EffectStep):
            self._check_effect(i, step)
        if isinstance(step, CorrectStep) and not isinstance(self._step(step.return_to), SummaryStep | None):
            self.problem(i, "return_to", "return_to must name a summary step")

    def _check_ask(self, i: int, step: AskStep) -> None:
        for name in (step.expect, step.otherwise.expect if step.otherwise else None):
            if name and name not in EXPECT:
                self.problem(i, "expect", f"unknown validator {name!r} (known: {', '.join(EXPECT)})")
        if step.choices_from and step.choices_from not in CHOICES_FROM:
            self.problem(i, "choices_from", f"unknown choice provider {step.choices_from!r}")
        values = [c.value for c in step.choices]
        if len(values) != len(set(values)):
            self.problem(i, "choices", "duplicate choice value")
        if step.expect == "yes_no":
            values += ["yes", "no"]
        if not step.choices_from:
            self._check_on(i, step.on, set(values))
        for exclusion in step.exclude:
            if exclusion.slot not in self._slots():
                self.problem(i, "exclude", f"exclude names {exclusion.slot!r}, which no step asks for")

    def _check_on(self, i: int, on: dict[str, str], allowed: set[str]) -> None:
        for key in on:
            if key not in allowed:
                self.problem(i, "on", f"branch on {key!r}, which is not one of its values {sorted(allowed)}")

    def _check_effect(self, i: int, step: EffectStep) -> None:
        spec = EFFECTS.get(step.effect)
        if spec is None:
            self.problem(i, "effect", f"unknown effect {step.effect!r} (known: {', '.join(EFFECTS)})")
            return
        self._check_on(i, step.on, set(spec.outcomes))
        slots = self._slots()
        if step.args:
            for param, slot in step.args.items():
                if param not in spec.params + spec.optional:
                    self.problem(i, "args", f"effect {step.effect!r} has no parameter {param!r}")
                if slot not in slots:
                    self.problem(i, "args", f"no step asks for {slot!r}")
            missing = [p for p in spec.params if p not in step.args]
        else:
            missing = [p for p in spec.params if p not in slots]
        if missing:
            self.problem(i, "effect", f"effect {step.effect!r} needs {', '.join(missing)}")

    def _step(self, step_id: str) -> Step | None:
        return next((s for s in self.flow.steps if s.id == step_id), None)

    def _edges(self, index: int) -> list[str]:
        step = self.flow.steps[index]
        edges = [target for _, target in self._targets(step)]
        if not step.next and not step.end and index + 1 < len(self.flow.steps):
            edges.append(self.flow.steps[index + 1].id)
        # A correct step only goes back to answers already on the way, so it reaches nothing new.
        return [e for e in edges if e in self.ids]

    def _check_reachable(self) -> None:
        reached = {self.ids[0]}
        todo = [self.ids[0]]
        while todo:
            for target in self._edges(self.ids.index(todo.pop())):
                if target not in reached:
                    reached.add(target)
                    todo.append(target)
        for i, step_id in enumerate(self.ids):
            if step_id not in reached:
                self.problem(i, None, "unreachable: no step leads here")

    def _check_loops(self) -> None:
        """A cycle made only of say, action and effect steps would never wait for the person."""
        silent = {s.id for s in self.flow.steps if isinstance(s, SayStep | ActionStep | EffectStep)}
        state: dict[str, int] = {}

        def visit(step_id: str) -> bool:
            state[step_id] = 1
            for target in self._edges(self.ids.index(step_id)):
                if target in silent and (state.get(target) == 1 or (target not in state and visit(target))):
                    return True
            state[step_id] = 2
            return False

        for i, step_id in enumerate(self.ids):
            if step_id in silent and step_id not in state and visit(step_id):
                self.problem(i, None, "loops without asking anything")
