"""The transform on single modules: what it touches, what it leaves byte for byte, and what it reports."""

from __future__ import annotations

import pytest

from compat.renames import COMPAT, PREFECT
from codemods.results import transform_source
from codemods.results.transform import may_mention


def rewrite(text: str) -> str:
    return transform_source(text, COMPAT).code


def test_unrelated_code_is_kept_byte_for_byte() -> None:
    text = (
        "from compat.result_handlers import LocalResultHandler\n"
        "x  =  {'a' :1}   # odd spacing kept\r\n"
        "y = '''\n  triple\n'''\t\n"
        "h = LocalResultHandler( dir = 'd' )\n"
        "z = [\n    1,\n]\n"
    )
    assert rewrite(text) == (
        "from compat.results import LocalResult\n"  # in the place of the import it replaces
        "x  =  {'a' :1}   # odd spacing kept\r\n"
        "y = '''\n  triple\n'''\t\n"
        "h = LocalResult( dir = 'd' )\n"
        "z = [\n    1,\n]\n"
    )


def test_a_dropped_argument_is_reported_again_after_the_rewrite() -> None:
    text = "from prefect.engine.result_handlers import S3ResultHandler\nS3ResultHandler('b', 'AWS')\n"
    first = transform_source(text, PREFECT)
    assert [s.rule for s in first.sites if s.action == "manual"] == ["constructor"]
    second = transform_source(first.code, PREFECT)
    assert [s.rule for s in second.sites if s.action == "manual"] == ["constructor"]
    assert not second.changed


def test_a_name_bound_only_by_a_user_function_is_not_touched() -> None:
    text = "from compat import Task\n\ndef LocalResultHandler(dir):\n    return dir\n\nLocalResultHandler(dir='x')\n"
    result = transform_source(text, COMPAT)
    assert result.code == text
    assert [s.action for s in result.sites] == ["skipped"]


def test_an_import_of_another_package_with_a_legacy_name_is_not_touched() -> None:
    text = "from mylib.handlers import LocalResultHandler\n\nLocalResultHandler(dir='x')\n"
    assert rewrite(text) == text


def test_a_nonlocal_rebinding_shadows_the_import_in_the_enclosing_function() -> None:
    text = (
        "from compat.result_handlers import LocalResultHandler\n\n"
        "def outer():\n"
        "    LocalResultHandler = None\n"
        "    def inner():\n"
        "        nonlocal LocalResultHandler\n"
        "        LocalResultHandler = dict\n"
        "        return LocalResultHandler(dir='x')\n"
        "    return inner\n"
    )
    assert rewrite(text) == text


def test_methods_do_not_see_names_bound_in_their_class_body() -> None:
    text = (
        "from compat.result_handlers import LocalResultHandler\n\n"
        "class Holder:\n"
        "    LocalResultHandler = dict\n"
        "    def make(self):\n"
        "        return LocalResultHandler(dir='x')\n"
    )
    assert "return LocalResult(dir='x')" in rewrite(text)
    assert "    LocalResultHandler = dict\n" in rewrite(text)


def test_a_task_subclass_with_its_own_result_handler_parameter_is_left_for_a_human() -> None:
    text = (
        "from compat import Task\n\n"
        "class Mine(Task):\n"
        "    def __init__(self, result_handler=None):\n"
        "        super().__init__()\n\n"
        "Mine(result_handler=None)\n"
    )
    result = transform_source(text, COMPAT)
    assert result.code == text
    assert [s.rule for s in result.sites if s.action == "manual"] == ["keyword"]


def test_both_result_and_result_handler_given_is_reported_not_rewritten() -> None:
    text = "from compat import Task\n\nTask(result=None, result_handler=None)\n"
    result = transform_source(text, COMPAT)
    assert result.code == text
    assert "both" in result.sites[0].reason


def test_the_prefect_profile_leaves_the_compat_names_alone() -> None:
    text = "from compat.result_handlers import LocalResultHandler\n\nLocalResultHandler(dir='x')\n"
    assert transform_source(text, PREFECT).code == text


def test_an_import_removed_from_an_indented_block_leaves_pass_when_the_block_would_be_empty() -> None:
    text = (
        "if True:\n"
        "    from compat.result_handlers import LocalResultHandler\n"
        "handler = LocalResultHandler(dir='d')\n"
    )
    assert rewrite(text) == (
        "from compat.results import LocalResult\n\n"
        "if True:\n"
        "    pass\n"
        "handler = LocalResult(dir='d')\n"
    )


