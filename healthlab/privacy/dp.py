"""Differential privacy with OpenDP: counts, sums, means and histograms under an explicit budget.

A :class:`PrivateTable` binds a table to a :class:`PrivacyBudget` and a privacy unit: one
patient, who may own up to ``max_contributions`` rows (rows beyond that are dropped, the first
ones in table order kept). Every release is computed by an OpenDP measurement -- the noise and
the privacy loss both come from OpenDP -- and is charged to the budget before the data is
touched; a release that would overspend is refused with :class:`PrivacyBudgetExceededError`.
Losses add up (sequential composition under pure epsilon-DP).

Each :class:`Release` carries its noise scale and an a-priori error bound: with probability at
least ``1 - alpha`` the noise is smaller than ``accuracy`` (OpenDP's accuracy helpers).

OpenDP draws its noise from the operating system's secure randomness and takes no seed, by
design: a seeded release could be replayed and the noise subtracted. DP releases are therefore
reproducible in distribution only, and healthlab's tests check them against their error bounds,
not against fixed numbers.

References
----------
Dwork C, Roth A. The algorithmic foundations of differential privacy. Found Trends Theor Comput
Sci 2014;9(3-4):211-407.

The OpenDP Library, https://docs.opendp.org (version 0.16).
"""

from __future__ import annotations

import numbers
from dataclasses import dataclass, field

import numpy as np
import opendp.accuracy as dpa
import opendp.domains as dpd
import opendp.measurements as dpm
import opendp.metrics as dpmet
import opendp.mod as dpmod
import opendp.transformations as dpt
import pandas as pd

from healthlab._validation import check_columns, check_frame, fraction
from healthlab.errors import InvalidParameterError, PrivacyBudgetExceededError


def _positive(value, name: str) -> float:
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or not value > 0:
        raise InvalidParameterError(f"{name} must be a positive number, got {value!r}")
    return float(value)


@dataclass
class PrivacyBudget:
    """A total privacy loss (epsilon) and the ledger of what has been spent.

    Examples
    --------
    >>> from healthlab.privacy import PrivacyBudget
    >>> budget = PrivacyBudget(1.0)
    >>> budget.charge(0.4, "count of patients")
    >>> round(budget.remaining, 2)
    0.6
    """

    epsilon: float
    ledger: list = field(default_factory=list)

    def __post_init__(self):
        self.epsilon = _positive(self.epsilon, "epsilon")

    @property
    def spent(self) -> float:
        """Epsilon spent so far."""
        return float(sum(e for _, e in self.ledger))

    @property
    def remaining(self) -> float:
        """Epsilon left."""
        return self.epsilon - self.spent

    def check(self, epsilon: float, what: str) -> None:
        """Raise :class:`PrivacyBudgetExceededError` if ``epsilon`` is more than is left."""
        epsilon = _positive(epsilon, "epsilon")
        if self.spent + epsilon > self.epsilon * (1 + 1e-9):
            raise PrivacyBudgetExceededError(
                f"refused: {what} needs epsilon={epsilon:.4g} but only {self.remaining:.4g} of "
                f"the budget's {self.epsilon:.4g} is left ({len(self.ledger)} releases made). "
                "Nothing was computed; ask for a smaller epsilon or stop releasing."
            )

    def charge(self, epsilon: float, what: str) -> None:
        """Record a release of privacy loss ``epsilon``, or refuse it if the budget is short."""
        self.check(epsilon, what)
        self.ledger.append((what, float(epsilon)))

    def to_frame(self) -> pd.DataFrame:
        """The ledger: one row per release."""
        return pd.DataFrame(self.ledger, columns=["release", "epsilon"])

    def _repr_html_(self) -> str:
        head = (
            f"<p>Privacy budget: epsilon {self.epsilon:g}, spent {self.spent:.4g}, "
            f"left {self.remaining:.4g}</p>"
        )
        return head + self.to_frame().to_html()


