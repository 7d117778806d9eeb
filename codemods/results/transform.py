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
from collections.abc import Iterable
from dataclasses import dataclass, replace
from typing import BinaryIO

from compat.renames import AUTO_PROFILES, PROFILES, Profile
from codemods.results._table import load_own
from codemods.results.model import OPEN, Edit, Site
from codemods.results.names import Names
from codemods.results.pragmas import MARKER, Pragmas, apply_ignores, marker_line, scan
from codemods.results.rules import RULES, Context
from codemods.results.scopes import build
from codemods.results.source import Source

__all__ = ["RewriteError", "Transformed", "does_not_parse", "may_mention", "may_mention_in", "needles",
           "transform_source"]


class RewriteError(RuntimeError):
    """The rewritten text does not parse: a bug in a rule. The file is left as it was."""

_NEEDLES: dict[str, re.Pattern[bytes]] = {}  # per profile name, "" for every profile (profiles are unhashable)
_WATCHED: dict[str, frozenset[str]] = {}


@dataclass(frozen=True)
class Transformed:
    """The new text of a module and every site the rules looked at, in source order."""

    code: str
    sites: tuple[Site, ...]
    changed: bool


def needles(profile: Profile | None) -> re.Pattern[bytes]:
    """The byte strings at least one of which any file that can mention a legacy name contains.

    Every legacy class, keyword and attribute name, the last part of every legacy module path (an
    ``import a.b as x`` names it), the replacements that a kept argument without equivalent may still follow
    (so that follow-up is reported again on the next run), and the pragma prefix (the markers earlier runs left);
    a needle that contains another is implied by it. ``profile`` None: those of every profile.
    """
    key = profile.name if profile is not None else ""
    if key in _NEEDLES:
        return _NEEDLES[key]
    words = {MARKER.rstrip(":")}
    for one in [profile] if profile is not None else AUTO_PROFILES.values():
        words.update(rename.old.rsplit(".", 1)[-1] for rename in one.renames)
        words.update(module.rsplit(".", 1)[-1] for module in one.legacy_modules)
        words.update(r.new for r in one.of_kind("class") if any(new is None for new in r.arguments.values()))
        if one.flows is not None:
            words.update((one.flows.flow_class, one.flows.task_class))
    minimal = sorted(w for w in words if not any(o != w and o in w for o in words))
    pattern = _NEEDLES[key] = re.compile(b"|".join(re.escape(w.encode("ascii")) for w in minimal))
    return pattern


def may_mention(data: bytes, profile: Profile | None) -> bool:
    """False when the bytes cannot mention any legacy name: such a file is never parsed."""
    return needles(profile).search(data) is not None


def may_mention_in(file: BinaryIO, profile: Profile | None, chunk: int = 1024 * 1024) -> bool:
    """``may_mention`` for a file read a chunk at a time (one that is too large to hold whole); consecutive chunks
    overlap by the longest needle, so a name cut at a boundary is still found."""
    pattern = needles(profile)
    overlap = max(len(alternative) for alternative in pattern.pattern.split(b"|"))
    tail = b""
    while block := file.read(chunk):
        window = tail + block
        if pattern.search(window) is not None:
            return True
        tail = window[-overlap:]
    return False


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


