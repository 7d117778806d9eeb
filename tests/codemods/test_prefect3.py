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


FLOW = """from prefect import Flow, Parameter, task


@task
def double(x):
    return 2 * x


{block}
"""


def _flow(block: str) -> tuple[str, list[str]]:
    transformed = transform_source(FLOW.format(block=block), PREFECT3)
    return transformed.code, [site.reason for site in transformed.sites if site.action == "manual"]


def test_a_flow_block_becomes_a_flow_function_called_where_it_ran() -> None:
    code, manual = _flow('with Flow("etl") as flow:\n    double(Parameter("x", default=1))\n\nflow.run()\n')
    assert '@flow(name="etl")\ndef etl(x=1):\n    double(x)\n\netl()\n' in code and not manual


def test_flow_run_parameters_become_keyword_arguments() -> None:
    code, _ = _flow('with Flow("etl") as flow:\n    x = Parameter("x")\n    double(x)\n\n'
                    'flow.run(parameters={"x": 2})\n')
    assert "def etl(x):\n    double(x)\n\netl(x=2)\n" in code


def test_flow_run_parameters_by_name_are_splatted() -> None:
    code, _ = _flow('with Flow("etl") as flow:\n    double(Parameter("x"))\n\nflow.run(parameters=given)\n')
    assert "\netl(**given)\n" in code


def test_required_parameters_come_first_and_required_false_defaults_to_none() -> None:
    code, _ = _flow('with Flow("etl") as flow:\n    a = Parameter("a", default=1)\n    b = Parameter("b", required=False)\n'
                    '    c = Parameter("c", default=3, required=True)\n    double(a)\n    double(b)\n    double(c)\n')
    assert "def etl(c, a=1, b=None):" in code


def test_imports_of_flow_and_parameter_make_way_for_the_decorator() -> None:
    code, _ = _flow('with Flow("etl") as flow:\n    double(1)\n')
    assert code.startswith("from prefect import flow, task\n")


def test_a_flow_storage_is_saved_above_the_function() -> None:
    code, manual = _flow('from prefect.engine.results import LocalResult\n\n'
                         'with Flow("etl", result=LocalResult(dir="/r")) as flow:\n    double(1)\n')
    assert 'etl_storage = LocalFileSystem(basepath="/r")\netl_storage.save("etl-results-' in code
    assert '@flow(name="etl", result_storage=etl_storage, persist_result=True)\ndef etl():' in code and not manual


def test_a_flow_built_in_a_function_is_left_whole_handler_included() -> None:
    block = 'from prefect.engine.results import LocalResult\n\n\ndef build(d):\n    with Flow("etl", result=LocalResult(dir=d)) as flow:\n        double(1)\n    return flow\n'
    code, manual = _flow(block)
    assert code == FLOW.format(block=block)
    assert len(manual) == 1 and "inside a function" in manual[0]


def test_a_flow_whose_result_is_no_built_in_one_is_left_whole() -> None:
    block = 'with Flow("etl", result=mine) as flow:\n    double(1)\n'
    code, manual = _flow(block)
    assert code == FLOW.format(block=block) and "is not a built-in handler or Result" in manual[0]


def test_a_call_of_no_task_keeps_the_flow() -> None:
    block = 'with Flow("etl") as flow:\n    double(len("ab"))\n'
    code, manual = _flow(block)
    assert code == FLOW.format(block=block) and "len(...) is not a task of this module" in manual[0]


def test_a_parameter_bound_to_another_name_keeps_the_flow() -> None:
    block = 'with Flow("etl") as flow:\n    n = Parameter("count")\n    double(n)\n'
    assert "give the variable the parameter's name" in _flow(block)[1][0]


def test_a_task_result_used_after_the_block_keeps_the_flow() -> None:
    block = 'with Flow("etl") as flow:\n    y = double(1)\n\nprint(flow.run().result[y])\n'
    code, manual = _flow(block)
    assert code == FLOW.format(block=block)
    assert "y, bound in the flow block, is used outside it" in manual[0] and "state flow.run() returns" in manual[0]


def test_a_flow_register_keeps_the_flow_and_says_what_to_do() -> None:
    block = 'with Flow("etl") as flow:\n    double(1)\n\nflow.register("project")\n'
    assert "flow.serve(...) or flow.deploy(...)" in _flow(block)[1][0]


def test_an_executor_keeps_the_flow_and_names_the_task_runner() -> None:
    block = 'with Flow("etl", executor=LocalDaskExecutor()) as flow:\n    double(1)\n'
    assert "task_runner" in _flow(block)[1][0]


def test_a_taken_function_name_gets_a_suffix() -> None:
    code, _ = _flow('etl = 1\nwith Flow("etl") as flow:\n    double(etl)\n\nflow.run()\n')
    assert "def etl_flow():" in code and "\netl_flow()\n" in code


def test_a_flow_only_file_is_not_filtered_out(tmp_path: Path) -> None:
    path = tmp_path / "flow.py"
    path.write_text('from prefect import Flow, task\n\n\n@task\ndef one():\n    return 1\n\n\n'
                    'with Flow("one") as flow:\n    one()\n\nflow.run()\n')
    assert main(["--quiet", "--profile", "prefect3", str(path)]) == 0
    assert path.read_text().endswith('@flow(name="one")\ndef one_flow():\n    one()\n\none_flow()\n')


CLASSES = """from prefect import Flow, Task


class Add(Task):
{body}

{uses}
"""


