"""Risk measures on hand-computed small tables, and the checks on bad input."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from healthlab.errors import InvalidParameterError
from healthlab.privacy import risk_report
from healthlab.privacy.risk import class_size


@pytest.fixture
def clinic():
    """Ten records; classes (F,30):3, (M,40):4, (F,50):2 and (missing,50):1."""
    return pd.DataFrame(
        {
            "sex": ["F", "F", "F", "M", "M", "M", "M", "F", "F", None],
            "age": [30, 30, 30, 40, 40, 40, 40, 50, 50, 50],
            "dx": ["flu", "flu", "cold", "flu", "cold", "cold", "asthma", "flu", "flu", "cold"],
        }
    )


def test_class_profile_and_prosecutor_risk(clinic):
    r = risk_report(clinic, ["sex", "age"])
    assert (r.k, r.classes, r.sample_uniques, r.n_records) == (1, 4, 1, 10)
    assert r.share_below == {2: 0.1, 3: 0.3, 5: 1.0, 11: 1.0}
    assert r.prosecutor_max == 1.0
    assert r.prosecutor_avg == pytest.approx(0.4)
    assert r.prosecutor_share_above == 1.0  # every class is smaller than 5
    assert risk_report(clinic, ["sex", "age"], threshold=0.3).prosecutor_share_above == 0.6
    hist = r.class_size_histogram
    assert hist.loc["1", "classes"] == 1 and hist.loc["3-4", "records"] == 7
    assert hist["records"].sum() == 10


def test_missing_values_form_their_own_class(clinic):
    sizes = class_size(clinic, ["sex", "age"])
    assert sizes.tolist() == [3, 3, 3, 4, 4, 4, 4, 2, 2, 1]
    filled = clinic.assign(sex=clinic["sex"].fillna("F"))
    assert risk_report(filled, ["sex", "age"]).classes == 3


def test_l_diversity_distinct(clinic):
    r = risk_report(clinic, ["sex", "age"], sensitive=["dx"])
    assert r.l_distinct == {"dx": 1}
    r = risk_report(clinic.iloc[:7], ["sex", "age"], sensitive=["dx"])
    assert r.l_distinct == {"dx": 2}


@pytest.fixture
def two_classes():
    """Class A holds dx {a, a, b}; class B holds {a, b, c, c}."""
    return pd.DataFrame({"g": list("AAABBBB"), "dx": list("aababcc")})


def test_l_diversity_entropy(two_classes):
    r = risk_report(two_classes, ["g"], sensitive=["dx"])
    h_a = -(2 / 3 * math.log(2 / 3) + 1 / 3 * math.log(1 / 3))
    assert r.l_entropy["dx"] == pytest.approx(math.exp(h_a))


@pytest.mark.parametrize(("c", "expected"), [(1.5, 1), (2.0, 1), (2.5, 2), (3.0, 2), (10.0, 2)])
def test_recursive_cl_diversity(two_classes, c, expected):
    # A: r = (2, 1): l=2 needs 2 < c*1. B: r = (2, 1, 1): l=2 needs 2 < 2c, l=3 needs 2 < c.
    r = risk_report(two_classes, ["g"], sensitive=["dx"], c=c)
    assert r.recursive["dx"] == expected


def test_recursive_counts_tail_of_sorted_counts():
    df = pd.DataFrame({"g": ["A"] * 10, "dx": list("aaaaabbbcd")})  # r = (5, 3, 1, 1)
    # l=2: 5 < c*5; l=3: 5 < c*2; l=4: 5 < c*1
    assert risk_report(df, ["g"], sensitive=["dx"], c=1.1).recursive["dx"] == 2
    assert risk_report(df, ["g"], sensitive=["dx"], c=2.6).recursive["dx"] == 3
    assert risk_report(df, ["g"], sensitive=["dx"], c=5.1).recursive["dx"] == 4


def test_t_closeness_by_hand():
    df = pd.DataFrame(
        {
            "sex": list("FFFMMM"),
            "age": [30, 30, 30, 40, 40, None],
            "dx": ["flu", "flu", "cold", "flu", "cold", "x"],
            "sbp": [100, 120, 140, 100, 100, 140],
        }
    )
    r = risk_report(df, ["sex", "age"], sensitive=["dx", "sbp"])
    # dx overall (flu, cold, x) = (1/2, 1/3, 1/6); class (M, missing) holds only x:
    # 1/2 * (1/2 + 1/3 + 5/6) = 5/6
    assert r.t_distance == {"dx": "equal", "sbp": "ordered"}
    assert r.t_closeness["dx"] == pytest.approx(5 / 6)
    # sbp overall cumulative over (100, 120, 140) = (1/2, 2/3, 1); class {140}: (0, 0, 1):
    # (1/2 + 2/3) / (3 - 1) = 7/12
    assert r.t_closeness["sbp"] == pytest.approx(7 / 12)


def _emd_reference(df, qis, s, ordered):
    """Direct, loop-based EMD over every class (the definition of Li et al. 2007)."""
    values = sorted(df[s].unique()) if ordered else list(df[s].unique())
    q = df[s].value_counts(normalize=True).reindex(values).to_numpy()
    worst = 0.0
    for _, group in df.groupby(qis):
        p = group[s].value_counts(normalize=True).reindex(values, fill_value=0).to_numpy()
        if ordered:
            d = np.abs(np.cumsum(p - q)).sum() / (len(values) - 1)
        else:
            d = 0.5 * np.abs(p - q).sum()
        worst = max(worst, d)
    return worst


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_t_closeness_matches_direct_definition(seed):
    rng = np.random.default_rng(seed)
    n = 3000
    df = pd.DataFrame(
        {
            "a": rng.integers(0, 6, n),
            "b": rng.choice(list("xyz"), n),
            "sbp": rng.integers(90, 180, n),
            "dx": rng.choice(["htn", "dm", "copd", "ckd", "none"], n, p=[0.3, 0.2, 0.1, 0.1, 0.3]),
        }
    )
    r = risk_report(df, ["a", "b"], sensitive=["sbp", "dx"])
    assert r.t_closeness["sbp"] == pytest.approx(_emd_reference(df, ["a", "b"], "sbp", True))
    assert r.t_closeness["dx"] == pytest.approx(_emd_reference(df, ["a", "b"], "dx", False))


def test_ordered_categorical_uses_ordered_distance():
    levels = pd.CategoricalDtype(["low", "mid", "high"], ordered=True)
    df = pd.DataFrame(
        {"g": list("AABB"), "bp": pd.Series(["low", "low", "high", "high"], dtype=levels)}
    )
    r = risk_report(df, ["g"], sensitive=["bp"])
    assert r.t_distance["bp"] == "ordered"
    # overall (1/2, 0, 1/2), cumulative (1/2, 1/2, 1); class A (1, 1, 1): (1/2 + 1/2) / 2
    assert r.t_closeness["bp"] == pytest.approx(0.5)


def test_journalist_and_marketer_risk():
    population = pd.DataFrame({"sex": list("FFFFMM")})
    sample = pd.DataFrame({"sex": list("FFM")})
    r = risk_report(sample, ["sex"], population=population)
    assert r.journalist_max == pytest.approx(1 / 2)
    assert r.marketer == pytest.approx((2 / 4 + 1 / 2) / 3)
    assert r.population_records == 6
    assert "population of 6" in r.threat_model


def test_population_must_contain_sample():
    with pytest.raises(InvalidParameterError, match="population lacks 1"):
        risk_report(
            pd.DataFrame({"sex": list("FX")}), ["sex"], population=pd.DataFrame({"sex": ["F"]})
        )


def test_report_renders_and_states_threat_model(clinic):
    r = risk_report(clinic, ["sex", "age"], sensitive=["dx"])
    html = r._repr_html_()
    assert "<table" in html and "Prosecutor model" in html and "dx" in html
    frame = r.to_frame()
    assert frame.loc["k (smallest class)", "value"] == 1
    assert "t-closeness, dx" in frame.index


def test_bad_input(clinic):
    with pytest.raises(InvalidParameterError, match=r"\['zip'\].*not a column"):
        risk_report(clinic, ["sex", "zip"])
    with pytest.raises(InvalidParameterError, match="also listed in quasi_identifiers"):
        risk_report(clinic, ["sex", "age"], sensitive=["age"])
    with pytest.raises(InvalidParameterError, match="empty"):
        risk_report(clinic, [])
    with pytest.raises(InvalidParameterError, match="threshold"):
        risk_report(clinic, ["sex"], threshold=0)
    with pytest.raises(InvalidParameterError, match="DataFrame"):
        risk_report(clinic.to_numpy(), ["sex"])
    with pytest.raises(InvalidParameterError, match="more than once"):
        risk_report(clinic, ["sex", "sex"])


@pytest.mark.parametrize("seed", [3, 4])
def test_l_measures_match_direct_definitions(seed):
    rng = np.random.default_rng(seed)
    n = 2000
    df = pd.DataFrame(
        {
            "a": rng.integers(0, 5, n),
            "b": rng.choice(["x", "y", None], n),
            "dx": rng.choice(["htn", "dm", "copd", "ckd", None], n, p=[0.4, 0.3, 0.1, 0.1, 0.1]),
        }
    )
    r = risk_report(df, ["a", "b"], sensitive=["dx"], c=3.0)
    groups = df.assign(dx=df["dx"].fillna("(missing)")).groupby(["a", "b"], dropna=False)["dx"]
    counts = [np.sort(g.value_counts().to_numpy())[::-1] for _, g in groups]
    assert r.classes == len(counts) and r.k == min(c.sum() for c in counts)
    assert r.l_distinct["dx"] == min(len(c) for c in counts)
    entropy = [-(c / c.sum() * np.log(c / c.sum())).sum() for c in counts]
    assert r.l_entropy["dx"] == pytest.approx(np.exp(min(entropy)))
    largest = [
        max(j for j in range(1, len(c) + 1) if c[0] < 3.0 * c[j - 1 :].sum()) for c in counts
    ]
    assert r.recursive["dx"] == min(largest)


def test_duckdb_relation_gives_the_same_report(tmp_path):
    import duckdb

    rng = np.random.default_rng(9)
    n = 5000
    df = pd.DataFrame(
        {
            "sex": rng.choice(["F", "M", None], n, p=[0.49, 0.49, 0.02]),
            "age": rng.integers(20, 40, n),
            "province": rng.choice(["Hebei", "Jilin", "Tibet"], n),
            "dx": rng.choice(["htn", "dm", None], n),
            "sbp": rng.integers(100, 160, n).astype(float),
        }
    )
    df.to_parquet(tmp_path / "t.parquet")
    population = pd.concat([df, df.iloc[:3000]], ignore_index=True)
    population.to_parquet(tmp_path / "p.parquet")
    con = duckdb.connect()
    rel = con.read_parquet(str(tmp_path / "t.parquet"))
    pop = con.read_parquet(str(tmp_path / "p.parquet"))
    qis, sens = ["sex", "age", "province"], ["dx", "sbp"]
    a = risk_report(df, qis, sens, population=population, c=1.5)
    b = risk_report(rel, qis, sens, population=pop, c=1.5)
    for field in ("n_records", "k", "classes", "sample_uniques", "share_below", "l_distinct"):
        assert getattr(a, field) == getattr(b, field), field
    for field in ("recursive", "t_distance", "population_records"):
        assert getattr(a, field) == getattr(b, field), field
    for field in ("prosecutor_avg", "prosecutor_share_above", "journalist_max", "marketer"):
        assert getattr(a, field) == pytest.approx(getattr(b, field)), field
    for s in sens:
        assert a.l_entropy[s] == pytest.approx(b.l_entropy[s])
        assert a.t_closeness[s] == pytest.approx(b.t_closeness[s])
    pd.testing.assert_frame_equal(a.class_size_histogram, b.class_size_histogram)
    with pytest.raises(InvalidParameterError, match="not a column"):
        risk_report(rel, ["zip"])
    with pytest.raises(InvalidParameterError, match="must be a DuckDB relation too"):
        risk_report(rel, qis, population=population)
