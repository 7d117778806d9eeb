"""Records: a small JSON document with each stored output saying what made it (issue 21).

Where a record is kept: a ``LocalResult`` writing with the default ``PickleSerializer`` while nothing is signed
appends it to the output's own file, after the pickle, in the same atomic write (``compat.results.trailer``: a
crash never separates the two, and ``pickle.load`` never reads it); every other record lives at
``location + RECORD_SUFFIX`` in the same store (on a local file system, records written by earlier versions and
those of other serializers may be the output's extended attribute: ``RECORD_XATTR``). A record says who wrote the
output (flow, task, run), when, the hash of the stored bytes (computed while they were written: no second pass;
of the pickle alone for a trailer), the serializer, the fingerprints of the task's code and inputs, and, outside a
trailer, the stored object's *identity*: what the store's metadata says of that very object (a file's size, mtime
and inode; S3's and Azure's ETag; GCS's generation). Such a record is written after the output, so a writer killed
between the two leaves the previous record, whose identity no longer matches, and ``Result.record`` ignores it. A
record file whose identity matches its output (``results-compat touch``, ``invalidate``) is read before the
output's trailer. Checking identity costs one metadata look-up, never a read of the output; the byte hash is checked
when the value is read (which a run does anyway, ``Result.read_checked``).

Records are JSON (readable without unpickling anything) and, when the Result signs its values, signed with the
same key: a record that fails verification, or an unsigned one while signing is on, is ignored.
"""

from __future__ import annotations

import hashlib
import json
import time
import zlib
from operator import attrgetter, itemgetter
from collections.abc import Mapping
from dataclasses import MISSING, dataclass, field, fields
from datetime import datetime, timezone
from typing import Any, BinaryIO

from compat.errors import UntrustedData
from compat.results.serializers import signing_module

__all__ = [
    "HASH_ALGORITHM",
    "MAX_RECORD_BYTES",
    "RECORD_CHECK",
    "RECORD_SCHEMA",
    "RECORD_SUFFIX",
    "RECORD_XATTR",
    "HashingReader",
    "HashingWriter",
    "Provenance",
    "RecordForm",
    "TargetRecord",
    "algorithm_of",
    "bytes_hash",
    "checked",
    "new_hash",
    "signed",
    "trusted",
    "with_check",
    "written_json",
]

RECORD_SUFFIX = ".record.json"
"""The record of the output at ``location`` is at ``location + RECORD_SUFFIX``, in the same store."""

RECORD_XATTR = "user.results-compat.record"
"""The extended attribute earlier versions of ``LocalResult`` kept a new output's record in, on the output's own
inode, and where a ``LocalResult`` that does not sign still keeps the record of a new output of another serializer
than the default ``PickleSerializer`` (JSON, a custom one): set once the file is renamed into place, so it is removed
and moved with the bytes it describes. A pickle written while nothing is signed carries its record in its own file
instead (``compat.results.trailer``). An output that replaced another keeps its record in the file at
``location + RECORD_SUFFIX``, rewritten in place (an attribute is one more block freed with each replaced file), as
do outputs where the file system refuses the attribute (no ``user.`` attributes, a record larger than their space)
and every output of a Result that signs: the newest signed record must stay at the location, so that an older signed
copy of the bytes put back there is refused (``Result.refuse_replayed``), which a record travelling with them could
not do. Readers look at a record file describing the output first, then the output's trailer, then this attribute
(a Result that signs: the record file alone)."""

RECORD_CHECK = b"\ncrc32:"
"""How a record file this version writes ends: the line ``crc32:<8 hex digits>`` of the JSON before it
(``with_check``). A record file is rewritten in place (``LocalResult``), so a reader may meet a mix of two records,
or one cut short: its check then fails and it is no record (``checked``). A record without the line (an object
store's, an attribute's, a file an earlier version wrote whole) is read as it is: canonical JSON holds no newline."""

RECORD_SCHEMA = 1
"""The version of the record's fields; a record of another schema is ignored (``no-record``)."""

MAX_RECORD_BYTES = 1024 * 1024
"""A record larger than this is not parsed (a planted file must not make every plan read megabytes)."""

