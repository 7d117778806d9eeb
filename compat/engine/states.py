"""States: how a task run or a flow run ended, and why.

A run always ends as a State value, never as an exception escaping the engine, so a caller inspects outcomes
instead of catching errors::

    State                       message (why), result (the value), location (where it is stored)
    ├── Pending                 not started yet
    ├── Running                 started
    ├── Success                 finished with a value (``location`` is set when it was checkpointed)
    │   ├── Cached              finished without running: a stored target or a fresh cached output was reused
    │   └── Skipped             not run because nothing needs its output (``flow.run(prune=True)``); no value
    └── Failed                  finished without a usable value; ``exception`` says what went wrong
        ├── ValidationFailed    the value was rejected by a validator (``exception`` is the ValidationError)
        └── TriggerFailed       did not run because an upstream task failed

A mapped task's state also has ``map_states``: its children's states, in ``map_index`` order. A state that a target
or a cache decided carries a stable reason ``code`` (``exists``, ``missing``, ``code-changed``...: the table is
``compat.engine.reasons.REASONS``), what changed (``changes``) and the ``record`` of its stored output.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from compat.engine.staleness import Change
    from compat.results.records import TargetRecord

__all__ = [
    "Cached",
    "Failed",
    "Pending",
    "Running",
    "Skipped",
    "State",
    "Success",
    "TriggerFailed",
    "ValidationFailed",
]


class State:
    """The outcome (or progress) of a run: ``message`` says why, ``result`` holds the value, ``location``
    where the value is stored (None when it is kept only in memory)."""

    __slots__ = ("_message", "_record", "changes", "code", "location", "map_states", "result")  # one per task: small

    def __init__(
        self,
        message: str = "",
        result: Any = None,
        location: str | None = None,
        map_states: list[State] | None = None,
        *,
        code: str | None = None,
        changes: tuple[Change, ...] = (),
        record: TargetRecord | tuple[Any, ...] | None = None,
    ) -> None:
        self._message: str | None = message
        self.result = result
        self.location = location
        self.map_states = map_states
        self.code = code
        self.changes = changes
        self._record = record

    @classmethod
    def stored(cls, result: Any, location: str, **why: Any) -> State:
        """The state of a run that ran and stored its output at ``location``: its message, "ran and stored its
        output at '...'", is made when read. A finished run keeps one State per task, and that text, which only
        repeats the location, was a tenth of what it kept per task."""
        state = cls("", result, location, **why)
        state._message = None
        return state

    @property
    def record(self) -> TargetRecord | None:
        """The record of the stored output (None: none). A checkpoint's State may be given what makes it, as its
        Result left it (``Result.written_record``: a tuple of a function and its arguments): it is made when first
        read, so a run whose records nobody reads (no downstream task takes their byte hash) makes none."""
        record = self._record
        if type(record) is tuple:
            record = self._record = record[0](*record[1:])
        return record  # type: ignore[return-value]

    @record.setter
    def record(self, record: TargetRecord | tuple[Any, ...] | None) -> None:
        self._record = record

    @property
    def message(self) -> str:
        """Why the run is in this state."""
        message = self._message
        return message if message is not None else f"ran and stored its output at {self.location!r}"

    @message.setter
    def message(self, message: str) -> None:
        self._message = message

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready: the state's kind, ``code`` (the reason code, when a target or cache decided it), what changed
        (``changes``), ``message`` and ``location``; a mapped task's children under ``map_states``."""
        shown: dict[str, Any] = {
            "state": type(self).__name__, "code": self.code, "changes": [change.to_dict() for change in self.changes],
            "message": self.message, "location": self.location,
        }  # fmt: skip
        if self.map_states is not None:
            shown["map_states"] = [child.to_dict() for child in self.map_states]
        return shown

    def is_finished(self) -> bool:
        return isinstance(self, (Success, Failed))

    def is_successful(self) -> bool:
        return isinstance(self, Success)

    def is_cached(self) -> bool:
        return isinstance(self, Cached)

    def is_failed(self) -> bool:
        return isinstance(self, Failed)

    def __repr__(self) -> str:
        return f"<{type(self).__name__}: {self.message!r}>"


class Pending(State):
    """The run has not started."""

    __slots__ = ()


class Running(State):
    """The run has started and not finished."""

    __slots__ = ()


class Success(State):
    """The run finished with a value in ``result``; ``location`` is where it was checkpointed, if it was."""

    __slots__ = ()


class Cached(Success):
    """The run reused a stored value (an existing target, or an output fresh within ``cache_for``)."""

    __slots__ = ()


class Skipped(Success):
    """The task did not run because every task that consumes its output reuses a stored one (``prune=True``):
    ``result`` is None and ``message`` names those tasks. A Success, so nothing downstream counts it a failure."""

    __slots__ = ()


class Failed(State):
    """The run finished without a usable value; ``exception`` is the error that ended it, if one did."""

    __slots__ = ("exception",)

    def __init__(
        self,
        message: str = "",
        result: Any = None,
        location: str | None = None,
        map_states: list[State] | None = None,
        exception: BaseException | None = None,
        **why: Any,
    ) -> None:
        super().__init__(message, result, location, map_states, **why)
        self.exception = exception


class ValidationFailed(Failed):
    """A validator rejected the value: ``result`` is the rejected value, ``exception`` the ``ValidationError``
    naming the validator and why (also in ``message``). Nothing was checkpointed."""

    __slots__ = ()


class TriggerFailed(Failed):
    """The task did not run because a task it depends on failed (``message`` names which)."""

    __slots__ = ()
