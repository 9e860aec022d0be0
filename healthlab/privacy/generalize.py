"""Full-domain generalisation and record suppression.

Full-domain generalisation replaces every value of a column by its ancestor at one chosen level
of the column's hierarchy. Suppression then drops the records whose equivalence class is still
smaller than k. Together they are the transformation ARX applies at one node of its lattice.
"""

from __future__ import annotations

import numbers
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd

from healthlab._validation import check_columns, check_frame, check_k
from healthlab.errors import InvalidParameterError
from healthlab.privacy._classes import class_codes
from healthlab.privacy.audit import Anonymized, Audit, class_metrics, suppressed_by
from healthlab.privacy.hierarchies import check_hierarchy


@dataclass(frozen=True)
class Encoded:
    """A column's values as positions in its hierarchy, with each level as integer nodes.

    ``leaf[i]`` is record i's row in the hierarchy (-1 when missing); ``nodes[L][leaf]`` its node
    at level L; ``labels[L]`` the node names; ``ncp[L][node]`` the node's NCP.
    """

    column: str
    leaf: np.ndarray
    nodes: list
    labels: list
    ncp: list

    @property
    def height(self) -> int:
        """The highest level."""
        return len(self.nodes) - 1

    def codes(self, level: int) -> np.ndarray:
        """Node of each record at a level (missing values get a node of their own)."""
        node = self.nodes[level]
        return np.where(self.leaf >= 0, node[self.leaf], len(self.labels[level]))


def encode(values: pd.Series, hierarchy, column: str) -> Encoded:
    """Find each value in its hierarchy and number the nodes of every level."""
    hierarchy = check_hierarchy(hierarchy, f"hierarchy of {column!r}")
    first = hierarchy.iloc[:, 0]
    index = pd.Index(first)
    lookup = values
    if pd.api.types.is_string_dtype(first) and not pd.api.types.is_string_dtype(values):
        # A hierarchy read from CSV holds text: match numbers by their text, whole floats as
        # whole numbers ("39", not "39.0").
        if pd.api.types.is_float_dtype(values) and (values.dropna() % 1 == 0).all():
            lookup = values.astype("Int64")
        lookup = lookup.astype(str).where(values.notna())
    leaf = index.get_indexer(lookup)
    unknown = (leaf < 0) & values.notna().to_numpy()
    if unknown.any():
        examples = pd.unique(values[unknown])[:5].tolist()
        raise InvalidParameterError(
            f"column {column!r} has {int(unknown.sum())} values not in its hierarchy, such as "
            f"{examples}; add them to the hierarchy's first column"
        )
    n_leaves = len(hierarchy)
    nodes, labels, ncp = [], [], []
    for level in range(hierarchy.shape[1]):
        codes, uniques = pd.factorize(hierarchy.iloc[:, level], use_na_sentinel=False)
        leaves = np.bincount(codes, minlength=len(uniques))
        nodes.append(codes.astype(np.int64))
        labels.append(uniques)
        ncp.append((leaves - 1) / (n_leaves - 1) if n_leaves > 1 else np.zeros(len(uniques)))
    return Encoded(column, leaf.astype(np.int64), nodes, labels, ncp)


def _levels(hierarchies: Mapping, levels) -> dict:
    """Levels as a dict by column, from a dict or a sequence in the hierarchies' order."""
    if not isinstance(hierarchies, Mapping) or not hierarchies:
        raise InvalidParameterError(
            "hierarchies must be a non-empty dict from column name to hierarchy "
            f"(DataFrame or ARX-format CSV path), got {type(hierarchies).__name__}"
        )
    if isinstance(levels, Mapping):
        extra = [c for c in levels if c not in hierarchies]
        if extra:
            raise InvalidParameterError(f"levels names {extra}, which have no hierarchy")
        levels = {c: levels.get(c, 0) for c in hierarchies}
    else:
        levels = list(levels)
        if len(levels) != len(hierarchies):
            raise InvalidParameterError(
                f"levels has {len(levels)} entries but there are {len(hierarchies)} hierarchies "
                f"({list(hierarchies)}); give one level per hierarchy, in that order"
            )
        levels = dict(zip(hierarchies, levels))
    for c, lv in levels.items():
        if isinstance(lv, bool) or not isinstance(lv, numbers.Integral) or lv < 0:
            raise InvalidParameterError(f"level of {c!r} must be a whole number >= 0, got {lv!r}")
    return {c: int(lv) for c, lv in levels.items()}


def _apply(df: pd.DataFrame, hierarchies: Mapping, levels: dict):
    """Generalise; return the table and the encodings used."""
    check_frame(df, "df", allow_empty=True)
    check_columns(df, list(hierarchies), "hierarchies (keys)")
    out, encoded = df.copy(), {}
    for column, level in levels.items():
        enc = encode(df[column], hierarchies[column], column)
        if level > enc.height:
            raise InvalidParameterError(
                f"level {level} for {column!r} is above its hierarchy's top level {enc.height}"
            )
        encoded[column] = enc
        if level > 0:
            codes = np.where(enc.leaf >= 0, enc.nodes[level][enc.leaf], -1)
            labels = pd.Index(enc.labels[level])
            out[column] = pd.Categorical.from_codes(codes, categories=labels)
    return out, encoded


