# PILM study: 1-D physics-informed linear model examples and GNSS strain rates (owner: PILM helper).
# Helper functions and constants: workflow/rules/helpers_pilm.smk.
wildcard_constraints:
    dataset="[A-Za-z0-9_]+",
    reg="elastic|smoothness",


STUDY_TARGETS["pilm"] = ["results/pilm/figures/examples_convergence.png"] + [
    f for d in PILM_DATASETS for f in pilm_figures(d)
]


rule pilm_examples:
    """1-D PILM problems (forward, uncertain BCs, inverse source, periodic) vs exact solutions."""
    input:
        code=code("pilm", "linear_inverse"),
    output:
        nc="results/pilm/examples.nc",
    params:
        cfg=PILM["examples"],
        seed=config["seed"],
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
        "../../scripts/pilm_examples.py"


rule pilm_examples_figure:
    """Convergence of the 1-D problems, uncertain-BC posterior and inverse-source recovery."""
    input:
        code=code("gnss", "plots"),
        nc="results/pilm/examples.nc",
    output:
        png=figure("results/pilm/figures/examples_convergence.png", "pilm/examples.rst"),
    log:
        LOG("pilm_examples_figure"),
    threads: 1
    resources:
        mem_mb=1000,
        runtime=5,
    conda:
        ENV
    script:
        "../../scripts/pilm_examples_figure.py"


rule gnss_ingest:
    """Read the dataset's GNSS velocity files into one tidy NetCDF (or the synthetic field)."""
    input:
        code=pilm_code("gnss", "geo"),
        sources=pilm_sources,
    output:
        nc="results/pilm/{dataset}/velocities.nc",
    params:
        cfg=pilm_dataset_cfg,
        seed=config["seed"],
    log:
        LOG("gnss_ingest_{dataset}"),
    benchmark:
        BENCH("gnss_ingest_{dataset}")
    threads: 1
    resources:
        mem_mb=1000,
        runtime=5,
    conda:
        ENV
    script:
        "../../scripts/gnss_ingest.py"


rule pilm_strain:
    """PILM velocity field and strain rates with one regularisation; weight and noise scale by ABIC."""
    input:
        code=pilm_code("gnss", "pilm", "linear_inverse", "geo"),
        velocities="results/pilm/{dataset}/velocities.nc",
    output:
        nc="results/pilm/{dataset}/strain_{reg}.nc",
    params:
        cfg=pilm_strain_cfg,
        seed=config["seed"],
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
        "../../scripts/pilm_strain.py"


rule gpsgridder_baseline:
    """GMT gpsgridder velocities and strain rates on the PILM output grid."""
    input:
        code=pilm_code("gnss", "geo"),
        velocities="results/pilm/{dataset}/velocities.nc",
    output:
        nc="results/pilm/{dataset}/gpsgridder.nc",
    params:
        cfg=pilm_strain_cfg,
        gpsgridder=PILM["gpsgridder"],
    log:
        LOG("gpsgridder_baseline_{dataset}"),
    benchmark:
        BENCH("gpsgridder_baseline_{dataset}")
    threads: 1
    resources:
        mem_mb=4000,
        runtime=60,
    conda:
        ENV
    script:
        "../../scripts/gpsgridder_baseline.py"


rule pilm_compare:
    """Evidence, ABIC, misfit and roughness of each regularisation and of gpsgridder; difference maps."""
    input:
        code=pilm_code("gnss"),
        velocities="results/pilm/{dataset}/velocities.nc",
        strains=expand("results/pilm/{{dataset}}/strain_{reg}.nc", reg=PILM_REGS),
        gpsgridder=pilm_gpsgridder,
    output:
        nc="results/pilm/{dataset}/compare.nc",
    params:
        regs=PILM_REGS,
        mask_km=pilm_mask_km,
    log:
        LOG("pilm_compare_{dataset}"),
    threads: 1
    resources:
        mem_mb=2000,
        runtime=5,
    conda:
        ENV
    script:
        "../../scripts/pilm_compare.py"


rule pilm_figures:
    """Velocity vectors, strain-rate maps with principal axes, evidence comparison, gpsgridder differences."""
    input:
        code=code("gnss", "plots"),
        velocities="results/pilm/{dataset}/velocities.nc",
        strains=expand("results/pilm/{{dataset}}/strain_{reg}.nc", reg=PILM_REGS),
        gpsgridder=pilm_gpsgridder,
        compare="results/pilm/{dataset}/compare.nc",
    output:
        velocities=figure("results/pilm/figures/{dataset}_velocities.png", "pilm/velocities.rst"),
        evidence=figure("results/pilm/figures/{dataset}_evidence.png", "pilm/evidence.rst"),
        strains=figure(expand("results/pilm/figures/{{dataset}}_strain_{reg}.png", reg=PILM_REGS), "pilm/strain.rst"),
        gpsgridder=figure(["results/pilm/figures/{dataset}_gpsgridder.png"] if PILM_GMT else [], "pilm/gpsgridder.rst"),
    params:
        regs=PILM_REGS,
        title=pilm_title,
        mask_km=pilm_mask_km,
    log:
        LOG("pilm_figures_{dataset}"),
    threads: 1
    resources:
        mem_mb=2000,
        runtime=5,
    conda:
        ENV
    script:
        "../../scripts/pilm_figures.py"
