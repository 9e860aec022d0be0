"""Tests of healthlab.allocation against PySAL, closed forms, simulation and brute force."""

from __future__ import annotations

import itertools
import math
import random

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm
from access import Access
from inequality.gini import Gini
from inequality.theil import Theil, TheilD

from healthlab.allocation import (
    allocate_resources,
    beds_needed,
    concentration_curve,
    concentration_index,
    e2sfca,
    erlang_b,
    erlang_c,
    forecast_rates,
    forecast_sarimax,
    gaussian_decay,
    gini,
    lorenz_curve,
    mmc,
    simulate_ward,
    theil,
    theil_decomposition,
    two_step_fca,
)
from healthlab.errors import InvalidParameterError

# PySAL access (the oracle) still calls DataFrame.set_index(inplace=True) under pandas 3.
pytestmark = pytest.mark.filterwarnings("ignore:The inplace keyword:DeprecationWarning")


@pytest.fixture(scope="module")
def provinces():
    rng = np.random.default_rng(7)
    beds = rng.lognormal(np.log(6.5), 0.25, 31)  # beds per 1,000 by province
    pop = rng.integers(3, 127, 31)  # millions, whole so they can be expanded
    region = rng.choice(["east", "central", "west", "northeast"], 31)
    return beds, pop, region


# --- equity against PySAL inequality -------------------------------------------------------
def test_gini_and_theil_match_pysal_with_equal_weights(provinces):
    beds, _, _ = provinces
    assert gini(beds) == pytest.approx(Gini(beds).g, abs=1e-12)
    assert theil(beds) == pytest.approx(Theil(beds).T, abs=1e-12)


def test_weighted_indices_equal_pysal_on_expanded_units(provinces):
    beds, pop, region = provinces
    expanded = np.repeat(beds, pop)
    assert gini(beds, pop) == pytest.approx(Gini(expanded).g, abs=1e-12)
    assert theil(beds, pop) == pytest.approx(Theil(expanded).T, abs=1e-12)
    d = theil_decomposition(beds, region, pop)
    ref = TheilD(expanded, np.repeat(region, pop))
    assert d.total == pytest.approx(float(np.squeeze(ref.T)), abs=1e-12)
    assert d.between == pytest.approx(float(np.squeeze(ref.bg)), abs=1e-12)
    assert d.within == pytest.approx(float(np.squeeze(ref.wg)), abs=1e-12)


def test_theil_decomposition_matches_pysal_equal_weights(provinces):
    beds, _, region = provinces
    d = theil_decomposition(beds, region)
    ref = TheilD(beds, region)
    assert d.between == pytest.approx(float(np.squeeze(ref.bg)), abs=1e-12)
    assert d.within == pytest.approx(float(np.squeeze(ref.wg)), abs=1e-12)
    g = d.groups
    assert g["within"].sum() + g["between"].sum() == pytest.approx(d.total)
    for name, part in pd.Series(beds).groupby(region):
        assert g.set_index("group").loc[name, "theil"] == pytest.approx(theil(part))
    s = d.summary().set_index("component")
    assert s.loc["between", "share"] + s.loc["within", "share"] == pytest.approx(1.0)


def test_lorenz_curve_area_gives_gini(provinces):
    beds, pop, _ = provinces
    lc = lorenz_curve(beds, pop)
    assert lc.iloc[0].tolist() == [0.0, 0.0] and lc.iloc[-1].tolist() == [1.0, 1.0]
    area = np.trapezoid(lc["value_share"], lc["population_share"])
    assert 1 - 2 * area == pytest.approx(Gini(np.repeat(beds, pop)).g, abs=1e-12)
    equal = lorenz_curve(beds)
    area = np.trapezoid(equal["value_share"], equal["population_share"])
    assert 1 - 2 * area == pytest.approx(Gini(beds).g, abs=1e-12)
    assert (np.diff(lc["value_share"]) >= 0).all()


