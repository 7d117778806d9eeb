"""``with Flow("etl") as flow:`` -> an ``@flow(name="etl")`` function, and ``flow.run()`` -> a call of it.

Only a flow of the common shape moves: built at module level, its body ``Parameter``s and task calls (``.map``,
``unmapped``, ``upstream_tasks=``) with literals, its variable used for nothing but ``flow.run(...)`` statements.
``Parameter``s become the function's arguments with their defaults. Anything else (a schedule, an executor, state
handlers, a conditional, ``flow.register()`` ...) leaves the block as it is, the handlers in its ``Flow(...)``
call included, and lists it with every reason: a flow is moved whole or not at all. Every name and keyword comes
from the profile's ``FlowShape``. This rule runs first: the others must leave a flow it keeps alone.
"""

from __future__ import annotations

import ast
import builtins
import keyword
import re
from dataclasses import dataclass, field

from compat.renames import FlowShape
from codemods.results.rules.base import Context, RewriteRule
from codemods.results.rules.task_classes import task_classes
from codemods.results.scopes import Binding, lookup

__all__ = ["Flows"]


@dataclass
class _Flow:
    """What one ``with Flow(...)`` block becomes, or why it stays."""

    block: ast.With
    call: ast.Call
    variable: str
    name: str = ""
    function: str = ""
    parameters: list[tuple[str, str | None]] = field(default_factory=list)  # (name, default's source)
    removed: list[ast.stmt] = field(default_factory=list)  # Parameter statements
    inline: list[ast.Call] = field(default_factory=list)  # Parameter(...) given straight to a task
    runs: list[ast.Call] = field(default_factory=list)  # flow.run(...) statements
    reasons: list[str] = field(default_factory=list)


