"""DaskExecutor on a real dask.distributed cluster (worker processes; see tests/fixtures/dask_cluster.py)."""

from __future__ import annotations

import logging
import os
import socket
import subprocess
import sys
import textwrap
import threading
import time
import tracemalloc
from pathlib import Path
from typing import Any

import pytest

from compat import ArgumentTypeError, DaskExecutor, Failed, Flow, FlowError, LocalResult, MissingDependency, Parameter, S3Result, Success, task
from compat.engine import unmapped
from compat.engine.states import State
from tests.records import trailer_json

pytestmark = pytest.mark.slow

REPO = Path(__file__).resolve().parents[2]


@task
def pid() -> int:
    return os.getpid()


@task
def inc(x: int) -> int:
    return x + 1


@task
def add(x: int, y: int) -> int:
    return x + y


@task
def total(xs: list[int]) -> int:
    return sum(xs)


@task
def repeat(x: int, times: int) -> list[int]:
    return [x] * times


def summary(state: State) -> list[tuple[str, str, str]]:
    assert isinstance(state.result, dict)
    return sorted((task.name, type(s).__name__, s.message) for task, s in state.result.items())


def test_task_runs_execute_in_the_worker_processes_not_the_callers(dask_address: str) -> None:
    from distributed import Client

    with Flow("f") as flow:
        nodes = [pid() for _ in range(4)]
    states = flow.run(executor=DaskExecutor(address=dask_address)).result
    with Client(dask_address, timeout=10) as client:
        workers = set(client.run(os.getpid).values())
    pids = {states[node].result for node in nodes}
    assert os.getpid() not in pids
    assert pids <= workers


@task
def nap(i: int) -> tuple[int, float, float]:
    start = time.time()
    time.sleep(0.5)
    return os.getpid(), start, time.time()


def test_independent_tasks_run_at_the_same_time_on_both_workers(dask_address: str) -> None:
    with Flow("naps") as flow:
        nodes = [nap(i) for i in range(8)]
    started = time.perf_counter()
    states = flow.run(executor=DaskExecutor(address=dask_address)).result
    elapsed = time.perf_counter() - started
    runs = sorted(states[node].result for node in nodes)
    assert len({pid for pid, _, _ in runs}) == 2
    overlapping = [(a, b) for a in runs for b in runs if a[0] != b[0] and a[1] < b[2] and b[1] < a[2]]
    assert overlapping, f"no two naps overlapped in {elapsed:.2f}s (8 x 0.5 s serially is 4 s)"


def test_a_task_mapped_over_1000_elements_gives_every_result_in_order(dask_address: str) -> None:
    with Flow("wide") as flow:
        doubled = inc.map(range(1000))
        summed = total(doubled)
    state = flow.run(executor=DaskExecutor(address=dask_address))
    assert state.is_successful(), state.message
    assert state.result[summed].result == sum(range(1, 1001))
    assert len(state.result[doubled].map_states or []) == 1000


@task
def hand_out(x: int) -> list[int]:
    return list(range(x))


def test_mapping_over_an_upstream_output_and_over_a_mapped_task_works_on_the_workers(dask_address: str) -> None:
    with Flow("chain") as flow:
        x = Parameter("x", default=3)
        first = inc.map(hand_out(x))
        second = add.map(first, y=unmapped(inc(x)))
    states = flow.run(executor=DaskExecutor(address=dask_address)).result
    assert states[second].result == [5, 6, 7]
    assert states[first].result == [None, None, None]  # an intermediate value stays on the cluster


def test_an_intermediate_state_carries_its_message_and_location_but_not_its_value(
    dask_address: str, tmp_path: Path
) -> None:
    with Flow("f", result=LocalResult(dir=tmp_path, location="{task_name}-{x}.pkl")) as flow:
        first = inc(1)
        last = inc(first)
    states = flow.run(executor=DaskExecutor(address=dask_address)).result
    stored = str(tmp_path / "inc-1.pkl")
    assert (type(states[first]), states[first].message) == (Success, f"ran and stored its output at {stored!r}")
    assert (states[first].location, states[first].result) == (stored, None)
    assert states[last].result == 3


@task(max_retries=2)
def flaky(marker: str) -> str:
    path = Path(marker)
    if not path.exists():
        path.write_text("failed once")
        raise ConnectionError("first attempt fails")
    return "second attempt"


@task
def divide(x: int) -> float:
    return 1 / x


@task(validators=[lambda value: value > 10])
def small(x: int) -> int:
    return x


