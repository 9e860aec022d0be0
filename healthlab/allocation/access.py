"""Spatial accessibility: two-step floating catchment area (2SFCA) and its enhanced form.

Step 1, for each facility ``j``: the supply-to-demand ratio of its catchment,
``R_j = S_j / sum_{i: d_ij <= d0} W(d_ij) P_i``. Step 2, for each place ``i``: its
accessibility, ``A_i = sum_{j: d_ij <= d0} W(d_ij) R_j``, the supply per person within reach.
With ``W = 1`` this is 2SFCA (Luo and Wang 2003); with ``W`` falling by travel-time zones
(``{10: 1.0, 20: 0.68, 30: 0.22}`` minutes) it is the enhanced E2SFCA (Luo and Qi 2009); a
Gaussian decay is the other common choice. Both steps are group sums over the origin-destination
cost table, so the cost of a run grows with the number of pairs within reach.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pandas as pd

from healthlab._validation import check_columns, check_frame, numeric, positive
from healthlab.errors import InvalidParameterError

__all__ = ["E2SFCA_STEPS", "e2sfca", "gaussian_decay", "step_decay", "two_step_fca"]

#: Travel-time zones (minutes) and weights of Luo and Qi's (2009) E2SFCA.
E2SFCA_STEPS = {10: 1.0, 20: 0.68, 30: 0.22}


def step_decay(steps: dict) -> Callable[[np.ndarray], np.ndarray]:
    """A step weight: ``W(d) = steps[k]`` for the smallest threshold ``k >= d``, 0 beyond.

    Examples
    --------
    >>> from healthlab.allocation import step_decay
    >>> step_decay({10: 1.0, 20: 0.5})([5, 10, 15, 25]).tolist()
    [1.0, 1.0, 0.5, 0.0]
    """
    if not isinstance(steps, dict) or not steps:
        raise InvalidParameterError(f"steps must be a dict of threshold -> weight, got {steps!r}")
    cuts = np.array(sorted(steps), dtype=float)
    w = numeric([steps[k] for k in sorted(steps)], "steps weights")

    def weight(d):
        d = np.asarray(d, dtype=float)
        idx = np.searchsorted(cuts, d, side="left")
        return np.where(idx < len(cuts), w[np.minimum(idx, len(cuts) - 1)], 0.0)

    return weight


def gaussian_decay(bandwidth: float) -> Callable[[np.ndarray], np.ndarray]:
    """A Gaussian weight ``W(d) = exp(-d^2 / (2 bandwidth^2))``, 1 at distance 0.

    Examples
    --------
    >>> from healthlab.allocation import gaussian_decay
    >>> round(float(gaussian_decay(20)(20)), 4)
    0.6065
    """
    s = positive(bandwidth, "bandwidth")
    return lambda d: np.exp(-(np.asarray(d, dtype=float) ** 2) / (2 * s**2))


def two_step_fca(
    demand: pd.DataFrame,
    supply: pd.DataFrame,
    cost: pd.DataFrame,
    *,
    max_cost: float,
    decay=None,
) -> pd.DataFrame:
    """Accessibility of each place to a supply (doctors, beds) by two-step floating catchment.

    Parameters
    ----------
    demand : pandas.DataFrame
        Columns ``origin`` (place id) and ``population``.
    supply : pandas.DataFrame
        Columns ``destination`` (facility id) and ``capacity`` (doctors, beds...).
    cost : pandas.DataFrame
        Columns ``origin``, ``destination`` and ``cost`` (travel time or distance), one row per
        pair considered (pairs beyond ``max_cost`` may be left out).
    max_cost : float
        Catchment size ``d0``: pairs with ``cost <= max_cost`` are within reach.
    decay : None, dict or callable, optional
        Weight by cost within the catchment: ``None`` for none (2SFCA), a dict of step
        thresholds to weights (see :func:`step_decay`), or a vectorised function of the cost
        array (see :func:`gaussian_decay`).

    Returns
    -------
    pandas.DataFrame
        One row per demand place: ``origin``, ``population`` and ``access`` (capacity per
        person within reach; multiply by 1,000 for a rate per 1,000).

    References
    ----------
    Luo W, Wang F. Measures of spatial accessibility to health care in a GIS environment.
    Environ Plann B 2003;30:865-884.

    Luo W, Qi Y. An enhanced two-step floating catchment area (E2SFCA) method for measuring
    spatial accessibility to primary care physicians. Health Place 2009;15:1100-1107.

    Examples
    --------
    >>> import pandas as pd
    >>> from healthlab.allocation import two_step_fca
    >>> demand = pd.DataFrame({"origin": ["a", "b"], "population": [1000, 3000]})
    >>> supply = pd.DataFrame({"destination": ["h"], "capacity": [8]})
    >>> cost = pd.DataFrame({"origin": ["a", "b"], "destination": ["h", "h"], "cost": [5, 25]})
    >>> two_step_fca(demand, supply, cost, max_cost=30)
      origin  population  access
    0      a        1000   0.002
    1      b        3000   0.002
    >>> two_step_fca(demand, supply, cost, max_cost=20)["access"].tolist()
    [0.008, 0.0]
    """
    for frame, name, cols in (
        (demand, "demand", ["origin", "population"]),
        (supply, "supply", ["destination", "capacity"]),
        (cost, "cost", ["origin", "destination", "cost"]),
    ):
        check_frame(frame, name)
        check_columns(frame, cols, frame=name)
    numeric(demand["population"], "demand['population']")
    numeric(supply["capacity"], "supply['capacity']")
    numeric(cost["cost"], "cost['cost']")
    d0 = positive(max_cost, "max_cost")
    for frame, key, name in ((demand, "origin", "demand"), (supply, "destination", "supply")):
        if frame[key].duplicated().any():
            dup = frame.loc[frame[key].duplicated(), key].head(3).tolist()
            raise InvalidParameterError(f"{name}[{key!r}] repeats ids {dup}; give each once")
    if decay is None:
        weight = None
    elif isinstance(decay, dict):
        weight = step_decay(decay)
    elif callable(decay):
        weight = decay
    else:
        raise InvalidParameterError(
            f"decay must be None, a dict of step weights or a function, got {decay!r}"
        )

    pairs = cost.loc[cost["cost"] <= d0, ["origin", "destination", "cost"]]
    pairs = pairs.merge(demand[["origin", "population"]], on="origin", how="inner")
    pairs = pairs.merge(supply[["destination", "capacity"]], on="destination", how="inner")
    w = np.ones(len(pairs)) if weight is None else np.asarray(weight(pairs["cost"].to_numpy()))
    pairs = pairs.assign(w=w, wp=w * pairs["population"].to_numpy())
    reach = pairs.groupby("destination", sort=False)["wp"].transform("sum").to_numpy()
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = np.where(reach > 0, pairs["capacity"].to_numpy() / reach, 0.0)
    pairs["wr"] = pairs["w"].to_numpy() * ratio
    access = pairs.groupby("origin", sort=False)["wr"].sum()
    out = demand[["origin", "population"]].copy()
    out["access"] = out["origin"].map(access).fillna(0.0).astype(float)
    return out.reset_index(drop=True)


def e2sfca(
    demand: pd.DataFrame,
    supply: pd.DataFrame,
    cost: pd.DataFrame,
    *,
    steps: dict | None = None,
) -> pd.DataFrame:
    """Enhanced two-step floating catchment (E2SFCA) with travel-time zone weights.

    Parameters
    ----------
    demand, supply, cost : pandas.DataFrame
        As in :func:`two_step_fca`.
    steps : dict, optional
        Zone thresholds to weights; defaults to Luo and Qi's ``{10: 1.0, 20: 0.68, 30: 0.22}``.
        The catchment ends at the largest threshold.

    Returns
    -------
    pandas.DataFrame
        ``origin``, ``population`` and ``access``.

    Examples
    --------
    >>> import pandas as pd
    >>> from healthlab.allocation import e2sfca
    >>> demand = pd.DataFrame({"origin": ["a", "b"], "population": [1000, 1000]})
    >>> supply = pd.DataFrame({"destination": ["h"], "capacity": [10]})
    >>> cost = pd.DataFrame({"origin": ["a", "b"], "destination": ["h", "h"], "cost": [5, 25]})
    >>> e2sfca(demand, supply, cost)["access"].round(5).tolist()
    [0.0082, 0.0018]
    """
    steps = E2SFCA_STEPS if steps is None else steps
    if not isinstance(steps, dict) or not steps:
        raise InvalidParameterError(f"steps must be a dict of threshold -> weight, got {steps!r}")
    return two_step_fca(demand, supply, cost, max_cost=max(steps), decay=steps)
