"""Logging: one INFO line per task state change, saying why, on loggers under "compat.engine"."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from compat import Flow, LocalResult, task


@task(target="reports/{today}.pkl")
def report() -> str:
    return "numbers"


def messages(caplog: pytest.LogCaptureFixture, task_name: str) -> list[str]:
    prefix = f"Task {task_name!r}: "
    return [r.getMessage()[len(prefix):] for r in caplog.records if r.getMessage().startswith(prefix)]


def test_a_task_that_runs_logs_running_and_success_with_the_reasons(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    with Flow("f", result=LocalResult(dir=tmp_path)) as flow:
        report()
    with caplog.at_level(logging.INFO, logger="compat.engine"):
        state = flow.run()
    today = state.result[flow.tasks[0]].location.rsplit("/", 1)[-1][:-4]
    assert messages(caplog, "report") == [
        f"Running: no target at 'reports/{today}.pkl'",
        f"Success: ran and stored its output at {str(tmp_path / 'reports' / (today + '.pkl'))!r}",
    ]
    ours = [r for r in caplog.records if r.name.startswith("compat")]  # not a dask cluster's left from another test
    assert ours and all(r.levelno == logging.INFO and r.name.startswith("compat.engine") for r in ours)


def test_a_cached_task_logs_one_line_saying_the_target_exists(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    with Flow("f", result=LocalResult(dir=tmp_path)) as flow:
        report()
    flow.run()
    with caplog.at_level(logging.INFO, logger="compat.engine"):
        flow.run()
    (line,) = messages(caplog, "report")
    assert line.startswith("Cached: target 'reports/") and line.endswith(".pkl' exists and is valid")


def test_a_failed_task_logs_its_traceback(caplog: pytest.LogCaptureFixture) -> None:
    @task
    def boom() -> None:
        raise RuntimeError("no data")

    with Flow("f") as flow:
        boom()
    with caplog.at_level(logging.INFO, logger="compat.engine"):
        flow.run()
    (failed,) = [r for r in caplog.records if r.getMessage().startswith("Task 'boom': Failed")]
    assert failed.exc_info is not None and failed.exc_info[0] is RuntimeError


def test_a_retry_is_logged_with_the_attempt_and_the_error(caplog: pytest.LogCaptureFixture) -> None:
    attempts: list[int] = []

    @task(max_retries=1)
    def flaky() -> int:
        attempts.append(1)
        if len(attempts) == 1:
            raise ConnectionError("reset")
        return 1

    with Flow("f") as flow:
        flaky()
    with caplog.at_level(logging.INFO, logger="compat.engine"):
        flow.run()
    assert "Retrying: attempt 1 of 2 raised ConnectionError: reset" in messages(caplog, "flaky")


def test_the_flow_logs_its_start_and_its_outcome(caplog: pytest.LogCaptureFixture) -> None:
    with Flow("etl") as flow:
        report.copy()  # not called: not in the flow
    with caplog.at_level(logging.INFO, logger="compat.engine"):
        flow.run()
    lines = [r.getMessage() for r in caplog.records]
    assert lines[0].startswith("Flow 'etl': Running: 0 tasks, run id ")
    assert lines[-1] == "Flow 'etl': Success: all 0 tasks succeeded (0 Cached)"


def test_nothing_is_logged_above_debug_when_info_is_off(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    with Flow("f", result=LocalResult(dir=tmp_path)) as flow:
        report()
    with caplog.at_level(logging.WARNING, logger="compat.engine"):
        flow.run()
    assert caplog.records == []
