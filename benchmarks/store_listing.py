"""``ls`` and ``gc --dry-run`` of many stored outputs, against the floor of the same work done by hand, in one run.

Local: a directory of ``--outputs`` outputs (100,000 by default), each with its record, 1,000 per subdirectory.
S3: ``--objects`` objects (10,000 by default: half outputs, half their records) on a moto server started in a child
process (so it does not share this process's GIL), spoken to over HTTP. After the cold row, one more cold listing
split per record GET: the wall clock, this process's CPU and the server's (``per_request``).

Rows (fastest and median of interleaved rounds, each side first in every other round); on S3: ``cold``, every
record read (``RESULTS_COMPAT_CACHE_DIR=`` empty); ``kept``, records kept on this machine by a listing before
(``compat.store.record_cache``: none read again, none changed since); ``ls --brief``, the listing alone, against
the listing by hand:
- ``ls``: ``compat.store.list_root`` (one listing, every record read and parsed, each paired with its output by
  the identity the listing reports) against the floor: the same listing by hand (``os.scandir`` + ``lstat`` of
  every file, or the ``list_objects_v2`` pages) and a read of every record, by as many threads as ``ls`` uses.
- ``gc -n``: ``compat.store.collect(..., dry_run=True)`` with ``--older-than 30d`` against the same floor.
- ``$ ls``, ``$ gc -n``: the same through the command line (``results-compat ls ROOT``, ``results-compat gc
  --dry-run --older-than 30d ROOT``, ``main(argv)`` in this process), its table written to /dev/null.
Targets (issue 24): local < 5 s, S3 < 10 s, absolute.
``--cpu``: the local rows timed by this process's CPU time (user + system) instead of the wall clock: on a machine
others load, what the listing itself costs (both sides walk a directory the page cache holds, on one thread).
``--attributes``: each local record stored as its output's extended attribute (where earlier versions of LocalResult
kept a new output's record, and where it keeps another serializer's) instead of a record file; the floor then reads
each output's attribute. ``--trailers``: each local record after its output's pickle, in the output's own file
(``compat.results.trailer``: where LocalResult keeps a pickle's record now); the floor then opens each output, reads
its last 4 KiB with one ``pread``, and parses the record's JSON.
Run: .venv/bin/python benchmarks/store_listing.py [--outputs 100000] [--objects 10000] [--rounds 5] [--skip-s3] [--cpu]
[--attributes | --trailers]
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import json
import os
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from s3_io import moto_server  # noqa: E402

from compat.results.records import RECORD_XATTR  # noqa: E402
from compat.results.trailer import FOOTER, trailer  # noqa: E402
from compat.store import LocalRoot, ObjectRoot, Rules, collect, list_root  # noqa: E402
from compat.store.cli import main as results_compat  # noqa: E402

SUFFIX = ".record.json"
RULES = Rules(older_than=timedelta(days=30))


def record(name: str, data: bytes, stored: dict[str, object]) -> bytes:
    return json.dumps({
        "schema": 1, "bytes_hash": "sha256:" + hashlib.sha256(data).hexdigest(), "size": len(data), "location": name,
        "flow": "bench", "task": f"t{len(name) % 7}", "run_id": "r1", "written_at": "2026-01-01T00:00:00.000000Z",
        "serializer": "PickleSerializer", "code": None, "inputs": {}, "package_version": "0.1.0", "stored": stored,
        "key_id": None, "signature": None,
    }).encode()


def local_tree(directory: Path, count: int, attributes: bool = False, trailers: bool = False) -> None:
    """``count`` outputs with their records: record files beside them, or (``attributes``) each record as its
    output's extended attribute, or (``trailers``) each after its output's pickle, as LocalResult writes one now."""
    data = b"\x80\x05K\x01."
    for index in range(count):
        sub = directory / f"d{index // 1000:03d}"
        if index % 1000 == 0:
            sub.mkdir()
        path = sub / f"out-{index}.pkl"
        if trailers:
            made = trailer_record(f"d{index // 1000:03d}/out-{index}.pkl", data)
            path.write_bytes(data + trailer(made, len(data)))
            continue
        path.write_bytes(data)
        info = os.lstat(path)
        stored = {"size": info.st_size, "mtime_ns": info.st_mtime_ns, "inode": info.st_ino}
        made = record(f"d{index // 1000:03d}/out-{index}.pkl", data, stored)
        if attributes:
            os.setxattr(path, RECORD_XATTR, made, follow_symlinks=False)
        else:
            (sub / f"out-{index}.pkl{SUFFIX}").write_bytes(made)


def trailer_record(name: str, data: bytes) -> bytes:
    """The record a pickle ``data`` carries in its own file (it names no identity: it is inside the bytes)."""
    fields = json.loads(record(name, data, {"trailer": True}))
    return json.dumps(fields, sort_keys=True, separators=(",", ":")).encode()


def local_floor(directory: Path, attributes: bool = False, trailers: bool = False) -> Callable[[], object]:
    """The same listing by hand: every file's ``lstat`` and every record read and parsed (``attributes``: each
    output's attribute; ``trailers``: each output's last 4 KiB, its JSON found by the footer; as ``ls`` reads them)."""

    def walk() -> int:
        seen = 0
        pending = [str(directory)]
        while pending:
            with os.scandir(pending.pop()) as entries:
                for entry in entries:
                    if entry.is_dir(follow_symlinks=False):
                        pending.append(entry.path)
                        continue
                    info = entry.stat(follow_symlinks=False)
                    if trailers:
                        fd = os.open(entry.path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
                        try:
                            tail = os.pread(fd, 4096, max(0, info.st_size - 4096))
                        finally:
                            os.close(fd)
                        size, length = FOOTER.unpack_from(tail, len(tail) - FOOTER.size)[:2]
                        json.loads(tail[len(tail) - FOOTER.size - length : len(tail) - FOOTER.size])
                    elif attributes:
                        json.loads(os.getxattr(entry.path, RECORD_XATTR, follow_symlinks=False))
                    elif entry.name.endswith(SUFFIX):
                        with open(entry.path, "rb") as f:
                            json.loads(f.read())
                    seen += 1
        return seen

    return walk


def s3_objects(client: object, bucket: str, count: int) -> None:
    data = b"\x80\x05K\x01."

    def put(index: int) -> None:
        name = f"runs/d{index // 1000:03d}/out-{index}.pkl"
        etag = client.put_object(Bucket=bucket, Key=name, Body=data)["ETag"]  # type: ignore[attr-defined]
        client.put_object(Bucket=bucket, Key=name + SUFFIX, Body=record(name, data, {"etag": etag}))  # type: ignore[attr-defined]

    with ThreadPoolExecutor(16) as pool:
        list(pool.map(put, range(count // 2)))


def s3_floor(client: object, bucket: str, records: bool = True) -> Callable[[], object]:
    """The listing by hand and, with ``records``, every record read by 32 threads (as ``ls`` reads them)."""

    def listing() -> int:
        pages = client.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix="runs/")  # type: ignore[attr-defined]
        names = [item["Key"] for page in pages for item in page.get("Contents", ())]
        wanted = [name for name in names if name.endswith(SUFFIX)] if records else []

        def read(name: str) -> object:
            return json.loads(client.get_object(Bucket=bucket, Key=name)["Body"].read())  # type: ignore[attr-defined]

        with ThreadPoolExecutor(32) as pool:
            list(pool.map(read, wanted))
        return len(names)

    return listing


@contextlib.contextmanager
def record_cache(directory: str) -> Iterator[None]:
    """``ls`` keeping records in ``directory`` (empty: keeping none) for the block."""
    before = os.environ.get("RESULTS_COMPAT_CACHE_DIR")
    os.environ["RESULTS_COMPAT_CACHE_DIR"] = directory
    try:
        yield
    finally:
        if before is None:
            del os.environ["RESULTS_COMPAT_CACHE_DIR"]
        else:
            os.environ["RESULTS_COMPAT_CACHE_DIR"] = before


def command(*argv: str) -> Callable[[], object]:
    """``results-compat ARGV`` in this process, what it prints written to /dev/null."""

    def run() -> int:
        with open(os.devnull, "w") as sink, contextlib.redirect_stdout(sink):
            return results_compat(list(argv))

    return run


def rounds(floor: Callable[[], object], ours: Callable[[], object], count: int,
           clock: Callable[[], float] = time.perf_counter) -> tuple[list[float], list[float]]:
    times: tuple[list[float], list[float]] = ([], [])
    for index in range(count):
        order = [(0, floor), (1, ours)] if index % 2 == 0 else [(1, ours), (0, floor)]
        for side, fn in order:
            start = clock()
            fn()
            times[side].append(clock() - start)
    return times


def row(label: str, floor: list[float], ours: list[float]) -> str:
    fast = (min(floor), min(ours))
    med = (statistics.median(floor), statistics.median(ours))
    return (f"{label:>22} {fast[0]:>9.2f}s {fast[1]:>9.2f}s {fast[1] / fast[0]:>6.2f}x "
            f"{med[0]:>9.2f}s {med[1]:>9.2f}s {med[1] / med[0]:>6.2f}x")


def children_cpu() -> float:
    """CPU seconds (user + system) used so far by this process's children (the moto server), from /proc (Linux)."""
    total = 0.0
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            with open(f"/proc/{pid}/stat") as f:
                fields = f.read().rpartition(")")[2].split()
        except OSError:
            continue
        if int(fields[1]) == os.getpid():
            total += (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    return total


def per_request(listing: Callable[[], object], gets: int) -> str:
    """Where a cold listing's time goes, per record GET: the wall clock, this process's CPU (boto3's request,
    signature and response parsing, the threads) and the moto server's CPU (one Python process: its threads share
    one GIL). moto's server (werkzeug's) answers every request with ``Connection: close``: a connection each."""
    if not os.path.isdir("/proc"):
        return "(per-request CPU: no /proc here)"
    server, ours, wall = children_cpu(), time.process_time(), time.perf_counter()
    listing()
    wall, ours, server = time.perf_counter() - wall, time.process_time() - ours, children_cpu() - server
    return (f"{'':>22} one cold listing: {gets} record GETs, per GET {wall / gets * 1e3:.2f} ms wall, "
            f"{ours / gets * 1e3:.2f} ms CPU here (boto3), {server / gets * 1e3:.2f} ms CPU in moto's server")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--outputs", type=int, default=100_000)
    parser.add_argument("--objects", type=int, default=10_000)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--skip-s3", action="store_true")
    parser.add_argument("--cpu", action="store_true", help="time the local rows by CPU time, not the wall clock")
    parser.add_argument("--attributes", action="store_true",
                        help="local records as each output's extended attribute (an earlier version's), not record files")
    parser.add_argument("--trailers", action="store_true",
                        help="local records after each output's pickle, in its own file (a pickle's, now)")
    args = parser.parse_args()
    clock = time.process_time if args.cpu else time.perf_counter
    print("load average (1, 5, 15 min) before: " + ", ".join(f"{load:.2f}" for load in os.getloadavg()))
    print(f"{'':>22} {'-- fastest --':>27} {'-- median --':>27}")
    print(f"{'row':>22} {'by hand':>10} {'compat':>10} {'ratio':>7} {'by hand':>10} {'compat':>10} {'ratio':>7}")
    directory = Path(tempfile.mkdtemp(prefix="store-bench-"))
    try:
        local_tree(directory, args.outputs, args.attributes, args.trailers)
        root = LocalRoot(directory)
        floor = local_floor(directory, args.attributes, args.trailers)
        listed = list_root(root).entries
        assert len(listed) == args.outputs and all(entry.record is not None for entry in listed)
        k = f"{args.outputs // 1000}k local" + (" attr" if args.attributes else " trailer" if args.trailers else "") + (
            " cpu" if args.cpu else ""
        )
        print(row(f"ls {k}", *rounds(floor, lambda: list_root(root), args.rounds, clock)))
        print(row(f"gc -n {k}", *rounds(floor, lambda: collect(root, RULES, dry_run=True), args.rounds, clock)))
        print(row(f"$ ls {k}", *rounds(floor, command("ls", str(directory)), args.rounds, clock)))
        print(row(f"$ gc -n {k}",
                  *rounds(floor, command("gc", "--dry-run", "--older-than", "30d", str(directory)), args.rounds, clock)))
    finally:
        shutil.rmtree(directory)
    if not args.skip_s3:
        import boto3
        from botocore.config import Config

        from compat.results.s3 import S3Result
        from compat.results.serializers import JSONSerializer

        with moto_server() as endpoint:
            kwargs = {"endpoint_url": endpoint, "aws_access_key_id": "bench", "aws_secret_access_key": "bench",
                      "region_name": "us-east-1"}
            client = boto3.session.Session().client("s3", **kwargs, config=Config(max_pool_connections=32))
            client.create_bucket(Bucket="bench")
            s3_objects(client, "bench", args.objects)
            root_s3 = ObjectRoot(S3Result("bench", boto3_kwargs=kwargs, serializer=JSONSerializer()), "runs/")
            floor_s3 = s3_floor(client, "bench")
            k = f"{args.objects // 1000}k S3"
            with record_cache(""):
                print(row(f"ls {k}, cold", *rounds(floor_s3, lambda: list_root(root_s3), args.rounds)))
                print(per_request(lambda: list_root(root_s3), args.objects // 2))
            with tempfile.TemporaryDirectory(prefix="store-bench-cache-") as kept, record_cache(kept):
                assert len(list_root(root_s3).entries) == args.objects // 2  # every record read, and kept
                print(row(f"ls {k}, kept", *rounds(floor_s3, lambda: list_root(root_s3), args.rounds)))
                print(row(f"gc -n {k}, kept",
                          *rounds(floor_s3, lambda: collect(root_s3, RULES, dry_run=True), args.rounds)))
            print(row(f"ls --brief {k}", *rounds(s3_floor(client, "bench", records=False),
                                                  lambda: list_root(root_s3, records=False), args.rounds)))
    print("load average (1, 5, 15 min) after: " + ", ".join(f"{load:.2f}" for load in os.getloadavg()))


if __name__ == "__main__":
    main()
