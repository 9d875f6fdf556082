"""Reading user text files: one clear error for a missing, binary, compressed or mis-encoded file.

Every reader of a text table (GNSS velocities, coseismic offsets, hypoDD picks and stations, velocity models,
CSV picks) opens its file through :func:`read_text` (or :func:`text_lines`), so a gzip file or a binary file
stops with :class:`~sciml.errors.InputError` naming the file and what it looks like, instead of a
``UnicodeDecodeError ... byte 0x8b`` naming nothing.
"""

from __future__ import annotations

import math
import os
from pathlib import Path

from sciml.errors import InputError, bad_value

# leading bytes -> what the file is
_MAGIC = {b"\x1f\x8b": "gzip-compressed", b"BZh": "bzip2-compressed", b"\xfd7zXZ": "xz-compressed",
          b"PK\x03\x04": "a zip archive", b"\x89HDF": "NetCDF-4/HDF5", b"CDF\x01": "classic NetCDF",
          b"CDF\x02": "classic NetCDF", b"\x89PNG": "a PNG image", b"%PDF": "a PDF document"}


def read_text(path: str | os.PathLike, what: str = "text") -> str:
    """The text of ``path`` (UTF-8, or Latin-1 when that fails on a file without NUL bytes);
    :class:`InputError` naming the file if it is missing, a directory, compressed or binary."""
    path = Path(path)
    if not path.exists():
        raise InputError(f"{path}: {what} file not found")
    if path.is_dir():
        raise InputError(f"{path}: is a directory, not a {what} file")
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise InputError(f"{path}: cannot read {what} file ({exc.strerror or exc})") from None
    for magic, kind in _MAGIC.items():
        if data.startswith(magic):
            hint = " (decompress it first)" if "compressed" in kind or "zip" in kind else ""
            raise InputError(f"{path}: field 'file' = {kind}: expected a plain {what} file{hint}")
    nul = data.find(b"\x00", 0, 1 << 16)
    if nul >= 0:
        raise InputError(f"{path}: field 'file' = binary (NUL byte at offset {nul}): expected a plain {what} file")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        try:
            return data.decode("latin-1")  # single-byte encodings of station names and comments
        except UnicodeDecodeError:  # pragma: no cover - latin-1 decodes every byte
            raise InputError(f"{path}: byte {data[exc.start]:#04x} at offset {exc.start} is not text "
                             f"(expected a plain {what} file)") from None


def text_lines(path: str | os.PathLike, what: str = "text") -> list[str]:
    """The lines of :func:`read_text` (line ``i`` of the file is element ``i - 1``)."""
    return read_text(path, what).splitlines()


def finite_float(path: str | os.PathLike, line: int, field: str, text: str) -> float:
    """``text`` as a finite float; :class:`InputError` naming file, line, field and value otherwise."""
    try:
        v = float(text)
    except ValueError:
        raise bad_value(f"{path}: line {line}", field, text, "not a number") from None
    if not math.isfinite(v):
        raise bad_value(f"{path}: line {line}", field, text, "not finite")
    return v
