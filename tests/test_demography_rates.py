"""Tests of healthlab.demography.rates and .reconstruct: records to rates, and back in time."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from healthlab.demography import (
    age_counts,
    age_prevalence,
    death_rates,
    fertility_schedule,
    life_table,
    open_age_with_deaths,
    project_population,
    reverse_survive,
    service_rates,
)
from healthlab.errors import InvalidParameterError


@pytest.fixture
def people():
    rng = np.random.default_rng(3)
    n = 20_000
    age = rng.integers(0, 100, n)
    hazard = 0.0005 * np.exp(0.085 * age)
    died = rng.random(n) < 1 - np.exp(-hazard)
    day = rng.integers(0, 366, n)
    death = pd.to_datetime("2020-01-01") + pd.to_timedelta(np.where(died, day, 0), unit="D")
    return pd.DataFrame(
        {
            "person_id": np.arange(1, n + 1),
            "age": age,
            "sex": rng.choice(["F", "M"], n),
            "died": died,
            "death_date": death.where(died),
            "adl": rng.random(n) < age / 200,
        }
    )


def test_age_counts_lists_every_group_and_sums_to_the_people(people):
    counts = age_counts(people, by="sex", open_age=85)
    assert counts["population"].sum() == len(people)
    assert len(counts) == 2 * 18
    young_women = ((people.sex == "F") & (people.age < 5)).sum()
    assert counts.query("sex == 'F' and age == 0")["population"].iloc[0] == young_women
    abridged = age_counts(people, open_age=85, abridged=True)
    assert abridged["age"].tolist()[:3] == [0, 1, 5]


def test_death_rates_count_part_years_of_those_who_die(people):
    rates = death_rates(people, open_age=85, abridged=False)
    assert rates["deaths"].sum() == people["died"].sum()
    lost = people.loc[people.died, "death_date"].dt.day_of_year.sub(1).rsub(366) / 366
    assert rates["exposure"].sum() == pytest.approx(len(people) - lost.sum(), rel=1e-9)
    # the rates recover the hazard they were drawn from (Gompertz 0.0005 exp(0.085 age))
    table = life_table(death_rates(people, open_age=85))
    truth = 0.0005 * np.exp(0.085 * 62)
    assert rates.query("age == 60")["mx"].iloc[0] == pytest.approx(truth, rel=0.25)
    assert 40 < table["ex"].iloc[0] < 80


def test_death_rates_refuse_an_open_group_without_deaths(people):
    survivors = people.assign(died=False, death_date=pd.NaT)
    with pytest.raises(InvalidParameterError, match="open age group"):
        death_rates(survivors)


def test_open_age_with_deaths_steps_down_to_a_group_every_sex_died_in(people):
    assert open_age_with_deaths(people, by="sex") == 85
    # No woman aged 80 or over died: the open group for both sexes starts at 75.
    spared = (people["sex"] == "F") & (people["age"] >= 80)
    few = people.assign(died=people["died"] & ~spared)
    few["death_date"] = few["death_date"].where(few["died"])
    assert open_age_with_deaths(few, by="sex") == 75
    assert open_age_with_deaths(few) == 85  # men's deaths suffice without groups
    rates = death_rates(few, by="sex", open_age=75)
    assert (rates.query("age == 75")["deaths"] > 0).all()
    with pytest.raises(InvalidParameterError, match="no deaths at any age"):
        open_age_with_deaths(people.assign(died=False, death_date=pd.NaT))


def test_age_prevalence_matches_a_groupby(people):
    prev = age_prevalence(people, "adl", open_age=85, abridged=False)
    group = np.minimum(people.age // 5 * 5, 85)
    expected = people.groupby(group)["adl"].mean()
    np.testing.assert_allclose(prev["prevalence"], expected.to_numpy())
    assert prev["sample_size"].sum() == len(people)


def test_service_rates_divide_admissions_by_person_years():
    people = pd.DataFrame({"person_id": [1, 2, 3], "age": [10, 70, 72]})
    enc = pd.DataFrame(
        {
            "person_id": [2, 2, 3, 1],
            "encounter_type": ["inpatient", "inpatient", "inpatient", "outpatient"],
            "length_of_stay": [4, 6, 11, 0],
        }
    )
    years = pd.DataFrame({"person_id": [1, 2, 3], "person_years": [1.0, 0.5, 1.0]})
    out = service_rates(people, enc, person_years=years, open_age=70).set_index("age")
    assert out.loc[70, "admission_rate"] == pytest.approx(3 / 1.5)
    assert out.loc[70, "length_of_stay"] == pytest.approx(7.0)
    assert out.loc[10, "admission_rate"] == 0 and np.isnan(out.loc[10, "length_of_stay"])


def test_fertility_schedule_sums_to_the_tfr():
    for tfr in (1.0, 1.3, 2.1):
        f = fertility_schedule(tfr)
        assert f["asfr"].sum() * 5 == pytest.approx(tfr)
    assert fertility_schedule(1.3, width=1)["asfr"].sum() == pytest.approx(1.3)
    with pytest.raises(InvalidParameterError):
        fertility_schedule(-1)


def test_reverse_survival_undoes_a_projection_without_births():
    ages = np.arange(0, 90, 5)
    base = pd.DataFrame(
        {
            "age": np.tile(ages, 2),
            "sex": np.repeat(["F", "M"], len(ages)),
            "population": np.tile(np.linspace(2000, 500, len(ages)), 2),
        }
    )
    mx = 0.0002 * np.exp(0.07 * ages)
    mort = base[["age", "sex"]].assign(mx=np.tile(mx, 2))
    fert = pd.DataFrame({"age": [25], "asfr": [0.0]})
    later = project_population(base, mortality=mort, fertility=fert, start_year=2000, end_year=2010)
    now = later[later.year == 2010]
    back = reverse_survive(now, mort, year=2010, to_year=2000)
    rebuilt = back[back.year == 2000].set_index(["sex", "age"])["population"]
    original = base.set_index(["sex", "age"])["population"]
    # every group below the new open age comes back within 1% (the projection's life table
    # spreads deaths slightly differently from the constant hazard of reverse survival)
    closed = rebuilt.index.get_level_values("age") < 75
    np.testing.assert_allclose(rebuilt[closed], original.loc[rebuilt[closed].index], rtol=0.01)
    assert back.query("year == 2000")["age"].max() == 75


def test_reverse_survival_checks_its_years():
    pop = pd.DataFrame({"age": [0, 5, 10] * 2, "sex": ["F"] * 3 + ["M"] * 3, "population": 1.0})
    mort = pop[["age", "sex"]].assign(mx=0.01)
    with pytest.raises(InvalidParameterError, match="multiple"):
        reverse_survive(pop, mort, year=2020, to_year=2017)
    with pytest.raises(InvalidParameterError, match="use up"):
        reverse_survive(pop, mort, year=2020, to_year=2010)
