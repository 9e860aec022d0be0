"""Data security grading: every card column carries a GB/T 39725-2020 category and level."""

from __future__ import annotations

import pytest

from healthlab import datasets, privacy
from healthlab.errors import InvalidParameterError


@pytest.mark.parametrize("name", datasets.list_datasets())
def test_every_card_column_carries_a_category_and_level(name):
    grading = privacy.data_grading(name)
    spec = datasets.card(name)
    documented = {(t, c) for t, info in spec["tables"].items() for c in info["columns"]}
    assert set(zip(grading["table"], grading["column"])) == documented
    assert grading["level"].between(1, 5).all()
    assert grading["access"].notna().all()


def test_identifiers_grade_higher_than_resources():
    people = privacy.data_grading("population").set_index("column")
    facilities = privacy.data_grading("facilities")
    systems = privacy.data_grading("hospital_systems").set_index(["table", "column"])
    assert people.loc["birth_date", "level"] == 3
    assert systems.loc[("renmin_patients", "身份证号"), "level"] == 4
    assert (facilities["level"] == 1).all()


def test_an_untagged_column_is_named():
    spec = dict(datasets.card("facilities"))
    spec["security"] = {"facilities": {"facility_id": ["health_resources", 1]}}
    with pytest.raises(InvalidParameterError, match="no security tag for facilities.name"):
        privacy.data_grading(spec)
    spec["security"] = {"facilities": dict.fromkeys(spec["tables"]["facilities"]["columns"],
                                                    ["secret", 9])}  # fmt: skip
    with pytest.raises(InvalidParameterError, match="the categories are"):
        privacy.data_grading(spec)


def test_guide_lists_five_levels():
    guide = privacy.security_guide()
    assert list(guide["level"]) == [1, 2, 3, 4, 5]
    with pytest.raises(InvalidParameterError, match="dataset name"):
        privacy.data_grading(42)
