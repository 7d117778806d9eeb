"""Candidates no rule can rewrite safely, each reported with its reason: nothing is skipped silently.

- ``class MyHandler(ResultHandler)``: users' own handlers stay; call sites wrap them with ``as_result(...)``.
- a renamed keyword or attribute as a string (``"result_handler"``): ``getattr``/``setattr``, or a key of a
  dict splatted into a call.
- any other reference to a legacy name (an annotation, ``isinstance``, a handler class passed as a value).
- names spelled like a legacy class but bound to something else are recorded as skipped (shadowing).
"""

from __future__ import annotations

import ast

from codemods.results.names import AMBIGUOUS
from codemods.results.rules.base import Context, RewriteRule

__all__ = ["DynamicAccess", "OtherReferences", "Subclasses"]


class Subclasses(RewriteRule):
    name = "subclass"
    description = "users' own ResultHandler subclasses are left in place and listed for porting"

    def apply(self, context: Context) -> None:
        for cls in context.tracker.classes:
            scope = context.tracker.scope_of[id(cls)]
            for base in cls.bases:
                target = context.names.resolve(base, scope)
                if target is None or target.kind != "legacy-class":
                    continue
                context.reported.add(id(base))
                rename = context.profile.find("class", "ResultHandler")
                how = rename.note if rename is not None and rename.note else "port it to a Result subclass"
                context.site(cls, "subclass", "manual", f"class {cls.name}({context.code(base)}) is a handler of "
                             f"your own: {how}")


class DynamicAccess(RewriteRule):
    name = "dynamic"
    description = "a renamed keyword or attribute as a string (getattr/setattr, **kwargs keys) is listed for a human"

    def apply(self, context: Context) -> None:
        if not context.tracker.strings:
            return
        parents = _parents(context.tree, {id(string) for string in context.tracker.strings})
        splatted = _splatted_names(context.tracker.calls, context.tree)
        for string in context.tracker.strings:
            if not _may_reach_an_engine(context, string, parents.get(id(string)), splatted):
                continue
            rename = next(r for r in context.profile.renames if r.old == string.value)
            context.site(string, "dynamic", "manual", f"the string {string.value!r} (dynamic attribute access or a "
                         f"keyword in a **kwargs dict): use {rename.new!r} if it reaches a Task or Flow")


class OtherReferences(RewriteRule):
    name = "reference"
    description = "other uses of legacy names are listed; look-alikes bound to something else are left alone"

    def apply(self, context: Context) -> None:
        names = context.names
        for spelling in names.legacy_spellings():
            legacy_spelling = spelling in names.legacy_class_names
            for read in context.tracker.reads.get(spelling, ()):
                if id(read) in context.reported or id(read) in context.consumed or id(read) in context.kept:
                    continue
                scope = context.tracker.scope_of[id(read)]
                target = names.resolve(read, scope)
                if target is AMBIGUOUS:
                    context.site(read, "reference", "manual", f"{spelling} is bound to a legacy name and to "
                                 "something else in this scope: resolve it by hand")
                elif target is not None and target.kind == "legacy-class":
                    context.site(read, "reference", "manual", _reference_reason(spelling, target.name, context))
                elif legacy_spelling and target is None and context.undefined(read, scope) is not None:
                    context.site(read, "reference", "manual", context.not_defined(read))
                elif legacy_spelling and target is None:
                    context.site(read, "reference", "skipped", f"{spelling} here is not the legacy class "
                                 "(a local binding shadows it)")
        for attribute in context.tracker.watched:
            if id(attribute) in context.reported or id(attribute) in context.kept or _root_consumed(attribute, context):
                continue
            scope = context.tracker.scope_of[id(attribute)]
            target = names.resolve(attribute, scope)
            if target is not None and target.kind == "legacy-class" and target is not AMBIGUOUS:
                context.site(attribute, "reference", "manual",
                             _reference_reason(context.code(attribute), target.name, context))


_ATTRIBUTE_FUNCTIONS = frozenset({"getattr", "setattr", "hasattr", "delattr"})
_MAPPING_METHODS = frozenset({"get", "pop", "setdefault"})


def _may_reach_an_engine(
    context: Context, string: ast.Constant, parent: ast.AST | None, splatted: set[str | int]
) -> bool:
    """Whether a string equal to a renamed keyword may name it where a Task or Flow sees it: an attribute name
    given to getattr/setattr/hasattr/delattr (of anything but an object of the module's own), or a key of a dict
    that is splatted into a call (``**kwargs``). A key of a dict that is never splatted is data."""
    if isinstance(parent, ast.Call):
        func = parent.func
        if isinstance(func, ast.Name) and func.id in _ATTRIBUTE_FUNCTIONS:
            scope = context.tracker.scope_of[id(parent)]
            return not (parent.args and context.names.not_engine(parent.args[0], scope))
        if isinstance(func, ast.Attribute) and func.attr in _MAPPING_METHODS and parent.args and parent.args[0] is string:
            return _names_splatted(func.value, splatted)
        return True
    if isinstance(parent, ast.Dict):
        if any(key is string for key in parent.keys):
            return id(parent) in splatted or _bound_name_splatted(context, parent, splatted)
        return True
    if isinstance(parent, ast.Subscript) and parent.slice is string:
        return _names_splatted(parent.value, splatted)
    return True


def _names_splatted(node: ast.expr, splatted: set[str | int]) -> bool:
    return not isinstance(node, ast.Name) or node.id in splatted


def _bound_name_splatted(context: Context, dictionary: ast.Dict, splatted: set[str | int]) -> bool:
    """A dict literal assigned to names: whether one of them is splatted; a dict used any other way may be."""
    for statement in ast.walk(context.tree):
        if isinstance(statement, (ast.Assign, ast.AnnAssign)) and statement.value is dictionary:
            targets = statement.targets if isinstance(statement, ast.Assign) else [statement.target]
            return any(_names_splatted(target, splatted) for target in targets)
    return True


def _splatted_names(calls: list[ast.Call], tree: ast.Module) -> set[str | int]:
    """The names splatted with ``**`` into a call or a dict display anywhere in the module, and the ids of dict
    displays splatted directly."""
    found: set[str | int] = set()
    values = [k.value for call in calls for k in call.keywords if k.arg is None]
    values += [v for node in ast.walk(tree) if isinstance(node, ast.Dict) for k, v in zip(node.keys, node.values)
               if k is None]
    for value in values:
        found.add(value.id if isinstance(value, ast.Name) else id(value))
    return found


def _parents(tree: ast.Module, children: set[int]) -> dict[int, ast.AST]:
    parents: dict[int, ast.AST] = {}
    for node in ast.walk(tree):
        for child in ast.iter_child_nodes(node):
            if id(child) in children:
                parents[id(child)] = node
    return parents


def _reference_reason(spelling: str, legacy: str, context: Context) -> str:
    rename = context.profile.find("class", legacy)
    replacement = context.profile.new_path(rename) if rename is not None else "the Result API"
    return f"{spelling} is used other than in a call the codemod rewrites: use {replacement} here by hand"


def _root_consumed(attribute: ast.Attribute, context: Context) -> bool:
    node: ast.expr = attribute
    while isinstance(node, ast.Attribute):
        node = node.value
    return id(node) in context.consumed
