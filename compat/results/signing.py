"""Signing: keys and key ids, the signed header, and sign/verify for streams and for small blobs.

Unpickling runs code chosen by whoever wrote the bytes, so what a Result stores can carry a tag that only holders
of a key can make, checked before a byte is unpickled. The tag also binds *where* the bytes belong (the location,
relative to the Result's root, so a whole store can move) and *when* they were written, so signed bytes copied to
another target, or an old signed version put back, do not verify.

The MAC is keyed BLAKE3 (the ``blake3`` package): 4-5 GB/s on one core against 1 GB/s for HMAC-SHA256
(``benchmarks/results_io.py``). A key of any length is first turned into BLAKE3's 32-byte key with its
key-derivation mode, and named by a *key id*, derived the same way under another context, which can be shown
and sent anywhere (it reveals nothing of the key).

The signed header (``SIGNED_MAGIC``), for any writer or reader that must produce or check the same bytes::

    offset 0       8 bytes   SIGNED_MAGIC (b"\\x00rcsig2\\n"; no pickle starts with a 0x00 byte)
    offset 8       8 bytes   the key id, raw (its hex is ``key_id``)
    offset 16      8 bytes   written_at: nanoseconds since the Unix epoch, unsigned big-endian
    offset 24      2 bytes   n: length of the location in UTF-8, unsigned big-endian
    offset 26      n bytes   the location, relative to the Result's root
    offset 26+n    ...       payload (the cloudpickle bytes, exactly as an unsigned write stores them)
    last          32 bytes   tag: keyed BLAKE3 of everything before it (header and payload)

The tag comes last, so a writer streams header and payload through the MAC and appends the tag, never seeking back
(an upload, a hashing wrapper); a reader checks the header first (magic, key id, location: a few dozen bytes,
whatever the size of the file), then the tag over the payload, and only then unpickles.

Small blobs (``sign_blob``/``verify_blob``) get a detached tag instead, for records that carry it in a field
of their own; their MAC is domain-separated from the header's, so neither can stand for the other.

The earlier format (``LEGACY_MAGIC``, ``b"\\x00rcsig1\\n"`` + HMAC-SHA256 of the payload) binds neither place nor
time; it is read only where the reader opts in (``PickleSerializer(accept_unbound_signatures=True)``).
"""

from __future__ import annotations

import functools
import hmac
import os
import struct
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any, BinaryIO, NoReturn, Union

import blake3

from compat.errors import ArgumentTypeError, ConfigurationError, SerializationError, UntrustedData

__all__ = [
    "LEGACY_HEADER_SIZE",
    "LEGACY_MAGIC",
    "MAX_LOCATION_BYTES",
    "SIGNED_MAGIC",
    "SIGNING_KEY_FILE_VARIABLE",
    "SIGNING_KEY_VARIABLE",
    "Header",
    "Keyring",
    "Mac",
    "environment_keyring",
    "key_id",
    "keyring",
    "parse_header",
    "read_header",
    "sign_blob",
    "verify_blob",
]

SIGNING_KEY_VARIABLE = "RESULTS_COMPAT_SIGNING_KEY"
"""Environment variable with the signing key(s): comma-separated, the first signs, every one verifies (rotation:
put the new key first, keep the old one a while). Set but empty is a ``ConfigurationError``."""

SIGNING_KEY_FILE_VARIABLE = "RESULTS_COMPAT_SIGNING_KEY_FILE"
"""Environment variable naming a file of signing keys, one a line (the first signs): for workers that should not
carry the key in their environment. Setting both variables is a ``ConfigurationError``."""

SIGNED_MAGIC = b"\x00rcsig2\n"
"""The first 8 bytes of a signed value (keyed BLAKE3 over header and payload, location and time bound)."""

LEGACY_MAGIC = b"\x00rcsig1\n"
"""The first 8 bytes of the earlier signed format: HMAC-SHA256 of the payload only."""

