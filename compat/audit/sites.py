"""Legacy call sites collected during a session: grouping, the first/third-party split, and the JSON report."""

from __future__ import annotations

import json
import os
import sysconfig
from collections.abc import Iterable
from dataclasses import asdict, dataclass

from compat.deprecations import LegacySubclassWarning, LegacyUse

__all__ = ["AuditReport", "Site", "totals"]

SCHEMA_VERSION = 1

_THIRD_PARTY_MARKERS = (f"{os.sep}site-packages{os.sep}", f"{os.sep}dist-packages{os.sep}")
_STDLIB = os.path.normcase(sysconfig.get_paths()["stdlib"]) + os.sep


@dataclass(frozen=True)
class Site:
    """One line of user code that uses a legacy name, with how often it did in this session."""

    file: str
    line: int
    kind: str
    replacement: str
    count: int
    first_party: bool
    fixable: bool

    @property
    def key(self) -> str:
        return f"{self.file}:{self.line}"


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
        """Every site, first-party first, then by file and line."""
        sites = [
            Site(
                file=self._display_path(filename),
                line=lineno,
                kind=kind,
                replacement=self._replacements[(filename, lineno, kind)],
                count=count,
                first_party=not is_third_party(filename),
                fixable=kind != LegacySubclassWarning.__name__,
            )
            for (filename, lineno, kind), count in self._counts.items()
        ]
        return sorted(sites, key=lambda s: (not s.first_party, s.file, s.line, s.kind))

    def to_json(self, sites: Iterable[Site], new_sites: Iterable[Site] | None = None) -> str:
        sites = list(sites)
        document = {
            "schema_version": SCHEMA_VERSION,
            "sites": [asdict(site) for site in sites],
            "totals": totals(sites),
        }
        if new_sites is not None:
            document["new_sites"] = [site.key for site in new_sites]
        return json.dumps(document, indent=2) + "\n"


def totals(sites: list[Site]) -> dict[str, int]:
    return {
        "sites": len({site.key for site in sites}),
        "uses": sum(site.count for site in sites),
        "first_party_sites": len({site.key for site in sites if site.first_party}),
        "third_party_sites": len({site.key for site in sites if not site.first_party}),
        "codemod_fixable_sites": len({site.key for site in sites if site.fixable}),
    }
