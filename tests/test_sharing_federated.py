"""Federated statistics and FedAvg against pooled and local-only analyses."""

import numpy as np
import pandas as pd
import pytest
from sklearn.linear_model import LogisticRegression

from healthlab.errors import InvalidParameterError
from healthlab.sharing import compare_federated, federated_logistic, federated_summary

FEATURES = ["age", "sbp", "smoker"]


def _site(n, shift, seed):
    rng = np.random.default_rng(seed)
    x = np.column_stack([rng.normal(shift, 1, n), rng.normal(-shift, 1, n), rng.random(n) < 0.3])
    logit = -0.5 + x @ np.array([1.0, -0.7, 0.8])
    y = (rng.random(n) < 1 / (1 + np.exp(-logit))).astype(int)
    return pd.DataFrame({"age": x[:, 0], "sbp": x[:, 1], "smoker": x[:, 2].astype(float), "y": y})


@pytest.fixture(scope="module")
def sites():
    # Non-identically distributed sites of very different sizes.
    return {"big": _site(3000, -1.0, 1), "mid": _site(800, 0.5, 2), "small": _site(150, 1.5, 3)}


def test_summary_equals_pooled(sites):
    pooled = pd.concat(sites.values())
    s = federated_summary(sites, ["age", "sbp"], bins=400)
    for col in ["age", "sbp"]:
        assert s.loc[col, "n"] == len(pooled)
        assert s.loc[col, "mean"] == pytest.approx(pooled[col].mean(), rel=1e-12)
        assert s.loc[col, "sd"] == pytest.approx(pooled[col].std(), rel=1e-9)
        assert s.loc[col, "min"] == pooled[col].min() and s.loc[col, "max"] == pooled[col].max()
        width = (pooled[col].max() - pooled[col].min()) / 400
        assert abs(s.loc[col, "median"] - pooled[col].median()) <= width
        assert abs(s.loc[col, "q75"] - pooled[col].quantile(0.75)) <= width
    assert (s["sites"] == 3).all()


def test_summary_ignores_missing():
    a = pd.DataFrame({"x": [1.0, np.nan, 3.0]})
    b = pd.DataFrame({"x": [5.0]})
    s = federated_summary({"a": a, "b": b}, ["x"])
    assert s.loc["x", "n"] == 3 and s.loc["x", "mean"] == 3.0


def test_fedavg_close_to_pooled(sites):
    model = federated_logistic(sites, FEATURES, "y", rounds=30, seed=0)
    pooled = pd.concat(sites.values())
    ref = LogisticRegression(max_iter=1000).fit(pooled[FEATURES], pooled["y"])
    np.testing.assert_allclose(model.coef_, ref.coef_, atol=0.05)
    np.testing.assert_allclose(model.intercept_, ref.intercept_, atol=0.05)
    assert len(model.history_) == 30
    p = model.predict_proba(pooled[FEATURES].to_numpy())[:, 1]
    assert np.all((p > 0) & (p < 1))


def test_fedavg_reproducible(sites):
    # With a share of the sites drawn each round, the seed decides who takes part: the same
    # seed gives the same model, another seed another one; with every site, no seed matters.
    kw = {"rounds": 5, "site_fraction": 0.5}
    a = federated_logistic(sites, FEATURES, "y", seed=3, **kw)
    b = federated_logistic(sites, FEATURES, "y", seed=3, **kw)
    np.testing.assert_array_equal(a.coef_, b.coef_)
    others = [federated_logistic(sites, FEATURES, "y", seed=s, **kw).coef_ for s in (4, 5, 6)]
    assert any(not np.array_equal(a.coef_, c) for c in others)
    every = [federated_logistic(sites, FEATURES, "y", rounds=5, seed=s).coef_ for s in (0, 1)]
    np.testing.assert_allclose(every[0], every[1], rtol=1e-12)
    with pytest.raises(InvalidParameterError, match="site_fraction"):
        federated_logistic(sites, FEATURES, "y", site_fraction=0)


def test_compare_federated_beats_small_local(sites):
    res = compare_federated(sites, FEATURES, "y", seed=0)
    auc = res.pivot(index="site", columns="model", values="auc")
    assert set(auc.columns) == {"local", "federated", "pooled"}
    assert abs(auc.loc["all", "federated"] - auc.loc["all", "pooled"]) < 0.01
    # The small site's own model is fitted on ~100 rows; the federated one is at least as good.
    assert auc.loc["small", "federated"] >= auc.loc["small", "local"] - 0.01
    assert (res["n_test"] > 0).all()


def test_bad_inputs(sites):
    with pytest.raises(InvalidParameterError, match="no column"):
        federated_logistic(sites, ["age", "nope"], "y")
    with pytest.raises(InvalidParameterError, match="0/1"):
        federated_logistic({"a": sites["big"].assign(y=2)}, FEATURES, "y")
    with pytest.raises(InvalidParameterError, match="rounds"):
        federated_logistic(sites, FEATURES, "y", rounds=0)
    with pytest.raises(InvalidParameterError, match="sites"):
        federated_summary([], ["age"])
