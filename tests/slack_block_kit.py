"""Block Kit validation for tests: the vendored JSON Schema and slack_sdk's own models.

The schema (TightknitAI's, in ../shared/schemas) checks structure and limits per block; the models'
`to_dict()` checks slack_sdk's rules; a payload must survive the round trip through the models
unchanged, so nothing the models do not know about slips through.
"""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

from jsonschema.protocols import Validator
from jsonschema.validators import validator_for
from slack_sdk.models.blocks import Block
from slack_sdk.models.views import View

__all__ = ["SCHEMAS", "assert_valid_blocks", "assert_valid_view", "schema_validator"]

SCHEMAS = Path(__file__).resolve().parents[1].parent / "shared" / "schemas"


@cache
def schema_validator(name: str, ref: str | None = None) -> Validator:
    """A validator for the schema file `name` (or one of its `$defs`), format checks on."""
    schema = json.loads((SCHEMAS / name).read_text(encoding="utf-8"))
    if ref:
        schema = {"$schema": schema["$schema"], "$ref": f"#/$defs/{ref}", "$defs": schema["$defs"]}
    cls = validator_for(schema)
    cls.check_schema(schema)
    validator: Validator = cls(schema, format_checker=cls.FORMAT_CHECKER)
    return validator


def _errors(validator: Validator, payload: Any) -> list[str]:
    return [f"{list(e.absolute_path)}: {e.message}" for e in validator.iter_errors(payload)]


def assert_valid_blocks(blocks: list[dict[str, Any]]) -> None:
    """A message's blocks are valid Block Kit, by the schema and by slack_sdk."""
    assert not _errors(schema_validator("slack-block-kit.schema.json"), blocks)
    assert [b.to_dict() for b in Block.parse_all(blocks)] == blocks


def assert_valid_view(view: dict[str, Any]) -> None:
    """A Home tab or modal is a valid view, by the schema and by slack_sdk."""
    ref = "home_view" if view["type"] == "home" else "modal_view"
    assert not _errors(schema_validator("slack-block-kit.schema.json", ref), view)
    assert View(**view).to_dict() == view
