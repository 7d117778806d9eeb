"""Content fingerprints of values: one small encoder per kind of value, in a registry users extend.

Each encoder feeds a canonical byte form of its value to one SHA-256, so the fingerprint depends on the content
only: never on ``id()``, hash randomisation, the process or pickle's choices. Every encoding starts with a tag
naming its kind, so values of different types never collide (``1``, ``1.0``, ``True`` and ``"1"`` differ; so do
a list and a tuple, a set and a frozenset); a subclass of a built-in type also names its class. Equal dicts,
sets and frozensets fingerprint the same whatever their order (as ``==`` says; an ``OrderedDict``'s order counts,
as it does for its ``==``). numpy arrays and pandas objects have encoders too (``arrays.py``), registered when the
first one comes. A value of any other type raises ``Unfingerprintable``: there is no silent fallback.
"""

from __future__ import annotations

import dataclasses
import datetime
import decimal
import enum
import functools
import hashlib
import math
import pathlib
import struct
import uuid
from collections import OrderedDict
from collections.abc import Callable
from typing import Any, TypeVar

from compat.errors import ArgumentTypeError, Unfingerprintable

__all__ = ["register_fingerprint", "type_name", "value_fingerprint"]

Write = Callable[[bytes], object]
"""Where an encoder writes its bytes (a hash's ``update``)."""

T = TypeVar("T")

_PREFIX = "sha256:"
_sha256 = hashlib.sha256


def value_fingerprint(value: object) -> str:
    """``"sha256:<hex>"`` of ``value``'s content; raises ``Unfingerprintable`` naming a type it cannot hash."""
    encoded = _SCALARS.get(type(value))
    if encoded is not None:  # a parameter's usual int or str: its encoding hashed in one call, no dispatch
        return _PREFIX + _sha256(encoded(value)).hexdigest()
    digest = hashlib.sha256()
    feed(value, digest.update, set())
    return _PREFIX + digest.hexdigest()


def type_name(cls: type) -> str:
    """The importable name of a class (``pathlib.PurePosixPath``): what identifies a type across processes."""
    return f"{cls.__module__}.{cls.__qualname__}"


def feed(value: object, write: Write, active: set[int]) -> None:
    """Write ``value``'s encoding (what every container calls for its members)."""
    cls = type(value)
    encoded = _SCALARS.get(cls)
    if encoded is not None:
        write(encoded(value))
        return
    if _LAZY and cls not in _BUILT_IN:
        _register_lazily(cls)
    encoder.dispatch(cls)(value, write, active)


def _register_lazily(cls: type) -> None:
    """numpy's and pandas' encoders are registered when the first value of theirs comes, before it is dispatched
    (a ``numpy.float64`` is also a float: it must never be encoded as one in a process that has not seen an array
    yet, and as an array in another)."""
    for base in cls.__mro__:
        register = _LAZY.pop(str(base.__module__).partition(".")[0], None)
        if register is not None:
            register()


def _digest(value: object, active: set[int]) -> bytes:
    """The digest of one member of an unordered container, so members can be sorted by it."""
    digest = hashlib.sha256()
    feed(value, digest.update, active)
    return digest.digest()


def sized(tag: bytes, data: bytes) -> bytes:
    return tag + len(data).to_bytes(8, "big") + data


def _subclass(write: Write, value: object, base: type) -> None:
    """A subclass of a built-in type is named, so that ``MyStr("a")`` and ``"a"`` differ."""
    if type(value) is not base:
        write(sized(b"C", type_name(type(value)).encode()))


@functools.singledispatch
def encoder(value: object, write: Write, active: set[int]) -> None:
    cls = type(value)
    if dataclasses.is_dataclass(cls):
        _dataclass(value, write, active)
        return
    raise Unfingerprintable(type_name(cls))


def _none_encoding(value: None) -> bytes:
    return b"N"


@encoder.register(type(None))
def _none(value: None, write: Write, active: set[int]) -> None:
    write(_none_encoding(value))


def _bool_encoding(value: bool) -> bytes:
    return b"T" if value else b"F"


@encoder.register(bool)
def _bool(value: bool, write: Write, active: set[int]) -> None:
    write(_bool_encoding(value))


def _int_encoding(value: int) -> bytes:
    """``sized(b"i", <two's complement, big-endian, one byte more than the bits need>)``, its head (the tag and
    the length) taken from ``_INT_HEADS`` for an int of up to 127 bits (a parameter's usual one: one call fewer)."""
    length = value.bit_length() // 8 + 1
    head = _INT_HEADS[length] if length < 17 else b"i" + length.to_bytes(8, "big")
    return head + value.to_bytes(length, "big", signed=True)


_INT_HEADS = [b"i" + length.to_bytes(8, "big") for length in range(17)]


