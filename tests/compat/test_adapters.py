"""as_result / as_result_handler: built-ins become native Results, users' handlers run through an adapter."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import cloudpickle
import pytest

from compat import (
    ArgumentTypeError,
    ConstantResult,
    JSONResult,
    LocalResult,
    MemoryResult,
    ResultHandlerResult,
    ResultNotFound,
    as_result,
    as_result_handler,
)
from compat.legacy import ConstantResultHandler, JSONResultHandler, LocalResultHandler
from tests.compat.handlers import BrokenHandler, DictHandler, DirectoryHandler, ExistsHandler

pytestmark = pytest.mark.usefixtures("quiet")


class ClientErrorLike(Exception):
    """Shaped like botocore's ClientError: the code sits in ``response["Error"]["Code"]``."""

    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.response = {"Error": {"Code": code}}


# -- the conversion table --------------------------------------------------------------------------------------------


def test_local_handler_becomes_a_local_result_with_the_same_dir(tmp_path: Path) -> None:
    result = as_result(LocalResultHandler(dir=tmp_path))
    assert type(result) is LocalResult and result.dir == str(tmp_path)


def test_json_handler_becomes_a_json_result() -> None:
    assert type(as_result(JSONResultHandler())) is JSONResult


def test_constant_handler_becomes_a_constant_result_with_the_same_value() -> None:
    result = as_result(ConstantResultHandler({"v": 1}))
    assert type(result) is ConstantResult and result.value == {"v": 1}


def test_a_result_is_returned_as_is() -> None:
    result = MemoryResult()
    assert as_result(result) is result


def test_a_users_handler_is_wrapped_in_a_result_handler_result() -> None:
    handler = DictHandler({})
    result = as_result(handler)
    assert type(result) is ResultHandlerResult and result.handler is handler


def test_a_users_subclass_of_a_builtin_is_wrapped_not_converted(tmp_path: Path) -> None:
    class MyLocal(LocalResultHandler):
        def write(self, result):
            return super().write(("wrapped", result))

    assert type(as_result(MyLocal(dir=tmp_path))) is ResultHandlerResult


def test_anything_else_is_a_type_error_saying_what_was_expected() -> None:
    with pytest.raises(ArgumentTypeError, match=r"^the handler must be a Result .* or a legacy ResultHandler, not int"):
        as_result(3)


# -- ResultHandlerResult ---------------------------------------------------------------------------------------------


def test_adapter_write_returns_the_handlers_uri_as_location() -> None:
    store: dict = {}
    written = as_result(DictHandler(store)).write([1, 2])
    assert store[written.location] == [1, 2] and written.value == [1, 2]


def test_adapter_read_returns_the_handlers_value() -> None:
    assert as_result(DictHandler({"k": "v"})).read("k").value == "v"


def test_adapter_read_of_a_missing_uri_raises_result_not_found_naming_it() -> None:
    with pytest.raises(ResultNotFound, match="DictHandler has nothing stored at 'nope'"):
        as_result(DictHandler({})).read("nope")


def test_adapter_read_lets_other_errors_through() -> None:
    with pytest.raises(PermissionError):
        as_result(BrokenHandler()).read("x")


def test_exists_uses_the_handlers_own_exists_when_it_has_one() -> None:
    handler = ExistsHandler({"here": 1})
    result = as_result(handler)
    assert (result.exists("here"), result.exists("gone")) == (True, False)
    assert (handler.exists_calls, handler.reads) == (2, 0)


def test_exists_falls_back_to_a_read_guarded_against_not_found() -> None:
    handler = DictHandler({"here": 1})
    result = as_result(handler)
    assert (result.exists("here"), result.exists("gone")) == (True, False)
    assert handler.reads == 2


@pytest.mark.parametrize("error", [FileNotFoundError("f"), KeyError("k"), IndexError(0), ResultNotFound("r"),
                                   ClientErrorLike("NoSuchKey"), ClientErrorLike("404")])
def test_exists_treats_not_found_errors_as_absence(error: Exception) -> None:
    class Missing(DictHandler):
        def read(self, uri):
            raise error

    assert as_result(Missing({})).exists("x") is False


@pytest.mark.parametrize("error", [PermissionError("denied"), ValueError("corrupt"), ClientErrorLike("AccessDenied")])
def test_exists_propagates_any_other_error(error: Exception) -> None:
    class Failing(DictHandler):
        def read(self, uri):
            raise error

    with pytest.raises(type(error)):
        as_result(Failing({})).exists("x")


def test_exists_renders_a_location_template() -> None:
    assert as_result(DictHandler({"t-1": 0})).exists("{task_name}-{map_index}", task_name="t", map_index=1)


