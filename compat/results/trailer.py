"""A record kept inside its output's own file, after the pickle (issue 21): the record as a *trailer*.

A pickle ends with its STOP opcode (``.``), and ``pickle.load``/``pickle.loads`` (cloudpickle's too) never read
past it. So a ``LocalResult`` writing with the default ``PickleSerializer`` while nothing is signed appends the
record of the bytes after them, in the same atomic write: the record is atomic with the bytes it describes (a
writer killed mid-write leaves neither, a copy of the file keeps both), and costs no second file, no extended
attribute and no call of its own. Every reader of the value, this package's, the legacy handlers' or a user's own
``pickle.load``, reads the value as before.

Layout: ``<pickle><record JSON><footer>``, the footer ``FOOTER`` (24 bytes): the pickle's size, the JSON's size and
its CRC-32 (little-endian: 8, 4 and 4 bytes), then ``TRAILER_MAGIC``. A file has a trailer only if its last bytes
are the magic (which no pickle's last byte, STOP, can be), the sizes add up to the file's, the pickle ends with
STOP and the CRC matches; anything else (no trailer, one cut short, bytes appended by someone else) is no trailer,
never an error. The record's ``bytes_hash`` and ``size`` are of the pickle alone; its ``stored`` is
``TRAILER_STORED``: it names no identity in the store, since it is inside the very bytes it describes.
"""

from __future__ import annotations

import os
import struct
import zlib
from collections.abc import Callable
from typing import Any, BinaryIO

from compat.results.records import MAX_RECORD_BYTES, TargetRecord

__all__ = ["FOOTER", "TRAILER_MAGIC", "TRAILER_STORED", "TRAILER_STORED_JSON", "in_trailer", "payload_size",
           "read_trailer", "record_of_file", "trailer", "trailer_of", "trailer_record"]

TRAILER_MAGIC = b"\x00rc-rec1"
"""How a file holding its record ends (its last byte is not a pickle's STOP)."""

FOOTER = struct.Struct("<QII8s")
"""The pickle's size, the record JSON's size, the JSON's CRC-32, ``TRAILER_MAGIC``."""

TRAILER_STORED: dict[str, Any] = {"trailer": True}
"""A trailer record's ``stored``: no store identity (it travels inside the bytes it describes). A record saying so
read anywhere but from its output's own trailer (a record file, an attribute) describes nothing."""

TRAILER_STORED_JSON = '{"trailer":true}'
"""``TRAILER_STORED`` as canonical JSON."""

_STOP = ord(".")
_TAIL = 4096
"""Bytes read from a file's end to find its trailer in one read (a record is ~450 bytes; a larger one: one more)."""
_SMALLEST = FOOTER.size + 3  # a one-byte pickle (no pickle is that short, but none shorter is read), "{}", footer


def trailer(json: bytes, payload_size: int) -> bytes:
    """What follows a pickle of ``payload_size`` bytes to hold the record ``json``."""
    return json + FOOTER.pack(payload_size, len(json), zlib.crc32(json), TRAILER_MAGIC)


def in_trailer(size: int, read_at: Callable[[int, int], bytes]) -> tuple[int, bytes] | None:
    """The pickle's size and the record's JSON of a file of ``size`` bytes whose bytes ``read_at(offset, count)``
    gives, or None if it has no trailer (see the module docstring)."""
    if size < _SMALLEST:
        return None
    count = size if size < _TAIL else _TAIL
    tail = read_at(size - count, count)
    if len(tail) != count or tail[-8:] != TRAILER_MAGIC:
        return None
    payload, length, crc, _ = FOOTER.unpack_from(tail, count - FOOTER.size)
    if payload < 1 or not 2 <= length <= MAX_RECORD_BYTES or payload + length + FOOTER.size != size:
        return None
    start = count - FOOTER.size - length
    if start < 1:  # a record larger than the first read: read it with the pickle's last byte
        start = 1
        tail = read_at(payload - 1, length + 1)
        if len(tail) != length + 1:
            return None
    json = tail[start : start + length]
    if tail[start - 1] != _STOP or zlib.crc32(json) != crc:
        return None
    return payload, json


def trailer_of(data: bytes | bytearray | memoryview) -> tuple[int, bytes] | None:
    """``in_trailer`` of a file's whole bytes ``data``."""
    return in_trailer(len(data), lambda offset, count: bytes(data[offset : offset + count]))


def read_trailer(fd: int, size: int) -> tuple[int, bytes] | None:
    """``in_trailer`` of the open file ``fd`` of ``size`` bytes (one ``pread``, two for a large record)."""
    return in_trailer(size, lambda offset, count: os.pread(fd, count, offset))


def payload_size(stream: BinaryIO) -> int | None:
    """The size of the pickle before the trailer of the file ``stream`` reads (at its start), None if it has no
    trailer or cannot seek; ``stream`` is left where it was."""
    seekable = getattr(stream, "seekable", None)
    if not callable(seekable) or not seekable():
        return None
    start = stream.tell()
    size = stream.seek(0, os.SEEK_END)

    def read_at(offset: int, count: int) -> bytes:
        stream.seek(offset)
        return stream.read(count)

    try:
        found = in_trailer(size, read_at)
    finally:
        stream.seek(start)
    return None if found is None else found[0]


def trailer_record(found: tuple[int, bytes] | None) -> TargetRecord | None:
    """The record of a trailer ``in_trailer`` found, or None: not a record this version reads, one that names
    another size than the pickle's, or one that does not say it is a trailer's (``TRAILER_STORED``)."""
    if found is None:
        return None
    try:
        record = TargetRecord.from_json(found[1])
    except ValueError:
        return None
    if record.size != found[0] or record.stored != TRAILER_STORED:
        return None
    return record


def record_of_file(fd: int, size: int | None = None) -> TargetRecord | None:
    """``trailer_record`` of the open file ``fd`` (``size``: its size, if known; else looked up on ``fd``), or None:
    no trailer, or not a file that can seek or be read (a FIFO, a directory swapped in)."""
    try:
        return trailer_record(read_trailer(fd, os.lseek(fd, 0, os.SEEK_END) if size is None else size))
    except OSError:
        return None
