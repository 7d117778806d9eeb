"""``@task(result_storage=LocalFileSystem(...))`` -> a block saved before the task is defined, and passed by name.

Prefect 3 refuses a storage block that is not saved server-side ("Result storage configuration must be persisted
server-side"), so a storage the constructors rule built in the call is moved to a module-level variable above the
statement and saved there under a name derived from the task and the storage's own text (two configurations never
share a block document; the same one is overwritten, so running the module again is harmless).
"""

from __future__ import annotations

import ast
import hashlib

from codemods.results.model import Edit
from codemods.results.rules.base import Context, RewriteRule

__all__ = ["SavedStorage"]


class SavedStorage(RewriteRule):
    name = "keyword"
    description = "a storage block built in a task's arguments is saved server-side first, above the task"

    def apply(self, context: Context) -> None:
        keyword_name = context.profile.storage_keyword
        if not keyword_name:
            return
        legacy = {r.old for r in context.profile.of_kind("keyword") if r.new == keyword_name}
        constructed = {id(call) for call in context.constructed if not _elsewhere(context, call)}
        for statement in context.tree.body:  # module level only: a block saved inside a function is a follow-up
            for call, owner in _calls_with(statement, legacy, context.flow_functions):
                keyword = next(k for k in call.keywords if k.arg in legacy)
                if id(keyword.value) not in constructed:
                    continue
                variable = f"{owner}_storage"
                if variable in context.tracker.module.bindings:
                    context.follow_up(keyword, "keyword", f"save the storage block (.save(name)) before passing it "
                                      f"as {keyword_name}=: Prefect 3 refuses an unsaved one ({variable} is taken)")
                    continue
                self._hoist(context, statement, keyword.value, variable, owner)

    @staticmethod
    def _hoist(context: Context, statement: ast.stmt, value: ast.expr, variable: str, owner: str) -> None:
        source = context.source
        start, end = source.start(value), source.end(value)
        inside = [edit for edit in context.edits  # an insertion right after the value belongs to the call
                  if start <= edit.start and edit.end <= end and not edit.start == edit.end == end]
        for edit in inside:
            context.edits.remove(edit)
        block = _apply(source.segment(start, end), [Edit(e.start - start, e.rank, e.end - start, e.text)
                                                     for e in inside])
        digest = hashlib.sha256(block.encode("utf-8")).hexdigest()[:8]
        slug = f"{owner.lower().replace('_', '-').strip('-') or 'task'}-results-{digest}"
        line = min([statement.lineno, *(d.lineno for d in getattr(statement, "decorator_list", ()))])
        newline = source.newline
        context.insert_at(source.line_start(line), f"{variable} = {block}{newline}"
                          f"{variable}.save(\"{slug}\", overwrite=True){newline}{newline}{newline}")
        context.replace(start, end, variable)


def _elsewhere(context: Context, call: ast.Call) -> bool:
    """A built-in Result that becomes no storage (a serializer): nothing to save."""
    target = context.names.resolve(call.func, context.tracker.scope_of[id(call)])
    return target is not None and target.rename is not None and bool(target.rename.keyword)


def _calls_with(statement: ast.stmt, keywords: set[str], flows: dict[int, str]) -> list[tuple[ast.Call, str]]:
    """The calls in a module-level statement's decorators or value that pass one of ``keywords``, with the name
    the storage variable is derived from (the function's, the assigned name, or the function a ``with Flow``
    block became: ``flows``)."""
    found: list[tuple[ast.Call, str]] = []
    if isinstance(statement, ast.With) and id(statement) in flows:
        roots, owner = [statement.items[0].context_expr], flows[id(statement)]
    elif isinstance(statement, (ast.FunctionDef, ast.AsyncFunctionDef)):
        roots, owner = list(statement.decorator_list), statement.name
    elif isinstance(statement, ast.Assign) and [type(t) for t in statement.targets] == [ast.Name]:
        roots, owner = [statement.value], statement.targets[0].id  # type: ignore[attr-defined]
    else:
        return found
    for root in roots:
        for node in ast.walk(root):
            if isinstance(node, ast.Call) and any(k.arg in keywords for k in node.keywords):
                found.append((node, owner))
    return found


def _apply(text: str, edits: list[Edit]) -> str:
    data = text.encode("utf-8", "surrogatepass")
    pieces: list[bytes] = []
    position = 0
    for edit in sorted(edits):
        pieces.append(data[position:edit.start])
        pieces.append(edit.text.encode("utf-8", "surrogatepass"))
        position = edit.end
    pieces.append(data[position:])
    return b"".join(pieces).decode("utf-8", "surrogatepass")
