"""The access-log generator: care leaves the accesses it should, misuse comes at its rates."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from healthlab import datasets, synth
from healthlab.errors import InvalidParameterError
from healthlab.synth.access_log import MISUSE
from healthlab.synth.access_staff import PRIMARY_CARE, staff_per_1000


@pytest.fixture(scope="module")
def world():
    population = datasets.load("population", size="tiny").frame
    clinical = datasets.load("clinical", size="tiny")
    return population, {t: clinical[t] for t in clinical.table_names}


@pytest.fixture(scope="module")
def log(world):
    population, clinical = world
    return synth.make_access_log(clinical, population=population, seed=5)


def test_same_seed_same_log_and_another_seed_differs(world, log):
    population, clinical = world
    again = synth.make_access_log(clinical, population=population, seed=5)
    for table in log:
        pd.testing.assert_frame_equal(log[table], again[table])
    other = synth.make_access_log(clinical, population=population, seed=6)
    assert not log["accesses"]["time"].equals(other["accesses"]["time"])


def test_legitimate_accesses_line_up_with_encounters(world, log):
    _, clinical = world
    acc = log["accesses"][~log["accesses"]["access_id"].isin(log["truth"]["access_id"])]
    staff = log["staff"].set_index("staff_id")
    assert (staff.loc[acc["staff_id"], "facility_id"].to_numpy() == acc["facility_id"]).all()
    care = acc.merge(log["staff"][["staff_id", "department", "role"]], on="staff_id")
    care = care[care["role"].isin(["doctor", "nurse"])]
    enc = clinical["encounters"].dropna(subset=["facility_id"])
    # A primary-care institution's general practitioners treat every department.
    primary = enc["facility_level"].astype("string").isin(PRIMARY_CARE)
    team = enc["department"].astype("string").mask(primary, "general_practice")
    enc = enc.assign(department=team)
    pairs = care.merge(
        enc[["person_id", "facility_id", "department", "admit_date", "discharge_date"]].astype(
            {"facility_id": "int64", "department": "string"}
        ),
        on=["person_id", "facility_id", "department"],
    )
    t = pairs["time"].dt.floor("D")
    within = (t >= pairs["admit_date"] - pd.Timedelta(days=1)) & (
        t <= pairs["discharge_date"] + pd.Timedelta(days=7)
    )
    lined_up = pairs.loc[within, "access_id"].unique()
    # All but the colleagues who cover without a recorded consultation (3% of encounters).
    assert len(lined_up) / len(care) > 0.95
    # Every encounter with a facility has its doctor's access on its first day.
    first = care.merge(enc[["person_id", "admit_date"]], on="person_id")
    assert (first["time"].dt.floor("D") == first["admit_date"]).any()
    period = acc["time"].dt.year.unique()
    assert list(period) == [2020]


def test_accesses_follow_the_shifts(log):
    acc = log["accesses"].merge(log["staff"][["staff_id", "role"]], on="staff_id")
    legit = acc[~acc["access_id"].isin(log["truth"]["access_id"])]
    hour = legit["time"].dt.hour
    night = (hour >= 22) | (hour < 6)
    by_role = night.groupby(legit["role"]).mean()
    assert by_role["nurse"] > 0.1  # night shifts chart
    assert by_role["billing"] < 0.05  # only emergency visits pay at night
    assert by_role["pharmacist"] < 0.1


def test_misuse_rates_match_their_settings(world):
    population, clinical = world
    rates = {"surname": 0.3, "neighbour": 0.3, "coworker": 0.3, "prominent": 0.3,
             "leaver": 0.5, "credential": 0.05}  # fmt: skip
    log = synth.make_access_log(clinical, population=population, misuse=rates, seed=1)
    realised = log["rates"].set_index("kind")
    for kind, rate in rates.items():
        eligible, committed = realised.loc[kind, ["eligible", "committed"]]
        assert eligible > 20, kind
        sd = np.sqrt(rate * (1 - rate) / eligible)
        assert abs(committed / eligible - rate) < 4 * sd + 0.02, (kind, committed, eligible)
    assert set(log["truth"]["kind"]) == set(rates)


def test_no_single_column_gives_misuse_away(log):
    acc = log["accesses"].copy()
    acc["misuse"] = acc["access_id"].isin(log["truth"]["access_id"])
    hour = acc["time"].dt.hour
    for name, flag in {
        "export": acc["action"].eq("export"),
        "print": acc["action"].eq("print"),
        "night": (hour >= 22) | (hour < 6),
    }.items():
        assert flag.sum() > 0, name
        assert acc.loc[flag, "misuse"].mean() < 0.9, name
    # Legitimate accesses include patients sharing the employee's surname.
    named = acc.merge(log["staff"][["staff_id", "surname"]], on="staff_id").merge(
        log["patients"][["person_id", "surname"]], on="person_id", suffixes=("", "_patient")
    )
    same = named["surname"] == named["surname_patient"]
    assert (~named.loc[same, "misuse"]).sum() > 0


def test_truth_names_real_accesses(log):
    truth = log["truth"]
    assert truth["access_id"].is_unique
    assert truth["access_id"].isin(log["accesses"]["access_id"]).all()
    assert set(truth["kind"]) <= set(MISUSE)
    assert 0 < len(truth) / len(log["accesses"]) < 0.02


def test_catalogue_builds_the_access_log():
    ds = datasets.load("access_log", size="tiny")
    assert set(ds.table_names) >= {"staff", "accesses", "truth"}
    assert len(ds["accesses"]) > 1000


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"misuse": {"gossip": 0.1}}, "unknown misuse kind"),
        ({"misuse": {"surname": 1.5}}, "must lie in"),
        ({"days": 0}, "days must be"),
    ],
)
def test_bad_parameters_are_refused(world, kwargs, message):
    population, clinical = world
    with pytest.raises(InvalidParameterError, match=message):
        synth.make_access_log(clinical, population=population, **kwargs)


def test_records_without_facilities_are_refused(world):
    population, clinical = world
    bare = dict(clinical, encounters=clinical["encounters"].assign(facility_id=pd.NA))
    with pytest.raises(InvalidParameterError, match="names a facility"):
        synth.make_access_log(bare, population=population)
    with pytest.raises(InvalidParameterError, match="clinical must be"):
        synth.make_access_log(clinical["encounters"], population=population)


def test_progress_is_reported_step_by_step(world):
    population, clinical = world
    calls = []
    synth.make_access_log(
        clinical, population=population, days=30, seed=2, progress=lambda d, t: calls.append((d, t))
    )
    done = [d for d, _ in calls]
    assert done == list(range(1, len(calls) + 1)) and len(calls) >= 10
    assert {t for _, t in calls} == {len(calls)}


def test_every_team_with_encounters_has_a_doctor_and_primary_care_has_gps(world, log):
    population, clinical = world
    enc = clinical["encounters"].dropna(subset=["facility_id"])
    period = pd.Timestamp("2020-01-01") + pd.Timedelta(days=365)  # the log's 365 days
    enc = enc[(enc["admit_date"] >= "2020-01-01") & (enc["admit_date"] < period)]
    primary = enc["facility_level"].astype("string").isin(PRIMARY_CARE)
    team = enc["department"].astype("string").mask(primary, "general_practice")
    wanted = pd.DataFrame({"facility_id": enc["facility_id"].astype("int64"), "department": team})
    wanted = wanted.drop_duplicates()
    staff = log["staff"]
    doctors = staff[staff["role"] == "doctor"]
    missing = wanted.merge(doctors[["facility_id", "department"]].drop_duplicates(), how="left",
                           indicator=True)  # fmt: skip
    assert (missing["_merge"] == "both").all()  # a doctor in every team with encounters
    # Primary care: general practitioners only, who see every department's patients.
    gp_facilities = enc.loc[primary, "facility_id"].astype("int64").unique()
    assert len(gp_facilities) > 0
    at_gp = doctors[doctors["facility_id"].isin(gp_facilities)]
    assert set(at_gp["department"]) == {"general_practice"}
    # The tiny sample has more teams than the national ratio has doctors: the floor sets them.
    ratio_heads = staff_per_1000("doctor") * len(population) / 1000
    assert len(doctors) <= max(len(wanted), ratio_heads) + 1
    # Pharmacy, laboratory, billing, records and IT teams only where there are stays.
    stays = enc.loc[enc["encounter_type"] == "inpatient", "facility_id"].astype("int64")
    support = staff[~staff["role"].isin(["doctor", "nurse"])]
    assert len(support) > 0 and support["facility_id"].isin(stays).all()


def test_staff_per_1000_and_role_mix_match_the_national_figures():
    """50,000 people of one province: the care network holds one institution of each level,
    and the teams come out at the 2020 ratios (NHC bulletin: 2.90 licensed and assistant
    doctors, 3.34 registered nurses, 7.56 health technicians per 1,000)."""
    from healthlab.synth.access_staff import HEALTH_TECHNICIANS_PER_1000
    from healthlab.synth.facilities import make_facilities

    people = synth.make_population(50_000, provinces=["Ningxia"], seed=4)
    facilities = make_facilities(provinces=["Ningxia"], seed=4)
    records = synth.make_clinical(people, facilities=facilities, seed=4)
    assert records["encounters"]["facility_id"].nunique() == facilities["level"].nunique()
    log = synth.make_access_log(records, population=people, days=365, seed=4)
    per_1000 = log["staff"]["role"].value_counts() / len(people) * 1000
    assert per_1000["doctor"] == pytest.approx(2.90, rel=0.05)
    assert per_1000["nurse"] == pytest.approx(3.34, rel=0.05)
    # Doctors, nurses, pharmacists and laboratory technicians: most of the health technicians
    # (the rest are imaging and other technicians, public-health staff and trainees).
    clinical_staff = per_1000[["doctor", "nurse", "pharmacist", "technician"]].sum()
    assert 0.8 * HEALTH_TECHNICIANS_PER_1000 < clinical_staff < HEALTH_TECHNICIANS_PER_1000
    # The mix: 1.15 nurses a doctor nationally; administration a few per cent of the staff.
    assert per_1000["nurse"] / per_1000["doctor"] == pytest.approx(3.34 / 2.90, rel=0.1)
    admin = per_1000[["billing", "records", "it"]].sum() / per_1000.sum()
    assert 0.02 < admin < 0.1
    # Each doctor carries a real workload: hundreds of patients a year, not a handful.
    acc = log["accesses"].merge(log["staff"][["staff_id", "role"]], on="staff_id")
    doctors = acc[acc["role"] == "doctor"].groupby("staff_id")["person_id"].nunique()
    assert doctors.median() > 300
