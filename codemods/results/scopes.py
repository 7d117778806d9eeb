"""A light binding tracker over the stdlib ``ast``: which binding does each name refer to, honouring shadowing.

libcst's ``ScopeProvider``/``QualifiedNameProvider`` answer the same question but cost several times a parse (see
DESIGN.md); this tracker follows Python's scoping rules (function, lambda, class and comprehension scopes, class
bodies not enclosing their methods, ``global``/``nonlocal``, the walrus binding in the enclosing scope) in one
pass over the C-built ``ast``, so a file with legacy names is analysed for a fraction of a libcst parse.

It is not flow-sensitive, like libcst's: every binding of a name in a scope is a candidate for every reference in
that scope, so a name bound both to a legacy import and to something else resolves to both (ambiguous), and
callers treat that as "do not touch, tell a human".
"""

from __future__ import annotations

import ast
from dataclasses import dataclass, field
from typing import Literal

__all__ = ["Binding", "BindingKind", "Scope", "ScopeKind", "Tracker", "build"]

ScopeKind = Literal["module", "function", "lambda", "class", "comprehension"]
BindingKind = Literal["import", "star", "assign", "with", "def", "class", "param", "other"]


@dataclass(eq=False)
class Scope:
    """One Python scope: the names bound in it and the declarations that redirect bindings elsewhere."""

    kind: ScopeKind
    node: ast.AST
    parent: Scope | None
    bindings: dict[str, list[Binding]] = field(default_factory=dict)
    global_names: set[str] = field(default_factory=set)
    nonlocal_names: set[str] = field(default_factory=set)
    star_modules: list[str] = field(default_factory=list)

    def enclosing_function(self) -> Scope | None:
        scope = self.parent
        while scope is not None and scope.kind in ("class", "comprehension"):
            scope = scope.parent
        return scope if scope is not None and scope.kind != "module" else None


@dataclass(eq=False)
class Binding:
    """One place that binds ``name``.

    ``qualified``: for an import, the dotted name it binds (``import a.b`` binds ``a`` to ``"a"``; ``from a import
    b as c`` binds ``c`` to ``"a.b"``); None otherwise or for a relative import. ``value``: for a plain
    ``name = value`` or ``with value as name``, the value. ``node``: the statement (or argument, def, class).
    """

    name: str
    kind: BindingKind
    scope: Scope
    node: ast.AST
    qualified: str | None = None
    value: ast.expr | None = None
    alias: ast.alias | None = None


_COMPREHENSIONS = (ast.ListComp, ast.SetComp, ast.GeneratorExp, ast.DictComp)


