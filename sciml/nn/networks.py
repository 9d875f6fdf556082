"""Fully connected networks, Fourier-feature embeddings and output transforms for PINNs.

Conventions: inputs ``x`` have shape ``(n, d)`` and outputs ``(n, m)``; one dtype per model
(float64 by default, float32 on request) and mixed dtypes raise. Every module here also
implements ``taylor(x) -> (u, du, d2u)``: forward-mode propagation of the value, the gradient
``du[n, i, k] = d u_k / d x_i`` and the *diagonal* second derivatives
``d2u[n, i, k] = d^2 u_k / d x_i^2`` in a single pass (the Laplacian is ``d2u.sum(1)``). This is
exact (no finite differences) and much cheaper than nested reverse-mode autograd because the
tangents ride along the same matrix products as the values.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence

import torch
from torch import nn

from sciml.errors import InputError, bad_value

Taylor = tuple[torch.Tensor, torch.Tensor, torch.Tensor]

ACTIVATIONS = ("tanh", "sin", "silu", "softplus", "gelu", "relu")
INITS = ("xavier_normal", "xavier_uniform", "kaiming_normal", "siren", "zeros_last")


def _act_derivs(name: str, a: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Return ``sigma(a), sigma'(a), sigma''(a)`` for the named activation."""
    if name == "tanh":
        t = torch.tanh(a)
        s1 = 1.0 - t * t
        return t, s1, -2.0 * t * s1
    if name == "sin":
        s, c = torch.sin(a), torch.cos(a)
        return s, c, -s
    if name == "silu":
        sg = torch.sigmoid(a)
        y = a * sg
        d1 = sg + y * (1.0 - sg)
        d2 = sg * (1.0 - sg) * (2.0 + a * (1.0 - 2.0 * sg))
        return y, d1, d2
    if name == "softplus":
        sg = torch.sigmoid(a)
        return nn.functional.softplus(a), sg, sg * (1.0 - sg)
    if name == "gelu":
        pdf = torch.exp(-0.5 * a * a) / math.sqrt(2.0 * math.pi)
        cdf = 0.5 * (1.0 + torch.erf(a / math.sqrt(2.0)))
        return a * cdf, cdf + a * pdf, pdf * (2.0 - a * a)
    if name == "relu":
        y = torch.relu(a)
        return y, (a > 0).to(a.dtype), torch.zeros_like(a)
    raise bad_value("network config", "activation", name, f"expected one of {ACTIVATIONS}")


def activation_taylor(name: str, u: Taylor) -> Taylor:
    """Propagate ``(value, gradient, diagonal Hessian)`` through an elementwise activation."""
    a, da, d2a = u
    y, s1, s2 = _act_derivs(name, a)
    s1e, s2e = s1.unsqueeze(1), s2.unsqueeze(1)
    return y, s1e * da, s2e * da * da + s1e * d2a


_PLAIN: dict[str, Callable[[torch.Tensor], torch.Tensor]] = {
    "tanh": torch.tanh, "sin": torch.sin, "silu": nn.functional.silu, "softplus": nn.functional.softplus,
    "gelu": nn.functional.gelu, "relu": torch.relu,
}


class Activation(nn.Module):
    """Elementwise activation by name (see :data:`ACTIVATIONS`)."""

    def __init__(self, name: str = "tanh"):
        super().__init__()
        if name not in ACTIVATIONS:
            raise bad_value("network config", "activation", name, f"expected one of {ACTIVATIONS}")
        self.name = name
        self._f = _PLAIN[name]

    def forward(self, a: torch.Tensor) -> torch.Tensor:
        return self._f(a)


def _check_input(x: torch.Tensor, dtype: torch.dtype, in_dim: int) -> None:
    if x.dtype != dtype:
        raise bad_value("network input", "dtype", x.dtype, f"model uses {dtype} (mixed dtypes are an error)")
    if x.ndim != 2 or x.shape[1] != in_dim:
        raise bad_value("network input", "shape", tuple(x.shape), f"expected (n, {in_dim})")


