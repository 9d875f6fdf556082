# Helpers of the PILM study (workflow/rules/pilm.smk). Named helpers_pilm.smk so that the Snakefile's
# sorted include loads it before pilm.smk.
import shutil

PILM = config["pilm"]
PILM_DATASETS = list(PILM["datasets"])
PILM_REGS = list(PILM["regularizations"])
PILM_GMT = shutil.which("gmt") is not None  # gpsgridder baseline only when GMT is installed


def pilm_figures(d):
    """Figures of one dataset."""
    figs = [f"results/pilm/figures/{d}_velocities.png", f"results/pilm/figures/{d}_evidence.png"]
    figs += [f"results/pilm/figures/{d}_strain_{r}.png" for r in PILM_REGS]
    if PILM_GMT:
        figs.append(f"results/pilm/figures/{d}_gpsgridder.png")
    return figs


def pilm_code(*pkgs):
    """Library sources of the computing rules: the figure module is left out (figures rerun alone)."""
    return [f for f in code(*pkgs) if not f.endswith(os.path.join("gnss", "figures.py"))]


def pilm_sources(wildcards):
    """The dataset's velocity files when all exist, else [] (synthetic field)."""
    paths = [data_path(s["path"]) for s in PILM["datasets"][wildcards.dataset]["sources"]]
    return paths if paths and all(os.path.exists(p) for p in paths) else []


def pilm_strain_cfg(wildcards):
    """Global pilm.strain merged with the dataset's overrides."""
    from sciml.gnss.study import strain_config

    return strain_config(PILM, wildcards.dataset)


def pilm_gpsgridder(wildcards):
    """The gpsgridder baseline file when GMT is installed, else []."""
    return [f"results/pilm/{wildcards.dataset}/gpsgridder.nc"] if PILM_GMT else []


def pilm_mask_km(wildcards):
    return pilm_strain_cfg(wildcards)["mask_km"]


def pilm_dataset_cfg(wildcards):
    return PILM["datasets"][wildcards.dataset]


def pilm_title(wildcards):
    return PILM["datasets"][wildcards.dataset].get("title", wildcards.dataset)
