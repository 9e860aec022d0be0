"""Public reference figures: every figure of china.yaml reachable, with its source and grade."""

from __future__ import annotations

import pickle

import pytest
import yaml

from healthlab import reference
from healthlab.errors import InvalidParameterError


def _numbers(node) -> int:
    if isinstance(node, dict):
        return sum(_numbers(v) for k, v in node.items() if k not in ("columns",))
    if isinstance(node, list):
        return sum(_numbers(v) for v in node)
    return int(isinstance(node, int | float) and not isinstance(node, bool))


def test_every_number_in_the_file_is_a_figure_with_a_source_and_grade():
    doc = reference._document()
    expected = _numbers({k: v for k, v in doc.items() if k != "aliases"})
    table = reference.table()
    assert len(table) == expected
    assert list(table.columns) == ["figure", "year", "value", "unit", "source", "grade", "note"]
    # Every figure says where it comes from; the grades are the file's three words.
    assert set(table["grade"]) <= {"primary", "secondary", "derived", ""}
    sourced = table[table["source"] != ""]
    assert len(sourced) >= 0.9 * len(table)


def test_figures_by_name_alias_and_year():
    e0 = reference.figure("e0", year=2020)
    assert e0 == 77.93 and e0.year == 2020 and e0.unit == "years"
    assert "NHC" in e0.source and e0.grade == "secondary"
    assert reference.figure("life_expectancy_at_birth") == reference.figure("e0", year=2024)
    assert reference.figure("census.total_population") == 1_411_778_724
    # Years inside names become the figure's year.
    assert reference.figure("province_population.Beijing").year == 2020
    assert reference.figure("beds_per_1000", year=2023) == 7.23
    assert "<b>" in e0._repr_html_() and "77.93" in str(e0)
    assert pickle.loads(pickle.dumps(e0)).source == e0.source


def test_ambiguous_and_unknown_names_say_what_to_do():
    with pytest.raises(InvalidParameterError, match="source="):
        reference.figure("hypertension.adults_18plus_pct")
    pick = reference.figure("hypertension.adults_18plus_pct", source="Circulation")
    assert pick == 23.2 and pick.grade == "primary"
    with pytest.raises(InvalidParameterError, match="names containing it"):
        reference.figure("life_expectancy")
    with pytest.raises(InvalidParameterError, match="given for the years"):
        reference.figure("e0", year=1990)


def test_adding_a_figure_is_a_data_edit(monkeypatch):
    doc = dict(reference._document())
    doc["teaching_example_2021"] = yaml.safe_load(
        "{source: a made-up bulletin, grade: derived, widgets_per_1000: 4.5}"
    )
    monkeypatch.setattr(reference, "_document", lambda: doc)
    reference._figures.cache_clear()
    try:
        got = reference.figure("widgets_per_1000")
        assert (got, got.year, got.unit, got.grade) == (4.5, 2021, "per 1,000", "derived")
    finally:
        reference._figures.cache_clear()