HASH_ALGORITHM = "blake3"
"""The hash of stored bytes, named in each record's ``bytes_hash`` (``"blake3:<hex>"``): BLAKE3 hashes several GB/s
on one core (more on large values, with threads), so hashing while writing costs little beside the write. A record
naming another algorithm hashlib knows (``sha256``) is checked with that one."""


def new_hash(algorithm: str = HASH_ALGORITHM) -> Any:
    """A running hash of stored bytes (``update(data)``, ``digest()``); ``ValueError`` for an unknown one. Its hex
    is taken as ``digest().hex()``: the same text, made in C (blake3's ``hexdigest`` spends 1.8k instructions
    on 32 bytes)."""
    if algorithm == "blake3":
        if not _BLAKE3:
            import blake3

            _BLAKE3[:] = [blake3.blake3, blake3.blake3.AUTO]
        return _BLAKE3[0](max_threads=_BLAKE3[1])
    return hashlib.new(algorithm)


_BLAKE3: list[Any] = []
"""``blake3.blake3`` and its ``AUTO``, once imported (on first use: ``import compat`` does not load it)."""

_ONE_THREAD = 128 * 1024
"""Bytes below this size are hashed in the caller's thread (``bytes_hash``): more threads only pay off for more."""


def bytes_hash(data: bytes | bytearray | memoryview, algorithm: str = HASH_ALGORITHM) -> str:
    """The record's ``bytes_hash`` of ``data``: ``"<algorithm>:<hex>"``."""
    if algorithm == "blake3" and _BLAKE3 and len(data) < _ONE_THREAD:  # a checkpoint's: no threads, no update call
        return "blake3:" + _BLAKE3[0](data).digest().hex()  # type: ignore[no-any-return]
    digest = new_hash(algorithm)
    digest.update(data)
    return f"{algorithm}:{digest.digest().hex()}"


def with_check(data: bytes) -> bytes:
    """A record's JSON ``data`` as a record file holds it: followed by ``RECORD_CHECK`` and its CRC-32."""
    return data + _CHECK_LINE % zlib.crc32(data)


_CHECK_LINE = RECORD_CHECK + b"%08x"
_CHECK_SIZE = len(RECORD_CHECK) + 8


def checked(data: bytes) -> bytes:
    """The JSON of the record file ``data``, its check line verified and removed; ``ValueError`` if it does not
    match (a record being rewritten in place, a mix of two writers' records, one cut short). Data without the line is
    returned as it is."""
    if RECORD_CHECK not in data:
        return data
    json_part, check = data[:-_CHECK_SIZE], data[-_CHECK_SIZE:]
    if check[: len(RECORD_CHECK)] != RECORD_CHECK or check[len(RECORD_CHECK) :] != b"%08x" % zlib.crc32(json_part):
        raise ValueError("the record's check line does not match it: a record being rewritten, or two mixed")
    return json_part


def algorithm_of(hashed: str) -> str:
    """The algorithm a ``bytes_hash`` names (``"blake3"`` in ``"blake3:<hex>"``)."""
    return hashed.partition(":")[0]


@dataclass(frozen=True)
class Provenance:
    """What the engine knows of an output it is about to store: which flow, task and run made it, and the
    fingerprints of the task's code (None: not taken) and of each input by name."""

    flow: str | None = None
    task: str | None = None
    run_id: str | None = None
    code: str | None = None
    inputs: Mapping[str, str] = field(default_factory=dict)

    @classmethod
    def of(cls, flow: str | None, task: str | None, run_id: str | None, code: str | None, inputs: Mapping[str, str]
           ) -> Provenance:
        """``Provenance(flow, task, run_id, code, inputs)``, its fields filled at once: the frozen dataclass's
        ``__init__`` sets each through ``object.__setattr__``, three times the cost (the engine makes one per
        checkpoint); stored straight into the instance dict (``update`` with keywords cost a dict more)."""
        if cls is not Provenance:  # a subclass may have fields or a layout of its own
            return cls(flow, task, run_id, code, inputs)
        made = _new_object(cls)
        fields = made.__dict__
        fields["flow"] = flow
        fields["task"] = task
        fields["run_id"] = run_id
        fields["code"] = code
        fields["inputs"] = inputs
        return made  # type: ignore[no-any-return]


