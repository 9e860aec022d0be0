"""From records of people to the tables demography works on: counts, rates and prevalences.

A synthetic population is one row per person; life tables, projections and health
expectancies want one row per age group. These functions do that step the same way everywhere:

- :func:`age_counts` -- people by age group (and sex, province, ...), every group present;
- :func:`death_rates` -- deaths, person-years and death rates by age group, from each person's
  ``died`` flag and ``death_date`` within the year;
- :func:`age_prevalence` -- the share with a condition by age group, with the sample size
  (for :func:`healthlab.demography.sullivan_hale`);
- :func:`service_rates` -- admissions per person-year and mean length of stay by age group,
  from encounters (for :func:`healthlab.demography.project_service_demand`);
- :func:`fertility_schedule` -- age-specific fertility rates of a given total fertility rate.

Age groups are five-year (``width=5``, ages 0, 5, ..., ``open_age``+), single years
(``width=1``) or, with ``abridged=True``, the life table's 0, 1-4, 5-9, ...
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from healthlab._validation import check_frame, numeric, positive
from healthlab.errors import InvalidParameterError

__all__ = ["age_counts", "age_prevalence", "death_rates", "fertility_schedule", "service_rates"]


def _need(frame: pd.DataFrame, columns, name: str) -> None:
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise InvalidParameterError(f"{name} lacks the column(s) {missing}; it has {list(frame)}")


def _by(by) -> list:
    return [] if by is None else ([by] if isinstance(by, str) else list(by))


def _starts(width, open_age, abridged) -> np.ndarray:
    width = positive(width, "width", integer=True)
    open_age = positive(open_age, "open_age", integer=True)
    if width not in (1, 5):
        raise InvalidParameterError(f"width must be 1 or 5 (years), got {width!r}")
    if open_age % width:
        raise InvalidParameterError(f"open_age ({open_age}) must be a multiple of width ({width})")
    starts = np.arange(0, open_age + 1, width)
    if abridged:
        if width != 5:
            raise InvalidParameterError("abridged=True needs width=5 (ages 0, 1, 5, 10, ...)")
        starts = np.concatenate([[0, 1], starts[1:]])
    return starts


def _group(age, starts: np.ndarray) -> np.ndarray:
    a = numeric(age, "people['age']")
    return starts[np.searchsorted(starts, a, side="right") - 1]


def _grid(frame: pd.DataFrame, by: list, starts: np.ndarray) -> pd.DataFrame:
    """Every combination of the ``by`` values present with every age group."""
    ages = pd.DataFrame({"age": starts})
    if not by:
        return ages
    keys = frame[by].drop_duplicates().sort_values(by)
    for col in by:
        if isinstance(frame[col].dtype, pd.CategoricalDtype):
            keys[col] = keys[col].astype(frame[col].dtype.categories.dtype)
    return keys.merge(ages, how="cross")


def _tally(people, by, starts, columns: dict) -> pd.DataFrame:
    work = pd.DataFrame({col: people[col].to_numpy() for col in by})
    for col in by:
        if isinstance(people[col].dtype, pd.CategoricalDtype):
            work[col] = work[col].astype(people[col].dtype.categories.dtype)
    work["age"] = _group(people["age"], starts)
    for name, values in columns.items():
        work[name] = values
    sums = work.groupby([*by, "age"], observed=True)[list(columns)].sum().reset_index()
    out = _grid(work, by, starts).merge(sums, on=[*by, "age"], how="left")
    out[list(columns)] = out[list(columns)].fillna(0.0)
    return out.reset_index(drop=True)


def age_counts(
    people: pd.DataFrame, *, by=None, width: int = 5, open_age: int = 100, abridged: bool = False
) -> pd.DataFrame:
    """Count people by age group (and ``by``), listing every group even when it is empty.

    Parameters
    ----------
    people : pandas.DataFrame
        One row per person with ``age`` (completed years) and the ``by`` columns.
    by : str or list of str, optional
        Columns to count within, for example ``"sex"`` or ``["urban", "sex"]``.
    width : {5, 1}, default 5
        Width of the age groups in years.
    open_age : int, default 100
        Start of the last, open age group.
    abridged : bool, default False
        Use the life table's 0, 1-4, 5-9, ... groups.

    Returns
    -------
    pandas.DataFrame
        The ``by`` columns, ``age`` (start of the group) and ``population``.

    Examples
    --------
    >>> import pandas as pd
    >>> from healthlab.demography import age_counts
    >>> people = pd.DataFrame({"age": [3, 7, 8, 90], "sex": ["F", "M", "F", "F"]})
    >>> age_counts(people, by="sex", open_age=10)
      sex  age  population
    0   F    0         1.0
    1   F    5         1.0
    2   F   10         1.0
    3   M    0         0.0
    4   M    5         1.0
    5   M   10         0.0
    """
    check_frame(people, "people")
    by = _by(by)
    _need(people, ["age", *by], "people")
    starts = _starts(width, open_age, abridged)
    return _tally(people, by, starts, {"population": np.ones(len(people))})


def _exposure(people: pd.DataFrame, year: int | None) -> tuple[np.ndarray, np.ndarray]:
    died = people["died"].to_numpy(bool)
    death = pd.to_datetime(people["death_date"]).to_numpy("datetime64[D]")
    if year is None:
        years = death[died].astype("datetime64[Y]").astype(int) + 1970
        year = int(np.median(years)) if len(years) else 2020
    start = np.datetime64(f"{year}-01-01", "D")
    end = np.datetime64(f"{year + 1}-01-01", "D")
    length = float((end - start) / np.timedelta64(1, "D"))
    lived = np.where(died, (death - start) / np.timedelta64(1, "D"), length)
    exposure = np.clip(np.nan_to_num(lived.astype(float), nan=length), 0, length) / length
    return died.astype(float), exposure


def death_rates(
    people: pd.DataFrame,
    *,
    by=None,
    width: int = 5,
    open_age: int = 85,
    abridged: bool = True,
    year: int | None = None,
) -> pd.DataFrame:
    """Deaths, person-years and death rates by age group from a population followed for a year.

    Each person alive on 1 January contributes a year of exposure, or the part of the year
    before their ``death_date`` if they ``died``; age is the age on 1 January (so each age
    group's deaths fall over a Lexis parallelogram, as in a cohort followed for a year).

    Parameters
    ----------
    people : pandas.DataFrame
        One row per person with ``age``, ``died`` (bool), ``death_date`` (missing for
        survivors) and the ``by`` columns.
    by : str or list of str, optional
        Columns to compute the rates within, for example ``"sex"``.
    width, open_age, abridged
        The age groups, as in :func:`age_counts` (by default the abridged grid 0, 1, 5, ...,
        85+ that :func:`healthlab.demography.life_table` expects).
    year : int, optional
        The calendar year followed; by default the year most deaths fall in.

    Returns
    -------
    pandas.DataFrame
        The ``by`` columns, ``age``, ``deaths``, ``exposure`` (person-years) and ``mx``
        (deaths per person-year).

    Raises
    ------
    healthlab.errors.InvalidParameterError
        If an open age group has no deaths (its rate would be 0 and the life table would
        never end): lower ``open_age`` or use a larger population.

    Examples
    --------
    >>> import pandas as pd
    >>> from healthlab.demography import death_rates
    >>> people = pd.DataFrame({"age": [30, 30, 80, 80], "died": [False, True, False, True],
    ...                        "death_date": pd.to_datetime([None, "2020-07-01", None,
    ...                                                      "2020-01-01"])})
    >>> death_rates(people, width=5, open_age=80, abridged=False).tail(2)
        age  deaths  exposure   mx
    15   75     0.0       0.0  NaN
    16   80     1.0       1.0  1.0
    """
    check_frame(people, "people")
    by = _by(by)
    _need(people, ["age", "died", "death_date", *by], "people")
    starts = _starts(width, open_age, abridged)
    deaths, exposure = _exposure(people, year)
    out = _tally(people, by, starts, {"deaths": deaths, "exposure": exposure})
    with np.errstate(divide="ignore", invalid="ignore"):
        out["mx"] = np.where(out["exposure"] > 0, out["deaths"] / out["exposure"], np.nan)
    top = out[out["age"] == starts[-1]]
    if (top["deaths"] <= 0).any():
        raise InvalidParameterError(
            f"the open age group {starts[-1]}+ has no deaths in some group; lower open_age "
            f"(now {starts[-1]}) or use a larger population"
        )
    return out


def open_age_with_deaths(
    people: pd.DataFrame,
    *,
    by=None,
    width: int = 5,
    at_most: int = 85,
    year: int | None = None,
) -> int:
    """The oldest start of an open age group, at most ``at_most``, with deaths in every group.

    A life table's open group needs deaths (its rate ends the table). In a small population an
    old group can have none in one of the ``by`` groups, and :func:`death_rates` refuses it;
    this finds the start, ``width`` years at a time down from ``at_most``, that works.

    Parameters
    ----------
    people : pandas.DataFrame
        As for :func:`death_rates`.
    by : str or list of str, optional
        The groups that must each have a death in the open group.
    width : int
        Step between the starts tried.
    at_most : int
        The start wanted when the data allow it.
    year : int, optional
        The calendar year followed, as for :func:`death_rates`.

    Returns
    -------
    int

    Raises
    ------
    healthlab.errors.InvalidParameterError
        If some group has no deaths at any age.

    Examples
    --------
    >>> import pandas as pd
    >>> from healthlab.demography import open_age_with_deaths
    >>> people = pd.DataFrame({"age": [30, 72, 80, 88], "died": [False, True, False, False],
    ...                        "death_date": pd.to_datetime([None, "2020-07-01", None, None])})
    >>> open_age_with_deaths(people, at_most=85)
    70
    """
    check_frame(people, "people")
    by = _by(by)
    _need(people, ["age", "died", "death_date", *by], "people")
    deaths, _ = _exposure(people, year)
    ages = numeric(people["age"], "people['age']")
    groups = people[by].drop_duplicates() if by else None
    for start in range(at_most, -1, -width):
        dead = people.loc[(deaths > 0) & (ages >= start), by]
        if not by and len(dead):
            return start
        if by and len(dead.drop_duplicates()) == len(groups):
            return start
    raise InvalidParameterError(
        "some group has no deaths at any age, so no life table can end; use a larger "
        "population or fewer groups"
    )


def age_prevalence(
    people: pd.DataFrame,
    column: str,
    *,
    by=None,
    width: int = 5,
    open_age: int = 85,
    abridged: bool = True,
) -> pd.DataFrame:
    """Share of people with ``column`` true by age group, with the sample size of each group.

    Parameters
    ----------
    people : pandas.DataFrame
        One row per person with ``age``, a boolean ``column`` and the ``by`` columns.
    column : str
        The condition, for example ``"adl_disabled"``.
    by, width, open_age, abridged
        As in :func:`death_rates` (the same defaults, so the result lines up with a life table
        built from :func:`death_rates`).

    Returns
    -------
    pandas.DataFrame
        The ``by`` columns, ``age``, ``cases``, ``sample_size`` and ``prevalence`` (0 where a
        group has nobody).

    Examples
    --------
    >>> import pandas as pd
    >>> from healthlab.demography import age_prevalence
    >>> people = pd.DataFrame({"age": [70, 72, 90, 91], "adl": [False, True, True, True]})
    >>> age_prevalence(people, "adl", open_age=90).tail(2)[["age", "prevalence"]]
        age  prevalence
    18   85         0.0
    19   90         1.0
    """
    check_frame(people, "people")
    by = _by(by)
    _need(people, ["age", column, *by], "people")
    starts = _starts(width, open_age, abridged)
    cases = people[column].to_numpy(bool).astype(float)
    out = _tally(people, by, starts, {"cases": cases, "sample_size": np.ones(len(people))})
    size = out["sample_size"].to_numpy()
    out["prevalence"] = np.divide(out["cases"], size, out=np.zeros(len(out)), where=size > 0)
    return out


def service_rates(
    people: pd.DataFrame,
    encounters: pd.DataFrame,
    *,
    person_years: pd.DataFrame | None = None,
    kind: str = "inpatient",
    width: int = 5,
    open_age: int = 85,
) -> pd.DataFrame:
    """Admissions per person-year and mean length of stay by age group.

    Parameters
    ----------
    people : pandas.DataFrame
        ``person_id`` and ``age`` of everyone at risk.
    encounters : pandas.DataFrame
        ``person_id``, ``encounter_type`` and ``length_of_stay`` (days).
    person_years : pandas.DataFrame, optional
        ``person_id`` and ``person_years`` observed; by default each person counts one year.
    kind : str, default "inpatient"
        The ``encounter_type`` counted.
    width, open_age
        Five-year (or single-year) age groups up to the open group ``open_age``+.

    Returns
    -------
    pandas.DataFrame
        ``age``, ``person_years``, ``admissions``, ``admission_rate`` (per person-year) and
        ``length_of_stay`` (mean days; missing where a group has no admission).

    Examples
    --------
    >>> import pandas as pd
    >>> from healthlab.demography import service_rates
    >>> people = pd.DataFrame({"person_id": [1, 2], "age": [70, 72]})
    >>> enc = pd.DataFrame({"person_id": [1, 1], "encounter_type": ["inpatient"] * 2,
    ...                     "length_of_stay": [4, 8]})
    >>> service_rates(people, enc, open_age=70).tail(1)
        age  person_years  admissions  admission_rate  length_of_stay
    14   70           2.0         2.0             1.0             6.0
    """
    check_frame(people, "people")
    _need(people, ["person_id", "age"], "people")
    _need(encounters, ["person_id", "encounter_type", "length_of_stay"], "encounters")
    starts = _starts(width, open_age, False)
    stays = encounters[encounters["encounter_type"].astype("string") == kind]
    per_person = stays.groupby("person_id")["length_of_stay"].agg(["size", "sum"])
    ids = people["person_id"].to_numpy()
    admissions = per_person["size"].reindex(ids, fill_value=0).to_numpy(float)
    days = per_person["sum"].reindex(ids, fill_value=0).to_numpy(float)
    if person_years is None:
        years = np.ones(len(people))
    else:
        _need(person_years, ["person_id", "person_years"], "person_years")
        py = person_years.set_index("person_id")["person_years"]
        years = py.reindex(ids, fill_value=0.0).to_numpy(float)
    out = _tally(
        people, [], starts, {"person_years": years, "admissions": admissions, "days": days}
    )
    with np.errstate(divide="ignore", invalid="ignore"):
        out["admission_rate"] = np.where(
            out["person_years"] > 0, out["admissions"] / out["person_years"], 0.0
        )
        out["length_of_stay"] = np.where(
            out["admissions"] > 0, out["days"] / out["admissions"], np.nan
        )
    return out.drop(columns="days")


def fertility_schedule(
    tfr: float, *, mean_age: float = 28.5, sd: float = 5.0, width: int = 5
) -> pd.DataFrame:
    """Age-specific fertility rates of the reproductive ages that sum to a total fertility rate.

    The schedule is a normal curve of age at childbirth with the given mean and spread,
    integrated over each age group of ages 15 to 49 and scaled so that
    ``sum(asfr) * width == tfr``. The shape is an assumption; the mean age at childbearing in
    China was about 28 to 29 years around 2020.

    Parameters
    ----------
    tfr : float
        Total fertility rate, children per woman (2020 census: 1.3).
    mean_age, sd : float
        Mean and standard deviation of the mother's age at birth, in years.
    width : {5, 1}, default 5
        Width of the age groups.

    Returns
    -------
    pandas.DataFrame
        ``age`` (start of each group, 15 to 45 for five-year groups) and ``asfr`` (births per
        woman per year).

    Examples
    --------
    >>> from healthlab.demography import fertility_schedule
    >>> f = fertility_schedule(1.3)
    >>> round(float(f["asfr"].sum() * 5), 6), int(f.loc[f["asfr"].idxmax(), "age"])
    (1.3, 25)
    """
    from scipy.stats import norm

    tfr = positive(tfr, "tfr")
    mean_age = positive(mean_age, "mean_age")
    sd = positive(sd, "sd")
    width = positive(width, "width", integer=True)
    if width not in (1, 5):
        raise InvalidParameterError(f"width must be 1 or 5 (years), got {width!r}")
    starts = np.arange(15, 50, width)
    mass = norm.cdf(starts + width, mean_age, sd) - norm.cdf(starts, mean_age, sd)
    return pd.DataFrame({"age": starts, "asfr": tfr * mass / mass.sum() / width})
