"""Lee-Carter model of mortality: fit by singular value decomposition, forecast by random walk.

``log m(x, t) = a(x) + b(x) k(t) + e(x, t)``. ``a(x)`` is the mean log rate by age; ``b(x)`` and
``k(t)`` are the first singular vectors of the centred log rates, normalised so that
``sum b(x) = 1`` and ``sum k(t) = 0`` (Lee and Carter 1992). The mortality index ``k(t)`` is
forecast as a random walk with drift: ``k(T+h) = k(T) + h d``, with ``d = (k(T) - k(1)) /
(T - 1)``; its forecast variance ``h s^2 + h^2 Var(d)`` (``s^2`` the variance of the yearly
changes, ``Var(d) = s^2 / (T - 1)``) carries both the innovations and the uncertainty of the
drift. Intervals for the rates follow from those of ``k`` (the model's error term is left out,
as is usual for forecasts of ``e0``).
"""

from __future__ import annotations

from dataclasses import dataclass
from statistics import NormalDist

import numpy as np
import pandas as pd

from healthlab._results import TableView
from healthlab._validation import check_columns, check_frame, numeric, positive, probability
from healthlab.errors import InvalidParameterError

__all__ = ["LeeCarter", "lee_carter"]


@dataclass(frozen=True)
class LeeCarter(TableView):
    """A fitted Lee-Carter model.

    Attributes
    ----------
    ages, years : ndarray
        The ages and years of the fitted rates.
    ax, bx : ndarray
        Mean log rate and sensitivity to the index, by age (``bx`` sums to 1).
    kt : ndarray
        The mortality index by year (sums to 0).
    explained : float
        Share of the variance of the centred log rates that the first component explains.
    drift, sigma : float
        Drift of the random walk of ``kt`` and the standard deviation of its yearly changes.

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> from healthlab.demography import lee_carter
    >>> years, ages = np.arange(2000, 2005), np.array([60, 70, 80])
    >>> mx = [0.01 * 2.7 ** ((a - 60) / 10) * 0.98 ** (y - 2000) for y in years for a in ages]
    >>> model = lee_carter(pd.DataFrame({"year": np.repeat(years, 3),
    ...                                  "age": np.tile(ages, 5), "mx": mx}))
    >>> model.to_frame()["measure"].tolist()
    ['years', 'ages', 'explained', 'drift', 'sigma']
    >>> round(model.drift, 4), model.parameters().columns.tolist()
    (-0.0606, ['age', 'ax', 'bx'])
    """

    ages: np.ndarray
    years: np.ndarray
    ax: np.ndarray
    bx: np.ndarray
    kt: np.ndarray
    explained: float
    drift: float
    sigma: float

    def to_frame(self) -> pd.DataFrame:
        """The fit in numbers: years, ages, variance explained, drift and sigma of ``kt``."""
        span = f"{int(self.years[0])}-{int(self.years[-1])}"
        ages = f"{int(self.ages[0])}-{int(self.ages[-1])}"
        return pd.DataFrame(
            {
                "measure": ["years", "ages", "explained", "drift", "sigma"],
                "value": [span, ages, self.explained, self.drift, self.sigma],
            }
        )

    def parameters(self) -> pd.DataFrame:
        """``age``, ``ax``, ``bx`` as a tidy frame."""
        return pd.DataFrame({"age": self.ages, "ax": self.ax, "bx": self.bx})

    def index(self) -> pd.DataFrame:
        """``year``, ``kt`` as a tidy frame."""
        return pd.DataFrame({"year": self.years, "kt": self.kt})

    def fitted(self) -> pd.DataFrame:
        """Fitted rates ``year``, ``age``, ``mx`` over the fitting period."""
        return self._rates(self.years, self.kt)

    def _rates(self, years, kt) -> pd.DataFrame:
        log_m = self.ax[None, :] + np.outer(kt, self.bx)
        return pd.DataFrame(
            {
                "year": np.repeat(years, len(self.ages)),
                "age": np.tile(self.ages, len(years)),
                "mx": np.exp(log_m).ravel(),
            }
        )

    def forecast(self, horizon: int, *, conf_level: float = 0.95) -> pd.DataFrame:
        """Forecast death rates ``horizon`` years beyond the last fitted year.

        Parameters
        ----------
        horizon : int
            Number of years to forecast.
        conf_level : float, default 0.95
            Level of the intervals.

        Returns
        -------
        pandas.DataFrame
            ``year``, ``age``, ``kt``, ``kt_lower``, ``kt_upper``, ``mx``, ``mx_lower``
            (from the upper bound of ``kt`` when ``bx > 0``) and ``mx_upper``.

        Examples
        --------
        >>> import numpy as np, pandas as pd
        >>> from healthlab.demography import lee_carter
        >>> years, ages = np.arange(2000, 2010), np.array([60, 70, 80])
        >>> mx = [0.01 * 2.7 ** ((a - 60) / 10) * 0.98 ** (y - 2000) for y in years for a in ages]
        >>> model = lee_carter(pd.DataFrame({"year": np.repeat(years, 3),
        ...                                  "age": np.tile(ages, 10), "mx": mx}))
        >>> fc = model.forecast(1)
        >>> np.allclose(fc["mx"], [0.01 * 2.7 ** ((a - 60) / 10) * 0.98 ** 10 for a in ages])
        True
        """
        h = positive(horizon, "horizon", integer=True)
        level = probability(conf_level, "conf_level")
        steps = np.arange(1, h + 1)
        years = self.years[-1] + steps
        kt = self.kt[-1] + steps * self.drift
        t = len(self.years)
        var = steps * self.sigma**2 + steps**2 * self.sigma**2 / max(t - 1, 1)
        z = NormalDist().inv_cdf(0.5 + level / 2)
        lo, hi = kt - z * np.sqrt(var), kt + z * np.sqrt(var)
        out = self._rates(years, kt)
        k = len(self.ages)
        out.insert(2, "kt", np.repeat(kt, k))
        out.insert(3, "kt_lower", np.repeat(lo, k))
        out.insert(4, "kt_upper", np.repeat(hi, k))
        a = np.tile(self.ax, h)
        b = np.tile(self.bx, h)
        m_lo = np.exp(a + b * np.repeat(lo, k))
        m_hi = np.exp(a + b * np.repeat(hi, k))
        out["mx_lower"] = np.minimum(m_lo, m_hi)
        out["mx_upper"] = np.maximum(m_lo, m_hi)
        return out


