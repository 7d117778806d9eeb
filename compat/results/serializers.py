"""Serializers turn values into the bytes a backend stores, and back.

A serializer is any object with ``serialize(value) -> bytes`` and ``deserialize(data) -> value``; the two here
cover the common cases. Both raise ``SerializationError`` naming the value's type and the serializer, so a
failure deep inside a flow still says what could not be stored and by whom.

Unpickling runs code chosen by whoever wrote the bytes, so ``PickleSerializer`` can sign what it writes and refuse
what it did not sign. The signed format, for any writer or reader that must produce or check the same bytes::

    offset 0   8 bytes   SIGNED_MAGIC (b"\\x00rcsig1\\n"; no pickle starts with a 0x00 byte)
    offset 8   32 bytes  HMAC-SHA256(key, payload)
    offset 40  ...       payload: the cloudpickle bytes, exactly as an unsigned write stores them

The MAC covers the payload only, so a streaming writer can reserve the 40 header bytes, stream the payload through
``hmac`` and fill the tag in at the end; a reader checks the tag over bytes[40:] before a single byte is unpickled.
"""

from __future__ import annotations

import functools
import io
import json
import os
import pickle
from collections.abc import Sequence
from typing import Any, BinaryIO, Protocol, Union, runtime_checkable

from compat.errors import ArgumentTypeError, ConfigurationError, SerializationError

__all__ = [
    "HEADER_SIZE",
    "SIGNED_MAGIC",
    "SIGNING_KEY_VARIABLE",
    "JSONSerializer",
    "PickleSerializer",
    "Serializer",
    "StreamSerializer",
    "signature",
]

SIGNED_MAGIC = b"\x00rcsig1\n"
"""The first 8 bytes of a signed pickle."""

HEADER_SIZE = len(SIGNED_MAGIC) + 32
"""Bytes before the payload of a signed pickle: the magic and the HMAC-SHA256 tag."""

SIGNING_KEY_VARIABLE = "RESULTS_COMPAT_SIGNING_KEY"
"""Environment variable with the signing key(s) used when ``PickleSerializer`` is given none: comma-separated,
the first signs, every one is accepted when reading (rotation: put the new key first, keep the old one a while)."""

SigningKey = Union[str, bytes]

_PLAIN = frozenset({type(None), bool, int, float, bytes, str})
"""Exact types that ``pickle`` writes byte for byte as cloudpickle does: its picklers never consult a
``reducer_override`` for them (see ``pickle.Pickler.reducer_override``), and the stdlib one costs a tenth as much."""


def signature(key: bytes, payload: bytes | bytearray | memoryview) -> bytes:
    """The 32-byte HMAC-SHA256 tag of ``payload`` under ``key`` (stdlib ``hmac``; releases the GIL)."""
    import hmac  # on first use: hashlib loads OpenSSL, which only signing needs

    return hmac.new(key, payload, "sha256").digest()


@runtime_checkable
class Serializer(Protocol):
    """What a Result needs from a serializer."""

    def serialize(self, value: Any) -> bytes: ...

    def deserialize(self, data: bytes) -> Any: ...


class StreamSerializer(Serializer, Protocol):
    """A serializer that can also write a value to, and read it from, a binary stream, without the whole stored
    bytes in memory: a Result whose backend streams (``Result.write_stream``/``read_stream``) uses these. The
    stored bytes must be exactly those of ``serialize``, so either path reads what the other wrote."""

    def dump(self, value: Any, stream: BinaryIO) -> None: ...

    def load(self, stream: BinaryIO) -> Any: ...


