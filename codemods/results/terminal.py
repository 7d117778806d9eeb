"""How a file name is shown on a terminal and in ``--diff``: a name is bytes the user's file system accepted, and
may hold a newline, an escape sequence or a bidi override that would add lines to the report or rewrite the
screen. Such a name is quoted as git quotes it (C escapes in double quotes), which ``git apply`` and ``patch`` read
back; any other name is shown as it is."""

from __future__ import annotations

__all__ = ["shown"]

_ESCAPES = {"\a": "\\a", "\b": "\\b", "\t": "\\t", "\n": "\\n", "\v": "\\v", "\f": "\\f", "\r": "\\r",
            '"': '\\"', "\\": "\\\\"}


def shown(path: str) -> str:
    """``path`` as is when every character is printable, else in double quotes with each unprintable character
    escaped (``\\n``, or the octal of its UTF-8 bytes; an undecodable byte as the byte it was)."""
    if path.isprintable():
        return path
    return '"' + "".join(_escaped(char) for char in path) + '"'


def _escaped(char: str) -> str:
    if char in _ESCAPES:
        return _ESCAPES[char]
    if char.isprintable():
        return char
    return "".join(f"\\{byte:03o}" for byte in char.encode("utf-8", "surrogateescape"))
