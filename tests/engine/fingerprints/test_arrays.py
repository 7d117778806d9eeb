"""value_fingerprint of numpy arrays and pandas objects: by content, registered lazily."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest

from compat.engine.fingerprints import value_fingerprint
from compat.errors import Unfingerprintable
from tests.engine.fingerprints.conftest import REPO


def test_an_array_and_its_copy_have_the_same_fingerprint() -> None:
    array = np.arange(12).reshape(3, 4)
    assert value_fingerprint(array.copy()) == value_fingerprint(array)


def test_an_array_with_one_element_changed_differs() -> None:
    array = np.arange(12.0)
    changed = array.copy()
    changed[7] = -1
    assert value_fingerprint(changed) != value_fingerprint(array)


def test_an_arrays_dtype_counts() -> None:
    assert value_fingerprint(np.arange(4, dtype="int64")) != value_fingerprint(np.arange(4, dtype="int32"))


def test_an_arrays_shape_counts() -> None:
    array = np.arange(6)
    assert value_fingerprint(array.reshape(2, 3)) != value_fingerprint(array.reshape(3, 2))


def test_a_transposed_view_counts_like_its_contiguous_copy() -> None:
    view = np.arange(6).reshape(2, 3).T
    assert value_fingerprint(view) == value_fingerprint(np.ascontiguousarray(view))


def test_an_object_array_counts_by_its_elements() -> None:
    assert value_fingerprint(np.array([1, "a"], dtype=object)) == value_fingerprint(np.array([1, "a"], dtype=object))
    assert value_fingerprint(np.array([1, "a"], dtype=object)) != value_fingerprint(np.array([1, "b"], dtype=object))


def test_an_object_array_holding_an_unknown_object_is_refused() -> None:
    with pytest.raises(Unfingerprintable, match=r"builtins\.object at value\[1\]"):
        value_fingerprint(np.array([1, object()], dtype=object))


def test_a_numpy_scalar_differs_from_the_python_number() -> None:
    assert value_fingerprint(np.float64(1.5)) != value_fingerprint(1.5)
    assert value_fingerprint(np.int64(3)) != value_fingerprint(np.int32(3))


FIRST = """
import json, sys
import numpy as np
from compat.engine.fingerprints import value_fingerprint
if sys.argv[1] == "array-first":
    value_fingerprint(np.zeros(2))
print(json.dumps([value_fingerprint(np.float64(1.5)), value_fingerprint({"x": np.float64(2.5)})]))
"""


def test_a_numpy_float_counts_alike_whether_or_not_an_array_came_first() -> None:
    """np.float64 is also a float: it must not be encoded as one before numpy's encoders are registered."""
    seen = []
    for order in ("array-first", "scalar-first"):
        proc = subprocess.run([sys.executable, "-c", FIRST, order], capture_output=True, text=True, timeout=60,
                              cwd=REPO)
        assert proc.returncode == 0, proc.stderr
        seen.append(json.loads(proc.stdout))
    assert seen[0] == seen[1]


def test_fingerprinting_plain_values_imports_neither_numpy_nor_pandas() -> None:
    code = ("import sys; from compat.engine.fingerprints import value_fingerprint; "
            "value_fingerprint({'a': [1.5, None]}); print(sorted({'numpy', 'pandas'} & set(sys.modules)))")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, cwd=REPO)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "[]"


def frame() -> pd.DataFrame:
    return pd.DataFrame({"region": ["north", "south"], "amount": [1.5, 2.0],
                         "kind": pd.Categorical(["a", "b"]), "count": pd.array([1, None], dtype="Int64")})


def test_a_frame_and_its_copy_have_the_same_fingerprint() -> None:
    assert value_fingerprint(frame().copy()) == value_fingerprint(frame())


@pytest.mark.parametrize(
    "edit",
    [
        lambda f: f.assign(amount=[1.5, 2.5]),
        lambda f: f.assign(kind=pd.Categorical(["a", "a"])),
        lambda f: f.assign(count=pd.array([1, 2], dtype="Int64")),
        lambda f: f.rename(columns={"amount": "total"}),
        lambda f: f.set_axis(["x", "y"], axis=0),
        lambda f: f[["amount", "region", "kind", "count"]],
    ],
    ids=["value", "categorical", "nullable", "column-name", "index", "column-order"],
)
def test_a_frame_with_one_thing_changed_differs(edit: object) -> None:
    assert value_fingerprint(edit(frame())) != value_fingerprint(frame())  # type: ignore[operator]


def test_a_series_name_counts() -> None:
    assert value_fingerprint(pd.Series([1, 2], name="a")) != value_fingerprint(pd.Series([1, 2], name="b"))