def outcomes_flow(where: Path) -> Flow:
    where.mkdir()
    with Flow("outcomes", result=LocalResult(dir=where, location="{task_full_name}.pkl")) as flow:
        zero = Parameter("zero", default=0)
        broken = divide(zero)
        inc(broken)
        rejected = small(zero)
        total(repeat(rejected, 2))
        flaky(str(where / "marker"))
        divide.map([1, 0, 2])
    return flow


def test_failures_validation_failures_trigger_failures_and_retries_end_as_on_the_local_executor(
    dask_address: str, tmp_path: Path
) -> None:
    local = outcomes_flow(tmp_path / "local").run()
    on_dask = outcomes_flow(tmp_path / "dask").run(executor=DaskExecutor(address=dask_address))
    assert [(n, k, m.replace(str(tmp_path / "dask"), "<dir>")) for n, k, m in summary(on_dask)] == [
        (n, k, m.replace(str(tmp_path / "local"), "<dir>")) for n, k, m in summary(local)
    ]
    assert on_dask.message == local.message == "6 of 8 tasks failed: 'divide' (Failed), 'inc' (TriggerFailed), " \
        "'small' (ValidationFailed), 'repeat' (TriggerFailed), 'total' (TriggerFailed) and 1 more; first, 'divide': " \
        "raised ZeroDivisionError: division by zero"
    retried = next(s for t, s in on_dask.result.items() if t.name == "flaky")
    assert retried.result == "second attempt"


@task(target="{flow_name}/{day}/inc-{map_index}.pkl")
def stored_inc(x: int, day: str) -> int:
    return x + 1


def target_flow(result: Any) -> Flow:
    with Flow("targets", result=result) as flow:
        stored_inc.map(hand_out(3), day=unmapped(Parameter("day", default="2026-11-30")))
    return flow


RERUN = textwrap.dedent(
    """
    import json, sys
    from compat import DaskExecutor, LocalResult, S3Result
    from tests.engine.test_dask import target_flow
    kind, where, address = sys.argv[1:4]
    result = LocalResult(dir=where) if kind == "local" else S3Result(bucket=where, boto3_kwargs=json.loads(sys.argv[4]))
    state = target_flow(result).run(executor=DaskExecutor(address=address))
    print(json.dumps({t.name: [type(s).__name__ for s in (state.result[t].map_states or [state.result[t]])]
                      for t in state.result}))
    """
)


def rerun_in_a_fresh_process(*args: str) -> dict[str, list[str]]:
    import json

    proc = subprocess.run([sys.executable, "-c", RERUN, *args], capture_output=True, text=True, cwd=REPO, timeout=120)
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout.splitlines()[-1])  # type: ignore[no-any-return]


def test_targets_on_local_result_written_by_workers_are_cached_on_a_rerun_in_a_fresh_process(
    dask_address: str, tmp_path: Path
) -> None:
    first = target_flow(LocalResult(dir=tmp_path)).run(executor=DaskExecutor(address=dask_address))
    assert first.is_successful(), first.message
    stored = tmp_path / "targets" / "2026-11-30"
    assert sorted(p.name for p in stored.iterdir()) == [f"inc-{i}.pkl" for i in range(3)]
    assert [trailer_json(stored / f"inc-{i}.pkl") is not None for i in range(3)] == [True] * 3  # kept with each output
    again = rerun_in_a_fresh_process("local", str(tmp_path), dask_address)
    assert again["stored_inc"] == ["Cached", "Cached", "Cached"]


def test_targets_on_s3_result_written_by_workers_are_cached_on_a_rerun_in_a_fresh_process(
    dask_address: str, s3_bucket: str, s3_boto3_kwargs: dict[str, Any], s3_client: Any
) -> None:
    import json

    first = target_flow(S3Result(bucket=s3_bucket, boto3_kwargs=s3_boto3_kwargs)).run(
        executor=DaskExecutor(address=dask_address)
    )
    assert first.is_successful(), first.message
    keys = sorted(o["Key"] for o in s3_client.list_objects_v2(Bucket=s3_bucket)["Contents"])
    assert [k for k in keys if "/inc-" in k] == [
        f"targets/2026-11-30/inc-{i}.pkl{suffix}" for i in range(3) for suffix in ("", ".record.json")
    ]
    again = rerun_in_a_fresh_process("s3", s3_bucket, dask_address, json.dumps(s3_boto3_kwargs))
    assert again["stored_inc"] == ["Cached", "Cached", "Cached"]


