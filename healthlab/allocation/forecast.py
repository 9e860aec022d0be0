"""Forecast admissions: count regressions with a population offset, and SARIMAX series.

:func:`forecast_rates` fits ``log E[y] = log(population) + X beta`` by a Poisson or negative
binomial (NB2, ``Var = mu + alpha mu^2``) generalised linear model, so that the coefficients are
rates per person and a growing or aging population carries through to the forecast. Intervals:
``mean_lower``/``mean_upper`` for the expected count (delta method on the linear predictor),
``lower``/``upper`` for a future count, the count distribution's quantiles at those bounds
(a conservative prediction interval that holds both the uncertainty of the mean and the noise
of the counts).

:func:`forecast_sarimax` fits a seasonal ARIMA model to a series of admissions (weekly or
monthly) and returns forecasts with prediction intervals, optionally on the log scale.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np
import pandas as pd

from healthlab._results import TableView
from healthlab._validation import check_columns, check_frame, numeric, positive, probability
from healthlab.errors import HealthlabError, InvalidParameterError

__all__ = ["RateForecast", "forecast_rates", "forecast_sarimax"]


@dataclass(frozen=True)
class RateForecast(TableView):
    """Forecast counts from a count GLM with a population offset, and the fitted model.

    Attributes
    ----------
    table : pandas.DataFrame
        The rows forecast, with ``expected``, ``mean_lower``, ``mean_upper``, ``lower``,
        ``upper`` and ``rate`` (expected per person).
    coefficients : dict
        Term to coefficient (numeric covariates centred on their mean in the history, so the
        intercept is the log rate there).
    family : str
        ``"poisson"`` or ``"negbin"``.
    alpha : float or None
        The negative binomial's overdispersion (None for Poisson).

    Examples
    --------
    >>> import pandas as pd
    >>> f = RateForecast(pd.DataFrame({"expected": [1.0]}), {"const": 0.0}, "poisson", None)
    >>> f["expected"].tolist()
    [1.0]
    """

    table: pd.DataFrame
    coefficients: dict
    family: str
    alpha: float | None = None

    def __getitem__(self, column: str) -> pd.Series:
        """A column of :attr:`table` (``forecast["expected"]``)."""
        return self.table[column]

    def to_frame(self) -> pd.DataFrame:
        """The forecast rows."""
        return self.table


def _design(history: pd.DataFrame, future: pd.DataFrame, covariates: list) -> tuple:
    """Design matrices with an intercept; categorical covariates as dummies of history's levels."""
    parts_h, parts_f, names = [np.ones(len(history))], [np.ones(len(future))], ["const"]
    for col in covariates:
        h, f = history[col], future[col]
        if pd.api.types.is_numeric_dtype(h) and not pd.api.types.is_bool_dtype(h):
            vh = numeric(h, f"history[{col!r}]", allow_negative=True)
            centre = vh.mean()  # centred for conditioning (a year such as 2020 otherwise)
            parts_h.append(vh - centre)
            parts_f.append(numeric(f, f"future[{col!r}]", allow_negative=True) - centre)
            names.append(col)
            continue
        levels = sorted(pd.unique(h.astype(str)))
        unseen = sorted(set(f.astype(str)) - set(levels))
        if unseen:
            raise InvalidParameterError(
                f"future[{col!r}] has levels {unseen} that history does not; the model cannot "
                "forecast a level it has not seen"
            )
        for lev in levels[1:]:
            parts_h.append((h.astype(str) == lev).to_numpy(dtype=float))
            parts_f.append((f.astype(str) == lev).to_numpy(dtype=float))
            names.append(f"{col}[{lev}]")
    return np.column_stack(parts_h), np.column_stack(parts_f), names


