"""``class Add(Task)`` with a ``run`` method and nothing else -> an ``@task`` function ``Add``; ``Add(name="a")`` ->
``Add.with_options(name="a")``.

Only a class that holds nothing but ``run`` (and a docstring) moves, when ``run`` never uses ``self`` and every use
of the class is an instantiation whose keywords the target's ``with_options`` takes (``FlowShape.task_options``).
The function keeps the class's name, so every instantiation stays where it is. Anything else (``__init__``, other
methods or attributes, ``self`` in ``run``, a subclass of it, positional arguments, a use other than a call) leaves
the class as it is, its body and instantiations included, listed with the reason. It runs first: the keyword rule
renames the instantiations' keywords of a class that moves (which this rule checks it can), and leaves those of a
class that stays.
"""

from __future__ import annotations

import ast
import io
import tokenize
from dataclasses import dataclass, field

from compat.renames import FlowShape
from codemods.results.rules.base import Context, RewriteRule
from codemods.results.scopes import lookup
from codemods.results.templates import translate

__all__ = ["TaskClasses", "task_classes"]


@dataclass
class _Class:
    node: ast.ClassDef
    run: ast.FunctionDef | None = None
    instantiations: list[ast.Call] = field(default_factory=list)
    reasons: list[str] = field(default_factory=list)


class TaskClasses(RewriteRule):
    name = "task-class"
    description = "Task subclasses holding only run() become @task functions; instantiations become with_options"

    def apply(self, context: Context) -> None:
        shape = context.profile.flows
        if shape is None:
            return
        moved: list[ast.ClassDef] = []
        for found in task_classes(context).values():
            cls = found.node
            if found.reasons:  # left whole: the other rules leave its body and its instantiations alone
                context.kept.update(id(node) for node in ast.walk(cls))
                context.kept.update(id(node) for call in found.instantiations for node in ast.walk(call))
                context.site(cls, "task-class", "manual", f"class {cls.name}({', '.join(context.code(b) for b in cls.bases)}"
                             f") stays a class: {'; '.join(found.reasons)}: port it to an @{_decorator(shape)} "
                             "function by hand")
            else:
                self._rewrite(context, shape, found)
                moved.append(cls)
        if moved:
            _drop_task_import(context, shape, moved)

    @staticmethod
    def _examine(context: Context, shape: FlowShape, cls: ast.ClassDef, parents: dict[int, ast.AST]) -> _Class:
        found = _Class(cls)
        body = cls.body[1:] if _docstring(cls.body[0]) else cls.body
        if cls.decorator_list or cls.keywords or len(cls.bases) != 1:
            found.reasons.append("it has decorators, keywords or more than one base")
        runs = [s for s in body if isinstance(s, ast.FunctionDef) and s.name == "run"]
        others = [s for s in body if s not in runs]
        if others:
            names = ", ".join(_what(s) for s in others)
            found.reasons.append(f"it holds more than run() ({names})")
        if len(runs) != 1:
            found.reasons.append("it has no single run() method")
            return found
        run = found.run = runs[0]
        arguments = [*run.args.posonlyargs, *run.args.args]
        if run.decorator_list or not arguments or run.args.posonlyargs:
            found.reasons.append("run() is decorated or takes no self")
            return found
        this = arguments[0].arg
        if any(isinstance(n, ast.Name) and n.id == this for stmt in run.body for n in ast.walk(stmt)):
            found.reasons.append(f"run() uses {this}")
        if run.body[0].lineno == run.lineno or _header_comment(context, run):
            found.reasons.append("run()'s header shares its line with the body or holds a comment")
        if _strings_across(run):
            found.reasons.append("run() holds a string over several lines, which re-indenting would change")
        if context.tracker.scope_of[id(cls)] is not context.tracker.module:
            found.reasons.append("it is defined inside a function or class")
        TaskClasses._uses(context, shape, found, parents)
        return found

    @staticmethod
    def _uses(context: Context, shape: FlowShape, found: _Class, parents: dict[int, ast.AST]) -> None:
        cls = found.node
        renamed = {r.old: r.new for r in context.profile.of_kind("keyword")}
        for read in context.tracker.reads.get(cls.name, ()):
            bindings = lookup(read.id, context.tracker.scope_of[id(read)])
            if not bindings or not any(b.node is cls for b in bindings):
                continue
            call = parents.get(id(read))
            if not isinstance(call, ast.Call) or call.func is not read:
                found.reasons.append(f"line {read.lineno}: {cls.name} is used other than instantiated")
                continue
            if call.args:
                found.reasons.append(f"line {read.lineno}: {cls.name}(...) is given positional arguments")
            for given in call.keywords:
                option = shape.task_options.get(renamed.get(given.arg or "", given.arg or ""))
                if given.arg is None or option is None:
                    found.reasons.append(f"line {read.lineno}: {given.arg or '**'}= has no with_options equivalent")
                elif not _carried(context, given, found.run):
                    found.reasons.append(f"line {read.lineno}: {given.arg}={context.code(given.value)} does not "
                                         "move (listed)")
            found.instantiations.append(call)

    def _rewrite(self, context: Context, shape: FlowShape, found: _Class) -> None:
        source, cls, run = context.source, found.node, found.run
        assert run is not None
        indent = _indent(context, cls.lineno)
        decorator = _decorator(shape)
        header_end = source.line_start(cls.body[0].lineno)
        header = source.segment(source.start(cls), header_end)
        newline = header[len(header.rstrip("\r\n")):] or source.newline
        returns = f" -> {source.segment(source.start(run.returns), source.end(run.returns))}" if run.returns else ""
        context.replace(source.start(cls), header_end, f"@{decorator}{source.newline}{indent}def {cls.name}("
                        f"{_parameters(context, run)}){returns}:{newline}")
        context.replace(source.line_start(run.lineno), source.line_start(run.body[0].lineno), "")
        extra = _indent(context, run.body[0].lineno)[len(_indent(context, run.lineno)):]
        for line in range(run.body[0].lineno, (run.end_lineno or run.lineno) + 1):
            text = source.segment(source.line_start(line), source.line_end(line))
            if text.startswith(_indent(context, run.lineno) + extra):
                position = source.line_start(line) + len(_indent(context, run.lineno))
                context.replace(position, position + len(extra), "")
        for call in found.instantiations:
            if call.keywords:
                context.append_after(call.func, ".with_options")
                for given in call.keywords:
                    option = shape.task_options.get(given.arg or "")
                    if option and option != given.arg:
                        context.rename_keyword(given, option)
            else:
                context.replace(source.end(call.func), source.end(call), "")
        context.introduce(decorator, shape.module, cls)
        context.site(cls, "task-class", "rewritten", f"class {cls.name}(Task) -> @{decorator} def {cls.name}")
        for base in cls.bases:
            context.consume(base)
            context.handled.add(id(base))


