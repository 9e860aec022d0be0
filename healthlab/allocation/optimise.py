"""Allocate new beds and doctors across regions under a budget, by linear or integer programme.

For regions ``g`` and resources ``r`` (beds, doctors, ...) with current stock ``s``, need ``n``
(for example from :func:`healthlab.allocation.beds_needed` or a norm per 1,000 people) and unit
cost ``k_r``, choose additions ``x >= 0`` (whole units when ``integer=True``) with
``sum k_r x_gr <= budget``, and

- ``objective="unmet"``: minimise the unmet need ``sum_r sum_g u_gr / N_r``, where
  ``u_gr >= n_gr - s_gr - x_gr`` and ``N_r`` the total need of resource ``r`` (so each
  resource's unmet share counts alike);
- ``objective="equity"``: maximise the lowest coverage ``z <= (s_gr + x_gr) / n_gr`` over every
  region and resource (max-min fairness, up to full coverage ``z <= 1``), then spend what is
  left on unmet need.

The programme is solved by HiGHS through :func:`scipy.optimize.milp`. The result reports the
equity of each resource per 1,000 people (population-weighted Gini and Theil) and the unmet
need before and after.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from healthlab._results import TableView
from healthlab._validation import check_columns, check_frame, numeric, positive
from healthlab.allocation.equity import gini, theil
from healthlab.errors import HealthlabError, InvalidParameterError

__all__ = ["Allocation", "allocate_resources"]


@dataclass(frozen=True)
class Allocation(TableView):
    """An allocation of new resources.

    Attributes
    ----------
    regions : pandas.DataFrame
        Per region and resource: ``region``, ``resource``, ``population``, ``before``,
        ``added``, ``after``, ``need``, ``per_1000_before``, ``per_1000_after``,
        ``coverage_before`` and ``coverage_after`` (stock / need).
    summary : pandas.DataFrame
        Per resource: ``resource``, ``added``, ``spend``, ``unmet_before``, ``unmet_after``,
        ``min_coverage_before``, ``min_coverage_after``, ``gini_before``, ``gini_after``,
        ``theil_before`` and ``theil_after`` (of the stock per 1,000 people, weighted by
        population).
    objective : str
    spend : float
        Total cost of the additions.

    Examples
    --------
    >>> import pandas as pd
    >>> from healthlab.allocation import allocate_resources
    >>> regions = pd.DataFrame({"region": ["A", "B"], "population": [1000, 1000],
    ...                         "beds": [8, 2], "beds_need": [10, 10]})
    >>> plan = allocate_resources(regions, budget=6, unit_costs={"beds": 1.0})
    >>> plan.objective, plan.spend
    ('unmet', 6.0)
    >>> plan.to_frame()[["resource", "added", "unmet_before", "unmet_after"]]
      resource  added  unmet_before  unmet_after
    0     beds    6.0          10.0          4.0
    """

    regions: pd.DataFrame
    summary: pd.DataFrame
    objective: str
    spend: float

    def to_frame(self) -> pd.DataFrame:
        """Per resource: what was added, spent, and how need and equity changed."""
        return self.summary


def allocate_resources(
    regions: pd.DataFrame,
    *,
    budget: float,
    unit_costs: dict,
    objective: str = "unmet",
    integer: bool = True,
) -> Allocation:
    """Allocate new resources across regions under a budget.

    Parameters
    ----------
    regions : pandas.DataFrame
        One row per region: ``region``, ``population`` and, for each resource ``r`` named in
        ``unit_costs``, the current stock ``r`` and the need ``r_need`` (for example columns
        ``beds``, ``beds_need``, ``doctors``, ``doctors_need``).
    budget : float
        Money available, in the unit of ``unit_costs``.
    unit_costs : dict
        Resource name to the cost of one more unit, for example ``{"beds": 1.0,
        "doctors": 4.0}``.
    objective : {"unmet", "equity"}, default "unmet"
        See the module notes.
    integer : bool, default True
        Whole units (integer programme); ``False`` solves the linear relaxation.

    Returns
    -------
    Allocation

    Examples
    --------
    >>> import pandas as pd
    >>> from healthlab.allocation import allocate_resources
    >>> regions = pd.DataFrame({"region": ["A", "B"], "population": [1000, 1000],
    ...                         "beds": [8, 2], "beds_need": [10, 10]})
    >>> res = allocate_resources(regions, budget=6, unit_costs={"beds": 1.0},
    ...                          objective="equity")
    >>> res.regions[["region", "added", "after"]]
      region  added  after
    0      A    0.0    8.0
    1      B    6.0    8.0
    >>> res.summary[["gini_before", "gini_after"]].round(3)
       gini_before  gini_after
    0          0.3         0.0
    """
    from scipy.optimize import Bounds, LinearConstraint, milp

    check_frame(regions, "regions")
    if not isinstance(unit_costs, dict) or not unit_costs:
        raise InvalidParameterError(
            f"unit_costs must be a dict of resource -> cost, got {unit_costs!r}; for example "
            "{'beds': 1.0, 'doctors': 4.0}"
        )
    resources = list(unit_costs)
    cols = ["region", "population"]
    for r in resources:
        cols += [r, f"{r}_need"]
    check_columns(regions, cols, frame="regions")
    if regions["region"].duplicated().any():
        raise InvalidParameterError("regions['region'] repeats a region; give each once")
    if objective not in ("unmet", "equity"):
        raise InvalidParameterError(f"objective must be 'unmet' or 'equity', got {objective!r}")
    B = positive(budget, "budget", allow_zero=True)
    cost = np.array([positive(unit_costs[r], f"unit_costs[{r!r}]") for r in resources])
    pop = numeric(regions["population"], "regions['population']")
    stock = np.column_stack([numeric(regions[r], f"regions[{r!r}]") for r in resources])
    need = np.column_stack(
        [numeric(regions[f"{r}_need"], f"regions['{r}_need']") for r in resources]
    )
    G, R = stock.shape
    total_need = need.sum(axis=0)
    if (total_need <= 0).any():
        bad = [r for r, t in zip(resources, total_need) if t <= 0]
        raise InvalidParameterError(f"the need for {bad} is 0 in every region; nothing to meet")

    nx = G * R
    n_var = 2 * nx + 1  # x, u, z
    c = np.zeros(n_var)
    w_unmet = np.tile(1.0 / total_need, G)
    if objective == "unmet":
        c[nx : 2 * nx] = w_unmet
    else:
        c[-1] = -1.0
        c[nx : 2 * nx] = 1e-4 * w_unmet
    c[:nx] += 1e-9 * np.tile(cost, G)  # prefer the cheaper of equal solutions
    rows, lo, hi = [], [], []
    budget_row = np.zeros(n_var)
    budget_row[:nx] = np.tile(cost, G)
    rows.append(budget_row)
    lo.append(-np.inf)
    hi.append(B)
    eye = np.eye(nx)
    unmet_rows = np.hstack([-eye, -eye, np.zeros((nx, 1))])
    rows.extend(unmet_rows)
    lo.extend([-np.inf] * nx)
    hi.extend((stock - need).ravel())
    if objective == "equity":
        has_need = need.ravel() > 0
        cov = np.hstack([-eye, np.zeros((nx, nx)), need.reshape(-1, 1)])[has_need]
        rows.extend(cov)
        lo.extend([-np.inf] * int(has_need.sum()))
        hi.extend(stock.ravel()[has_need])
    A = np.vstack(rows)
    upper = np.r_[np.full(2 * nx, np.inf), 1.0 if objective == "equity" else 0.0]
    integrality = np.r_[np.full(nx, 1 if integer else 0), np.zeros(nx + 1)]
    res = milp(
        c,
        constraints=LinearConstraint(A, np.array(lo), np.array(hi)),
        bounds=Bounds(np.zeros(n_var), upper),
        integrality=integrality,
    )
    if res.x is None:
        raise HealthlabError(f"the allocation programme could not be solved: {res.message}")
    added = res.x[:nx].reshape(G, R)
    if integer:
        added = np.round(added)
    after = stock + added
    frames = []
    for k, r in enumerate(resources):
        with np.errstate(divide="ignore", invalid="ignore"):
            frames.append(
                pd.DataFrame(
                    {
                        "region": regions["region"].to_numpy(),
                        "resource": r,
                        "population": pop,
                        "before": stock[:, k],
                        "added": added[:, k],
                        "after": after[:, k],
                        "need": need[:, k],
                        "per_1000_before": 1000 * stock[:, k] / pop,
                        "per_1000_after": 1000 * after[:, k] / pop,
                        "coverage_before": stock[:, k] / need[:, k],
                        "coverage_after": after[:, k] / need[:, k],
                    }
                )
            )
    table = pd.concat(frames, ignore_index=True)
    summary = []
    for k, r in enumerate(resources):
        part = table[table["resource"] == r]
        has = part["need"] > 0
        summary.append(
            {
                "resource": r,
                "added": added[:, k].sum(),
                "spend": added[:, k].sum() * cost[k],
                "unmet_before": np.maximum(need[:, k] - stock[:, k], 0).sum(),
                "unmet_after": np.maximum(need[:, k] - after[:, k], 0).sum(),
                "min_coverage_before": part.loc[has, "coverage_before"].min(),
                "min_coverage_after": part.loc[has, "coverage_after"].min(),
                "gini_before": gini(part["per_1000_before"], pop),
                "gini_after": gini(part["per_1000_after"], pop),
                "theil_before": theil(part["per_1000_before"], pop),
                "theil_after": theil(part["per_1000_after"], pop),
            }
        )
    summary = pd.DataFrame(summary)
    return Allocation(
        regions=table, summary=summary, objective=objective, spend=float(summary["spend"].sum())
    )
