"""Runs the transform over many files: each in isolation, in this process (-j 1) or in worker processes.

No file's problem stops a run: whatever goes wrong with one file (it does not decode, does not parse, recurses
too deep, a rule has a bug, the disk is full) becomes a ``failed`` outcome with the reason, and the run goes on.
Workers return outcomes only, so no exception crosses a process boundary (``codemods.results.pool``).

Each process overlaps its disk work with its parsing: a thread reads the next files ahead, and another writes
rewritten files behind (atomically, with fsync, which waits on the disk for milliseconds per file) while the
next file is being transformed.

Memory is bounded: a file larger than ``Options.max_file_size`` is not read whole. If its bytes mention a legacy
name (scanned in chunks) it fails saying so, since parsing it would take seconds and hundreds of MB per MB;
otherwise it is filtered like any file without legacy names.

No edit is lost: a file is replaced only if it still holds what was read (its size and modification time, then
its bytes, compared after the new bytes are on disk and just before the atomic rename). One saved meanwhile (an
editor, a formatter) is left as it is now and reported ``edited``: run the codemod again to rewrite it.
"""

from __future__ import annotations

import os
import queue
import statistics
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, replace
from typing import BinaryIO, Literal, NamedTuple, Union

from compat.renames import PROFILES
from codemods.results._table import load_own
from codemods.results.diffs import unified_diff
from codemods.results.model import FileOutcome
from codemods.results.rules.imports import RoundTripError
from codemods.results.source import decode, encode
from codemods.results.transform import does_not_parse, may_mention, may_mention_in, transform_source

__all__ = ["MAX_FILE_SIZE", "Jobs", "Mode", "Options", "Original", "Oversized", "ReadAhead", "WriteBehind", "commit",
           "prepare", "process_file", "read", "run"]

Mode = Literal["write", "check", "diff"]

MAX_FILE_SIZE = 1024 * 1024
"""Files larger than this (bytes) are not parsed: a 5 MB generated module takes 18-30 s and 1 GB to parse
(``benchmarks/codemod_large_file.py``)."""


@dataclass(frozen=True)
class Options:
    """What a run does with each file: ``write`` it in place, only ``check`` it, or show a ``diff``; ``profile``
    ``auto`` picks each file's profile by the package it imports."""

    profile: str = "auto"
    mode: Mode = "write"
    max_file_size: int = MAX_FILE_SIZE


class Original(NamedTuple):
    """A file as it was read: its bytes, and its modification time just before they were read."""

    data: bytes
    mtime_ns: int

    def still_at(self, path: str) -> bool:
        """Whether the file at ``path`` still holds exactly what was read: its size and modification time first
        (one ``stat``), then its bytes (an edit within the clock's resolution that kept the size)."""
        try:
            st = os.stat(path)
            if st.st_size != len(self.data) or st.st_mtime_ns != self.mtime_ns:
                return False
            with open(path, "rb") as f:
                return f.read(len(self.data) + 1) == self.data
        except OSError:  # removed or renamed meanwhile
            return False


class Oversized(NamedTuple):
    """A file larger than the run's ``max_file_size``, left unread."""

    size: int
    limit: int


def read(path: str, limit: int = MAX_FILE_SIZE) -> Original | Oversized | OSError:
    """The file at ``path`` as read now (unless it is larger than ``limit`` bytes), or the error reading it."""
    try:
        with open(path, "rb") as f:
            st = os.fstat(f.fileno())
            if st.st_size > limit:
                return Oversized(st.st_size, limit)
            data = f.read(limit + 1)  # no more than the limit, even from a file growing meanwhile
            return Original(data, st.st_mtime_ns) if len(data) <= limit else Oversized(len(data), limit)
    except OSError as exc:
        return exc


def process_file(path: str, options: Options) -> FileOutcome:
    """Transform one file and (in write mode) replace it atomically, keeping its encoding, newlines and mode."""
    original = read(path, options.max_file_size)
    outcome, new_data = prepare(path, original, options)
    return commit(outcome, new_data, original) if new_data is not None and isinstance(original, Original) else outcome


