"""What a ``DaskExecutor`` runs on the dask workers: one task run (``run``), the summary of a State that stays
there (``summarize``, sent by the run itself or asked for by a task), and the sending of the run's log records to
the caller.

A State leaves the worker only if it can be pickled: ``_shippable`` checks that first, so an output that cannot be
pickled fails its task run naming it, instead of failing later in dask's transfer between workers.
"""

from __future__ import annotations

import copy
import functools
import io
import logging
import os
import pickle
import socket
import threading
import types
from collections.abc import Iterator, Mapping
from contextlib import contextmanager, nullcontext
from typing import Any

from compat.engine.states import Failed, State
from compat.engine.unit import Shape, shape_of
from compat.results.base import _short_repr

__all__ = ["dumps", "keep", "listened_level", "process", "run", "shared_ids", "summarize"]

LOGGERS = "compat"
"""The logger whose records (and its children's) a worker sends to the caller."""


def shared_ids(context: Mapping[str, Any]) -> dict[int, tuple[str, ...]]:
    """What every unit of a flow run shares, by ``id``: the run context and each parameter's value. A unit is
    pickled with these as references (``dumps``), and the context travels to the cluster once (``keep``)."""
    ids: dict[int, tuple[str, ...]] = {id(value): ("parameter", name) for name, value in context["parameters"].items()}
    ids[id(context)] = ("context",)
    return ids


def keep(value: Any) -> Any:
    """A value as a dask task's result: sent once, kept on the cluster, recomputed if its worker dies."""
    return value


def dumps(unit: Any, shared: Mapping[int, tuple[str, ...]], pickled: dict[int, tuple[Any, bytes]] | None = None) -> bytes:
    """``unit`` pickled as cloudpickle would, the objects in ``shared`` replaced by references (a large parameter is
    not copied into every task run's bytes).

    Python's own pickler does the work; only functions and classes, which cloudpickle may have to pickle by value
    (one defined in ``__main__`` or in a function), go through cloudpickle, each once per run: ``pickled`` keeps
    their bytes by id, and a worker unpickles each once (``_unpickled``). What that pickler cannot handle (a module,
    a code object) is pickled by cloudpickle whole, as before, which also names what cannot be pickled at all."""
    buffer = io.BytesIO()
    pickler = _pickler(bool(shared))(buffer, pickled if pickled is not None else {})
    if shared:
        pickler.shared = shared
    try:
        pickler.dump(unit)
    except Exception:  # noqa: BLE001 - whatever it cannot do, cloudpickle does or says why not
        buffer = io.BytesIO()
        _cloud_pickler(bool(shared))(buffer, shared).dump(unit)
    return buffer.getvalue()


@functools.cache
def _pickler(sharing: bool) -> type:
    """Python's pickler, with functions and classes pickled by cloudpickle once per run; ``sharing``: with references
    to the objects a run shares (a hook Python calls for every object pickled: only when there are such objects)."""
    import cloudpickle  # type: ignore[import-untyped]  # on first use: costly to import

    class UnitPickler(pickle.Pickler):
        def __init__(self, file: io.BytesIO, pickled: dict[int, tuple[Any, bytes]]) -> None:
            super().__init__(file, protocol=pickle.HIGHEST_PROTOCOL)
            self.pickled = pickled

        def reducer_override(self, obj: Any) -> Any:
            if not isinstance(obj, (types.FunctionType, type)):
                return NotImplemented
            known = self.pickled.get(id(obj))
            if known is None:  # kept with the object, so that its id stays its own for the run
                known = self.pickled[id(obj)] = (obj, cloudpickle.dumps(obj, protocol=pickle.HIGHEST_PROTOCOL))
            return _unpickled, (known[1],)

    if not sharing:
        return UnitPickler

    class SharingPickler(UnitPickler):
        shared: Mapping[int, tuple[str, ...]] = {}

        def persistent_id(self, obj: Any) -> tuple[str, ...] | None:
            return self.shared.get(id(obj))

    return SharingPickler


@functools.cache
def _cloud_pickler(sharing: bool) -> type:
    import cloudpickle

    if not sharing:
        return lambda file, shared: cloudpickle.CloudPickler(file, protocol=pickle.HIGHEST_PROTOCOL)

    class SharingCloudPickler(cloudpickle.CloudPickler):  # type: ignore[misc]
        def __init__(self, file: io.BytesIO, shared: Mapping[int, tuple[str, ...]]) -> None:
            super().__init__(file, protocol=pickle.HIGHEST_PROTOCOL)
            self.shared = shared

        def persistent_id(self, obj: Any) -> tuple[str, ...] | None:
            return self.shared.get(id(obj))

    return SharingCloudPickler


@functools.lru_cache(maxsize=1024)
def _unpickled(blob: bytes) -> Any:
    """A function or class from the bytes cloudpickle made of it, unpickled once per worker process (every unit of
    a run that uses it carries the same bytes)."""
    return pickle.loads(blob)


class _SharingUnpickler(pickle.Unpickler):
    def __init__(self, blob: bytes, context: Mapping[str, Any] | None) -> None:
        super().__init__(io.BytesIO(blob))
        self.context = context

    def persistent_load(self, pid: Any) -> Any:
        assert self.context is not None, "a unit that references its run's context was sent without it"
        return self.context if pid == ("context",) else self.context["parameters"][pid[1]]


