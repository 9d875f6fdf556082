# PILM study: 1-D physics-informed linear model examples and GNSS strain rates.
# Steps in sciml/studies/pilm.py; config section `pilm` (workflow/schemas/pilm.schema.yaml).
import importlib.util
import shutil

PILM = config["pilm"]
PILM_DATASETS = list(PILM["datasets"])
PILM_REGS = list(PILM["regularizations"])
PILM_GMT = shutil.which("gmt") is not None  # gpsgridder baseline only when GMT is installed
PILM_VERDE = importlib.util.find_spec("verde") is not None  # Verde baseline only when verde is installed
PILM_FIG = "results/pilm/figures"
# dataset -> its velocity files when all exist, else [] (pilm.ingest then uses the synthetic field)
PILM_SOURCES = {
    d: paths if paths and all(os.path.exists(p) for p in paths) else []
    for d, paths in ((d, [data_path(s["path"]) for s in ds["sources"]]) for d, ds in PILM["datasets"].items())
}


wildcard_constraints:
    dataset="[A-Za-z0-9_]+",
    reg="elastic|smoothness",


STUDY_TARGETS["pilm"] = [f"{PILM_FIG}/examples_convergence.png"] + [
    f
    for d in PILM_DATASETS
    for f in [f"{PILM_FIG}/{d}_velocities.png", f"{PILM_FIG}/{d}_evidence.png"]
    + [f"{PILM_FIG}/{d}_strain_{r}.png" for r in PILM_REGS]
    + ([f"{PILM_FIG}/{d}_gpsgridder.png"] if PILM_GMT else [])
]


rule pilm_examples:
    """1-D PILM problems (forward, uncertain BCs, inverse source, periodic) vs exact solutions."""
    input:
        code=step_code("pilm.examples"),
    output:
        nc="results/pilm/examples.nc",
    params:
        **step_params("pilm.examples"),
    log:
        LOG("pilm_examples"),
    benchmark:
        BENCH("pilm_examples")
    threads: 1
    resources:
        mem_mb=1000,
        runtime=10,
    conda:
        ENV
    script:
        RUN_STEP


rule pilm_examples_figure:
    """Convergence of the 1-D problems, uncertain-BC posterior and inverse-source recovery."""
    input:
        code=step_code("pilm.examples_figure"),
        nc="results/pilm/examples.nc",
    output:
        png=figure(f"{PILM_FIG}/examples_convergence.png", "pilm/examples.rst"),
    params:
        **step_params("pilm.examples_figure"),
    log:
        LOG("pilm_examples_figure"),
    threads: 1
    resources:
        mem_mb=1000,
        runtime=5,
    conda:
        ENV
    script:
        RUN_STEP


rule pilm_ingest:
    """Read the dataset's GNSS velocity files into one tidy NetCDF (or the synthetic field when absent)."""
    input:
        code=step_code("pilm.ingest"),
        sources=lambda wc: PILM_SOURCES[wc.dataset],
    output:
        nc="results/pilm/{dataset}/velocities.nc",
    params:
        **step_params("pilm.ingest"),
    log:
        LOG("pilm_ingest_{dataset}"),
    benchmark:
        BENCH("pilm_ingest_{dataset}")
    threads: 1
    resources:
        mem_mb=1000,
        runtime=5,
    conda:
        ENV
    script:
        RUN_STEP


rule pilm_strain:
    """PILM velocity field and strain rates with one regularisation; weight and noise scale by ABIC."""
    input:
        code=step_code("pilm.strain"),
        velocities="results/pilm/{dataset}/velocities.nc",
    output:
        nc="results/pilm/{dataset}/strain_{reg}.nc",
        strain2d="results/pilm/{dataset}/strain2d_{reg}.nc",
    params:
        **step_params("pilm.strain"),
    log:
        LOG("pilm_strain_{dataset}_{reg}"),
    benchmark:
        BENCH("pilm_strain_{dataset}_{reg}")
    threads: 1
    resources:
        mem_mb=4000,
        runtime=30,
    conda:
        ENV
    script:
        RUN_STEP


rule pilm_gpsgridder:
    """GMT gpsgridder velocities and strain rates on the PILM output grid."""
    input:
        code=step_code("pilm.gpsgridder"),
        velocities="results/pilm/{dataset}/velocities.nc",
    output:
        nc="results/pilm/{dataset}/gpsgridder.nc",
    params:
        **step_params("pilm.gpsgridder"),
    log:
        LOG("pilm_gpsgridder_{dataset}"),
    benchmark:
        BENCH("pilm_gpsgridder_{dataset}")
    threads: 1
    resources:
        mem_mb=4000,
        runtime=60,
    conda:
        ENV
    script:
        RUN_STEP


rule pilm_verde:
    """Verde VectorSpline2D velocities and strain rates on the PILM output grid (second baseline)."""
    input:
        code=step_code("pilm.verde"),
        velocities="results/pilm/{dataset}/velocities.nc",
    output:
        nc="results/pilm/{dataset}/verde.nc",
    params:
        **step_params("pilm.verde"),
    log:
        LOG("pilm_verde_{dataset}"),
    threads: 1
    resources:
        mem_mb=4000,
        runtime=30,
    conda:
        ENV
    script:
        RUN_STEP


rule pilm_compare:
    """Evidence, ABIC, misfit and roughness of each regularisation and of gpsgridder; difference maps."""
    input:
        code=step_code("pilm.compare"),
        velocities="results/pilm/{dataset}/velocities.nc",
        strains=expand("results/pilm/{{dataset}}/strain_{reg}.nc", reg=PILM_REGS),
        gpsgridder=["results/pilm/{dataset}/gpsgridder.nc"] if PILM_GMT else [],
        verde=["results/pilm/{dataset}/verde.nc"] if PILM_VERDE else [],
    output:
        nc="results/pilm/{dataset}/compare.nc",
    params:
        **step_params("pilm.compare"),
    log:
        LOG("pilm_compare_{dataset}"),
    threads: 1
    resources:
        mem_mb=2000,
        runtime=5,
    conda:
        ENV
    script:
        RUN_STEP


rule pilm_figures:
    """Velocity vectors, strain-rate maps with principal axes, evidence comparison, gpsgridder differences."""
    input:
        code=step_code("pilm.figures"),
        velocities="results/pilm/{dataset}/velocities.nc",
        strains=expand("results/pilm/{{dataset}}/strain_{reg}.nc", reg=PILM_REGS),
        gpsgridder=["results/pilm/{dataset}/gpsgridder.nc"] if PILM_GMT else [],
        compare="results/pilm/{dataset}/compare.nc",
    output:
        velocities=figure(f"{PILM_FIG}/{{dataset}}_velocities.png", "pilm/velocities.rst"),
        evidence=figure(f"{PILM_FIG}/{{dataset}}_evidence.png", "pilm/evidence.rst"),
        strains=figure(expand(f"{PILM_FIG}/{{{{dataset}}}}_strain_{{reg}}.png", reg=PILM_REGS), "pilm/strain.rst"),
        gpsgridder=figure([f"{PILM_FIG}/{{dataset}}_gpsgridder.png"] if PILM_GMT else [], "pilm/gpsgridder.rst"),
    params:
        **step_params("pilm.figures"),
    log:
        LOG("pilm_figures_{dataset}"),
    threads: 1
    resources:
        mem_mb=2000,
        runtime=5,
    conda:
        ENV
    script:
        RUN_STEP
