"""``uri = h.write(v)`` -> ``uri = h.write(v).location``, ``h.read(uri)`` -> ``h.read(uri).value``.

Only on objects this module can see are built-in handlers that the codemod turns into Results (or a Task's
``result_handler``); such an object passed on elsewhere is reported, since code there may still expect a handler.
So is a rewritten constructor whose object the codemod cannot follow to its calls: one stored in a container or
an attribute, returned, or passed as an argument (other than as a Task's or Flow's ``result=``/``result_handler=``).
"""

from __future__ import annotations

import ast

from codemods.results.rules.base import Context, RewriteRule
from codemods.results.rules.keywords import engine_callee

__all__ = ["DirectCalls"]

_SUFFIX = {"write": "location", "read": "value"}


class DirectCalls(RewriteRule):
    name = "direct-call"
    description = "write()/read() on a rewritten handler return a Result: take .location/.value"

    def apply(self, context: Context) -> None:
        names = context.names
        for call in context.tracker.calls:
            func = call.func
            if not isinstance(func, ast.Attribute) or func.attr not in _SUFFIX:
                continue
            scope = context.tracker.scope_of[id(call)]
            if names.object_kind(func.value, scope) not in ("handler", "handler-read"):
                if names.maybe_rewritten_handler(func.value, scope):
                    context.site(call, "direct-call", "manual", f"{context.code(func.value)} holds a rewritten "
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
                context.site(name, "direct-call", "manual", f"{name.id} now holds a Result and is passed on here: "
                             "code that calls its .write()/.read() must take .location/.value")
        followed = _followed(context)
        for constructor in context.constructed:
            if id(constructor) not in followed:
                context.site(constructor, "direct-call", "manual", f"{context.code(constructor)} becomes a Result "
                             "stored, returned or passed on where the codemod cannot follow it: its "
                             ".write(v) now returns a Result (take .location) and .read(uri) a Result "
                             "(take .value)")


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

