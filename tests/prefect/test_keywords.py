"""result_handler= on Prefect's Task, Flow and task becomes result=; .result_handler aliases .result."""

from __future__ import annotations

import inspect
from pathlib import Path

import cloudpickle
import prefect
import pytest
from prefect import Flow, Task, task
from prefect.engine.results import LocalResult, PrefectResult, ResultHandlerResult, S3Result

from compat import LegacyAttributeWarning, LegacyKeywordWarning
from compat.deprecations import MIGRATION_GUIDE
from compat.prefect.handlers import JSONResultHandler, LocalResultHandler, S3ResultHandler
from tests.prefect.handlers import DictHandler

THIS_FILE = str(Path(__file__))


def _line_after(marker: str) -> int:
    lines = [line.strip() for line in Path(__file__).read_text().splitlines()]
    return lines.index(f"# {marker}") + 2


def of(category: type, caught: list) -> list:
    return [w for w in caught if w.category is category]


# -- translation ------------------------------------------------------------------------------------------------------


def test_task_result_handler_becomes_the_native_prefect_result(legacy, tmp_path: Path) -> None:
    t = Task(name="t", result_handler=LocalResultHandler(dir=str(tmp_path)))
    assert type(t.result) is LocalResult and t.result.dir == str(tmp_path)


def test_flow_result_handler_becomes_the_flow_result(legacy) -> None:
    assert type(Flow("f", result_handler=JSONResultHandler()).result) is PrefectResult


def test_task_decorator_result_handler_becomes_the_result(legacy) -> None:
    @task(result_handler=JSONResultHandler())
    def add(x, y):
        return x + y

    assert type(add.result) is PrefectResult


def test_subclass_super_init_result_handler_becomes_the_result(legacy) -> None:
    class Double(Task):
        def __init__(self, **kwargs):
            super().__init__(result_handler=JSONResultHandler(), **kwargs)

        def run(self, x):
            return 2 * x

    assert type(Double().result) is PrefectResult


def test_s3_handler_becomes_s3_result_with_its_settings(legacy) -> None:
    t = Task(result_handler=S3ResultHandler(bucket="b", boto3_kwargs={"region_name": "eu-west-1"}))
    assert type(t.result) is S3Result
    assert (t.result.bucket, t.result.boto3_kwargs) == ("b", {"region_name": "eu-west-1"})


def test_a_custom_handler_runs_through_result_handler_result(legacy) -> None:
    handler = DictHandler()
    result = Task(result_handler=handler).result
    assert type(result) is ResultHandlerResult and result.result_handler is handler


def test_a_prefect_result_given_as_result_handler_is_kept(legacy) -> None:
    result = LocalResult(dir="/tmp")
    assert Task(result_handler=result).result is result


def test_result_handler_none_is_accepted(legacy) -> None:
    assert Task(result_handler=None).result is None


def test_both_keywords_is_a_type_error_naming_which_to_keep(legacy) -> None:
    with pytest.raises(TypeError, match=r"got both result= and the deprecated result_handler=; pass only result="):
        Task(result=PrefectResult(), result_handler=JSONResultHandler())


def test_both_keywords_on_the_decorator_is_a_type_error(legacy) -> None:
    with pytest.raises(TypeError, match="pass only result="):
        task(result=PrefectResult(), result_handler=JSONResultHandler())(lambda: 1)


def test_code_without_legacy_names_is_untouched(legacy) -> None:
    result = PrefectResult()
    assert Task(result=result).result is result and Flow("f", result=result).result is result
    assert legacy == []


# -- signatures and pickling ----------------------------------------------------------------------------------------


def test_signatures_show_both_keywords() -> None:
    for callable_ in (Task, Flow, prefect.task):
        assert "result_handler" in inspect.signature(callable_).parameters
    assert "result" in inspect.signature(Task).parameters


def test_task_is_bound_translated_wherever_prefect_exposes_it() -> None:
    assert prefect.task is prefect.utilities.tasks.task


def test_a_task_built_with_result_handler_survives_cloudpickle(legacy, tmp_path: Path) -> None:
    t = Task(name="t", result_handler=LocalResultHandler(dir=str(tmp_path)))
    assert cloudpickle.loads(cloudpickle.dumps(t)).result.dir == str(tmp_path)


def test_task_and_flow_stay_prefect_classes() -> None:
    assert prefect.Task is prefect.core.task.Task and isinstance(Task(), prefect.core.task.Task)


# -- warnings at the user's line ------------------------------------------------------------------------------------


def test_keyword_warning_points_at_the_task_call(legacy) -> None:
    # task call
    Task(result_handler=JSONResultHandler())
    [warning] = of(LegacyKeywordWarning, legacy)
    assert (warning.filename, warning.lineno) == (THIS_FILE, _line_after("task call"))


