"""Operator training resumes: a training step killed (SIGKILL) mid-run and rerun continues from the trainer
checkpoint in the step's ``checkpoints`` folder and gives the same data as an uninterrupted run.

Reference: the same step run uninterrupted in its own process (the kill test of the PINNs,
tests/test_reliability.py, on the operator rules)."""
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

from sciml.io.netcdf import read_dataset

REPO = Path(__file__).resolve().parents[1]
SMALL = {"operators": {
    "batch_size": 4,
    "darcy": {"n": 8, "n_fine": 16, "n_train": 16, "n_val": 4, "n_test": 4, "n_test_fine": 2,
              "fno": {"width": 8, "modes": 3, "layers": 2, "projection": 8}, "steps": {"fno": 200},
              "train": {"adam_steps": 200, "checkpoint_every": 20, "val_every": 40, "log_every": 20,
                        "progress": False}}}}


def _command(tmp: Path, out: Path) -> list[str]:
    ins = [f"--input={k}={tmp / 'data' / (k + '.nc')}" for k in ("train", "val", "test", "fine")]
    return [sys.executable, "-m", "sciml", "run", "operators.darcy_train", "--config", str(REPO / "config/config.yaml"),
            "--config", str(tmp / "small.yaml"), "--wildcard", "model=fno", "--wildcard", "n=12", *ins,
            f"--output=nc={out / 'fno.nc'}", f"--output=pt={out / 'fno.pt'}", "--log", str(out / "log.txt")]


def _data(path: Path):
    ds = read_dataset(path)
    return ds.drop_vars([v for v in ds.data_vars if "time" in v])  # wall-clock times differ by nature


@pytest.mark.workflow
def test_killed_operator_training_resumes_to_the_uninterrupted_result(tmp_path):
    (tmp_path / "small.yaml").write_text(yaml.safe_dump(SMALL))
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    data = ["--output=" + f"{k}={tmp_path / 'data' / (k + '.nc')}" for k in ("train", "val", "test", "fine")]
    subprocess.run([sys.executable, "-m", "sciml", "run", "operators.darcy_data", "--config",
                    str(REPO / "config/config.yaml"), "--config", str(tmp_path / "small.yaml"), *data],
                   cwd=REPO, check=True, capture_output=True, env=env, timeout=300)
    ref, run = tmp_path / "reference", tmp_path / "interrupted"
    ref.mkdir(), run.mkdir()
    subprocess.run(_command(tmp_path, ref), cwd=REPO, check=True, capture_output=True, env=env, timeout=600)

    proc = subprocess.Popen(_command(tmp_path, run), cwd=REPO, env=env, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL, start_new_session=True)
    ckpts = run / "checkpoints"
    deadline = time.time() + 300
    while time.time() < deadline and proc.poll() is None and not any(ckpts.rglob("*.ckpt")):
        time.sleep(0.2)
    assert any(ckpts.rglob("*.ckpt")), "no checkpoint before the deadline (or the run ended first)"
    time.sleep(float(np.random.default_rng().uniform(0.0, 1.0)))  # a random moment after the first checkpoint
    assert proc.poll() is None, "the run finished before it could be killed: lengthen SMALL's adam_steps"
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    assert not (run / "fno.nc").exists() and not (run / "fno.pt").exists(), "partial output after SIGKILL"

    subprocess.run(_command(tmp_path, run), cwd=REPO, check=True, capture_output=True, env=env, timeout=600)
    assert "resumed from" in (run / "log.txt").read_text()  # it continued from the checkpoint
    assert not any(ckpts.rglob("*.ckpt")), "checkpoints are removed once the outputs exist"
    resumed, reference = _data(run / "fno.nc"), _data(ref / "fno.nc")
    assert int(resumed["step"][-1]) == SMALL["operators"]["darcy"]["train"]["adam_steps"] - 1
    assert resumed.equals(reference)
