"""Warnings about legacy uses: their categories, their messages, the removal schedule and the one ``warn`` helper.

Every message is generated from the one table of renames (``compat.renames``): it names the legacy thing, its
replacement, says that ``results-codemod <path>`` rewrites it, and points at the migration guide shipped in
the package (``MIGRATION_GUIDE``). Each kind of
legacy use has its own category, all under ``LegacyResultWarning`` (a ``DeprecationWarning``), so callers can
filter as broadly or narrowly as they need::

    LegacyResultWarning (DeprecationWarning)
    ├── LegacyHandlerWarning           a built-in ResultHandler was instantiated
    ├── LegacySubclassWarning          a class statement subclassed ResultHandler
    ├── LegacyKeywordWarning           result_handler= was passed to Task, Flow or task
    ├── LegacyAttributeWarning         .result_handler was read or assigned on a Task or Flow
    └── LegacyImportWarning            the legacy import path compat.result_handlers was imported

``warn`` walks out of compat's own frames (and wrapt's, and the import machinery's) so that the warning's file
and line are the user's, however many wrappers and ``super().__init__`` calls lie in between.

``RESULTS_COMPAT_LEGACY=error|ignore|default`` in the environment sets a filter for every category when ``compat``
is imported: the way to turn legacy uses into errors from a shell or a CI job (``-W error::compat.…`` cannot
name our category; see MIGRATION.md).
"""

from __future__ import annotations

import os
import re
import sys
import warnings
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Literal, Union

from compat._frames import importer_frame, skip_frames_in, user_frame, where_keyword_is_written
from compat._lazy import show_as_public
from compat.renames import COMPAT, DEPRECATED_IN, REMOVED_IN, Profile, Rename, rename_for

__all__ = [
    "ENVIRONMENT_SWITCH",
    "HandlerKind",
    "MIGRATION_GUIDE",
    "LegacyAttributeWarning",
    "LegacyHandlerWarning",
    "LegacyImportWarning",
    "LegacyKeywordWarning",
    "LegacyResultWarning",
    "LegacySubclassWarning",
    "LegacyUse",
    "apply_environment_switch",
    "apply_warning_options",
    "check_removal_schedule",
    "codemod_command",
    "keyword_message",
    "message",
    "observe",
    "replacement_in",
    "rename_for",
    "skip_frames_in",
    "static_message",
    "warn",
    "warn_at",
]

CODEMOD = "results-codemod <path>"
MIGRATION_GUIDE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "MIGRATION.md")
"""The migration guide as installed: shipped inside the package, so every message points at a file a user of the
wheel can open (the repository's MIGRATION.md is the same document)."""
ENVIRONMENT_SWITCH = "RESULTS_COMPAT_LEGACY"


class LegacyResultWarning(DeprecationWarning):
    """Base class of every warning about a legacy ResultHandler-era use; filter on it to catch them all."""


class LegacyHandlerWarning(LegacyResultWarning):
    """A built-in legacy handler (``LocalResultHandler(...)``, ...) was instantiated."""


class LegacySubclassWarning(LegacyResultWarning):
    """A class statement subclassed the legacy ``ResultHandler``; raised at the ``class`` line."""


class LegacyKeywordWarning(LegacyResultWarning):
    """``result_handler=`` was passed to ``Task``, ``Flow`` or ``task``."""


class LegacyAttributeWarning(LegacyResultWarning):
    """``.result_handler`` was read or assigned on a Task or Flow."""


class LegacyImportWarning(LegacyResultWarning):
    """The legacy import path (``compat.result_handlers``) was imported."""


# -- messages, all derived from the rename table ------------------------------------------------------------------


def codemod_command(profile: Profile = COMPAT) -> str:
    """The codemod command that rewrites the legacy names of ``profile``."""
    return CODEMOD if profile is COMPAT else f"results-codemod --profile {profile.name} <path>"


def _legacy_phrase(rename: Rename, owner: str | None, profile: Profile = COMPAT) -> tuple[str, str]:
    """(what the user used, what to use instead) for one rename."""
    if rename.kind == "class":
        return rename.old, f"compat.{rename.new}" if profile is COMPAT else profile.new_path(rename)
    if rename.kind == "keyword":
        return f"the {rename.old}= keyword of {owner or '/'.join(rename.applies_to)}", f"{rename.new}="
    if rename.kind == "attribute":
        holder = owner or "/".join(rename.applies_to)
        return f"{holder}.{rename.old}", f"{holder}.{rename.new}"
    return f"the module {rename.old}", rename.new


def static_message(rename: Rename) -> str:
    """The short message for type checkers (PEP 702 ``@deprecated``): legacy name, replacement, codemod."""
    legacy, replacement = _legacy_phrase(rename, None)
    return f"{legacy} is deprecated; use {replacement} ({CODEMOD} rewrites it)"