@dataclass(frozen=True)
class Release:
    """One differentially private answer with its cost and its error bound.

    Attributes
    ----------
    query : str
    value : float or pandas.Series
        The noisy answer (a Series of counts for a histogram).
    epsilon : float
        Privacy loss charged, from OpenDP's privacy map.
    mechanism : str
    noise_scale : float
    alpha, accuracy : float
        With probability at least ``1 - alpha``, ``|value - true value| <= accuracy`` (per cell
        for a histogram).

    Examples
    --------
    >>> import pandas as pd
    >>> from healthlab.privacy import PrivateTable
    >>> table = PrivateTable(pd.DataFrame({"age": range(1000)}), budget=1.0)
    >>> release = table.count(epsilon=0.5)
    >>> release.query, release.epsilon, release.mechanism, release.noise_scale
    ('count', 0.5, 'discrete Laplace', 2.0)
    >>> round(release.accuracy, 2)  # |value - 1000| is at most this with probability 95%
    6.43
    """

    query: str
    value: object
    epsilon: float
    mechanism: str
    noise_scale: float
    alpha: float
    accuracy: float
    notes: str = ""

    def to_frame(self) -> pd.DataFrame:
        """The release's figures as a one-column table."""
        value = self.value if np.isscalar(self.value) else "(see .value)"
        rows = [
            ("query", self.query),
            ("value", value),
            ("epsilon", self.epsilon),
            ("mechanism", self.mechanism),
            ("noise scale", self.noise_scale),
            (f"error bound at {1 - self.alpha:.0%}", self.accuracy),
            ("notes", self.notes),
        ]
        return pd.DataFrame(rows, columns=["figure", "value"], dtype=object).set_index("figure")

    def _repr_html_(self) -> str:
        out = self.to_frame().to_html()
        if isinstance(self.value, pd.Series):
            out += self.value.to_frame().to_html()
        return out