@encoder.register(int)
def _int(value: int, write: Write, active: set[int]) -> None:
    if type(value) is not int and isinstance(value, enum.Enum):  # IntEnum, IntFlag: the int comes first in the MRO
        _enum(value, write, active)
        return
    _subclass(write, value, int)
    write(_int_encoding(value))


def _float_bytes(value: float) -> bytes:
    return b"nan" if math.isnan(value) else struct.pack(">d", value)  # one NaN: its payload bits are noise


def _float_encoding(value: float) -> bytes:
    return sized(b"f", _float_bytes(value))


@encoder.register(float)
def _float(value: float, write: Write, active: set[int]) -> None:
    if type(value) is not float and isinstance(value, enum.Enum):
        _enum(value, write, active)
        return
    _subclass(write, value, float)
    write(_float_encoding(value))


@encoder.register(complex)
def _complex(value: complex, write: Write, active: set[int]) -> None:
    _subclass(write, value, complex)
    write(sized(b"j", _float_bytes(value.real) + b"|" + _float_bytes(value.imag)))


def _str_encoding(value: str) -> bytes:
    return sized(b"s", value.encode("utf-8", "surrogatepass"))


@encoder.register(str)
def _str(value: str, write: Write, active: set[int]) -> None:
    if type(value) is not str and isinstance(value, enum.Enum):  # StrEnum and (str, Enum) mixins
        _enum(value, write, active)
        return
    _subclass(write, value, str)
    write(_str_encoding(value))


def _bytes_encoding(value: bytes) -> bytes:
    return sized(b"b", value)


@encoder.register(bytes)
def _bytes(value: bytes, write: Write, active: set[int]) -> None:
    _subclass(write, value, bytes)
    write(_bytes_encoding(value))


@encoder.register(bytearray)
def _bytearray(value: bytearray, write: Write, active: set[int]) -> None:
    _subclass(write, value, bytearray)
    write(sized(b"y", bytes(value)))


def _enter(value: object, active: set[int]) -> None:
    if id(value) in active:
        raise Unfingerprintable(type_name(type(value)), reason="it contains itself")
    active.add(id(value))


def _sequence(tag: bytes, base: type) -> Callable[[Any, Write, set[int]], None]:
    def encode(value: Any, write: Write, active: set[int]) -> None:
        _subclass(write, value, base)
        _enter(value, active)
        write(tag + len(value).to_bytes(8, "big"))
        for index, item in enumerate(value):
            try:
                feed(item, write, active)
            except Unfingerprintable as error:
                raise error.inside(f"[{index}]") from None
        active.discard(id(value))

    return encode


encoder.register(list, _sequence(b"L", list))
encoder.register(tuple, _sequence(b"U", tuple))


def _unordered(tag: bytes, base: type) -> Callable[[Any, Write, set[int]], None]:
    def encode(value: Any, write: Write, active: set[int]) -> None:
        _subclass(write, value, base)
        _enter(value, active)
        try:
            members = sorted(_digest(member, active) for member in value)
        except Unfingerprintable as error:
            raise error.inside(" (a member)") from None
        write(tag + len(members).to_bytes(8, "big") + b"".join(members))
        active.discard(id(value))

    return encode


encoder.register(set, _unordered(b"S", set))
encoder.register(frozenset, _unordered(b"Z", frozenset))


@encoder.register(dict)
def _dict(value: dict[Any, Any], write: Write, active: set[int]) -> None:
    _subclass(write, value, dict)
    _enter(value, active)
    pairs = []
    for key, item in value.items():
        try:
            key_digest = _digest(key, active)
        except Unfingerprintable as error:
            raise error.inside(f" (the key {_shown(key)})") from None
        try:
            pairs.append(key_digest + _digest(item, active))
        except Unfingerprintable as error:
            raise error.inside(f"[{_shown(key)}]") from None
    if not isinstance(value, OrderedDict):
        pairs.sort()  # equal dicts are equal whatever their insertion order
    write(b"D" + len(pairs).to_bytes(8, "big") + b"".join(pairs))
    active.discard(id(value))


def _shown(key: object) -> str:
    text = repr(key)
    return text if len(text) <= 40 else text[:37] + "..."


@encoder.register(datetime.date)
def _date(value: datetime.date, write: Write, active: set[int]) -> None:
    _subclass(write, value, datetime.date)
    write(sized(b"d", value.isoformat().encode()))


def _zone(value: datetime.datetime | datetime.time) -> bytes:
    """The zone's name where it has one (``Europe/Paris``): the offset alone would confuse two zones."""
    return str(getattr(value.tzinfo, "key", "")).encode()


@encoder.register(datetime.datetime)
def _datetime(value: datetime.datetime, write: Write, active: set[int]) -> None:
    _subclass(write, value, datetime.datetime)
    write(sized(b"t", f"{value.isoformat()}|{value.fold}|".encode() + _zone(value)))


