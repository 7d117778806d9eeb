"""The restored handlers behave as in Prefect 0.13, and what they stored reads back through Prefect's Results."""

from __future__ import annotations

import base64
import json
import pickle
from pathlib import Path
from typing import Any

import cloudpickle
import pytest
from prefect.engine.results import ConstantResult, LocalResult, PrefectResult, S3Result, SecretResult
from prefect.tasks.secrets import PrefectSecret
from prefect.utilities.configuration import set_temporary_config

from compat import LegacyHandlerWarning, LegacySubclassWarning
from compat.prefect.handlers import (
    AzureResultHandler,
    ConstantResultHandler,
    GCSResultHandler,
    JSONResultHandler,
    LocalResultHandler,
    ResultHandler,
    S3ResultHandler,
    SecretResultHandler,
)
from compat.prefect.results import to_result
from compat.renames import PREFECT
from codemods.results import transform_source

THIS_FILE = str(Path(__file__))
SECRET = PrefectSecret("API_KEY")
VALUE = {"rows": [1, 2, 3], "name": "ünïcode"}


# -- LocalResultHandler -----------------------------------------------------------------------------------------------


def test_local_write_returns_a_path_that_read_accepts(quiet, tmp_path: Path) -> None:
    handler = LocalResultHandler(dir=str(tmp_path))
    uri = handler.write(VALUE)
    assert Path(uri).parent == tmp_path and Path(uri).name.startswith("prefect-result-")
    assert handler.read(uri) == VALUE


def test_local_file_holds_raw_cloudpickle_bytes_as_0_13_wrote(quiet, tmp_path: Path) -> None:
    uri = LocalResultHandler(dir=str(tmp_path)).write(VALUE)
    assert cloudpickle.loads(Path(uri).read_bytes()) == VALUE


def test_local_file_written_by_the_handler_reads_back_through_prefect_local_result(quiet, tmp_path: Path) -> None:
    uri = LocalResultHandler(dir=str(tmp_path)).write(VALUE)
    assert LocalResult(dir=str(tmp_path)).read(uri).value == VALUE


def test_local_validate_creates_the_directory(quiet, tmp_path: Path) -> None:
    LocalResultHandler(dir=str(tmp_path / "new" / "dir"))
    assert (tmp_path / "new" / "dir").is_dir()


def test_local_default_directory_is_results_under_prefect_home(quiet, tmp_path: Path) -> None:
    with set_temporary_config({"home_dir": str(tmp_path)}):
        assert LocalResultHandler().dir == str(tmp_path / "results")


def test_local_dir_that_is_prefect_home_means_its_results_directory(quiet, tmp_path: Path) -> None:
    with set_temporary_config({"home_dir": str(tmp_path)}):
        handler = LocalResultHandler(dir=str(tmp_path))
    assert handler.dir == str(tmp_path / "results")
    assert Path(handler.write(VALUE)).parent == tmp_path / "results"


def test_local_dir_inside_prefect_home_also_means_its_results_directory(quiet, tmp_path: Path) -> None:
    with set_temporary_config({"home_dir": str(tmp_path)}):
        assert LocalResultHandler(dir=str(tmp_path / "checkpoints")).dir == str(tmp_path / "results")


def test_local_dir_beside_prefect_home_is_kept(quiet, tmp_path: Path) -> None:
    with set_temporary_config({"home_dir": str(tmp_path / "home")}):
        assert LocalResultHandler(dir=str(tmp_path / "home-results")).dir == str(tmp_path / "home-results")


def test_bridge_and_codemod_put_prefect_home_checkpoints_in_one_directory(quiet, tmp_path: Path) -> None:
    legacy = (
        "import prefect\n"
        "from prefect.engine.result_handlers import LocalResultHandler\n\n"
        "handler = LocalResultHandler(dir=prefect.config.home_dir)\n"
    )
    rewritten = transform_source(legacy, PREFECT).code
    assert "LocalResult(dir=prefect.config.home_dir)" in rewritten
    with set_temporary_config({"home_dir": str(tmp_path)}):
        before, after = {}, {}
        exec(compile(legacy, "legacy.py", "exec"), before)
        exec(compile(rewritten, "rewritten.py", "exec"), after)
    assert before["handler"].dir == after["handler"].dir == str(tmp_path / "results")


