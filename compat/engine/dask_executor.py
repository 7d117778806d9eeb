"""``DaskExecutor``: task runs on a dask.distributed cluster, so flows with targets scale past one machine.

Shaped like Prefect 1.x's: ``address`` connects to a running scheduler (and leaves it running); otherwise a
temporary cluster (``distributed.LocalCluster`` unless ``cluster_class`` is given, built with ``cluster_kwargs``)
is started for the run and closed after it. ``client_kwargs`` go to ``distributed.Client``. With ``address``, one
client serves run after run (connecting and closing cost a run 20-40 ms, and the close waited for the scheduler
to release every task of the run): a run finding it closed or disconnected (the scheduler went away or was
restarted) connects again, and it is closed by ``close()``, when the executor is garbage, or at exit. dask.distributed is
imported when a DaskExecutor is made, never at ``import compat``; without it the error says what to install.

How a run uses the cluster:

- each task run is one dask task (``compat.engine.dask_worker.run``) whose arguments are the dask futures of its upstream runs, so an
  output moves worker to worker and never through the process that called ``flow.run()``; dask tells the caller
  the type of each finished result, which is all the scheduling needs (the State's class). A task is submitted as
  soon as its upstream runs are (``resolves_dependencies``), so dask runs a chain without asking the caller
  between links (a mapped task waits for its inputs' lengths). A run whose output feeds a run submitted while it
  was held (a chain's links, a fan-out's root) sends the caller its State without the value as it ends, as a dask
  event beside the log records; for any other output that stays, a tiny task beside it when the run ends
  (``summarize``, on the worker that holds it) does;
- the units are shipped with cloudpickle (Results rebuild their clients on the worker); a unit, an input or an
  output that cannot be pickled fails that task run with a message naming it. The run context and the flow's
  parameter values travel once per run (a task on the cluster), each unit referring to them;
- when the run ends, the values of the flow's terminal tasks (those no task depends on) are brought back; every
  other State keeps ``result`` None (its ``location`` says where a checkpointed copy is), and the cluster
  forgets the values;
- a worker that dies mid-task: dask runs the task again on another worker, up to its allowed failures
  (``distributed.scheduler.allowed-failures``), then the task run ends ``Failed`` saying a worker was lost; a lost
  scheduler connection fails every unfinished task run saying so;
- log records of ``compat`` loggers on the workers are sent to the caller as dask events and handed to the
  caller's loggers of the same names, so a run logs as it does locally; only at the levels those loggers handle
  when the run starts (``listened_level``), so a run nobody listens to sends none.
"""

from __future__ import annotations

import asyncio
import functools
import importlib
import itertools
import logging
import pickle
import uuid
import weakref
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any, ClassVar

from compat.engine.dask_worker import dumps, keep, listened_level, process, run, shared_ids, summarize
from compat.engine.executors import Done, Executor, interrupted
from compat.engine.states import Failed, State
from compat.engine.unit import Shape, TaskUnit
from compat.errors import ArgumentTypeError, FlowError, MissingDependency
from compat.results.base import _short_repr

__all__ = ["DaskExecutor"]

SHARED_CONTEXT_BYTES = 1024 * 1024
"""A run context (parameter values included) that pickles to at least this many bytes is sent once, not per unit."""

def _import_distributed() -> Any:
    try:
        import distributed
    except ImportError as exc:
        raise MissingDependency("distributed", "dask", "DaskExecutor") from exc
    return distributed


