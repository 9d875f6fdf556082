"""Reliability under interruption: killing snakemake during a training rule and rerunning gives the same
final outputs as an uninterrupted run, leaves no partial NetCDF, and resumes from the last checkpoint."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

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
