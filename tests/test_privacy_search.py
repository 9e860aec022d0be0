"""Optimal lattice search against exhaustive search; Mondrian; microaggregation."""

from __future__ import annotations

import itertools
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from healthlab.errors import InvalidParameterError
from healthlab.privacy import (
    age_hierarchy,
    anonymize,
    load_hierarchy,
    microaggregate,
    mondrian,
    optimal_generalization,
    risk_report,
)

ADULT = Path(__file__).parent / "data" / "adult-arx"


@pytest.fixture(scope="module")
def small_adult():
    df = pd.read_csv(ADULT / "adult.csv", sep=";")
    return df.sample(3000, random_state=7)


def _hierarchies(cols):
    return {q: load_hierarchy(ADULT / f"adult_hierarchy_{q}.csv") for q in cols}


def _exhaustive(df, hierarchies, k, limit, metric):
    """Every node through anonymize(): the search's independent reference."""
    cols = list(hierarchies)
    heights = [h.shape[1] - 1 for h in hierarchies.values()]
    rows = []
    for node in itertools.product(*[range(h + 1) for h in heights]):
        audit = anonymize(df, hierarchies, list(node), k).audit
        value = {
            "discernibility": audit.discernibility,
            "ncp": audit.ncp,
            "precision": float(np.mean([lv / h for lv, h in zip(node, heights)])),
        }[metric]
        feasible = audit.records_suppressed <= limit * len(df)
        rows.append((*node, audit.records_suppressed, feasible, value))
    return pd.DataFrame(rows, columns=[*cols, "suppressed", "feasible", metric])


@pytest.mark.parametrize(
    ("cols", "k", "limit", "metric"),
    [
        (["sex", "age", "race", "marital-status"], 5, 0.02, "discernibility"),
        (["sex", "age", "race", "marital-status"], 10, 0.0, "ncp"),
        (["age", "education", "workclass"], 3, 0.05, "ncp"),
        (["age", "education", "workclass"], 5, 0.01, "precision"),
    ],
)
def test_search_matches_exhaustive(small_adult, cols, k, limit, metric):
    hierarchies = _hierarchies(cols)
    result = optimal_generalization(
        small_adult, hierarchies, k, suppression_limit=limit, metric=metric
    )
    brute = _exhaustive(small_adult, hierarchies, k, limit, metric)
    nodes = result.nodes.sort_values(cols).reset_index(drop=True)
    brute = brute.sort_values(cols).reset_index(drop=True)
    pd.testing.assert_frame_equal(
        nodes[cols + ["suppressed", "feasible"]], brute[cols + ["suppressed", "feasible"]]
    )
    np.testing.assert_allclose(nodes[metric], brute[metric], rtol=1e-12)
    best = brute[brute["feasible"]][metric].min()
    chosen = brute.set_index(cols).loc[tuple(result.levels[c] for c in cols)]
    assert chosen["feasible"] and chosen[metric] == pytest.approx(best)
    assert result.audit.records_suppressed <= limit * len(small_adult)
    assert risk_report(result.data, cols).k >= k


def test_search_rejects_impossible_and_bad_input(small_adult):
    h = _hierarchies(["sex"])
    with pytest.raises(InvalidParameterError, match="no generalisation reaches"):
        optimal_generalization(small_adult.head(3), h, k=5)
    with pytest.raises(InvalidParameterError, match="metric"):
        optimal_generalization(small_adult, h, k=2, metric="entropy")
    with pytest.raises(InvalidParameterError, match="k must be"):
        optimal_generalization(small_adult, h, k=0)
    with pytest.raises(InvalidParameterError, match="more than max_nodes=10"):
        optimal_generalization(small_adult, _hierarchies(["sex", "age", "race"]), 2, max_nodes=10)
    with pytest.raises(InvalidParameterError, match="suppression_limit"):
        optimal_generalization(small_adult, h, k=2, suppression_limit=1.5)


