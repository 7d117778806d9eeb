"""Removing and adding imports on a libcst module, exactly as libcst's ``RemoveImportsVisitor`` and
``AddImportsVisitor`` do (a test compares the two on every case), without their per-instance cost.

Why not the visitors themselves: each matcher-decorated visitor instance scans its whole class (``dir()`` over
hundreds of ``visit_*`` methods) when it is created, about 20 ms; the two visitors and the helpers they create
cost ~100 ms per file, eight times what parsing a typical file costs (measured in benchmarks/codemod_speed.py). The
codemod's binding tracker has already decided what is unused, so what is left is the node surgery, done here with
the same rules: a removed name's comment lines move to its neighbour, a statement left empty goes with its
leading comments, new names are merged into an existing top-level ``from m import ...`` or added after the
leading import block, which is then followed by a blank line.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence

import libcst as cst
from libcst.helpers import get_full_name_for_node

__all__ = ["Removal", "add_imports", "remove_imports", "replace_imports", "take_comments"]

Removal = tuple[str, str | None, str | None]
"""(module, object or None for ``import module``, alias or None), as RemoveImportsVisitor takes them."""


def remove_imports(module: cst.Module, removals: Sequence[Removal]) -> cst.Module:
    """Remove the scheduled names from the module's top-level import statements."""
    return _remove_lines(module, removals)[0]


def replace_imports(
    module: cst.Module,
    removals: Sequence[Removal],
    needed: Iterable[tuple[str, str]],
    renames: Mapping[str, str] | None = None,
) -> cst.Module:
    """Remove, then add; new ``from m import ...`` lines that are not merged into an existing import take the
    place, the leading lines and the comments of the first import line the removal emptied, so the diff reads as
    a replacement (``AddImportsVisitor`` alone would put them at the end of the import block). ``renames`` (old
    name -> new name) tells which new name takes the place, and the comments, of which removed one."""
    module, emptied = _remove_lines(module, removals)
    return add_imports(module, needed, emptied, renames or {})


def _remove_lines(
    module: cst.Module, removals: Sequence[Removal]
) -> tuple[cst.Module, tuple[int, cst.SimpleStatementLine] | None]:
    """The module without the removals, and where the first emptied line was (its index and the line)."""
    body: list[cst.BaseStatement] = []
    emptied: tuple[int, cst.SimpleStatementLine] | None = None
    for statement in module.body:
        if isinstance(statement, cst.SimpleStatementLine):
            small = [kept for node in statement.body if (kept := _remove_from(node, removals)) is not None]
            if not small:
                if emptied is None:
                    emptied = (len(body), statement)
                continue  # the line goes, with its leading comment lines
            if len(small) != len(statement.body) or any(a is not b for a, b in zip(small, statement.body)):
                statement = statement.with_changes(body=_last_without_semicolon(small, statement.body))
        body.append(statement)
    return module.with_changes(body=body), emptied


def _remove_from(node: cst.BaseSmallStatement, removals: Sequence[Removal]) -> cst.BaseSmallStatement | None:
    if isinstance(node, cst.Import):
        gone = {(module, alias) for module, obj, alias in removals if obj is None}
        kept = [a for a in node.names if (a.evaluated_name, a.evaluated_alias) not in gone]
        return _with_names(node, kept, node.names, {})
    if isinstance(node, cst.ImportFrom) and not isinstance(node.names, cst.ImportStar) and not node.relative:
        module = get_full_name_for_node(node.module) if node.module is not None else None
        gone = {(obj, alias) for name, obj, alias in removals if name == module and obj is not None}
        if not gone:
            return node
        names: list[cst.ImportAlias] = []
        updates: dict[str, object] = {}
        for alias in node.names:
            if (alias.evaluated_name, alias.evaluated_alias) not in gone:
                names.append(alias)
            elif isinstance(alias.comma, cst.Comma):
                _keep_comments(alias.comma, names, node, updates)
        return _with_names(node, names, node.names, updates)
    return node


def _keep_comments(comma: cst.Comma, kept: list[cst.ImportAlias], node: cst.ImportFrom, updates: dict) -> None:
    """A removed name's own comment lines move to the name before it (or to the opening parenthesis)."""
    if kept:
        previous = kept[-1]
        if isinstance(previous.comma, cst.Comma):
            merged = _merge(previous.comma.whitespace_after, comma.whitespace_after)
            kept[-1] = previous.with_changes(comma=previous.comma.with_changes(whitespace_after=merged))
        else:
            kept[-1] = previous.with_changes(comma=comma)
    elif isinstance(node.lpar, cst.LeftParen):
        lpar = updates.get("lpar", node.lpar)
        updates["lpar"] = lpar.with_changes(whitespace_after=_merge(lpar.whitespace_after, comma.whitespace_after))


