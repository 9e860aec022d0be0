"""l-diversity and t-closeness of a sensitive attribute over equivalence classes.

Every function works on the pairs (class, sensitive value) with their counts, all classes at once;
there is no loop over classes.

References
----------
Machanavajjhala A, Kifer D, Gehrke J, Venkitasubramaniam M. l-diversity: privacy beyond
k-anonymity. ACM TKDD 2007;1(1):3.

Li N, Li T, Venkatasubramanian S. t-closeness: privacy beyond k-anonymity and l-diversity.
ICDE 2007:106-115.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from healthlab.privacy._classes import column_codes


@dataclass(frozen=True)
class _Pairs:
    """Counts of each (class, value) pair, sorted by class then value rank."""

    cls: np.ndarray  # class of each pair
    val: np.ndarray  # value rank of each pair
    cnt: np.ndarray  # records in the pair
    size: np.ndarray  # records in each class (length G)
    m: int  # number of distinct values (missing counted as one)
    overall: np.ndarray  # share of each value rank in the whole table (length m)
    ordered: bool  # whether t-closeness uses the ordered distance


def is_ordered(values: pd.Series) -> bool:
    """Whether t-closeness uses the ordered distance here (numbers, ordered categories)."""
    if isinstance(values.dtype, pd.CategoricalDtype):
        return bool(values.dtype.ordered)
    return pd.api.types.is_numeric_dtype(values) or pd.api.types.is_datetime64_any_dtype(values)


def _value_ranks(values: pd.Series) -> tuple[np.ndarray, int]:
    """Ranks of the values in their order (missing last), or codes when unordered."""
    if isinstance(values.dtype, pd.CategoricalDtype) and values.dtype.ordered:
        codes = values.cat.codes.to_numpy().astype(np.int64)
        m = len(values.dtype.categories)
        if (codes < 0).any():
            codes = np.where(codes < 0, m, codes)
            m += 1
        used, codes = np.unique(codes, return_inverse=True)
        return codes.astype(np.int64), len(used)
    if is_ordered(values):
        codes, m = column_codes(values, sort=True)  # pandas sorts missing last
        return codes, m
    return column_codes(values)


def pairs(classes: np.ndarray, n_classes: int, values: pd.Series, counts=None) -> _Pairs:
    """Count the (class, value) pairs of a sensitive attribute.

    With ``counts``, the rows are already distinct (class, value) pairs with their record
    counts (as a SQL ``GROUP BY`` returns them); without, each row is one record.
    """
    ranks, m = _value_ranks(values)
    if counts is None:
        uk, cnt = np.unique(classes * m + ranks, return_counts=True)
        cls, val = uk // m, uk % m
        size = np.bincount(classes, minlength=n_classes)
    else:
        order = np.lexsort((ranks, classes))
        cls, val = classes[order], ranks[order]
        cnt = np.asarray(counts, dtype=np.int64)[order]
        size = np.bincount(cls, weights=cnt, minlength=n_classes).astype(np.int64)
    overall = np.bincount(val, weights=cnt, minlength=m) / cnt.sum()
    return _Pairs(cls, val, cnt, size, m, overall, is_ordered(values))


def l_distinct(p: _Pairs) -> int:
    """Distinct l-diversity: the fewest distinct sensitive values in any class."""
    return int(np.bincount(p.cls, minlength=len(p.size)).min())


def l_entropy(p: _Pairs) -> float:
    """Entropy l-diversity: ``exp`` of the lowest entropy of the sensitive values in a class."""
    share = p.cnt / p.size[p.cls]
    entropy = -np.bincount(p.cls, weights=share * np.log(share), minlength=len(p.size))
    return float(np.exp(entropy.min()))


def l_recursive(p: _Pairs, c: float) -> int:
    """The largest l for which every class is recursive (c, l)-diverse.

    A class with value counts ``r_1 >= r_2 >= ... >= r_m`` is recursive (c, l)-diverse when
    ``r_1 < c * (r_l + r_{l+1} + ... + r_m)``.
    """
    order = np.lexsort((-p.cnt, p.cls))
    cls, cnt = p.cls[order], p.cnt[order]
    before = np.cumsum(cnt) - cnt  # records in earlier pairs, all classes
    starts = np.flatnonzero(np.r_[True, cls[1:] != cls[:-1]])
    first = np.repeat(starts, np.diff(np.r_[starts, len(cls)]))
    tail = p.size[cls] - (before - before[first])  # r_l + ... + r_m for this pair's rank l
    top = cnt[first]  # r_1 of the class
    ok = c * tail > top
    return int(np.bincount(cls, weights=ok, minlength=len(p.size)).min())


def t_equal(p: _Pairs) -> float:
    """t-closeness under the equal ground distance: the largest total variation distance.

    ``D = 1/2 * sum_i |p_i - q_i|`` with ``p`` a class's distribution and ``q`` the table's.
    """
    share = p.cnt / p.size[p.cls]
    q = p.overall[p.val]
    # Values absent from a class contribute q_i each: sum_i |p_i - q_i| = 1 + sum_present(|p-q| - q)
    part = np.bincount(p.cls, weights=np.abs(share - q) - q, minlength=len(p.size))
    return float(np.max(0.5 * (1.0 + part)))


def t_ordered(p: _Pairs) -> float:
    """t-closeness under the ordered distance: the largest ordered earth mover's distance.

    ``D = 1/(m-1) * sum_i |sum_{j<=i} (p_j - q_j)|`` over the ``m`` values in their order.
    """
    if p.m < 2:
        return 0.0
    qc = np.cumsum(p.overall)  # Q_i, the table's cumulative share
    sq = np.r_[0.0, np.cumsum(qc)]  # sq[i] = Q_0 + ... + Q_{i-1}
    share = p.cnt / p.size[p.cls]
    starts = np.flatnonzero(np.r_[True, p.cls[1:] != p.cls[:-1]])
    csum = np.cumsum(share)
    base = np.repeat(csum[starts] - share[starts], np.diff(np.r_[starts, len(share)]))
    pc = csum - base  # P, the class's cumulative share, constant until the next present value
    lo = p.val
    last = np.r_[p.cls[1:] != p.cls[:-1], True]
    hi = np.where(last, p.m, np.r_[p.val[1:], 0])
    cut = np.clip(np.searchsorted(qc, pc, side="right"), lo, hi)
    seg = pc * (cut - lo) - (sq[cut] - sq[lo]) + (sq[hi] - sq[cut]) - pc * (hi - cut)
    total = np.bincount(p.cls, weights=seg, minlength=len(p.size))
    total += sq[p.val[starts]]  # before a class's first value its P is 0: sum of Q_i
    return float(np.max(total) / (p.m - 1))
