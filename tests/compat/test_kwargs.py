"""result_handler= on Task, Flow and task becomes result=as_result(...); .result_handler aliases .result."""

from __future__ import annotations

import inspect
import os
import subprocess
import sys
from pathlib import Path

import cloudpickle
import pytest

from compat import (
    ArgumentTypeError,
    Flow,
    JSONResult,
    LegacyAttributeWarning,
    LegacyKeywordWarning,
    LocalResult,
    MemoryResult,
    ResultHandlerResult,
    Task,
    task,
)
from compat.deprecations import MIGRATION_GUIDE
from compat.legacy import JSONResultHandler, LocalResultHandler
from tests.compat.handlers import DictHandler


def _line_after(marker: str) -> int:
    lines = [line.strip() for line in Path(__file__).read_text().splitlines()]
    return lines.index(f"# {marker}") + 2


def keyword_warnings(caught: list) -> list:
    return [w for w in caught if w.category is LegacyKeywordWarning]


# -- translation ------------------------------------------------------------------------------------------------------


def test_task_result_handler_becomes_the_native_result(legacy, tmp_path: Path) -> None:
    t = Task(name="t", result_handler=LocalResultHandler(dir=tmp_path))
    assert type(t.result) is LocalResult and t.result.dir == str(tmp_path)


def test_flow_result_handler_becomes_the_default_result(legacy) -> None:
    assert type(Flow("f", result_handler=JSONResultHandler()).result) is JSONResult


def test_task_decorator_result_handler_becomes_the_result(legacy) -> None:
    @task(result_handler=JSONResultHandler())
    def add(x, y):
        return x + y

    assert type(add.result) is JSONResult


def test_a_custom_handler_is_wrapped_in_the_adapter(legacy) -> None:
    handler = DictHandler({})
    assert Task(result_handler=handler).result.handler is handler


def test_result_handler_none_is_accepted_and_ignored(legacy) -> None:
    result = MemoryResult()
    assert Task(result=result, result_handler=None).result is result
    assert Flow("f", result_handler=None).result is None


def test_result_and_result_handler_together_is_a_type_error_saying_to_pass_result(legacy) -> None:
    with pytest.raises(TypeError, match=r"Task\(\) got both result= and the deprecated result_handler=; pass only result="):
        Task(result=MemoryResult(), result_handler=JSONResultHandler())


def test_positional_result_and_result_handler_together_is_a_type_error(legacy) -> None:
    with pytest.raises(TypeError, match=r"Flow\(\) got both"):
        Flow("f", MemoryResult(), result_handler=JSONResultHandler())


def test_task_decorator_with_both_is_a_type_error(legacy) -> None:
    with pytest.raises(TypeError, match=r"task\(\) got both"):
        task(result=MemoryResult(), result_handler=JSONResultHandler())


def test_calls_without_the_legacy_keyword_do_not_warn(legacy) -> None:
    Task(name="t", result=MemoryResult())
    Flow("f")
    assert legacy == []


def test_a_value_that_is_no_handler_is_a_type_error_saying_what_was_expected(legacy) -> None:
    with pytest.raises(ArgumentTypeError) as raised:
        Task(result_handler="local")
    assert str(raised.value) == (
        "the handler must be a Result (e.g. compat.LocalResult(dir=...)) or a legacy ResultHandler, not str ('local')"
    )


# -- warnings ---------------------------------------------------------------------------------------------------------


def test_task_keyword_warns_at_the_users_line(legacy) -> None:
    handler = DictHandler({})
    # task keyword
    Task(name="t", result_handler=handler)
    (w,) = keyword_warnings(legacy)
    assert (w.filename, w.lineno) == (__file__, _line_after("task keyword"))


def test_decorator_keyword_warns_at_the_decorator_line(legacy) -> None:
    handler = DictHandler({})

    # decorator keyword
    @task(result_handler=handler)
    def f():
        return 1

    (w,) = keyword_warnings(legacy)
    assert (w.filename, w.lineno) == (__file__, _line_after("decorator keyword"))