def _merge(left: cst.BaseParenthesizableWhitespace, right: cst.BaseParenthesizableWhitespace) -> cst.BaseParenthesizableWhitespace:
    if not isinstance(right, cst.ParenthesizedWhitespace):
        return left
    if not isinstance(left, cst.ParenthesizedWhitespace):
        return right
    return left.with_changes(empty_lines=tuple(line for line in right.empty_lines if line.comment is not None))


def _with_names(node, kept: list[cst.ImportAlias], names: Sequence[cst.ImportAlias], updates: dict):  # type: ignore[no-untyped-def]
    if len(kept) == len(names) and not updates:
        return node
    if not kept:
        return None
    if kept[-1] is not names[-1]:
        kept[-1] = kept[-1].with_changes(comma=cst.MaybeSentinel.DEFAULT)  # no dangling comma
    return node.with_changes(names=kept, **updates)


def _last_without_semicolon(small: list, original: Sequence) -> list:  # type: ignore[type-arg]
    if small[-1] is not original[-1]:
        small[-1] = small[-1].with_changes(semicolon=cst.MaybeSentinel.DEFAULT)
    return small


# -- adding -------------------------------------------------------------------------------------------------------


def add_imports(
    module: cst.Module,
    needed: Iterable[tuple[str, str]],
    place: tuple[int, cst.SimpleStatementLine] | None = None,
    renames: Mapping[str, str] | None = None,
) -> cst.Module:
    """Import each (module, name) once: merged into the leading block's ``from module import ...`` if there is
    one, else as new ``from module import a, b`` lines after that block (or at ``place``: a body index within the
    block and the removed import line whose leading lines and comments the new lines take, see
    ``take_comments``)."""
    wanted: dict[str, set[str]] = {}
    for module_name, name in needed:
        wanted.setdefault(module_name, set()).add(name)
    start = 1 if _docstring_or_strict(module) else 0
    end = start
    while end < len(module.body) and _is_import_line(module.body[end]):
        end += 1
    block = _from_imports(module.body, start, end)
    for _, node, name in block:  # what the block already imports
        if name in wanted:
            if isinstance(node.names, cst.ImportStar):
                del wanted[name]
            else:
                wanted[name] -= {alias.evaluated_name for alias in node.names if alias.asname is None}
                if not wanted[name]:
                    del wanted[name]
    if not wanted:
        return module
    body = list(module.body)
    for index, node, name in block:  # merge into the first matching from-import of the block
        if name in wanted and not isinstance(node.names, cst.ImportStar):
            added = [cst.ImportAlias(name=cst.Name(n)) for n in sorted(wanted.pop(name))]
            body[index] = body[index].with_deep_changes(node, names=[*added, *node.names])
    if not wanted:
        return module.with_changes(body=body)
    new_lines = [
        cst.parse_statement(f"from {name} import {', '.join(sorted(names))}", config=module.config_for_parsing)
        for name, names in sorted(wanted.items())
    ]
    if place is not None and start <= place[0] <= end:
        index, removed = place
        replacing = take_comments(removed, new_lines, renames or {})
        return module.with_changes(body=[*body[:index], *replacing, *body[index:]])
    after: list[cst.BaseStatement] = list(body[end:])
    if after:
        after[0] = _with_blank_line_before(after[0])
    return module.with_changes(body=[*body[:end], *new_lines, *after])


