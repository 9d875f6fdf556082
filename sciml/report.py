"""Tables for the workflow report: metrics of every result and the lineage of every figure.

Metrics are the scalar (0-d) numeric variables of result files (with their units and long names) and
their numeric global attributes (study diagnostics such as ABIC, acceptance rates, relative errors).
"""

from __future__ import annotations

import os
from collections.abc import Iterable

import numpy as np
import pandas as pd

from sciml.io.netcdf import format_tree, lineage_tree, read_dataset

_SKIP_ATTRS = {"Conventions", "title", "history", "source", "date_created", "sciml_provenance"}


def upstream_netcdf(paths: Iterable[str | os.PathLike]) -> list[str]:
    """All NetCDF files in the lineage trees of ``paths`` (figures or results), sorted, unique."""
    found: set[str] = set()

    def walk(node: dict) -> None:
        if node["path"].endswith(".nc") and node.get("status") == "ok" and node.get("rule") != "(raw input)":
            found.add(os.path.relpath(node["path"]))
        for child in node.get("inputs", []):
            walk(child)

    for p in paths:
        walk(lineage_tree(p))
    return sorted(found)


def collect_metrics(paths: Iterable[str | os.PathLike]) -> pd.DataFrame:
    """One row per metric: file, name, value, units, long_name."""
    rows = []
    for path in paths:
        ds = read_dataset(path)
        for name, var in ds.data_vars.items():
            if var.ndim == 0 and np.issubdtype(var.dtype, np.number):
                rows.append((str(path), name, float(var.values), var.attrs.get("units", ""),
                             var.attrs.get("long_name", "")))
        for name, value in ds.attrs.items():
            if name in _SKIP_ATTRS or isinstance(value, (str, bytes)):
                continue
            arr = np.asarray(value)
            if arr.size == 1 and np.issubdtype(arr.dtype, np.number):
                rows.append((str(path), name, float(arr.reshape(())), "", "global attribute"))
    return pd.DataFrame(rows, columns=["file", "name", "value", "units", "long_name"])


def lineage_report(paths: Iterable[str | os.PathLike]) -> str:
    """Text lineage trees of ``paths``, one block each."""
    return "\n\n".join(format_tree(lineage_tree(p)) for p in paths) + "\n"
