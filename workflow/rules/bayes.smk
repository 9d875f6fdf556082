# Functional-prior Bayesian PINNs (sciml.bayes): 1-D traveltime tomography and 2-D Darcy inversion.
# Steps in sciml/studies/bayes.py (study definitions TOMOGRAPHY and DARCY there); config section `bayes`
# (workflow/schemas/bayes.schema.yaml; docs/bayes.md). Per study (wildcard `study` = tomography | darcy):
# data -> FPI prior tuning -> one posterior per method -> comparison, in results/bayes_<study>/.
from sciml.studies.bayes import STUDIES as BAYES_STUDIES

for _bs in BAYES_STUDIES.values():
    STUDY_TARGETS[_bs.folder] = [
        f"results/{_bs.folder}/figures/{name}.png" for name in ("prior_samples", "posteriors", "comparison")
    ]


_BAYES_PICKS = config["bayes"]["tomography"]["picks"]  # null: synthetic picks through the velocity model


rule bayes_tomography_picks:
    """Picks from CSV/NetCDF, or synthetic picks through a crustal velocity model (ak135 by default)."""
    input:
        code=step_code("bayes.tomography_picks"),
        picks=[data_path(_BAYES_PICKS)] if _BAYES_PICKS else [],
        model=[] if _BAYES_PICKS else optional_data(config["bayes"]["tomography"]["synthetic"]["model"]),
    output:
        nc="results/bayes_tomography/picks.nc",
    params:
        **step_params("bayes.tomography_picks"),
    log:
        LOG("bayes_tomography_picks"),
    benchmark:
        BENCH("bayes_tomography_picks")
    threads: 1
    resources:
        mem_mb=1000,
        runtime=5,
    conda:
        ENV
    script:
        RUN_STEP


rule bayes_darcy_data:
    """Synthetic Darcy data: a GP-prior draw of log-permeability, pressures at sensor cells plus noise."""
    input:
        code=step_code("bayes.darcy_data"),
    output:
        nc="results/bayes_darcy/data.nc",
    params:
        **step_params("bayes.darcy_data"),
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
        RUN_STEP


rule bayes_fpi:
    """FPI: tune the RFF network's weight prior so that its function draws match the GP prior."""
    input:
        code=step_code("bayes.{study}_fpi"),
        data=lambda wc: BAYES_STUDIES[wc.study].data_file,
    output:
        nc="results/bayes_{study}/fpi_prior.nc",
        png=figure("results/bayes_{study}/figures/prior_samples.png", "bayes/prior_samples.rst"),
    wildcard_constraints:
        study="tomography|darcy",
    params:
        **step_params("bayes.{study}_fpi"),
    log:
        LOG("bayes_{study}_fpi"),
    benchmark:
        BENCH("bayes_{study}_fpi")
    threads: 1
    resources:
        mem_mb=2000,
        runtime=10,
    conda:
        ENV
    script:
        RUN_STEP


rule bayes_posterior:
    """One posterior method (reference, FPI-BPINN with HMC or SVGD, fParVI-PINN) with metrics vs the reference."""
    input:
        unpack(lambda wc: BAYES_STUDIES[wc.study].posterior_inputs(wc.method)),
        code=step_code("bayes.{study}_posterior_{method}"),
    output:
        nc="results/bayes_{study}/posterior_{method}.nc",
    wildcard_constraints:
        study="tomography|darcy",
        method="exact|pcn|fpi_bpinn_hmc|fpi_bpinn_svgd|fparvi",
    params:
        **step_params("bayes.{study}_posterior_{method}"),
    log:
        LOG("bayes_{study}_posterior_{method}"),
    benchmark:
        BENCH("bayes_{study}_posterior_{method}")
    threads: 1
    resources:
        mem_mb=2000,
        runtime=30,
    conda:
        ENV
    script:
        RUN_STEP


rule bayes_compare:
    """Metrics table (compute time from each posterior's provenance record), posterior and cost figures."""
    input:
        code=step_code("bayes.{study}_compare"),
        posteriors=lambda wc: BAYES_STUDIES[wc.study].posterior_files,
    output:
        nc="results/bayes_{study}/comparison.nc",
        posteriors=figure("results/bayes_{study}/figures/posteriors.png", "bayes/posteriors.rst"),
        comparison=figure("results/bayes_{study}/figures/comparison.png", "bayes/comparison.rst"),
    wildcard_constraints:
        study="tomography|darcy",
    params:
        **step_params("bayes.{study}_compare"),
    log:
        LOG("bayes_{study}_compare"),
    benchmark:
        BENCH("bayes_{study}_compare")
    threads: 1
    resources:
        mem_mb=2000,
        runtime=5,
    conda:
        ENV
    script:
        RUN_STEP
