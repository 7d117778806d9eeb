"""The ``pytest11`` entry point of results-compat: the ``--legacy-audit`` options, and nothing else until asked.

pytest imports every installed plugin in every session, so this module imports only pytest and the standard
library. The audit itself (``compat.audit.plugin``) is imported once ``--legacy-audit``, ``--legacy-audit-json``
or ``--legacy-audit-baseline`` (or their ini keys) asks for it, before conftest files import user code.

It is a top-level module of its own, not part of ``compat``, because ``compat`` is a common name: a project with
its own ``compat.py`` or ``compat/`` shadows ours on ``sys.path``, and a plugin inside our ``compat`` would then
fail every pytest session of that project merely for being installed. Here a session that does not ask for the
audit never imports ``compat``; one that does, in such a project, gets a usage error that says why.
"""

from __future__ import annotations

import importlib.util
import os
import sys

import pytest

MODES = ("report", "strict")
FORMATS = ("text", "github", "sarif")
_OPTIONS = ("legacy_audit", "legacy_audit_json", "legacy_audit_baseline", "legacy_audit_format")
_FLAGS = ("--legacy-audit-baseline-update",)
_OUR_PACKAGE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "compat")


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("results-compat", "legacy result-handler audit (results-compat)")
    group.addoption(
        "--legacy-audit",
        nargs="?",
        const="report",
        default=None,
        metavar="report|strict",
        help="report every legacy result-handler use at the end of the session; =strict fails the session if any",
    )
    group.addoption(
        "--legacy-audit-json",
        default=None,
        metavar="PATH",
        help="also write the legacy audit as JSON to PATH",
    )
    group.addoption(
        "--legacy-audit-baseline",
        default=None,
        metavar="FILE",
        help="record known legacy call sites in FILE on first use; afterwards fail only on new ones",
    )
    group.addoption(
        "--legacy-audit-baseline-update",
        action="store_true",
        default=False,
        help="rewrite the --legacy-audit-baseline FILE with this session's sites (drops stale entries)",
    )
    group.addoption(
        "--legacy-audit-format",
        default=None,
        metavar="|".join(FORMATS),
        help="also report the sites for CI: github prints a workflow annotation per site at the end of the "
        "session; sarif writes a SARIF 2.1.0 log (code scanning) to --legacy-audit-output",
    )
    group.addoption(
        "--legacy-audit-output",
        default=None,
        metavar="PATH",
        help="where --legacy-audit-format=sarif writes its log (default: legacy-audit.sarif)",
    )
    parser.addini("legacy_audit", "legacy audit mode: report or strict (empty: off)", default="")
    parser.addini("legacy_audit_format", "legacy audit CI format: text, github or sarif", default="")
    parser.addini("legacy_audit_output", "where the sarif legacy audit format writes its log", default="")
    parser.addini("legacy_audit_json", "write the legacy audit as JSON to this path", default="")
    parser.addini("legacy_audit_baseline", "baseline file of known legacy call sites", default="")


@pytest.hookimpl(tryfirst=True)
def pytest_load_initial_conftests(early_config: pytest.Config, parser: pytest.Parser, args: list[str]) -> None:
    """Keep ``--legacy-audit tests/`` from eating ``tests/``; load the audit, if asked, before conftests import
    user code (so legacy uses at import time are seen)."""
    for index, arg in enumerate(args):
        if arg == "--legacy-audit" and (index + 1 == len(args) or args[index + 1] not in MODES):
            args[index] = "--legacy-audit=report"
    if not _requested(early_config, args):
        return
    _check_compat_is_ours()
    from compat.audit import plugin

    plugin.start_buffering()
    early_config.pluginmanager.register(plugin, "results-compat-legacy-audit-hooks")


def _requested(config: pytest.Config, args: list[str]) -> bool:
    """Whether the command line or the ini file turns the audit on (the parsed options are not ready yet)."""
    flags = (*(f"--{name.replace('_', '-')}" for name in _OPTIONS), *_FLAGS)
    if any(arg == flag or arg.startswith(flag + "=") for arg in args for flag in flags):
        return True
    return any(config.getini(name) for name in _OPTIONS)


def _check_compat_is_ours() -> None:
    """The audit needs results-compat's ``compat``; say so if the project's own module of that name wins."""
    module = sys.modules.get("compat")
    if module is not None:
        origin = getattr(module, "__file__", None)
    else:
        try:
            spec = importlib.util.find_spec("compat")
        except (ImportError, ValueError):
            spec = None
        origin = spec.origin if spec is not None else None
    if origin is not None and os.path.dirname(os.path.abspath(origin)) == _OUR_PACKAGE:
        return
    raise pytest.UsageError(
        f"--legacy-audit needs results-compat's package 'compat' ({_OUR_PACKAGE}), but 'compat' here is "
        f"{origin or 'not importable'}: a module of this project has that name and shadows it, so the audit "
        "cannot run here. Run pytest without --legacy-audit (and without the legacy_audit* ini keys)."
    )
