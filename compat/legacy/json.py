"""``JSONResultHandler``: the value's JSON text is the URI; nothing is stored anywhere."""

from __future__ import annotations

import json
from typing import Any

from typing_extensions import deprecated

from compat.legacy.base import ResultHandler

__all__ = ["JSONResultHandler"]


@deprecated(
    "JSONResultHandler is deprecated; use compat.JSONResult (results-codemod <path> rewrites it)",
    category=None,
)
class JSONResultHandler(ResultHandler):
    """``write`` returns ``json.dumps(value)``; ``read`` parses it back.

    .. deprecated:: 0.1.0
        Use ``compat.JSONResult()``.
    """

    def write(self, result: Any) -> str:
        return json.dumps(result)

    def read(self, uri: str) -> Any:
        return json.loads(uri)
