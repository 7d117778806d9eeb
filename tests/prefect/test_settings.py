"""Legacy code that changes a handler's settings after giving it to a task or flow moves the checkpoints, as on
Prefect 0.13 (where the task held the handler itself) and on compat's own engine: ``flow.result_handler.dir = new``
and ``handler.dir = new`` both reach the Prefect Result the bridge made of the handler."""

from __future__ import annotations

import pickle
from pathlib import Path

import cloudpickle
import pytest
from prefect import Flow, task

from compat.prefect.handlers import LocalResultHandler, S3ResultHandler
from tests.prefect.conftest import run_quietly

pytestmark = pytest.mark.usefixtures("quiet")


def checkpointed_flow(handler: LocalResultHandler) -> tuple[Flow, object]:
    @task
    def produce() -> int:
        return 7

    with Flow("settings", result_handler=handler) as flow:
        produced = produce()
    return flow, produced


def written_files(directory: Path) -> list[Path]:
    return [path for path in directory.rglob("*") if path.is_file()]


@pytest.mark.usefixtures("checkpointing")
def test_setting_dir_on_flow_result_handler_moves_the_checkpoints(tmp_path: Path) -> None:
    flow, _ = checkpointed_flow(LocalResultHandler(dir=str(tmp_path / "old")))
    flow.result_handler.dir = str(tmp_path / "new")
    assert run_quietly(flow).is_successful()
    assert written_files(tmp_path / "new") and not written_files(tmp_path / "old")


@pytest.mark.usefixtures("checkpointing")
def test_setting_dir_on_the_handler_given_to_the_flow_moves_the_checkpoints(tmp_path: Path) -> None:
    handler = LocalResultHandler(dir=str(tmp_path / "old"))
    flow, _ = checkpointed_flow(handler)
    handler.dir = str(tmp_path / "new")
    assert run_quietly(flow).is_successful()
    assert written_files(tmp_path / "new") and not written_files(tmp_path / "old")


def test_a_setting_with_a_new_name_is_set_under_it(tmp_path: Path) -> None:
    flow, _ = checkpointed_flow(LocalResultHandler(dir=str(tmp_path)))
    flow.result_handler.validate = False
    assert flow.result.validate_dir is False


def test_reading_a_setting_through_the_view_gives_the_results(tmp_path: Path) -> None:
    flow, _ = checkpointed_flow(LocalResultHandler(dir=str(tmp_path)))
    flow.result.validate_dir = False
    assert flow.result_handler.validate is False and flow.result_handler.dir == str(tmp_path)


def test_setting_the_bucket_of_a_task_s3_handler_reaches_its_result() -> None:
    handler = S3ResultHandler(bucket="before", aws_credentials_secret="MY_CREDS")

    @task(result_handler=handler)
    def produce() -> int:
        return 1

    handler.bucket = "after"
    assert produce.result.bucket == "after"


def test_a_handler_that_a_task_follows_still_pickles(tmp_path: Path) -> None:
    handler = LocalResultHandler(dir=str(tmp_path))

    @task(result_handler=handler)
    def produce() -> int:
        return 1

    assert pickle.loads(pickle.dumps(handler)) == handler
    assert cloudpickle.loads(cloudpickle.dumps(produce)).result.dir == str(tmp_path)
