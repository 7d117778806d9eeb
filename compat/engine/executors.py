"""Executors: where a flow run's task runs execute.

The flow run decides *what* may run (a task whose upstream tasks have finished); an executor decides *where*.
Its whole contract is ``submit(fn)``: call ``fn()`` exactly once, now or on another thread. Each ``fn`` reports
its own outcome back to the flow run, so an executor never handles results or errors. A flow run enters the
executor (``with executor:``) for the duration of the run.
"""

from __future__ import annotations

import concurrent.futures
from collections.abc import Callable

__all__ = ["Executor", "LocalExecutor", "ThreadExecutor"]


class Executor:
    """Base class: ``submit(fn)`` must call ``fn()`` exactly once; ``__enter__``/``__exit__`` bracket a run."""

    def submit(self, fn: Callable[[], None]) -> None:
        raise NotImplementedError(f"{type(self).__name__} must implement submit(fn)")

    def __enter__(self) -> Executor:
        return self

    def __exit__(self, *exc_info: object) -> None:
        return None


class LocalExecutor(Executor):
    """Runs each task run at once, in the calling thread, one after another: the default."""

    def submit(self, fn: Callable[[], None]) -> None:
        fn()

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

    def submit(self, fn: Callable[[], None]) -> None:
        if self._pool is None:
            raise RuntimeError("ThreadExecutor.submit() outside a flow run; use it as flow.run(executor=...)")
        self._pool.submit(fn)

    def __repr__(self) -> str:
        return f"ThreadExecutor(max_workers={self.max_workers!r})"