def test_mondrian_by_hand():
    df = pd.DataFrame({"age": [21, 22, 23, 24, 50, 51, 52, 53], "x": range(8)})
    two = mondrian(df, ["age"], k=2)
    assert two.data["age"].tolist() == [
        "21-22",
        "21-22",
        "23-24",
        "23-24",
        "50-51",
        "50-51",
        "52-53",
        "52-53",
    ]
    assert two.audit.ncp == pytest.approx(1 / 32)  # each class spans 1 of the 32 years
    assert two.audit.classes == 4 and two.audit.discernibility == 16
    four = mondrian(df, ["age"], k=4)
    assert sorted(four.data["age"].unique().tolist()) == ["21-24", "50-53"]
    assert four.data["x"].tolist() == list(range(8))


def test_mondrian_is_k_anonymous_on_adult(small_adult):
    cols = ["sex", "age", "race", "marital-status", "education", "workclass"]
    hierarchies = _hierarchies([c for c in cols if c != "age"])
    for k in (2, 5, 20):
        result = mondrian(small_adult, cols, k, hierarchies=hierarchies)
        report = risk_report(result.data, cols)
        assert report.k >= k
        assert report.classes == result.audit.classes
        assert 0 < result.audit.ncp < 1
        assert len(result.data) == len(small_adult)
    # a smaller k keeps more detail
    assert mondrian(small_adult, cols, 2, hierarchies=hierarchies).audit.ncp < result.audit.ncp


def test_mondrian_categorical_labels_are_ancestors(small_adult):
    h = _hierarchies(["education"])
    result = mondrian(small_adult, ["education"], 200, hierarchies=h)
    labels = set(result.data["education"].unique())
    tree = h["education"]
    assert labels <= set(tree.to_numpy().ravel())
    # every record's label is its own value or one of its ancestors
    ancestors = tree.set_index("value")
    for value, label in zip(small_adult["education"], result.data["education"]):
        assert label == value or label in ancestors.loc[value].tolist()


def test_microaggregation_by_hand_and_k():
    df = pd.DataFrame({"sbp": [110, 112, 114, 150, 152, 154], "id": range(6)})
    result = microaggregate(df, ["sbp"], k=3)
    assert result.data["sbp"].tolist() == [112.0] * 3 + [152.0] * 3
    assert result.audit.classes == 2 and result.audit.smallest_class == 3
    rng = np.random.default_rng(3)
    big = pd.DataFrame(rng.normal(size=(700, 3)), columns=["a", "b", "c"])
    for method in ("mdav", "sorted"):
        out = microaggregate(big, ["a", "b", "c"], k=4, method=method)
        sizes = out.data.groupby(["a", "b", "c"]).size()
        assert sizes.min() >= 4 and sizes.max() <= 7
        np.testing.assert_allclose(out.data[["a", "b", "c"]].mean(), big.mean(), atol=1e-12)
    mdav = microaggregate(big, ["a", "b", "c"], k=4).audit.notes["SSE/SST"]
    fast = microaggregate(big, ["a", "b", "c"], k=4, method="sorted").audit.notes["SSE/SST"]
    assert 0 < mdav < fast < 1


def test_anonymisers_bad_input():
    df = pd.DataFrame({"age": [30, None, 40], "dx": ["a", "b", "c"]})
    with pytest.raises(InvalidParameterError, match="missing values"):
        mondrian(df, ["age"], 1)
    with pytest.raises(InvalidParameterError, match="k must be"):
        mondrian(df.dropna(), ["age"], 0)
    with pytest.raises(InvalidParameterError, match="not numeric"):
        microaggregate(df, ["dx"], 2)
    with pytest.raises(InvalidParameterError, match="fewer than k"):
        microaggregate(df.dropna(), ["age"], 5)
    with pytest.raises(InvalidParameterError, match="not a column"):
        mondrian(df, ["zip"], 2)
    with pytest.raises(InvalidParameterError, match="method"):
        microaggregate(df.dropna(), ["age"], 1, method="kmeans")
    assert age_hierarchy(10, (5,)).shape == (11, 3)
