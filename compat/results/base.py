"""``Result``: a value, where it is stored, and how to check it (PIN 16).

A Result carries a *location template*, rendered with ``str.format(**context)`` when a task run writes it, so
one Result object describes the outputs of many runs. ``write`` and ``read`` return new Result objects and
never change the receiver: the configured Result stays a reusable template.

Backends subclass ``Result`` and override the small storage contract below (Luigi's ``Target`` shows how
little a backend needs): ``write_bytes``, ``read_bytes``, ``exists_at`` and, for ``cache_for``, ``modified_at``.
Serialization, templating, validation and caching live here once for all of them.
"""

from __future__ import annotations

import io
import json
import re
import string
from collections.abc import Callable, Iterable, Mapping
from datetime import datetime, timedelta, timezone
from typing import Any, BinaryIO, TypeVar, Union

from compat.errors import (
    ArgumentTypeError, ConfigurationError, LocationError, ResultNotFound, SerializationError, TemplateError,
    UntrustedData, ValidationError,
)
from compat.results.leases import LEASING, Holder, LeaseSetting, lease_setting
from compat.results.records import (
    _CHECK_SIZE, RECORD_CHECK, RECORD_SUFFIX, HashingReader, HashingWriter, Provenance, TargetRecord, algorithm_of,
    bytes_hash, new_hash, record_time_ns, signed, trusted, utc_now,
)
from compat.results.serializers import PickleSerializer, Serializer
from compat.results.trailer import payload_size, trailer_of

__all__ = ["KEPT_ASIDE_COPIES", "CacheValidator", "Location", "Result", "Validator", "render_location"]

Validator = Callable[[Any], bool]
"""``fn(value) -> bool``: False, or an exception, means the value is invalid."""

CacheValidator = Callable[["Result"], bool]
"""``fn(stored_result) -> bool``: False means the stored output must not be reused."""

Location = Union[str, Callable[..., str], None]
"""A ``str.format`` template, a callable ``fn(**context) -> str``, or None (the backend picks a name)."""

R = TypeVar("R", bound="Result")
T = TypeVar("T")

_CLOCK_SKEW = timedelta(seconds=60)
"""How far in the future a stored output's modified time may be (another machine's clock) and still count as fresh."""


KEPT_ASIDE_COPIES = 3
"""How many kept-aside copies of one target are kept (``keep_aside``): the newest. Two writers that distrust each
other's output (a key rotation half done) would otherwise add a copy on every run."""

KEPT_MARK = ".unreadable-"
"""What ``keep_aside`` puts between a target's name and the UTC time its bytes were moved aside."""


def excess_kept(names: Iterable[str], keep: int = KEPT_ASIDE_COPIES) -> list[str]:
    """Of the kept-aside ``names`` of one target (each ends in its UTC time, so they sort by age), all but the newest
    ``keep``."""
    ordered = sorted(names, reverse=True)
    return ordered[keep:]


_MAX_FIELD_WIDTH = 4096
"""The widest field a format spec may ask for: no storage accepts a longer location (PATH_MAX is 4096)."""

_SPEC_NUMBER = re.compile(r"\d+")


def render_location(location: Location, context: Mapping[str, Any]) -> str | None:
    """Render a location template with ``context``; a missing key raises ``TemplateError`` naming it, a format spec
    that asks for a field wider than any location (``{n:>99999999999}``) is refused before anything is allocated."""
    if location is None:
        return None
    if callable(location):
        rendered = location(**context)
        if not isinstance(rendered, str):
            raise LocationError(
                f"location callable {getattr(location, '__qualname__', location)!r} returned "
                f"{type(rendered).__name__}, expected a str"
            )
        return rendered
    if not isinstance(location, str):
        raise LocationError(f"a location must be a str or a callable, not {type(location).__name__}")
    if "{" not in location and "}" not in location:
        return location  # nothing to render (a literal location, as a checkpoint's is)
    try:
        if "{" in location and ":" in location:
            _check_format_specs(location, context)
        # a dict reports a missing key itself; another mapping may make one up (defaultdict), so it is wrapped
        return location.format_map(context if type(context) is dict else _StrictContext(context))
    except TemplateError:
        raise
    except KeyError as exc:
        raise TemplateError(location, str(exc.args[0]), context.keys()) from None
    except IndexError:
        raise TemplateError(
            location, "", context.keys(), problem="uses a positional field '{}'; name the key, e.g. '{task_name}'"
        ) from None
    except (AttributeError, ValueError) as exc:
        raise TemplateError(location, "", context.keys(), problem=f"cannot be rendered: {exc}") from None


