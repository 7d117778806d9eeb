"""Write-once AzureResults (``overwrite=False``): Azure's conditional upload (``If-None-Match: *``, which Azurite
enforces) lets the first writer win; later writers get the winner's value back instead of replacing it, in this
process or in another one."""

from __future__ import annotations

import json
import pickle
import subprocess
import sys
import textwrap
from typing import Any

import pytest

from compat import AzureResult, StorageError
from compat.results._cloud import LocationTaken

MB = 1024 * 1024


@pytest.fixture
def once(azure_container: str) -> AzureResult:
    return AzureResult(container=azure_container, overwrite=False, location="target.pkl")


def stored(result: AzureResult, azure_service: Any, name: str = "target.pkl") -> Any:
    """What the container holds at ``name``, read with a plain client."""
    return pickle.loads(azure_service.get_blob_client(result.container, name).download_blob().readall())


def test_first_write_once_stores_the_value(once: AzureResult, azure_service: Any) -> None:
    assert once.write("first").value == "first"
    assert stored(once, azure_service) == "first"


def test_later_write_once_returns_the_stored_value_and_changes_nothing(once: AzureResult, azure_service: Any) -> None:
    once.write("first")
    later = once.write("second")
    assert (later.value, later.location) == ("first", "target.pkl")
    assert stored(once, azure_service) == "first"


@pytest.mark.slow
def test_large_write_once_is_refused_by_an_existing_value(once: AzureResult, azure_service: Any) -> None:
    once.write("first")
    big = b"x" * (65 * MB)  # above the SDK's single Put Blob: blocks, then one conditional Put Block List
    assert once.write(big).value == "first"
    assert stored(once, azure_service) == "first"


def test_write_once_without_a_location_always_gets_a_new_name(once: AzureResult) -> None:
    once.location = None
    first, second = once.write("a"), once.write("b")
    assert first.location != second.location and (first.value, second.value) == ("a", "b")


def test_default_mode_overwrites(azure_container: str, azure_service: Any) -> None:
    result = AzureResult(container=azure_container, location="target.pkl")
    result.write("first")
    assert result.write("second").value == "second"
    assert stored(result, azure_service) == "second"


def test_write_bytes_to_a_taken_name_raises_location_taken_naming_it(once: AzureResult) -> None:
    once.write("first")
    with pytest.raises(LocationTaken, match=rf"az://{once.container}/target\.pkl already holds a value") as info:
        once.write_bytes("target.pkl", b"raw")
    assert isinstance(info.value, StorageError)


RACER = """
import json, sys
from compat import AzureResult
container, name = sys.argv[1], sys.argv[2]
result = AzureResult(container=container, overwrite=False, location="race.pkl")
result.client  # build the client first, so that both writes leave at the signal
print("ready", flush=True)
sys.stdin.readline()
print(json.dumps(result.write("value from " + name).value))
"""


@pytest.mark.slow
def test_two_processes_racing_on_one_target_both_finish_with_the_winners_value(
    once: AzureResult, azure_service: Any
) -> None:
    racers = [
        subprocess.Popen(
            [sys.executable, "-c", textwrap.dedent(RACER), once.container, name],
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
    winner = stored(once, azure_service, "race.pkl")
    assert winner in ("value from a", "value from b")
    assert outcomes == [winner, winner]
