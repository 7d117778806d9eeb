"""Staleness: whether a stored target still matches what would make it now, and the reason code of each decision.

A target's record (``compat.results.records``) says which code and which inputs made it. A task run compares it
with the fingerprints of its code and inputs now: the code's from ``compat.engine.fingerprints`` (docstrings,
comments, formatting and the codemod's rewrites do not count), each input's from the upstream output's record where
there is one (the hash of its stored bytes: Merkle style, so an upstream that reran and stored the same bytes changes
nothing downstream, early cutoff) and from the value otherwise. An input that has no deterministic fingerprint is
never taken as unchanged.

A disagreement is a ``Verdict`` naming what changed. It decides the run only for the kinds the task invalidates on
(``invalidate_on=("code", "inputs")`` on the task, else the flow, else ``$RESULTS_COMPAT_INVALIDATE_ON``); otherwise
the target is reused as PIN 16 says (existence is enough) and the State and the plan still say it is stale.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Union

from compat.errors import ArgumentTypeError, ConfigurationError

if TYPE_CHECKING:
    from compat.engine.task import Task
    from compat.results.records import TargetRecord

__all__ = [
    "INVALIDATE_VARIABLE",
    "KINDS",
    "NOT_INVALIDATED",
    "NO_RECORD",
    "UNCHANGED",
    "Change",
    "InvalidateOn",
    "InvalidateSettings",
    "Verdict",
    "checked_invalidate_on",
    "code_of",
    "input_fingerprint",
    "judge",
    "list_fingerprint",
]

INVALIDATE_VARIABLE = "RESULTS_COMPAT_INVALIDATE_ON"
"""Environment variable: what makes a stored target stale in this process (``code,inputs``), below the task's and
the flow's own ``invalidate_on``."""

KINDS = ("code", "inputs")
"""What a target can be invalidated on."""

InvalidateOn = Union[str, Iterable[str], None]
"""What ``invalidate_on=`` takes: ``("code", "inputs")``, one of them, ``"code,inputs"``, ``()`` (nothing: existence
is enough, whatever the flow or the environment says) or None (not set here)."""

UNFINGERPRINTABLE = "unfingerprintable:"
"""How an input without a deterministic fingerprint is recorded: never equal to anything, itself included."""


def checked_invalidate_on(given: object, where: str) -> frozenset[str] | None:
    """``given`` as a set of ``KINDS`` (None: not set); anything else is an error naming ``where`` and the choices."""
    if given is None:
        return None
    if isinstance(given, str):
        items: list[object] = [part.strip() for part in given.split(",") if part.strip()]
    elif isinstance(given, Iterable) and not isinstance(given, (bytes, bytearray, Mapping)):
        items = list(given)
    else:
        raise ArgumentTypeError(
            where, given, 'a tuple of "code" and/or "inputs", e.g. invalidate_on=("code", "inputs")'
        )
    unknown = [item for item in items if item not in KINDS]
    if unknown:
        raise ValueError(
            f"{where}: {', '.join(repr(item) for item in unknown)} is not something a target can be invalidated on; "
            'choose from "code" (the task\'s code changed) and "inputs" (an input or an upstream output changed)'
        )
    return frozenset(items)  # type: ignore[arg-type]


class InvalidateSettings:
    """What makes each task's target stale (``settings[task]``): its own setting, else the flow's, else the
    environment's (read once, here). Asked of the task itself, and only when a stored target's record is judged (a
    run that finds no target never asks): no map of the flow's size (at 100,000 tasks, a 5 MB table filled before
    the run and looked up far apart in it)."""

    __slots__ = ("fallback",)

    def __init__(self, flow_setting: frozenset[str] | None) -> None:
        self.fallback = flow_setting if flow_setting is not None else _environment_setting()

    def __getitem__(self, task: Task) -> frozenset[str]:
        own: frozenset[str] | None = getattr(task, "invalidate_on", None)
        return own if own is not None else self.fallback


NOT_INVALIDATED = InvalidateSettings(frozenset())
"""Settings that ask nothing beyond each task's own ``invalidate_on`` (no flow setting, the environment ignored)."""


def _environment_setting() -> frozenset[str]:
    raw = os.environ.get(INVALIDATE_VARIABLE)
    if raw is None:
        return frozenset()
    try:
        return checked_invalidate_on(raw, f"${INVALIDATE_VARIABLE}") or frozenset()
    except ValueError as exc:
        raise ConfigurationError(str(exc)) from None


def code_of(task: Task) -> str | None:
    """The fingerprint of ``task``'s code (a ``@task`` function, else its class's ``run``); None when it has none
    (a function without source, such as a builtin)."""
    from compat.engine.fingerprints import code_fingerprint

    fn = getattr(task, "fn", None)
    try:
        return code_fingerprint(fn if fn is not None else type(task).run)
    except (OSError, TypeError, SyntaxError):
        return None


