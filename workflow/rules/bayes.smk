# Functional-prior Bayesian PINNs (sciml.bayes): 1-D traveltime tomography and 2-D Darcy inversion.
# Per study: data -> FPI prior tuning -> one posterior rule per method -> comparison (accuracy vs cost).
BAYES_STUDIES = {
    # study key in config["bayes"] -> (results folder / target name, reference method, methods)
    "tomography": ("tomography", "exact", ["exact", "fpi_bpinn_hmc", "fpi_bpinn_svgd", "fparvi"]),
    "darcy": ("bayes_darcy", "pcn", ["pcn", "fpi_bpinn_hmc", "fpi_bpinn_svgd", "fparvi"]),
}
BAYES_CODE = code("bayes", "gp", "nn", "plots") + [os.path.join(workflow.basedir, "sciml", "forward", "darcy.py")]

for _key, (_dir, _ref, _methods) in BAYES_STUDIES.items():
    if _key in config["bayes"]:
        STUDY_TARGETS[_dir] = [
            f"results/{_dir}/figures/prior_samples.png",
            f"results/{_dir}/figures/posteriors.png",
            f"results/{_dir}/figures/comparison.png",
        ]


rule tomography_picks:
    """Picks from CSV/NetCDF, or synthetic picks through a crustal velocity model (ak135 by default)."""
    input:
        code=BAYES_CODE,
        picks=lambda wc: tomography_picks_input(wc),
        model=lambda wc: tomography_model_input(wc),
    output:
        nc="results/tomography/picks.nc",
    params:
        cfg=config["bayes"].get("tomography", {}),
        seed=config["seed"],
        device=config["device"],
    log:
        LOG("tomography_picks"),
    benchmark:
        BENCH("tomography_picks")
    threads: 1
    resources:
        mem_mb=1000,
        runtime=5,
    conda:
        ENV
    script:
        "../../scripts/tomography_picks.py"


rule bayes_darcy_data:
    """Synthetic Darcy data: a GP-prior draw of log-permeability, pressures at sensor cells plus noise."""
    input:
        code=BAYES_CODE,
    output:
        nc="results/bayes_darcy/data.nc",
    params:
        cfg=config["bayes"].get("darcy", {}),
        seed=config["seed"],
        device=config["device"],
    log:
        LOG("bayes_darcy_data"),
    benchmark:
        BENCH("bayes_darcy_data")
    threads: 1
    resources:
        mem_mb=1000,
        runtime=5,
    conda:
        ENV
    script:
        "../../scripts/bayes_darcy_data.py"


rule bayes_fpi:
    """FPI: tune the RFF network's weight prior so that its function draws match the GP prior."""
    input:
        code=BAYES_CODE,
        data=lambda wc: _bayes_fpi_input(wc),
    output:
        nc="results/{bstudy}/fpi_prior.nc",
        png=figure("results/{bstudy}/figures/prior_samples.png", "bayes/prior_samples.rst"),
    wildcard_constraints:
        bstudy="tomography|bayes_darcy",
    params:
        cfg=lambda wc: config["bayes"][_bayes_key(wc.bstudy)],
        study=lambda wc: _bayes_key(wc.bstudy),
        seed=config["seed"],
        device=config["device"],
    log:
        LOG("{bstudy}_fpi"),
    benchmark:
        BENCH("{bstudy}_fpi")
    threads: 1
    resources:
        mem_mb=2000,
        runtime=10,
    conda:
        ENV
    script:
        "../../scripts/bayes_fpi.py"


rule bayes_posterior:
    """One posterior method (reference, FPI-BPINN with HMC or SVGD, fParVI-PINN) with metrics vs the reference."""
    input:
        unpack(lambda wc: _bayes_posterior_inputs(wc)),
        code=BAYES_CODE,
        data=lambda wc: _bayes_fpi_input(wc),
    output:
        nc="results/{bstudy}/posterior_{method}.nc",
    wildcard_constraints:
        bstudy="tomography|bayes_darcy",
        method="exact|pcn|fpi_bpinn_hmc|fpi_bpinn_svgd|fparvi",
    params:
        cfg=lambda wc: config["bayes"][_bayes_key(wc.bstudy)],
        study=lambda wc: _bayes_key(wc.bstudy),
        method=lambda wc: wc.method,
        seed=config["seed"],
        device=config["device"],
    log:
        LOG("{bstudy}_posterior_{method}"),
    benchmark:
        BENCH("{bstudy}_posterior_{method}")
    threads: 1
    resources:
        mem_mb=2000,
        runtime=30,
    conda:
        ENV
    script:
        "../../scripts/bayes_posterior.py"


rule bayes_compare:
    """Metrics table, posterior figure and accuracy-versus-cost figure of one study."""
    input:
        code=BAYES_CODE,
        posteriors=lambda wc: [f"results/{wc.bstudy}/posterior_{m}.nc" for m in _bayes_methods(wc.bstudy)],
        bench=lambda wc: [BENCH(f"{wc.bstudy}_posterior_{m}") for m in _bayes_methods(wc.bstudy)],
    output:
        nc="results/{bstudy}/comparison.nc",
        posteriors=figure("results/{bstudy}/figures/posteriors.png", "bayes/posteriors.rst"),
        comparison=figure("results/{bstudy}/figures/comparison.png", "bayes/comparison.rst"),
    wildcard_constraints:
        bstudy="tomography|bayes_darcy",
    params:
        cfg=lambda wc: config["bayes"][_bayes_key(wc.bstudy)],
        study=lambda wc: _bayes_key(wc.bstudy),
        methods=lambda wc: _bayes_methods(wc.bstudy),
        seed=config["seed"],
        device=config["device"],
    log:
        LOG("{bstudy}_compare"),
    benchmark:
        BENCH("{bstudy}_compare")
    threads: 1
    resources:
        mem_mb=2000,
        runtime=5,
    conda:
        ENV
    script:
        "../../scripts/bayes_compare.py"