def _check_format_specs(template: str, context: Mapping[str, Any]) -> None:
    """Refuse a width or precision larger than any location could be (nested specs are rendered first)."""
    for _, field, spec, _ in string.Formatter().parse(template):
        if field is None or not spec:
            continue
        if "{" in spec:
            spec = spec.format_map(_StrictContext(context))
        for number in _SPEC_NUMBER.findall(spec):
            if len(number) > 4 or int(number) > _MAX_FIELD_WIDTH:
                raise TemplateError(
                    template,
                    field,
                    context.keys(),
                    problem=f"asks for a field {number} characters wide in {{{field}:{spec}}}; a location is at most "
                    f"{_MAX_FIELD_WIDTH} characters, so use a width of at most {_MAX_FIELD_WIDTH}",
                )


def _names_key(location: Location, key: str) -> bool:
    """Whether a location template may use ``key`` (a callable may use any key)."""
    if callable(location):
        return True
    if not isinstance(location, str):
        return False
    keys = _TEMPLATE_KEYS.get(location)
    if keys is None:
        keys = _template_keys(location)
    return key in keys


_TEMPLATE_KEYS: dict[str, frozenset[str]] = {}
_TEMPLATE_KEYS_KEPT = 1024  # templates remembered, at most: a flow has few, each asked about for every task


def _template_keys(template: str) -> frozenset[str]:
    """The context keys ``template`` uses (``a`` of ``{a.b}`` or ``{a[0]}``); none for a malformed one (rendering it
    will say what is wrong). Parsed once per template: a plan asks about each task's template several times."""
    try:
        fields = {field for _, field, _, _ in string.Formatter().parse(template) if field}
    except ValueError:
        fields = set()
    keys = frozenset(_FIELD_HEAD.split(field, maxsplit=1)[0] for field in fields)
    if len(_TEMPLATE_KEYS) >= _TEMPLATE_KEYS_KEPT:
        _TEMPLATE_KEYS.clear()
    _TEMPLATE_KEYS[template] = keys
    return keys


_FIELD_HEAD = re.compile(r"[.\[]")


class _StrictContext(dict):  # type: ignore[type-arg]
    """A dict for ``format_map`` that reports a missing key instead of formatting it."""

    def __missing__(self, key: str) -> Any:
        raise KeyError(key)


def _callable_name(fn: Callable[..., Any]) -> str:
    return getattr(fn, "__qualname__", None) or repr(fn)


