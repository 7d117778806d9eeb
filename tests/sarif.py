"""Validation of SARIF logs against the SARIF 2.1.0 JSON schema vendored in tests/fixtures (see SARIF-SCHEMA.md)."""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

import jsonschema

SCHEMA = Path(__file__).parent / "fixtures" / "sarif-schema-2.1.0.json"


@cache
def _validator() -> jsonschema.Draft7Validator:
    schema = json.loads(SCHEMA.read_text(encoding="utf-8"))
    jsonschema.Draft7Validator.check_schema(schema)
    return jsonschema.Draft7Validator(schema, format_checker=jsonschema.FormatChecker())


def validate(log: dict[str, Any]) -> None:
    """Raise ``jsonschema.ValidationError`` (the first error) unless ``log`` is a valid SARIF 2.1.0 log."""
    _validator().validate(log)
