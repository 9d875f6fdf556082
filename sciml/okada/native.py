"""Dispatch of :func:`sciml.okada.kernels.dc3d` / ``dc3d_unit`` to the native C kernel (``_dc3d.c``, built by
``pip install``) where no derivative is needed.

The native kernel evaluates the same formulas as the PyTorch path one station at a time (values equal to rounding,
``tests/test_okada_native.py``), in one pass with no temporaries, on POSIX threads that take station chunks from a
shared counter (a core busy with another process takes fewer chunks). It is used when all of these hold, else the
PyTorch path runs (it is the one with exact gradients, ``torch.func`` and ``torch.compile`` support):

* the extension is built and the environment variable ``SCIML_OKADA_NATIVE`` is not ``0``;
* every tensor argument is CPU float64 (numbers and arrays are taken as float64), outside ``torch.compile`` /
  ``torch.func``; fault parameters may vary per station (broadcast as in the PyTorch path);
* no autograd: grad mode off, or no tensor argument requires grad.

Threads: ``torch.get_num_threads()`` (what ``torch.set_num_threads`` / the runner's thread setting chose); calls with
fewer than 1024 stations run on the calling thread.
"""

from __future__ import annotations

import math
import os

import torch

try:
    import sciml.okada._dc3d as _dc3d
except ImportError:  # no C compiler at install time: PyTorch path everywhere
    _dc3d = None


def available() -> bool:
    """True when the native kernel is built and not switched off (``SCIML_OKADA_NATIVE=0``)."""
    return _dc3d is not None and os.environ.get("SCIML_OKADA_NATIVE", "1") != "0"


def dc3d(alpha, x, y, z, depth, dip, al1, al2, aw1, aw2, disl, *, derivatives: bool, modes: tuple[int, ...],
         per_mode: bool):
    """Native evaluation; arguments as :func:`sciml.okada.kernels.dc3d` (checked by ``kernels._native_eligible``).
    ``disl``: the three dislocations (ignored with ``per_mode``); ``modes``: those evaluated (others are 0).
    Returns (out, iret): out (..., 3 | 12), or (..., 3, 3 | 12) per unit mode with ``per_mode``; iret (...) int64."""
    args = [torch.as_tensor(a, dtype=torch.float64) for a in (x, y, z, alpha, depth, dip, al1, al2, aw1, aw2, *disl)]
    shape = torch.broadcast_shapes(*(a.shape for a in args))
    n, nc = math.prod(shape), 12 if derivatives else 3
    # stations: n values; parameters: one value, or n when they vary (broadcast copies)
    bufs = [a.reshape(1) if i >= 3 and a.numel() == 1 else torch.broadcast_to(a, shape).contiguous().reshape(n)
            for i, a in enumerate(args)]
    out = torch.empty((n, 3, nc) if per_mode else (n, nc), dtype=torch.float64)
    iret = torch.empty(n, dtype=torch.int64)
    _dc3d.dc3d(*(b.numpy() for b in bufs), out.numpy(), iret.numpy(), int(derivatives), int(per_mode),
               sum(1 << m for m in modes), max(1, torch.get_num_threads()))
    return out.reshape(*shape, *out.shape[1:]), iret.reshape(shape)
