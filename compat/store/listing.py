"""What is stored under a root, one ``Entry`` per output (``list_root``): the listing behind ``ls`` and ``gc``.

One listing of the root, then a read of each record, and nothing else: an output is paired with its record by name
(``location + RECORD_SUFFIX``), believed only if the identity it names (a file's size, mtime and inode; an object's
ETag or generation) is the one the listing reports, so a record left beside other bytes is shown as such. In a
directory, an output without a record file describing it has the record it carries itself: after its pickle
(``compat.results.trailer``: one open and one read, and it describes the bytes it is written with), else as its
extended attribute (``RECORD_XATTR``, an earlier version's: one call). Everything else is named by what it is: our
kept-aside copies (``<name>.unreadable-<UTC time>``, see ``keep_aside``), our temporary files
(``compat.results._atomic``), leases (``<name>.lease``, issue 25), records whose output is gone, links and other
non-files (never followed). A name this package did not write is still listed: as an output without a record, which
``gc`` never removes.
"""

from __future__ import annotations

import gc
import re
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from datetime import datetime, timezone
from operator import attrgetter
from typing import Any

from compat.errors import ResultError
from compat.results._atomic import TEMP_PREFIX, abandoned, temp_written_at
from compat.results._cloud import StoredObject
from compat.results.base import KEPT_MARK
from compat.results.leases import LEASE_SUFFIX
from compat.results.records import MAX_RECORD_BYTES, RECORD_SUFFIX, TargetRecord, trusted
from compat.results.serializers import PickleSerializer
from compat.store.record_cache import RecordCache
from compat.store.roots import LocalFile, LocalRoot, Root

__all__ = [
    "KEPT_ASIDE", "NOT_READ", "STALE_LEASE", "WRITER_GONE", "Entry", "Listing", "bulk", "iso_time", "list_root",
]

KEPT_ASIDE = re.compile(r"\.unreadable-\d{8}T\d{6}\.\d{6}Z\Z")
"""How the name of a copy kept aside by ``keep_aside`` ends (``kept_name``)."""

STALE_LEASE = "stale: nobody holds it"
"""How the note of a lease no run holds starts (a local lease file nobody has locked, an Azure blob lease that
expired, an S3 or GCS lease object not renewed for its ttl while ``gc`` watched it)."""


OUTPUT, KEPT, TEMPORARY, RECORD, LEASE, LINK, OTHER = (
    "output", "kept-aside", "temporary", "record", "lease", "link", "other"
)  # fmt: skip
"""The kinds of entry. ``record``: a record whose output is gone (a record beside its output is part of its row)."""

WRITER_GONE = "its writer is gone"
"""The note of a temporary file whose writer (a process of this machine) is gone: ``gc`` removes it."""

_ENVIRONMENT_SERIALIZER = PickleSerializer()
"""Records are believed as a Result with the signing keys of the environment believes them: while signing, an
unsigned or forged record is not (``compat.results.records.trusted``)."""

_READERS = {"s3": 32}  # threads reading records from an object store (each read is one request's round trip),
_SDK_POOL = 10  # at most as many as its client keeps connections (S3Result's 32; the Google and Azure SDKs' 10)

NOT_READ = "not read"
"""The ``record_note`` of an output listed without reading records (``list_root(root, records=False)``)."""