def _classes(body: str, uses: str) -> tuple[str, list[str]]:
    transformed = transform_source(CLASSES.format(body=body, uses=uses), PREFECT3)
    return transformed.code, [site.reason for site in transformed.sites if site.action == "manual"]


def test_a_task_class_holding_only_run_becomes_a_task_function() -> None:
    code, manual = _classes("    def run(self, x, y=1):\n        return x + y\n", "add = Add()")
    assert "@task\ndef Add(x, y=1):\n    return x + y\n" in code and "add = Add\n" in code and not manual
    assert code.splitlines()[0] == "from prefect import task, Flow"  # Task goes, task comes


def test_an_instantiation_with_keywords_becomes_with_options() -> None:
    code, _ = _classes("    def run(self, x):\n        return x\n", 'add = Add(name="add", max_retries=3)')
    assert 'add = Add.with_options(name="add", retries=3)' in code


def test_a_target_of_an_instantiation_takes_runs_parameters_as_inputs() -> None:
    code, manual = _classes("    def run(self, x):\n        return x\n", 'add = Add(target="{x}.txt")')
    assert 'Add.with_options(result_storage_key="{parameters[x]}.txt", persist_result=True)' in code and not manual


def test_a_task_class_whose_run_uses_self_stays_and_is_listed() -> None:
    body = "    def run(self, x):\n        return self.name + x\n"
    code, manual = _classes(body, "add = Add()")
    assert "class Add(Task):" in code and "run() uses self" in manual[0]


def test_a_task_class_given_positional_arguments_stays() -> None:
    code, manual = _classes("    def run(self, x):\n        return x\n", 'add = Add("add")')
    assert "class Add(Task):" in code and "positional arguments" in manual[0]


def test_a_task_class_used_other_than_instantiated_stays() -> None:
    _, manual = _classes("    def run(self, x):\n        return x\n", "kind = isinstance(1, Add)")
    assert "used other than instantiated" in manual[0]


def test_a_flow_calling_an_instance_of_a_class_that_stays_stays() -> None:
    uses = 'add = Add()\n\nwith Flow("f") as flow:\n    add(1)\n'
    code, manual = _classes("    def __init__(self):\n        super().__init__()\n\n    def run(self, x):\n"
                            "        return x\n", uses)
    assert code == CLASSES.format(body="    def __init__(self):\n        super().__init__()\n\n    def run(self, x):\n"
                                  "        return x\n", uses=uses)
    assert any("add(...) is not a task of this module" in reason for reason in manual)


def test_a_result_location_becomes_the_task_storage_key() -> None:
    code = _rewrite('result=LocalResult(dir="/d", location="{flow_name}/{x}.pkl")')
    assert '@task(result_storage=double_storage, result_storage_key="{flow_run.flow_name}/{parameters[x]}.pkl", ' \
           "persist_result=True)" in code
    assert 'LocalFileSystem(basepath="/d")\n' in code


def test_a_result_location_is_dropped_where_the_task_has_a_target() -> None:
    code = _rewrite('result=LocalResult(location="{x}.pkl", dir="/d"), target="{y}.txt"')
    assert 'LocalFileSystem(dir' not in code and 'LocalFileSystem(basepath="/d")\n' in code
    assert 'result_storage_key="{parameters[y]}.txt"' in code and "{x}.pkl" not in code


def test_a_location_field_without_equivalent_stays_and_is_listed() -> None:
    assert any("location=" in reason for reason in _manual('result=LocalResult(location="{map_index}.pkl")'))


def test_a_json_result_becomes_the_json_serializer() -> None:
    text = TASK.replace("LocalResult", "PrefectResult").format(arguments="result=PrefectResult()")
    code = transform_source(text, PREFECT3).code
    assert "@task(result_serializer=JSONSerializer(), persist_result=True)" in code
    assert "from prefect.serializers import JSONSerializer\n" in code and ".save(" not in code


def test_a_constant_result_is_listed_with_what_to_do() -> None:
    text = TASK.replace("LocalResult", "ConstantResult").format(arguments="result=ConstantResult(value=1)")
    transformed = transform_source(text, PREFECT3)
    assert "result=ConstantResult(value=1)" in transformed.code
    assert any(s.reason.startswith("ConstantResult: a constant needs no result storage") for s in transformed.sites)


def test_a_result_handler_set_on_a_task_is_left_and_says_to_use_with_options() -> None:
    text = TASK.format(arguments="") + '\ndouble.result = LocalResult(dir="/d")\n'
    transformed = transform_source(text, PREFECT3)
    assert 'double.result = LocalResult(dir="/d")' in transformed.code
    assert any("double = double.with_options(result_storage=...)" in s.reason for s in transformed.sites)


def test_a_task_class_that_stays_keeps_its_keywords_and_handlers() -> None:
    body = ("    def __init__(self, **kwargs):\n        super().__init__(result=LocalResult(dir='/d'), **kwargs)\n\n"
            "    def run(self, x):\n        return x\n")
    text = "from prefect.engine.results import LocalResult\n" + CLASSES.format(body=body, uses='add = Add(target="t")')
    code = transform_source(text, PREFECT3).code
    assert "super().__init__(result=LocalResult(dir='/d'), **kwargs)" in code and 'Add(target="t")' in code


def test_a_parameter_named_like_a_task_the_flow_calls_keeps_the_flow() -> None:
    block = 'with Flow("etl") as flow:\n    double(Parameter("double"))\n'
    code, manual = _flow(block)
    assert code == FLOW.format(block=block) and "would hide the task double" in manual[0]
