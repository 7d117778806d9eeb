"""Reason codes (``compat.engine.reasons``): every plan step and every State a target or a cache decided carries
one, ``to_dict()`` shows it with what changed, and each code means one thing."""

from __future__ import annotations

import json
import warnings
from datetime import timedelta
from pathlib import Path

import pytest

from compat import (
    ArgumentTypeError, ConfigurationError, DaskExecutor, Flow, LegacyResultWarning, LocalResult, Parameter,
    ThreadExecutor, as_result, task,
)
from compat.engine.reasons import REASONS
from tests.compat.handlers import ExistsHandler
from tests.records import stored_record, trailer_json


@task
def load(day: str) -> list[int]:
    return [1, 2, 3]


@task
def clean(rows: list[int]) -> list[int]:
    return [row * 2 for row in rows]


@task(checkpoint=False)
def report(rows: list[int]) -> int:
    return sum(rows)


def targeted(tmp_path: Path) -> Flow:
    with Flow("etl", result=LocalResult(dir=tmp_path, location="{task_name}.pkl")) as flow:
        report(clean(load(Parameter("day", default="2026-12-01"))))
    return flow


def state_codes(flow: Flow, **run_kwargs: object) -> dict[str, str | None]:
    state = flow.run(**run_kwargs)  # type: ignore[arg-type]
    assert state.is_successful(), state.message
    return {task.name: s.code for task, s in state.result.items()}


def plan_codes(flow: Flow, **plan_kwargs: object) -> dict[str, str]:
    return {step.task.name: step.code for step in flow.plan(**plan_kwargs)}  # type: ignore[arg-type]


def test_a_first_run_says_each_target_was_missing(tmp_path: Path) -> None:
    flow = targeted(tmp_path)
    assert plan_codes(flow) == {"day": "parameter", "load": "missing", "clean": "missing", "report": "missing"}
    assert state_codes(flow) == {"day": "parameter", "load": "missing", "clean": "missing", "report": "missing"}
    with Flow("memory") as kept:
        report([1])
    assert plan_codes(kept) == {"report": "no-target"} and state_codes(kept) == {"report": "no-target"}


def test_a_rerun_says_each_target_exists(tmp_path: Path) -> None:
    state_codes(targeted(tmp_path))
    assert plan_codes(targeted(tmp_path))["clean"] == "exists"
    assert state_codes(targeted(tmp_path))["clean"] == "exists"


def test_refresh_is_its_own_code_and_rewrites_the_record(tmp_path: Path) -> None:
    state_codes(targeted(tmp_path))
    before = stored_record(tmp_path / "clean.pkl")
    assert plan_codes(targeted(tmp_path), refresh="clean")["clean"] == "refresh"
    assert state_codes(targeted(tmp_path), refresh="clean")["clean"] == "refresh"
    assert json.loads(stored_record(tmp_path / "clean.pkl") or b"")["run_id"] != json.loads(before or b"")["run_id"]


def test_prune_skips_with_not_needed(tmp_path: Path) -> None:
    state_codes(targeted(tmp_path))
    assert plan_codes(targeted(tmp_path), prune=True)["load"] == "not-needed"
    assert state_codes(targeted(tmp_path), prune=True)["load"] == "not-needed"


def test_unreadable_bytes_at_a_target_say_unreadable(tmp_path: Path) -> None:
    state_codes(targeted(tmp_path))
    (tmp_path / "clean.pkl").write_bytes(b"not a pickle")
    assert state_codes(targeted(tmp_path))["clean"] == "unreadable"


def test_a_stored_value_a_validator_rejects_says_invalid(tmp_path: Path) -> None:
    state_codes(targeted(tmp_path))
    strict = task(clean.fn, name="clean", validators=[lambda value: value != [2, 4, 6]])
    with Flow("etl", result=LocalResult(dir=tmp_path, location="{task_name}.pkl")) as flow:
        strict([5])
    assert state_codes(flow)["clean"] == "invalid"


def test_a_caching_result_says_fresh_then_expired(tmp_path: Path) -> None:
    result = LocalResult(dir=tmp_path, location="{task_name}.pkl", cache_for=timedelta(hours=1))
    with Flow("cache", result=result) as flow:
        clean([1])
    assert state_codes(flow)["clean"] == "missing"
    assert plan_codes(flow)["clean"] == "fresh" and state_codes(flow)["clean"] == "fresh"
    result.cache_for = timedelta(0)
    assert plan_codes(flow)["clean"] == "expired" and state_codes(flow)["clean"] == "expired"