class DaskExecutor(Executor):
    """Runs task runs on dask.distributed: on the scheduler at ``address``, else on a cluster started for the run
    (``cluster_class(**cluster_kwargs)``, ``distributed.LocalCluster`` by default; a class or its dotted import
    path). ``client_kwargs`` are passed to ``distributed.Client``."""

    remote_data: ClassVar[bool] = True
    resolves_dependencies: ClassVar[bool] = True

    def __init__(
        self,
        address: str | None = None,
        cluster_class: type | str | Callable[..., Any] | None = None,
        cluster_kwargs: Mapping[str, Any] | None = None,
        client_kwargs: Mapping[str, Any] | None = None,
    ) -> None:
        distributed = _import_distributed()
        if address is not None and not isinstance(address, str):
            raise ArgumentTypeError("DaskExecutor: address", address, "a scheduler address str such as "
                                    "'tcp://10.0.0.5:8786', or None")
        for name, given in (("cluster_kwargs", cluster_kwargs), ("client_kwargs", client_kwargs)):
            if given is not None and not isinstance(given, Mapping):
                raise ArgumentTypeError(f"DaskExecutor: {name}", given, "a mapping of keyword arguments (a dict such "
                                        "as {'n_workers': 2}), or None")
        if address is not None and (cluster_class is not None or cluster_kwargs):
            raise ValueError("DaskExecutor: address connects to a running scheduler, cluster_class/cluster_kwargs "
                             "start a new cluster; give one or the other")
        self.address = address
        self.cluster_class = cluster_class
        self._cluster_factory = _cluster_class(cluster_class, distributed)  # a bad dotted path fails here, early
        self.cluster_kwargs = dict(cluster_kwargs or {})
        self.client_kwargs = {"set_as_default": False, **(client_kwargs or {})}  # as Prefect: leave dask's default
        self.client: Any = None  # the run's client, while a run goes on
        self._cluster: Any = None
        self._kept: Any = None  # with address: the client kept from run to run (_connect), and its finalizer
        self._closer: weakref.finalize | None = None
        self._topic = ""
        self._run_id = ""
        self._keys = itertools.count()
        self._shared: dict[int, tuple[str, ...]] = {}
        self._pickled: dict[int, tuple[Any, bytes]] = {}  # the run's functions and classes, pickled once (dumps)
        self._held: list[tuple[_Run, bytes, tuple[Any, ...]]] = []  # submitted, not sent yet (flush)
        self._sent: list[Any] = []  # every dask future of the run, released when it ends (__exit__)
        self._unwatched: list[_Run] = []  # sent, their callbacks not yet handed to the client's thread (flush)
        self._received: dict[str, bytes] = {}  # the pickled summaries workers sent, by key (run(summary=True))
        self._on_event = functools.partial(_event, self._received)  # no reference to self: the client holds it
        self._process = ""
        self._level = logging.INFO  # what the caller's loggers handle (listened_level), taken when a run starts
        self._context: Any = None  # the dask future of the run's context, when it is large enough to share
        self._context_sized = False

    # -- a run's client and cluster -------------------------------------------------------------------------

    def __enter__(self) -> DaskExecutor:
        if self.client is not None:
            raise RuntimeError("this DaskExecutor is already running a flow; give each concurrent run its own")
        distributed = _import_distributed()
        if self.address is not None:
            self.client = self._connect(distributed)
        else:
            self._cluster = self._cluster_factory(**self.cluster_kwargs)
            try:
                self.client = distributed.Client(self._cluster, **self.client_kwargs)
            except BaseException:
                self._cluster.close()
                self._cluster = None
                raise
        self._run_id = uuid.uuid4().hex  # keys are unique per run on a shared cluster: this id and a count
        self._keys = itertools.count()
        self._shared, self._context, self._context_sized = {}, None, False
        self._pickled = {}
        self._held = []
        self._unwatched = []
        self._sent = []
        self._received.clear()
        self._process = process()
        self._level = listened_level()
        # the client's own topic: the scheduler drops its events once the client has left (subscribed per run, as
        # a client reconnected to a restarted scheduler is subscribed to nothing there)
        self._topic = self.client.id
        self.client.subscribe_topic(self._topic, self._on_event)
        return self

    def __exit__(self, *exc_info: object) -> None:
        client, cluster, self.client, self._cluster = self.client, self._cluster, None, None
        sent, self._sent = self._sent, []
        self._pickled = {}  # the run's functions, kept alive while their ids were in use
        self._received.clear()
        self._context = None
        try:
            if client is not None and client is self._kept:
                self._release(client, sent)
            elif client is not None:
                client.close()
        finally:
            if cluster is not None:
                cluster.close()

    def _release(self, client: Any, futures: list[Any]) -> None:
        """What a run made on the cluster of a kept client, released as closing the client did: the unfinished
        tasks of an interrupted run cancelled, every value forgotten. Not left to the futures' garbage collection: a
        value that failed to come back keeps its exception in the client, whose traceback holds this run's frames,
        the executor and its futures, which would then never be released (nor the executor collected)."""
        if client.status != "running":
            return
        client.unsubscribe_topic(self._topic)
        unfinished = [future for future in futures if future.status == "pending"]
        if unfinished:
            client.cancel(unfinished)
        for future in futures:
            future.release()

    def _connect(self, distributed: Any) -> Any:
        """The client kept for the scheduler at ``address``, connected again if it is closed or lost its scheduler
        (a client reconnects to a scheduler restarted at its address by itself, but only for a while)."""
        kept = self._kept
        if kept is not None and kept.status == "running" and not kept.scheduler_comm.closed():
            return kept
        if kept is not None:  # lost: stop its reconnecting too, lest it come back beside the new one
            self.close()
            kept.close()
        try:
            client = distributed.Client(self.address, **self.client_kwargs)
        except OSError as exc:  # dask raises OSError (or its TimeoutError) when no scheduler answers in time
            raise FlowError(
                f"cannot connect to the dask scheduler at {self.address!r}: {exc}; check that it is running and "
                "reachable from here (DaskExecutor(address=...)), or leave address out to start a local cluster"
            ) from exc
        self._kept, self._closer = client, weakref.finalize(self, _close, client)
        return client

    def close(self) -> None:
        """Close the client kept for ``address`` between runs (a later run connects again). Called when the
        executor is garbage collected, and at exit, if not before."""
        closer, self._kept, self._closer = self._closer, None, None
        if closer is not None:
            closer()

    # -- the futures contract -------------------------------------------------------------------------------

    def submit(self, fn: Callable[..., State], *args: Any) -> Any:
        if self.client is None:
            raise RuntimeError("DaskExecutor.submit() outside a flow run; use it as flow.run(executor=...)")
        try:
            if isinstance(fn, TaskUnit) and not self._context_sized:
                self._share_context(fn.flow_context)
            blob = dumps(fn, self._shared, self._pickled)
        except Exception as exc:  # noqa: BLE001 - whatever pickling raises, the task run fails saying what
            return Done(Failed(f"cannot send this task run to the dask workers: {_unpicklable(fn, exc)}",
                               exception=exc))
        name = getattr(getattr(fn, "task", None), "name", "unit")
        held = False
        for upstream in _runs(args):  # their outputs stay on the cluster: their workers send the summaries as they end
            upstream.feeds = True
            held = held or upstream.output is None
        if held:  # dask needs the futures of its upstream runs: send those first
            self._send()
        submitted = _Run(f"{name}-{self._run_id}-{next(self._keys)}")
        self._held.append((submitted, blob, args))
        return submitted

    def flush(self) -> None:
        """Send the runs ``submit`` held back, and watch every run sent since the last flush for its end (one
        ``_watch`` for all of them, so a chain, sent link by link as each next link is submitted, has one)."""
        self._send()
        unwatched, self._unwatched = self._unwatched, []
        if unwatched:
            self.client.loop.add_callback(_watch, unwatched)

    def _send(self) -> None:
        """Send the held runs, in one request per number of upstream arguments and whether their outputs feed
        other runs (``client.map``: a flow's independent tasks go to the scheduler as one graph, not one message
        each)."""
        held, self._held = self._held, []
        groups: dict[tuple[int, bool], list[tuple[_Run, bytes, tuple[Any, ...]]]] = {}
        for item in held:
            groups.setdefault((len(item[2]), item[0].feeds), []).append(item)
        for (_, feeds), runs in groups.items():
            options = {"topic": self._topic, "caller": self._process, "context": self._context, "level": self._level,
                       "summary": feeds}
            columns = [[_output(arg) for arg in column] for column in zip(*(args for _, _, args in runs))]
            keys = [submitted.key for submitted, _, _ in runs]
            if len(runs) == 1:
                futures = [self.client.submit(run, runs[0][1], *(column[0] for column in columns), key=keys[0],
                                              pure=False, **options)]
            else:
                futures = self.client.map(run, [blob for _, blob, _ in runs], *columns, key=keys, pure=False,
                                          **options)
            sent = [submitted for submitted, _, _ in runs]
            for submitted, future in zip(sent, futures):
                submitted.output = future
            self._unwatched += sent
            self._sent += futures

    def _share_context(self, context: Mapping[str, Any]) -> None:
        """With the run's first unit: a large context (a large parameter value) goes to the cluster once, as a task
        (dask recomputes a task's result when the worker holding it dies), and units refer to it. A small one is
        copied into each unit: a shared dependency would make dask place every task run next to it."""
        self._context_sized = True
        if len(dumps(context, {})) >= SHARED_CONTEXT_BYTES:
            self._shared = shared_ids(context)
            self._context = self.client.submit(keep, context, key=f"context-{self._run_id}", pure=False)
            self._sent.append(self._context)

    def outcome(self, future: Any) -> State:
        return self.outcomes([future])[0]

    def outcomes(self, futures: Sequence[Any]) -> list[State]:
        """The States of finished runs. dask tells the caller the type of each finished task's result, so a State
        class is known without fetching anything: the State is provisional (message and location come with
        ``settle``). A result of another type is fetched (its summary, never its value)."""
        unknown: list[_Run] = []
        for run in futures:
            if not isinstance(run, _Run) or run.state is not None:
                continue
            if run.output.status != "finished":
                run.state = self._failure(run.output)
            elif isinstance(run.output.type, type) and issubclass(run.output.type, State):
                run.state, run.provisional = run.output.type(), True
            else:
                unknown.append(run)
        if unknown:
            self._summarize(unknown)
        return [run.state if isinstance(run, _Run) and run.state else Executor.outcome(self, run) for run in futures]

    def _summarize(self, runs: Sequence[_Run]) -> None:
        """The State (without the value) and the value's shape of each finished run: the summary its worker sent,
        else fetched, all in one request."""
        asked = [run for run in runs if not self._sent_summary(run)]
        summaries = self._summaries([run.output for run in asked])
        for run, (state, shape) in zip(asked, self._fetch(summaries)):
            run.state, run.shape, run.provisional = state, shape, False

    def _sent_summary(self, run: _Run) -> bool:
        """Whether ``run``'s worker sent its summary (``run(summary=True)``): its final State and shape are then set."""
        blob = self._received.pop(run.key, None)
        if blob is None:
            return False
        run.state, run.shape = pickle.loads(blob)
        run.provisional = False
        return True

    def _fetch(self, futures: list[Any]) -> list[Any]:
        """The results of finished dask futures, in one request; one that cannot be fetched becomes
        ``(Failed, None)``, and all of them do when the scheduler is lost."""
        try:
            return list(self.client.gather(futures))
        except Exception as exc:  # noqa: BLE001 - find out whether the connection or one result failed
            if self.client.status != "running":
                return [(self._lost(exc), None)] * len(futures)
        fetched: list[Any] = []
        for future in futures:
            try:
                fetched.append(future.result())
            except Exception as exc:  # noqa: BLE001
                fetched.append((Failed(f"finished on the cluster, but its State could not be brought back here: "
                                       f"{type(exc).__name__}: {exc}", exception=exc), None))
        return fetched

    def shape(self, future: Any) -> Shape:
        if not isinstance(future, _Run):
            return super().shape(future)
        if future.shape is None:
            self._summarize([future])
        return future.shape or Shape(None, "NoneType", False)

    def settle(self, futures: Sequence[Any], values: Sequence[bool]) -> list[State]:
        """The final States, in one request: the full State (with the value) of each run ``values`` asks for,
        the summary of each other provisional one, computed on the worker that holds the value."""
        states = self.outcomes(futures)
        if self.client.status != "running":  # fetching would wait for a reconnection that will not come
            return [self._unsettled(run, state) for run, state in zip(futures, states)]
        whole: list[tuple[int, Any]] = []
        summarized: list[tuple[int, Any]] = []
        for i, (run, value) in enumerate(zip(futures, values)):
            if not isinstance(run, _Run) or run.output.status != "finished":
                continue
            if value:
                whole.append((i, run.output))
            elif run.provisional and self._sent_summary(run):
                states[i] = run.state
            elif run.provisional:
                summarized.append((i, run.output))
        wanted = whole + list(zip([i for i, _ in summarized], self._summaries([output for _, output in summarized])))
        for (i, _), fetched in zip(wanted, self._fetch([future for _, future in wanted])):
            states[i] = fetched[0] if isinstance(fetched, tuple) else fetched
        return states

    def _summaries(self, outputs: list[Any]) -> list[Any]:
        """A ``summarize`` task beside each output, submitted in one request."""
        if not outputs:
            return []
        keys = [f"{output.key}-state" for output in outputs]
        summaries = list(self.client.map(summarize, outputs, key=keys, pure=False))
        self._sent += summaries
        return summaries

    def _unsettled(self, run: Any, state: State) -> State:
        if not (isinstance(run, _Run) and run.provisional):
            return state
        return type(state)(f"finished as {type(state).__name__} on the cluster, but the connection to the scheduler "
                           "was lost before its message and location could be fetched")

    def _failure(self, future: Any) -> State:
        """The State of a run whose dask task erred or was cancelled (it never returned one)."""
        if future.status == "error":
            exc = future.exception()
            if type(exc).__name__ == "KilledWorker":
                return Failed(
                    "a dask worker was lost while running this task: every worker that ran it died (dask tries "
                    "another worker up to distributed.scheduler.allowed-failures times); look in the workers' "
                    f"logs for why (memory limit, a crash, os._exit in the task): {exc}",
                    exception=exc,
                )
            return interrupted(exc)
        return self._lost(None)

    def _lost(self, exc: BaseException | None) -> Failed:
        where = self.address or getattr(self.client, "scheduler", None) and self.client.scheduler.address
        cause = f": {type(exc).__name__}: {exc}" if exc is not None else ""
        return Failed(f"lost the connection to the dask scheduler at {where}, so this task run did not finish; "
                      f"check that the scheduler is running and reachable, then run the flow again{cause}",
                      exception=exc)

    def __repr__(self) -> str:
        if self.address is not None:
            return f"DaskExecutor(address={self.address!r})"
        return f"DaskExecutor(cluster_class={self.cluster_class!r}, cluster_kwargs={self.cluster_kwargs!r})"