class PrivateTable:
    """A table whose statistics can only be released with differential privacy.

    Parameters
    ----------
    df : pandas.DataFrame
    budget : PrivacyBudget or float
        The budget to charge (a number makes a new one).
    unit : str, optional
        Column identifying the patient (the privacy unit). Without it every row is taken to be
        a different patient.
    max_contributions : int, default 1
        Rows one patient may contribute; a patient's further rows are dropped.

    Examples
    --------
    >>> import pandas as pd
    >>> from healthlab.privacy import PrivateTable
    >>> table = PrivateTable(pd.DataFrame({"age": range(1000)}), budget=1.0)
    >>> release = table.count(epsilon=0.5)
    >>> abs(release.value - 1000) <= 100  # noise scale 2; this fails with probability < 1e-20
    True
    """

    def __init__(self, df: pd.DataFrame, budget, *, unit: str | None = None, max_contributions=1):
        check_frame(df, "df", allow_empty=True)
        dpmod.enable_features("contrib")  # OpenDP's measurements used here are in "contrib"
        self.budget = budget if isinstance(budget, PrivacyBudget) else PrivacyBudget(budget)
        if (
            isinstance(max_contributions, bool)
            or not isinstance(max_contributions, numbers.Integral)
            or max_contributions < 1
        ):
            raise InvalidParameterError(
                f"max_contributions must be a whole number >= 1, got {max_contributions!r}"
            )
        self.max_contributions = int(max_contributions)
        if unit is not None:
            check_columns(df, [unit], "unit")
            df = df[df.groupby(unit, sort=False).cumcount().to_numpy() < self.max_contributions]
        self._df = df
        self.unit = unit

    def _release(self, query, make, d_type, values, epsilon, alpha, notes=""):
        alpha = fraction(alpha, "alpha")
        scale = dpmod.binary_search_param(make, d_in=self.max_contributions, d_out=epsilon)
        meas = make(scale)
        spent = float(meas.map(self.max_contributions))
        self.budget.charge(spent, query)
        value = meas(values)
        if d_type is int:
            acc = dpa.discrete_laplacian_scale_to_accuracy(scale, alpha)
            mech = "discrete Laplace"
        else:
            acc = dpa.laplacian_scale_to_accuracy(scale, alpha)
            mech = "Laplace"
        return Release(query, value, spent, mech, float(scale), alpha, float(acc), notes)

    def _column(self, column):
        check_columns(self._df, [column], "column")
        return self._df[column]

    def count(self, *, epsilon: float, alpha: float = 0.05) -> Release:
        """Release the number of rows (patients when ``max_contributions`` is 1)."""
        epsilon = _positive(epsilon, "epsilon")
        domain = dpd.vector_domain(dpd.atom_domain(T=bool))
        trans = dpt.make_count(domain, dpmet.symmetric_distance())
        return self._release(
            "count",
            lambda s: trans >> dpm.then_laplace(s),
            int,
            [True] * len(self._df),
            epsilon,
            alpha,
        )

    def sum(self, column: str, *, bounds: tuple, epsilon: float, alpha: float = 0.05) -> Release:
        """Release the sum of a numeric column, each value clamped to ``bounds`` first."""
        epsilon = _positive(epsilon, "epsilon")
        lo, hi = self._bounds(bounds)
        values = self._numeric(column)
        domain = dpd.vector_domain(dpd.atom_domain(T=float, nan=False))
        trans = dpt.make_clamp(domain, dpmet.symmetric_distance(), (lo, hi)) >> dpt.then_sum()
        return self._release(
            f"sum of {column}",
            lambda s: trans >> dpm.then_laplace(s),
            float,
            values,
            epsilon,
            alpha,
        )

    def mean(self, column: str, *, bounds: tuple, epsilon: float, alpha: float = 0.05) -> Release:
        """Release a mean as a noisy sum over a noisy count, each with half of ``epsilon``.

        The error bound holds with probability ``1 - alpha`` (``alpha/2`` to each part):
        ``(a_sum + B * a_count) / count`` with ``B`` the larger absolute bound.
        """
        lo, hi = self._bounds(bounds)
        half = _positive(epsilon, "epsilon") / 2
        alpha = fraction(alpha, "alpha")
        self.budget.check(2 * half, f"mean of {column}")  # both parts, or neither
        total = self.sum(column, bounds=(lo, hi), epsilon=half, alpha=alpha / 2)
        n = self.count(epsilon=half, alpha=alpha / 2)
        if n.value <= n.accuracy:
            return Release(
                f"mean of {column}", float("nan"), total.epsilon + n.epsilon, "Laplace (ratio)",
                total.noise_scale, alpha, float("inf"),
                "the noisy count is too small for a meaningful mean",
            )  # fmt: skip
        value = total.value / n.value
        bound = (total.accuracy + max(abs(lo), abs(hi)) * n.accuracy) / n.value
        return Release(
            f"mean of {column}", float(value), total.epsilon + n.epsilon,
            "Laplace sum / discrete Laplace count", total.noise_scale, alpha, float(bound),
            f"count noise scale {n.noise_scale:g}; bound uses the released count",
        )  # fmt: skip

    def histogram(self, column: str, *, categories, epsilon: float, alpha: float = 0.05) -> Release:
        """Release counts by category; ``categories`` must be public (not read from the data).

        Values outside ``categories`` are counted under ``"(other)"``.
        """
        epsilon = _positive(epsilon, "epsilon")
        cats = [str(c) for c in categories]
        if not cats or len(set(cats)) != len(cats):
            raise InvalidParameterError(
                f"categories must be a non-empty list of distinct values, got {categories!r}"
            )
        values = self._column(column).astype(str).tolist()
        domain = dpd.vector_domain(dpd.atom_domain(T=str))
        trans = dpt.make_count_by_categories(domain, dpmet.symmetric_distance(), cats)
        rel = self._release(
            f"histogram of {column}", lambda s: trans >> dpm.then_laplace(s), int, values,
            epsilon, alpha, "accuracy is per cell",
        )  # fmt: skip
        series = pd.Series(rel.value, index=[*cats, "(other)"], name="noisy count")
        return Release(**{**rel.__dict__, "value": series})

    def _numeric(self, column):
        values = self._column(column)
        if not pd.api.types.is_numeric_dtype(values):
            raise InvalidParameterError(f"column {column!r} is not numeric ({values.dtype})")
        return values.astype(float).fillna(0.0).tolist()

    @staticmethod
    def _bounds(bounds):
        ok = isinstance(bounds, tuple | list) and len(bounds) == 2
        ok = ok and all(isinstance(b, numbers.Real) and np.isfinite(b) for b in bounds)
        if not ok or not bounds[0] < bounds[1]:
            raise InvalidParameterError(
                f"bounds must be (low, high) with low < high, set from public knowledge, "
                f"got {bounds!r}; for example bounds=(0, 120) for an age"
            )
        return float(bounds[0]), float(bounds[1])


