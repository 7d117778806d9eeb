"""numpy arrays and pandas objects for ``value_fingerprint``, registered the first time a value of one of their
types is fingerprinted: neither library is imported by this package otherwise.

An array counts by its dtype, its shape and its bytes in C order (so a transposed view and its copy agree); an
array of Python objects counts element by element, as any list would (its bytes would be pointers). A pandas
Series counts by its name, index, dtype and values; a DataFrame by its index, its columns and each column;
values of an extension dtype (categorical, nullable, with a time zone) by pandas' own stable row hashes
(``pandas.util.hash_pandas_object``, a fixed key: the same in every process).
"""

from __future__ import annotations

from typing import Any

from compat.engine.fingerprints.values import Write, encoder, feed, sized, type_name

__all__ = ["register_numpy", "register_pandas"]


def register_numpy() -> None:
    import numpy as np

    def array(value: Any, write: Write, active: set[int]) -> None:
        write(sized(b"C", type_name(type(value)).encode()))
        _array(np.asarray(value), write, active)

    def scalar(value: Any, write: Write, active: set[int]) -> None:
        write(sized(b"C", type_name(type(value)).encode()))
        _array(np.asarray(value), write, active)

    encoder.register(np.ndarray, array)
    encoder.register(np.generic, scalar)


def _array(value: Any, write: Write, active: set[int]) -> None:
    import numpy as np

    write(sized(b"A", f"{value.dtype.str}|{value.shape}".encode()))
    if value.dtype.hasobject:
        feed(value.tolist(), write, active)
    else:
        write(np.ascontiguousarray(value).reshape(-1).view(np.uint8).data)


def register_pandas() -> None:
    import numpy as np
    import pandas as pd

    register_numpy()

    def values(series: Any, write: Write, active: set[int]) -> None:
        dtype = series.dtype
        write(sized(b"t", str(dtype).encode()))
        if isinstance(dtype, np.dtype):
            _array(series.to_numpy(), write, active)
        else:  # an extension dtype: its values as pandas hashes them, row by row
            write(pd.util.hash_pandas_object(series, index=False, categorize=True).to_numpy().data)

    def index(value: Any, write: Write, active: set[int]) -> None:
        write(sized(b"C", type_name(type(value)).encode()))
        feed(list(value.names), write, active)
        values(pd.Series(value, copy=False), write, active)

    def series(value: Any, write: Write, active: set[int]) -> None:
        write(sized(b"C", type_name(type(value)).encode()))
        feed(value.name, write, active)
        index(value.index, write, active)
        values(value, write, active)

    def frame(value: Any, write: Write, active: set[int]) -> None:
        write(sized(b"C", type_name(type(value)).encode()))
        index(value.index, write, active)
        index(value.columns, write, active)
        for position in range(value.shape[1]):
            values(value.iloc[:, position], write, active)

    encoder.register(pd.Index, index)
    encoder.register(pd.Series, series)
    encoder.register(pd.DataFrame, frame)