class Flows(RewriteRule):
    name = "flow"
    description = "with Flow(...) blocks of the common shape become @flow functions, flow.run() calls of them"

    def apply(self, context: Context) -> None:
        shape = context.profile.flows
        if shape is None:
            return
        parents = context.parents
        flows = [self._examine(context, shape, block, parents) for block in self._blocks(context)]
        self._check_names(context, shape, flows)
        for flow in flows:
            if flow.reasons:
                context.kept.update(id(node) for node in ast.walk(flow.call))
                named = repr(flow.name) if flow.name else "..."
                context.site(flow.block, "flow", "manual", f"with {shape.flow_class}({named}) as {flow.variable}: "
                             f"left as it is: {'; '.join(flow.reasons)}")
            else:
                self._rewrite(context, shape, flow)
        moved = [flow for flow in flows if not flow.reasons]
        if moved:
            self._drop_imports(context, shape, moved)

    # -- what is there ---------------------------------------------------------------------------------------------

    @staticmethod
    def _blocks(context: Context) -> list[ast.With]:
        found = []
        for node in ast.walk(context.tree):
            if isinstance(node, ast.With) and node.items and isinstance(node.items[0].context_expr, ast.Call):
                call = node.items[0].context_expr
                target = context.names.resolve(call.func, context.tracker.scope_of[id(call)])
                if target is not None and target.kind == "engine" and target.name == context.profile.flows.flow_class:  # type: ignore[union-attr]
                    found.append(node)
        return sorted(found, key=lambda node: node.lineno)

    def _examine(self, context: Context, shape: FlowShape, block: ast.With, parents: dict[int, ast.AST]) -> _Flow:
        call = block.items[0].context_expr
        assert isinstance(call, ast.Call)
        variable = block.items[0].optional_vars
        flow = _Flow(block, call, variable.id if isinstance(variable, ast.Name) else "")
        if block not in context.tree.body:
            flow.reasons.append("the flow is built inside a function or another block: build it at module level, "
                                "or port it to a @flow function by hand")
        if len(block.items) != 1 or not flow.variable:
            flow.reasons.append(f"give the {shape.flow_class} block a single 'as name'")
        if not isinstance(call.func, ast.Name):
            flow.reasons.append(f"{context.code(call.func)}: import {shape.flow_class} by name")
        self._arguments(context, shape, flow)
        for statement in block.body:
            self._statement(context, shape, flow, statement)
        if not any(s not in flow.removed for s in block.body):
            flow.reasons.append("the flow calls no task")
        self._names(context, shape, flow)
        if flow.variable and block in context.tree.body:
            self._uses(context, shape, flow, parents)
        return flow

    @staticmethod
    def _arguments(context: Context, shape: FlowShape, flow: _Flow) -> None:
        call = flow.call
        name = call.args[0] if call.args else next((k.value for k in call.keywords if k.arg == "name"), None)
        if len(call.args) > 1 or any(isinstance(a, ast.Starred) for a in call.args):
            flow.reasons.append(f"{shape.flow_class}(...) takes only its name positionally")
        if isinstance(name, ast.Constant) and isinstance(name.value, str):
            flow.name = name.value
        else:
            flow.reasons.append("the flow's name is not a string literal")
        for given in call.keywords:
            if given.arg is None:
                flow.reasons.append(f"**{context.code(given.value)}: give {shape.flow_class}'s keywords by name")
            elif shape.flow_keywords.get(given.arg) is None and given.arg in shape.flow_keywords:
                flow.reasons.append(f"{given.arg}=: {shape.reasons.get(given.arg, 'Prefect 3 has no equivalent')}")
            elif given.arg not in shape.flow_keywords:
                flow.reasons.append(f"{given.arg}= has no equivalent on @{shape.decorator}")
            elif given.arg != "name" and not context.built_in_result(given.value):
                flow.reasons.append(f"{given.arg}={context.code(given.value)} is not a built-in handler or Result: "
                                    f"give @{shape.decorator} a result_storage= block by hand")

    def _statement(self, context: Context, shape: FlowShape, flow: _Flow, statement: ast.stmt) -> None:
        where = f"line {statement.lineno}"
        if isinstance(statement, ast.Assign) and len(statement.targets) == 1 \
                and isinstance(statement.targets[0], ast.Name):
            target, value = statement.targets[0].id, statement.value
            if isinstance(value, ast.Call) and _is(context, value.func, shape, shape.parameter_class):
                name = self._parameter(context, shape, flow, value)
                if name is not None and name != target:
                    flow.reasons.append(f"{where}: the {shape.parameter_class} {name!r} is bound to {target}: "
                                        "give the variable the parameter's name")
                flow.removed.append(statement)
                return
            if target == flow.variable:
                flow.reasons.append(f"{where}: {target} is rebound inside its own block")
        elif isinstance(statement, ast.Expr) and isinstance(statement.value, ast.Call):
            value = statement.value
        else:
            flow.reasons.append(f"{where}: {type(statement).__name__.lower()} statement inside the flow block "
                                "(only task calls and Parameters move): port it by hand, a Prefect 3 flow runs "
                                "Python as it is")
            return
        self._expression(context, shape, flow, value, where, top=True)

    def _expression(self, context: Context, shape: FlowShape, flow: _Flow, node: ast.expr, where: str,
                    top: bool = False) -> None:
        if isinstance(node, ast.Constant):
            return
        if isinstance(node, ast.Name):
            if node.id == flow.variable:
                flow.reasons.append(f"{where}: the flow itself is passed to a task")
            return
        if isinstance(node, (ast.List, ast.Tuple, ast.Set)):
            for element in node.elts:
                self._expression(context, shape, flow, element, where)
            return
        if isinstance(node, ast.Dict) and all(key is not None for key in node.keys):
            for part in (*node.keys, *node.values):
                self._expression(context, shape, flow, part, where)  # type: ignore[arg-type]
            return
        if isinstance(node, ast.Call):
            self._call(context, shape, flow, node, where)
            return
        flow.reasons.append(f"{where}: {context.code(node)} is computed when the flow is built (only task calls, "
                            "Parameters and literals move): port it by hand")

    def _call(self, context: Context, shape: FlowShape, flow: _Flow, call: ast.Call, where: str) -> None:
        func = call.func
        if _is(context, func, shape, shape.parameter_class):
            name = self._parameter(context, shape, flow, call)
            if name is not None:
                flow.inline.append(call)
            return
        kept = any(_is(context, func, shape, name) for name in shape.kept_calls)
        callee = func.value if isinstance(func, ast.Attribute) and func.attr == "map" else func
        if not kept and not _is_task(context, callee, shape):
            flow.reasons.append(f"{where}: {context.code(func)}(...) is not a task of this module (only task calls, "
                                "Parameters and literals move): port it by hand")
            return
        if any(isinstance(a, ast.Starred) for a in call.args):
            flow.reasons.append(f"{where}: *{context.code(call)}: give a task's arguments one by one")
        for given in call.keywords:
            if given.arg is None:
                flow.reasons.append(f"{where}: **...: give a task's keywords by name")
            elif given.arg in shape.call_keywords and shape.call_keywords[given.arg] is None:
                flow.reasons.append(f"{where}: {given.arg}=: {shape.reasons.get(given.arg, 'no equivalent')}")
        for part in (*call.args, *(k.value for k in call.keywords)):
            self._expression(context, shape, flow, part, where)

    @staticmethod
    def _names(context: Context, shape: FlowShape, flow: _Flow) -> None:
        """Names bound in the block become the function's locals: none may be read outside it, and a name the
        block reads from outside must not be a task's result or a Parameter built elsewhere."""
        bound = {s.targets[0].id for s in flow.block.body if isinstance(s, ast.Assign)}  # type: ignore[attr-defined]
        parameters = {name for name, _ in flow.parameters}
        for name in parameters & bound - {s.targets[0].id for s in flow.removed}:  # type: ignore[attr-defined]
            flow.reasons.append(f"the parameter {name!r} and a variable of the block share the name {name}")
        called = {node.id for call in ast.walk(flow.block) if isinstance(call, ast.Call)
                  for node in [call.func.value if isinstance(call.func, ast.Attribute) else call.func]
                  if isinstance(node, ast.Name)}
        for name in sorted(parameters & called):
            flow.reasons.append(f"the parameter {name!r} would hide the task {name} the flow calls: rename the "
                                "parameter")
        inside = {id(node) for node in ast.walk(flow.block)}
        first, last = flow.block.lineno, flow.block.end_lineno
        for name in sorted(bound):
            if any(id(read) not in inside and any(b.node in flow.block.body for b in lookup(read.id,
                   context.tracker.scope_of[id(read)]) or ()) for read in context.tracker.reads.get(name, ())):
                flow.reasons.append(f"{name}, bound in the flow block, is used outside it (lines {first}-{last}): "
                                    "in Prefect 3 it is the flow function's local; return it and port that use by "
                                    "hand")
        callees = {id(call.func.value if isinstance(call.func, ast.Attribute) else call.func)
                   for call in ast.walk(flow.block) if isinstance(call, ast.Call)}
        for node in ast.walk(flow.block):
            if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Load) and node.id not in bound | parameters \
                    and id(node) not in callees:
                for binding in context.tracker.module.bindings.get(node.id, []):
                    value = binding.value
                    if isinstance(value, ast.Call) and binding.node not in flow.block.body and (
                            _is(context, value.func, shape, shape.parameter_class) or _is_task(context, value.func, shape)
                            or _instance(context, value.func, shape)):
                        flow.reasons.append(f"line {node.lineno}: {node.id} is built outside the flow block: "
                                            "move it into the block")
                        break

    @staticmethod
    def _parameter(context: Context, shape: FlowShape, flow: _Flow, call: ast.Call) -> str | None:
        """Record the flow argument a ``Parameter(...)`` becomes; its name, or None (then a reason)."""
        where = f"line {call.lineno}"
        name = call.args[0] if call.args else next((k.value for k in call.keywords if k.arg == "name"), None)
        if not isinstance(name, ast.Constant) or not isinstance(name.value, str) or not name.value.isidentifier() \
                or keyword.iskeyword(name.value) or len(call.args) > 1:
            flow.reasons.append(f"{where}: {context.code(call)}: a Parameter moves when its name is an identifier "
                                "given as a string literal")
            return None
        given = {k.arg: k.value for k in call.keywords if k.arg != "name"}
        other = [str(k) for k in given if k not in shape.parameter_keywords]
        required = given.get("required")
        if other or (required is not None and not (isinstance(required, ast.Constant) and required.value in (True, False))):
            flow.reasons.append(f"{where}: {context.code(call)}: only default= and a literal required= move")
            return None
        default = given.get("default")
        if required is not None and required.value is True:  # type: ignore[attr-defined]
            source = None
        elif default is not None:
            source = context.source.segment(context.source.start(default), context.source.end(default))
        else:
            source = None if required is None else "None"
        if any(existing == name.value for existing, _ in flow.parameters):
            flow.reasons.append(f"{where}: the parameter {name.value!r} is declared twice")
            return None
        flow.parameters.append((name.value, source))
        return name.value

    @staticmethod
    def _uses(context: Context, shape: FlowShape, flow: _Flow, parents: dict[int, ast.AST]) -> None:
        """The flow's variable may be used only as ``flow.run(...)`` statements; their keywords must map."""
        bindings = context.tracker.module.bindings.get(flow.variable, [])
        if [b.node for b in bindings] != [flow.block]:
            flow.reasons.append(f"{flow.variable} is bound elsewhere too: rename it")
            return
        for read in context.tracker.reads.get(flow.variable, ()):
            found = lookup(read.id, context.tracker.scope_of[id(read)])
            if not found or not any(b.node is flow.block for b in found):
                continue
            attribute, call = parents.get(id(read)), None
            if isinstance(attribute, ast.Attribute):
                call = parents.get(id(attribute))
            where = f"line {read.lineno}"
            if not isinstance(attribute, ast.Attribute):
                flow.reasons.append(f"{where}: the flow is passed on: a Prefect 3 flow is its function")
            elif attribute.attr != shape.run_method or not isinstance(call, ast.Call) or call.func is not attribute:
                reason = shape.reasons.get(attribute.attr, "Prefect 3 flows have no such attribute")
                flow.reasons.append(f"{where}: {flow.variable}.{attribute.attr}: {reason}")
            elif id(call) not in context.tracker.expression_statements:
                flow.reasons.append(f"{where}: the state {flow.variable}.{shape.run_method}() returns is used: a "
                                    "Prefect 3 flow call returns the function's return value (return_state=True "
                                    "returns a State, whose result() differs): port it by hand")
            elif call.args or any(k.arg not in shape.run_keywords for k in call.keywords):
                flow.reasons.append(f"{where}: {context.code(call)}: {shape.reasons[shape.run_method]}")
            else:
                flow.runs.append(call)

    @staticmethod
    def _check_names(context: Context, shape: FlowShape, flows: list[_Flow]) -> None:
        """The function's name (from the flow's name) must be free, and so must the decorator's."""
        module = context.tracker.module
        mine = {id(flow.block) for flow in flows if not flow.reasons}
        taken = set(module.bindings) | set(context.tracker.reads) | set(dir(builtins)) | {shape.decorator}
        for binding in module.bindings.get(shape.decorator, []):
            if not (binding.kind == "with" and id(binding.node) in mine) and not _imports(binding, shape):
                for flow in flows:
                    if flow.reasons:
                        continue  # it stays for other reasons: this one would only add noise
                    flow.reasons.append(f"the name {shape.decorator} is bound to something else here: import "
                                        f"{shape.module}.{shape.decorator} under another name and port the flow by hand")
                break
        chosen: set[str] = set()
        for flow in flows:
            slug = re.sub(r"\W+", "_", flow.name).strip("_").lower()
            if slug and slug[0].isdigit():
                slug = f"flow_{slug}"
            for candidate in (slug, f"{slug}_flow"):
                if candidate.isidentifier() and not keyword.iskeyword(candidate) and candidate not in taken \
                        and candidate not in chosen:
                    flow.function = candidate
                    chosen.add(candidate)
                    break
            else:
                flow.reasons.append(f"no free function name for the flow {flow.name!r} ({slug} is taken)")

    # -- the rewrite -----------------------------------------------------------------------------------------------

    def _rewrite(self, context: Context, shape: FlowShape, flow: _Flow) -> None:
        source, call, block = context.source, flow.call, flow.block
        context.replace(source.start(block), source.end(call.func), f"@{shape.decorator}")
        if call.args:
            context.insert_before(call.args[0], "name=")
        required = [name for name, default in flow.parameters if default is None]
        defaulted = [f"{name}={default}" for name, default in flow.parameters if default is not None]
        variable = block.items[0].optional_vars
        assert variable is not None
        context.replace(source.end(call), source.end(variable),
                        f"{source.newline}def {flow.function}({', '.join([*required, *defaulted])})")
        for statement in flow.removed:
            context.replace(source.line_start(statement.lineno), source.line_end(statement.end_lineno), "")  # type: ignore[arg-type]
        for parameter in flow.inline:
            context.replace_node(parameter, parameter.args[0].value if parameter.args else next(  # type: ignore[attr-defined]
                k.value.value for k in parameter.keywords if k.arg == "name"))  # type: ignore[attr-defined]
        for node in ast.walk(block):
            new = shape.call_keywords.get(node.arg or "") if isinstance(node, ast.keyword) else None
            if new:
                context.rename_keyword(node, new)  # type: ignore[arg-type]
        for run in flow.runs:
            context.replace(source.start(run), source.end(run), f"{flow.function}({_run_arguments(context, run)})")
            context.site(run, "flow", "rewritten", f"{flow.variable}.{shape.run_method}(...) -> {flow.function}(...)")
        context.introduce(shape.decorator, shape.module, block)
        context.flow_functions[id(block)] = flow.function
        context.site(block, "flow", "rewritten", f"with {shape.flow_class}({flow.name!r}) as {flow.variable} -> "
                     f"@{shape.decorator} def {flow.function}")

    @staticmethod
    def _drop_imports(context: Context, shape: FlowShape, moved: list[_Flow]) -> None:
        """``Flow`` and ``Parameter`` imports that only the moved blocks read are removed (Prefect 3 has neither)."""
        inside = {id(node) for flow in moved for node in ast.walk(flow.block)}
        for statement in context.tracker.imports:
            if not isinstance(statement, ast.ImportFrom) or statement.level or statement.module is None:
                continue
            for alias in statement.names:
                if alias.name not in (shape.flow_class, shape.parameter_class):
                    continue
                binding = context.tracker.binding_of_alias.get(id(alias))
                if binding is None or binding.scope is not context.tracker.module:
                    continue
                reads = context.tracker.reads.get(binding.name, ())
                if all(id(read) in inside for read in reads):
                    context.dropped_imports.add(id(alias))


