"""Workflow-level tests: config validation, lint, dry runs, and end-to-end runs in a temporary copy."""

from __future__ import annotations

import pytest

from tests.conftest import snakemake


@pytest.mark.parametrize(
    ("override", "key"),
    [("seed=-1", "seed"), ("device=gpu", "device"), ("dtype=float16", "dtype")],
)
def test_config_validation_names_the_bad_key(workflow_copy, override, key):
    """A schema violation stops the workflow before any job, naming the offending key."""
    run = snakemake(workflow_copy, "-n", "--config", override)
    assert run.returncode != 0
    assert f"instance['{key}']" in run.stderr + run.stdout


def test_lint_reports_nothing(workflow_copy):
    run = snakemake(workflow_copy, "--lint")
    assert run.returncode == 0, run.stdout + run.stderr
    assert "in a good condition" in run.stdout + run.stderr


def test_dry_run_of_all_and_slurm_profile(workflow_copy):
    assert snakemake(workflow_copy, "-n", "all").returncode == 0
    run = snakemake(workflow_copy, "-n", "--profile", "workflow/profiles/slurm", "all")
    assert run.returncode == 0, run.stdout + run.stderr
