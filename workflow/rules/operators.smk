# Neural operators: Darcy (FNO, DeepONet, physics-informed FNO), the published Darcy data (our FNO vs
# neuraloperator), the acoustic wavefield surrogate evaluated on Marmousi. Steps in sciml/studies/operators.py;
# config section `operators` (workflow/schemas/operators.schema.yaml); docs/operators.md.
import importlib.util
import sys

OPS = config["operators"]
OPS_FIG = "results/operators/figures"
OPS_DARCY_RUNS = [(m, int(n)) for m, sizes in OPS["darcy"]["models"].items() for n in sizes]
OPS_NEURALOP_FILES = {k: data_path(v) for k, v in OPS["neuralop"]["files"].items()}
OPS_NEURALOP_OK = all(os.path.exists(p) for p in OPS_NEURALOP_FILES.values())
OPS_IMPLS = list(OPS["neuralop"]["implementations"])
if "neuralop" in OPS_IMPLS and importlib.util.find_spec("neuralop") is None:
    print("operators: the neuraloperator package is not installed; its FNO is left out", file=sys.stderr)
    OPS_IMPLS.remove("neuralop")
OPS_NEURALOP_RUNS = [(i, int(n)) for i in OPS_IMPLS for n in OPS["neuralop"]["sizes"]]
OPS_WAVE_RUNS = [(m, int(n)) for m, sizes in OPS["wave"]["models"].items() for n in sizes]
OPS_DARCY_TARGETS = [f"{OPS_FIG}/darcy_prediction.png", f"{OPS_FIG}/darcy_error_vs_size.png"]

STUDY_TARGETS["operators"] = OPS_DARCY_TARGETS + [
    f"{OPS_FIG}/wave_prediction.png",
    f"{OPS_FIG}/wave_error_vs_size.png",
]
if OPS_NEURALOP_OK and OPS_IMPLS:
    STUDY_TARGETS["operators"] += [f"{OPS_FIG}/neuralop_prediction.png", f"{OPS_FIG}/neuralop_error_vs_size.png"]


wildcard_constraints:
    model="fno|pino|deeponet|fno_ray",
    impl="sciml|neuralop",
    n=r"\d+",


rule operators_darcy:
    """The Darcy part of the operators study (FNO, DeepONet, physics-informed FNO): its two figures."""
    input:
        OPS_DARCY_TARGETS,
    localrule: True


rule operators_darcy_data:
    """Darcy data sets from GP log-permeability fields: train, test and a finer-resolution test set."""
    input:
        code=step_code("operators.darcy_data"),
    output:
        train="results/operators/darcy/train.nc",
        val="results/operators/darcy/val.nc",
        test="results/operators/darcy/test.nc",
        fine="results/operators/darcy/fine.nc",
    params:
        **step_params("operators.darcy_data"),
    log:
        LOG("operators_darcy_data"),
    benchmark:
        BENCH("operators_darcy_data")
    threads: 1
    resources:
        mem_mb=2000,
        runtime=10,
    conda:
        ENV
    script:
        RUN_STEP


rule operators_darcy_train:
    """Train {model} (fno | deeponet | pino) on the first {n} Darcy samples; test and finer-grid errors."""
    input:
        code=step_code("operators.darcy_train"),
        train="results/operators/darcy/train.nc",
        val="results/operators/darcy/val.nc",
        test="results/operators/darcy/test.nc",
        fine="results/operators/darcy/fine.nc",
    output:
        nc="results/operators/darcy/{model}_n{n}.nc",
        pt="results/operators/darcy/{model}_n{n}.pt",
    params:
        **step_params("operators.darcy_train"),
    log:
        LOG("operators_darcy_train_{model}_n{n}"),
    benchmark:
        BENCH("operators_darcy_train_{model}_n{n}")
    threads: 1
    resources:
        mem_mb=3000,
        runtime=30,
        gpu=1,
    conda:
        ENV
    script:
        RUN_STEP


rule operators_darcy_figures:
    """Darcy summary table, prediction/reference/error figure and error vs training-set size."""
    input:
        code=step_code("operators.darcy_figures"),
        runs=[f"results/operators/darcy/{m}_n{n}.nc" for m, n in OPS_DARCY_RUNS],
        test="results/operators/darcy/test.nc",
        fine="results/operators/darcy/fine.nc",
    output:
        nc="results/operators/darcy/summary.nc",
        prediction=figure(f"{OPS_FIG}/darcy_prediction.png", "operators/darcy_prediction.rst"),
        size=figure(f"{OPS_FIG}/darcy_error_vs_size.png", "operators/error_vs_size.rst"),
        curves=figure(f"{OPS_FIG}/darcy_learning_curves.png", "operators/learning_curves.rst"),
    params:
        **step_params("operators.darcy_figures"),
    log:
        LOG("operators_darcy_figures"),
    threads: 1
    resources:
        mem_mb=2000,
        runtime=5,
    conda:
        ENV
    script:
        RUN_STEP


