"""The codemod on one module's text: pre-filter, analyse, apply the rules, splice the edits, check the result.

``transform_source`` is the whole transform; the CLI, the runner and the libcst ``Codemod`` command all call it.
Only the rewritten spans change: the edits are spliced into the original text, so formatting, comments, quotes
and newlines elsewhere are the original bytes (libcst's own round trip is not relied on for the file).
"""

from __future__ import annotations

import ast
import re
import sys
import warnings
from dataclasses import dataclass

from compat.renames import Profile
from codemods.results.model import Site
from codemods.results.names import Names
from codemods.results.rules import RULES, Context
from codemods.results.scopes import build
from codemods.results.source import Source

__all__ = ["RewriteError", "Transformed", "does_not_parse", "may_mention", "needles", "transform_source"]


class RewriteError(RuntimeError):
    """The rewritten text does not parse: a bug in a rule. The file is left as it was."""

_NEEDLES: dict[str, re.Pattern[bytes]] = {}  # per profile name (profiles are data, not hashable)
_WATCHED: dict[str, frozenset[str]] = {}


@dataclass(frozen=True)
class Transformed:
    """The new text of a module and every site the rules looked at, in source order."""

    code: str
    sites: tuple[Site, ...]
    changed: bool


def needles(profile: Profile) -> re.Pattern[bytes]:
    """The byte strings at least one of which any file that can mention a legacy name contains.

    Every legacy class, keyword and attribute name, the last part of every legacy module path (an
    ``import a.b as x`` names it), and the replacements that a kept argument without equivalent may still follow
    (so that follow-up is reported again on the next run); a needle that contains another is implied by it.
    """
    if profile.name in _NEEDLES:
        return _NEEDLES[profile.name]
    words = {rename.old.rsplit(".", 1)[-1] for rename in profile.renames}
    words.update(module.rsplit(".", 1)[-1] for module in profile.legacy_modules)
    words.update(r.new for r in profile.of_kind("class") if any(new is None for new in r.arguments.values()))
    minimal = sorted(w for w in words if not any(o != w and o in w for o in words))
    pattern = _NEEDLES[profile.name] = re.compile(b"|".join(re.escape(w.encode("ascii")) for w in minimal))
    return pattern


def may_mention(data: bytes, profile: Profile) -> bool:
    """False when the bytes cannot mention any legacy name: such a file is never parsed."""
    return needles(profile).search(data) is not None


def _watched_attributes(profile: Profile) -> frozenset[str]:
    if profile.name in _WATCHED:
        return _WATCHED[profile.name]
    names = {rename.old for rename in profile.of_kind("class")}
    names.update(part for module in profile.legacy_modules for part in module.split(".")[1:])
    watched = _WATCHED[profile.name] = frozenset(names)
    return watched


def _renamed(profile: Profile) -> frozenset[str]:
    """The keyword and attribute names the profile renames (``result_handler``)."""
    return frozenset(rename.old for rename in profile.renames if rename.kind in ("keyword", "attribute"))


def transform_source(text: str, profile: Profile) -> Transformed:
    """Rewrite one module's text. Raises ``SyntaxError`` for a module Python cannot parse."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # invalid escape sequences and the like are not ours to report
        tree = ast.parse(text)
    source = Source(text)
    tracker = build(tree, _watched_attributes(profile), _renamed(profile))
    context = Context(profile, source, tree, tracker, Names(profile, tracker))
    for rule in RULES:
        rule.apply(context)
    sites = tuple(sorted(context.sites, key=lambda site: (site.line, site.column)))
    if not context.edits:
        return Transformed(text, sites, False)
    code = source.apply(context.edits)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            ast.parse(code)
    except SyntaxError as exc:  # a bug in a rule: fail this file, never write it
        raise RewriteError(f"the rewrite would not parse (line {exc.lineno}: {exc.msg}); please report it") from exc
    return Transformed(code, sites, code != text)


def does_not_parse(text: str, error: SyntaxError) -> str:
    """Why a module failed to parse, for the report: when libcst's parser, which knows newer grammars than the
    running Python, accepts it, the module uses syntax newer than this Python and a newer one can rewrite it."""
    reason = f"does not parse: line {error.lineno}: {error.msg}"
    import libcst  # only on this failure path: libcst's own parser is the second opinion

    try:
        libcst.parse_module(text)
    except Exception:  # libcst rejects it too: it is not valid Python
        return reason
    running = f"{sys.version_info.major}.{sys.version_info.minor}"
    return (f"{reason}: the file uses syntax newer than Python {running}, which runs the codemod; run it with the "
            "Python version the project targets")
