"""The engine: tasks and flows that run the PIN 16 pipeline (targets, caching, validation, flow defaults).

A flow with a default Result, a task with a ``target`` (Makefile-like: an existing, valid target is read instead
of running the task) and a validated task::

    import tempfile
    from compat import Flow, LocalResult, Parameter, task

    @task(target="{flow_name}/raw-{day}.pkl")
    def extract(day):
        return [1, 2, 3]

    @task(validators=[lambda total: total > 0])
    def total(rows):
        return sum(rows)

    with Flow("etl", result=LocalResult(dir=tempfile.mkdtemp())) as flow:
        day = Parameter("day", default="2026-11-25")
        rows = extract(day)
        answer = total(rows)

    first = flow.run()
    assert first.result[answer].result == 6
    again = flow.run()                       # the target exists: extract is Cached, not run again
    assert again.result[rows].is_cached()
    assert again.result[rows].message.startswith("target 'etl/raw-2026-11-25.pkl' exists")

Pieces: ``Task`` (override ``run``) and ``@task``; ``Flow`` (``with`` block, ``add_edge``, ``run``, ``plan``);
``Parameter``; ``task.map(...)`` with ``unmapped(...)``; the states in ``compat.engine.states``; executors
``LocalExecutor`` (sequential, the default), ``ThreadExecutor`` and ``DaskExecutor`` (dask.distributed, the
``dask`` extra); ``Plan`` and its ``Step``s (what a run will do: ``compat.engine.plan``). The pipeline of one task
run is in
``compat.engine.runner``, the template context in ``compat.engine.context``. Logs go to ``compat.engine.*``
loggers: one INFO line per task state change, saying why. ``DaskExecutor`` (and its worker module), ``Plan`` and
``Step`` (with the run machinery, which ``Flow.run`` and ``Flow.plan`` import) load on first use (``compat._lazy``).
"""

from typing import TYPE_CHECKING

from compat._lazy import lazy_names, show_as_public
from compat.engine.executors import Executor, LocalExecutor, ThreadExecutor
from compat.engine.flow import Flow
from compat.engine.parameter import Parameter
from compat.engine.states import (
    Cached,
    Failed,
    Pending,
    Running,
    Skipped,
    State,
    Success,
    TriggerFailed,
    ValidationFailed,
)
from compat.engine.task import Task, task, unmapped

if TYPE_CHECKING:
    from compat.engine.dask_executor import DaskExecutor
    from compat.engine.plan import Plan, Step

if not TYPE_CHECKING:  # mypy sees the imports above; a __getattr__ would make every unknown name Any
    __getattr__, __dir__ = lazy_names(
        __name__,
        {"DaskExecutor": "compat.engine.dask_executor", "Plan": "compat.engine.plan", "Step": "compat.engine.plan"},
    )

__all__ = [
    "Cached",
    "DaskExecutor",
    "Executor",
    "Failed",
    "Flow",
    "LocalExecutor",
    "Parameter",
    "Pending",
    "Plan",
    "Running",
    "Skipped",
    "State",
    "Step",
    "Success",
    "Task",
    "ThreadExecutor",
    "TriggerFailed",
    "ValidationFailed",
    "task",
    "unmapped",
]

# The legacy result_handler= keyword and .result_handler attribute, on the names just bound (the shims live in
# compat.kwargs, which imports the legacy layer only when a legacy use happens).
from compat.kwargs import install_on_engine  # noqa: E402

install_on_engine()
show_as_public(globals())
del install_on_engine