def prepare(
    path: str, original: Original | Oversized | OSError, options: Options
) -> tuple[FileOutcome, bytes | None]:
    """The outcome for ``path`` given what was read (or the error reading it), and in write mode the new bytes
    still to be written (``commit``); never raises."""
    try:
        if isinstance(original, Oversized):
            return _oversized(path, original, options), None
        return _prepare(path, original if isinstance(original, OSError) else original.data, options)
    except (RecursionError, MemoryError) as exc:  # Python's parser gives up on deep nesting with either
        return FileOutcome(path, "failed", error=f"too deeply nested to analyse ({type(exc).__name__}: Python's own "
                           "parser gives up on it); the file is unchanged"), None
    except Exception as exc:  # one file's problem must never stop the run
        return FileOutcome(path, "failed", error=f"internal error: {type(exc).__name__}: {exc}"), None


def _oversized(path: str, file: Oversized, options: Options) -> FileOutcome:
    """A file too large to parse: filtered if no legacy name occurs in it (scanned a chunk at a time), else failed
    saying how to process it anyway."""
    try:
        with open(path, "rb") as f:
            mentions = may_mention_in(f, PROFILES.get(options.profile))
    except OSError as exc:
        return FileOutcome(path, "failed", error=f"cannot read: {exc.strerror or exc}")
    if not mentions:
        return FileOutcome(path, "filtered")
    return FileOutcome(path, "failed", error=(
        f"not analysed: {_mib(file.size)} is larger than --max-file-size {_mib(file.limit)} (parsing takes "
        "seconds and about 200 MB of memory per MB); pass --max-file-size with a larger size to rewrite it, or --exclude it "
        "if it is generated"))


def _mib(size: int) -> str:
    return f"{size / (1024 * 1024):.1f} MiB" if size >= 1024 * 1024 else f"{size} bytes"


def _prepare(path: str, data: bytes | OSError, options: Options) -> tuple[FileOutcome, bytes | None]:
    if isinstance(data, OSError):
        return FileOutcome(path, "failed", error=f"cannot read: {data.strerror or data}"), None
    profile = PROFILES.get(options.profile)  # None: auto
    if not may_mention(data, profile):
        return FileOutcome(path, "filtered"), None
    try:
        text, encoding = decode(data)
    except (SyntaxError, UnicodeDecodeError, LookupError) as exc:
        return FileOutcome(path, "failed", error=f"cannot decode: {exc}; declare the file's encoding with a "
                           "'# -*- coding: <name> -*-' line (PEP 263) or convert the file to UTF-8"), None
    try:
        result = transform_source(text, profile)
    except SyntaxError as exc:
        return FileOutcome(path, "failed", error=does_not_parse(text, exc)), None
    except RoundTripError as exc:
        return FileOutcome(path, "failed", error=f"refused: {exc}"), None
    if not result.changed:
        return FileOutcome(path, "unchanged", result.sites), None
    new_data = encode(result.code, encoding)
    diff = ""
    if options.mode == "diff":
        diff = unified_diff(path, text, result.code)
    outcome = FileOutcome(path, "changed", result.sites, diff=diff)
    return outcome, new_data if options.mode == "write" else None


class _Edited(Exception):
    """The file no longer holds what was read: the new bytes must not replace it."""


def commit(outcome: FileOutcome, new_data: bytes, original: Original) -> FileOutcome:
    """Replace the file atomically with ``new_data``, keeping its mode, if it still holds ``original``; the outcome,
    ``edited`` if it was changed since it was read (it is left as it is), ``failed`` if it could not be written."""
    atomic_write = load_own("compat.results._atomic").atomic_write  # only once a file is rewritten

    def fill(f: BinaryIO) -> None:
        f.write(new_data)
        f.flush()
        os.fsync(f.fileno())  # the slow part happens before the check, so nothing waits between check and rename
        if not original.still_at(outcome.path):
            raise _Edited

    try:
        mode = os.stat(outcome.path).st_mode & 0o7777
        atomic_write(outcome.path, fill, mode=mode, durable=False)
    except (_Edited, FileNotFoundError):
        return replace(outcome, status="edited", diff="",
                       error="changed on disk while the codemod worked on it, so it was left as it is now; run the "
                             "codemod again to rewrite it")
    except OSError as exc:
        return replace(outcome, status="failed", error=f"cannot write: {exc.strerror or exc}")
    return outcome