class PickleSerializer:
    """cloudpickle with pickle protocol 5, raw bytes (no base64): the default, and the legacy file format.

    ``signing_key``: a key (str or bytes) or a list of keys; the first signs every pickle written, any of them
    verifies a pickle read, before it is unpickled (see the module docstring for the format). Without one, the keys
    in ``$RESULTS_COMPAT_SIGNING_KEY`` (comma-separated) are used; with neither, pickles are written and read unsigned,
    as the legacy handlers did. While signing, an unsigned pickle is refused unless ``trust_unsigned=True`` (for data
    written before signing was turned on, from a location only you can write).

    Files written by the legacy ``LocalResultHandler`` are plain cloudpickle bytes, so they deserialize here.
    """

    protocol = 5

    def __init__(
        self, signing_key: SigningKey | Sequence[SigningKey] | None = None, *, trust_unsigned: bool = False
    ) -> None:
        self._keys = None if signing_key is None else _keys(signing_key, "signing_key")
        self.trust_unsigned = trust_unsigned

    @property
    def signing_keys(self) -> tuple[bytes, ...]:
        """The keys in force: those given, else those in ``$RESULTS_COMPAT_SIGNING_KEY`` (read at each use)."""
        if self._keys is not None:
            return self._keys
        try:
            raw = os.environ[SIGNING_KEY_VARIABLE]  # cheaper than .get() when it is not set, as is usual
        except KeyError:
            return ()
        return _environment_keys(raw) if raw else ()

    def serialize(self, value: Any) -> bytes:
        buffer = io.BytesIO()
        self.dump(value, buffer)
        return buffer.getvalue()  # no copy: BytesIO hands over its buffer

    def dump(self, value: Any, stream: BinaryIO) -> None:
        """Pickle ``value`` into ``stream``: large ``bytes`` go to ``stream.write`` as they are, never copied into a
        buffer first. Signing needs a seekable stream (the tag is filled in once the payload has passed through
        ``hmac``); to another stream the signed bytes are written whole."""
        keys = self.signing_keys
        if type(value) in _PLAIN:
            pickler = pickle.dump
            if not keys:
                pickler(value, stream, self.protocol)  # cannot fail: an error is the stream's
                return
        else:
            import cloudpickle  # on first use: it costs more to import than the rest of compat.results

            pickler = cloudpickle.dump
        if keys and not _seekable(stream):
            stream.write(self.serialize(value))
            return
        mac = None
        if keys:
            import hmac

            start = stream.tell()
            stream.write(bytes(HEADER_SIZE))  # the header is filled in once the payload is known
            mac = hmac.new(keys[0], digestmod="sha256")
        target = _Target(stream, mac)
        try:
            pickler(value, target, protocol=self.protocol)
        except Exception as exc:  # pickling raises many types: TypeError, PicklingError, AttributeError...
            if exc is target.failure:
                raise  # the stream failed (a full disk), not the value
            raise SerializationError(
                f"cannot serialize a value of type {type(value).__qualname__} with {type(self).__name__}: {exc}"
            ) from exc
        if mac is not None:
            end = stream.tell()
            stream.seek(start)
            stream.write(SIGNED_MAGIC + mac.digest())
            stream.seek(end)

    def load(self, stream: BinaryIO) -> Any:
        """Unpickle from ``stream``. An unsigned pickle that may be read as such is unpickled straight from the
        stream (large ``bytes`` are read into the value, not into a buffer first); a signed one is read whole and
        verified (``verified``) before a byte is unpickled."""
        peek = getattr(stream, "peek", None)
        if not callable(peek):  # e.g. a BytesIO over bytes already in memory: read() hands them over uncopied
            return self.deserialize(stream.read())
        head = peek(len(SIGNED_MAGIC))[: len(SIGNED_MAGIC)]
        if len(head) < len(SIGNED_MAGIC) or head == SIGNED_MAGIC or (self.signing_keys and not self.trust_unsigned):
            return self.deserialize(stream.read())
        try:
            return pickle.load(stream)
        except OSError:
            raise  # the storage failed while reading, not the data
        except Exception as exc:
            raise SerializationError(
                f"{type(self).__name__} cannot deserialize the stored bytes "
                f"(corrupt, truncated, or not written by a pickle serializer): {exc}"
            ) from exc

    def deserialize(self, data: bytes) -> Any:
        payload = self.verified(data)
        try:
            return pickle.loads(payload)
        except Exception as exc:
            raise SerializationError(
                f"{type(self).__name__} cannot deserialize {len(data)} bytes "
                f"(corrupt, truncated, or not written by a pickle serializer): {exc}"
            ) from exc

    def verified(self, data: bytes | bytearray | memoryview) -> bytes | bytearray | memoryview:
        """The pickle inside ``data`` once its signature is checked; ``SerializationError`` if it may not be
        unpickled (unsigned while signing, a signature no key matches, signed while no key is set)."""
        keys = self.signing_keys
        if data[: len(SIGNED_MAGIC)] != SIGNED_MAGIC:
            if keys and not self.trust_unsigned:
                raise SerializationError(
                    f"{type(self).__name__} refused {len(data)} unsigned bytes without unpickling them: a signing key "
                    "is set, so only pickles signed with it are read (unpickling runs code chosen by whoever wrote "
                    "the bytes). If they were written before signing was turned on, by you, read them with "
                    "PickleSerializer(signing_key=..., trust_unsigned=True); otherwise let the task write a signed "
                    "value"
                )
            return data
        if not keys:
            raise ConfigurationError(  # the bytes may well be good: the setting is missing, so nothing is moved aside
                f"the {len(data)} stored bytes are a signed pickle, but no signing key is set, so the signature "
                f"cannot be checked; set {SIGNING_KEY_VARIABLE} or pass PickleSerializer(signing_key=...)"
            )
        view = memoryview(data)
        if len(view) < HEADER_SIZE:
            raise SerializationError(f"a signed pickle is at least {HEADER_SIZE} bytes; got {len(data)} (truncated)")
        tag, payload = bytes(view[len(SIGNED_MAGIC) : HEADER_SIZE]), view[HEADER_SIZE:]
        import hmac

        if not any(hmac.compare_digest(tag, signature(key, payload)) for key in keys):
            raise SerializationError(
                f"{type(self).__name__} refused {len(data)} bytes without unpickling them: their signature matches "
                f"none of the {len(keys)} signing key(s) in use (written with another key, or changed since); if the "
                "data was signed with an older key, add it after the current one"
            )
        return payload

    def __eq__(self, other: object) -> bool:
        return (
            type(other) is type(self)
            and other._keys == self._keys  # type: ignore[attr-defined]
            and other.trust_unsigned == self.trust_unsigned  # type: ignore[attr-defined]
        )

    def __hash__(self) -> int:
        return hash((type(self), self.trust_unsigned))

    def __repr__(self) -> str:  # never show a key
        shown = [] if self._keys is None else [f"signing_key=<{len(self._keys)} key(s)>"]
        if self.trust_unsigned:
            shown.append("trust_unsigned=True")
        return f"{type(self).__name__}({', '.join(shown)})"