def transform_source(text: str, profile: Profile | None = None) -> Transformed:
    """Rewrite one module's text with ``profile``, or (None) the profile of the package the module imports.

    A module that imports nothing of the profile (``_relates``) gets no rewrite and no follow-ups (a
    ``result_handler`` there is someone else's); one that imports something of both profiles is listed for a human
    to choose. Pragmas
    (``codemods.results.pragmas``) silence follow-ups and keep earlier runs' markers listed. Raises
    ``SyntaxError`` for a module Python cannot parse.
    """
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # invalid escape sequences and the like are not ours to report
        tree = ast.parse(text)
    pragmas = scan(text)
    imports = _imports(tree)
    candidates = [profile] if profile is not None else list(AUTO_PROFILES.values())
    matching = [p for p in candidates if _relates(imports, p)]
    if len(matching) != 1:
        sites = pragmas.follow_ups
        if len(matching) > 1:
            names = " and ".join(sorted(p.name for p in matching))
            first = min(statement.lineno for statement in imports)
            sites += (Site(first, 1, "profile", "manual", f"the module imports the packages of both {names}: run "
                           f"the codemod on it with --profile {matching[0].name} or --profile {matching[1].name}"),)
        elif profile is not None:
            others = [p.name for p in AUTO_PROFILES.values()
                      if p is not profile and _relates(imports, p)]
            if others:
                sites += (Site(min(s.lineno for s in imports), 1, "profile", "skipped", f"the module imports "
                               f"{others[0]}, not {profile.name}: run the codemod with --profile {others[0]} or "
                               "--profile auto to migrate it"),)
        return Transformed(text, _with_statements(apply_ignores(_in_order(sites), pragmas.ignores), text, tree), False)
    profile = matching[0]
    source = Source(text)
    tracker = build(tree, _watched_attributes(profile), _renamed(profile))
    context = Context(profile, source, tree, tracker, Names(profile, tracker))
    for rule in RULES:
        rule.apply(context)
    sites = _with_statements(apply_ignores(_in_order((*context.sites, *pragmas.follow_ups)), pragmas.ignores), text, tree)
    if not context.edits:
        return Transformed(text, sites, False)
    _mark_follow_ups(context, pragmas)
    code = source.apply(context.edits)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            ast.parse(code)
    except SyntaxError as exc:  # a bug in a rule: fail this file, never write it
        raise RewriteError(f"the rewrite would not parse (line {exc.lineno}: {exc.msg}); please report it") from exc
    return Transformed(code, sites, code != text)


def _with_statements(sites: tuple[Site, ...], text: str, tree: ast.Module) -> tuple[Site, ...]:
    """The sites, each with the normalised text of the statement holding it (how the inventory names a site)."""
    if not sites:
        return sites
    statements = load_own("compat.audit.inventory").Statements(text, tree)
    return tuple(replace(site, statement=statements.text(site.line)) for site in sites)


def _in_order(sites: Iterable[Site]) -> tuple[Site, ...]:
    return tuple(sorted(sites, key=lambda site: (site.line, site.column)))


def _relates(imports: list[ast.Import | ast.ImportFrom], profile: Profile) -> bool:
    """Whether the module imports something of the profile: a legacy module, the new module, an engine module as a
    whole (``import prefect``), or one of the profile's names from an engine module (``from compat import Task``).
    ``from compat import shout`` (a project's own module named compat) does not count."""
    whole = (*profile.legacy_modules, profile.new_module, *_kept_modules(profile))
    engines = (*profile.engine_modules, *([profile.adapter_module] if profile.adapter_module else []))
    names = {*(name for r in profile.of_kind("keyword") for name in r.applies_to), "*"}
    names.update(r.new for r in profile.of_kind("class"))
    names.update(r.wrap_value for r in profile.renames if r.wrap_value)
    for statement in imports:
        if isinstance(statement, ast.Import):
            modules = [alias.name for alias in statement.names]
            if any(m in engines or _under(m, whole) for m in modules):
                return True
        elif statement.module and not statement.level:
            module = statement.module
            if _under(module, whole) or module in engines and any(a.name in names for a in statement.names):
                return True
    return False


def _kept_modules(profile: Profile) -> set[str]:
    """The modules of the callables that keep the legacy keyword (``prefect.engine.result``) and of replacements
    outside ``new_module``: code importing them is the profile's, whatever else it imports."""
    modules = {name.rsplit(".", 1)[0] for name in profile.keyword_kept_by}
    modules.update(rename.module for rename in profile.of_kind("class") if rename.module)
    return modules


def _under(module: str, packages: Iterable[str]) -> bool:
    return any(module == package or module.startswith(package + ".") for package in packages)


def _imports(tree: ast.Module) -> list[ast.Import | ast.ImportFrom]:
    return [node for node in ast.walk(tree) if isinstance(node, (ast.Import, ast.ImportFrom))]


