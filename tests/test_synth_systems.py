"""Hospital systems: real SQLite files, the truth apart and complete, noise at its rates."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from healthlab.errors import InvalidParameterError
from healthlab.synth import make_clinical, make_population
from healthlab.synth.identities import make_identities
from healthlab.synth.systems import (
    NOISE,
    PROFILES,
    HospitalSystems,
    connect_duckdb,
    make_hospital_systems,
    opened_systems,
    system_paths,
    write_hospital_systems,
)


def written(pop, clinical, folder, **options):
    """make_hospital_systems, written to ``folder``: the result with its databases' paths."""
    hs = make_hospital_systems(pop, clinical, **options)
    where = write_hospital_systems(hs, folder)
    assert where == folder
    hs.paths, hs.folder = system_paths(where), where
    return hs


def small_clinical(n: int, seed: int = 1):
    """A small population and clinical frames in the shape make_clinical gives."""
    rng = np.random.default_rng(seed)
    pop = pd.DataFrame(
        {"person_id": np.arange(1, n + 1), "sex": rng.choice(["F", "M"], n),
         "birth_date": pd.Timestamp("1930-01-01")
         + pd.to_timedelta(rng.integers(0, 30_000, n), "D"),
         "province": rng.choice(["Jiangxi", "Beijing", "Sichuan"], n),
         "district": pd.Series(rng.integers(1, 20, n)).astype(str).radd("第") + "区"}
    )  # fmt: skip
    m = 3 * n
    enc = pd.DataFrame(
        {"encounter_id": np.arange(m) + 1000, "person_id": rng.integers(1, n + 1, m),
         "start_date": pd.Timestamp("2020-01-01") + pd.to_timedelta(rng.integers(0, 365, m), "D"),
         "encounter_type": rng.choice(["outpatient", "inpatient", "emergency"], m,
                                      p=[0.8, 0.15, 0.05])}
    )  # fmt: skip
    dx = pd.DataFrame(
        {"encounter_id": rng.choice(enc["encounter_id"], m),
         "icd10": rng.choice(["I10", "E11.9", "J44.1", "C34.9", "Q99.9", "J06.9"], m)}
    )  # fmt: skip
    k = 2 * m
    loinc = rng.choice(["2345-7", "4548-4", "8480-6", "2160-0"], k)
    unit = pd.Series(loinc).map({"2345-7": "mmol/L", "4548-4": "%", "8480-6": "mm[Hg]",
                                 "2160-0": "umol/L"})  # fmt: skip
    obs = pd.DataFrame(
        {"encounter_id": rng.choice(enc["encounter_id"], k), "loinc": loinc,
         "value": np.round(rng.normal(6, 1, k), 2), "unit": unit}
    )  # fmt: skip
    return pop, {"encounters": enc, "diagnoses": dx, "observations": obs}


@pytest.fixture(scope="module")
def data():
    return small_clinical(3000)


@pytest.fixture(scope="module")
def systems(data, tmp_path_factory):
    pop, clinical = data
    return written(pop, clinical, tmp_path_factory.mktemp("systems"), seed=0)


def read_all(path) -> dict[str, pd.DataFrame]:
    with sqlite3.connect(path) as con:
        names = [r[0] for r in con.execute("select name from sqlite_master where type='table'")]
        return {t: pd.read_sql_query(f'select * from "{t}"', con) for t in names}


def test_every_system_is_a_sqlite_database_with_its_own_schema(systems):
    assert list(systems.paths) == ["renmin", "zhongxin", "xianyi"]
    seen = set()
    for name, path in systems.paths.items():
        with sqlite3.connect(path) as con:
            assert con.execute("pragma integrity_check").fetchone()[0] == "ok"
        tables = read_all(path)
        profile = next(p for p in PROFILES if p["name"] == name)
        assert set(tables) == {t for t, _ in profile["tables"].values()}
        for table, cols in profile["tables"].values():
            assert list(tables[table].columns) == [c for c in cols if c is not None]
            assert len(tables[table]) > 0
        seen.add(tuple(sorted(tables)))
    assert len(seen) == 3  # no two systems share table names


def test_every_system_opens_in_duckdb(systems):
    con, route = connect_duckdb(systems.paths)
    assert route in ("attach", "copy")
    for name, path in systems.paths.items():
        for table, frame in read_all(path).items():
            n = con.execute(f'select count(*) from "{name}"."{table}"').fetchone()[0]
            assert n == len(frame)
    first = con.execute('select "患者ID", "姓名" from renmin."患者信息" limit 1').fetchall()
    assert first[0][0].startswith("RM")


