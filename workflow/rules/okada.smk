# Okada study: differentiable Okada (1992) model, fault-parameter and slip inversions (docs/okada.md).
# Steps in sciml/studies/okada.py; config section `okada` (defaults: workflow/schemas/okada.schema.yaml).
# Real-data cases (Parkfield 2004, Tohoku 2011) run when their shared files exist; synthetic cases always run.
OKADA = config["okada"]
OKADA_PARKFIELD = {k: data_path(OKADA["parkfield"][k]) for k in ("gps", "fault")}
OKADA_TOHOKU = {"gps": data_path(OKADA["slip"]["tohoku"]["gps"]),
                "mesh_nodes": data_path(OKADA["slip"]["tohoku"]["mesh"]["nodes"]),
                "mesh_faces": data_path(OKADA["slip"]["tohoku"]["mesh"]["faces"])}
OKADA_INVERT_CASES = ["synthetic"] + (["parkfield"] if all(map(os.path.exists, OKADA_PARKFIELD.values())) else [])
OKADA_SLIP_CASES = ["synthetic"] + (["tohoku"] if all(map(os.path.exists, OKADA_TOHOKU.values())) else [])
# okada.synthetic.stations.gnss names a PILM dataset: its ingested sites come from the PILM rule pilm_ingest
OKADA_GNSS = OKADA["synthetic"]["stations"]["gnss"]
_PILM_DATASETS = sorted(config["pilm"].get("datasets", {}))
if OKADA_GNSS is not None and OKADA_GNSS not in _PILM_DATASETS:
    raise WorkflowError(f"config okada.synthetic.stations: field 'gnss' = {OKADA_GNSS!r}: not a PILM dataset "
                        f"(pilm.datasets has {_PILM_DATASETS})")

wildcard_constraints:
    okcase="synthetic|parkfield|tohoku",

STUDY_TARGETS["okada"] = (
    ["results/okada/figures/synthetic_maps.png", "results/okada/figures/sensitivity.png"]
    + [f"results/okada/figures/posterior_{c}.png" for c in OKADA_INVERT_CASES]
    + [f"results/okada/figures/slip_{c}.png" for c in OKADA_SLIP_CASES]
    + (["results/okada/figures/fit_parkfield.png"] if "parkfield" in OKADA_INVERT_CASES else [])
    + (["results/okada/figures/slip_resolution_tohoku.png", "results/okada/figures/slip_sensitivity_tohoku.png"]
       if "tohoku" in OKADA_SLIP_CASES else [])
)


rule okada_synthetic:
    """Noisy displacements of the configured fault at a station grid (or GNSS sites) + maps and sensitivities."""
    input:
        code=step_code("okada.synthetic"),
        stations=[f"results/pilm/{OKADA_GNSS}/velocities.nc"] if OKADA_GNSS else [],
    output:
        nc="results/okada/synthetic.nc",
    params:
        **step_params("okada.synthetic"),
    log:
        LOG("okada_synthetic"),
    benchmark:
        BENCH("okada_synthetic")
    threads: 1
    resources:
        mem_mb=3000,  # paper scale (201 x 201 maps, 8 sensitivities): 2.1 GB measured
        runtime=10,
    conda:
        ENV
    script:
        RUN_STEP


rule okada_invert:
    """Fault parameters of the synthetic case by Levenberg-Marquardt, Laplace posterior and an HMC check."""
    input:
        code=step_code("okada.invert"),
        data="results/okada/synthetic.nc",
    output:
        nc="results/okada/invert_synthetic.nc",
    params:
        **step_params("okada.invert"),
    log:
        LOG("okada_invert_synthetic"),
    benchmark:
        BENCH("okada_invert_synthetic")
    threads: 1
    resources:
        mem_mb=2000,
        runtime=20,
    conda:
        ENV
    script:
        RUN_STEP


rule okada_invert_parkfield:
    """Fault parameters of the 2004 Parkfield earthquake from GPS offsets (LM, Laplace, HMC)."""
    input:
        code=step_code("okada.invert_parkfield"),
        gps=OKADA_PARKFIELD["gps"],
        fault=OKADA_PARKFIELD["fault"],
    output:
        nc="results/okada/invert_parkfield.nc",
    params:
        **step_params("okada.invert_parkfield"),
    log:
        LOG("okada_invert_parkfield"),
    benchmark:
        BENCH("okada_invert_parkfield")
    threads: 1
    resources:
        mem_mb=2000,
        runtime=20,
    conda:
        ENV
    script:
        RUN_STEP


rule okada_slip:
    """Distributed slip from synthetic data, Laplacian smoothing chosen by ABIC (sciml.linear_inverse)."""
    input:
        code=step_code("okada.slip"),
    output:
        nc="results/okada/slip_synthetic.nc",
    params:
        **step_params("okada.slip"),
    log:
        LOG("okada_slip_synthetic"),
    benchmark:
        BENCH("okada_slip_synthetic")
    threads: 1
    resources:
        mem_mb=3000,
        runtime=20,
    conda:
        ENV
    script:
        RUN_STEP


rule okada_slip_tohoku:
    """Tohoku 2011 slip on the Slab 2.0 interface (TDE) or a plane: positivity, C_p, ABIC-marginalised weight."""
    input:
        code=step_code("okada.slip_tohoku"),
        **OKADA_TOHOKU,
    output:
        nc="results/okada/slip_tohoku.nc",
    params:
        **step_params("okada.slip_tohoku"),
    log:
        LOG("okada_slip_tohoku"),
    benchmark:
        BENCH("okada_slip_tohoku")
    threads: 1
    resources:
        mem_mb=3000,
        runtime=60,  # paper scale (619 patches, 2000 exact-HMC draws): 38.6 min measured on one loaded core
    conda:
        ENV
    script:
        RUN_STEP