def test_keyword_passed_through_a_subclass_init_warns_where_it_is_written(legacy) -> None:
    class MyTask(Task):
        def __init__(self, n, **kwargs):
            self.n = n
            super().__init__(**kwargs)

    # construction with the keyword
    MyTask(1, result_handler=DictHandler({}))
    (w,) = keyword_warnings(legacy)
    assert (w.filename, w.lineno) == (__file__, _line_after("construction with the keyword"))


def test_a_subclass_forwarding_its_default_none_handler_does_not_warn(legacy) -> None:
    class MyTask(Task):
        def __init__(self, result_handler=None, **kwargs):
            super().__init__(result_handler=result_handler, **kwargs)

    MyTask(name="a")
    MyTask(name="b", result_handler=None)
    assert keyword_warnings(legacy) == []


def test_a_subclass_forwarding_a_handler_warns_at_the_line_that_passes_it(legacy) -> None:
    class MyTask(Task):
        def __init__(self, result_handler=None, **kwargs):
            super().__init__(result_handler=result_handler, **kwargs)

    # passes a handler
    MyTask(name="t", result_handler=DictHandler({}))
    (w,) = keyword_warnings(legacy)
    assert (w.filename, w.lineno) == (__file__, _line_after("passes a handler"))


def test_keyword_written_in_a_subclass_super_call_warns_at_that_call(legacy) -> None:
    class MyTask(Task):
        def __init__(self, **kwargs):
            # super call with the keyword
            super().__init__(result_handler=DictHandler({}), **kwargs)

    MyTask(name="t")
    (w,) = keyword_warnings(legacy)
    assert (w.filename, w.lineno) == (__file__, _line_after("super call with the keyword"))


def test_keyword_warning_names_the_callable_the_replacement_and_the_codemod(legacy) -> None:
    Flow("f", result_handler=DictHandler({}))
    text = str(keyword_warnings(legacy)[0].message)
    assert "result_handler= keyword of Flow" in text and "use result=" in text
    assert "results-codemod <path>" in text


KEYWORD_HEAD = (
    "the result_handler= keyword of Task is deprecated since results-compat 0.1.0 and will be removed in 1.0.0; "
    "use result= instead"
)
KEYWORD_TAIL = f"`results-codemod <path>` rewrites it; see {MIGRATION_GUIDE}#result-handler-keyword"


def test_keyword_warning_for_a_built_in_handler_names_the_result_it_becomes(legacy, tmp_path: Path) -> None:
    Task(result_handler=LocalResultHandler(dir=tmp_path))
    assert str(keyword_warnings(legacy)[0].message) == (
        f"{KEYWORD_HEAD} (the LocalResultHandler given becomes compat.LocalResult). {KEYWORD_TAIL}"
    )


def test_keyword_warning_for_a_handler_of_ones_own_says_it_is_wrapped(legacy) -> None:
    Task(result_handler=DictHandler({}))
    assert str(keyword_warnings(legacy)[0].message) == (
        f"{KEYWORD_HEAD} (a handler that is not a built-in one is wrapped with as_result(...)). {KEYWORD_TAIL}"
    )


def test_keyword_warning_for_a_result_adds_no_note(legacy) -> None:
    Task(result_handler=MemoryResult())
    assert str(keyword_warnings(legacy)[0].message) == f"{KEYWORD_HEAD}. {KEYWORD_TAIL}"


SCRIPT = '''\
import warnings
from compat import LegacyResultWarning, Flow, Task, task
from compat.legacy import JSONResultHandler
warnings.simplefilter("always", LegacyResultWarning)
with warnings.catch_warnings(record=True) as caught:
    warnings.simplefilter("always", LegacyResultWarning)
    handler = JSONResultHandler()
    Task(name="a", result_handler=handler)
    Flow("f", result_handler=handler)
    @task(result_handler=handler)
    def f():
        return 1
    f.result_handler = handler
for w in caught:
    print(w.category.__name__, w.filename, w.lineno)
'''


