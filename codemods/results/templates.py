"""Legacy target templates (``"{task_name}/{x}.pkl"``) in the field names of the profile's engine.

A legacy template was formatted with the run's context and the task's inputs; the profile's ``template_fields``
says what each context field is called now, and ``input_field`` how an input is named (``{parameters[x]}``).
"""

from __future__ import annotations

import string
from dataclasses import dataclass

from compat.renames import Profile

__all__ = ["Translated", "translate"]


@dataclass(frozen=True)
class Translated:
    """The new template, and each field that has no equivalent with the reason (the template is then kept)."""

    text: str
    untranslated: tuple[tuple[str, str], ...]


def translate(template: str, profile: Profile, inputs: tuple[str, ...] | None) -> Translated:
    """``template`` with its fields renamed; ``inputs``: the task's parameter names (None: unknown, as for a
    ``Task(...)`` call, where a field that is no context field cannot be told from a typo)."""
    try:
        pieces = list(string.Formatter().parse(template))
    except ValueError as exc:
        return Translated(template, ((template, f"the template does not parse ({exc})"),))
    out: list[str] = []
    missing: list[tuple[str, str]] = []
    for literal, field, spec, conversion in pieces:
        out.append(literal.replace("{", "{{").replace("}", "}}"))
        if field is None:
            continue
        root, rest = _split(field)
        if not root or root.isdigit():
            missing.append((field, "a positional field has no name to translate: name the value"))
            continue
        if root in profile.template_fields:
            new = profile.template_fields[root]
            if new is None:
                missing.append((field, f"{profile.name} has no run field for {root}: put a task input that "
                                "differs per run or per mapped child in the key instead"))
                continue
        elif inputs is not None and root not in inputs:
            missing.append((field, f"{root} is neither a context field nor an input of the task"))
            continue
        elif inputs is None:
            missing.append((field, f"{root} may be an input of the task, which a Task(...) call does not show: "
                            "write the key by hand"))
            continue
        else:
            new = profile.input_field.format(root)
        out.append("{" + new + rest + (f"!{conversion}" if conversion else "") + (f":{spec}" if spec else "") + "}")
    return Translated("".join(out), tuple(missing))


def _split(field: str) -> tuple[str, str]:
    """``"x.attr[0]"`` -> ``("x", ".attr[0]")``."""
    for index, character in enumerate(field):
        if character in ".[":
            return field[:index], field[index:]
    return field, ""
