"""Executors: where a flow run's task runs execute.

The flow run decides *what* may run (a task whose upstream tasks have finished); an executor decides *where*.
The contract is futures, as in ``concurrent.futures``:

- ``submit(fn, *args) -> future``: call ``fn(*args)`` exactly once, now or elsewhere, where each future in
  ``args`` (one this executor's ``submit`` returned, given as is or in a list) is replaced by its result. ``fn``
  is a picklable unit of work (``compat.engine.unit.TaskUnit``) that returns the task run's State, so upstream
  outputs travel as futures and stay where they were computed.
- the future has ``add_done_callback(fn)``; the flow run collects finished futures through it (one queue, so
  each finished task run costs O(1), however many are outstanding).
- ``flush()``: an executor may hold submitted runs back to send several in one request; the flow run calls
  ``flush`` before it waits for a run to finish.
- ``outcomes(futures) -> [State]``: finished runs' States, an error in the unit itself (it never raises one of
  the task's) ending ``Failed``. With ``remote_data`` the State may be provisional (its class is final, its
  message and location come later) and leaves the value where it is; ``settle(futures, values)`` gives the final
  States when the run ends, with the values asked for, and ``shape(future)`` tells what mapping needs of an output.

A flow run enters the executor (``with executor:``) for the duration of the run.
"""

from __future__ import annotations

import concurrent.futures
from collections.abc import Callable, Sequence
from typing import Any, ClassVar

from compat.engine.runner import interrupted
from compat.engine.states import State
from compat.engine.unit import Shape, shape_of

__all__ = ["Done", "Executor", "LocalExecutor", "ThreadExecutor", "interrupted"]


class Executor:
    """Base class: ``submit(fn, *args)`` returns a future of ``fn``'s State; ``__enter__``/``__exit__``
    bracket a run. Subclasses whose futures are ``concurrent.futures.Future`` need only ``submit``."""

    remote_data: ClassVar[bool] = False
    """True when ``outcomes`` States leave their values on the workers (``settle`` gives the final States)."""

    resolves_dependencies: ClassVar[bool] = False
    """True when ``submit`` may be given futures that have not finished (the executor runs the unit once they
    have): the flow run then submits a task as soon as its upstream runs are submitted."""

    def submit(self, fn: Callable[..., State], *args: Any) -> Any:
        raise NotImplementedError(f"{type(self).__name__} must implement submit(fn, *args)")

    def flush(self) -> None:
        """Send the runs ``submit`` held back (nothing is held by default)."""
        return None

    def outcome(self, future: Any) -> State:
        try:
            state: State = future.result()
        except BaseException as exc:  # noqa: BLE001 - a unit ends as a State; a task's own errors never get here
            return interrupted(exc)
        return state

    def outcomes(self, futures: Sequence[Any]) -> list[State]:
        """The States of several finished runs (an executor may fetch them in one request)."""
        return [self.outcome(future) for future in futures]

    def shape(self, future: Any) -> Shape:
        return shape_of(self.outcome(future).result)

    def settle(self, futures: Sequence[Any], values: Sequence[bool]) -> list[State]:
        """The final States of finished runs (called at the end of a run when ``remote_data``): with their values
        where ``values`` says so, the others' left where they are."""
        return self.outcomes(futures)

    def __enter__(self) -> Executor:
        return self

    def __exit__(self, *exc_info: object) -> None:
        return None


class Done:
    """A future that finished when it was made: what ``LocalExecutor`` returns (a ``concurrent.futures.Future``
    costs a lock and a condition per task run, which is most of the sequential engine's overhead)."""

    __slots__ = ("_exception", "_state")

    def __init__(self, state: State | None, exception: BaseException | None = None) -> None:
        self._state = state
        self._exception = exception

    def result(self) -> State | None:
        if self._exception is not None:
            raise self._exception
        return self._state

    def exception(self) -> BaseException | None:
        return self._exception

    def done(self) -> bool:
        return True

    def add_done_callback(self, fn: Callable[[Done], object]) -> None:
        fn(self)


def resolve(args: tuple[Any, ...]) -> list[Any]:
    """``args`` with every future (given as is, or in a list) replaced by its result; a State stands for
    itself (the flow run keeps finished runs' States in place of their futures when the data is local)."""
    return [[_settled(item) for item in arg] if isinstance(arg, list) else _settled(arg) for arg in args]


def _settled(arg: Any) -> Any:
    return arg.result() if isinstance(arg, (Done, concurrent.futures.Future)) else arg


class LocalExecutor(Executor):
    """Runs each task run at once, in the calling thread, one after another: the default."""

    def submit(self, fn: Callable[..., State], *args: Any) -> Done:
        try:
            return Done(fn(*resolve(args)))
        except Exception as exc:  # a KeyboardInterrupt (Ctrl-C) stops the flow run
            return Done(None, exc)

    def __repr__(self) -> str:
        return "LocalExecutor()"


class ThreadExecutor(Executor):
    """Runs task runs on a pool of ``max_workers`` threads, so independent tasks (and mapped children) run in
    parallel; a flow gets the same states as on ``LocalExecutor``. Suits tasks that wait on I/O."""

    def __init__(self, max_workers: int | None = None) -> None:
        if max_workers is not None and (not isinstance(max_workers, int) or max_workers < 1):
            raise ValueError(f"max_workers must be an int >= 1 or None, not {max_workers!r}")
        self.max_workers = max_workers
        self._pool: concurrent.futures.ThreadPoolExecutor | None = None

    def __enter__(self) -> ThreadExecutor:
        if self._pool is not None:
            raise RuntimeError("this ThreadExecutor is already running a flow; give each concurrent run its own")
        self._pool = concurrent.futures.ThreadPoolExecutor(self.max_workers, thread_name_prefix="compat-engine")
        return self

    def __exit__(self, *exc_info: object) -> None:
        pool, self._pool = self._pool, None
        if pool is not None:
            pool.shutdown(wait=True)

    def submit(self, fn: Callable[..., State], *args: Any) -> concurrent.futures.Future[State]:
        if self._pool is None:
            raise RuntimeError("ThreadExecutor.submit() outside a flow run; use it as flow.run(executor=...)")
        return self._pool.submit(fn, *resolve(args))  # upstream futures are done: the scheduler waited for them

    def __repr__(self) -> str:
        return f"ThreadExecutor(max_workers={self.max_workers!r})"