def test_a_legacy_handler_target_is_no_record() -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", LegacyResultWarning)
        handler = ExistsHandler({}, key="data/clean")
    with Flow("legacy") as flow:
        task(clean.fn, name="clean", result=as_result(handler), target="data/clean")([1])
    assert state_codes(flow)["clean"] == "missing"
    assert plan_codes(flow)["clean"] == "no-record" and state_codes(flow)["clean"] == "no-record"


def test_a_mapped_task_plans_mapped_and_each_child_has_its_record(tmp_path: Path) -> None:
    with Flow("mapped", result=LocalResult(dir=tmp_path, location="{task_name}-{map_index}.pkl")) as flow:
        clean.map([[1], [2], [3]])
    assert plan_codes(flow)["clean"] == "mapped"
    flow.run()
    assert [trailer_json(tmp_path / f"clean-{i}.pkl") is not None for i in range(3)] == [True] * 3
    children = flow.run().result[flow.get_tasks("clean")[0]].map_states
    assert [child.code for child in children] == ["exists"] * 3


def test_a_location_from_an_upstream_output_is_upstream_location(tmp_path: Path) -> None:
    with Flow("where", result=LocalResult(dir=tmp_path)) as flow:
        rows = load("2026-12-01")
        task(lambda rows: rows, name="keep", target="{rows}.pkl")(rows)
    assert plan_codes(flow)["keep"] == "upstream-location"


def test_state_and_step_to_dict_carry_the_code_and_what_changed(tmp_path: Path) -> None:
    flow = targeted(tmp_path)
    state = flow.run()
    shown = state.result[flow.get_tasks("clean")[0]].to_dict()
    assert shown["code"] == "missing" and shown["changes"] == [] and shown["state"] == "Success"
    step = flow.plan()["clean"].to_dict()
    assert step["code"] == "exists" and json.dumps(step)


@pytest.mark.parametrize("executor", ["thread", "dask"])
def test_records_are_written_by_the_executors_workers(tmp_path: Path, executor: str, request: pytest.FixtureRequest) -> None:
    chosen = ThreadExecutor() if executor == "thread" else DaskExecutor(address=request.getfixturevalue("dask_address"))
    with Flow("workers", result=LocalResult(dir=tmp_path, location="{task_name}.pkl")) as flow:
        report(clean(load("2026-12-01")))
    assert flow.run(executor=chosen).is_successful()
    assert [name for name in ("clean.pkl", "load.pkl") if trailer_json(tmp_path / name) is not None] == ["clean.pkl", "load.pkl"]
    assert plan_codes(flow)["clean"] == "exists"


def test_a_bad_invalidate_on_is_refused_naming_the_choices() -> None:
    with pytest.raises(ValueError, match="'bytes' is not something a target can be invalidated on"):
        task(invalidate_on=("code", "bytes"))(lambda: 1)
    with pytest.raises(ArgumentTypeError):
        Flow("f", invalidate_on=5)  # type: ignore[arg-type]


def test_a_bad_invalidate_on_in_the_environment_is_a_configuration_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("RESULTS_COMPAT_INVALIDATE_ON", "code,everything")
    with pytest.raises(ConfigurationError, match="RESULTS_COMPAT_INVALIDATE_ON"):
        targeted(tmp_path).plan()


def test_every_code_a_decision_gives_is_in_the_table(tmp_path: Path) -> None:
    seen = set(plan_codes(targeted(tmp_path)).values()) | set(state_codes(targeted(tmp_path)).values())
    seen |= set(plan_codes(targeted(tmp_path)).values()) | set(plan_codes(targeted(tmp_path), prune=True).values())
    assert seen <= set(REASONS)


def test_the_readme_table_lists_every_code_with_its_meaning() -> None:
    readme = (Path(__file__).parents[2] / "README.md").read_text(encoding="utf-8")
    table = readme.split("| code | meaning |\n|---|---|\n", 1)[1].split("\n\n", 1)[0]
    rows = [row.split(" | ", 1) for row in table.strip().splitlines()]
    assert {code.strip("| `"): meaning.rstrip(" |") for code, meaning in rows} == REASONS