def _run_arguments(context: Context, run: ast.Call) -> str:
    """``flow.run(parameters={"x": 1})``'s arguments as the flow function's: ``x=1`` (``**p`` for a name)."""
    given = next((k.value for k in run.keywords if k.arg == "parameters"), None)
    if given is None:
        return ""
    segment = context.source.segment
    if isinstance(given, ast.Dict) and all(isinstance(k, ast.Constant) and isinstance(k.value, str)
                                           and k.value.isidentifier() and not keyword.iskeyword(k.value)
                                           for k in given.keys):
        return ", ".join(f"{k.value}={segment(context.source.start(v), context.source.end(v))}"  # type: ignore[union-attr]
                         for k, v in zip(given.keys, given.values))
    return f"**{segment(context.source.start(given), context.source.end(given))}"


def _is(context: Context, node: ast.expr, shape: FlowShape, name: str) -> bool:
    """Whether ``node`` names ``name`` of the engine (``prefect.Parameter``)."""
    qualified = tuple(f"{module}.{name}" for module in context.profile.engine_modules)
    return context.names.is_any(node, context.tracker.scope_of.get(id(node), context.tracker.module), qualified)


def _is_task(context: Context, node: ast.expr, shape: FlowShape) -> bool:
    """A name bound once at module level to a ``@task`` function or an instance of Task (or a subclass of it)."""
    if not isinstance(node, ast.Name):
        return False
    bindings = context.tracker.module.bindings.get(node.id, [])
    if len(bindings) != 1:
        return False
    binding = bindings[0]
    if binding.kind == "def":
        return context.names.object_kind(node, context.tracker.module) == "engine"
    if binding.kind == "assign" and isinstance(binding.value, ast.Call):
        cls = context.names.local_class(binding.value.func, context.tracker.module)
        if cls is not None:  # an instance of a Task class of the module: it must move too
            found = task_classes(context).get(id(cls))
            return found is not None and not found.reasons
        return _is(context, binding.value.func, shape, shape.task_class)
    return False


def _instance(context: Context, node: ast.expr, shape: FlowShape) -> bool:
    """Whether a call of ``node`` builds a Task: the engine's Task or a Task class of the module."""
    if _is(context, node, shape, shape.task_class):
        return True
    cls = context.names.local_class(node, context.tracker.module)
    return cls is not None and id(cls) in task_classes(context)


def _imports(binding: Binding, shape: FlowShape) -> bool:
    return binding.kind == "import" and binding.qualified == f"{shape.module}.{shape.decorator}"
