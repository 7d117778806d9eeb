"""Validators: fn(value) -> bool; False or an exception means invalid, and the error says which and why."""

from __future__ import annotations

from datetime import timedelta

import pytest

from compat import MemoryResult, ValidationError


def is_positive(value: int) -> bool:
    return value > 0


def explodes(value: object) -> bool:
    raise RuntimeError("cannot look at this")


def test_validate_is_true_when_every_validator_accepts() -> None:
    assert MemoryResult(value=3, validators=[is_positive]).validate() is True


def test_validate_is_false_when_a_validator_returns_false() -> None:
    assert MemoryResult(value=-3, validators=[is_positive]).validate() is False


def test_validators_given_to_validate_run_after_those_set_at_init() -> None:
    seen: list[str] = []
    first = lambda v: seen.append("init") or True  # noqa: E731
    second = lambda v: seen.append("call") or True  # noqa: E731
    assert MemoryResult(value=1, validators=[first]).validate([second])
    assert seen == ["init", "call"]


def test_validation_error_names_the_validator_and_the_returned_value() -> None:
    error = MemoryResult(value=-1, validators=[is_positive]).validation_error()
    assert isinstance(error, ValidationError)
    assert error.validator.endswith("is_positive")
    assert "returned False" in error.reason


def test_a_validator_that_raises_marks_the_value_invalid_and_keeps_the_reason() -> None:
    error = MemoryResult(value=1, validators=[explodes]).validation_error()
    assert error is not None and "RuntimeError: cannot look at this" in error.reason


def test_a_single_validator_function_is_accepted_without_a_list() -> None:
    assert MemoryResult(value=-1, validators=is_positive).validate() is False


def test_a_validator_that_is_not_callable_is_refused_at_init() -> None:
    with pytest.raises(TypeError, match="each of validators must be a callable"):
        MemoryResult(validators=["not a function"])


def test_cache_for_must_be_a_timedelta() -> None:
    with pytest.raises(TypeError, match="timedelta"):
        MemoryResult(cache_for=3600)


def test_copy_gives_independent_validator_lists() -> None:
    original = MemoryResult(validators=[is_positive], cache_for=timedelta(1))
    copy = original.copy()
    copy.validators.append(explodes)
    assert original.validators == [is_positive]


class Ambiguous:
    """Like a numpy array: asking for its truth value raises."""

    def __bool__(self) -> bool:
        raise ValueError("the truth value of an array with more than one element is ambiguous")


def test_a_validator_whose_result_has_no_truth_value_marks_the_value_invalid() -> None:
    error = MemoryResult(value=1, validators=[lambda value: Ambiguous()]).validation_error()
    assert error is not None and "truth value raised ValueError" in error.reason
