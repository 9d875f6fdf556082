"""DeepONet (Lu et al. 2021, Nat. Mach. Intell.): ``G(a)(x) = sum_k b_k(a) t_k(x) + b0``.

The branch net sees the input field at fixed sensors (the cell centres of an ``n_sensors x n_sensors``
grid of the unit square); the trunk gives the basis functions ``t_k(x)`` of the output. :class:`DeepONet2d`
wraps both to the field-to-field interface of :class:`sciml.operators.fno.FNO2d`: an input on another grid
is resampled to the sensor grid (bilinear, cell-centred), and the output is evaluated at the input grid's
cell centres.

Architecture choices (Lu et al. 2022, CMAME, "a comprehensive and fair comparison"):

* ``branch="mlp"`` (fully connected on the flattened sensors) or ``"cnn"`` (stride-2 3x3 convolutions, then
  one linear layer: a convolutional branch sees the input as an image, as for Darcy in that paper);
* ``trunk="mlp"`` (a network of the output coordinates) or ``"pod"`` (POD-DeepONet: the trunk is fixed, the
  training outputs' mean field plus their ``basis`` leading POD modes scaled by the singular values, so that
  branch outputs of unit size reproduce the training set; on another grid the modes are resampled
  bilinearly). POD needs the training outputs: :meth:`DeepONet2d.set_pod` (done by
  :func:`sciml.operators.train.build_model`).
"""
from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from sciml.errors import InputError, bad_value
from sciml.nn.networks import MLP, Activation
from sciml.operators.fno import grid_channels

BRANCHES = ("mlp", "cnn")
TRUNKS = ("mlp", "pod")


def cnn_branch(sensors: int, channels: int, out: int, activation: str, *, dtype: torch.dtype,
               seed: int) -> nn.Sequential:
    """Stride-2 3x3 convolutions (``channels``, doubling each time) down to a grid of at most 4 x 4, then
    one linear layer to ``out`` coefficients. Seeded initialisation."""
    gen_state = torch.random.get_rng_state()
    torch.manual_seed(int(seed))
    layers: list[nn.Module] = []
    c_in, n, c = 1, int(sensors), int(channels)
    while n > 4:
        layers += [nn.Conv2d(c_in, c, 3, stride=2, padding=1, dtype=dtype), Activation(activation)]
        c_in, n, c = c, (n + 1) // 2, 2 * c
    layers += [nn.Flatten(), nn.Linear(c_in * n * n, out, dtype=dtype)]
    net = nn.Sequential(*layers)
    torch.random.set_rng_state(gen_state)
    return net


def pod_basis(u: np.ndarray, count: int) -> tuple[np.ndarray, np.ndarray, float]:
    """Mean field ``(H, W)``, the ``count`` leading POD modes ``(count, H, W)`` of training outputs
    ``u`` ``(N, H, W)`` scaled by ``singular value / sqrt(N)`` (the standard deviation of each mode's
    coefficient), and the fraction of the centred variance they leave out."""
    u = np.asarray(u, dtype=np.float64)
    n, h, w = u.shape
    if not 1 <= count <= min(n, h * w):
        raise bad_value("DeepONet config", "basis", count, f"POD needs 1 <= basis <= min(samples, grid points) = "
                        f"{min(n, h * w)}")
    mean = u.mean(0)
    _, s, vt = np.linalg.svd((u - mean).reshape(n, -1), full_matrices=False)
    left_out = float((s[count:] ** 2).sum() / max((s ** 2).sum(), 1e-300))
    return mean, (vt[:count] * (s[:count, None] / np.sqrt(n))).reshape(count, h, w), left_out


