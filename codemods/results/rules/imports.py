"""Imports: legacy imports the rewrites left unused are removed, the new names are imported once.

The edits are made on libcst nodes, the way libcst's ``RemoveImportsVisitor`` and ``AddImportsVisitor`` make them
(``codemods.results.import_edits``), on small modules cut from the file: the leading import block (with the
docstring before it and a stand-in for the statement after it), or one import statement elsewhere. Parsing and
visiting the whole file with libcst would cost more than the rest of the codemod together. Which imports are
unused is decided by the codemod's own binding tracker.
"""

from __future__ import annotations

import ast
from typing import TYPE_CHECKING

from codemods.results.rules.base import Context, RewriteRule
from codemods.results.scopes import Binding, lookup

if TYPE_CHECKING:  # libcst is imported only for a file whose imports are edited: it is most of the start-up cost
    import libcst as cst

    from codemods.results.import_edits import Removal

__all__ = ["Imports", "RoundTripError"]


class RoundTripError(ValueError):
    """libcst does not reproduce a piece of the file exactly: the codemod refuses to rewrite the file."""


def _parse_exact(text: str) -> cst.Module:
    """A libcst module of ``text``, only if its code is ``text`` byte for byte (libcst's round trip is not
    exact for every input, and nothing outside the rewritten names may change)."""
    import libcst as cst

    try:
        module = cst.parse_module(text)
    except cst.ParserSyntaxError as exc:
        raise RoundTripError(f"libcst cannot parse this file's imports ({exc.message}); rewrite it by hand") from exc
    if module.code != text:
        raise RoundTripError("libcst does not reproduce this file's import block exactly; rewrite it by hand")
    return module


