"""Period life tables (Chiang's method) with a confidence interval for life expectancy.

A life table turns age-specific death rates ``nMx`` into the experience of a synthetic cohort:
the probability of dying in each interval ``nqx``, survivors ``lx``, deaths ``ndx``,
person-years ``nLx`` and ``Tx``, and life expectancy ``ex``. The link between a rate and a
probability is Chiang's: with ``nax`` the mean years lived in the interval by those who die
in it,

    nqx = n nMx / (1 + (n - nax) nMx),     nLx = n l(x+n) + nax ndx,

and the last, open interval is closed with ``L = l / M`` (everyone dies, at the rate ``M``).

How ``nax`` is chosen
---------------------
- Infants (``1a0``) and ages 1-4 (``4a1``): the rules of Coale and Demeny as given by Preston,
  Heuveline and Guillot (2001, table 3.3), by sex and by the level of ``1m0`` (``a0_rule=
  "coale-demeny"``, the default), or the newer rule of Andreev and Kingkade (2015) for ``1a0``
  (``a0_rule="andreev-kingkade"``; ``4a1`` still Coale-Demeny). With ``sex="total"`` the two
  sexes' values are averaged.
- Other closed intervals: the midpoint ``n/2`` (``ax_method="midpoint"``); Keyfitz's iterative
  graduation ``nax = (-n/24 d(x-n) + n/2 dx + n/24 d(x+n)) / dx`` for five-year intervals from
  age 10 (``"graduation"``, Preston et al. 2001, eq. 3.12); or the exact value under a constant
  hazard within the interval, ``1/M - n/(exp(nM) - 1)`` (``"constant-hazard"``).
- A column ``ax`` in the input overrides all of these (the open interval always gets ``1/M``).

Confidence interval
-------------------
When deaths and exposures are given, the variance of ``ex`` is Chiang's (1984):
``Var(ex) = sum_{i>=x} l_i^2 [(n_i - a_i) + e_{i+1}]^2 Var(q_i) / l_x^2`` with
``Var(q_i) = q_i^2 (1 - q_i) / D_i``, plus Silcocks et al.'s (2001) term for the open interval,
``l_w^2 Var(M_w) / M_w^4`` with ``Var(M_w) = D_w / P_w^2``. The interval is normal:
``ex +/- z se``.
"""

from __future__ import annotations

from statistics import NormalDist

import numpy as np
import pandas as pd

from healthlab._validation import age_grid, check_frame, choice, numeric, positive, probability
from healthlab.errors import InvalidParameterError

__all__ = ["life_table"]

_SEXES = {"female", "male", "total"}
_A0_RULES = {"coale-demeny", "andreev-kingkade", "none"}
_AX_METHODS = {"midpoint", "graduation", "constant-hazard"}


def tail_sum(values: np.ndarray) -> np.ndarray:
    """Sum of ``values`` over each interval and all those above it (``Tx`` from ``Lx``)."""
    return np.cumsum(values[::-1])[::-1]


def per_survivor(total: np.ndarray, lx: np.ndarray, power: int = 1) -> np.ndarray:
    """``total / lx**power`` at ages someone survives to, 0 where nobody does."""
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(lx > 0, total / lx**power, 0.0)


def _coale_demeny(m0: float, sex: str) -> tuple[float, float]:
    """``(1a0, 4a1)`` by Coale and Demeny's rules (Preston et al. 2001, table 3.3)."""
    if m0 >= 0.107:
        rules = {"male": (0.330, 1.352), "female": (0.350, 1.361)}
    else:
        rules = {
            "male": (0.045 + 2.684 * m0, 1.651 - 2.816 * m0),
            "female": (0.053 + 2.800 * m0, 1.522 - 1.518 * m0),
        }
    if sex == "total":
        return tuple((np.array(rules["male"]) + np.array(rules["female"])) / 2)
    return rules[sex]


def _andreev_kingkade(m0: float, sex: str) -> float:
    """``1a0`` by Andreev and Kingkade (2015, table 3)."""
    if sex == "total":
        return (_andreev_kingkade(m0, "male") + _andreev_kingkade(m0, "female")) / 2
    if sex == "male":
        if m0 < 0.02300:
            return 0.14929 - 1.99545 * m0
        if m0 < 0.08307:
            return 0.02832 + 3.26201 * m0
        return 0.29915
    if m0 < 0.01724:
        return 0.14903 - 2.05527 * m0
    if m0 < 0.06891:
        return 0.04667 + 3.88089 * m0
    return 0.31411


