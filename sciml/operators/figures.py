"""Figures of the operators study: prediction / reference / error panels and error vs training-set size,
for the three studies (Darcy, published Darcy data, wave surrogate).

``runs`` maps ``(model, n_train)`` to the result of one training step (:func:`sciml.operators.train.
fit_and_evaluate`: ``prediction*`` fields and ``metric_mean_rel_l2*`` variables).
"""
from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
from matplotlib.ticker import FormatStrFormatter, LogLocator
import xarray as xr

from sciml.plots import colorbar, new_figure, sequential_cmap, signed_cmap


@dataclass
class FieldRow:
    """One row of :func:`comparison_figure`: input, reference and predicted fields on one grid.

    ``extent`` = (x0, x1, y0, y1) in ``coord_unit``; labels carry units, e.g. ``"u (1)"``."""

    title: str
    inp: np.ndarray
    reference: np.ndarray
    prediction: np.ndarray
    input_label: str
    output_label: str
    extent: tuple[float, float, float, float]
    xlabel: str
    ylabel: str
    depth_axis: bool = False  # True: y increases downwards (depth)


def comparison_figure(rows: Sequence[FieldRow]):
    """Columns: input | reference | prediction | prediction - reference (one row per model / test set)."""
    fig, axes = new_figure(len(rows), 4, width=3.2, height=2.5)
    for r, row in enumerate(rows):
        origin = "upper" if row.depth_axis else "lower"
        ext = (row.extent[0], row.extent[1], row.extent[3], row.extent[2]) if row.depth_axis else row.extent
        im = axes[r, 0].imshow(row.inp, origin=origin, extent=ext, **sequential_cmap(row.inp))
        colorbar(fig, im, axes[r, 0], row.input_label)
        both = np.concatenate([row.reference.ravel(), row.prediction.ravel()])
        ref = row.reference
        kw = signed_cmap(both) if ref.min() < 0 < ref.max() else sequential_cmap(both)
        for c, (field, name) in enumerate(((row.reference, "reference"), (row.prediction, "prediction")), start=1):
            im = axes[r, c].imshow(field, origin=origin, extent=ext, **kw)
            colorbar(fig, im, axes[r, c], row.output_label)
            axes[r, c].set_title(name)
        err = row.prediction - row.reference
        rel = np.linalg.norm(err) / np.linalg.norm(row.reference)
        im = axes[r, 3].imshow(err, origin=origin, extent=ext, **signed_cmap(err))
        colorbar(fig, im, axes[r, 3], f"error {row.output_label}")
        axes[r, 3].set_title(f"error, rel. L2 {rel:.1e}", fontsize=8)
        axes[r, 0].set_title(row.title, fontsize=8)
        for ax in axes[r]:
            ax.set_xlabel(row.xlabel)
            ax.set_ylabel(row.ylabel)
    return fig


def error_vs_size_figure(curves: Mapping[str, tuple[Sequence[float], Sequence[float]]], *, title: str,
                         reference: float | None = None, reference_label: str = ""):
    """Mean test relative L2 error (1) against the number of training samples, log-log."""
    fig, axes = new_figure(1, 1, width=4.2, height=3.2)
    ax = axes[0, 0]
    for label, (n, err) in curves.items():
        order = np.argsort(n)
        ax.loglog(np.asarray(n)[order], np.asarray(err)[order], "o-", label=label)
    if reference is not None:
        ax.axhline(reference, color="0.5", ls="--", lw=1, label=reference_label)
    sizes = sorted({int(v) for n, _ in curves.values() for v in n})
    ax.set_xticks(sizes, [str(v) for v in sizes])
    ax.minorticks_off()
    ax.yaxis.set_major_locator(LogLocator(subs=(1.0, 2.0, 5.0)))  # labelled within less than a decade
    ax.yaxis.set_major_formatter(FormatStrFormatter("%g"))
    ax.set_xlabel("training samples (count)")
    ax.set_ylabel("mean test relative L2 error (1)")
    ax.set_title(title)
    ax.grid(True, which="both", alpha=0.3)
    ax.legend()
    return fig


Runs = Mapping[tuple[str, int], xr.Dataset]
LABELS = {"fno": "FNO", "deeponet": "DeepONet", "pino": "physics-informed FNO", "sciml": "FNO (sciml)",
          "neuralop": "FNO (neuraloperator)", "fno_ray": "FNO + ray-theory input"}