@dataclass(frozen=True)
class Entry:
    """One row of a listing. ``location``: the name its Result takes; ``uri``: where it is; ``of``: the output a
    kept-aside copy, lease or orphaned record belongs to. ``record``: the record that describes this output's bytes
    (None: see ``record_note``). ``written``: the record's time, else the store's last-modified time. ``note``:
    what else is known (a temporary file's writer gone or alive). ``status``: fresh or stale, for a flow (``ls
    --flow``). ``found``/``record_found``: the listed objects, which removal checks are unchanged."""

    location: str
    uri: str
    kind: str
    size: int
    written: datetime
    record: TargetRecord | None = None
    record_note: str = "none"
    of: str | None = None
    note: str = ""
    status: str | None = None
    found: StoredObject | None = field(default=None, repr=False, compare=False)
    record_found: StoredObject | None = field(default=None, repr=False, compare=False)

    @property
    def accounted(self) -> bool:
        """Whether this package can tell it wrote this: an output its record describes, a kept-aside copy, one of
        our temporary files or an orphaned record. Nothing else is ever removed."""
        if self.kind == LEASE:
            return self.note.startswith(STALE_LEASE)
        return self.record is not None if self.kind == OUTPUT else self.kind in (KEPT, TEMPORARY, RECORD)

    def to_dict(self) -> dict[str, Any]:
        return {
            "location": self.location,
            "uri": self.uri,
            "kind": self.kind,
            "size": self.size,
            "written": iso_time(self.written),
            "flow": self.record.flow if self.record else None,
            "task": self.record.task if self.record else None,
            "run_id": self.record.run_id if self.record else None,
            "record": self.record_note,
            "of": self.of,
            "note": self.note,
            "status": self.status,
        }


@dataclass(frozen=True)
class Listing:
    """Every entry under ``root`` (``entries``, by location), and what the listing took (``seconds``)."""

    root: Root
    entries: list[Entry]
    seconds: float = 0.0

    def with_status(self, statuses: Mapping[str, str]) -> Listing:
        """This listing with each output's ``status`` taken from ``statuses`` (by location or URI)."""
        entries = [
            replace(entry, status=statuses.get(entry.location, statuses.get(entry.uri)))
            if entry.kind == OUTPUT else entry
            for entry in self.entries
        ]
        return replace(self, entries=entries)

    def to_dict(self) -> dict[str, Any]:
        return {"root": self.root.uri, "entries": [entry.to_dict() for entry in self.entries]}


