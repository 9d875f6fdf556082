"""Reliability under interruption: killing snakemake during a training rule and rerunning gives the same
final outputs as an uninterrupted run, leaves no partial NetCDF, and resumes from the last checkpoint."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
import yaml

from tests.conftest import copy_workflow

TARGET = "results/pinn/fault.nc"
SMALL_FAULT = {"adam_steps": 240, "lbfgs_steps": 0, "checkpoint_every": 40, "val_every": 40, "lr": 3.0e-3,
               "lr_decay": 0.3, "weights": {"pde": 10.0}}


def _small_copy(dest):
    dest.mkdir(parents=True)
    copy_workflow(dest)
    cfg_path = dest / "config" / "config.yaml"
    cfg = yaml.safe_load(cfg_path.read_text())
    cfg["device"] = "cpu"
    cfg.setdefault("pinn", {}).setdefault("fault", {}).update({"n_interior": 200, "n_boundary": 60, "output_points": 41, "train": SMALL_FAULT})
    cfg_path.write_text(yaml.safe_dump(cfg, sort_keys=False))
    return dest


def _start(workdir, *args):
    return subprocess.Popen([sys.executable, "-m", "snakemake", "-c1", *args, TARGET], cwd=workdir,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)


def _data(path):
    from sciml.io.netcdf import read_dataset

    ds = read_dataset(path)
    return ds.drop_vars([v for v in ds.data_vars if "wall" in v])  # wall-clock times differ by nature


@pytest.mark.workflow
def test_kill_during_training_then_rerun_matches_uninterrupted(tmp_path):
    rng = np.random.default_rng(20261126)
    ref_dir = _small_copy(tmp_path / "reference")
    run_dir = _small_copy(tmp_path / "interrupted")
    # uninterrupted reference and interrupted run side by side
    ref = _start(ref_dir)
    proc = _start(run_dir)
    ckpts = run_dir / "results" / "pinn" / "checkpoints"
    deadline = time.time() + 400
    while time.time() < deadline and not (ckpts.exists() and any(ckpts.rglob("*.ckpt"))):
        time.sleep(0.5)
    assert ckpts.exists() and any(ckpts.rglob("*.ckpt")), "no checkpoint written before the deadline"
    time.sleep(float(rng.uniform(0.0, 2.0)))  # a random moment after the first checkpoint
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
        assert not (run_dir / TARGET).exists(), "partial output after SIGKILL"
        assert not list((run_dir / "results").rglob(".*.tmp")), "temporary file left visible as output"
    # after a hard kill the user removes the stale lock, then reruns (incomplete outputs are rebuilt)
    unlock = subprocess.run([sys.executable, "-m", "snakemake", "--unlock", TARGET], cwd=run_dir,
                            capture_output=True, text=True, timeout=300)
    assert unlock.returncode == 0, unlock.stderr[-2000:]
    rerun = subprocess.run([sys.executable, "-m", "snakemake", "-c1", "--rerun-incomplete", TARGET],
                           cwd=run_dir, capture_output=True, text=True, timeout=900)
    assert rerun.returncode == 0, rerun.stderr[-3000:]
    assert ref.wait(timeout=900) == 0
    log = (run_dir / "results" / "logs" / "pinn_fault.log").read_text()
    if proc.returncode == -signal.SIGKILL:
        assert "resumed from" in log  # training continued from its checkpoint, not from scratch
    interrupted, reference = _data(run_dir / TARGET), _data(ref_dir / TARGET)
    assert interrupted.equals(reference)


# ------------------------------------------------------------------ the same outside Snakemake (python -m sciml run)
SMALL_OPERATOR = """
operators:
  batch_size: 4
  darcy:
    n: 8
    n_fine: 16
    n_train: 12
    n_val: 4
    n_test: 4
    n_test_fine: 3
    pino: {unlabeled: 5}
    fno: {width: 6, modes: 3, layers: 2, projection: 8}
    train: {adam_steps: 400, checkpoint_every: 25, log_every: 100, val_every: 100}
okada:
  synthetic: {stations: {n: 5}, map: {n: 5}, sensitivity: []}
  invert: {hmc: {chains: 2, warmup: 30, draws: 60}}
