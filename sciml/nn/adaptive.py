"""Adaptive PINN training, switched on by :class:`~sciml.nn.trainer.TrainConfig` options (all off by default).

* **Gradient-norm loss balancing** (``adaptive_weights: grad_norm``; Wang, Teng & Perdikaris 2021, the
  "learning-rate annealing" of jaxpi): every ``adaptive_every`` Adam steps each term's factor becomes
  ``lambda_k = mean_j |grad L_j| / |grad L_k|`` (gradients w.r.t. the trained parameters), smoothed by
  ``lambda <- alpha lambda + (1 - alpha) lambda_new``. The total loss is ``sum_k w_k lambda_k L_k`` with the
  configured weights ``w_k``: with balancing, ``w_k`` sets term ``k``'s share of the gradient norm. The factors
  are frozen during L-BFGS (its curvature pairs need a fixed objective). ``adaptive_terms`` limits the balancing
  to the named terms (e.g. physics and data, not a regulariser whose weight is meant absolutely).
  :class:`GradNormBalancer`.
* **Residual-based adaptive collocation** (``resample: rad | rar_d``; Wu, Zhu, Tan, Kartha & Lu 2023): every
  ``resample_every`` Adam steps a uniform candidate pool (``resample_candidates`` x the set size) is scored by
  the PDE residual ``eps`` and points are drawn without replacement with density
  ``p ~ eps^k / mean(eps^k) + c`` (``resample_k``, ``resample_c``). ``rad`` replaces the whole set, ``rar_d``
  adds ``resample_add`` x the initial size each time. With ``resample: none`` the set is redrawn uniformly every
  Adam step. :class:`ResidualSampler`.
* **Causal weighting** of time-dependent residuals (``causal_eps``; Wang, Sankaran & Perdikaris 2024): a loss
  term returned as a vector ``L_i`` of per-time-chunk mean squared residuals (ordered in time, e.g. by
  :func:`chunk_losses`) is reduced to ``mean_i w_i L_i`` with ``w_i = exp(-eps sum_{j<i} L_j)`` (no gradient
  through ``w``), so later times are fitted only once earlier ones are. :func:`causal_reduce`.

Random draws are pure functions of ``(seed, step)`` (:func:`step_generator`), so a resumed run reproduces an
uninterrupted one; the sampler's current points and the balancer's factors are checkpointed by the trainer.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import Any

import torch

from sciml.errors import bad_value

WEIGHTINGS = ("none", "grad_norm")
RESAMPLING = ("none", "rad", "rar_d")
Residual = Callable[[torch.nn.Module, torch.Tensor], torch.Tensor]


def step_generator(seed: int, step: int, device: torch.device | str = "cpu") -> torch.Generator:
    """Generator for the random draws of one step: a pure function of ``(seed, step)``."""
    g = torch.Generator(device=device)
    g.manual_seed((int(seed) * 1_000_003 + int(step)) % (2**63 - 1))
    return g


def uniform(n: int, lower: Sequence[float], upper: Sequence[float], gen: torch.Generator, *, dtype: torch.dtype,
            device: torch.device | str) -> torch.Tensor:
    """``n`` points uniform in the box ``[lower, upper]``: shape ``(n, len(lower))``."""
    lo = torch.as_tensor(lower, dtype=dtype, device=device)
    hi = torch.as_tensor(upper, dtype=dtype, device=device)
    return lo + (hi - lo) * torch.rand(n, lo.numel(), generator=gen, dtype=dtype, device=device)


# -- gradient-norm balancing ---------------------------------------------------------------------------------

class GradNormBalancer:
    """Loss-term factors ``lambda_k`` from the gradient norms of the terms (see module docstring)."""

    def __init__(self, every: int, alpha: float, terms: Sequence[str] | None = None):
        self.every, self.alpha = int(every), float(alpha)
        self.terms = None if terms is None else set(terms)
        self.lam: dict[str, float] = {}

    def factor(self, name: str) -> float:
        return self.lam.get(name, 1.0)

    def due(self, step: int, phase: int) -> bool:
        return phase == 0 and step % self.every == 0

    def update(self, terms: dict[str, torch.Tensor], weights: dict[str, float],
               params: Sequence[torch.Tensor]) -> None:
        """New factors from ``|grad L_k|`` of the terms that carry a gradient and a non-zero weight."""
        norms = {}
        for k, v in terms.items():
            if weights.get(k, 1.0) == 0 or not v.requires_grad or (self.terms is not None and k not in self.terms):
                continue
            grads = torch.autograd.grad(v, params, retain_graph=True, allow_unused=True)
            sq = sum(float(g.detach().square().sum()) for g in grads if g is not None)
            if sq > 0 and math.isfinite(sq):
                norms[k] = math.sqrt(sq)
        if not norms:
            return
        mean = sum(norms.values()) / len(norms)
        for k, nk in norms.items():
            new = mean / nk
            self.lam[k] = new if k not in self.lam else self.alpha * self.lam[k] + (1 - self.alpha) * new

    def state_dict(self) -> dict[str, Any]:
        return {"lam": dict(self.lam)}

    def load_state_dict(self, st: dict[str, Any]) -> None:
        self.lam = dict(st["lam"])


# -- residual-based adaptive collocation ------------------------------------------------------------------

class ResidualSampler:
    """Collocation points in the box ``[lower, upper]``: uniform, or drawn by residual density (RAD / RAR-D).

    ``residual(model, pts) -> (n,)`` is the PDE residual at ``pts`` (its absolute value is the score).
    ``config`` is the :class:`~sciml.nn.trainer.TrainConfig` (``resample*`` fields, ``adam_steps``).
    :meth:`points` gives the set of a step; the trainer calls :meth:`maybe_update` before every Adam step.
    """

    def __init__(self, lower: Sequence[float], upper: Sequence[float], n: int, residual: Residual, config: Any, *,
                 seed: int, dtype: torch.dtype, device: torch.device | str, salt: int = 0, batch: int = 20000):
        if config.resample not in RESAMPLING:
            raise bad_value("train config", "resample", config.resample, f"expected one of {RESAMPLING}")
        self.lower, self.upper, self.n = [float(v) for v in lower], [float(v) for v in upper], int(n)
        self.residual, self.cfg, self.seed, self.salt, self.batch = residual, config, int(seed), int(salt), batch
        self.tkw = {"dtype": dtype, "device": device}
        self.current: torch.Tensor | None = None

    @property
    def adaptive(self) -> bool:
        return self.cfg.resample != "none"

    def _uniform(self, n: int, key: int) -> torch.Tensor:
        gen = step_generator(self.seed * 7 + self.salt, key, self.tkw["device"])
        return uniform(n, self.lower, self.upper, gen, **self.tkw)

    def points(self, step: int) -> torch.Tensor:
        """The collocation set of ``step``: the adaptive set once drawn, else fresh uniform points per Adam step
        (one fixed set during L-BFGS)."""
        if self.adaptive and self.current is not None:
            return self.current
        return self._uniform(self.n, min(int(step), self.cfg.adam_steps))

    def maybe_update(self, model: torch.nn.Module, step: int) -> bool:
        """Redraw (``rad``) or extend (``rar_d``) the set from the residual density every ``resample_every``
        Adam steps (not at step 0: the untrained residual carries no information)."""
        every = self.cfg.resample_every
        if not self.adaptive or step == 0 or step % every or step >= self.cfg.adam_steps:
            return False
        cand = self._uniform(self.n * int(self.cfg.resample_candidates), -1 - step)
        with torch.enable_grad():
            eps = torch.cat([self.residual(model, cand[i:i + self.batch]).detach().abs().reshape(-1)
                             for i in range(0, len(cand), self.batch)])
        ek = eps.pow(float(self.cfg.resample_k))
        p = ek / ek.mean().clamp_min(1e-300) + float(self.cfg.resample_c)
        gen = step_generator(self.seed * 7 + self.salt, -(10**9) - step, self.tkw["device"])
        if self.cfg.resample == "rad":
            idx = torch.multinomial(p, self.n, replacement=False, generator=gen)
            self.current = cand[idx]
        else:
            base = self.points(step)
            m = max(1, int(round(self.cfg.resample_add * self.n)))
            idx = torch.multinomial(p, m, replacement=False, generator=gen)
            self.current = torch.cat([base, cand[idx]])
        return True

    def state_dict(self) -> dict[str, Any]:
        return {"current": None if self.current is None else self.current.detach().cpu()}

    def load_state_dict(self, st: dict[str, Any]) -> None:
        cur = st["current"]
        self.current = None if cur is None else cur.to(**self.tkw)


# -- causal weighting ---------------------------------------------------------------------------------------

def chunk_losses(r2: torch.Tensor, t: torch.Tensor, t_range: Sequence[float], n_chunks: int) -> torch.Tensor:
    """Mean of ``r2`` (n,) within each of ``n_chunks`` equal time intervals of ``t_range`` (ordered in time):
    the vector term :func:`causal_reduce` weights. Empty chunks count 0."""
    t0, t1 = float(t_range[0]), float(t_range[1])
    idx = ((t.reshape(-1) - t0) / (t1 - t0) * n_chunks).floor().clamp(0, n_chunks - 1).long()
    s = torch.zeros(n_chunks, dtype=r2.dtype, device=r2.device).index_add(0, idx, r2.reshape(-1))
    c = torch.zeros(n_chunks, dtype=r2.dtype, device=r2.device).index_add(0, idx, torch.ones_like(r2.reshape(-1)))
    return s / c.clamp_min(1.0)


def causal_reduce(chunks: torch.Tensor, eps: float) -> tuple[torch.Tensor, float]:
    """``(mean_i w_i L_i, min_i w_i)`` with ``w_i = exp(-eps sum_{j<i} L_j)`` (detached); ``eps = 0``: the mean."""
    if eps <= 0:
        return chunks.mean(), 1.0
    with torch.no_grad():
        w = torch.exp(-eps * torch.cat([chunks.new_zeros(1), torch.cumsum(chunks, 0)[:-1]]))
    return (w * chunks).mean(), float(w.min())
