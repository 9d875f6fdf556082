# Helper functions of workflow/rules/bayes.smk (referenced there through lambdas: this file is included after it).

def tomography_picks_input(wildcards):
    p = config["bayes"]["tomography"].get("picks")
    return [data_path(p)] if p else []


def tomography_model_input(wildcards):
    cfg = config["bayes"]["tomography"]
    return [] if cfg.get("picks") else optional_data(cfg["synthetic"].get("model"))


def _bayes_fpi_input(wildcards):
    """The study's data file (picks or synthetic Darcy data)."""
    return {"tomography": "results/tomography/picks.nc", "darcy": "results/bayes_darcy/data.nc"}[
        _bayes_key(wildcards.bstudy)
    ]


def _bayes_key(bstudy):
    return "darcy" if bstudy == "bayes_darcy" else "tomography"


def _bayes_posterior_inputs(wildcards):
    key = _bayes_key(wildcards.bstudy)
    _, ref, _ = BAYES_STUDIES[key]
    m = wildcards.method
    return {
        "fpi": [f"results/{wildcards.bstudy}/fpi_prior.nc"] if m.startswith("fpi_") else [],
        "ref": [f"results/{wildcards.bstudy}/posterior_{ref}.nc"] if m != ref else [],
    }


def _bayes_methods(bstudy):
    return BAYES_STUDIES[_bayes_key(bstudy)][2]