class Imports(RewriteRule):
    name = "import"
    description = "unused legacy imports are removed; the replacements are imported once, in their place if possible"

    def apply(self, context: Context) -> None:
        removals: dict[int, list[Removal]] = {}
        statements: dict[int, ast.Import | ast.ImportFrom] = {}
        roots: list[tuple[ast.Import | ast.ImportFrom, ast.alias]] = []
        for statement in context.tracker.imports:
            for alias in statement.names:
                removal = self._removal(context, statement, alias, roots)
                if removal is not None:
                    removals.setdefault(id(statement), []).append(removal)
                    statements[id(statement)] = statement
        prologue, end = _prologue(context)
        in_prologue = {key: value for key, value in removals.items() if key in prologue}
        to_top, in_place, target = self._placement(context, statements, removals, prologue)
        local = self._local_placement(context, statements, removals, to_top)
        for names in local.values():
            to_top -= names
        if to_top or in_prologue:
            self._rewrite_prologue(context, end, [r for rs in in_prologue.values() for r in rs], to_top)
        for statement, alias in roots:
            root = alias.name.split(".", 1)[0]
            if id(statement) in removals or (id(statement) in prologue and (to_top or in_prologue)):
                context.site(alias, "import", "manual", f"import {alias.name}: the code uses {root} only, never the "
                             f"legacy module, which is gone in the target version: import {root} instead")
                continue  # this statement is rewritten as a whole already
            context.replace_node(alias, root)
            context.site(alias, "import", "rewritten", f"import {alias.name} -> import {root}: the code uses {root} "
                         "only, never the legacy module")
        for key, found in removals.items():
            if key in prologue:
                continue
            if statements[key] is target and _emptied(target, found):
                self._replace_in_place(context, target, in_place)
            elif key in local:
                self._replace_in_place(context, statements[key], local[key])
            else:
                self._remove_from(context, statements[key], found)
                if statements[key] is target:
                    _insert_after_line(context, target, _import_lines(context, in_place))

    @staticmethod
    def _placement(
        context: Context,
        statements: dict[int, ast.Import | ast.ImportFrom],
        removals: dict[int, list[Removal]],
        prologue: set[int],
    ) -> tuple[set[tuple[str, str]], set[tuple[str, str]], ast.stmt | None]:
        """Which new imports go to the top and which replace a legacy import line in place.

        The new import of a module takes the place of the first module-level legacy import line that the
        removals empty (or, when none is emptied, goes on the line after the first one they shorten), when the top
        block does not already import from that module (it is merged there) and no line before it uses the new
        names; otherwise it goes where AddImportsVisitor would put it.
        """
        if not context.needed or any(_emptied(statements[key], removals[key]) for key in removals if key in prologue):
            return set(context.needed), set(), None  # the top block rewrite puts them in the emptied line's place
        top_modules = {
            s.module for s in context.tree.body if id(s) in prologue and isinstance(s, ast.ImportFrom) and not s.level
        }
        candidates = [s for s in context.tree.body if id(s) in removals and id(s) not in prologue]
        emptied = [s for s in candidates if _emptied(statements[id(s)], removals[id(s)])]
        for statement in emptied[:1] or candidates[:1]:  # an emptied line first, else beside one that stays
            if not _alone_on_its_lines(context, statement):
                break
            in_place = {
                (module, name) for module, name in context.needed
                if module not in top_modules and context.first_use[module] > statement.end_lineno  # type: ignore[operator]
            }
            return set(context.needed) - in_place, in_place, statement if in_place else None
        return set(context.needed), set(), None

    @staticmethod
    def _local_placement(
        context: Context,
        statements: dict[int, ast.Import | ast.ImportFrom],
        removals: dict[int, list[Removal]],
        needed: set[tuple[str, str]],
    ) -> dict[int, set[tuple[str, str]]]:
        """New imports that take the place of a legacy import inside a function which the removals empty: those
        whose every use is in that function, after the import (the function imported what it uses; so does the
        rewrite)."""
        placed: dict[int, set[tuple[str, str]]] = {}
        top = {s.module for s in context.tree.body if isinstance(s, ast.ImportFrom) and not s.level}
        taken = {pair for pair in needed if pair[0] in top}  # merged into the module's import of that module
        for key, statement in statements.items():
            binding = context.tracker.binding_of_alias.get(id(statement.names[0]))
            scope = binding.scope if binding is not None else None
            function = scope.node if scope is not None and scope.kind == "function" else None
            if function is None or not _emptied(statement, removals[key]) or not _alone_on_its_lines(context, statement):
                continue
            if "#" in context.source.segment(context.source.start(statement), context.source.end(statement)):
                continue  # comments inside the statement: left to the top block, which keeps them
            first, last = statement.end_lineno or statement.lineno, function.end_lineno or function.lineno  # type: ignore[attr-defined]
            mine = {pair for pair in needed - taken if all(first < line <= last for line in context.uses[pair])}
            if mine:
                placed[key] = mine
                taken |= mine
        return placed

    @staticmethod
    def _replace_in_place(context: Context, target: ast.stmt, needed: set[tuple[str, str]]) -> None:
        """The new imports take the place of an emptied legacy import line, and the comments inside it (the
        trailing comment is outside the statement: it stays as it is)."""
        source = context.source
        text = _import_lines(context, needed)
        lines = text.split(source.newline)
        indent = source.segment(source.line_start(target.lineno), source.start(target))
        text = (source.newline + indent).join(lines)
        old = source.segment(source.start(target), source.end(target))
        if "#" in old:
            import libcst as cst

            from codemods.results.import_edits import take_comments

            removed = _parse_exact(old).body[0]
            assert isinstance(removed, cst.SimpleStatementLine)
            new = take_comments(removed, [cst.parse_statement(line) for line in lines], _renames(context))
            text = cst.Module(body=new, default_newline=source.newline, has_trailing_newline=False).code
        context.replace_node(target, text)

    # -- what to remove ----------------------------------------------------------------------------------------

    def _removal(
        self,
        context: Context,
        statement: ast.Import | ast.ImportFrom,
        alias: ast.alias,
        roots: list[tuple[ast.Import | ast.ImportFrom, ast.alias]],
    ) -> Removal | None:
        """What to remove of ``alias``; a plain ``import a.legacy.module`` that only ``a`` is needed of goes to
        ``roots`` (it becomes ``import a``)."""
        names = context.names
        if isinstance(statement, ast.ImportFrom):
            if statement.level or statement.module is None:
                return None
            if alias.name == "*":
                if statement.module in context.profile.legacy_modules:
                    context.site(statement, "import", "manual", f"from {statement.module} import *: import the "
                                 f"replacements from {context.profile.new_module} by name")
                return None
            qualified = f"{statement.module}.{alias.name}"
            if id(alias) in context.dropped_imports:
                context.site(alias, "import", "rewritten", f"removed the import of {alias.name}, which the "
                             "rewritten code no longer uses")
                return (statement.module, alias.name, alias.asname)
        else:
            qualified = alias.name
        target = names.table.get(qualified)
        if target is None or target.kind not in ("legacy-class", "legacy-module"):
            return None
        binding = context.tracker.binding_of_alias[id(alias)]
        reads = [read for read in context.tracker.reads.get(binding.name, ()) if _reads(context, read, binding)]
        remaining = [read for read in reads if id(read) not in context.consumed]
        if not reads and isinstance(statement, ast.Import) and not alias.asname and "." in alias.name:
            # ``import prefect.engine.result_handlers`` binds ``prefect``, which nothing reads: nothing can be
            # re-exported through it, and the import alone fails where the legacy module is gone
            context.site(alias, "import", "rewritten", f"removed the unused legacy import of {alias.name}")
            return (alias.name, None, alias.asname)
        if not reads:
            context.site(alias, "import", "manual", f"{binding.name} is imported from a legacy module but not used "
                         "here (a re-export?): import its replacement instead")
            return None
        if remaining and not self._only_other_paths(context, statement, alias, binding, remaining):
            if _root_import_will_do(context, statement, alias, remaining):
                roots.append((statement, alias))
            return None  # still used: the reference rule reports those uses
        if binding.name in context.tracker.exported:
            context.site(alias, "import", "manual", f"{binding.name} is re-exported in __all__: export its "
                         "replacement instead")
            return None
        context.site(alias, "import", "rewritten", _what_became_of(context, statement, alias, binding.name))
        if isinstance(statement, ast.ImportFrom):
            return (statement.module or "", alias.name, alias.asname)
        return (alias.name, None, alias.asname)

    @staticmethod
    def _only_other_paths(
        context: Context, statement: ast.stmt, alias: ast.alias, binding: Binding, remaining: list[ast.Name]
    ) -> bool:
        """``import compat.result_handlers`` binds ``compat``: its other reads (``compat.Task``) may stay when
        another import binds ``compat`` too and no remaining read goes through the legacy module."""
        if not isinstance(statement, ast.Import) or alias.asname or "." not in alias.name:
            return False
        others = [b for b in binding.scope.bindings.get(binding.name, ()) if b is not binding and b.kind == "import"]
        return bool(others) and not _read_through_legacy(context, remaining)

    # -- how: node edits on the smallest module that shows what the whole file would --------------------------

    @staticmethod
    def _rewrite_prologue(context: Context, end: int, removals: list[Removal], needed: set[tuple[str, str]]) -> None:
        """The docstring and leading import block, plus a stand-in for the statement after them (whose leading
        blank lines may gain one): the edits see exactly what they would in the whole file."""
        from codemods.results.import_edits import replace_imports

        source = context.source
        sentinel = "pass" + source.newline if end < len(source.data) else ""
        module = _parse_exact(source.segment(0, end) + sentinel)
        module = replace_imports(module, removals, needed, _renames(context))
        code = module.code
        if sentinel:
            assert code.endswith(sentinel), "the stand-in statement was lost"
            code = code[: -len(sentinel)]
        context.replace(0, end, code)

    @staticmethod
    def _remove_from(context: Context, statement: ast.Import | ast.ImportFrom, removals: list[Removal]) -> None:
        from codemods.results.import_edits import remove_imports

        source = context.source
        start, end = source.start(statement), source.end(statement)
        module = remove_imports(_parse_exact(source.segment(start, end)), removals)
        if module.body:
            context.replace(start, end, module.code)
            return
        line_start, line_end = source.line_start(statement.lineno), source.line_end(statement.end_lineno)  # type: ignore[arg-type]
        if not _alone_on_its_lines(context, statement):
            context.site(statement, "import", "manual", "the import shares its line with another statement: "
                         "remove it by hand")
            return
        if id(statement) in context.tracker.statement_only_child:
            context.replace(start, end, "pass")  # the block would be left empty
        else:
            context.replace(line_start, line_end, "")


