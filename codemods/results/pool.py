"""``-j N``: worker processes started once, fed batches from one queue of work, each file's outcome sent back as
soon as it is final.

Balance: batches shrink as the queue empties (a share of what is left, at most ``_MAX_BATCH`` files), and each
worker is sent its next batch while it still works on the current one, so no worker waits for the parent and all
finish close together. Each worker overlaps reading and writing with parsing (``runner.ReadAhead``/``WriteBehind``).

A worker that dies (killed, out of memory) loses nothing that was done: outcomes arrive per file, and before a
rewritten file is committed the worker announces it with a digest of its new bytes, so the parent can tell from
the file itself whether the write happened. Files the worker had not finished go back to the queue for the
others (a replacement worker is started); the file it was working on is retried once, and fails if it takes a
second worker down with it (a file that crashes the parser must not kill every worker in turn).
"""

from __future__ import annotations

import multiprocessing
import os
import signal
import threading
from collections import deque
from collections.abc import Callable, Sequence
from multiprocessing.connection import Connection, wait
from typing import Any

from codemods.results.model import FileOutcome
from codemods.results.runner import Options, Original, ReadAhead, WriteBehind, prepare

__all__ = ["run_in_workers"]

_MAX_BATCH = 16
_SHARE = 4  # a batch is at most 1/(_SHARE * jobs) of the files left


def run_in_workers(
    paths: Sequence[str], options: Options, jobs: int, progress: Callable[[int], None] | None = None
) -> list[FileOutcome]:
    """Every file's outcome, in the order of ``paths``, computed by ``jobs`` worker processes."""
    return _Run(paths, options, jobs, progress).outcomes()


class _Worker:
    """The parent's view of one worker process: what it was sent and has not finished."""

    def __init__(self, options: Options) -> None:
        context = multiprocessing.get_context()
        self.conn, child = context.Pipe()
        self.process = context.Process(
            target=_work, args=(child, options, os.getpid()), daemon=True, name="codemod-worker"
        )
        self.process.start()
        child.close()  # the parent keeps no copy: the worker's death is end-of-file on self.conn
        self.unfinished: dict[int, None] = {}  # indices sent and not done, in the order the worker takes them
        self.writing: dict[int, tuple[FileOutcome, str]] = {}  # announced commits: outcome, digest of new bytes

    def send(self, batch: list[tuple[int, str]]) -> None:
        self.conn.send(batch)
        self.unfinished.update(dict.fromkeys(index for index, _ in batch))

    def ask_to_stop(self) -> None:
        try:
            self.conn.send(None)
        except OSError:  # it is gone already
            pass

    def stop(self) -> None:
        """Wait for the worker to end (``ask_to_stop`` first), killing it if it does not."""
        self.process.join(timeout=5)
        if self.process.is_alive():
            self.process.kill()
            self.process.join()
        self.conn.close()


