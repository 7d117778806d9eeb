"""Every way of filtering legacy warnings, each in a real interpreter: -W (dotted and not), PYTHONWARNINGS, the
RESULTS_COMPAT_LEGACY switch, pytest's filterwarnings and warnings.simplefilter."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import warnings
from pathlib import Path

import pytest

from compat import LegacyHandlerWarning, LegacyResultWarning
from compat.deprecations import apply_environment_switch, apply_warning_options

LEGACY_USES = {
    "LegacyHandlerWarning": "from compat.legacy import JSONResultHandler\nJSONResultHandler()",
    "LegacySubclassWarning": "from compat.legacy import ResultHandler\nclass Mine(ResultHandler):\n    pass",
    "LegacyImportWarning": "import compat.result_handlers",
    "LegacyKeywordWarning": "from compat import Flow, MemoryResult\nFlow('f', result_handler=MemoryResult())",
    "LegacyAttributeWarning": "from compat import task\nt = task(lambda: 1)\nt.result_handler",
}
"""One legacy use of each kind, by the category it warns with."""

SENTINEL = "REACHED-THE-END"


def run(code: str, *options: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """Run ``code`` (then print SENTINEL) in a fresh interpreter with ``options`` before ``-c``."""
    environ = {k: v for k, v in os.environ.items() if k not in ("PYTHONWARNINGS", "RESULTS_COMPAT_LEGACY")}
    environ.update(env or {})
    script = f"{code}\nprint({SENTINEL!r})"
    return subprocess.run(
        [sys.executable, *options, "-c", script], capture_output=True, text=True, env=environ, timeout=60
    )


def raised(proc: subprocess.CompletedProcess[str], category: str) -> bool:
    """Whether the process died of a warning whose category name starts with ``category``."""
    return proc.returncode != 0 and SENTINEL not in proc.stdout and bool(re.search(rf"{category}\w*: ", proc.stderr))


@pytest.mark.parametrize("category", sorted(LEGACY_USES))
def test_dotted_w_option_turns_each_legacy_use_into_an_error(category: str) -> None:
    proc = run(LEGACY_USES[category], "-W", "error::compat.LegacyResultWarning")
    assert raised(proc, f"compat.{category}"), proc.stderr


def test_dotted_w_option_for_one_category_leaves_the_others_alone() -> None:
    proc = run(LEGACY_USES["LegacyHandlerWarning"], "-W", "error::compat.LegacySubclassWarning")
    assert proc.returncode == 0 and SENTINEL in proc.stdout


def test_pythonwarnings_with_our_category_turns_legacy_uses_into_errors() -> None:
    proc = run(LEGACY_USES["LegacyHandlerWarning"], env={"PYTHONWARNINGS": "error::compat.LegacyResultWarning"})
    assert raised(proc, "compat.LegacyHandlerWarning"), proc.stderr


def test_w_error_deprecation_warning_turns_legacy_uses_into_errors() -> None:
    proc = run(LEGACY_USES["LegacyHandlerWarning"], "-W", "error::DeprecationWarning")
    assert raised(proc, "compat.LegacyHandlerWarning"), proc.stderr


def test_environment_switch_error_turns_legacy_uses_into_errors() -> None:
    proc = run(LEGACY_USES["LegacySubclassWarning"], env={"RESULTS_COMPAT_LEGACY": "error"})
    assert raised(proc, "compat.LegacySubclassWarning"), proc.stderr


def test_environment_switch_ignore_silences_legacy_uses() -> None:
    proc = run(LEGACY_USES["LegacyHandlerWarning"], "-W", "always", env={"RESULTS_COMPAT_LEGACY": "ignore"})
    assert proc.returncode == 0 and "Legacy" not in proc.stderr


def test_environment_switch_default_shows_each_legacy_use_once_per_line() -> None:
    code = "from compat.legacy import JSONResultHandler\nfor _ in range(3):\n    JSONResultHandler()"
    proc = run(code, env={"RESULTS_COMPAT_LEGACY": "default"})
    assert proc.stderr.count("LegacyHandlerWarning") == 1 and "<string>:3:" in proc.stderr


def test_without_any_switch_a_legacy_use_in_main_is_shown() -> None:
    proc = run(LEGACY_USES["LegacyHandlerWarning"])
    assert proc.returncode == 0 and "<string>:2: LegacyHandlerWarning: JSONResultHandler is deprecated" in proc.stderr


def test_environment_switch_with_an_unknown_value_says_so() -> None:
    proc = run("import compat", env={"RESULTS_COMPAT_LEGACY": "loud"})
    assert "RESULTS_COMPAT_LEGACY='loud' is not one of default, error, ignore" in proc.stderr


def test_pytest_filterwarnings_ini_turns_legacy_uses_into_errors(tmp_path: Path) -> None:
    (tmp_path / "pytest.ini").write_text("[pytest]\nfilterwarnings =\n    error::compat.LegacyResultWarning\n")
    (tmp_path / "test_legacy.py").write_text(
        "from compat.legacy import JSONResultHandler\n\ndef test_uses_a_handler():\n    JSONResultHandler()\n"
    )
    proc = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", str(tmp_path)],
        capture_output=True, text=True, cwd=tmp_path, timeout=120,
    )
    assert proc.returncode == 1 and "LegacyHandlerWarning" in proc.stdout and "1 failed" in proc.stdout


def test_simplefilter_in_code_turns_legacy_uses_into_errors() -> None:
    from compat.legacy import JSONResultHandler

    with warnings.catch_warnings():
        warnings.simplefilter("error", LegacyResultWarning)
        with pytest.raises(LegacyHandlerWarning):
            JSONResultHandler()


# -- the option parsing itself, in process ----------------------------------------------------------------------------


def test_warning_options_naming_other_categories_are_left_to_python() -> None:
    with warnings.catch_warnings():
        before = list(warnings.filters)
        apply_warning_options(["error::DeprecationWarning", "ignore::UserWarning"])
        assert warnings.filters == before


def test_warning_option_with_message_and_module_filters_only_those() -> None:
    with warnings.catch_warnings():
        apply_warning_options(["error:JSONResultHandler:compat.LegacyHandlerWarning:mymod:0"])
        action, message, category, module, lineno = warnings.filters[0]
        assert (action, category, lineno) == ("error", LegacyHandlerWarning, 0)
        assert message.match("JSONResultHandler is deprecated") and module.match("mymod")


def test_invalid_warning_option_naming_our_package_is_reported() -> None:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        apply_warning_options(["error::compat.NoSuchWarning"])
    assert [str(w.message) for w in caught] == ["invalid -W option ignored: 'error::compat.NoSuchWarning'"]


def test_environment_switch_sets_a_filter_on_the_base_category() -> None:
    with warnings.catch_warnings():
        apply_environment_switch({"RESULTS_COMPAT_LEGACY": " Error "})
        assert warnings.filters[0][0] == "error" and warnings.filters[0][2] is LegacyResultWarning
