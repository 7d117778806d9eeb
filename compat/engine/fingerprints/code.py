"""Code fingerprints of task functions: what the function computes, not how its text is laid out.

A function counts by its syntax tree with docstrings, annotations, its decorators and its own name left out
(comments and formatting never reach the tree), and by what each name it uses stands for when it is
fingerprinted:

- a module, class, builtin or function from another top-level package counts by its importable name;
- a function of the task's own top-level package counts by its own code, the same way (every function reached
  counts once, so helpers that call each other are fine);
- any other value (a constant, a global, a closure variable, a default argument, a module attribute such as
  ``settings.LIMIT``) counts by ``value_fingerprint``; an object that has none counts by its type's name.

The codemod's rewrites are undone on the way, as ``compat.renames`` lists them (``canonical.py``), so a module
rewritten by ``python -m codemods.results`` keeps every fingerprint. A function without source (made by ``exec``,
typed at a prompt) counts by its compiled code, which is stable across processes of one Python version.

Memoised per function: a later call checks that every name used still stands for the same object (globals,
closure cells, module attributes, the function's code and defaults) and recomputes when one does not. A mutable
value changed in place (``CONFIG["x"] = 2``) is not seen until the next process.
"""

from __future__ import annotations

import ast
import functools
import hashlib
import inspect
import linecache
import types
import weakref
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from compat.engine.fingerprints.canonical import MISSING, Canonical, Dependency, class_ref
from compat.engine.fingerprints.values import value_fingerprint
from compat.errors import ArgumentTypeError, Unfingerprintable

__all__ = ["code_fingerprint"]

_PREFIX = "sha256:"


@dataclass(frozen=True)
class _Own:
    """What one function contributes: its digest, the helpers it uses, and what its digest depends on."""

    digest: bytes
    helpers: tuple[types.FunctionType, ...]
    dependencies: tuple[Dependency, ...]


_own: weakref.WeakKeyDictionary[types.FunctionType, _Own] = weakref.WeakKeyDictionary()
_whole: weakref.WeakKeyDictionary[types.FunctionType, tuple[str, tuple[Dependency, ...]]] = (
    weakref.WeakKeyDictionary()
)


def code_fingerprint(fn: Callable[..., Any]) -> str:
    """``"sha256:<hex>"`` of ``fn``'s code and of what the names it uses stand for (see the module's docstring).

    Takes a function, a task (a ``@task``'s function, a Task subclass's ``run``), a method (its function: the
    instance is not code), a ``functools.partial`` (its function and arguments), a decorated function (the one it
    wraps: decorators are configuration) or a builtin."""
    if type(fn) is types.FunctionType:  # the common case first: a memo hit costs a few microseconds
        hit = _whole.get(fn)
        if hit is not None and _still(hit[1]):
            return hit[0]
    target = _target(fn)
    if isinstance(target, functools.partial):
        parts = [code_fingerprint(target.func), _describe(target.args), _describe(target.keywords)]
        return _PREFIX + hashlib.sha256("|".join(parts).encode()).hexdigest()
    if not isinstance(target, types.FunctionType):
        if isinstance(target, (types.BuiltinFunctionType, type)):
            name = class_ref(target)[0] if isinstance(target, type) else _builtin_name(target)
            return _PREFIX + hashlib.sha256(f"ref:{name}".encode()).hexdigest()
        raise ArgumentTypeError("code_fingerprint's fn", fn, "a function, task, method, functools.partial or builtin")
    hit = _whole.get(target)
    if hit is not None and _still(hit[1]):
        return hit[0]
    fingerprint, dependencies = _combine(target)
    _whole[target] = (fingerprint, dependencies)
    return fingerprint


def _target(fn: Any) -> Any:
    from compat.engine.task import Task  # the engine imports this module: not at import time

    while True:
        if isinstance(fn, Task):
            fn = getattr(fn, "fn", None) or type(fn).run
        elif isinstance(fn, types.MethodType):
            fn = fn.__func__
        elif hasattr(fn, "__wrapped__") and not isinstance(fn, functools.partial):
            fn = fn.__wrapped__
        elif not isinstance(fn, (types.FunctionType, types.BuiltinFunctionType, functools.partial, type)) and callable(
            fn
        ):
            fn = type(fn).__call__
        else:
            return fn


def _still(dependencies: tuple[Dependency, ...]) -> bool:
    for get, key, expected in dependencies:
        if get(key, MISSING) is not expected:
            return False
    return True


def _combine(fn: types.FunctionType) -> tuple[str, tuple[Dependency, ...]]:
    """The function's digest, then every helper it reaches once, sorted by name: the same whatever the order
    helpers are met in, cycles included."""
    reached: dict[types.FunctionType, _Own] = {}
    pending = [fn]
    while pending:
        function = pending.pop()
        if function in reached:
            continue
        own = _own.get(function)
        if own is None or not _still(own.dependencies):
            own = _own_part(function)
            _own[function] = own
        reached[function] = own
        pending.extend(own.helpers)
    digest = hashlib.sha256(reached[fn].digest)
    for name, helper in sorted((f"{f.__module__}.{f.__qualname__}".encode(), own.digest)
                               for f, own in reached.items() if f is not fn):
        digest.update(b"|helper|" + name + b"|" + helper)
    dependencies = tuple(d for own in reached.values() for d in own.dependencies)
    return _PREFIX + digest.hexdigest(), dependencies