def _seed_identity(x: torch.Tensor, dims: int | None = None) -> Taylor:
    """Taylor triple of the identity map x -> x w.r.t. the first ``dims`` inputs: du[n, i, k] = delta_ik, d2u = 0."""
    n, d = x.shape
    k = d if dims is None else int(dims)
    eye = torch.eye(d, dtype=x.dtype, device=x.device)[:k].expand(n, k, d)
    return x, eye, torch.zeros_like(eye)


class FourierFeatures(nn.Module):
    """Random Fourier features ``[cos(2 pi x B), sin(2 pi x B)]`` (Tancik et al. 2020).

    ``B`` has shape ``(in_dim, n_features)`` with entries ``N(0, scale^2)`` drawn from a seeded
    generator and is a fixed buffer (not trained). ``x`` should be scaled to O(1) first.
    """

    def __init__(self, in_dim: int, n_features: int, scale: float = 1.0, *, seed: int = 0,
                 dtype: torch.dtype = torch.float64):
        super().__init__()
        if n_features <= 0 or scale <= 0:
            raise InputError(f"network config: field 'fourier' = ({n_features}, {scale}): need n_features>0, scale>0")
        g = torch.Generator().manual_seed(int(seed))
        self.register_buffer("B", (scale * torch.randn(in_dim, n_features, generator=g, dtype=torch.float64)).to(dtype))
        self.in_dim, self.out_dim = in_dim, 2 * n_features

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        p = 2.0 * math.pi * x @ self.B
        return torch.cat([torch.cos(p), torch.sin(p)], dim=-1)

    def taylor(self, u: Taylor) -> Taylor:
        x, dx, d2x = u
        w = 2.0 * math.pi * self.B
        p, dp, d2p = x @ w, dx @ w, d2x @ w
        c, s = torch.cos(p).unsqueeze(1), torch.sin(p).unsqueeze(1)
        val = torch.cat([torch.cos(p), torch.sin(p)], dim=-1)
        grad = torch.cat([-s * dp, c * dp], dim=-1)
        hess = torch.cat([-c * dp * dp - s * d2p, -s * dp * dp + c * d2p], dim=-1)
        return val, grad, hess