def test_local_read_of_a_missing_file_raises(quiet, tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError):
        LocalResultHandler(dir=str(tmp_path)).read(str(tmp_path / "missing"))


def test_two_writes_never_share_a_file(quiet, tmp_path: Path) -> None:
    handler = LocalResultHandler(dir=str(tmp_path))
    assert handler.write(1) != handler.write(2)


# -- S3ResultHandler (a real S3 server) ------------------------------------------------------------------------------


def test_s3_write_stores_base64_pickles_under_a_dated_key(quiet, s3_bucket, s3_boto3_kwargs, s3_client) -> None:
    key = S3ResultHandler(bucket=s3_bucket, boto3_kwargs=s3_boto3_kwargs).write(VALUE)
    assert key.endswith(".prefect_result") and len(key.split("/")) == 4
    body = s3_client.get_object(Bucket=s3_bucket, Key=key)["Body"].read()
    assert cloudpickle.loads(base64.b64decode(body)) == VALUE


def test_s3_read_returns_the_value(quiet, s3_bucket, s3_boto3_kwargs) -> None:
    handler = S3ResultHandler(bucket=s3_bucket, boto3_kwargs=s3_boto3_kwargs)
    assert handler.read(handler.write(VALUE)) == VALUE


def test_s3_object_written_by_the_handler_reads_back_through_prefect_s3_result(
    quiet, s3_bucket, s3_boto3_kwargs
) -> None:
    key = S3ResultHandler(bucket=s3_bucket, boto3_kwargs=s3_boto3_kwargs).write(VALUE)
    assert S3Result(bucket=s3_bucket, boto3_kwargs=s3_boto3_kwargs).read(key).value == VALUE


def test_s3_handler_pickles_without_its_client(quiet, s3_bucket, s3_boto3_kwargs) -> None:
    handler = S3ResultHandler(bucket=s3_bucket, boto3_kwargs=s3_boto3_kwargs)
    key = handler.write(VALUE)  # the client now exists
    assert pickle.loads(pickle.dumps(handler)).read(key) == VALUE


def test_s3_repr_does_not_show_boto3_kwargs(quiet) -> None:
    assert "secret" not in repr(S3ResultHandler(bucket="b", boto3_kwargs={"aws_secret_access_key": "secret"}))


# -- JSON, Secret, Constant --------------------------------------------------------------------------------------------


def test_json_uri_is_the_json_text(quiet) -> None:
    assert JSONResultHandler().write([1, "a"]) == json.dumps([1, "a"])


def test_json_uri_reads_back_through_prefect_result(quiet) -> None:
    assert PrefectResult().read(JSONResultHandler().write(VALUE)).value == VALUE


def test_secret_handler_writes_the_name_and_reads_the_secret(quiet) -> None:
    with set_temporary_config({"cloud.use_local_secrets": True}):
        import prefect

        with prefect.context(secrets={"API_KEY": "s3cr3t"}):
            handler = SecretResultHandler(SECRET)
            assert handler.write("anything") == "API_KEY"
            assert handler.read("API_KEY") == "s3cr3t"


def test_constant_reads_its_value_whatever_the_uri(quiet) -> None:
    handler = ConstantResultHandler(value=[1, 2])
    assert handler.write("ignored") == "[1, 2]" and handler.read("any") == [1, 2]


# -- conversions to Prefect's own Results (from the rename table) ----------------------------------------------------


@pytest.mark.parametrize(
    ("make", "expected_type", "settings"),
    [
        (lambda: ConstantResultHandler(value=7), ConstantResult, {"value": 7}),
        (lambda: JSONResultHandler(), PrefectResult, {}),
        (lambda: SecretResultHandler(secret_task=SECRET), SecretResult, {"secret_task": SECRET}),
        (lambda: GCSResultHandler(bucket="gb"), "GCSResult", {"bucket": "gb"}),
        (
            lambda: AzureResultHandler(container="c", connection_string="cs"),
            "AzureResult",
            {"container": "c", "connection_string": "cs"},
        ),
    ],
    ids=["constant", "json", "secret", "gcs", "azure"],
)
def test_built_in_handler_becomes_its_native_prefect_result(quiet, make, expected_type, settings) -> None:
    result = to_result(make())
    name = expected_type if isinstance(expected_type, str) else expected_type.__name__
    assert type(result).__name__ == name and type(result).__module__.startswith("prefect.engine.results")
    assert {key: getattr(result, key) for key in settings} == settings


