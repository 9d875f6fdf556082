"""Figures of the operators study: prediction / reference / error panels and error vs training-set size."""
from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

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
    ax.set_xlabel("training samples (count)")
    ax.set_ylabel("mean test relative L2 error (1)")
    ax.set_title(title)
    ax.grid(True, which="both", alpha=0.3)
    ax.legend()
    return fig
