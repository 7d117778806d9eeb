"""The part of the records' interface (``/work/specs``: issue 21) that listing needs, until
``compat.results.records`` lands on main: then this module becomes its imports."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

__all__ = ["MAX_RECORD_BYTES", "RECORD_SUFFIX", "TargetRecord"]

RECORD_SUFFIX = ".record.json"
MAX_RECORD_BYTES = 1024 * 1024


@dataclass(frozen=True)
class TargetRecord:
    bytes_hash: str
    size: int
    location: str
    flow: str | None = None
    task: str | None = None
    run_id: str | None = None
    written_at: str = ""
    stored: Mapping[str, Any] | None = None

    @classmethod
    def from_json(cls, data: bytes) -> TargetRecord:
        try:
            parsed = json.loads(data.decode("utf-8"))
        except (UnicodeDecodeError, ValueError, RecursionError) as exc:
            raise ValueError(f"the record is not JSON: {exc}") from None
        if not isinstance(parsed, dict):
            raise ValueError("a record is a JSON object")
        try:
            return cls(**{name: parsed[name] for name in cls.__dataclass_fields__ if name in parsed})
        except TypeError as exc:
            raise ValueError(str(exc)) from None

    def describes(self, stored: Mapping[str, Any] | None) -> bool:
        if self.stored is None or stored is None:
            return self.stored is None and stored is None
        return dict(self.stored) == dict(stored)
