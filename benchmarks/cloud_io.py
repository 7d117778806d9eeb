"""GCSResult and AzureResult write/read against the raw SDK calls on the same bytes, side by side in one run.

The emulators the tests use run in child processes on 127.0.0.1 (gcp-storage-emulator, and Azurite from
``.cache/azurite``, which ``make test`` installs), so they do not share this process's GIL. The value is
``os.urandom(size)``; the Result pickles it, uploads it, downloads and unpickles it. The baseline uploads and
downloads the very bytes the Result stores (its pickle, a few bytes longer than the value) with the SDK's own calls
(``blob.upload_from_string``/``download_as_bytes``, ``upload_blob``/``download_blob().readall()``), so both sides
take the same path through the SDK and the emulator (Azure's SDK switches from one Put Blob to staged blocks above
64 MB, and Azurite reads a blob of blocks back much more slowly). "(de)ser" is the serializer's time alone on the
value (pickle: one copy of the value), for scale.
Each row: both sides' fastest and median of interleaved rounds (the raw call first in every other round), the ratio
of fastests, of medians and the median of each round's ratio ("p": paired), and the same ratios of this process's CPU
time ("client CPU"); the load average before and after. Target: at most 1.10x (the wall ratios).
Why a 64 MB row swings between runs on a shared machine: the emulator is a process of its own that hashes every
upload (MD5 and CRC32C of 64 MB) and competes with this one and everyone else's for the cores, so one call's wall
time moves by a factor of two from round to round; and a 64 MB copy runs at memory bandwidth (about 1 GB/s when
the machine is busy: 50-60 ms), so a side that copies once more than the other pays in proportion to the load. The
client CPU ratios do not carry the emulator's share, and the paired ratio compares calls made under the same load.
Run: .venv/bin/python benchmarks/cloud_io.py [--quick] [--only gcs|azure] [--rounds N]
"""

from __future__ import annotations

import argparse
import os
import socket
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from compat import AzureResult, GCSResult, Result

SIZES = {"1 KB": 1024, "64 MB": 64 * 1024 * 1024}
CONTAINER = "bench"
AZURITE = Path(__file__).resolve().parent.parent / ".cache" / "azurite" / "node_modules" / ".bin" / "azurite-blob"
AZURITE_KEY = "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=="


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextmanager
def child(command: list[str], ready: Callable[[], bool]) -> Iterator[subprocess.Popen[str]]:
    """A server in a child process, waited for until ``ready()``; stopped on exit."""
    server = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, text=True)
    try:
        deadline = time.monotonic() + 60
        while not ready():
            if time.monotonic() > deadline or server.poll() is not None:
                raise RuntimeError(f"{command[0]} did not start")
            time.sleep(0.1)
        yield server
    finally:
        server.terminate()
        server.wait(timeout=10)


def listening(port: int) -> Callable[[], bool]:
    def ready() -> bool:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
        except OSError:
            return False
        return True

    return ready


@contextmanager
def gcs() -> Iterator[tuple[Any, Result]]:
    """(raw bucket, GCSResult) on a gcp-storage-emulator child process."""
    port = free_port()
    command = [sys.executable, "-m", "gcp_storage_emulator", "start", "--host", "127.0.0.1", "--port", str(port)]
    with child([*command, "--in-memory", "--quiet"], listening(port)):
        os.environ["STORAGE_EMULATOR_HOST"] = f"http://127.0.0.1:{port}"
        from google.cloud import storage

        bucket = storage.Client(project="bench").create_bucket(CONTAINER)
        yield bucket.blob("raw.bin"), GCSResult(bucket=CONTAINER, location="ours.pkl")


@contextmanager
def azure() -> Iterator[tuple[Any, Result]]:
    """(raw blob client, AzureResult) on an Azurite child process."""
    if not AZURITE.exists():
        raise SystemExit(f"{AZURITE} is missing: run `make azurite` (or `make test`) first")
    port = free_port()
    command = [
        str(AZURITE), "--blobHost", "127.0.0.1", "--blobPort", str(port), "--inMemoryPersistence",
        "--extentMemoryLimit", "6144", "--skipApiVersionCheck", "--loose", "--silent", "--disableTelemetry",
    ]  # fmt: skip
    with child(command, listening(port)):
        from azure.storage.blob import BlobServiceClient

        connection_string = (
            f"DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;AccountKey={AZURITE_KEY};"
            f"BlobEndpoint=http://127.0.0.1:{port}/devstoreaccount1;"
        )
        service = BlobServiceClient.from_connection_string(connection_string)
        service.create_container(CONTAINER)
        raw = service.get_blob_client(CONTAINER, "raw.bin")
        yield raw, AzureResult(container=CONTAINER, connection_string=connection_string, location="ours.pkl")


def timed(fn: Callable[[], object]) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def wall_and_cpu(fn: Callable[[], object]) -> tuple[float, float]:
    """Seconds ``fn()`` takes on the wall clock and on this process's CPU clock (every thread of it, not the
    emulator's process: what the client side spends, which a busy machine inflates far less than the wall time)."""
    wall, cpu = time.perf_counter(), time.process_time()
    fn()
    return time.perf_counter() - wall, time.process_time() - cpu


