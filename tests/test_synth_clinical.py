"""Clinical records: reproducibility, calibration to the reference figures, consistency, mess."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from healthlab._blocks import BLOCK_SIZE
from healthlab.datasets import Dataset
from healthlab.errors import InvalidParameterError
from healthlab.synth import _params as P
from healthlab.synth import checks, make_clinical, make_population
from healthlab.synth._encounters import targets
from healthlab.synth.clinical import write_clinical
from healthlab.synth.population import write_population

CONDITIONS = ["hypertension", "diabetes", "copd", "ihd", "stroke", "cancer", "ckd", "dementia"]


def assert_same(left: pd.DataFrame, right: pd.DataFrame) -> None:
    """Frames equal column by column (pandas' own check is slow on large categoricals)."""
    assert list(left.columns) == list(right.columns) and len(left) == len(right)
    for name in left.columns:
        a, b = left[name].reset_index(drop=True), right[name].reset_index(drop=True)
        if isinstance(a.dtype, pd.CategoricalDtype) or isinstance(b.dtype, pd.CategoricalDtype):
            a, b = a.astype("string"), b.astype("string")
        assert a.dtype == b.dtype, name
        assert a.equals(b), name


@pytest.fixture(scope="module")
def people_2023():
    return make_population(150_000, year=2023, seed=21)


@pytest.fixture(scope="module")
def clean_2023(people_2023):
    return make_clinical(people_2023, mess=False, seed=22)


@pytest.fixture(scope="module")
def small_split():
    people = make_population(BLOCK_SIZE + 700, seed=3)
    return people, make_clinical(people, seed=4)


def test_same_seed_same_tables_and_split_equals_whole(small_split):
    people, whole = small_split
    again = make_clinical(people, seed=4)
    first = make_clinical(people.iloc[:BLOCK_SIZE], seed=4)
    second = make_clinical(people.iloc[BLOCK_SIZE:], seed=4)
    for name, table in whole.items():
        assert_same(table, again[name])
        if name != "risk_model":
            assert_same(table, pd.concat([first[name], second[name]], ignore_index=True))
    other = make_clinical(people.iloc[:2000], seed=5)["encounters"]
    assert not other["admit_date"].equals(whole["encounters"]["admit_date"].iloc[: len(other)])


def test_partitions_in_and_out_give_the_same_rows(tmp_path, small_split):
    people, whole = small_split
    folder = write_population(len(people), tmp_path / "pop", blocks_per_part=1, seed=3)
    files = sorted((folder / "population").glob("part-*.parquet"))
    dataset = Dataset("population", "custom", 3, {}, {}, partitions={"population": files})
    calls = []
    result = write_clinical(dataset, tmp_path / "clin", seed=4,
                            progress=lambda done, total: calls.append((done, total)))  # fmt: skip
    assert result == tmp_path / "clin"
    assert calls[-1] == (len(people), len(people))
    for name, table in whole.items():
        parts = sorted((tmp_path / "clin" / name).glob("part-*.parquet"))
        back = pd.concat([pd.read_parquet(p) for p in parts], ignore_index=True)
        assert_same(back, table)


def test_utilisation_matches_the_year(clean_2023, people_2023):
    t = targets(2023)
    assert t["visits"] == 6.8 and t["alos"] == 8.8
    assert checks.visits_per_person(clean_2023) == pytest.approx(6.8, abs=0.1)
    assert checks.admissions_per_person(clean_2023) == pytest.approx(301.873 / 1409.67, abs=0.008)
    assert checks.mean_length_of_stay(clean_2023) == pytest.approx(8.8, abs=0.2)
    assert checks.mean_cost(clean_2023, kind="outpatient") == pytest.approx(361.6, rel=0.01)
    assert checks.mean_cost(clean_2023, kind="inpatient") == pytest.approx(10315.8, rel=0.01)
    assert 0.2 < checks.in_hospital_death_pct(clean_2023) < 1.2


def test_utilisation_rises_with_age_and_conditions(clean_2023, people_2023):
    enc = clean_2023["encounters"]
    admissions = enc[enc["encounter_type"] == "inpatient"].groupby("person_id").size()
    people = people_2023.set_index("person_id")
    years = clean_2023["person_years"].set_index("person_id")["person_years"]
    rate = admissions.reindex(people.index, fill_value=0) / years.clip(lower=1e-6)
    old = people["age"] >= 65
    assert rate[old].mean() > 2 * rate[(people["age"] >= 15) & (people["age"] < 45)].mean()
    sick = people[CONDITIONS].sum(axis=1) >= 2
    visits = enc[enc["encounter_type"] != "inpatient"].groupby("person_id").size()
    visits = visits.reindex(people.index, fill_value=0)
    assert visits[sick & old].mean() > 1.5 * visits[~sick & old].mean()


def test_no_diagnosis_or_drug_without_its_condition(clean_2023, people_2023):
    people = people_2023.set_index("person_id")
    for table in ("diagnoses", "medications"):
        frame = clean_2023[table]
        for condition in CONDITIONS:
            who = frame.loc[frame["condition"] == condition, "person_id"]
            assert len(who) > 0
            assert people.loc[who, condition].all(), (table, condition)
    diag = clean_2023["diagnoses"]
    primary = diag[diag["seq"] == 1]
    assert primary["encounter_id"].is_unique
    assert len(primary) == len(clean_2023["encounters"])
    assert set(diag["encounter_id"]) <= set(clean_2023["encounters"]["encounter_id"])
    women = diag.loc[diag["icd10"] == "O80", "person_id"]
    assert (people.loc[women, "sex"] == "F").all()


def test_dates_in_range_and_no_encounter_after_death(clean_2023, people_2023):
    enc = clean_2023["encounters"]
    start, end = pd.Timestamp("2023-01-01"), pd.Timestamp("2024-01-01")
    assert (enc["admit_date"] >= start).all() and (enc["discharge_date"] < end).all()
    assert (enc["discharge_date"] >= enc["admit_date"]).all()
    los = (enc["discharge_date"] - enc["admit_date"]).dt.days
    assert (los == enc["length_of_stay"]).all()
    death = enc["person_id"].map(people_2023.set_index("person_id")["death_date"])
    assert not (enc["discharge_date"] > death).any()
    out = clean_2023["outcomes"].merge(enc, on=["encounter_id", "person_id"])
    dead = out[out["died_in_hospital"]]
    assert len(dead) > 0
    assert (dead["discharge_date"] == dead["person_id"].map(
        people_2023.set_index("person_id")["death_date"])).all()  # fmt: skip
    alive = enc[enc["encounter_type"] == "inpatient"].merge(
        out.loc[~out["died_in_hospital"], ["encounter_id"]])  # fmt: skip
    assert not (alive["discharge_date"] >= alive["person_id"].map(
        people_2023.set_index("person_id")["death_date"])).any()  # fmt: skip
    for table in ("medications", "observations"):
        assert clean_2023[table]["date"].between(start, end - pd.Timedelta(days=1)).all()


def test_observations_follow_the_conditions(clean_2023, people_2023):
    obs = clean_2023["observations"]
    people = people_2023.set_index("person_id")

    def mean(code, condition, has):
        rows = obs[obs["loinc"] == code]
        return rows.loc[people.loc[rows["person_id"], condition].to_numpy() == has, "value"].mean()

    assert mean("4548-4", "diabetes", True) > mean("4548-4", "diabetes", False) + 1.5
    assert mean("1558-6", "diabetes", True) > mean("1558-6", "diabetes", False) + 2
    assert mean("8480-6", "hypertension", True) > mean("8480-6", "hypertension", False) + 10
    assert mean("62238-1", "ckd", True) < 60 <= mean("62238-1", "ckd", False)
    units = obs.groupby("loinc", observed=True)["unit"].agg(lambda s: set(s.astype(str)))
    assert units["4548-4"] == {"%"} and units["8480-6"] == {"mm[Hg]"}


def test_readmissions_follow_the_ground_truth_model(clean_2023):
    out = clean_2023["outcomes"]
    index = out[~out["is_readmission"] & ~out["died_in_hospital"] & out["followup_complete"]]
    assert index["readmission_risk"].notna().all()
    observed = index["readmitted_30d"].mean()
    # Readmissions lost to death are few; the mean true risk predicts the observed rate.
    assert observed == pytest.approx(index["readmission_risk"].mean(), abs=0.015)
    quintile = pd.qcut(index["readmission_risk"], 5, labels=False)
    by_q = index.groupby(quintile)["readmitted_30d"].mean()
    assert by_q.is_monotonic_increasing
    enc = clean_2023["encounters"].set_index("encounter_id")
    linked = out.dropna(subset=["readmission_encounter_id"])
    gap = (enc.loc[linked["readmission_encounter_id"].astype("int64"), "admit_date"].to_numpy()
           - enc.loc[linked["encounter_id"], "discharge_date"].to_numpy())  # fmt: skip
    days = gap / np.timedelta64(1, "D")
    assert (days >= 1).all() and (days <= 30).all()
    model = clean_2023["risk_model"]
    coef = model[model["outcome"] == "readmitted_30d"].set_index("term")["coefficient"]
    assert coef.to_dict() == P.READMISSION


def test_mess_is_at_its_rates_and_only_mess(people_2023, clean_2023):
    messy = make_clinical(people_2023, seed=22)
    enc, clean = messy["encounters"], clean_2023["encounters"]
    extra = len(enc) - len(clean)
    assert extra / len(clean) == pytest.approx(P.MESS["duplicate"], rel=0.15)
    assert enc.duplicated().sum() == extra
    dedup = enc.drop_duplicates().reset_index(drop=True)
    assert dedup["cost_yuan"].isna().mean() == pytest.approx(P.MESS["missing"], rel=0.15)
    moved = (dedup["admit_date"] != clean["admit_date"]).mean()
    assert moved == pytest.approx(P.MESS["miscoded_date"], rel=0.35)
    same = dedup.drop(columns=["admit_date", "cost_yuan"])
    assert_same(same, clean.drop(columns=["admit_date", "cost_yuan"]))
    obs, clean_obs = messy["observations"], clean_2023["observations"]
    glucose = (obs["loinc"] == "1558-6").to_numpy()
    slipped = (obs["value"] > 30).to_numpy() & glucose
    assert slipped.sum() / glucose.sum() == pytest.approx(P.MESS["unit_slip"], rel=0.35)
    assert np.nanmax(clean_obs.loc[clean_obs["loinc"] == "1558-6", "value"]) <= 25


def test_period_within_the_year(people_2023):
    part = make_clinical(
        people_2023.iloc[:3000], start="2023-03-01", end="2023-04-01", mess=False, seed=1
    )
    enc = part["encounters"]
    assert enc["admit_date"].min() >= pd.Timestamp("2023-03-01")
    assert part["person_years"]["person_years"].max() == pytest.approx(31 / 365.25, abs=1e-6)


@pytest.mark.parametrize(
    "kwargs",
    [
        {"start": "2022-12-01"},
        {"start": "2023-05-01", "end": "2023-04-01"},
        {"start": "not a date"},
        {"mess": {"typos": 0.1}},
        {"mess": {"missing": 2}},
        {"seed": -1},
    ],
)
def test_bad_input_raises_clear_error(kwargs, people_2023):
    with pytest.raises(InvalidParameterError, match="must"):
        make_clinical(people_2023.iloc[:100], **kwargs)


def test_population_without_the_columns_is_refused():
    with pytest.raises(InvalidParameterError, match="lacks the columns"):
        make_clinical(pd.DataFrame({"person_id": [1]}))


def test_facilities_hook_fills_facility_id():
    from healthlab.synth.facilities import make_facilities

    people = make_population(1500, seed=8)
    records = make_clinical(people, facilities=make_facilities(seed=0), seed=8)
    enc = records["encounters"]
    assert enc["facility_id"].notna().all()
    assert make_clinical(people, seed=8)["encounters"]["facility_id"].isna().all()


def test_partitioned_size_through_the_catalogue_and_duckdb(tmp_path, monkeypatch):
    """The `large` route (Parquet partitions read through DuckDB), at a small size."""
    import yaml

    from healthlab import datasets

    root = datasets._card_dirs()[0]
    n = BLOCK_SIZE + 300
    for name, size in (("population", {"n_people": n, "partitioned": True}),
                       ("clinical", {"partitioned": True})):  # fmt: skip
        card = yaml.safe_load((root / f"{name}.yaml").read_text(encoding="utf-8"))
        card["name"] = f"{name}_parts"
        card["sizes"] = {"tiny": size}
        card["inputs"] = ["population_parts"] if name == "clinical" else []
        (tmp_path / f"{name}_parts.yaml").write_text(yaml.safe_dump(card), encoding="utf-8")
    monkeypatch.setenv("HEALTHLAB_CARDS", str(tmp_path))
    built = datasets.load("clinical_parts", size="tiny", seed=5)
    assert set(built.partitions) >= {"encounters", "diagnoses", "outcomes"}
    count = built.relation("encounters").aggregate("count(*)").fetchall()[0][0]
    people = make_population(n, seed=5)
    expected = make_clinical(people, seed=5)
    assert count == len(expected["encounters"])
    cost = built.relation("encounters").aggregate("sum(cost_yuan)").fetchall()[0][0]
    assert cost == pytest.approx(expected["encounters"]["cost_yuan"].sum())


def test_people_in_any_order_give_the_same_records_and_split_blocks_are_refused(
    small_split, tmp_path
):
    people, whole = small_split
    shuffled = make_clinical(people.sample(frac=1, random_state=1), seed=4)
    for name, table in whole.items():
        assert_same(table, shuffled[name])
    files = [tmp_path / "a.parquet", tmp_path / "b.parquet"]
    people.iloc[:100].to_parquet(files[0])
    people.iloc[100:].to_parquet(files[1])
    split = Dataset("population", "custom", 3, {}, {}, partitions={"population": files})
    with pytest.raises(InvalidParameterError, match="split across partitions"):
        make_clinical(split, seed=4)
    empty = Dataset("population", "custom", 3, {}, {}, partitions={"population": []})
    with pytest.raises(InvalidParameterError, match="has no partitions"):
        make_clinical(empty)


def test_empty_population_gives_empty_tables_with_their_columns(small_split):
    people, whole = small_split
    empty = make_clinical(people.iloc[:0], seed=4)
    for name, table in whole.items():
        assert list(empty[name].columns) == list(table.columns)


def test_catalogue_clinical_routes_every_encounter_to_a_facility():
    from healthlab import datasets

    ds = datasets.load("clinical", size="tiny")
    facilities = datasets.load("facilities", size="tiny").frame
    encounters = ds["encounters"]
    assert encounters["facility_id"].notna().all()
    assert encounters["facility_id"].isin(facilities["facility_id"]).all()