class MLP(nn.Module):
    """Multilayer perceptron ``layers = [in, h1, ..., out]`` with a chosen activation and initialisation.

    Optional affine input scaling maps the box ``[lower, upper]`` (physical units) to ``[-1, 1]``;
    optional random Fourier features follow the scaling (then ``layers[0]`` is still the physical
    input dimension). ``init``: ``xavier_normal`` (Glorot normal, default), ``xavier_uniform``,
    ``kaiming_normal``, ``siren`` (Sitzmann et al. 2020, for ``sin``) or ``zeros_last``
    (Glorot, last layer zero: the network starts at exactly its bias, useful for corrections).
    """

    def __init__(self, layers: Sequence[int], activation: str = "tanh", init: str = "xavier_normal", *,
                 lower: Sequence[float] | None = None, upper: Sequence[float] | None = None,
                 fourier_features: int = 0, fourier_scale: float = 1.0, w0: float = 1.0,
                 dtype: torch.dtype = torch.float64, seed: int | None = None):
        super().__init__()
        layers = [int(n) for n in layers]
        if len(layers) < 2 or min(layers) < 1:
            raise bad_value("network config", "layers", layers, "need [in, ..., out] with positive widths")
        if init not in INITS:
            raise bad_value("network config", "init", init, f"expected one of {INITS}")
        if activation not in ACTIVATIONS:
            raise bad_value("network config", "activation", activation, f"expected one of {ACTIVATIONS}")
        self.layers, self.activation, self.dtype, self.w0 = layers, activation, dtype, float(w0)
        self.in_dim, self.out_dim = layers[0], layers[-1]
        if (lower is None) != (upper is None):
            raise InputError("network config: fields 'lower'/'upper': give both or neither")
        if lower is not None:
            lo = torch.as_tensor(lower, dtype=dtype).reshape(-1)
            hi = torch.as_tensor(upper, dtype=dtype).reshape(-1)
            if lo.numel() != self.in_dim or hi.numel() != self.in_dim or bool((hi <= lo).any()):
                raise InputError(f"network config: fields 'lower'/'upper' = {list(lower)}/{list(upper)}: "
                                 f"need {self.in_dim} values each with upper > lower")
            self.register_buffer("scale", 2.0 / (hi - lo))
            self.register_buffer("shift", -(hi + lo) / (hi - lo))
        else:
            self.scale = self.shift = None
        gen = torch.Generator().manual_seed(int(seed)) if seed is not None else None
        self.fourier = (FourierFeatures(self.in_dim, fourier_features, fourier_scale,
                                        seed=0 if seed is None else int(seed) + 7919, dtype=dtype)
                        if fourier_features else None)
        widths = [self.fourier.out_dim if self.fourier else self.in_dim] + layers[1:]
        self.linears = nn.ModuleList(nn.Linear(a, b, dtype=dtype) for a, b in zip(widths[:-1], widths[1:]))
        with torch.no_grad():
            for i, lin in enumerate(self.linears):
                self._init_layer(lin, init, i, gen)
        self.act = Activation(activation)

    def _init_layer(self, lin: nn.Linear, init: str, i: int, gen: torch.Generator | None) -> None:
        fan_in, fan_out = lin.in_features, lin.out_features
        last = i == len(self.linears) - 1
        if init == "siren":
            bound = 1.0 / fan_in if i == 0 else math.sqrt(6.0 / fan_in) / self.w0
            lin.weight.uniform_(-bound, bound, generator=gen)
        elif init == "xavier_uniform":
            bound = math.sqrt(6.0 / (fan_in + fan_out))
            lin.weight.uniform_(-bound, bound, generator=gen)
        elif init == "kaiming_normal":
            lin.weight.normal_(0.0, math.sqrt(2.0 / fan_in), generator=gen)
        else:
            lin.weight.normal_(0.0, math.sqrt(2.0 / (fan_in + fan_out)), generator=gen)
            if init == "zeros_last" and last:
                lin.weight.zero_()
        lin.bias.zero_()

    def _pre(self, x: torch.Tensor) -> torch.Tensor:
        _check_input(x, self.dtype, self.in_dim)
        if self.scale is not None:
            x = x * self.scale + self.shift
        return self.fourier(x) if self.fourier is not None else x

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = self._pre(x)
        w0 = self.w0 if self.activation == "sin" else 1.0
        for lin in self.linears[:-1]:
            h = self.act(w0 * lin(h) if w0 != 1.0 else lin(h))
        return self.linears[-1](h)

    def taylor(self, x: torch.Tensor, dims: int | None = None) -> Taylor:
        """Value, gradient ``(n, k, m)`` and diagonal second derivatives ``(n, k, m)`` in one forward pass.

        Derivatives are taken w.r.t. the first ``k = dims`` input columns (all by default); further
        columns are treated as parameters (e.g. a source position or a sign feature).
        """
        _check_input(x, self.dtype, self.in_dim)
        return self.taylor_from(_seed_identity(x, dims))

    def taylor_from(self, u: Taylor) -> Taylor:
        """Like :meth:`taylor`, but starting from the Taylor triple ``(x, dx, d2x)`` of the inputs as functions
        of other coordinates (chain rule through an input feature map, e.g. ``|x|`` or ``z^2``)."""
        _check_input(u[0], self.dtype, self.in_dim)
        d = u[1].shape[1]
        if self.scale is not None:
            s = self.scale
            u = (u[0] * s + self.shift, u[1] * s, u[2] * s)  # the affine map scales second derivatives too
        if self.fourier is not None:
            u = self.fourier.taylor(u)
        w0 = self.w0 if self.activation == "sin" else 1.0
        # stack value and tangents so each layer is one matrix product: (n, 1 + 2d, width)
        h = torch.cat([u[0].unsqueeze(1), u[1], u[2]], dim=1)
        for j, lin in enumerate(self.linears):
            a = h @ lin.weight.T
            a = torch.cat([a[:, :1] + lin.bias, a[:, 1:]], dim=1)
            if j == len(self.linears) - 1:
                h = a
                break
            if w0 != 1.0:
                a = w0 * a
            y, s1, s2 = _act_derivs(self.activation, a[:, 0])
            da, d2a = a[:, 1:1 + d], a[:, 1 + d:]
            s1e = s1.unsqueeze(1)
            h = torch.cat([y.unsqueeze(1), s1e * da, s2.unsqueeze(1) * da * da + s1e * d2a], dim=1)
        return h[:, 0], h[:, 1:1 + d], h[:, 1 + d:]

    def value_grad_lap(self, x: torch.Tensor, dims: int | None = None) -> Taylor:
        """Value ``(n, m)``, gradient ``(n, k, m)`` and Laplacian ``(n, m)`` in one forward pass.

        Cheaper than :meth:`taylor` when only the Laplacian is needed: because it is linear, one
        Laplacian row ``L`` is carried instead of ``k`` diagonal-Hessian rows, with
        ``L(sigma(a)) = sigma''(a) |grad a|^2 + sigma'(a) L(a)``. Fourier features are not supported here.
        """
        if self.fourier is not None:
            u, du, d2u = self.taylor(x, dims)
            return u, du, d2u.sum(1)
        _check_input(x, self.dtype, self.in_dim)
        n, din = x.shape
        k = din if dims is None else int(dims)
        w0 = self.w0 if self.activation == "sin" else 1.0
        first = self.linears[0]
        w_in = first.weight * self.scale if self.scale is not None else first.weight      # (width, din)
        b_in = first.bias + (first.weight @ self.shift if self.scale is not None else 0.0)
        a0 = x @ w_in.T + b_in                                                          # (n, width)
        da = w_in[:, :k].T.unsqueeze(0).expand(n, k, -1)                                # (n, k, width)
        lap = None                                                                      # zero after layer 1
        for j, lin in enumerate(self.linears):
            if j > 0:
                h = torch.cat([y.unsqueeze(1), dy, ly.unsqueeze(1)], dim=1) @ lin.weight.T
                a0, da, lap = h[:, 0] + lin.bias, h[:, 1:1 + k], h[:, 1 + k]
            if j == len(self.linears) - 1:
                return a0, da, torch.zeros_like(a0) if lap is None else lap
            if w0 != 1.0:
                a0, da = w0 * a0, w0 * da
                lap = None if lap is None else w0 * lap
            y, s1, s2 = _act_derivs(self.activation, a0)
            dy = s1.unsqueeze(1) * da
            ly = s2 * (da * da).sum(1) if lap is None else s2 * (da * da).sum(1) + s1 * lap
        raise AssertionError("unreachable")


