"""``flow.run(progress=True)``: a live bar of finished task runs, with counts per state, on a terminal.

The bar is tqdm's (the ``progress`` extra: ``pip install 'results-compat[progress]'``), drawn on stderr and only
when stderr is a terminal: piped or redirected output gets nothing, so logs and CI output stay clean. Every task
counts as one run until a mapped task expands, when its children replace it in the total. While the bar is shown,
the root logger's console output goes through ``tqdm.write`` (tqdm's ``logging_redirect_tqdm``), so log lines
print above the bar instead of inside it. The flow run calls ``expand`` and ``advance`` from its scheduling
thread only.
"""

from __future__ import annotations

import sys
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from typing import Any

from compat.engine.states import State
from compat.errors import MissingDependency

__all__ = ["NO_PROGRESS", "Progress", "progress_bar"]

ShowProgress = Callable[[str, int], AbstractContextManager["Progress"]]


class Progress:
    """What a flow run reports as it goes; this base shows nothing (``NO_PROGRESS``)."""

    def expand(self, children: int) -> None:
        """A mapped task became ``children`` runs (it counted as one until now)."""

    def advance(self, state: State) -> None:
        """A task run (or a mapped child) finished in ``state``."""


NO_PROGRESS = Progress()


class _Bar(Progress):
    """A tqdm bar whose postfix counts finished runs per state, in the order the states first appear."""

    def __init__(self, bar: Any) -> None:
        self.bar = bar
        self.counts: Counter[str] = Counter()

    def expand(self, children: int) -> None:
        self.bar.total += children - 1
        self.bar.refresh()

    def advance(self, state: State) -> None:
        self.counts[type(state).__name__] += 1
        self.bar.set_postfix_str(", ".join(f"{kind} {count}" for kind, count in self.counts.items()), refresh=False)
        self.bar.update()


def progress_bar(enabled: bool) -> ShowProgress:
    """How a flow run shows progress: ``show(flow_name, total)`` is a context manager giving a ``Progress``.
    Asking for it without the extra is a ``MissingDependency`` at once, before anything runs, on a terminal or
    not, so a script that works in CI also works at a terminal."""
    if not enabled:
        return _nothing
    try:
        from tqdm import tqdm
        from tqdm.contrib.logging import logging_redirect_tqdm
    except ImportError:
        raise MissingDependency("tqdm", "progress", "flow.run(progress=True)") from None

    @contextmanager
    def show(flow_name: str, total: int) -> Iterator[Progress]:
        stream = sys.stderr
        if not _is_terminal(stream):
            yield NO_PROGRESS
            return
        bar = tqdm(total=total, desc=f"flow {flow_name!r}", unit="run", file=stream, dynamic_ncols=True)
        try:
            with logging_redirect_tqdm():
                yield _Bar(bar)
        finally:
            bar.close()

    return show


@contextmanager
def _nothing(flow_name: str, total: int) -> Iterator[Progress]:
    yield NO_PROGRESS


def _is_terminal(stream: Any) -> bool:
    isatty = getattr(stream, "isatty", None)
    try:
        return bool(isatty and isatty())
    except ValueError:  # a closed stream
        return False