def take_comments(
    removed: cst.SimpleStatementLine, new_lines: Sequence[cst.BaseStatement], renames: Mapping[str, str]
) -> list[cst.SimpleStatementLine]:
    """The new import lines that replace ``removed``, which keep its leading lines and its comments.

    The first new line takes the leading lines. The new line that imports the replacement of a removed name (by
    ``renames``; else the first) takes the trailing comment, and when ``removed`` is a parenthesised ``from ...
    import (...)`` with comments inside, its very layout: each kept name is renamed in place, with its comments.
    """
    lines = [line for line in new_lines if isinstance(line, cst.SimpleStatementLine)]
    assert len(lines) == len(new_lines), "new imports are simple statement lines"
    lines[0] = lines[0].with_changes(leading_lines=removed.leading_lines)
    old = removed.body[0] if len(removed.body) == 1 else None
    old_names = [a.evaluated_name for a in old.names] if isinstance(old, cst.ImportFrom) and not isinstance(
        old.names, cst.ImportStar) else []
    replaced = {renames[name] for name in old_names if name in renames}
    index = next((i for i, line in enumerate(lines) if replaced & set(_names_of(line))), 0)
    line = lines[index]
    if isinstance(old, cst.ImportFrom) and old_names and old.lpar is not None and _has_inner_comment(old):
        node = line.body[0]
        assert isinstance(node, cst.ImportFrom) and node.module is not None
        line = line.with_changes(body=[_renamed_in_place(old, node.module, _names_of(line), renames)])
    lines[index] = line.with_changes(trailing_whitespace=removed.trailing_whitespace)
    return lines


def _names_of(line: cst.SimpleStatementLine) -> list[str]:
    node = line.body[0]
    if isinstance(node, cst.ImportFrom) and not isinstance(node.names, cst.ImportStar):
        return [alias.evaluated_name for alias in node.names]
    return []


def _has_inner_comment(node: cst.ImportFrom) -> bool:
    return "#" in cst.Module(body=[]).code_for_node(node)


def _renamed_in_place(
    old: cst.ImportFrom, module: cst.BaseExpression, wanted: Sequence[str], renames: Mapping[str, str]
) -> cst.ImportFrom:
    """``old`` (parenthesised) importing ``wanted`` from ``module``: its names renamed where they stand, with their
    comments; a name that has no place in it goes with its comment lines moved up, one it lacks is added first."""
    kept: list[cst.ImportAlias] = []
    updates: dict[str, object] = {}
    placed: set[str] = set()
    for alias in old.names:  # type: ignore[union-attr]
        new = renames.get(alias.evaluated_name)
        if new is not None and new in wanted and new not in placed:
            placed.add(new)
            kept.append(alias.with_changes(name=cst.Name(new), asname=None))
        elif isinstance(alias.comma, cst.Comma):
            _keep_comments(alias.comma, kept, old, updates)
    added = [cst.ImportAlias(name=cst.Name(name)) for name in wanted if name not in placed]
    names = [*added, *kept]
    if kept and kept[-1] is not old.names[-1] and not isinstance(old.names[-1].comma, cst.Comma):  # type: ignore[index]
        names[-1] = names[-1].with_changes(comma=cst.MaybeSentinel.DEFAULT)
    return old.with_changes(module=module, names=names, relative=(), **updates)


def _from_imports(
    body: Sequence[cst.SimpleStatementLine | cst.BaseCompoundStatement], start: int, end: int
) -> list[tuple[int, cst.ImportFrom, str]]:
    """(index, node, module) of the absolute ``from m import ...`` lines in ``body[start:end]``."""
    found = []
    for index in range(start, end):
        line = body[index]
        node = line.body[0] if isinstance(line, cst.SimpleStatementLine) else None
        if isinstance(node, cst.ImportFrom) and not node.relative and node.module is not None:
            name = get_full_name_for_node(node.module)
            if name is not None:
                found.append((index, node, name))
    return found


def _with_blank_line_before(statement: cst.BaseStatement) -> cst.BaseStatement:
    leading = statement.leading_lines  # type: ignore[attr-defined]
    if not leading:
        return statement.with_changes(leading_lines=(cst.EmptyLine(),))
    if leading[0].comment is None:
        return statement
    return statement.with_changes(leading_lines=(cst.EmptyLine(), *leading))


def _is_import_line(statement: cst.BaseStatement) -> bool:
    return (
        isinstance(statement, cst.SimpleStatementLine)
        and len(statement.body) == 1
        and isinstance(statement.body[0], (cst.Import, cst.ImportFrom))
    )


def _docstring_or_strict(module: cst.Module) -> bool:
    if not module.body or not isinstance(module.body[0], cst.SimpleStatementLine):
        return False
    first = module.body[0].body[0]
    if isinstance(first, cst.Expr):
        return isinstance(first.value, cst.SimpleString)
    return (
        isinstance(first, cst.Assign)
        and len(first.targets) == 1
        and isinstance(first.targets[0].target, cst.Name)
        and first.targets[0].target.value == "__strict__"
    )
