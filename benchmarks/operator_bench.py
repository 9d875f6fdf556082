"""FNO benchmark: sciml's FNO2d vs the neuraloperator package's FNO on the same Darcy data.

Same width, modes (neuraloperator counts both half-spectra: n_modes = 2 * modes), layers, data, loss
(relative L2), optimiser, mini-batches and steps, in one run. Reports training throughput (samples/s),
inference throughput and the mean relative L2 test error at the training resolution (16x16) and zero-shot
at 32x32. Data: the published down-sampled Darcy set of the FNO paper (shared/data/darcy_neuralop);
without it, our own Darcy generator at 16x16 / 32x32.

``--deeponet``: instead, sciml's DeepONet (the default config's POD trunk + CNN branch) vs DeepXDE's
``DeepONetCartesianProd`` (MLP branch and trunk, the architecture of Lu et al. 2021; pytorch backend) on the
default Darcy problem at 32x32 (our generator), same samples, steps, batch and relative-L2 test metric.

    .venv/bin/python benchmarks/operator_bench.py [--steps 500] [--width 32] [--modes 8] [--threads 2]
    .venv/bin/python benchmarks/operator_bench.py --deeponet [--steps 1500] [--n-train 1000]
"""
from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

import torch

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from sciml.config import defaults  # noqa: E402
from sciml.device import resolve_device  # noqa: E402
from sciml.operators.data import load_neuralop_darcy, make_darcy_dataset  # noqa: E402
from sciml.studies.operators import run_model  # noqa: E402


def data(n_train: int):
    root = Path(os.environ.get("SCIML_SHARED_DATA", REPO.parent / "shared" / "data")) / "darcy_neuralop"
    if (root / "darcy_train_16.npz").exists():
        return ("published FNO-paper Darcy set", load_neuralop_darcy(root / "darcy_train_16.npz"),
                load_neuralop_darcy(root / "darcy_test_16.npz"), load_neuralop_darcy(root / "darcy_test_32.npz"))
    gen = {**defaults("operators")["darcy"]["generator"], "coefficient": "threshold", "length_scale": 0.1}
    return ("sciml Darcy generator (threshold)", make_darcy_dataset(gen, 16, n_train, 0, 0),
            make_darcy_dataset(gen, 16, 50, 0, 1), make_darcy_dataset(gen, 32, 50, 0, 2))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--steps", type=int, default=500)
    ap.add_argument("--n-train", type=int, default=1000)
    ap.add_argument("--batch", type=int, default=20)
    ap.add_argument("--width", type=int, default=32)
    ap.add_argument("--modes", type=int, default=8)
    ap.add_argument("--layers", type=int, default=4)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--device", default="cpu")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--deeponet", action="store_true", help="sciml DeepONet vs DeepXDE's DeepONet")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    device = resolve_device(args.device)
    if args.deeponet:
        return deeponet_bench(args)
    name, train, test16, test32 = data(args.n_train)
    n = min(args.n_train, train.sizes["sample"])
    cfg = {"dtype": "float32", "batch_size": args.batch,
           "fno": {"width": args.width, "modes": args.modes, "layers": args.layers, "projection": 2 * args.width,
                   "padding": 0.0},
           "train": {"adam_steps": args.steps, "lr": 3e-3, "lr_decay": 0.05, "progress": False,
                     "log_every": 10**6, "checkpoint_every": 10**6}}
    rows = {}
    for impl, kind in (("sciml", "fno"), ("neuralop", "neuralop")):
        try:
            ds, _ = run_model(cfg, "darcy", kind, n, train, {"test": test16, "test32": test32}, seed=args.seed,
                              device=device)
        except Exception as err:  # neuraloperator missing or incompatible: report, keep our numbers
            print(f"{impl}: skipped ({err})")
            continue
        t_train = float(ds["wall_time"].values[-1])
        rows[impl] = {
            "params": int(ds["metric_n_parameters"]),
            "train samples/s": args.steps * args.batch / t_train,
            "infer samples/s (16^2)": test16.sizes["sample"] / float(ds["metric_inference_time"]),
            "rel L2 16^2": float(ds["metric_mean_rel_l2"]),
            "rel L2 32^2": float(ds["metric_mean_rel_l2_test32"]),
        }
    print(f"\nFNO benchmark on {name}: {n} training samples, {args.steps} Adam steps, batch {args.batch}, "
          f"width {args.width}, modes {args.modes}, layers {args.layers}, device {device}, threads {args.threads}")
    keys = list(next(iter(rows.values())).keys())
    ratio_head = "   ratio sciml/neuralop" if len(rows) == 2 else ""
    print(f"{'metric':26s}" + "".join(f"{k:>14s}" for k in rows) + ratio_head)
    for key in keys:
        vals = [rows[k][key] for k in rows]
        line = f"{key:26s}" + "".join(f"{v:14.4g}" for v in vals)
        if len(rows) == 2:
            line += f"{vals[0] / vals[1]:14.3f}"
        print(line)