def forecast_rates(
    history: pd.DataFrame,
    future: pd.DataFrame,
    *,
    count: str = "admissions",
    population: str = "population",
    covariates=(),
    family: str = "poisson",
    conf_level: float = 0.95,
) -> RateForecast:
    """Fit a count GLM with a population offset and forecast counts with intervals.

    Parameters
    ----------
    history : pandas.DataFrame
        Observed rows with the ``count`` column, the ``population`` at risk and covariates.
    future : pandas.DataFrame
        Rows to forecast: the ``population`` (for example a projection) and the covariates.
    count, population : str
        Column names of the counts and of the population offset.
    covariates : list of str
        Columns used as predictors; numeric columns enter linearly (for example ``year`` for a
        trend), others as categories (for example ``age_group``, ``province``, ``month``).
    family : {"poisson", "negbin"}, default "poisson"
        ``"negbin"`` estimates the overdispersion ``alpha`` by maximum likelihood.
    conf_level : float, default 0.95

    Returns
    -------
    RateForecast
        ``table``: ``future`` with ``expected``, ``mean_lower``, ``mean_upper``, ``lower``,
        ``upper`` and ``rate`` (expected per person); ``coefficients`` (numeric covariates
        are centred on their mean in ``history``, so the intercept is the log rate there);
        ``family``; for ``negbin``, ``alpha``.

    References
    ----------
    Cameron AC, Trivedi PK. Regression Analysis of Count Data. 2nd ed. Cambridge University
    Press; 2013.

    Examples
    --------
    >>> import pandas as pd
    >>> from healthlab.allocation import forecast_rates
    >>> hist = pd.DataFrame({"admissions": [50, 70], "population": [1000, 1000]})
    >>> fut = pd.DataFrame({"population": [2000]})
    >>> out = forecast_rates(hist, fut)
    >>> round(float(out["expected"].iloc[0]), 6), round(float(out["rate"].iloc[0]), 4)
    (120.0, 0.06)
    """
    import statsmodels.api as sm
    from scipy import stats
    from statsmodels.discrete.discrete_model import NegativeBinomial

    check_frame(history, "history")
    check_frame(future, "future")
    covariates = [covariates] if isinstance(covariates, str) else list(covariates)
    check_columns(history, [count, population, *covariates], frame="history")
    check_columns(future, [population, *covariates], frame="future")
    if family not in ("poisson", "negbin"):
        raise InvalidParameterError(f"family must be 'poisson' or 'negbin', got {family!r}")
    level = probability(conf_level, "conf_level")
    y = numeric(history[count], f"history[{count!r}]")
    if (y != np.round(y)).any():
        raise InvalidParameterError(f"history[{count!r}] must hold whole counts")
    pop_h = numeric(history[population], f"history[{population!r}]")
    pop_f = numeric(future[population], f"future[{population!r}]")
    if (pop_h <= 0).any() or (pop_f <= 0).any():
        raise InvalidParameterError(f"{population!r} must be above 0 in every row")
    X, Xf, names = _design(history, future, covariates)
    if len(y) <= X.shape[1]:
        raise InvalidParameterError(
            f"history has {len(y)} rows for {X.shape[1]} parameters; give more rows or fewer "
            "covariates"
        )
    attrs = {}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        if family == "negbin":
            start = sm.GLM(y, X, family=sm.families.Poisson(), offset=np.log(pop_h)).fit()
            nb = NegativeBinomial(y, X, offset=np.log(pop_h)).fit(
                start_params=np.r_[start.params, 0.1], disp=0, maxiter=500
            )
            if not nb.mle_retvals.get("converged", True):
                raise HealthlabError(
                    "the negative binomial fit did not converge; try family='poisson' or "
                    "fewer covariates"
                )
            alpha = float(nb.params[-1])
            attrs["alpha"] = alpha
            fam = sm.families.NegativeBinomial(alpha=max(alpha, 1e-8))
        else:
            fam = sm.families.Poisson()
        model = sm.GLM(y, X, family=fam, offset=np.log(pop_h)).fit()
        pred = model.get_prediction(Xf, offset=np.log(pop_f)).summary_frame(alpha=1 - level)
    attrs["coefficients"] = dict(zip(names, np.asarray(model.params, dtype=float)))
    mean = pred["mean"].to_numpy()
    lo_m, hi_m = pred["mean_ci_lower"].to_numpy(), pred["mean_ci_upper"].to_numpy()
    tail = (1 - level) / 2
    if family == "negbin":
        size = 1.0 / max(attrs["alpha"], 1e-8)
        lower = stats.nbinom.ppf(tail, size, size / (size + lo_m))
        upper = stats.nbinom.ppf(1 - tail, size, size / (size + hi_m))
    else:
        lower = stats.poisson.ppf(tail, lo_m)
        upper = stats.poisson.ppf(1 - tail, hi_m)
    out = future.copy()
    out["expected"] = mean
    out["mean_lower"] = lo_m
    out["mean_upper"] = hi_m
    out["lower"] = lower
    out["upper"] = upper
    out["rate"] = mean / pop_f
    return RateForecast(
        table=out, coefficients=attrs["coefficients"], family=family, alpha=attrs.get("alpha")
    )


