"""Tables for the workflow report: the metrics of every result and the lineage of every figure.

Metrics are the ``metric_<name>`` 0-d variables of the result files (the contract of
:mod:`sciml.io.netcdf`: every scalar result and sampler diagnostic is one, with units and long name), read
the same way for every study.
"""

from __future__ import annotations

import fnmatch
import math
import os
from collections.abc import Iterable, Mapping

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


def evaluate_checks(metrics: pd.DataFrame, checks: Mapping[str, Mapping]) -> pd.DataFrame:
    """The metrics table with the configured acceptance checks applied.

    ``checks`` maps a check name to ``{file, metric, min?, max?, source?}`` (config key ``acceptance``):
    ``file`` is a result path (``fnmatch`` pattern, e.g. ``results/pinn/*.nc``), ``metric`` the name
    without ``metric_``. Matched rows get ``check`` (its name), ``goal`` (e.g. ``<= 0.03``), ``met``
    (``yes`` / ``MISSED``) and ``source``; a check that matches no row is appended as one row with
    ``met = "MISSING"``, so a goal is never silently dropped.
    """
    out = metrics.copy()
    for col in ("check", "goal", "met", "source"):
        out[col] = ""
    extra = []
    for name, chk in checks.items():
        lo, hi = chk.get("min"), chk.get("max")
        goal = " and ".join(g for g in (f">= {lo:g}" if lo is not None else "",
                                          f"<= {hi:g}" if hi is not None else "") if g)
        rows = out.index[(out["name"] == chk["metric"])
                         & out["file"].map(lambda f, pat=chk["file"]: fnmatch.fnmatch(f, pat))]
        if len(rows) == 0:
            extra.append({"file": chk["file"], "name": chk["metric"], "value": math.nan, "units": "",
                          "long_name": "", "check": name, "goal": goal, "met": "MISSING",
                          "source": chk.get("source", "")})
            continue
        for i in rows:
            v = float(out.at[i, "value"])
            ok = math.isfinite(v) and (lo is None or v >= lo) and (hi is None or v <= hi)
            prev = out.at[i, "check"]
            out.at[i, "check"] = f"{prev}; {name}" if prev else name
            out.at[i, "goal"] = f"{out.at[i, 'goal']}; {goal}" if prev else goal
            out.at[i, "met"] = "MISSED" if (out.at[i, "met"] == "MISSED" or not ok) else "yes"
            out.at[i, "source"] = chk.get("source", "")
    if extra:
        out = pd.concat([out, pd.DataFrame(extra)], ignore_index=True)
    return out


def lineage_report(paths: Iterable[str | os.PathLike]) -> str:
    """Text lineage trees of ``paths``, one block each."""
    return "\n\n".join(format_tree(lineage_tree(p)) for p in paths) + "\n"
