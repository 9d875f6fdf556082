"""Tables for the workflow report: the metrics of every result and the lineage of every figure.

Metrics are the ``metric_<name>`` 0-d variables of the result files (the contract of
:mod:`sciml.io.netcdf`: every scalar result and sampler diagnostic is one, with units and long name), read
the same way for every study.
"""

from __future__ import annotations

import os
from collections.abc import Iterable

import pandas as pd

from sciml.io.netcdf import format_tree, lineage_tree, metrics_of, read_dataset


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
        for name, (value, units, long_name) in metrics_of(read_dataset(path)).items():
            rows.append((str(path), name, value, units, long_name))
    return pd.DataFrame(rows, columns=["file", "name", "value", "units", "long_name"])


def lineage_report(paths: Iterable[str | os.PathLike]) -> str:
    """Text lineage trees of ``paths``, one block each."""
    return "\n\n".join(format_tree(lineage_tree(p)) for p in paths) + "\n"