def test_concentration_index_against_gini_and_regression():
    rng = np.random.default_rng(11)
    income = rng.lognormal(10, 0.6, 400)
    h = rng.gamma(2.0, 1.0, 400) * (1 + 1e-4 * rng.random(400))
    # ranked by itself, the concentration index is the Gini coefficient
    assert concentration_index(h, h) == pytest.approx(Gini(h).g, abs=1e-12)
    # the convenient regression (O'Donnell et al. 2008, eq. 8.7): 2 var(R) h/mu = a + b R
    w = rng.integers(1, 5, 400).astype(float)
    c = concentration_index(h, income, w)
    p = w / w.sum()
    order = np.argsort(income)
    rank = np.empty(400)
    rank[order] = np.cumsum(p[order]) - p[order] / 2
    mu = (p * h).sum()
    var_r = (p * (rank - (p * rank).sum()) ** 2).sum()
    fit = sm.WLS(2 * var_r * h / mu, sm.add_constant(rank), weights=w).fit()
    assert c == pytest.approx(fit.params[1], abs=1e-10)
    # weights equal expanding the units
    wi = w.astype(int)
    assert c == pytest.approx(concentration_index(np.repeat(h, wi), np.repeat(income, wi)))


def test_erreygers_bounds_and_binary_extremes():
    ill = np.array([1, 1, 0, 0, 0, 0])
    inc = np.arange(6)
    assert concentration_index(ill, inc, kind="erreygers") == pytest.approx(-8 / 9)  # 8 cov(h, R)
    assert concentration_index(ill[::-1], inc, kind="erreygers") == pytest.approx(8 / 9)
    score = np.array([20.0, 30, 50, 70, 80, 90])
    e = concentration_index(score, inc, kind="erreygers", bounds=(0, 100))
    assert e == pytest.approx(4 * score.mean() * concentration_index(score, inc) / 100)
    with pytest.raises(InvalidParameterError, match="bounds"):
        concentration_index(score, inc, kind="erreygers")
    with pytest.raises(InvalidParameterError, match="bounds"):
        concentration_index(score, inc, kind="erreygers", bounds=(0, 50))
    cc = concentration_curve(ill, inc)
    assert cc["health_share"].iloc[2] == pytest.approx(2 / 6 * 3)  # all ill among the poorest


def test_equity_validation():
    with pytest.raises(InvalidParameterError, match="negative"):
        gini([1, -2, 3])
    with pytest.raises(InvalidParameterError, match="weights"):
        gini([1, 2, 3], weights=[1, 2])
    with pytest.raises(InvalidParameterError, match="mean"):
        theil([0, 0])
    with pytest.raises(InvalidParameterError, match="groups"):
        theil_decomposition([1, 2], ["a"])


# --- accessibility against PySAL access ----------------------------------------------------
@pytest.fixture(scope="module")
def places():
    rng = np.random.default_rng(3)
    o = pd.DataFrame({"origin": np.arange(300), "population": rng.integers(100, 5000, 300)})
    d = pd.DataFrame({"destination": np.arange(1000, 1040), "capacity": rng.integers(1, 80, 40)})
    xy_o, xy_d = rng.uniform(0, 80, (300, 2)), rng.uniform(0, 80, (40, 2))
    dist = np.sqrt(((xy_o[:, None, :] - xy_d[None, :, :]) ** 2).sum(-1))
    cost = pd.DataFrame(
        {
            "origin": np.repeat(o["origin"].to_numpy(), 40),
            "destination": np.tile(d["destination"].to_numpy(), 300),
            "cost": dist.ravel(),
        }
    )
    ref = Access(
        demand_df=o, demand_index="origin", demand_value="population",
        supply_df=d, supply_index="destination", supply_value="capacity",
        cost_df=cost, cost_origin="origin", cost_dest="destination", cost_name="cost",
    )  # fmt: skip
    return o, d, cost, ref


def test_two_step_fca_matches_pysal_access(places):
    o, d, cost, ref = places
    ours = two_step_fca(o, d, cost, max_cost=15).set_index("origin")["access"]
    theirs = ref.two_stage_fca(max_cost=15).iloc[:, 0].reindex(ours.index).fillna(0.0)
    assert np.abs(ours - theirs).max() < 1e-15
    assert (ours == 0).any() and (ours > 0).any()


def test_e2sfca_matches_pysal_access(places):
    o, d, cost, ref = places
    ours = e2sfca(o, d, cost).set_index("origin")["access"]
    theirs = ref.enhanced_two_stage_fca().iloc[:, 0].reindex(ours.index).fillna(0.0)
    assert np.abs(ours - theirs).max() < 1e-15


