"""Acceptance checks (config key ``acceptance``) applied to the metrics table by the summary rule."""

import math

import pandas as pd
import pytest

from sciml.config import ConfigError, complete
from sciml.report import evaluate_checks


def _metrics():
    return pd.DataFrame({
        "file": ["results/a/x.nc", "results/a/x.nc", "results/b/y.nc"],
        "name": ["rel_l2", "ess_min", "rel_l2"],
        "value": [0.02, 150.0, float("nan")],
        "units": ["1", "1", "1"],
        "long_name": ["", "", ""],
    })


def test_met_missed_missing_and_nan_are_all_flagged():
    checks = {
        "good": {"file": "results/a/x.nc", "metric": "rel_l2", "max": 0.03, "source": "issue"},
        "bad": {"file": "results/a/x.nc", "metric": "ess_min", "min": 200},
        "absent": {"file": "results/c/*.nc", "metric": "rel_l2", "max": 1.0},
        "nan": {"file": "results/b/*.nc", "metric": "rel_l2", "max": 1.0},
    }
    out = evaluate_checks(_metrics(), checks).set_index("check")
    assert out.loc["good", "met"] == "yes" and out.loc["good", "goal"] == "<= 0.03"
    assert out.loc["bad", "met"] == "MISSED" and out.loc["bad", "goal"] == ">= 200"
    assert out.loc["absent", "met"] == "MISSING" and math.isnan(out.loc["absent", "value"])
    assert out.loc["nan", "met"] == "MISSED"  # a NaN metric never passes
    assert len(out) == 4  # three metric rows + the missing check's row


def test_two_checks_on_one_metric_missed_if_either_is():
    checks = {"loose": {"file": "results/a/x.nc", "metric": "rel_l2", "max": 0.1},
              "tight": {"file": "results/a/x.nc", "metric": "rel_l2", "max": 0.01}}
    out = evaluate_checks(_metrics(), checks)
    row = out[out["name"].eq("rel_l2") & out["file"].eq("results/a/x.nc")].iloc[0]
    assert row["met"] == "MISSED" and row["check"] == "loose; tight"


def test_config_refuses_a_check_without_a_bound():
    with pytest.raises(ConfigError, match="acceptance"):
        complete({"acceptance": {"c": {"file": "results/a.nc", "metric": "x"}}}, device_check=False)


def test_a_paper_target_evaluates_only_the_checks_on_its_studies():
    from sciml.studies.summary import _acceptance

    cfg = {"acceptance": {"p": {"file": "results/pilm/norcal/compare.nc", "metric": "x", "max": 0},
                          "o": {"file": "results/operators/darcy/fno_n200.nc", "metric": "y", "max": 1}}}
    assert set(_acceptance(cfg, {"paper": "paper_pilm"})["acceptance"]) == {"p"}
    assert set(_acceptance(cfg, {"paper": "paper_review"})["acceptance"]) == {"o"}
    assert set(_acceptance(cfg, {})["acceptance"]) == {"p", "o"}  # the all-studies table keeps every check