def _constant_hazard_ax(m: np.ndarray, n: np.ndarray) -> np.ndarray:
    """Mean years lived by those dying in an interval of width n under a constant hazard m."""
    out = n / 2.0
    pos = (m > 0) & (n > 0)
    mn = m[pos] * n[pos]
    # 1/m - n/(e^{mn}-1), written to stay accurate for small mn
    out[pos] = (1.0 / m[pos]) - n[pos] / np.expm1(mn)
    return out


def _qx(mx, n, ax):
    """Chiang's nqx from nMx and nax; 1 in the open interval."""
    closed = np.isfinite(n)
    width = np.where(closed, n, 0.0)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(closed, width * mx / (1.0 + (width - ax) * mx), 1.0)


def _columns(qx, ax, n, radix):
    """lx, dx and Lx from qx, ax and widths (open interval Lx left for the caller)."""
    px = 1.0 - qx
    lx = radix * np.concatenate(([1.0], np.cumprod(px[:-1])))
    dx = lx * qx
    l_next = np.append(lx[1:], 0.0)
    Lx = np.where(np.isfinite(n), np.nan_to_num(n, posinf=0.0) * l_next + ax * dx, np.nan)
    return px, lx, dx, Lx


def life_table(
    data: pd.DataFrame,
    *,
    radix: float = 100_000,
    sex: str = "total",
    a0_rule: str = "coale-demeny",
    ax_method: str = "midpoint",
    conf_level: float = 0.95,
    by=None,
) -> pd.DataFrame:
    """Build a period life table from deaths and exposures, or from death rates.

    The table follows Chiang's method (see the module notes for the formulas and the choice of
    ``nax``). Ages may be single years (0, 1, 2, ..., 100+), five-year groups (0, 5, ...,
    85+) or the abridged grid (0, 1, 5, 10, ..., 85+); the last row is the open interval.

    Parameters
    ----------
    data : pandas.DataFrame
        One row per age interval with ``age`` (its start) and either ``deaths`` and
        ``exposure`` (person-years at risk) or ``mx`` (deaths per person-year). An optional
        ``ax`` column (years lived in the interval by those who die in it) overrides the rules.
    radix : float, default 100000
        ``l0``, the size of the synthetic birth cohort.
    sex : {"total", "female", "male"}, default "total"
        Which sex's rule to use for ``1a0`` and ``4a1``; ``"total"`` averages the two.
    a0_rule : {"coale-demeny", "andreev-kingkade", "none"}, default "coale-demeny"
        Rule for the infant interval (and ``4a1`` on the abridged grid); ``"none"`` uses
        ``ax_method`` there too.
    ax_method : {"midpoint", "graduation", "constant-hazard"}, default "midpoint"
        Rule for the other closed intervals.
    conf_level : float, default 0.95
        Level of the confidence interval of ``ex`` (only when deaths are given).
    by : str or list of str, optional
        Columns that split ``data`` into several tables (for example ``["province", "sex"]``);
        one life table is built per group and the group columns lead the result. When ``by``
        holds ``"sex"`` coded ``F``/``M`` (or ``female``/``male``), each group uses its own
        sex's ``1a0`` rule.

    Returns
    -------
    pandas.DataFrame
        One row per interval (per group): ``age``, ``n`` (``inf`` for the open interval),
        ``mx``, ``ax``, ``qx``, ``px``, ``lx``, ``dx``, ``Lx``, ``Tx``, ``ex``; with deaths and
        exposures also ``ex_se``, ``ex_lower`` and ``ex_upper`` (Chiang's variance).

    Raises
    ------
    healthlab.errors.InvalidParameterError
        A missing column, a negative count, zero exposure, an age column with a gap, or a zero
        death rate in the open interval.

    References
    ----------
    Chiang CL. The Life Table and Its Applications. Malabar: Krieger; 1984.

    Preston SH, Heuveline P, Guillot M. Demography: Measuring and Modeling Population
    Processes. Oxford: Blackwell; 2001. Chapter 3.

    Andreev EM, Kingkade WW. Average age at death in infancy and infant mortality level.
    Demographic Research 2015;33(13):363-390.

    Silcocks PB, Jenner DA, Reza R. Life expectancy as a summary of mortality in a population:
    statistical considerations and suitability for use by health authorities. J Epidemiol
    Community Health 2001;55:38-43.

    Examples
    --------
    >>> import pandas as pd
    >>> from healthlab.demography import life_table
    >>> rates = pd.DataFrame({"age": [0, 1, 5], "mx": [0.01, 0.002, 0.05]})
    >>> lt = life_table(rates)
    >>> lt[["age", "qx", "lx", "ex"]].round(3)
       age     qx          lx      ex
    0  0.0  0.010  100000.000  24.576
    1  1.0  0.008   99009.151  23.821
    2  5.0  1.000   98220.917  20.000
    >>> float(lt["lx"].iloc[0]), bool(lt["qx"].iloc[-1] == 1)
    (100000.0, True)
    """
    check_frame(data, "data")
    if by is not None:
        return _by_group(
            data,
            by,
            radix=radix,
            sex=sex,
            a0_rule=a0_rule,
            ax_method=ax_method,
            conf_level=conf_level,
        )
    radix = positive(radix, "radix")
    sex = choice(sex, "sex", _SEXES)
    a0_rule = choice(a0_rule, "a0_rule", _A0_RULES)
    ax_method = choice(ax_method, "ax_method", _AX_METHODS)
    level = probability(conf_level, "conf_level")
    if "age" not in data.columns:
        raise InvalidParameterError(f"data needs an 'age' column; it has {list(data.columns)}")
    ages, n = age_grid(data["age"], "data['age']")

    deaths = exposure = None
    if {"deaths", "exposure"} <= set(data.columns):
        deaths = numeric(data["deaths"], "data['deaths']")
        exposure = numeric(data["exposure"], "data['exposure']")
        if (exposure == 0).any():
            at = ages[exposure == 0][:3].tolist()
            raise InvalidParameterError(
                f"data['exposure'] is 0 at ages {at}; every interval needs person-years at "
                "risk (merge sparse ages into wider groups)"
            )
        # More deaths than person-years in a closed group (a death rate above 1 a year) is a
        # table whose columns are swapped or whose exposure is in the wrong unit; the open
        # group of the oldest may have such rates.
        over = (deaths > exposure) & np.isfinite(n)
        if over.any():
            at = ages[over][:3].tolist()
            raise InvalidParameterError(
                f"data['deaths'] exceeds data['exposure'] at ages {at}: more deaths than "
                "person-years lived. exposure must be person-years at risk (build it from "
                "person rows with healthlab.demography.death_rates), not thousands or a rate"
            )
        mx = deaths / exposure
    elif "mx" in data.columns:
        mx = numeric(data["mx"], "data['mx']")
    else:
        raise InvalidParameterError(
            "data needs either 'deaths' and 'exposure' columns or an 'mx' column; "
            f"it has {list(data.columns)}"
        )
    if mx[-1] <= 0:
        raise InvalidParameterError(
            f"the death rate of the open interval (age {ages[-1]:g}+) is {mx[-1]:g}; it must be "
            "above 0 to close the table with L = l/M (widen the open interval)"
        )

    closed = np.isfinite(n)
    if "ax" in data.columns:
        ax = numeric(data["ax"], "data['ax']", allow_nan=True)
        bad = closed & ((ax < 0) | (ax > n) | np.isnan(ax))
        if bad.any():
            raise InvalidParameterError(
                f"data['ax'] must lie between 0 and the interval width, got {ax[bad][:3]} "
                f"at ages {ages[bad][:3]}"
            )
        ax = ax.copy()
    else:
        ax = _default_ax(mx, n, ages, sex, a0_rule, ax_method)
    ax[~closed] = 1.0 / mx[~closed]

    qx = _qx(mx, n, ax)
    if (qx > 1).any():
        if "ax" in data.columns:
            at = ages[qx > 1][:3].tolist()
            raise InvalidParameterError(
                f"data['ax'] gives a probability of dying above 1 at ages {at}; "
                "lower ax there or leave the column out"
            )
        # Very high rates: the midpoint rule breaks down; use the constant-hazard value.
        high = qx > 1
        ax[high] = _constant_hazard_ax(mx[high], n[high])
        qx = _qx(mx, n, ax)
    qx = np.clip(qx, 0.0, 1.0)
    if "ax" not in data.columns and ax_method == "graduation":
        ax, qx = _graduate(ax, qx, mx, n, radix)
    px, lx, dx, Lx = _columns(qx, ax, n, radix)
    Lx[~closed] = lx[~closed] / mx[~closed]
    Tx = tail_sum(Lx)
    ex = per_survivor(Tx, lx)

    out = pd.DataFrame(
        {
            "age": ages,
            "n": n,
            "mx": mx,
            "ax": ax,
            "qx": qx,
            "px": px,
            "lx": lx,
            "dx": dx,
            "Lx": Lx,
            "Tx": Tx,
            "ex": ex,
        }
    )
    if deaths is not None:
        se = _chiang_se(out, deaths, exposure)
        z = NormalDist().inv_cdf(0.5 + level / 2)
        out["ex_se"] = se
        out["ex_lower"] = ex - z * se
        out["ex_upper"] = ex + z * se
    return out