rule operators_neuralop_train:
    """Published 16x16 Darcy set (FNO paper, neuraloperator 0.3.0): {impl} FNO on {n} samples."""
    input:
        code=step_code("operators.neuralop_train"),
        train=OPS_NEURALOP_FILES["train"],
        test16=OPS_NEURALOP_FILES["test16"],
        test32=OPS_NEURALOP_FILES["test32"],
    output:
        nc="results/operators/neuralop/{impl}_n{n}.nc",
        pt="results/operators/neuralop/{impl}_n{n}.pt",
    params:
        **step_params("operators.neuralop_train"),
    log:
        LOG("operators_neuralop_train_{impl}_n{n}"),
    benchmark:
        BENCH("operators_neuralop_train_{impl}_n{n}")
    threads: 1
    resources:
        mem_mb=3000,
        runtime=30,
        gpu=1,
    conda:
        ENV
    script:
        RUN_STEP


rule operators_neuralop_figures:
    """Our FNO vs neuraloperator's FNO: predictions at 16x16 and 32x32, error vs training-set size."""
    input:
        code=step_code("operators.neuralop_figures"),
        runs=[f"results/operators/neuralop/{i}_n{n}.nc" for i, n in OPS_NEURALOP_RUNS],
        test16=OPS_NEURALOP_FILES["test16"],
        test32=OPS_NEURALOP_FILES["test32"],
    output:
        nc="results/operators/neuralop/summary.nc",
        prediction=figure(f"{OPS_FIG}/neuralop_prediction.png", "operators/neuralop_prediction.rst"),
        size=figure(f"{OPS_FIG}/neuralop_error_vs_size.png", "operators/error_vs_size.rst"),
    params:
        **step_params("operators.neuralop_figures"),
    log:
        LOG("operators_neuralop_figures"),
    threads: 1
    resources:
        mem_mb=2000,
        runtime=5,
    conda:
        ENV
    script:
        RUN_STEP


rule operators_wave_data:
    """Acoustic snapshots for GP velocity models (train/test) and Marmousi windows (synthetic fallback)."""
    input:
        code=step_code("operators.wave_data"),
        marmousi_vp=optional_data(OPS["wave"]["marmousi"]["file"]),
    output:
        train="results/operators/wave/train.nc",
        val="results/operators/wave/val.nc",
        test="results/operators/wave/test.nc",
        marmousi="results/operators/wave/marmousi.nc",
    params:
        **step_params("operators.wave_data"),
    log:
        LOG("operators_wave_data"),
    benchmark:
        BENCH("operators_wave_data")
    threads: 1
    resources:
        mem_mb=3000,
        runtime=20,
    conda:
        ENV
    script:
        RUN_STEP


rule operators_wave_train:
    """FNO ({model}: fno | fno_ray) velocity model -> pressure snapshot on {n} samples; test and Marmousi errors."""
    input:
        code=step_code("operators.wave_train"),
        train="results/operators/wave/train.nc",
        val="results/operators/wave/val.nc",
        test="results/operators/wave/test.nc",
        marmousi="results/operators/wave/marmousi.nc",
    output:
        nc="results/operators/wave/{model}_n{n}.nc",
        pt="results/operators/wave/{model}_n{n}.pt",
    params:
        **step_params("operators.wave_train"),
    log:
        LOG("operators_wave_train_{model}_n{n}"),
    benchmark:
        BENCH("operators_wave_train_{model}_n{n}")
    threads: 1
    resources:
        mem_mb=3000,
        runtime=30,
        gpu=1,
    conda:
        ENV
    script:
        RUN_STEP


rule operators_wave_figures:
    """Wave surrogate figures: predictions in and out of distribution, error vs training-set size."""
    input:
        code=step_code("operators.wave_figures"),
        runs=[f"results/operators/wave/{m}_n{n}.nc" for m, n in OPS_WAVE_RUNS],
        test="results/operators/wave/test.nc",
        marmousi="results/operators/wave/marmousi.nc",
    output:
        nc="results/operators/wave/summary.nc",
        prediction=figure(f"{OPS_FIG}/wave_prediction.png", "operators/wave_prediction.rst"),
        size=figure(f"{OPS_FIG}/wave_error_vs_size.png", "operators/error_vs_size.rst"),
        curves=figure(f"{OPS_FIG}/wave_learning_curves.png", "operators/learning_curves.rst"),
    params:
        **step_params("operators.wave_figures"),
    log:
        LOG("operators_wave_figures"),
    threads: 1
    resources:
        mem_mb=2000,
        runtime=5,
    conda:
        ENV
    script:
        RUN_STEP