def run(
    blob: bytes,
    *upstream: Any,
    topic: str,
    caller: str,
    context: Mapping[str, Any] | None,
    level: int = logging.INFO,
    summary: bool = False,
) -> State:
    """Run one unit on a worker (its upstream States, and the run ``context`` it references, already fetched by
    dask); its log records of ``level`` and above (the caller's loggers drop the others: ``listened_level``) go to
    ``topic``, unless the worker runs in the ``caller``'s own process (a cluster of threads), where they are already
    there. With ``summary`` (an output that stays on the cluster, feeding other runs) the State's summary goes to
    ``topic`` too, ``{"key": <this dask task's key>, "summary": <summarize(state), pickled>}``, so the caller has its
    final State without asking for it (a summarize task per output doubled the scheduler's work)."""
    unit = _SharingUnpickler(blob, context).load()
    sending = caller != process() and level <= logging.CRITICAL
    with _sending_logs(topic, level) if sending else nullcontext():
        state: State = unit(*upstream)
    state = _shippable(state)
    if summary:
        from distributed import get_worker

        worker = get_worker()
        worker.log_event(topic, {"key": worker.get_current_task(), "summary": _pickled(summarize(state))})
    return state


def _pickled(value: Any) -> bytes:
    """``value`` pickled by Python's pickler, or by cloudpickle when that refuses it (a class made in a function)."""
    try:
        return pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL)
    except Exception:  # noqa: BLE001 - cloudpickle pickles what Python's pickler cannot, or says why not
        import cloudpickle

        return cloudpickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL)  # type: ignore[no-any-return]


def summarize(state: State) -> tuple[State, Shape]:
    """The State without its value (what the caller needs to schedule), and the value's shape (to map over it)."""
    light = copy.copy(state)
    light.result = None
    return light, shape_of(state.result)


class _Discard(io.RawIOBase):
    def writable(self) -> bool:
        return True

    def write(self, data: Any) -> int:
        return len(memoryview(data))


_PLAIN = frozenset({type(None), bool, int, float, complex, str, bytes})
"""Types of values that always pickle (a State's other parts are the engine's own, which do too)."""


def _shippable(state: State) -> State:
    """``state`` if it can leave this worker; else a State that can, saying what could not be pickled. The value
    is pickled into a sink that keeps nothing (one pass, not a copy); an exception, being small, is also
    unpickled, since an exception class whose ``__init__`` wants other arguments pickles but cannot be rebuilt."""
    cause = getattr(state, "exception", None)
    if cause is None and type(state.result) in _PLAIN:  # nothing in it can fail to pickle: no pass over it
        return state
    import cloudpickle
    if cause is not None:
        try:
            pickle.loads(cloudpickle.dumps(cause))
        except Exception as exc:  # noqa: BLE001
            state = copy.copy(state)
            state.exception = None  # type: ignore[attr-defined]
            state.message += (f" (its {type(cause).__name__} could not be sent back from the worker: "
                              f"{type(exc).__name__}: {exc})")
    try:
        cloudpickle.CloudPickler(_Discard(), protocol=pickle.HIGHEST_PROTOCOL).dump(state)
    except Exception as exc:  # noqa: BLE001 - the value is the only part left that may fail
        return Failed(
            f"ran, but its output {_short_repr(state.result)} cannot be pickled ({type(exc).__name__}: {exc}), "
            "so it cannot leave the worker that computed it; return a value cloudpickle can serialize",
            location=state.location,
        )
    return state


_local = threading.local()


class _EventHandler(logging.Handler):
    """Sends each record of a unit's run to the topic its flow run listens on (one handler per worker process;
    the topic is per thread, so concurrent units of different runs keep theirs apart)."""

    def emit(self, record: logging.LogRecord) -> None:
        topic = getattr(_local, "topic", None)
        if topic is None or record.levelno < _local.level:
            return
        try:
            from distributed import get_worker

            text = record.getMessage()
            if record.exc_info:
                text += "\n" + logging.Formatter().formatException(record.exc_info)
            get_worker().log_event(topic, {
                "name": record.name, "level": record.levelno, "msg": text, "created": record.created,
                "process": record.process,
            })
        except Exception:  # noqa: BLE001 - logging never fails a task run
            self.handleError(record)


_handler_lock = threading.Lock()


_PROCESS: tuple[int, str] = (0, "")


def process() -> str:
    """This process, as ``host:pid`` (the host's name looked up once per process: a system call per task run)."""
    global _PROCESS
    pid = os.getpid()
    if _PROCESS[0] != pid:  # first use, or a forked child
        _PROCESS = (pid, f"{socket.gethostname()}:{pid}")
    return _PROCESS[1]


def listened_level() -> int:
    """The lowest level a record of the ``compat`` loggers is handled at in this process (the caller's): a worker
    sends only records at or above it, since the caller would drop the others (2 events per task run otherwise, each
    handled by the scheduler and by this process). Above ``logging.CRITICAL`` when none is handled."""
    manager = logging.Logger.manager
    loggers = [logging.getLogger(LOGGERS)]
    loggers += [logger for name, logger in list(manager.loggerDict.items())
                if name.startswith(LOGGERS + ".") and isinstance(logger, logging.Logger)]
    return max(min(logger.getEffectiveLevel() for logger in loggers), manager.disable + 1)


@contextmanager
def _sending_logs(topic: str, level: int) -> Iterator[None]:
    logger = logging.getLogger(LOGGERS)
    level = max(level, logging.DEBUG)
    with _handler_lock:
        if not any(isinstance(h, _EventHandler) for h in logger.handlers):
            logger.addHandler(_EventHandler())
        if not logger.isEnabledFor(level):  # a worker process: the caller's loggers decide what is shown
            logger.setLevel(level)
    _local.topic, _local.level = topic, level
    try:
        yield
    finally:
        _local.topic = None