class Result:
    """A value and its storage location; subclass per backend (see the module docstring).

    ``value``: the value (set by ``read``/``write``). ``location``: a template, callable, or concrete location.
    ``serializer``: bytes <-> value (``PickleSerializer`` by default). ``validators``: ``fn(value) -> bool``.
    ``run_validators``: whether the engine validates task outputs. ``cache_for``: how long a stored output
    stays fresh (by the backend's last-modified time). ``cache_validators``: ``fn(stored_result) -> bool``.
    ``lease``: True or a ``Lease``: a run about to make a missing or stale target takes its lease, and other runs
    wait for its output instead of making it too (``compat.results.leases``); False: never, whatever the flow says.
    """

    unreachable_target_hint = "Give the task a Result that stores at its location, such as LocalResult or S3Result."
    """What the engine advises when this Result stored a task's output somewhere other than its target."""

    def __init__(
        self,
        value: Any = None,
        location: Location = None,
        serializer: Serializer | None = None,
        validators: Iterable[Validator] | None = None,
        run_validators: bool = True,
        cache_for: timedelta | None = None,
        cache_validators: Iterable[CacheValidator] | None = None,
        lease: LeaseSetting = None,
    ) -> None:
        if cache_for is not None and not isinstance(cache_for, timedelta):
            raise ArgumentTypeError("cache_for", cache_for, "a datetime.timedelta, e.g. cache_for=timedelta(hours=1)")
        if serializer is not None and not isinstance(serializer, Serializer):
            raise ArgumentTypeError(
                "serializer", serializer, "an object with serialize(value) -> bytes and deserialize(bytes) -> value"
            )
        if location is not None and not (isinstance(location, str) or callable(location)):
            raise ArgumentTypeError(
                "location", location, "a location template str (e.g. '{task_name}.pkl'), a callable fn(**context) -> "
                "str, or None"
            )
        self.value = value
        self.location = location
        self.serializer: Serializer = serializer if serializer is not None else PickleSerializer()
        self.validators: list[Validator] = _callables(validators, "validators")
        self.run_validators = run_validators
        self.cache_for = cache_for
        self.cache_validators: list[CacheValidator] = _callables(cache_validators, "cache_validators")
        self.lease = lease_setting(lease, "lease")
        if self.lease and not self.can_lease:
            raise ConfigurationError(f"{type(self).__name__} cannot take leases (lease={lease!r}); leases work with "
                                     f"{LEASING}")

    # -- templating -------------------------------------------------------------------------------------------

    @property
    def location(self) -> str | None:
        """The location: a template, or where a read or written value is. A callable given as the location stays
        None here until ``format`` calls it (as Prefect's Result did); ``template`` holds it."""
        location = self.__dict__.get("_location")
        return None if callable(location) else location

    @location.setter
    def location(self, location: Location) -> None:
        self.__dict__["_location"] = location

    @property
    def template(self) -> Location:
        """The location as configured: a ``str.format`` template, a callable ``fn(**context) -> str``, or None."""
        return self.__dict__.get("_location")  # type: ignore[no-any-return]

    def copy(self: R) -> R:
        """A shallow copy whose validator lists can be changed without touching this Result."""
        new = object.__new__(type(self))  # copy.copy's __reduce_ex__ path costs several us per task run
        attributes = self.__dict__.copy()  # a copy of the dict, not an update of an empty one: 0.4-1 us less a read
        attributes["validators"] = [*self.validators]
        attributes["cache_validators"] = [*self.cache_validators]
        new.__dict__ = attributes
        return new

    def format(self: R, **context: Any) -> R:
        """A copy whose location is this one's template rendered with ``context``."""
        new = self.copy()
        new.location = self.render(self.template, context)
        return new

    def render(self, location: Location, context: Mapping[str, Any]) -> str | None:
        """``location`` rendered with ``context``, checked by the backend (``LocationError`` if it cannot be used,
        e.g. a value that would take a file outside its directory). Backends that confine locations override it."""
        return render_location(location, context)

    def _render_to_write(self, context: Mapping[str, Any]) -> str | None:
        """The template rendered for ``write``, which stores there at once: ``render``, unless the backend checks
        part of it again as it writes (LocalResult looks at the file's own name then) and need not do so twice."""
        return self.render(self.template, context)

    # -- reading and writing ----------------------------------------------------------------------------------

    def write(self: R, value: Any, /, **context: Any) -> R:
        """Store ``value`` at the rendered location; return a new Result holding the value and final location.

        With ``provenance`` set (the engine sets it on the copy it checkpoints through), a record is stored beside
        the output once the output is (``compat.results.records``); the returned Result's ``written_record`` holds
        it. The bytes are hashed as they are written."""
        if "location" in context and not _names_key(self.template, "location"):
            raise TypeError(
                f"{type(self).__name__}.write() got location={context['location']!r}, but keyword arguments of "
                "write() are template keys and this Result's location template has no {location} field; "
                f"to write at a given location, set it on the Result: {type(self).__name__}(location=...) or "
                "result.copy() with .location set"
            )
        new = self.copy()
        new.__dict__.pop("_signed", None)  # what a read said of the value this Result held, not of the one written
        location = self._render_to_write(context)
        serializer = self.serializer
        provenance = self.provenance if self.keeps_records else None
        if location is None and getattr(serializer, "keyring", None) is not None:
            location = self.new_location()  # signing: the signature names where the bytes go
        serializer = self._bound(serializer, location, writing=True)
        if _streams(type(self), type(serializer), "write_stream", "write_bytes", "dump", "serialize"):
            dump = serializer.dump  # type: ignore[attr-defined]
            if provenance is None:
                new.location = self.write_stream(location, lambda stream: dump(value, stream))
            else:
                new.location, new.written_record = self.write_recorded(
                    location, lambda stream: dump(value, stream), provenance
                )
        else:
            data = serializer.serialize(value)
            new.location = self.write_bytes(location, data)
            if provenance is not None:
                new.written_record = self.write_record(new.location, provenance, bytes_hash(data), len(data))
        new.value = value
        return new

    # -- records ------------------------------------------------------------------------------------------------

    keeps_records = True
    """Whether this backend stores a record beside each output (JSONResult and ConstantResult store nothing)."""

    provenance: Provenance | None = None
    """Who is writing (set on a copy by the engine): ``write`` then stores a record beside the output."""

    @property
    def written_record(self) -> TargetRecord | None:
        """The record ``write`` stored beside the output, on the Result it returns. A backend may leave it to be
        made when first read (a tuple: the function that makes it, then its arguments): a checkpoint written
        outside a flow has its record stored, and nobody may ask for the object."""
        record = self.__dict__.get("_written_record")
        if type(record) is tuple:
            record = self.__dict__["_written_record"] = record[0](*record[1:])
        return record  # type: ignore[no-any-return]

    @written_record.setter
    def written_record(self, record: TargetRecord | tuple[Any, ...] | None) -> None:
        self.__dict__["_written_record"] = record

    @property
    def written_record_or_maker(self) -> TargetRecord | tuple[Any, ...] | None:
        """``written_record`` as the backend left it: the record, or what makes it (not made here), to be handed on
        to where it may never be read (the engine's ``State.record`` takes either)."""
        return self.__dict__.get("_written_record")  # type: ignore[no-any-return]

    def write_recorded(
        self, location: str | None, dump: Callable[[BinaryIO], object], provenance: Provenance
    ) -> tuple[str, TargetRecord]:
        """``write_stream`` of what ``dump`` writes, hashed on its way, then the record of those bytes: the
        location written and the record. A backend that can store the record with the bytes themselves overrides
        it (``LocalResult``: an extended attribute of the file)."""
        hashing: list[HashingWriter] = []

        def dump_hashing(stream: BinaryIO) -> None:
            hashing[:] = [HashingWriter(stream)]  # a retried upload starts again
            dump(hashing[0])

        written = self.write_stream(location, dump_hashing)
        return written, self.write_record(written, provenance, hashing[0].digest(), hashing[0].size)

    def write_record(self, location: str, provenance: Provenance, digest: str, size: int) -> TargetRecord:
        """Store the record of the output just written at ``location`` (``digest``/``size`` of its bytes), signed
        when this Result signs; return it. Written after the output and naming its identity, so a crash between
        the two leaves no record that describes the new bytes."""
        record = self.new_record(location, provenance, digest, size, self.stored_identity(location))
        self.write_record_bytes(location + RECORD_SUFFIX, record.to_json())
        return record

    def new_record(
        self, location: str, provenance: Provenance, digest: str, size: int, stored: Mapping[str, Any] | None
    ) -> TargetRecord:
        """The record of the bytes stored at ``location`` (``digest``/``size``; ``stored``: their identity in the
        store), signed when this Result signs."""
        serializer = self.serializer
        record = TargetRecord.of_write(
            digest, size, location, provenance, utc_now(), type(serializer).__name__, _package_version(), stored
        )
        return signed(record, serializer)

    def write_record_bytes(self, location: str, data: bytes) -> None:
        """Store a record's bytes (always overwriting the previous record, whatever the Result's write-once
        setting: a record is rewritten with its output)."""
        self.write_bytes(location, data)

    def record(self, location: str, *, resolved: bool = False) -> TargetRecord | None:
        """The record of the output stored at ``location``, or None: no record, one that cannot be parsed, one
        written for other bytes than those stored (its identity differs), or one that fails verification while
        this Result signs. Costs a read of the record and one metadata look-up of the output. ``resolved``: the
        caller has ``location`` from ``resolve`` already (the plan has), so it is not checked a second time."""
        if not self.keeps_records or not isinstance(location, str):
            return None
        try:
            if not resolved:
                location = self.resolve(location)  # the record is beside the output: checked once, for both
            data = self.record_bytes(location)  # None, not an exception, for the usual "none" (a plan asks 100,000x)
            if data is None:
                return None
            record = TargetRecord.from_json(data)
            if not trusted(record, self.serializer):
                return None
            return record if record.describes(self.stored_identity(location)) else None
        except (ResultNotFound, ValueError, LocationError):
            return None

    def read_checked(self: R, location: str, record: TargetRecord) -> tuple[R, bool]:
        """``read(location)``, hashing the bytes as they are read: the Result, and whether they are the bytes
        ``record`` describes (no second pass over them). A pickle followed by its record (``compat.results.trailer``)
        is hashed up to the record: a record describes the pickle alone."""
        resolved = self.resolve(location)
        serializer = self._bound(self.serializer, resolved)
        algorithm = algorithm_of(record.bytes_hash)
        try:
            new_hash(algorithm)
        except ValueError:  # a hash this version does not know: the record cannot vouch for the bytes
            return self.read(location), False
        try:
            if _streams(type(self), type(serializer), "read_stream", "read_bytes", "load", "deserialize"):
                load = serializer.load  # type: ignore[attr-defined]

                def load_hashing(stream: BinaryIO) -> tuple[Any, str]:
                    reader = HashingReader(stream, algorithm, payload_size(stream))
                    loaded = load(reader)
                    return loaded, reader.finish()

                value, digest = self.read_stream(resolved, load_hashing)
            else:
                data = self.read_bytes(resolved)
                own = trailer_of(data)
                value = serializer.deserialize(data)
                digest = bytes_hash(data if own is None else memoryview(data)[: own[0]], algorithm)
        except SerializationError as exc:
            raise _unreadable(resolved, exc) from exc.__cause__
        return self._holding(resolved, value, serializer), digest == record.bytes_hash

    def stored_identity(self, location: str) -> dict[str, Any] | None:
        """What the store's metadata says of the object at the concrete ``location`` that changes whenever it is
        rewritten (a file's size, mtime and inode; an ETag; a generation), or None if this backend cannot tell.
        ``ResultNotFound`` if nothing is stored there."""
        return None

    def read(self: R, location: str) -> R:
        """Load the value stored at ``location``; return a new Result holding it. A signed value older than the
        target's record is refused (``UntrustedData``) before it is unpickled: see ``refuse_replayed``."""
        resolved = self.resolve(location)
        serializer = self._bound_for_reading(self.serializer, resolved)
        try:
            if _streams(type(self), type(serializer), "read_stream", "read_bytes", "load", "deserialize"):
                value = self.read_stream(resolved, serializer.load)  # type: ignore[attr-defined]
            else:
                value = serializer.deserialize(self.read_bytes(resolved))
        except SerializationError as exc:
            raise _unreadable(resolved, exc) from exc.__cause__
        return self._holding(resolved, value, serializer)

    def _bound(self, serializer: Serializer, location: str | None, writing: bool = False) -> Serializer:
        """``serializer``, bound to ``location`` (``PickleSerializer.at``, or ``writer_at`` for a write) when it
        signs and verifies."""
        if location is None or getattr(serializer, "keyring", None) is None:
            return serializer
        signed_for = self.signed_location(location)
        if writing and hasattr(serializer, "writer_at"):
            return serializer.writer_at(signed_for)  # type: ignore[no-any-return]
        return serializer.at(signed_for)  # type: ignore[attr-defined,no-any-return]

    def _bound_for_reading(self, serializer: Serializer, location: str) -> Serializer:
        """``_bound``, and a signed value read through it is checked against the target's record first."""
        bound = self._bound(serializer, location)
        if bound is not serializer and self.keeps_records:
            bound.on_header = self._replay_check(location)  # type: ignore[attr-defined]
        return bound

    def _replay_check(self, location: str) -> Callable[[Any], None]:
        return lambda header: self.refuse_replayed(location, header)

    def refuse_replayed(
        self, location: str, header: Any, data: bytes | None = None, stored: bytes | None = None,
        content: bytes | None = None,
    ) -> None:
        """``UntrustedData`` if the signed bytes at the concrete ``location`` (their ``header`` verified) are an older
        copy of this very target put back: its record, which the write of the bytes stored since wrote beside them,
        is trusted, was written after these bytes were signed, and describes other bytes (neither their identity in
        the store nor their hash). A signature binds the location and the time, so only the record can tell an older
        value of the same target from the newest. ``data``: the record's bytes, if the caller has read them (else
        ``record_bytes``); ``stored``: the identity of the bytes just verified as a record holds it (canonical JSON),
        if the caller knows it (``LocalResult``: from the descriptor it read them through), else looked up;
        ``content``: the signed bytes themselves, if the caller holds them (hashed as they are where the check hashes
        the stored bytes, instead of reading them again from ``location``, where other bytes may be by then).
        A record as this version writes it is decided from its last fields (``_record_tail``) when they say the
        bytes are the newest: the record of the write that stored them (the usual case), or one written before they
        were signed. Any other record is parsed whole and checked as it always was; these shortcuts only ever accept
        what the whole check accepts (a record it cannot parse, or whose check line fails, accepts too)."""
        if data is None:
            data = self.record_bytes(location)
            if data is None:
                return
        tail = _record_tail(data)
        if tail is not None and (tail[1] == stored or _written_by(tail, header.written_ns)):
            return
        try:
            record = TargetRecord.from_json(data)
            recorded = record_time_ns(record.written_at)
        except ValueError:  # not a record this version reads: it says nothing
            return
        signed_us = header.written_ns // 1000
        if recorded is None or signed_us >= recorded // 1000:  # signed when or after the record was written
            return
        try:
            if record.describes(self.stored_identity(location) if stored is None else json.loads(stored)):
                return
        except ResultNotFound:
            return
        if not trusted(record, self.serializer):
            return
        algorithm = algorithm_of(record.bytes_hash)
        try:
            new_hash(algorithm)
        except ValueError:
            return
        if content is not None:
            stored_hash = bytes_hash(content, algorithm)
        else:
            stored_hash = self.read_stream(location, lambda stream: HashingReader(stream, algorithm).finish())
        if stored_hash == record.bytes_hash:
            return  # the same bytes, stored anew (a copied or restored store)
        raise UntrustedData(
            f"signed (key id {header.key_id}) at {header.written_at:%Y-%m-%d %H:%M:%S.%f} UTC for this location, "
            f"before the value its record describes was written ({record.written_at}, run {record.run_id}): an older "
            "copy of this target put back",
            header.key_id,
        )

    def record_bytes(self, location: str) -> bytes | None:
        """The bytes of the record beside the output at the concrete ``location``, or None if there is none."""
        try:
            return self.read_bytes(location + RECORD_SUFFIX)
        except (ResultNotFound, LocationError):
            return None

    def _holding(self: R, location: str, value: Any, serializer: Serializer | None = None) -> R:
        """A copy of this Result holding ``value``, read from or written at the concrete ``location``; ``signed_at``
        from the header ``serializer`` read, if it was signed."""
        new = self.copy()
        new.location = location
        new.value = value
        header = getattr(serializer, "header", None)
        if header is not None:
            new._signed = header
        return new

    def _unpickled_at(
        self: R, location: str, data: bytes, serializer: PickleSerializer, signed_for: str | None,
        on_header: Callable[[Any], None] | None,
    ) -> R:
        """A copy holding the value ``serializer`` unpickles from ``data``, the bytes stored at the concrete
        ``location``, checked as ``PickleSerializer.unpickle`` checks them (``signed_for``, ``on_header``); bytes it
        refuses are ``_unreadable``. The small-value read of LocalResult and MemoryResult ends here."""
        try:
            header, value = serializer.unpickle(data, signed_for, on_header)
        except SerializationError as exc:
            raise _unreadable(location, exc) from exc.__cause__
        new = self.copy()
        new.__dict__["_location"] = location  # the location setter's work, without its call
        new.value = value
        if header is not None:
            new._signed = header
        return new

    _signed: Any = None  # the signed header of the value a read returned (compat.results.signing.Header)

    @property
    def signed_at(self) -> datetime | None:
        """When the value a read returned was signed (its signed header's time), or None if it was not signed."""
        return None if self._signed is None else self._signed.written_at  # type: ignore[no-any-return]

    @property
    def signed_by(self) -> str | None:
        """The key id that signed the value a read returned, or None if it was not signed."""
        return None if self._signed is None else self._signed.key_id  # type: ignore[no-any-return]

    def signed_location(self, location: str) -> str:
        """What a signature binds of ``location``: the location relative to this Result's root (a bucket, a
        container, a directory), so that moving a whole store keeps its signatures valid. By default, as given."""
        return location

    def new_location(self) -> str | None:
        """A new unique location for a write given none, chosen before the value is written (a signature names
        it); None if this backend chooses only as it writes."""
        return None

    def exists(self, location: Location, /, **context: Any) -> bool:
        """Whether a value is stored at ``location`` rendered with ``context``."""
        rendered = self.render(location, context)
        if rendered is None:
            return False
        return self.exists_at(self.resolve(rendered))

    # -- validation -------------------------------------------------------------------------------------------

    def validate(self, validators: Iterable[Validator] | None = None) -> bool:
        """Run this Result's validators, then ``validators``, on ``value``; True when all accept it."""
        return self.validation_error(validators) is None

    def validation_error(self, validators: Iterable[Validator] | None = None) -> ValidationError | None:
        """The first validator's rejection as a ``ValidationError`` (naming it and why), or None if valid."""
        for validator in [*self.validators, *_callables(validators, "validators")]:
            name = _callable_name(validator)
            try:
                ok = validator(self.value)
            except Exception as exc:
                return ValidationError(name, f"raised {type(exc).__name__}: {exc}")
            try:
                accepted = bool(ok)
            except Exception as exc:  # e.g. a numpy array, whose truth value is ambiguous
                return ValidationError(
                    name, f"returned a {type(ok).__name__} whose truth value raised {type(exc).__name__}: {exc}; "
                    "a validator returns True or False"
                )
            if not accepted:
                shown = _short_repr(ok)
                return ValidationError(name, f"returned {shown} for a value of type {type(self.value).__name__}")
        return None

    # -- caching ----------------------------------------------------------------------------------------------

    @property
    def caches(self) -> bool:
        """Whether ``cache_for`` or ``cache_validators`` is set, so stored outputs may be reused."""
        return self.cache_for is not None or bool(self.cache_validators)

    def is_fresh(self, location: str, now: datetime | None = None) -> bool:
        """Whether something is stored at ``location`` and, if ``cache_for`` is set, was written within it. Judged
        from the backend's metadata without reading the value, so ``cache_validators`` are not run here."""
        resolved = self.resolve(location)
        if not self.exists_at(resolved):
            return False
        if self.cache_for is None:
            return True
        try:
            modified = self.modified_at(resolved)
        except ResultNotFound:
            return False
        return self._within_cache_for(modified, now)

    def _within_cache_for(self, written: datetime | None, now: datetime | None) -> bool:
        if written is None or self.cache_for is None:
            return written is not None
        now = now if now is not None else datetime.now(timezone.utc)
        age = now - written
        return -_CLOCK_SKEW <= age <= self.cache_for  # from the future: a wrong clock, or planted; not fresh

    def read_cached(self: R, location: str, now: datetime | None = None) -> R | None:
        """The Result stored at ``location`` if it is fresh (within ``cache_for``, accepted by every
        ``cache_validators``), else None. Freshness uses the backend's last-modified time, so a cache written by
        another process or machine counts. A cache validator that raises is a ``ValidationError`` naming it."""
        if not self.caches:
            return None
        if not self.is_fresh(location, now):
            return None
        resolved = self.resolve(location)
        try:
            stored = self.read(resolved)
        except ResultNotFound:
            return None
        if stored._signed is not None and not self._within_cache_for(stored.signed_at, now):
            return None  # signed longer ago than cache_for: an old signed value put back, whatever its file time says
        for validator in self.cache_validators:
            try:
                fresh = validator(stored)
            except Exception as exc:
                raise ValidationError(
                    f"cache validator {_callable_name(validator)}", f"raised {type(exc).__name__}: {exc}"
                ) from exc
            if not fresh:
                return None
        return stored

    # -- the storage contract: backends override these ----------------------------------------------------------

    def resolve(self, location: str) -> str:
        """The canonical form of ``location`` for this backend (e.g. an absolute path)."""
        return location

    def write_bytes(self, location: str | None, data: bytes) -> str:
        """Store ``data`` atomically at ``location`` (None: pick a unique one); return where it went."""
        raise NotImplementedError(f"{type(self).__name__} must implement write_bytes(location, data) -> location")

    def read_bytes(self, location: str) -> bytes:
        """The bytes stored at ``location``; ``ResultNotFound`` if there are none."""
        raise NotImplementedError(f"{type(self).__name__} must implement read_bytes(location) -> bytes")

    def write_stream(self, location: str | None, dump: Callable[[BinaryIO], object]) -> str:
        """Store what ``dump(stream)`` writes to a binary stream, atomically at ``location``; return where it went.

        A backend that can hand the serializer a stream (a file, an upload) overrides this and ``read_stream``, so a
        large value is never held as one more whole copy in memory; ``write`` uses them when the serializer can
        stream (``dump``/``load``) and the backend's stream methods are at least as specific as its bytes methods
        (a subclass that overrides only ``write_bytes``/``read_bytes`` keeps being called through those). By
        default the bytes are gathered in memory and stored with ``write_bytes``.
        """
        buffer = io.BytesIO()
        dump(buffer)
        return self.write_bytes(location, buffer.getvalue())

    def read_stream(self, location: str, load: Callable[[BinaryIO], T]) -> T:
        """``load(stream)`` on a readable binary stream of what is stored at ``location`` (see ``write_stream``);
        ``ResultNotFound`` if nothing is. By default the stream is over the bytes ``read_bytes`` returns."""
        return load(io.BufferedReader(io.BytesIO(self.read_bytes(location))))  # type: ignore[arg-type]

    def exists_at(self, location: str) -> bool:
        """Whether something is stored at the concrete ``location``."""
        raise NotImplementedError(f"{type(self).__name__} must implement exists_at(location) -> bool")

    def modified_at(self, location: str) -> datetime | None:
        """When ``location`` was last written (timezone-aware), or None if the backend cannot tell."""
        return None

    can_lease = False
    """Whether this backend can take leases (``take_lease``, ``lease_holder``)."""

    def take_lease(self, location: str, holder: Holder, ttl: float = 60.0) -> Any:
        """Take the lease on ``location`` for ``holder`` without waiting: a held lease (with ``renew()`` and
        ``release()``, renewed every ``ttl / 3`` where the store needs it), or the ``Holder`` who holds it now."""
        raise ConfigurationError(f"{type(self).__name__} cannot take leases; leases work with {LEASING}")

    def lease_holder(self, location: str) -> Holder | None:
        """Who holds the lease on ``location``, or None."""
        return None

    def remove_stale_lease(self, location: str) -> bool:
        """Remove the lease of ``location`` if nobody holds it (``results-compat gc``); whether it was removed."""
        return False

    def keep_aside(self, location: str) -> str | None:
        """Move the bytes at ``location`` (which cannot be read or trusted) out of the way before a new value is
        written there, so nothing is destroyed; return where they were kept, or None if this backend cannot. Only
        the newest ``KEPT_ASIDE_COPIES`` copies of one target are kept."""
        return None

    def __repr__(self) -> str:
        shown = f"location={self.location!r}"
        if self.value is not None:
            shown += f", value={_short_repr(self.value)}"
        return f"{type(self).__name__}({shown})"


