"""The values the codemod hands around: a site it looked at, a text edit, and the frozen outcome of one file.

Outcomes are plain frozen data so that they cross process boundaries as they are (pickled by multiprocessing)
and no exception ever has to.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any, Literal

__all__ = ["Action", "Edit", "FileOutcome", "Rule", "Site", "Status"]

Rule = Literal[
    "import", "constructor", "keyword", "attribute", "direct-call", "subclass", "dynamic", "reference", "profile",
    "flow", "task-class",
]
Action = Literal["rewritten", "manual", "skipped", "ignored"]
"""``manual``: a follow-up for a human (fails --check); ``ignored``: one a ``# results-codemod: ignore`` pragma
silences; ``skipped``: a look-alike the codemod left alone on purpose."""
Status = Literal["unchanged", "changed", "failed", "filtered", "edited"]


@dataclass(frozen=True)
class Site:
    """One candidate the codemod found: where, which rule, what it did, and why (for manual and skipped ones)."""

    line: int
    column: int
    rule: Rule
    action: Action
    reason: str
    statement: str = ""
    """The normalised text of the statement holding the site (``compat.audit.inventory.Statements``)."""

    def to_json(self, path: str) -> dict[str, Any]:
        return {"file": path, **asdict(self)}


@dataclass(frozen=True, order=True)
class Edit:
    """Replace ``source[start:end]`` (UTF-8 byte offsets) with ``text``.

    ``rank`` orders edits that start at the same offset: openings (``as_result(``, ``value=``) before
    replacements before closings (``.location``, then ``)``), so nested edits compose.
    """

    start: int
    rank: int
    end: int
    text: str = field(compare=False)


OPEN, REPLACE, SUFFIX, CLOSE = 0, 1, 2, 3


@dataclass(frozen=True)
class FileOutcome:
    """What happened to one file. ``status``: ``filtered`` (no legacy name in its bytes: never parsed),
    ``unchanged``, ``changed`` (rewritten, or would be under --check/--diff), ``failed`` (``error`` says why),
    ``edited`` (it would have been rewritten, but it changed on disk during the run: left as it is now)."""

    path: str
    status: Status
    sites: tuple[Site, ...] = ()
    error: str = ""
    diff: str = ""

    @property
    def manual(self) -> tuple[Site, ...]:
        return tuple(site for site in self.sites if site.action == "manual")