class _Run:
    """One submitted task run under its dask ``key``: ``output``, the dask future of its full State (fed to
    downstream runs; None until ``flush`` sent it), then the ``state`` the caller has (``provisional`` while only its
    class is known) and its value's ``shape`` once fetched. ``feeds``: a run submitted after it reads its output."""

    __slots__ = ("callbacks", "feeds", "key", "output", "provisional", "shape", "state")

    def __init__(self, key: str) -> None:
        self.key = key
        self.output: Any = None
        self.callbacks: list[Callable[[_Run], object]] = []
        self.state: State | None = None
        self.provisional = False
        self.shape: Shape | None = None
        self.feeds = False

    def finished(self) -> None:
        """Call the callbacks given while it was held (in the client's thread: ``_watch``)."""
        callbacks, self.callbacks = self.callbacks, []
        for fn in callbacks:
            try:
                fn(self)
            except Exception:  # noqa: BLE001 - as dask does with a callback that fails: say so, carry on
                logging.getLogger(__name__).exception("a callback of the task run %s failed", self.key)

    def add_done_callback(self, fn: Callable[[_Run], object]) -> None:
        if self.output is None:
            self.callbacks.append(fn)
        else:
            self.output.add_done_callback(lambda _: fn(self))


async def _watch(runs: list[_Run]) -> None:
    """In the client's thread: call each run's callbacks as its dask future finishes, errs or is cancelled. One
    request to that thread per batch sent: ``Future.add_done_callback`` wakes it once per future, and hands each
    callback to a thread of its own, two thread switches per task run that the scheduler (in the caller's process
    with a LocalCluster) pays for under the GIL. Waits as dask's own ``wait`` and ``as_completed`` do."""
    async def finished(run: _Run) -> None:
        while run.output.status == "pending":
            await run.output._state.wait()
        run.finished()

    await asyncio.gather(*(finished(run) for run in runs if run.callbacks))


