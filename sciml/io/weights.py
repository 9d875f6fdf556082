"""The one format of saved network weights (``.pt`` beside a result NetCDF).

A weights file is a ``torch.save`` of ``{"format": "sciml-weights/1", "step": <step name>, "state_dict": ...,
"config": <the step's config slice>, "meta": {...}}``. Its sha256 enters the provenance record of the result
written with it. :func:`load_weights` checks the format and names the file on any problem.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from sciml.errors import InputError, bad_value
from sciml.io.atomic import save_torch

FORMAT = "sciml-weights/1"


def save_weights(path: str | os.PathLike, state_dict: Mapping[str, Any], *, step: str,
                 config: Mapping[str, Any], meta: Mapping[str, Any] | None = None) -> Path:
    """Atomically write the weights file (see module docstring)."""
    record = {"format": FORMAT, "step": step, "state_dict": dict(state_dict), "config": dict(config),
              "meta": dict(meta or {})}
    return save_torch(record, path)


def load_weights(path: str | os.PathLike, *, map_location: str = "cpu") -> dict[str, Any]:
    """Read a weights file; :class:`InputError` naming the file if absent, unreadable or of another format."""
    import torch

    path = Path(path)
    if not path.exists():
        raise InputError(f"{path}: weights file not found")
    try:
        record = torch.load(path, map_location=map_location, weights_only=False)
    except Exception as exc:  # torch raises RuntimeError / pickle errors / EOFError for damaged files
        raise InputError(f"{path}: not a readable weights file ({type(exc).__name__}: {exc})") from None
    if not isinstance(record, dict) or record.get("format") != FORMAT:
        found = record.get("format") if isinstance(record, dict) else type(record).__name__
        raise bad_value(f"{path}", "format", found, f"expected {FORMAT!r}")
    return record
