"""The linkage attack: exact matching on quasi-identifiers against a roster."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from healthlab.errors import InvalidParameterError
from healthlab.privacy import linkage_attack, risk_report


def test_linkage_by_hand():
    released = pd.DataFrame(
        {"zip": ["100", "100", "200", "300", None], "sex": list("FMFFM"), "pid": [1, 2, 3, 9, 5]},
        index=[10, 11, 12, 13, 14],
    )
    roster = pd.DataFrame(
        {"zip": ["100", "100", "200", "200", None], "sex": list("FMFFM"), "pid": [1, 7, 3, 4, 5]}
    )
    r = linkage_attack(released, roster, ["zip", "sex"], released_id="pid", roster_id="pid")
    # 10 -> roster 0 (right), 11 -> roster 1 (wrong person), 12 -> two candidates, 13 -> none,
    # 14 -> roster 4 by its missing zip (right)
    assert (r.matched, r.unique, r.correct) == (4, 3, 2)
    assert r.links["released_index"].tolist() == [10, 11, 14]
    assert r.links["roster_index"].tolist() == [0, 1, 4]
    assert r.links["correct"].tolist() == [True, False, True]
    assert r.reidentification_rate == pytest.approx(2 / 5)
    assert "<table" in r._repr_html_()
    blind = linkage_attack(released, roster, ["zip", "sex"])
    assert blind.correct is None and blind.unique == 3


def _population(n, seed):
    rng = np.random.default_rng(seed)
    birth = pd.Timestamp("1940-01-01") + pd.to_timedelta(rng.integers(0, 365 * 60, n), unit="D")
    return pd.DataFrame(
        {
            "pid": np.arange(n),
            "zip": rng.integers(0, 20, n).astype(str),
            "birth": birth,
            "sex": rng.choice(["F", "M"], n),
        }
    )


def test_sweeney_birth_date_zip_sex_single_out_most():
    population = _population(20_000, seed=1)
    roster = population.sample(frac=0.7, random_state=2)  # a voter roll: 70% registered
    released = population.sample(2000, random_state=3)  # discharges, names removed
    full = linkage_attack(
        released, roster, ["zip", "birth", "sex"], released_id="pid", roster_id="pid"
    )
    # with 20,000 people over 20 zips, 21,900 birth dates and 2 sexes almost everyone is unique:
    # the registered (about 70%) are re-identified, the others matched to no one or wrongly
    assert 0.6 < full.reidentification_rate < 0.75
    assert risk_report(population, ["zip", "birth", "sex"]).share_below[2] > 0.9
    coarse = lambda df: df.assign(birth=df["birth"].dt.year)  # noqa: E731
    year = linkage_attack(
        coarse(released),
        coarse(roster),
        ["zip", "birth", "sex"],
        released_id="pid",
        roster_id="pid",
    )
    assert year.reidentification_rate < 0.1


def test_bad_input():
    df = pd.DataFrame({"zip": ["1"], "pid": [1]})
    with pytest.raises(InvalidParameterError, match="not a column"):
        linkage_attack(df, df.drop(columns="zip"), ["zip"])
    with pytest.raises(InvalidParameterError, match="both released_id and roster_id"):
        linkage_attack(df, df, ["zip"], released_id="pid")
    with pytest.raises(InvalidParameterError, match="DataFrame"):
        linkage_attack(df, [1, 2], ["zip"])