def _runs(args: tuple[Any, ...]) -> Iterator[_Run]:
    """The runs among upstream arguments (each a run, or a list of them)."""
    for arg in args:
        for item in arg if isinstance(arg, list) else (arg,):
            if isinstance(item, _Run):
                yield item


def _output(arg: Any) -> Any:
    if isinstance(arg, list):
        return [_output(item) for item in arg]
    return arg.output if isinstance(arg, _Run) else arg.result() if isinstance(arg, Done) else arg


def _cluster_class(given: type | str | Callable[..., Any] | None, distributed: Any) -> Callable[..., Any]:
    if given is None:
        return distributed.LocalCluster  # type: ignore[no-any-return]
    if isinstance(given, str):  # Prefect accepted "dask_kubernetes.KubeCluster"
        module, _, name = given.rpartition(".")
        try:
            return getattr(importlib.import_module(module), name)  # type: ignore[no-any-return]
        except (ImportError, AttributeError, ValueError) as exc:
            raise ValueError(f"cluster_class {given!r} cannot be imported ({exc}); give the class, or its full "
                             "dotted path such as 'distributed.LocalCluster'") from exc
    if not callable(given):
        raise ArgumentTypeError("DaskExecutor: cluster_class", given, "a cluster class, its dotted path (such as "
                                "'distributed.LocalCluster'), or None")
    return given


