"""Hierarchies, generalisation, suppression and their audit; the ARX oracles."""

from __future__ import annotations

import importlib.resources
from pathlib import Path

import pandas as pd
import pytest
import yaml

from healthlab.errors import InvalidParameterError
from healthlab.privacy import (
    age_hierarchy,
    anonymize,
    date_hierarchy,
    generalize,
    load_hierarchy,
    prefix_hierarchy,
    region_hierarchy,
    risk_report,
    suppress,
)

ADULT = Path(__file__).parent / "data" / "adult-arx"
QIS = [
    "sex",
    "age",
    "race",
    "marital-status",
    "education",
    "native-country",
    "workclass",
    "occupation",
]


@pytest.fixture(scope="module")
def adult():
    return pd.read_csv(ADULT / "adult.csv", sep=";")


@pytest.fixture(scope="module")
def adult_hierarchies():
    return {q: ADULT / f"adult_hierarchy_{q}.csv" for q in QIS}


@pytest.mark.parametrize(
    ("levels", "k", "suppressed", "classes", "smallest"),
    [
        ([0, 4, 0, 2, 3, 2, 2, 1], 5, 0, 30, 16),
        ([0, 3, 0, 0, 1, 1, 1, 2], 5, 1458, 399, 5),
        ([0, 3, 0, 0, 2, 1, 0, 1], 2, 1240, 1334, 2),
    ],
)
def test_arx_oracles(adult, adult_hierarchies, levels, k, suppressed, classes, smallest):
    result = anonymize(adult, adult_hierarchies, levels, k)
    assert result.n_suppressed == suppressed
    assert result.audit.classes == classes
    assert result.audit.smallest_class == smallest
    assert len(result.data) == len(adult) - suppressed
    # the same through generalize + suppress, and through the risk report
    plain = suppress(generalize(adult, adult_hierarchies, levels), QIS, k)
    assert plain.n_suppressed == suppressed
    report = risk_report(result.data, QIS)
    assert (report.classes, report.k) == (classes, smallest)


def test_audit_by_hand():
    df = pd.DataFrame({"age": [21, 23, 24, 37, 81], "sex": list("FFMMF")})
    result = anonymize(df, {"age": age_hierarchy(99, (5, 10))}, [1], k=2, by="sex")
    audit = result.audit
    assert result.data["age"].tolist() == ["20-24"] * 3
    assert (audit.records_suppressed, audit.cells_suppressed) == (2, 2)
    assert (audit.classes, audit.smallest_class) == (1, 3)
    assert audit.discernibility == 3**2 + 2 * 5
    assert audit.average_class_size == pytest.approx(3 / 1 / 2)
    # a band covers 5 of the hierarchy's 100 ages: (5 - 1) / (100 - 1); suppressed cells cost 1
    assert audit.ncp == pytest.approx((3 * 4 / 99 + 2) / 5)
    assert audit.levels == {"age": 1}
    by = audit.suppressed_by
    assert by.loc["F", "suppressed"] == 1 and by.loc["M", "suppressed"] == 1
    assert by.loc["F", "share_suppressed"] == pytest.approx(1 / 3)
    assert by["cells_suppressed"].to_dict() == {"F": 1, "M": 1}
    assert set(audit.definitions) == {"ncp", "discernibility", "average_class_size"}
    assert "NCP" in audit.to_frame().index and "<table" in result._repr_html_()


def test_root_cells_count_as_suppressed(adult, adult_hierarchies):
    result = anonymize(adult, adult_hierarchies, [1, 0, 0, 0, 0, 0, 0, 0], k=1)
    assert result.audit.cells_suppressed == len(adult)  # sex is "*" everywhere
    assert result.audit.ncp == pytest.approx(1 / 8)
    k5 = anonymize(adult, adult_hierarchies, [1, 3, 0, 0, 1, 1, 1, 2], k=5, by="race")
    by = k5.audit.suppressed_by
    assert by["suppressed"].sum() == k5.n_suppressed
    assert by["cells_suppressed"].sum() == k5.audit.cells_suppressed
    # sex (level 1) and occupation (level 2) are "*" in every kept record
    assert k5.audit.cells_suppressed == k5.n_suppressed * 8 + 2 * len(k5.data)


def test_suppress_reports_dropped_records():
    df = pd.DataFrame({"sex": list("FFFMM"), "zip": ["1", "1", "2", "3", "3"]})
    result = suppress(df, ["sex", "zip"], 2, by="sex")
    assert result.n_suppressed == 1
    assert result.data.index.tolist() == [0, 1, 3, 4]
    assert result.audit.ncp == pytest.approx(1 / 5)
    assert result.audit.suppressed_by["suppressed"].to_dict() == {"F": 1, "M": 0}
    assert suppress(df, ["sex"], 1).n_suppressed == 0


