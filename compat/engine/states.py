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

A mapped task's state also has ``map_states``: its children's states, in ``map_index`` order.
"""

from __future__ import annotations

from typing import Any

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

    __slots__ = ("location", "map_states", "message", "result")  # a flow run holds one per task: keep them small

    def __init__(
        self,
        message: str = "",
        result: Any = None,
        location: str | None = None,
        map_states: list[State] | None = None,
    ) -> None:
        self.message = message
        self.result = result
        self.location = location
        self.map_states = map_states

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
    ) -> None:
        super().__init__(message, result, location, map_states)
        self.exception = exception


class ValidationFailed(Failed):
    """A validator rejected the value: ``result`` is the rejected value, ``exception`` the ``ValidationError``
    naming the validator and why (also in ``message``). Nothing was checkpointed."""

    __slots__ = ()


class TriggerFailed(Failed):
    """The task did not run because a task it depends on failed (``message`` names which)."""

    __slots__ = ()