def test_an_external_cluster_keeps_running_after_the_run(dask_address: str) -> None:
    from distributed import Client

    with Flow("f") as flow:
        node = inc(1)
    executor = DaskExecutor(address=dask_address)
    assert flow.run(executor=executor).result[node].result == 2
    assert flow.run(executor=executor).result[node].result == 2  # an executor serves run after run
    with Client(dask_address, timeout=10) as client:
        assert client.submit(sum, [1, 2]).result(timeout=30) == 3


def test_without_an_address_a_temporary_cluster_is_started_for_the_run_and_closed_after_it() -> None:
    from distributed import LocalCluster

    started: list[LocalCluster] = []

    class Recorded(LocalCluster):  # type: ignore[misc]
        def __init__(self, **kwargs: Any) -> None:
            super().__init__(**kwargs)
            started.append(self)

    with Flow("f") as flow:
        node = inc(1)
    executor = DaskExecutor(
        cluster_class=Recorded, cluster_kwargs={"n_workers": 1, "processes": False, "dashboard_address": "127.0.0.1:0"}
    )
    assert flow.run(executor=executor).result[node].result == 2
    assert len(started) == 1 and started[0].status.name == "closed"


@task
def make_lock() -> Any:
    return threading.Lock()


def test_an_output_that_cannot_be_pickled_fails_its_task_naming_it(dask_address: str) -> None:
    with Flow("f") as flow:
        node = make_lock()
        after = inc(node)
    states = flow.run(executor=DaskExecutor(address=dask_address)).result
    assert isinstance(states[node], Failed)
    assert states[node].message.startswith("ran, but its output <unlocked _thread.lock object")
    assert "cannot pickle '_thread.lock' object" in states[node].message
    assert "cannot leave the worker that computed it" in states[node].message
    assert type(states[after]).__name__ == "TriggerFailed"


def test_an_input_that_cannot_be_pickled_fails_its_task_naming_the_input(dask_address: str) -> None:
    @task
    def use(lock: Any) -> bool:
        return lock.locked()  # type: ignore[no-any-return]

    with Flow("f") as flow:
        node = use(threading.Lock())
    state = flow.run(executor=DaskExecutor(address=dask_address)).result[node]
    assert isinstance(state, Failed)
    assert state.message.startswith("cannot send this task run to the dask workers: its input 'lock' (<unlocked ")
    assert "cannot pickle '_thread.lock' object" in state.message


def test_a_flow_parameter_that_cannot_be_pickled_fails_the_task_runs_naming_it(dask_address: str) -> None:
    with Flow("f") as flow:
        lock = Parameter("lock")
        node = inc(1)
    state = flow.run(parameters={"lock": threading.Lock()}, executor=DaskExecutor(address=dask_address)).result[node]
    assert isinstance(state, Failed)
    assert state.message.startswith("cannot send this task run to the dask workers: the flow parameter 'lock' (<unlo")
    assert "cannot pickle '_thread.lock' object" in state.message


@task
def leave(x: int) -> None:
    sys.exit(3)


@task
def interrupt(x: int) -> None:
    raise KeyboardInterrupt("pressed")


@pytest.mark.parametrize(
    ("raiser", "message"),
    [(leave, "the task run was interrupted: SystemExit: 3"),
     (interrupt, "the task run was interrupted: KeyboardInterrupt: pressed")],
    ids=["SystemExit", "KeyboardInterrupt"],
)
def test_a_task_raising_system_exit_or_a_keyboard_interrupt_ends_failed_as_on_the_other_executors_and_no_worker_dies(
    dask_address: str, raiser: Any, message: str
) -> None:
    from distributed import Client

    with Client(dask_address, timeout=10) as client:
        before = client.run(os.getpid)
    with Flow("f") as flow:
        node = raiser(1)
        after = inc(node)
        other = inc(1)
    states = flow.run(executor=DaskExecutor(address=dask_address)).result
    assert isinstance(states[node], Failed)
    assert states[node].message == message
    assert type(states[after]).__name__ == "TriggerFailed"
    assert states[other].result == 2
    with Client(dask_address, timeout=10) as client:
        assert client.run(os.getpid) == before  # the same worker processes, at the same addresses


@task
def die_once(marker: str) -> int:
    path = Path(marker)
    if not path.exists():
        path.write_text(str(os.getpid()))
        os._exit(1)  # the worker process dies mid-task
    return os.getpid()