def _import_lines(context: Context, needed: set[tuple[str, str]]) -> str:
    """``from module import a, b``, one line per module, sorted."""
    return context.source.newline.join(
        f"from {m} import {', '.join(sorted(n for mm, n in needed if mm == m))}" for m in sorted({m for m, _ in needed})
    )


def _insert_after_line(context: Context, statement: ast.stmt, text: str) -> None:
    """``text`` on a line of its own after the statement's last line (after its trailing comment)."""
    source = context.source
    position = source.line_end(statement.end_lineno)  # type: ignore[arg-type]
    if position == len(source.data) and not source.segment(0, position).endswith(("\n", "\r")):
        context.insert_at(position, source.newline + text)
    else:
        context.insert_at(position, text + source.newline)


def _read_through_legacy(context: Context, reads: list[ast.Name]) -> bool:
    """Whether one of ``reads`` (of a package name) reaches a legacy name through it (``prefect.engine.
    result_handlers.LocalResultHandler``)."""
    roots = {id(read) for read in reads}
    for attribute in context.tracker.watched:
        root: ast.expr = attribute
        while isinstance(root, ast.Attribute):
            root = root.value
        if id(root) in roots and context.names.resolve(attribute, context.tracker.scope_of[id(attribute)]):
            return True
    return False


