"""Tests of healthlab.prediction on the catalogue's own clinical records."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from healthlab import datasets
from healthlab.errors import InvalidParameterError
from healthlab.prediction import CONDITIONS, calibration_table, group_metrics, readmission_cohort


@pytest.fixture(scope="module")
def cohort():
    people = datasets.load("population", size="tiny")["population"]
    clinical = datasets.load("clinical", size="tiny")
    return readmission_cohort(clinical, people), clinical, people


def test_the_cohort_holds_index_admissions_with_complete_follow_up(cohort):
    co, clinical, people = cohort
    out = clinical["outcomes"]
    index = out[~out.is_readmission & ~out.died_in_hospital & out.followup_complete]
    assert len(co) == index["encounter_id"].nunique()
    assert co["encounter_id"].is_unique
    assert set(co["readmitted"]) <= {0, 1}
    assert co["readmitted"].mean() == pytest.approx(
        index.set_index("encounter_id").loc[co.encounter_id, "readmitted_30d"].mean()
    )
    # predictors are those of the generator's ground-truth model, computed from the people
    terms = set(clinical["risk_model"].query("outcome == 'readmitted_30d'")["term"]) - {"intercept"}
    assert terms <= set(co.columns)
    person = people.set_index("person_id").loc[co.person_id]
    assert (co["conditions"].to_numpy() == person[list(CONDITIONS)].sum(axis=1).to_numpy()).all()
    assert np.allclose(co["age_per_10y_over_65"], (person["age"].to_numpy() - 65) / 10)
    assert co["true_risk"].between(0, 1).all()


def test_readmission_cohort_says_what_is_missing():
    with pytest.raises(InvalidParameterError, match="encounters"):
        readmission_cohort({}, pd.DataFrame({"person_id": [1]}))


def test_calibration_table_of_a_calibrated_model_sits_on_the_diagonal():
    rng = np.random.default_rng(0)
    p = rng.uniform(0.02, 0.6, 40_000)
    y = rng.random(p.size) < p
    table = calibration_table(y, p, bins=10)
    assert table["n"].sum() == p.size and len(table) == 10
    assert np.allclose(table["observed"], table["mean_predicted"], atol=0.02)
    assert (table["lower"] <= table["observed"]).all() and (
        table["observed"] <= table["upper"]
    ).all()
    with pytest.raises(InvalidParameterError, match="probabilities"):
        calibration_table([0, 1], [0.5, 1.5])


def test_group_metrics_find_a_model_that_underestimates_one_group():
    rng = np.random.default_rng(1)
    n = 20_000
    group = rng.choice(["rural", "urban"], n)
    risk = rng.uniform(0.05, 0.4, n)
    truth = np.where(group == "rural", np.minimum(risk * 1.5, 1), risk)
    y = rng.random(n) < truth
    table = group_metrics(y, risk, group, threshold=0.25).set_index("group")
    assert table.loc["rural", "o_to_e"] == pytest.approx(1.5, rel=0.05)
    assert table.loc["urban", "o_to_e"] == pytest.approx(1.0, rel=0.05)
    assert table.loc["rural", "flagged"] == pytest.approx(table.loc["urban", "flagged"], abs=0.02)
    assert table["n"].sum() == n


def test_logit_coefficients_recover_a_known_model_and_name_what_they_cannot_fit():
    from healthlab.prediction import logit_coefficients

    rng = np.random.default_rng(2)
    n = 30_000
    frame = pd.DataFrame({"a": rng.normal(size=n), "b": rng.integers(0, 2, n), "never": 0})
    eta = -2 + 0.5 * frame["a"] + 0.7 * frame["b"]
    frame["y"] = (rng.random(n) < 1 / (1 + np.exp(-eta))).astype(int)
    truth = pd.DataFrame({"term": ["intercept", "a", "b"], "coefficient": [-2, 0.5, 0.7]})
    table = logit_coefficients(frame, ["a", "b", "never"], outcome="y", truth=truth)
    assert table["term"].tolist() == ["intercept", "a", "b", "never"]
    fitted = table.set_index("term")
    assert fitted.loc[["intercept", "a", "b"], "covered"].all()
    assert np.isnan(fitted.loc["never", "coefficient"])
    assert table.attrs["converged"]