_VERSION: list[str] = []


_RECORD_TAIL = re.compile(
    rb',"stored":(\{[^{}]*\}),"task":(?:null|"[^"\\]*"),"written_at":"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6})Z"\}'
)
"""The last fields of a record's canonical JSON (keys sorted: ``stored``, ``task``, ``written_at``), as this version
writes them (``compat.results.records``) for a task name without quotes or escapes."""
_TAIL_START = b',"stored":{'


def _record_tail(data: bytes) -> re.Match[bytes] | None:
    """The identity (``stored``, as JSON bytes) and ``written_at`` (to the microsecond, without its ``Z``) of the
    record file ``data``, read from its end without parsing the rest; None if it does not end as this version's
    records do. What it gives is what ``json.loads`` would: every quote in the matched end follows a character other
    than a backslash, so none is inside a string; the end is then the top-level object's last three members, and
    for a key given twice the last counts. The check line (``RECORD_CHECK``) is left unverified: a record failing it
    is no record, which the replay check accepts too, so the tail can only tell it to accept what it accepts."""
    end = len(data)
    if data[end - _CHECK_SIZE : end - _CHECK_SIZE + len(RECORD_CHECK)] == RECORD_CHECK:
        end -= _CHECK_SIZE
    start = data.rfind(_TAIL_START, 0, end)
    return None if start < 0 else _RECORD_TAIL.fullmatch(data, start, end)