class DeepONet2d(nn.Module):
    """Unstacked DeepONet for scalar fields ``(B, 1, H, W) -> (B, 1, H, W)`` on the unit square.

    ``sensors``: sensor grid size per axis; ``width``/``depth``: hidden width and number of hidden layers of
    the MLP nets; ``basis``: number of basis functions ``p``; ``branch``: ``mlp`` | ``cnn`` (``channels``:
    first convolution's channels); ``trunk``: ``mlp`` | ``pod``.
    """

    def __init__(self, sensors: int, *, width: int = 128, depth: int = 3, basis: int = 64,
                 activation: str = "gelu", branch: str = "mlp", trunk: str = "mlp", channels: int = 16,
                 dtype: torch.dtype = torch.float32, seed: int = 0):
        super().__init__()
        if sensors < 2 or width < 1 or depth < 1 or basis < 1 or channels < 1:
            raise InputError(f"DeepONet config: sensors={sensors}, width={width}, depth={depth}, basis={basis}, "
                             f"channels={channels}: need sensors >= 2 and positive sizes")
        if branch not in BRANCHES:
            raise bad_value("DeepONet config", "branch", branch, f"expected one of {BRANCHES}")
        if trunk not in TRUNKS:
            raise bad_value("DeepONet config", "trunk", trunk, f"expected one of {TRUNKS}")
        self.sensors, self.dtype, self.basis = int(sensors), dtype, int(basis)
        self.branch_kind, self.trunk_kind = branch, trunk
        hidden = [width] * depth
        if branch == "mlp":
            self.branch = MLP([sensors * sensors, *hidden, basis], activation, dtype=dtype, seed=seed)
        else:
            self.branch = cnn_branch(sensors, channels, basis, activation, dtype=dtype, seed=seed)
        if trunk == "mlp":
            self.trunk = MLP([2, *hidden, basis], activation, dtype=dtype, seed=seed + 1, lower=[0, 0], upper=[1, 1])
        else:
            self.trunk = None
            self.register_buffer("pod_mean", torch.zeros(sensors, sensors, dtype=dtype))
            self.register_buffer("pod_modes", torch.zeros(basis, sensors, sensors, dtype=dtype))
        self.bias = nn.Parameter(torch.zeros((), dtype=dtype))

    def set_pod(self, u: np.ndarray) -> float:
        """Fix the POD trunk from training outputs ``u`` ``(N, sensors, sensors)`` (in the units the net
        predicts); returns the fraction of the centred variance the basis leaves out."""
        if self.trunk_kind != "pod":
            raise InputError("DeepONet: set_pod needs trunk='pod'")
        if tuple(np.shape(u)[1:]) != (self.sensors, self.sensors):
            raise InputError(f"DeepONet: POD outputs have shape {np.shape(u)}: expected (N, {self.sensors}, "
                             f"{self.sensors}) (the sensor grid)")
        mean, modes, left_out = pod_basis(u, self.basis)
        with torch.no_grad():
            self.pod_mean.copy_(torch.as_tensor(mean, dtype=self.dtype))
            self.pod_modes.copy_(torch.as_tensor(modes, dtype=self.dtype))
        return left_out

    def _resample(self, f: torch.Tensor, h: int, w: int) -> torch.Tensor:
        if (h, w) == tuple(f.shape[-2:]):
            return f
        return F.interpolate(f, size=(h, w), mode="bilinear", align_corners=False,
                             antialias=h < f.shape[-2])

    def forward(self, a: torch.Tensor) -> torch.Tensor:
        if a.dtype != self.dtype:
            raise InputError(f"DeepONet input: dtype {a.dtype} differs from the model's {self.dtype} (mixed dtypes)")
        if a.ndim != 4 or a.shape[1] != 1:
            raise InputError(f"DeepONet input: shape {tuple(a.shape)}: expected (batch, 1, ny, nx)")
        b, _, h, w = a.shape
        s = self._resample(a, self.sensors, self.sensors)
        coeff = self.branch(s) if self.branch_kind == "cnn" else self.branch(s.reshape(b, -1))  # (B, p)
        if self.trunk is None:  # POD: fixed basis on the sensor grid, resampled to the output grid
            modes = self._resample(self.pod_modes[None], h, w)[0].reshape(self.basis, -1)
            mean = self._resample(self.pod_mean[None, None], h, w).reshape(1, -1)
            return (coeff @ modes + mean + self.bias).reshape(b, 1, h, w)
        xy = grid_channels(1, h, w, a.dtype, a.device)[0].reshape(2, -1).T.flip(1)  # (H*W, 2) as (x, y)
        basis = F.gelu(self.trunk(xy))  # (H*W, p); nonlinearity on the trunk output (Lu et al.)
        return (coeff @ basis.T + self.bias).reshape(b, 1, h, w)