_new_object = object.__new__


@dataclass(frozen=True, slots=True)
class TargetRecord:
    """What made the output stored at ``location``; ``to_dict()`` is JSON-ready, ``from_dict`` reads one back.

    ``bytes_hash``/``size``: of the bytes stored. ``stored``: the stored object's identity as its store reports it
    (``{"size", "mtime_ns", "inode"}`` for a file, ``{"etag"}`` on S3 and Azure, ``{"generation"}`` on GCS,
    ``{"version"}`` in memory; None where the backend cannot tell). ``key_id`` and ``signature``: the signing key's
    id and the detached signature over the rest, when the Result signs. ``invalidated``: when ``results-compat
    invalidate`` made the output stale (UTC, ISO 8601): the next run rebuilds it whatever ``invalidate_on`` says."""

    bytes_hash: str
    size: int
    location: str
    flow: str | None = None
    task: str | None = None
    run_id: str | None = None
    written_at: str = ""
    serializer: str = ""
    code: str | None = None
    inputs: Mapping[str, str] = field(default_factory=dict)
    package_version: str = ""
    stored: Mapping[str, Any] | None = None
    key_id: str | None = None
    signature: str | None = None
    schema: int = RECORD_SCHEMA
    invalidated: str | None = None

    def to_dict(self) -> dict[str, Any]:
        shown = dict(zip(_NAMES, _FIELDS(self)))  # dataclasses.asdict deep-copies: 10x the cost
        shown["inputs"] = dict(self.inputs)
        shown["stored"] = None if self.stored is None else dict(self.stored)
        return shown

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> TargetRecord:
        """A record from ``to_dict()``'s shape; ``ValueError`` naming the field that is missing or of a wrong type
        (unknown fields, from a later version of this package, are ignored)."""
        if not isinstance(data, Mapping):
            raise ValueError(f"a record is a JSON object, not {type(data).__name__}")
        values = {**_DEFAULTS, "inputs": {}}
        for name, expected in _TYPES.items():  # one pass: listing 100,000 outputs parses 100,000 records
            if name in data:
                value = values[name] = data[name]
                if type(value) not in expected and not isinstance(value, expected):
                    raise ValueError(f"the record's {name!r} is a {type(value).__name__}, not what a record holds")
            elif name in _REQUIRED:
                raise ValueError(f"the record has no {name!r}")
        if type(values["size"]) is bool or type(values["schema"]) is bool:
            raise ValueError("the record's 'size' and 'schema' are numbers, not true or false")
        inputs = values["inputs"]
        if inputs and not all(type(key) is str and type(value) is str for key, value in inputs.items()):
            raise ValueError("the record's 'inputs' must map input names to fingerprint strings")
        return _made(cls, _VALUES(values))  # every field checked: filled without the frozen __init__'s checks

    @classmethod
    def filled(cls, **values: Any) -> TargetRecord:
        """A record of ``values``, fields of the right types (what a writer knows it gives), the rest at their
        defaults; made at once, as ``from_dict`` makes one (the frozen ``__init__`` sets each field apart: 5 us)."""
        return _made(cls, _VALUES({**_DEFAULTS, "inputs": {}, "schema": RECORD_SCHEMA, **values}))

    @classmethod
    def of_write(
        cls, bytes_hash: str, size: int, location: str, provenance: Provenance, written_at: str, serializer: str,
        package_version: str, stored: Mapping[str, Any] | None,
    ) -> TargetRecord:
        """The unsigned record a write stores (``Result.new_record``): ``filled`` with every field given in order,
        without the dicts of keywords it merges (a record per checkpoint)."""
        return _made(cls, (bytes_hash, size, location, provenance.flow, provenance.task, provenance.run_id, written_at,
                           serializer, provenance.code, dict(provenance.inputs), package_version, stored, None, None,
                           RECORD_SCHEMA, None))

    def changed(self, **changes: Any) -> TargetRecord:
        """``dataclasses.replace`` of this record, made at once as ``filled`` makes one."""
        return _made(type(self), _FIELDS(self), changes)

    def signed_bytes(self) -> bytes:
        """The canonical JSON a signature covers: every field but ``signature``."""
        data = self.to_dict()
        del data["signature"]
        return _canonical(data)

    def to_json(self) -> bytes:
        """The canonical JSON of ``to_dict()`` (sorted keys, compact, ASCII): the record's fields encoded in their
        sorted order one by one (``_record_json``), the general encoder for what that does not cover."""
        if type(self) is TargetRecord:
            made = _record_json(self)
            if made is not None:
                return made
        return _canonical(self.to_dict())

    @classmethod
    def from_json(cls, data: bytes) -> TargetRecord:
        """The record in ``data``; ``ValueError`` if it is not one (too large, not JSON, a wrong field, another
        schema)."""
        if len(data) > MAX_RECORD_BYTES:
            raise ValueError(f"a record is at most {MAX_RECORD_BYTES} bytes; this one is {len(data)}")
        data = checked(data)
        try:
            parsed = json.loads(data.decode("utf-8"))
        except (UnicodeDecodeError, ValueError, RecursionError) as exc:
            raise ValueError(f"the record is not JSON: {exc}") from None
        if isinstance(parsed, Mapping) and parsed.get("schema") != RECORD_SCHEMA:
            raise ValueError(f"the record has schema {parsed.get('schema')!r}; this version reads {RECORD_SCHEMA}")
        return cls.from_dict(parsed)

    def describes(self, stored: Mapping[str, Any] | None) -> bool:
        """Whether this record was written for the object whose identity is ``stored`` (as the store reports it
        now): a record written for other bytes, or left behind by a writer killed after a new output, is not."""
        if self.stored is None or stored is None:
            return self.stored is None and stored is None
        if type(self.stored) is dict and type(stored) is dict:  # as parsed and as looked up: no copies
            return self.stored == stored
        return dict(self.stored) == dict(stored)


