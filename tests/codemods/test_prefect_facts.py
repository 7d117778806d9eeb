"""What the messages and tables say about Prefect is true of Prefect: the base class is
``prefect.engine.result.Result``, 0.11-0.13 had ``ResultHandlerResult`` and 0.14 removed it, and Prefect's own
``Result``/``SafeResult`` still took ``result_handler=`` in 0.11-0.13."""

from __future__ import annotations

from pathlib import Path

from compat.deprecations import message, rename_for
from compat.renames import PREFECT
from codemods.results import transform_source

ROOT = Path(__file__).resolve().parents[2]


def _messages() -> list[str]:
    return [message(rename, profile=PREFECT) for rename in PREFECT.renames] + [
        message(rename_for("class", "ResultHandler", PREFECT), subject="Mine", profile=PREFECT)
    ]


def test_nothing_names_a_base_class_prefect_never_had() -> None:
    for text in [*_messages(), (ROOT / "MIGRATION.md").read_text(encoding="utf-8")]:
        assert "prefect.engine.results.Result " not in text and "prefect.engine.results.Result)" not in text
        assert "prefect.engine.results.Result`" not in text


def test_a_subclass_is_told_to_port_to_prefect_engine_result_result() -> None:
    text = message(rename_for("class", "ResultHandler", PREFECT), subject="Mine", profile=PREFECT)
    assert "use prefect.engine.result.Result instead" in text
    assert "ResultHandlerResult" in text and "0.14 removed it" in text


def test_a_reference_to_the_base_class_names_prefect_engine_result_result() -> None:
    code = "from prefect.engine.result_handlers import ResultHandler\n\nok = isinstance(h, ResultHandler)\n"
    (site,) = [s for s in transform_source(code, PREFECT).sites if s.rule == "reference"]
    assert "use prefect.engine.result.Result here by hand" in site.reason


def test_result_handler_on_prefects_own_safe_result_is_not_advised_to_become_result() -> None:
    code = (
        "import prefect\n"
        "from prefect.engine.result import SafeResult\n\n"
        "r = SafeResult(1, result_handler=handler)\n"
    )
    (site,) = [s for s in transform_source(code, PREFECT).sites if s.rule == "keyword"]
    assert site.action == "manual"
    assert "pass result=" not in site.reason
    assert "still take result_handler= in 0.11-0.13" in site.reason