def generalize(df: pd.DataFrame, hierarchies: Mapping, levels) -> pd.DataFrame:
    """Replace each value by its ancestor at the chosen level of the column's hierarchy.

    Parameters
    ----------
    df : pandas.DataFrame
    hierarchies : dict
        Column name to hierarchy: a DataFrame (values, then one column per level) or the path
        of an ARX-format CSV file.
    levels : dict or sequence of int
        Level per column (0 keeps the values), as a dict or in the order of ``hierarchies``.

    Returns
    -------
    pandas.DataFrame
        A copy; generalised columns are categoricals of the level's labels. Missing values stay
        missing.

    Examples
    --------
    >>> import pandas as pd
    >>> from healthlab.privacy import age_hierarchy, generalize
    >>> df = pd.DataFrame({"age": [23, 37, 81]})
    >>> generalize(df, {"age": age_hierarchy(99, (5, 10))}, [2])["age"].tolist()
    ['20-29', '30-39', '80-89']
    """
    return _apply(df, hierarchies, _levels(hierarchies, levels))[0]


def _suppress(df, qis, k, *, by, method, levels=None, encoded=None, groups=None) -> Anonymized:
    classes, n_classes = class_codes(df, qis)
    size = np.bincount(classes, minlength=n_classes)
    dropped = size[classes] < k
    n, n_dropped = len(df), int(dropped.sum())
    kept_size = np.where(size >= k, size, 0)
    # Cells withheld per record: all of a dropped record's, and kept cells generalised to the root.
    cells, ncp = dropped * len(qis), None
    if encoded is not None:
        total = 0.0
        for c in qis:
            enc, lv = encoded[c], levels[c]
            cell = np.where(enc.leaf >= 0, enc.ncp[lv][enc.nodes[lv][np.maximum(enc.leaf, 0)]], 0)
            total += float(cell[~dropped].sum())
            cells = cells + ((cell == 1.0) & ~dropped)
        ncp = (total + n_dropped * len(qis)) / (n * len(qis)) if n else 0.0
    elif n:
        ncp = n_dropped / n  # the released values are the original ones
    audit = Audit(
        method=method,
        quasi_identifiers=tuple(qis),
        k=k,
        n_records=n,
        records_suppressed=n_dropped,
        cells_suppressed=int(cells.sum()),
        ncp=ncp,
        levels=levels,
        suppressed_by=suppressed_by(df if groups is None else groups, by, dropped, cells),
        **class_metrics(kept_size, n, n_dropped, k),
    )
    return Anonymized(df.loc[~dropped], audit)


def suppress(df: pd.DataFrame, quasi_identifiers, k: int, *, by=None) -> Anonymized:
    """Drop the records whose equivalence class has fewer than ``k`` records.

    Parameters
    ----------
    df : pandas.DataFrame
    quasi_identifiers : list of str
    k : int
        The smallest class size to keep, at least 1.
    by : str or list of str, optional
        Columns whose subgroups the audit counts suppressed records in.

    Returns
    -------
    Anonymized
        ``.data`` the kept records, ``.n_suppressed`` how many were dropped, ``.audit`` the rest.

    Examples
    --------
    >>> import pandas as pd
    >>> from healthlab.privacy import suppress
    >>> result = suppress(pd.DataFrame({"sex": list("FFFM")}), ["sex"], k=2)
    >>> result.n_suppressed, len(result.data)
    (1, 3)
    """
    check_frame(df, "df", allow_empty=True)
    qis = check_columns(df, quasi_identifiers, "quasi_identifiers")
    k = check_k(k)
    if by is not None:
        check_columns(df, by, "by")
    return _suppress(df, qis, k, by=by, method="suppression")


def anonymize(df: pd.DataFrame, hierarchies: Mapping, levels, k: int, *, by=None) -> Anonymized:
    """Generalise to the given levels, then suppress the classes smaller than ``k``.

    The quasi-identifiers are the columns of ``hierarchies``. The audit gives the levels,
    suppressed records and cells (overall and per subgroup of ``by``, with the original values),
    NCP, discernibility and average class size.

    Examples
    --------
    >>> import pandas as pd
    >>> from healthlab.privacy import age_hierarchy, anonymize
    >>> df = pd.DataFrame({"age": [21, 23, 24, 37, 81]})
    >>> result = anonymize(df, {"age": age_hierarchy(99, (5, 10))}, [1], k=2)
    >>> result.n_suppressed, result.audit.classes
    (2, 1)
    """
    lv = _levels(hierarchies, levels)
    k = check_k(k)
    if by is not None:
        check_columns(check_frame(df, "df", allow_empty=True), by, "by")
    out, encoded = _apply(df, hierarchies, lv)
    return _suppress(
        out,
        list(lv),
        k,
        by=by,
        method="full-domain generalisation",
        levels=lv,
        encoded=encoded,
        groups=df,
    )
