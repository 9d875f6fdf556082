# Mogi study: volcanic inflation source from noisy surface displacements (the worked example of
# docs/adding-a-study.md). Steps in sciml/studies/mogi.py; config section `mogi` (workflow/schemas/mogi.schema.yaml).
STUDY_TARGETS["mogi"] = ["results/mogi/figures/fit.png"]


rule mogi_synthetic:
    """Noisy surface displacements of the true Mogi source at a station grid."""
    input:
        code=step_code("mogi.synthetic"),
    output:
        nc="results/mogi/data.nc",
    params:
        **step_params("mogi.synthetic"),
    log:
        LOG("mogi_synthetic"),
    benchmark:
        BENCH("mogi_synthetic")
    threads: 1
    resources:
        mem_mb=1000,
        runtime=5,
    conda:
        ENV
    script:
        RUN_STEP


rule mogi_invert:
    """Source position, depth and volume change by Gauss-Newton, with the Laplace covariance."""
    input:
        code=step_code("mogi.invert"),
        data="results/mogi/data.nc",
    output:
        nc="results/mogi/estimate.nc",
    params:
        **step_params("mogi.invert"),
    log:
        LOG("mogi_invert"),
    benchmark:
        BENCH("mogi_invert")
    threads: 1
    resources:
        mem_mb=1000,
        runtime=5,
    conda:
        ENV
    script:
        RUN_STEP


rule mogi_figure:
    """Observed, modelled and residual displacements of the Mogi inversion."""
    input:
        code=step_code("mogi.figure"),
        nc="results/mogi/estimate.nc",
    output:
        png=figure("results/mogi/figures/fit.png", "mogi/fit.rst"),
    params:
        **step_params("mogi.figure"),
    log:
        LOG("mogi_figure"),
    threads: 1
    resources:
        mem_mb=1000,
        runtime=5,
    conda:
        ENV
    script:
        RUN_STEP
