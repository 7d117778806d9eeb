"""The legacy object-store handlers (``S3ResultHandler``, ``GCSResultHandler``, ``AzureResultHandler``) work as they
did, on each real server, and each new Result reads what its handler (or the pre-upgrade one) wrote, and the reverse.

What only one handler does (its dropped credentials argument, what its repr hides) stays in test_s3_legacy.py,
test_gcs_legacy.py and test_azure_legacy.py.
"""

from __future__ import annotations

import base64
import pickle
import re
import warnings
from pathlib import Path

import cloudpickle
import pytest

from compat import LegacyHandlerWarning, LegacyResultWarning, ResultNotFound, SerializationError, as_result
from compat.deprecations import message, rename_for
from tests.results import stores
from tests.results.stores import Store

# -- the handler, as it was ------------------------------------------------------------------------------------------


def test_handler_write_returns_the_name_of_a_new_dated_object(store: Store) -> None:
    name = store.handler().write({"a": 1})
    assert re.fullmatch(r"\d{4}/\d{2}/\d{2}/[0-9a-f-]{36}\.prefect_result", name)
    assert store.names() == [name] and store.get(name)


def test_handler_stores_base64_of_cloudpickle_bytes(store: Store) -> None:
    name = store.handler().write([1, 2, 3])
    assert cloudpickle.loads(base64.b64decode(store.get(name), validate=True)) == [1, 2, 3]


def test_handler_reads_back_what_it_wrote(store: Store) -> None:
    handler = store.handler()
    assert handler.read(handler.write({"k": "v"})) == {"k": "v"}


def test_handler_gives_each_write_a_new_name(store: Store) -> None:
    handler = store.handler()
    first, second = handler.write("a"), handler.write("b")
    assert first != second and (handler.read(first), handler.read(second)) == ("a", "b")


def test_handler_reading_a_missing_name_raises_file_not_found(store: Store) -> None:
    with pytest.raises(ResultNotFound) as info:
        store.handler().read("2020/01/01/missing.prefect_result")
    assert isinstance(info.value, FileNotFoundError)


def test_instantiating_the_handler_warns_with_the_tables_message(store: Store) -> None:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", LegacyResultWarning)
        handler = store.new_handler()
    assert [(w.category, w.filename) for w in caught] == [(LegacyHandlerWarning, str(Path(stores.__file__)))]
    assert str(caught[0].message) == message(rename_for("class", type(handler).__name__))


def test_handler_survives_pickling_and_reads_afterwards(store: Store) -> None:
    handler = store.handler()
    name = handler.write("kept")
    clone = pickle.loads(cloudpickle.dumps(handler))
    assert clone == handler and clone.read(name) == "kept"


def test_the_handler_signs_its_base64_objects_and_the_result_verifies_them(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("RESULTS_COMPAT_SIGNING_KEY", "k")
    handler = store.handler()
    name = handler.write({"signed": True})
    assert handler.read(name) == {"signed": True}
    assert store.result().read(name).value == {"signed": True}
    monkeypatch.setenv("RESULTS_COMPAT_SIGNING_KEY", "another")
    with pytest.raises(SerializationError, match="not among the"):
        handler.read(name)


# -- the way across: adapters and format detection -------------------------------------------------------------


def test_as_result_turns_the_handler_into_its_result_with_its_settings(store: Store) -> None:
    handler = store.handler()
    converted = as_result(handler)
    assert type(converted) is store.result_class
    settings = [store.kind, *store.options]
    assert [getattr(converted, name) for name in settings] == [getattr(handler, name) for name in settings]


def test_the_result_reads_objects_the_legacy_handler_wrote(store: Store) -> None:
    name = store.handler().write({"written": "before the upgrade"})
    assert store.result().read(name).value == {"written": "before the upgrade"}


def test_the_result_reads_legacy_objects_stored_by_the_plain_client(store: Store) -> None:
    store.put("2019/05/01/old.prefect_result", base64.b64encode(cloudpickle.dumps(("old", 1))))  # as Prefect 0.10
    assert store.result().read("2019/05/01/old.prefect_result").value == ("old", 1)


def test_the_handler_reads_objects_the_result_wrote(store: Store) -> None:
    written = store.result().write({"written": "after the upgrade"})
    assert store.handler().read(written.location) == {"written": "after the upgrade"}


def test_stored_bytes_that_look_like_a_legacy_object_come_back_unchanged(store: Store) -> None:
    lookalike = base64.b64encode(cloudpickle.dumps("inner"))  # a *value* that is base64 text of a pickle
    written = store.result().write(lookalike)
    assert store.result().read(written.location).value == lookalike
