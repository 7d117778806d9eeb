"""A function's syntax tree in canonical form: what its text says, with what does not count left out.

Left out: docstrings, annotations, the function's decorators (task configuration, not its body) and its own name.
Each name the function reads from outside (a global, a closure variable, a builtin, ``module.attribute``) is
replaced by what it stands for now (``@class:compat.results.LocalResult``), or, for a plain value, kept and its
value fingerprint noted. Then everything ``python -m codemods.results`` may rewrite is brought to one form, read
from ``compat.renames`` and nowhere else: a legacy class is its replacement; its positional arguments are keywords
named as the replacement names them; a renamed keyword or attribute (``result_handler``) is its new name; the
value wrapper the codemod adds (``as_result(...)``) is unwrapped; ``h.write(v).location`` is ``h.write(v)``;
imports of legacy names inside the function stand for the replacements.
"""

from __future__ import annotations

import ast
import builtins
import functools
import sys
import types
import weakref
from collections.abc import Callable, Iterable
from typing import Any

from compat.engine.fingerprints.values import type_name
from compat.renames import AUTO_PROFILES, RESULT_ACCESSORS, Rename

__all__ = ["MISSING", "Canonical", "Dependency", "class_ref"]

Dependency = tuple[Callable[[str, Any], Any], str, Any]
"""``(get, key, expected)``: the fingerprint holds while ``get(key, default) is expected``."""

MISSING: Any = object()
"""What a dependency's ``get`` returns for a name not bound: the default of every look-up, here and in the memo."""

_KEYWORDS = {r.old: r.new for p in AUTO_PROFILES.values() for r in p.of_kind("keyword")}
_ATTRIBUTES = {r.old: r.new for p in AUTO_PROFILES.values() for r in p.of_kind("attribute")}
_WRAPPERS = {
    (r.new, f"function:{p.adapter_module}.{r.wrap_value}")
    for p in AUTO_PROFILES.values()
    for r in p.of_kind("keyword")
    if p.adapter_module and r.wrap_value
}
_MODULES = {
    **{m: p.new_module for p in AUTO_PROFILES.values() for m in p.legacy_modules},
    **{r.old: r.new for p in AUTO_PROFILES.values() for r in p.of_kind("module")},
}


_TABLE_MODULES = frozenset(_MODULES) | frozenset(_MODULES.values())


class _Ref(ast.Name):
    """A name replaced by what it stands for; ``obj`` is that object (None when known only by name)."""

    obj: Any
    rename: Rename | None
    legacy: bool
    path: str | None
    """A module imported inside the function: its dotted path as written (known by name only)."""


def _ref(text: str, obj: Any = None, rename: Rename | None = None, legacy: bool = False) -> _Ref:
    node = _Ref(id="@" + text, ctx=ast.Load())
    node.obj, node.rename, node.legacy, node.path = obj, rename, legacy, None
    return node


def _module_ref(path: str) -> _Ref:
    node = _ref("module:" + _MODULES.get(path, path))
    node.path = path
    return node


def _table_module(path: str) -> bool:
    """``path`` is a module the table names, or a package on the way to one (``compat`` of ``compat.results``)."""
    return any(name == path or name.startswith(path + ".") for name in _TABLE_MODULES)


_class_refs: weakref.WeakKeyDictionary[type, tuple[int, tuple[str, Rename | None, bool]]] = (
    weakref.WeakKeyDictionary()
)


def class_ref(cls: type) -> tuple[str, Rename | None, bool]:
    """The name a class counts by, its rename and whether it is the legacy side: a legacy class and its replacement
    count alike (``compat.results.LocalResult``), found as the table's modules hold them, wherever they live."""
    cached = _class_refs.get(cls)
    if cached is not None and cached[0] == len(sys.modules):  # a legacy module imported since: look again
        return cached[1]
    found = _find_class(cls)
    _class_refs[cls] = (len(sys.modules), found)
    return found


