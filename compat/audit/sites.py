"""Legacy call sites collected during a session: grouping, the first/third-party split, and the inventory records.

A site is one ``file:line`` and kind of use; it is named, for the baseline and for code scanning, by its file,
rule and the normalised text of its statement (``compat.audit.inventory``), which survive code moving around it.
"""

from __future__ import annotations

import os
import sysconfig
import tokenize
from dataclasses import dataclass, field
from typing import Any

from compat.audit.inventory import Statements, rule_of_category
from compat.deprecations import LegacyUse

__all__ = ["AuditReport", "Site", "is_third_party", "totals"]

_THIRD_PARTY_MARKERS = (f"{os.sep}site-packages{os.sep}", f"{os.sep}dist-packages{os.sep}")
_STDLIB = os.path.normcase(sysconfig.get_paths()["stdlib"]) + os.sep


@dataclass(frozen=True)
class Site:
    """One line of user code that uses a legacy name, with how often it did in this session.

    ``statement``: the normalised text of the statement holding the line, and ``span`` its lines. ``codemod``:
    what the codemod does with the site (``rewrites``, ``lists``, ``unseen``), None for third-party code;
    ``reason`` says what it would do, ``own_handler`` whether it is a handler of the user's own to port."""

    file: str
    line: int
    kind: str
    replacement: str
    count: int
    first_party: bool
    path: str = field(default="", repr=False, compare=False)
    statement: str = ""
    span: tuple[int, int] = (0, 0)
    codemod: str | None = None
    reason: str = ""
    own_handler: bool = False

    @property
    def key(self) -> str:
        return f"{self.file}:{self.line}"

    @property
    def rule(self) -> str:
        return rule_of_category(self.kind)

    @property
    def identity(self) -> tuple[str, str, str]:
        """What names the site across edits: file, rule and statement (its line when the source is unreadable)."""
        return (self.file, self.rule, self.statement or f"line {self.line}")

    def record(self) -> dict[str, Any]:
        """The site as an inventory record of origin ``runtime`` (``fingerprint`` is set over all records)."""
        return {
            "file": self.file.replace(os.sep, "/"),
            "line": self.line,
            "column": None,
            "rule": self.rule,
            "origin": "runtime",
            "codemod": self.codemod,
            "reason": self.reason or f"use {self.replacement}",
            "statement": self.statement,
            "kind": self.kind,
            "replacement": self.replacement,
            "count": self.count,
            "first_party": self.first_party,
            "own_handler": self.own_handler,
        }


def is_third_party(path: str) -> bool:
    """Code under site-packages or the standard library is not the project's own."""
    normalized = os.path.normcase(os.path.abspath(path))
    return any(marker in normalized for marker in _THIRD_PARTY_MARKERS) or normalized.startswith(_STDLIB)


class AuditReport:
    """Accumulates ``LegacyUse`` events and turns them into unique ``file:line`` sites."""

    def __init__(self, rootdir: str) -> None:
        self.rootdir = rootdir
        self._counts: dict[tuple[str, int, str], int] = {}
        self._replacements: dict[tuple[str, int, str], str] = {}

    def record(self, use: LegacyUse) -> None:
        key = (use.filename, use.lineno, use.category.__name__)
        self._counts[key] = self._counts.get(key, 0) + 1
        self._replacements.setdefault(key, use.replacement)

    def _display_path(self, path: str) -> str:
        absolute = os.path.abspath(path)
        try:
            relative = os.path.relpath(absolute, self.rootdir)
        except ValueError:  # another drive on Windows
            return absolute
        return absolute if relative.startswith(os.pardir) else relative

    def sites(self) -> list[Site]:
        """Every site, first-party first, then by file and line, each named by its statement."""
        statements: dict[str, Statements | None] = {}
        sites = []
        for (filename, lineno, kind), count in self._counts.items():
            if filename not in statements:
                statements[filename] = _statements_of(filename)
            found = statements[filename]
            sites.append(Site(
                file=self._display_path(filename),
                line=lineno,
                kind=kind,
                replacement=self._replacements[(filename, lineno, kind)],
                count=count,
                first_party=not is_third_party(filename),
                path=os.path.abspath(filename),
                statement=found.text(lineno) if found is not None else "",
                span=found.span(lineno) if found is not None else (lineno, lineno),
            ))
        return sorted(sites, key=lambda s: (not s.first_party, s.file, s.line, s.kind))


def _statements_of(filename: str) -> Statements | None:
    """The statements of a source file, None when it cannot be read (``<string>``, a deleted file)."""
    try:
        with tokenize.open(filename) as f:  # honours a PEP 263 coding line
            return Statements(f.read())
    except (OSError, SyntaxError, UnicodeDecodeError, ValueError):
        return None


def totals(sites: list[Site]) -> dict[str, int]:
    first_party = [site for site in sites if site.first_party]
    return {
        "sites": len({site.key for site in sites}),
        "uses": sum(site.count for site in sites),
        "first_party_sites": len({site.key for site in first_party}),
        "third_party_sites": len({site.key for site in sites if not site.first_party}),
        "codemod_rewrites": len({site.key for site in first_party if site.codemod == "rewrites"}),
        "codemod_lists": len({site.key for site in first_party if site.codemod == "lists"}),
        "codemod_unseen": len({site.key for site in first_party if site.codemod == "unseen"}),
        "own_handlers": len({site.key for site in first_party if site.own_handler}),
    }