def test_gaussian_decay_matches_pysal_access(places):
    from access import weights

    o, d, cost, ref = places
    ours = two_step_fca(o, d, cost, max_cost=30, decay=gaussian_decay(10))
    theirs = ref.two_stage_fca(name="g", max_cost=30, weight_fn=weights.gaussian(10))
    diff = ours.set_index("origin")["access"] - theirs.iloc[:, 0].reindex(ours["origin"]).fillna(0)
    assert np.abs(diff).max() < 1e-15


def test_two_step_fca_conserves_supply_and_validates(places):
    o, d, cost, _ = places
    # with a catchment that reaches everything, access is total supply / total population
    out = two_step_fca(o, d, cost, max_cost=1e6)
    assert out["access"].to_numpy() == pytest.approx(d.capacity.sum() / o.population.sum())
    # and supply is conserved: sum_i P_i A_i equals the reachable capacity
    out = two_step_fca(o, d, cost, max_cost=20)
    reach = cost[cost.cost <= 20].destination.unique()
    cap = d[d.destination.isin(reach)].capacity.sum()
    assert (out.population * out.access).sum() == pytest.approx(cap)
    with pytest.raises(InvalidParameterError, match="negative"):
        two_step_fca(o.assign(population=-1), d, cost, max_cost=20)
    with pytest.raises(InvalidParameterError, match="repeats"):
        two_step_fca(pd.concat([o, o]), d, cost, max_cost=20)
    with pytest.raises(InvalidParameterError, match="lacks"):
        two_step_fca(o.rename(columns={"population": "pop"}), d, cost, max_cost=20)


# --- queueing -------------------------------------------------------------------------------
def _erlang_b_recursive(c, a):
    b = 1.0
    for k in range(1, c + 1):
        b = a * b / (k + a * b)
    return b


@pytest.mark.parametrize(("c", "a"), [(1, 0.5), (5, 4.0), (10, 7.3), (60, 50.0), (2000, 1900.0)])
def test_erlang_b_and_c_against_closed_forms(c, a):
    b = erlang_b(c, a)
    assert b == pytest.approx(_erlang_b_recursive(c, a), rel=1e-10)
    if c <= 60:
        terms = [a**k / math.factorial(k) for k in range(c + 1)]
        assert b == pytest.approx(terms[-1] / sum(terms), rel=1e-10)
        top = a**c / math.factorial(c) * c / (c - a)
        assert erlang_c(c, a) == pytest.approx(top / (sum(terms[:-1]) + top), rel=1e-10)


def test_mm1_closed_forms_and_vectorised_inputs():
    lam, mu = 0.6, 1.0
    out = mmc(lam, 1 / mu, 1, wait_target=2.0).iloc[0]
    assert out["p_wait"] == pytest.approx(lam / mu)
    assert out["mean_wait"] == pytest.approx(lam / (mu * (mu - lam)))
    assert out["mean_queue"] == pytest.approx(lam**2 / (mu * (mu - lam)))
    assert out["p_wait_within"] == pytest.approx(1 - 0.6 * np.exp(-(mu - lam) * 2.0))
    grid = mmc(np.array([1.0, 2.0, 3.0]), 1.0, 3)
    assert np.isinf(grid["mean_wait"].iloc[-1]) and grid["p_wait"].iloc[-1] == 1.0
    assert erlang_b(np.array([1, 2, 3]), 2.0).shape == (3,)


def test_beds_needed_is_minimal():
    lam = np.array([0.5, 3.0, 12.0, 80.0, 900.0])
    for model, f in (("loss", erlang_b), ("wait", erlang_c)):
        out = beds_needed(lam, 7.0, target=0.02, model=model)
        a = lam * 7
        for c, load in zip(out["beds"], a):
            assert f(int(c), load) <= 0.02
            assert c == 1 or f(int(c) - 1, load) > 0.02
    out = beds_needed(80.0, 7.0, target=0.02)
    assert out["occupancy"].iloc[0] == pytest.approx(
        560 * (1 - out["probability"].iloc[0]) / out["beds"].iloc[0]
    )
    with pytest.raises(InvalidParameterError, match="target"):
        beds_needed(1.0, 1.0, target=1.5)
    with pytest.raises(InvalidParameterError, match="servers"):
        erlang_b(0, 1.0)
    with pytest.raises(InvalidParameterError, match="negative"):
        erlang_c(3, -1.0)
    with pytest.raises(InvalidParameterError, match="mismatched lengths"):
        erlang_b([1, 2, 3], [1.0, 2.0])
    with pytest.raises(InvalidParameterError, match="mismatched lengths"):
        beds_needed([1.0, 2.0], [3.0, 4.0, 5.0])
    with pytest.raises(InvalidParameterError, match="mismatched lengths"):
        mmc([1.0, 2.0], 1.0, [3, 4, 5])