@task
def die(x: int) -> int:
    os._exit(1)


def test_a_task_whose_worker_dies_is_run_again_by_dask_on_another_worker(dask_address: str, tmp_path: Path) -> None:
    with Flow("f") as flow:
        node = die_once(str(tmp_path / "died"))
    state = flow.run(executor=DaskExecutor(address=dask_address)).result[node]
    assert isinstance(state, Success), state.message
    assert state.result != int((tmp_path / "died").read_text())  # the first worker died; another one ran it


def test_a_task_that_kills_every_worker_it_runs_on_fails_saying_a_worker_was_lost(dask_address: str) -> None:
    with Flow("f") as flow:
        node = die(1)
        after = inc(node)
    states = flow.run(executor=DaskExecutor(address=dask_address)).result
    assert isinstance(states[node], Failed)
    assert states[node].message.startswith("a dask worker was lost while running this task")
    assert type(states[after]).__name__ == "TriggerFailed"


@task
def sleep(seconds: float) -> float:
    time.sleep(seconds)
    return seconds


def test_losing_the_scheduler_mid_run_fails_the_unfinished_task_runs_saying_so() -> None:
    from distributed import LocalCluster

    cluster = LocalCluster(n_workers=1, threads_per_worker=1, processes=False, dashboard_address="127.0.0.1:0")
    with Flow("f") as flow:
        node = sleep(3)

    def close_once_the_task_runs() -> None:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and not any(
            ts.state == "processing" for ts in list(cluster.scheduler.tasks.values())
        ):
            time.sleep(0.05)
        cluster.close()

    closer = threading.Thread(target=close_once_the_task_runs)
    closer.start()
    try:
        state = flow.run(executor=DaskExecutor(address=cluster.scheduler_address))
    finally:
        closer.join()
        cluster.close()
    assert isinstance(state, Failed)
    assert state.result[node].message.startswith(
        f"lost the connection to the dask scheduler at {cluster.scheduler_address}, so this task run did not finish"
    )


@task
def downstream(seconds: float) -> float:
    return seconds


def test_a_downstream_task_is_on_the_cluster_before_its_upstream_task_finishes(dask_address: str) -> None:
    from distributed import Client

    with Flow("f") as flow:
        node = downstream(sleep(1.5))
    result: list[State] = []
    runner = threading.Thread(target=lambda: result.append(flow.run(executor=DaskExecutor(address=dask_address))))
    seen: set[str] = set()
    with Client(dask_address, timeout=10) as client:
        runner.start()
        while runner.is_alive() and not ("sleep" in seen and "downstream" in seen):
            keys = client.run_on_scheduler(lambda dask_scheduler: [str(k) for k in dask_scheduler.tasks])
            seen = {key.split("-")[0] for key in keys}
            time.sleep(0.05)
        runner.join()
    assert {"sleep", "downstream"} <= seen  # both submitted while sleep ran: no round trip to the caller between
    assert result[0].result[node].result == 1.5


@task
def write_later(path: str) -> None:
    time.sleep(0.5)
    Path(path).write_text("written")


@task
def read(path: str) -> str:
    return Path(path).read_text()


def test_an_ordering_only_edge_is_kept_on_the_cluster(dask_address: str, tmp_path: Path) -> None:
    marker = str(tmp_path / "marker")
    with Flow("f") as flow:
        first = write_later(marker)
        second = read(marker)
        flow.add_edge(first, second)
    assert flow.run(executor=DaskExecutor(address=dask_address)).result[second].result == "written"


UNPICKLING_FAILS_HERE = False  # set in the caller by the test below; False in the workers, which import this anew


class OnlyOnWorkers:
    def __setstate__(self, state: dict[str, Any]) -> None:
        if UNPICKLING_FAILS_HERE:
            raise RuntimeError("this object cannot be rebuilt in the caller")
        self.__dict__.update(state)


@task
def only_on_workers() -> OnlyOnWorkers:
    value = OnlyOnWorkers()
    value.x = 1  # type: ignore[attr-defined]
    return value


def test_a_value_that_cannot_be_brought_back_fails_its_task_and_not_the_others(
    dask_address: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sys.modules[__name__], "UNPICKLING_FAILS_HERE", True)
    with Flow("f") as flow:
        stuck = only_on_workers()
        fine = inc(1)
    states = flow.run(executor=DaskExecutor(address=dask_address)).result
    assert isinstance(states[stuck], Failed)
    assert states[stuck].message == ("finished on the cluster, but its State could not be brought back here: "
                                     "RuntimeError: this object cannot be rebuilt in the caller")
    assert states[fine].result == 2


