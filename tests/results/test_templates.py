"""Location templates: rendered with str.format(**context), callables, and clear errors."""

from __future__ import annotations

import pytest

from compat import LocationError, MemoryResult, Result, TemplateError


def test_format_renders_the_location_template() -> None:
    result = MemoryResult(location="{flow_name}/{task_name}-{today}.pkl")
    assert result.format(flow_name="etl", task_name="load", today="2026-11-25").location == "etl/load-2026-11-25.pkl"


def test_format_returns_a_copy_and_keeps_the_template() -> None:
    result = MemoryResult(location="{x}.pkl")
    rendered = result.format(x=1)
    assert (rendered.location, result.location) == ("1.pkl", "{x}.pkl")


def test_missing_key_raises_template_error_naming_the_key_and_the_available_keys() -> None:
    result = MemoryResult(location="{flow_name}/{missing}.pkl")
    with pytest.raises(TemplateError) as info:
        result.format(flow_name="etl", task_name="t")
    message = str(info.value)
    assert "'missing'" in message and "available keys: flow_name, task_name" in message
    assert info.value.key == "missing"


def test_template_error_is_a_key_error_with_a_readable_message() -> None:
    with pytest.raises(KeyError) as info:
        MemoryResult(location="{nope}").format()
    assert str(info.value).startswith("location template '{nope}'")


def test_positional_placeholder_is_refused_with_advice() -> None:
    with pytest.raises(TemplateError, match="positional field"):
        MemoryResult(location="out-{}.pkl").format(x=1)


def test_attribute_access_in_templates_works_on_context_values() -> None:
    import datetime

    day = datetime.date(2026, 11, 25)
    assert MemoryResult(location="{date.year}/{date:%m}.pkl").format(date=day).location == "2026/11.pkl"


def test_callable_location_is_called_with_the_context() -> None:
    result = MemoryResult(location=lambda **ctx: f"{ctx['task_name'].upper()}.pkl")
    assert result.format(task_name="load").location == "LOAD.pkl"


def test_callable_location_must_return_a_string() -> None:
    with pytest.raises(LocationError, match="returned int, expected a str"):
        MemoryResult(location=lambda **ctx: 3).format()


def test_write_renders_the_template_with_its_context() -> None:
    MemoryResult.clear()
    written = MemoryResult(location="runs/{n}.pkl").write("v", n=5)
    assert written.location == "runs/5.pkl"


def test_exists_renders_the_location_with_the_context() -> None:
    MemoryResult.clear()
    result = MemoryResult(location="runs/{n}.pkl")
    result.write("v", n=1)
    assert result.exists("runs/{n}.pkl", n=1) and not result.exists("runs/{n}.pkl", n=2)


def test_base_result_says_which_method_a_backend_must_implement() -> None:
    with pytest.raises(NotImplementedError, match="Result must implement write_bytes"):
        Result().write(1)


def test_context_keys_named_value_or_location_are_template_keys() -> None:
    MemoryResult.clear()
    result = MemoryResult(location="{location}/{value}.pkl")
    written = result.write(1, value="v", location="here")
    assert written.location == "here/v.pkl"
    assert result.exists("{location}/{value}.pkl", value="v", location="here")


def test_a_misspelt_key_gets_a_suggestion() -> None:
    with pytest.raises(TemplateError, match=r"needs the key 'dya'.*\(did you mean 'day'\?\)"):
        MemoryResult(location="{dya}.pkl").format(day="2026-11-25", flow_name="etl")


def test_write_with_a_location_keyword_the_template_does_not_use_is_refused() -> None:
    with pytest.raises(TypeError, match=r"write\(\) got location='x.pkl'.*MemoryResult\(location=\.\.\.\)"):
        MemoryResult().write(5, location="x.pkl")


def test_write_with_a_location_key_that_merely_shares_a_prefix_is_refused() -> None:
    with pytest.raises(TypeError, match="has no {location} field"):
        MemoryResult(location="{location_name}.pkl").write(5, location="x", location_name="y")
