"""The Bayesian study steps run outside Snakemake through the one writer (sciml.studies.run.run_step):
picks -> exact reference -> fParVI posterior -> comparison, on a small tomography configuration."""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import pytest

from sciml import config as C
from sciml.io.netcdf import metrics_of, read_dataset, read_provenance, validate_file
from sciml.studies import get_step
from sciml.studies.run import run_step
from bayes_threads import one_torch_thread  # noqa: F401  (autouse fixture)

AK135 = Path(__file__).resolve().parents[2] / "shared" / "data" / "velocity_models" / "ak135.tvel"
SMALL = ["bayes.tomography.grid.n=21", "bayes.tomography.exact.samples=1000", "bayes.tomography.fparvi.particles=40",
         "bayes.tomography.fparvi.steps=100"]


def _run(name: str, config: dict, tmp: Path, inputs: dict, outputs: dict) -> dict:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the built-in ak135 crust when the model file is absent
        return run_step(name, get_step(name).slice(config), seed=config["seed"], inputs=inputs,
                        outputs={k: str(tmp / v) for k, v in outputs.items()})


def test_tomography_steps_run_outside_snakemake(tmp_path: Path) -> None:
    config = C.load(overrides=SMALL)
    picks = _run("bayes.tomography_picks", config, tmp_path, {"model": [str(AK135)] if AK135.is_file() else []},
                 {"nc": "picks.nc"})["nc"]
    exact = _run("bayes.tomography_posterior_exact", config, tmp_path, {"data": picks}, {"nc": "exact.nc"})["nc"]
    fparvi = _run("bayes.tomography_posterior_fparvi", config, tmp_path, {"data": picks, "ref": exact},
                  {"nc": "fparvi.nc"})["nc"]
    out = _run("bayes.tomography_compare", config, tmp_path, {"posteriors": [exact, fparvi]},
               {"nc": "comparison.nc", "posteriors": "posteriors.png", "comparison": "comparison.png"})
    for path in (picks, exact, fparvi, out["nc"]):
        assert validate_file(path) == [], path
    prov = read_provenance(fparvi)
    assert prov["step"] == "bayes.tomography_posterior_fparvi" and "device" not in prov["params"]
    assert prov["params"]["cfg"]["fparvi"]["particles"] == 40 and set(prov["params"]["cfg"]) == {
        "grid", "level", "network", "fparvi"}
    assert [Path(i["path"]).name for i in prov["inputs"]] == ["picks.nc", "exact.nc"]

    ex = read_dataset(exact)
    assert ex.sizes == {"sample": 1000, "x": 21} and ex.attrs["moments"] == "analytic"
    m = metrics_of(ex)
    # sample moments of 1000 exact draws against the analytic ones: sampling error ~3 % (std), ~1 % (mean)
    assert m["rel_err_mean"][0] < 0.05 and m["rel_err_std"][0] < 0.1 and m["coverage"][0] >= 0.9
    assert m["rmse_truth"][1] == "s/km" and m["method_wall_s"][1] == "s"
    fp = metrics_of(read_dataset(fparvi))
    assert {"rel_err_mean", "coverage", "n_particles", "network_n_params", "sampler_wall_s"} <= set(fp)
    assert fp["n_particles"][0] == 40 and fp["network_n_params"][0] == 2 * 128 + 1

    table = read_dataset(out["nc"])
    assert list(table["method"].values) == ["exact", "fparvi"]
    walls = [read_provenance(p)["compute_seconds"] for p in (exact, fparvi)]
    np.testing.assert_allclose(table["wall_time"].values, walls)
    np.testing.assert_allclose(table["rel_err_mean"].values, [m["rel_err_mean"][0], fp["rel_err_mean"][0]])
    assert Path(out["posteriors"]).stat().st_size > 0 and Path(out["comparison"]).stat().st_size > 0


def test_posterior_step_refuses_a_missing_reference_port(tmp_path: Path) -> None:
    from sciml.errors import InputError

    with pytest.raises(InputError, match="input 'ref' not given"):
        run_step("bayes.darcy_posterior_fparvi", {}, seed=0, inputs={"data": "x.nc"},
                 outputs={"nc": str(tmp_path / "p.nc")})


def test_rule_inputs_match_the_step_ports() -> None:
    """The inputs the rules give each posterior step (Study.posterior_inputs) are exactly its declared ports,
    for every study and method; unknown methods are named."""
    from sciml.errors import InputError
    from sciml.studies.bayes import STUDIES

    for study in STUDIES.values():
        for method in study.methods:
            st = get_step(f"bayes.{study.key}_posterior_{method}")
            assert set(study.posterior_inputs(method)) == {p.name for p in st.inputs}, (study.key, method)
            assert not st.device and not st.dtype
        assert study.posterior_files[0].endswith(f"bayes_{study.key}/posterior_{study.reference}.nc")
    with pytest.raises(InputError, match="'method' = 'exact'"):
        STUDIES["darcy"].posterior_inputs("exact")
