"""The unified diff ``--diff`` prints: what ``git apply -p0`` and ``patch -p0`` accept, byte for byte.

``difflib`` alone gets two things wrong for patch tools: it splits lines on every character ``str.splitlines``
knows (form feeds, lone ``\\r``, ...), where patch tools split on ``\\n`` only, and it leaves a last line without
a newline unmarked, where they need ``\\ No newline at end of file`` after it.
"""

from __future__ import annotations

import difflib
import re

__all__ = ["unified_diff"]

_LINE = re.compile(r"[^\n]*\n|[^\n]+\Z")
_NO_NEWLINE = "\\ No newline at end of file\n"


def unified_diff(path: str, old: str, new: str) -> str:
    """The diff from ``old`` to ``new``, both headed with ``path``."""
    out: list[str] = []
    for line in difflib.unified_diff(_LINE.findall(old), _LINE.findall(new), path, path):
        if line.endswith("\n"):
            out.append(line)
        else:
            out.append(line + "\n" + _NO_NEWLINE)
    return "".join(out)