@task
def big() -> bytes:
    return bytes(200 * 1024 * 1024)


@task
def size(data: bytes) -> int:
    return len(data)


def test_a_200_mb_intermediate_value_goes_worker_to_worker_not_through_the_caller(dask_address: str) -> None:
    with Flow("big") as flow:
        measured = size(big())
    tracemalloc.start()
    try:
        state = flow.run(executor=DaskExecutor(address=dask_address))
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert state.result[measured].result == 200 * 1024 * 1024
    assert peak < 20 * 1024 * 1024, f"the caller's peak rose by {peak / 2**20:.1f} MiB for a 200 MiB intermediate"


@pytest.mark.filterwarnings("ignore:Sending large graph:UserWarning")  # dask's note about the one 20 MiB context
def test_a_large_parameter_goes_to_the_cluster_once_not_with_every_task_run(dask_address: str) -> None:
    with Flow("param") as flow:
        data = Parameter("data", default=bytes(20 * 1024 * 1024))
        sizes = [size(data) for _ in range(10)]
    tracemalloc.start()
    try:
        state = flow.run(executor=DaskExecutor(address=dask_address))
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert [state.result[node].result for node in sizes] == [20 * 1024 * 1024] * 10
    # measured: ~100-125 MiB (dask copies the one 20 MiB context a few times while sending it; the in-process
    # scheduler holds it); a copy in every task run's bytes made it 380 MiB
    assert peak < 10 * 20 * 1024 * 1024, f"the caller's peak rose by {peak / 2**20:.0f} MiB: a copy per task run?"


def test_log_lines_of_task_runs_on_workers_reach_the_callers_logging(
    dask_address: str, caplog: pytest.LogCaptureFixture
) -> None:
    with Flow("f") as flow:
        inc(1)
    with caplog.at_level(logging.INFO, logger="compat"):
        flow.run(executor=DaskExecutor(address=dask_address))
    lines = [(r.process, r.getMessage()) for r in caplog.records if r.getMessage().startswith("Task 'inc'")]
    assert [message for _, message in lines] == [
        "Task 'inc': Running: no target or location template, so there is no stored output to look up",
        "Task 'inc': Success: ran; no Result is configured, so the output is kept in memory only",
    ]
    assert all(process != os.getpid() for process, _ in lines)


def test_a_scheduler_that_does_not_answer_is_a_flow_error_naming_its_address() -> None:
    with socket.socket() as probe:  # a port of 127.0.0.1 nobody listens on
        probe.bind(("127.0.0.1", 0))
        address = f"tcp://127.0.0.1:{probe.getsockname()[1]}"
    with Flow("f") as flow:
        inc(1)
    with pytest.raises(FlowError, match=f"cannot connect to the dask scheduler at '{address}'"):
        flow.run(executor=DaskExecutor(address=address, client_kwargs={"timeout": 1}))


def test_a_cluster_class_given_by_its_dotted_path_starts_the_temporary_cluster() -> None:
    with Flow("f") as flow:
        node = inc(1)
    executor = DaskExecutor(
        cluster_class="distributed.LocalCluster",
        cluster_kwargs={"n_workers": 1, "processes": False, "dashboard_address": "127.0.0.1:0"},
    )
    assert flow.run(executor=executor).result[node].result == 2


def test_a_cluster_class_path_that_cannot_be_imported_is_refused_when_the_executor_is_made() -> None:
    with pytest.raises(ValueError, match="cluster_class 'dask_nowhere.Cluster' cannot be imported"):
        DaskExecutor(cluster_class="dask_nowhere.Cluster")


@pytest.mark.parametrize(
    ("argument", "expected"),
    [
        ("cluster_kwargs", "a mapping of keyword arguments (a dict such as {'n_workers': 2}), or None"),
        ("client_kwargs", "a mapping of keyword arguments (a dict such as {'n_workers': 2}), or None"),
        ("address", "a scheduler address str such as 'tcp://10.0.0.5:8786', or None"),
        ("cluster_class", "a cluster class, its dotted path (such as 'distributed.LocalCluster'), or None"),
    ],
)
def test_an_argument_of_the_wrong_type_is_refused_when_the_executor_is_made(argument: str, expected: str) -> None:
    with pytest.raises(ArgumentTypeError) as raised:
        DaskExecutor(**{argument: 5})
    assert str(raised.value) == f"DaskExecutor: {argument} must be {expected}, not int (5)"


