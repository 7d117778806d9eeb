"""Serializers turn values into the bytes a backend stores, and back.

A serializer is any object with ``serialize(value) -> bytes`` and ``deserialize(data) -> value``; the two here
cover the common cases. Both raise ``SerializationError`` naming the value's type and the serializer, so a
failure deep inside a flow still says what could not be stored and by whom.
"""

from __future__ import annotations

import json
import pickle
from typing import Any, Protocol, runtime_checkable

from compat.errors import SerializationError

__all__ = ["JSONSerializer", "PickleSerializer", "Serializer"]


@runtime_checkable
class Serializer(Protocol):
    """What a Result needs from a serializer."""

    def serialize(self, value: Any) -> bytes: ...

    def deserialize(self, data: bytes) -> Any: ...


class PickleSerializer:
    """cloudpickle with pickle protocol 5, raw bytes (no base64): the default, and the legacy file format.

    Files written by the legacy ``LocalResultHandler`` are plain cloudpickle bytes, so they deserialize here.
    """

    protocol = 5

    def serialize(self, value: Any) -> bytes:
        import cloudpickle  # on first use: it costs more to import than the rest of compat.results

        try:
            return cloudpickle.dumps(value, protocol=self.protocol)
        except Exception as exc:  # pickling raises many types: TypeError, PicklingError, AttributeError...
            raise SerializationError(
                f"cannot serialize a value of type {type(value).__qualname__} with {type(self).__name__}: {exc}"
            ) from exc

    def deserialize(self, data: bytes) -> Any:
        try:
            return pickle.loads(data)
        except Exception as exc:
            raise SerializationError(
                f"{type(self).__name__} cannot deserialize {len(data)} bytes "
                f"(corrupt, truncated, or not written by a pickle serializer): {exc}"
            ) from exc

    def __eq__(self, other: object) -> bool:
        return type(other) is type(self)

    def __hash__(self) -> int:
        return hash(type(self))

    def __repr__(self) -> str:
        return f"{type(self).__name__}()"


class JSONSerializer:
    """UTF-8 JSON: human-readable, portable across languages, limited to JSON types."""

    def __init__(self, **dumps_kwargs: Any) -> None:
        self.dumps_kwargs = dumps_kwargs

    def serialize(self, value: Any) -> bytes:
        try:
            return json.dumps(value, **self.dumps_kwargs).encode("utf-8")
        except (TypeError, ValueError) as exc:
            raise SerializationError(
                f"cannot serialize a value of type {type(value).__qualname__} with JSONSerializer: {exc}; "
                "use PickleSerializer for values that are not JSON types"
            ) from exc

    def deserialize(self, data: bytes) -> Any:
        try:
            return json.loads(data.decode("utf-8"))
        except (UnicodeDecodeError, ValueError) as exc:
            raise SerializationError(f"JSONSerializer cannot deserialize {len(data)} bytes: {exc}") from exc

    def __eq__(self, other: object) -> bool:
        return type(other) is type(self) and other.dumps_kwargs == self.dumps_kwargs  # type: ignore[attr-defined]

    def __hash__(self) -> int:
        return hash(type(self))

    def __repr__(self) -> str:
        return f"{type(self).__name__}()"
