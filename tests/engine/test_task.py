"""Task and @task: construction, binding inputs, copies in flows, and what survives a wrapped __init__ or pickling."""

from __future__ import annotations

import inspect
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import cloudpickle
import pytest
import wrapt

from compat import ArgumentTypeError, Flow, FlowError, MemoryResult, Task, task
from compat.engine.task import FunctionTask


class Add(Task):
    def run(self, x: int, y: int = 1) -> int:
        return x + y


def test_a_subclass_runs_its_own_run_method_in_a_flow() -> None:
    with Flow("f") as flow:
        total = Add()(2, y=3)
    assert flow.run().result[total].result == 5


def test_task_name_defaults_to_the_class_name_and_can_be_given() -> None:
    assert (Add().name, Add(name="plus").name) == ("Add", "plus")


def test_bare_decorator_makes_a_task_named_after_the_function() -> None:
    @task
    def extract() -> int:
        return 1

    assert isinstance(extract, Task) and extract.name == "extract"


def test_decorator_with_keywords_passes_them_to_the_task() -> None:
    result = MemoryResult()

    @task(name="ex", result=result, target="{task_name}.pkl", checkpoint=False, max_retries=2)
    def extract() -> int:
        return 1

    assert (extract.name, extract.result, extract.target, extract.checkpoint, extract.max_retries) == (
        "ex",
        result,
        "{task_name}.pkl",
        False,
        2,
    )


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"result": "not a result"}, ArgumentTypeError, "result must be a Result"),
        ({"target": 3}, ArgumentTypeError, "target must be"),
        ({"cache_for": 60}, ArgumentTypeError, "cache_for must be a datetime.timedelta"),
        ({"max_retries": -1}, ValueError, "max_retries must be an int >= 0"),
        ({"validators": [1]}, ArgumentTypeError, "each of validators must be a callable, not int"),
        ({"validators": 5}, ArgumentTypeError, "validators must be a callable or a list of callables, not int"),
        ({"max_retries": "3"}, ArgumentTypeError, "max_retries must be an int >= 0, e.g. max_retries=3, not str"),
        ({"max_retries": 2.0}, ArgumentTypeError, "max_retries must be an int"),
        ({"retry_delay": "soon"}, ArgumentTypeError, "retry_delay must be a datetime.timedelta or a number of "
                                                      "seconds, e.g. retry_delay=timedelta.seconds=10., not str"),
        ({"retry_delay": True}, ArgumentTypeError, "retry_delay must be a datetime.timedelta or a number of seconds"),
        ({"retry_delay": -1}, ValueError, "retry_delay must not be negative"),
    ],
)
def test_bad_settings_are_refused_with_the_reason(kwargs: dict[str, Any], error: type[Exception], match: str) -> None:
    with pytest.raises(error, match=match):
        Add(**kwargs)


def test_an_argument_of_the_wrong_type_is_also_a_type_error() -> None:
    with pytest.raises(TypeError, match="max_retries"):
        Add(max_retries="3")


def test_a_lone_validator_is_accepted_as_a_list_of_one() -> None:
    def positive(value: int) -> bool:
        return value > 0

    assert Add(validators=positive).validators == (positive,)


def test_calling_a_task_outside_a_flow_is_a_flow_error_with_the_way_out() -> None:
    with pytest.raises(FlowError, match=r"outside a flow.*task\.run"):
        Add()(1)


def test_calling_a_task_with_inputs_its_run_does_not_take_names_the_signature() -> None:
    expected = r"task 'Add' cannot take these inputs: got an unexpected keyword argument 'z'; its run\(\) is \(x"
    with Flow("f"), pytest.raises(TypeError, match=expected):
        Add()(1, z=2)


def test_calling_a_task_twice_adds_two_copies_and_leaves_the_original_out() -> None:
    add = Add()
    with Flow("f") as flow:
        first = add(1)
        second = add(first)
    assert flow.tasks == (first, second) and add not in flow.tasks
    assert flow.run().result[second].result == 3


def test_var_keyword_inputs_are_flattened_into_named_inputs() -> None:
    @task
    def gather(**parts: int) -> int:
        return sum(parts.values())

    assert gather.bind_inputs((), {"a": 1, "b": 2}) == {"a": 1, "b": 2}


def test_task_run_can_be_called_directly() -> None:
    @task
    def double(x: int) -> int:
        return 2 * x

    assert double.run(4) == 8


def test_a_task_survives_a_cloudpickle_round_trip() -> None:
    @task(target="{task_name}.pkl", validators=[lambda v: v > 0], cache_for=timedelta(minutes=5))
    def extract() -> int:
        return 7

    clone = cloudpickle.loads(cloudpickle.dumps(extract))
    assert (clone.name, clone.target, clone.cache_for) == ("extract", "{task_name}.pkl", timedelta(minutes=5))
    assert clone.run() == 7
    assert clone.validators[0](1)


@pytest.fixture
def recorded_init_keywords() -> Iterator[list[dict[str, Any]]]:
    """Wraps Task.__init__ with wrapt, as the compatibility layer does, and records the keywords it sees."""
    seen: list[dict[str, Any]] = []

    @wrapt.decorator
    def record(wrapped: Any, instance: Any, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
        seen.append(dict(kwargs))
        return wrapped(*args, **kwargs)

    original = Task.__dict__["__init__"]
    Task.__init__ = record(original)  # type: ignore[method-assign]
    try:
        yield seen
    finally:
        Task.__init__ = original  # type: ignore[method-assign]


def test_decorator_builds_its_task_with_keywords_a_wrapped_init_can_see(
    recorded_init_keywords: list[dict[str, Any]],
) -> None:
    result = MemoryResult()

    @task(result=result, target="t.pkl")
    def extract() -> int:
        return 1

    (seen,) = recorded_init_keywords
    assert (seen["result"], seen["target"], seen["name"]) == (result, "t.pkl", "extract")


def test_a_wrapped_init_keeps_tasks_working_and_picklable(recorded_init_keywords: list[dict[str, Any]]) -> None:
    with Flow("f") as flow:
        total = Add(name="add")(1, 2)
    clone = cloudpickle.loads(cloudpickle.dumps(flow))
    (clone_total,) = clone.get_tasks("add")
    assert flow.run().result[total].result == clone.run().result[clone_total].result == 3


def test_decorator_signature_lists_the_task_keywords() -> None:
    names = list(inspect.signature(task).parameters)
    assert names[:4] == ["fn", "name", "result", "target"] and "max_retries" in names


def test_function_task_rejects_a_non_callable() -> None:
    with pytest.raises(ArgumentTypeError) as raised:
        FunctionTask(fn=3)
    assert str(raised.value) == "what @task decorates must be a function (or another callable), not int (3)"


def test_a_function_without_a_signature_is_refused_when_called_in_a_flow() -> None:
    with Flow("f"), pytest.raises(TypeError, match="cannot read the parameters of <class 'range'>"):
        task(range)(3)
