"""Jacobians and Hessians of the rectangle model with respect to fault parameters and station coordinates.

The variable vector per station is ``[params[k] for k in wrt] + ([east, north, up] if stations_wrt)``; one
batched ``torch.func.vmap`` call evaluates all stations. Outputs: ``"u"`` (3 displacement components, m),
``"strain"`` (6: ee, nn, uu, en, eu, nu) or ``"tilt"`` (2).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import torch
from torch.func import hessian as _hessian
from torch.func import jacfwd, vmap

from sciml.errors import InputError, bad_value
from sciml.okada.fault import Deformation, rectangle

OUTPUTS = ("u", "strain", "tilt")
_SYM = ((0, 0), (1, 1), (2, 2), (0, 1), (0, 2), (1, 2))


def select_output(d: Deformation, output: str) -> torch.Tensor:
    """Flatten a :class:`Deformation` to the requested observable (..., k)."""
    if output == "u":
        return d.u
    if output == "strain":
        e = d.strain
        return torch.stack([e[..., i, j] for i, j in _SYM], -1)
    if output == "tilt":
        return d.tilt
    raise bad_value("okada", "output", output, f"expected one of {OUTPUTS}")


def _per_station_fn(params: Mapping, wrt: Sequence[str], stations_wrt: bool, output: str, options: Mapping):
    fixed = {k: v for k, v in params.items() if k not in wrt}
    p = len(wrt)

    def f(w: torch.Tensor, station: torch.Tensor) -> torch.Tensor:
        kw = dict(fixed)
        kw.update({k: w[i] for i, k in enumerate(wrt)})
        s = w[p:] if stations_wrt else station
        return select_output(rectangle(s, **kw, **options), output)

    return f


def _prepare(stations, params, wrt, stations_wrt):
    unknown = [k for k in wrt if k not in params]
    if unknown:
        raise InputError(f"okada: jacobian wrt {unknown} not in the given parameters {sorted(params)}")
    st = stations if stations.shape[-1] == 3 else torch.cat([stations, torch.zeros_like(stations[..., :1])], -1)
    theta = torch.stack([torch.as_tensor(params[k], dtype=st.dtype, device=st.device) for k in wrt]) \
        if wrt else st.new_zeros(0)
    w = theta.expand(st.shape[0], len(wrt))
    if stations_wrt:
        w = torch.cat([w, st], -1)
    return st, w


def jacobian(stations: torch.Tensor, params: Mapping, wrt: Sequence[str] = (), *, stations_wrt: bool = False,
             output: str = "u", **options) -> torch.Tensor:
    """d output / d variables, shape (n, k, p [+3]) for stations (n, 2|3) and a single fault ``params``.

    ``params`` are keyword arguments of :func:`sciml.okada.fault.rectangle` (numbers or 0-d tensors);
    ``options`` (reference, nu, lam, mu) are passed through.
    """
    st, w = _prepare(stations, params, wrt, stations_wrt)
    f = _per_station_fn(params, wrt, stations_wrt, output, options)
    return vmap(jacfwd(f, argnums=0), in_dims=(0, 0))(w, st)


def hessian(stations: torch.Tensor, params: Mapping, wrt: Sequence[str] = (), *, stations_wrt: bool = False,
            output: str = "u", **options) -> torch.Tensor:
    """Second derivatives, shape (n, k, p [+3], p [+3]); mixed station/parameter blocks included."""
    st, w = _prepare(stations, params, wrt, stations_wrt)
    f = _per_station_fn(params, wrt, stations_wrt, output, options)
    return vmap(_hessian(f, argnums=0), in_dims=(0, 0))(w, st)