def test_ciw_ward_agrees_with_erlang_c_and_b():
    state = random.getstate()
    wait = simulate_ward(4.0, 1.0, 5, horizon=1500, warmup=150, replications=8, seed=2024)
    assert random.getstate() == state  # Python's global stream is left as it was
    for _, row in wait.iterrows():
        assert row["lower"] <= row["theory"] <= row["upper"], row.to_dict()
    loss = simulate_ward(4.0, 1.0, 5, model="loss", horizon=1500, warmup=150, replications=8,
                         seed=2024)  # fmt: skip
    row = loss.iloc[0]
    assert row["lower"] <= row["theory"] <= row["upper"]
    again = simulate_ward(4.0, 1.0, 5, horizon=1500, warmup=150, replications=8, seed=2024)
    pd.testing.assert_frame_equal(wait, again)
    with pytest.raises(InvalidParameterError, match="without bound"):
        simulate_ward(5.0, 1.0, 5)


# --- optimisation ---------------------------------------------------------------------------
def _regions():
    return pd.DataFrame(
        {
            "region": ["east", "central", "west"],
            "population": [5000, 4000, 3000],
            "beds": [30, 18, 9],
            "beds_need": [32, 26, 20],
            "doctors": [15, 8, 4],
            "doctors_need": [15, 12, 10],
        }
    )


