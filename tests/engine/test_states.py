"""States: the hierarchy callers branch on, and what every state carries."""

from __future__ import annotations

import pytest

from compat import Cached, Failed, Pending, Running, State, Success, TriggerFailed, ValidationFailed


@pytest.mark.parametrize(
    ("state", "ancestor"),
    [(Cached(), Success), (ValidationFailed(), Failed), (TriggerFailed(), Failed), (Pending(), State)],
)
def test_each_state_is_the_kind_it_specialises(state: State, ancestor: type[State]) -> None:
    assert isinstance(state, ancestor)


@pytest.mark.parametrize(
    ("state", "finished", "successful", "failed"),
    [
        (Pending(), False, False, False),
        (Running(), False, False, False),
        (Success(), True, True, False),
        (Cached(), True, True, False),
        (ValidationFailed(), True, False, True),
        (TriggerFailed(), True, False, True),
    ],
)
def test_state_predicates(state: State, finished: bool, successful: bool, failed: bool) -> None:
    assert (state.is_finished(), state.is_successful(), state.is_failed()) == (finished, successful, failed)


def test_a_state_carries_message_result_and_location() -> None:
    state = Success("ran", result=[1], location="/tmp/x.pkl")
    assert (state.message, state.result, state.location) == ("ran", [1], "/tmp/x.pkl")


def test_failed_keeps_its_exception_and_shows_its_message_in_repr() -> None:
    error = ValueError("boom")
    state = Failed("raised ValueError: boom", exception=error)
    assert state.exception is error
    assert repr(state) == "<Failed: 'raised ValueError: boom'>"
