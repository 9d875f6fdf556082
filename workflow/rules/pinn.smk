# PINN studies: eikonal forward/tomography, Calaveras 1-D velocity, antiplane fault and slip inversion.
# One training rule for the five studies (steps pinn.<study> in sciml/studies/pinn.py), one figure rule.
# Config section `pinn` (workflow/schemas/pinn.schema.yaml); docs/pinn.md.
PINN = config["pinn"]
PINN_CALAVERAS_FILES = {
    "phase": PINN["calaveras"]["phase_file"],
    "stations": PINN["calaveras"]["station_file"],
    "model": PINN["calaveras"]["model_file"],
}
# Calaveras needs the shared picks; without them the study is left out of the targets.
_PINN_HAVE_PICKS = all(optional_data(p) for p in PINN_CALAVERAS_FILES.values())
PINN_STUDIES = [s for s in PINN["studies"] if s != "calaveras" or _PINN_HAVE_PICKS]

STUDY_TARGETS["pinn"] = [f"results/pinn/figures/{s}.png" for s in PINN_STUDIES]
# raw data inputs of the training rule: the shared hypoDD files for calaveras, none for the synthetic studies
PINN_DATA = {"calaveras": {k: data_path(p) for k, p in PINN_CALAVERAS_FILES.items()}}


wildcard_constraints:
    pinn_study="eikonal|tomography|calaveras|fault|fault_inversion",


rule pinn_train:
    """Train one PINN study (step pinn.<study>): weights (.pt) and predictions, reference, metrics, history (.nc)."""
    input:
        unpack(lambda wc: PINN_DATA.get(wc.pinn_study, {})),
        code=step_code("pinn.{pinn_study}"),
    output:
        nc="results/pinn/{pinn_study}.nc",
        pt="results/pinn/{pinn_study}.pt",
    params:
        **step_params("pinn.{pinn_study}"),
    log:
        LOG("pinn_{pinn_study}"),
    benchmark:
        BENCH("pinn_{pinn_study}")
    threads: 1
    resources:
        mem_mb=2000,
        runtime=30,
        gpu=1,
    conda:
        ENV
    script:
        RUN_STEP


rule pinn_figure:
    """Prediction / reference / error figure of one PINN study."""
    input:
        code=step_code("pinn.figure"),
        nc="results/pinn/{pinn_study}.nc",
    output:
        png=figure("results/pinn/figures/{pinn_study}.png", "pinn/study.rst"),
    params:
        **step_params("pinn.figure"),
    log:
        LOG("pinn_figure_{pinn_study}"),
    threads: 1
    resources:
        mem_mb=1000,
        runtime=5,
    conda:
        ENV
    script:
        RUN_STEP


# targets pinn_<study>: one study's figure (pinn_tomography is the PINN study, bayes_tomography the Bayesian one)
for _pinn_study in PINN_STUDIES:

    rule:
        name:
            f"pinn_{_pinn_study}"
        input:
            f"results/pinn/figures/{_pinn_study}.png",
        localrule: True