def lee_carter(rates: pd.DataFrame) -> LeeCarter:
    """Fit the Lee-Carter model to death rates by year and age.

    Parameters
    ----------
    rates : pandas.DataFrame
        Columns ``year``, ``age`` and ``mx`` (deaths per person-year, all above 0), one row
        per year and age, on a complete year-by-age grid of at least three years.

    Returns
    -------
    LeeCarter
        The fitted model; ``.forecast(h)`` forecasts the rates.

    References
    ----------
    Lee RD, Carter LR. Modeling and forecasting U.S. mortality. J Am Stat Assoc
    1992;87(419):659-671.

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> from healthlab.demography import lee_carter
    >>> years, ages = np.arange(2000, 2005), np.array([60, 70, 80])
    >>> mx = [0.01 * 2.7 ** ((a - 60) / 10) * 0.98 ** (y - 2000) for y in years for a in ages]
    >>> model = lee_carter(pd.DataFrame({"year": np.repeat(years, 3),
    ...                                  "age": np.tile(ages, 5), "mx": mx}))
    >>> round(model.explained, 6), np.round(model.bx, 3).tolist()
    (1.0, [0.333, 0.333, 0.333])
    """
    check_frame(rates, "rates")
    check_columns(rates, ["year", "age", "mx"], frame="rates")
    m = numeric(rates["mx"], "rates['mx']")
    if (m <= 0).any():
        raise InvalidParameterError(
            "rates['mx'] must be above 0 everywhere (the model works on log rates); "
            "merge ages or years with no deaths"
        )
    if rates.duplicated(["year", "age"]).any():
        raise InvalidParameterError("rates has more than one row for some (year, age); give one")
    wide = rates.pivot(index="year", columns="age", values="mx").sort_index().sort_index(axis=1)
    if wide.isna().any().any():
        raise InvalidParameterError(
            "rates must cover every age in every year (a complete year-by-age grid)"
        )
    if len(wide) < 3:
        raise InvalidParameterError(f"rates needs at least 3 years, got {len(wide)}")
    log_m = np.log(wide.to_numpy(dtype=float))
    ax = log_m.mean(axis=0)
    centred = log_m - ax
    u, s, vt = np.linalg.svd(centred, full_matrices=False)
    bx = vt[0]
    kt = u[:, 0] * s[0]
    scale = bx.sum()
    if scale == 0:
        raise InvalidParameterError("the first component's age pattern sums to 0; cannot normalise")
    bx, kt = bx / scale, kt * scale
    total = (s**2).sum()
    explained = float(s[0] ** 2 / total) if total > 0 else 1.0
    diffs = np.diff(kt)
    drift = float((kt[-1] - kt[0]) / (len(kt) - 1))
    sigma = float(np.sqrt(((diffs - drift) ** 2).sum() / max(len(diffs) - 1, 1)))
    return LeeCarter(
        ages=wide.columns.to_numpy(dtype=float),
        years=wide.index.to_numpy(),
        ax=ax,
        bx=bx,
        kt=kt,
        explained=explained,
        drift=drift,
        sigma=sigma,
    )
