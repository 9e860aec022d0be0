"""Utility workloads and the attacks on synthetic data; the docstring examples run."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from healthlab.errors import InvalidParameterError
from healthlab.privacy import (
    age_hierarchy,
    anonymize,
    inference_risk,
    linkability_risk,
    model_utility,
    singling_out_risk,
    statistic_error,
)


def _people(n, seed):
    rng = np.random.default_rng(seed)
    age = rng.integers(18, 90, n)
    df = pd.DataFrame(
        {
            "age": age,
            "sex": rng.choice(["F", "M"], n),
            "province": rng.choice(list("ABCDEFGH"), n),
            "sbp": np.round(90 + 0.9 * age + rng.normal(0, 8, n)),
            "bmi": np.round(rng.normal(24, 4, n), 1),
        }
    )
    df["dx"] = np.where(df["sbp"] > 140, "htn", rng.choice(["none", "dm", "copd"], n))
    df["htn"] = (df["dx"] == "htn").astype(int)
    return df


def test_model_utility_against_baseline():
    df = _people(3000, seed=0)
    h = {"age": age_hierarchy(99, (10, 50))}
    light = anonymize(df, h, [1], k=2).data
    heavy = anonymize(df, h, [3], k=2).data  # every age is "*"
    scores = model_utility(df, light, "htn", ["age", "sex"], seed=1).scores
    base = scores.loc["majority baseline", "accuracy"]
    assert scores.loc["original", "accuracy"] > base + 0.02
    assert scores.loc["released", "accuracy"] > base + 0.02
    blind = model_utility(df, heavy, "htn", ["age", "sex"], seed=1).scores
    assert blind.loc["released", "accuracy"] == pytest.approx(base, abs=0.02)
    again = model_utility(df, light, "htn", ["age", "sex"], seed=1).scores
    pd.testing.assert_frame_equal(scores, again)


def test_statistic_error_by_hand():
    df = pd.DataFrame({"prov": list("AABBCC"), "band": list("xyxyxy"), "ill": [1, 0, 1, 1, 0, 0]})
    released = df.drop(index=[1, 4, 5]).assign(ill=lambda d: d["ill"].astype(float))
    err = statistic_error(df, released, "ill", "prov")
    assert err["n_released"].tolist() == [1, 2, 0]
    assert err["abs_error"].iloc[:2].tolist() == [0.5, 0.0] and np.isnan(err["released"].iloc[2])
    assert err.max_abs_error == 0.5 and "StatisticError" in err._repr_html_()
    both = statistic_error(df, released, "ill", ["prov", "band"])
    assert len(both.table) == 6
    with pytest.raises(InvalidParameterError, match="index"):
        statistic_error(df, released.set_axis(range(10, 13)), "ill", "prov")


@pytest.fixture(scope="module")
def worlds():
    original, control, independent = _people(1500, 10), _people(1500, 11), _people(1500, 12)
    return original, control, independent


def test_attacks_see_a_copy_but_not_an_independent_sample(worlds):
    original, control, independent = worlds
    leaked = original.sample(frac=1.0, random_state=0).reset_index(drop=True)
    aux = ["age", "sex", "province", "sbp"]
    risky = {
        "singling out": singling_out_risk(original, leaked, control, n_attacks=200, seed=0),
        "linkability": linkability_risk(
            original,
            leaked,
            control,
            (["age", "bmi"], ["sex", "province", "sbp"]),
            n_attacks=200,
            n_neighbors=3,
            seed=0,
        ),
        "inference": inference_risk(original, leaked, control, aux, "dx", n_attacks=200, seed=0),
    }
    safe = {
        "singling out": singling_out_risk(original, independent, control, n_attacks=200, seed=0),
        "linkability": linkability_risk(
            original,
            independent,
            control,
            (["age", "bmi"], ["sex", "province", "sbp"]),
            n_attacks=200,
            n_neighbors=3,
            seed=0,
        ),
        "inference": inference_risk(
            original, independent, control, aux, "dx", n_attacks=200, seed=0
        ),
    }
    for name in risky:
        assert risky[name].risk > 0.3, name
        assert risky[name].informative, name
        assert safe[name].risk < 0.1, name
        low, high = risky[name].risk_ci
        assert low <= risky[name].risk <= high
    frame = risky["inference"].to_frame()
    assert frame.loc["risk", "value"] == risky["inference"].risk


def test_attacks_are_seeded(worlds):
    original, control, independent = worlds
    a = singling_out_risk(original, independent, control, n_attacks=100, n_cols=3, seed=5)
    b = singling_out_risk(original, independent, control, n_attacks=100, n_cols=3, seed=5)
    assert a == b
    c = inference_risk(original, independent, control, ["age", "sex"], "sbp", n_attacks=100, seed=5)
    d = inference_risk(original, independent, control, ["age", "sex"], "sbp", n_attacks=100, seed=5)
    assert c == d


def test_attack_bad_input(worlds):
    original, control, independent = worlds
    with pytest.raises(InvalidParameterError, match="also in aux_cols"):
        inference_risk(original, independent, control, ["age", "dx"], "dx")
    with pytest.raises(InvalidParameterError, match="two lists"):
        linkability_risk(original, independent, control, ["age"])
    with pytest.raises(InvalidParameterError, match="n_attacks"):
        singling_out_risk(original, independent, control, n_attacks=0)
    with pytest.raises(InvalidParameterError, match="not a column"):
        singling_out_risk(original, independent, control, columns=["zip"])
