"""The migration head read from the version files, and the database's revision, without Alembic."""

from __future__ import annotations

from pathlib import Path

from alembic.config import Config
from alembic.script import ScriptDirectory
from sqlalchemy import Engine

from store.db import make_engine, upgrade
from store.revisions import head_revisions, is_at_head, stored_revisions

MIGRATIONS = Path(__file__).resolve().parents[2] / "store" / "migrations"


def test_the_head_is_alembics_head() -> None:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    assert head_revisions() == frozenset(ScriptDirectory.from_config(config).get_heads())


def test_a_new_database_is_behind_and_a_migrated_one_at_head(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'x.db'}")
    assert not is_at_head(engine)
    with engine.connect() as connection:
        assert stored_revisions(connection=connection) == frozenset()
    upgrade(engine)
    assert is_at_head(engine)
    engine.dispose()


def test_a_database_one_migration_behind_is_not_at_head(engine: Engine, tmp_path: Path) -> None:
    assert is_at_head(engine)
    older = make_engine(f"sqlite:///{tmp_path / 'older.db'}")
    upgrade(older, "0003")
    with older.connect() as connection:
        assert stored_revisions(connection=connection) == {"0003"}
    assert not is_at_head(older)
    older.dispose()


def test_a_merge_revision_is_the_one_head(tmp_path: Path) -> None:
    versions = tmp_path / "versions"
    versions.mkdir()
    (versions / "a.py").write_text('revision = "a"\ndown_revision = None\n')
    (versions / "b.py").write_text('revision: str = "b"\ndown_revision: str | None = "a"\n')
    (versions / "c.py").write_text('revision = "c"\ndown_revision = "a"\n')
    assert head_revisions(versions) == {"b", "c"}
    (versions / "m.py").write_text('revision = "m"\ndown_revision = ("b", "c")\n')
    head_revisions.cache_clear()
    assert head_revisions(versions) == {"m"}


def test_other_assignments_in_a_version_file_need_not_be_literals(tmp_path: Path) -> None:
    versions = tmp_path / "versions"
    versions.mkdir()
    (versions / "a.py").write_text(
        'import logging\nlog = logging.getLogger(__name__)\nrevision = "a"\ndown_revision = None\n'
        'TABLES: list[str] = sorted({"x", "y"})\n'
    )
    assert head_revisions(versions) == {"a"}