class ReadAhead:
    """Reads the files it is given, in order, on its own thread, a bounded number ahead of ``next()``."""

    def __init__(self, limit: int = MAX_FILE_SIZE, ahead: int = 16) -> None:
        self._limit = limit
        self._paths: queue.SimpleQueue[str | None] = queue.SimpleQueue()
        self._read: queue.Queue[Original | Oversized | OSError] = queue.Queue(maxsize=ahead)
        self._closed = threading.Event()
        self._thread = threading.Thread(target=self._run, name="codemod-read-ahead", daemon=True)
        self._thread.start()

    def add(self, paths: Iterable[str]) -> None:
        for path in paths:
            self._paths.put(path)

    def next(self) -> Original | Oversized | OSError:
        """The next file added, as read (or the error reading it)."""
        return self._read.get()

    def close(self) -> None:
        """Stop the thread, dropping what was read ahead and not asked for (a run that ends early)."""
        self._closed.set()
        self._paths.put(None)
        while self._thread.is_alive():
            try:
                self._read.get_nowait()  # frees a thread blocked on a full queue
            except queue.Empty:
                self._thread.join(0.05)  # returns as soon as the thread ends

    def _run(self) -> None:
        while not self._closed.is_set() and (path := self._paths.get()) is not None:
            self._read.put(read(path, self._limit))


class WriteBehind:
    """Commits rewritten files on its own thread and hands each final outcome to ``done(key, outcome)``."""

    def __init__(self, done: Callable[[int, FileOutcome], None]) -> None:
        self._done = done
        self._writes: queue.Queue[tuple[int, FileOutcome, bytes, Original] | None] = queue.Queue()
        self._thread = threading.Thread(target=self._run, name="codemod-write-behind", daemon=True)
        self._thread.start()

    def add(self, key: int, outcome: FileOutcome, new_data: bytes, original: Original) -> None:
        self._writes.put((key, outcome, new_data, original))

    def close(self) -> None:
        """Return once every write added has been committed and reported."""
        self._writes.put(None)
        self._thread.join()

    def _run(self) -> None:
        while (write := self._writes.get()) is not None:
            key, outcome, new_data, original = write
            self._done(key, commit(outcome, new_data, original))


Jobs = Union[int, Literal["auto"]]

_PROBE = 0.2
"""Seconds of work in this process before ``-j auto`` judges what is left."""
_WORKERS_WORTH = {"fork": 2.0, "other": 4.0}
"""Seconds of work left (estimated) from which ``-j auto`` hands it to worker processes: forked workers start in
milliseconds and inherit what this process imported (libcst); spawned ones start an interpreter each."""


def run(
    paths: Sequence[str],
    options: Options,
    jobs: Jobs = 1,
    progress: Callable[[int], None] | None = None,
) -> list[FileOutcome]:
    """Every file's outcome, in the order of ``paths``. ``progress(n)`` is called as n more files are done.

    ``jobs``: 1 runs in this process, N in N worker processes, ``"auto"`` in this process unless the work proves
    big enough for workers to finish sooner (``_run_auto``)."""
    if jobs == "auto":
        return _run_auto(paths, options, progress)
    if jobs > 1 and len(paths) >= 2 * jobs:
        from codemods.results.pool import run_in_workers

        return run_in_workers(paths, options, jobs, progress)
    outcomes = _run_here(paths, options, progress)
    return [outcome for outcome in outcomes if outcome is not None]


