"""Risk counts for tables too large for memory: DuckDB does the group-bys.

A DuckDB relation (for example ``healthlab.datasets.load(...).relation("population")`` over
partitioned Parquet) is reduced in SQL to what the risk measures need -- the size of every
equivalence class and the count of every (class, sensitive value) pair -- and only those
counts come back to Python, where the same code as for a DataFrame finishes the report.
``GROUP BY`` puts NULLs together, so missing values form their own class here too.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from healthlab.errors import InvalidParameterError
from healthlab.privacy import diversity
from healthlab.privacy._classes import check_roles, class_codes


def is_relation(obj) -> bool:
    """Whether ``obj`` is a DuckDB relation (without importing DuckDB when it is not)."""
    return type(obj).__name__ == "DuckDBPyRelation"


def _quote(name: str) -> str:
    return '"' + str(name).replace('"', '""') + '"'


def check_relation_roles(rel, quasi_identifiers, sensitive) -> tuple[list, list]:
    """The DataFrame checks, for a relation's columns."""
    return check_roles(pd.DataFrame(columns=list(rel.columns)), quasi_identifiers, sensitive)


def relation_counts(rel, qis: list, sens: list, population):
    """Class sizes, (class, value) pairs per sensitive attribute, and the population figures.

    The population figures are ``(smallest population class of a sample class,
    sum over sample classes of f / F, population records)``, or None without a population.
    """
    keys = ", ".join(_quote(q) for q in qis)
    classes = rel.aggregate(f"{keys}, count(*) AS _f", keys).df()
    if classes.empty:
        raise InvalidParameterError("the relation has no rows; a risk report needs records")
    size = classes["_f"].to_numpy(dtype=np.int64)
    pairs = {}
    for s in sens:
        grouped = rel.aggregate(f"{keys}, {_quote(s)}, count(*) AS _cnt", f"{keys}, {_quote(s)}")
        frame = grouped.df()
        cls, n_cls = class_codes(frame, qis)
        pairs[s] = diversity.pairs(cls, n_cls, frame[s], counts=frame["_cnt"].to_numpy())
    figures = None
    if population is not None:
        if not is_relation(population):
            raise InvalidParameterError(
                "with a DuckDB relation as the table, population must be a DuckDB relation too "
                f"(on the same connection), got {type(population).__name__}"
            )
        check_relation_roles(population, qis, ())
        sample = rel.aggregate(f"{keys}, count(*) AS _f", keys).set_alias("s")
        pop = population.aggregate(f"{keys}, count(*) AS _big_f", keys).set_alias("p")
        on = " AND ".join(f"s.{_quote(q)} IS NOT DISTINCT FROM p.{_quote(q)}" for q in qis)
        joined = sample.join(pop, on, how="left").aggregate(
            "count(*) FILTER (WHERE _big_f IS NULL) AS absent, min(_big_f) AS low, "
            "sum(_f / _big_f) AS marketer_sum"
        )
        absent, low, marketer_sum = joined.fetchall()[0]
        if absent:
            raise InvalidParameterError(
                f"population lacks {absent} of the sample's {len(size)} quasi-identifier "
                "combinations; the population must contain every person of the sample"
            )
        n_population = int(population.aggregate("count(*)").fetchall()[0][0])
        figures = (int(low), float(marketer_sum), n_population)
    return size, pairs, figures
