"""Collecting what is stored (``gc``): outputs by age, count per task and total size, kept-aside copies, records
whose output is gone and the temporary files of writers that are gone.

``decide`` picks what to remove from a listing and nothing else, so ``collect(..., dry_run=True)`` reports exactly
what a real run removes. Only what this package can tell it wrote is ever removed (``Entry.accounted``): an output
whose record describes its bytes, a kept-aside copy, an orphaned record, a temporary file of ours, a stale lease; a
file it cannot account for, a link, a lease someone holds or a temporary file still being written is never touched.
A real run removes each object only if it is still the one listed (``Root.remove``): an output a run rewrote in the
meantime stays, and is reported as skipped.

The rules (each optional; an output goes when any rule says so):

- ``older_than``: outputs (and, with ``unreadable``, kept-aside copies) written longer ago than this.
- ``keep_last``: of each task's outputs (by flow and task, from the records), those of the last N runs are kept
  whatever the other rules say; alone, it removes the rest.
- ``max_size``: the oldest outputs are removed until the outputs kept (with their records) take at most this
  many bytes (newest kept first).
- ``unreadable``: kept-aside copies go too (with ``older_than``: only the old ones).

Temporary files whose writer (on this machine) is gone, and another machine's once they are ``TEMP_GRACE`` old,
are always removed, as are records of outputs that are gone and leases nobody holds: a local lease file nobody has
locked, an Azure blob whose lease expired, an S3 or GCS lease object its holder did not renew for its ttl while
``gc`` watched it (``compat.store.lease_watch``; removed only if still that version).
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any

from compat.errors import ArgumentTypeError, ResultError
from compat.store.lease_watch import LEASE_WATCH, watched
from compat.store.listing import (
    KEPT, LEASE, OUTPUT, RECORD, STALE_LEASE, TEMPORARY, WRITER_GONE, Entry, Listing, bulk, list_root,
)
from compat.store.roots import LocalRoot, Root

__all__ = ["TEMP_GRACE", "Removal", "Rules", "Collection", "collect", "decide", "parse_age", "parse_size"]

TEMP_GRACE = timedelta(days=1)
"""Age after which another machine's temporary file is taken as abandoned (a write never lasts that long)."""


@dataclass(frozen=True)
class Rules:
    """What ``gc`` removes besides abandoned temporary files and orphaned records (see the module docstring)."""

    older_than: timedelta | None = None
    keep_last: int | None = None
    max_size: int | None = None
    unreadable: bool = False

    def __post_init__(self) -> None:
        if self.older_than is not None and not isinstance(self.older_than, timedelta):
            raise ArgumentTypeError("Rules: older_than", self.older_than, "a datetime.timedelta, or None")
        for name in ("keep_last", "max_size"):
            value = getattr(self, name)
            if value is not None and (isinstance(value, bool) or not isinstance(value, int) or value < 0):
                raise ArgumentTypeError(f"Rules: {name}", value, "a whole number of at least 0, or None")


@dataclass(frozen=True)
class Removal:
    """One thing to remove: the ``entry`` (an output goes with its record), ``why``, and the bytes it frees."""

    entry: Entry
    why: str

    @property
    def freed(self) -> int:
        record = self.entry.record_found
        return self.entry.size + (record.size if record is not None else 0)

    def to_dict(self) -> dict[str, Any]:
        return {"location": self.entry.location, "uri": self.entry.uri, "kind": self.entry.kind,
                "bytes": self.freed, "why": self.why}


@dataclass(frozen=True)
class Collection:
    """What ``collect`` removed (or, ``dry_run``, would remove), and what it left because it changed since it
    was listed (``skipped``, with why)."""

    root: str
    dry_run: bool
    removed: list[Removal]
    skipped: list[tuple[Removal, str]] = field(default_factory=list)

    @property
    def freed(self) -> int:
        return sum(removal.freed for removal in self.removed)

    def to_dict(self) -> dict[str, Any]:
        return {
            "root": self.root,
            "dry_run": self.dry_run,
            "removed": [removal.to_dict() for removal in self.removed],
            "skipped": [{**removal.to_dict(), "skipped": why} for removal, why in self.skipped],
            "freed": self.freed,
        }


def collect(root: Root, rules: Rules, dry_run: bool = False, now: datetime | None = None,
            lease_watch: float = LEASE_WATCH, watching: Callable[[int, float], None] | None = None) -> Collection:
    """List ``root``, decide by ``rules`` and, unless ``dry_run``, remove (each object only if unchanged). Leases on
    S3 or GCS are watched for their ttl first (at most ``lease_watch`` seconds; ``compat.store.lease_watch``; told
    to ``watching(count, seconds)``), in a dry run too, so it finds the same stale leases."""
    with bulk():  # one pause for listing and deciding: resumed between them, its next pass walks the whole listing
        chosen = decide(watched(list_root(root), lease_watch, notify=watching), rules, now)
    if dry_run:
        return Collection(root.uri, True, chosen)
    removed: list[Removal] = []
    skipped: list[tuple[Removal, str]] = []
    for removal in chosen:
        why_not = _remove(root, removal.entry)
        if why_not is None:
            removed.append(removal)
        else:
            skipped.append((removal, why_not))
    return Collection(root.uri, False, removed, skipped)