@encoder.register(datetime.time)
def _time(value: datetime.time, write: Write, active: set[int]) -> None:
    _subclass(write, value, datetime.time)
    write(sized(b"h", f"{value.isoformat()}|{value.fold}|".encode() + _zone(value)))


@encoder.register(datetime.timedelta)
def _timedelta(value: datetime.timedelta, write: Write, active: set[int]) -> None:
    _subclass(write, value, datetime.timedelta)
    write(sized(b"e", f"{value.days}|{value.seconds}|{value.microseconds}".encode()))


@encoder.register(decimal.Decimal)
def _decimal(value: decimal.Decimal, write: Write, active: set[int]) -> None:
    _subclass(write, value, decimal.Decimal)
    write(sized(b"m", str(value).encode()))  # its exact digits: Decimal("1.0") and Decimal("1.00") print apart


@encoder.register(pathlib.PurePath)
def _path(value: pathlib.PurePath, write: Write, active: set[int]) -> None:
    write(sized(b"C", type_name(type(value)).encode()))  # a Windows and a POSIX path of the same text differ
    write(sized(b"p", str(value).encode("utf-8", "surrogateescape")))


@encoder.register(uuid.UUID)
def _uuid(value: uuid.UUID, write: Write, active: set[int]) -> None:
    _subclass(write, value, uuid.UUID)
    write(sized(b"u", value.bytes))


@encoder.register(enum.Enum)
def _enum(value: enum.Enum, write: Write, active: set[int]) -> None:
    write(sized(b"C", type_name(type(value)).encode()))
    write(sized(b"n", value.name.encode() if value.name is not None else b""))  # a combined Flag has no name
    try:
        feed(value.value, write, active)
    except Unfingerprintable as error:
        raise error.inside(".value") from None


def _dataclass(value: Any, write: Write, active: set[int]) -> None:
    """A dataclass instance by its class and the fields its ``==`` compares."""
    write(sized(b"C", type_name(type(value)).encode()))
    _enter(value, active)
    for field in dataclasses.fields(value):
        if not field.compare:
            continue
        write(sized(b"a", field.name.encode()))
        try:
            feed(getattr(value, field.name), write, active)
        except Unfingerprintable as error:
            raise error.inside(f".{field.name}") from None
    active.discard(id(value))


def register_fingerprint(cls: type[T], fn: Callable[[T], object] | None = None) -> Any:
    """Teach ``value_fingerprint`` a type: ``fn(value)`` returns what identifies the value's content, built of
    fingerprintable values (bytes, a str, a tuple of its fields...); the type's name is hashed with it, so a
    value and its stand-in never collide. Also a decorator: ``@register_fingerprint(Money)``. Subclasses use it
    too, unless they have their own."""
    if not isinstance(cls, type):
        raise ArgumentTypeError("register_fingerprint's cls", cls, "a class")
    if fn is None:
        return functools.partial(register_fingerprint, cls)
    if not callable(fn):
        raise ArgumentTypeError("register_fingerprint's fn", fn, "a function of the value")

    def encode(value: Any, write: Write, active: set[int]) -> None:
        write(sized(b"R", type_name(type(value)).encode()))
        _enter(value, active)
        stand_in = fn(value)
        if isinstance(stand_in, cls):
            raise Unfingerprintable(type_name(type(value)), reason=f"its registered fingerprint function "
                                    f"{getattr(fn, '__qualname__', fn)!s} returned a {type(value).__name__} "
                                    "again: return what identifies it (bytes, a str, a tuple of its fields)")
        try:
            feed(stand_in, write, active)
        except Unfingerprintable as error:
            raise error.inside(" (as registered)") from None
        active.discard(id(value))

    encoder.register(cls, encode)
    _SCALARS.pop(cls, None)  # a type registered anew is encoded its new way, also where it had a shortcut
    return fn


def _numpy() -> None:
    from compat.engine.fingerprints.arrays import register_numpy

    register_numpy()


def _pandas() -> None:
    from compat.engine.fingerprints.arrays import register_pandas

    _LAZY.pop("numpy", None)
    register_pandas()


_LAZY: dict[str, Callable[[], None]] = {"numpy": _numpy, "pandas": _pandas}
"""Top-level packages whose types have encoders, registered when a value of theirs first comes."""

_SCALARS: dict[type, Callable[[Any], bytes]] = {
    int: _int_encoding, str: _str_encoding, bytes: _bytes_encoding, float: _float_encoding, bool: _bool_encoding,
    type(None): _none_encoding,
}
"""The whole encoding of a value of exactly one of these types (what its encoder writes, in one piece): such a
value is hashed in one call, without the dispatch and the writes of a walk. ``register_fingerprint`` takes a type
out when it is registered anew."""

_BUILT_IN = frozenset({type(None), bool, int, float, complex, str, bytes, bytearray, list, tuple, dict, set,
                       frozenset})
"""Exact types that never need a lazy look: the common case stays one set look-up."""