def _written_by(tail: re.Match[bytes], signed_ns: int) -> bool:
    """Whether the record whose end is ``tail`` was written at or before ``signed_ns`` (to the microsecond, as
    ``refuse_replayed`` compares them): the bytes signed then are not older than what it describes."""
    try:
        written = datetime.fromisoformat(tail[2].decode("ascii"))
    except ValueError:  # not a date (a 13th month): the whole check says what it says of it
        return False
    return signed_ns // 1000 >= (written - _NAIVE_EPOCH) // _MICROSECOND


_NAIVE_EPOCH = datetime(1970, 1, 1)
_MICROSECOND = timedelta(microseconds=1)


def _package_version() -> str:
    """``compat.__version__``, looked up once (``compat`` imports this module, so not at import time)."""
    if not _VERSION:
        from compat import __version__

        _VERSION.append(__version__)
    return _VERSION[0]


def _unreadable(location: str, error: SerializationError) -> SerializationError:
    """``error`` (the serializer's) saying which location could not be read, of the same kind (``UntrustedData``
    keeps the key id that signed the bytes)."""
    message = f"cannot read the result stored at {location!r}: {error}"
    if isinstance(error, UntrustedData):
        return UntrustedData(message, error.key_id)
    return SerializationError(message)


_STREAMS: dict[tuple[type, type, str], bool] = {}


