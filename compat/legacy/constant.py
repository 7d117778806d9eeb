"""``ConstantResultHandler``: a fixed value that every read returns."""

from __future__ import annotations

from typing import Any

from typing_extensions import deprecated

from compat.legacy.base import ResultHandler

__all__ = ["ConstantResultHandler"]


@deprecated(
    "ConstantResultHandler is deprecated; use compat.ConstantResult (results-codemod <path> rewrites it)",
    category=None,
)
class ConstantResultHandler(ResultHandler):
    """``read`` returns ``value`` whatever the URI; ``write`` stores nothing and returns ``repr(value)``.

    .. deprecated:: 0.1.0
        Use ``compat.ConstantResult(value=...)``.
    """

    def __init__(self, value: Any) -> None:
        self.value = value

    def write(self, result: Any) -> str:
        return repr(self.value)

    def read(self, uri: str | None = None) -> Any:
        return self.value