def test_a_new_import_takes_the_place_of_a_legacy_import_inside_the_function_that_uses_it() -> None:
    text = (
        "from compat import Task\n\n"
        "def make(d, mine):\n"
        "    if True:\n"
        "        from compat.result_handlers import LocalResultHandler, JSONResultHandler\n"
        "    first = Task(result_handler=mine)\n"
        "    return Task(result_handler=LocalResultHandler(dir=d)), Task(result_handler=JSONResultHandler())\n"
    )
    assert rewrite(text) == (
        "from compat import as_result, Task\n\n"
        "def make(d, mine):\n"
        "    if True:\n"
        "        from compat.results import JSONResult, LocalResult\n"
        "    first = Task(result=as_result(mine))\n"
        "    return Task(result=LocalResult(dir=d)), Task(result=JSONResult())\n"
    )


def test_a_new_import_used_in_two_functions_goes_to_the_top() -> None:
    body = "    from compat.result_handlers import LocalResultHandler\n    handler = LocalResultHandler(dir=d)\n"
    text = f"def one(d):\n{body}\ndef two(d):\n{body}"
    new_body = "    handler = LocalResult(dir=d)\n"
    assert rewrite(text) == f"from compat.results import LocalResult\n\ndef one(d):\n{new_body}\ndef two(d):\n{new_body}"


def test_a_new_import_takes_the_place_of_the_one_it_replaces() -> None:
    text = (
        "import os\n\n"
        "# handlers\n"
        "from compat.result_handlers import JSONResultHandler\n\n"
        "from myapp import settings\n"
        "h = JSONResultHandler()\n"
    )
    assert rewrite(text) == (
        "import os\n\n"
        "# handlers\n"
        "from compat.results import JSONResult\n\n"
        "from myapp import settings\n"
        "h = JSONResult()\n"
    )


def test_a_new_import_goes_after_the_import_block_when_nothing_is_replaced() -> None:
    text = "from compat import task\nfrom compat.legacy import ResultHandler\nh = task(result_handler=ResultHandler)\n"
    assert rewrite(text) == (
        "from compat import as_result, task\nfrom compat.legacy import ResultHandler\n"
        "h = task(result=as_result(ResultHandler))\n"
    )


def test_a_docstring_and_future_import_stay_first() -> None:
    text = (
        '"""Doc."""\n'
        "from __future__ import annotations\n"
        "from compat.result_handlers import JSONResultHandler\n"
        "h = JSONResultHandler()\n"
    )
    assert rewrite(text) == (
        '"""Doc."""\n'
        "from __future__ import annotations\n"
        "from compat.results import JSONResult\n"
        "h = JSONResult()\n"
    )


def test_non_ascii_text_before_a_site_keeps_columns_right() -> None:
    text = "from compat.legacy import JSONResultHandler\nnote = 'héllo wörld'; h = JSONResultHandler()\n"
    assert rewrite(text).endswith("note = 'héllo wörld'; h = JSONResult()\n")


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        (b"import os\nprint('nothing to see')\n", False),
        (b"x.result_handler = y\n", True),
        (b"from compat.results import LocalResult\n", False),  # every LocalResult argument has an equivalent
        (b"class H(ResultHandler): pass\n", True),
        (b"import compat.legacy as old\n", True),
    ],
)
def test_byte_pre_filter(data: bytes, expected: bool) -> None:
    assert may_mention(data, COMPAT) is expected


def test_byte_pre_filter_takes_a_replacement_that_may_carry_a_kept_argument_without_equivalent() -> None:
    assert may_mention(b"from prefect.engine.results import S3Result\n", PREFECT)
    assert not may_mention(b"from prefect.engine.results import LocalResult\n", PREFECT)


def test_text_libcst_cannot_reproduce_exactly_is_refused() -> None:
    from codemods.results.rules.imports import RoundTripError, _parse_exact

    assert _parse_exact("import os\n").code == "import os\n"
    with pytest.raises(RoundTripError):
        _parse_exact("\ufeffimport os\n")  # libcst drops a BOM inside decoded text


def test_a_name_that_holds_a_rewritten_handler_on_some_paths_only_is_reported() -> None:
    text = (
        "from compat.legacy import JSONResultHandler\n\n"
        "def save(value, custom):\n"
        "    h = JSONResultHandler()\n"
        "    if custom:\n"
        "        h = custom\n"
        "    return h.write(value)\n"
    )
    result = transform_source(text, COMPAT)
    assert "return h.write(value)\n" in result.code
    assert [s.rule for s in result.sites if s.action == "manual"] == ["direct-call"]


