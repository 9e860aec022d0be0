"""Data security grading: each column's category and level under the national guide.

Every dataset card tags each column of each table with the category and sensitivity level it
would have under GB/T 39725-2020, the guide for health data security, if it were real data:
personal attributes, health status, medical care, payment, health resources or public health;
levels 1 (public) to 5 (special diseases, strictly controlled). :func:`data_grading` shows them
beside the controls the guide recommends at each level, so a student can see what a release of a
table would require. The data themselves are synthetic; the grading is what the real data would
carry.
"""

from __future__ import annotations

from collections.abc import Mapping

import pandas as pd

from healthlab import _yaml
from healthlab.errors import InvalidParameterError

__all__ = ["data_grading", "security_guide"]


def _guide() -> dict:
    return _yaml.package_data("gbt39725.yaml")


def security_guide() -> pd.DataFrame:
    """The guide's levels with their meaning and recommended controls, and its source.

    Examples
    --------
    >>> guide = security_guide()
    >>> list(guide["level"])
    [1, 2, 3, 4, 5]
    >>> guide.loc[guide["level"] == 4, "access"].item().startswith("only the staff")
    True
    """
    levels = _guide()["levels"]
    return pd.DataFrame([{"level": int(k), **v} for k, v in sorted(levels.items())])


def _card(dataset) -> dict:
    from healthlab import datasets

    if isinstance(dataset, str):
        return datasets.card(dataset)
    if isinstance(dataset, Mapping) and "tables" in dataset and "name" in dataset:
        return dict(dataset)
    spec = getattr(dataset, "card", None)
    if isinstance(spec, Mapping):
        return dict(spec)
    raise InvalidParameterError(
        "data_grading takes a dataset name, a loaded dataset or a card, "
        f"got {type(dataset).__name__}; for example data_grading('clinical')"
    )


def data_grading(dataset) -> pd.DataFrame:
    """Each column of each table of a dataset with its category, level and controls.

    Parameters
    ----------
    dataset : str, Dataset or dict
        A catalogue name (``"clinical"``), a loaded dataset, or a card.

    Returns
    -------
    pandas.DataFrame
        One row per column: ``table``, ``column``, ``category``, ``category_zh``, ``level``,
        ``de_identification`` and ``access`` (the guide's recommended controls at that level).

    Raises
    ------
    InvalidParameterError
        When the card leaves a column without a tag or tags one it does not document.

    References
    ----------
    GB/T 39725-2020, Information security technology - Guide for health data security.

    Examples
    --------
    >>> grading = data_grading("population")
    >>> row = grading.set_index("column").loc["birth_date"]
    >>> row["category"], int(row["level"])
    ('personal_attributes', 3)
    >>> int(grading["level"].max()) <= 5
    True
    """
    spec = _card(dataset)
    tags = spec.get("security") or {}
    guide = _guide()
    rows = []
    for table, info in spec["tables"].items():
        tagged = tags.get(table) or {}
        for column in info["columns"]:
            if column not in tagged:
                raise InvalidParameterError(
                    f"card {spec['name']!r} gives no security tag for {table}.{column}; add "
                    f"`{column}: [category, level]` under security.{table} in its card"
                )
            category, level = tagged[column]
            if category not in guide["categories"] or level not in guide["levels"]:
                raise InvalidParameterError(
                    f"card {spec['name']!r} tags {table}.{column} as {[category, level]}; the "
                    f"categories are {sorted(guide['categories'])} and the levels 1 to 5"
                )
            controls = guide["levels"][level]
            rows.append(
                {
                    "table": table,
                    "column": column,
                    "category": category,
                    "category_zh": guide["categories"][category]["zh"],
                    "level": int(level),
                    "de_identification": controls["de_identification"],
                    "access": controls["access"],
                }
            )
        extra = sorted(set(tagged) - set(info["columns"]))
        if extra:
            raise InvalidParameterError(
                f"card {spec['name']!r} tags columns it does not document: "
                f"{', '.join(f'{table}.{c}' for c in extra)}"
            )
    return pd.DataFrame(rows)