@contextmanager
def bulk() -> Iterator[None]:
    """Python's cycle collector paused while a listing's objects are made: none of them form cycles, and with a
    few hundred thousand alive each of its passes walks them all (half the time of a 100,000-output ``gc -n``).
    Nested, only the outermost resumes it (the command line pauses it for a whole ``ls`` or ``gc``)."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def list_root(root: Root, records: bool = True) -> Listing:
    """Everything stored under ``root``: one listing, then the records read (in parallel on an object store, and
    only those not kept on this machine for the version listed: ``compat.store.record_cache``). ``records=False``:
    the listing alone (no task, run or record: ``record_note`` is ``"not read"``)."""
    with bulk():
        return _listed(root, records)


def _listed(root: Root, records: bool) -> Listing:
    started = time.perf_counter()
    found = {item.name: item for item in root.objects()}
    outputs: list[StoredObject] = []
    entries: list[Entry] = []
    for name, item in found.items():  # the usual names decided here, without a call: 100,000 outputs, 200,000 names
        if name.endswith(RECORD_SUFFIX):  # no temporary or kept-aside name ends so
            if KEPT_MARK not in name and name[:_RECORD_END] in found:
                continue  # part of its output's row
        elif KEPT_MARK not in name and TEMP_PREFIX not in name and not name.endswith(LEASE_SUFFIX):
            outputs.append(item)
            continue
        entry = _classified(root, name, item, found)
        if entry is None:
            outputs.append(item)
        elif entry is not _PAIRED:
            entries.append(entry)
    beside = [found.get(item.name + RECORD_SUFFIX) for item in outputs]
    read = _records(root, outputs, beside) if records else [NOT_READ] * len(outputs)
    believer = _Keys(_ENVIRONMENT_SERIALIZER.keyring)  # the environment's keys, read once for the whole listing
    output = _Outputs(root, believer)
    entries += map(output, outputs, beside, read)
    entries += [
        Entry(special.name, root.uri_of(special.name), LINK if "link" in special.what else OTHER, 0, _EPOCH,
              note=special.what, record_note="-")
        for special in root.specials
    ]
    entries.sort(key=_LOCATION)
    return Listing(root, entries, time.perf_counter() - started)


_RECORD_END = -len(RECORD_SUFFIX)
_LOCATION = attrgetter("location")


def _written_time(record: TargetRecord | None, found: StoredObject) -> datetime:
    """When an output was written: its record's time, else the store's last-modified time."""
    if record is not None and record.written_at:
        try:
            return datetime.fromisoformat(record.written_at.replace("Z", "+00:00"))
        except ValueError:
            pass
    return found.modified


_EPOCH = datetime.fromtimestamp(0, tz=timezone.utc)


def _classified(root: Root, name: str, item: StoredObject, found: Mapping[str, StoredObject]) -> Entry | None:
    """The entry of a name that is not an output (None for an output: its record is read later)."""
    if name.endswith(RECORD_SUFFIX):  # no temporary or kept-aside name ends so
        output = name[:_RECORD_END]
        if output in found and not _kept_aside(output):
            return _PAIRED  # part of its output's row
        return Entry(name, root.uri_of(name), RECORD, item.size, item.modified, record_note="-", of=output,
                     note="its output is gone", found=item)
    base = name.rpartition("/")[2]
    if base.startswith(TEMP_PREFIX) and temp_written_at(base) is not None and isinstance(root, LocalRoot):
        gone = abandoned(base)
        note = WRITER_GONE if gone else "being written, or by another machine"
        return Entry(name, root.uri_of(name), TEMPORARY, item.size, item.modified, record_note="-", note=note,
                     found=item)
    kept = _kept_aside(name)
    if kept is not None:
        return Entry(name, root.uri_of(name), KEPT, item.size, item.modified, record_note="-",
                     of=name[: kept.start()], found=item)
    if name.endswith(LEASE_SUFFIX):  # issue 25: a lease nobody holds is stale, and collected
        note = ""  # S3, GCS: stale once unrenewed for its ttl, which only watching it tells (compat.store.lease_watch)
        if isinstance(root, LocalRoot):
            holder = root.result.lease_holder(name[: -len(LEASE_SUFFIX)])
            note = STALE_LEASE if holder is None else f"held by {holder.describe()}"
        elif item.leased is not None:  # Azure: the service's own lease state, in the listing
            note = "held (an Azure blob lease)" if item.leased else STALE_LEASE
        return Entry(name, root.uri_of(name), LEASE, item.size, item.modified, record_note="-",
                     of=name[: -len(LEASE_SUFFIX)], note=note, found=item)
    return None


_PAIRED: Any = object()


def _kept_aside(name: str) -> re.Match[str] | None:
    """Where the kept-aside stamp of ``name`` starts, if it is a kept-aside copy's name (a substring test first:
    most names have no stamp)."""
    return KEPT_ASIDE.search(name) if KEPT_MARK in name else None


def _records(
    root: Root, outputs: list[StoredObject], names: list[StoredObject | None]
) -> list[TargetRecord | _Own | str | None]:
    """Each output's record parsed (or why it could not be: a str), None where there is none; ``names``: the record
    file listed beside each output."""
    if isinstance(root, LocalRoot):
        return _local_records(root, outputs, names)  # type: ignore[arg-type]
    cache = RecordCache(f"{root.endpoint} {root.uri}")

    def read(item: StoredObject) -> TargetRecord | str:
        data = cache.get(item)
        if data is None:
            if item.size > MAX_RECORD_BYTES:
                return f"too large ({item.size} bytes)"
            try:
                data = root.read(item.name, MAX_RECORD_BYTES)
            except (ResultError, OSError) as exc:
                return f"unreadable ({exc})"
        try:
            record = TargetRecord.from_json(data)
        except ValueError as exc:
            return f"unreadable ({exc})"
        cache.keep(item, data)
        return record

    wanted = [item for item in names if item is not None]
    if not wanted:
        return [None] * len(names)
    readers = _READERS.get(root.uri.partition("://")[0], _SDK_POOL)
    with ThreadPoolExecutor(readers, thread_name_prefix="records") as pool:
        done = dict(zip((item.name for item in wanted), pool.map(read, wanted)))
    cache.save(done)
    return [None if item is None else done[item.name] for item in names]


def _local_records(
    root: LocalRoot, outputs: list[LocalFile], names: list[LocalFile | None]
) -> list[TargetRecord | _Own | str | None]:
    """``_records`` of a directory, in one loop (100,000 of them), in ``LocalResult.record``'s order: a record file
    listed beside the output and describing it (``results-compat touch`` or ``invalidate`` wrote it for the output
    as it is, or an earlier version kept it there); else the record the output carries after its pickle
    (``LocalRoot.trailer_record``: one open, one ``pread``); else its extended attribute (an earlier version's:
    one call); else what the record file said."""
    read, parse, trailing, attribute = root.read, TargetRecord.from_json, root.trailer_record, root.attribute_record
    done: list[TargetRecord | _Own | str | None] = []
    for output, item in zip(outputs, names):
        found: TargetRecord | str | None = None
        if item is not None:
            if item.size > MAX_RECORD_BYTES:
                found = f"too large ({item.size} bytes)"
            else:
                try:
                    found = parse(read(item.name, MAX_RECORD_BYTES))
                except (ResultError, OSError, ValueError) as exc:
                    found = f"unreadable ({exc})"
                else:
                    if found.describes(output.identity):  # type: ignore[union-attr]
                        done.append(found)
                        continue
        own = trailing(output.name, output.size)
        if own is not None:
            done.append(_Own(own))
            continue
        data = attribute(output.name)
        if data is not None:
            try:
                found = parse(data)
            except ValueError as exc:
                found = f"unreadable ({exc})"
        done.append(found)
    return done


class _Own:
    """A record read from its output's own file (``compat.results.trailer``): it describes the bytes it was
    found with."""

    __slots__ = ("record",)

    def __init__(self, record: TargetRecord) -> None:
        self.record = record


@dataclass(frozen=True)
class _Keys:
    """What ``trusted`` asks of a serializer: its signing keys (None: not signing)."""

    keyring: Any


_new_entry = Entry.__new__


class _Outputs:
    """The row of each output of one listing, given its record (or why there is none). An output with a record
    that describes it, the usual row, is filled at once (``Entry(...)``'s frozen ``__init__`` sets each of 12 fields
    apart: twice the time of the rest of the row)."""

    def __init__(self, root: Root, believer: _Keys) -> None:
        self.uri_of = root.uri_of
        self.believer = believer
        self.signing = believer.keyring is not None

    def __call__(self, item: StoredObject, record_found: StoredObject | None,
                 record: TargetRecord | _Own | str | None) -> Entry:
        uri = self.uri_of(item.name)
        if record is None or record is NOT_READ:
            return Entry(item.name, uri, OUTPUT, item.size, item.modified, found=item, record_note=record or "none")
        own = type(record) is _Own
        if own:
            record = record.record  # type: ignore[union-attr]
        if isinstance(record, str):
            note = record
        elif self.signing and not trusted(record, self.believer):
            note = "untrusted (its signature)"
        elif not own and not record.describes(item.identity):
            note = "for other bytes"
        else:
            entry = _new_entry(Entry)
            entry.__dict__.update(location=item.name, uri=uri, kind=OUTPUT, size=item.size,
                                  written=_written_time(record, item), record=record, record_note="yes", of=None,
                                  note="", status=None, found=item, record_found=record_found)
            return entry
        return Entry(item.name, uri, OUTPUT, item.size, item.modified, record_note=note, found=item,
                     record_found=record_found)


def iso_time(when: datetime) -> str:
    """``when`` as listings show it: ISO 8601 in UTC, to the second (``2026-12-01T10:00:00Z``)."""
    if when.tzinfo is not timezone.utc:
        when = when.astimezone(timezone.utc)
    return "%04d-%02d-%02dT%02d:%02d:%02dZ" % (when.year, when.month, when.day, when.hour, when.minute, when.second)
