"""Leases on local files (issue 25): runs that need one target at once make it once; the others wait and read it.

Real processes share one directory; a holder is killed with SIGKILL; Local, Thread and Dask executors."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from compat import (
    ArgumentTypeError, ConfigurationError, Failed, Flow, Lease, LocalExecutor, LocalResult, MemoryResult,
    ThreadExecutor, task,
)
from compat.engine import unmapped
from compat.engine.states import State
from compat.results.leases import Holder
from tests.records import trailer_json

HOLDER = textwrap.dedent("""
    import json, logging, os, sys, time
    from compat import Flow, Lease, LocalResult, task

    directory = sys.argv[1]
    logging.basicConfig(filename=os.path.join(directory, f"log-{os.getpid()}"), level=logging.INFO)
    lease = Lease(wait=float(os.environ.get("LEASE_WAIT", "120")), poll=0.05)

    @task(target="answer.pkl", result=LocalResult(directory, lease=lease))
    def answer():
        with open(os.path.join(directory, "count"), "a") as f:
            f.write(f"{os.getpid()}\\n")
        open(os.path.join(directory, f"started-{os.getpid()}"), "w").close()
        until = os.environ.get("UNTIL")  # a file the test makes: the body lasts until then (at most 120 s)
        if until:
            deadline = time.monotonic() + 120
            while not os.path.exists(os.path.join(directory, until)) and time.monotonic() < deadline:
                time.sleep(0.01)
        else:
            time.sleep(float(os.environ.get("BODY_SECONDS", "1")))
        return int(os.environ.get("VALUE", "42"))

    with Flow("once") as flow:
        answer()

    open(os.path.join(directory, f"ready-{os.getpid()}"), "w").close()
    deadline = time.monotonic() + 120
    while not os.path.exists(os.path.join(directory, "go")) and time.monotonic() < deadline:
        time.sleep(0.01)
    state = next(iter(flow.run(refresh=os.environ.get("REFRESH") or None).result.values()))
    print(json.dumps({"state": type(state).__name__, "code": state.code, "value": state.result,
                      "message": state.message}))