def side_by_side(
    raw_fn: Callable[[], object], ours_fn: Callable[[], object], repeats: int
) -> tuple[list[tuple[float, float]], list[tuple[float, float]]]:
    """The (wall, CPU) times of the two sides, run alternately so that drift on a shared machine hits both alike,
    the raw call first in one round and second in the next (what the other side left behind, freed memory to
    reuse or a server still busy, then falls on each alike)."""
    raw, ours = [], []
    for round_ in range(repeats):
        if round_ % 2:
            ours.append(wall_and_cpu(ours_fn))
            raw.append(wall_and_cpu(raw_fn))
        else:
            raw.append(wall_and_cpu(raw_fn))
            ours.append(wall_and_cpu(ours_fn))
    return raw, ours


def _fastest_median(times: list[tuple[float, float]], clock: int) -> tuple[float, float]:
    """Fastest and median of one clock (0: wall, 1: CPU) of ``times``."""
    spent = [pair[clock] for pair in times]
    return min(spent), statistics.median(spent)


def _paired(ours: list[tuple[float, float]], raw: list[tuple[float, float]], clock: int) -> float:
    """The median of each round's ratio of one clock: the two calls of a round ran side by side, under the same
    load, so their ratio carries less of the machine's swings than a ratio of medians."""
    return statistics.median(mine[clock] / theirs[clock] for mine, theirs in zip(ours, raw))


def _load() -> str:
    return ", ".join(f"{load:.2f}" for load in os.getloadavg())


def rows(backend: str, raw: Any, data: bytes) -> tuple[Callable[[], object], Callable[[], object]]:
    """The raw SDK's (upload, download) of ``data`` for ``backend``."""
    if backend == "gcs":
        return (
            lambda: raw.upload_from_string(data, content_type="application/octet-stream"),
            lambda: raw.download_as_bytes(),
        )
    return (lambda: raw.upload_blob(data, overwrite=True), lambda: raw.download_blob().readall())


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="skip the 64 MB payload")
    parser.add_argument("--only", choices=("gcs", "azure"), help="one backend only")
    parser.add_argument("--rounds", type=int, default=15, help="interleaved rounds at 64 MB (200 at 1 KB)")
    args = parser.parse_args()
    print(f"load average (1, 5, 15 min) before: {_load()}")
    print(f"{'backend':>7} {'payload':>8} {'op':>6} {'raw SDK fastest/median':>23} {'Result fastest/median':>23} "
          f"{'ratio f/m/p':>16} {'client CPU ratio f/m/p':>23} {'(de)ser':>9}")
    for backend, server in (("gcs", gcs), ("azure", azure)):
        if args.only and backend != args.only:
            continue
        with server() as (raw, result):
            for label, size in SIZES.items():
                if args.quick and size > 1024 * 1024:
                    continue
                value = os.urandom(size)
                repeats = args.rounds if size > 1024 * 1024 else 200
                data = result.serializer.serialize(value)
                upload, download = rows(backend, raw, data)
                for op, raw_fn, ours_fn, serializing_fn in (
                    ("write", upload, lambda: result.write(value), lambda: result.serializer.serialize(value)),
                    ("read", download, lambda: result.read("ours.pkl"), lambda: result.serializer.deserialize(data)),
                ):
                    raw_fn(), ours_fn()  # warm up (connections, first-call imports)
                    raw_times, ours_times = side_by_side(raw_fn, ours_fn, repeats)
                    serializing = statistics.median(timed(serializing_fn) for _ in range(repeats))
                    raw_f, raw_m = _fastest_median(raw_times, 0)
                    ours_f, ours_m = _fastest_median(ours_times, 0)
                    raw_cf, raw_cm = _fastest_median(raw_times, 1)
                    ours_cf, ours_cm = _fastest_median(ours_times, 1)
                    paired = _paired(ours_times, raw_times, 0)
                    paired_cpu = _paired(ours_times, raw_times, 1)
                    print(
                        f"{backend:>7} {label:>8} {op:>6} {raw_f * 1e3:>10.2f}/{raw_m * 1e3:>9.2f}ms "
                        f"{ours_f * 1e3:>10.2f}/{ours_m * 1e3:>9.2f}ms {ours_f / raw_f:>5.2f}/{ours_m / raw_m:>4.2f}/"
                        f"{paired:>4.2f}x {ours_cf / raw_cf:>11.2f}/{ours_cm / raw_cm:>4.2f}/{paired_cpu:>4.2f}x "
                        f"{serializing * 1e3:>7.2f}ms"
                    )
    print("(de)ser: the median time of the serializer alone on the value (serialize/deserialize of whole bytes)")
    print("client CPU: this process's CPU time (all its threads; the emulator runs in a process of its own), which "
          "shows what each side costs the client without the server's share of a busy machine")
    print(f"load average (1, 5, 15 min) after: {_load()}")


if __name__ == "__main__":
    main()