def test_an_import_sharing_its_line_is_left_and_reported() -> None:
    text = "def f():\n    import os; from compat.legacy import JSONResultHandler\n    return JSONResultHandler()\n"
    result = transform_source(text, COMPAT)
    assert "import os; from compat.legacy import JSONResultHandler\n" in result.code
    assert "return JSONResult()\n" in result.code
    assert [s.rule for s in result.sites if s.action == "manual"] == ["import", "direct-call"]


def test_a_nested_import_line_is_removed_with_its_trailing_comment() -> None:
    body = "    x = 1\n    from compat.legacy import JSONResultHandler  # old\n    handler = JSONResultHandler()\n"
    text = f"def f():\n{body}\ndef g():\n{body}"  # the new name is used in both: it goes to the top
    new_body = "    x = 1\n    handler = JSONResult()\n"
    assert rewrite(text) == f"from compat.results import JSONResult\n\ndef f():\n{new_body}\ndef g():\n{new_body}"


def test_a_new_import_in_place_of_a_nested_one_keeps_its_trailing_comment() -> None:
    text = "def f():\n    from compat.legacy import JSONResultHandler  # old\n    handler = JSONResultHandler()\n"
    assert rewrite(text) == "def f():\n    from compat.results import JSONResult  # old\n    handler = JSONResult()\n"


def test_a_bare_generator_argument_is_left_for_a_human() -> None:
    text = "from compat.legacy import ConstantResultHandler\nh = ConstantResultHandler(x for x in 'ab')\n"
    result = transform_source(text, COMPAT)
    assert result.code == text
    assert [s.rule for s in result.sites if s.action == "manual"] == ["constructor"]


def test_a_legacy_import_after_other_statements_is_replaced_in_place() -> None:
    text = (
        '__all__ = ["h"]\n\n'
        "import os\n"
        "from compat.legacy import JSONResultHandler  # handlers\n\n"
        "h = JSONResultHandler()\n"
    )
    assert rewrite(text) == (
        '__all__ = ["h"]\n\n'
        "import os\n"
        "from compat.results import JSONResult  # handlers\n\n"
        "h = JSONResult()\n"
    )


def test_a_new_import_goes_to_the_top_when_a_line_before_the_legacy_import_needs_it() -> None:
    text = (
        "import compat.legacy as old\n"
        "first = old.JSONResultHandler()\n"
        "from compat.legacy import JSONResultHandler\n"
        "second = JSONResultHandler()\n"
    )
    assert rewrite(text) == (
        "from compat.results import JSONResult\n"
        "first = JSONResult()\n"
        "second = JSONResult()\n"
    )


KEPT_BY_PREFECT = (
    "from prefect.engine.result import Result, SafeResult\n"
    "from prefect.engine.result_handlers import JSONResultHandler\n\n"
    "r = Result(1, result_handler=JSONResultHandler())\n"
    "s = SafeResult(1, result_handler=JSONResultHandler())\n"
)


def test_a_handler_given_to_prefects_own_result_is_kept_as_it_is() -> None:
    result = transform_source(KEPT_BY_PREFECT)
    assert result.code == KEPT_BY_PREFECT
    manual = [(s.line, s.rule) for s in result.sites if s.action == "manual"]
    assert manual == [(4, "keyword"), (5, "keyword")]
    assert all("keep it for 0.11-0.13" in s.reason for s in result.sites if s.action == "manual")


def test_a_task_attribute_given_to_prefects_own_result_is_kept_as_it_is() -> None:
    text = (
        "from prefect import Task\nfrom prefect.engine.result import Result\n\n"
        "t = Task()\nr = Result(1, result_handler=t.result_handler)\n"
    )
    assert transform_source(text).code == text


def test_a_handler_name_nothing_imports_is_reported_as_a_name_error() -> None:
    text = "from prefect import Task\n\nt = Task(result_handler=LocalResultHandler())\nk = JSONResultHandler\n"
    result = transform_source(text)
    manual = [s for s in result.sites if s.action == "manual"]
    assert [(s.line, s.rule) for s in manual] == [(3, "keyword"), (4, "reference")]
    assert all("is not defined here" in s.reason and "NameError" in s.reason for s in manual)
    assert not any("shadows" in s.reason for s in result.sites)
    assert "import prefect.engine.results.LocalResult" in manual[0].reason


