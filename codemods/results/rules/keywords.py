"""``Task(result_handler=h)`` -> ``Task(result=h)`` on the engine's callables, subclasses and ``super().__init__``."""

from __future__ import annotations

import ast

from compat.renames import Rename
from codemods.results.rules.base import Context, RewriteRule
from codemods.results.scopes import Scope
from codemods.results.templates import translate

__all__ = ["Keywords", "engine_callee"]


class Keywords(RewriteRule):
    name = "keyword"
    description = "result_handler= becomes result= on Task, Flow, task and their subclasses; unknown values are wrapped"

    def apply(self, context: Context) -> None:
        added: dict[int, tuple[ast.Call, set[str]]] = {}  # calls that get keywords beside a renamed one
        for rename in context.profile.of_kind("keyword"):
            self._rename(context, rename, added)
        for call, keywords in added.values():
            given = {k.arg for k in call.keywords}
            becomes = {r.old: r.new for r in context.profile.of_kind("keyword")}
            last = max([*call.args, *call.keywords], key=context.source.end)
            for text in sorted(keywords):
                name = text.split("=", 1)[0]
                if name not in given and not any(becomes.get(arg or "") == name for arg in given):
                    context.append_after(last, f", {text}")
        if context.profile.dropped_keywords:
            self._dropped(context)

    @staticmethod
    def _dropped(context: Context) -> None:
        """Keywords the target version has no equivalent for stay as they are, each listed with what to do."""
        any_keyword = context.profile.of_kind("keyword")[0]  # they apply to the same callables
        for call in context.tracker.calls:
            for keyword in call.keywords:
                advice = context.profile.dropped_keywords.get(keyword.arg or "")
                if advice:
                    scope = context.tracker.scope_of[id(call)]
                    if engine_callee(context, call, scope, any_keyword) is not None:
                        context.site(keyword, "keyword", "manual", advice)

    def _rename(self, context: Context, rename: Rename, added: dict[int, tuple[ast.Call, set[str]]]) -> None:
        for call in context.tracker.calls:
            given = [k for k in call.keywords if k.arg == rename.old]
            if not given or id(call) in context.kept:  # a flow left whole (its follow-up says why)
                continue
            scope = context.tracker.scope_of[id(call)]
            callee = engine_callee(context, call, scope, rename)
            if callee is None and context.names.own_parameter(call.func, scope, rename.old):
                continue  # a function or class of the module's own that takes the keyword itself
            if callee is None and context.names.is_any(call.func, scope, context.profile.keyword_kept_by):
                context.site(given[0], "keyword", "manual", context.profile.keyword_kept_note)
                continue
            if callee is None:
                context.site(given[0], "keyword", "manual", f"{rename.old}= is passed to {context.code(call.func)}, "
                             f"which the codemod cannot follow to {'/'.join(rename.applies_to)} (a wrapper, "
                             f"functools.partial, ...): pass {rename.new}= there if it forwards it")
                continue
            if any(k.arg == rename.new for k in call.keywords):
                context.site(given[0], "keyword", "manual", f"{callee} gets both {rename.old}= and {rename.new}=: "
                             "keep one")
                continue
            for keyword in given:
                missing = context.undefined(keyword.value, scope)
                if rename.value != "result":
                    if self._carry(context, call, keyword, rename):
                        context.rename_keyword(keyword, rename.new)
                        context.site(keyword, "keyword", "rewritten", f"{callee}({rename.old}=) -> {rename.new}=")
                        if rename.adds:
                            added.setdefault(id(call), (call, set()))[1].add(rename.adds)
                elif missing is not None and missing.id in context.names.legacy_class_names:
                    context.site(keyword, "keyword", "manual", context.not_defined(missing))
                elif (advice := _dropped_class(context, keyword.value, scope)) is not None:
                    context.site(keyword, "keyword", "manual", advice)
                elif context.result_value(keyword.value, scope, rename):
                    new = _keyword_of(context, keyword.value, scope) or rename.new
                    context.rename_keyword(keyword, new)
                    context.site(keyword, "keyword", "rewritten", f"{callee}({rename.old}=) -> {new}=")
                    if rename.adds and not (isinstance(keyword.value, ast.Constant) and keyword.value.value is None):
                        added.setdefault(id(call), (call, set()))[1].add(rename.adds)
                else:
                    context.site(keyword, "keyword", "manual", f"{context.code(keyword.value)} is not a built-in "
                                 f"handler and the {context.profile.name} profile has no wrapper for it: "
                                 f"{rename.note or 'port it to a Result'}")


    @staticmethod
    def _carry(context: Context, call: ast.Call, keyword: ast.keyword, rename: Rename) -> bool:
        """Carry a value that is not a Result over to the new keyword: as it is, or as a template translated
        (``codemods.results.templates``). False when it cannot be: the keyword is listed instead."""
        if rename.value == "as-is":
            return True
        value = keyword.value
        if not isinstance(value, ast.Constant) or not isinstance(value.value, str):
            context.site(keyword, "keyword", "manual", f"{rename.old}= is not a string literal: build the "
                         f"{rename.new}= template by hand ({rename.note})")
            return False
        translated = translate(value.value, context.profile, _inputs(context, call))
        for field, reason in translated.untranslated:
            context.site(keyword, "keyword", "manual", f"{rename.old}= field {{{field}}}: {reason}")
        if translated.untranslated:
            return False
        if translated.text != value.value:
            original = context.source.segment(context.source.start(value), context.source.end(value))
            context.replace_node(value, _quoted(original, translated.text))
        return True


