"""The prefect3 profile: results and targets moved to Prefect 3's result storage, only when asked."""

from __future__ import annotations

from pathlib import Path

from compat.renames import PREFECT3
from codemods.results import transform_source
from codemods.results.cli import main
from codemods.results.templates import translate

TASK = """from prefect import task
from prefect.engine.results import LocalResult


@task({arguments})
def double(x, y=1):
    return 2 * x
"""


def _rewrite(arguments: str) -> str:
    return transform_source(TASK.format(arguments=arguments), PREFECT3).code


def _manual(arguments: str) -> list[str]:
    sites = transform_source(TASK.format(arguments=arguments), PREFECT3).sites
    return [site.reason for site in sites if site.action == "manual"]


def test_auto_keeps_the_prefect_profile_for_a_file_importing_prefect() -> None:
    code = transform_source(TASK.format(arguments='result=LocalResult(dir="d")')).code
    assert "result=LocalResult" in code and "result_storage" not in code


def test_the_command_line_takes_the_prefect3_profile(tmp_path: Path) -> None:
    path = tmp_path / "flow.py"
    text = TASK.format(arguments='target="{x}.pkl"')
    path.write_text(text.replace("from prefect.engine.results import LocalResult\n", ""))
    assert main(["--quiet", "--profile", "prefect3", str(path)]) == 0
    assert '@task(result_storage_key="{parameters[x]}.pkl", persist_result=True)' in path.read_text()


def test_a_local_result_becomes_a_block_saved_above_the_task() -> None:
    code = _rewrite('result=LocalResult(dir="/data")')
    assert 'double_storage = LocalFileSystem(basepath="/data")\ndouble_storage.save("double-results-' in code
    assert "@task(result_storage=double_storage, persist_result=True)" in code


def test_two_storages_get_two_block_names() -> None:
    first, second = _rewrite('result=LocalResult(dir="/a")'), _rewrite('result=LocalResult(dir="/b")')
    assert first.split('save("')[1].split('"')[0] != second.split('save("')[1].split('"')[0]


def test_a_taken_storage_name_is_a_follow_up_and_the_block_stays_in_the_call() -> None:
    text = "double_storage = 1\n" + TASK.format(arguments='result=LocalResult(dir="/data")')
    transformed = transform_source(text, PREFECT3)
    assert '@task(result_storage=LocalFileSystem(basepath="/data"), persist_result=True)' in transformed.code
    assert any("double_storage is taken" in site.reason for site in transformed.sites if site.action == "manual")


def test_checkpoint_becomes_persist_result_and_is_not_given_twice() -> None:
    assert '@task(result_storage_key="k", persist_result=False)' in _rewrite('target="k", checkpoint=False')


def test_cache_for_becomes_cache_expiration() -> None:
    assert "@task(cache_expiration=c)" in _rewrite("cache_for=c")


def test_cache_validator_is_left_and_listed() -> None:
    assert "@task(cache_validator=v)" in _rewrite("cache_validator=v")
    assert any("cache_key_fn" in reason for reason in _manual("cache_validator=v"))


def test_a_target_that_is_no_literal_is_left_and_listed() -> None:
    assert "@task(target=name)" in _rewrite("target=name")
    assert _manual("target=name")


def test_a_target_field_without_equivalent_keeps_the_target_and_is_listed() -> None:
    assert '@task(target="{map_index}-{x}")' in _rewrite('target="{map_index}-{x}"')
    assert any("map_index" in reason for reason in _manual('target="{map_index}-{x}"'))


def test_template_inputs_become_parameters_with_their_format() -> None:
    assert translate("{x:03d}/{y!r}", PREFECT3, ("x", "y")).text == "{parameters[x]:03d}/{parameters[y]!r}"


def test_template_context_fields_become_runtime_fields() -> None:
    assert translate("{flow_name}/{task_name}", PREFECT3, ()).text == "{flow_run.flow_name}/{task_run.task_name}"


def test_template_escaped_braces_stay_escaped() -> None:
    assert translate("{{literal}}-{x}", PREFECT3, ("x",)).text == "{{literal}}-{parameters[x]}"


def test_template_field_that_is_no_input_is_untranslated() -> None:
    assert [field for field, _ in translate("{z}", PREFECT3, ("x",)).untranslated] == ["z"]


def test_template_of_a_task_call_cannot_tell_inputs() -> None:
    assert translate("{x}", PREFECT3, None).untranslated


def test_an_s3_result_names_the_extra_it_needs() -> None:
    text = TASK.replace("LocalResult", "S3Result").format(arguments='result=S3Result(bucket="b")')
    reasons = [site.reason for site in transform_source(text, PREFECT3).sites if site.action == "manual"]
    assert any("prefect-aws" in reason for reason in reasons)