LEGACY_HEADER_SIZE = len(LEGACY_MAGIC) + 32
"""Bytes before the payload in the earlier format."""

MAX_LOCATION_BYTES = 16 * 1024
"""The longest location a header may carry; a header claiming more is refused before it is read."""

TAG_SIZE = 32
_FIXED = struct.Struct(">8s8sQH")  # magic, key id, written_at (ns), location length
_AUTO = blake3.blake3.AUTO  # as many threads as help: a large buffer is hashed on every core, a small one on one
_TIME_LENGTH = struct.Struct(">QH")  # the part of _FIXED after the magic and key id, which a keyring makes once
FIXED_SIZE = _FIXED.size  # 26

_KEY_CONTEXT = "results-compat 2026-12 signing key"
_ID_CONTEXT = "results-compat 2026-12 key id"
_BLOB_DOMAIN = b"\x00rcblob1\n"

SigningKey = Union[str, bytes]


# -- keys ---------------------------------------------------------------------------------------------------------


def _text(key: SigningKey) -> bytes:
    """The one rule for every key, from the environment, a key file or ``signing_key=``: text is stripped of the
    whitespace around it (a newline from a file, a space after a comma), bytes are taken as they are."""
    return key.strip().encode("utf-8") if isinstance(key, str) else key


@functools.lru_cache(maxsize=64)
def _derived(key: bytes) -> tuple[bytes, bytes]:
    """BLAKE3's 32-byte MAC key and the 8-byte key id, each derived from ``key`` under its own context."""
    mac_key = blake3.blake3(key, derive_key_context=_KEY_CONTEXT).digest()
    raw_id = blake3.blake3(key, derive_key_context=_ID_CONTEXT).digest(length=8)
    return mac_key, raw_id


def key_id(key: SigningKey) -> str:
    """The key's id: 16 hex digits that name it in headers, records and messages, and reveal nothing of it."""
    return _derived(_text(key))[1].hex()


@dataclass(frozen=True, eq=False)
class Keyring:
    """Signing keys in order: the first signs, any verifies (found by key id). ``ids`` are their key ids."""

    keys: tuple[bytes, ...]

    def __post_init__(self) -> None:
        derived = [_derived(key) for key in self.keys]
        object.__setattr__(self, "_macs", {raw: mac for mac, raw in derived})
        object.__setattr__(self, "_signer", derived[0])
        object.__setattr__(self, "_prefix", SIGNED_MAGIC + derived[0][1])
        object.__setattr__(self, "_keyed", {raw: blake3.blake3(key=mac, max_threads=_AUTO) for mac, raw in derived})
        object.__setattr__(self, "_spare", {raw: [] for _, raw in derived})  # per key: states verify reuses

    def keyed(self, raw_id: bytes) -> Any:
        """The keyed BLAKE3 state of the key whose raw id is ``raw_id``, keyed once and never updated: hash with a
        ``copy()`` of it (copying costs half of keying anew); None if that key is not in this keyring."""
        return self._keyed.get(raw_id)  # type: ignore[attr-defined]

    @property
    def ids(self) -> tuple[str, ...]:
        return tuple(raw.hex() for raw in self._macs)  # type: ignore[attr-defined]

    @property
    def signer_id(self) -> str:
        return self._signer[1].hex()  # type: ignore[attr-defined,no-any-return]

    def mac_key(self, raw_id: bytes) -> bytes | None:
        """BLAKE3's key for the key whose raw id is ``raw_id``, or None if it is not in this keyring."""
        return self._macs.get(raw_id)  # type: ignore[attr-defined,no-any-return]

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Keyring) and other.keys == self.keys

    def __hash__(self) -> int:
        return hash(self.ids)

    def __repr__(self) -> str:  # never show a key
        return f"Keyring(ids={list(self.ids)})"

    def __reduce__(self) -> Any:
        raise TypeError("a Keyring holds secret keys and is never pickled; send its ids (Keyring.ids)")


