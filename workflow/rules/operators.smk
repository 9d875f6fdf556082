# Neural operators: Darcy (FNO, DeepONet, physics-informed FNO), published Darcy data (our FNO vs
# neuraloperator), acoustic wavefield surrogate evaluated on Marmousi (owner: operators helper).
# Helper functions and constants: workflow/rules/helpers_operators.smk.
STUDY_TARGETS["darcy"] = [f"{OPS_FIG}/darcy_prediction.png", f"{OPS_FIG}/darcy_error_vs_size.png"]
STUDY_TARGETS["operators"] = STUDY_TARGETS["darcy"] + [
    f"{OPS_FIG}/wave_prediction.png",
    f"{OPS_FIG}/wave_error_vs_size.png",
]
if OPS_NEURALOP_OK:
    STUDY_TARGETS["operators"] += [f"{OPS_FIG}/neuralop_prediction.png", f"{OPS_FIG}/neuralop_error_vs_size.png"]


wildcard_constraints:
    model="fno|pino|deeponet",
    impl="sciml|neuralop",
    n=r"\d+",


rule operators_darcy_data:
    """Darcy data sets from GP log-permeability fields: train, test and a finer-resolution test set."""
    input:
        code=ops_code("operators", "forward", "gp"),
    output:
        train="results/operators/darcy/train.nc",
        test="results/operators/darcy/test.nc",
        fine="results/operators/darcy/fine.nc",
    params:
        cfg=ops_data_cfg("darcy"),
        seed=config["seed"],
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
        "../../scripts/operators_darcy_data.py"


rule operators_darcy_train:
    """Train {model} (fno | deeponet | pino) on the first {n} Darcy samples; test and finer-grid errors."""
    input:
        code=ops_code("operators", "forward", "gp", "nn"),
        train="results/operators/darcy/train.nc",
        test="results/operators/darcy/test.nc",
        fine="results/operators/darcy/fine.nc",
    output:
        nc="results/operators/darcy/{model}_n{n}.nc",
        pt="results/operators/darcy/{model}_n{n}.pt",
    params:
        cfg=ops_cfg("darcy"),
        seed=config["seed"],
        device=config["device"],
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
        "../../scripts/operators_darcy_train.py"


rule operators_darcy_figures:
    """Darcy summary table, prediction/reference/error figure and error vs training-set size."""
    input:
        code=code("operators", "plots"),
        runs=[f"results/operators/darcy/{m}_n{n}.nc" for m, n in OPS_DARCY_RUNS],
        test="results/operators/darcy/test.nc",
        fine="results/operators/darcy/fine.nc",
    output:
        nc="results/operators/darcy/summary.nc",
        prediction=figure(f"{OPS_FIG}/darcy_prediction.png", "operators/darcy_prediction.rst"),
        size=figure(f"{OPS_FIG}/darcy_error_vs_size.png", "operators/error_vs_size.rst"),
    params:
        runs=[{"model": m, "n": n} for m, n in OPS_DARCY_RUNS],
    log:
        LOG("operators_darcy_figures"),
    threads: 1
    resources:
        mem_mb=2000,
        runtime=5,
    conda:
        ENV
    script:
        "../../scripts/operators_darcy_figures.py"


rule operators_neuralop_train:
    """Published 16x16 Darcy set (FNO paper, neuraloperator 0.3.0): {impl} FNO on {n} samples."""
    input:
        code=ops_code("operators", "nn"),
        train=OPS_NEURALOP_FILES["train"],
        test16=OPS_NEURALOP_FILES["test16"],
        test32=OPS_NEURALOP_FILES["test32"],
    output:
        nc="results/operators/neuralop/{impl}_n{n}.nc",
        pt="results/operators/neuralop/{impl}_n{n}.pt",
    params:
        cfg=ops_cfg("neuralop"),
        seed=config["seed"],
        device=config["device"],
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
        "../../scripts/operators_neuralop_train.py"


rule operators_neuralop_figures:
    """Our FNO vs neuraloperator's FNO: predictions at 16x16 and 32x32, error vs training-set size."""
    input:
        code=code("operators", "plots"),
        runs=[f"results/operators/neuralop/{i}_n{n}.nc" for i, n in OPS_NEURALOP_RUNS],
        test16=OPS_NEURALOP_FILES["test16"],
        test32=OPS_NEURALOP_FILES["test32"],
    output:
        nc="results/operators/neuralop/summary.nc",
        prediction=figure(f"{OPS_FIG}/neuralop_prediction.png", "operators/neuralop_prediction.rst"),
        size=figure(f"{OPS_FIG}/neuralop_error_vs_size.png", "operators/error_vs_size.rst"),
    params:
        runs=[{"impl": i, "n": n} for i, n in OPS_NEURALOP_RUNS],
    log:
        LOG("operators_neuralop_figures"),
    threads: 1
    resources:
        mem_mb=2000,
        runtime=5,
    conda:
        ENV
    script:
        "../../scripts/operators_neuralop_figures.py"


rule operators_wave_data:
    """Acoustic snapshots for GP velocity models (train/test) and Marmousi windows (synthetic fallback)."""
    input:
        code=ops_code("operators", "forward", "gp"),
        marmousi=optional_data(OPS["wave"]["marmousi"]["file"]),
    output:
        train="results/operators/wave/train.nc",
        test="results/operators/wave/test.nc",
        marmousi_nc="results/operators/wave/marmousi.nc",
    params:
        cfg=ops_data_cfg("wave"),
        seed=config["seed"],
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
        "../../scripts/operators_wave_data.py"


rule operators_wave_train:
    """FNO velocity model -> pressure snapshot on {n} samples; GP test and Marmousi errors."""
    input:
        code=ops_code("operators", "forward", "gp", "nn"),
        train="results/operators/wave/train.nc",
        test="results/operators/wave/test.nc",
        marmousi="results/operators/wave/marmousi.nc",
    output:
        nc="results/operators/wave/fno_n{n}.nc",
        pt="results/operators/wave/fno_n{n}.pt",
    params:
        cfg=ops_cfg("wave"),
        seed=config["seed"],
        device=config["device"],
    log:
        LOG("operators_wave_train_n{n}"),
    benchmark:
        BENCH("operators_wave_train_n{n}")
    threads: 1
    resources:
        mem_mb=3000,
        runtime=30,
        gpu=1,
    conda:
        ENV
    script:
        "../../scripts/operators_wave_train.py"


rule operators_wave_figures:
    """Wave surrogate figures: predictions in and out of distribution, error vs training-set size."""
    input:
        code=code("operators", "plots"),
        runs=[f"results/operators/wave/fno_n{n}.nc" for n in OPS_WAVE_SIZES],
        test="results/operators/wave/test.nc",
        marmousi="results/operators/wave/marmousi.nc",
    output:
        nc="results/operators/wave/summary.nc",
        prediction=figure(f"{OPS_FIG}/wave_prediction.png", "operators/wave_prediction.rst"),
        size=figure(f"{OPS_FIG}/wave_error_vs_size.png", "operators/error_vs_size.rst"),
    params:
        sizes=OPS_WAVE_SIZES,
    log:
        LOG("operators_wave_figures"),
    threads: 1
    resources:
        mem_mb=2000,
        runtime=5,
    conda:
        ENV
    script:
        "../../scripts/operators_wave_figures.py"
