"""Workflow-level tests: config validation, lint, dry runs, and end-to-end runs in a temporary copy."""

from __future__ import annotations

import pytest
import yaml

from tests.conftest import snakemake


@pytest.mark.parametrize(
    ("override", "key"),
    [("seed=-1", "seed"), ("seed=abc", "seed"), ("device=gpu", "device"), ("dtype=float16", "dtype")],
)
def test_config_validation_names_the_bad_key(workflow_copy, override, key):
    """A schema violation stops the workflow before any job, naming the offending key."""
    run = snakemake(workflow_copy, "-n", "--config", override)
    assert run.returncode != 0
    assert f"key '{key}'" in run.stderr + run.stdout


def test_lint_reports_nothing(workflow_copy):
    run = snakemake(workflow_copy, "--lint")
    assert run.returncode == 0, run.stdout + run.stderr
    assert "in a good condition" in run.stdout + run.stderr


def test_dry_run_of_all_and_slurm_profile(workflow_copy):
    assert snakemake(workflow_copy, "-n", "all").returncode == 0
    run = snakemake(workflow_copy, "-n", "--profile", "workflow/profiles/slurm", "all")
    assert run.returncode == 0, run.stdout + run.stderr


def test_paper_config_validates_and_plans_on_the_slurm_profile(workflow_copy):
    """The documented paper-scale command (README, "Running on a cluster") plans without error."""
    run = snakemake(workflow_copy, "all", "-n", "--profile", "workflow/profiles/slurm",
                    "--configfile", "config/paper.yaml")
    assert run.returncode == 0, (run.stdout + run.stderr)[-3000:]


# The smallest multi-rule chain of the default config: 1-D PILM examples -> convergence figure.
TINY_NC = "results/pilm/examples.nc"
TINY_FIG = "results/pilm/figures/examples_convergence.png"


def _jobs(run) -> set[str]:
    """Rule names scheduled by a dry run (from the 'Job stats' table)."""
    assert run.returncode == 0, run.stderr[-3000:]
    lines = (run.stdout + "\n" + run.stderr).splitlines()
    try:
        start = next(i for i, line in enumerate(lines) if line.startswith("job ")) + 2
    except StopIteration:
        return set()
    jobs = set()
    for line in lines[start:]:
        parts = line.split()
        if len(parts) != 2 or parts[0] == "total":
            break
        jobs.add(parts[0])
    return jobs


@pytest.mark.workflow
def test_end_to_end_tiny_target_lineage_incremental_and_deterministic(workflow_copy):
    """Run a 2-rule chain in a temporary copy: outputs satisfy the lineage contract, a second run does
    nothing, a config change or a library change reruns only dependent rules, reruns are bit-identical."""
    from sciml.io.netcdf import lineage_tree, read_dataset, validate_file

    run = snakemake(workflow_copy, "-c2", TINY_FIG)
    assert run.returncode == 0, run.stderr[-3000:]
    nc = workflow_copy / TINY_NC
    assert validate_file(nc) == []
    tree = lineage_tree(workflow_copy / TINY_FIG)
    assert tree["rule"] == "pilm_examples_figure"
    assert tree["inputs"][0]["rule"] == "pilm_examples"
    first = read_dataset(nc)

    again = snakemake(workflow_copy, "-c2", TINY_FIG)
    assert again.returncode == 0
    assert "Nothing to be done" in again.stdout + again.stderr

    # a library edit in a module the rule does not use reruns nothing of this chain (Snakemake compares
    # input checksums, so an edit, not a mere touch, is what triggers)
    other = sorted((workflow_copy / "sciml").glob("okada/*.py")) or sorted((workflow_copy / "sciml").glob("pinn/*.py"))
    if other:
        other[0].write_text(other[0].read_text() + "\n# edited\n")
        assert _jobs(snakemake(workflow_copy, "-n", TINY_FIG)) == set()
    # a change of the library it uses reruns both rules
    used = workflow_copy / "sciml" / "linear_inverse.py"
    used.write_text(used.read_text() + "\n# edited\n")
    assert _jobs(snakemake(workflow_copy, "-n", TINY_FIG)) == {"pilm_examples", "pilm_examples_figure"}

    # a config change of this study's step reruns it (the figure step reads no config: only its input
    # changes, which Snakemake sees once the first job has run); the other studies stay untouched
    cfg = workflow_copy / "config" / "config.yaml"
    original = cfg.read_text()
    data = yaml.safe_load(original)
    data.setdefault("pilm", {}).setdefault("examples", {}).setdefault("inverse", {})["noise"] = 2.0e-3
    cfg.write_text(yaml.safe_dump(data))
    assert _jobs(snakemake(workflow_copy, "-n", TINY_FIG)) == {"pilm_examples", "pilm_examples_figure"}

    # determinism: a clean rerun with the same config and seed gives bit-identical data
    cfg.write_text(original)
    nc.unlink()
    rerun = snakemake(workflow_copy, "-c2", TINY_NC)
    assert rerun.returncode == 0, rerun.stderr[-3000:]
    second = read_dataset(nc)
    assert first.equals(second)  # data and coordinates bit for bit (attributes hold time stamps)