def test_unmet_objective_matches_brute_force():
    regions = _regions()
    costs = {"beds": 1.0, "doctors": 3.0}
    res = allocate_resources(regions, budget=20, unit_costs=costs)
    best = np.inf
    need = regions[["beds_need", "doctors_need"]].to_numpy()
    stock = regions[["beds", "doctors"]].to_numpy()
    for xb in itertools.product(range(21), repeat=3):
        spend_b = sum(xb)
        if spend_b > 20:
            continue
        for xd in itertools.product(range((20 - spend_b) // 3 + 1), repeat=3):
            if spend_b + 3 * sum(xd) > 20:
                continue
            after = stock + np.column_stack([xb, xd])
            unmet = np.maximum(need - after, 0).sum(axis=0) / need.sum(axis=0)
            best = min(best, unmet.sum())
    s = res.summary.set_index("resource")
    ours = (s["unmet_after"] / need.sum(axis=0)).sum()
    assert ours == pytest.approx(best, abs=1e-9)
    assert res.spend <= 20
    relaxed = allocate_resources(regions, budget=20, unit_costs=costs, integer=False)
    assert (relaxed.summary["unmet_after"] / need.sum(axis=0)).sum() <= ours + 1e-9


def test_equity_objective_raises_lowest_coverage_and_lowers_gini():
    regions = _regions()
    res = allocate_resources(regions, budget=25, unit_costs={"beds": 1.0, "doctors": 3.0},
                             objective="equity")  # fmt: skip
    unmet = allocate_resources(regions, budget=25, unit_costs={"beds": 1.0, "doctors": 3.0})
    s, u = res.summary.set_index("resource"), unmet.summary.set_index("resource")
    low = min(s["min_coverage_after"])
    assert low >= min(u["min_coverage_after"]) - 1e-9
    assert low > min(s["min_coverage_before"])
    assert (s["gini_after"] < s["gini_before"]).all()
    assert res.spend <= 25
    r = res.regions
    assert (r["after"] == r["before"] + r["added"]).all()
    assert (r["added"] == np.round(r["added"])).all()


def test_allocation_validation():
    regions = _regions()
    with pytest.raises(InvalidParameterError, match="lacks"):
        allocate_resources(regions, budget=5, unit_costs={"nurses": 1.0})
    with pytest.raises(InvalidParameterError, match="negative"):
        allocate_resources(regions.assign(beds=-1), budget=5, unit_costs={"beds": 1.0})
    with pytest.raises(InvalidParameterError, match="objective"):
        allocate_resources(regions, budget=5, unit_costs={"beds": 1.0}, objective="fair")


# --- forecasting ----------------------------------------------------------------------------
def test_poisson_glm_reproduces_rate_mles():
    hist = pd.DataFrame(
        {
            "region": ["e", "e", "w", "w", "w"],
            "admissions": [120, 140, 30, 25, 41],
            "population": [1000.0, 1100, 500, 480, 520],
        }
    )
    fut = pd.DataFrame({"region": ["e", "w"], "population": [2000.0, 1000.0]})
    out = forecast_rates(hist, fut, covariates=["region"])
    # a saturated model: the rate in each group is deaths / exposure, exactly
    assert out["rate"].tolist() == pytest.approx([260 / 2100, 96 / 1500], rel=1e-8)
    assert (out["mean_lower"] < out["expected"]).all() and (out["expected"] < out["upper"]).all()
    with pytest.raises(InvalidParameterError, match="has not seen"):
        forecast_rates(hist, fut.assign(region=["e", "n"]), covariates=["region"])
    with pytest.raises(InvalidParameterError, match="whole counts"):
        forecast_rates(hist.assign(admissions=1.5), fut, covariates=["region"])


def test_negative_binomial_forecast_covers_new_counts():
    rng = np.random.default_rng(99)
    years = np.repeat(np.arange(2010, 2024), 12)
    month = np.tile(np.arange(1, 13), 14)
    pop = 1e5 * (1 + 0.01 * (years - 2010))
    rate = 0.01 * np.exp(0.03 * (years - 2010) + 0.2 * np.sin(month * np.pi / 6))
    alpha = 0.05
    lam = rng.gamma(1 / alpha, alpha * rate * pop)
    hist = pd.DataFrame({"year": years, "month": month.astype(str), "population": pop,
                         "admissions": rng.poisson(lam)})  # fmt: skip
    fut = pd.DataFrame(
        {
            "year": np.repeat([2024, 2025], 12),
            "month": np.tile(np.arange(1, 13), 2).astype(str),
            "population": 1.15e5,
        }
    )
    nb = forecast_rates(hist, fut, covariates=["year", "month"], family="negbin")
    po = forecast_rates(hist, fut, covariates=["year", "month"])
    assert nb.alpha == pytest.approx(alpha, rel=0.5) and po.alpha is None
    assert nb.coefficients["year"] == pytest.approx(0.03, abs=0.01)
    assert ((nb["upper"] - nb["lower"]) > (po["upper"] - po["lower"])).all()
    truth = (
        0.01
        * np.exp(0.03 * (fut["year"] - 2010) + 0.2 * np.sin(fut["month"].astype(int) * np.pi / 6))
        * 1.15e5
    )
    draws = rng.poisson(rng.gamma(1 / alpha, alpha * truth.to_numpy()[None, :], (200, 24)))
    inside = ((draws >= nb["lower"].to_numpy()) & (draws <= nb["upper"].to_numpy())).mean()
    assert 0.9 <= inside <= 1.0


def test_sarimax_recovers_seasonal_ar_and_intervals():
    rng = np.random.default_rng(5)
    n = 120
    season = 20 * np.sin(np.arange(n + 12) * 2 * np.pi / 12)
    e = np.zeros(n + 12)
    for t in range(1, n + 12):
        e[t] = 0.5 * e[t - 1] + rng.normal(0, 5)
    y = 500 + season + e
    idx = pd.period_range("2015-01", periods=n, freq="M")
    fc = forecast_sarimax(pd.Series(y[:n], index=idx), 12, order=(1, 0, 0),
                          seasonal_order=(1, 1, 0, 12), trend="n")  # fmt: skip
    assert str(fc["period"].iloc[0]) == "2025-01"
    truth = 500 + season[n:]
    assert np.abs(fc["forecast"] - truth).mean() < 10
    assert ((fc["lower"] <= y[n:]) & (y[n:] <= fc["upper"])).mean() >= 0.75
    assert (fc["upper"] - fc["lower"]).iloc[-1] > (fc["upper"] - fc["lower"]).iloc[0]
    logged = forecast_sarimax(pd.Series(y[:n], index=idx), 3, log=True)
    assert (logged["lower"] < logged["forecast"]).all()
    with pytest.raises(InvalidParameterError, match="Series"):
        forecast_sarimax(list(y), 3)
    with pytest.raises(InvalidParameterError, match="negative"):
        forecast_sarimax(pd.Series(-y), 3, log=True)