def test_truth_covers_every_record_and_stays_outside(systems, data):
    pop, clinical = data
    truth = systems.truth
    assert list(truth.columns) == ["system", "local_id", "person_id"]
    records = []
    for name, path in systems.paths.items():
        profile = next(p for p in PROFILES if p["name"] == name)
        table, cols = profile["tables"]["patients"]
        ids = read_all(path)[table][cols[0]]
        records.append(pd.DataFrame({"system": name, "local_id": ids}))
        # No table of the database holds person ids or the truth.
        with sqlite3.connect(path) as con:
            sql = " ".join(
                r[0] for r in con.execute("select sql from sqlite_master where sql is not null")
            )
        assert "person_id" not in sql and "truth" not in sql
    records = pd.concat(records)
    assert len(records) == len(truth)
    merged = records.merge(truth, on=["system", "local_id"], how="left", validate="1:1")
    assert merged["person_id"].notna().all()
    # Every person with an encounter is in the truth, once per system that saw them.
    assert set(truth["person_id"]) == set(clinical["encounters"]["person_id"])
    assert not truth.duplicated(["system", "person_id"]).any()
    assert truth.groupby("person_id")["system"].nunique().max() > 1  # some seen twice
    assert (systems.folder / "truth" / "patients.csv").is_file()
    enc = systems.encounter_truth
    assert len(enc) == len(clinical["encounters"])


def _clean_vs_stored(systems, data, seed):
    """Each record's stored identifiers beside the true ones, in a common form."""
    pop, _ = data
    ident = make_identities(pop, seed=seed).merge(pop, on="person_id")
    rows = []
    for name, path in systems.paths.items():
        profile = next(p for p in PROFILES if p["name"] == name)
        table, cols = profile["tables"]["patients"]
        t = read_all(path)[table]
        t.columns = ["local_id", "name", "sex", "birth_date", "resident_id", "phone", "address"]
        fmt = {"renmin": "%Y-%m-%d", "zhongxin": "%m/%d/%Y", "xianyi": "%Y%m%d"}[name]
        t["birth_date"] = pd.to_datetime(t["birth_date"], format=fmt)
        t["system"] = name
        rows.append(t)
    stored = pd.concat(rows).merge(systems.truth, on=["system", "local_id"])
    both = stored.merge(ident, on="person_id", suffixes=("", "_true"))
    pinyin = both["system"] == "zhongxin"
    py = both["name_pinyin"].str.split(" ")
    both["name_clean"] = np.where(
        pinyin, py.str[0].str.upper() + " " + py.str[1], both["name_true"]
    )
    both["address_clean"] = np.where(pinyin, both["address_pinyin"], both["address_true"])
    return both


def test_identifier_noise_rates_are_the_parameters(data, tmp_path):
    pop, clinical = data
    rates = dict.fromkeys(NOISE, 0.2)
    hs = written(pop, clinical, tmp_path, noise=rates, seed=2)
    both = _clean_vs_stored(hs, data, seed=2)
    n = len(both)
    missing_id = both["resident_id"].isna()
    observed = {
        "name_typo": (both["name"] != both["name_clean"]).mean(),
        "birth_date_transposed": (both["birth_date"] != both["birth_date_true"]).mean(),
        "resident_id_missing": missing_id.mean(),
        "resident_id_typo": (both["resident_id"] != both["resident_id_true"])[~missing_id].mean(),
        "phone_missing": both["phone"].isna().mean(),
        "address_changed": (both["address"] != both["address_clean"]).mean(),
    }
    for key, value in observed.items():
        # Typos are drawn for every record and kept where the id is present, so their rate
        # among present ids is the parameter too.
        assert abs(value - 0.2) < 4 * np.sqrt(0.16 / n) + 0.005, (key, value)
    changed = (both["phone"] != both["phone_true"])[both["phone"].notna()].mean()
    assert abs(changed - 0.2) < 4 * np.sqrt(0.16 / n) + 0.005
    # The noise log records the same errors the databases show.
    log = both[["system", "local_id"]].merge(hs.noise, on=["system", "local_id"])
    assert (log["resident_id_missing"].to_numpy() == missing_id.to_numpy()).all()