_SEX_CODES = {"F": "female", "M": "male", "female": "female", "male": "male"}


def _by_group(data: pd.DataFrame, by, **kwargs) -> pd.DataFrame:
    """One life table per group of ``by``, stacked with the group columns first."""
    by = [by] if isinstance(by, str) else list(by)
    missing = [c for c in by if c not in data.columns]
    if missing:
        raise InvalidParameterError(f"by names {missing}, not columns of data {list(data.columns)}")
    out = []
    for key, part in data.groupby(by, sort=True):
        key = key if isinstance(key, tuple) else (key,)
        kw = dict(kwargs)
        if "sex" in by:
            kw["sex"] = _SEX_CODES.get(str(key[by.index("sex")]), kwargs["sex"])
        table = life_table(part.drop(columns=by).sort_values("age"), **kw)
        for col, value in zip(by[::-1], key[::-1]):
            table.insert(0, col, value)
        out.append(table)
    return pd.concat(out, ignore_index=True)


def _default_ax(mx, n, ages, sex, a0_rule, ax_method):
    """nax before any graduation: head rules, then midpoint or constant hazard."""
    n_closed = np.where(np.isfinite(n), n, 0.0)
    if ax_method == "constant-hazard":
        ax = _constant_hazard_ax(mx.copy(), n_closed)
    else:
        ax = n_closed / 2.0
    if a0_rule != "none" and n[0] == 1:
        a0, a1 = _coale_demeny(mx[0], sex)
        if a0_rule == "andreev-kingkade":
            a0 = _andreev_kingkade(mx[0], sex)
        ax[0] = a0
        if len(n) > 2 and n[1] == 4:
            ax[1] = a1
    return ax


