"""``@task(result=LocalResult(dir=d, location="{x}.pkl"))`` -> the task's ``result_storage_key="{parameters[x]}.pkl"``.

A storage block has no location template; the task's storage key is what names the file. A ``location=`` of a
built-in Result given to a task moves there, as the legacy keyword the profile names (``moved_arguments``:
``target``) rewritten the way the keyword renames rewrite it (its template translated). A task that also has that
keyword keeps it (it overrode the location), and the location is dropped. A location that cannot move (no string
literal, a field without equivalent) stays in the constructor, which lists it. Runs before the constructors rule.
"""

from __future__ import annotations

import ast

from codemods.results.rules.base import Context, RewriteRule
from codemods.results.rules.keywords import _inputs, _quoted, engine_callee
from codemods.results.templates import translate

__all__ = ["Locations"]


class Locations(RewriteRule):
    name = "constructor"
    description = "a built-in Result's location= given to a task becomes the task's result_storage_key="

    def apply(self, context: Context) -> None:
        moved = context.profile.moved_arguments
        if not moved:
            return
        storage = {r.old for r in context.profile.of_kind("keyword") if r.value == "result"}
        for call in context.tracker.calls:
            if id(call) in context.kept:
                continue
            for given in call.keywords:
                if given.arg not in storage or not isinstance(given.value, ast.Call):
                    continue
                for argument, keyword_name in moved.items():
                    self._move(context, call, given.value, argument, keyword_name)

    @staticmethod
    def _move(context: Context, task: ast.Call, result: ast.Call, argument: str, keyword_name: str) -> None:
        scope = context.tracker.scope_of[id(result)]
        target = context.names.resolve(result.func, scope)
        rename = target.rename if target is not None and target.kind == "legacy-class" else None
        if rename is None or argument not in rename.positional:
            return
        index = rename.positional.index(argument)
        value = result.args[index] if index < len(result.args) else next(
            (k.value for k in result.keywords if k.arg == argument), None)
        keyword_rename = context.profile.find("keyword", keyword_name)
        if value is None or keyword_rename is None or index < len(result.args) and index != len(result.args) - 1:
            return  # absent, or positional with later positionals (removing it would shift them)
        callee = engine_callee(context, task, context.tracker.scope_of[id(task)], keyword_rename)
        if callee is None:
            return
        source = context.source
        if any(k.arg in (keyword_name, keyword_rename.new) for k in task.keywords):
            reason = f"{argument}= dropped: the task's {keyword_name}= names its file"
        elif isinstance(value, ast.Constant) and isinstance(value.value, str):
            translated = translate(value.value, context.profile, _inputs(context, task))
            if translated.untranslated:
                return
            original = source.segment(source.start(value), source.end(value))
            last = max([*task.args, *task.keywords], key=source.end)
            context.append_after(last, f", {keyword_rename.new}={_quoted(original, translated.text)}")
            reason = f"{argument}= -> the task's {keyword_rename.new}="
        else:
            return
        parts: list[ast.AST] = [*result.args, *result.keywords]
        node = next(p for p in parts if p is value or isinstance(p, ast.keyword) and p.value is value)
        position = parts.index(node)
        if position > 0:
            start, end = source.end(parts[position - 1]), source.end(node)
        elif len(parts) > 1:
            start, end = source.start(node), source.start(parts[1])
        else:
            start, end = source.start(node), source.end(node)
        context.replace(start, end, "")
        context.moved.add(id(node))
        context.site(node, "constructor", "rewritten", reason)