def _run_here(
    paths: Sequence[str],
    options: Options,
    progress: Callable[[int], None] | None,
    enough: Callable[[int], bool] | None = None,
) -> list[FileOutcome | None]:
    """The outcomes of ``paths`` worked on in this process, in order; once ``enough(files done)`` says so, the
    rest are left None (the file in hand is finished first, and every write made is committed)."""
    outcomes: list[FileOutcome | None] = [None] * len(paths)
    if not paths:
        return outcomes

    def done(index: int, outcome: FileOutcome) -> None:
        outcomes[index] = outcome

    reader, writer = ReadAhead(options.max_file_size), WriteBehind(done)
    reader.add(paths)
    try:
        for index, path in enumerate(paths):
            original = reader.next()
            outcome, new_data = prepare(path, original, options)
            if new_data is not None and isinstance(original, Original):
                writer.add(index, outcome, new_data, original)
            else:
                outcomes[index] = outcome
            if progress is not None:
                progress(1)
            if enough is not None and enough(index + 1):
                break
    finally:
        reader.close()
        writer.close()
    return outcomes


def _run_auto(paths: Sequence[str], options: Options, progress: Callable[[int], None] | None) -> list[FileOutcome]:
    """``-j auto``: worker processes only where they finish sooner than this process alone.

    Most of a tree has no legacy name and costs a read and a byte scan, so this process settles those first (a
    worker would pay its start-up for them) and keeps the files to parse. It works on those too, timing each; after
    ``_PROBE`` seconds it estimates the work left (the bytes left at the median pace per byte so far) and hands the
    rest to one worker per core only if that exceeds ``_WORKERS_WORTH``. Small runs never start a process, so ``-j auto`` is
    never slower than ``-j 1`` by more than that judgement; big ones use every core.
    """
    import multiprocessing

    profile = PROFILES.get(options.profile)
    outcomes: list[FileOutcome | None] = [None] * len(paths)
    to_parse: list[int] = []
    sizes: list[int] = []
    reader = ReadAhead(options.max_file_size)
    reader.add(paths)
    try:
        for index, path in enumerate(paths):
            original = reader.next()
            if isinstance(original, Original) and may_mention(original.data, profile):
                to_parse.append(index)
                sizes.append(len(original.data))  # the bytes are read again when parsed: memory stays bounded
                continue
            outcomes[index], _ = prepare(path, original, options)  # filtered, oversized or unreadable: no parse
            if progress is not None:
                progress(1)
    finally:
        reader.close()

    cores = os.cpu_count() or 1
    worth = _WORKERS_WORTH["fork" if multiprocessing.get_start_method() == "fork" else "other"]
    total = sum(sizes)
    bytes_left = [total]
    paces: list[float] = []  # seconds per byte of each file parsed here after the first (which imports libcst)
    last = [0.0]

    def enough(files_done: int) -> bool:
        now = time.perf_counter()
        size = sizes[files_done - 1]
        bytes_left[0] -= size
        if files_done > 1:
            paces.append((now - last[0]) / max(size, 1))
        last[0] = now
        files_left = len(to_parse) - files_done
        if cores < 2 or files_left < 4 or len(paces) < 3 or now - start < _PROBE:
            return False
        # the median pace: a file that paid a one-time cost (a rule's first import) does not make the rest look big
        return statistics.median(paces) * bytes_left[0] >= worth

    start = time.perf_counter()
    here = _run_here([paths[index] for index in to_parse], options, progress, enough)
    rest = [index for index, outcome in zip(to_parse, here) if outcome is None]
    for index, outcome in zip(to_parse, here):
        outcomes[index] = outcome
    if rest:
        from codemods.results.pool import run_in_workers

        jobs = min(cores, len(rest) // 2)
        for index, outcome in zip(rest, run_in_workers([paths[index] for index in rest], options, jobs, progress)):
            outcomes[index] = outcome
    return [outcome for outcome in outcomes if outcome is not None]
