"""Runs the transform over many files: each in isolation, in this process (-j 1) or in worker processes.

``process_file`` never raises: whatever goes wrong with one file (it does not decode, does not parse, recurses
too deep, a rule has a bug, the disk is full) becomes a ``failed`` outcome with the reason, and the run goes on.
Workers return outcomes only, so no exception crosses a process boundary; a worker that dies outright fails just
the files of its batch.
"""

from __future__ import annotations

import difflib
import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Literal

from compat.renames import PROFILES
from codemods.results.model import FileOutcome
from codemods.results.rules.imports import RoundTripError
from codemods.results.source import decode, encode
from codemods.results.transform import may_mention, transform_source

__all__ = ["Mode", "Options", "process_file", "run"]

Mode = Literal["write", "check", "diff"]


@dataclass(frozen=True)
class Options:
    """What a run does with each file: ``write`` it in place, only ``check`` it, or show a ``diff``."""

    profile: str = "compat"
    mode: Mode = "write"


def process_file(path: str, options: Options) -> FileOutcome:
    """Transform one file and (in write mode) replace it atomically, keeping its encoding, newlines and mode."""
    try:
        return _process(path, options)
    except RecursionError:
        return FileOutcome(path, "failed", error="too deeply nested to analyse (RecursionError)")
    except Exception as exc:  # one file's problem must never stop the run
        return FileOutcome(path, "failed", error=f"internal error: {type(exc).__name__}: {exc}")


def _process(path: str, options: Options) -> FileOutcome:
    profile = PROFILES[options.profile]
    try:
        with open(path, "rb") as f:
            data = f.read()
    except OSError as exc:
        return FileOutcome(path, "failed", error=f"cannot read: {exc.strerror or exc}")
    if not may_mention(data, profile):
        return FileOutcome(path, "filtered")
    try:
        text, encoding = decode(data)
    except (SyntaxError, UnicodeDecodeError, LookupError) as exc:
        return FileOutcome(path, "failed", error=f"cannot decode: {exc}; declare the file's encoding with a "
                           "'# -*- coding: <name> -*-' line (PEP 263) or convert the file to UTF-8")
    try:
        result = transform_source(text, profile)
    except SyntaxError as exc:
        return FileOutcome(path, "failed", error=f"does not parse: line {exc.lineno}: {exc.msg}")
    except RoundTripError as exc:
        return FileOutcome(path, "failed", error=f"refused: {exc}")
    if not result.changed:
        return FileOutcome(path, "unchanged", result.sites)
    new_data = encode(result.code, encoding)
    diff = ""
    if options.mode == "diff":
        diff = "".join(
            difflib.unified_diff(
                text.splitlines(keepends=True), result.code.splitlines(keepends=True), path, path
            )
        )
    elif options.mode == "write":
        from compat.results._atomic import atomic_write_bytes  # imports compat: only once a file is rewritten

        try:
            atomic_write_bytes(path, new_data, mode=os.stat(path).st_mode & 0o7777)
        except OSError as exc:
            return FileOutcome(path, "failed", result.sites, error=f"cannot write: {exc.strerror or exc}")
    return FileOutcome(path, "changed", result.sites, diff=diff)


def _process_batch(paths: Sequence[str], options: Options) -> list[FileOutcome]:
    return [process_file(path, options) for path in paths]


def run(
    paths: Sequence[str],
    options: Options,
    jobs: int = 1,
    progress: Callable[[int], None] | None = None,
) -> list[FileOutcome]:
    """Every file's outcome, in the order of ``paths``. ``progress(n)`` is called as n more files are done."""
    if jobs <= 1 or len(paths) < 2 * jobs:
        outcomes = []
        for path in paths:
            outcomes.append(process_file(path, options))
            if progress is not None:
                progress(1)
        return outcomes
    size = max(1, min(16, len(paths) // (jobs * 8)))  # small batches: the last one finishes soon after the rest
    batches = [list(paths[i : i + size]) for i in range(0, len(paths), size)]
    from concurrent.futures import ProcessPoolExecutor, as_completed
    from concurrent.futures.process import BrokenProcessPool

    by_path: dict[str, FileOutcome] = {}
    with ProcessPoolExecutor(max_workers=jobs) as pool:
        futures = {pool.submit(_process_batch, batch, options): batch for batch in batches}
        for future in as_completed(futures):
            batch = futures[future]
            try:
                done = future.result()
            except BrokenProcessPool as exc:  # a worker died (killed, out of memory): fail its files only
                done = [FileOutcome(path, "failed", error=f"worker process died: {exc}") for path in batch]
            for outcome in done:
                by_path[outcome.path] = outcome
            if progress is not None:
                progress(len(batch))
    return [by_path[path] for path in paths]
