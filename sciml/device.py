"""Device and random-seed selection, driven by config (never hard-coded)."""

from __future__ import annotations

import os
import random

import numpy as np
import torch
from threadpoolctl import threadpool_limits

from sciml.errors import bad_value

DEVICE_CHOICES = ("cpu", "cuda", "auto")


def resolve_device(name: str = "auto") -> torch.device:
    """Map a config value ``cpu | cuda | auto | cuda:N`` to a :class:`torch.device`.

    ``auto`` picks CUDA when available, else CPU. Asking for ``cuda`` on a machine without it is an error.
    """
    name = str(name).strip().lower()
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if name == "cpu":
        return torch.device("cpu")
    if name == "cuda" or name.startswith("cuda:"):
        if not torch.cuda.is_available():
            raise bad_value("config", "device", name, "CUDA is not available on this machine")
        return torch.device(name)
    raise bad_value("config", "device", name, f"expected one of {DEVICE_CHOICES}")


def resolve_dtype(name: str = "float64") -> torch.dtype:
    """Map ``float32 | float64`` to a torch dtype."""
    table = {"float32": torch.float32, "float64": torch.float64}
    if name not in table:
        raise bad_value("config", "dtype", name, "expected float32 or float64")
    return table[name]


def seed_everything(seed: int) -> None:
    """Seed Python, NumPy and torch (CPU and CUDA) and request deterministic torch kernels."""
    seed = int(seed)
    random.seed(seed)
    np.random.seed(seed % 2**32)
    torch.manual_seed(seed)
    os.environ.setdefault("CUBLAS_WORKSPACE_CONFIG", ":4096:8")
    torch.use_deterministic_algorithms(True, warn_only=True)


def limit_blas_threads(n: int | None = None) -> threadpool_limits:
    """Cap BLAS/OpenMP thread pools at ``n`` (default: torch's thread count); use as a context manager.

    Oversubscribed multithreaded BLAS beside other jobs slows dense and small batched solves by 10-100x."""
    return threadpool_limits(limits=int(n if n is not None else torch.get_num_threads()))