_USE = "use {replacement} instead"
_USE_PATTERN = re.compile(re.escape(_USE).replace(re.escape("{replacement}"), "(?P<replacement>.+?)"))


def replacement_in(text: str) -> str:
    """The replacement named by a message from ``message`` ("" for any other text)."""
    found = _USE_PATTERN.search(text)
    return found.group("replacement") if found else ""


def message(rename: Rename, owner: str | None = None, subject: str | None = None, profile: Profile = COMPAT) -> str:
    """The runtime message for a legacy use of ``rename``.

    ``owner``: the class whose keyword or attribute was used (``Task``). ``subject``: for a subclass of
    ``ResultHandler``, the user's class name. ``profile``: the family ``rename`` belongs to (the Prefect bridge
    passes ``compat.renames.PREFECT``), which names the replacement's module and the codemod's ``--profile``.
    """
    fix = "rewrites its call sites and lists the class to port" if subject is not None else "rewrites it"
    return _composed(rename, owner, subject, profile, rename.note, fix)


HandlerKind = Union[Rename, Literal["own handler", "result"]]
"""What was given as ``result_handler=``: a built-in handler (its class rename), a handler of the user's own, or a
Result (or a legacy-handler view of one)."""


def keyword_message(rename: Rename, owner: str, given: HandlerKind, profile: Profile = COMPAT) -> str:
    """The runtime message for ``result_handler=`` (the keyword ``rename``) on ``owner``, saying what becomes of
    what was ``given``: a built-in handler's Result (named), a handler of the user's own (the rename's note, and
    the codemod wraps it or lists it as a follow-up when the profile has no wrapper), a Result (used as it is)."""
    note, fix = "", "rewrites it"
    if isinstance(given, Rename):
        note = f"the {given.old} given becomes {_legacy_phrase(given, None, profile)[1]}"
    elif given == "own handler":
        note = rename.note
        fix = fix if rename.wrap_value else "lists it as a manual follow-up"
    return _composed(rename, owner, None, profile, note, fix)


def _composed(rename: Rename, owner: str | None, subject: str | None, profile: Profile, note: str, fix: str) -> str:
    legacy, replacement = _legacy_phrase(rename, owner, profile)
    if subject is not None:
        head = f"{subject} subclasses {legacy}, which is deprecated"
    else:
        head = f"{legacy} is deprecated"
    text = (
        f"{head} since results-compat {rename.deprecated_in} and will be removed in {rename.removed_in}; "
        + _USE.format(replacement=replacement)
    )
    if note:
        text += f" ({note})"
    changed = {old: new for old, new in rename.arguments.items() if old != new}
    if rename.kind == "class" and changed:
        mapping = ", ".join(f"{old}= -> {new}=" if new else f"{old}= has none in {rename.new}" for old, new in changed.items())
        text += f"; arguments: {mapping}"
    return f"{text}. `{codemod_command(profile)}` {fix}; see {MIGRATION_GUIDE}#{rename.anchor}"


@dataclass(frozen=True)
class LegacyUse:
    """One legacy use as observers see it: before any warning filter decides whether it is shown."""

    category: type[LegacyResultWarning]
    message: str
    filename: str
    lineno: int
    replacement: str


_observers: list[Callable[[LegacyUse], None]] = []


def observe(observer: Callable[[LegacyUse], None]) -> Callable[[], None]:
    """Call ``observer`` with every legacy use, whatever the warning filters say; returns the unsubscribe.

    The pytest audit plugin listens here, so a suite with ``filterwarnings = ignore`` (or ``error``) is still
    audited.
    """
    _observers.append(observer)
    return lambda: _observers.remove(observer) if observer in _observers else None


def warn(
    category: type[LegacyResultWarning],
    text: str,
    *,
    at_import: bool = False,
    keyword: str | None = None,
    constructing: object = None,
) -> None:
    """Emit ``text`` as ``category``, attributed to the user's line (the first frame outside compat).

    ``at_import``: called from a module body; attribute it to the statement that imports that module.
    ``keyword`` and ``constructing``: a legacy ``keyword=`` reached the ``__init__`` of ``constructing``; the
    user's own ``__init__`` overrides that merely passed it on (``super().__init__(**kwargs)``) are skipped, so the
    warning lands on the line where the keyword is written.
    """
    frame = importer_frame() if at_import else user_frame()
    if keyword is not None and constructing is not None:
        frame = where_keyword_is_written(frame, keyword, constructing)
    if frame is None:  # called with compat frames only (e.g. from an interpreter hook): let warnings decide
        warnings.warn(text, category, stacklevel=2)
        return
    warn_at(category, text, frame.f_code.co_filename, frame.f_lineno, frame.f_globals)


