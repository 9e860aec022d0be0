"""Calibration statistics: what the dataset cards compare with the public figures.

Each function is called as ``f(tables, **args)`` with ``tables`` a mapping of table names to
DataFrames (a built dataset's tables) and returns one number, in the unit of the figure it is
compared with (percent for shares, years for life expectancy, per person for rates).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

__all__ = [
    "admissions_per_person",
    "admissions_per_person_aged",
    "admitted_pct",
    "births_per_1000",
    "bmi_share",
    "coded_pct",
    "controlled_pct",
    "cost_ratio",
    "death_principal_pct",
    "delivery_death_per_100k",
    "delivery_length_of_stay",
    "exposure_years",
    "in_hospital_death_pct",
    "infant_deaths_per_1000",
    "life_expectancy",
    "mean_cost",
    "mean_length_of_stay",
    "overlapping_stays_pct",
    "pct_people",
    "prevalence",
    "readmission_by_dates_pct",
    "readmission_pct",
    "sex_ratio",
    "share",
    "share_aged",
    "share_aged_by_residence",
    "visits_per_person",
]


def _ages(frame, min_age, max_age):
    age = frame["age"].to_numpy()
    keep = age >= min_age
    if max_age is not None:
        keep &= age <= max_age
    return keep


def share_aged(tables, *, min_age: int = 0, max_age: int | None = None,
               table: str = "population") -> float:  # fmt: skip
    """Percent of people aged ``min_age`` to ``max_age`` (inclusive) on 1 January."""
    return float(100 * _ages(tables[table], min_age, max_age).mean())


def sex_ratio(tables, *, table: str = "population") -> float:
    """Males per 100 females."""
    sex = tables[table]["sex"].astype("string").to_numpy()
    return float(100 * (sex == "M").sum() / (sex == "F").sum())


def share(tables, *, column: str, value, min_age: int = 0, table: str = "population") -> float:
    """Percent of people aged ``min_age`` and over whose ``column`` equals ``value``."""
    frame = tables[table]
    keep = _ages(frame, min_age, None)
    values = frame[column].to_numpy()[keep]
    if isinstance(value, str):
        values = pd.Series(values).astype("string").to_numpy()
    return float(100 * (values == value).mean())


def prevalence(tables, *, condition: str, min_age: int = 0, max_age: int | None = None,
               sex: str | None = None, table: str = "population") -> float:  # fmt: skip
    """Percent with ``condition`` among people of the ages (and sex) given."""
    frame = tables[table]
    keep = _ages(frame, min_age, max_age)
    if sex is not None:
        keep &= frame["sex"].astype("string").to_numpy() == sex
    return float(100 * frame[condition].to_numpy()[keep].mean())


def bmi_share(tables, *, low: float, high: float = np.inf, min_age: int = 18,
              table: str = "population") -> float:  # fmt: skip
    """Percent of people aged ``min_age`` and over with ``low <= BMI < high``."""
    frame = tables[table]
    bmi = frame["bmi"].to_numpy()[_ages(frame, min_age, None)]
    return float(100 * ((bmi >= low) & (bmi < high)).mean())


def exposure_years(population: pd.DataFrame, start=None, end=None) -> np.ndarray:
    """Years each person is alive and observed between ``start`` and ``end`` (default: the year).

    The population's year is the one on whose 1 January ages are counted.
    """
    year = int(_year(population))
    start = pd.Timestamp(start if start is not None else f"{year}-01-01")
    end = pd.Timestamp(end if end is not None else f"{year + 1}-01-01")
    death = population["death_date"].to_numpy("datetime64[ms]")
    stop = np.where(np.isnat(death), np.datetime64(end, "ms"), death)
    stop = np.minimum(stop, np.datetime64(end, "ms"))
    days = (stop - np.datetime64(start, "ms")) / np.timedelta64(1, "D")
    return np.clip(days, 0, None) / 365.25


def _year(population: pd.DataFrame) -> int:
    born = population["birth_date"].to_numpy("datetime64[Y]").astype(np.int64) + 1970
    return int(np.median(born + population["age"].to_numpy() + 1)) if len(born) else 2020


def life_expectancy(tables, *, sex: str | None = None, table: str = "population") -> float:
    """Period life expectancy at birth from the deaths and person-years of the population.

    Age is that on 1 January (the deaths of each age fall over a Lexis parallelogram), single
    years 0-99 and an open interval 100+. ``m_x`` is deaths over person-years, ``q_x =
    m_x / (1 + m_x / 2)`` (deaths spread evenly over the year), and the open interval lives
    ``l_100 / m_100`` years.
    """
    frame = tables[table]
    if sex is not None:
        frame = frame[frame["sex"].astype("string") == sex]
    age = np.minimum(frame["age"].to_numpy(np.int64), 100)
    died = frame["died"].to_numpy(bool)
    full = pd.Timestamp(f"{_year(frame) + 1}-01-01") - pd.Timestamp(f"{_year(frame)}-01-01")
    exposure = exposure_years(frame) * 365.25 / full.days
    deaths = np.bincount(age, died, 101)
    years = np.bincount(age, exposure, 101)
    m = np.divide(deaths, years, out=np.zeros(101), where=years > 0)
    q = np.minimum(m[:100] / (1 + m[:100] / 2), 1.0)
    lx = np.concatenate([[1.0], np.cumprod(1 - q)])
    open_years = lx[-1] / m[100] if m[100] > 0 else 0.0
    return float((lx[:-1] * (1 - q / 2)).sum() + open_years)


# --------------------------------------------------------------------------- clinical


def _encounters(tables, kinds):
    enc = tables["encounters"]
    kind = enc["encounter_type"].astype("string").to_numpy()
    return enc[np.isin(kind, kinds)]


def _person_years(tables) -> float:
    return float(tables["person_years"]["person_years"].sum())


def visits_per_person(tables) -> float:
    """Outpatient and emergency visits per person-year (the NHC's visits per resident)."""
    n = len(_encounters(tables, ["outpatient", "emergency"]))
    return n / _person_years(tables)


def admissions_per_person(tables, *, per: float = 1.0) -> float:
    """Admissions per person-year (times ``per``, for example 100)."""
    return per * len(_encounters(tables, ["inpatient"])) / _person_years(tables)


_HOSPITALS = ("tertiary", "secondary", "primary_hospital", "unrated_hospital")


def _at_level(frame, level):
    """Rows at ``level`` (a facility level, ``"hospital"`` for the four hospital levels)."""
    if level is None:
        return frame
    levels = _HOSPITALS if level == "hospital" else (level,)
    return frame[frame["facility_level"].astype("string").isin(levels).to_numpy()]


def mean_length_of_stay(tables, *, level: str | None = None) -> float:
    """Mean length of stay of admissions (at ``level``, or ``"hospital"``), days."""
    return float(_at_level(_encounters(tables, ["inpatient"]), level)["length_of_stay"].mean())


def mean_cost(tables, *, kind: str, level: str | None = None) -> float:
    """Mean cost per encounter of ``kind`` (outpatient visits include emergency) at ``level``."""
    kinds = ["outpatient", "emergency"] if kind == "outpatient" else [kind]
    return float(_at_level(_encounters(tables, kinds), level)["cost_yuan"].mean())


def cost_ratio(tables, *, kind: str, level: str = "tertiary", base: str = "secondary") -> float:
    """Mean cost per encounter of ``kind`` at ``level`` over that at ``base``."""
    return mean_cost(tables, kind=kind, level=level) / mean_cost(tables, kind=kind, level=base)


def readmission_pct(tables) -> float:
    """Percent of index admissions (alive at discharge) readmitted within 30 days."""
    out = tables["outcomes"]
    index = ~out["is_readmission"].to_numpy(bool) & ~out["died_in_hospital"].to_numpy(bool)
    return float(100 * out["readmitted_30d"].to_numpy(bool)[index].mean())


def readmission_by_dates_pct(tables) -> float:
    """Percent of live discharges followed by another admission of the person within 30 days.

    Computed from the dates alone, as a student would (duplicate rows dropped): what the
    ``readmitted_30d`` flag must agree with.
    """
    enc = _encounters(tables, ["inpatient"]).drop_duplicates("encounter_id")
    enc = enc.sort_values(["person_id", "admit_date", "encounter_id"])
    gap = (enc.groupby("person_id")["admit_date"].shift(-1) - enc["discharge_date"]).dt.days
    died = enc["encounter_id"].map(
        tables["outcomes"].drop_duplicates("encounter_id").set_index("encounter_id")[
            "died_in_hospital"])  # fmt: skip
    alive = ~died.fillna(False).to_numpy(bool)
    return float(100 * ((gap >= 0) & (gap <= 30)).to_numpy()[alive].mean())


def overlapping_stays_pct(tables) -> float:
    """Percent of admissions that begin before the person's previous stay has ended."""
    enc = _encounters(tables, ["inpatient"]).drop_duplicates("encounter_id")
    enc = enc.sort_values(["person_id", "admit_date", "encounter_id"])
    previous = enc.groupby("person_id")["discharge_date"].shift(1)
    return float(100 * (enc["admit_date"] < previous).mean())


def in_hospital_death_pct(tables, *, min_age: int | None = None,
                          max_age: int | None = None) -> float:  # fmt: skip
    """Percent of admissions ending in death in hospital (of patients of the ages given).

    Ages need the ``population`` table; without an age range, only ``outcomes`` is used.
    """
    out = tables["outcomes"]
    if min_age is None and max_age is None:
        return float(100 * out["died_in_hospital"].mean())
    age = out["person_id"].map(tables["population"].set_index("person_id")["age"])
    keep = _ages(pd.DataFrame({"age": age.to_numpy()}), min_age or 0, max_age)
    return float(100 * out["died_in_hospital"].to_numpy(bool)[keep].mean())


def death_principal_pct(tables, *, prefixes: str) -> float:
    """Percent of deaths in hospital whose principal diagnosis starts with one of ``prefixes``.

    ``prefixes`` is a comma-separated list of ICD-10 starts, e.g. ``"C"`` (cancer) or
    ``"C,I,J"`` (cancer, circulatory, respiratory).
    """
    out = tables["outcomes"]
    dead = out.loc[out["died_in_hospital"].to_numpy(bool), "encounter_id"]
    dx = tables["diagnoses"]
    code = dx.loc[(dx["seq"] == 1).to_numpy() & dx["encounter_id"].isin(dead).to_numpy(),
                  "icd10"].astype("string")  # fmt: skip
    hit = np.zeros(len(code), bool)
    for prefix in prefixes.split(","):
        hit |= code.str.startswith(prefix.strip()).to_numpy(bool)
    return float(100 * hit.mean())


def delivery_death_per_100k(tables) -> float:
    """Deaths in delivery admissions per 100,000 deliveries (the maternal mortality ratio)."""
    births = tables["births"]
    out = tables["outcomes"].drop_duplicates("encounter_id").set_index("encounter_id")
    died = births["encounter_id"].map(out["died_in_hospital"]).fillna(False).to_numpy(bool)
    return float(1e5 * died.mean()) if len(births) else float("nan")


def births_per_1000(tables) -> float:
    """Births per 1,000 person-years (the crude birth rate)."""
    return 1000 * len(tables["births"]) / _person_years(tables)


def delivery_length_of_stay(tables) -> float:
    """Mean length of stay of delivery admissions, days."""
    enc = tables["encounters"].drop_duplicates("encounter_id").set_index("encounter_id")
    return float(enc.loc[tables["births"]["encounter_id"], "length_of_stay"].mean())


def infant_deaths_per_1000(tables) -> float:
    """Infant deaths (before the first birthday) per 1,000 births of the births table."""
    b = tables["births"]
    first = b["infant_death_date"] < b["birth_date"] + pd.DateOffset(years=1)
    return float(1000 * first.mean())


def coded_pct(tables, *, condition: str, treated: bool = False, min_age: int = 18) -> float:
    """Percent of people with ``condition`` who carry its code (or, ``treated``, a drug for it).

    The care cascade as a student computes it from the records: people with the condition in the
    population, aged ``min_age`` and over, with any diagnosis (or prescription) of it.
    """
    people = tables["population"]
    sick = people.loc[people[condition].to_numpy(bool) & (people["age"] >= min_age).to_numpy(),
                      "person_id"]  # fmt: skip
    table = tables["medications" if treated else "diagnoses"]
    who = table.loc[(table["condition"] == condition).to_numpy(), "person_id"]
    return float(100 * sick.isin(who).mean())


def controlled_pct(tables, *, condition: str) -> float:
    """Percent of treated patients controlled on their mean measured values.

    Hypertension: mean systolic below 140 and diastolic below 90 mm Hg; diabetes: mean HbA1c
    below 7%. Treated patients are those with a prescription for the condition.
    """
    med, obs = tables["medications"], tables["observations"]
    treated = med.loc[(med["condition"] == condition).to_numpy(), "person_id"].unique()
    obs = obs[obs["person_id"].isin(treated).to_numpy()].dropna(subset=["value"])
    mean = obs.groupby(["person_id", obs["loinc"].astype("string")])["value"].mean().unstack()
    if condition == "diabetes":
        ok = mean["4548-4"].dropna() < 7.0
    else:
        both = mean[["8480-6", "8462-4"]].dropna()
        ok = (both["8480-6"] < 140) & (both["8462-4"] < 90)
    return float(100 * ok.mean())


def share_aged_by_residence(tables, *, min_age: int, urban: bool,
                            table: str = "population") -> float:  # fmt: skip
    """Percent aged ``min_age`` and over among urban (or rural) residents."""
    frame = tables[table]
    keep = frame["urban"].to_numpy(bool) == urban
    return float(100 * (frame["age"].to_numpy()[keep] >= min_age).mean())


def admitted_pct(tables, *, min_age: int = 0, max_age: int | None = None) -> float:
    """Percent of people of the ages given with at least one admission in the period."""
    people = tables["population"]
    keep = _ages(people, min_age, max_age)
    adm = _encounters(tables, ["inpatient"])["person_id"].unique()
    return float(100 * people.loc[keep, "person_id"].isin(adm).mean())


def admissions_per_person_aged(tables, *, min_age: int = 0, max_age: int | None = None) -> float:
    """Admissions per person-year among people of the ages given."""
    people = tables["population"]
    ids = people.loc[_ages(people, min_age, max_age), "person_id"]
    adm = _encounters(tables, ["inpatient"])
    n = adm["person_id"].isin(ids).sum()
    years = tables["person_years"]
    return float(n / years.loc[years["person_id"].isin(ids), "person_years"].sum())


def pct_people(tables, *, column: str, table: str = "outcomes") -> float:
    """Percent of rows of ``table`` where the boolean ``column`` is true."""
    return float(100 * tables[table][column].to_numpy(bool).mean())
