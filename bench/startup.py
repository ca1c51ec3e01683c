"""Benchmark: how fast `hampshire` starts, against the bare interpreter in the same run.

Times, as fresh processes, round by round so drift on a shared machine hits all alike:
- `python -c pass`: the bare interpreter of this virtual environment (the baseline);
- `hampshire --help`;
- `hampshire chat --as …` on a terminal (a pty): from starting the process until its first `> `
  prompt appears, on a SQLite file already at the migrations' head (what every start after the
  first one is). The first start on a new database, which migrates it, is timed once, apart.

Prints the median and p90 of each in ms of wall time, the median CPU time (user and system) of
each process, which other work on the machine inflates far less than wall time, and `--help` and
the first prompt as ratios to the bare interpreter (medians of the per-round ratios). Goals:
`--help` within 0.3 s of the bare interpreter, the first prompt within 1 s.

    .venv/bin/python bench/startup.py [--rounds 15]
"""

from __future__ import annotations

import argparse
import os
import pty
import select
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

HAMPSHIRE = Path(sys.executable).parent / "hampshire"
EMAIL = "pc.amy.hart@example.police.uk"
#: What the console writes when it waits for the person's answer.
PROMPT = b"> "
#: A run that has not shown its prompt by then has hung: the benchmark stops rather than wait.
GIVE_UP_SECONDS = 120.0
HELP_GOAL_MS = 300.0
PROMPT_GOAL_MS = 1000.0


def _environment() -> dict[str, str]:
    """This environment without channels or a pack of its own, as a newcomer's shell would be."""
    return {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "MICROSOFT_", "HAMPSHIRE_"))}


@dataclass(frozen=True)
class Timing:
    """One run: wall time until done (or until the prompt showed) and the process's CPU time, in ms."""

    wall: float
    cpu: float


def _reap(process: subprocess.Popen[bytes]) -> float:
    """Wait for the process and return the CPU time it used, in ms."""
    _, status, usage = os.wait4(process.pid, 0)
    process.returncode = os.waitstatus_to_exitcode(status)
    return (usage.ru_utime + usage.ru_stime) * 1000


def time_command(argv: list[str]) -> Timing:
    """Starting `argv` until it has exited (its output thrown away)."""
    started = time.perf_counter()
    process = subprocess.Popen(argv, stdout=subprocess.DEVNULL, env=_environment())
    cpu = _reap(process)
    wall = (time.perf_counter() - started) * 1000
    if process.returncode != 0:
        raise SystemExit(f"{' '.join(argv)} exited with {process.returncode}")
    return Timing(wall, cpu)


def time_first_prompt(database: str) -> Timing:
    """Starting `hampshire chat` on a pty until its first prompt is on screen."""
    controller, terminal = pty.openpty()
    started = time.perf_counter()
    chat = subprocess.Popen(
        [str(HAMPSHIRE), "chat", "--as", EMAIL, "--db", database],
        stdin=terminal,
        stdout=terminal,
        stderr=subprocess.DEVNULL,
        env=_environment(),
        close_fds=True,
    )
    os.close(terminal)
    shown = b""
    try:
        while not shown.endswith(PROMPT):
            left = GIVE_UP_SECONDS - (time.perf_counter() - started)
            ready, _, _ = select.select([controller], [], [], max(left, 0))
            if not ready:
                chat.kill()
                raise SystemExit(f"no prompt after {GIVE_UP_SECONDS:.0f} s; the console showed {shown!r}")
            shown += os.read(controller, 65536)
        wall = (time.perf_counter() - started) * 1000
    finally:
        chat.terminate()
        cpu = _reap(chat)
        os.close(controller)
    return Timing(wall, cpu)


def _p90(values: list[float]) -> float:
    return statistics.quantiles(values, n=10)[-1] if len(values) > 1 else values[0]


def main() -> None:
    """Run the rounds and print the figures and whether the goals were met."""
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rounds", type=int, default=15, help="rounds of the three timings (default: 15)")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as folder:
        database = f"sqlite:///{Path(folder) / 'bench.db'}"
        new_database = time_first_prompt(database)
        # One unmeasured round warms the file cache for all three.
        time_command([sys.executable, "-c", "pass"])
        time_command([str(HAMPSHIRE), "--help"])
        time_first_prompt(database)

        bare: list[Timing] = []
        helps: list[Timing] = []
        prompts: list[Timing] = []
        for _ in range(args.rounds):
            bare.append(time_command([sys.executable, "-c", "pass"]))
            helps.append(time_command([str(HAMPSHIRE), "--help"]))
            prompts.append(time_first_prompt(database))

    help_ratio = statistics.median(h.wall / b.wall for h, b in zip(helps, bare, strict=True))
    prompt_ratio = statistics.median(p.wall / b.wall for p, b in zip(prompts, bare, strict=True))
    help_over = statistics.median(h.wall - b.wall for h, b in zip(helps, bare, strict=True))
    prompt_ms = statistics.median(p.wall for p in prompts)
    print(
        f"{args.rounds} interleaved rounds on {os.cpu_count()} CPUs, Python {sys.version.split()[0]}, "
        f"load average {os.getloadavg()[0]:.1f}"
    )
    for name, runs in (
        ("python -c pass", bare),
        ("hampshire --help", helps),
        ("chat: first prompt", prompts),
    ):
        walls = [r.wall for r in runs]
        print(
            f"  {name:<20} median {statistics.median(walls):7.1f} ms   p90 {_p90(walls):7.1f} ms   "
            f"CPU {statistics.median(r.cpu for r in runs):7.1f} ms"
        )
    print(
        f"  chat: first prompt on a new database (migrates it): {new_database.wall:.1f} ms, "
        f"CPU {new_database.cpu:.1f} ms (one run)"
    )
    print(f"  ratios to the bare interpreter: --help {help_ratio:.2f}, first prompt {prompt_ratio:.2f}")
    print(
        f"  goal --help within {HELP_GOAL_MS:.0f} ms of the bare interpreter: "
        f"{'met' if help_over < HELP_GOAL_MS else 'NOT met'} (+{help_over:.1f} ms, median of rounds)"
    )
    print(
        f"  goal first prompt within {PROMPT_GOAL_MS:.0f} ms: "
        f"{'met' if prompt_ms < PROMPT_GOAL_MS else 'NOT met'} ({prompt_ms:.1f} ms median)"
    )


if __name__ == "__main__":
    main()