class OutputTransform(nn.Module):
    """Base class: ``u(x) = F(x, N(x))`` wrapping a base network ``N``; subclasses define both maps."""

    def __init__(self, net: nn.Module):
        super().__init__()
        self.net = net
        self.dtype = getattr(net, "dtype", torch.float64)
        self.in_dim = getattr(net, "in_dim", None)
        self.out_dim = getattr(net, "out_dim", None)


class Positive(OutputTransform):
    """Positivity: ``u = floor + softplus(N)`` (e.g. velocity, slowness, tau), optionally ``scale`` times it."""

    def __init__(self, net: nn.Module, floor: float = 0.0, scale: float = 1.0):
        super().__init__(net)
        self.floor, self.scale_ = float(floor), float(scale)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.floor + self.scale_ * nn.functional.softplus(self.net(x))

    def taylor(self, x: torch.Tensor) -> Taylor:
        y, dy, d2y = activation_taylor("softplus", self.net.taylor(x))
        return self.floor + self.scale_ * y, self.scale_ * dy, self.scale_ * d2y


class Bounded(OutputTransform):
    """Box constraint: ``u = lo + (hi - lo) * sigmoid(N)`` (e.g. a velocity within prior bounds)."""

    def __init__(self, net: nn.Module, lo: float, hi: float):
        super().__init__(net)
        if not hi > lo:
            raise InputError(f"network config: fields 'lo'/'hi' = {lo}/{hi}: need hi > lo")
        self.lo, self.hi = float(lo), float(hi)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.lo + (self.hi - self.lo) * torch.sigmoid(self.net(x))


