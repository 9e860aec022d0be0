"""Optimal full-domain generalisation: search the lattice of levels under a named metric.

A node of the lattice is one generalisation level per quasi-identifier. A node is *feasible*
when, after generalising to its levels, the records in classes smaller than k are at most the
suppression limit. The search evaluates every node and returns the feasible node with the least
information loss. Each node is evaluated on the table of distinct quasi-identifier combinations
(with their counts) rather than on the records, so a node costs a few array operations on at
most as many rows as there are distinct combinations.

Metrics
-------
``"discernibility"``
    ``sum |E|^2`` over released classes plus ``n`` per suppressed record (Bayardo and Agrawal
    2005).
``"ncp"``
    Normalised certainty penalty (Xu et al. 2006): the loss metric; mean share of each domain a
    released cell covers, 1 per cell of a suppressed record.
``"precision"``
    Sweeney's precision loss (granularity): mean over quasi-identifiers of
    ``level / top level``; does not look at the data.

Ties go to the node with the smaller sum of levels, then to the smaller levels in column order.

References
----------
Sweeney L. Achieving k-anonymity privacy protection using generalization and suppression.
Int J Uncertain Fuzz 2002;10(5):571-588.

Kohlmayer F, Prasser F, Eckert C, Kemper A, Kuhn KA. Flash: efficient, stable and optimal
k-anonymity. PASSAT 2012:708-717.
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd

from healthlab._validation import check_columns, check_frame, check_k, fraction
from healthlab.errors import InvalidParameterError
from healthlab.privacy._classes import combine_codes
from healthlab.privacy.audit import Anonymized
from healthlab.privacy.generalize import anonymize, encode

METRICS = ("discernibility", "ncp", "precision")


@dataclass(frozen=True)
class SearchResult:
    """The optimal node and every node evaluated.

    Attributes
    ----------
    levels : dict
        The chosen level per quasi-identifier.
    anonymized : Anonymized
        The table at those levels after suppression, with its audit.
    metric : str
    nodes : pandas.DataFrame
        One row per node: the levels, records suppressed, feasible, and the metric's value.

    Examples
    --------
    >>> import pandas as pd
    >>> from healthlab.privacy import age_hierarchy, optimal_generalization
    >>> df = pd.DataFrame({"age": [21, 23, 24, 37, 38, 81], "sex": list("FFMMFM")})
    >>> sex = pd.DataFrame({"value": ["F", "M"], "level1": ["*", "*"]})
    >>> h = {"age": age_hierarchy(99, (5, 10, 50)), "sex": sex}
    >>> result = optimal_generalization(df, h, k=2, suppression_limit=0.2)
    >>> result.levels, result.metric, len(result.nodes)
    ({'age': 4, 'sex': 0}, 'discernibility', 10)
    >>> result.data["age"].unique().tolist(), result.audit.records_suppressed
    (['*'], 0)
    """

    levels: dict
    anonymized: Anonymized
    metric: str
    nodes: pd.DataFrame

    @property
    def data(self) -> pd.DataFrame:
        """The released table."""
        return self.anonymized.data

    @property
    def audit(self):
        """The audit of the released table."""
        return self.anonymized.audit

    def _repr_html_(self) -> str:
        feasible = int(self.nodes["feasible"].sum())
        head = (
            f"<p>Optimal node under {self.metric}: {self.levels} "
            f"({feasible} of {len(self.nodes)} nodes feasible)</p>"
        )
        return head + self.anonymized._repr_html_()


def _distinct(codes: list[tuple[np.ndarray, int]]) -> tuple[np.ndarray, np.ndarray]:
    """Distinct rows of the level-0 codes (one column per row of the result) and their counts."""
    cls, n_classes = combine_codes(codes)
    counts = np.bincount(cls, minlength=n_classes)
    first = np.empty(n_classes, dtype=np.int64)
    first[cls[::-1]] = np.arange(len(cls))[::-1]
    return np.stack([c[first] for c, _ in codes]), counts


def optimal_generalization(
    df: pd.DataFrame,
    hierarchies: Mapping,
    k: int,
    *,
    suppression_limit: float = 0.0,
    metric: str = "discernibility",
    by=None,
    max_nodes: int = 200_000,
) -> SearchResult:
    """Find the full-domain generalisation with the least loss that is k-anonymous.

    Parameters
    ----------
    df : pandas.DataFrame
    hierarchies : dict
        Quasi-identifier to hierarchy (DataFrame or ARX-format CSV path).
    k : int
        Smallest class size, at least 1.
    suppression_limit : float, default 0.0
        Largest share of records that may be suppressed, in [0, 1].
    metric : {"discernibility", "ncp", "precision"}
    by : str or list of str, optional
        Subgroups in which the audit counts suppressed records.
    max_nodes : int, default 200000
        Refuse lattices with more nodes than this (each node costs a pass over the distinct
        combinations; the Adult lattice has 6,480).

    Returns
    -------
    SearchResult

    Examples
    --------
    >>> import pandas as pd
    >>> from healthlab.privacy import age_hierarchy, optimal_generalization
    >>> df = pd.DataFrame({"age": [21, 23, 24, 37, 38, 81], "sex": list("FFMMFM")})
    >>> sex = pd.DataFrame({"value": ["F", "M"], "level1": ["*", "*"]})
    >>> h = {"age": age_hierarchy(99, (5, 10, 50)), "sex": sex}
    >>> optimal_generalization(df, h, k=2, suppression_limit=0.2).levels
    {'age': 4, 'sex': 0}
    """
    check_frame(df, "df", allow_empty=True)
    if not isinstance(hierarchies, Mapping) or not hierarchies:
        raise InvalidParameterError("hierarchies must be a non-empty dict: column -> hierarchy")
    qis = check_columns(df, list(hierarchies), "hierarchies (keys)")
    k = check_k(k)
    limit = fraction(suppression_limit, "suppression_limit", low_open=False)
    if metric not in METRICS:
        raise InvalidParameterError(f"metric must be one of {METRICS}, got {metric!r}")
    n, d = len(df), len(qis)
    if n == 0:
        raise InvalidParameterError("df has no rows")
    enc = [encode(df[c], hierarchies[c], c) for c in qis]
    heights = [e.height for e in enc]
    n_nodes = int(np.prod([h + 1 for h in heights], dtype=np.float64))
    if n_nodes > max_nodes:
        raise InvalidParameterError(
            f"the lattice has {n_nodes:,} nodes, more than max_nodes={max_nodes:,}; use fewer "
            "quasi-identifiers or levels, raise max_nodes, or use mondrian() instead"
        )
    # Level-0 node of each record; missing values take the extra code m0.
    rows, counts = _distinct([(e.codes(0), len(e.labels[0]) + 1) for e in enc])
    # up[j][L][code0] -> node at level L (missing stays its own node), and its NCP.
    up, cell_ncp = [], []
    for e in enc:
        per_level, per_ncp = [], []
        for lv in range(e.height + 1):
            # Level-0 codes are the leaves' rows, plus one code for missing values.
            mapped = np.r_[e.nodes[lv], len(e.labels[lv])]
            per_level.append(mapped.astype(np.int64))
            per_ncp.append(np.r_[e.ncp[lv], 0.0][mapped])
        up.append(per_level)
        cell_ncp.append(per_ncp)
    level_radix = [np.array([len(e.labels[lv]) + 1 for lv in range(e.height + 1)]) for e in enc]

    nodes = list(itertools.product(*[range(h + 1) for h in heights]))
    out_supp = np.empty(len(nodes), dtype=np.int64)
    out_val = np.empty(len(nodes))
    for i, node in enumerate(nodes):
        cls, n_cls = combine_codes(
            [(up[j][lv][rows[j]], level_radix[j][lv]) for j, lv in enumerate(node)]
        )
        size = np.bincount(cls, weights=counts, minlength=n_cls)
        small = size < k
        supp = int(size[small].sum())
        out_supp[i] = supp
        if metric == "discernibility":
            out_val[i] = float(np.sum(size[~small] ** 2)) + supp * n
        elif metric == "ncp":
            kept = ~small[cls]
            loss = sum(cell_ncp[j][lv][rows[j]] for j, lv in enumerate(node))
            out_val[i] = (float(np.sum(counts[kept] * loss[kept])) + supp * d) / (n * d)
        else:
            out_val[i] = float(np.mean([lv / max(h, 1) for lv, h in zip(node, heights)]))
    table = pd.DataFrame(nodes, columns=qis)
    table["suppressed"] = out_supp
    table["feasible"] = out_supp <= limit * n
    table[metric] = out_val
    feasible = table[table["feasible"]]
    if feasible.empty:
        raise InvalidParameterError(
            f"no generalisation reaches k={k} within suppression_limit={limit}; raise the limit "
            "or add levels to the hierarchies"
        )
    order = feasible.assign(_sum=feasible[qis].sum(axis=1)).sort_values(
        [metric, "_sum", *qis], kind="stable"
    )
    best = {c: int(order.iloc[0][c]) for c in qis}
    result = anonymize(df, hierarchies, best, k, by=by)
    return SearchResult(best, result, metric, table)
