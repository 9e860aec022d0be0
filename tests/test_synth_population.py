"""The synthetic population: reproducibility, calibration to the reference figures, consistency."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from healthlab._blocks import BLOCK_SIZE
from healthlab.demography import life_table
from healthlab.errors import InvalidParameterError
from healthlab.synth import _model as M
from healthlab.synth import checks, make_population
from healthlab.synth._reference import china
from healthlab.synth.population import write_population


@pytest.fixture(scope="module")
def people():
    """300,000 people of 2020: tolerances below are about 3 standard errors at this size."""
    return make_population(300_000, seed=11)


def test_same_seed_same_frame_and_seeds_differ():
    a = make_population(3000, seed=5)
    pd.testing.assert_frame_equal(a, make_population(3000, seed=5))
    assert not a["age"].equals(make_population(3000, seed=6)["age"])


def test_one_piece_equals_block_ranges():
    n = 2 * BLOCK_SIZE + 777
    whole = make_population(n, year=2023, seed=3)
    parts = [make_population(n, year=2023, seed=3, blocks=r) for r in [(0, 1), (1, 2), (2, 3)]]
    joined = pd.concat(parts, ignore_index=True)
    pd.testing.assert_frame_equal(whole, joined)
    assert joined["person_id"].is_unique


def test_written_partitions_equal_the_frame(tmp_path):
    n = BLOCK_SIZE + 10
    folder = write_population(n, tmp_path, blocks_per_part=1, seed=4)
    assert folder == tmp_path
    files = sorted((folder / "population").glob("part-*.parquet"))
    assert len(files) == 2
    back = pd.concat([pd.read_parquet(f) for f in files], ignore_index=True)
    pd.testing.assert_frame_equal(back, make_population(n, seed=4), check_categorical=False)


def test_progress_reports_people_done():
    calls = []
    make_population(BLOCK_SIZE + 5, progress=lambda done, total: calls.append((done, total)))
    assert calls == [(BLOCK_SIZE, BLOCK_SIZE + 5), (BLOCK_SIZE + 5, BLOCK_SIZE + 5)]


@pytest.mark.parametrize(
    "kwargs",
    [
        {"n_people": -1},
        {"n_people": 2.5},
        {"n_people": 10, "year": 2019},
        {"n_people": 10, "provinces": ["Atlantis"]},
        {"n_people": 10, "seed": -3},
        {"n_people": 10, "blocks": (0, 5)},
    ],
)
def test_bad_input_raises_clear_error(kwargs):
    n = kwargs.pop("n_people")
    with pytest.raises(InvalidParameterError, match="must"):
        make_population(n, **kwargs)


def test_empty_population_has_the_columns():
    assert list(make_population(0).columns) == list(make_population(5).columns)


def test_age_sex_urban_region_match_the_census(people):
    tables = {"population": people}
    census = china()["census_2020"]
    for band, (lo, hi) in {"0-14": (0, 14), "60+": (60, None), "65+": (65, None)}.items():
        got = checks.share_aged(tables, min_age=lo, max_age=hi)
        assert got == pytest.approx(census["age_share_pct"][band], abs=0.25)
    assert checks.sex_ratio(tables) == pytest.approx(census["sex_ratio_total"], abs=1.2)
    assert checks.share(tables, column="urban", value=True) == pytest.approx(63.89, abs=0.3)
    regions = census["region_population"]
    total = sum(regions.values())
    for region, count in regions.items():
        got = checks.share(tables, column="region", value=region)
        assert got == pytest.approx(100 * count / total, abs=0.3)


def test_province_populations_and_old_age_shares(people):
    names, _, _, pop = M.provinces()
    got = people["province"].value_counts(normalize=True).reindex(list(names)).to_numpy()
    np.testing.assert_allclose(got, pop / pop.sum(), atol=0.003)
    old = people.assign(old=people["age"] >= 65).groupby("province", observed=True)["old"].mean()
    for province, share in china()["province_age_share_2020_pct"].items():
        if isinstance(share, list) and province != "columns":  # [0-14, 15-59, 60+, 65+]
            assert 100 * old[province] == pytest.approx(share[3], abs=1.5)


@pytest.mark.parametrize("year", [2020, 2021, 2022, 2023, 2024])
def test_mortality_model_gives_the_year_life_expectancy(year):
    # The death probabilities themselves: exact, no sampling.
    e0 = M.life_expectancy(M.death_probability(year), M.age_sex(year))
    assert e0 == pytest.approx(M.year_figures(year)["e0"], abs=1e-6)


@pytest.mark.parametrize("year", [2020, 2023])
def test_life_table_of_synthetic_deaths(year, people):
    frame = people if year == 2020 else make_population(300_000, year=2023, seed=12)
    target = china()["life_expectancy_at_birth"][str(year)]
    e0 = checks.life_expectancy({"population": frame})
    assert e0 == pytest.approx(target, abs=1.0)  # one standard error is about 0.3 here
    women = checks.life_expectancy({"population": frame}, sex="F")
    men = checks.life_expectancy({"population": frame}, sex="M")
    assert 4 < women - men < 7.5


def test_life_expectancy_check_agrees_with_demography_life_table(people):
    age = np.minimum(people["age"].to_numpy(), 100)
    exposure = checks.exposure_years(people) * 365.25 / 366  # 2020 is a leap year
    data = pd.DataFrame({"age": np.arange(101),
                         "deaths": np.bincount(age, people["died"], 101),
                         "exposure": np.bincount(age, exposure, 101)})  # fmt: skip
    expected = life_table(data, a0_rule="none", ax_method="midpoint")["ex"].iloc[0]
    assert checks.life_expectancy({"population": people}) == pytest.approx(expected, abs=1e-6)


def test_chronic_prevalence_matches_targets(people):
    tables = {"population": people}
    targets = {"hypertension": (23.2, 18), "diabetes": (12.4, 18), "copd": (9.9, 40),
               "stroke": (1.11, 20), "ckd": (8.2, 18), "dementia": (6.0, 60),
               "ihd": (0.81, 0), "cancer": (0.66, 0), "adl_disabled": (11.0, 60)}  # fmt: skip
    for condition, (target, min_age) in targets.items():
        got = checks.prevalence(tables, condition=condition, min_age=min_age)
        assert got == pytest.approx(target, rel=0.08, abs=0.1), condition


def test_prevalence_by_age_band_and_sex_follows_the_curves(people):
    weights = M.age_sex(2020)
    for condition in ("hypertension", "diabetes", "copd"):
        curve = M._prevalence_curve(M.P.PREVALENCE[condition], weights)
        for sex, s in (("F", 0), ("M", 1)):
            for lo, hi in ((18, 44), (45, 59), (60, 74), (75, 104)):
                expected = 100 * (curve[s, lo:hi + 1] * weights[s, lo:hi + 1]).sum() / weights[
                    s, lo:hi + 1].sum()  # fmt: skip
                got = checks.prevalence({"population": people}, condition=condition,
                                        min_age=lo, max_age=hi, sex=sex)  # fmt: skip
                assert got == pytest.approx(expected, rel=0.12, abs=0.4), (condition, sex, lo)


def test_diabetes_by_age_levels_off_as_in_the_surveys(people):
    """The card's diabetes figures by age (the surveys: about 22% at 60+, 20-30% at 70+, no
    further rise after 70), computed from the people, within the card's tolerances."""
    from healthlab.datasets.cards import card

    figures = [item for item in card("population")["calibration"]
               if (item.get("args") or {}).get("condition") == "diabetes"]  # fmt: skip
    assert {item["args"]["min_age"] for item in figures} >= {18, 60, 70, 80}
    for item in figures:
        got = checks.prevalence({"population": people}, **item["args"])
        assert abs(got - item["target"]) <= item["tolerance"], (item["figure"], got)
    seventies = checks.prevalence({"population": people}, condition="diabetes", min_age=70,
                                  max_age=79)  # fmt: skip
    eighties = checks.prevalence({"population": people}, condition="diabetes", min_age=80)
    assert eighties < seventies + 2