def _streams(
    backend: type, serializer: type, backend_stream: str, backend_bytes: str, serializer_stream: str, whole: str
) -> bool:
    """Whether a ``backend`` Result with a ``serializer`` takes the stream path: the serializer can stream, and in
    each class the stream method is defined in the class that defines the bytes method or in a subclass of it (so
    an override of only ``write_bytes``, ``serialize``... is never bypassed). Decided once per pair of classes."""
    key = (backend, serializer, backend_stream)
    decided = _STREAMS.get(key)
    if decided is None:
        decided = _defined_below(backend, backend_stream, backend_bytes) and _defined_below(
            serializer, serializer_stream, whole
        )
        _STREAMS[key] = decided
    return decided


def _defined_below(cls: type, stream: str, whole: str) -> bool:
    """Whether ``cls`` has ``stream`` from a class at or below the one it has ``whole`` from."""
    stream_owner = next((klass for klass in cls.__mro__ if stream in klass.__dict__), None)
    whole_owner = next((klass for klass in cls.__mro__ if whole in klass.__dict__), None)
    if stream_owner is None:
        return False
    return whole_owner is None or issubclass(stream_owner, whole_owner)


def _callables(items: Iterable[Callable[..., Any]] | None, what: str) -> list[Callable[..., Any]]:
    if items is None:
        return []
    if callable(items):  # a lone function instead of a list is the classic slip
        return [items]
    if isinstance(items, (str, bytes)) or not isinstance(items, Iterable):
        raise ArgumentTypeError(what, items, "a callable or a list of callables")
    result = list(items)
    for item in result:
        if not callable(item):
            raise ArgumentTypeError(f"each of {what}", item, "a callable")
    return result


def _short_repr(value: Any, limit: int = 60) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."

