"""Every library the bot imports is one it declares, so an install from pyproject.toml alone runs it."""

from __future__ import annotations

import ast
import os
import subprocess
import sys
import tomllib
from importlib.metadata import packages_distributions
from pathlib import Path

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parent.parent
FIRST_PARTY = {"bot", "dialogs", "store"}


def imported_modules(root: Path) -> dict[str, set[str]]:
    """Each top-level module imported by the project's packages, with the files that import it.

    Imports inside functions count too: they are loaded lazily, but still needed at run time.
    """
    found: dict[str, set[str]] = {}
    for package in sorted(FIRST_PARTY):
        for path in (root / package).rglob("*.py"):
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), filename=str(path))):
                if isinstance(node, ast.Import):
                    names = [alias.name for alias in node.names]
                elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                    names = [node.module]
                else:
                    continue
                for name in names:
                    top = name.partition(".")[0]
                    if top not in FIRST_PARTY and top not in sys.stdlib_module_names:
                        found.setdefault(top, set()).add(path.relative_to(root).as_posix())
    return found


def declared(root: Path) -> set[str]:
    """The distributions pyproject.toml asks for to run the bot (the `postgres` extra included)."""
    project = tomllib.loads((root / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    requirements = [*project["dependencies"], *project["optional-dependencies"]["postgres"]]
    return {canonicalize_name(Requirement(line).name) for line in requirements}


def test_the_scan_finds_imports_inside_functions(tmp_path: Path) -> None:
    (tmp_path / "bot").mkdir()
    (tmp_path / "bot" / "lazy.py").write_text(
        "from __future__ import annotations\nimport json\nfrom bot import x\n\n"
        "def f() -> None:\n    import aiohttp.web\n    from msrest.exceptions import HttpOperationError\n"
    )
    assert imported_modules(tmp_path) == {"aiohttp": {"bot/lazy.py"}, "msrest": {"bot/lazy.py"}}


def test_every_imported_library_is_a_declared_dependency() -> None:
    owners = packages_distributions()
    wanted = declared(ROOT)
    undeclared = {
        module: sorted(files)
        for module, files in imported_modules(ROOT).items()
        if not {canonicalize_name(owner) for owner in owners.get(module, [])} & wanted
    }
    assert undeclared == {}, f"imported but not in pyproject.toml's dependencies: {undeclared}"


def test_sqlite_needs_no_postgresql_driver(tmp_path: Path) -> None:
    # As `make chat` installs it, without the `postgres` extra: any import of psycopg fails.
    blocked = (
        "import sys; sys.modules['psycopg'] = None; from bot.cli import main; "
        "sys.exit(main(['db', 'upgrade']) or main(['directory', 'search', 'federation']))"
    )
    env = {**os.environ, "HAMPSHIRE_DATABASE_URL": f"sqlite:///{tmp_path / 'bot.db'}"}
    done = subprocess.run(
        [sys.executable, "-c", blocked], cwd=ROOT, env=env, capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0, done.stderr
    assert "West Midlands Police Federation" in done.stdout