def test_risk_factors_and_multimorbidity_behave_as_in_life(people):
    adults = people[people["age"] >= 18]
    obese = adults["bmi"] >= 28
    assert (
        adults.loc[obese, "hypertension"].mean() > 1.3 * adults.loc[~obese, "hypertension"].mean()
    )
    assert (
        adults.loc[adults["diabetes"], "hypertension"].mean() > 1.3 * adults["hypertension"].mean()
    )
    smokers = adults["smoker"]
    assert adults.loc[smokers, "copd"].mean() > 1.3 * adults.loc[~smokers, "copd"].mean()
    conditions = ["hypertension", "diabetes", "copd", "ihd", "stroke", "cancer", "ckd", "dementia"]
    count = people[conditions].sum(axis=1)
    by_age = count.groupby(pd.cut(people["age"], [0, 40, 60, 75, 105], right=False),
                           observed=True).mean()  # fmt: skip
    assert by_age.is_monotonic_increasing
    assert people.loc[people["hypertension"], "sbp"].mean() > people.loc[
        ~people["hypertension"] & (people["age"] >= 18), "sbp"].mean() + 20  # fmt: skip
    # Dying is more likely with conditions: deaths cluster among the sick of each age.
    old = people[people["age"].between(70, 85)]
    sick = old[conditions].sum(axis=1) >= 2
    assert old.loc[sick, "died"].mean() > old.loc[~sick, "died"].mean()


