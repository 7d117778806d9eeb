"""``task.result_handler = LocalResultHandler(...)`` in a profile whose engine has no such attribute: listed, left.

Prefect 3 tasks take their options when they are built (``task.with_options(...)`` returns a new task); setting a
renamed keyword's attribute on a task afterwards has no equivalent a rewrite could put in its place, so the
statement stays as it is, the handler in it included, and is listed with the keyword to give instead.
"""

from __future__ import annotations

import ast

from codemods.results.rules.base import Context, RewriteRule

__all__ = ["StorageAttributes"]


class StorageAttributes(RewriteRule):
    name = "attribute"
    description = "a keyword's attribute set on a task, where the engine takes it only when the task is built, is listed"

    def apply(self, context: Context) -> None:
        if context.profile.flows is None or context.profile.of_kind("attribute"):
            return
        keywords = {r.old: r for r in context.profile.of_kind("keyword")}
        for target, value in context.tracker.assigned_attributes:
            rename = keywords.get(target.attr)
            scope = context.tracker.scope_of.get(id(target), context.tracker.module)
            if rename is None or context.names.object_kind(target.value, scope) != "engine":
                continue
            context.kept.update(id(node) for node in ast.walk(value))
            owner = context.code(target.value)
            context.site(target, "attribute", "manual", f"{owner}.{target.attr} = ...: a Prefect 3 task takes its "
                         f"options when it is built: {owner} = {owner}.with_options({rename.new}=...)"
                         + (f" with {rename.adds}" if rename.adds else ""))