def learning_curve_figure(runs: Runs, *, title: str):
    """Left: validation relative L2 error (points, every ``val_every`` steps) and the training loss (running
    mean over 1 % of the steps) against the optimisation step; right: the learning-rate schedule."""
    fig, axes = new_figure(1, 2, width=4.4, height=3.2)
    ax, axl = axes[0, 0], axes[0, 1]
    for (model, n), ds in sorted(runs.items()):
        step, label = ds["step"].values, f"{LABELS.get(model, model)}, N={n}"
        loss = ds["loss_data"].values if "loss_data" in ds else ds["loss"].values
        w = max(1, len(loss) // 100)
        smooth = np.convolve(loss, np.ones(w) / w, mode="valid")
        line, = ax.semilogy(step[w - 1:], smooth, lw=0.8, alpha=0.6)
        val = ds["val_metric"].values
        ok = np.isfinite(val)
        if ok.any():
            ax.semilogy(step[ok], val[ok], "o-", ms=3, color=line.get_color(), label=label)
        else:
            line.set_label(label + " (training loss)")
        axl.semilogy(step, ds["learning_rate"].values, color=line.get_color(), label=label)
    ax.set_xlabel("optimisation step (count)")
    ax.set_ylabel("relative L2 error (1)")
    ax.set_title(f"{title}: validation (points), training (lines)", fontsize=8)
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(fontsize=6)
    axl.set_xlabel("optimisation step (count)")
    axl.set_ylabel("learning rate (1)")
    axl.set_title("learning-rate schedule", fontsize=8)
    axl.grid(True, which="both", alpha=0.3)
    return fig
UNIT_SQUARE = (0.0, 1.0, 0.0, 1.0)


def _curve(runs: Runs, model: str, metric: str) -> tuple[list[int], list[float]]:
    """(training-set sizes, values of ``metric_<metric>``) of ``model``'s runs, by size."""
    var = f"metric_{metric}"
    pts = sorted((n, float(ds[var])) for (m, n), ds in runs.items() if m == model and var in ds)
    return [p[0] for p in pts], [p[1] for p in pts]


def _largest(runs: Runs, model: str) -> xr.Dataset | None:
    sizes = [n for m, n in runs if m == model]
    return runs[(model, max(sizes))] if sizes else None


def _darcy_row(title: str, test: xr.Dataset, ds: xr.Dataset, sfx: str, k: int = 0) -> FieldRow:
    return FieldRow(title, test["log_k"].values[k], test["u"].values[k], ds[f"prediction{sfx}"].values[k],
                    "log k (1)", "u (1)", UNIT_SQUARE, "x (1)", "y (1)")


def darcy_figures(runs: Runs, test: xr.Dataset, fine: xr.Dataset):
    """Prediction/reference/error figure and error-vs-training-size figure of the Darcy study."""
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
    fig_size = error_vs_size_figure(curves, title="Darcy flow: test error vs training-set size", reference=0.03,
                                    reference_label="goal on the default CPU budget (0.03)")
    return fig_pred, fig_size, learning_curve_figure(runs, title="Darcy")


def neuralop_figures(runs: Runs, test16: xr.Dataset, test32: xr.Dataset):
    """Our FNO vs the neuraloperator FNO on the published 16x16 set (tests 16x16 and 32x32): prediction and
    error-vs-size figures; ``runs`` keyed by implementation (``sciml`` | ``neuralop``)."""
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
    return fig_pred, fig_size


def _wave_row(title: str, data: xr.Dataset, ds: xr.Dataset, sfx: str, k: int) -> FieldRow:
    x = data["x"].values / 1000.0
    z = data["z"].values / 1000.0
    return FieldRow(title, data["velocity"].values[k], data["pressure"].values[k], ds[f"prediction{sfx}"].values[k],
                    "v (m/s)", "p (s² m⁻²)", (x[0], x[-1], z[0], z[-1]), "x (km)", "depth (km)", depth_axis=True)


def wave_figures(runs: Runs, test: xr.Dataset, marmousi: xr.Dataset):
    """Wave surrogate: in-distribution and Marmousi (out-of-distribution) predictions of the largest run of
    the best model, error vs size of every model, learning curves."""
    models = sorted({m for m, _ in runs}, key=lambda m: m != "fno_ray")
    model = models[0]
    ds = _largest(runs, model)
    n = ds.attrs["n_train"]
    src = marmousi.attrs.get("velocity_source", "marmousi").split(" (")[0]
    families = str(test["family"].attrs.get("flag_meanings", "")).split()
    rows = []
    for fam in range(len(families)):  # one test model of each family
        k = np.flatnonzero(test["family"].values == fam)
        if k.size:
            rows.append(_wave_row(f"{LABELS[model]}, N={n}: {families[fam]} test model", test, ds, "", int(k[0])))
    rows += [_wave_row(f"{LABELS[model]}, N={n}: {src} window {k}", marmousi, ds, "_marmousi", k)
             for k in range(min(2, marmousi.sizes["sample"]))]
    fig_pred = comparison_figure(rows)
    curves = {}
    for m in models:
        curves[f"{LABELS[m]}: test (in distribution)"] = _curve(runs, m, "mean_rel_l2")
        curves[f"{LABELS[m]}: {src} windows"] = _curve(runs, m, "mean_rel_l2_marmousi")
    fig_size = error_vs_size_figure(curves, title="Acoustic snapshot FNO: error vs training-set size")
    for y, name in ((0.15, "goal in distribution (0.15)"), (0.30, "goal on Marmousi (0.30)")):
        fig_size.axes[0].axhline(y, color="0.6", ls=":", lw=1, label=name)
    fig_size.axes[0].legend(fontsize=6)
    return fig_pred, fig_size, learning_curve_figure(runs, title="Acoustic snapshot")


__all__ = ["FieldRow", "comparison_figure", "darcy_figures", "error_vs_size_figure", "learning_curve_figure",
           "neuralop_figures", "wave_figures"]