_REQUIRED = ("bytes_hash", "size", "location", "schema")
_TYPES: dict[str, tuple[type, ...]] = {
    "bytes_hash": (str,), "size": (int,), "location": (str,), "flow": (str, type(None)), "task": (str, type(None)),
    "run_id": (str, type(None)), "written_at": (str,), "serializer": (str,), "code": (str, type(None)),
    "inputs": (dict, Mapping), "package_version": (str,), "stored": (dict, Mapping, type(None)),
    "key_id": (str, type(None)),
    "signature": (str, type(None)), "schema": (int,), "invalidated": (str, type(None)),
}  # fmt: skip


_NAMES: tuple[str, ...] = TargetRecord.__slots__  # type: ignore[attr-defined]
"""The fields, in their order."""

_FIELDS = attrgetter(*_NAMES)
"""Every field's value of a record, in one call."""

_VALUES = itemgetter(*_NAMES)
"""Every field's value in a dict of them, in one call."""


class _Filling:
    """A ``TargetRecord`` being filled: its slots without the frozen checks. A record has slots, not an instance
    dict (a finished run keeps one per stored output: 16 slots instead of a dict save ~360 bytes each); set one by
    one through a frozen class they cost several times the dict fill this replaced, so a record is filled here and
    then becomes a ``TargetRecord`` (``__class__`` assignment between classes of one slots layout)."""

    __slots__ = _NAMES


def _made(cls: type[TargetRecord], fields: tuple[Any, ...], changes: Mapping[str, Any] | None = None) -> TargetRecord:
    """A record of ``cls`` holding ``fields`` (every field's value, in order, already checked) and ``changes``."""
    if cls is not TargetRecord:  # a subclass may have another layout: its own __init__ then
        return cls(**{**dict(zip(_NAMES, fields)), **(changes or {})})
    record: Any = object.__new__(_Filling)
    (record.bytes_hash, record.size, record.location, record.flow, record.task, record.run_id, record.written_at,
     record.serializer, record.code, record.inputs, record.package_version, record.stored, record.key_id,
     record.signature, record.schema, record.invalidated) = fields
    if changes:
        for name, value in changes.items():
            setattr(record, name, value)
    record.__class__ = TargetRecord
    return record  # type: ignore[no-any-return]


_DEFAULTS: dict[str, Any] = {
    item.name: item.default for item in fields(TargetRecord) if item.default is not MISSING and item.name != "schema"
}
"""The value of each field a record may leave out (``from_dict``; ``inputs`` is a new dict for each)."""