def test_keyword_warning_points_at_the_decorator(legacy) -> None:
    # decorator
    @task(result_handler=JSONResultHandler())
    def one():
        return 1

    [warning] = of(LegacyKeywordWarning, legacy)
    assert (warning.filename, warning.lineno) == (THIS_FILE, _line_after("decorator"))


def test_keyword_warning_points_at_the_super_init_line(legacy) -> None:
    class Double(Task):
        def __init__(self, **kwargs):
            # super call
            super().__init__(result_handler=JSONResultHandler(), **kwargs)

    Double()
    [warning] = of(LegacyKeywordWarning, legacy)
    assert (warning.filename, warning.lineno) == (THIS_FILE, _line_after("super call"))


def test_keyword_warning_passed_through_kwargs_points_at_the_caller(legacy) -> None:
    class Passing(Task):
        def __init__(self, **kwargs):
            super().__init__(**kwargs)

    # caller
    Passing(result_handler=JSONResultHandler())
    [warning] = of(LegacyKeywordWarning, legacy)
    assert (warning.filename, warning.lineno) == (THIS_FILE, _line_after("caller"))


def test_keyword_warning_names_the_replacement_and_the_prefect_codemod(legacy) -> None:
    Flow("f", result_handler=JSONResultHandler())
    [warning] = of(LegacyKeywordWarning, legacy)
    text = str(warning.message)
    assert "result_handler= keyword of Flow" in text and "use result= instead" in text
    assert "results-codemod --profile prefect <path>" in text


PREFECT_KEYWORD_HEAD = (
    "the result_handler= keyword of Task is deprecated since results-compat 0.1.0 and will be removed in 1.0.0; "
    "use result= instead"
)
PREFECT_CODEMOD = "`results-codemod --profile prefect <path>`"


def keyword_warning_for(value: object, legacy: list) -> str:
    """The text of the one keyword warning that ``Task(result_handler=value)`` gives."""
    Task(result_handler=value)
    [warning] = of(LegacyKeywordWarning, legacy)
    return str(warning.message)


def test_keyword_warning_for_a_built_in_handler_names_the_result_it_becomes(legacy, tmp_path: Path) -> None:
    assert keyword_warning_for(LocalResultHandler(dir=str(tmp_path)), legacy) == (
        f"{PREFECT_KEYWORD_HEAD} (the LocalResultHandler given becomes prefect.engine.results.LocalResult). "
        f"{PREFECT_CODEMOD} rewrites it; see {MIGRATION_GUIDE}#prefect"
    )


def test_keyword_warning_for_a_handler_of_ones_own_says_to_port_it(legacy) -> None:
    assert keyword_warning_for(DictHandler(), legacy) == (
        f"{PREFECT_KEYWORD_HEAD} (a handler of your own keeps running here, wrapped in ResultHandlerResult, which "
        "Prefect itself removed in 0.14: port it to a prefect.engine.result.Result subclass by hand). "
        f"{PREFECT_CODEMOD} lists it as a manual "
        f"follow-up; see {MIGRATION_GUIDE}#prefect"
    )


def test_keyword_warning_for_a_prefect_result_adds_no_note(legacy) -> None:
    assert keyword_warning_for(PrefectResult(), legacy) == (
        f"{PREFECT_KEYWORD_HEAD}. {PREFECT_CODEMOD} rewrites it; see {MIGRATION_GUIDE}#prefect"
    )


# -- the .result_handler attribute ------------------------------------------------------------------------------------


def test_reading_result_handler_gives_back_the_custom_handler(legacy) -> None:
    handler = DictHandler()
    assert Task(result_handler=handler).result_handler is handler


def test_reading_result_handler_of_a_native_result_gives_a_working_handler(legacy, tmp_path: Path) -> None:
    handler = Flow("f", result=LocalResult(dir=str(tmp_path))).result_handler
    assert handler.read(handler.write({"a": 1})) == {"a": 1}


def test_assigning_result_handler_sets_the_result(legacy) -> None:
    t = Task()
    t.result_handler = JSONResultHandler()
    assert type(t.result) is PrefectResult


def test_assigning_none_clears_the_result(legacy) -> None:
    f = Flow("f", result=PrefectResult())
    f.result_handler = None
    assert f.result is None


def test_attribute_warning_points_at_the_assignment(legacy) -> None:
    t = Task()
    # assignment
    t.result_handler = JSONResultHandler()
    [warning] = of(LegacyAttributeWarning, legacy)
    assert (warning.filename, warning.lineno) == (THIS_FILE, _line_after("assignment"))
    assert "use Task.result instead" in str(warning.message)