def test_no_noise_keeps_identifiers_exact(data, tmp_path):
    pop, clinical = data
    hs = written(pop, clinical, tmp_path, noise=0, seed=2)
    both = _clean_vs_stored(hs, data, seed=2)
    for col in ("name", "birth_date", "resident_id", "phone", "address"):
        clean = both[f"{col}_clean"] if col in ("name", "address") else both[f"{col}_true"]
        assert (both[col] == clean).all(), col


def test_codes_say_what_every_local_value_means(systems, data):
    _, clinical = data
    codes = systems.codes
    dx = clinical["diagnoses"].merge(
        systems.encounter_truth, on="encounter_id"
    )  # the local encounter of each diagnosis
    for name, path in systems.paths.items():
        profile = next(p for p in PROFILES if p["name"] == name)
        table, cols = profile["tables"]["diagnoses"]
        stored = read_all(path)[table]
        col = cols[1] or cols[2]
        meaning = codes[(codes["system"] == name) & (codes["column"] == col)]
        assert set(stored[col]) <= set(meaning["local_value"])
        # Mapping the stored values back gives the true ICD-10 category of each diagnosis.
        back = stored.rename(columns={cols[0]: "local_encounter_id", col: "local_value"})
        back = back.reset_index(names="row").merge(
            meaning[["local_value", "standard_value"]], on="local_value"
        )
        ok = back.merge(dx[dx["system"] == name], on="local_encounter_id")
        same = pd.Series((ok["standard_value"].str[:3] == ok["icd10"].str[:3]).to_numpy())
        hit = same.groupby(ok["row"].to_numpy()).any()
        assert len(hit) == len(stored) and hit.all()
    national = codes[(codes["system"] == "renmin") & (codes["standard_system"] == "ICD-10")]
    assert "I10.x00" in set(national["local_value"])


def test_glucose_in_mg_per_dl_where_the_schema_says(systems, data):
    _, clinical = data
    obs = clinical["observations"].merge(systems.encounter_truth, on="encounter_id")
    lab = read_all(systems.paths["zhongxin"])["lab_results"].reset_index(names="row")
    glu = lab[lab["test_code"] == "GLU"].merge(
        obs[(obs["system"] == "zhongxin") & (obs["loinc"] == "2345-7")],
        left_on="visit_no", right_on="local_encounter_id",
    )  # fmt: skip
    assert (glu["result_unit"] == "mg/dL").all()
    # Each stored value is one of its visit's glucose values times 18.016.
    hit = pd.Series(np.isclose(glu["result_value"], np.round(glu["value"] * 18.016, 2)))
    assert hit.groupby(glu["row"].to_numpy()).any().all()
    units = systems.codes[(systems.codes["system"] == "zhongxin")
                          & (systems.codes["local_value"] == "mg/dL")
                          & (systems.codes["context"] == "2345-7")]  # fmt: skip
    assert np.isclose(units["factor"].iloc[0], 1 / 18.016)


def test_same_seed_same_databases_and_tables_for_the_catalogue(data, systems, tmp_path):
    pop, clinical = data
    again = written(pop, clinical, tmp_path, seed=0)
    for name in systems.paths:
        a, b = read_all(systems.paths[name]), read_all(again.paths[name])
        for t in a:
            pd.testing.assert_frame_equal(a[t], b[t])
    tables = make_hospital_systems(pop, clinical, seed=0)
    assert isinstance(tables, HospitalSystems)
    stored = read_all(systems.paths["renmin"])["患者信息"]
    got = tables["renmin_patients"].sort_values("患者ID").reset_index(drop=True)
    assert got["姓名"].tolist() == stored.sort_values("患者ID")["姓名"].tolist()
    pd.testing.assert_frame_equal(tables["truth"], systems.truth)


def test_bad_parameters_are_refused(data):
    pop, clinical = data
    with pytest.raises(InvalidParameterError, match="n_systems"):
        make_hospital_systems(pop, clinical, n_systems=9)
    with pytest.raises(InvalidParameterError, match="noise"):
        make_hospital_systems(pop, clinical, noise={"typo": 0.1})
    with pytest.raises(InvalidParameterError, match="date"):
        enc = clinical["encounters"].drop(columns="start_date")
        make_hospital_systems(pop, {**clinical, "encounters": enc})
    with pytest.raises(InvalidParameterError, match="population"):
        make_hospital_systems(None, clinical)