def test_adapter_runs_validators() -> None:
    result = ResultHandlerResult(DictHandler({}), validators=[lambda v: v > 0])
    assert result.write(5).validate() is True and result.write(-1).validate() is False


def test_adapter_cache_for_uses_the_files_modified_time(tmp_path: Path) -> None:
    result = ResultHandlerResult(DirectoryHandler(tmp_path), cache_for=timedelta(hours=1))
    written = result.write("fresh")
    assert result.read_cached(written.location).value == "fresh"


def test_adapter_cache_for_cannot_reuse_what_it_cannot_date() -> None:
    result = ResultHandlerResult(DictHandler({}), cache_for=timedelta(hours=1))
    written = result.write("undated")
    assert result.read_cached(written.location) is None


def test_a_target_the_handler_writes_to_is_found_again(tmp_path: Path) -> None:
    target = str(tmp_path / "out.pkl")
    result = ResultHandlerResult(DirectoryHandler(tmp_path, name="out.pkl"), location=target)
    assert result.exists(target) is False
    result.write({"done": True})
    assert result.exists(target) is True and result.read(target).value == {"done": True}


def test_the_hint_for_an_unreachable_target_says_how_to_fix_the_handler() -> None:
    hint = ResultHandlerResult(DictHandler({})).unreachable_target_hint
    assert "port DictHandler to a compat.Result subclass" in hint and "exists(uri)" in hint


def test_adapter_needs_read_and_write() -> None:
    with pytest.raises(ArgumentTypeError, match=r"^ResultHandlerResult: handler must be a legacy handler, with "
                                                 r"write\(value\) -> uri and read\(uri\) -> value, not object"):
        ResultHandlerResult(object())


def test_adapter_survives_cloudpickle(tmp_path: Path) -> None:
    result = as_result(DirectoryHandler(tmp_path))
    clone = cloudpickle.loads(cloudpickle.dumps(result))
    assert type(clone) is ResultHandlerResult and clone.read(result.write(3).location).value == 3


# -- data compatibility through the adapter ---------------------------------------------------------------------------


def test_adapter_reads_a_file_written_by_the_legacy_local_handler(tmp_path: Path) -> None:
    uri = LocalResultHandler(dir=tmp_path).write("old data")
    assert as_result(LocalResultHandler(dir=tmp_path)).read(uri).value == "old data"


# -- as_result_handler ------------------------------------------------------------------------------------------------


def test_result_handler_view_write_returns_a_uri_that_read_accepts(tmp_path: Path) -> None:
    handler = as_result_handler(LocalResult(dir=tmp_path))
    uri = handler.write({"x": 1})
    assert isinstance(uri, str) and handler.read(uri) == {"x": 1} and handler.exists(uri)


def test_result_handler_view_forwards_the_results_attributes(tmp_path: Path) -> None:
    assert as_result_handler(LocalResult(dir=tmp_path)).dir == str(tmp_path)


def test_result_handler_view_of_an_adapter_is_the_original_handler() -> None:
    handler = DictHandler({})
    assert as_result_handler(as_result(handler)) is handler


def test_as_result_of_a_view_is_the_original_result() -> None:
    result = MemoryResult()
    assert as_result(as_result_handler(result)) is result


def test_result_handler_view_survives_cloudpickle(tmp_path: Path) -> None:
    view = as_result_handler(LocalResult(dir=tmp_path))
    clone = cloudpickle.loads(cloudpickle.dumps(view))
    assert clone.read(view.write(9)) == 9


def test_as_result_handler_refuses_anything_else() -> None:
    with pytest.raises(ArgumentTypeError) as raised:
        as_result_handler("local")
    assert str(raised.value) == "the result must be a Result or a legacy ResultHandler, not str ('local')"


def test_a_cached_run_through_a_handler_without_exists_reads_the_value_once() -> None:
    from compat import Cached, Flow, task

    handler = DictHandler({"out": "stored"}, key="out")

    @task(result=ResultHandlerResult(handler), target="out")
    def make() -> str:
        return "computed"

    with Flow("f") as flow:
        node = make()
    state = flow.run().result[node]
    assert isinstance(state, Cached) and state.result == "stored"
    assert handler.reads == 1


def test_a_read_of_another_location_after_exists_reads_it_from_the_handler() -> None:
    handler = DictHandler({"a": 1, "b": 2})
    result = ResultHandlerResult(handler)
    assert result.exists("a")
    assert result.read("b").value == 2 and result.read("a").value == 1
    assert handler.reads == 3
