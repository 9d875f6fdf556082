"""2-D Fourier Neural Operator (Li et al. 2021, ICLR): lifting, Fourier layers, projection.

Input ``(batch, in_channels, ny, nx)`` on a uniform grid of the unit square; normalised cell-centre
coordinates are appended as two extra channels, so one set of weights applies at any resolution
(modes are clipped to the grid's Nyquist limit). ``padding`` (fraction of the grid size, zero padding
on the high side) removes the periodicity assumption of the FFT for non-periodic problems.
"""
from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

from sciml.errors import InputError, bad_value


INITS = ("glorot", "uniform")


class SpectralConv2d(nn.Module):
    """Fourier layer kernel: multiply the lowest ``modes x modes`` Fourier coefficients by learned complex
    matrices (``in_channels -> out_channels``); higher modes are dropped.

    ``init``: ``glorot`` (complex normal, variance ``2 / (in + out)``, as the ``neuraloperator`` package) or
    ``uniform`` (``U(0, 1) / (in * out)`` per real part, the original FNO code: the spectral path starts
    ~100x weaker than the pointwise one and must grow first)."""

    def __init__(self, in_channels: int, out_channels: int, modes1: int, modes2: int, *,
                 dtype: torch.dtype = torch.float32, generator: torch.Generator | None = None, init: str = "glorot"):
        super().__init__()
        self.modes1, self.modes2 = int(modes1), int(modes2)
        shape = (2, in_channels, out_channels, self.modes1, self.modes2, 2)  # (corner, i, o, k1, k2, re/im)
        if init == "glorot":
            w = torch.randn(shape, generator=generator, dtype=dtype) * (1.0 / (in_channels + out_channels)) ** 0.5
        elif init == "uniform":
            w = torch.rand(shape, generator=generator, dtype=dtype) / (in_channels * out_channels)
        else:
            raise bad_value("FNO config", "init", init, f"expected one of {INITS}")
        self.weight = nn.Parameter(w)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        b, _, h, w = x.shape
        xf = torch.fft.rfft2(x, norm="backward")
        m1, m2 = min(self.modes1, h // 2), min(self.modes2, w // 2 + 1)
        out = torch.zeros(b, self.weight.shape[2], h, w // 2 + 1, dtype=xf.dtype, device=x.device)
        out[:, :, :m1, :m2] = _mode_product(xf[:, :, :m1, :m2], self.weight[0, :, :, :m1, :m2])
        out[:, :, h - m1:, :m2] = _mode_product(xf[:, :, h - m1:, :m2], self.weight[1, :, :, :m1, :m2])
        return torch.fft.irfft2(out, s=(h, w), norm="backward")


def _mode_product(x: torch.Tensor, w: torch.Tensor) -> torch.Tensor:
    """``einsum("bixy,ioxy->boxy", x, complex(w))`` for complex ``x`` and real-pair weights ``w`` (..., 2),
    as one real batched matmul over modes, ``[x_re; x_im] @ [w_re | w_im]``, with both operands contiguous
    (torch's complex einsum/bmm, and bmm on strided operands, loop over the batch on CPU: 2-4x slower)."""
    b, i, m1, m2 = x.shape
    xm = torch.view_as_real(x).permute(2, 3, 4, 0, 1).reshape(m1 * m2, 2 * b, i)  # rows: [re(b); im(b)]
    wm = w.permute(2, 3, 0, 4, 1).reshape(m1 * m2, i, -1)  # (modes, i, [w_re (o) | w_im (o)])
    y = torch.bmm(xm, wm).reshape(m1 * m2, 2, b, 2, -1)  # (modes, x re/im, b, w re/im, o)
    re = y[:, 0, :, 0] - y[:, 1, :, 1]
    im = y[:, 0, :, 1] + y[:, 1, :, 0]
    return torch.complex(re, im).reshape(m1, m2, b, -1).permute(2, 3, 0, 1)


def pointwise(conv: nn.Conv2d, x: torch.Tensor) -> torch.Tensor:
    """A 1x1 convolution ``conv(x)`` as a channel contraction (einsum; about twice as fast on CPU as the
    convolution kernel for these shapes, same weights)."""
    return torch.einsum("oc,bchw->bohw", conv.weight[:, :, 0, 0], x) + conv.bias[:, None, None]


def grid_channels(b: int, h: int, w: int, dtype: torch.dtype, device: torch.device) -> torch.Tensor:
    """Cell-centre coordinates ``(y, x)`` in (0, 1) as channels ``(b, 2, h, w)``."""
    y = (torch.arange(h, dtype=dtype, device=device) + 0.5) / h
    x = (torch.arange(w, dtype=dtype, device=device) + 0.5) / w
    gy, gx = torch.meshgrid(y, x, indexing="ij")
    return torch.stack([gy, gx]).expand(b, 2, h, w)


class FNO2d(nn.Module):
    """Fourier Neural Operator ``(B, in_channels, H, W) -> (B, out_channels, H, W)``.

    ``width``: channels of the Fourier layers; ``modes``: retained Fourier modes per axis; ``layers``:
    number of Fourier layers; ``projection``: hidden width of the output MLP; ``padding``: domain padding
    as a fraction of H and W; ``init``: spectral weights (:class:`SpectralConv2d`). Initialisation is
    reproducible through ``seed``.

    Optional, off by default (the layout of neuraloperator 2.0's FNO when set): ``channel_mlp`` > 0 adds to
    every Fourier layer a pointwise two-layer GELU MLP of hidden width ``round(channel_mlp * width)`` after the
    layer's activation, with a per-channel gated skip from the layer's input (``x <- MLP(act(K x + W x)) + g * x``,
    then the activation, none after the last layer); ``lifting`` > 0 makes the lifting a two-layer GELU MLP of that
    hidden width instead of one 1x1 convolution; ``modes_x`` > 0 keeps that many modes along the last (real-FFT)
    axis instead of ``modes`` (neuraloperator's ``n_modes = 2 m`` keeps ``m + 1`` there).
    """

    def __init__(self, in_channels: int = 1, out_channels: int = 1, *, width: int = 32, modes: int = 12,
                 layers: int = 4, projection: int = 128, padding: float = 0.0, init: str = "uniform",
                 channel_mlp: float = 0.0, lifting: int = 0, modes_x: int = 0, dtype: torch.dtype = torch.float32,
                 seed: int = 0):
        super().__init__()
        for name, val in (("width", width), ("modes", modes), ("layers", layers), ("projection", projection)):
            if int(val) < 1:
                raise bad_value("FNO config", name, val, "must be >= 1")
        if not channel_mlp >= 0.0 or (channel_mlp > 0 and round(channel_mlp * width) < 1):
            raise bad_value("FNO config", "channel_mlp", channel_mlp, "expected 0 (none) or a ratio with "
                            "round(channel_mlp * width) >= 1")
        if int(modes_x) < 0:
            raise bad_value("FNO config", "modes_x", modes_x, "expected 0 (= modes) or a number of modes >= 1")
        if int(lifting) < 0:
            raise bad_value("FNO config", "lifting", lifting, "expected 0 (one 1x1 convolution) or a width >= 1")
        if not 0.0 <= padding < 1.0:
            raise bad_value("FNO config", "padding", padding, "expected a fraction in [0, 1)")
        self.in_channels, self.out_channels, self.padding, self.dtype = in_channels, out_channels, padding, dtype
        gen = torch.Generator().manual_seed(int(seed))
        self.lift = nn.Conv2d(in_channels + 2, int(lifting) or width, 1, dtype=dtype)
        self.spectral = nn.ModuleList(
            SpectralConv2d(width, width, modes, int(modes_x) or modes, dtype=dtype, generator=gen, init=init)
            for _ in range(layers))
        self.pointwise = nn.ModuleList(nn.Conv2d(width, width, 1, dtype=dtype) for _ in range(layers))
        self.proj1 = nn.Conv2d(width, projection, 1, dtype=dtype)
        self.proj2 = nn.Conv2d(projection, out_channels, 1, dtype=dtype)
        _seeded_uniform([self.lift, *self.pointwise, self.proj1, self.proj2], gen)
        self.lift2 = nn.Conv2d(int(lifting), width, 1, dtype=dtype) if lifting else None
        hidden = round(channel_mlp * width)
        self.mlp = nn.ModuleList(nn.ModuleList([nn.Conv2d(width, hidden, 1, dtype=dtype),
                                                nn.Conv2d(hidden, width, 1, dtype=dtype)])
                                 for _ in range(layers if hidden else 0))
        self.gate = nn.Parameter(torch.ones(len(self.mlp), width, 1, 1, dtype=dtype)) if hidden else None
        # the optional layers are seeded after the others, so the default layout stays bit-identical
        _seeded_uniform([*([self.lift2] if lifting else []), *(c for m in self.mlp for c in m)], gen)

    def forward(self, a: torch.Tensor) -> torch.Tensor:
        if a.dtype != self.dtype:
            raise InputError(f"FNO input: dtype {a.dtype} differs from the model's {self.dtype} (mixed dtypes)")
        if a.ndim != 4 or a.shape[1] != self.in_channels:
            raise InputError(f"FNO input: shape {tuple(a.shape)}: expected (batch, {self.in_channels}, ny, nx)")
        b, _, h, w = a.shape
        x = pointwise(self.lift, torch.cat([a, grid_channels(b, h, w, a.dtype, a.device)], dim=1))
        if self.lift2 is not None:
            x = pointwise(self.lift2, F.gelu(x))
        ph, pw = round(self.padding * h), round(self.padding * w)
        if ph or pw:
            x = F.pad(x, (0, pw, 0, ph))
        last = len(self.spectral) - 1
        for k, (spec, pw_conv) in enumerate(zip(self.spectral, self.pointwise)):
            skip = x
            x = spec(x) + pointwise(pw_conv, x)
            if self.mlp:
                x = F.gelu(x) if k < last else x
                x = pointwise(self.mlp[k][1], F.gelu(pointwise(self.mlp[k][0], x))) + self.gate[k] * skip
            if k < last:
                x = F.gelu(x)
        x = x[..., :h, :w]
        return pointwise(self.proj2, F.gelu(pointwise(self.proj1, x)))


@torch.no_grad()
def _seeded_uniform(convs: list[nn.Conv2d], gen: torch.Generator) -> None:
    """Seeded default (Kaiming-uniform style) init of 1x1 convolutions, in the given order."""
    for conv in convs:
        bound = 1.0 / math.sqrt(conv.in_channels)
        conv.weight.uniform_(-bound, bound, generator=gen)
        conv.bias.uniform_(-bound, bound, generator=gen)


def count_parameters(model: nn.Module) -> int:
    """Number of trainable real scalars (a complex weight counts twice)."""
    return sum(p.numel() * (2 if p.is_complex() else 1) for p in model.parameters() if p.requires_grad)
