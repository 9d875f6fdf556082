"""The bayes config sections (default and paper) satisfy workflow/schemas/bayes.schema.yaml; bad values fail."""

from __future__ import annotations

import copy
from pathlib import Path

import pytest
import yaml

REPO = Path(__file__).resolve().parents[1]
SCHEMA = REPO / "workflow" / "schemas" / "bayes.schema.yaml"


def _validate(section: dict) -> None:
    from snakemake.utils import validate

    validate(copy.deepcopy(section), str(SCHEMA))


@pytest.mark.parametrize("name", ["config.yaml", "paper.yaml"])
def test_bayes_sections_validate(name: str) -> None:
    _validate(yaml.safe_load((REPO / "config" / name).read_text())["bayes"])


@pytest.mark.parametrize("path, value", [(("tomography", "prior", "kernel"), "rbf"),
                                         (("darcy", "svgd", "kernel"), "laplace"),
                                         (("tomography", "grid", "n"), 2)])
def test_bad_bayes_values_are_rejected(path: tuple[str, ...], value: object) -> None:
    from snakemake.exceptions import WorkflowError

    cfg = yaml.safe_load((REPO / "config" / "config.yaml").read_text())["bayes"]
    node = cfg
    for k in path[:-1]:
        node = node[k]
    node[path[-1]] = value
    with pytest.raises(WorkflowError):
        _validate(cfg)
