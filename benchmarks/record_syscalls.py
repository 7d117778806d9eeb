"""What a record costs a durable 1 KB checkpoint in system calls alone, by layout, without Python around them
(issue 21).

Each layout writes the same durable 1 KB output (a temporary file, write, fsync, rename over the target) and a
600-byte record, side by side in one run (interleaved rounds, each layout first in turn; fastest and median per
write, with the load average):

- ``output``: the output alone, no record (the floor);
- ``sidecar rename``: the record as a second file, a temporary file renamed over the previous record after the
  output is in place (LocalResult's layout until this benchmark chose another);
- ``record first``: the same, renamed over the previous record *before* the output's fsync and rename;
- ``xattr``: the record set as an extended attribute of the output's temporary file before its fsync and rename,
  so it travels with the bytes it describes (nothing more is created or renamed);
- ``fresh file``: the previous record unlinked, the record created anew at its name (``O_EXCL``) and written: no
  rename over an existing file (which makes ext4, with its default ``auto_da_alloc``, write the new file's data out
  at once), no temporary name;
- ``unlink, rename``: a temporary record renamed into place once the previous one is unlinked (a rename onto no
  file);
- ``O_TMPFILE``: an unnamed file written, the previous record unlinked, the new one linked in;
- ``in place``: the previous record's own file rewritten (``pwrite`` and ``ftruncate``; no new inode);
- ``write-behind``: the sidecar rename done by a background thread; the figure is the caller's time per write, the
  round's total (the thread drained at its end) is printed beside it.

Run: .venv/bin/python benchmarks/record_syscalls.py [--rounds N] [--repeats N] [--only a,b]
"""

from __future__ import annotations

import argparse
import itertools
import os
import queue
import statistics
import tempfile
import threading
import time
from collections.abc import Callable

_CREATE = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW
_XATTR = "user.results-compat.record"


