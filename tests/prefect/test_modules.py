"""The import path prefect.engine.result_handlers and its 0.13 submodules, restored on Prefect 1.x."""

from __future__ import annotations

import importlib
from pathlib import Path

import pytest

from compat import LegacyImportWarning
from compat.prefect import handlers
from compat.renames import PREFECT

THIS_FILE = str(Path(__file__))
SUBMODULES = {
    "result_handler": "ResultHandler",
    "local_result_handler": "LocalResultHandler",
    "s3_result_handler": "S3ResultHandler",
    "gcs_result_handler": "GCSResultHandler",
    "azure_result_handler": "AzureResultHandler",
    "json_result_handler": "JSONResultHandler",
    "secret_result_handler": "SecretResultHandler",
    "constant_result_handler": "ConstantResultHandler",
}


def test_the_package_exposes_the_base_class_and_the_seven_built_ins(quiet) -> None:
    import prefect.engine.result_handlers as legacy

    assert sorted(legacy.__all__) == sorted(SUBMODULES.values())
    assert all(getattr(legacy, name) is getattr(handlers, name) for name in legacy.__all__)


@pytest.mark.parametrize(("submodule", "name"), sorted(SUBMODULES.items()))
def test_each_submodule_of_0_13_exposes_its_class(quiet, submodule: str, name: str) -> None:
    module = importlib.import_module(f"prefect.engine.result_handlers.{submodule}")
    assert getattr(module, name) is getattr(handlers, name)


def test_every_module_the_rename_table_lists_is_served() -> None:
    assert sorted(f"prefect.engine.result_handlers.{name}" for name in SUBMODULES) == sorted(
        PREFECT.legacy_modules[1:]
    )


def test_a_from_import_of_a_submodule_works(quiet) -> None:
    from prefect.engine.result_handlers.local_result_handler import LocalResultHandler

    assert LocalResultHandler is handlers.LocalResultHandler


def test_importing_the_legacy_path_warns_at_the_import_statement(legacy, fresh_legacy_modules) -> None:
    # import statement
    from prefect.engine.result_handlers.local_result_handler import LocalResultHandler  # noqa: F401

    [warning] = [w for w in legacy if w.category is LegacyImportWarning]
    assert (warning.filename, warning.lineno) == (THIS_FILE, _line_after("import statement"))
    assert "use prefect.engine.results instead" in str(warning.message)
    assert "results-codemod --profile prefect" in str(warning.message)


def test_the_legacy_package_is_an_attribute_of_prefect_engine_as_in_0_13(legacy, fresh_legacy_modules) -> None:
    import prefect

    # attribute
    handler_class = prefect.engine.result_handlers.LocalResultHandler
    assert handler_class is handlers.LocalResultHandler
    [warning] = [w for w in legacy if w.category is LegacyImportWarning]
    assert (warning.filename, warning.lineno) == (THIS_FILE, _line_after("attribute"))


def test_other_missing_attributes_of_prefect_engine_still_raise() -> None:
    import prefect

    with pytest.raises(AttributeError, match="no attribute 'result_handlerz'"):
        prefect.engine.result_handlerz  # noqa: B018


def test_a_module_that_0_13_did_not_have_is_still_missing() -> None:
    with pytest.raises(ModuleNotFoundError):
        importlib.import_module("prefect.engine.result_handlers.pandas_result_handler")


def test_result_handler_result_is_importable_from_prefect_engine_results() -> None:
    from prefect.engine.result import Result
    from prefect.engine.results import ResultHandlerResult

    assert issubclass(ResultHandlerResult, Result)


def _line_after(marker: str) -> int:
    lines = [line.strip() for line in Path(__file__).read_text().splitlines()]
    return lines.index(f"# {marker}") + 2