def _keys(given: SigningKey | Sequence[SigningKey], where: str) -> tuple[bytes, ...]:
    if isinstance(given, (str, bytes)):
        items: list[Any] = [given]
    elif isinstance(given, Sequence):
        items = list(given)
    else:
        raise ArgumentTypeError(where, given, "a signing key (str or bytes) or a list of them")
    keys = []
    for item in items:
        if isinstance(item, str):
            item = item.encode("utf-8")
        if not isinstance(item, bytes):
            raise ArgumentTypeError(f"{where}: each signing key", item, "a str or bytes")
        if not item:
            raise ConfigurationError(f"{where}: a signing key must not be empty (an empty entry in a comma-separated "
                                     "list counts); use a long random secret")
        keys.append(item)
    if not keys:
        raise ConfigurationError(f"{where}: give at least one signing key, or None for no signing")
    return tuple(keys)


@functools.lru_cache(maxsize=4)
def _environment_keys(raw: str) -> tuple[bytes, ...]:
    """The keys in ``$RESULTS_COMPAT_SIGNING_KEY``'s value ``raw``, parsed once per value."""
    return _keys([part.strip() for part in raw.split(",")], f"${SIGNING_KEY_VARIABLE}")


def _seekable(stream: BinaryIO) -> bool:
    seekable = getattr(stream, "seekable", None)
    return callable(seekable) and bool(seekable())