def _mark_follow_ups(context: Context, pragmas: Pragmas) -> None:
    """Put a marker comment above the statement of each follow-up the rewritten code would no longer show, unless
    the comments right above it hold that marker already or the follow-up is ignored."""
    source = context.source
    ignored = {(site.line, site.column) for site in apply_ignores(tuple(context.sites), pragmas.ignores)
               if site.action == "ignored"}
    starts = _statement_starts(context.tree)
    inside_strings = _lines_inside_strings(context.tree)
    placed: set[tuple[int, str]] = set()
    for node, rule, reason in context.follow_ups:
        if (node.lineno, source.column(node)) in ignored:  # type: ignore[attr-defined]
            continue
        line = _statement_line(starts, node.lineno)  # type: ignore[attr-defined]
        while True:  # a line that begins inside a string, or continues the line before it (\), is not a start
            if line in inside_strings:
                line = inside_strings[line]
            elif line > 1 and source.segment(source.line_start(line - 1), source.line_start(line)).rstrip(
                "\r\n"
            ).endswith("\\"):
                line -= 1
            else:
                break
        position = source.line_start(line)
        current = source.segment(position, source.line_end(line))
        indent = current[: len(current) - len(current.lstrip(" \t"))]
        text = marker_line(indent, rule, " ".join(reason.split()), source.newline)
        if _marked_above(source, line, text.strip()) or (line, text) in placed:
            continue
        placed.add((line, text))
        context.edits.append(Edit(position, OPEN, position, text))


def _marked_above(source: Source, line: int, marker: str) -> bool:
    """Whether the comment lines directly above ``line`` include ``marker``."""
    above = line - 1
    while above >= 1:
        text = source.segment(source.line_start(above), source.line_end(above)).strip()
        if not text.startswith("#"):
            return False
        if text == marker:
            return True
        above -= 1
    return False


def _statement_starts(tree: ast.Module) -> list[tuple[int, int]]:
    """(first line, last line) of every statement, decorators included, in the order of ``ast.walk``."""
    spans = []
    for node in ast.walk(tree):
        if isinstance(node, ast.stmt):
            first = min([node.lineno, *(d.lineno for d in getattr(node, "decorator_list", ()))])
            spans.append((first, node.end_lineno or node.lineno))
    return spans


def _statement_line(spans: list[tuple[int, int]], line: int) -> int:
    """The first line of the innermost statement that holds ``line``."""
    holding = [span for span in spans if span[0] <= line <= span[1]]
    return max(holding, key=lambda span: (span[0], -span[1]))[0] if holding else line


def _lines_inside_strings(tree: ast.Module) -> dict[int, int]:
    """Each line that begins inside a multi-line string literal -> the line the literal starts on."""
    inside: dict[int, int] = {}
    for node in ast.walk(tree):
        if isinstance(node, (ast.Constant, ast.JoinedStr)) and node.end_lineno and node.end_lineno > node.lineno:
            if isinstance(node, ast.JoinedStr) or isinstance(node.value, (str, bytes)):
                for line in range(node.lineno + 1, node.end_lineno + 1):
                    inside.setdefault(line, node.lineno)
    return inside


_NESTING_LIMITS = frozenset({"too many nested parentheses", "too many levels of indentation",
                             "too many statically nested blocks"})
"""Python's own limits on nesting: a file past one cannot be valid in any version of Python."""


def does_not_parse(text: str, error: SyntaxError) -> str:
    """Why a module failed to parse, for the report: when libcst's parser, which knows newer grammars than the
    running Python, accepts it, the module uses syntax newer than this Python and a newer one can rewrite it."""
    reason = f"does not parse: line {error.lineno}: {error.msg}"
    if error.msg in _NESTING_LIMITS:  # no grammar accepts it, and libcst's parser crashes the process on such depth
        return f"{reason} (Python cannot import it either)"
    import libcst  # only on this failure path: libcst's own parser is the second opinion

    try:
        libcst.parse_module(text)
    except Exception:  # libcst rejects it too: it is not valid Python
        return reason
    running = f"{sys.version_info.major}.{sys.version_info.minor}"
    return (f"{reason}: the file uses syntax newer than Python {running}, which runs the codemod; run it with the "
            "Python version the project targets")