"""


def _cli_run(workdir, step, *args):
    return [sys.executable, "-m", "sciml", "run", step, "--config", "config/config.yaml", "--config",
            str(workdir / "small.yaml"), *args]


def _kill_after(cmd, cwd, ready, log):
    """Start ``cmd``; SIGKILL it at a random moment after ``ready()`` holds. Returns its return code."""
    rng = np.random.default_rng(20261202)
    proc = subprocess.Popen(cmd, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            start_new_session=True)
    deadline = time.time() + 400
    while time.time() < deadline and proc.poll() is None and not ready():
        time.sleep(0.1)
    time.sleep(float(rng.uniform(0.0, 0.3)))
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGKILL)
    return proc.wait()


def _same_data(a, b):
    da, db = _data(a), _data(b)
    drop = [v for v in da.variables if any(t in str(v) for t in ("time", "seconds", "per_s"))]  # wall-clock
    return da.drop_vars(drop, errors="ignore").equals(db.drop_vars(drop, errors="ignore"))


@pytest.mark.parametrize("kind", ["operator_training", "sampler"])
def test_kill_outside_snakemake_then_rerun_matches_uninterrupted(tmp_path, kind):
    """Operator training resumes from its checkpoint (trainer state in the step's checkpoints folder); the
    samplers (HMC of okada.invert) keep no resumable state, so a killed run restarts: in both cases the
    killed run leaves no output and the rerun's data equal the uninterrupted run's."""
    from sciml.config import load
    from sciml.studies import get_step
    from sciml.studies.run import run_step

    repo = Path(__file__).resolve().parents[1]
    (tmp_path / "small.yaml").write_text(SMALL_OPERATOR)
    config = load([repo / "config" / "config.yaml", tmp_path / "small.yaml"])
    if kind == "operator_training":
        data = {p.name: str(tmp_path / f"{p.name}.nc") for p in get_step("operators.darcy_data").outputs}
        run_step("operators.darcy_data", get_step("operators.darcy_data").slice(config), seed=1, inputs={},
                 outputs=data)
        step, extra = "operators.darcy_train", ["--wildcard", "model=fno", "--wildcard", "n=12"] + \
            [a for k, p in data.items() for a in ("--input", f"{k}={p}")]
    else:
        obs = str(tmp_path / "obs.nc")
        run_step("okada.synthetic", get_step("okada.synthetic").slice(config), seed=1, inputs={"stations": []},
                 outputs={"nc": obs})
        step, extra = "okada.invert", ["--input", f"data={obs}"]
    outs = {}
    for run in ("reference", "interrupted"):
        d = tmp_path / run
        outs[run] = d / "out.nc"
        outs[f"{run}_args"] = extra + ["--output", f"nc={d / 'out.nc'}", "--log", str(d / "run.log")] + \
            (["--output", f"pt={d / 'out.pt'}"] if kind == "operator_training" else [])
    ref = subprocess.Popen(_cli_run(tmp_path, step, *outs["reference_args"]), cwd=repo,
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    ck = tmp_path / "interrupted" / "checkpoints"
    log = tmp_path / "interrupted" / "run.log"
    if kind == "operator_training":
        def ready():
            return ck.exists() and any(ck.rglob("*.ckpt"))
    else:
        def ready():
            return log.exists() and "HMC (" in log.read_text()
    rc = _kill_after(_cli_run(tmp_path, step, *outs["interrupted_args"]), repo, ready, log)
    killed = rc == -signal.SIGKILL
    if killed:
        assert not outs["interrupted"].exists(), "partial output after SIGKILL"
        assert not list((tmp_path / "interrupted").rglob(".*.tmp")), "temporary file left visible as output"
    rerun = subprocess.run(_cli_run(tmp_path, step, *outs["interrupted_args"]), cwd=repo, capture_output=True,
                           text=True, timeout=900)
    assert rerun.returncode == 0, rerun.stderr[-3000:]
    assert ref.wait(timeout=900) == 0
    if killed and kind == "operator_training":
        assert "resumed from" in log.read_text()  # training continued from its checkpoint
    assert _same_data(outs["interrupted"], outs["reference"])