def test_consistency_rules(people):
    p = people
    assert p["person_id"].is_unique and p["person_id"].min() == 1
    assert p["age"].between(0, 104).all()
    # Age on 1 January 2020 follows from the birth date.
    born = p["birth_date"]
    assert (born < pd.Timestamp("2020-01-01") - pd.to_timedelta(p["age"] * 365, unit="D")).all()
    years = 2019 - born.dt.year
    assert (years == p["age"]).all()
    assert p["death_date"].notna().eq(p["died"]).all()
    dead = p.loc[p["died"], "death_date"]
    assert dead.between(pd.Timestamp("2020-01-01"), pd.Timestamp("2020-12-31")).all()
    codes = dict(zip(M.provinces()[0], M.provinces()[1], strict=True))
    assert (p["province"].astype("string").map(codes) == p["province_code"]).all()
    district = p["district"].astype("string")
    assert (district.str.slice(0, 2).astype(int) == p["province_code"]).all()
    assert (district.str.slice(3, 4).eq("C") == p["urban"]).all()
    assert p.loc[p["age"] < 15, "smoker"].sum() == 0
    assert p.loc[p["age"] < 55, "dementia"].sum() == 0
    assert p["income_quintile"].value_counts(normalize=True).between(0.18, 0.22).all()


def test_provinces_subset():
    p = make_population(5000, provinces=["Tibet", "Beijing"], seed=1)
    assert set(p["province"].astype("string")) == {"Tibet", "Beijing"}
    assert (p["province"] == "Beijing").mean() > 0.75
    assert (p.loc[p["province"] == "Tibet", "age"] >= 65).mean() < (
        p.loc[p["province"] == "Beijing", "age"] >= 65
    ).mean()


def test_roster_covers_the_eligible_and_records_its_errors(people):
    from healthlab.synth import make_roster

    roster = make_roster(people, coverage=0.6, error_rate=0.1, seed=3)
    adults = people[people["age"] >= 18].set_index("person_id")
    assert len(roster) / len(adults) == pytest.approx(0.6, abs=0.01)
    assert roster["roster_id"].is_unique and roster["roster_id"].is_monotonic_increasing
    assert not roster["true_person_id"].is_monotonic_increasing  # order says nothing
    truth = adults.loc[roster["true_person_id"]]
    moved = truth["district"].astype("string").to_numpy() != roster["district"].astype("string")
    changed = (truth["birth_date"].to_numpy() != roster["birth_date"].to_numpy()) | moved
    assert (changed == roster["misrecorded"].to_numpy()).all()
    assert roster["misrecorded"].mean() == pytest.approx(0.1 * 0.97, abs=0.01)
    same_province = truth["province_code"].to_numpy() == roster["province_code"].to_numpy()
    assert same_province.all()
    clean = make_roster(people, coverage=0.6, seed=3)
    assert not clean["misrecorded"].any()
    insured = make_roster(people, kind="insurance", coverage=1.0, seed=3)
    assert len(insured) == (people["insurance"] != "none").sum()
    assert set(insured["scheme"]) == {"employee", "resident"}
    with pytest.raises(InvalidParameterError, match="coverage"):
        make_roster(people, coverage=1.5)
    with pytest.raises(InvalidParameterError, match="kind"):
        make_roster(people, kind="census")


def test_a_size_that_cannot_fit_in_memory_is_refused_at_once():
    import time

    start = time.perf_counter()
    with pytest.raises(InvalidParameterError, match="write_population"):
        make_population(10**12, seed=0)
    assert time.perf_counter() - start < 2  # refused before any row is drawn
