"""Name resolution follows Python's scoping: every way of binding a name locally shadows the legacy import."""

from __future__ import annotations

import pytest

from compat.renames import COMPAT
from codemods.results import transform_source

IMPORT = "from compat.result_handlers import LocalResultHandler\n\n"
CALL = "LocalResultHandler(dir='x')"

SHADOWING = {
    "for target": f"def f(xs):\n    for LocalResultHandler in xs:\n        {CALL}\n",
    "with target": f"def f(x):\n    with x as LocalResultHandler:\n        {CALL}\n",
    "async with target": f"async def f(x):\n    async with x as LocalResultHandler:\n        {CALL}\n",
    "except name": f"def f():\n    try:\n        pass\n    except ValueError as LocalResultHandler:\n        {CALL}\n",
    "import alias": f"def f():\n    import json as LocalResultHandler\n    {CALL}\n",
    "walrus": f"def f(g):\n    if (LocalResultHandler := g):\n        {CALL}\n",
    "walrus in comprehension": f"def f(g):\n    [(LocalResultHandler := x) for x in g]\n    {CALL}\n",
    "match capture": f"def f(x):\n    match x:\n        case LocalResultHandler:\n            {CALL}\n",
    "match star": f"def f(x):\n    match x:\n        case [*LocalResultHandler]:\n            {CALL}\n",
    "match rest": f"def f(x):\n    match x:\n        case {{**LocalResultHandler}}:\n            {CALL}\n",
    "annotated assignment": f"def f():\n    LocalResultHandler: type = dict\n    {CALL}\n",
    "bare annotation": f"def f():\n    LocalResultHandler: type\n    {CALL}\n",
    "augmented assignment": f"def f():\n    LocalResultHandler += 1\n    {CALL}\n",
    "tuple unpacking": f"def f(p):\n    LocalResultHandler, other = p\n    {CALL}\n",
    "nested def": f"def f():\n    def LocalResultHandler(dir):\n        return dir\n    {CALL}\n",
    "nested class": f"def f():\n    class LocalResultHandler:\n        pass\n    {CALL}\n",
    "del": f"def f():\n    del LocalResultHandler\n    {CALL}\n",
    "star parameter": f"def f(*LocalResultHandler):\n    {CALL}\n",
    "keyword-only parameter": f"def f(*, LocalResultHandler):\n    {CALL}\n",
    "double-star parameter": f"def f(**LocalResultHandler):\n    {CALL}\n",
    "lambda parameter": f"g = lambda LocalResultHandler: {CALL}\n",
    "comprehension target": f"g = [{CALL} for LocalResultHandler in []]\n",
    "enclosing function": f"def f():\n    LocalResultHandler = dict\n    def g():\n        {CALL}\n",
}


@pytest.mark.parametrize("body", SHADOWING.values(), ids=SHADOWING.keys())
def test_a_local_binding_shadows_the_legacy_import(body: str) -> None:
    text = IMPORT + body
    assert transform_source(text, COMPAT).code == text


REACHING = {
    "closure": f"def f():\n    def g():\n        return {CALL}\n",
    "default value": f"def f(h={CALL}):\n    LocalResultHandler = 1\n",
    "decorator of a shadowing function": f"@{CALL}\ndef LocalResultHandler2():\n    pass\n",
    "class base expression": f"class C(dict({CALL})):\n    LocalResultHandler = 1\n",
    "first iterable of a comprehension": f"def f():\n    return [x for x in {CALL}]\n",
    "method of a class that binds the name": f"class C:\n    LocalResultHandler = 1\n    def m(self):\n        return {CALL}\n",
}


@pytest.mark.parametrize("body", REACHING.values(), ids=REACHING.keys())
def test_the_legacy_import_reaches_here(body: str) -> None:
    new = transform_source(IMPORT + body, COMPAT).code
    assert "LocalResult(dir='x')" in new
    assert "from compat.results import LocalResult" in new


def test_a_global_declaration_makes_an_assignment_rebind_the_module_name() -> None:
    text = IMPORT + f"def f():\n    global LocalResultHandler\n    LocalResultHandler = dict\n\n{CALL}\n"
    result = transform_source(text, COMPAT)
    assert result.code == text
    assert [s.rule for s in result.sites if s.action == "manual"] == ["constructor"]


def test_a_legacy_name_listed_in_all_keeps_its_import_and_is_reported() -> None:
    text = "from compat.legacy import LocalResultHandler\n__all__ = ['LocalResultHandler']\nh = LocalResultHandler()\n"
    result = transform_source(text, COMPAT)
    assert result.code.startswith("from compat.legacy import LocalResultHandler\nfrom compat.results import LocalResult\n")
    assert [s.rule for s in result.sites if s.action == "manual"] == ["import"]