def input_fingerprint(value: Any) -> str:
    """The fingerprint of an input value, or ``unfingerprintable:<type>`` when it has no deterministic one."""
    try:
        return (_value_fingerprint or _fingerprinter())(value)
    except TypeError:  # Unfingerprintable is a TypeError
        return f"{UNFINGERPRINTABLE}{type(value).__qualname__}"


_value_fingerprint: Callable[[Any], str] | None = None
"""``value_fingerprint``, once imported: the fingerprints' encoders load with the first input fingerprinted (an
import statement run per input would cost as much as fingerprinting an int)."""


def _fingerprinter() -> Callable[[Any], str]:
    global _value_fingerprint
    from compat.engine.fingerprints import value_fingerprint

    _value_fingerprint = value_fingerprint
    return value_fingerprint


def list_fingerprint(parts: Iterable[str]) -> str:
    """The fingerprint of a list of outputs (a mapped upstream task's), from each one's."""
    digest = hashlib.sha256()
    for part in parts:
        digest.update(part.encode("utf-8") + b"\n")
    return f"list:sha256:{digest.hexdigest()}"


@dataclass(frozen=True)
class Change:
    """One thing that differs between a target's record and now: ``what`` is ``code``, ``input`` (a parameter or
    a constant) or ``upstream`` (an upstream task's output); ``name`` the input's; ``old``/``new`` fingerprints
    (``new`` None: not known before the upstream task reruns)."""

    what: str
    name: str
    old: str | None
    new: str | None

    def to_dict(self) -> dict[str, str | None]:
        return {"what": self.what, "name": self.name, "old": self.old, "new": self.new}

    def sentence(self) -> str:
        if self.what == "invalidated":
            return f"its record was invalidated at {self.old} (results-compat invalidate)"
        if self.what == "code":
            return "the task's code changed since the output was written"
        if self.new is not None and self.new.startswith(UNFINGERPRINTABLE):
            kind = self.new[len(UNFINGERPRINTABLE):]
            return f"input {self.name!r} (a {kind}) cannot be fingerprinted, so it cannot be shown unchanged"
        if self.what == "upstream" and self.new is None:
            return f"input {self.name!r} is rebuilt by its upstream task first (unless it stores the same bytes)"
        if self.old is None:
            return f"input {self.name!r} is new since the output was written"
        if self.new is None:
            return f"input {self.name!r} is gone since the output was written"
        source = "upstream output" if self.what == "upstream" else "input"
        return f"{source} {self.name!r} changed ({_short(self.old)} -> {_short(self.new)})"


_CODES = {"code": "code-changed", "input": "inputs-changed", "upstream": "upstream-changed"}
_KIND = {"code": "code", "input": "inputs", "upstream": "inputs"}


@dataclass(frozen=True)
class Verdict:
    """What a target's record says against now: ``code`` is ``exists`` (nothing changed), ``no-record``, or the
    first of ``code-changed``, ``inputs-changed``, ``upstream-changed``; ``changes`` lists every difference."""

    code: str
    changes: tuple[Change, ...] = ()

    def deciding(self, invalidate: frozenset[str]) -> str | None:
        """The reason code that makes the target stale under ``invalidate``, or None if it may be reused; an
        invalidated record makes it stale whatever ``invalidate`` says."""
        if self.code == "invalidated":
            return "invalidated"
        for what in ("code", "input", "upstream"):
            if _KIND[what] in invalidate and any(change.what == what for change in self.changes):
                return _CODES[what]
        return None

    def sentence(self) -> str:
        return "; ".join(change.sentence() for change in self.changes)


UNCHANGED = Verdict("exists")
NO_RECORD = Verdict("no-record")


def judge(
    record: TargetRecord | None, code: str | None, inputs: Mapping[str, str | None], upstream: Iterable[str]
) -> Verdict:
    """Compare ``record`` with the fingerprints now: ``code``, ``inputs`` by name (None: not known yet, an upstream
    task reruns first; an input left out is not compared) and which of them come from ``upstream`` tasks."""
    if record is None:
        return NO_RECORD
    if record.invalidated is not None:
        return Verdict("invalidated", (Change("invalidated", "record", record.invalidated, None),))
    from_upstream = frozenset(upstream)
    changes: list[Change] = []
    if code is not None and record.code is not None and code != record.code:
        changes.append(Change("code", "code", record.code, code))
    for name, new in inputs.items():
        old = record.inputs.get(name)
        if new is None or old != new or new.startswith(UNFINGERPRINTABLE):
            changes.append(Change("upstream" if name in from_upstream else "input", name, old, new))
    if not changes:
        return UNCHANGED
    first = next(_CODES[what] for what in ("code", "input", "upstream") if any(c.what == what for c in changes))
    return Verdict(first, tuple(changes))


def _short(fingerprint: str) -> str:
    kind, _, digest = fingerprint.rpartition(":")
    return f"{kind}:{digest[:12]}" if kind else fingerprint[:12]