def _find_class(cls: type) -> tuple[str, Rename | None, bool]:
    for profile in AUTO_PROFILES.values():
        for rename in profile.of_kind("class"):
            new_module = sys.modules.get(rename.module or profile.new_module)
            if new_module is not None and vars(new_module).get(rename.new) is cls:
                return profile.new_path(rename), rename, False
            for name in profile.legacy_modules:
                module = sys.modules.get(name)
                if module is not None and vars(module).get(rename.old) is cls:
                    return profile.new_path(rename), rename, True
    return type_name(cls), None, False


def _static_class(module: str, name: str) -> tuple[str, Rename, bool] | None:
    """The replacement of ``from module import name`` inside a function, known from the table alone."""
    for profile in AUTO_PROFILES.values():
        for rename in profile.of_kind("class"):
            if module in profile.legacy_modules and name == rename.old:
                return profile.new_path(rename), rename, True
            if module == (rename.module or profile.new_module) and name == rename.new:
                return profile.new_path(rename), rename, False
    return None


def _cell_get(cell: types.CellType, key: str, default: Any) -> Any:
    try:
        return cell.cell_contents
    except ValueError:  # not assigned yet
        return default


def _locals(code: types.CodeType) -> set[str]:
    names = set(code.co_varnames) | set(code.co_cellvars)
    for const in code.co_consts:
        if isinstance(const, types.CodeType):
            names |= _locals(const)
    return names


_VISITORS: dict[type, Callable[[Any, Any], Any]] = {}