def keyring(given: SigningKey | Sequence[SigningKey], where: str = "signing_key") -> Keyring:
    """A ``Keyring`` of ``given`` (one key or a list), each checked: a str or bytes, not empty once stripped."""
    if isinstance(given, (str, bytes)):
        items: list[Any] = [given]
    elif isinstance(given, Sequence):
        items = list(given)
    else:
        raise ArgumentTypeError(where, given, "a signing key (str or bytes) or a list of them")
    keys = []
    for item in items:
        if not isinstance(item, (str, bytes)):
            raise ArgumentTypeError(f"{where}: each signing key", item, "a str or bytes")
        key = _text(item)
        if not key:
            raise ConfigurationError(
                f"{where}: a signing key must not be empty or only spaces (an empty entry in a comma-separated list "
                "counts); use a long random secret"
            )
        keys.append(key)
    if not keys:
        raise ConfigurationError(f"{where}: give at least one signing key, or None for no signing")
    return Keyring(tuple(keys))


def environment_keyring() -> Keyring | None:
    """The keys set in the environment (``$RESULTS_COMPAT_SIGNING_KEY``, or the file named by
    ``$RESULTS_COMPAT_SIGNING_KEY_FILE``), or None when neither is set. Set but empty is a ``ConfigurationError``:
    a blank setting must never turn signing off."""
    environ = os.environ
    raw = environ.get(SIGNING_KEY_VARIABLE)
    path = environ.get(SIGNING_KEY_FILE_VARIABLE)
    if raw is None and path is None:
        return None
    if raw is not None and path is not None:
        raise ConfigurationError(
            f"both ${SIGNING_KEY_VARIABLE} and ${SIGNING_KEY_FILE_VARIABLE} are set; set one, so it is clear which "
            "key signs"
        )
    if raw is not None:
        return _from_variable(raw)
    assert path is not None
    try:
        info = os.stat(path)
    except OSError as exc:
        raise ConfigurationError(f"${SIGNING_KEY_FILE_VARIABLE} names {path!r}, which cannot be read: {exc}") from None
    return _from_file(path, info.st_mtime_ns, info.st_size)


@functools.lru_cache(maxsize=4)
def _from_variable(raw: str) -> Keyring:
    if not raw.strip():
        raise ConfigurationError(
            f"${SIGNING_KEY_VARIABLE} is set but empty, which would turn signing off unnoticed; set it to a long "
            "random secret, or unset it to store unsigned"
        )
    return keyring(raw.split(","), f"${SIGNING_KEY_VARIABLE}")


@functools.lru_cache(maxsize=4)
def _from_file(path: str, mtime_ns: int, size: int) -> Keyring:
    """The keys in the file at ``path``, one a line (blank lines and ``#`` comments skipped); read again when its
    modification time or size changes."""
    try:
        with open(path, encoding="utf-8") as f:
            lines = [line.strip() for line in f]
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigurationError(f"${SIGNING_KEY_FILE_VARIABLE} names {path!r}, which cannot be read: {exc}") from None
    keys = [line for line in lines if line and not line.startswith("#")]
    if not keys:
        raise ConfigurationError(
            f"${SIGNING_KEY_FILE_VARIABLE} names {path!r}, which holds no key; put one key a line, the signing key first"
        )
    return keyring(keys, f"the key file {path!r}")


# -- the header ---------------------------------------------------------------------------------------------------


