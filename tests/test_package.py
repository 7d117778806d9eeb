"""The public surface: what `import compat` gives, and what it must not drag in."""

from __future__ import annotations

import subprocess
import sys

import compat


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


def test_importing_compat_does_not_import_optional_or_tooling_packages() -> None:
    code = (
        "import sys, compat; "
        "print(sorted(m for m in ('boto3', 'botocore', 'codemods', 'libcst', 'moto') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


def test_the_public_surface_is_exactly_this() -> None:
    assert set(compat.__all__) == {
        # results and serializers
        "Result", "LocalResult", "MemoryResult", "JSONResult", "ConstantResult", "S3Result",
        "Serializer", "PickleSerializer", "JSONSerializer",
        # errors
        "ResultError", "TemplateError", "LocationError", "ResultNotFound", "SerializationError",
        "ValidationError", "StorageError", "MissingDependency", "FlowError",
        # engine
        "Task", "task", "Flow", "Parameter", "unmapped", "Executor", "LocalExecutor", "ThreadExecutor",
        "State", "Pending", "Running", "Success", "Cached", "Failed", "ValidationFailed", "TriggerFailed",
        # compatibility layer (the legacy handlers themselves live in compat.legacy / compat.result_handlers)
        "as_result", "as_result_handler", "ResultHandlerResult",
        "LegacyResultWarning", "LegacyHandlerWarning", "LegacySubclassWarning", "LegacyKeywordWarning",
        "LegacyAttributeWarning", "LegacyImportWarning",
    }  # fmt: skip
