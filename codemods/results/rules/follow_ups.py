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
        for string in context.tracker.strings:
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
                if id(read) in context.reported or id(read) in context.consumed:
                    continue
                scope = context.tracker.scope_of[id(read)]
                target = names.resolve(read, scope)
                if target is AMBIGUOUS:
                    context.site(read, "reference", "manual", f"{spelling} is bound to a legacy name and to "
                                 "something else in this scope: resolve it by hand")
                elif target is not None and target.kind == "legacy-class":
                    context.site(read, "reference", "manual", _reference_reason(spelling, target.name, context))
                elif legacy_spelling and target is None:
                    context.site(read, "reference", "skipped", f"{spelling} here is not the legacy class "
                                 "(a local binding shadows it)")
        for attribute in context.tracker.watched:
            if id(attribute) in context.reported or _root_consumed(attribute, context):
                continue
            scope = context.tracker.scope_of[id(attribute)]
            target = names.resolve(attribute, scope)
            if target is not None and target.kind == "legacy-class" and target is not AMBIGUOUS:
                context.site(attribute, "reference", "manual",
                             _reference_reason(context.code(attribute), target.name, context))


def _reference_reason(spelling: str, legacy: str, context: Context) -> str:
    rename = context.profile.find("class", legacy)
    replacement = context.profile.new_path(rename) if rename is not None else "the Result API"
    return f"{spelling} is used other than in a call the codemod rewrites: use {replacement} here by hand"


def _root_consumed(attribute: ast.Attribute, context: Context) -> bool:
    node: ast.expr = attribute
    while isinstance(node, ast.Attribute):
        node = node.value
    return id(node) in context.consumed