def _keyword_of(context: Context, value: ast.expr, scope: Scope) -> str | None:
    """The keyword a built-in Result that is no storage goes to (a serializer: ``result_serializer``), or None."""
    if not isinstance(value, ast.Call):
        return None
    target = context.names.resolve(value.func, scope)
    rename = target.rename if target is not None and target.kind == "legacy-class" else None
    return rename.keyword if rename is not None and rename.keyword else None


def _dropped_class(context: Context, value: ast.expr, scope: Scope) -> str | None:
    """What to do instead of a legacy Result the target has no equivalent for, given as ``result=``; else None."""
    dropped = context.profile.dropped_classes
    if not dropped or not isinstance(value, ast.Call):
        return None
    for name, advice in dropped.items():
        if context.names.is_any(value.func, scope, tuple(f"{m}.{name}" for m in context.profile.legacy_modules)):
            context.reported.add(id(value.func))
            return f"{name}: {advice}"
    return None


def _inputs(context: Context, call: ast.Call) -> tuple[str, ...] | None:
    """The parameter names of the function ``call`` decorates (``@task(...)``), or of the ``run`` method of the
    Task class of the module it instantiates; None when it is neither."""
    cls = context.names.local_class(call.func, context.tracker.scope_of[id(call)])
    if cls is not None and context.names.class_kind(cls) is not None:
        run = next((s for s in cls.body if isinstance(s, ast.FunctionDef) and s.name == "run"), None)
        if run is not None:
            return tuple(a.arg for a in (*run.args.args[1:], *run.args.kwonlyargs))
    for node in ast.walk(context.tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and any(d is call for d in node.decorator_list):
            arguments = node.args
            return tuple(a.arg for a in (*arguments.posonlyargs, *arguments.args, *arguments.kwonlyargs))
    return None


def _quoted(original: str, text: str) -> str:
    """``text`` as a literal with the quotes and prefix of ``original`` (repr when it cannot keep them)."""
    prefix = original[: len(original) - len(original.lstrip("rRuUbBfF"))]
    quote = original[len(prefix):][:3] if original[len(prefix):][:3] in ('"""', "'''") else original[len(prefix)]
    if "r" not in prefix.lower() and "\\" not in text and quote not in text and "\n" not in text:
        return f"{prefix}{quote}{text}{quote}"
    return repr(text)


def engine_callee(context: Context, call: ast.Call, scope: Scope, rename: Rename) -> str | None:
    """The name of the engine callable ``call`` reaches (``Task``, ``MyTask``, ``super().__init__``), or None."""
    names = context.names
    func = call.func
    target = names.resolve(func, scope)
    if target is not None and target.kind == "engine":
        return target.name
    cls = names.local_class(func, scope)
    if cls is not None and names.class_kind(cls) is not None and _forwards(cls, rename.old):
        return cls.name
    if isinstance(func, ast.Attribute) and func.attr == "__init__":
        owner = func.value
        if _is_super(owner) and scope.kind == "function":
            method_class = context.tracker.class_of_method.get(id(scope.node))
            if method_class is not None and names.class_kind(method_class) is not None:
                return "super().__init__"
        target = names.resolve(owner, scope)
        if target is not None and target.kind == "engine" and target.name in names.engine_classes:
            return f"{target.name}.__init__"
    return None


def _is_super(node: ast.expr) -> bool:
    return isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "super"


def _forwards(cls: ast.ClassDef, keyword: str) -> bool:
    """A subclass passes ``keyword`` on to Task unless its own __init__ names that parameter itself."""
    for statement in cls.body:
        if isinstance(statement, ast.FunctionDef) and statement.name == "__init__":
            parameters = [*statement.args.posonlyargs, *statement.args.args, *statement.args.kwonlyargs]
            return all(p.arg != keyword for p in parameters)
    return True