class Header:
    """What a signed header says: which key signed (``key_id``), the ``location`` and the time (``written_at``) the
    bytes were signed for, and where the payload starts (``size``, the header's length: ``signed``, the header's
    bytes, from which the location is decoded when asked for)."""

    __slots__ = ("raw_id", "signed", "written_ns")

    def __init__(self, raw_id: bytes, written_ns: int, signed: bytes) -> None:
        self.raw_id, self.written_ns, self.signed = raw_id, written_ns, signed

    @property
    def location(self) -> str:
        return self.signed[FIXED_SIZE:].decode("utf-8", "surrogateescape")

    @property
    def key_id(self) -> str:
        return self.raw_id.hex()

    @property
    def written_at(self) -> datetime:
        return datetime.fromtimestamp(self.written_ns / 1e9, tz=timezone.utc)

    @property
    def size(self) -> int:
        return len(self.signed)

    def __repr__(self) -> str:
        return f"Header(key_id={self.key_id!r}, location={self.location!r}, written_at={self.written_at!r})"


def header_bytes(
    keys: Keyring, location: str, written_at_ns: int | None = None, payload: bytes | bytearray | memoryview = b""
) -> bytes:
    """The header that signs a payload for ``location`` with the first key of ``keys``, followed by ``payload`` when
    one is given (``sign``: header and payload made in one copy)."""
    try:  # strict UTF-8 first: the same bytes, by a shorter path than naming the codec and its error handler
        encoded = location.encode()
    except UnicodeEncodeError:  # a lone surrogate, from a name made of undecodable bytes (os.fsdecode)
        encoded = location.encode("utf-8", "surrogateescape")
    if len(encoded) > MAX_LOCATION_BYTES:
        raise SerializationError(f"cannot sign for a location of {len(encoded)} bytes (at most {MAX_LOCATION_BYTES})")
    now = time.time_ns() if written_at_ns is None else written_at_ns
    return b"".join((keys._prefix, _TIME_LENGTH.pack(now, len(encoded)), encoded, payload))  # type: ignore[attr-defined]


def parse_header(data: bytes | bytearray | memoryview) -> Header:
    """The header at the start of ``data``, which must hold all of it (``read_header`` reads one from a stream);
    ``SerializationError`` if it is not a whole signed header."""
    if len(data) < FIXED_SIZE:
        raise SerializationError(f"a signed value is at least {FIXED_SIZE + TAG_SIZE} bytes; got {len(data)} (truncated)")
    magic, raw_id, written_ns, length = _FIXED.unpack_from(data)
    if magic != SIGNED_MAGIC:
        raise SerializationError("not a signed value (no signed header at the start)")
    if length > MAX_LOCATION_BYTES:
        raise SerializationError(f"a signed header claims a location of {length} bytes (at most {MAX_LOCATION_BYTES})")
    size = FIXED_SIZE + length
    if len(data) < size:
        raise SerializationError(f"a signed header of {size} bytes is cut short at {len(data)} (truncated)")
    return Header(raw_id, written_ns, bytes(data[:size]))


def read_header(stream: BinaryIO) -> Header:
    """The header read from the start of ``stream`` (a few dozen bytes, whatever follows), the stream left at the
    payload."""
    fixed = _read_exactly(stream, FIXED_SIZE)
    if len(fixed) == FIXED_SIZE and fixed[:8] == SIGNED_MAGIC:
        length = _FIXED.unpack(fixed)[3]
        if length <= MAX_LOCATION_BYTES:
            fixed += _read_exactly(stream, length)
    return parse_header(fixed)


def _read_exactly(stream: BinaryIO, size: int) -> bytes:
    parts = []
    while size > 0:
        part = stream.read(size)
        if not part:
            break
        parts.append(part)
        size -= len(part)
    return b"".join(parts)


class Mac:
    """The running tag of a header and payload (keyed BLAKE3; ``update`` releases the GIL and, on a large buffer,
    spreads the work over the cores)."""

    __slots__ = ("_hash", "_header", "_keyed")

    def __init__(self, keyed: Any, signed_header: bytes) -> None:
        """``keyed``: the key's keyed state (``Keyring.keyed``), copied, never updated itself."""
        self._keyed, self._header = keyed, signed_header
        self._hash = keyed.copy()
        self._hash.update(signed_header)

    def update(self, data: Any) -> None:
        self._hash.update(data)

    def digest(self) -> bytes:
        return self._hash.digest()  # type: ignore[no-any-return]

    def restart(self) -> Mac:
        """A new ``Mac`` over the same header, for a second pass over the payload."""
        return Mac(self._keyed, self._header)




