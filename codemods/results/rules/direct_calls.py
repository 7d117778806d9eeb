"""``uri = h.write(v)`` -> ``uri = h.write(v).location``, ``h.read(uri)`` -> ``h.read(uri).value``.

Only on objects this module can see are built-in handlers that the codemod turns into Results (or a Task's
``result_handler``); such an object passed on elsewhere is reported, since code there may still expect a handler.
So is a rewritten constructor whose object the codemod cannot follow to its calls: one stored in a container or
an attribute, returned, or passed as an argument (other than as a Task's or Flow's ``result=``/``result_handler=``).
"""

from __future__ import annotations

import ast

from compat.renames import RESULT_ACCESSORS
from codemods.results.rules.base import Context, RewriteRule
from codemods.results.rules.keywords import engine_callee
from codemods.results.scopes import Scope, lookup

__all__ = ["DirectCalls"]

_SUFFIX = RESULT_ACCESSORS


class DirectCalls(RewriteRule):
    name = "direct-call"
    description = "write()/read() on a rewritten handler return a Result: take .location/.value"

    def apply(self, context: Context) -> None:
        names = context.names
        unresolved: list[ast.Call] = []
        for call in context.tracker.calls:
            func = call.func
            if not isinstance(func, ast.Attribute) or func.attr not in _SUFFIX:
                continue
            scope = context.tracker.scope_of[id(call)]
            if names.object_kind(func.value, scope) not in ("handler", "handler-read"):
                if not names.maybe_rewritten_handler(func.value, scope):
                    unresolved.append(call)
                else:
                    context.follow_up(call, "direct-call", f"{context.code(func.value)} holds a rewritten "
                                 "handler (now a Result) on some paths and something else on others: its "
                                 f".{func.attr}() returns a Result on those paths")
                continue
            if isinstance(func.value, ast.Name):
                context.handled.add(id(func.value))
            if id(call) in context.tracker.expression_statements:
                continue  # the returned value is discarded: nothing to adapt
            suffix = _SUFFIX[func.attr]
            context.append_after(call, f".{suffix}")
            context.site(call, "direct-call", "rewritten", f".{func.attr}(...) returns a Result -> .{func.attr}(...).{suffix}")
        for name in context.tracker.escapes:
            if id(name) in context.handled:
                continue
            scope = context.tracker.scope_of[id(name)]
            if names.object_kind(name, scope) in ("handler", "handler-read"):
                context.follow_up(name, "direct-call", f"{name.id} now holds a Result and is passed on here: "
                             "code that calls its .write()/.read() must take .location/.value")
        followed = _followed(context) if context.constructed else set()
        lost = [constructor for constructor in context.constructed if id(constructor) not in followed]
        for constructor in lost:
            effect = ("its .write(v) now returns a Result (take .location) and .read(uri) a Result (take .value)")
            context.follow_up(constructor, "direct-call", f"{context.code(constructor)} becomes a Result stored, "
                              f"returned or passed on where the codemod cannot follow it: {effect}",
                              marker="a Result now (was a handler), where the codemod cannot follow it: "
                              ".write(v)/.read(uri) return Results (take .location/.value)")
        if lost:
            _calls_reaching(context, lost, unresolved)


def _calls_reaching(context: Context, lost: list[ast.Call], calls: list[ast.Call]) -> None:
    """Report the ``.write()``/``.read()`` calls whose receiver leads to where a ``lost`` constructor's object
    went: a name bound to a value holding one (``handlers["j"].write``), a function returning one
    (``make().write``), an attribute or class attribute assigned one (``self.handler.write``)."""
    lost_ids = {id(constructor) for constructor in lost}

    def holds(node: ast.AST) -> bool:
        return any(id(inner) in lost_ids for inner in ast.walk(node))

    tracker = context.tracker
    scopes = {id(scope): scope for scope in tracker.scope_of.values()}
    scopes[id(tracker.module)] = tracker.module
    holders: set[int] = set()
    attributes = {target.attr for target, value in tracker.assigned_attributes if holds(value)}
    for scope in scopes.values():
        for bindings in scope.bindings.values():
            for binding in bindings:
                if binding.value is not None and holds(binding.value):
                    holders.add(id(binding))
                    if scope.kind == "class":
                        attributes.add(binding.name)  # read as self.name
                elif binding.kind == "def" and any(
                    isinstance(node, ast.Return) and node.value is not None and holds(node.value)
                    for node in ast.walk(binding.node)
                ):
                    holders.add(id(binding))
    for call in calls:
        if id(call) in tracker.expression_statements:
            continue  # the returned value is discarded: nothing changes
        func = call.func
        assert isinstance(func, ast.Attribute)
        if _reaches(func.value, tracker.scope_of[id(call)], holders, attributes):
            context.follow_up(call, "direct-call", f"{context.code(func.value)} may hold a handler the codemod "
                         f"rewrote into a Result: its .{func.attr}() now returns a Result (take .{_SUFFIX[func.attr]})")


def _reaches(node: ast.expr, scope: Scope, holders: set[int], attributes: set[str]) -> bool:
    while True:
        if isinstance(node, ast.Subscript):
            node = node.value
        elif isinstance(node, ast.Call):
            node = node.func
        elif isinstance(node, ast.Attribute):
            if node.attr in attributes:
                return True
            node = node.value
        elif isinstance(node, ast.Name):
            return any(id(binding) in holders for binding in lookup(node.id, scope) or ())
        else:
            return False


def _followed(context: Context) -> set[int]:
    """The ids of the values whose uses some rule follows: bound to a plain name (its reads are tracked),
    discarded, the receiver of .write()/.read(), given as a Task's or Flow's handler (keyword or attribute)."""
    tracker, profile = context.tracker, context.profile
    followed = set(tracker.bound_values) | tracker.expression_statements
    attributes = {name for rename in profile.of_kind("attribute") for name in (rename.old, rename.new)}
    followed.update(id(value) for target, value in tracker.assigned_attributes if target.attr in attributes)
    keywords = {rename.old: rename for rename in profile.of_kind("keyword")}
    new_keywords = {rename.new: rename for rename in keywords.values()}
    for call in tracker.calls:
        if isinstance(call.func, ast.Attribute) and call.func.attr in _SUFFIX:
            followed.add(id(call.func.value))
        for keyword in call.keywords:
            if keyword.arg in keywords:
                followed.add(id(keyword.value))  # the keyword rule rewrites or reports it
            elif keyword.arg in new_keywords:
                scope = tracker.scope_of[id(call)]
                if engine_callee(context, call, scope, new_keywords[keyword.arg]) is not None:
                    followed.add(id(keyword.value))
    return followed