_ENCODER = json.JSONEncoder(sort_keys=True, separators=(",", ":"), ensure_ascii=True)
"""The canonical encoder, made once (``json.dumps`` with options makes one per call)."""

_C_ENCODE = None if json.encoder.c_make_encoder is None else json.encoder.c_make_encoder(  # type: ignore[attr-defined]
    None, _ENCODER.default, json.encoder.encode_basestring_ascii, None, ":", ",", True, False, True
)
"""``_ENCODER``'s own C encoder, made once (``encode`` makes one per call), without the check for cycles (a
record's JSON has none): the same bytes, a third less time."""


def _canonical(data: Mapping[str, Any]) -> bytes:
    if _C_ENCODE is not None and type(data) is dict:
        return "".join(_C_ENCODE(data, 0)).encode("ascii")
    return _ENCODER.encode(data).encode("ascii")


_text = json.encoder.encode_basestring_ascii  # type: ignore[attr-defined]
"""A str as canonical JSON (quoted, escaped, ASCII), in C where there is C; ``TypeError`` for anything else."""


def _object(mapping: Any) -> str:
    """A dict of str keys and str or int values as canonical JSON; ``TypeError`` for anything else."""
    if type(mapping) is not dict:
        raise TypeError(mapping)
    text = _text
    return "{" + ",".join([
        f"{text(key)}:{text(value) if type(value) is str else int.__repr__(value) if type(value) is int else _other(value)}"
        for key, value in sorted(mapping.items())
    ]) + "}"


def _other(value: Any) -> str:
    """A value neither str nor int (a bool, a float): the general encoder's to encode."""
    raise TypeError(value)


def _record_json(record: TargetRecord) -> bytes | None:
    """``_canonical(record.to_dict())`` made field by field, in the sorted order of the names, without the dict
    ``to_dict`` builds and the general encoder sorts and walks (half its time); None where a field is of a type
    it does not cover (the general encoder then decides: the bytes are the same either way)."""
    r = record
    if type(r.size) is not int:
        return None
    try:
        middle, end = _provenance_json(r.code, r.flow, r.inputs, r.invalidated, r.key_id, r.location,
                                       r.package_version, r.run_id, r.schema, r.serializer, r.signature, r.task)
        return _filled_json(r.bytes_hash, middle, r.size, "null" if r.stored is None else _object(r.stored), end,
                            r.written_at)
    except TypeError:
        return None


def _filled_json(bytes_hash: str, middle: str, size: int, stored: str, end: str, written_at: str) -> bytes:
    """A record's canonical JSON: ``_provenance_json``'s ``middle`` and ``end`` filled with what each write says
    (``stored``, the identity, as canonical JSON already). ``TypeError`` for a field of a type this does not cover."""
    return f'{{"bytes_hash":{_text(bytes_hash)}{middle}{size},"stored":{stored}{end}{_text(written_at)}}}'.encode(
        "ascii"
    )


def _provenance_json(
    code: str | None, flow: str | None, inputs: Any, invalidated: str | None, key_id: str | None, location: str,
    package_version: str, run_id: str | None, schema: int, serializer: str, signature: str | None, task: str | None,
) -> tuple[str, str]:
    """A record's canonical JSON between ``bytes_hash`` and ``size`` (``middle``, ending with ``"size":``) and
    between ``stored`` and ``written_at`` (``end``, ending with ``"written_at":``), of the fields given (in their
    sorted order): what the records of one writer's outputs at one location say alike (``RecordForm``).
    ``TypeError`` for a field of a type this does not cover."""
    text = _text
    if type(schema) is not int:
        raise TypeError(schema)
    middle = (
        f',"code":{"null" if code is None else text(code)},'
        f'"flow":{"null" if flow is None else text(flow)},"inputs":{_object(inputs)},'
        f'"invalidated":{"null" if invalidated is None else text(invalidated)},'
        f'"key_id":{"null" if key_id is None else text(key_id)},"location":{text(location)},'
        f'"package_version":{text(package_version)},"run_id":{"null" if run_id is None else text(run_id)},'
        f'"schema":{schema},"serializer":{text(serializer)},'
        f'"signature":{"null" if signature is None else text(signature)},"size":'
    )
    return middle, f',"task":{"null" if task is None else text(task)},"written_at":'