def signer(keys: Keyring, location: str, written_at_ns: int | None = None) -> tuple[bytes, Mac]:
    """The header to write first, and the ``Mac`` to pass the payload through; ``mac.digest()`` is written last."""
    header = header_bytes(keys, location, written_at_ns)
    return header, Mac(keys.keyed(keys._signer[1]), header)  # type: ignore[attr-defined]


def verifier(keys: Keyring, header: Header, location: str | None) -> Mac:
    """The ``Mac`` to pass the payload through, once ``header`` is accepted (``accepted_key``)."""
    accepted_key(keys, header, location)
    return Mac(keys.keyed(header.raw_id), header.signed)


def accepted_key(keys: Keyring, header: Header, location: str | None) -> bytes:
    """The MAC key that checks a value with ``header``: signed with one of ``keys`` and, unless ``location`` is None,
    for that location; ``UntrustedData`` (naming the key id) otherwise."""
    mac_key = keys.mac_key(header.raw_id)
    if mac_key is None:
        raise UntrustedData(
            f"signed with key id {header.key_id}, which is not among the {len(keys.ids)} key(s) in use "
            f"({', '.join(keys.ids)}); if it is an older key of yours, add it after the current one",
            header.key_id,
        )
    if location is not None and header.location != location:
        raise UntrustedData(
            f"signed (key id {header.key_id}) for the location {header.location!r}, not {location!r}: copied or "
            "moved here from another target",
            header.key_id,
        )
    return mac_key


def check_tag(header: Header, mac: Mac, tag: bytes | bytearray | memoryview) -> None:
    """``UntrustedData`` unless ``mac`` (over the whole payload) gives ``tag``, the value's last bytes."""
    if len(tag) != TAG_SIZE or not hmac.compare_digest(mac.digest(), bytes(tag)):
        raise _tag_mismatch(header)


def sign(keys: Keyring, location: str, payload: bytes | bytearray | memoryview) -> bytes:
    """Header, ``payload`` and tag as one signed value for ``location`` (for values already in memory). The MAC is a
    keyed state of the signing key's spare list (as ``verify`` takes one), reset and put back after use; it runs once
    over header and payload, made in one copy (one ``update`` call fewer)."""
    signed = header_bytes(keys, location, None, payload)
    raw_id = keys._signer[1]  # type: ignore[attr-defined]
    spare = keys._spare[raw_id]  # type: ignore[attr-defined]
    try:
        mac = spare.pop()
    except IndexError:
        mac = keys._keyed[raw_id].copy()  # type: ignore[attr-defined]
    mac.update(signed)
    tag = mac.digest()
    mac.reset()
    spare.append(mac)
    return signed + tag


_UNPACK = _FIXED.unpack_from
_SAME = hmac.compare_digest
_VIEW_FROM = 8 * 1024
"""A value in bytes from this size on is hashed and unpickled through views of it (no copy); a smaller one through
slices, whose copies cost less than making the views: 0.1 us less at 1-4 KB, 0.5 us more at 16 KB here."""