def test_address_and_a_cluster_class_together_are_refused() -> None:
    with pytest.raises(ValueError, match="give one or the other"):
        DaskExecutor(address="tcp://127.0.0.1:1", cluster_class="distributed.LocalCluster")


def test_without_the_dask_extra_a_dask_executor_says_what_to_install() -> None:
    code = (
        "import sys; sys.modules['distributed'] = None\n"
        "import compat\n"
        "try:\n    compat.DaskExecutor()\n"
        "except compat.MissingDependency as exc:\n    print(exc)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == (
        "DaskExecutor needs the 'distributed' package, which is not installed; "
        "install it with: pip install 'results-compat[dask]'"
    )
    assert issubclass(MissingDependency, ImportError)


def test_a_cluster_of_threads_in_the_callers_process_logs_each_line_once(caplog: pytest.LogCaptureFixture) -> None:
    with Flow("f") as flow:
        inc(1)
    executor = DaskExecutor(cluster_kwargs={"n_workers": 1, "processes": False, "dashboard_address": "127.0.0.1:0"})
    with caplog.at_level(logging.INFO, logger="compat"):
        flow.run(executor=executor)
    lines = [r.getMessage() for r in caplog.records if r.getMessage().startswith("Task 'inc': Success")]
    assert len(lines) == 1


