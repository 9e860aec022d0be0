"""Differential privacy: the budget refuses overspending; releases keep within their bounds.

OpenDP takes no seed, so releases are checked against their a-priori error bounds. Each check
is built so that a correct implementation fails it with probability below about 1e-8.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy.stats import binom

from healthlab.errors import HealthlabError, InvalidParameterError
from healthlab.privacy import (
    PrivacyBudget,
    PrivacyBudgetExceededError,
    PrivateTable,
    privacy_utility_curve,
)


@pytest.fixture
def patients():
    rng = np.random.default_rng(0)
    return pd.DataFrame(
        {
            "age": rng.integers(0, 100, 2000).astype(float),
            "province": rng.choice(["Hebei", "Sichuan", "Jilin"], 2000, p=[0.5, 0.3, 0.2]),
        }
    )


def _max_failures(n, alpha, p_fail=1e-8):
    """Largest number of bound violations among n releases we accept (binomial tail)."""
    return int(binom.isf(p_fail, n, alpha))


def test_budget_refuses_a_release_past_it(patients):
    table = PrivateTable(patients, PrivacyBudget(1.0))
    table.count(epsilon=0.5)
    table.sum("age", bounds=(0, 100), epsilon=0.4)
    assert table.budget.spent == pytest.approx(0.9)
    with pytest.raises(PrivacyBudgetExceededError, match="only 0.1 of the budget's 1 is left"):
        table.count(epsilon=0.2)
    assert issubclass(PrivacyBudgetExceededError, HealthlabError)
    assert table.budget.spent == pytest.approx(0.9)  # the refused release cost nothing
    assert len(table.budget.to_frame()) == 2
    table.count(epsilon=0.1)  # exactly what is left is allowed
    with pytest.raises(PrivacyBudgetExceededError):
        table.histogram("province", categories=["Hebei"], epsilon=0.01)


def test_count_within_its_bound(patients):
    n_rel, alpha = 200, 0.05
    table = PrivateTable(patients, budget=n_rel * 0.1)
    releases = [table.count(epsilon=0.1, alpha=alpha) for _ in range(n_rel)]
    r = releases[0]
    assert r.mechanism == "discrete Laplace" and r.noise_scale == pytest.approx(10.0)
    assert r.epsilon == pytest.approx(0.1)
    misses = sum(abs(x.value - 2000) > x.accuracy for x in releases)
    assert misses <= _max_failures(n_rel, alpha)
    assert len({x.value for x in releases}) > 1  # it is random
    tight = PrivateTable(patients, budget=1.0).count(epsilon=1.0, alpha=1e-9)
    assert abs(tight.value - 2000) <= tight.accuracy


def test_sum_and_mean_within_their_bounds(patients):
    truth_sum, truth_mean = patients["age"].sum(), patients["age"].mean()
    n_rel, alpha = 100, 0.05
    table = PrivateTable(patients, budget=n_rel * 2.0)
    sums = [table.sum("age", bounds=(0, 100), epsilon=1.0, alpha=alpha) for _ in range(n_rel)]
    means = [table.mean("age", bounds=(0, 100), epsilon=1.0, alpha=alpha) for _ in range(n_rel)]
    assert sums[0].noise_scale == pytest.approx(100.0, rel=1e-6)
    assert sum(abs(r.value - truth_sum) > r.accuracy for r in sums) <= _max_failures(n_rel, alpha)
    assert sum(abs(r.value - truth_mean) > r.accuracy for r in means) <= _max_failures(n_rel, alpha)
    assert table.budget.spent == pytest.approx(n_rel * 2.0)


def test_histogram_cells_within_bound(patients):
    cats = ["Hebei", "Sichuan", "Jilin"]
    truth = patients["province"].value_counts().reindex(cats).tolist() + [0]
    n_rel, alpha = 50, 0.05
    table = PrivateTable(patients, budget=n_rel * 0.5)
    misses = 0
    for _ in range(n_rel):
        r = table.histogram("province", categories=cats, epsilon=0.5, alpha=alpha)
        assert r.value.index.tolist() == cats + ["(other)"]
        misses += int(np.sum(np.abs(r.value.to_numpy() - truth) > r.accuracy))
    assert misses <= _max_failures(n_rel * 4, alpha)


def test_privacy_unit_is_the_patient():
    visits = pd.DataFrame({"pid": np.repeat(np.arange(100), 10), "cost": 1.0})
    table = PrivateTable(visits, budget=10.0, unit="pid", max_contributions=2)
    r = table.count(epsilon=10.0, alpha=1e-9)
    # at most 2 rows per patient remain: 200; the privacy map is over 2 rows per patient
    assert abs(r.value - 200) <= r.accuracy < 50
    assert r.noise_scale == pytest.approx(0.2)


def test_privacy_utility_curve(patients):
    curve = privacy_utility_curve(patients, [0.05, 0.5, 5.0], repeats=30)
    assert curve["error_bound"].is_monotonic_decreasing
    assert curve["noise_scale"].is_monotonic_decreasing
    assert (curve["within_bound"] >= 0.7).all()
    means = privacy_utility_curve(
        patients, [0.5, 5.0], query="mean", column="age", bounds=(0, 100), repeats=10
    )
    assert means["mean_abs_error"].iloc[1] < means["error_bound"].iloc[1]


def test_bad_input(patients):
    table = PrivateTable(patients, budget=1.0)
    with pytest.raises(InvalidParameterError, match="epsilon must be a positive"):
        table.count(epsilon=0)
    with pytest.raises(InvalidParameterError, match="bounds"):
        table.sum("age", bounds=(100, 0), epsilon=0.1)
    with pytest.raises(InvalidParameterError, match="not numeric"):
        table.sum("province", bounds=(0, 1), epsilon=0.1)
    with pytest.raises(InvalidParameterError, match="distinct"):
        table.histogram("province", categories=["a", "a"], epsilon=0.1)
    with pytest.raises(InvalidParameterError, match="not a column"):
        table.mean("weight", bounds=(0, 1), epsilon=0.1)
    with pytest.raises(InvalidParameterError, match="max_contributions"):
        PrivateTable(patients, budget=1.0, max_contributions=0)
    with pytest.raises(InvalidParameterError, match="epsilon"):
        PrivacyBudget(-1)
    assert table.budget.spent == 0


def test_mean_is_refused_whole():
    table = PrivateTable(pd.DataFrame({"age": [30.0] * 50}), budget=1.0)
    table.count(epsilon=0.7)
    with pytest.raises(PrivacyBudgetExceededError, match="mean of age"):
        table.mean("age", bounds=(0, 100), epsilon=0.4)
    assert table.budget.spent == pytest.approx(0.7)  # no half-spent mean
