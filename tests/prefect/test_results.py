"""prefect.engine.results.ResultHandlerResult: a user's own handler as a real Prefect Result, targets included."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest
from prefect import Flow, Task, task
from prefect.engine.result import Result
from prefect.engine.results import LocalResult, PrefectResult, ResultHandlerResult

from compat import ArgumentTypeError
from compat.prefect.handlers import JSONResultHandler, LocalResultHandler
from tests.prefect.handlers import BrokenHandler, DictHandler, ExistsHandler, FileHandler


def test_from_result_handler_wraps_a_custom_handler() -> None:
    handler = DictHandler()
    result = ResultHandlerResult.from_result_handler(handler)
    assert type(result) is ResultHandlerResult and result.result_handler is handler


def test_from_result_handler_maps_a_built_in_to_its_native_result(quiet, tmp_path: Path) -> None:
    assert type(ResultHandlerResult.from_result_handler(JSONResultHandler())) is PrefectResult
    local = ResultHandlerResult.from_result_handler(LocalResultHandler(dir=str(tmp_path)))
    assert type(local) is LocalResult and local.dir == str(tmp_path)


def test_write_returns_a_new_result_with_the_handlers_uri() -> None:
    result = ResultHandlerResult(DictHandler())
    written = result.write({"a": 1})
    assert (written.location, written.value) == ("key-0", {"a": 1}) and result.location is None


def test_read_returns_a_new_result_with_the_value() -> None:
    result = ResultHandlerResult(DictHandler({"k": 5}))
    assert (result.read("k").value, result.read("k").location) == (5, "k")


def test_exists_is_a_guarded_read_where_only_not_found_means_absent() -> None:
    result = ResultHandlerResult(DictHandler({"k": 5}))
    assert result.exists("k") and not result.exists("missing")


def test_exists_formats_the_location_as_prefect_results_do() -> None:
    assert ResultHandlerResult(DictHandler({"t-7": 1})).exists("t-{n}", n=7)


def test_exists_lets_other_read_errors_through() -> None:
    with pytest.raises(PermissionError):
        ResultHandlerResult(BrokenHandler()).exists("anything")


def test_exists_prefers_the_handlers_own_exists() -> None:
    handler = ExistsHandler({"k": 1})
    assert ResultHandlerResult(handler).exists("k") and handler.exists_calls == 1


def test_it_is_a_real_prefect_result() -> None:
    assert isinstance(ResultHandlerResult(DictHandler()), Result)


def test_a_handler_without_read_and_write_is_refused() -> None:
    with pytest.raises(ArgumentTypeError, match=r"^ResultHandlerResult: result_handler must be a legacy handler, "
                                                 r"with write\(value\) -> uri and read\(uri\) -> value, not object"):
        ResultHandlerResult(object())


def test_a_target_with_a_custom_handler_is_cached_on_the_second_run(quiet, checkpointing, tmp_path: Path) -> None:
    path = str(tmp_path / "value.pkl")
    handler = FileHandler(path)

    calls = []

    @task(result_handler=handler, target=path)
    def expensive():
        calls.append(1)
        return 42

    with Flow("cached") as flow:
        value = expensive()

    first, second = flow.run(), flow.run()
    assert first.result[value].result == 42 and first.result[value].is_successful()
    assert second.result[value].is_cached() and second.result[value].result == 42
    assert len(calls) == 1


def test_a_target_the_handler_never_writes_is_logged(quiet, checkpointing, tmp_path: Path, caplog) -> None:
    t = Task(name="t", result_handler=DictHandler(), target="{task_name}.out")
    with caplog.at_level(logging.WARNING, logger="compat.prefect.results"):
        t.result.write(1, task_name="t")
    assert "not to the target 't.out'" in caplog.text
