"""Each legacy use warns with its own category, at the user's line, with a message derived from the rename table."""

from __future__ import annotations

import warnings
from pathlib import Path

import deprecation
import pytest

import compat
from compat import (
    LegacyHandlerWarning,
    LegacyImportWarning,
    LegacyResultWarning,
    LegacySubclassWarning,
)
from compat.deprecations import check_removal_schedule, message, rename_for
from compat.legacy import ConstantResultHandler, JSONResultHandler, LocalResultHandler, ResultHandler
from compat.renames import COMPAT, PREFECT, REMOVED_IN


def _line_after(marker: str) -> int:
    """The line number of the first line of this file after the comment ``# <marker>``."""
    lines = [line.strip() for line in Path(__file__).read_text().splitlines()]
    return lines.index(f"# {marker}") + 2


def test_every_category_is_a_legacy_result_warning_and_a_deprecation_warning() -> None:
    categories = [c for c in vars(compat.deprecations).values() if isinstance(c, type) and issubclass(c, Warning)]
    assert len(categories) == 6
    assert all(issubclass(c, LegacyResultWarning) and issubclass(c, DeprecationWarning) for c in categories)


def test_instantiating_a_builtin_handler_warns_at_the_users_line(legacy, tmp_path: Path) -> None:
    # instantiate
    LocalResultHandler(dir=tmp_path)
    (w,) = legacy
    assert (w.category, w.filename, w.lineno) == (LegacyHandlerWarning, __file__, _line_after("instantiate"))


@pytest.mark.parametrize("handler", [JSONResultHandler, lambda: ConstantResultHandler(1)])
def test_every_builtin_handler_warns_when_instantiated(legacy, handler) -> None:
    handler()
    assert [w.category for w in legacy] == [LegacyHandlerWarning]


def test_handler_warning_names_legacy_replacement_codemod_and_removal(legacy, tmp_path: Path) -> None:
    LocalResultHandler(dir=tmp_path)
    text = str(legacy[0].message)
    for part in ("LocalResultHandler", "compat.LocalResult", "results-codemod <path>", REMOVED_IN):
        assert part in text


def test_handler_warning_text_comes_from_the_rename_table(legacy) -> None:
    JSONResultHandler()
    assert str(legacy[0].message) == message(rename_for("class", "JSONResultHandler"))


def test_subclassing_result_handler_warns_at_the_class_statement(legacy) -> None:
    # subclass
    class MyHandler(ResultHandler):
        def write(self, result):
            return "uri"

    (w,) = legacy
    assert (w.category, w.filename, w.lineno) == (LegacySubclassWarning, __file__, _line_after("subclass"))
    assert "MyHandler" in str(w.message) and "compat.Result" in str(w.message)


def test_instantiating_a_users_subclass_does_not_warn_again(legacy) -> None:
    class MyHandler(ResultHandler):
        pass

    MyHandler()
    assert [w.category for w in legacy] == [LegacySubclassWarning]


def test_subclassing_a_builtin_handler_warns_as_a_subclass_not_as_the_builtin(legacy, tmp_path: Path) -> None:
    class MyLocal(LocalResultHandler):
        pass

    MyLocal(dir=tmp_path)
    assert [w.category for w in legacy] == [LegacySubclassWarning]


def test_unpickling_a_handler_does_not_warn(legacy, tmp_path: Path) -> None:
    import pickle

    data = pickle.dumps(ConstantResultHandler(3))
    legacy.clear()
    assert pickle.loads(data).value == 3 and legacy == []


def test_legacy_import_path_warns_at_the_import_line(tmp_path: Path) -> None:
    import importlib
    import sys

    sys.modules.pop("compat.result_handlers", None)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", LegacyResultWarning)
        # import
        module = importlib.import_module("compat.result_handlers")
    (w,) = caught
    assert (w.category, w.filename, w.lineno) == (LegacyImportWarning, __file__, _line_after("import"))
    assert module.LocalResultHandler is LocalResultHandler


def test_legacy_import_path_docstring_declares_the_deprecation() -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", LegacyResultWarning)
        import compat.result_handlers as legacy_path
    assert ".. deprecated::" in (legacy_path.__doc__ or "")


def test_static_deprecation_messages_match_the_rename_table() -> None:
    """The PEP 702 messages must be literals for type checkers; this keeps them equal to the table's."""
    from compat.deprecations import static_message

    for cls in (ResultHandler, LocalResultHandler, JSONResultHandler, ConstantResultHandler):
        assert cls.__deprecated__ == static_message(rename_for("class", cls.__name__))


def test_every_class_rename_in_the_table_has_a_message_naming_both_sides() -> None:
    for rename in COMPAT.of_kind("class"):
        text = message(rename)
        assert rename.old in text and f"compat.{rename.new}" in text and rename.anchor in text


def test_legacy_classes_live_outside_the_package_root() -> None:
    assert not {"ResultHandler", "LocalResultHandler", "JSONResultHandler"} & set(compat.__all__)


# -- the removal schedule -------------------------------------------------------------------------------------------


@deprecation.fail_if_not_removed
def test_shims_are_removed_once_the_package_version_reaches_removed_in() -> None:
    assert check_removal_schedule() is True


def test_removal_check_fails_at_the_removal_version() -> None:
    failing = deprecation.fail_if_not_removed(lambda: check_removal_schedule(current_version=REMOVED_IN))
    with pytest.raises(AssertionError, match="should be removed"):
        failing()


def test_before_the_removal_version_the_schedule_only_warns() -> None:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        check_removal_schedule()
    assert [w.category for w in caught] == [deprecation.DeprecatedWarning]
    assert REMOVED_IN in str(caught[0].message)


@pytest.mark.parametrize("profile", [COMPAT, PREFECT], ids=lambda profile: profile.name)
def test_every_message_names_the_installed_results_codemod_script(profile) -> None:
    """``python -m codemods.results`` fails in a project with a ``codemods`` package of its own; the script does not."""
    from compat.deprecations import static_message

    texts = [message(rename, profile=profile) for rename in profile.renames]
    texts += [static_message(rename) for rename in COMPAT.renames] if profile is COMPAT else []
    assert texts and all("results-codemod " in text and "python -m" not in text for text in texts)
    profile_option = "" if profile is COMPAT else f" --profile {profile.name}"
    assert all(f"results-codemod{profile_option} <path>" in text for text in texts)


def test_the_command_the_messages_name_is_a_console_script_of_the_distribution() -> None:
    from importlib.metadata import entry_points

    from compat.deprecations import codemod_command

    assert codemod_command().split()[0] in {script.name for script in entry_points(group="console_scripts")}
