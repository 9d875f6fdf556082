"""Summary tables and figures of the three operator studies (Darcy, published Darcy data, wave surrogate)."""
from __future__ import annotations

from collections.abc import Mapping

import xarray as xr

from sciml.operators.plots import FieldRow, comparison_figure, error_vs_size_figure
from sciml.operators.studies import summary_table

Runs = Mapping[tuple[str, int], xr.Dataset]
LABELS = {"fno": "FNO", "deeponet": "DeepONet", "pino": "physics-informed FNO", "sciml": "FNO (sciml)",
          "neuralop": "FNO (neuraloperator)"}
UNIT_SQUARE = (0.0, 1.0, 0.0, 1.0)


def _curve(runs: Runs, model: str, metric: str) -> tuple[list[int], list[float]]:
    pts = sorted((n, float(ds[metric])) for (m, n), ds in runs.items() if m == model and metric in ds)
    return [p[0] for p in pts], [p[1] for p in pts]


def _largest(runs: Runs, model: str) -> xr.Dataset | None:
    sizes = [n for m, n in runs if m == model]
    return runs[(model, max(sizes))] if sizes else None


def _darcy_row(title: str, test: xr.Dataset, ds: xr.Dataset, sfx: str, k: int = 0) -> FieldRow:
    return FieldRow(title, test["log_k"].values[k], test["u"].values[k], ds[f"prediction{sfx}"].values[k],
                    "log k (1)", "u (1)", UNIT_SQUARE, "x (1)", "y (1)")


def darcy_figures(runs: Runs, test: xr.Dataset, fine: xr.Dataset):
    """Summary dataset, prediction/reference/error figure, error-vs-training-size figure."""
    summary = summary_table(runs, ["mean_rel_l2", "mean_rel_l2_fine", "train_rel_l2"])
    rows = []
    n_test, n_fine = test.sizes["y"], fine.sizes["y"]
    for model in ("fno", "deeponet", "pino"):
        ds = _largest(runs, model)
        if ds is None:
            continue
        n = ds.attrs["n_train"]
        rows.append(_darcy_row(f"{LABELS[model]}, N={n}, {n_test}²", test, ds, ""))
        if model == "fno":
            rows.append(_darcy_row(f"{LABELS[model]}, N={n}, {n_fine}² (finer)", fine, ds, "_fine"))
    fig_pred = comparison_figure(rows)
    curves = {f"{LABELS[m]} ({n_test}²)": _curve(runs, m, "mean_rel_l2") for m in ("fno", "pino", "deeponet")}
    curves[f"FNO ({n_fine}², zero-shot)"] = _curve(runs, "fno", "mean_rel_l2_fine")
    curves = {k: v for k, v in curves.items() if v[0]}
    fig_size = error_vs_size_figure(curves, title="Darcy flow: test error vs training-set size")
    return summary, fig_pred, fig_size


def neuralop_figures(runs: Runs, test16: xr.Dataset, test32: xr.Dataset):
    """Our FNO vs the neuraloperator FNO on the published 16x16 set (tests 16x16 and 32x32)."""
    summary = summary_table(runs, ["mean_rel_l2", "mean_rel_l2_test32", "train_rel_l2"])
    rows = []
    for impl in ("sciml", "neuralop"):
        ds = _largest(runs, impl)
        if ds is None:
            continue
        n = ds.attrs["n_train"]
        rows.append(_darcy_row(f"{LABELS[impl]}, N={n}, 16²", test16, ds, ""))
        rows.append(_darcy_row(f"{LABELS[impl]}, N={n}, 32²", test32, ds, "_test32"))
    fig_pred = comparison_figure(rows)
    curves = {}
    for impl in ("sciml", "neuralop"):
        for metric, res in (("mean_rel_l2", "16²"), ("mean_rel_l2_test32", "32²")):
            n, e = _curve(runs, impl, metric)
            if n:
                curves[f"{LABELS[impl]} ({res})"] = (n, e)
    fig_size = error_vs_size_figure(curves, title="Published Darcy data (trained at 16²)", reference=1e-2,
                                    reference_label="FNO paper, 2-D Darcy (~1e-2)")
    return summary, fig_pred, fig_size


def _wave_row(title: str, data: xr.Dataset, ds: xr.Dataset, sfx: str, k: int) -> FieldRow:
    x = data["x"].values / 1000.0
    z = data["z"].values / 1000.0
    return FieldRow(title, data["velocity"].values[k], data["pressure"].values[k], ds[f"prediction{sfx}"].values[k],
                    "v (m/s)", "p (s² m⁻²)", (x[0], x[-1], z[0], z[-1]), "x (km)", "depth (km)", depth_axis=True)


def wave_figures(runs: Runs, test: xr.Dataset, marmousi: xr.Dataset):
    """Wave surrogate: in-distribution and Marmousi (out-of-distribution) predictions, error vs size."""
    summary = summary_table(runs, ["mean_rel_l2", "mean_rel_l2_marmousi", "train_rel_l2"])
    ds = _largest(runs, "fno")
    n = ds.attrs["n_train"]
    src = marmousi.attrs.get("velocity_source", "marmousi").split(" (")[0]
    rows = [_wave_row(f"FNO, N={n}: GP test model", test, ds, "", 0)]
    rows += [_wave_row(f"FNO, N={n}: {src} window {k}", marmousi, ds, "_marmousi", k)
             for k in range(min(2, marmousi.sizes["sample"]))]
    fig_pred = comparison_figure(rows)
    curves = {"GP test set (in distribution)": _curve(runs, "fno", "mean_rel_l2"),
              f"{src} windows (out of distribution)": _curve(runs, "fno", "mean_rel_l2_marmousi")}
    fig_size = error_vs_size_figure(curves, title="Acoustic snapshot FNO: error vs training-set size")
    return summary, fig_pred, fig_size


__all__ = ["darcy_figures", "neuralop_figures", "wave_figures"]
