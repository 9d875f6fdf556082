# Okada study: differentiable Okada (1992) model, fault-parameter and slip inversions (owner: Okada helper).
# Real-data cases (Parkfield, Tohoku) run when their shared files exist; synthetic cases always run.
OKADA = config["okada"]
# computing rules depend on the library but not on the figure module (figures rerun alone)
OKADA_CODE = [f for f in code("okada", "linear_inverse", "geo") if not f.endswith(os.path.join("okada", "plots.py"))] + [
    os.path.join(workflow.basedir, "sciml", "bayes", "hmc.py")]  # the only sciml.bayes module used (HMC)
OKADA_REAL = {
    "parkfield": [data_path(OKADA["parkfield"][k]) for k in ("gps", "fault")] if "parkfield" in OKADA else [],
    "tohoku": [data_path(OKADA["slip"]["tohoku"]["gps"])] if "tohoku" in OKADA["slip"] else [],
}
OKADA_INVERT_CASES = ["synthetic"] + (["parkfield"] if OKADA_REAL["parkfield"] and all(map(os.path.exists, OKADA_REAL["parkfield"])) else [])
OKADA_SLIP_CASES = ["synthetic"] + (["tohoku"] if OKADA_REAL["tohoku"] and all(map(os.path.exists, OKADA_REAL["tohoku"])) else [])

wildcard_constraints:
    okcase="synthetic|parkfield|tohoku",

STUDY_TARGETS["okada"] = (
    ["results/okada/figures/synthetic_maps.png", "results/okada/figures/sensitivity.png"]
    + [f"results/okada/figures/posterior_{c}.png" for c in OKADA_INVERT_CASES]
    + [f"results/okada/figures/slip_{c}.png" for c in OKADA_SLIP_CASES]
    + (["results/okada/figures/fit_parkfield.png"] if "parkfield" in OKADA_INVERT_CASES else [])
)


OKADA_GNSS = OKADA["synthetic"]["stations"].get("gnss")


rule okada_synthetic:
    """Noisy displacements of the configured fault at a station grid (or GNSS sites) + maps and sensitivities."""
    input:
        code=OKADA_CODE,
        stations=[f"results/gnss/{OKADA_GNSS}.nc"] if OKADA_GNSS else [],
    output:
        nc="results/okada/synthetic.nc",
    params:
        cfg=OKADA["synthetic"],
        nu=OKADA["nu"],
        seed=config["seed"],
        device=config["device"],
    log:
        LOG("okada_synthetic"),
    benchmark:
        BENCH("okada_synthetic")
    threads: 1
    resources:
        mem_mb=2000,
        runtime=10,
    conda:
        ENV
    script:
        "../../scripts/okada_synthetic.py"


rule okada_invert:
    """Fault parameters by Levenberg-Marquardt (autograd Jacobians), Laplace posterior, HMC check."""
    input:
        code=OKADA_CODE,
        data=lambda wc: ["results/okada/synthetic.nc"] if wc.okcase == "synthetic" else OKADA_REAL["parkfield"],
    output:
        nc="results/okada/invert_{okcase}.nc",
    params:
        case=lambda wc: wc.okcase,
        cfg=lambda wc: OKADA["invert"] if wc.okcase == "synthetic" else OKADA["parkfield"],
        nu=OKADA["nu"],
        seed=config["seed"],
        device=config["device"],
    log:
        LOG("okada_invert_{okcase}"),
    benchmark:
        BENCH("okada_invert_{okcase}")
    threads: 1
    resources:
        mem_mb=2000,
        runtime=20,
    conda:
        ENV
    script:
        "../../scripts/okada_invert.py"


rule okada_slip:
    """Distributed slip with Green's functions and Laplacian smoothing chosen by ABIC (sciml.linear_inverse)."""
    input:
        code=OKADA_CODE,
        data=lambda wc: OKADA_REAL["tohoku"] if wc.okcase == "tohoku" else [],
    output:
        nc="results/okada/slip_{okcase}.nc",
    params:
        case=lambda wc: wc.okcase,
        cfg=lambda wc: OKADA["slip"][wc.okcase],
        nu=OKADA["nu"],
        seed=config["seed"],
        device=config["device"],
    log:
        LOG("okada_slip_{okcase}"),
    benchmark:
        BENCH("okada_slip_{okcase}")
    threads: 1
    resources:
        mem_mb=3000,
        runtime=20,
    conda:
        ENV
    script:
        "../../scripts/okada_slip.py"


rule okada_figures_synthetic:
    """Displacement/strain maps and parameter-sensitivity maps of the synthetic fault."""
    input:
        code=code("okada", "plots"),
        nc="results/okada/synthetic.nc",
    output:
        maps=figure("results/okada/figures/synthetic_maps.png", "okada/synthetic_maps.rst"),
        sens=figure("results/okada/figures/sensitivity.png", "okada/sensitivity.rst"),
    params:
        kind="synthetic",
    log:
        LOG("okada_figures_synthetic"),
    conda:
        ENV
    script:
        "../../scripts/okada_figure.py"


rule okada_figure_posterior:
    """Corner plot of the HMC samples against the Laplace posterior and the truth (or published model)."""
    input:
        code=code("okada", "plots"),
        nc="results/okada/invert_{okcase}.nc",
    output:
        png=figure("results/okada/figures/posterior_{okcase}.png", "okada/posterior.rst"),
    params:
        kind="posterior",
    log:
        LOG("okada_figure_posterior_{okcase}"),
    conda:
        ENV
    script:
        "../../scripts/okada_figure.py"


rule okada_figure_slip:
    """Slip model against the truth (synthetic) or the Tohoku slip map (headline)."""
    input:
        code=code("okada", "plots"),
        nc="results/okada/slip_{okcase}.nc",
    output:
        png=figure("results/okada/figures/slip_{okcase}.png", "okada/slip.rst"),
    params:
        kind="slip",
    log:
        LOG("okada_figure_slip_{okcase}"),
    conda:
        ENV
    script:
        "../../scripts/okada_figure.py"


rule okada_figure_parkfield_fit:
    """Observed vs MAP and published-model horizontal offsets at the Parkfield GPS sites."""
    input:
        code=code("okada", "plots"),
        nc="results/okada/invert_parkfield.nc",
    output:
        png=figure("results/okada/figures/fit_parkfield.png", "okada/fit_parkfield.rst"),
    params:
        kind="fit",
    log:
        LOG("okada_figure_parkfield_fit"),
    conda:
        ENV
    script:
        "../../scripts/okada_figure.py"