def test_generalize_keeps_missing_and_level_zero():
    df = pd.DataFrame({"age": [23.0, None, 81.0], "dx": ["E11.9", "I10", None]})
    h = {"age": age_hierarchy(99, (10,)), "dx": prefix_hierarchy(["E11.9", "I10"])}
    out = generalize(df, h, {"age": 1, "dx": 2})
    assert out["age"].tolist()[0] == "20-29" and pd.isna(out["age"].iloc[1])
    assert out["dx"].tolist()[:2] == ["E", "I"] and pd.isna(out["dx"].iloc[2])
    same = generalize(df, h, [0, 0])
    pd.testing.assert_frame_equal(same, df)
    assert df["age"].iloc[0] == 23.0  # the input is untouched


def test_load_arx_hierarchy(adult_hierarchies):
    h = load_hierarchy(adult_hierarchies["age"])
    assert h.columns.tolist() == ["value", "level1", "level2", "level3", "level4"]
    assert h.loc[h["value"] == "39"].iloc[0, 1:].tolist() == ["35-39", "30-39", "20-39", "*"]
    assert (load_hierarchy(adult_hierarchies["sex"])["level1"] == "*").all()
    ages = pd.DataFrame({"age": [39.0, None, 17.0]})  # whole floats match the file's text
    out = generalize(ages, {"age": adult_hierarchies["age"]}, [1])["age"]
    assert out.iloc[0] == "35-39" and pd.isna(out.iloc[1]) and out.iloc[2] == "15-19"


def test_built_hierarchies():
    ages = age_hierarchy(100, (5, 10, 20))
    assert len(ages) == 101 and ages.shape[1] == 5
    assert ages.iloc[67, 1:].tolist() == ["65-69", "60-69", "60-79", "*"]
    dates = date_hierarchy(pd.to_datetime(["1957-03-09", "1957-03-20", "2001-12-31", None]))
    assert len(dates) == 3
    assert dates.iloc[2, 1:].tolist() == ["2001-12", "2001", "2000s", "*"]
    born = pd.DataFrame({"birth": pd.to_datetime(["1957-03-09", "2001-12-31", None])})
    years = generalize(born, {"birth": date_hierarchy(born["birth"])}, [2])["birth"]
    assert years.tolist()[:2] == ["1957", "2001"] and pd.isna(years.iloc[2])
    codes = prefix_hierarchy(["J45.0", "J44.1", "E11"])
    assert codes.set_index("value").loc["J44.1"].tolist() == ["J44", "J", "*"]


def test_regions_match_the_census():
    figures = yaml.safe_load(
        (importlib.resources.files("healthlab") / "data" / "china.yaml").read_text("utf-8")
    )
    provinces = {
        k: v for k, v in figures["province_population_2020"].items() if k not in ("source", "grade")
    }
    h = region_hierarchy()
    assert sorted(h["value"]) == sorted(provinces)
    totals = h.assign(pop=h["value"].map(provinces)).groupby("level1")["pop"].sum()
    assert totals.to_dict() == figures["census_2020"]["region_population"]


def test_bad_input(adult, adult_hierarchies, tmp_path):
    with pytest.raises(InvalidParameterError, match="k must be a whole number of at least 1"):
        suppress(adult, ["sex"], 0)
    with pytest.raises(InvalidParameterError, match="k must be"):
        anonymize(adult, adult_hierarchies, [0] * 8, k=0.5)
    with pytest.raises(InvalidParameterError, match="not a column"):
        suppress(adult, ["zip"], 2)
    with pytest.raises(InvalidParameterError, match="above its hierarchy's top level"):
        generalize(adult, adult_hierarchies, [2, 0, 0, 0, 0, 0, 0, 0])
    with pytest.raises(InvalidParameterError, match="one level per hierarchy"):
        generalize(adult, adult_hierarchies, [0, 0])
    with pytest.raises(InvalidParameterError, match="not in its hierarchy"):
        generalize(pd.DataFrame({"age": [150]}), {"age": age_hierarchy(99)}, [1])
    bad = pd.DataFrame({"value": ["a", "b"], "level1": ["x", "x"], "level2": ["p", "q"]})
    with pytest.raises(InvalidParameterError, match="not a tree"):
        generalize(pd.DataFrame({"v": ["a"]}), {"v": bad}, [1])
    with pytest.raises(InvalidParameterError, match="no hierarchy file"):
        load_hierarchy(tmp_path / "missing.csv")
    with pytest.raises(InvalidParameterError, match="widths"):
        age_hierarchy(99, (5, 7))