class HardDirichlet(OutputTransform):
    """Impose ``u = g`` on the boundary exactly: ``u(x) = g(x) + d(x) * N(x)`` with ``d = 0`` on the boundary.

    ``g`` and ``d`` are callables mapping ``(n, dim)`` to ``(n, 1)`` (broadcast over outputs). For
    :meth:`taylor`, pass ``g_taylor``/``d_taylor`` returning their own Taylor triples; a box
    ``[lower, upper]`` with ``g = 0`` is available as :meth:`box`.
    """

    def __init__(self, net: nn.Module, g: Callable[[torch.Tensor], torch.Tensor],
                 d: Callable[[torch.Tensor], torch.Tensor], *, g_taylor: Callable[[torch.Tensor], Taylor] | None = None,
                 d_taylor: Callable[[torch.Tensor], Taylor] | None = None):
        super().__init__(net)
        self.g, self.d, self.g_taylor, self.d_taylor = g, d, g_taylor, d_taylor

    @classmethod
    def box(cls, net: nn.Module, lower: Sequence[float], upper: Sequence[float]) -> "HardDirichlet":
        """Homogeneous Dirichlet on the box: ``d(x) = prod_i (x_i - lo_i)(hi_i - x_i)`` (normalised)."""
        lo = torch.as_tensor(lower, dtype=torch.float64)
        hi = torch.as_tensor(upper, dtype=torch.float64)

        def d(x: torch.Tensor) -> torch.Tensor:
            l, h = lo.to(x), hi.to(x)
            return torch.prod((x - l) * (h - x) * 4.0 / (h - l) ** 2, dim=1, keepdim=True)

        def d_taylor(x: torch.Tensor) -> Taylor:
            l, h = lo.to(x), hi.to(x)
            c = 4.0 / (h - l) ** 2
            f = (x - l) * (h - x) * c                       # (n, dim) factors
            df = (h + l - 2.0 * x) * c                      # d f_i / d x_i
            d2f = -2.0 * c.expand_as(x)
            val = torch.prod(f, dim=1, keepdim=True)
            others = torch.stack([torch.prod(torch.cat([f[:, :i], f[:, i + 1:]], 1), 1) for i in range(x.shape[1])], 1)
            return val, (df * others).unsqueeze(-1), (d2f * others).unsqueeze(-1)

        def zero(x: torch.Tensor) -> torch.Tensor:
            return torch.zeros(x.shape[0], 1, dtype=x.dtype, device=x.device)

        def zero_taylor(x: torch.Tensor) -> Taylor:
            z = torch.zeros(x.shape[0], x.shape[1], 1, dtype=x.dtype, device=x.device)
            return zero(x), z, z

        return cls(net, zero, d, g_taylor=zero_taylor, d_taylor=d_taylor)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.g(x) + self.d(x) * self.net(x)

    def taylor(self, x: torch.Tensor) -> Taylor:
        if self.g_taylor is None or self.d_taylor is None:
            raise InputError("HardDirichlet.taylor: field 'g_taylor'/'d_taylor' = None: pass them to use taylor()")
        g, dg, d2g = self.g_taylor(x)
        dd, ddd, d2dd = self.d_taylor(x)
        n, dn, d2n = self.net.taylor(x)
        return (g + dd * n, dg + ddd * n.unsqueeze(1) + dd.unsqueeze(1) * dn,
                d2g + d2dd * n.unsqueeze(1) + 2.0 * ddd * dn + dd.unsqueeze(1) * d2n)


class FactoredEikonal(OutputTransform):
    """Factored eikonal traveltime ``T(x) = |x - x_s| * tau(x)`` with ``tau = tau_floor + softplus(N) > 0``.

    ``source`` (dim,) is the point source in the same units as ``x``; ``T`` has the units of
    distance times those of ``tau`` (slowness), e.g. km * s/km = s. The factorisation removes the
    source singularity of grad T (Treister & Haber 2016; Smith et al. 2020 EikoNet).
    """

    def __init__(self, net: nn.Module, source: Sequence[float], tau_floor: float = 0.0, tau_scale: float = 1.0):
        super().__init__(net)
        self.register_buffer("source", torch.as_tensor(source, dtype=self.dtype).reshape(1, -1))
        self.tau_floor, self.tau_scale = float(tau_floor), float(tau_scale)
        self.out_dim = 1

    def tau(self, x: torch.Tensor) -> torch.Tensor:
        return self.tau_floor + self.tau_scale * nn.functional.softplus(self.net(x))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        r = torch.linalg.vector_norm(x - self.source, dim=1, keepdim=True)
        return r * self.tau(x)