def _unpicklable(unit: Any, exc: Exception) -> str:
    """Name the part of ``unit`` that cannot be pickled (the task, an input, a parameter, the default Result)."""
    import cloudpickle  # type: ignore[import-untyped]
    parts: list[tuple[str, Any]] = []
    if isinstance(unit, TaskUnit):
        parts = [(f"its input {key!r}", value) for key, value in unit.constants.items()]
        parts += [(f"the flow parameter {key!r}", value) for key, value in unit.flow_context["parameters"].items()]
        parts += [("the flow's default Result", unit.default_result), (f"the task {unit.task.name!r}", unit.task)]
    for what, value in parts:
        try:
            cloudpickle.dumps(value)
        except Exception as part_exc:  # noqa: BLE001
            return (f"{what} ({_short_repr(value)}) cannot be pickled ({type(part_exc).__name__}: {part_exc}); "
                    "pass something cloudpickle can serialize, or build it inside the task")
    return f"it cannot be pickled ({type(exc).__name__}: {exc})"


# -- back in the caller -----------------------------------------------------------------------------------------


def _event(received: dict[str, bytes], event: tuple[float, Any]) -> None:
    """An event on the run's topic, in the client's thread: a summary a worker sent (kept in ``received``), a log
    record, or one of the scheduler's own events about the client (ignored)."""
    fields = event[1]
    if not isinstance(fields, Mapping):
        return
    if "summary" in fields:
        received[str(fields["key"])] = fields["summary"]
    elif "msg" in fields:
        _log_event(event)


def _close(client: Any) -> None:
    """Close a kept client (a finalizer: it may run at exit, when dask's loop may be stopping). One that lost its
    scheduler is left to stop reconnecting by itself: closing it cancels that, and dask logs the cancellation."""
    if client.status != "running":
        return
    try:
        client.close()
    except Exception:  # noqa: BLE001 - nothing is left to do with a client that cannot close
        logging.getLogger(__name__).debug("closing the dask client failed", exc_info=True)


def _log_event(event: tuple[float, Mapping[str, Any]]) -> None:
    """A worker's log record, handed to the caller's logger of the same name if it is enabled for its level."""
    _, fields = event
    logger = logging.getLogger(str(fields["name"]))
    level = int(fields["level"])
    if logger.isEnabledFor(level):
        record = logger.makeRecord(logger.name, level, "(dask worker)", 0, fields["msg"], (), None)
        record.created = float(fields["created"])
        record.process = fields.get("process")
        logger.handle(record)

