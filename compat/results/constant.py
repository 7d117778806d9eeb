"""``ConstantResult``: a fixed value that every read returns; it cannot be written.

It behaves as Prefect's did: ``read`` returns the Result itself, ``write`` and a ``serializer=`` are errors that
are also ``ValueError``s.
"""

from __future__ import annotations

from typing import Any, TypeVar

from compat.errors import ConstantResultError
from compat.results.base import Result

__all__ = ["ConstantResult"]

R = TypeVar("R", bound="ConstantResult")


class ConstantResult(Result):
    """Holds ``value`` and returns it from every ``read``, whatever the location; ``exists`` is always true.

    Use it for task inputs that are known up front. Writing raises: there is nowhere to store a new value.
    """

    keeps_records = False  # nothing is stored, so there is nothing to record

    def __init__(self, value: Any = None, **kwargs: Any) -> None:
        if kwargs.get("serializer") is not None:
            raise ConstantResultError(
                "Can't pass a serializer to a ConstantResult: it stores nothing, so nothing is serialized; "
                "remove serializer="
            )
        super().__init__(value=value, **kwargs)

    def read(self: R, location: str | None = None) -> R:
        """This Result itself, whatever ``location`` says: its value is the value."""
        return self

    def write(self, value: Any, /, **context: Any) -> Any:
        raise ConstantResultError(
            f"ConstantResult holds a fixed value ({self.value!r}) and cannot store a new one; "
            "give the task a storing Result such as LocalResult, or checkpoint=False"
        )

    def exists(self, location: Any = None, /, **context: Any) -> bool:
        return True

    def exists_at(self, location: str) -> bool:
        return True
