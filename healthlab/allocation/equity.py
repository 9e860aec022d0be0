"""Equity of a distribution: Gini, Theil (with its decomposition), concentration indices, Lorenz.

Every index takes unit values (for example beds per 1,000 people by province) and optional
weights (the provinces' populations), so that each unit counts as many people as it holds.
With weights ``p_i`` (shares of the total weight) and mean ``mu = sum p_i y_i``:

- Gini: ``G = sum_i sum_j p_i p_j |y_i - y_j| / (2 mu)``, computed from the Lorenz curve as
  ``1 - sum_k p_k (Y_k + Y_{k-1})`` with ``Y`` the cumulative value shares in increasing order.
- Theil T: ``T = sum_i p_i (y_i / mu) ln(y_i / mu)``; over groups ``g`` it splits exactly into
  between ``sum_g s_g ln(mu_g / mu)`` and within ``sum_g s_g T_g``, with ``s_g`` the group's
  share of the total value (Shorrocks 1980).
- Concentration index of a health variable ``h`` against a ranking variable (income):
  ``C = 2 cov_p(h, R) / mu_h``, with ``R`` the weighted fractional rank (ties share their mean
  rank); Erreygers' correction for a bounded variable in ``[a, b]``:
  ``E = 4 mu_h C / (b - a)`` (O'Donnell et al. 2008; Erreygers 2009).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from healthlab._results import TableView
from healthlab._validation import numeric, same_length
from healthlab.errors import InvalidParameterError

__all__ = [
    "TheilDecomposition",
    "concentration_curve",
    "concentration_index",
    "gini",
    "lorenz_curve",
    "theil",
    "theil_decomposition",
]


def _prepare(values, weights, name: str = "values"):
    """Values and weight shares as float arrays, checked."""
    y = numeric(values, name)
    if y.ndim != 1 or len(y) == 0:
        raise InvalidParameterError(f"{name} must be a non-empty one-dimensional sequence")
    if weights is None:
        w = np.ones_like(y)
    else:
        w = numeric(weights, "weights")
        same_length(y, w, name, "weights")
    total = w.sum()
    if total <= 0:
        raise InvalidParameterError("weights sum to 0; give each unit its population")
    return y, w / total


def _mean(y, p, name="values") -> float:
    mu = float((p * y).sum())
    if mu <= 0:
        raise InvalidParameterError(f"the (weighted) mean of {name} is 0; the index is undefined")
    return mu


def lorenz_curve(values, weights=None) -> pd.DataFrame:
    """Points of the Lorenz curve, from (0, 0) to (1, 1).

    Parameters
    ----------
    values : array-like
        Non-negative values of each unit (for example beds per 1,000 people by province).
    weights : array-like, optional
        Weight of each unit (for example its population); equal weights if omitted.

    Returns
    -------
    pandas.DataFrame
        ``population_share`` (cumulative share of the weight, units in increasing order of
        value) and ``value_share`` (cumulative share of the total value), with a first row of
        zeros.

    Examples
    --------
    >>> from healthlab.allocation import lorenz_curve
    >>> lorenz_curve([1, 3], weights=[1, 1])
       population_share  value_share
    0               0.0         0.00
    1               0.5         0.25
    2               1.0         1.00
    """
    y, p = _prepare(values, weights)
    mu = _mean(y, p)
    order = np.argsort(y, kind="stable")
    x = np.concatenate(([0.0], np.cumsum(p[order])))
    v = np.concatenate(([0.0], np.cumsum(p[order] * y[order]) / mu))
    x[-1], v[-1] = 1.0, 1.0
    return pd.DataFrame({"population_share": x, "value_share": v})


def gini(values, weights=None) -> float:
    """Gini coefficient, weighted by population if weights are given.

    Parameters
    ----------
    values : array-like
        Non-negative values of each unit.
    weights : array-like, optional
        Weight (population) of each unit; equal weights if omitted.

    Returns
    -------
    float
        Between 0 (perfect equality) and 1.

    References
    ----------
    Cowell F. Measuring Inequality. 3rd ed. Oxford University Press; 2011.

    Examples
    --------
    >>> from healthlab.allocation import gini
    >>> gini([1, 1, 1, 1])
    0.0
    >>> round(gini([2.0, 6.0], weights=[3, 1]), 4)
    0.25
    """
    lc = lorenz_curve(values, weights)
    dx = np.diff(lc["population_share"].to_numpy())
    v = lc["value_share"].to_numpy()
    return float(max(0.0, 1.0 - (dx * (v[1:] + v[:-1])).sum()))


def theil(values, weights=None) -> float:
    """Theil's T index (generalised entropy GE(1)), weighted by population if given.

    Parameters
    ----------
    values : array-like
        Non-negative values of each unit (zeros contribute nothing, their limit).
    weights : array-like, optional
        Weight (population) of each unit; equal weights if omitted.

    Returns
    -------
    float
        0 for perfect equality; at most ``ln(1 / min share of weight)``.

    References
    ----------
    Theil H. Economics and Information Theory. Amsterdam: North-Holland; 1967.

    Examples
    --------
    >>> from healthlab.allocation import theil
    >>> theil([5, 5, 5])
    0.0
    >>> round(theil([1.0, 3.0]), 4)
    0.1308
    """
    y, p = _prepare(values, weights)
    mu = _mean(y, p)
    r = y / mu
    with np.errstate(divide="ignore", invalid="ignore"):
        terms = np.where(r > 0, p * r * np.log(r), 0.0)
    return float(terms.sum())


@dataclass(frozen=True)
class TheilDecomposition(TableView):
    """Theil's T split into between-group and within-group parts.

    Attributes
    ----------
    total, between, within : float
        ``total == between + within``.
    groups : pandas.DataFrame
        One row per group: ``group``, ``population_share``, ``value_share``, ``mean``,
        ``theil`` (inequality inside the group), ``within`` (its contribution
        ``value_share * theil``) and ``between`` (``value_share * ln(mean / overall mean)``).

    Examples
    --------
    >>> from healthlab.allocation import theil_decomposition
    >>> d = theil_decomposition([1.0, 1.0, 3.0, 3.0], ["a", "a", "b", "b"])
    >>> d.summary().round(4)
      component   value  share
    0   between  0.1308    1.0
    1    within  0.0000    0.0
    2     total  0.1308    1.0
    >>> d.groups[["group", "mean", "theil"]]
      group  mean  theil
    0     a   1.0    0.0
    1     b   3.0    0.0
    """

    total: float
    between: float
    within: float
    groups: pd.DataFrame

    def summary(self) -> pd.DataFrame:
        """``component`` (between, within, total), ``value`` and ``share`` of the total."""
        values = np.array([self.between, self.within, self.total])
        share = values / self.total if self.total > 0 else np.full(3, np.nan)
        return pd.DataFrame(
            {"component": ["between", "within", "total"], "value": values, "share": share}
        )

    def to_frame(self) -> pd.DataFrame:
        """The same as :meth:`summary`: the parts and their shares of the total."""
        return self.summary()


def theil_decomposition(values, groups, weights=None) -> TheilDecomposition:
    """Decompose Theil's T into inequality between and within groups.

    Parameters
    ----------
    values : array-like
        Non-negative values of each unit (for example beds per 1,000 by province).
    groups : array-like
        Group of each unit (for example ``"east"``, ``"central"``, ``"west"``).
    weights : array-like, optional
        Weight (population) of each unit; equal weights if omitted.

    Returns
    -------
    TheilDecomposition

    References
    ----------
    Shorrocks AF. The class of additively decomposable inequality measures. Econometrica
    1980;48(3):613-625.

    Examples
    --------
    >>> from healthlab.allocation import theil_decomposition
    >>> d = theil_decomposition([1.0, 1.0, 3.0, 3.0], ["a", "a", "b", "b"])
    >>> round(d.between, 4), round(d.within, 4)
    (0.1308, 0.0)
    """
    y, p = _prepare(values, weights)
    g = np.asarray(groups)
    same_length(y, g, "values", "groups")
    if pd.isna(g).any():
        raise InvalidParameterError("groups has missing values; give every unit a group")
    mu = _mean(y, p)
    frame = pd.DataFrame({"group": g, "p": p, "py": p * y})
    with np.errstate(divide="ignore", invalid="ignore"):
        r = y / mu
        frame["t"] = np.where(r > 0, p * r * np.log(r), 0.0)
    agg = frame.groupby("group", sort=True).agg(p=("p", "sum"), py=("py", "sum"), t=("t", "sum"))
    s = agg["py"] / mu  # value share
    mean_g = agg["py"] / agg["p"]
    with np.errstate(divide="ignore", invalid="ignore"):
        between = np.where(s > 0, s * np.log(mean_g / mu), 0.0)
        within_t = np.where(s > 0, (agg["t"] - between) / s, 0.0)
    out = pd.DataFrame(
        {
            "group": agg.index,
            "population_share": agg["p"].to_numpy(),
            "value_share": s.to_numpy(),
            "mean": mean_g.to_numpy(),
            "theil": within_t,
            "within": s.to_numpy() * within_t,
            "between": between,
        }
    )
    total = float(frame["t"].sum())
    b = float(out["between"].sum())
    return TheilDecomposition(total=total, between=b, within=total - b, groups=out)


def _fractional_rank(rank_by, p):
    """Weighted fractional rank, ties sharing their mean rank; and the sort order."""
    order = np.argsort(rank_by, kind="stable")
    cum = np.cumsum(p[order])
    r_sorted = cum - p[order] / 2.0
    rank = np.empty_like(p)
    rank[order] = r_sorted
    # ties: the weighted mean rank of the tied group
    key = pd.Series(rank_by)
    rank = pd.Series(rank * p).groupby(key).transform("sum") / pd.Series(p).groupby(key).transform(
        "sum"
    )
    return rank.to_numpy(), order


def concentration_index(
    health, rank_by, weights=None, *, kind: str = "standard", bounds=None
) -> float:
    """Concentration index of a health variable against a socioeconomic ranking.

    Negative values mean the health variable is concentrated among the poor (pro-poor for
    an illness, as common), positive among the rich.

    Parameters
    ----------
    health : array-like
        The health variable of each unit (an illness indicator, a use of services, ...).
    rank_by : array-like
        The ranking variable, such as income; units are ranked in increasing order.
    weights : array-like, optional
        Sampling or population weights.
    kind : {"standard", "erreygers"}, default "standard"
        ``"erreygers"`` gives Erreygers' corrected index for a bounded variable.
    bounds : tuple of float, optional
        ``(a, b)``, the bounds of the health variable for ``"erreygers"``; defaults to
        ``(0, 1)`` when the variable is binary.

    Returns
    -------
    float

    References
    ----------
    O'Donnell O, van Doorslaer E, Wagstaff A, Lindelow M. Analyzing Health Equity Using
    Household Survey Data. Washington: World Bank; 2008. Chapter 8.

    Erreygers G. Correcting the concentration index. J Health Econ 2009;28(2):504-515.

    Examples
    --------
    >>> from healthlab.allocation import concentration_index
    >>> ill = [1, 1, 0, 0]
    >>> income = [1000, 2000, 3000, 4000]
    >>> concentration_index(ill, income)
    -0.5
    >>> concentration_index(ill, income, kind="erreygers")
    -1.0
    """
    if kind not in ("standard", "erreygers"):
        raise InvalidParameterError(f"kind must be 'standard' or 'erreygers', got {kind!r}")
    h, p = _prepare(health, weights, "health")
    x = numeric(rank_by, "rank_by", allow_negative=True)
    same_length(h, x, "health", "rank_by")
    mu = _mean(h, p, "health")
    rank, _ = _fractional_rank(x, p)
    r_mean = (p * rank).sum()
    cov = float((p * (h - mu) * (rank - r_mean)).sum())
    c = 2.0 * cov / mu
    if kind == "standard":
        return c
    if bounds is None:
        if not np.isin(h, (0.0, 1.0)).all():
            raise InvalidParameterError(
                "kind='erreygers' needs bounds=(a, b) for a non-binary health variable, "
                "for example bounds=(0, 100) for a score out of 100"
            )
        bounds = (0.0, 1.0)
    a, b = (float(v) for v in bounds)
    if not b > a or h.min() < a or h.max() > b:
        raise InvalidParameterError(
            f"bounds must satisfy a < b and contain every health value, got {bounds!r} for "
            f"values in [{h.min():g}, {h.max():g}]"
        )
    return 4.0 * mu * c / (b - a)


def concentration_curve(health, rank_by, weights=None) -> pd.DataFrame:
    """Points of the concentration curve: cumulative health share against ranked population.

    Parameters
    ----------
    health, rank_by, weights : array-like
        As in :func:`concentration_index`.

    Returns
    -------
    pandas.DataFrame
        ``population_share`` (ranked by ``rank_by``) and ``health_share``, from (0, 0).

    Examples
    --------
    >>> from healthlab.allocation import concentration_curve
    >>> concentration_curve([1, 0], [10, 20])["health_share"].tolist()
    [0.0, 1.0, 1.0]
    """
    h, p = _prepare(health, weights, "health")
    x = numeric(rank_by, "rank_by", allow_negative=True)
    same_length(h, x, "health", "rank_by")
    mu = _mean(h, p, "health")
    order = np.argsort(x, kind="stable")
    return pd.DataFrame(
        {
            "population_share": np.concatenate(([0.0], np.cumsum(p[order]))),
            "health_share": np.concatenate(([0.0], np.cumsum(p[order] * h[order]) / mu)),
        }
    )