class _Run:
    def __init__(
        self, paths: Sequence[str], options: Options, jobs: int, progress: Callable[[int], None] | None
    ) -> None:
        self.paths, self.options, self.jobs, self.progress = paths, options, jobs, progress
        self.results: list[FileOutcome | None] = [None] * len(paths)
        self.left = len(paths)
        self.queue: deque[int] = deque(range(len(paths)))
        self.suspects: set[int] = set()  # files a worker died on once
        self.replacements = 2 * jobs

    def outcomes(self) -> list[FileOutcome]:
        workers = [_Worker(self.options) for _ in range(min(self.jobs, len(self.paths)))]
        try:
            while self.left:
                for worker in workers:
                    self._feed(worker)
                by_conn = {worker.conn: worker for worker in workers}
                for ready in wait(list(by_conn)):
                    worker = by_conn[ready]  # type: ignore[index]
                    if not self._receive(worker):
                        workers.remove(worker)
                        self._bury(worker)
                        if self.queue and self.replacements:
                            self.replacements -= 1
                            workers.append(_Worker(self.options))
                if not workers:
                    self._give_up()
        finally:
            for worker in workers:
                worker.ask_to_stop()  # all at once: each takes a while to wind down
            for worker in workers:
                worker.stop()
        return [outcome for outcome in self.results if outcome is not None]

    def _feed(self, worker: _Worker) -> None:
        """Send a batch when the worker is into its last one (or has none)."""
        size = max(1, min(_MAX_BATCH, len(self.queue) // (_SHARE * self.jobs)))
        if self.queue and len(worker.unfinished) <= size:
            batch = [self.queue.popleft() for _ in range(min(size, len(self.queue)))]
            worker.send([(index, self.paths[index]) for index in batch])

    def _receive(self, worker: _Worker) -> bool:
        """Take every message waiting from ``worker``; False once it has died."""
        try:
            while True:
                message = worker.conn.recv()
                if message[0] == "writing":
                    _, index, outcome, digest = message
                    worker.writing[index] = (outcome, digest)
                else:
                    _, index, outcome = message
                    worker.writing.pop(index, None)
                    self._resolve(worker, index, outcome)
                if not worker.conn.poll():
                    return True
        except (EOFError, OSError):
            return False

    def _resolve(self, worker: _Worker | None, index: int, outcome: FileOutcome) -> None:
        if worker is not None:
            worker.unfinished.pop(index, None)
        self.results[index] = outcome
        self.left -= 1
        if self.progress is not None:
            self.progress(1)

    def _bury(self, worker: _Worker) -> None:
        """Account for every file a dead worker had: committed ones as done, the rest back to the queue."""
        worker.process.join(timeout=5)
        if worker.process.is_alive():  # it closed its end without exiting: make sure it is gone
            worker.process.kill()
            worker.process.join()
        cause = _cause(worker.process.exitcode)
        worker.conn.close()
        current: int | None = None  # the file it was working on: the first it had not announced
        back = []
        for index in worker.unfinished:
            if index in worker.writing:
                outcome, digest = worker.writing[index]
                if _holds(outcome.path, digest):
                    self._resolve(None, index, outcome)
                    continue
            elif current is None:
                current = index
                if index in self.suspects:
                    self._resolve(None, index, FileOutcome(
                        self.paths[index], "failed",
                        error=f"two worker processes died ({cause}) while transforming this file; it is unchanged: "
                        "run the codemod on it alone (-j 1) to see why",
                    ))
                    continue
                self.suspects.add(index)
            back.append(index)
        self.queue.extendleft(reversed(back))

    def _give_up(self) -> None:
        """Workers kept dying: every file left fails, saying so (none of them was changed)."""
        while self.queue:
            index = self.queue.popleft()
            self._resolve(None, index, FileOutcome(
                self.paths[index], "failed",
                error="not processed: the worker processes kept dying; the file is unchanged, run the codemod again",
            ))


def _cause(exitcode: int | None) -> str:
    if exitcode is not None and exitcode < 0:
        try:
            return f"killed by {signal.Signals(-exitcode).name}"
        except ValueError:
            return f"killed by signal {-exitcode}"
    return f"exit code {exitcode}"


def _digest(data: bytes) -> str:
    import hashlib

    return hashlib.blake2b(data, digest_size=16).hexdigest()


def _holds(path: str, digest: str) -> bool:
    """Whether the file at ``path`` now holds the bytes whose digest is ``digest`` (the commit happened)."""
    try:
        with open(path, "rb") as f:
            return _digest(f.read()) == digest
    except OSError:
        return False


def _work(conn: Connection, options: Options, parent: int) -> None:
    """A worker: transform each batch it is sent, report each file, until it is sent None or the parent is gone."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C: the parent stops the workers
    lock = threading.Lock()

    def send(message: tuple[Any, ...]) -> None:
        with lock:  # the write-behind thread reports too
            conn.send(message)

    reader = ReadAhead(options.max_file_size)
    writer = WriteBehind(lambda index, outcome: send(("done", index, outcome)))
    try:
        while (batch := _next_batch(conn, parent)) is not None:
            reader.add(path for _, path in batch)
            for index, path in batch:
                original = reader.next()
                outcome, new_data = prepare(path, original, options)
                if new_data is not None and isinstance(original, Original):
                    send(("writing", index, outcome, _digest(new_data)))
                    writer.add(index, outcome, new_data, original)
                else:
                    send(("done", index, outcome))
    except (EOFError, OSError):  # the parent is gone
        pass
    finally:
        reader.close()
        writer.close()


def _next_batch(conn: Connection, parent: int) -> list[tuple[int, str]] | None:
    """The next batch; None when told to stop, or when the parent died (other workers may hold its end of the
    pipe open, so end-of-file alone would not say so)."""
    while not conn.poll(1.0):
        if os.getppid() != parent:
            return None
    return conn.recv()  # type: ignore[no-any-return]
