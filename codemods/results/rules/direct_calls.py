"""``uri = h.write(v)`` -> ``uri = h.write(v).location``, ``h.read(uri)`` -> ``h.read(uri).value``.

Only on objects this module can see are built-in handlers that the codemod turns into Results (or a Task's
``result_handler``); such an object passed on elsewhere is reported, since code there may still expect a handler.
"""

from __future__ import annotations

import ast

from codemods.results.rules.base import Context, RewriteRule

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
