"""``JSONResult``: the value JSON-encoded into the location string itself; nothing is stored anywhere."""

from __future__ import annotations

from typing import Any, TypeVar

from compat.errors import ArgumentTypeError, SerializationError
from compat.results.base import Result
from compat.results.serializers import JSONSerializer

__all__ = ["JSONResult"]

R = TypeVar("R", bound="JSONResult")


class JSONResult(Result):
    """For small JSON-able values: ``write`` returns a Result whose ``location`` *is* the JSON text.

    Useful where a value must travel inside metadata (a state, a log line) rather than to storage. A location
    template has no meaning here and is ignored; ``exists`` is true for any location that is valid JSON. A value
    that JSON would give back changed (a tuple, a dict key that is not a str: ``{1: (1, 2)}`` would be read back as
    ``{'1': [1, 2]}``) is refused with a ``SerializationError`` (see ``JSONSerializer``).
    """

    unreachable_target_hint = (
        "JSONResult keeps the value inside the location string itself, so it never stores at a target; for a JSON "
        "file at the target use LocalResult(serializer=JSONSerializer())."
    )

    keeps_records = False  # nothing is stored, so there is nothing to record

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("serializer", JSONSerializer())
        super().__init__(**kwargs)

    def write(self: R, value: Any, /, **context: Any) -> R:
        new = self.copy()
        new.location = self.serializer.serialize(value).decode("utf-8")
        new.value = value
        return new

    def read(self: R, location: str) -> R:
        if not isinstance(location, str):
            raise ArgumentTypeError(
                "JSONResult.read: location", location, "the JSON text a JSONResult wrote (its .location, a str)"
            )
        try:
            value = self.serializer.deserialize(location.encode("utf-8"))
        except SerializationError as exc:
            raise SerializationError(f"the JSONResult location {location[:80]!r} is not valid JSON: {exc}") from exc
        new = self.copy()
        new.location = location
        new.value = value
        return new

    def exists(self, location: Any, /, **context: Any) -> bool:
        return isinstance(location, str) and self.exists_at(location)

    def exists_at(self, location: str) -> bool:
        try:
            self.serializer.deserialize(location.encode("utf-8"))
        except SerializationError:
            return False
        return True
