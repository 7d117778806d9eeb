"""Which leases on S3 or GCS nobody holds any more (``gc``), by the rule a waiting run takes one over by.

A lease there is an object its holder replaces every ``ttl / 3`` (``compat.results.leases``). It is stale once the
same version has stood unrenewed for the holder's ``ttl`` as this process's own monotonic clock measures it: no
clock of another machine, nor the store's, is read. So ``gc`` reads each lease it listed (who holds it, its ttl),
watches it for that ttl, and finds it stale only if it is then still the version listed; its removal is conditional
on that version (``Root.remove``), so a holder renewing it meanwhile keeps it. A lease whose ttl is longer than
``limit`` is left: its holder may renew it later than ``gc`` waits.

Azure's blob leases expire on the service's own clock and the listing says whether each is held
(``StoredObject.leased``); a local lease is an ``flock`` the kernel drops with its holder. Neither is watched.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import replace

from compat.results.leases import Lease, read_body
from compat.store.listing import LEASE, STALE_LEASE, Entry, Listing
from compat.store.roots import ObjectRoot

__all__ = ["LEASE_WATCH", "watched"]

LEASE_WATCH = 120.0
"""How long ``gc`` watches leases at most, in seconds (twice a lease's default ttl)."""

_DEFAULT_TTL = Lease().ttl  # a lease object that does not say its ttl was written with the default


def watched(listing: Listing, limit: float = LEASE_WATCH, sleep: Callable[[float], None] = time.sleep,
            notify: Callable[[int, float], None] | None = None) -> Listing:
    """``listing`` with the note of each S3 or GCS lease saying whether it is stale (``STALE_LEASE``, then who left
    it) or held, after watching them all for their ttl (at most ``limit`` seconds); other listings as they are.
    ``notify(count, seconds)`` is told before the watch how many leases it watches and for how long."""
    root = listing.root
    if not isinstance(root, ObjectRoot):
        return listing
    leases = [entry for entry in listing.entries if entry.kind == LEASE and not entry.note]
    if not leases:
        return listing
    notes: dict[str, str] = {}
    watching: list[tuple[Entry, float, str]] = []  # the lease, when its ttl runs out, what it is stale as
    for entry in leases:
        current = root.result._lease_get(entry.location)  # type: ignore[attr-defined]
        if current is None:
            notes[entry.location] = "released since it was listed"
            continue
        data, version = current
        holder, ttl = read_body(data, _DEFAULT_TTL)
        if entry.found is None or version != entry.found.version:
            notes[entry.location] = f"held by {holder.describe()} (renewed since it was listed)"
        elif ttl > limit:
            notes[entry.location] = (f"names {holder.describe()}; its ttl of {ttl:g} s is longer than gc watches "
                                     f"a lease ({limit:g} s), so it is left")
        else:
            stale = f"{STALE_LEASE}: {holder.describe()} did not renew it for its ttl of {ttl:g} s"
            watching.append((entry, time.monotonic() + ttl, stale))
    if watching:
        seconds = max(0.0, max(deadline for _, deadline, _ in watching) - time.monotonic())
        if notify is not None:
            notify(len(watching), seconds)
        sleep(seconds)
    for entry, _, stale in watching:
        current = root.result._lease_get(entry.location)  # type: ignore[attr-defined]
        assert entry.found is not None
        if current is None:
            notes[entry.location] = "released while gc watched it"
        elif current[1] != entry.found.version:
            holder = read_body(current[0], _DEFAULT_TTL)[0]
            notes[entry.location] = f"held by {holder.describe()} (renewed while gc watched it)"
        else:
            notes[entry.location] = stale
    entries = [replace(entry, note=notes[entry.location]) if entry.location in notes else entry
               for entry in listing.entries]
    return replace(listing, entries=entries)
