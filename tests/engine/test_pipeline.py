"""The task-run pipeline's outcomes: failures stay States, validation, retries, checkpointing and defaults."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

from compat import (
    Failed,
    Flow,
    JSONSerializer,
    LocalResult,
    MemoryResult,
    Result,
    SerializationError,
    Success,
    TemplateError,
    TriggerFailed,
    ValidationError,
    ValidationFailed,
    task,
)


@task
def inc(x: int) -> int:
    return x + 1


@task
def boom() -> int:
    raise RuntimeError("the source is down")


def test_a_task_that_raises_ends_failed_keeping_the_exception() -> None:
    with Flow("f") as flow:
        node = boom()
    state = flow.run().result[node]
    assert type(state) is Failed and isinstance(state.exception, RuntimeError)
    assert state.message == "raised RuntimeError: the source is down"


def test_downstream_of_a_failed_task_ends_trigger_failed_without_running(calls: Counter[str]) -> None:
    @task
    def after(x: int) -> int:
        calls["after"] += 1
        return x

    with Flow("f") as flow:
        first = after(boom())
        second = after(first)
    states = flow.run().result
    assert isinstance(states[first], TriggerFailed) and isinstance(states[second], TriggerFailed)
    assert states[first].message == "upstream task 'boom' failed, so this task did not run"
    assert calls["after"] == 0


def test_an_unknown_template_key_fails_that_task_and_the_flow_keeps_going() -> None:
    @task(target="{flow_name}/{no_such_key}.pkl")
    def make() -> int:
        return 1

    with Flow("f", result=MemoryResult()) as flow:
        bad = make()
        good = inc(1)
    states = flow.run().result
    assert type(states[bad]) is Failed and isinstance(states[bad].exception, TemplateError)
    assert "needs the key 'no_such_key'" in states[bad].message and "available keys:" in states[bad].message
    assert isinstance(states[good], Success) and states[good].result == 2


def test_a_rejected_value_ends_validation_failed_naming_the_validator_and_why() -> None:
    def is_positive(value: int) -> bool:
        return value > 0

    @task(result=MemoryResult(location="v"), validators=[is_positive])
    def make() -> int:
        return -1

    with Flow("f") as flow:
        node = make()
    state = flow.run().result[node]
    assert isinstance(state, ValidationFailed) and state.result == -1
    assert isinstance(state.exception, ValidationError) and "is_positive" in state.exception.validator
    assert "returned False for a value of type int" in state.message
    assert not MemoryResult().exists("v"), "a rejected value must not be checkpointed"


def test_task_validators_are_appended_to_the_results_validators() -> None:
    seen: list[str] = []

    def from_result(value: int) -> bool:
        seen.append("result")
        return True

    def from_task(value: int) -> bool:
        seen.append("task")
        return True

    shared = MemoryResult(validators=[from_result])

    @task(result=shared, validators=[from_task])
    def make() -> int:
        return 1

    with Flow("f") as flow:
        make()
    flow.run()
    assert seen == ["result", "task"] and shared.validators == [from_result]


def test_run_validators_false_skips_validation() -> None:
    @task(result=MemoryResult(run_validators=False), validators=[lambda value: False])
    def make() -> int:
        return 1

    with Flow("f") as flow:
        node = make()
    assert type(flow.run().result[node]) is Success


def test_validators_run_even_when_the_output_is_kept_only_in_memory() -> None:
    @task(validators=[lambda value: value > 0])
    def make() -> int:
        return 0

    with Flow("f") as flow:
        node = make()
    assert isinstance(flow.run().result[node], ValidationFailed)


def test_a_task_retries_up_to_max_retries_then_succeeds(calls: Counter[str]) -> None:
    @task(max_retries=2)
    def flaky() -> str:
        calls["flaky"] += 1
        if calls["flaky"] < 3:
            raise ConnectionError("try again")
        return "ok"

    with Flow("f") as flow:
        node = flaky()
    assert flow.run().result[node].result == "ok" and calls["flaky"] == 3


def test_a_task_that_keeps_failing_reports_its_last_attempt(calls: Counter[str]) -> None:
    @task(max_retries=1, retry_delay=0.001)
    def broken() -> None:
        calls["broken"] += 1
        raise ConnectionError(f"attempt {calls['broken']}")

    with Flow("f") as flow:
        node = broken()
    state = flow.run().result[node]
    assert state.message == "raised ConnectionError: attempt 2 (attempt 2 of 2)" and calls["broken"] == 2


def test_the_template_sees_the_attempt_number_when_writing() -> None:
    attempts = Counter[str]()

    @task(result=MemoryResult(location="out-{task_run_count}"), max_retries=1)
    def flaky() -> int:
        attempts["n"] += 1
        if attempts["n"] == 1:
            raise ConnectionError("once")
        return 1

    with Flow("f") as flow:
        node = flaky()
    assert flow.run().result[node].location == "out-2"


def test_the_flow_default_result_checkpoints_tasks_without_their_own(tmp_path: Path) -> None:
    with Flow("f", result=LocalResult(dir=tmp_path, location="{task_name}.pkl")) as flow:
        node = inc(1)
    assert flow.run().result[node].location == str(tmp_path / "inc.pkl")


def test_a_task_result_overrides_the_flow_default(tmp_path: Path) -> None:
    @task(result=MemoryResult(location="mine"))
    def make() -> int:
        return 1

    with Flow("f", result=LocalResult(dir=tmp_path, location="{task_name}.pkl")) as flow:
        node = make()
    assert flow.run().result[node].location == "mine" and not (tmp_path / "make.pkl").exists()


def test_checkpoint_false_keeps_the_output_in_memory_only() -> None:
    @task(result=MemoryResult(location="never"), checkpoint=False)
    def make() -> int:
        return 1

    with Flow("f") as flow:
        node = make()
    state = flow.run().result[node]
    assert (type(state), state.result, state.location) == (Success, 1, None) and not MemoryResult().exists("never")


def test_without_any_result_the_output_is_kept_in_memory_and_still_flows_downstream() -> None:
    with Flow("f") as flow:
        first = inc(1)
        second = inc(first)
    states = flow.run().result
    assert (states[first].location, states[second].result) == (None, 3)
    assert states[first].message == "ran; no Result is configured, so the output is kept in memory only"


def test_a_value_that_cannot_be_checkpointed_fails_with_the_reason() -> None:
    @task(result=MemoryResult())
    def make() -> object:
        return (i for i in range(3))  # a generator cannot be pickled

    with Flow("f") as flow:
        node = make()
    state = flow.run().result[node]
    assert isinstance(state, Failed) and state.message.startswith("ran, but its output could not be checkpointed")


class ExplodingBackend(Result):
    """A third-party backend with a bug: its write raises something that is not a ResultError."""

    def write_bytes(self, location: str | None, data: bytes) -> str:
        raise ZeroDivisionError("bug in the backend")


def test_an_unexpected_backend_error_still_ends_as_a_failed_state() -> None:
    @task(result=ExplodingBackend())
    def make() -> int:
        return 1

    with Flow("f") as flow:
        node = make()
    state = flow.run().result[node]
    assert isinstance(state, Failed) and isinstance(state.exception, ZeroDivisionError)
    assert state.message == "the engine could not complete the run: ZeroDivisionError: bug in the backend"


def test_a_location_outside_the_result_dir_fails_the_task(tmp_path: Path) -> None:
    @task(result=LocalResult(dir=tmp_path / "inside"), target="../escape.pkl")
    def make() -> int:
        return 1

    with Flow("f") as flow:
        node = make()
    state = flow.run().result[node]
    assert isinstance(state, Failed) and "outside the result directory" in state.message


def test_a_target_callable_that_raises_fails_the_task_naming_the_error() -> None:
    def where(**context: object) -> str:
        raise LookupError("no partition for this day")

    @task(target=where, result=MemoryResult())
    def make() -> int:
        return 1

    with Flow("f") as flow:
        node = make()
    state = flow.run().result[node]
    assert type(state) is Failed
    assert state.message == "cannot render the output location: LookupError: no partition for this day"


def test_inputs_named_like_result_arguments_render_into_the_location() -> None:
    @task(result=MemoryResult(location="{value}-{location}"))
    def store(value: int, location: str) -> int:
        return value

    with Flow("f") as flow:
        node = store(1, "eu")
    flow.run()
    second = flow.run().result[node]
    assert (type(second).__name__, second.location) == ("Cached", "1-eu")


def test_a_rendered_location_with_braces_is_used_as_is() -> None:
    @task(result=MemoryResult(location="{name}.pkl"))
    def store(name: str) -> str:
        return name

    with Flow("f") as flow:
        node = store("{odd}")
    flow.run()
    second = flow.run().result[node]
    assert (type(second).__name__, second.location) == ("Cached", "{odd}.pkl")


def test_a_target_callable_is_called_once_per_run(calls: Counter[str]) -> None:
    def where(**context: object) -> str:
        calls["where"] += 1
        return "t"

    @task(target=where, result=MemoryResult())
    def make() -> int:
        return 1

    with Flow("f") as flow:
        make()
    flow.run()
    assert calls["where"] == 1


def test_a_validator_result_without_a_truth_value_ends_validation_failed() -> None:
    class Ambiguous:
        def __bool__(self) -> bool:
            raise ValueError("ambiguous truth value")

    @task(result=MemoryResult(location="v"), validators=[lambda value: Ambiguous()])
    def make() -> int:
        return 1

    with Flow("f") as flow:
        node = make()
    state = flow.run().result[node]
    assert type(state) is ValidationFailed and "truth value raised ValueError" in state.message


def test_a_value_too_deep_for_json_fails_the_checkpoint_with_a_serialization_error(tmp_path: Path) -> None:
    @task(result=LocalResult(dir=tmp_path, location="deep.json", serializer=JSONSerializer()))
    def make() -> list[object]:
        value: list[object] = []
        for _ in range(100_000):
            value = [value]
        return value

    with Flow("f") as flow:
        node = make()
    state = flow.run().result[node]
    assert type(state) is Failed and isinstance(state.exception, SerializationError)
    assert "recursion limit" in state.message and not (tmp_path / "deep.json").exists()
