"""The bayes config section: the schema defaults (workflow/schemas/bayes.schema.yaml) and the paper overrides
complete and validate; bad values fail with the key named."""

from __future__ import annotations

import copy
from pathlib import Path

import pytest

from sciml import config as C

REPO = Path(__file__).resolve().parents[1]


@pytest.mark.parametrize("files", [["config.yaml"], ["config.yaml", "paper.yaml"]])
def test_bayes_sections_validate(files: list[str]) -> None:
    """The default (schema defaults + config.yaml) and the paper section complete to valid sections."""
    merged: dict = {}
    for f in files:
        merged = C.merge(merged, C.read_yaml(REPO / "config" / f))
    section = C.validate(copy.deepcopy(merged.get("bayes", {})), "bayes")
    assert set(section) == {"tomography", "darcy"}
    assert C.validate(copy.deepcopy(section), "bayes") == section  # complete: nothing left to fill


def test_defaults_are_the_quick_configuration() -> None:
    """A few defaults (the former config.yaml values) and the paper overrides on top of them."""
    d = C.validate({}, "bayes")
    assert d["tomography"]["grid"]["n"] == 41 and d["tomography"]["hmc"]["adapt_metric"] is False
    assert d["darcy"]["pcn"] == {"chains": 4, "warmup": 1000, "draws": 4000, "thin": 5, "beta": 0.1,
                                 "target_accept": 0.5, "reference": "laplace", "reference_inflation": 1.5}
    paper = C.validate(copy.deepcopy(C.read_yaml(REPO / "config" / "paper.yaml")["bayes"]), "bayes")
    assert paper["darcy"]["grid"]["n"] == 32 and paper["darcy"]["prior"]["kernel"] == "matern52"


@pytest.mark.parametrize("path, value", [(("tomography", "prior", "kernel"), "rbf"),
                                         (("darcy", "svgd", "kernel"), "laplace"),
                                         (("tomography", "grid", "n"), 2)])
def test_bad_bayes_values_are_rejected(path: tuple[str, ...], value: object) -> None:
    cfg = C.validate({}, "bayes")
    node = cfg
    for k in path[:-1]:
        node = node[k]
    node[path[-1]] = value
    with pytest.raises(C.ConfigError, match=r"bayes\." + r"\.".join(path)):
        C.validate(cfg, "bayes")


def test_unknown_bayes_key_is_refused_with_a_suggestion() -> None:
    with pytest.raises(C.ConfigError, match="did you mean 'sensors_per_side'"):
        C.validate({"darcy": {"sensor_per_side": 3}}, "bayes")
