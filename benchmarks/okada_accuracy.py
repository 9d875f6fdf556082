"""Accuracy of sciml's DC3D near vertical (89-90 deg) and flat (0-1 deg) dips against an extended-precision
evaluation of the same formulas (``sciml.okada.mpref``, mpmath at ``--dps`` digits), values and derivatives.

For each dip: stations at z = 0 and z < 0 (generic points plus the special sets: above the fault ends on the strike
line, above corners, on edge extensions). Errors are normwise: max over stations of ||sciml - mp|| / ||mp|| over the
12 outputs (u, grad u) and, for the derivatives, over the Jacobian with respect to (depth, dip, al1, al2, aw1, aw2).
``--regime`` evaluates part B with the general formulas ("g"), the near-vertical forms ("v") or the default switch
at |cos(dip)| = ``kernels.C0`` ("auto"): the switch point is chosen where the two errors cross.

    .venv/bin/python benchmarks/okada_accuracy.py [--dps 40] [--derivatives]
"""

from __future__ import annotations

import argparse
import math
import time

import mpmath as mp
import torch

from sciml.okada import dc3d, kernels, mpref

F64 = torch.float64
FAULT = {"depth": 4.0, "al1": -2.0, "al2": 3.0, "aw1": -1.0, "aw2": 1.0}
PARAMS = ("depth", "dip", "al1", "al2", "aw1", "aw2")
# (x, y, z): generic, above fault ends on the strike line, above a corner-ish, edge extension, at depth
STATIONS = [(1.3, 0.7, 0.0), (-2.0, 0.0, 0.0), (3.0, 0.0, 0.0), (-2.0, 1.5, 0.0), (4.5, -0.8, 0.0),
            (0.4, -3.0, 0.0), (1.3, 0.7, -0.4), (-2.0, 0.3, -2.5), (6.0, 0.0, -5.5), (0.5, 2.0, -3.0)]
DIPS = [0.0, 1e-4, 0.01, 0.1, 0.5, 1.0, 30.0, 60.0, 72.54, 78.46, 84.26, 88.0, 89.0, 89.5, 89.9, 89.99, 89.999, 89.9999,
        89.99999, 90.0, 90.001, 91.0, 120.0, 179.9, 180.0]


def _sciml(vals: list[float], jac: bool) -> tuple[torch.Tensor, torch.Tensor | None]:
    """12 outputs and (with ``jac``) their Jacobian (12, 6) with respect to PARAMS."""
    t = torch.tensor(vals, dtype=F64)

    def f(p):
        a = list(t.unbind())
        for k, name in enumerate(PARAMS):
            a[mpref.ARGS.index(name)] = p[k]
        r = dc3d(*a)
        return torch.cat([r.u, r.grad.T.reshape(-1)])

    p0 = torch.stack([t[mpref.ARGS.index(n)] for n in PARAMS])
    out = f(p0).detach()
    return out, (torch.autograd.functional.jacobian(f, p0) if jac else None)


def _rel(a: torch.Tensor, b: torch.Tensor) -> float:
    return float((a - b).norm() / b.norm().clamp_min(1e-300))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--dps", type=int, default=40)
    ap.add_argument("--derivatives", action="store_true", help="also the parameter Jacobian (slow: 24 mp calls each)")
    ap.add_argument("--regimes", default="auto,g,v")
    ap.add_argument("--stations", default=None, help="comma-separated indices into STATIONS; default: all")
    ap.add_argument("--dips", default=None, help="comma-separated dips (deg); default: the sweep DIPS")
    a = ap.parse_args()
    c0 = kernels.C0
    regimes = a.regimes.split(",")
    print(f"DC3D vs mpmath at {a.dps} digits; fault {FAULT}, mixed dislocation (1, 0.5, 0.2), alpha 2/3; "
          f"switch C0 = {c0} (|cos dip|)")
    print(f"{'dip':>10} {'cos':>9} " + " ".join(f"{'val_' + r:>10}" for r in regimes)
          + ("".join(f" {'jac_' + r:>10}" for r in regimes) if a.derivatives else ""))
    t0 = time.perf_counter()
    worst = {}
    for dip in [float(v) for v in a.dips.split(",")] if a.dips else DIPS:
        ev, ej = {r: 0.0 for r in regimes}, {r: 0.0 for r in regimes}
        for x, y, z in [STATIONS[int(i)] for i in a.stations.split(",")] if a.stations else STATIONS:
            vals = [2 / 3, x, y, z, FAULT["depth"], dip, FAULT["al1"], FAULT["al2"], FAULT["aw1"], FAULT["aw2"],
                    1.0, 0.5, 0.2]
            with mp.workdps(a.dps):
                ref = torch.tensor([float(v) for v in mpref.dc3d_mp(*vals)], dtype=F64)
                jref = None
                if a.derivatives:
                    jm = mpref.jacobian_mp(vals, PARAMS)
                    jref = torch.tensor([[float(v) for v in row] for row in jm], dtype=F64).T  # (12, 6)
            for r in regimes:
                kernels.C0 = {"auto": c0, "g": -1.0, "v": 2.0}[r]
                try:
                    out, jac = _sciml(vals, a.derivatives)
                finally:
                    kernels.C0 = c0
                ev[r] = max(ev[r], _rel(out, ref))
                if a.derivatives:
                    ej[r] = max(ej[r], _rel(jac, jref))
        for r in regimes:
            worst[r] = max(worst.get(r, 0.0), ev[r], ej[r])
        print(f"{dip:>10} {math.cos(math.radians(dip)):9.2e} " + " ".join(f"{ev[r]:10.2e}" for r in regimes)
              + ("".join(f" {ej[r]:10.2e}" for r in regimes) if a.derivatives else ""), flush=True)
    print("worst over dips (values and derivatives): " + ", ".join(f"{r}: {worst[r]:.2e}" for r in regimes))
    print(f"({time.perf_counter() - t0:.0f} s)")


if __name__ == "__main__":
    main()
