"""``# results-codemod: ...`` comments: what a human tells the codemod, and what the codemod leaves for a human.

- ``# results-codemod: ignore`` at the end of a line silences the follow-ups listed for that line;
  ``# results-codemod: ignore[direct-call, keyword]`` only those of the rules named. The sites stay in the report,
  marked ``ignored``, and no longer fail ``--check``. Rewrites are not affected.
- ``# results-codemod: follow-up[rule]: reason`` on a line of its own is left by a rewrite above a statement whose
  meaning it changed in a way the next run cannot see from the new code (a handler it turned into a Result went
  where it cannot follow, so a ``.write()`` somewhere now returns a Result). Every run lists it again as a
  follow-up, so ``--check`` keeps failing until a human has looked and deleted the comment.
"""

from __future__ import annotations

import io
import re
import tokenize
from dataclasses import dataclass, field
from typing import get_args

from codemods.results.model import Rule, Site

__all__ = ["MARKER", "Pragmas", "apply_ignores", "marker_line", "scan"]

MARKER = "results-codemod:"
_PRAGMA = re.compile(r"#\s*results-codemod:\s*(?P<kind>ignore|follow-up)\b(?:\[(?P<rules>[^\]]*)\])?(?::\s*(?P<reason>.*))?")
_RULES = frozenset(get_args(Rule))


@dataclass(frozen=True)
class Pragmas:
    """The pragmas of one module: ``ignores`` maps a line to the rules it silences (None: all of them);
    ``follow_ups`` are the markers earlier runs left, as manual sites."""

    ignores: dict[int, frozenset[str] | None] = field(default_factory=dict)
    follow_ups: tuple[Site, ...] = ()


def scan(text: str) -> Pragmas:
    """The pragmas in ``text``'s comments (never in strings)."""
    if MARKER not in text:
        return Pragmas()
    ignores: dict[int, frozenset[str] | None] = {}
    follow_ups: list[Site] = []
    try:
        tokens = list(tokenize.generate_tokens(io.StringIO(text).readline))
    except (tokenize.TokenError, SyntaxError):  # the module parsed, so only exotic input gets here
        return Pragmas()
    for token in tokens:
        if token.type != tokenize.COMMENT:
            continue
        match = _PRAGMA.search(token.string)
        if match is None:
            continue
        line, column = token.start
        rules = match["rules"]
        named = frozenset(r.strip() for r in rules.split(",") if r.strip()) if rules is not None else None
        if match["kind"] == "ignore":
            ignores[line] = named
        else:
            rule = next(iter(named)) if named and len(named) == 1 and named <= _RULES else "direct-call"
            reason = (match["reason"] or "left by an earlier run").strip()
            follow_ups.append(Site(line, column + 1, rule, "manual",  # type: ignore[arg-type]
                                   f"{reason} (marked by an earlier run: delete the comment once done)"))
    return Pragmas(ignores, tuple(follow_ups))


def apply_ignores(sites: tuple[Site, ...], ignores: dict[int, frozenset[str] | None]) -> tuple[Site, ...]:
    """The sites with each manual one on an ``ignore`` line (and of a rule it names) marked ``ignored``."""
    if not ignores:
        return sites
    out = []
    for site in sites:
        rules = ignores.get(site.line, frozenset())
        if site.action == "manual" and (rules is None or site.rule in rules):
            site = Site(site.line, site.column, site.rule, "ignored", site.reason)
        out.append(site)
    return tuple(out)


def marker_line(indent: str, rule: Rule, reason: str, newline: str) -> str:
    """The comment line a rewrite leaves above a statement it cannot vouch for."""
    return f"{indent}# {MARKER} follow-up[{rule}]: {reason}{newline}"