def test_a_lost_setting_is_named_with_what_to_do(legacy) -> None:
    to_result(AzureResultHandler(container="c", connection_string="cs", azure_credentials_secret="MY_AZ"))
    lost = [w for w in legacy if "has no such setting" in str(w.message)]
    assert len(lost) == 1 and "azure_credentials_secret=" in str(lost[0].message)
    assert "connection_string_secret=" in str(lost[0].message)


@pytest.mark.parametrize(
    "make",
    [
        lambda: S3ResultHandler(bucket="b", aws_credentials_secret="MY_AWS"),
        lambda: GCSResultHandler(bucket="b", credentials_secret="MY_GCP"),
        lambda: AzureResultHandler(container="c", azure_credentials_secret="MY_AZ"),
    ],
    ids=["s3", "gcs", "azure"],
)
def test_a_credentials_secret_the_result_keeps_is_not_called_lost(legacy, make, monkeypatch) -> None:
    monkeypatch.delenv("AZURE_STORAGE_CONNECTION_STRING", raising=False)  # Azure: the secret is used without one
    to_result(make())
    assert not [w for w in legacy if "has no such setting" in str(w.message)]


def test_no_lost_setting_warning_when_the_default_was_kept(legacy) -> None:
    to_result(AzureResultHandler(container="c", connection_string="cs"))
    assert not [w for w in legacy if "has no such setting" in str(w.message)]


# -- cloud clients are needed only when used --------------------------------------------------------------------------


def test_gcs_and_azure_handlers_build_and_pickle_without_their_client_libraries(quiet) -> None:
    for handler in (GCSResultHandler(bucket="b"), AzureResultHandler(container="c", connection_string="cs")):
        assert pickle.loads(pickle.dumps(handler)) == handler


# -- the 0.13 base class and its warnings ----------------------------------------------------------------------------


def test_handlers_are_equal_by_type_and_public_settings(quiet, tmp_path: Path) -> None:
    assert LocalResultHandler(dir=str(tmp_path)) == LocalResultHandler(dir=str(tmp_path))
    assert LocalResultHandler(dir=str(tmp_path)) != LocalResultHandler(dir=str(tmp_path / "x"))
    assert JSONResultHandler() != ConstantResultHandler(value=None)


def test_a_built_in_warns_at_the_line_that_builds_it(legacy) -> None:
    # built
    JSONResultHandler()
    [warning] = [w for w in legacy if w.category is LegacyHandlerWarning]
    assert (warning.filename, warning.lineno) == (THIS_FILE, _line_after("built"))
    assert "use prefect.engine.results.PrefectResult instead" in str(warning.message)


def test_a_subclass_warns_at_its_class_statement(legacy) -> None:
    # class statement
    class Mine(ResultHandler):
        def write(self, result: Any) -> str:
            return ""

        def read(self, uri: str) -> Any:
            return None

    [warning] = [w for w in legacy if w.category is LegacySubclassWarning]
    assert (warning.filename, warning.lineno) == (THIS_FILE, _line_after("class statement"))
    assert "Mine subclasses ResultHandler" in str(warning.message)


def test_unpickling_a_handler_does_not_warn(legacy, tmp_path: Path) -> None:
    data = pickle.dumps(JSONResultHandler())
    legacy.clear()
    pickle.loads(data)
    assert legacy == []


def _line_after(marker: str) -> int:
    lines = [line.strip() for line in Path(__file__).read_text().splitlines()]
    return lines.index(f"# {marker}") + 2


# -- the base class, as Prefect's own tests pin it --------------------------------------------------------------------


def test_the_base_handler_is_a_pass_through_with_a_logger(quiet) -> None:
    import logging

    handler = ResultHandler()
    assert handler.write("foo") is None
    assert handler.read("any-uri") is None
    assert isinstance(handler.logger, logging.Logger)


def test_the_restored_module_exposes_the_same_pass_through_base(quiet) -> None:
    from prefect.engine.result_handlers import ResultHandler as Restored

    assert Restored().write(1) is None
