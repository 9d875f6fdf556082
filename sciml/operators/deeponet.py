"""DeepONet (Lu et al. 2021, Nat. Mach. Intell.): ``G(a)(x) = sum_k b_k(a) t_k(x) + b0``.

The branch net sees the input field at fixed sensors (the cell centres of an ``n_sensors x n_sensors``
grid of the unit square); the trunk net sees output coordinates. :class:`DeepONet2d` wraps both to the
field-to-field interface of :class:`sciml.operators.fno.FNO2d`: an input on another grid is resampled to
the sensor grid (bilinear, cell-centred), and the output is evaluated at the input grid's cell centres.
"""
from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from sciml.errors import InputError
from sciml.nn.networks import MLP
from sciml.operators.fno import grid_channels


class DeepONet2d(nn.Module):
    """Unstacked DeepONet for scalar fields ``(B, 1, H, W) -> (B, 1, H, W)`` on the unit square.

    ``sensors``: sensor grid size per axis; ``width``/``depth``: hidden width and number of hidden layers
    of both nets; ``basis``: number of basis functions ``p``.
    """

    def __init__(self, sensors: int, *, width: int = 128, depth: int = 3, basis: int = 64,
                 activation: str = "gelu", dtype: torch.dtype = torch.float32, seed: int = 0):
        super().__init__()
        if sensors < 2 or width < 1 or depth < 1 or basis < 1:
            raise InputError(f"DeepONet config: sensors={sensors}, width={width}, depth={depth}, basis={basis}: "
                             "need sensors >= 2 and positive sizes")
        self.sensors, self.dtype = int(sensors), dtype
        hidden = [width] * depth
        self.branch = MLP([sensors * sensors, *hidden, basis], activation, dtype=dtype, seed=seed)
        self.trunk = MLP([2, *hidden, basis], activation, dtype=dtype, seed=seed + 1, lower=[0, 0], upper=[1, 1])
        self.bias = nn.Parameter(torch.zeros((), dtype=dtype))

    def forward(self, a: torch.Tensor) -> torch.Tensor:
        if a.dtype != self.dtype:
            raise InputError(f"DeepONet input: dtype {a.dtype} differs from the model's {self.dtype} (mixed dtypes)")
        if a.ndim != 4 or a.shape[1] != 1:
            raise InputError(f"DeepONet input: shape {tuple(a.shape)}: expected (batch, 1, ny, nx)")
        b, _, h, w = a.shape
        s = a if (h, w) == (self.sensors, self.sensors) else F.interpolate(
            a, size=(self.sensors, self.sensors), mode="bilinear", align_corners=False, antialias=h > self.sensors)
        coeff = self.branch(s.reshape(b, -1))  # (B, p)
        xy = grid_channels(1, h, w, a.dtype, a.device)[0].reshape(2, -1).T.flip(1)  # (H*W, 2) as (x, y)
        basis = F.gelu(self.trunk(xy))  # (H*W, p); nonlinearity on the trunk output (Lu et al.)
        return (coeff @ basis.T + self.bias).reshape(b, 1, h, w)
