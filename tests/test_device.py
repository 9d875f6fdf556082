"""Device and dtype plumbing (issue 21): config `device`/`dtype` reach the steps, and what cannot run is
refused before any work. The CUDA paths themselves are exercised by `make gpu-check` on a GPU machine."""

import subprocess
import sys
from pathlib import Path

import pytest
import torch

from sciml.device import resolve_device, resolve_dtype
from sciml.errors import InputError
from sciml.okada.kernels import dc3d

REPO = Path(__file__).resolve().parents[1]
no_cuda = pytest.mark.skipif(torch.cuda.is_available(), reason="this machine has CUDA")


@no_cuda
def test_auto_falls_back_to_cpu_and_cuda_is_refused_naming_the_key():
    assert resolve_device("auto") == torch.device("cpu")
    assert resolve_device("CPU") == torch.device("cpu")
    with pytest.raises(Exception, match="device.*cuda.*CUDA is not available"):
        resolve_device("cuda")
    with pytest.raises(Exception, match="device.*gpu"):
        resolve_device("gpu")


@no_cuda
def test_snakemake_refuses_device_cuda_before_any_job(tmp_path):
    """`--config device=cuda` on a CPU machine stops at parse time (no job is planned or run)."""
    proc = subprocess.run(
        [sys.executable, "-m", "snakemake", "-n", "mogi", "-c1", "--config", "device=cuda",
         "--directory", str(REPO)],
        capture_output=True, text=True, cwd=REPO, timeout=300)
    assert proc.returncode != 0
    assert "CUDA is not available" in proc.stdout + proc.stderr
    assert "Job stats" not in proc.stdout + proc.stderr


def test_dtype_names_and_one_dtype_at_the_okada_boundary():
    assert resolve_dtype("float32") is torch.float32 and resolve_dtype("float64") is torch.float64
    with pytest.raises(Exception, match="dtype"):
        resolve_dtype("float16")
    geom = dict(alpha=2 / 3, z=0.0, depth=4.0, dip=40.0, al1=-2.0, al2=3.0, aw1=-1.0, aw2=1.0,
                disl1=1.0, disl2=0.0, disl3=0.0)
    x64 = torch.linspace(-5, 5, 7, dtype=torch.float64)
    r64 = dc3d(x=x64, y=x64.flip(0), **geom)
    r32 = dc3d(x=x64.float(), y=x64.flip(0).float(), **geom)
    assert r64.u.dtype is torch.float64 and r32.u.dtype is torch.float32  # the tensors fix the dtype
    # float32 agrees with float64 to single precision (the float64 evaluation is the reference)
    assert torch.allclose(r32.u.double(), r64.u, rtol=1e-4, atol=1e-6 * r64.u.abs().max())
    with pytest.raises(InputError, match="mixed dtypes"):
        dc3d(x=x64, y=x64.float(), **geom)


@no_cuda
def test_gpu_check_runs_its_cpu_parts_and_says_what_it_skipped():
    """`make gpu-check` without CUDA: CPU rows run and pass, CUDA rows are SKIP (never reported as measured)."""
    proc = subprocess.run([sys.executable, str(REPO / "benchmarks" / "gpu_check.py"), "--quick"],
                          capture_output=True, text=True, cwd=REPO, timeout=600)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    lines = proc.stdout.splitlines()
    assert any(ln.startswith("SKIP") and "CUDA" in ln for ln in lines)
    assert not any(ln.startswith("FAIL") for ln in lines)
    assert any(ln.startswith("OK") and "device: cuda" in ln for ln in lines)  # refused before any work
