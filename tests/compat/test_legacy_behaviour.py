"""The legacy classes behave as Prefect's own unit tests pin them (each test names the behaviour it carries over)."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import pytest

from compat import ConstantResult, Flow, ResultHandlerResult, as_result, task
from compat.errors import ConstantResultError, ResultError
from compat.legacy import ConstantResultHandler, JSONResultHandler, ResultHandler
from compat.results import PickleSerializer

pytestmark = pytest.mark.usefixtures("quiet")


def test_the_base_handler_is_a_pass_through_whose_write_and_read_return_none() -> None:
    handler = ResultHandler()
    assert handler.write("anything") is None
    assert handler.read("any-uri") is None


def test_a_handler_has_a_logger_named_after_its_class() -> None:
    assert isinstance(ResultHandler().logger, logging.Logger)
    assert JSONResultHandler().logger.name.endswith("JSONResultHandler")


def test_a_subclass_may_set_its_own_logger_and_stays_equal_by_its_attributes() -> None:
    class Mine(ResultHandler):
        def __init__(self) -> None:
            self.logger = logging.getLogger("mine")  # type: ignore[misc]

    assert Mine().logger.name == "mine"
    assert JSONResultHandler() == JSONResultHandler() and repr(JSONResultHandler()) == "JSONResultHandler()"


def test_the_constant_handler_writes_the_repr_of_its_value() -> None:
    assert ConstantResultHandler({"a": 1}).write(None) == "{'a': 1}"


def test_constant_result_read_returns_the_result_itself() -> None:
    result = ConstantResult(value="hello world")
    assert result.read("this location is not used") is result


def test_constant_result_write_is_a_value_error() -> None:
    with pytest.raises(ValueError, match="cannot store a new one") as raised:
        ConstantResult(value=1).write(2)
    assert isinstance(raised.value, ResultError)


def test_constant_result_with_a_serializer_is_a_value_error() -> None:
    with pytest.raises(ConstantResultError, match="Can't pass a serializer"):
        ConstantResult(value=1, serializer=PickleSerializer())
    with pytest.raises(ValueError):
        ConstantResult(value=1, serializer=PickleSerializer())


def test_a_callable_location_leaves_location_none_until_formatted() -> None:
    from compat import MemoryResult

    result = MemoryResult(location=lambda **context: f"{context['task_name']}.txt")
    assert result.location is None
    assert callable(result.template)
    assert result.format(task_name="load").location == "load.txt"


def test_result_handler_result_exposes_its_handler_as_result_handler() -> None:
    handler = JSONResultHandler()
    wrapped = ResultHandlerResult(handler)
    assert wrapped.result_handler is handler
    assert ResultHandlerResult(result_handler=handler).handler is handler


def test_a_handler_whose_write_returns_none_does_not_say_no_result_is_configured() -> None:
    class NoUri(ResultHandler):
        """A handler of the kind legacy code has: it stores somewhere and returns no URI."""

        def __init__(self) -> None:
            self.stored: list[Any] = []

        def write(self, result: Any) -> None:  # type: ignore[override]
            self.stored.append(result)

    handler = NoUri()

    @task(result=as_result(handler))
    def answer() -> int:
        return 42

    with Flow("no-uri") as flow:
        produced = answer()
    state = flow.run().result[produced]
    assert handler.stored == [42]
    assert "no Result is configured" not in state.message
    assert "gave no location" in state.message


def test_a_task_without_any_result_still_says_no_result_is_configured(tmp_path: Path) -> None:
    @task
    def answer() -> int:
        return 42

    with Flow("none") as flow:
        produced = answer()
    assert "no Result is configured" in flow.run().result[produced].message


# -- legacy code that configures its handler after giving it away --------------------------------------------------


def _files(directory: Path) -> list[str]:
    return sorted(p.name for p in directory.rglob("*") if p.is_file()) if directory.exists() else []


def _one_task_flow(**flow_kwargs: Any) -> tuple[Flow, Any]:
    @task
    def answer() -> int:
        return 42

    with Flow("mutated", **flow_kwargs) as flow:
        produced = answer()
    return flow, produced


def test_setting_dir_on_a_flows_result_handler_takes_effect(tmp_path: Path) -> None:
    from compat.legacy import LocalResultHandler

    flow, produced = _one_task_flow(result_handler=LocalResultHandler(dir=tmp_path / "a"))
    flow.result_handler.dir = str(tmp_path / "b")
    location = flow.run().result[produced].location
    assert Path(location).parent == tmp_path / "b"
    assert _files(tmp_path / "a") == []


def test_setting_dir_on_a_handler_after_passing_it_in_takes_effect(tmp_path: Path) -> None:
    from compat.legacy import LocalResultHandler

    handler = LocalResultHandler(dir=tmp_path / "a")
    flow, produced = _one_task_flow(result_handler=handler)
    handler.dir = str(tmp_path / "b")
    assert Path(flow.run().result[produced].location).parent == tmp_path / "b"


def test_a_legacy_attribute_set_through_the_view_maps_to_the_results_name(tmp_path: Path) -> None:
    from compat import LocalResult

    flow, _ = _one_task_flow(result=LocalResult(dir=tmp_path))
    flow.result_handler.validate = True
    assert flow.result.validate_dir is True


def test_a_converted_handler_still_pickles_and_compares_equal(tmp_path: Path) -> None:
    import pickle

    from compat.legacy import LocalResultHandler

    handler = LocalResultHandler(dir=tmp_path)
    as_result(handler)
    copy = pickle.loads(pickle.dumps(handler))
    assert copy == handler and "_converted" not in vars(copy)


def test_a_relative_dir_set_through_the_view_is_made_absolute_as_dir_is(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from compat import LocalResult

    monkeypatch.chdir(tmp_path)
    flow, _ = _one_task_flow(result=LocalResult(dir=tmp_path / "a"))
    flow.result_handler.dir = "b"
    assert flow.result.dir == str(tmp_path / "b")


def test_setting_bucket_on_a_legacy_s3_handler_takes_effect(s3_client: Any, s3_boto3_kwargs: dict[str, Any]) -> None:
    import uuid

    from compat import S3Result
    from compat.legacy import S3ResultHandler

    first, second = (f"mutated-{uuid.uuid4().hex[:12]}" for _ in range(2))
    for bucket in (first, second):
        s3_client.create_bucket(Bucket=bucket)
    handler = S3ResultHandler(bucket=first, boto3_kwargs=s3_boto3_kwargs)
    handler.bucket = second
    key = handler.write({"moved": True})
    assert S3Result(bucket=second, boto3_kwargs=s3_boto3_kwargs).read(key).value == {"moved": True}
    assert handler.read(key) == {"moved": True}