def _root_import_will_do(
    context: Context, statement: ast.Import | ast.ImportFrom, alias: ast.alias, reads: list[ast.Name]
) -> bool:
    """``import prefect.engine.result_handlers`` whose binding ``prefect`` is read only for other things
    (``prefect.Task``) and that nothing else binds: ``import prefect`` is what the code needs, and it does not fail
    where the legacy module is gone."""
    return (isinstance(statement, ast.Import) and not alias.asname and "." in alias.name
            and not _read_through_legacy(context, reads) and getattr(alias, "end_col_offset", None) is not None)


def _renames(context: Context) -> dict[str, str]:
    """Each legacy class name -> its replacement's, for the new import that takes a removed one's place."""
    return {rename.old: rename.new for rename in context.profile.of_kind("class")}


def _what_became_of(context: Context, statement: ast.Import | ast.ImportFrom, alias: ast.alias, name: str) -> str:
    """"replaced" when the rewrite imports the replacement of the removed name, else "removed"."""
    rename = context.profile.find("class", alias.name) if isinstance(statement, ast.ImportFrom) else None
    module = context.profile.new_module
    if rename is not None and (module, rename.new) in context.needed:
        return f"replaced the legacy import of {name} with {module}.{rename.new}"
    return f"removed the legacy import of {name}, which the rewritten code no longer uses"


def _emptied(statement: ast.Import | ast.ImportFrom, removals: list[Removal]) -> bool:
    return len(removals) == len(statement.names)


def _alone_on_its_lines(context: Context, statement: ast.stmt) -> bool:
    """Nothing but indentation before the statement and at most a comment after it."""
    source = context.source
    start, end = source.start(statement), source.end(statement)
    before = source.segment(source.line_start(statement.lineno), start)
    after = source.segment(end, source.line_end(statement.end_lineno)).strip()  # type: ignore[arg-type]
    return not before.strip() and (not after or after.startswith("#"))


def _reads(context: Context, read: ast.Name, binding: Binding) -> bool:
    found = lookup(read.id, context.tracker.scope_of[id(read)])
    return found is not None and any(b is binding for b in found)


def _prologue(context: Context) -> tuple[set[int], int]:
    """The ids of the statements libcst's AddImportsVisitor treats as the leading import block (with the
    docstring before it), and the byte offset where the statement after them begins."""
    body = context.tree.body
    index = 0
    if body and _is_docstring_or_strict(body[0]):
        index = 1
    while index < len(body) and isinstance(body[index], (ast.Import, ast.ImportFrom)) and _alone(body, index):
        index += 1
    if index == len(body):
        return {id(s) for s in body}, len(context.source.data)
    following = body[index]
    first_line = min([following.lineno, *(d.lineno for d in getattr(following, "decorator_list", ()))])
    return {id(s) for s in body[:index]}, context.source.line_start(first_line)


def _alone(body: list[ast.stmt], index: int) -> bool:
    statement = body[index]
    if index and body[index - 1].end_lineno == statement.lineno:
        return False
    return index + 1 == len(body) or body[index + 1].lineno != statement.end_lineno


def _is_docstring_or_strict(statement: ast.stmt) -> bool:
    if isinstance(statement, ast.Expr):
        return isinstance(statement.value, ast.Constant) and isinstance(statement.value.value, str)
    return (
        isinstance(statement, ast.Assign)
        and len(statement.targets) == 1
        and isinstance(statement.targets[0], ast.Name)
        and statement.targets[0].id == "__strict__"
    )
