"""States: the hierarchy callers branch on, and what every state carries."""

from __future__ import annotations

import pytest

from compat import Cached, Failed, Pending, Running, State, Success, TriggerFailed, ValidationFailed
from compat.results.records import TargetRecord


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


def test_a_stored_success_says_where_its_output_is_stored() -> None:
    state = Success.stored([1], "out/1.pkl", code="missing")
    assert (state.message, state.result, state.location, state.code) == (
        "ran and stored its output at 'out/1.pkl'", [1], "out/1.pkl", "missing")


def test_a_stored_success_keeps_no_message_text_of_its_own() -> None:
    # a finished run keeps one State per task: the text is made from the location when read
    state = Success.stored(1, "out/1.pkl")
    assert state._message is None and state.to_dict()["message"] == "ran and stored its output at 'out/1.pkl'"


def test_a_stored_success_pickles_and_copies_with_its_message() -> None:
    import copy
    import pickle

    state = Success.stored(1, "out/1.pkl")
    for again in (pickle.loads(pickle.dumps(state)), copy.copy(state)):
        assert type(again) is Success and again.message == "ran and stored its output at 'out/1.pkl'"


def test_a_states_message_can_be_replaced_or_extended() -> None:
    state = Success.stored(1, "out/1.pkl")
    state.message += " (and more)"
    assert state.message == "ran and stored its output at 'out/1.pkl' (and more)"
    assert repr(state) == "<Success: \"ran and stored its output at 'out/1.pkl' (and more)\">"


def _made_record(calls: list[str], location: str) -> TargetRecord:
    calls.append(location)
    return TargetRecord("blake3:00", 1, location)


def test_a_record_given_as_what_makes_it_is_made_when_first_read_and_once() -> None:
    # a checkpoint's State takes its record as the Result left it: nobody reading it, it is never made
    calls: list[str] = []
    state = Success.stored(1, "out/1.pkl", record=(_made_record, calls, "out/1.pkl"))
    assert calls == []
    record = state.record
    assert record == TargetRecord("blake3:00", 1, "out/1.pkl") and calls == ["out/1.pkl"]
    assert state.record is record and calls == ["out/1.pkl"]


def test_a_record_not_made_yet_travels_pickled_and_is_made_where_it_is_read() -> None:
    import pickle

    calls: list[str] = []
    state = Success.stored(1, "out/1.pkl", record=(_made_record, calls, "out/1.pkl"))
    again = pickle.loads(pickle.dumps(state))
    assert again.record == TargetRecord("blake3:00", 1, "out/1.pkl")


def test_a_records_state_can_be_given_a_made_record_or_none() -> None:
    record = TargetRecord("blake3:00", 1, "out/1.pkl")
    assert Success.stored(1, "out/1.pkl", record=record).record is record
    state = Success("ran")
    assert state.record is None
    state.record = record
    assert state.record is record
