"""Shared fixtures: a temporary copy of the workflow to run snakemake in, and data-file lookups."""

from __future__ import annotations

import os

# One BLAS thread per test process: the suite runs beside other work on small machines, where
# oversubscribed OpenBLAS threads make dense factorisations 10-50x slower. Users may override.
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
os.environ.setdefault("OMP_NUM_THREADS", "1")

import shutil  # noqa: E402
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SHARED_DATA = Path(os.environ.get("SCIML_SHARED_DATA", REPO.parent / "shared" / "data"))
_IGNORE = shutil.ignore_patterns(".venv", "results", ".snakemake", ".git", "__pycache__", "*.egg-info",
                                 ".pytest_cache", "report.html")


def shared_file(relpath: str) -> Path:
    """Path of a shared real-data file; skips the calling test when it is absent."""
    p = SHARED_DATA / relpath
    if not p.exists():
        pytest.skip(f"shared data file {p} not present")
    return p


def copy_workflow(dest: Path) -> Path:
    """Copy the workflow (Snakefile, workflow/, config/, scripts/, sciml/, environment.yml) to ``dest``."""
    for name in ("Snakefile", "environment.yml", "pyproject.toml"):
        shutil.copy2(REPO / name, dest / name)
    for name in ("workflow", "config", "scripts", "sciml"):
        shutil.copytree(REPO / name, dest / name, ignore=_IGNORE)
    # shared data stays where it is: point data_dir at it by absolute path
    cfg = (dest / "config" / "config.yaml").read_text()
    (dest / "config" / "config.yaml").write_text(cfg.replace("data_dir: ../shared/data", f"data_dir: {SHARED_DATA}"))
    return dest


def snakemake(workdir: Path, *args: str, timeout: float = 900) -> subprocess.CompletedProcess:
    """Run ``python -m snakemake ARGS`` in ``workdir``; returns the completed process (text output)."""
    env = {**os.environ, "PYTHONHASHSEED": "0"}
    return subprocess.run(
        [sys.executable, "-m", "snakemake", *args],
        cwd=workdir, capture_output=True, text=True, timeout=timeout, env=env,
    )


@pytest.fixture
def workflow_copy(tmp_path: Path) -> Path:
    """A fresh temporary copy of the workflow."""
    return copy_workflow(tmp_path)


@pytest.fixture
def torch_okada_path(monkeypatch):
    """Every Okada evaluation on the PyTorch path (the native C kernel off: ``sciml.okada.native``)."""
    monkeypatch.setenv("SCIML_OKADA_NATIVE", "0")