def _own_part(fn: types.FunctionType) -> _Own:
    own_dependencies: list[Dependency] = [
        (functools.partial(getattr, fn), "__code__", fn.__code__),
        (functools.partial(getattr, fn), "__defaults__", fn.__defaults__),
        (functools.partial(getattr, fn), "__kwdefaults__", fn.__kwdefaults__),
    ]
    node = _function_node(fn)
    if node is None:
        text = "code:" + _code_dump(fn.__code__)
        canonical = Canonical(fn, _describe)
        canonical.names_used(_names_of(fn.__code__))
    else:
        canonical = Canonical(fn, _describe)
        text = canonical.dump(node)
    values = canonical.values
    values["defaults"] = _describe(fn.__defaults__)
    values["kwdefaults"] = _describe(fn.__kwdefaults__)
    digest = hashlib.sha256(text.encode("utf-8", "surrogatepass"))
    for name in sorted(values):
        digest.update(f"|{name}={values[name]}".encode("utf-8", "surrogatepass"))
    helpers = tuple(h for h in canonical.helpers if _same_package(h, fn))
    return _Own(digest.digest(), helpers, tuple(own_dependencies + canonical.dependencies))


def _same_package(helper: types.FunctionType, fn: types.FunctionType) -> bool:
    return str(helper.__module__).partition(".")[0] == str(fn.__module__).partition(".")[0]


def _describe(value: object) -> str:
    try:
        return value_fingerprint(value)
    except Unfingerprintable:
        return f"object:{class_ref(type(value))[0]}"


def _builtin_name(fn: Any) -> str:
    return f"{getattr(fn, '__module__', None) or 'builtins'}.{fn.__qualname__}"


# --- finding the function's source ------------------------------------------------------------------------------


def _function_node(fn: types.FunctionType) -> ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda | None:
    """The function's own node, parsed from its lines alone (not its whole module), or None without source."""
    code = fn.__code__
    lines = linecache.getlines(code.co_filename, fn.__globals__)
    if not lines:
        return None
    first = code.co_firstlineno - 1
    if code.co_name == "<lambda>":
        return _lambda_node(fn, lines, first)
    last = _last_line(code)
    for chunk in (lines[first:last], None):
        if chunk is None:
            try:
                chunk = inspect.getblock(lines[first:])  # slower (tokenize): when positions fell short
            except (IndentationError, SyntaxError, Exception):
                return None
        node = _parse_first(chunk)
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and node.name == code.co_name:
            return node
    return None


def _last_line(code: types.CodeType) -> int:
    """The last line any instruction of ``code`` or of the code nested in it comes from (Python >= 3.11)."""
    positions = getattr(code, "co_positions", None)
    if positions is None:
        return code.co_firstlineno  # Python 3.10: too short, so getblock takes over
    last = max((end for _, end, _, _ in positions() if end is not None), default=code.co_firstlineno)
    for const in code.co_consts:
        if isinstance(const, types.CodeType):
            last = max(last, _last_line(const))
    return last


def _parse_first(lines: list[str]) -> ast.stmt | None:
    if not lines:
        return None
    text = "".join(lines)
    indented = text[:1].isspace()
    try:
        module = ast.parse("if 1:\n" + text if indented else text)  # a method: no dedent needed
    except SyntaxError:
        return None
    if not module.body:
        return None
    first = module.body[0]
    if indented:
        return first.body[0] if isinstance(first, ast.If) and first.body else None
    return first


def _lambda_node(fn: types.FunctionType, lines: list[str], first: int) -> ast.Lambda | None:
    try:
        block = inspect.getblock(lines[first:])
    except Exception:
        return None
    node = _parse_first(block)
    if node is None:
        return None
    lambdas = [n for n in ast.walk(node) if isinstance(n, ast.Lambda) and n.lineno == 1 + (block[0][:1].isspace())]
    if len(lambdas) == 1:
        return lambdas[0]
    return None  # several lambdas on its line: its compiled code tells it apart


def _code_dump(code: types.CodeType) -> str:
    consts = [_code_dump(c) if isinstance(c, types.CodeType) else _describe(c) for c in code.co_consts]
    return "|".join([code.co_code.hex(), ",".join(code.co_names), ",".join(code.co_varnames),
                     ",".join(code.co_freevars), f"[{';'.join(consts)}]"])


def _names_of(code: types.CodeType) -> Iterator[str]:
    yield from code.co_names
    yield from code.co_freevars
    for const in code.co_consts:
        if isinstance(const, types.CodeType):
            yield from _names_of(const)

