"""Mondrian: multidimensional local recoding to k-anonymity.

Mondrian cuts the table like its namesake's canvases: it splits a partition of records at the
median of the quasi-identifier with the widest normalised range, as long as both halves keep at
least k records, and stops when no cut is allowed. Each final partition becomes one
equivalence class; its records show the partition's range on each quasi-identifier (``"30-39"``
for numbers, the lowest common ancestor for a category with a hierarchy, ``"a~c"`` for a
category without one). No record is suppressed.

Every round splits all partitions at once with sorts over the records (strict partitioning):
there is no loop over partitions, so a million records take seconds.

References
----------
LeFevre K, DeWitt DJ, Ramakrishnan R. Mondrian multidimensional k-anonymity. ICDE 2006:25.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from healthlab._validation import check_columns, check_frame, check_k
from healthlab.errors import InvalidParameterError
from healthlab.privacy._classes import class_codes
from healthlab.privacy.audit import Anonymized, Audit, class_metrics
from healthlab.privacy.generalize import encode


def _ranks(values: pd.Series, hierarchy, column: str):
    """Integer ranks to cut on, the width normaliser, and a function labelling ranges."""
    if values.isna().any():
        raise InvalidParameterError(
            f"quasi-identifier {column!r} has {int(values.isna().sum())} missing values; Mondrian "
            "needs ordered values: fill them (or drop those records) first"
        )
    if hierarchy is not None:
        enc = encode(values, hierarchy, column)
        # Order the leaves so that every subtree is contiguous: sort by the path from the root.
        paths = pd.DataFrame({lv: enc.nodes[lv] for lv in range(enc.height, -1, -1)})
        order = np.lexsort([paths[c].to_numpy() for c in paths.columns[::-1]])
        rank_of_leaf = np.empty_like(order)
        rank_of_leaf[order] = np.arange(len(order))
        ranks = rank_of_leaf[enc.leaf]

        def label(lo, hi):
            a, b = order[lo], order[hi]
            same = np.stack([enc.nodes[lv][a] == enc.nodes[lv][b] for lv in range(enc.height + 1)])
            level = np.argmax(same, axis=0)
            names, loss = np.empty(len(lo), dtype=object), np.empty(len(lo))
            for lv in range(enc.height + 1):  # a loop over levels, not partitions
                at = level == lv
                node = enc.nodes[lv][a[at]]
                names[at] = np.asarray(enc.labels[lv], dtype=object)[node]
                loss[at] = enc.ncp[lv][node]
            return names, loss

        return ranks, label
    numeric = pd.api.types.is_numeric_dtype(values) or pd.api.types.is_datetime64_any_dtype(values)
    if isinstance(values.dtype, pd.CategoricalDtype) and values.dtype.ordered:
        numeric = False
        ranks = values.cat.codes.to_numpy().astype(np.int64)
        uniques = np.asarray(values.dtype.categories, dtype=object)
    else:
        ranks, uniques = pd.factorize(values, sort=True)
        uniques = np.asarray(uniques)
    m = len(uniques)

    dates = uniques.dtype.kind == "M"
    if numeric:
        as_num = uniques.astype("datetime64[D]").astype(np.float64) if dates else uniques
        as_num = np.asarray(as_num, dtype=np.float64)
        span = as_num[-1] - as_num[0] if m else 0.0
        text = np.datetime_as_string(uniques, unit="D") if dates else uniques.astype(str)
    else:
        text = uniques.astype(str)
    text = np.asarray(text, dtype=object)

    def label(lo, hi):
        if numeric:
            loss = (as_num[hi] - as_num[lo]) / span if span > 0 else np.zeros(len(lo))
            sep = "~" if dates else "-"
        else:
            loss = (hi - lo) / (m - 1) if m > 1 else np.zeros(len(lo))
            sep = "~"
        names = np.where(lo == hi, text[lo], text[lo] + sep + text[hi])
        return names, np.asarray(loss, dtype=np.float64)

    return ranks.astype(np.int64), label


def _partition(ranks: np.ndarray, k: int) -> np.ndarray:
    """Strict Mondrian partitioning of records given as a (d, n) array of ranks."""
    d, n = ranks.shape
    norm = np.maximum(ranks.max(axis=1) - ranks.min(axis=1), 1).astype(np.float64)
    big = int(ranks.max()) + 1
    final = np.full(n, -1, dtype=np.int64)
    next_id = 0
    idx = np.arange(n)  # active records, grouped by partition
    pid = np.zeros(n, dtype=np.int64)
    while len(idx):
        starts = np.flatnonzero(np.r_[True, pid[1:] != pid[:-1]])
        sizes = np.diff(np.r_[starts, len(idx)])
        sub = ranks[:, idx]
        width = (
            np.maximum.reduceat(sub, starts, axis=1) - np.minimum.reduceat(sub, starts, axis=1)
        ) / norm[:, None]  # (d, P)
        order = np.argsort(-width, axis=0, kind="stable")
        n_part = len(starts)
        done = sizes < 2 * k  # too small to split: final
        new_pid = np.full(len(idx), -1, dtype=np.int64)
        pos_part = np.repeat(np.arange(n_part), sizes)  # partition (0..P-1) of each position
        made = 0
        for attempt in range(d):
            dim = order[attempt]
            todo = ~done & (width[dim, np.arange(n_part)] > 0)
            if not todo.any():
                break
            sel = np.flatnonzero(todo[pos_part])
            p = pos_part[sel]
            x = ranks[dim[p], idx[sel]]
            key = p * big + x
            srt = np.argsort(key, kind="stable")
            sel, p, key = sel[srt], p[srt], key[srt]
            seg = np.flatnonzero(np.r_[True, p[1:] != p[:-1]])
            seg_p = p[seg]
            size = sizes[seg_p]
            med = key[seg + (size - 1) // 2]
            le = np.searchsorted(key, med, side="right") - seg
            lt = np.searchsorted(key, med, side="left") - seg
            cut = np.where((le >= k) & (size - le >= k), le, np.where(lt >= k, lt, -1))
            cut = np.where(size - cut >= k, cut, -1)
            ok = cut > 0
            reps = np.diff(np.r_[seg, len(sel)])
            offset = np.arange(len(sel)) - np.repeat(seg, reps)
            side = (offset >= np.repeat(cut, reps)).astype(np.int64)
            chosen = np.repeat(ok, reps)
            first_new = made + 2 * (np.cumsum(ok) - 1)
            new_pid[sel[chosen]] = (np.repeat(first_new, reps) + side)[chosen]
            made += 2 * int(ok.sum())
            done[seg_p[ok]] = True
        # Partitions never split are final.
        stay = new_pid < 0
        if stay.any():
            fp = pos_part[stay]
            _, compact = np.unique(fp, return_inverse=True)
            final[idx[stay]] = next_id + compact
            next_id += int(compact.max()) + 1
        keep = ~stay
        idx, new_pid = idx[keep], new_pid[keep]
        srt = np.argsort(new_pid, kind="stable")
        idx, pid = idx[srt], new_pid[srt]
    return final


def mondrian(df: pd.DataFrame, quasi_identifiers, k: int, *, hierarchies=None) -> Anonymized:
    """Anonymise by Mondrian multidimensional partitioning to k-anonymity.

    Parameters
    ----------
    df : pandas.DataFrame
    quasi_identifiers : list of str
        Numbers and dates are cut on their values; categories on their order (an ordered
        categorical's, a hierarchy's, or else sorted order).
    k : int
        Smallest class size, at least 1.
    hierarchies : dict, optional
        Hierarchies for categorical quasi-identifiers: cuts follow the tree and a class shows
        its lowest common ancestor.

    Returns
    -------
    Anonymized
        The table with each quasi-identifier replaced by its class's range (categoricals), and
        the audit (classes, smallest class, NCP, discernibility, average class size).

    References
    ----------
    LeFevre K, DeWitt DJ, Ramakrishnan R. Mondrian multidimensional k-anonymity. ICDE 2006.

    Examples
    --------
    >>> import pandas as pd
    >>> from healthlab.privacy import mondrian
    >>> df = pd.DataFrame({"age": [21, 22, 23, 24, 50, 51, 52, 53]})
    >>> sorted(mondrian(df, ["age"], k=4).data["age"].unique().tolist())
    ['21-24', '50-53']
    """
    check_frame(df, "df", allow_empty=True)
    qis = check_columns(df, quasi_identifiers, "quasi_identifiers")
    k = check_k(k)
    hierarchies = dict(hierarchies or {})
    check_columns(df, list(hierarchies), "hierarchies (keys)", allow_empty=True)
    n = len(df)
    if n < k:
        raise InvalidParameterError(f"df has {n} records, fewer than k={k}: no class can form")
    ranked = [_ranks(df[c], hierarchies.get(c), c) for c in qis]
    ranks = np.stack([r for r, _ in ranked])
    part = _partition(ranks, k)
    n_part = int(part.max()) + 1
    out = df.copy()
    total_loss = 0.0
    size = np.bincount(part, minlength=n_part)
    for j, (c, (_, label)) in enumerate(zip(qis, ranked)):
        lo = np.full(n_part, np.iinfo(np.int64).max)
        hi = np.full(n_part, -1)
        np.minimum.at(lo, part, ranks[j])
        np.maximum.at(hi, part, ranks[j])
        names, loss = label(lo, hi)
        total_loss += float(np.sum(loss * size))
        codes, uniques = pd.factorize(pd.Series(names, dtype=object))
        out[c] = pd.Categorical.from_codes(codes[part], categories=pd.Index(uniques))
    # Partitions are disjoint, but two may show the same labels: count the classes as released.
    released, n_released = class_codes(out, qis)
    audit = Audit(
        method="mondrian",
        quasi_identifiers=tuple(qis),
        k=k,
        n_records=n,
        records_suppressed=0,
        cells_suppressed=0,
        ncp=total_loss / (n * len(qis)),
        notes={"partitions": n_part},
        **class_metrics(np.bincount(released, minlength=n_released), n, 0, k),
    )
    return Anonymized(out, audit)
