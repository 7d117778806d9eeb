"""The unified diff ``--diff`` prints: what ``git apply -p0`` and ``patch -p0`` accept, byte for byte.

``difflib`` alone gets two things wrong for patch tools: it splits lines on every character ``str.splitlines``
knows (form feeds, lone ``\\r``, ...), where patch tools split on ``\\n`` only, and it leaves a last line without
a newline unmarked, where they need ``\\ No newline at end of file`` after it.
"""

from __future__ import annotations

import difflib
import os
import re

from codemods.results.terminal import shown

__all__ = ["patch_path", "unified_diff"]

_LINE = re.compile(r"[^\n]*\n|[^\n]+\Z")
_NO_NEWLINE = "\\ No newline at end of file\n"


def unified_diff(path: str, old: str, new: str) -> str:
    """The diff from ``old`` to ``new``, both headed with ``path`` as ``patch_path`` spells it."""
    out: list[str] = []
    name = shown(patch_path(path))  # a control character in the name is quoted as git quotes it
    for line in difflib.unified_diff(_LINE.findall(old), _LINE.findall(new), name, name):
        if line.endswith("\n"):
            out.append(line)
        else:
            out.append(line + "\n" + _NO_NEWLINE)
    return "".join(out)


def patch_path(path: str) -> str:
    """``path`` as ``git apply -p0`` takes it from the current directory: normalised (``./a.py`` and ``a//b.py``
    are refused as they are), and relative when it is inside the current directory."""
    normal = os.path.normpath(path)
    if os.path.isabs(normal):
        relative = os.path.relpath(normal)
        if relative != os.pardir and not relative.startswith(os.pardir + os.sep):
            normal = relative
    return normal.replace(os.sep, "/")
