"""No test times itself: tests wait on events and handshakes, and timings belong to `bench/`.

A test that sleeps and then asserts "it took under a second" fails on a busy machine and passes on
a broken one. Read from the tests' source with `ast`: an `assert` that reads a real clock, or any
comparison of an elapsed time (a real clock's reading minus another), is refused. Waiting for
something with a guard timeout (`event.wait(10)`, `thread.join(30)`) is not a measurement and is
allowed, and so is a deadline that only ends a loop.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
#: Functions of the `time` module that read a real clock.
TIME_CLOCKS = {
    "monotonic",
    "monotonic_ns",
    "perf_counter",
    "perf_counter_ns",
    "time",
    "time_ns",
    "process_time",
}
#: `datetime` class methods that read the wall clock.
DATETIME_CLOCKS = {"now", "utcnow", "today"}
#: How the event loop's own clock is reached (`asyncio.get_running_loop().time()`).
LOOP_GETTERS = {"get_running_loop", "get_event_loop"}


class _Clocks:
    """What reads a real clock in one module, given how it imported `time` and `datetime`."""

    def __init__(self, tree: ast.Module) -> None:
        self.time_modules: set[str] = set()
        self.datetime_classes: set[str] = set()
        self.functions: set[str] = set()
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                for alias in node.names:
                    if alias.name == "time":
                        self.time_modules.add(alias.asname or "time")
            elif isinstance(node, ast.ImportFrom) and node.module in ("time", "datetime"):
                for alias in node.names:
                    if node.module == "time" and alias.name in TIME_CLOCKS:
                        self.functions.add(alias.asname or alias.name)
                    elif node.module == "datetime" and alias.name == "datetime":
                        self.datetime_classes.add(alias.asname or alias.name)

    def is_read(self, node: ast.AST) -> bool:
        """Whether `node` is a call that reads a real clock."""
        if not isinstance(node, ast.Call):
            return False
        func = node.func
        if isinstance(func, ast.Name):
            return func.id in self.functions
        if not isinstance(func, ast.Attribute):
            return False
        owner = func.value
        if isinstance(owner, ast.Name):
            return (owner.id in self.time_modules and func.attr in TIME_CLOCKS) or (
                owner.id in self.datetime_classes and func.attr in DATETIME_CLOCKS
            )
        if isinstance(owner, ast.Attribute) and owner.attr == "datetime":
            return func.attr in DATETIME_CLOCKS  # datetime.datetime.now()
        if isinstance(owner, ast.Call) and func.attr == "time":
            getter = owner.func
            name = getter.attr if isinstance(getter, ast.Attribute) else getattr(getter, "id", "")
            return name in LOOP_GETTERS
        return False


def _names(node: ast.AST) -> set[str]:
    return {n.id for n in ast.walk(node) if isinstance(n, ast.Name)}


def _assigned(node: ast.AST) -> tuple[list[ast.expr], ast.expr | None]:
    if isinstance(node, ast.Assign):
        return node.targets, node.value
    if isinstance(node, (ast.AnnAssign, ast.AugAssign, ast.NamedExpr)):
        return [node.target], node.value
    return [], None


def stopwatch_problems(source: str, filename: str = "<test>") -> list[str]:
    """Each place in `source` that asserts or compares a wall-clock time, as `file:line: why`."""
    tree = ast.parse(source, filename)
    clocks = _Clocks(tree)

    def reads(node: ast.AST, tainted: set[str]) -> bool:
        return any(clocks.is_read(n) for n in ast.walk(node)) or bool(_names(node) & tainted)

    # Names holding a clock reading, and names holding an elapsed time (a reading minus another),
    # followed through assignments until nothing changes.
    readings: set[str] = set()
    elapsed: set[str] = set()

    def is_elapsed(node: ast.AST) -> bool:
        return bool(_names(node) & elapsed) or any(
            isinstance(n, ast.BinOp) and isinstance(n.op, ast.Sub) and reads(n, readings)
            for n in ast.walk(node)
        )

    changed = True
    while changed:
        changed = False
        for node in ast.walk(tree):
            targets, value = _assigned(node)
            if value is None:
                continue
            names = set().union(*(_names(t) for t in targets))
            for holder, holds in ((readings, reads(value, readings)), (elapsed, is_elapsed(value))):
                if holds and not names <= holder:
                    holder |= names
                    changed = True

    problems: dict[int, str] = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.Assert) and reads(node.test, readings | elapsed):
            problems[node.lineno] = "an assert reads a real clock"
        elif isinstance(node, ast.Compare) and is_elapsed(node):
            problems.setdefault(node.lineno, "compares an elapsed wall-clock time")
    return [f"{filename}:{line}: {why}" for line, why in sorted(problems.items())]


def _test_sources() -> Iterator[Path]:
    yield from sorted((ROOT / "tests").rglob("*.py"))


def test_the_test_sources_were_found() -> None:
    assert len(list(_test_sources())) > 20


def test_no_test_asserts_or_compares_a_wall_clock_time() -> None:
    problems = [
        problem
        for path in _test_sources()
        for problem in stopwatch_problems(path.read_text(encoding="utf-8"), str(path.relative_to(ROOT)))
    ]
    assert problems == [], "use an event or a handshake (timings belong in bench/):\n" + "\n".join(problems)


@pytest.mark.parametrize(
    "source",
    [
        "import time\nstarted = time.monotonic()\nwork()\nassert time.monotonic() - started < 1\n",
        "import time\nt0 = time.perf_counter()\nwork()\ntook = time.perf_counter() - t0\nassert took < 1.0\n",
        "from time import monotonic as now\nbegan = now()\nwork()\nif now() - began > 2:\n    fail()\n",
        "import time as t\nassert t.time() < limit\n",
        "from datetime import datetime\nstart = datetime.now()\nwork()\n"
        "assert datetime.now() - start < span\n",
        "import asyncio\nasync def f():\n    a = asyncio.get_running_loop().time()\n"
        "    await work()\n    assert asyncio.get_running_loop().time() - a < 1\n",
        "import time\nstarted = time.monotonic()\nwork()\nelapsed = time.monotonic() - started\n"
        "seconds = elapsed\nassert seconds <= 0.5\n",
    ],
)
def test_a_stopwatch_in_a_test_is_found(source: str) -> None:
    assert stopwatch_problems(source) != []


@pytest.mark.parametrize(
    "source",
    [
        "import threading\ndone = threading.Event()\nassert done.wait(10)\n",
        "import time\ndeadline = time.monotonic() + 10\nwhile time.monotonic() < deadline and not ready():\n"
        "    time.sleep(0.1)\n",
        "def check(clock):\n    started = clock()\n    clock.advance(minutes=3)\n"
        "    assert clock() - started == span\n",
        "import time\ntoken = {'iat': int(time.time())}\nsend(token)\nassert answered()\n",
    ],
)
def test_events_guards_deadlines_and_fake_clocks_are_allowed(source: str) -> None:
    assert stopwatch_problems(source) == []