def test_a_name_a_star_import_may_bind_is_not_called_undefined() -> None:
    text = "from prefect import Task\nfrom helpers import *\n\nk = JSONResultHandler\n"
    assert not any("NameError" in s.reason for s in transform_source(text).sites)


def test_an_unused_legacy_submodule_import_is_removed() -> None:
    text = "import os\nimport prefect.engine.result_handlers.local_result_handler\nfrom prefect import Task\n\nt = Task()\n"
    result = transform_source(text)
    assert result.code == "import os\nfrom prefect import Task\n\nt = Task()\n"
    assert not [s for s in result.sites if s.action == "manual"]


def test_a_new_import_lands_beside_the_legacy_import_it_shortens() -> None:
    text = (
        "import os\nfrom prefect import Task\n\nX = 1\n\n"
        "from prefect.engine.result_handlers import LocalResultHandler, ResultHandler  # legacy\n\n\n"
        "class Mine(ResultHandler):\n    pass\n\n\n"
        "t = Task(result_handler=LocalResultHandler('/tmp'))\n"
    )
    assert transform_source(text).code == (
        "import os\nfrom prefect import Task\n\nX = 1\n\n"
        "from prefect.engine.result_handlers import ResultHandler  # legacy\n"
        "from prefect.engine.results import LocalResult\n\n\n"
        "class Mine(ResultHandler):\n    pass\n\n\n"
        "t = Task(result=LocalResult(dir='/tmp'))\n"
    )


OWN_RESULT_HANDLER_NAMES = (
    "import prefect\n\n"
    "class Client:\n"
    "    def __init__(self, result_handler=None):\n"
    "        self.result_handler = result_handler\n\n"
    "    def get(self, value):\n"
    "        return (self.result_handler or str)(value)\n\n"
    "    def swap(self, result_handler=None):\n"
    "        self.result_handler = result_handler\n\n"
    "def make(result_handler=None):\n    return result_handler\n\n"
    "client = Client(result_handler=print)\n"
    "client.result_handler = None\n"
    "setattr(client, 'result_handler', print)\n"
    "made = make(result_handler=1)\n"
    "client.swap(result_handler=len)\n"
    "settings = {'result_handler': 1}\n"
    "chosen = settings['result_handler'] or settings.get('result_handler')\n"
)


def test_result_handler_names_of_ones_own_in_a_prefect_module_are_no_follow_ups() -> None:
    result = transform_source(OWN_RESULT_HANDLER_NAMES)
    assert result.code == OWN_RESULT_HANDLER_NAMES
    assert [s for s in result.sites if s.action == "manual"] == []


@pytest.mark.parametrize(
    "statement",
    [
        pytest.param("options = {'result_handler': h}\nprefect.Task(**options)\n", id="a-dict-splatted-later"),
        pytest.param("prefect.Task(**{'result_handler': h})\n", id="a-dict-splatted-at-once"),
        pytest.param("options = {}\noptions['result_handler'] = h\nprefect.Task(**options)\n", id="a-key-set"),
        pytest.param("setattr(task, 'result_handler', h)\n", id="setattr-on-an-unknown-object"),
    ],
)
def test_a_result_handler_string_that_may_reach_a_task_is_still_a_follow_up(statement: str) -> None:
    result = transform_source("import prefect\n\n" + statement)
    assert [s.rule for s in result.sites if s.action == "manual"] == ["dynamic"]


def test_a_legacy_submodule_import_kept_only_for_its_package_becomes_an_import_of_the_package() -> None:
    result = transform_source("import os, prefect.engine.result_handlers\n\nt = prefect.Task()\n")
    assert result.code == "import os, prefect\n\nt = prefect.Task()\n"
    assert not [s for s in result.sites if s.action == "manual"]


def test_a_legacy_submodule_import_the_top_block_rewrite_cannot_shorten_is_listed_until_a_run_does() -> None:
    text = ("import prefect.engine.result_handlers\n\n"
            "h = prefect.engine.result_handlers.LocalResultHandler()\nt = prefect.Task()\n")
    first = transform_source(text)
    assert [(s.rule, s.action) for s in first.sites if s.line == 1] == [("import", "manual")]
    second = transform_source(first.code)
    assert second.code.startswith("import prefect\nfrom prefect.engine.results import LocalResult\n")
    assert not [s for s in second.sites if s.action == "manual"]