class Canonical(ast.NodeTransformer):
    """One function's canonical text (``dump``), plus what it read: ``values`` (name -> fingerprint),
    ``helpers`` (functions it uses) and ``dependencies`` (what must not change for all that to hold)."""

    def __init__(self, fn: types.FunctionType, describe: Callable[[object], str]) -> None:
        code = fn.__code__
        self._describe = describe
        self._locals = _locals(code)
        self._cells = dict(zip(code.co_freevars, fn.__closure__ or ()))
        self._globals = fn.__globals__
        found = getattr(fn, "__builtins__", None)
        self._builtins = found if isinstance(found, dict) else vars(builtins)
        self._imported: dict[str, tuple[str, Rename, bool]] = {}
        self._imported_modules: dict[str, str] = {}  # import compat.result_handlers as rh, inside the function
        self._found: dict[str, Any] = {}  # each name looked up (and depended on) once
        self.values: dict[str, str] = {}
        self.helpers: list[types.FunctionType] = []
        self.dependencies: list[Dependency] = []

    def dump(self, node: ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda) -> str:
        if not isinstance(node, ast.Lambda):
            node.decorator_list = []
            node.name = ""
        node = self.visit(node)
        out: list[str] = []
        _dump(node, out)
        return "".join(out)

    def names_used(self, names: Iterable[str]) -> None:
        """Without source: note what each name the compiled code uses stands for."""
        for name in sorted(set(names) - self._locals):
            self.visit_Name(ast.Name(id=name, ctx=ast.Load()))

    # --- the walk (ast.NodeTransformer's, without its per-node string building) ---------------------------------

    def visit(self, node: ast.AST) -> Any:
        visitor = _VISITORS.get(type(node))
        if visitor is None:
            visitor = _VISITORS[type(node)] = getattr(type(self), "visit_" + type(node).__name__, None) or (
                Canonical.generic_visit
            )
        return visitor(self, node)

    def generic_visit(self, node: ast.AST) -> ast.AST:
        for name in node._fields:
            value = getattr(node, name, None)
            if type(value) is list:
                if value and isinstance(value[0], ast.AST):
                    value[:] = [new for new in map(self.visit, value) if new is not None]
            elif isinstance(value, ast.AST) and not isinstance(value, ast.expr_context):
                setattr(node, name, self.visit(value))
        return node

    # --- what names stand for -------------------------------------------------------------------------------

    def _lookup(self, name: str) -> Any:
        if name in self._found:
            return self._found[name]
        obj = self._found[name] = self._look_up(name)
        return obj

    def _look_up(self, name: str) -> Any:
        if name in self._cells:
            cell = self._cells[name]
            obj = _cell_get(cell, name, MISSING)
            self.dependencies.append((functools.partial(_cell_get, cell), name, obj))
            return obj
        obj = self._globals.get(name, MISSING)
        self.dependencies.append((self._globals.get, name, obj))
        if obj is MISSING:
            obj = self._builtins.get(name, MISSING)
            self.dependencies.append((self._builtins.get, name, obj))
        return obj

    def _stands_for(self, obj: Any) -> _Ref | None:
        if isinstance(obj, types.ModuleType):
            return _ref("module:" + _MODULES.get(obj.__name__, obj.__name__), obj)
        if isinstance(obj, type):
            name, rename, legacy = class_ref(obj)
            return _ref("class:" + name, obj, rename, legacy)
        if isinstance(obj, types.FunctionType):
            self.helpers.append(obj)
            return _ref(f"function:{obj.__module__}.{obj.__qualname__}", obj)
        if isinstance(obj, types.BuiltinFunctionType) and (
            obj.__self__ is None or isinstance(obj.__self__, types.ModuleType)
        ):
            return _ref(f"function:{getattr(obj, '__module__', None) or 'builtins'}.{obj.__qualname__}", obj)
        return None

    def visit_Name(self, node: ast.Name) -> ast.AST:
        if not isinstance(node.ctx, ast.Load):
            return node
        if node.id in self._imported:
            name, rename, legacy = self._imported[node.id]
            return _ref("class:" + name, None, rename, legacy)
        if node.id in self._imported_modules:
            return _module_ref(self._imported_modules[node.id])
        if node.id in self._locals:
            return node
        obj = self._lookup(node.id)
        if obj is MISSING:
            self.values[f"name:{node.id}"] = "unbound"
            return node
        ref = self._stands_for(obj)
        if ref is not None:
            return ref
        if f"name:{node.id}" not in self.values:
            self.values[f"name:{node.id}"] = self._describe(obj)
        return node

    def visit_Attribute(self, node: ast.Attribute) -> ast.AST:
        node.value = self.visit(node.value)
        owner = node.value
        if isinstance(owner, _Ref) and owner.path is not None and isinstance(node.ctx, ast.Load):
            found = _static_class(owner.path, node.attr)
            if found is not None:
                return _ref("class:" + found[0], None, found[1], found[2])
            if _table_module(f"{owner.path}.{node.attr}"):
                return _module_ref(f"{owner.path}.{node.attr}")
        if isinstance(owner, _Ref) and isinstance(owner.obj, types.ModuleType) and isinstance(node.ctx, ast.Load):
            module = owner.obj
            key = f"{owner.id}.{node.attr}"
            if key in self._found:
                obj = self._found[key]
            else:
                obj = self._found[key] = getattr(module, node.attr, MISSING)
                self.dependencies.append((functools.partial(getattr, module), node.attr, obj))
            if obj is not MISSING:
                ref = self._stands_for(obj)
                if ref is not None:
                    return ref
                path = f"{owner.id[len('@module:'):]}.{node.attr}"
                self.values[f"attribute:{path}"] = self._describe(obj)
                return _ref("value:" + path)
        node.attr = _ATTRIBUTES.get(node.attr, node.attr)
        if (
            isinstance(owner, ast.Call)
            and isinstance(owner.func, ast.Attribute)
            and RESULT_ACCESSORS.get(owner.func.attr) == node.attr
        ):
            return owner  # h.write(v).location: the codemod's form of a handler's h.write(v)
        return node

    def visit_Call(self, node: ast.Call) -> ast.AST:
        self.generic_visit(node)
        func = node.func
        if isinstance(func, _Ref) and func.legacy and func.rename is not None:
            _as_keywords(node, func.rename)
        for keyword in node.keywords:
            if keyword.arg is not None:
                keyword.arg = _KEYWORDS.get(keyword.arg, keyword.arg)
            value = keyword.value
            if (
                isinstance(value, ast.Call)
                and isinstance(value.func, _Ref)
                and (keyword.arg, value.func.id[1:]) in _WRAPPERS
                and len(value.args) == 1
                and not value.keywords
            ):
                keyword.value = value.args[0]  # as_result(h): what the codemod wraps a value it cannot follow in
        return node

    def visit_Import(self, node: ast.Import) -> ast.AST | None:
        kept = []
        for alias in node.names:
            if not _table_module(alias.name):
                kept.append(alias)
            elif alias.asname:
                self._imported_modules[alias.asname] = alias.name
            else:  # import compat.result_handlers binds compat
                top = alias.name.partition(".")[0]
                self._imported_modules[top] = top
        if not kept:
            return None
        node.names = kept
        return node

    def visit_ImportFrom(self, node: ast.ImportFrom) -> ast.AST | None:
        if node.level or node.module is None:
            return node
        kept = []
        for alias in node.names:
            found = _static_class(node.module, alias.name)
            if found is None:
                kept.append(alias)
            else:
                self._imported[alias.asname or alias.name] = found
        if not kept:
            return None
        node.names = kept
        node.module = _MODULES.get(node.module, node.module)
        return node

    # --- what does not count ---------------------------------------------------------------------------------

    def _body(self, node: ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef) -> ast.AST:
        body = node.body
        if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant):
            if isinstance(body[0].value.value, str):
                node.body = body[1:]  # the docstring
        if not isinstance(node, ast.ClassDef):
            node.returns = None
        return self.generic_visit(node)

    visit_FunctionDef = visit_AsyncFunctionDef = visit_ClassDef = _body

    def visit_arg(self, node: ast.arg) -> ast.AST:
        node.annotation = None
        node.type_comment = None
        return node

    def visit_AnnAssign(self, node: ast.AnnAssign) -> ast.AST | None:
        if node.value is None:
            return None  # x: int declares, it computes nothing
        assign = ast.Assign(targets=[node.target], value=node.value)
        return self.visit(assign)

    def visit_Constant(self, node: ast.Constant) -> ast.AST:
        node.kind = None  # u"x" is "x"
        return node