def verify(keys: Keyring, data: bytes | bytearray | memoryview, location: str | None) -> tuple[Header, Any]:
    """The header of the signed value ``data`` and its payload (a slice or a view of ``data``), once the tag and
    (unless ``location`` is None) the location are checked; ``UntrustedData`` or ``SerializationError`` otherwise."""
    try:  # parse_header's and accepted_key's usual case, without their calls: a whole header, of a key of keys
        magic, raw_id, written_ns, length = _UNPACK(data)
        spare = keys._spare[raw_id]  # type: ignore[attr-defined]
    except (struct.error, KeyError):
        _refuse(keys, data, location)
    size = FIXED_SIZE + length
    end = len(data) - TAG_SIZE
    signed = data[:size] if type(data) is bytes else bytes(data[:size])
    header = object.__new__(Header)  # Header's __init__ without its Python call
    header.raw_id, header.written_ns, header.signed = raw_id, written_ns, signed
    try:  # the location as header_bytes encodes it, strict UTF-8 first: the same answer as comparing the decoded
        # header, without decoding it (a strict encoding's bytes decode to the very location, and no other bytes do)
        elsewhere = location is not None and signed[FIXED_SIZE:] != location.encode()
    except UnicodeEncodeError:  # a lone surrogate (a name of undecodable bytes): compared as the header decodes
        elsewhere = header.location != location
    if magic != SIGNED_MAGIC or length > MAX_LOCATION_BYTES or end < size or elsewhere:
        _refuse(keys, data, location)
    whole = data if type(data) is bytes and end < _VIEW_FROM else memoryview(data)
    try:  # a keyed state no other call holds (list.pop is atomic), reset and put back after use: 2.3k instructions
        # for a copy of the keyed state, 0.9k for pop, reset and append
        mac = spare.pop()
    except IndexError:
        mac = keys._keyed[raw_id].copy()  # type: ignore[attr-defined]
    mac.update(whole[:end])
    matches = _SAME(mac.digest(), data[end:])
    mac.reset()
    spare.append(mac)
    if not matches:
        raise _tag_mismatch(header)
    return header, whole[size:end]


def _refuse(keys: Keyring, data: bytes | bytearray | memoryview, location: str | None) -> NoReturn:
    """What ``verify`` raises for ``data`` it cannot take as it is: not a whole signed header (``parse_header``),
    another key or location (``accepted_key``), or too short for its tag."""
    header = parse_header(data)
    accepted_key(keys, header, location)
    raise _tag_mismatch(header)


def _tag_mismatch(header: Header) -> UntrustedData:
    return UntrustedData(
        f"their signature (key id {header.key_id}) does not match the bytes: changed or cut short since they were "
        "signed",
        header.key_id,
    )


def legacy_tag(key: bytes, payload: bytes | bytearray | memoryview) -> bytes:
    """The earlier format's tag: HMAC-SHA256 of the payload alone."""
    return hmac.new(key, payload, "sha256").digest()


# -- small blobs --------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class BlobSignature:
    """A detached signature: the key id that made it and the tag, in hex (both JSON-ready)."""

    key_id: str
    tag: str


def sign_blob(data: bytes, keys: Keyring) -> BlobSignature:
    """A detached signature of ``data`` (a small record: the bytes are hashed at once) with the first key."""
    raw_id = keys._signer[1]  # type: ignore[attr-defined]
    mac = keys.keyed(raw_id).copy()
    mac.update(_BLOB_DOMAIN)
    mac.update(data)
    tag = mac.hexdigest()
    return BlobSignature(raw_id.hex(), tag)


def verify_blob(data: bytes, signature: BlobSignature, keys: Keyring) -> None:
    """``UntrustedData`` (naming the key id) unless ``signature`` was made over ``data`` by one of ``keys``."""
    try:
        raw_id = bytes.fromhex(signature.key_id)
    except (TypeError, ValueError):
        raise UntrustedData(f"a signature with a malformed key id {signature.key_id!r}") from None
    keyed = keys.keyed(raw_id)
    if keyed is None:
        raise UntrustedData(
            f"signed with key id {signature.key_id}, which is not among the key(s) in use ({', '.join(keys.ids)})",
            signature.key_id,
        )
    mac = keyed.copy()
    mac.update(_BLOB_DOMAIN)
    mac.update(data)
    expected = mac.hexdigest()
    if not isinstance(signature.tag, str) or not hmac.compare_digest(expected, signature.tag):
        raise UntrustedData(
            f"the signature (key id {signature.key_id}) does not match the bytes: changed since they were signed",
            signature.key_id,
        )
