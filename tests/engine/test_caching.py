"""Output caching (cache_for / cache_validators) judged by the backend's last-modified time, across processes."""

from __future__ import annotations

import logging
import os
import time
from collections import Counter
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from compat import Cached, Failed, Flow, LocalResult, Result, StorageError, Success, task


def cached_flow(tmp_path: Path, calls: Counter[str], **task_kwargs: Any) -> tuple[Flow, Any]:
    @task(target="{task_name}.pkl", **task_kwargs)
    def fetch() -> str:
        calls["fetch"] += 1
        return f"fetched #{calls['fetch']}"

    with Flow("f", result=LocalResult(dir=tmp_path)) as flow:
        node = fetch()
    return flow, node


def age(path: Path, seconds: float) -> None:
    """Make ``path`` look as if it was written ``seconds`` ago."""
    stamp = time.time() - seconds
    os.utime(path, (stamp, stamp))


def test_an_output_inside_the_cache_window_is_cached(tmp_path: Path, calls: Counter[str]) -> None:
    flow, node = cached_flow(tmp_path, calls, cache_for=timedelta(hours=1))
    flow.run()
    age(tmp_path / "fetch.pkl", 30 * 60)
    state = flow.run().result[node]
    assert isinstance(state, Cached) and state.result == "fetched #1" and calls["fetch"] == 1
    assert state.message == "output at 'fetch.pkl' is fresh (cache_for=1:00:00) and valid"


def test_an_output_past_the_cache_window_runs_again_and_is_rewritten(tmp_path: Path, calls: Counter[str]) -> None:
    flow, node = cached_flow(tmp_path, calls, cache_for=timedelta(hours=1))
    flow.run()
    age(tmp_path / "fetch.pkl", 2 * 60 * 60)
    state = flow.run().result[node]
    assert type(state) is Success and state.result == "fetched #2" and calls["fetch"] == 2
    assert LocalResult(dir=tmp_path).read("fetch.pkl").value == "fetched #2"


def test_a_stale_output_is_rerun_even_though_the_target_exists(
    tmp_path: Path, calls: Counter[str], caplog: pytest.LogCaptureFixture
) -> None:
    flow, node = cached_flow(tmp_path, calls, cache_for=timedelta(seconds=1))
    flow.run()
    age(tmp_path / "fetch.pkl", 60)
    with caplog.at_level(logging.INFO, logger="compat.engine"):
        flow.run()
    assert calls["fetch"] == 2
    assert "Running: no output at 'fetch.pkl' is fresh enough to reuse (cache_for=0:00:01)" in caplog.text


def test_cache_validators_decide_whether_a_stored_output_is_reused(tmp_path: Path, calls: Counter[str]) -> None:
    def first_fetch_only(stored: Result) -> bool:
        return stored.value == "fetched #1"

    flow, node = cached_flow(tmp_path, calls, cache_validators=[first_fetch_only])
    flow.run()
    assert isinstance(flow.run().result[node], Cached)
    (tmp_path / "fetch.pkl").unlink()
    LocalResult(dir=tmp_path, location="fetch.pkl").write("written by someone else")
    assert flow.run().result[node].result == "fetched #2"


def test_task_cache_settings_apply_to_a_copy_of_the_flow_result(tmp_path: Path, calls: Counter[str]) -> None:
    flow, _ = cached_flow(tmp_path, calls, cache_for=timedelta(hours=1))
    flow.run()
    assert flow.result is not None and flow.result.cache_for is None and not flow.result.cache_validators


def test_a_fresh_output_that_fails_validation_is_rerun(tmp_path: Path, calls: Counter[str]) -> None:
    LocalResult(dir=tmp_path, location="fetch.pkl").write("garbage")
    flow, node = cached_flow(
        tmp_path, calls, cache_for=timedelta(hours=1), validators=[lambda value: value.startswith("fetched")]
    )
    assert type(flow.run().result[node]) is Success and calls["fetch"] == 1


def test_a_corrupt_cached_output_is_rerun_with_a_warning(
    tmp_path: Path, calls: Counter[str], caplog: pytest.LogCaptureFixture
) -> None:
    (tmp_path / "fetch.pkl").write_bytes(b"\x80\x05truncated")
    flow, node = cached_flow(tmp_path, calls, cache_for=timedelta(hours=1))
    with caplog.at_level(logging.WARNING, logger="compat.engine"):
        state = flow.run().result[node]
    assert type(state) is Success and calls["fetch"] == 1
    assert "cannot be read" in caplog.records[0].getMessage()


class UnreachableStore(LocalResult):
    """A backend whose storage is down when the cache is checked."""

    def modified_at(self, location: str) -> datetime:
        raise StorageError(f"cannot stat {location!r}: connection reset")


def test_a_storage_error_during_the_cache_check_fails_the_task_without_running(
    tmp_path: Path, calls: Counter[str]
) -> None:
    LocalResult(dir=tmp_path, location="fetch.pkl").write("stored")

    @task(result=UnreachableStore(dir=tmp_path), target="fetch.pkl", cache_for=timedelta(hours=1))
    def fetch() -> str:
        calls["fetch"] += 1
        return "new"

    with Flow("f") as flow:
        node = fetch()
    state = flow.run().result[node]
    assert isinstance(state, Failed) and calls["fetch"] == 0
    assert state.message == "cannot check the cached output at 'fetch.pkl': cannot stat " + repr(
        str(tmp_path / "fetch.pkl")
    ) + ": connection reset"


def test_a_cache_decided_by_validators_says_so(tmp_path: Path, calls: Counter[str]) -> None:
    flow, node = cached_flow(tmp_path, calls, cache_validators=[lambda stored: True])
    flow.run()
    assert flow.run().result[node].message == "output at 'fetch.pkl' is fresh (1 cache_validators) and valid"


def test_cache_for_without_a_location_warns_that_nothing_can_be_reused(
    tmp_path: Path, calls: Counter[str], caplog: pytest.LogCaptureFixture
) -> None:
    @task(result=LocalResult(dir=tmp_path), cache_for=timedelta(hours=1))
    def work() -> int:
        calls["work"] += 1
        return 1

    with Flow("f") as flow:
        work()
    with caplog.at_level(logging.WARNING, logger="compat.engine"):
        flow.run()
        flow.run()
    assert calls["work"] == 2
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 2 and "no location template or target" in warnings[0]
    assert "'{task_full_name}-{today}.pkl'" in warnings[0]


def test_a_cache_validator_that_raises_reruns_the_task_and_names_the_validator(
    tmp_path: Path, calls: Counter[str], caplog: pytest.LogCaptureFixture
) -> None:
    def divides_by_zero(stored: Result) -> bool:
        return bool(1 / 0)

    flow, node = cached_flow(tmp_path, calls, cache_for=timedelta(hours=1), cache_validators=[divides_by_zero])
    flow.run()
    with caplog.at_level(logging.WARNING, logger="compat.engine"):
        state = flow.run().result[node]
    assert type(state) is Success and calls["fetch"] == 2
    (warning,) = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert "divides_by_zero" in warning and "ZeroDivisionError" in warning


def test_an_output_modified_in_the_future_is_stale(tmp_path: Path, calls: Counter[str]) -> None:
    flow, node = cached_flow(tmp_path, calls, cache_for=timedelta(hours=1))
    flow.run()
    age(tmp_path / "fetch.pkl", -24 * 3600)  # a planted file, or a clock that was wrong
    state = flow.run().result[node]
    assert type(state) is Success and calls["fetch"] == 2
