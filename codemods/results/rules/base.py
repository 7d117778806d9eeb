"""What every rule works with: the module's analysis, and the edits, sites and imports the rules produce."""

from __future__ import annotations

import ast
from functools import cached_property
from typing import Any

from compat.renames import Profile, Rename
from codemods.results.model import CLOSE, OPEN, REPLACE, SUFFIX, Action, Edit, Rule, Site
from codemods.results.names import Names
from codemods.results.scopes import Scope, Tracker, lookup
from codemods.results.source import Source

__all__ = ["Context", "RewriteRule"]


class Context:
    """The state one module's rewrite accumulates; rules read the analysis and append edits and sites."""

    def __init__(self, profile: Profile, source: Source, tree: ast.Module, tracker: Tracker, names: Names) -> None:
        self.profile = profile
        self.source = source
        self.tree = tree
        self.tracker = tracker
        self.names = names
        self.edits: list[Edit] = []
        self.sites: list[Site] = []
        self.needed: set[tuple[str, str]] = set()  # (module, name) imports the rewritten code needs
        self.first_use: dict[str, int] = {}  # module -> the first line that uses a name imported from it
        self.uses: dict[tuple[str, str], list[int]] = {}  # (module, name) -> the lines that use the new name
        self.consumed: set[int] = set()  # ids of Name reads of legacy bindings that the edits removed
        self.reported: set[int] = set()  # ids of nodes a rule already reported (not to be reported twice)
        self.handled: set[int] = set()  # ids of Name reads whose use a rule rewrote (not an escape)
        self.constructed: list[ast.Call] = []  # the handler constructor calls rewritten into Results
        self.follow_ups: list[tuple[ast.AST, Rule, str]] = []  # manual sites the next run could not find again
        self.kept = self._kept_values()  # ids of nodes inside a value the target version still takes as it is
        self.flow_functions: dict[int, str] = {}  # id(with Flow block) -> the @flow function it became
        self.dropped_imports: set[int] = set()  # ids of import aliases the rewritten code no longer reads
        self.moved: set[int] = set()  # ids of constructor arguments a rule moved out of the call (location=)
        self.task_classes: dict[int, Any] | None = None  # the Task subclasses examined (rules.task_classes)

    @cached_property
    def parents(self) -> dict[int, ast.AST]:
        """id(node) -> the node holding it, over the whole module: made once, on the first rule that asks."""
        return {id(child): node for node in ast.walk(self.tree) for child in ast.iter_child_nodes(node)}

    def _kept_values(self) -> set[int]:
        """The nodes inside the values of a legacy keyword given to a callable that keeps it
        (``Result(..., result_handler=JSONResultHandler())`` in Prefect 0.11-0.13): the keyword is listed, and
        what it is given stays a handler, as that callable expects."""
        kept: set[int] = set()
        if not self.profile.keyword_kept_by:
            return kept
        keywords = {rename.old for rename in self.profile.of_kind("keyword")}
        for call in self.tracker.calls:
            given = [k for k in call.keywords if k.arg in keywords]
            if given and self.names.is_any(call.func, self.tracker.scope_of[id(call)], self.profile.keyword_kept_by):
                kept.update(id(node) for keyword in given for node in ast.walk(keyword.value))
        return kept

    # -- reporting ---------------------------------------------------------------------------------------------

    def site(self, node: ast.AST, rule: Rule, action: Action, reason: str = "") -> None:
        self.sites.append(Site(node.lineno, self.source.column(node), rule, action, reason))  # type: ignore[attr-defined]

    def follow_up(self, node: ast.AST, rule: Rule, reason: str, marker: str | None = None) -> None:
        """A manual site that the rewritten code no longer shows (the handler is a Result by then): reported, and
        marked in the file with a comment (``marker``, else ``reason``, as it reads after the rewrite) that every
        later run reports again (``codemods.results.pragmas``)."""
        self.site(node, rule, "manual", reason)
        self.follow_ups.append((node, rule, marker or reason))

    def code(self, node: ast.AST) -> str:
        """The node's source text, for messages."""
        text = self.source.segment(self.source.start(node), self.source.end(node))
        return text if len(text) <= 60 else text[:57] + "..."

    def undefined(self, node: ast.expr, scope: Scope) -> ast.Name | None:
        """The name ``node`` (a name, or a call of one) reads that nothing in the module binds or may bind (no
        import, assignment or ``import *``): that line raises NameError when it runs."""
        if isinstance(node, ast.Call):
            node = node.func
        if not isinstance(node, ast.Name) or lookup(node.id, scope) is not None or self.tracker.module.star_modules:
            return None
        return node

    def not_defined(self, name: ast.Name) -> str:
        """The follow-up for a legacy name nothing binds."""
        self.reported.add(id(name))
        rename = self.profile.find("class", name.id)
        fix = f"import {self.profile.new_path(rename)} and use it" if rename is not None else "import what it names"
        return f"{name.id} is not defined here: nothing imports or binds it, so this line raises NameError; {fix}"

    def built_in_result(self, value: ast.expr) -> bool:
        """Whether ``value`` is None or a call of a built-in handler or Result that the constructors rule rewrites
        whole (every argument mapped): a keyword given it moves without leaving anything half done."""
        if isinstance(value, ast.Constant) and value.value is None:
            return True
        if not isinstance(value, ast.Call):
            return False
        target = self.names.resolve(value.func, self.tracker.scope_of[id(value)])
        rename = target.rename if target is not None and target.kind == "legacy-class" else None
        if rename is None or rename.new == "Result" or len(value.args) > len(rename.positional):
            return False
        given = [*rename.positional[: len(value.args)], *(k.arg for k in value.keywords)]
        return all(name is not None and rename.new_keyword(name) is not None for name in given)

    # -- edits -------------------------------------------------------------------------------------------------

    def replace(self, start: int, end: int, text: str) -> None:
        self.edits.append(Edit(start, REPLACE, end, text))

    def replace_node(self, node: ast.AST, text: str) -> None:
        self.replace(self.source.start(node), self.source.end(node), text)

    def insert_before(self, node: ast.AST, text: str) -> None:
        self.insert_at(self.source.start(node), text)

    def insert_at(self, position: int, text: str) -> None:
        self.edits.append(Edit(position, OPEN, position, text))

    def append_after(self, node: ast.AST, text: str, closing: bool = False) -> None:
        position = self.source.end(node)
        self.edits.append(Edit(position, CLOSE if closing else SUFFIX, position, text))

    def rename_keyword(self, keyword: ast.keyword, new: str) -> None:
        start = self.source.start(keyword)
        self.replace(start, start + len(keyword.arg or ""), new)

    def rename_attribute(self, attribute: ast.Attribute, new: str) -> None:
        end = self.source.end(attribute)
        self.replace(end - len(attribute.attr), end, new)

    def consume(self, node: ast.expr) -> None:
        """``node`` (a name or a dotted name) is replaced as a whole: its root name is no longer read."""
        while isinstance(node, ast.Attribute):
            node = node.value
        if isinstance(node, ast.Name):
            self.consumed.add(id(node))

    # -- names the rewritten code introduces ---------------------------------------------------------------------

    def can_introduce(self, name: str, module: str, scope: Scope) -> bool:
        """Whether ``name``, imported from ``module`` at the top, would mean that at ``scope``: not shadowed
        there and not bound to anything else in the module."""
        expected = f"{module}.{name}"
        for bindings in (lookup(name, scope), self.tracker.module.bindings.get(name)):
            if bindings and any(b.kind != "import" or b.qualified != expected for b in bindings):
                return False
        return True

    def introduce(self, name: str, module: str, node: ast.AST) -> None:
        self.needed.add((module, name))
        line = node.lineno  # type: ignore[attr-defined]
        self.first_use[module] = min(line, self.first_use.get(module, line))
        self.uses.setdefault((module, name), []).append(line)

    # -- values given where a Result is now expected ----------------------------------------------------------

    def result_value(self, value: ast.expr, scope: Scope, keyword: Rename) -> bool:
        """Make ``value`` (given as ``result_handler=`` or assigned to ``.result_handler``) a Result.

        Values known to be Results once rewritten are left alone; any other is wrapped in ``as_result(...)``
        (which converts a built-in handler and wraps a user's own). False when the profile has no such
        function or its name is taken here: the caller reports the site as manual.
        """
        if isinstance(value, ast.Constant) and value.value is None:
            return True
        if self.names.object_kind(value, scope) in ("handler", "handler-read", "result"):
            if isinstance(value, ast.Name):
                self.handled.add(id(value))
            return True
        wrapper, module = keyword.wrap_value, self.profile.adapter_module
        if wrapper is None or module is None or not self.can_introduce(wrapper, module, scope):
            return False
        self.insert_before(value, f"{wrapper}(")
        self.append_after(value, ")", closing=True)
        self.introduce(wrapper, module, value)
        if isinstance(value, ast.Name):
            self.handled.add(id(value))
        return True


class RewriteRule:
    """One kind of rewrite: ``apply`` finds its sites in the analysed module and records edits and sites."""

    name: Rule
    description: str

    def apply(self, context: Context) -> None:  # pragma: no cover - interface
        raise NotImplementedError
