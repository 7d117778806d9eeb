"""The public surface: what `import compat` gives, and what it must not drag in."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

import compat
import compat.legacy


def test_all_is_sorted_and_every_name_resolves() -> None:
    assert compat.__all__ == sorted(compat.__all__)
    missing = [name for name in compat.__all__ if not hasattr(compat, name)]
    assert missing == []


def test_public_objects_show_the_public_module_path() -> None:
    wrong = {
        name: obj.__module__
        for name in compat.__all__
        if isinstance(obj := getattr(compat, name), type) and obj.__module__ != "compat"
    }
    assert wrong == {}


def test_results_pickle_by_their_public_path() -> None:
    import pickle

    assert pickle.loads(pickle.dumps(compat.MemoryResult(location="x"))).location == "x"


def _imported_by(code: str, modules: tuple[str, ...]) -> list[str]:
    """Which of ``modules`` a fresh interpreter has imported after running ``code``."""
    check = f"{code}; import json, sys; print(json.dumps(sorted(m for m in {modules!r} if m in sys.modules)))"
    out = subprocess.run([sys.executable, "-c", check], capture_output=True, text=True, check=True).stdout
    return json.loads(out)  # type: ignore[no-any-return]


def test_importing_compat_does_not_import_optional_or_tooling_packages() -> None:
    optional = (
        "azure.storage.blob", "boto3", "botocore", "google.cloud.storage", "codemods", "dask", "distributed",
        "libcst", "moto",
    )  # fmt: skip
    assert _imported_by("import compat", optional) == []


LEGACY_LAYER = ("compat.adapters", "compat.deprecations", "compat.legacy", "compat.legacy.base", "compat.renames")
"""What only a legacy use needs: the adapters, the legacy handlers, the warnings machinery and the rename table."""
RUNTIME = ("compat.engine", "compat.kwargs", "compat.results", "compat.results.base", "wrapt")


def test_importing_compat_imports_neither_the_runtime_nor_the_legacy_layer() -> None:
    assert _imported_by("import compat", LEGACY_LAYER + RUNTIME) == []


def _new_modules(code: str) -> list[str]:
    """The modules a fresh interpreter imports for ``code``, beyond those it had imported before it."""
    check = f"import json, sys; before = set(sys.modules); {code}; print(json.dumps(sorted(set(sys.modules) - before)))"
    out = subprocess.run([sys.executable, "-c", check], capture_output=True, text=True, check=True).stdout
    return json.loads(out)  # type: ignore[no-any-return]


def test_importing_compat_imports_only_its_errors_and_the_lazy_names() -> None:
    assert _new_modules("import compat") == ["compat", "compat._lazy", "compat.errors"]


def test_a_flow_module_s_imports_do_not_import_the_legacy_layer() -> None:
    assert _imported_by("from compat import Flow, LocalResult, Parameter, task", LEGACY_LAYER[:-1]) == []


def test_a_legacy_keyword_imports_the_legacy_layer_when_it_is_passed() -> None:
    code = "from compat import Task; from compat.legacy import JSONResultHandler; Task(result_handler=JSONResultHandler())"
    assert _imported_by(code, LEGACY_LAYER) == sorted(LEGACY_LAYER)


def test_importing_the_engine_alone_still_translates_result_handler() -> None:
    code = (
        "import warnings; warnings.simplefilter('ignore')\n"
        "from compat.engine import Task\n"
        "from compat.legacy import JSONResultHandler\n"
        "print(type(Task(result_handler=JSONResultHandler()).result).__name__)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "JSONResult"


def test_a_warning_category_reached_without_compat_shows_its_public_path() -> None:
    code = "from compat.deprecations import LegacyKeywordWarning; print(LegacyKeywordWarning)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "<class 'compat.LegacyKeywordWarning'>"


def test_the_legacy_switch_in_the_environment_applies_at_import_compat() -> None:
    code = (
        "import compat, warnings\n"
        "print(any(getattr(f[2], '__name__', '') == 'LegacyResultWarning' for f in warnings.filters))\n"
    )
    env = {**os.environ, "RESULTS_COMPAT_LEGACY": "error"}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, env=env).stdout
    assert out.strip() == "True"


def test_the_keyword_warning_of_a_fresh_script_lands_on_its_line(tmp_path) -> None:
    script = tmp_path / "flow.py"
    script.write_text(
        "import warnings\nwarnings.simplefilter('always')\nimport compat\n"
        "from compat.legacy import JSONResultHandler\n"
        "t = compat.Task(\n    name='t',\n    result_handler=JSONResultHandler(),\n)\n"
    )
    proc = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, check=True)
    assert f"{script}:5: LegacyKeywordWarning" in proc.stderr


def test_importing_compat_does_not_import_cloudpickle_until_a_value_needs_it() -> None:
    assert _imported_by("import compat", ("cloudpickle",)) == []
    assert _imported_by("import compat; compat.PickleSerializer().serialize(1)", ("cloudpickle",)) == []
    assert _imported_by("import compat; compat.PickleSerializer().serialize([1])", ("cloudpickle",)) == ["cloudpickle"]


LAZY_MODULES = {
    "AzureResult": ("compat.results._cloud", "compat.results.azure"),
    "GCSResult": ("compat.results._cloud", "compat.results.gcs"),
    "S3Result": ("compat.results.s3",),
    "DaskExecutor": ("compat.engine.dask_executor", "compat.engine.dask_worker"),
    "Plan": ("compat.engine.plan",),
    "legacy.S3ResultHandler": ("compat.legacy.s3",),
    "legacy.GCSResultHandler": ("compat.legacy.gcs",),
    "legacy.AzureResultHandler": ("compat.legacy.azure",),
}
"""Modules each lazily imported name (``compat.X`` or ``compat.legacy.X``) loads on first use (at least these)."""


def test_importing_compat_does_not_import_a_lazy_name_until_it_is_used() -> None:
    every = tuple(sorted({module for modules in LAZY_MODULES.values() for module in modules}))
    assert _imported_by("import compat, compat.legacy", every) == []
    for name, modules in LAZY_MODULES.items():
        package, _, attribute = f"compat.{name}".rpartition(".")
        code = f"import {package}; from {package} import {attribute}"
        assert set(modules) <= set(_imported_by(code, every)), name


@pytest.mark.parametrize(
    ("name", "store", "server"),
    [("GCSResult", "bucket", "gcs_bucket"), ("AzureResult", "container", "azure_container")],
)
def test_a_gcs_or_azure_result_reading_legacy_objects_does_not_load_the_s3_backend(
    name: str, store: str, server: str, request: pytest.FixtureRequest
) -> None:
    code = (
        f"import base64, pickle; from compat import {name}; r = {name}({store}={request.getfixturevalue(server)!r}); "
        "r.write_bytes('legacy.pkl', base64.b64encode(pickle.dumps(7))); assert r.read('legacy.pkl').value == 7"
    )  # the server's address reaches the child through the environment the session fixtures set
    backend = f"compat.results.{name[:-6].lower()}"
    assert _imported_by(code, (backend, "compat.results.s3")) == [backend]


def test_lazy_names_are_listed_typed_and_pickle_by_their_public_path() -> None:
    import pickle

    assert {"AzureResult", "DaskExecutor", "GCSResult", "Plan", "S3Result"} <= set(dir(compat))
    assert {"AzureResultHandler", "GCSResultHandler", "S3ResultHandler"} <= set(dir(compat.legacy))
    assert compat.S3Result.__module__ == "compat"
    assert pickle.loads(pickle.dumps(compat.S3Result)) is compat.S3Result
    with pytest.raises(AttributeError, match="no attribute 'NoSuchResult'"):
        compat.NoSuchResult  # noqa: B018


def test_importing_compat_pays_only_for_the_parts_of_wrapt_the_shim_uses() -> None:
    # wrapt's package __init__ imports asyncio (wrapt.synchronization) and importlib.metadata (wrapt.importer)
    heavy = ("asyncio", "importlib.metadata", "wrapt.importer", "wrapt.synchronization")
    assert _imported_by("import compat", heavy) == []


def test_wrapt_imported_after_compat_is_the_whole_package() -> None:
    code = (
        "import compat, wrapt; "
        "assert wrapt.__version__ and callable(wrapt.when_imported) and callable(wrapt.ObjectProxy); "
        "from wrapt import synchronized, decorator; "
        "from compat import _wrapt; assert _wrapt.decorator is decorator"
    )
    assert _imported_by(code, ("wrapt.importer", "wrapt.synchronization")) == ["wrapt.importer", "wrapt.synchronization"]


def test_a_name_wrapt_does_not_have_is_still_an_attribute_error_after_compat() -> None:
    code = "import compat, wrapt; assert not hasattr(wrapt, 'no_such_name'); assert hasattr(wrapt, 'ObjectProxy')"
    assert _imported_by(code, ("wrapt",)) == ["wrapt"]


def test_the_public_surface_is_exactly_this() -> None:
    assert set(compat.__all__) == {
        # results and serializers
        "Result", "LocalResult", "MemoryResult", "JSONResult", "ConstantResult", "S3Result",
        "GCSResult", "AzureResult",
        "Serializer", "PickleSerializer", "JSONSerializer", "TargetRecord", "Lease",
        # errors
        "ResultError", "TemplateError", "LocationError", "ResultNotFound", "SerializationError",
        "ValidationError", "StorageError", "MissingDependency", "FlowError",
        "ConfigurationError", "ForbiddenArgument", "ArgumentTypeError", "Unfingerprintable", "UntrustedData",
        # engine
        "Task", "task", "Flow", "Parameter", "unmapped", "Executor", "LocalExecutor", "ThreadExecutor",
        "State", "Pending", "Running", "Success", "Cached", "Skipped", "Failed", "ValidationFailed", "TriggerFailed",
        "Plan",
        "DaskExecutor",
        "register_fingerprint",
        # compatibility layer (the legacy handlers themselves live in compat.legacy / compat.result_handlers)
        "as_result", "as_result_handler", "ResultHandlerResult",
        "LegacyResultWarning", "LegacyHandlerWarning", "LegacySubclassWarning", "LegacyKeywordWarning",
        "LegacyAttributeWarning", "LegacyImportWarning",
    }  # fmt: skip