@pytest.mark.parametrize("extensions", ["c-extension", "pure-python"])
def test_warnings_point_at_the_users_lines_with_and_without_wraps_c_extension(tmp_path: Path, extensions: str) -> None:
    script = tmp_path / "legacy_user.py"
    script.write_text(SCRIPT)
    env = {k: v for k, v in os.environ.items() if k != "WRAPT_DISABLE_EXTENSIONS"}
    if extensions == "pure-python":
        env["WRAPT_DISABLE_EXTENSIONS"] = "1"
    proc = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, env=env, timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.splitlines() == [
        f"LegacyHandlerWarning {script} 7",
        f"LegacyKeywordWarning {script} 8",
        f"LegacyKeywordWarning {script} 9",
        f"LegacyKeywordWarning {script} 10",
        f"LegacyAttributeWarning {script} 13",
    ]
    implementation = subprocess.run(  # the run above really used the implementation it claims to
        [sys.executable, "-c", "import wrapt; print(wrapt.FunctionWrapper.__module__)"],
        capture_output=True, text=True, env=env, timeout=60,
    ).stdout.strip()
    assert implementation == ("wrapt.wrappers" if extensions == "pure-python" else "_wrappers")


# -- signatures, classes, pickling -------------------------------------------------------------------------------------


def test_signatures_show_every_original_parameter_and_the_legacy_keyword() -> None:
    for callable_, original in ((Task, Task.__init__.__wrapped__), (Flow, Flow.__init__.__wrapped__),
                                (task, inspect.unwrap(task))):
        shown = inspect.signature(callable_).parameters
        expected = [p for p in inspect.signature(original).parameters if p != "self"]
        assert list(shown) == [*expected, "result_handler"]
        assert shown["result_handler"].kind is inspect.Parameter.KEYWORD_ONLY
        assert shown["result_handler"].default is None


def test_task_and_flow_stay_classes_that_can_be_subclassed(legacy) -> None:
    class MyTask(Task):
        def run(self):
            return 1

    assert isinstance(Task, type) and isinstance(Flow, type)
    assert type(MyTask(result_handler=JSONResultHandler()).result) is JSONResult


def test_a_task_built_through_the_shim_survives_cloudpickle(legacy, tmp_path: Path) -> None:
    t = Task(name="t", result_handler=LocalResultHandler(dir=tmp_path))
    clone = cloudpickle.loads(cloudpickle.dumps(t))
    assert type(clone.result) is LocalResult and clone.result.dir == str(tmp_path)


def test_a_decorated_task_with_a_custom_handler_survives_cloudpickle(legacy) -> None:
    @task(result_handler=DictHandler({"k": 1}))
    def f():
        return 2

    clone = cloudpickle.loads(cloudpickle.dumps(f))
    assert type(clone.result) is ResultHandlerResult and clone.result.read("k").value == 1 and clone.run() == 2


# -- the .result_handler attribute --------------------------------------------------------------------------------------


def test_reading_result_handler_gives_back_the_original_custom_handler(legacy) -> None:
    handler = DictHandler({})
    assert Task(result_handler=handler).result_handler is handler


def test_reading_result_handler_of_a_native_result_gives_a_handler_view(legacy, tmp_path: Path) -> None:
    view = Task(result=LocalResult(dir=tmp_path)).result_handler
    uri = view.write("v")
    assert view.read(uri) == "v" and view.dir == str(tmp_path)


def test_reading_result_handler_without_a_result_gives_none(legacy) -> None:
    assert Task().result_handler is None and Flow("f").result_handler is None


def test_assigning_result_handler_sets_the_result_through_as_result(legacy, tmp_path: Path) -> None:
    t = Task()
    t.result_handler = LocalResultHandler(dir=tmp_path)
    assert type(t.result) is LocalResult and t.result.dir == str(tmp_path)


def test_assigning_none_to_result_handler_clears_the_result(legacy) -> None:
    flow = Flow("f", result=MemoryResult())
    flow.result_handler = None
    assert flow.result is None


def test_the_attribute_warns_at_the_users_line(legacy) -> None:
    t = Task()
    # attribute
    t.result_handler
    (w,) = legacy
    assert (w.category, w.filename, w.lineno) == (LegacyAttributeWarning, __file__, _line_after("attribute"))
    assert "Task.result_handler is deprecated" in str(w.message) and "use Task.result" in str(w.message)