def task_classes(context: Context) -> dict[int, _Class]:
    """Every Task subclass of the module (by id) and why it stays, if it does; examined once per module (the
    flows rule asks too: a flow calling an instance of a class that stays, stays)."""
    if context.task_classes is None:
        shape = context.profile.flows
        found: dict[int, _Class] = {}
        if shape is not None:
            parents = context.parents
            for cls in context.tracker.classes:
                scope = context.tracker.scope_of[id(cls)]
                if any(_is_task_class(context, base, shape) for base in cls.bases):
                    found[id(cls)] = TaskClasses._examine(context, shape, cls, parents)
        context.task_classes = found
    return context.task_classes  # type: ignore[return-value]


def _carried(context: Context, given: ast.keyword, run: ast.FunctionDef | None) -> bool:
    """Whether the keyword rule moves this instantiation keyword whole (a built-in Result, a template whose every
    field it translates with run()'s parameters as the task's inputs, or a value kept as it is)."""
    rename = context.profile.find("keyword", given.arg or "")
    if rename is None or rename.value == "as-is":
        return True
    if rename.value == "result":
        return context.built_in_result(given.value)
    value = given.value
    if not isinstance(value, ast.Constant) or not isinstance(value.value, str) or run is None:
        return False
    inputs = tuple(a.arg for a in (*run.args.args[1:], *run.args.kwonlyargs))
    return not translate(value.value, context.profile, inputs).untranslated


def _drop_task_import(context: Context, shape: FlowShape, moved: list[ast.ClassDef]) -> None:
    """``from prefect import Task`` that only the moved classes' bases read is removed."""
    bases = {id(base) for cls in moved for base in cls.bases}
    for statement in context.tracker.imports:
        if not isinstance(statement, ast.ImportFrom) or statement.level or statement.module is None:
            continue
        for alias in statement.names:
            binding = context.tracker.binding_of_alias.get(id(alias))
            if alias.name != shape.task_class or binding is None or binding.scope is not context.tracker.module:
                continue
            if all(id(read) in bases for read in context.tracker.reads.get(binding.name, ())):
                context.dropped_imports.add(id(alias))


def _decorator(shape: FlowShape) -> str:
    return shape.task_class.lower()


def _is_task_class(context: Context, node: ast.expr, shape: FlowShape) -> bool:
    qualified = tuple(f"{module}.{shape.task_class}" for module in context.profile.engine_modules)
    return context.names.is_any(node, context.tracker.scope_of.get(id(node), context.tracker.module), qualified)


def _docstring(statement: ast.stmt) -> bool:
    return isinstance(statement, ast.Expr) and isinstance(statement.value, ast.Constant) \
        and isinstance(statement.value.value, str)


def _what(statement: ast.stmt) -> str:
    if isinstance(statement, (ast.FunctionDef, ast.AsyncFunctionDef)):
        return f"{statement.name}()"
    if isinstance(statement, ast.Assign) and isinstance(statement.targets[0], ast.Name):
        return statement.targets[0].id
    return type(statement).__name__.lower()


def _indent(context: Context, line: int) -> str:
    text = context.source.segment(context.source.line_start(line), context.source.line_end(line))
    return text[: len(text) - len(text.lstrip(" \t"))]


def _header_comment(context: Context, run: ast.FunctionDef) -> bool:
    header = context.source.segment(context.source.line_start(run.lineno), context.source.line_start(run.body[0].lineno))
    return any(token.type == tokenize.COMMENT for token in _tokens(header))


def _strings_across(run: ast.FunctionDef) -> bool:
    return any(isinstance(node, (ast.Constant, ast.JoinedStr)) and node.end_lineno != node.lineno
               for statement in run.body for node in ast.walk(statement))


def _tokens(text: str) -> list[tokenize.TokenInfo]:
    try:
        return list(tokenize.generate_tokens(io.StringIO(text.strip() + "\n    pass\n").readline))
    except (tokenize.TokenError, SyntaxError):
        return []


def _parameters(context: Context, run: ast.FunctionDef) -> str:
    """The text of run()'s parameters after ``self``, as written (annotations and defaults included)."""
    source, arguments = context.source, run.args
    nodes: list[ast.AST] = [*arguments.args[1:], *arguments.kwonlyargs, *arguments.defaults,
                            *(d for d in arguments.kw_defaults if d is not None)]
    nodes += [a for a in (arguments.vararg, arguments.kwarg) if a is not None]
    nodes += [a.annotation for a in nodes if isinstance(a, ast.arg) and a.annotation is not None]
    if not nodes:
        return ""
    return source.segment(source.end(arguments.args[0]), max(source.end(n) for n in nodes)).lstrip(", \t\r\n")
