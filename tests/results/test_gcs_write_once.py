"""Write-once GCSResults (``overwrite=False``): the upload carries GCS's precondition ``ifGenerationMatch=0``, and a
``412 Precondition Failed`` answer gives the writer the stored value instead of an error.

gcp-storage-emulator does not enforce preconditions (a second upload with ``ifGenerationMatch=0`` succeeds there),
so these tests check what is sent (the emulator logs each request line) and, for the answer, put a small real HTTP
server in front of the emulator that refuses every upload with GCS's 412 and passes every read through. The race
between two processes on one target runs on S3 and Azurite, which enforce theirs (test_cloud_write_once.py).
"""

from __future__ import annotations

import http.server
import json
import logging
import pickle
import threading
import urllib.error
import urllib.request
from collections.abc import Iterator
from typing import Any

import pytest

from compat import GCSResult, StorageError
from compat.results._cloud import LocationTaken
from tests.fixtures.gcs_server import EMULATOR_LOGGER

PRECONDITION_FAILED = {
    "error": {"code": 412, "message": "At least one of the pre-conditions you specified did not hold."}
}


@pytest.fixture
def once(gcs_bucket: str) -> GCSResult:
    return GCSResult(bucket=gcs_bucket, overwrite=False, location="target.pkl")


def upload_lines(caplog: pytest.LogCaptureFixture) -> list[str]:
    """The request lines of the uploads the emulator received while ``caplog`` listened."""
    lines = [record.getMessage() for record in caplog.records if record.name.startswith(EMULATOR_LOGGER)]
    return [line for line in lines if "POST /upload" in line]


def test_write_once_sends_if_generation_match_0(once: GCSResult, caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.INFO, logger=EMULATOR_LOGGER):
        once.write("first")
    lines = upload_lines(caplog)
    assert len(lines) == 1 and "ifGenerationMatch=0" in lines[0]


def test_default_mode_sends_no_precondition(gcs_bucket: str, caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.INFO, logger=EMULATOR_LOGGER):
        GCSResult(bucket=gcs_bucket, location="target.pkl").write("first")
    lines = upload_lines(caplog)
    assert len(lines) == 1 and "ifGenerationMatch" not in lines[0]


# -- GCS's answer when the name is taken: 412 -------------------------------------------------------------------


class _Refusing(http.server.BaseHTTPRequestHandler):
    """Refuses every upload (POST) with GCS's 412; passes every other request to the emulator."""

    upstream = ""

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length", 0)))
        self._answer(412, json.dumps(PRECONDITION_FAILED).encode(), "application/json")

    def do_GET(self) -> None:
        try:
            with urllib.request.urlopen(self.upstream + self.path, timeout=10) as response:
                self._answer(response.status, response.read(), response.headers.get("Content-Type", ""))
        except urllib.error.HTTPError as refused:
            self._answer(refused.code, refused.read(), refused.headers.get("Content-Type", ""))

    def _answer(self, status: int, body: bytes, content_type: str) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture(scope="module")
def refusing_endpoint(gcs_endpoint: str) -> Iterator[str]:
    handler = type("Refusing", (_Refusing,), {"upstream": gcs_endpoint})
    server = http.server.HTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def behind(refusing_endpoint: str, bucket: str, overwrite: bool) -> GCSResult:
    options = {"client_options": {"api_endpoint": refusing_endpoint}}
    return GCSResult(bucket=bucket, client_kwargs=options, overwrite=overwrite, location="target.pkl")


def test_412_on_write_once_returns_the_stored_value(once: GCSResult, refusing_endpoint: str) -> None:
    once.write("first")  # straight to the emulator
    later = behind(refusing_endpoint, once.bucket, overwrite=False).write("second")
    assert (later.value, later.location) == ("first", "target.pkl")


def test_412_on_write_bytes_raises_location_taken_naming_the_object(once: GCSResult, refusing_endpoint: str) -> None:
    refused = behind(refusing_endpoint, once.bucket, overwrite=False)
    with pytest.raises(LocationTaken, match=rf"gs://{once.bucket}/target\.pkl already holds a value") as info:
        refused.write_bytes("target.pkl", b"raw")
    assert isinstance(info.value, StorageError)


def test_412_while_overwriting_is_a_storage_error_not_a_lost_race(once: GCSResult, refusing_endpoint: str) -> None:
    refused = behind(refusing_endpoint, once.bucket, overwrite=True)
    with pytest.raises(StorageError, match=r"cannot write gs://.*GCS said 412") as info:
        refused.write("second")
    assert not isinstance(info.value, LocationTaken)


def test_location_taken_survives_pickling() -> None:
    error = pickle.loads(pickle.dumps(LocationTaken("gs://b/k", "k")))
    assert (error.uri, error.location, str(error)) == ("gs://b/k", "k", str(LocationTaken("gs://b/k", "k")))