""")


def start(directory: Path, script: Path, **env: str) -> subprocess.Popen[str]:
    return subprocess.Popen([sys.executable, str(script), str(directory)], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, env={**os.environ, **env})


def wait_for(path_glob: str, directory: Path, count: int = 1, seconds: float = 120) -> list[Path]:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        found = sorted(directory.glob(path_glob))
        if len(found) >= count:
            return found
        time.sleep(0.02)
    raise AssertionError(f"{count} x {path_glob} never appeared in {directory}")


def wait_for_line(path: Path, text: str, seconds: float = 120) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if path.exists() and text in path.read_text():
            return
        time.sleep(0.02)
    raise AssertionError(f"{text!r} never appeared in {path}")


def outcome(process: subprocess.Popen[str]) -> dict[str, Any]:
    out, err = process.communicate(timeout=180)
    assert process.returncode == 0, err
    return json.loads(out.strip().splitlines()[-1])  # type: ignore[no-any-return]


def runs(directory: Path) -> list[str]:
    count = directory / "count"
    return count.read_text().split() if count.exists() else []


@pytest.fixture
def script(tmp_path: Path) -> Path:
    path = tmp_path / "holder.py"
    path.write_text(HOLDER)
    return path


@pytest.fixture
def store(tmp_path: Path) -> Path:
    path = tmp_path / "store"
    path.mkdir()
    return path


# -- settings ---------------------------------------------------------------------------------------------------


def test_lease_takes_seconds_or_timedeltas() -> None:
    assert Lease(ttl=timedelta(minutes=2), wait=5, poll=0.25) == Lease(ttl=120.0, wait=5.0, poll=0.25)


@pytest.mark.parametrize("bad", [0, -1, "1", True, float("inf"), float("nan")])
def test_a_lease_setting_that_is_not_a_positive_duration_is_refused_naming_it(bad: Any) -> None:
    with pytest.raises(ArgumentTypeError, match="Lease: poll"):
        Lease(poll=bad)


def test_lease_true_means_the_default_settings_and_false_or_none_mean_off(tmp_path: Path) -> None:
    assert LocalResult(tmp_path, lease=True).lease == Lease()
    assert LocalResult(tmp_path).lease is None
    assert Flow("f", lease=Lease(wait=3)).lease == Lease(wait=3)


def test_a_lease_on_a_result_that_cannot_take_one_is_refused_at_once() -> None:
    with pytest.raises(ConfigurationError, match="MemoryResult cannot take leases"):
        MemoryResult(lease=True)


def test_lease_must_be_a_bool_or_a_lease(tmp_path: Path) -> None:
    with pytest.raises(ArgumentTypeError, match="lease"):
        LocalResult(tmp_path, lease="yes")


# -- processes --------------------------------------------------------------------------------------------------


def test_four_processes_needing_one_target_run_its_task_once_and_all_get_its_value(store: Path, script: Path) -> None:
    processes = [start(store, script) for _ in range(4)]
    try:
        wait_for("ready-*", store, 4)
        (store / "go").touch()
        outcomes = [outcome(process) for process in processes]
    finally:
        for process in processes:
            process.kill()
            process.wait()
    assert len(runs(store)) == 1
    assert [o["value"] for o in outcomes] == [42] * 4
    assert sorted((o["state"], o["code"]) for o in outcomes)[-1] == ("Success", "missing")
    assert {o["code"] for o in outcomes if o["state"] == "Cached"} <= {"made-elsewhere", "exists"}


def test_two_runs_refreshing_one_target_run_its_task_once_and_both_get_the_new_value(
    store: Path, script: Path
) -> None:
    first = start(store, script, BODY_SECONDS="0", VALUE="41")
    (store / "go").touch()
    assert outcome(first)["value"] == 41
    (store / "go").unlink()
    refreshing = [start(store, script, BODY_SECONDS="3", REFRESH="answer") for _ in range(2)]
    try:
        wait_for("ready-*", store, 3)
        (store / "go").touch()
        outcomes = [outcome(process) for process in refreshing]
    finally:
        for process in refreshing:
            process.kill()
            process.wait()
    assert len(runs(store)) == 2  # the first run, then one refresh
    assert sorted((o["state"], o["code"], o["value"]) for o in outcomes) == [
        ("Cached", "made-elsewhere", 42), ("Success", "refresh", 42)
    ]


def test_a_refresh_after_another_refresh_has_finished_runs_again(store: Path, script: Path) -> None:
    (store / "go").touch()
    for value in ("41", "42", "43"):
        assert outcome(start(store, script, BODY_SECONDS="0", VALUE=value, REFRESH="answer"))["value"] == int(value)
    assert len(runs(store)) == 3


def test_a_run_waiting_on_a_lease_ends_cached_made_elsewhere_with_the_holders_value(store: Path, script: Path) -> None:
    holder = start(store, script, UNTIL="release")
    (store / "go").touch()
    wait_for("started-*", store)
    waiter = start(store, script)
    try:
        wait_for_line(store / f"log-{waiter.pid}", "is being made by another run")  # the waiter waits on the lease
    finally:
        (store / "release").touch()
    assert outcome(holder)["code"] == "missing"
    waited = outcome(waiter)
    assert (waited["state"], waited["code"], waited["value"]) == ("Cached", "made-elsewhere", 42)


def test_when_the_holder_is_killed_a_waiting_run_takes_the_lease_and_makes_the_target(
    store: Path, script: Path
) -> None:
    holder = start(store, script, BODY_SECONDS="600")
    (store / "go").touch()
    try:
        wait_for("started-*", store)
        waiter = start(store, script, BODY_SECONDS="0")
        wait_for("ready-*", store, 2)
        time.sleep(0.5)  # the waiter is polling the held lease
        holder.send_signal(signal.SIGKILL)
        took_over = outcome(waiter)
    finally:
        holder.kill()
        holder.wait()
    assert (took_over["state"], took_over["value"]) == ("Success", 42)
    assert len(runs(store)) == 2


def test_a_wait_that_runs_out_fails_the_task_naming_who_holds_the_lease(store: Path, script: Path) -> None:
    holder = start(store, script, BODY_SECONDS="600")
    (store / "go").touch()
    try:
        wait_for("started-*", store)
        waiter = start(store, script, LEASE_WAIT="0.3")
        failed = outcome(waiter)
    finally:
        holder.kill()
        holder.wait()
    assert (failed["state"], failed["code"]) == ("Failed", "leased")
    assert f"pid {holder.pid} " in failed["message"] and "Lease(wait=" in failed["message"]
    assert len(runs(store)) == 1


def test_the_plan_says_a_target_is_leased_naming_the_holder_and_since_when(store: Path, script: Path) -> None:
    holder = start(store, script, BODY_SECONDS="600")
    (store / "go").touch()
    try:
        wait_for("started-*", store)

        @task(target="answer.pkl", result=LocalResult(store, lease=True))
        def answer() -> int:
            return 42

        with Flow("once") as flow:
            answer()
        step = flow.plan()["answer"]
    finally:
        holder.kill()
        holder.wait()
    assert (step.action, step.code) == ("run", "leased")
    assert step.holder is not None and step.holder.pid == holder.pid
    assert step.to_dict()["holder"]["since"] == step.holder.since
    assert f"pid {holder.pid}" in step.reason


def test_a_killed_holder_leaves_no_lease_held(store: Path, script: Path) -> None:
    holder = start(store, script, BODY_SECONDS="600")
    (store / "go").touch()
    wait_for("started-*", store)
    result = LocalResult(store)
    assert result.lease_holder("answer.pkl") is not None
    holder.send_signal(signal.SIGKILL)
    holder.wait()
    assert result.lease_holder("answer.pkl") is None


# -- in one process ---------------------------------------------------------------------------------------------


def test_the_lease_is_released_and_its_file_removed_when_the_output_is_written(store: Path) -> None:
    @task(target="out.pkl", result=LocalResult(store, lease=True))
    def out() -> int:
        assert LocalResult(store).lease_holder("out.pkl") is not None  # held while the task runs
        return 1

    with Flow("f") as flow:
        out()
    assert flow.run().is_successful()
    assert sorted(p.name for p in store.iterdir()) == ["out.pkl"] and trailer_json(store / "out.pkl") is not None


def test_the_lease_is_released_when_the_task_fails(store: Path) -> None:
    @task(target="out.pkl", result=LocalResult(store, lease=True))
    def out() -> int:
        raise RuntimeError("broken")

    with Flow("f") as flow:
        out()
    assert flow.run().is_failed()
    assert LocalResult(store).lease_holder("out.pkl") is None
    assert list(store.iterdir()) == []


def test_a_lease_taken_by_another_holder_in_this_process_is_held(store: Path) -> None:
    result = LocalResult(store)
    held = result.take_lease("x.pkl", Holder.new("first"))
    try:
        other = result.take_lease("x.pkl", Holder.new("second"))
        assert isinstance(other, Holder) and other.task == "first"
    finally:
        held.release()
    assert not isinstance(result.take_lease("x.pkl", Holder.new("third")), Holder)


def test_result_lease_false_runs_without_waiting_even_when_the_flow_leases(store: Path) -> None:
    held = LocalResult(store).take_lease("out.pkl", Holder.new("elsewhere"))
    try:
        @task(target="out.pkl", result=LocalResult(store, lease=False))
        def out() -> int:
            return 1

        with Flow("f", lease=Lease(wait=0.1, poll=0.05)) as flow:
            out()
        assert flow.run().is_successful()
    finally:
        held.release()


def test_a_flow_lease_applies_to_its_tasks(store: Path) -> None:
    held = LocalResult(store).take_lease("out.pkl", Holder.new("elsewhere"))
    try:
        @task(target="out.pkl", result=LocalResult(store))
        def out() -> int:
            return 1

        with Flow("f", lease=Lease(wait=0.1, poll=0.05)) as flow:
            out()
        state = next(iter(flow.run(refresh=os.environ.get("REFRESH") or None).result.values()))
    finally:
        held.release()
    assert isinstance(state, Failed) and state.code == "leased" and "task 'elsewhere'" in state.message


def test_a_symbolic_link_planted_as_the_lease_file_is_refused(store: Path, tmp_path: Path) -> None:
    (store / "out.pkl.lease").symlink_to(tmp_path / "elsewhere")

    @task(target="out.pkl", result=LocalResult(store, lease=True))
    def out() -> int:
        return 1

    with Flow("f") as flow:
        out()
    state = next(iter(flow.run(refresh=os.environ.get("REFRESH") or None).result.values()))
    assert isinstance(state, Failed) and "symbolic link" in state.message
    assert not (tmp_path / "elsewhere").exists()


# -- executors --------------------------------------------------------------------------------------------------

@task
def counted(x: int, directory: str) -> int:
    with open(os.path.join(directory, "count"), "a") as f:
        f.write(f"{os.getpid()}\n")
    time.sleep(1)
    return x * x


def children(state: State) -> list[State]:
    (mapped,) = [s for s in state.result.values() if s.map_states is not None]  # type: ignore[union-attr]
    return mapped.map_states  # type: ignore[no-any-return]


def run_mapped(store: Path, executor: Any, n: int) -> list[State]:
    square = counted.copy()
    square.target = "{x}.pkl"
    with Flow("mapped", result=LocalResult(store), lease=Lease(poll=0.05)) as flow:
        square.map(x=[3] * n, directory=unmapped(str(store)))
    return children(flow.run(executor=executor))


@pytest.mark.parametrize("executor", [LocalExecutor, lambda: ThreadExecutor(max_workers=4)], ids=["local", "thread"])
def test_mapped_children_sharing_a_target_run_it_once(store: Path, executor: Any) -> None:
    states = run_mapped(store, executor(), 4)
    assert [s.result for s in states] == [9] * 4
    assert len(runs(store)) == 1


@pytest.mark.slow
def test_two_dask_workers_mapped_over_one_target_run_it_once(store: Path, dask_address: str) -> None:
    from compat import DaskExecutor

    states = run_mapped(store, DaskExecutor(address=dask_address), 2)
    assert [s.result for s in states] == [9, 9]
    assert len(runs(store)) == 1
    assert len(set(runs(store))) == 1