def written_json(
    provenance: Provenance, location: str, serializer: str, package_version: str, bytes_hash: str, size: int,
    stored: str, written_at: str,
) -> bytes:
    """The canonical JSON of the unsigned record a write stores (what ``TargetRecord.of_write(...).to_json()``
    gives), in one formatting: for a provenance that writes once (each task of a flow), which a ``RecordForm`` would
    cost more than it saves. ``bytes_hash`` and ``written_at`` as a write makes them (``"<algorithm>:<hex>"``,
    ``utc_now``: nothing in them to escape); ``stored``: the identity, as canonical JSON already. What the records
    of one run's calls of one task say alike (code, flow, run id, serializer, package version) is encoded once
    (``_RUN_PARTS``): the code's fingerprint is the longest text a record escapes but the location and the inputs.
    ``TypeError`` for a field of a type this does not cover."""
    text = _text
    task, inputs = provenance.task, provenance.inputs
    key = (provenance.code, provenance.flow, provenance.run_id, serializer, package_version)
    parts = _RUN_PARTS.get(key)
    if parts is None:
        parts = _run_parts(key)
    if type(inputs) is dict and len(inputs) == 1:  # a task of one input: no sort, no join
        ((name, value),) = inputs.items()
        if type(value) is not str:
            raise TypeError(value)
        encoded = f"{{{text(name)}:{text(value)}}}"
    else:
        encoded = _object(inputs)
    return (
        f'{{"bytes_hash":"{bytes_hash}"{parts[0]}{encoded},"invalidated":null,"key_id":null,'
        f'"location":{text(location)}{parts[1]}{size},"stored":{stored},'
        f'"task":{"null" if task is None else text(task)},"written_at":"{written_at}"}}'
    ).encode("ascii")


def _run_parts(key: tuple[Any, ...]) -> tuple[str, str]:
    """``written_json``'s parts for ``key`` (code, flow, run id, serializer, package version), made and kept."""
    code, flow, run_id, serializer, package_version = key
    text = _text
    if len(_RUN_PARTS) >= _FORMS_KEPT:
        _RUN_PARTS.clear()
    parts = _RUN_PARTS[key] = (
        f',"code":{"null" if code is None else text(code)},"flow":{"null" if flow is None else text(flow)},'
        '"inputs":',
        f',"package_version":{text(package_version)},"run_id":{"null" if run_id is None else text(run_id)},'
        f'"schema":{RECORD_SCHEMA},"serializer":{text(serializer)},"signature":null,"size":',
    )
    return parts


_RUN_PARTS: dict[tuple[Any, ...], tuple[str, str]] = {}
"""``written_json``'s parts of the records of one run's calls of one task (code, flow, run id, serializer, package
version), as JSON."""


