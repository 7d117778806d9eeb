"""The legacy inventory: one record per legacy site, the same for the codemod (``results-codemod --report json``,
origin ``static``) and the pytest audit (``--legacy-audit-json``, origin ``runtime``).

Every record has ``file`` (relative, ``/``-separated), ``line``, ``column`` (None where unknown), ``rule`` (the kind
of use, one of ``RULES``), ``origin``, ``codemod`` (what the codemod does with the site: ``rewrites``, ``lists`` it
for a human, ``unseen``: it does not see it, a dynamic use; or ``skips``, a look-alike it leaves alone), ``reason``, ``statement`` (the statement's text,
normalised: formatting and comments do not count) and ``fingerprint`` (from file, rule and statement, not the line:
a site keeps it when code above it moves). Each origin adds its own keys.

The codemod loads this module by file (``codemods.results._table.load_own``): it imports nothing from ``compat``.
"""

from __future__ import annotations

import ast
import hashlib
import io
import tokenize
from collections import Counter
from collections.abc import Iterable, Mapping
from typing import Any, Literal

__all__ = [
    "RULES",
    "SCHEMA_VERSION",
    "Statements",
    "fingerprints",
    "rule_of_category",
]

SCHEMA_VERSION = 2
"""Of both JSON documents; raised whenever a key changes meaning or goes away (new keys do not raise it)."""

Origin = Literal["static", "runtime"]
Verdict = Literal["rewrites", "lists", "unseen", "skips"]
"""``skips``: a look-alike the codemod leaves alone on purpose (static records only)."""

RULES: Mapping[str, tuple[str, str]] = {
    "import": ("legacy import", "A legacy import path: the codemod imports the replacement instead, or lists an "
               "import it cannot remove (a re-export, a star import)."),
    "constructor": ("legacy handler constructor", "A built-in ResultHandler is constructed: the codemod makes it "
                    "the matching Result, with its arguments mapped; an argument without equivalent is listed."),
    "keyword": ("result_handler= keyword", "result_handler= is given to a Task, a Flow or task: the codemod passes "
                "result= instead; a value it cannot turn into a Result is listed."),
    "attribute": (".result_handler attribute", ".result_handler is read or set on a Task or a Flow: the codemod "
                  "uses .result; on an object it cannot tell is a Task or a Flow it lists the site."),
    "direct-call": ("handler read/write call", "A handler's read() or write() is called: the codemod follows the "
                    "Result it becomes (.value, .location); a handler it cannot follow is listed."),
    "subclass": ("handler of your own", "A class subclasses ResultHandler: port it to a Result subclass by hand "
                 "(until then as_result(handler) runs it)."),
    "dynamic": ("dynamic use", "result_handler as a string (getattr/setattr, a **kwargs key): no codemod can follow "
                "it; use 'result' where it reaches a Task or a Flow."),
    "reference": ("other reference", "A legacy name used other than in a call the codemod rewrites (isinstance, an "
                  "annotation, a name nothing defines): change it by hand."),
    "profile": ("profile to choose", "The module imports the packages of two profiles: run the codemod on it with "
                "the --profile it is written for."),
    "flow": ("Prefect 1 flow", "A 'with Flow(...) as flow:' block and its flow.run() (--profile prefect3): the "
             "codemod makes it an @flow function and a call of it; a flow holding what it cannot move is listed "
             "with the reason."),
    "task-class": ("Task subclass", "A Task subclass (--profile prefect3): the codemod makes one holding only a "
                   "run() that never uses self an @task function; any other is listed with the reason."),
}
"""Each kind of site (the codemod's rules, and what the audit's warning categories map to): title, help text."""

_CATEGORY_RULES = {
    "LegacyHandlerWarning": "constructor",
    "LegacySubclassWarning": "subclass",
    "LegacyKeywordWarning": "keyword",
    "LegacyAttributeWarning": "attribute",
    "LegacyImportWarning": "import",
}


def rule_of_category(category: str) -> str:
    """The rule of a runtime site, from its warning category's name."""
    return _CATEGORY_RULES.get(category, "reference")


class Statements:
    """The statements of one module's text, to name a site by the normalised text of the statement holding it."""

    def __init__(self, text: str, tree: ast.Module | None = None) -> None:
        self.lines = text.splitlines()
        if tree is None:
            try:
                tree = ast.parse(text)
            except (SyntaxError, ValueError, RecursionError, MemoryError):
                tree = None
        self._spans: list[tuple[int, int]] = []
        if tree is not None:
            for node in ast.walk(tree):
                if isinstance(node, ast.stmt):
                    first = min([node.lineno, *(d.lineno for d in getattr(node, "decorator_list", ()))])
                    body = getattr(node, "body", None)
                    last = body[0].lineno - 1 if isinstance(body, list) and body and isinstance(body[0], ast.stmt) \
                        else node.end_lineno or node.lineno
                    self._spans.append((first, max(first, last)))

    def span(self, line: int) -> tuple[int, int]:
        """First and last line of the innermost statement (a compound statement's header) holding ``line``."""
        holding = [span for span in self._spans if span[0] <= line <= span[1]]
        return max(holding, key=lambda span: (span[0], -span[1])) if holding else (line, line)

    def text(self, line: int) -> str:
        """The normalised text of the statement holding ``line``: its tokens joined by one space, no comments."""
        first, last = self.span(line)
        segment = "\n".join(self.lines[first - 1:last]).strip()
        if not segment:
            return ""
        try:
            tokens = [token.string for token in tokenize.generate_tokens(io.StringIO(segment + "\n").readline)
                      if token.type not in _LAYOUT]
        except (tokenize.TokenError, IndentationError, SyntaxError):
            return " ".join(segment.split())
        return " ".join(tokens)


_LAYOUT = frozenset({tokenize.COMMENT, tokenize.NL, tokenize.NEWLINE, tokenize.INDENT, tokenize.DEDENT,
                     tokenize.ENDMARKER})


def fingerprints(records: Iterable[dict[str, Any]]) -> None:
    """Set each record's ``fingerprint``: a hash of its file, rule and statement, and its rank among the records of
    the same three (in line order), so it survives code moving around it and two equal statements differ."""
    records = sorted(records, key=lambda r: (r["file"], r["line"], r.get("column") or 0))
    seen: Counter[tuple[str, str, str]] = Counter()
    for record in records:
        key = (record["file"], record["rule"], record["statement"])
        digest = hashlib.sha256("\0".join(key).encode("utf-8", "surrogatepass")).hexdigest()[:32]
        record["fingerprint"] = f"{digest}:{seen[key]}"
        seen[key] += 1
