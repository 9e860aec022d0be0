"""Facilities, the facility choice model and the admissions series against their promises."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from healthlab.errors import InvalidParameterError
from healthlab.synth import choice
from healthlab.synth._reference import COUNTS_2020, HOSPITAL_LEVELS, china, load_provinces
from healthlab.synth.admissions import ANNUAL_MILLION, make_admissions_series
from healthlab.synth.facilities import _CITY_NATIONAL, make_facilities, province_resources

#: Tolerances documented in the facilities card: national per-1,000 figures within 0.01,
#: province doctors per 1,000 with a published figure within 0.05 of that figure scaled to 2020.
NATIONAL_TOL = 0.01
PROVINCE_TOL = 0.05


@pytest.fixture(scope="module")
def facilities():
    return make_facilities(seed=0)


@pytest.fixture(scope="module")
def resources(facilities):
    return province_resources(facilities)


def test_national_per_1000_match_the_reference(resources):
    ref = china()["health_resources"]
    pop = resources["population"].sum()
    assert abs(resources["beds"].sum() / pop * 1000 - ref["beds_per_1000"]["2020"]) < NATIONAL_TOL
    doctors = resources["doctors"].sum() / pop * 1000
    assert abs(doctors - ref["doctors_per_1000"]["2020"]) < NATIONAL_TOL
    assert abs(resources["nurses"].sum() / pop * 1000 - 3.34) < NATIONAL_TOL


def test_later_year_matches_its_figures():
    f = make_facilities(year=2023, seed=1)
    r = province_resources(f, year=2023)
    ref = china()["health_resources"]
    assert abs(r["beds"].sum() / r["population"].sum() * 1000 - ref["beds_per_1000"]["2023"]) < 0.01
    hospitals = f["level"].isin(HOSPITAL_LEVELS).sum()
    assert abs(hospitals - ref["hospitals"]["2023"]) <= 3  # rounding of four levels
    assert (f["level"] == "township_health_centre").sum() == ref["township_health_centres_2023"]


def test_institution_counts_by_level_are_the_national_counts(facilities):
    counts = facilities["level"].value_counts()
    for level, n in COUNTS_2020.items():
        assert counts[level] == n
    assert counts[list(HOSPITAL_LEVELS)].sum() == 35394


def test_province_doctors_follow_the_published_spread(resources):
    r = resources.set_index("province")["doctors_per_1000"]
    assert r.idxmax() == "Beijing"
    assert r.idxmin() == "Jiangxi"
    published = china()["province_resources"]["doctors_per_1000_2021"]
    for province, value in published.items():
        scaled = value / 3.04 * 2.90  # the 2021 figure relative to the nation, in 2020
        assert abs(r[province] - scaled) < PROVINCE_TOL, province


def test_east_west_and_urban_rural_gaps(facilities, resources):
    by_region = resources.groupby("region")[["beds", "doctors", "population"]].sum()
    per = by_region[["beds", "doctors"]].div(by_region["population"], axis=0) * 1000
    assert per.loc["west", "beds"] > per.loc["east", "beds"]
    assert per.loc["east", "doctors"] > per.loc["west", "doctors"]
    pop = resources["population"].sum()
    city_pop = _CITY_NATIONAL * pop
    beds = facilities.groupby("urban")["beds"].sum()
    ratio = (beds[True] / city_pop) / (beds[False] / (pop - city_pop))
    assert abs(ratio - 8.81 / 4.95) < 0.02
    docs = facilities.groupby("urban")["doctors"].sum()
    assert abs((docs[True] / city_pop) / (docs[False] / (pop - city_pop)) - 4.25 / 2.06) < 0.02


def test_locations_inside_the_province_box(facilities):
    box = load_provinces().set_index("province").loc[facilities["province"].to_numpy()]
    assert (np.abs(facilities["latitude"].to_numpy() - box["lat"].to_numpy())
            <= box["lat_half"].to_numpy() + 1e-6).all()  # fmt: skip
    assert (np.abs(facilities["longitude"].to_numpy() - box["lon"].to_numpy())
            <= box["lon_half"].to_numpy() + 1e-6).all()  # fmt: skip


def test_same_seed_same_rows_and_subsets_agree(facilities):
    again = make_facilities(seed=0)
    pd.testing.assert_frame_equal(facilities, again)
    sub = make_facilities(provinces=["Ningxia", "Beijing"], seed=0)
    whole = facilities[facilities["province"].isin(["Ningxia", "Beijing"])].reset_index(drop=True)
    pd.testing.assert_frame_equal(sub, whole)
    assert not make_facilities(seed=1)["beds"].equals(facilities["beds"])


def test_bad_parameters_are_refused():
    with pytest.raises(InvalidParameterError, match="year"):
        make_facilities(year=2019)
    with pytest.raises(InvalidParameterError, match="provinces"):
        make_facilities(provinces=["Atlantis"])
    with pytest.raises(InvalidParameterError, match="seed"):
        make_facilities(seed=-1)


# --------------------------------------------------------------------------- choice model


@pytest.fixture(scope="module")
def chosen(facilities):
    rng = np.random.default_rng(5)
    n, m = 20_000, 60_000
    prov = load_provinces()["province"].to_numpy()
    people = pd.DataFrame(
        {"person_id": np.arange(n), "province": rng.choice(prov, n),
         "district": rng.integers(0, 40, n).astype(str), "urban": rng.random(n) < 0.5}
    )  # fmt: skip
    enc = pd.DataFrame(
        {"person_id": rng.integers(0, n, m),
         "encounter_type": rng.choice(["outpatient", "emergency", "inpatient"], m,
                                      p=[0.6, 0.1, 0.3])}
    )  # fmt: skip
    fid = choice.assign_facilities(enc, people, facilities, seed=3)
    out = enc.assign(facility_id=fid).merge(people, on="person_id")
    f = facilities[["facility_id", "level", "province", "latitude", "longitude"]]
    out = out.merge(f.rename(columns={"province": "to"}), on="facility_id")
    return out, people, enc, fid


def test_choice_sends_inpatients_to_tertiary_at_the_documented_rate(chosen):
    out, *_ = chosen
    inp = out[out["encounter_type"] == "inpatient"]
    shares = choice.LEVEL_SHARES["inpatient"]
    city = inp["urban"].mean()
    expected = city * shares["city"]["tertiary"] + (1 - city) * shares["county"]["tertiary"]
    se = np.sqrt(expected * (1 - expected) / len(inp))
    assert abs((inp["level"] == "tertiary").mean() - expected) < 4 * se + 0.005


def test_choice_crosses_provinces_at_the_documented_rate(chosen):
    out, *_ = chosen
    hubs = set(choice.HUBS)
    tert = out[(out["encounter_type"] == "inpatient") & (out["level"] == "tertiary")]
    away = tert[~tert["province"].isin(hubs)]
    p = choice.CROSS_PROVINCE["inpatient"]
    rate = (away["province"] != away["to"]).mean()
    assert abs(rate - p) < 4 * np.sqrt(p * (1 - p) / len(away))
    dest = away.loc[away["province"] != away["to"], "to"].value_counts(normalize=True)
    assert dest.index[0] == "Beijing" and set(dest.index) <= hubs
    assert (out.loc[out["encounter_type"] == "emergency", "province"]
            == out.loc[out["encounter_type"] == "emergency", "to"]).all()  # fmt: skip


def test_choice_prefers_near_facilities(chosen, facilities):
    out, *_ = chosen
    homes = choice.home_locations(
        out[["person_id", "province", "district"]].drop_duplicates("person_id")
    )
    prim = out[out["level"] == "township_health_centre"].merge(homes, on="person_id")
    dist = np.hypot(prim["latitude"] - prim["home_lat"], prim["longitude"] - prim["home_lon"])
    # The same patients' distance to a township centre of their province picked at random.
    town = facilities[facilities["level"] == "township_health_centre"]
    rnd = prim[["province", "home_lat", "home_lon"]].merge(
        town.groupby("province", observed=True).sample(1, random_state=0)[
            ["province", "latitude", "longitude"]
        ],
        on="province",
    )
    base = np.hypot(rnd["latitude"] - rnd["home_lat"], rnd["longitude"] - rnd["home_lon"])
    assert dist.mean() < 0.8 * base.mean()


def test_choice_is_reproducible_and_checks_input(chosen, facilities):
    _, people, enc, fid = chosen
    again = choice.assign_facilities(enc.iloc[:500], people, facilities, seed=3)
    pd.testing.assert_series_equal(again, fid.iloc[:500])
    with pytest.raises(InvalidParameterError, match="kind"):
        choice.assign_facilities(enc.assign(encounter_type="spa"), people, facilities)
    with pytest.raises(InvalidParameterError, match="person_id"):
        choice.assign_facilities(enc.assign(person_id=-5), people, facilities)


# --------------------------------------------------------------------------- admissions


def test_admissions_totals_covid_dip_and_trend():
    s = make_admissions_series(seed=0)
    yearly = s.groupby("year")["admissions"].sum() / 1e6
    for year, target in ANNUAL_MILLION.items():
        assert abs(yearly[year] / target - 1) < 0.01, year
    nat = s.groupby("date")["admissions"].sum()
    assert nat["2020-02-01"] < 0.6 * nat["2019-02-01"]
    assert nat["2020-02-01"] < nat["2020-01-01"]
    assert yearly[2019] > yearly[2015] * 1.2
    hubei = make_admissions_series(provinces=["Hubei"], seed=0)
    pd.testing.assert_frame_equal(hubei, s[s["province"] == "Hubei"].reset_index(drop=True))
    with pytest.raises(InvalidParameterError, match="start_year"):
        make_admissions_series(start_year=1999)


def test_facility_load_scales_and_sums(chosen, facilities):
    out, *_ = chosen
    enc = out.assign(length_of_stay=np.where(out["encounter_type"] == "inpatient", 9, 0))
    load = choice.facility_load(enc, facilities, scale=1000.0)
    assert len(load) == len(facilities)
    n_in = (enc["encounter_type"] == "inpatient").sum()
    assert load["admissions"].sum() == pytest.approx(1000.0 * n_in)
    assert load["bed_days"].sum() == pytest.approx(9000.0 * n_in)
    busy = load.groupby("level")["bed_days"].sum() / load.groupby("level")["beds"].sum()
    assert busy["tertiary"] > busy["primary_hospital"]  # the pull of the big hospitals
    with pytest.raises(InvalidParameterError, match="scale"):
        choice.facility_load(enc, facilities, scale=0)


def test_clinical_generator_routes_encounters_through_the_choice_model(facilities):
    from healthlab.synth import clinical, population

    pop = population.make_population(3000, seed=3)
    enc = clinical.make_clinical(pop, facilities=facilities, seed=3)["encounters"]
    assert enc["facility_id"].notna().all()
    assert enc["facility_id"].isin(facilities["facility_id"]).all()
    routed = enc.merge(facilities[["facility_id", "level"]], on="facility_id")
    inp = routed[routed["encounter_type"] == "inpatient"]
    shares = choice.LEVEL_SHARES["inpatient"]
    city = inp["urban"].mean()
    expected = city * shares["city"]["tertiary"] + (1 - city) * shares["county"]["tertiary"]
    assert abs((inp["level"] == "tertiary").mean() - expected) < 4 * np.sqrt(0.25 / len(inp))


def test_care_network_is_the_samples_share_of_each_province_and_level(facilities):
    group = ["province", "level"]
    small = choice.care_network(facilities, people=50_000, seed=0)
    # A sample this small keeps one institution of each level in each province.
    assert (small.groupby(group).size() == 1).all()
    assert len(small) == facilities.groupby(group).ngroups
    # Ten million people: about 0.7% of each group (at least one), the smaller ones included.
    large = choice.care_network(facilities, people=10_000_000, seed=0)
    share = 10_000_000 / load_provinces()["population_2020"].sum()
    want = np.maximum(1, np.rint(share * facilities.groupby(group).size()))
    assert (large.groupby(group).size() == want).all()
    # A ranking: the larger network holds the smaller; large institutions are kept more often.
    assert small["facility_id"].isin(large["facility_id"]).all()
    tertiary = facilities["level"] == "tertiary"
    kept = facilities["facility_id"].isin(large["facility_id"])
    assert facilities.loc[tertiary & kept, "beds"].mean() > facilities.loc[tertiary, "beds"].mean()
    # The whole population keeps every institution; the same seed, the same network.
    everyone = choice.care_network(facilities, people=2_000_000_000, seed=0)
    assert len(everyone) == len(facilities)
    again = choice.care_network(facilities, people=50_000, seed=0)
    assert again["facility_id"].equals(small["facility_id"])
    with pytest.raises(InvalidParameterError, match="people"):
        choice.care_network(facilities, people=-1)