def forecast_sarimax(
    series: pd.Series,
    steps: int,
    *,
    order=(1, 0, 0),
    seasonal_order=(0, 0, 0, 0),
    trend: str | None = "c",
    log: bool = False,
    conf_level: float = 0.95,
) -> pd.DataFrame:
    """Forecast a series of admissions with a seasonal ARIMA model.

    Parameters
    ----------
    series : pandas.Series
        Observations in time order; a ``DatetimeIndex`` or ``PeriodIndex`` with a frequency
        gives dated forecasts.
    steps : int
        Periods to forecast.
    order, seasonal_order : tuple
        ``(p, d, q)`` and ``(P, D, Q, s)`` of the model, for example ``(1, 0, 0)`` and
        ``(1, 0, 0, 12)`` for monthly admissions.
    trend : {"c", "t", "ct", "n"} or None, default "c"
        Deterministic terms (use ``"n"`` or None with differencing).
    log : bool, default False
        Fit on ``log(1 + y)`` and transform back (the forecast is then a median).
    conf_level : float, default 0.95

    Returns
    -------
    pandas.DataFrame
        ``period``, ``forecast``, ``lower``, ``upper``.

    References
    ----------
    Box GEP, Jenkins GM, Reinsel GC, Ljung GM. Time Series Analysis: Forecasting and Control.
    5th ed. Wiley; 2015.

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> from healthlab.allocation import forecast_sarimax
    >>> idx = pd.period_range("2020-01", periods=48, freq="M")
    >>> y = pd.Series(100 + 10 * np.sin(np.arange(48) * np.pi / 6), index=idx)
    >>> fc = forecast_sarimax(y, 3, order=(0, 0, 0), seasonal_order=(0, 1, 0, 12), trend="n")
    >>> fc["period"].astype(str).tolist(), fc["forecast"].round(1).tolist()
    (['2024-01', '2024-02', '2024-03'], [100.0, 105.0, 108.7])
    """
    from statsmodels.tsa.statespace.sarimax import SARIMAX

    if not isinstance(series, pd.Series):
        raise InvalidParameterError(f"series must be a pandas Series, got {type(series).__name__}")
    h = positive(steps, "steps", integer=True)
    level = probability(conf_level, "conf_level")
    y = numeric(series, "series", allow_negative=not log)
    if len(y) < 8:
        raise InvalidParameterError(f"series has {len(y)} observations; give at least 8")
    values = np.log1p(y) if log else y
    endog = pd.Series(values, index=series.index)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model = SARIMAX(
            endog, order=tuple(order), seasonal_order=tuple(seasonal_order), trend=trend
        ).fit(disp=False)
        fc = model.get_forecast(h)
        ci = fc.conf_int(alpha=1 - level)
    mean = np.asarray(fc.predicted_mean, dtype=float)
    lo, hi = ci.iloc[:, 0].to_numpy(), ci.iloc[:, 1].to_numpy()
    if log:
        mean, lo, hi = np.expm1(mean), np.expm1(lo), np.expm1(hi)
    index = fc.predicted_mean.index
    return pd.DataFrame({"period": index, "forecast": mean, "lower": lo, "upper": hi})