class RecordForm:
    """The records one provenance writes at one location, as far as they are alike: everything but the bytes'
    hash and size, the stored object's identity and the time, encoded once (``_provenance_json``), so that each
    write of a checkpoint fills in only those (``json``, ``record``). The same bytes as ``TargetRecord.to_json``
    of the same record, which is made of the same parts. None of it is signed (a Result that signs builds each
    record whole: ``Result.new_record``)."""

    __slots__ = ("provenance", "inputs", "location", "record_location", "serializer", "package_version", "_middle",
                 "_end")

    def __init__(self, provenance: Provenance, location: str, serializer: str, package_version: str) -> None:
        self.provenance = provenance
        self.inputs = dict(provenance.inputs)  # as written: a caller changing the provenance's dict is seen (fits)
        self.location = location
        self.record_location = location + RECORD_SUFFIX  # made once: a str whose hash is kept (memos look it up)
        self.serializer = serializer
        self.package_version = package_version
        self._middle, self._end = _provenance_json(
            provenance.code, provenance.flow, self.inputs, None, None, location, package_version, provenance.run_id,
            RECORD_SCHEMA, serializer, None, provenance.task,
        )

    @classmethod
    def of(cls, provenance: Provenance, location: str, serializer: str, package_version: str) -> RecordForm | None:
        """The form of these records, made once per provenance, location and serializer (the last ones used are
        kept); None where a field is of a type the form cannot encode (``TargetRecord.to_json`` then decides)."""
        key = (id(provenance), location, serializer)
        form = _FORMS.get(key)
        if type(form) is RecordForm and form.fits(provenance, package_version):
            return form
        try:
            form = cls(provenance, location, serializer, package_version)
        except TypeError:
            return None
        if len(_FORMS) >= _FORMS_KEPT:
            _FORMS.clear()
        _FORMS[key] = form  # it holds the provenance: its id names no other while the form is kept
        return form

    @classmethod
    def on_repeat(
        cls, provenance: Provenance, location: str, serializer: str, package_version: str
    ) -> RecordForm | None:
        """``of``, from the second write of ``provenance`` at ``location`` on; None on its first (the caller
        builds that record's JSON whole: ``written_json``), so that a provenance that writes once, as each task of a
        flow does, pays for no form, and one that writes the same checkpoint again has it from then on."""
        key = (id(provenance), location, serializer)
        form = _FORMS.get(key)
        if type(form) is RecordForm and form.fits(provenance, package_version):
            return form
        if form is not provenance:  # first seen: remembered by its provenance (which keeps its id from being reused)
            if len(_FORMS) >= _FORMS_KEPT:
                _FORMS.clear()
            _FORMS[key] = provenance  # type: ignore[assignment]
            return None
        return cls.of(provenance, location, serializer, package_version)

    def fits(self, provenance: Provenance, package_version: str) -> bool:
        """Whether this form's records are those ``provenance`` writes now (its inputs may have been changed)."""
        return provenance is self.provenance and provenance.inputs == self.inputs and (
            package_version == self.package_version
        )

    def json(self, bytes_hash: str, size: int, stored: str, written_at: str) -> bytes:
        """The record's canonical JSON: ``stored``, the identity, given as canonical JSON already."""
        return _filled_json(bytes_hash, self._middle, size, stored, self._end, written_at)

    def record(self, bytes_hash: str, size: int, stored: Mapping[str, Any] | None, written_at: str) -> TargetRecord:
        """The record ``json`` encodes (``stored``: the identity itself)."""
        provenance = self.provenance
        return _made(TargetRecord, (bytes_hash, size, self.location, provenance.flow, provenance.task,
                                    provenance.run_id, written_at, self.serializer, provenance.code, dict(self.inputs),
                                    self.package_version, stored, None, None, RECORD_SCHEMA, None))


_FORMS: dict[tuple[int, str, str], RecordForm | Provenance] = {}
"""The forms kept (by provenance id, location, serializer); a provenance seen once is kept as itself
(``RecordForm.on_repeat``)."""
_FORMS_KEPT = 256


def _keyring(serializer: Any) -> Any:
    """The signing keys of ``serializer`` as a ``compat.results.signing.Keyring``, or None when it does not sign."""
    return getattr(serializer, "keyring", None)


def signed(record: TargetRecord, serializer: Any) -> TargetRecord:
    """``record`` with ``key_id`` and ``signature`` set when ``serializer`` signs what it stores (the same key
    signs the record: a detached signature over every other field), else as it is."""
    keys = _keyring(serializer)
    if keys is None:
        return record
    unsigned = record.changed(key_id=keys.signer_id, signature=None)
    return unsigned.changed(signature=signing_module().sign_blob(unsigned.signed_bytes(), keys).tag)


def trusted(record: TargetRecord, serializer: Any) -> bool:
    """Whether ``record`` may be believed by a reader using ``serializer``: always when it does not sign; when it
    does, only a record signed with one of its keys and unchanged since (an unsigned or forged one is ignored)."""
    keys = _keyring(serializer)
    if keys is None:
        return True
    if record.signature is None or record.key_id is None:
        return False
    signing = signing_module()
    try:
        signing.verify_blob(record.signed_bytes(), signing.BlobSignature(record.key_id, record.signature), keys)
    except UntrustedData:
        return False
    return True