class Tracker(ast.NodeVisitor):
    """Builds the scopes of one module and remembers, for every name that is read, the scope it is read in."""

    def __init__(
        self, tree: ast.Module, watch: frozenset[str] = frozenset(), renamed: frozenset[str] = frozenset()
    ) -> None:
        self.watch = watch
        self.renamed = renamed  # renamed keywords/attributes: their attributes and strings are collected
        self.watched: list[ast.Attribute] = []  # attributes whose name is in ``watch`` (legacy names)
        self.module = Scope("module", tree, None)
        self.scope = self.module
        self.scope_of: dict[int, Scope] = {}  # id(node) -> scope, for Name loads, calls, attributes, classes
        self.reads: dict[str, list[ast.Name]] = {}
        self.calls: list[ast.Call] = []
        self.attributes: list[ast.Attribute] = []  # attributes whose name is in ``renamed``
        self.classes: list[ast.ClassDef] = []
        self.imports: list[ast.Import | ast.ImportFrom] = []
        self.binding_of_alias: dict[int, Binding] = {}  # id(ast.alias) -> the binding that import made
        self.strings: list[ast.Constant] = []  # string constants equal to a name in ``renamed``
        self.statement_only_child: set[int] = set()  # ids of statements that are the whole body of their block
        self.class_of_method: dict[int, ast.ClassDef] = {}  # id(FunctionDef) -> the class it is defined in
        self.expression_statements: set[int] = set()  # ids of expressions whose value is discarded
        self.escapes: list[ast.Name] = []  # Name loads passed on (call arguments, returned, assigned elsewhere)
        self.assigned: dict[int, ast.expr] = {}  # id(attribute target) -> the value assigned to it
        self.assigned_attributes: list[tuple[ast.Attribute, ast.expr]] = []  # (target, value) of every a.b = v
        self.bound_values: set[int] = set()  # ids of values bound to a plain name outside a class body
        self.exported: set[str] = set()  # the strings of a module-level __all__
        self._visit_body(tree.body)

    # -- scopes and bindings -----------------------------------------------------------------------------------

    def bind(self, name: str, kind: BindingKind, node: ast.AST, **extra: object) -> None:
        scope = self.scope
        if name in scope.global_names:
            scope = self.module
        elif name in scope.nonlocal_names:
            outer = scope.enclosing_function()
            while outer is not None and name not in outer.bindings:
                outer = outer.enclosing_function()
            scope = outer or self.module
        binding = Binding(name, kind, scope, node, **extra)  # type: ignore[arg-type]
        if binding.value is not None and scope.kind != "class":  # a class attribute is read as self.name
            self.bound_values.add(id(binding.value))
        scope.bindings.setdefault(name, []).append(binding)
        if binding.alias is not None:
            self.binding_of_alias[id(binding.alias)] = binding

    def _enter(self, kind: ScopeKind, node: ast.AST) -> Scope:
        previous = self.scope
        self.scope = Scope(kind, node, previous)
        return previous

    def _visit_body(self, body: list[ast.stmt]) -> None:
        if len(body) == 1:
            self.statement_only_child.add(id(body[0]))
        for statement in body:
            self.visit(statement)

    def generic_visit(self, node: ast.AST) -> None:
        for name in node._fields:
            value = getattr(node, name, None)
            if isinstance(value, list):
                if value and isinstance(value[0], ast.stmt):
                    self._visit_body(value)
                else:
                    for item in value:
                        if isinstance(item, ast.AST):
                            self.visit(item)
            elif isinstance(value, ast.AST):
                self.visit(value)

    # -- statements that bind ------------------------------------------------------------------------------------

    def visit_Import(self, node: ast.Import) -> None:
        self.imports.append(node)
        for alias in node.names:
            if alias.asname:
                self.bind(alias.asname, "import", node, qualified=alias.name, alias=alias)
            else:
                first = alias.name.split(".", 1)[0]
                self.bind(first, "import", node, qualified=first, alias=alias)

    def visit_ImportFrom(self, node: ast.ImportFrom) -> None:
        self.imports.append(node)
        module = node.module if not node.level else None
        for alias in node.names:
            if alias.name == "*":
                if module is not None:
                    self.scope.star_modules.append(module)
                continue
            qualified = f"{module}.{alias.name}" if module is not None else None
            self.bind(alias.asname or alias.name, "import", node, qualified=qualified, alias=alias)

    def visit_Assign(self, node: ast.Assign) -> None:
        self._value(node.value)
        self._exports(node.targets, node.value)
        for target in node.targets:
            if isinstance(target, ast.Name):
                self.bind(target.id, "assign", node, value=node.value)
            elif isinstance(target, ast.Attribute):
                self.assigned[id(target)] = node.value
                self.assigned_attributes.append((target, node.value))
                self.visit(target)
            else:
                self.visit(target)

    def visit_AugAssign(self, node: ast.AugAssign) -> None:
        self._exports([node.target], node.value)
        self.generic_visit(node)

    def _exports(self, targets: list[ast.expr], value: ast.expr) -> None:
        if self.scope is self.module and any(isinstance(t, ast.Name) and t.id == "__all__" for t in targets):
            if isinstance(value, (ast.List, ast.Tuple)):
                self.exported.update(
                    e.value for e in value.elts if isinstance(e, ast.Constant) and isinstance(e.value, str)
                )

    def visit_AnnAssign(self, node: ast.AnnAssign) -> None:
        self.visit(node.annotation)
        if node.value is not None:
            self._value(node.value)
        if isinstance(node.target, ast.Name):
            if node.value is not None:
                self.bind(node.target.id, "assign", node, value=node.value)
            # a bare annotation binds nothing at run time, but makes the name local in a function
            elif self.scope.kind == "function":
                self.bind(node.target.id, "other", node)
        else:
            self.visit(node.target)

    def visit_With(self, node: ast.With | ast.AsyncWith) -> None:
        for item in node.items:
            self.visit(item.context_expr)
            if isinstance(item.optional_vars, ast.Name):
                self.bind(item.optional_vars.id, "with", node, value=item.context_expr)
            elif item.optional_vars is not None:
                self.visit(item.optional_vars)
        self._visit_body(node.body)

    visit_AsyncWith = visit_With

    def visit_Global(self, node: ast.Global) -> None:
        self.scope.global_names.update(node.names)

    def visit_Nonlocal(self, node: ast.Nonlocal) -> None:
        self.scope.nonlocal_names.update(node.names)

    def visit_ExceptHandler(self, node: ast.ExceptHandler) -> None:
        if node.type is not None:
            self.visit(node.type)
        if node.name:
            self.bind(node.name, "other", node)
        self._visit_body(node.body)

    def visit_MatchAs(self, node: ast.MatchAs) -> None:
        if node.pattern is not None:
            self.visit(node.pattern)
        if node.name:
            self.bind(node.name, "other", node)

    def visit_MatchStar(self, node: ast.MatchStar) -> None:
        if node.name:
            self.bind(node.name, "other", node)

    def visit_MatchMapping(self, node: ast.MatchMapping) -> None:
        self.generic_visit(node)
        if node.rest:
            self.bind(node.rest, "other", node)

    def visit_NamedExpr(self, node: ast.NamedExpr) -> None:
        self.visit(node.value)
        scope = self.scope
        while scope.kind == "comprehension" and scope.parent is not None:
            scope = scope.parent
        previous, self.scope = self.scope, scope
        self.bind(node.target.id, "assign", node, value=node.value)
        self.scope = previous

    # -- scopes ----------------------------------------------------------------------------------------------------

    def visit_FunctionDef(self, node: ast.FunctionDef | ast.AsyncFunctionDef) -> None:
        for decorator in node.decorator_list:
            self.visit(decorator)
        self._signature_outside(node.args)
        if node.returns is not None:
            self.visit(node.returns)
        self.bind(node.name, "def", node)
        if self.scope.kind == "class":
            self.class_of_method[id(node)] = self.scope.node  # type: ignore[assignment]
        previous = self._enter("function", node)
        self.scope_of[id(node)] = self.scope
        self._parameters(node.args)
        self._visit_body(node.body)
        self.scope = previous

    visit_AsyncFunctionDef = visit_FunctionDef

    def visit_Lambda(self, node: ast.Lambda) -> None:
        self._signature_outside(node.args)
        previous = self._enter("lambda", node)
        self._parameters(node.args)
        self.visit(node.body)
        self.scope = previous

    def visit_ClassDef(self, node: ast.ClassDef) -> None:
        for expression in (*node.decorator_list, *node.bases, *node.keywords):
            self.visit(expression)
        self.classes.append(node)
        self.scope_of[id(node)] = self.scope
        self.bind(node.name, "class", node)
        previous = self._enter("class", node)
        self._visit_body(node.body)
        self.scope = previous

    def _comprehension(self, node: ast.ListComp | ast.SetComp | ast.GeneratorExp | ast.DictComp) -> None:
        generators = node.generators
        self.visit(generators[0].iter)  # evaluated in the enclosing scope
        previous = self._enter("comprehension", node)
        for index, generator in enumerate(generators):
            self.visit(generator.target)
            if index:
                self.visit(generator.iter)
            for condition in generator.ifs:
                self.visit(condition)
        if isinstance(node, ast.DictComp):
            self.visit(node.key)
            self.visit(node.value)
        else:
            self.visit(node.elt)
        self.scope = previous

    visit_ListComp = visit_SetComp = visit_GeneratorExp = visit_DictComp = _comprehension

    def _signature_outside(self, args: ast.arguments) -> None:
        """Defaults and annotations are evaluated in the scope that defines the function."""
        for default in (*args.defaults, *args.kw_defaults):
            if default is not None:
                self.visit(default)
        for arg in (*args.posonlyargs, *args.args, *args.kwonlyargs, args.vararg, args.kwarg):
            if arg is not None and arg.annotation is not None:
                self.visit(arg.annotation)

    def _parameters(self, args: ast.arguments) -> None:
        for arg in (*args.posonlyargs, *args.args, *args.kwonlyargs, args.vararg, args.kwarg):
            if arg is not None:
                self.bind(arg.arg, "param", arg)

    # -- what the rules look at ------------------------------------------------------------------------------------

    def visit_Name(self, node: ast.Name) -> None:
        if isinstance(node.ctx, ast.Load):
            self.reads.setdefault(node.id, []).append(node)
            self.scope_of[id(node)] = self.scope
        else:
            self.bind(node.id, "other", node)

    def visit_Call(self, node: ast.Call) -> None:
        self.calls.append(node)
        self.scope_of[id(node)] = self.scope
        for argument in node.args:
            self._value(argument.value if isinstance(argument, ast.Starred) else argument)
        for keyword in node.keywords:
            self._value(keyword.value)
        self.visit(node.func)

    def visit_Attribute(self, node: ast.Attribute) -> None:
        if node.attr in self.renamed:
            self.attributes.append(node)
            self.scope_of[id(node)] = self.scope
        elif node.attr in self.watch:
            self.watched.append(node)
            self.scope_of[id(node)] = self.scope
        self.visit(node.value)

    def visit_Constant(self, node: ast.Constant) -> None:
        if isinstance(node.value, str) and node.value in self.renamed:
            self.strings.append(node)

    def visit_Expr(self, node: ast.Expr) -> None:
        self.expression_statements.add(id(node.value))
        self.visit(node.value)

    def visit_Return(self, node: ast.Return) -> None:
        if node.value is not None:
            self._value(node.value)

    def _value(self, node: ast.expr) -> None:
        """A value that is passed on: a name here may leave the scope the codemod can see."""
        if isinstance(node, ast.Name):
            self.escapes.append(node)
        self.visit(node)


def build(tree: ast.Module, watch: frozenset[str] = frozenset(), renamed: frozenset[str] = frozenset()) -> Tracker:
    """Scopes, bindings and the nodes of interest of one parsed module: attributes named in ``watch`` or
    ``renamed``, and strings equal to a name in ``renamed``."""
    return Tracker(tree, watch, renamed)


def lookup(name: str, scope: Scope) -> list[Binding] | None:
    """The bindings a read of ``name`` in ``scope`` may refer to; None for a builtin or an unbound name."""
    if name in scope.global_names:
        return _module_of(scope).bindings.get(name)
    current: Scope | None = scope
    if name in scope.nonlocal_names:
        current = scope.enclosing_function()
    first = True
    while current is not None:
        if (first or current.kind != "class") and name in current.bindings:
            return current.bindings[name]
        first = False
        current = current.parent
    return None


def _module_of(scope: Scope) -> Scope:
    while scope.parent is not None:
        scope = scope.parent
    return scope
