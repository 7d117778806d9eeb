"""Write-once object-store Results (``overwrite=False``), the same on each real server: the first writer stores its
value, later writers get it back instead of replacing it, in this process or in another one.

S3 (``If-None-Match: *``), Azure (``If-None-Match: *``, which Azurite enforces) and GCS (``ifGenerationMatch=0``,
which fake-gcs-server enforces on uploads; gcp-storage-emulator does not) refuse a second write on the server;
test_gcs_write_once.py checks what GCSResult sends and how it takes GCS's 412. What one backend does alone
(S3's multipart uploads, Azure's block uploads) stays in that backend's write-once module.
"""

from __future__ import annotations

import json
import pickle
import subprocess
import sys
import textwrap
from typing import Any

import cloudpickle
import pytest

from compat import StorageError
from tests.results.stores import Store

ENFORCED = pytest.mark.parametrize("store", ["azure", "gcs-strict", "s3"], indirect=True)
"""The servers that refuse a write-once upload to a taken name themselves."""


def once(store: Store) -> Any:
    return store.result(overwrite=False, location="target.pkl")


def stored(store: Store, name: str = "target.pkl") -> Any:
    """What the store holds at ``name``, read with the plain SDK client."""
    return pickle.loads(store.get(name))


def test_first_write_once_stores_the_value(store: Store) -> None:
    assert once(store).write("first").value == "first"
    assert stored(store) == "first"


def test_write_once_without_a_location_always_gets_a_new_name(store: Store) -> None:
    result = store.result(overwrite=False)
    first, second = result.write("a"), result.write("b")
    assert first.location != second.location and (first.value, second.value) == ("a", "b")


def test_default_mode_overwrites(store: Store) -> None:
    result = store.result(location="target.pkl")
    result.write("first")
    assert result.write("second").value == "second"
    assert stored(store) == "second"


@ENFORCED
def test_later_write_once_returns_the_stored_value_and_changes_nothing(store: Store) -> None:
    once(store).write("first")
    later = once(store).write("second")
    assert (later.value, later.location) == ("first", "target.pkl")
    assert stored(store) == "first"


@ENFORCED
def test_write_bytes_to_a_taken_name_raises_location_taken_naming_it(store: Store) -> None:
    once(store).write("first")
    with pytest.raises(StorageError, match=rf"{store.uri('target.pkl')} already holds a value") as info:
        once(store).write_bytes("target.pkl", b"raw")
    assert type(info.value).__name__ == "LocationTaken"


RACER = """
import cloudpickle, json, sys
result = cloudpickle.loads(bytes.fromhex(sys.argv[1]))
result.client  # build the client first, so that both writes leave at the signal
print("ready", flush=True)
sys.stdin.readline()
print(json.dumps(result.write("value from " + sys.argv[2]).value))
"""


@pytest.mark.slow
@ENFORCED
def test_two_processes_racing_on_one_target_both_finish_with_the_winners_value(store: Store) -> None:
    payload = cloudpickle.dumps(store.result(overwrite=False, location="race.pkl")).hex()
    racers = [
        subprocess.Popen(
            [sys.executable, "-c", textwrap.dedent(RACER), payload, name],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for name in ("a", "b")
    ]
    for racer in racers:
        assert racer.stdout is not None and racer.stdout.readline() == "ready\n"
    for racer in racers:  # the start signal, to both at once
        assert racer.stdin is not None
        racer.stdin.write("go\n")
        racer.stdin.flush()
    outcomes = []
    for racer in racers:
        out, err = racer.communicate(timeout=60)
        assert racer.returncode == 0, err
        outcomes.append(json.loads(out))
    winner = stored(store, "race.pkl")
    assert winner in ("value from a", "value from b")
    assert outcomes == [winner, winner]
