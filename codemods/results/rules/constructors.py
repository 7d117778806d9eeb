"""``LocalResultHandler(d)`` -> ``LocalResult(dir=d)``: built-in handler constructors, with their arguments mapped."""

from __future__ import annotations

import ast

from compat.renames import Rename
from codemods.results.names import AMBIGUOUS
from codemods.results.rules.base import Context, RewriteRule

__all__ = ["Constructors"]


class Constructors(RewriteRule):
    name = "constructor"
    description = "built-in handler constructors become their Result, positional arguments become keywords"

    def apply(self, context: Context) -> None:
        names = context.names
        for call in context.tracker.calls:
            scope = context.tracker.scope_of[id(call)]
            target = names.resolve(call.func, scope)
            if target is None or target.kind not in ("legacy-class", "new-class"):
                continue
            if id(call) in context.kept:
                context.reported.add(id(call.func))  # the keyword's follow-up says to keep it as it is
                continue
            if target is AMBIGUOUS:
                context.reported.add(id(call.func))
                context.site(call, "constructor", "manual", f"{context.code(call.func)} is bound to a legacy handler "
                             "and to something else in this scope: rewrite the call by hand")
                continue
            rename = target.rename
            assert rename is not None
            if target.kind == "new-class":
                self._dropped_arguments(context, call, rename)
            else:
                self._rewrite(context, call, rename, scope)

    def _rewrite(self, context: Context, call: ast.Call, rename: Rename, scope: object) -> None:
        context.reported.add(id(call.func))
        problem = self._problem(call, rename)
        module = rename.module or context.profile.new_module
        if problem is None and not context.can_introduce(rename.new, module, scope):  # type: ignore[arg-type]
            problem = f"the name {rename.new} is already used for something else here"
        if problem is not None:
            context.site(call, "constructor", "manual", f"{context.code(call.func)}(...): {problem}; "
                         f"rewrite it as {context.profile.new_path(rename)} by hand")
            return
        context.replace_node(call.func, rename.new)
        context.consume(call.func)
        context.introduce(rename.new, module, call)
        context.names.rewritten_constructors.add(id(call))
        context.constructed.append(call)
        for index, argument in enumerate(call.args):
            if id(argument) in context.moved:
                continue
            old = rename.positional[index]
            new = rename.new_keyword(old)
            context.insert_before(argument, f"{new or old}=")
            if new is None:
                context.site(argument, "constructor", "manual", self._no_equivalent(rename, old))
        for keyword in call.keywords:
            assert keyword.arg is not None
            if id(keyword) in context.moved:
                continue
            new = rename.new_keyword(keyword.arg)
            if new is None:
                context.site(keyword, "constructor", "manual", self._no_equivalent(rename, keyword.arg))
            elif new != keyword.arg:
                context.rename_keyword(keyword, new)
        context.site(call, "constructor", "rewritten", f"{rename.old} -> {rename.new}")
        if rename.extra:
            context.follow_up(call, "constructor", f"{rename.new} comes from the {rename.extra} package: add it to "
                              f"the project's dependencies; {rename.note}")

    @staticmethod
    def _problem(call: ast.Call, rename: Rename) -> str | None:
        if rename.new == "Result":
            return f"{rename.old} is the abstract base class"
        if any(isinstance(a, ast.Starred) for a in call.args) or any(k.arg is None for k in call.keywords):
            return "an argument splat (*args/**kwargs) cannot be mapped"
        if any(isinstance(a, ast.GeneratorExp) for a in call.args):
            return "a bare generator argument cannot take a keyword"
        if len(call.args) > len(rename.positional):
            return f"{rename.old} takes at most {len(rename.positional)} positional arguments"
        unknown = [k.arg for k in call.keywords if k.arg not in rename.arguments]
        if unknown:
            return f"{rename.old} has no argument {unknown[0]}="
        return None

    @staticmethod
    def _no_equivalent(rename: Rename, argument: str) -> str:
        if rename.note.startswith(f"{argument}="):
            return f"{rename.note}: remove it"
        return f"{argument}= has no equivalent in {rename.new}: remove it"

    @staticmethod
    def _dropped_arguments(context: Context, call: ast.Call, rename: Rename) -> None:
        """A follow-up survives a second run: a kept argument that has no equivalent is reported again."""
        for keyword in call.keywords:
            if keyword.arg is not None and keyword.arg in rename.arguments and rename.new_keyword(keyword.arg) is None:
                if keyword.arg not in rename.arguments.values():
                    context.site(keyword, "constructor", "manual",
                                 Constructors._no_equivalent(rename, keyword.arg))
