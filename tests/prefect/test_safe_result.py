"""``prefect.engine.result.SafeResult``, removed by Prefect 0.14 with the handlers, is restored by the bridge: where a
value was stored and the handler that reads it back, warning at the user's line with the replacement."""

from __future__ import annotations

from pathlib import Path

import cloudpickle
from prefect.engine.result import Result

from compat import LegacyHandlerWarning
from compat.prefect.handlers import JSONResultHandler, LocalResultHandler

THIS_FILE = str(Path(__file__))


def test_safe_result_imports_from_where_prefect_0_13_had_it() -> None:
    from prefect.engine.result import SafeResult
    from prefect.engine.result.base import SafeResult as FromBase

    assert SafeResult is FromBase and issubclass(SafeResult, Result)


def test_to_result_reads_the_value_its_handler_stored(quiet, tmp_path: Path) -> None:
    from prefect.engine.result import SafeResult

    handler = LocalResultHandler(dir=str(tmp_path))
    safe = SafeResult(handler.write({"rows": 3}), handler)
    read = safe.to_result()
    assert read.value == {"rows": 3} and read.location == safe.value == safe.location
    assert read.safe_value is safe and safe.safe_value is safe


def test_to_result_with_another_handler_reads_with_it_and_keeps_it(quiet) -> None:
    from prefect.engine.result import SafeResult

    other = JSONResultHandler()
    safe = SafeResult("[1, 2]", LocalResultHandler(dir=None))
    assert safe.to_result(other).value == [1, 2] and safe.result_handler is other


def test_building_one_warns_at_that_line_with_the_replacement(legacy) -> None:
    from prefect.engine.result import SafeResult

    # built
    SafeResult("[]", None)
    [warning] = [w for w in legacy if "SafeResult is deprecated" in str(w.message)]
    assert warning.category is LegacyHandlerWarning
    assert (warning.filename, warning.lineno) == (THIS_FILE, _line_after("built"))
    assert "use prefect.engine.result.Result instead" in str(warning.message)
    assert "result.read(location).value" in str(warning.message)


def test_it_pickles_with_its_handler(quiet) -> None:
    from prefect.engine.result import SafeResult

    copy = cloudpickle.loads(cloudpickle.dumps(SafeResult("7", JSONResultHandler())))
    assert copy.to_result().value == 7


def _line_after(marker: str) -> int:
    lines = [line.strip() for line in Path(__file__).read_text().splitlines()]
    return lines.index(f"# {marker}") + 2

