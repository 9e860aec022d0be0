"""Health expectancy by the Sullivan method.

Sullivan (1971) splits the person-years of a period life table into years lived in and out of
a health state using the prevalence of that state by age, usually from a cross-sectional
survey: ``L'x = (1 - pi_x) Lx`` and ``HLE_x = sum_{i>=x} L'_i / l_x``. When the prevalence
comes from a survey, its sampling variance gives the variance of the health expectancy
(Jagger et al.; Hauet 1997): ``Var(HLE_x) = sum_{i>=x} L_i^2 Var(pi_i) / l_x^2``, with
``Var(pi) = pi (1 - pi) / N`` for a simple random sample of ``N`` people in the age group, or a
design-based standard error if the survey provides one. The variance of the life table itself
is ignored, as in the guides: it is small next to the survey's.
"""

from __future__ import annotations

from statistics import NormalDist

import numpy as np
import pandas as pd

from healthlab._validation import check_columns, check_frame, numeric, probability
from healthlab.demography.lifetable import per_survivor, tail_sum
from healthlab.errors import InvalidParameterError

__all__ = ["sullivan_hale"]


def sullivan_hale(
    table: pd.DataFrame,
    prevalence: pd.DataFrame,
    *,
    conf_level: float = 0.95,
) -> pd.DataFrame:
    """Healthy (for example disability-free) life expectancy by the Sullivan method.

    Parameters
    ----------
    table : pandas.DataFrame
        A period life table with columns ``age``, ``lx`` and ``Lx``, such as the output of
        :func:`healthlab.demography.life_table` or a published table typed in.
    prevalence : pandas.DataFrame
        Columns ``age`` (the same ages as ``table``) and ``prevalence``, the share of people
        in the unhealthy state (for example with a disability), between 0 and 1; optionally
        ``se`` (standard error of the prevalence) or ``sample_size`` (survey respondents in
        the age group, for a simple-random-sample variance).
    conf_level : float, default 0.95
        Level of the confidence interval, when a standard error or sample size is given.

    Returns
    -------
    pandas.DataFrame
        One row per age: ``age``, ``lx``, ``Lx``, ``prevalence``, ``Lx_healthy`` (person-years
        in good health), ``Tx_healthy``, ``le`` (life expectancy), ``hle`` (healthy life
        expectancy), ``ule`` (years in the unhealthy state) and ``hle_share``; with a standard
        error or sample size also ``hle_se``, ``hle_lower`` and ``hle_upper``.

    References
    ----------
    Sullivan DF. A single index of mortality and morbidity. HSMHA Health Reports
    1971;86:347-354.

    Hauet E. Practical guide on health expectancy calculation: the Sullivan method. EuroREVES,
    1996, revised 1997.

    Jagger C, Cox B, Le Roy S, EHEMU. Health expectancy calculation by the Sullivan method: a
    practical guide. EHEMU Technical Report 2006_3.

    Examples
    --------
    >>> import pandas as pd
    >>> from healthlab.demography import life_table, sullivan_hale
    >>> lt = life_table(pd.DataFrame({"age": [0, 1, 5], "mx": [0.01, 0.002, 0.05]}))
    >>> prev = pd.DataFrame({"age": [0, 1, 5], "prevalence": [0.0, 0.05, 0.3],
    ...                      "sample_size": [500, 800, 1200]})
    >>> hale = sullivan_hale(lt, prev)
    >>> hale[["age", "le", "hle", "hle_se"]].round(3)
       age      le     hle  hle_se
    0  0.0  24.576  18.486   0.262
    1  1.0  23.821  17.670   0.264
    2  5.0  20.000  14.000   0.265
    """
    check_frame(table, "table")
    check_frame(prevalence, "prevalence")
    check_columns(table, ["age", "lx", "Lx"], frame="table")
    check_columns(prevalence, ["age", "prevalence"], frame="prevalence")
    level = probability(conf_level, "conf_level")
    ages = numeric(table["age"], "table['age']")
    p_ages = numeric(prevalence["age"], "prevalence['age']")
    if len(ages) != len(p_ages) or not np.array_equal(ages, p_ages):
        raise InvalidParameterError(
            f"prevalence['age'] must list the life table's ages {ages.tolist()}, got "
            f"{p_ages.tolist()}; give one prevalence per life-table interval"
        )
    lx = numeric(table["lx"], "table['lx']")
    Lx = numeric(table["Lx"], "table['Lx']")
    pi = numeric(prevalence["prevalence"], "prevalence['prevalence']")
    if (pi > 1).any():
        raise InvalidParameterError(
            f"prevalence['prevalence'] must be a share between 0 and 1, got {pi[pi > 1][:3]}; "
            "divide percentages by 100"
        )
    healthy = Lx * (1.0 - pi)
    T_healthy = tail_sum(healthy)
    hle = per_survivor(T_healthy, lx)
    le = per_survivor(tail_sum(Lx), lx)
    out = pd.DataFrame(
        {
            "age": ages,
            "lx": lx,
            "Lx": Lx,
            "prevalence": pi,
            "Lx_healthy": healthy,
            "Tx_healthy": T_healthy,
            "le": le,
            "hle": hle,
            "ule": le - hle,
        }
    )
    with np.errstate(invalid="ignore", divide="ignore"):
        out["hle_share"] = np.where(le > 0, hle / le, np.nan)
    var_pi = None
    if "se" in prevalence.columns:
        var_pi = numeric(prevalence["se"], "prevalence['se']") ** 2
    elif "sample_size" in prevalence.columns:
        size = numeric(prevalence["sample_size"], "prevalence['sample_size']")
        if (size <= 0).any():
            raise InvalidParameterError(
                "prevalence['sample_size'] must be above 0 in every age group, got "
                f"{size[size <= 0][:3]}"
            )
        var_pi = pi * (1.0 - pi) / size
    if var_pi is not None:
        var = per_survivor(tail_sum(Lx**2 * var_pi), lx, power=2)
        z = NormalDist().inv_cdf(0.5 + level / 2)
        out["hle_se"] = np.sqrt(var)
        out["hle_lower"] = hle - z * out["hle_se"]
        out["hle_upper"] = hle + z * out["hle_se"]
    return out
