"""Relative L2 error of predicted fields (the metric of the FNO paper)."""
from __future__ import annotations

import numpy as np
import torch

from sciml.errors import InputError, bad_value


def relative_l2(pred: torch.Tensor, true: torch.Tensor, *, reduction: str = "mean") -> torch.Tensor:
    """Per-sample ``||pred - true||_2 / ||true||_2`` over all non-batch axes; ``reduction``: mean | none.

    On a uniform grid this equals the relative L2(Omega) norm of the continuous fields (cell quadrature).
    """
    if pred.shape != true.shape:
        raise InputError(f"relative_l2: shapes differ: pred {tuple(pred.shape)} vs true {tuple(true.shape)}")
    if reduction not in ("mean", "none"):
        raise bad_value("relative_l2", "reduction", reduction, "expected mean or none")
    b = pred.shape[0]
    num = torch.linalg.vector_norm((pred - true).reshape(b, -1), dim=1)
    den = torch.linalg.vector_norm(true.reshape(b, -1), dim=1)
    err = num / den
    return err.mean() if reduction == "mean" else err


def relative_l2_np(pred: np.ndarray, true: np.ndarray) -> np.ndarray:
    """Numpy twin of :func:`relative_l2` with ``reduction="none"``: errors ``(batch,)``."""
    return relative_l2(torch.as_tensor(np.asarray(pred)), torch.as_tensor(np.asarray(true)), reduction="none").numpy()
