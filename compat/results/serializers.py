"""Serializers turn values into the bytes a backend stores, and back.

A serializer is any object with ``serialize(value) -> bytes`` and ``deserialize(data) -> value``; the two here
cover the common cases. Both raise ``SerializationError`` naming the value's type and the serializer, so a
failure deep inside a flow still says what could not be stored and by whom.

Unpickling runs code chosen by whoever wrote the bytes, so ``PickleSerializer`` can sign what it writes and refuse
what it did not sign: the signed format, its keys and its MAC are ``compat.results.signing``'s. A Result binds the
serializer to the location it reads or writes (``PickleSerializer.at``), so signed bytes verify only where they
were written.
"""

from __future__ import annotations

import io
import json
import os
import pickle
import stat
import threading
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any, BinaryIO, Protocol, Union, runtime_checkable

from compat.errors import ArgumentTypeError, ConfigurationError, SerializationError, UntrustedData

if TYPE_CHECKING:
    from compat.results.signing import Header, Keyring, Mac

__all__ = [
    "LEGACY_MAGIC",
    "SIGNED_MAGIC",
    "SIGNING_KEY_VARIABLE",
    "JSONSerializer",
    "PickleSerializer",
    "Serializer",
    "StreamSerializer",
]

SIGNED_MAGIC = b"\x00rcsig2\n"
"""The first 8 bytes of a signed pickle (``compat.results.signing`` describes the header)."""

LEGACY_MAGIC = b"\x00rcsig1\n"
"""The first 8 bytes of the earlier signed format (HMAC-SHA256 of the payload only: no location, no time)."""

SIGNING_KEY_VARIABLE = "RESULTS_COMPAT_SIGNING_KEY"
"""Environment variable with the signing key(s) used when ``PickleSerializer`` is given none: comma-separated,
the first signs, every one is accepted when reading (rotation: put the new key first, keep the old one a while).
``$RESULTS_COMPAT_SIGNING_KEY_FILE`` names a file of keys instead, one a line."""

_KEY_FILE_VARIABLE = "RESULTS_COMPAT_SIGNING_KEY_FILE"

SigningKey = Union[str, bytes]

_PLAIN = frozenset({type(None), bool, int, float, bytes, str})
"""Exact types that ``pickle`` writes byte for byte as cloudpickle does: its picklers never consult a
``reducer_override`` for them (see ``pickle.Pickler.reducer_override``), and the stdlib one costs a tenth as much."""

_SMALL_PLAIN = 64 * 1024
"""The largest str or bytes value a signed write pickles in memory first (a few microseconds less than streaming
it through the MAC; a larger one streams, never copied)."""

_CHUNK = 1024 * 1024
"""How much of a payload is read at a time while it is verified from a stream."""

_WRITERS_KEPT = 1024
"""Locations a serializer keeps a bound copy for (``writer_at``), at most."""


def _stored_names() -> tuple[Any, ...] | None:
    """The signing variables' names as ``os.environ`` keeps them in its dict (bytes on POSIX, upper case on
    Windows), or None where ``os.environ`` is not CPython's ``os._Environ``."""
    encode = getattr(os.environ, "encodekey", None)
    return None if encode is None else (encode(SIGNING_KEY_VARIABLE), encode(_KEY_FILE_VARIABLE))


_STORED_NAMES = _stored_names()


def signing_set() -> bool:
    """Whether either signing variable is set in ``os.environ``. Asked on every read and write, so answered from the
    dict ``os.environ`` keeps (``_data``, which every assignment to ``os.environ`` updates): 0.2 us, where
    ``name in os.environ`` costs two failed look-ups through ``Mapping.__contains__`` (1.5-4 us each)."""
    names = _STORED_NAMES
    try:
        data = os.environ._data  # type: ignore[attr-defined]
    except AttributeError:
        data = names = None
    if names is None:  # os.environ is not os._Environ (replaced by a plain dict, say)
        return SIGNING_KEY_VARIABLE in os.environ or _KEY_FILE_VARIABLE in os.environ
    return names[0] in data or names[1] in data


_SIGNING: list[Any] = []


def signing_module() -> Any:
    """``compat.results.signing``, imported on first use (it imports ``blake3``). Called on every signed read and
    write instead of a ``from ... import`` in the function, which costs several microseconds a call (the import
    machinery's checks on the module) where this is a list look-up."""
    if not _SIGNING:
        from compat.results import signing

        _SIGNING.append(signing)
    return _SIGNING[0]