def writers(directory: str) -> tuple[dict[str, Callable[[], None]], Callable[[], None]]:
    """Each layout's write (one output and, but for ``output``, its record), and what drains the write-behind
    thread."""
    output, record = os.urandom(1100), os.urandom(600)
    names = itertools.count()
    held = os.open(directory, os.O_RDONLY)

    def temporary(beside: str) -> str:
        return os.path.join(os.path.dirname(beside), f".tmp-{next(names)}")

    def at(name: str) -> str:
        """``name`` in a directory of its own per layout (made now, not while timed): no layout dirties another's
        directory blocks."""
        own = os.path.join(directory, name.partition(".")[0])
        os.makedirs(own, exist_ok=True)
        return os.path.join(own, name)

    a, a_record, b, b_record, c, d, d_record, e, e_record, f, f_record, g, g_record, h, h_record, plain = (
        at(name) for name in (
            "a.pkl", "a.pkl.record.json", "b.pkl", "b.pkl.record.json", "c.pkl", "d.pkl", "d.pkl.record.json",
            "e.pkl", "e.pkl.record.json", "f.pkl", "f.pkl.record.json", "g.pkl", "g.pkl.record.json", "h.pkl",
            "h.pkl.record.json", "plain.pkl",
        )
    )

    def write_output(target: str, before_fsync: Callable[[int], None] | None = None) -> None:
        tmp = temporary(target)
        fd = os.open(tmp, _CREATE, 0o666)
        os.write(fd, output)
        if before_fsync is not None:
            before_fsync(fd)
        os.fsync(fd)
        os.close(fd)
        os.replace(tmp, target)

    def sidecar_rename(target: str) -> None:
        tmp = temporary(target)
        fd = os.open(tmp, _CREATE, 0o666)
        os.write(fd, record)
        os.close(fd)
        os.replace(tmp, target)

    def unlink(target: str) -> None:
        try:
            os.unlink(target)
        except FileNotFoundError:
            pass

    def fresh_file(target: str) -> None:
        unlink(target)
        fd = os.open(target, _CREATE, 0o666)
        os.write(fd, record)
        os.close(fd)

    def unlink_rename(target: str) -> None:
        tmp = temporary(target)
        fd = os.open(tmp, _CREATE, 0o666)
        os.write(fd, record)
        os.close(fd)
        unlink(target)
        os.rename(tmp, target)

    def unnamed(target: str) -> None:
        fd = os.open(os.path.dirname(target), os.O_TMPFILE | os.O_WRONLY, 0o666)
        os.write(fd, record)
        unlink(target)
        os.link(f"/proc/self/fd/{fd}", target, dst_dir_fd=held, follow_symlinks=True)  # linkat, following
        os.close(fd)

    def in_place(target: str) -> None:
        fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_NOFOLLOW, 0o666)
        os.pwrite(fd, record, 0)
        os.ftruncate(fd, len(record))
        os.close(fd)

    behind: queue.SimpleQueue[str | None] = queue.SimpleQueue()
    done = threading.Event()

    def background() -> None:
        while True:
            target = behind.get()
            if target is None:
                done.set()
                continue
            sidecar_rename(target)

    threading.Thread(target=background, daemon=True).start()

    def drain() -> None:
        done.clear()
        behind.put(None)
        done.wait()

    sides: dict[str, Callable[[], None]] = {
        "output": lambda: write_output(plain),
        "sidecar rename": lambda: (write_output(a), sidecar_rename(a_record)),
        "record first": lambda: write_output(b, lambda fd: sidecar_rename(b_record)),
        "xattr": lambda: write_output(c, lambda fd: os.setxattr(fd, _XATTR, record)),
        "fresh file": lambda: (write_output(d), fresh_file(d_record)),
        "unlink, rename": lambda: (write_output(e), unlink_rename(e_record)),
        "O_TMPFILE": lambda: (write_output(f), unnamed(f_record)),
        "in place": lambda: (write_output(g), in_place(g_record)),
        "write-behind": lambda: (write_output(h), behind.put(h_record)),
    }
    return sides, drain


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=12)
    parser.add_argument("--repeats", type=int, default=50)
    parser.add_argument("--only", default="", help="comma-separated layouts (the output floor is always run)")
    parser.add_argument("--dir", default=None, help="where to write (default: a temporary directory)")
    args = parser.parse_args()
    print("load average (1, 5, 15 min) before: " + ", ".join(f"{load:.2f}" for load in os.getloadavg()))
    with tempfile.TemporaryDirectory(dir=args.dir) as directory:
        sides, drain = writers(directory)
        if args.only:
            chosen = {"output", *args.only.split(",")}
            sides = {name: fn for name, fn in sides.items() if name in chosen}
        times: dict[str, list[float]] = {name: [] for name in sides}
        totals: dict[str, float] = {name: 0.0 for name in sides}
        for fn in sides.values():
            fn()
        drain()
        order = list(sides.items())
        for i in range(args.rounds):
            shift = i % len(order)
            for name, fn in order[shift:] + order[:shift]:
                begun = time.perf_counter()
                for _ in range(args.repeats):
                    start = time.perf_counter()
                    fn()
                    times[name].append(time.perf_counter() - start)
                drain()
                totals[name] += time.perf_counter() - begun
    base_fast, base_median = min(times["output"]), statistics.median(times["output"])
    base_total = totals["output"]
    print(f"{'us per write':>16} {'fastest':>9} {'ratio':>7} {'median':>9} {'ratio':>7} {'total ratio':>12}")
    for name, measured in times.items():
        fast, median = min(measured), statistics.median(measured)
        print(f"{name:>16} {fast * 1e6:>9.1f} {fast / base_fast:>6.2f}x {median * 1e6:>9.1f} "
              f"{median / base_median:>6.2f}x {totals[name] / base_total:>11.2f}x")
    print("load average (1, 5, 15 min) after: " + ", ".join(f"{load:.2f}" for load in os.getloadavg()))


if __name__ == "__main__":
    main()
