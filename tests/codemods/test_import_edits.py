"""The import edits do exactly what libcst's RemoveImportsVisitor and AddImportsVisitor do on the same module."""

from __future__ import annotations

import libcst as cst
import pytest
from libcst.codemod import CodemodContext
from libcst.codemod.visitors import AddImportsVisitor, RemoveImportsVisitor
from libcst.metadata import MetadataWrapper

from codemods.results.import_edits import Removal, add_imports, remove_imports

REMOVALS: list[tuple[str, list[Removal]]] = [
    ("from m import A\nx = 1\n", [("m", "A", None)]),
    ("import os\n# about A\nfrom m import A  # trailing\n\n# next\ny = 1\n", [("m", "A", None)]),
    ("from m import A, B, C\n", [("m", "B", None)]),
    ("from m import A, B, C\n", [("m", "C", None)]),
    ("from m import (\n    A,  # a\n    # own line\n    B,\n    C,\n)\n", [("m", "A", None), ("m", "C", None)]),
    ("from m import (  # head\n    A,\n    B,\n)\n", [("m", "A", None)]),
    ("from m import A as X, A\n", [("m", "A", "X")]),
    ("import m.sub as s, os\n", [("m.sub", None, "s")]),
    ("import m.sub\nimport m.sub as s\n", [("m.sub", None, None)]),
    ("from m import A; x = 1\n", [("m", "A", None)]),
    ("from other import A\n", [("m", "A", None)]),
    ("from m import *\n", [("m", "A", None)]),
]

ADDITIONS: list[tuple[str, set[tuple[str, str]]]] = [
    ("import os\n\nx = 1\n", {("new", "A")}),
    ("import os\nx = 1\n", {("new", "B"), ("new", "A")}),
    ('"""Doc."""\nimport os\n# comment\nx = 1\n', {("new", "A"), ("adapters", "wrap")}),
    ("from new import C\nx = 1\n", {("new", "A"), ("new", "C")}),
    ("from new import *\nx = 1\n", {("new", "A")}),
    ("from new import C as D\n", {("new", "C")}),
    ("x = 1\n", {("new", "A")}),
    ("", {("new", "A")}),
    ("# header\n\nimport os\n", {("new", "A")}),
    ("import os\ndef f():\n    from new import A\n", {("new", "A")}),
]


def visitors_remove(text: str, removals: list[Removal]) -> str:
    wrapper = MetadataWrapper(cst.parse_module(text))
    return wrapper.visit(RemoveImportsVisitor(CodemodContext(wrapper=wrapper), removals)).code


def visitors_add(text: str, needed: set[tuple[str, str]]) -> str:
    context = CodemodContext()
    for module, name in sorted(needed):
        AddImportsVisitor.add_needed_import(context, module, name)
    return cst.parse_module(text).visit(AddImportsVisitor(context)).code


@pytest.mark.parametrize(("text", "removals"), REMOVALS)
def test_removal_matches_remove_imports_visitor(text: str, removals: list[Removal]) -> None:
    assert remove_imports(cst.parse_module(text), removals).code == visitors_remove(text, removals)


@pytest.mark.parametrize(("text", "needed"), ADDITIONS)
def test_addition_matches_add_imports_visitor(text: str, needed: set[tuple[str, str]]) -> None:
    assert add_imports(cst.parse_module(text), needed).code == visitors_add(text, needed)
