"""What an expression refers to, in the terms of a profile of the rename table: qualified names, not spellings.

``rh.LocalResultHandler`` after ``import compat.result_handlers as rh`` and ``LRH`` after ``from compat.legacy
import LocalResultHandler as LRH`` both resolve to the legacy class; a local variable or function that happens to
be called ``LocalResultHandler`` resolves to nothing. A name bound both ways in one scope is ``AMBIGUOUS``.

It also tracks what a few local names hold, so the rules can tell a Task from anything else: names bound to a
Task/Flow call, to a ``@task`` function, to a built-in handler the codemod rewrites, or ``self`` in a Task
subclass.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass, field
from typing import Literal

from compat.renames import Profile, Rename
from codemods.results.scopes import Binding, Scope, Tracker, lookup

__all__ = ["AMBIGUOUS", "Names", "ObjectKind", "Target"]

TargetKind = Literal["legacy-class", "legacy-module", "new-class", "engine"]
ObjectKind = Literal["engine", "handler", "handler-read", "result"]
"""``engine``: an instance of an engine class whose attribute the profile renames (a Task or a Flow);
``handler``: a built-in handler the codemod rewrites into a Result; ``handler-read``: ``x.result_handler`` of a
Task/Flow (becomes ``x.result``); ``result``: already a Result of the new API (never touched again)."""


@dataclass(frozen=True)
class Target:
    """A name of the profile: a legacy class (with its rename), a legacy module, a replacement class, or an
    engine callable (``Task``, ``Flow``, ``task``)."""

    kind: TargetKind
    name: str
    rename: Rename | None = field(default=None, compare=False)


AMBIGUOUS = Target("legacy-class", "<ambiguous>")
"""A name bound to a legacy name in one place and to something else in another, in the same scope."""


class Names:
    """Resolves expressions of one module (``tracker``) against one ``profile``."""

    def __init__(self, profile: Profile, tracker: Tracker) -> None:
        self.profile = profile
        self.tracker = tracker
        classes = profile.of_kind("class")
        self.legacy_class_names = {rename.old: rename for rename in classes}
        # the engine's classes are those whose attribute is renamed; the other callables taking the keyword are
        # decorators (``task``): both read from the table
        self.engine_classes = {name for rename in profile.of_kind("attribute") for name in rename.applies_to}
        if profile.flows is not None:  # a profile without attribute renames still knows the engine's classes
            self.engine_classes |= {profile.flows.task_class, profile.flows.flow_class}
        self.engine_decorators = {
            name for rename in profile.of_kind("keyword") for name in rename.applies_to
        } - self.engine_classes
        engine = self.engine_classes | self.engine_decorators
        table: dict[str, Target] = {}
        for module in profile.legacy_modules:
            table[module] = Target("legacy-module", module)
            for rename in classes:
                table[f"{module}.{rename.old}"] = Target("legacy-class", rename.old, rename)
        for rename in classes:
            table[profile.new_path(rename)] = Target("new-class", rename.new, rename)
        for module in profile.engine_modules:
            for name in engine:
                table[f"{module}.{name}"] = Target("engine", name)
        self.table = table
        self.renamed_attributes = {rename.old: rename.new for rename in profile.of_kind("attribute")}
        self.new_attributes = set(self.renamed_attributes.values())
        self.rewritten_constructors: set[int] = set()  # ids of handler calls the constructor rule rewrote
        self._object_kinds: dict[int, ObjectKind | None] = {}
        self._class_kinds: dict[int, ObjectKind | None] = {}

    # -- qualified names ---------------------------------------------------------------------------------------

    def resolve(self, node: ast.expr, scope: Scope) -> Target | None:
        """The profile name ``node`` refers to in ``scope``; None if none; ``AMBIGUOUS`` if bound both ways."""
        qualified = self._qualified(node, scope)
        if not qualified:
            return None
        targets = {self.table.get(name) if name else None for name in qualified}
        if len(targets) == 1:
            return targets.pop()
        return AMBIGUOUS if any(t is not None for t in targets) else None

    def is_any(self, node: ast.expr, scope: Scope, qualified_names: tuple[str, ...]) -> bool:
        """Whether ``node`` refers in ``scope`` to one of ``qualified_names`` (and to nothing else)."""
        found = self._qualified(node, scope)
        return bool(found) and all(name in qualified_names for name in found)  # type: ignore[operator]

    def _qualified(self, node: ast.expr, scope: Scope) -> list[str | None] | None:
        if isinstance(node, ast.Name):
            bindings = lookup(node.id, scope)
            if bindings is None:
                return self._through_star(node.id, scope)
            return [b.qualified if b.kind == "import" else None for b in bindings]
        if isinstance(node, ast.Attribute):
            base = self._qualified(node.value, scope)
            if base is None:
                return None
            return [f"{name}.{node.attr}" if name else None for name in base]
        return None

    def _through_star(self, name: str, scope: Scope) -> list[str | None] | None:
        """An unbound name may come from ``from <legacy module> import *``."""
        while scope.parent is not None:
            scope = scope.parent
        if name in self.legacy_class_names:
            for module in scope.star_modules:
                if module in self.profile.legacy_modules:
                    return [f"{module}.{name}"]
        return None

    def legacy_spellings(self) -> set[str]:
        """Every name that may refer to a legacy class here: the classes' own names and the import aliases."""
        spellings = set(self.legacy_class_names)
        for statement in self.tracker.imports:
            module = statement.module if isinstance(statement, ast.ImportFrom) and not statement.level else None
            for alias in statement.names:
                qualified = f"{module}.{alias.name}" if isinstance(statement, ast.ImportFrom) else alias.name
                if self.table.get(qualified or "") is not None and alias.asname:
                    spellings.add(alias.asname)
        return spellings

    # -- what local names hold -----------------------------------------------------------------------------------

    def object_kind(self, node: ast.expr, scope: Scope) -> ObjectKind | None:
        """Whether ``node`` is known to be a Task, a Flow, a built-in handler being rewritten, or a Result."""
        if isinstance(node, ast.Name):
            bindings = lookup(node.id, scope)
            if not bindings:
                return None
            kinds = {self._binding_kind(binding) for binding in bindings}
            return kinds.pop() if len(kinds) == 1 else None
        if isinstance(node, ast.Call):
            return self._call_kind(node, scope)
        if isinstance(node, ast.Attribute) and (node.attr in self.renamed_attributes or node.attr in self.new_attributes):
            if self.object_kind(node.value, scope) == "engine":
                return "handler-read" if node.attr in self.renamed_attributes else "result"
        return None

    def maybe_rewritten_handler(self, node: ast.expr, scope: Scope) -> bool:
        """A name bound in one place to a handler the codemod rewrites and elsewhere to something else."""
        if not isinstance(node, ast.Name):
            return False
        kinds = {self._binding_kind(binding) for binding in lookup(node.id, scope) or ()}
        return "handler" in kinds and len(kinds) > 1

    def _binding_kind(self, binding: Binding) -> ObjectKind | None:
        key = id(binding)
        if key in self._object_kinds:
            return self._object_kinds[key]
        self._object_kinds[key] = None  # a binding that refers to itself resolves to nothing
        kind: ObjectKind | None = None
        if binding.kind in ("assign", "with") and binding.value is not None:
            kind = self.object_kind(binding.value, binding.scope)
        elif binding.kind == "def":
            if any(self._is_task_decorator(d, binding.scope) for d in binding.node.decorator_list):  # type: ignore[attr-defined]
                kind = "engine"
        elif binding.kind == "param":
            kind = self._self_kind(binding)
        self._object_kinds[key] = kind
        return kind

    def _call_kind(self, call: ast.Call, scope: Scope) -> ObjectKind | None:
        target = self.resolve(call.func, scope)
        if target is not None and target.kind == "engine":
            if target.name in self.engine_classes:
                return "engine"
            return "engine" if call.args else None  # task(fn); task(name=...) is a decorator factory
        if target is not None and target.kind == "legacy-class":
            return "handler" if id(call) in self.rewritten_constructors else None
        if target is not None and target.kind == "new-class":
            return "result"
        if isinstance(call.func, ast.Call) and self._is_task_decorator(call.func, scope):
            return "engine"  # task(name=...)(fn)
        cls = self.local_class(call.func, scope)
        return self.class_kind(cls) if cls is not None else None

    def _is_task_decorator(self, decorator: ast.expr, scope: Scope) -> bool:
        if isinstance(decorator, ast.Call):
            decorator = decorator.func
        target = self.resolve(decorator, scope)
        return target is not None and target.kind == "engine" and target.name in self.engine_decorators

    def _self_kind(self, binding: Binding) -> ObjectKind | None:
        """``self`` (the first parameter) of a method defined in a Task or Flow subclass."""
        function = binding.scope.node
        cls = self.tracker.class_of_method.get(id(function))
        if cls is None or not isinstance(function, (ast.FunctionDef, ast.AsyncFunctionDef)):
            return None
        arguments = [*function.args.posonlyargs, *function.args.args]
        if not arguments or arguments[0] is not binding.node:
            return None
        if any(isinstance(d, ast.Name) and d.id == "staticmethod" for d in function.decorator_list):
            return None
        return self.class_kind(cls)

    def not_engine(self, node: ast.expr, scope: Scope) -> bool:
        """Whether ``node`` is known to be something of this module's own that is neither a Task nor a Flow: an
        instance of (or ``self`` in) a class of the module whose bases are all known (none, ``object``, or such
        classes), or a function of the module. Its ``result_handler`` is its own, not the engine's."""
        if isinstance(node, ast.Call):
            cls = self.local_class(node.func, scope)
            return cls is not None and self._plain_class(cls)
        if not isinstance(node, ast.Name):
            return False
        bindings = lookup(node.id, scope)
        if not bindings:
            return False
        return all(self._plain_binding(binding) for binding in bindings)

    def own_parameter(self, func: ast.expr, scope: Scope, name: str) -> bool:
        """Whether ``func`` is a function of this module, or a class of its own (not a Task or Flow), that takes
        the parameter ``name`` by name itself: a keyword of that name is its own."""
        function: ast.AST | None = None
        if isinstance(func, ast.Attribute):  # obj.method(...) on an object of a plain class of the module
            cls = self._plain_class_of(func.value, scope)
            if cls is None:
                return False
            function = next((s for s in cls.body if isinstance(s, (ast.FunctionDef, ast.AsyncFunctionDef))
                             and s.name == func.attr), None)
            return self._takes(function, name, method=True)
        if not isinstance(func, ast.Name):
            return False
        bindings = lookup(func.id, scope)
        if not bindings or len(bindings) != 1:
            return False
        binding = bindings[0]
        if binding.kind == "def":
            function = binding.node
        elif binding.kind == "class" and isinstance(binding.node, ast.ClassDef) and self._plain_class(binding.node):
            function = next((s for s in binding.node.body if isinstance(s, ast.FunctionDef) and s.name == "__init__"),
                            None)
        return self._takes(function, name)

    @staticmethod
    def _takes(function: ast.AST | None, name: str, method: bool = False) -> bool:
        if not isinstance(function, (ast.FunctionDef, ast.AsyncFunctionDef)):
            return False
        if function.decorator_list and not (method and all(
            isinstance(d, ast.Name) and d.id in ("staticmethod", "classmethod") for d in function.decorator_list
        )):
            return False
        parameters = [*function.args.posonlyargs, *function.args.args, *function.args.kwonlyargs]
        return any(p.arg == name for p in parameters)

    def _plain_class_of(self, node: ast.expr, scope: Scope) -> ast.ClassDef | None:
        """The plain class of the module (see ``not_engine``) whose instance ``node`` is known to be."""
        if not self.not_engine(node, scope):
            return None
        if isinstance(node, ast.Call):
            return self.local_class(node.func, scope)
        classes = set()
        for binding in lookup(node.id, scope) or ():  # type: ignore[attr-defined]
            if binding.kind == "param":
                cls = self.tracker.class_of_method.get(id(binding.scope.node))
            else:
                cls = self.local_class(binding.value.func, binding.scope)  # type: ignore[union-attr]
            classes.add(id(cls) if cls is not None else None)
            found = cls
        return found if len(classes) == 1 and None not in classes else None

    def _plain_binding(self, binding: Binding) -> bool:
        if binding.kind == "param":
            function = binding.scope.node
            cls = self.tracker.class_of_method.get(id(function))
            if cls is None or not isinstance(function, (ast.FunctionDef, ast.AsyncFunctionDef)):
                return False
            arguments = [*function.args.posonlyargs, *function.args.args]
            return bool(arguments) and arguments[0] is binding.node and not function.decorator_list \
                and self._plain_class(cls)
        if binding.kind == "assign" and isinstance(binding.value, ast.Call):
            return self.not_engine(binding.value, binding.scope)
        return False

    def _plain_class(self, cls: ast.ClassDef, depth: int = 0) -> bool:
        """A class of the module whose every base is known not to be a Task or a Flow (no base, ``object``, or
        another such class of the module)."""
        if depth > 20 or cls.keywords:
            return False
        scope = self.tracker.scope_of[id(cls)]
        for base in cls.bases:
            if isinstance(base, ast.Name) and base.id == "object" and lookup("object", scope) is None:
                continue
            parent = self.local_class(base, scope)
            if parent is None or not self._plain_class(parent, depth + 1):
                return False
        return True

    # -- classes defined in the module ------------------------------------------------------------------------

    def local_class(self, node: ast.expr, scope: Scope) -> ast.ClassDef | None:
        """The class statement of this module that ``node`` names, if that is all it can name."""
        if not isinstance(node, ast.Name):
            return None
        bindings = lookup(node.id, scope)
        if bindings and len(bindings) == 1 and bindings[0].kind == "class":
            return bindings[0].node  # type: ignore[return-value]
        return None

    def class_kind(self, cls: ast.ClassDef) -> ObjectKind | None:
        """``engine`` for a class of this module that subclasses the engine's Task or Flow."""
        key = id(cls)
        if key in self._class_kinds:
            return self._class_kinds[key]
        self._class_kinds[key] = None
        scope = self.tracker.scope_of[id(cls)]
        kind: ObjectKind | None = None
        for base in cls.bases:
            target = self.resolve(base, scope)
            if target is not None and target.kind == "engine" and target.name in self.engine_classes:
                kind = "engine"
            else:
                parent = self.local_class(base, scope)
                kind = self.class_kind(parent) if parent is not None else None
            if kind is not None:
                break
        self._class_kinds[key] = kind
        return kind
