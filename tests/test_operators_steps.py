"""The operators study's steps run outside Snakemake through the one writer (sciml.studies.run.run_step)."""
from __future__ import annotations

import copy

import numpy as np
import pytest

from sciml.config import defaults
from sciml.errors import InputError
from sciml.io.netcdf import metrics_of, read_dataset, read_provenance
from sciml.io.weights import load_weights
from sciml.studies import get_step
from sciml.studies.run import run_step


def _small_config():
    """The default configuration, shrunk to a few seconds of CPU."""
    config = copy.deepcopy(defaults())
    d = config["operators"]["darcy"]
    d.update(n=8, n_fine=16, n_train=12, n_val=3, n_test=4, n_test_fine=3)
    d["pino"]["unlabeled"] = 5
    d["fno"].update(width=6, modes=3, layers=2, projection=8)
    d["train"].update(adam_steps=20, log_every=10)
    d["steps"]["fno"] = 20
    config["operators"]["batch_size"] = 4
    w = config["operators"]["wave"]
    w["generator"].update(n=17, dx=40.0, refine=1, t_snapshot=0.2, pml=10)  # odd n: source on the centre line
    w.update(n_train=3, n_val=2, n_test=2)
    w["marmousi"]["windows"] = 2
    return config


def test_darcy_steps_run_outside_snakemake(tmp_path):
    """darcy_data -> darcy_train (physics-informed FNO) -> darcy_figures: outputs, metrics, weights, lineage."""
    config = _small_config()
    seed = config["seed"]
    data = {k: str(tmp_path / f"{k}.nc") for k in ("train", "val", "test", "fine")}
    run_step("operators.darcy_data", get_step("operators.darcy_data").slice(config), seed=seed, inputs={},
             outputs=data)
    train = read_dataset(data["train"])
    assert train["u"].shape == (12, 8, 8) and read_dataset(data["fine"])["u"].shape == (3, 16, 16)
    assert train.attrs["title"].startswith("Darcy flow train set")

    wc = {"model": "pino", "n": "10"}
    cfg = get_step("operators.darcy_train").slice(config, wc)
    assert cfg["model"] == "pino" and cfg["n_train"] == 10 and "deeponet" not in cfg and "pino" in cfg
    out = {"nc": str(tmp_path / "pino_n10.nc"), "pt": str(tmp_path / "pino_n10.pt")}
    run_step("operators.darcy_train", cfg, seed=seed, inputs=data, outputs=out)
    ds = read_dataset(out["nc"])
    m = metrics_of(ds)
    for name in ("mean_rel_l2", "mean_rel_l2_fine", "train_rel_l2", "val_rel_l2", "inference_time", "inference_time_fine",
                 "train_time_s", "n_parameters"):
        assert name in m and np.isfinite(m[name][0]) and m[name][1] and m[name][2], name
    assert not any(k.startswith(("metric_", "diag_")) for k in ds.attrs)
    assert ds.attrs["model"] == "pino" and ds.attrs["n_train"] == 10 and ds.attrs["unlabeled_samples"] == 5
    assert ds["prediction"].shape == (4, 8, 8) and ds["prediction_fine"].shape == (3, 16, 16)
    assert "loss_pde" in ds and len(ds["step"]) == 20
    np.testing.assert_allclose(float(ds["metric_mean_rel_l2"]), ds["rel_l2"].values.mean(), rtol=1e-12)

    w = load_weights(out["pt"])
    assert w["step"] == "operators.darcy_train" and w["meta"] == {"model": "pino", "n_train": 10, "problem": "darcy",
                                                                           "augment": "none"}
    assert int(m["n_parameters"][0]) == sum(v.numel() for k, v in w["state_dict"].items()
                                            if not k.endswith(("_mean", "_std")))
    prov = read_provenance(out["nc"])
    assert prov["step"] == "operators.darcy_train" and out["pt"] in [a["path"] for a in prov["attachments"]]

    figs = {"nc": str(tmp_path / "summary.nc"), "prediction": str(tmp_path / "pred.png"),
            "size": str(tmp_path / "size.png"), "curves": str(tmp_path / "curves.png")}
    run_step("operators.darcy_figures", {}, seed=seed, inputs={"runs": [out["nc"]], "test": data["test"],
                                                               "fine": data["fine"]}, outputs=figs)
    summary = read_dataset(figs["nc"])
    assert list(summary["model"].values) == ["pino"] and list(summary["n_train"].values) == [10]
    assert float(summary["mean_rel_l2"][0, 0]) == float(ds["metric_mean_rel_l2"])
    assert float(summary["n_parameters"][0, 0]) == m["n_parameters"][0]
    assert read_provenance(figs["prediction"])["inputs"][0]["path"] == out["nc"]