def decide(listing: Listing, rules: Rules, now: datetime | None = None) -> list[Removal]:
    """What ``rules`` remove from ``listing``, in location order; only accounted entries are ever chosen."""
    now = now or datetime.now(timezone.utc)
    chosen: dict[str, str] = {}
    for entry in listing.entries:
        if not entry.accounted:
            continue
        if entry.kind == TEMPORARY:
            if entry.note == WRITER_GONE:
                chosen[entry.location] = "temporary file of a writer that is gone"
            elif now - entry.written > TEMP_GRACE:
                chosen[entry.location] = f"temporary file older than {_age(TEMP_GRACE)}"
        elif entry.kind == RECORD:
            chosen[entry.location] = "record of an output that is gone"
        elif entry.kind == LEASE:  # accounted: a lease nobody holds
            chosen[entry.location] = "lease nobody holds" + entry.note[len(STALE_LEASE):]  # then who left it
        elif entry.kind == KEPT and rules.unreadable:
            if rules.older_than is None:
                chosen[entry.location] = "kept-aside copy of unreadable bytes"
            elif now - entry.written > rules.older_than:
                chosen[entry.location] = f"kept-aside copy older than {_age(rules.older_than)}"
    outputs = [entry for entry in listing.entries if entry.kind == OUTPUT and entry.accounted]
    kept = _last_runs(outputs, rules.keep_last) if rules.keep_last is not None else set()
    cutoff = None if rules.older_than is None else now - rules.older_than
    old = None if rules.older_than is None else f"written more than {_age(rules.older_than)} ago"
    not_last = f"not among its task's last {rules.keep_last} run(s)"
    for entry in outputs:
        if entry.location in kept:
            continue
        if cutoff is not None and entry.written < cutoff:
            chosen[entry.location] = old  # type: ignore[assignment]
        elif rules.keep_last is not None and cutoff is None:
            chosen[entry.location] = not_last
    if rules.max_size is not None:
        remaining = [entry for entry in outputs if entry.location not in chosen]
        total = sum(_footprint(entry) for entry in remaining)
        for entry in sorted(remaining, key=lambda entry: entry.written):  # oldest first
            if total <= rules.max_size:
                break
            if entry.location in kept:
                continue
            chosen[entry.location] = f"oldest while the outputs took more than {rules.max_size} bytes"
            total -= _footprint(entry)
    return [Removal(entry, chosen[entry.location]) for entry in listing.entries if entry.location in chosen]


def _last_runs(outputs: Iterable[Entry], count: int) -> set[str]:
    """The locations of the outputs of each task's ``count`` newest runs."""
    tasks: dict[tuple[str | None, str | None], dict[str, datetime]] = defaultdict(dict)
    for entry in outputs:
        assert entry.record is not None
        run = entry.record.run_id or entry.location  # no run id: each output is its own run
        runs = tasks[(entry.record.flow, entry.record.task)]
        runs[run] = max(runs.get(run, entry.written), entry.written)
    newest = {
        key: set(sorted(runs, key=runs.__getitem__, reverse=True)[:count]) for key, runs in tasks.items()
    }
    return {
        entry.location for entry in outputs
        if entry.record is not None
        and (entry.record.run_id or entry.location) in newest[(entry.record.flow, entry.record.task)]
    }


def _footprint(entry: Entry) -> int:
    return entry.size + (entry.record_found.size if entry.record_found is not None else 0)


def _remove(root: Root, entry: Entry) -> str | None:
    """Remove ``entry`` (an output first, then its record); why not, if it changed since it was listed."""
    assert entry.found is not None
    try:
        if entry.kind == LEASE and isinstance(root, LocalRoot):  # removed under its lock: a run taking it that
            removed = root.result.remove_stale_lease(entry.of)  # moment is never left without one
            return None if removed else "taken by a run since it was listed: left alone"
        if not root.remove(entry.found):
            return "changed or removed since it was listed: left alone"
        if entry.record_found is not None and not root.remove(entry.record_found):
            return "its record changed since it was listed: the record was left"
    except (ResultError, OSError) as exc:
        return f"could not be removed: {exc}"
    return None


_AGE = re.compile(r"(\d+)\s*([smhdw])")
_UNITS = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days", "w": "weeks"}
_SIZE = re.compile(r"(\d+(?:\.\d+)?)\s*([kKmMgGtT]?)(i?)[bB]?")


def parse_age(text: str) -> timedelta:
    """``30d``, ``12h``, ``90m``, ``2w``, ``45s`` (or several, ``1d12h``) as a timedelta; ValueError otherwise."""
    parts = _AGE.findall(text)
    if not parts or "".join(f"{n}{unit}" for n, unit in parts) != text.replace(" ", ""):
        raise ValueError(f"{text!r} is not an age; write a number and a unit: 30d, 12h, 90m, 2w, 45s")
    return sum((timedelta(**{_UNITS[unit]: int(n)}) for n, unit in parts), timedelta())


def parse_size(text: str) -> int:
    """``50G``, ``500M``, ``10k``, ``1.5T`` (powers of 1024; ``GiB``/``GB`` alike) or bytes, as a number of bytes."""
    match = _SIZE.fullmatch(text.strip())
    if match is None:
        raise ValueError(f"{text!r} is not a size; write bytes or a number and a unit: 500M, 50G, 1.5T")
    number, unit = float(match[1]), match[2].upper()
    return int(number * 1024 ** " KMGT".index(unit or " "))


def _age(age: timedelta) -> str:
    seconds = int(age.total_seconds())
    for unit, length in (("w", 604800), ("d", 86400), ("h", 3600), ("m", 60)):
        if seconds % length == 0 and seconds >= length:
            return f"{seconds // length}{unit}"
    return f"{seconds}s"
