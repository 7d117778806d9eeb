"""``task.result_handler`` -> ``task.result``: reads and writes of the attribute on known Tasks and Flows."""

from __future__ import annotations

import ast

from compat.renames import Rename
from codemods.results.rules.base import Context, RewriteRule

__all__ = ["Attributes"]


class Attributes(RewriteRule):
    name = "attribute"
    description = ".result_handler becomes .result on objects known to be a Task or a Flow"

    def apply(self, context: Context) -> None:
        for rename in context.profile.of_kind("attribute"):
            self._rename(context, rename)

    def _rename(self, context: Context, rename: Rename) -> None:
        keyword = context.profile.find("keyword", rename.old)  # how a value given for it is adapted
        for attribute in context.tracker.attributes:
            if attribute.attr != rename.old or id(attribute) in context.kept:
                continue
            scope = context.tracker.scope_of[id(attribute)]
            if context.names.not_engine(attribute.value, scope):
                continue  # an attribute of a class of the module's own
            if context.names.object_kind(attribute.value, scope) != "engine":
                context.site(attribute, "attribute", "manual", f"cannot tell whether {context.code(attribute.value)} "
                             f"is a Task or a Flow: if it is, use .{rename.new}")
                continue
            value = context.tracker.assigned.get(id(attribute))
            if value is not None and keyword is not None and not context.result_value(value, scope, keyword):
                context.site(attribute, "attribute", "manual", f"{context.code(value)} is not a built-in handler "
                             f"and the {context.profile.name} profile has no wrapper for it: port it to a Result")
                continue
            context.rename_attribute(attribute, rename.new)
            action = "assigned" if isinstance(attribute.ctx, ast.Store) else "read"
            context.site(attribute, "attribute", "rewritten", f"{context.code(attribute.value)}.{rename.old} ({action}) -> .{rename.new}")
