# OkadaTorch study: the seven notebooks of the OkadaTorch paper (Someya et al. 2025) on sciml's kernels.
# Steps in sciml/studies/okadatorch.py; config section `okadatorch` (workflow/schemas/okadatorch.schema.yaml).
STUDY_TARGETS["okadatorch"] = [
    "results/okadatorch/figures/kernels.png",
    "results/okadatorch/figures/wrapper.png",
    "results/okadatorch/figures/derivatives.png",
    "results/okadatorch/figures/optimize.png",
    "results/okadatorch/figures/posterior.png",
]


rule okadatorch_maps:
    """OkadaTorch notebooks 1-5: kernel and wrapper maps, station and parameter derivatives."""
    input:
        code=step_code("okadatorch.maps"),
    output:
        nc="results/okadatorch/maps.nc",
    params:
        **step_params("okadatorch.maps"),
    log:
        LOG("okadatorch_maps"),
    benchmark:
        BENCH("okadatorch_maps")
    threads: 1
    resources:
        mem_mb=4000,
        runtime=20,
    conda:
        ENV
    script:
        RUN_STEP

rule okadatorch_data:
    """OkadaTorch notebooks 6-7: the 25 x 25 station grid and noisy observations."""
    input:
        code=step_code("okadatorch.data"),
    output:
        nc="results/okadatorch/data.nc",
    params:
        **step_params("okadatorch.data"),
    log:
        LOG("okadatorch_data"),
    benchmark:
        BENCH("okadatorch_data")
    threads: 1
    resources:
        mem_mb=1000,
        runtime=5,
    conda:
        ENV
    script:
        RUN_STEP

rule okadatorch_optimize:
    """Notebook 6 by Levenberg-Marquardt and the Laplace approximation."""
    input:
        code=step_code("okadatorch.optimize"),
        data="results/okadatorch/data.nc",
    output:
        nc="results/okadatorch/optimize.nc",
    params:
        **step_params("okadatorch.optimize"),
    log:
        LOG("okadatorch_optimize"),
    benchmark:
        BENCH("okadatorch_optimize")
    threads: 1
    resources:
        mem_mb=2000,
        runtime=10,
    conda:
        ENV
    script:
        RUN_STEP

rule okadatorch_bayes:
    """Notebook 7's posterior from a cold start: LM -> Laplace -> batched HMC."""
    input:
        code=step_code("okadatorch.bayes"),
        data="results/okadatorch/data.nc",
    output:
        nc="results/okadatorch/bayes.nc",
    params:
        **step_params("okadatorch.bayes"),
    log:
        LOG("okadatorch_bayes"),
    benchmark:
        BENCH("okadatorch_bayes")
    threads: 1
    resources:
        mem_mb=2000,
        runtime=20,
    conda:
        ENV
    script:
        RUN_STEP

rule okadatorch_figure_maps:
    """Notebooks 1-5's figures."""
    input:
        code=step_code("okadatorch.figure_maps"),
        nc="results/okadatorch/maps.nc",
    output:
        kernels=figure("results/okadatorch/figures/kernels.png", "okadatorch/kernels.rst"),
        wrapper=figure("results/okadatorch/figures/wrapper.png", "okadatorch/wrapper.rst"),
        derivatives=figure("results/okadatorch/figures/derivatives.png", "okadatorch/derivatives.rst"),
    params:
        **step_params("okadatorch.figure_maps"),
    log:
        LOG("okadatorch_figure_maps"),
    threads: 1
    resources:
        mem_mb=2000,
        runtime=10,
    conda:
        ENV
    script:
        RUN_STEP

rule okadatorch_figure_optimize:
    """Notebook 6's figure."""
    input:
        code=step_code("okadatorch.figure_optimize"),
        nc="results/okadatorch/optimize.nc",
    output:
        png=figure("results/okadatorch/figures/optimize.png", "okadatorch/optimize.rst"),
    params:
        **step_params("okadatorch.figure_optimize"),
    log:
        LOG("okadatorch_figure_optimize"),
    threads: 1
    resources:
        mem_mb=1000,
        runtime=5,
    conda:
        ENV
    script:
        RUN_STEP

rule okadatorch_figure_posterior:
    """Notebook 7's figure."""
    input:
        code=step_code("okadatorch.figure_posterior"),
        nc="results/okadatorch/bayes.nc",
    output:
        png=figure("results/okadatorch/figures/posterior.png", "okadatorch/posterior.rst"),
    params:
        **step_params("okadatorch.figure_posterior"),
    log:
        LOG("okadatorch_figure_posterior"),
    threads: 1
    resources:
        mem_mb=1000,
        runtime=5,
    conda:
        ENV
    script:
        RUN_STEP