rule okada_slip_sensitivity:
    """The Tohoku MAP inversion re-run per variant of okada.slip.sensitivity: which choice sets the peak slip."""
    input:
        code=step_code("okada.slip_sensitivity"),
        **OKADA_TOHOKU,
    output:
        nc="results/okada/slip_sensitivity_tohoku.nc",
    params:
        **step_params("okada.slip_sensitivity"),
    log:
        LOG("okada_slip_sensitivity"),
    benchmark:
        BENCH("okada_slip_sensitivity")
    threads: 1
    resources:
        mem_mb=3000,
        runtime=60,  # default: 7 variants x ~20 s (159 patches); paper scale (619 patches) several minutes each
    conda:
        ENV
    script:
        RUN_STEP


rule okada_figure_slip_sensitivity:
    """MAP peak slip of each Tohoku sensitivity variant against the published range; ABIC against the default."""
    input:
        code=step_code("okada.figure_slip_sensitivity"),
        nc="results/okada/slip_sensitivity_tohoku.nc",
    output:
        png=figure("results/okada/figures/slip_sensitivity_tohoku.png", "okada/slip_sensitivity.rst"),
    params:
        **step_params("okada.figure_slip_sensitivity"),
    log:
        LOG("okada_figure_slip_sensitivity"),
    threads: 1
    resources:
        mem_mb=1000,
        runtime=10,
    conda:
        ENV
    script:
        RUN_STEP


rule okada_slip_resolution:
    """Checkerboard and spike resolution tests on the Tohoku model's patches, stations and covariance."""
    input:
        code=step_code("okada.slip_resolution"),
        nc="results/okada/slip_tohoku.nc",
    output:
        nc="results/okada/slip_resolution_tohoku.nc",
    params:
        **step_params("okada.slip_resolution"),
    log:
        LOG("okada_slip_resolution"),
    benchmark:
        BENCH("okada_slip_resolution")
    threads: 1
    resources:
        mem_mb=2000,
        runtime=20,
    conda:
        ENV
    script:
        RUN_STEP


rule okada_figure_slip_resolution:
    """True and recovered slip of the checkerboard and spike tests on the Tohoku patches."""
    input:
        code=step_code("okada.figure_slip_resolution"),
        nc="results/okada/slip_resolution_tohoku.nc",
    output:
        png=figure("results/okada/figures/slip_resolution_tohoku.png", "okada/slip_resolution.rst"),
    params:
        **step_params("okada.figure_slip_resolution"),
    log:
        LOG("okada_figure_slip_resolution"),
    threads: 1
    resources:
        mem_mb=1000,
        runtime=10,
    conda:
        ENV
    script:
        RUN_STEP


rule okada_figures_synthetic:
    """Displacement/strain maps and parameter-sensitivity maps of the synthetic fault."""
    input:
        code=step_code("okada.figures_synthetic"),
        nc="results/okada/synthetic.nc",
    output:
        maps=figure("results/okada/figures/synthetic_maps.png", "okada/synthetic_maps.rst"),
        sens=figure("results/okada/figures/sensitivity.png", "okada/sensitivity.rst"),
    params:
        **step_params("okada.figures_synthetic"),
    log:
        LOG("okada_figures_synthetic"),
    threads: 1
    resources:
        mem_mb=1000,
        runtime=10,
    conda:
        ENV
    script:
        RUN_STEP


rule okada_figure_posterior:
    """Corner plot of the HMC samples against the Laplace posterior and the truth (or published model)."""
    input:
        code=step_code("okada.figure_posterior"),
        nc="results/okada/invert_{okcase}.nc",
    output:
        png=figure("results/okada/figures/posterior_{okcase}.png", "okada/posterior.rst"),
    params:
        **step_params("okada.figure_posterior"),
    log:
        LOG("okada_figure_posterior_{okcase}"),
    threads: 1
    resources:
        mem_mb=1000,
        runtime=10,
    conda:
        ENV
    script:
        RUN_STEP


rule okada_figure_slip:
    """Slip model against the truth (synthetic) or the Tohoku slip map (headline)."""
    input:
        code=step_code("okada.figure_slip"),
        nc="results/okada/slip_{okcase}.nc",
    output:
        png=figure("results/okada/figures/slip_{okcase}.png", "okada/slip.rst"),
    params:
        **step_params("okada.figure_slip"),
    log:
        LOG("okada_figure_slip_{okcase}"),
    threads: 1
    resources:
        mem_mb=1000,
        runtime=10,
    conda:
        ENV
    script:
        RUN_STEP


rule okada_figure_parkfield_fit:
    """Observed vs MAP and published-model horizontal offsets at the Parkfield GPS sites."""
    input:
        code=step_code("okada.figure_parkfield_fit"),
        nc="results/okada/invert_parkfield.nc",
    output:
        png=figure("results/okada/figures/fit_parkfield.png", "okada/fit_parkfield.rst"),
    params:
        **step_params("okada.figure_parkfield_fit"),
    log:
        LOG("okada_figure_parkfield_fit"),
    threads: 1
    resources:
        mem_mb=1000,
        runtime=10,
    conda:
        ENV
    script:
        RUN_STEP
