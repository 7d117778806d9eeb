"""The Prefect bridge's costs: interpreter start-up with its .pth hook armed vs turned off, and a 1,000-task
Prefect flow whose tasks take ``result_handler=`` vs the same flow written with ``result=``.

Start-up is measured two ways: the wall time of fresh interpreters (``python -c pass``, hook armed and with
``RESULTS_COMPAT_PREFECT=0``, interleaved; a process start is ~20 ms of noise on a shared machine, so this only
shows that nothing large hides there), and the hook's own work, timed in-process: running the .pth line (arming
the finder) and the finder's answer to an import that is not ``prefect`` (paid by every later import).
Targets: start-up no difference beyond noise and the line's cost < 1 ms; the legacy flow <= 1.05x.

Run: .venv/bin/python benchmarks/prefect_bridge.py [--repeats N] [--tasks N]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
import warnings
from pathlib import Path

from timing import median_time

PTH = Path(__file__).resolve().parents[1] / "results_compat_prefect.pth"


def _wall(env: dict[str, str]) -> float:
    start = time.perf_counter()
    subprocess.run([sys.executable, "-c", "pass"], check=True, env=env)
    return time.perf_counter() - start


def startup(repeats: int) -> None:
    on = {k: v for k, v in os.environ.items() if k != "RESULTS_COMPAT_PREFECT"}
    off = {**on, "RESULTS_COMPAT_PREFECT": "0"}
    times: dict[str, list[float]] = {"hook armed": [], "RESULTS_COMPAT_PREFECT=0": []}
    for _ in range(repeats):
        times["hook armed"].append(_wall(on))
        times["RESULTS_COMPAT_PREFECT=0"].append(_wall(off))
    for label, values in times.items():
        fastest, median = min(values) * 1e3, statistics.median(values) * 1e3
        print(f"  python -c pass, {label:<26} fastest {fastest:6.2f} ms  median {median:6.2f} ms")

    line = PTH.read_text().strip()
    saved = list(sys.meta_path)

    def arm() -> None:
        exec(line, {})
        sys.meta_path[:] = saved

    arm_time = median_time(arm, repeats * 20)
    exec(line, {})
    finder = sys.meta_path[0]
    miss = median_time(lambda: finder.find_spec("json", None, None), repeats * 200)
    sys.meta_path[:] = saved
    print(f"  the .pth line (arms the finder):          {arm_time * 1e6:8.1f} us")
    print(f"  the finder, per import that is not prefect: {miss * 1e6:6.2f} us")


def build(tasks: int, legacy: bool, directory: str) -> object:
    """A flow of ``tasks`` independent tasks, each given its own handler (``legacy``) or Result."""
    from prefect import Flow, task
    from prefect.engine.results import LocalResult

    from compat.prefect.handlers import LocalResultHandler

    with Flow(f"{tasks} tasks") as flow:
        for number in range(tasks):
            if legacy:
                keywords = {"result_handler": LocalResultHandler(dir=directory)}
            else:
                keywords = {"result": LocalResult(dir=directory)}
            task(lambda x: x + 1, name=f"inc-{number}", **keywords)(number)
    return flow


def flow_run(tasks: int, legacy: bool, directory: str) -> float:
    import prefect
    from prefect.utilities.configuration import set_temporary_config

    start = time.perf_counter()
    flow = build(tasks, legacy, directory)
    with set_temporary_config({"flows.checkpointing": True, "logging.level": "ERROR"}):
        prefect.utilities.logging.get_logger().setLevel("ERROR")
        state = flow.run()
    assert state.is_successful()
    return time.perf_counter() - start


def flows(tasks: int, repeats: int) -> None:
    import compat.prefect

    warnings.simplefilter("ignore")  # one warning per call site is the default; the cost measured is the bridge's
    import prefect  # noqa: F401  (activates the bridge through the .pth hook)

    assert compat.prefect.is_active(), "the bridge is not active: install the prefect extra"
    with tempfile.TemporaryDirectory() as directory:  # building alone: where the bridge's work is
        built: dict[str, list[float]] = {"result=": [], "result_handler=": []}
        for _ in range(repeats * 3):  # interleaved
            for label in built:
                legacy = label == "result_handler="
                built[label].append(median_time(lambda: build(tasks, legacy, directory), 1))
    for label, values in built.items():
        print(f"  building it, {label:<16}    fastest {min(values):6.3f} s  median {statistics.median(values):6.3f} s")
    ratio = statistics.median(built["result_handler="]) / statistics.median(built["result="])
    print(f"  ratio (median) of building: {ratio:.3f}x")
    times: dict[str, list[float]] = {"result=": [], "result_handler=": []}
    with tempfile.TemporaryDirectory() as directory:
        for _ in range(repeats):  # interleaved, so drift hits both alike
            times["result="].append(flow_run(tasks, False, directory))
            times["result_handler="].append(flow_run(tasks, True, directory))
    medians = {label: statistics.median(values) for label, values in times.items()}
    for label, values in times.items():
        print(f"  {tasks}-task flow, {label:<16} fastest {min(values):6.2f} s  median {medians[label]:6.2f} s")
    print(f"  ratio (median) result_handler= / result=: {medians['result_handler='] / medians['result=']:.3f}x")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--tasks", type=int, default=1000)
    args = parser.parse_args()
    print("load average (1, 5, 15 min) before: " + ", ".join(f"{load:.2f}" for load in os.getloadavg()))
    print("start-up:")
    startup(args.repeats * 4)
    print("flows (build + run, checkpointing to a local directory):")
    flows(args.tasks, args.repeats)


if __name__ == "__main__":
    main()