def privacy_utility_curve(
    df: pd.DataFrame,
    epsilons,
    *,
    query: str = "count",
    column: str | None = None,
    bounds: tuple | None = None,
    repeats: int = 20,
    alpha: float = 0.05,
) -> pd.DataFrame:
    """Error of a DP release against epsilon: the a-priori bound and the error observed.

    Releases the query ``repeats`` times at each epsilon and compares with the exact answer.
    This spends ``repeats * sum(epsilons)`` on a budget of its own: it is a tool for studying
    the trade-off on synthetic data, not for releasing real data.

    Parameters
    ----------
    df : pandas.DataFrame
    epsilons : sequence of float
    query : {"count", "sum", "mean"}
    column, bounds
        For sums and means.
    repeats : int, default 20
    alpha : float, default 0.05

    Returns
    -------
    pandas.DataFrame
        epsilon, noise scale, error bound, mean absolute error, share within the bound.

    Examples
    --------
    >>> import pandas as pd
    >>> from healthlab.privacy import privacy_utility_curve
    >>> curve = privacy_utility_curve(pd.DataFrame({"x": range(100)}), [0.1, 1.0], repeats=5)
    >>> curve["error_bound"].is_monotonic_decreasing
    True
    """
    if query not in ("count", "sum", "mean"):
        raise InvalidParameterError(f"query must be 'count', 'sum' or 'mean', got {query!r}")
    epsilons = [_positive(e, "epsilons") for e in epsilons]
    if not isinstance(repeats, numbers.Integral) or repeats < 1:
        raise InvalidParameterError(f"repeats must be a whole number >= 1, got {repeats!r}")
    table = PrivateTable(df, PrivacyBudget(repeats * sum(epsilons) * (1 + 1e-6)))
    if query == "count":
        truth = float(len(df))
    else:
        check_columns(df, [column], "column")
        lo, hi = PrivateTable._bounds(bounds)
        clamped = df[column].astype(float).clip(lo, hi)
        truth = float(clamped.sum() if query == "sum" else clamped.mean())
    rows = []
    for eps in epsilons:
        if query == "count":
            rel = [table.count(epsilon=eps, alpha=alpha) for _ in range(repeats)]
        else:
            ask = table.sum if query == "sum" else table.mean
            rel = [ask(column, bounds=bounds, epsilon=eps, alpha=alpha) for _ in range(repeats)]
        err = np.abs(np.array([r.value for r in rel], dtype=float) - truth)
        bound = np.array([r.accuracy for r in rel])
        rows.append(
            (eps, rel[0].noise_scale, float(np.median(bound)), err.mean(), (err <= bound).mean())
        )
    return pd.DataFrame(
        rows, columns=["epsilon", "noise_scale", "error_bound", "mean_abs_error", "within_bound"]
    )
