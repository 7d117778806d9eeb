"""The baseline ratchet: known legacy sites recorded once, so only new ones fail the session.

Sites are counted per file and kind of use, not per line: editing code above a known site moves its line but not
its count, so the gate stays quiet until a file gains a legacy use of some kind (or loses one, which is progress
the baseline can be re-recorded to lock in).
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from compat.audit.sites import Site
from compat.results._atomic import atomic_write_bytes

__all__ = ["Baseline", "Comparison", "load_baseline", "save_baseline"]

SCHEMA_VERSION = 2

Baseline = Mapping[str, Mapping[str, int]]
"""``{file: {kind: number of sites}}``."""


@dataclass(frozen=True)
class Comparison:
    """How the session's sites compare with the baseline."""

    new: list[Site]  # the sites of every (file, kind) that has more sites than the baseline allows
    grown: list[tuple[str, str, int, int]]  # (file, kind, baseline count, current count) that grew
    shrunk: list[tuple[str, str, int, int]]  # (file, kind, baseline count, current count) that shrank


def count(sites: Iterable[Site]) -> dict[str, dict[str, int]]:
    counts: dict[str, Counter[str]] = {}
    for site in sites:
        counts.setdefault(site.file, Counter())[site.kind] += 1
    return {file: dict(sorted(kinds.items())) for file, kinds in sorted(counts.items())}


def compare(sites: list[Site], baseline: Baseline) -> Comparison:
    current = count(sites)
    grown, shrunk, new = [], [], []
    for file in sorted(set(current) | set(baseline)):
        for kind in sorted(set(current.get(file, {})) | set(baseline.get(file, {}))):
            now, known = current.get(file, {}).get(kind, 0), baseline.get(file, {}).get(kind, 0)
            if now > known:
                grown.append((file, kind, known, now))
                new.extend(site for site in sites if site.file == file and site.kind == kind)
            elif now < known:
                shrunk.append((file, kind, known, now))
    return Comparison(new=new, grown=grown, shrunk=shrunk)


def load_baseline(path: str) -> Baseline:
    """The counts recorded in a baseline file; a clear error naming the fix if it is not one."""
    with open(path, encoding="utf-8") as f:
        try:
            document = json.load(f)
            known = document["known_sites"]
            if document.get("schema_version") != SCHEMA_VERSION or not isinstance(known, dict):
                raise ValueError(f"schema_version {document.get('schema_version')!r}, expected {SCHEMA_VERSION}")
            return {str(file): {str(kind): int(n) for kind, n in kinds.items()} for file, kinds in known.items()}
        except (ValueError, KeyError, TypeError, AttributeError) as exc:
            raise ValueError(
                f"{path} is not a legacy-audit baseline of this version ({exc}); "
                "delete it and run again to record a new one"
            ) from exc


def save_baseline(path: str, sites: Iterable[Site]) -> None:
    document = {
        "schema_version": SCHEMA_VERSION,
        "about": "legacy result-handler call sites per file and kind when this baseline was recorded; "
        "pytest --legacy-audit-baseline fails only when a file gains sites of a kind. "
        "Delete this file and run again to re-record it.",
        "known_sites": count(sites),
    }
    atomic_write_bytes(path, (json.dumps(document, indent=2) + "\n").encode("utf-8"))