def _as_keywords(call: ast.Call, rename: Rename) -> None:
    """``LocalResultHandler("/d", False)`` -> ``(dir="/d", validate_dir=False)``, as the codemod maps it (when it
    can: no splat, no more positional arguments than the table lists, only keywords the table knows)."""
    if rename.new == "Result" or len(call.args) > len(rename.positional):
        return
    if any(isinstance(a, (ast.Starred, ast.GeneratorExp)) for a in call.args):
        return
    if any(k.arg is None or k.arg not in rename.arguments for k in call.keywords):
        return
    keywords = [ast.keyword(arg=rename.new_keyword(old) or old, value=value)
                for old, value in zip(rename.positional, call.args)]
    for keyword in call.keywords:
        assert keyword.arg is not None
        keywords.append(ast.keyword(arg=rename.new_keyword(keyword.arg) or keyword.arg, value=keyword.value))
    call.args = []
    call.keywords = keywords


def _dump(node: ast.AST, out: list[str]) -> None:
    """Like ``ast.dump`` without positions or contexts (the tree's shape says them), skipping empty fields, so a
    field a later Python adds (empty in old code) does not change every fingerprint."""
    append = out.append
    append("Ref(" if isinstance(node, _Ref) else type(node).__name__ + "(")
    for name in node._fields:
        value = getattr(node, name, None)
        if value is None or value == [] or isinstance(value, ast.expr_context):
            continue
        if isinstance(value, ast.AST):
            append(name + "=")
            _dump(value, out)
        elif type(value) is list:
            append(name + "=[")
            for item in value:
                if isinstance(item, ast.AST):
                    _dump(item, out)
                else:
                    append(repr(item))
                append(",")
            append("]")
        else:
            append(f"{name}={value!r}")
        append(",")
    append(")")