def test_wave_data_step_and_data_slices(tmp_path):
    """Data slices hold only the data-defining keys (training settings never regenerate data); the wave data
    step falls back to the synthetic layered model without the Marmousi file."""
    config = _small_config()
    sl = get_step("operators.wave_data").slice(config)
    assert set(sl) == {"generator", "prior", "n_train", "n_val", "n_test", "marmousi"}
    assert set(get_step("operators.darcy_data").slice(config)) == {"n", "n_fine", "n_train", "n_val", "n_test",
                                                                   "n_test_fine", "generator"}
    out = {k: str(tmp_path / f"{k}.nc") for k in ("train", "val", "test", "marmousi")}
    sl["marmousi"]["file"] = None  # the explicit no-file choice (the workflow sets it under synthetic_fallback)
    run_step("operators.wave_data", sl, seed=1, inputs={}, outputs=out)
    mar = read_dataset(out["marmousi"])
    assert mar["pressure"].shape == (2, 17, 17) and mar.attrs["velocity_source"] == "synthetic layered model"
    train = read_dataset(out["train"])
    assert train["velocity"].shape == train["direct_wave"].shape == (3, 17, 17) and train["family"].shape == (3,)

    w = config["operators"]["wave"]  # both surrogates train and tabulate (a few steps of a tiny FNO)
    w["train"].update(adam_steps=6, val_every=3, log_every=3)
    w["fno"].update(width=4, modes=3, layers=1, projection=4)
    runs = []
    for model in ("fno", "fno_ray"):
        res = {"nc": str(tmp_path / f"{model}.nc"), "pt": str(tmp_path / f"{model}.pt")}
        run_step("operators.wave_train", get_step("operators.wave_train").slice(config, {"model": model, "n": "3"}),
                 seed=1, inputs=out, outputs=res)
        ds = read_dataset(res["nc"])
        assert ds.attrs["inputs"] == ("velocity direct_wave" if model == "fno_ray" else "velocity")
        assert "metric_mean_rel_l2_marmousi" in ds and np.isfinite(ds["val_metric"].values).any()
        assert ds.attrs["augment"] == w["augment"] == "flip_x"
        runs.append(res["nc"])
    figs = {k: str(tmp_path / f"w_{k}.{'nc' if k == 'nc' else 'png'}") for k in ("nc", "prediction", "size", "curves")}
    run_step("operators.wave_figures", {}, seed=1, inputs={"runs": runs, "test": out["test"],
                                                           "marmousi": out["marmousi"]}, outputs=figs)
    assert list(read_dataset(figs["nc"])["model"].values) == ["fno", "fno_ray"]


def test_wave_mirror_augmentation_is_refused_for_a_source_off_the_centre_line(tmp_path):
    """augment flip_x on data whose source is off the grid's centre line (even n, refine 1) stops the training
    step before any training, naming the data file, its attribute and the config key; no output is written."""
    config = _small_config()
    w = config["operators"]["wave"]
    w["generator"]["n"] = 16  # source node 8 of 0..15: off the centre line
    w["marmousi"]["file"] = None
    out = {k: str(tmp_path / f"{k}.nc") for k in ("train", "val", "test", "marmousi")}
    run_step("operators.wave_data", get_step("operators.wave_data").slice(config), seed=1, inputs={}, outputs=out)
    res = {"nc": str(tmp_path / "fno.nc"), "pt": str(tmp_path / "fno.pt")}
    cfg = get_step("operators.wave_train").slice(config, {"model": "fno", "n": "3"})
    with pytest.raises(InputError, match=r"train\.nc \(attribute gen_source_x\).*operators\.wave\.augment.*centre line"):
        run_step("operators.wave_train", cfg, seed=1, inputs=out, outputs=res)
    assert not any((tmp_path / f).exists() for f in ("fno.nc", "fno.pt"))
    run_step("operators.wave_train", {**cfg, "augment": "none", "train": {**cfg["train"], "adam_steps": 2}},
             seed=1, inputs=out, outputs=res)
    assert read_dataset(res["nc"]).attrs["augment"] == "none"


def test_training_slices_need_their_wildcards_and_pick_the_model():
    config = _small_config()
    st = get_step("operators.darcy_train")
    with pytest.raises(InputError, match="wildcard 'model'"):
        st.slice(config, {"n": "5"})
    with pytest.raises(InputError, match="wildcard model"):
        st.slice(config, {"model": "unet", "n": "5"})
    dcfg = st.slice(config, {"model": "deeponet", "n": "5"})
    assert dcfg["train"]["adam_steps"] == config["operators"]["darcy"]["steps"]["deeponet"] and "fno" not in dcfg
    assert dcfg["augment"] == config["operators"]["darcy"]["augment"].get("deeponet", "none")
    fcfg = st.slice(config, {"model": "fno", "n": "5"})
    assert fcfg["augment"] == config["operators"]["darcy"]["augment"]["fno"] == "d4"
    assert fcfg["train"]["adam_steps"] == config["operators"]["darcy"]["steps"]["fno"]
    ncfg = get_step("operators.neuralop_train").slice(config, {"impl": "sciml", "n": "7"})
    assert ncfg["implementation"] == "sciml" and ncfg["n_train"] == 7
    wcfg = get_step("operators.wave_train").slice(config, {"model": "fno_ray", "n": "3"})
    assert wcfg["fno"] == config["operators"]["wave"]["fno"] and wcfg["model"] == "fno_ray"
    with pytest.raises(InputError, match="wildcard model"):
        get_step("operators.wave_train").slice(config, {"model": "pino", "n": "3"})
    assert all(get_step(f"operators.{s}").device for s in ("darcy_train", "neuralop_train", "wave_train"))
    assert not any(get_step(f"operators.{s}").device for s in ("darcy_data", "wave_data", "darcy_figures"))