def _graduate(ax, qx, mx, n, radix, iterations: int = 20):
    """Keyfitz's iterative nax for five-year closed intervals from age 10 (Preston eq. 3.12)."""
    idx = np.flatnonzero(np.isfinite(n) & (np.roll(n, 1) == n))
    idx = idx[idx >= 1]
    if len(idx) == 0:
        return ax, qx
    for _ in range(iterations):
        _, _, dx, _ = _columns(qx, ax, n, radix)
        w = n[idx]
        new = (-w / 24 * dx[idx - 1] + w / 2 * dx[idx] + w / 24 * dx[idx + 1]) / dx[idx]
        ax = ax.copy()
        ax[idx] = np.clip(new, 0.0, w)
        qx = np.clip(_qx(mx, n, ax), 0.0, 1.0)
    return ax, qx


def _chiang_se(table: pd.DataFrame, deaths, exposure) -> np.ndarray:
    """Standard error of ex by Chiang's method with Silcocks' open-interval term."""
    n = table["n"].to_numpy()
    qx, lx, ax, ex, mx = (table[c].to_numpy() for c in ("qx", "lx", "ax", "ex", "mx"))
    closed = np.isfinite(n)
    with np.errstate(invalid="ignore", divide="ignore"):
        var_q = np.where(deaths > 0, qx**2 * (1.0 - qx) / deaths, 0.0)
        var_m = deaths / exposure**2
    e_next = np.append(ex[1:], 0.0)
    term = np.where(
        closed,
        lx**2 * ((np.where(closed, n, 0.0) - ax) + e_next) ** 2 * var_q,
        lx**2 * var_m / np.where(mx > 0, mx, np.inf) ** 4,
    )
    return np.sqrt(per_survivor(tail_sum(term), lx, power=2))