def utc_now() -> str:
    """The time now, ISO 8601 in UTC, as records say it (``2026-12-06T02:40:00.123456Z``); the date and time to the
    second are formatted once per second, the microseconds as two of ``_DIGITS`` (a format spec costs more)."""
    global _SECOND
    seconds, micros = divmod(time.time_ns() // 1000, 1_000_000)
    known = _SECOND  # a tuple, replaced whole: a thread reads one second's text or the next's, never a mix
    if known[0] != seconds:
        known = _SECOND = (seconds, time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(seconds)))
    milli, micro = divmod(micros, 1000)
    return f"{known[1]}.{_DIGITS[milli]}{_DIGITS[micro]}Z"


_SECOND: tuple[int, str] = (-1, "")
_DIGITS = [f"{number:03d}" for number in range(1000)]


def record_time_ns(written_at: str) -> int | None:
    """A record's ``written_at`` as nanoseconds since the Unix epoch (None if it is empty); ``ValueError`` if it is not
    an ISO 8601 time."""
    if not written_at:
        return None
    when = datetime.fromisoformat(written_at.replace("Z", "+00:00"))
    if when.tzinfo is None:
        when = when.replace(tzinfo=timezone.utc)
    delta = when - _EPOCH
    return (delta.days * 86_400 + delta.seconds) * 1_000_000_000 + delta.microseconds * 1000


_EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)


class HashingWriter:
    """What a serializer writes to while a value is stored: every write is hashed and counted on its way to
    ``stream``. Not seekable, so a serializer that would seek back (to fill in a signature) writes its bytes whole
    and the hash is of exactly the bytes stored."""

    __slots__ = ("algorithm", "hash", "size", "stream")

    def __init__(self, stream: BinaryIO, algorithm: str = HASH_ALGORITHM) -> None:
        self.stream = stream
        self.algorithm = algorithm
        self.hash = new_hash(algorithm)
        self.size = 0

    def write(self, data: Any) -> int:
        self.hash.update(data)
        written = self.stream.write(data)
        self.size += memoryview(data).nbytes
        return written

    def seekable(self) -> bool:
        return False

    def digest(self) -> str:
        return f"{self.algorithm}:{self.hash.digest().hex()}"


class HashingReader:
    """A stream a serializer reads a stored value from, hashing what passes; ``finish()`` reads what the
    serializer left (nothing, for a whole value) and gives the hash of every byte stored. ``limit``: the stored
    value is the stream's first ``limit`` bytes (a pickle followed by its record, ``compat.results.trailer``):
    nothing past them is read, hashed, or seen by a look ahead."""

    def __init__(self, stream: BinaryIO, algorithm: str = HASH_ALGORITHM, limit: int | None = None) -> None:
        self.stream = stream
        self.algorithm = algorithm
        self.hash = new_hash(algorithm)
        self.size = 0
        self.limit = limit
        peek = getattr(stream, "peek", None)
        if callable(peek):  # looking ahead consumes nothing, so nothing is hashed
            self.peek = peek if limit is None else self._peek_within

    def _peek_within(self, size: int = 0) -> bytes:
        return self.stream.peek(size)[: self.limit - self.size]  # type: ignore[attr-defined,no-any-return,operator]

    def _within(self, size: int | None) -> int:
        """``size`` (-1 or None: the rest) as far as ``limit`` allows."""
        left = self.limit - self.size  # type: ignore[operator]
        return left if size is None or size < 0 or size > left else size

    def _seen(self, data: Any) -> Any:
        self.hash.update(data)
        self.size += len(data)
        return data

    def read(self, size: int | None = -1) -> bytes:
        if self.limit is not None:
            size = self._within(size)
        return self._seen(self.stream.read(size))  # type: ignore[no-any-return]

    def readline(self, size: int | None = -1) -> bytes:
        if self.limit is not None:
            size = self._within(size)
        return self._seen(self.stream.readline(size))  # type: ignore[no-any-return]

    def readinto(self, buffer: Any) -> int:
        if self.limit is not None:
            buffer = memoryview(buffer)[: self._within(len(buffer))]
        count = self.stream.readinto(buffer)
        self._seen(memoryview(buffer)[:count])
        return count

    def finish(self) -> str:
        while self.read(1024 * 1024):
            pass
        return f"{self.algorithm}:{self.hash.digest().hex()}"
