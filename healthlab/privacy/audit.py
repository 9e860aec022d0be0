"""The audit an anonymisation carries: what was done, what it cost, by which definitions.

Information loss is measured three ways, each named in the audit:

- **NCP** (normalised certainty penalty, Xu et al. 2006): for each quasi-identifier cell, the
  share of its domain the released value covers -- ``(leaves under the value - 1) / (leaves - 1)``
  for a hierarchy, ``(high - low) / (max - min)`` for a numeric interval -- averaged over all
  cells; a suppressed record costs 1 per cell. 0 is the original table, 1 says nothing.
- **Discernibility** (Bayardo and Agrawal 2005): ``sum |E|^2`` over the released classes plus
  ``n`` for each suppressed record -- the number of records each record is indistinguishable
  from, summed.
- **Average class size** (C_AVG, LeFevre et al. 2006): ``(released records / classes) / k``;
  1 is the ideal.

References
----------
Xu J, Wang W, Pei J, Wang X, Shi B, Fu AW-C. Utility-based anonymization using local recoding.
KDD 2006:785-790.

Bayardo RJ, Agrawal R. Data privacy through optimal k-anonymization. ICDE 2005:217-228.

LeFevre K, DeWitt DJ, Ramakrishnan R. Mondrian multidimensional k-anonymity. ICDE 2006:25.
"""

from __future__ import annotations

import html
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

DEFINITIONS = {
    "ncp": "normalised certainty penalty (Xu et al. 2006): mean over quasi-identifier cells of the "
    "share of the domain the released value covers; suppressed records cost 1 per cell",
    "discernibility": "discernibility metric (Bayardo and Agrawal 2005): sum of squared class "
    "sizes plus n for each suppressed record",
    "average_class_size": "normalised average class size C_AVG (LeFevre et al. 2006): "
    "(released records / classes) / k",
}


@dataclass(frozen=True)
class Audit:
    """What an anonymisation did and what it cost.

    Attributes
    ----------
    method : str
        The method, for example ``"full-domain generalisation"`` or ``"mondrian"``.
    quasi_identifiers : tuple of str
    k : int
    levels : dict or None
        Generalisation level chosen for each quasi-identifier (full-domain methods).
    n_records, records_suppressed, cells_suppressed : int
        Records in the input; records dropped; quasi-identifier cells withheld (dropped
        records' cells plus cells generalised to the root ``"*"``).
    suppressed_by : pandas.DataFrame or None
        Records and suppressed records per subgroup, when subgroups were asked for.
    classes, smallest_class : int
        Equivalence classes in the released table and the size of the smallest.
    ncp, discernibility, average_class_size : float
        Information loss; see :data:`DEFINITIONS`.

    Examples
    --------
    >>> import pandas as pd
    >>> from healthlab.privacy import age_hierarchy, anonymize
    >>> df = pd.DataFrame({"age": [21, 23, 24, 37, 81]})
    >>> audit = anonymize(df, {"age": age_hierarchy(99, (5, 10))}, [1], k=2).audit
    >>> audit.method, audit.levels, audit.classes, audit.smallest_class
    ('full-domain generalisation', {'age': 1}, 1, 3)
    >>> audit.to_frame().loc[["records in", "records suppressed", "discernibility"], "value"]
    figure
    records in               5
    records suppressed       2
    discernibility        19.0
    Name: value, dtype: object
    """

    method: str
    quasi_identifiers: tuple
    k: int
    n_records: int
    records_suppressed: int
    cells_suppressed: int
    classes: int
    smallest_class: int
    ncp: float | None
    discernibility: float
    average_class_size: float
    levels: dict | None = None
    suppressed_by: pd.DataFrame | None = None
    notes: dict = field(default_factory=dict)
    definitions: dict = field(default_factory=lambda: dict(DEFINITIONS))

    def to_frame(self) -> pd.DataFrame:
        """The audit as a table with one row per figure."""
        rows = [("method", self.method), ("k", self.k)]
        if self.levels is not None:
            rows.append(("levels", ", ".join(f"{c}={v}" for c, v in self.levels.items())))
        rows += [
            ("records in", self.n_records),
            ("records suppressed", self.records_suppressed),
            ("cells suppressed", self.cells_suppressed),
            ("equivalence classes", self.classes),
            ("smallest class", self.smallest_class),
            ("NCP", self.ncp),
            ("discernibility", self.discernibility),
            ("average class size (C_AVG)", self.average_class_size),
        ]
        rows += list(self.notes.items())
        return pd.DataFrame(rows, columns=["figure", "value"], dtype=object).set_index("figure")

    def _repr_html_(self) -> str:
        out = self.to_frame().to_html()
        if self.suppressed_by is not None:
            out += "<p>Suppressed records by subgroup</p>" + self.suppressed_by.to_html()
        defs = "".join(f"<li>{html.escape(v)}</li>" for v in self.definitions.values())
        return out + f"<ul>{defs}</ul>"


@dataclass(frozen=True)
class Anonymized:
    """An anonymised table with its audit.

    Attributes
    ----------
    data : pandas.DataFrame
        The released table (suppressed records dropped).
    audit : Audit

    Examples
    --------
    >>> import pandas as pd
    >>> from healthlab.privacy import age_hierarchy, anonymize
    >>> df = pd.DataFrame({"age": [21, 23, 24, 37, 81]})
    >>> result = anonymize(df, {"age": age_hierarchy(99, (5, 10))}, [1], k=2)
    >>> result.data
         age
    0  20-24
    1  20-24
    2  20-24
    >>> result.n_suppressed, result.audit.k
    (2, 2)
    """

    data: pd.DataFrame
    audit: Audit

    @property
    def n_suppressed(self) -> int:
        """Records dropped."""
        return self.audit.records_suppressed

    def _repr_html_(self) -> str:
        return self.audit._repr_html_()


def class_metrics(size: np.ndarray, n: int, suppressed: int, k: int) -> dict:
    """Discernibility, C_AVG, classes and smallest class from the released class sizes."""
    released = size[size > 0]
    classes = len(released)
    return {
        "classes": classes,
        "smallest_class": int(released.min()) if classes else 0,
        "discernibility": float(np.sum(released.astype(np.float64) ** 2) + suppressed * n),
        "average_class_size": float((n - suppressed) / classes / k) if classes else float("nan"),
    }


def suppressed_by(df: pd.DataFrame, by, dropped: np.ndarray, cells: np.ndarray):
    """Records, suppressed records (and their share) and withheld cells per subgroup."""
    if by is None:
        return None
    by = [by] if isinstance(by, str) else list(by)
    frame = df[by].assign(_suppressed=dropped, _cells=cells)
    grouped = frame.groupby(by, dropna=False, observed=True)
    out = pd.DataFrame(
        {
            "records": grouped.size(),
            "suppressed": grouped["_suppressed"].sum().astype(np.int64),
            "cells_suppressed": grouped["_cells"].sum().astype(np.int64),
        }
    )
    out["share_suppressed"] = out["suppressed"] / out["records"]
    return out
