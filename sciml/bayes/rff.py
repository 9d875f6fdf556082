"""Random-Fourier-feature networks with a tunable weight-space prior, evaluated for many weight vectors at once.

``f(x; theta) = mean + MLP(gamma(x); theta)``, ``gamma(x) = [cos(2 pi x B), sin(2 pi x B)] / sqrt(n_freq)``,
``B = freq_scale * E`` with ``E`` a fixed standard-normal (or scrambled-Sobol normal) matrix ``(in_dim, n_freq)``.
A network is a *family*: its weights ``theta`` are rows of a flat tensor ``(m, n_params)`` (particles, chains),
evaluated in one batched product, which is what samplers need. The prior is
``W_l ~ N(0, weight_scale_l^2 / fan_in_l)``, ``b_l ~ N(0, bias_scale_l^2)``; ``freq_scale``, the scales and
``mean`` are the prior's hyper-parameters (log-parametrised torch parameters), tuned by
:func:`sciml.bayes.fpi.tune_prior` so that function draws match a Gaussian-process prior. Activations come from
:mod:`sciml.nn.networks`. With ``hidden=()`` the network is the RFF approximation of a GP (Rahimi & Recht 2007).
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import torch
from torch import nn
from torch.func import jacrev, vmap

from sciml.errors import InputError
from sciml.gp import GaussianProcess
from sciml.nn.networks import Activation


class RFFNetwork(nn.Module):
    """Batched RFF-MLP whose prior hyper-parameters are trainable.

    Parameters
    ----------
    in_dim: input dimension d (x has shape ``(n, d)``, in the unit of the GP length scale).
    n_freq: number of random frequencies (the embedding has ``2 n_freq`` features).
    hidden: widths of hidden layers after the embedding (``()`` = linear read-out).
    gp: GP prior used to initialise the hyper-parameters (frequency scale ``1/(2 pi l)``, output scale, mean).
    quasi: draw ``E`` from a scrambled Sobol sequence (lower-variance kernel approximation) instead of i.i.d.
    """

    def __init__(self, in_dim: int, n_freq: int, hidden: Sequence[int] = (), *, gp: GaussianProcess,
                 activation: str = "tanh", seed: int = 0, quasi: bool = True,
                 dtype: torch.dtype = torch.float64) -> None:
        super().__init__()
        if in_dim < 1 or n_freq < 1 or any(int(h) < 1 for h in hidden):
            raise InputError(f"RFFNetwork: fields in_dim={in_dim}, n_freq={n_freq}, hidden={list(hidden)}: "
                             "must be positive")
        self.in_dim, self.n_freq, self.hidden = int(in_dim), int(n_freq), tuple(int(h) for h in hidden)
        self.act = Activation(activation)
        self.dtype = dtype
        unit = GaussianProcess(gp.kernel, 1.0, 1.0 / (2.0 * math.pi))  # spectral draws with unit scale
        eps = unit.spectral_frequencies(n_freq, in_dim, np.random.default_rng(seed), quasi=quasi)
        self.register_buffer("eps", torch.as_tensor(eps.T.copy(), dtype=dtype))  # (in_dim, n_freq)
        widths = [2 * self.n_freq, *self.hidden, 1]
        self.shapes = [(widths[i], widths[i + 1]) for i in range(len(widths) - 1)]
        self.n_params = sum(a * b + b for a, b in self.shapes)
        n_layers = len(self.shapes)
        # Initial guess: the embedding is normalised so that gamma(x).gamma(x') ~ rho(x - x'); a linear read-out
        # with weight std sqrt(var) then has the GP's covariance. Hidden layers start at unit scale.
        w0 = [1.0] * (n_layers - 1) + [math.sqrt(gp.variance)]
        self.log_freq_scale = nn.Parameter(torch.tensor(math.log(1.0 / (2 * math.pi * gp.length_scale)), dtype=dtype))
        self.log_weight_scale = nn.Parameter(torch.tensor(np.log(w0), dtype=dtype))
        self.log_bias_scale = nn.Parameter(torch.full((n_layers,), math.log(0.1 * math.sqrt(gp.variance)), dtype=dtype))
        # output mean = gp.mean + sqrt(gp.variance) * mean_shift (scaled so that one optimiser step size suits all)
        self.register_buffer("mean_ref", torch.tensor([gp.mean, math.sqrt(gp.variance)], dtype=dtype))
        self.mean_shift = nn.Parameter(torch.tensor(0.0, dtype=dtype))

    @property
    def mean(self) -> torch.Tensor:
        """Constant output mean (unit of f)."""
        return self.mean_ref[0] + self.mean_ref[1] * self.mean_shift

    def hyperparameters(self) -> dict[str, object]:
        """Current prior hyper-parameters as plain floats/lists (for provenance and output attributes)."""
        return {
            "freq_scale": float(self.log_freq_scale.exp()),
            "weight_scale": [float(v) for v in self.log_weight_scale.exp()],
            "bias_scale": [float(v) for v in self.log_bias_scale.exp()],
            "mean": float(self.mean),
        }

    def features(self, x: torch.Tensor) -> torch.Tensor:
        """Embedding ``gamma(x)`` of shape ``(n, 2 n_freq)``."""
        if x.dtype != self.dtype or x.ndim != 2 or x.shape[1] != self.in_dim:
            raise InputError(f"RFFNetwork: input has dtype {x.dtype} and shape {tuple(x.shape)}: "
                             f"expected {self.dtype} and (n, {self.in_dim})")
        p = 2.0 * math.pi * (x @ self.eps) * self.log_freq_scale.exp()
        return torch.cat([torch.cos(p), torch.sin(p)], dim=-1) / math.sqrt(self.n_freq)

    def prior_std(self) -> torch.Tensor:
        """Per-weight prior standard deviation, shape ``(n_params,)`` (differentiable in the hyper-parameters)."""
        parts = []
        for i, (a, b) in enumerate(self.shapes):
            fan = 1.0 if i == 0 else float(a)  # the embedding is already normalised (gamma.gamma ~ 1)
            parts.append(self.log_weight_scale[i].exp() / math.sqrt(fan) * torch.ones(a * b, dtype=self.dtype,
                                                                                   device=self.eps.device))
            parts.append(self.log_bias_scale[i].exp() * torch.ones(b, dtype=self.dtype, device=self.eps.device))
        return torch.cat(parts)

    def _unflatten(self, theta: torch.Tensor) -> list[tuple[torch.Tensor, torch.Tensor]]:
        if theta.ndim != 2 or theta.shape[1] != self.n_params:
            raise InputError(f"RFFNetwork: weights have shape {tuple(theta.shape)}: expected (m, {self.n_params})")
        out, k, m = [], 0, theta.shape[0]
        for a, b in self.shapes:
            w = theta[:, k:k + a * b].reshape(m, a, b)
            k += a * b
            out.append((w, theta[:, k:k + b]))
            k += b
        return out

    def forward(self, theta: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
        """Function values ``f(x; theta_i)``: tensor ``(m, n)`` for weights ``(m, n_params)`` and points ``(n, d)``."""
        h = self.features(x)  # (n, F)
        layers = self._unflatten(theta)
        for i, (w, b) in enumerate(layers):
            h = (h @ w if h.ndim == 3 else torch.einsum("nf,mfo->mno", h, w)) + b[:, None, :]
            if i < len(layers) - 1:
                h = self.act(h)
        return self.mean + h[..., 0]

    def jacobian(self, theta: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
        """Per-particle Jacobians ``d f(x; theta_i) / d theta_i``: ``(m, n, n_params)`` (closed form for a linear
        read-out, ``torch.func`` otherwise)."""
        if not self.hidden:
            feats = torch.cat([self.features(x), torch.ones(x.shape[0], 1, dtype=x.dtype, device=x.device)], 1)
            return feats.expand(theta.shape[0], *feats.shape)
        return vmap(jacrev(lambda th: self.forward(th[None], x)[0]))(theta)

    def sample_prior(self, m: int, generator: torch.Generator | None = None, *, z: torch.Tensor | None = None
                     ) -> torch.Tensor:
        """``m`` weight vectors from the prior (reparametrised: differentiable in the hyper-parameters)."""
        if z is None:
            z = torch.randn(m, self.n_params, generator=generator, dtype=self.dtype, device=self.eps.device)
        return z * self.prior_std()

    def log_prior(self, theta: torch.Tensor) -> torch.Tensor:
        """Gaussian log prior density of weights ``(m, n_params)`` -> ``(m,)`` (hyper-parameters held fixed)."""
        sd = self.prior_std().detach()
        return -0.5 * ((theta / sd) ** 2).sum(1) - torch.log(sd).sum() - 0.5 * self.n_params * math.log(2 * math.pi)
