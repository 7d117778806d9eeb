"""GCSResult and AzureResult write/read against the raw SDK calls on the same bytes, side by side in one run.

The emulators the tests use run in child processes on 127.0.0.1 (gcp-storage-emulator, and Azurite from
``.cache/azurite``, which ``make test`` installs), so they do not share this process's GIL. The value is
``os.urandom(size)``; the Result pickles it, uploads it, downloads and unpickles it. The baseline uploads and
downloads the very bytes the Result stores (its pickle, a few bytes longer than the value) with the SDK's own calls
(``blob.upload_from_string``/``download_as_bytes``, ``upload_blob``/``download_blob().readall()``), so both sides
take the same path through the SDK and the emulator (Azure's SDK switches from one Put Blob to staged blocks above
64 MB, and Azurite reads a blob of blocks back much more slowly). "(de)ser" is the part of the Result's time spent
in its serializer (pickle: one copy of the value); "w/o ser" is the ratio once that is taken out.
Each row: both sides' fastest and median of interleaved rounds, the ratio of fastests and of medians; the load
average before and after. Target: at most 1.10x.
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
        "--extentMemoryLimit", "2048", "--skipApiVersionCheck", "--loose", "--silent", "--disableTelemetry",
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


def side_by_side(
    raw_fn: Callable[[], object], ours_fn: Callable[[], object], repeats: int
) -> tuple[list[float], list[float]]:
    """The times of the two sides, run alternately so that drift on a shared machine hits both alike."""
    raw, ours = [], []
    for _ in range(repeats):
        raw.append(timed(raw_fn))
        ours.append(timed(ours_fn))
    return raw, ours


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
    parser.add_argument("--rounds", type=int, default=7, help="interleaved rounds at 64 MB (200 at 1 KB)")
    args = parser.parse_args()
    print(f"load average (1, 5, 15 min) before: {_load()}")
    print(f"{'backend':>7} {'payload':>8} {'op':>6} {'raw SDK fastest/median':>23} {'Result fastest/median':>23} "
          f"{'ratio f/m':>11} {'(de)ser':>9}")
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
                    raw_f, raw_m = min(raw_times), statistics.median(raw_times)
                    ours_f, ours_m = min(ours_times), statistics.median(ours_times)
                    print(
                        f"{backend:>7} {label:>8} {op:>6} {raw_f * 1e3:>10.2f}/{raw_m * 1e3:>9.2f}ms "
                        f"{ours_f * 1e3:>10.2f}/{ours_m * 1e3:>9.2f}ms {ours_f / raw_f:>5.2f}/{ours_m / raw_m:>4.2f}x "
                        f"{serializing * 1e3:>7.2f}ms"
                    )
    print("(de)ser: the median time of the serializer alone on the value (serialize/deserialize of whole bytes)")
    print(f"load average (1, 5, 15 min) after: {_load()}")


if __name__ == "__main__":
    main()