def test_one_to_four_systems(tmp_path):
    pop, clinical = small_clinical(300, seed=3)
    four = written(pop, clinical, tmp_path / "4", n_systems=4, seed=1)
    assert list(four.paths) == ["renmin", "zhongxin", "xianyi", "shequ"]
    shequ = read_all(four.paths["shequ"])["hzxx"]
    assert shequ["hzid"].str.fullmatch(r"SQ-\d{6}").all()
    one = written(pop, clinical, tmp_path / "1", n_systems=1, seed=1)
    assert len(one.truth) == clinical["encounters"]["person_id"].nunique()
    assert len(one.encounter_truth) == len(clinical["encounters"])


def test_cached_tables_write_the_same_databases(data, systems, tmp_path):
    pop, clinical = data
    tables = dict(make_hospital_systems(pop, clinical, seed=0))  # as the catalogue caches them
    again = system_paths(write_hospital_systems(tables, tmp_path))
    for name in systems.paths:
        a, b = read_all(systems.paths[name]), read_all(again[name])
        for t in a:
            pd.testing.assert_frame_equal(
                a[t].sort_values(a[t].columns[0]).reset_index(drop=True),
                b[t].sort_values(b[t].columns[0]).reset_index(drop=True),
            )
    with pytest.raises(InvalidParameterError, match="hospital_systems"):
        write_hospital_systems({"truth": tables["truth"]}, tmp_path / "bad")


def test_mistyped_ids_still_never_issued(data, tmp_path):
    pop, clinical = data
    hs = written(pop, clinical, tmp_path, noise={"resident_id_typo": 0.5}, seed=4)
    ids = pd.concat(
        read_all(path)[next(p for p in PROFILES if p["name"] == name)["tables"]["patients"][0]]
        .iloc[:, 4]
        .dropna()
        for name, path in hs.paths.items()
    )
    assert (ids.str[2:4] == "00").all() and (ids.str[4:6] != "00").all()


def test_systems_from_the_clinical_generator(tmp_path):
    pop = make_population(1500, seed=2)
    records = make_clinical(pop, seed=2)
    hs = written(pop, records, tmp_path, seed=2)
    seen = records["encounters"]["person_id"].unique()
    assert set(hs.truth["person_id"]) == set(seen)
    assert len(hs.encounter_truth) == len(records["encounters"])
    # Every diagnosis and lab item written has its meaning in the codes table.
    codes = hs.codes
    for name, path in hs.paths.items():
        profile = next(p for p in PROFILES if p["name"] == name)
        for logical, pick in (("diagnoses", lambda c: c[1] or c[2]), ("labs", lambda c: c[1])):
            table, cols = profile["tables"][logical]
            column = pick(cols)
            stored = read_all(path)[table][column].dropna()
            known = codes[(codes["system"] == name) & (codes["column"] == column)]
            assert set(stored) <= set(known["local_value"]), (name, table)


def test_a_missing_database_is_named_with_its_path(systems, tmp_path):
    gone = tmp_path / "renmin.sqlite"
    with pytest.raises(InvalidParameterError, match="renmin.sqlite"):
        with opened_systems({"renmin": gone}):
            pass
    with pytest.raises(InvalidParameterError, match="no hospital system databases"):
        system_paths(tmp_path)


def test_in_memory_systems_open_in_a_folder_that_is_removed_after(data):
    pop, clinical = data
    hs = make_hospital_systems(pop, clinical, n_systems=2, seed=0)
    with opened_systems(hs) as paths:
        assert list(paths) == ["renmin", "zhongxin"]
        folder = paths["renmin"].parent
        assert folder.is_dir()
    assert not folder.exists()
    assert "HospitalSystems" in hs._repr_html_() and "renmin" in hs._repr_html_()


def test_the_catalogue_dataset_opens_as_databases_without_a_folder_left_behind(tmp_path):
    import tempfile

    from healthlab import datasets
    from healthlab.sharing import link_systems

    before = set(Path(tempfile.gettempdir()).glob("healthlab-systems-*"))
    ds = datasets.load("hospital_systems", size="tiny")
    links = link_systems(ds, method="deterministic")
    assert len(links) == len(ds["truth"])
    assert set(Path(tempfile.gettempdir()).glob("healthlab-systems-*")) == before