_GIVEN: dict[tuple[str, ...], Keyring] = {}
"""Keyrings given as ``signing_key=`` in this process, by their ids: a serializer unpickled here (a thread or
in-process worker) finds its keys again without their having travelled in the pickle."""
_GIVEN_LOCK = threading.Lock()


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

    ``signing_key``: a key (str or bytes; text is stripped of surrounding spaces) or a list of keys; the first signs
    every pickle written, any of them verifies a pickle read, before it is unpickled. Without one, the keys in
    ``$RESULTS_COMPAT_SIGNING_KEY`` (comma-separated) or in the file named by ``$RESULTS_COMPAT_SIGNING_KEY_FILE``
    are used; with neither, pickles are written and read unsigned, as the legacy handlers did. A signature binds
    the location (relative to the Result's root) and the time it was written: bytes signed for another location
    are refused like unsigned ones, and ``cache_for`` counts from the signed time.

    While signing, an unsigned pickle is refused unless ``trust_unsigned=True`` (for data written before signing
    was turned on, from a location only you can write). ``accept_unbound_signatures=True`` also reads the earlier
    signed format (``LEGACY_MAGIC``), whose signature says nothing of where or when it was written: any of your
    signed values can be copied over another then. Both take only ``True`` or ``False``.

    Pickled (to a dask worker) it carries its keys' ids, never the keys: a worker finds them in its own
    ``$RESULTS_COMPAT_SIGNING_KEY`` or key file, and refuses to run without them.

    Files written by the legacy ``LocalResultHandler`` are plain cloudpickle bytes, so they deserialize here.
    """

    protocol = 5

    def __init__(
        self,
        signing_key: SigningKey | Sequence[SigningKey] | None = None,
        *,
        trust_unsigned: bool = False,
        accept_unbound_signatures: bool = False,
    ) -> None:
        for name, flag in (("trust_unsigned", trust_unsigned), ("accept_unbound_signatures", accept_unbound_signatures)):
            if type(flag) is not bool:
                raise ArgumentTypeError(name, flag, "True or False")
        self._keyring: Keyring | None = None
        self._key_ids: tuple[str, ...] | None = None
        if signing_key is not None:
            from compat.results.signing import keyring

            self._keyring = keyring(signing_key, "signing_key")
            self._key_ids = self._keyring.ids
            with _GIVEN_LOCK:
                _GIVEN[self._key_ids] = self._keyring
        self.trust_unsigned = trust_unsigned
        self.accept_unbound_signatures = accept_unbound_signatures
        self._location: str | None = None

    # -- keys ---------------------------------------------------------------------------------------------------

    @property
    def keyring(self) -> Keyring | None:
        """The keys in force: those given, else the environment's (read at each use); None when not signing.
        ``ConfigurationError`` for a setting that cannot be used (set but empty, a key file that cannot be read,
        keys sent by id that this process does not have)."""
        if self._keyring is not None:
            return self._keyring
        if self._key_ids is not None:
            return self._found_again()
        if not signing_set():
            return None  # the usual case, decided without importing the signing module
        return signing_module().environment_keyring()  # type: ignore[no-any-return]

    def _found_again(self) -> Keyring:
        """The keys named by ``_key_ids`` (this serializer was unpickled): given in this process, or in the
        environment with the same key signing."""
        assert self._key_ids is not None
        found = _GIVEN.get(self._key_ids)
        if found is None:
            from compat.results.signing import environment_keyring

            environment = environment_keyring()
            if environment is None or environment.signer_id != self._key_ids[0]:
                have = "no signing key" if environment is None else f"key id {environment.signer_id} signing"
                raise ConfigurationError(
                    f"this PickleSerializer signs with key id {self._key_ids[0]}, given as signing_key= where it was "
                    f"made; keys never travel with it, and this process has {have}: set {SIGNING_KEY_VARIABLE} or "
                    f"{_KEY_FILE_VARIABLE} here (the workers' environment) to the same keys"
                )
            found = environment
        self._keyring = found
        return found

    def __getstate__(self) -> dict[str, Any]:
        state = dict(self.__dict__)
        state["_keyring"] = None  # keys never travel: their ids do (see _found_again)
        state.pop("_writers", None)
        state.pop("on_header", None)
        return state

    # -- binding --------------------------------------------------------------------------------------------------

    def at(self, location: str) -> PickleSerializer:
        """A copy that signs for, and verifies against, ``location`` (relative to the Result's root); after a read,
        its ``header`` says who signed and when. Results call this for every read (``writer_at`` for writes)."""
        bound = object.__new__(PickleSerializer)
        bound.__dict__.update(self.__dict__)
        bound.__dict__.pop("_writers", None)
        bound._location = location
        return bound

    def writer_at(self, location: str) -> PickleSerializer:
        """``at(location)`` for writing only: made once per location and kept (a copy that only writes keeps no
        state of its own), so a Result writing its target again does not copy the serializer again."""
        writers = self.__dict__.get("_writers")
        if writers is None:
            writers = self.__dict__["_writers"] = {}
        bound = writers.get(location)
        if bound is None:
            if len(writers) >= _WRITERS_KEPT:
                writers.clear()
            bound = writers[location] = self.at(location)
        return bound

    header: Header | None = None
    """The signed header of the last value this (bound) serializer read, or None if it was unsigned."""

    on_header: Callable[[Header], None] | None = None
    """Set on a bound copy by a Result that reads through it: called with a signed value's header once the value is
    verified, before a byte of it is unpickled; it may refuse the value (``UntrustedData``)."""

    # -- writing --------------------------------------------------------------------------------------------------

    def serialize(self, value: Any) -> bytes:
        buffer = io.BytesIO()
        self.dump(value, buffer)
        return buffer.getvalue()  # no copy: BytesIO hands over its buffer

    def dump(self, value: Any, stream: BinaryIO) -> None:
        """Pickle ``value`` into ``stream``: large ``bytes`` go to ``stream.write`` as they are, never copied into a
        buffer first. Signed, the header goes first, the payload through the MAC, the tag last: nothing is sought
        back, so any stream will do."""
        keys = self.keyring
        if type(value) in _PLAIN:
            pickler = pickle.dump
            if keys is None:
                pickler(value, stream, self.protocol)  # cannot fail: an error is the stream's
                return
            if not isinstance(value, (bytes, str)) or len(value) <= _SMALL_PLAIN:  # one write, no wrapper around it
                stream.write(signing_module().sign(keys, self._location or "", pickle.dumps(value, self.protocol)))
                return
        else:
            import cloudpickle  # on first use: it costs more to import than the rest of compat.results

            pickler = cloudpickle.dump
        mac = None
        if keys is not None:
            header, mac = signing_module().signer(keys, self._location or "")
            stream.write(header)
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
            stream.write(mac.digest())

    # -- reading --------------------------------------------------------------------------------------------------

    def load(self, stream: BinaryIO) -> Any:
        """Unpickle from ``stream``. Its first bytes decide, whatever follows: an unsigned pickle that may be read as
        such is unpickled straight from the stream; one that may not is refused unread; a signed one has its header
        checked (key id, location), then its payload and tag verified (``_verified_payload``: in place, or as it is
        read into memory), before a byte is unpickled."""
        peek = getattr(stream, "peek", None)
        if not callable(peek):  # e.g. a BytesIO over bytes already in memory: read() hands them over uncopied
            return self.deserialize(stream.read())
        head = peek(len(SIGNED_MAGIC))[: len(SIGNED_MAGIC)]
        if head == SIGNED_MAGIC:
            return self._load_signed(stream)
        if head == LEGACY_MAGIC:
            return self.deserialize(self._legacy(stream))
        if len(head) < len(SIGNED_MAGIC):  # a few bytes: deserialize says what they are
            return self.deserialize(stream.read())
        self._refuse_unsigned(self.keyring, None)
        try:
            return pickle.load(stream)
        except OSError:
            raise  # the storage failed while reading, not the data
        except Exception as exc:
            raise _undeserializable(self, exc) from exc

    def _legacy(self, stream: BinaryIO) -> bytes:
        """The bytes of an earlier-format signed pickle, read whole once the reader is known to accept them."""
        self._signing_keys_for_signed()
        if not self.accept_unbound_signatures:
            raise _unbound_refused(self)
        return stream.read()

    def _load_signed(self, stream: BinaryIO) -> Any:
        signing = signing_module()
        keys = self._signing_keys_for_signed()
        header = signing.read_header(stream)
        payload = _verified_payload(stream, header, signing.verifier(keys, header, self._location))
        if self._location is not None:
            self.header = header
        if self.on_header is not None:
            self.on_header(header)
        try:
            if payload is None:  # verified where it lies, in a file nobody but us (or root) can change
                stream.seek(header.size)
                return pickle.load(stream)
            return pickle.loads(payload)
        except OSError:
            raise
        except Exception as exc:
            raise _undeserializable(self, exc) from exc

    def deserialize(self, data: bytes) -> Any:
        payload = self.verified(data)
        try:
            return pickle.loads(payload)
        except Exception as exc:
            raise _undeserializable(self, exc, len(data)) from exc

    def verified(self, data: bytes | bytearray | memoryview) -> bytes | bytearray | memoryview:
        """The pickle inside ``data`` once its signature is checked; ``UntrustedData`` if it may not be unpickled
        (unsigned while signing, a signature no key matches, signed for another location, the earlier format
        without ``accept_unbound_signatures``), ``ConfigurationError`` if signed while no key is set."""
        header, payload = self._checked(data, self._location, self.on_header)
        if header is not None and self._location is not None:  # a bound copy (``at``): its Result reads the header
            self.header = header
        return payload

    def unpickle(
        self, data: bytes, location: str | None, on_header: Callable[[Header], None] | None = None
    ) -> tuple[Header | None, Any]:
        """``deserialize`` for a Result that has the stored bytes in memory: checked as a copy bound to ``location``
        by ``at`` would check them (``on_header`` too), without making that copy; the signed header (None if
        unsigned) and the value."""
        if data[:8] == SIGNED_MAGIC:  # _checked's first case, in the calls it needs (a signed read's usual case)
            keys = self._keyring
            header, payload = (_SIGNING[0] if _SIGNING else signing_module()).verify(
                keys if keys is not None else self._signing_keys_for_signed(), data, location
            )
            if on_header is not None:
                on_header(header)
        else:
            header, payload = self._checked(data, location, on_header)
        try:
            return header, pickle.loads(payload)
        except Exception as exc:
            raise _undeserializable(self, exc, len(data)) from exc

    def _checked(
        self, data: bytes | bytearray | memoryview, location: str | None, on_header: Callable[[Header], None] | None
    ) -> tuple[Header | None, bytes | bytearray | memoryview]:
        """The signed header (or None) and the pickle inside ``data``, once ``verified``'s checks pass."""
        head = data[: len(SIGNED_MAGIC)]
        if head == SIGNED_MAGIC:
            header, payload = signing_module().verify(self._signing_keys_for_signed(), data, location)
            if on_header is not None:
                on_header(header)
            return header, payload
        if head == LEGACY_MAGIC:
            return None, self._legacy_verified(data)
        self._refuse_unsigned(self.keyring, len(data))
        return None, data

    def _legacy_verified(self, data: bytes | bytearray | memoryview) -> memoryview:
        import hmac

        keys = self._signing_keys_for_signed()
        if not self.accept_unbound_signatures:
            raise _unbound_refused(self)
        view = memoryview(data)
        if len(view) < len(LEGACY_MAGIC) + 32:
            raise SerializationError(f"a signed pickle is at least 40 bytes; got {len(view)} (truncated)")
        tag, payload = bytes(view[8:40]), view[40:]
        if not any(hmac.compare_digest(tag, hmac.new(key, payload, "sha256").digest()) for key in keys.keys):
            raise UntrustedData(
                f"{type(self).__name__} refused {len(view)} bytes without unpickling them: their signature (earlier "
                f"format) matches none of the {len(keys.keys)} signing key(s) in use"
            )
        return payload

    def _signing_keys_for_signed(self) -> Keyring:
        keys = self.keyring
        if keys is None:
            raise ConfigurationError(  # the bytes may well be good: the setting is missing, so nothing is moved aside
                "the stored bytes are a signed pickle, but no signing key is set, so the signature cannot be checked; "
                f"set {SIGNING_KEY_VARIABLE} or pass PickleSerializer(signing_key=...)"
            )
        return keys

    def _refuse_unsigned(self, keys: Keyring | None, size: int | None) -> None:
        if keys is not None and not self.trust_unsigned:
            what = "unsigned bytes" if size is None else f"{size} unsigned bytes"
            raise UntrustedData(
                f"{type(self).__name__} refused {what} without unpickling them: a signing key is set, so only "
                "pickles signed with it are read (unpickling runs code chosen by whoever wrote the bytes). If they "
                "were written before signing was turned on, by you, read them with PickleSerializer(signing_key=..., "
                "trust_unsigned=True); otherwise let the task write a signed value"
            )

    def __eq__(self, other: object) -> bool:
        return (
            type(other) is type(self)
            and other._key_ids == self._key_ids  # type: ignore[attr-defined]
            and other.trust_unsigned == self.trust_unsigned  # type: ignore[attr-defined]
            and other.accept_unbound_signatures == self.accept_unbound_signatures  # type: ignore[attr-defined]
        )

    def __hash__(self) -> int:
        return hash((type(self), self.trust_unsigned))

    def __repr__(self) -> str:  # never show a key
        shown = [] if self._key_ids is None else [f"signing_key=<key id {', '.join(self._key_ids)}>"]
        if self.trust_unsigned:
            shown.append("trust_unsigned=True")
        if self.accept_unbound_signatures:
            shown.append("accept_unbound_signatures=True")
        return f"{type(self).__name__}({', '.join(shown)})"


def _undeserializable(serializer: object, exc: Exception, size: int | None = None) -> SerializationError:
    """The error for bytes pickle could not load, naming what ``pickle`` raised: its type too, since some (a
    ``MemoryError``, an object's ``__setstate__`` raising ``KeyError``) say little or nothing on their own."""
    what = "the stored bytes" if size is None else f"{size} bytes"
    detail = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
    return SerializationError(
        f"{type(serializer).__name__} cannot deserialize {what} (corrupt, truncated, or not written by a pickle "
        f"serializer): {detail}"
    )


def _unbound_refused(serializer: object) -> UntrustedData:
    return UntrustedData(
        f"{type(serializer).__name__} refused a pickle in the earlier signed format (rcsig1) without unpickling it: "
        "its signature does not say where or when it was written, so it could have been copied here from another "
        "of your targets; read it with PickleSerializer(..., accept_unbound_signatures=True) if only you can write "
        "here, or let the task write it anew (signed for its location)"
    )


def _verified_payload(stream: BinaryIO, header: Header, mac: Mac) -> memoryview | None:
    """Check the payload after ``header`` (and the tag after it) with ``mac``; memory bounded to the payload itself.

    From a regular file that only this user (or root) can change, the payload is hashed where it lies (mapped, no
    copy) and None is returned: the caller unpickles from the file, whose bytes nobody else can change meanwhile.
    From any other stream (a file someone else owns or may write, a download) the bytes that will be unpickled must
    be the bytes verified: a file is first verified in place (so a huge forged file is refused without being held),
    then read into memory and verified again, and a view of that copy is returned."""
    from compat.results.signing import TAG_SIZE, check_tag

    fileno = _fileno(stream)
    if fileno is not None:
        info = os.fstat(fileno)
        if stat.S_ISREG(info.st_mode) and info.st_size >= header.size + TAG_SIZE:
            _check_mapped(fileno, header, info.st_size, mac)
            if info.st_uid == os.geteuid() and not info.st_mode & (stat.S_IWGRP | stat.S_IWOTH):
                return None
            mac = mac.restart()
            stream.seek(header.size)
    buffer = bytearray()
    while True:
        part = stream.read(_CHUNK)
        if not part:
            break
        buffer += part
    view = memoryview(buffer)
    end = max(0, len(view) - TAG_SIZE)
    mac.update(view[:end])
    check_tag(header, mac, view[end:])
    return view[:end]


def _check_mapped(fileno: int, header: Header, size: int, mac: Mac) -> None:
    """Check the tag of the file open as ``fileno`` (``size`` bytes) where it lies, mapped into memory."""
    import mmap

    from compat.results.signing import TAG_SIZE, check_tag

    with mmap.mmap(fileno, size, access=mmap.ACCESS_READ) as mapped, memoryview(mapped) as view:
        with view[header.size : size - TAG_SIZE] as payload:
            mac.update(payload)
        with view[size - TAG_SIZE :] as tag:
            check_tag(header, mac, tag)


def _fileno(stream: BinaryIO) -> int | None:
    fileno = getattr(stream, "fileno", None)
    if not callable(fileno):
        return None
    try:
        return int(fileno())
    except (OSError, ValueError):  # io.UnsupportedOperation is both
        return None


class _Target:
    """What pickle writes to: ``stream``, through the MAC ``mac`` when signing. Remembers the error the stream
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