class _Target:
    """What pickle writes to: ``stream``, through the HMAC ``mac`` when signing. Remembers the error the stream
    raised, so that a failing disk is not reported as a value that cannot be pickled."""

    def __init__(self, stream: BinaryIO, mac: Any) -> None:
        self.stream, self.mac = stream, mac
        self.failure: BaseException | None = None

    def write(self, data: Any) -> int:
        if self.mac is not None:
            self.mac.update(data)
        try:
            return self.stream.write(data)
        except BaseException as exc:
            self.failure = exc
            raise


class JSONSerializer:
    """UTF-8 JSON: human-readable, portable across languages, limited to JSON types. Reading JSON never runs code.

    A value that JSON would give back changed is refused (``SerializationError``) rather than stored: a tuple (read
    back as a list) or a dict key that is not a str (read back as a str: ``{1: (1, 2)}`` would come back as
    ``{'1': [1, 2]}``). Convert it first, or use ``PickleSerializer``.
    """

    def __init__(self, **dumps_kwargs: Any) -> None:
        self.dumps_kwargs = dumps_kwargs

    def serialize(self, value: Any) -> bytes:
        change = _changed_by_json(value)
        if change is not None:
            raise SerializationError(
                f"JSONSerializer would not give back the value of type {type(value).__qualname__} it was given: "
                f"{change}; convert it first (a list for a tuple, str keys), or use PickleSerializer to keep Python "
                "types"
            )
        try:
            return json.dumps(value, **self.dumps_kwargs).encode("utf-8")
        except (TypeError, ValueError) as exc:
            raise SerializationError(
                f"cannot serialize a value of type {type(value).__qualname__} with JSONSerializer: {exc}; "
                "use PickleSerializer for values that are not JSON types"
            ) from exc
        except RecursionError as exc:
            raise SerializationError(
                f"cannot serialize a value of type {type(value).__qualname__} with JSONSerializer: it is nested "
                "deeper than Python's recursion limit; flatten it"
            ) from exc

    def deserialize(self, data: bytes) -> Any:
        try:
            return json.loads(data.decode("utf-8"))
        except (UnicodeDecodeError, ValueError) as exc:
            raise SerializationError(f"JSONSerializer cannot deserialize {len(data)} bytes: {exc}") from exc
        except RecursionError as exc:
            raise SerializationError(
                f"JSONSerializer cannot deserialize {len(data)} bytes: they nest deeper than Python's recursion limit"
            ) from exc

    def __eq__(self, other: object) -> bool:
        return type(other) is type(self) and other.dumps_kwargs == self.dumps_kwargs  # type: ignore[attr-defined]

    def __hash__(self) -> int:
        return hash(type(self))

    def __repr__(self) -> str:
        return f"{type(self).__name__}()"


def _changed_by_json(value: Any) -> str | None:
    """What in ``value`` JSON would give back as something else (a tuple as a list, a key that is not a str as a
    str), said in a few words; None if nothing is. Walked without recursion, each container once (a cycle is left to
    ``json.dumps`` to refuse)."""
    pending, seen = [value], set()
    while pending:
        item = pending.pop()
        if isinstance(item, tuple):
            return f"it holds the {type(item).__name__} {_short(item)}, which JSON gives back as a list"
        if isinstance(item, (dict, list)):
            if id(item) in seen:
                continue
            seen.add(id(item))
            if isinstance(item, dict):
                for key in item:
                    if key is None or isinstance(key, (int, float)):  # json.dumps refuses other keys itself
                        back = next(iter(json.loads(json.dumps({key: 0}))))
                        return f"it holds the dict key {_short(key)}, which JSON gives back as the str {back!r}"
                pending.extend(item.values())
            else:
                pending.extend(item)
    return None


def _short(value: Any, limit: int = 40) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."
