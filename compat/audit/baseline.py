"""The baseline ratchet: the known legacy sites recorded once, so only new ones fail the session.

Each known site is keyed by its file, rule and the normalised text of its statement (``Site.identity``), not by its
line: code moving around it keeps it known, and a new use swapped in for a removed one in the same file is new. An
entry no site matches any more is stale: reported, and failing ``--legacy-audit=strict`` until the baseline is
rewritten (``--legacy-audit-baseline-update``).

Sessions that record the same baseline at once (parallel CI jobs on one checkout) take a lock on its directory and
merge what they saw, so none loses the other's entries.
"""

from __future__ import annotations

import contextlib
import json
import os
from collections import Counter
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass

from compat.audit.sites import Site
from compat.results._atomic import atomic_write_bytes

__all__ = [
    "Baseline", "BaselineError", "Comparison", "compare", "load_baseline", "save_baseline", "writable_problem"
]

SCHEMA_VERSION = 3
_MAX_COUNT = 1_000_000  # sites of one statement: more is not a count a session records

Baseline = Mapping[tuple[str, str, str], int]
"""``{(file, rule, statement): number of sites}``."""


class BaselineError(ValueError):
    """The baseline file cannot be read, is not one, or cannot be written; the message names the fix."""


@dataclass(frozen=True)
class Comparison:
    """How the session's sites compare with the baseline."""

    new: list[Site]  # sites the baseline does not know
    stale: list[tuple[str, str, str, int]]  # (file, rule, statement, how many) entries that match no site


def count(sites: Iterable[Site]) -> Counter[tuple[str, str, str]]:
    return Counter(site.identity for site in sites)


def compare(sites: list[Site], baseline: Baseline) -> Comparison:
    """New sites (those of a statement beyond the count the baseline knows, latest lines first to be new) and
    stale entries."""
    groups: dict[tuple[str, str, str], list[Site]] = {}
    for site in sorted(sites, key=lambda s: (s.file, s.line)):
        groups.setdefault(site.identity, []).append(site)
    new = [site for key, group in groups.items() for site in group[baseline.get(key, 0):]]
    stale = [(*key, known - len(groups.get(key, ()))) for key, known in sorted(baseline.items())
             if known > len(groups.get(key, ()))]
    return Comparison(new=sorted(new, key=lambda s: (s.file, s.line)), stale=stale)


def load_baseline(path: str) -> Baseline:
    """The sites recorded in a baseline file; a ``BaselineError`` naming the fix if it is not one of this version."""
    try:
        with open(path, encoding="utf-8") as f:
            text = f.read()
    except (OSError, UnicodeDecodeError) as exc:
        raise BaselineError(f"{path} cannot be read ({_why(exc)}); fix its permissions or delete it") from None
    try:
        return _parse(text)
    except RecursionError:
        problem = "it is nested too deeply"
    except (ValueError, KeyError, TypeError, AttributeError, OverflowError) as exc:
        problem = str(exc)
    raise BaselineError(f"{path} is not a legacy-audit baseline of this version ({problem}); run pytest with "
                        "--legacy-audit-baseline-update to write a new one")


def _parse(text: str) -> Baseline:
    document = json.loads(text)
    if not isinstance(document, dict) or document.get("schema_version") != SCHEMA_VERSION:
        found = document.get("schema_version") if isinstance(document, dict) else None
        raise ValueError(f"schema_version {found!r}, expected {SCHEMA_VERSION}")
    entries = document["known_sites"]
    if not isinstance(entries, list):
        raise ValueError("known_sites is not a list")
    known: Counter[tuple[str, str, str]] = Counter()
    for entry in entries:
        fields = (entry["file"], entry["rule"], entry["statement"])
        if not all(isinstance(value, str) for value in fields):
            raise ValueError("file, rule and statement must be strings")
        number = entry["count"]
        if isinstance(number, bool) or not isinstance(number, int) or not 1 <= number <= _MAX_COUNT:
            raise ValueError(f"count {number!r} of {fields[0]} is not a whole number from 1 to {_MAX_COUNT}")
        known[fields] += number
    return known


def save_baseline(path: str, sites: Iterable[Site], merge: bool) -> None:
    """Write the sites as the baseline, atomically, under a lock on its directory; ``merge``: keep the entries a
    concurrent session recorded meanwhile (the larger count of each). A ``BaselineError`` if it cannot be
    written."""
    counts = count(sites)
    try:
        with _locked(os.path.dirname(os.path.abspath(path))):
            if merge and os.path.exists(path):
                with contextlib.suppress(BaselineError):
                    for key, number in load_baseline(path).items():
                        counts[key] = max(counts[key], number)
            atomic_write_bytes(path, _document(counts))
    except OSError as exc:
        raise BaselineError(f"cannot write the baseline {path} ({_why(exc)}); give a --legacy-audit-baseline path "
                            "in a directory you can write") from None


def _document(counts: Counter[tuple[str, str, str]]) -> bytes:
    document = {
        "schema_version": SCHEMA_VERSION,
        "about": "legacy result-handler sites known when this baseline was recorded, each by file, rule and the "
        "normalised text of its statement; pytest --legacy-audit-baseline fails only on sites it does not know. "
        "Rewrite it with pytest --legacy-audit-baseline-update.",
        "known_sites": [
            {"file": file, "rule": rule, "statement": statement, "count": number}
            for (file, rule, statement), number in sorted(counts.items())
        ],
    }
    return (json.dumps(document, indent=2) + "\n").encode("utf-8")


@contextlib.contextmanager
def _locked(directory: str) -> Iterator[None]:
    """An exclusive lock on ``directory`` (flock on its descriptor; the kernel drops it if the process dies)."""
    try:
        import fcntl
    except ImportError:  # no flock on this platform: recording sessions must not overlap there
        yield
        return
    descriptor = os.open(directory, os.O_RDONLY)
    try:
        fcntl.flock(descriptor, fcntl.LOCK_EX)
        yield
    finally:
        os.close(descriptor)


def writable_problem(path: str) -> str | None:
    """Why the baseline or report at ``path`` could not be written, checked before the tests run, or None."""
    directory = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(directory):
        return f"its directory {directory} does not exist"
    if not os.access(directory, os.W_OK | os.X_OK):
        return f"its directory {directory} is not writable"
    return None


def _why(exc: OSError | UnicodeDecodeError) -> str:
    if isinstance(exc, OSError):
        return exc.strerror or str(exc)
    return "it is not UTF-8 text"
