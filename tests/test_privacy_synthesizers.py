"""Synthesisers: seeded, shaped like their input, and leaking exactly as documented."""

import numpy as np
import pandas as pd
import pytest

from healthlab.errors import InvalidParameterError
from healthlab.privacy import inference_risk, synthesize


@pytest.fixture(scope="module")
def people():
    rng = np.random.default_rng(3)
    n = 1500
    age = rng.integers(18, 90, n)
    return pd.DataFrame(
        {
            "sex": pd.Categorical(rng.choice(["F", "M"], n)),
            "age": age.astype("int16"),
            "bmi": rng.normal(24, 4, n).round(1),
            "birth": pd.Timestamp("2020-01-01") - pd.to_timedelta(age * 365, unit="D"),
            "ill": rng.random(n) < (age - 10) / 100,
        }
    )


@pytest.mark.parametrize("method", ["bootstrap", "marginals", "cart"])
def test_same_seed_same_table_and_input_dtypes(people, method):
    a = synthesize(people, method=method, seed=5)
    b = synthesize(people, method=method, seed=5)
    pd.testing.assert_frame_equal(a, b)
    assert a.dtypes.to_dict() == people.dtypes.to_dict()
    assert len(synthesize(people, 200, method=method, seed=5)) == 200
    assert not a.equals(synthesize(people, method=method, seed=6))
    for c in people.columns:  # every value is one the input holds
        assert set(a[c].astype(str)) <= set(people[c].astype(str))


def test_cart_keeps_the_relation_marginals_lose_it(people):
    def slope(t):
        return np.corrcoef(t["age"].astype(float), t["ill"].astype(float))[0, 1]

    truth = slope(people)
    assert abs(slope(synthesize(people, method="cart", min_leaf=20, seed=1)) - truth) < 0.1
    assert abs(slope(synthesize(people, method="marginals", seed=1))) < 0.08


def test_deep_trees_memorise_and_large_leaves_do_not(people):
    original, control = people.iloc[:750], people.iloc[750:].reset_index(drop=True)
    aux = ["sex", "age", "bmi"]

    def risk(fake):
        return inference_risk(original, fake, control, aux, "ill", n_attacks=300, seed=0).risk

    copied = synthesize(original, method="cart", min_leaf=1, seed=2)
    blurred = synthesize(original, method="cart", min_leaf=100, seed=2)
    assert risk(copied) > 0.5
    assert risk(blurred) < risk(copied) - 0.3


@pytest.mark.parametrize(
    "kwargs, match",
    [({"method": "gan"}, "method"), ({"min_leaf": 0}, "min_leaf"), ({"n": -1}, "n must")],
)
def test_bad_arguments_are_refused(people, kwargs, match):
    with pytest.raises(InvalidParameterError, match=match):
        synthesize(people, **kwargs)