def test_independent_tasks_reach_the_scheduler_in_one_request(
    dask_address: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    from distributed import Client

    from compat.engine import dask_worker

    sent: list[int] = []  # the number of task runs in each request that sent some
    for method in ("submit", "map"):
        real = getattr(Client, method)

        def spy(self: Any, fn: Any, *args: Any, _real: Any = real, _method: str = method, **kwargs: Any) -> Any:
            if fn is dask_worker.run:
                sent.append(len(args[0]) if _method == "map" else 1)
            return _real(self, fn, *args, **kwargs)

        monkeypatch.setattr(Client, method, spy)
    with Flow("independent") as flow:
        for i in range(20):
            inc(i)
    state = flow.run(executor=DaskExecutor(address=dask_address))
    assert state.is_successful() and sorted(s.result for s in state.result.values()) == list(range(1, 21))
    assert sent == [20]


def test_a_task_function_is_pickled_once_per_run_and_unpickled_once_per_worker() -> None:
    from compat.engine.context import flow_run_context
    from compat.engine.dask_worker import _SharingUnpickler, dumps
    from compat.engine.unit import TaskUnit

    step = task(lambda x: x + 1, name="step")  # a lambda: cloudpickle sends it by value
    with Flow("steps") as flow:
        for i in range(3):
            step(i)
    context = flow_run_context("steps", {})
    pickled: dict[int, Any] = {}
    blobs = [dumps(TaskUnit(t, dict(call.constants), (), (), None, context, None), {}, pickled)
             for t, call in flow.calls.items()]
    units = [_SharingUnpickler(blob, None).load() for blob in blobs]
    assert [unit().result for unit in units] == [1, 2, 3]
    assert units[0].task.fn is units[1].task.fn is units[2].task.fn


def test_the_host_name_is_looked_up_once_per_process(monkeypatch: pytest.MonkeyPatch) -> None:
    from compat.engine import dask_worker

    looked_up: list[str] = []

    def gethostname() -> str:
        looked_up.append("host")
        return "host"

    monkeypatch.setattr(dask_worker.socket, "gethostname", gethostname)
    monkeypatch.setattr(dask_worker, "_PROCESS", (0, ""), raising=False)
    assert {dask_worker.process() for _ in range(3)} == {f"host:{os.getpid()}"}
    assert looked_up == ["host"]


def test_an_input_only_cloudpickle_can_pickle_still_reaches_the_worker(dask_address: str) -> None:
    import math

    with Flow("module input") as flow:
        root = task(lambda module: module.sqrt(16), name="root")(math)  # a module: Python's pickler refuses it
    state = flow.run(executor=DaskExecutor(address=dask_address))
    assert state.is_successful() and state.result[root].result == 4.0


@task
def warn(x: int) -> int:
    logging.getLogger("compat.tests.dask").warning("a warning from the worker, %d", x)
    return x


def test_workers_send_only_the_log_records_the_callers_loggers_handle(
    dask_address: str, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    from compat.engine import dask_executor

    sent: list[tuple[str, int]] = []  # every record a worker sent to this run's topic
    real = dask_executor._log_event

    def received(event: Any) -> None:
        sent.append((event[1]["msg"], event[1]["level"]))
        real(event)

    monkeypatch.setattr(dask_executor, "_log_event", received)
    with Flow("f") as flow:
        warn(1)
    with caplog.at_level(logging.WARNING, logger="compat"):
        state = flow.run(executor=DaskExecutor(address=dask_address))
    assert state.is_successful()
    assert sent == [("a warning from the worker, 1", logging.WARNING)]


def test_the_level_listened_at_is_the_lowest_of_the_callers_compat_loggers(monkeypatch: pytest.MonkeyPatch) -> None:
    from compat.engine.dask_worker import listened_level

    monkeypatch.setattr(logging.getLogger("compat"), "level", logging.ERROR)
    assert listened_level() == logging.ERROR
    monkeypatch.setattr(logging.getLogger("compat.engine.runner"), "level", logging.INFO)
    assert listened_level() == logging.INFO


def test_the_links_of_a_chain_send_their_summaries_themselves_and_no_summary_task_is_submitted(
    dask_address: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from distributed import Client

    from compat.engine import dask_worker

    asked: list[str] = []  # the summarize tasks submitted
    real = Client.map

    def spy(self: Any, fn: Any, *args: Any, **kwargs: Any) -> Any:
        if fn is dask_worker.summarize:
            asked.extend(kwargs["key"])
        return real(self, fn, *args, **kwargs)

    monkeypatch.setattr(Client, "map", spy)
    with Flow("f", result=LocalResult(dir=tmp_path, location="{task_name}-{x}.pkl")) as flow:
        first = inc(1)
        second = inc(first)
        last = inc(second)
    states = flow.run(executor=DaskExecutor(address=dask_address)).result
    assert asked == []
    assert [(states[t].message, states[t].location, states[t].result) for t in (first, second)] == [
        (f"ran and stored its output at {str(tmp_path / name)!r}", str(tmp_path / name), None)
        for name in ("inc-1.pkl", "inc-2.pkl")
    ]
    assert states[last].result == 4


def test_the_runs_of_a_flow_are_watched_for_their_end_without_a_dask_callback_per_future(
    dask_address: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    from distributed import Future

    from compat.engine import dask_executor

    per_future: list[str] = []
    watched: list[int] = []  # the runs in each batch handed to the client's thread
    real_watch = dask_executor._watch

    def spy(self: Any, fn: Any) -> None:
        per_future.append(self.key)

    async def watch(runs: list[Any]) -> None:
        watched.append(len(runs))
        await real_watch(runs)

    monkeypatch.setattr(Future, "add_done_callback", spy)
    monkeypatch.setattr(dask_executor, "_watch", watch)
    with Flow("chain and fan-out") as flow:
        x = inc(0)
        for _ in range(4):
            x = inc(x)
        for i in range(3):
            add(x, i)
    state = flow.run(executor=DaskExecutor(address=dask_address))
    assert state.is_successful()
    assert per_future == []
    assert watched == [8]


def test_a_plain_value_leaves_the_worker_without_a_pickling_pass_to_check_it(monkeypatch: pytest.MonkeyPatch) -> None:
    import cloudpickle

    from compat.engine.dask_worker import _shippable

    def refuse(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError("pickled to check it")

    monkeypatch.setattr(cloudpickle, "CloudPickler", refuse)
    states = [Success("ran", result=value) for value in (None, True, 3, 2.5, 1j, "text", b"bytes")]
    assert [_shippable(state) for state in states] == states
    assert _shippable(Success("ran", result=[3])).is_failed()  # anything else is still checked


# -- one client from run to run (DaskExecutor(address=...)) ------------------------------------------------------


def _clients_added(observer: Any, since: int) -> list[str]:
    """The clients that connected to the observer's scheduler after its ``since``-th event on the "all" topic,
    the observer's own excepted."""
    events = observer.get_events("all")[since:]
    return [msg["client"] for _, msg in events if msg.get("action") == "add-client" and msg["client"] != observer.id]


def _wait_until_gone(observer: Any, client_id: str) -> bool:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if client_id not in observer.run_on_scheduler(lambda dask_scheduler: list(dask_scheduler.clients)):
            return True
        time.sleep(0.1)
    return False


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_the_runs_of_one_executor_share_one_client_connection(dask_address: str) -> None:
    from distributed import Client

    with Flow("f") as flow:
        node = inc(1)
    executor = DaskExecutor(address=dask_address)
    with Client(dask_address, timeout=10) as observer:
        since = len(observer.get_events("all"))
        assert flow.run(executor=executor).result[node].result == 2
        assert flow.run(executor=executor).result[node].result == 2
        assert len(_clients_added(observer, since)) == 1
    executor.close()


def _client_kept_by_a_run(observer: Any, executor: DaskExecutor) -> str:
    """Run a one-task flow on ``executor``: the id of the one client it connected for that (and keeps)."""
    with Flow("f") as flow:
        inc(1)
    since = len(observer.get_events("all"))
    assert flow.run(executor=executor).is_successful()
    [kept] = _clients_added(observer, since)
    return kept


def test_closing_the_executor_disconnects_the_client_it_kept(dask_address: str) -> None:
    from distributed import Client

    executor = DaskExecutor(address=dask_address)
    with Client(dask_address, timeout=10) as observer:
        kept = _client_kept_by_a_run(observer, executor)
        executor.close()
        assert _wait_until_gone(observer, kept)
        assert _client_kept_by_a_run(observer, executor) != kept  # a later run connects again
    executor.close()


def test_an_executor_nobody_references_disconnects_the_client_it_kept(dask_address: str) -> None:
    import gc

    from distributed import Client

    executor = DaskExecutor(address=dask_address)
    with Client(dask_address, timeout=10) as observer:
        kept = _client_kept_by_a_run(observer, executor)
        del executor
        gc.collect()
        assert _wait_until_gone(observer, kept)


def test_an_executor_whose_value_could_not_come_back_is_garbage_collected(
    dask_address: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    import gc
    import weakref

    monkeypatch.setattr(sys.modules[__name__], "UNPICKLING_FAILS_HERE", True)
    # dask logs the failed unpickling with the exception, and pytest keeps the records it captures
    monkeypatch.setattr(logging.getLogger("distributed.protocol"), "propagate", False)
    with Flow("f") as flow:
        only_on_workers()
    executor = DaskExecutor(address=dask_address)
    state = flow.run(executor=executor)
    assert isinstance(state, Failed)
    gone = weakref.ref(executor)
    del executor, state  # the exception's traceback held the run's frames, and they the executor and its futures
    gc.collect()
    assert gone() is None


def test_a_run_after_the_scheduler_was_restarted_at_its_address_connects_again() -> None:
    from distributed import LocalCluster

    port = _free_port()
    options = {"n_workers": 1, "threads_per_worker": 1, "processes": False, "protocol": "tcp", "scheduler_port": port,
               "host": "127.0.0.1", "dashboard_address": "127.0.0.1:0"}
    with Flow("f") as flow:
        node = inc(1)
    with LocalCluster(**options) as first:
        executor = DaskExecutor(address=first.scheduler_address)
        assert flow.run(executor=executor).result[node].result == 2
    with LocalCluster(**options):
        state = flow.run(executor=executor)
        assert state.is_successful(), state.message
        assert state.result[node].result == 2
        executor.close()


def test_a_run_after_the_scheduler_went_away_is_a_flow_error_naming_its_address() -> None:
    from distributed import LocalCluster

    with Flow("f") as flow:
        node = inc(1)
    with LocalCluster(n_workers=1, processes=False, protocol="tcp", host="127.0.0.1", scheduler_port=0,
                      dashboard_address="127.0.0.1:0") as cluster:
        address = cluster.scheduler_address
        executor = DaskExecutor(address=address, client_kwargs={"timeout": 2})
        assert flow.run(executor=executor).result[node].result == 2
    with pytest.raises(FlowError, match=f"cannot connect to the dask scheduler at '{address}'"):
        flow.run(executor=executor)


def test_a_run_leaves_none_of_its_tasks_on_the_scheduler_of_a_kept_client(dask_address: str) -> None:
    from distributed import Client

    with Flow("f") as flow:
        chained = inc(inc(1))
        inc(chained)
    executor = DaskExecutor(address=dask_address)
    assert flow.run(executor=executor).is_successful()
    with Client(dask_address, timeout=10) as observer:
        deadline = time.monotonic() + 30
        left = ["?"]
        while left and time.monotonic() < deadline:
            left = observer.run_on_scheduler(lambda dask_scheduler: [k for k in dask_scheduler.tasks if "inc-" in str(k)])
            time.sleep(0.1)
    assert left == []
    executor.close()