def deeponet_bench(args) -> None:
    """sciml DeepONet (default config) vs DeepXDE DeepONetCartesianProd on the default Darcy problem."""
    import time

    import numpy as np

    d = defaults("operators")["darcy"]
    train = make_darcy_dataset(d["generator"], d["n"], args.n_train, args.seed, 0)
    test = make_darcy_dataset(d["generator"], d["n"], 100, args.seed, 1)
    cfg = {"dtype": "float32", "batch_size": args.batch, "deeponet": d["deeponet"],
           "train": {**d["train"], "adam_steps": args.steps, "progress": False, "log_every": 10**6,
                     "checkpoint_every": 10**6}}
    ds, _ = run_model(cfg, "darcy", "deeponet", args.n_train, train, {"test": test}, seed=args.seed,
                      device=torch.device("cpu"))
    rows = {"sciml": (int(ds["metric_n_parameters"]), args.steps / float(ds["wall_time"].values[-1]),
                      float(ds["metric_mean_rel_l2"]))}
    os.environ.setdefault("DDE_BACKEND", "pytorch")
    try:
        import deepxde as dde
    except ImportError as err:
        print(f"deepxde: skipped ({err})")
    else:
        flat = lambda ds_, v: ds_[v].values.reshape(ds_.sizes["sample"], -1).astype(np.float32)  # noqa: E731
        xx, yy = np.meshgrid(train["x"].values, train["y"].values)
        xy = np.stack([xx.ravel(), yy.ravel()], 1).astype(np.float32)
        a, u, at, ut = flat(train, "log_k"), flat(train, "u"), flat(test, "log_k"), flat(test, "u")
        scale = float(u.std())  # output normalisation, as ours
        data = dde.data.TripleCartesianProd(X_train=(a, xy), y_train=u / scale, X_test=(at, xy), y_test=ut / scale)
        w, p = int(d["deeponet"]["width"]), int(d["deeponet"]["basis"])
        hidden = [w] * int(d["deeponet"]["depth"])
        net = dde.nn.DeepONetCartesianProd([a.shape[1], *hidden, p], [2, *hidden, p], "gelu", "Glorot normal")
        model = dde.Model(data, net)
        model.compile("adam", lr=1e-3)  # constant, as in DeepXDE's DeepONet examples (ours: cosine from 3e-3)
        t0 = time.perf_counter()
        model.train(iterations=args.steps, batch_size=args.batch, display_every=10**6, verbose=0)
        rate = args.steps / (time.perf_counter() - t0)
        pred = model.predict((at, xy)) * scale
        err = np.linalg.norm(pred - ut, axis=1) / np.linalg.norm(ut, axis=1)
        rows["deepxde"] = (sum(q.numel() for q in net.parameters()), rate, float(err.mean()))
    print(f"\nDeepONet benchmark, Darcy {d['n']}x{d['n']} (sciml generator): {args.n_train} training samples, "
          f"100 test, {args.steps} Adam steps, batch {args.batch}, CPU, threads {args.threads}")
    print(f"{'metric':18s}" + "".join(f"{k:>12s}" for k in rows))
    for i, key in enumerate(("params", "steps/s", "test rel L2")):
        print(f"{key:18s}" + "".join(f"{v[i]:12.4g}" for v in rows.values()))


if __name__ == "__main__":
    main()