def warn_at(
    category: type[LegacyResultWarning], text: str, filename: str, lineno: int, module_globals: Mapping[str, Any]
) -> None:
    """Emit ``text`` attributed to ``filename:lineno`` in the module whose globals are ``module_globals``.

    This is what ``warnings.warn`` does for its chosen frame, including the per-module registry that makes the
    "default" action show a warning once per location. The source line is found by file name: some loaders
    (``python -c``'s ``__main__``) raise when asked for the source through ``module_globals``.
    """
    if _observers:
        use = LegacyUse(category, text, filename, lineno, replacement_in(text))
        for observer in list(_observers):
            observer(use)
    registry = module_globals.setdefault("__warningregistry__", {})  # type: ignore[attr-defined]
    warnings.warn_explicit(
        text,
        category,
        filename,
        lineno,
        module=module_globals.get("__name__", "<string>"),
        registry=registry,
    )


# -- the environment switch -----------------------------------------------------------------------------------------

_ACTIONS = ("default", "error", "ignore")


def apply_environment_switch(environ: Mapping[str, str] = os.environ) -> None:
    """Apply ``RESULTS_COMPAT_LEGACY=error|ignore|default`` as a filter on ``LegacyResultWarning``.

    Unset or empty: leave the filters alone (legacy warnings are then shown as any DeprecationWarning would be).
    """
    value = environ.get(ENVIRONMENT_SWITCH, "").strip().lower()
    if not value:
        return
    if value not in _ACTIONS:
        warnings.warn(
            f"{ENVIRONMENT_SWITCH}={environ[ENVIRONMENT_SWITCH]!r} is not one of {', '.join(_ACTIONS)}; "
            "it is ignored. Set it to error to turn legacy uses into errors",
            RuntimeWarning,
            stacklevel=2,
        )
        return
    warnings.simplefilter(value, LegacyResultWarning)  # type: ignore[arg-type]


_WARNING_ACTIONS = ("default", "always", "ignore", "module", "once", "error")


def apply_warning_options(options: list[str] | None = None) -> None:
    """Apply the ``-W``/``PYTHONWARNINGS`` options that name one of our categories (``error::compat.Legacy…``).

    Python parses those options before site-packages is on ``sys.path``, finds no module ``compat``, prints
    "Invalid -W option ignored: invalid module name: 'compat'" and drops them; they stay in ``sys.warnoptions``,
    so they are applied here, in their order, when ``compat`` is imported. Options naming other categories were
    applied by Python already and are left alone.
    """
    for option in sys.warnoptions if options is None else options:
        parts = [part.strip() for part in option.split(":")]
        if len(parts) > 5 or len(parts) < 3 or not parts[2].startswith("compat."):
            continue
        action, text, category_path, *rest = parts + [""] * (5 - len(parts))
        module, lineno = rest
        category = _our_category(category_path)
        matched = [name for name in _WARNING_ACTIONS if action and name.startswith(action)] or ["default"]
        if category is None or len(matched) != 1 or not (lineno.isdigit() or not lineno):
            warnings.warn(f"invalid -W option ignored: {option!r}", RuntimeWarning, stacklevel=2)
            continue
        warnings.filterwarnings(
            matched[0],  # type: ignore[arg-type]
            re.escape(text),
            category,
            re.escape(module) + r"\Z" if module else "",
            int(lineno or 0),
        )


def _our_category(path: str) -> type[LegacyResultWarning] | None:
    """``compat.LegacyResultWarning`` or ``compat.deprecations.LegacyResultWarning`` -> the class."""
    name = path.rpartition(".")[2]
    category = globals().get(name)
    if path not in (f"compat.{name}", f"{__name__}.{name}"):
        return None
    if isinstance(category, type) and issubclass(category, LegacyResultWarning):
        return category
    return None


# -- the removal schedule (declared once: compat.renames.REMOVED_IN) -------------------------------------------------


def _legacy_shims_exist() -> bool:
    """Stands for every shim in compat.legacy, compat.adapters and compat.kwargs."""
    return True


def check_removal_schedule(current_version: str | None = None) -> bool:
    """Call the shims' stand-in under the ``deprecation`` package's schedule.

    Until ``REMOVED_IN`` it emits ``deprecation.DeprecatedWarning``; once ``current_version`` (the package's
    ``compat.__version__`` by default) reaches ``REMOVED_IN`` it emits ``deprecation.UnsupportedWarning``, which
    a test decorated with ``deprecation.fail_if_not_removed`` turns into a failure: the day the shims must go.
    """
    import deprecation  # with packaging.version, only needed when the schedule is checked

    if current_version is None:
        current_version = sys.modules["compat"].__version__
    scheduled = deprecation.deprecated(
        deprecated_in=DEPRECATED_IN,
        removed_in=REMOVED_IN,
        current_version=current_version,
        details="delete compat.legacy, compat.result_handlers, compat.adapters' handler support and compat.kwargs",
    )(_legacy_shims_exist)
    return scheduled()


show_as_public(globals())  # tracebacks name compat.LegacyKeywordWarning, however it was reached
apply_warning_options()
apply_environment_switch()
