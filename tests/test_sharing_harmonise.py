"""Harmonisation of tiny hospital systems into OMOP tables, checked against the ground truth."""

import copy

import duckdb
import numpy as np
import pandas as pd
import pytest
from conftest import make_city

from healthlab.sharing import link_systems, read_fhir_bundle, to_fhir_bundle
from healthlab.sharing.harmonise import harmonise
from healthlab.sharing.omop import OMOP_TABLES, load_vocabulary
from healthlab.sharing.spec import MappingError, load_mapping
from healthlab.synth.systems._vocab import DIAGNOSES

N = 1200


@pytest.fixture(scope="module")
def systems(tmp_path_factory):
    folder = tmp_path_factory.mktemp("sys")
    return make_city(N, folder, n_systems=4, odd_codes=0.01, wrong_values=0.002, seed=5)


@pytest.fixture(scope="module")
def clinical(systems):
    return systems.clinical


@pytest.fixture(scope="module")
def omop(systems):
    return harmonise(systems.paths)


def _visits(h, systems):
    """Each OMOP visit with the clinical encounter it came from."""
    v = h.table("visit_occurrence")
    v[["system", "local_encounter_id"]] = v["visit_source_value"].str.split(":", n=1, expand=True)
    truth = systems.encounter_truth.astype({"local_encounter_id": str})
    key = ["system", "local_encounter_id"]
    return v.merge(truth, on=key, how="left", validate="one_to_one")


def test_tables_and_counts(omop, systems, clinical):
    con = omop.connection
    for table, cols in OMOP_TABLES.items():
        assert con.table(table).columns == list(cols)
    assert con.sql("select count(*) from person").fetchall()[0][0] == len(systems.truth)
    assert con.sql("select count(*) from drug_exposure").fetchall()[0][0] == 0
    # Every encounter has a parseable date: all are visits, each from one encounter.
    v = _visits(omop, systems)
    assert len(v) == len(clinical["encounters"]) and v["encounter_id"].notna().all()
    assert v["encounter_id"].is_unique


def test_visit_dates_and_kinds(omop, systems, clinical):
    v = _visits(omop, systems).merge(clinical["encounters"], on="encounter_id")
    assert (v["visit_start_date"] == v["admit_date"]).all()
    kind = v["encounter_type"].map({"inpatient": 9201, "outpatient": 9202, "emergency": 9203})
    assert (v["visit_concept_id"] == kind).all()


def test_conditions_against_truth(omop, systems, clinical):
    c = omop.table("condition_occurrence")
    v = _visits(omop, systems)[["visit_occurrence_id", "encounter_id"]]
    dx = clinical["diagnoses"]
    one = dx[~dx.duplicated("encounter_id", keep=False)]  # encounters with one diagnosis
    c = c.merge(v, on="visit_occurrence_id").merge(one, on="encounter_id")
    concept = load_vocabulary()["concept"].set_index("concept_id")["concept_code"]
    mapped = c["condition_concept_id"] != 0
    same = c["condition_concept_id"].map(concept) == c["icd10"].astype(str).str[:3]
    # Free text one system writes for several codes (阿尔茨海默病: F00 or G30) maps to one.
    texts = pd.Series([t for _, _, alias in DIAGNOSES.values() for t in alias.split("|")])
    ambiguous = set(texts[texts.duplicated()])
    assert (same | ~mapped | c["condition_source_value"].isin(ambiguous)).all()
    # Only the code outside the vocabulary stays unmapped, and every such row is reported.
    assert set(c.loc[~mapped, "icd10"].str[:3]) == {"Q21"}
    r = omop.report[omop.report["problem"] == "unmapped code"]
    every = omop.table("condition_occurrence")
    assert r["rows"].sum() == (every["condition_concept_id"] == 0).sum() > 0
    assert set(r["system"]) == set(systems.paths)


def test_measurements_converted(omop, systems, clinical):
    m = omop.table("measurement")
    v = _visits(omop, systems)[["visit_occurrence_id", "encounter_id"]]
    m = m.merge(v, on="visit_occurrence_id")
    concept = load_vocabulary()["concept"].set_index("concept_id")["concept_code"]
    m["loinc"] = m["measurement_concept_id"].map(concept)
    obs = clinical["observations"]
    key = ["encounter_id", "loinc"]
    # Compare where an encounter has one result per item (no ambiguity in the join).
    one = obs[~obs.duplicated(key, keep=False)]
    both = m.merge(one, on=key, suffixes=("", "_true"))
    ok = both["value_as_number"].notna()
    # The central hospital keeps two decimals in mg/dL: 0.005 mg/dL of creatinine is 0.44 umol/L.
    got, want = both.loc[ok, "value_as_number"], both.loc[ok, "value"]
    np.testing.assert_allclose(got, want, rtol=0.01, atol=0.45)
    # mg/dL results of the central hospital came back to mmol/L.
    zx = both[ok & both["unit_source_value"].eq("mg/dL")]
    assert len(zx) > 0
    # Values entered 100 times too large are kept empty and reported, not dropped.
    bad = both["value"] * 1.0 > both["loinc"].map(
        load_vocabulary()["measurement"].set_index("loinc")["plausible_high"]
    )
    assert both.loc[bad, "value_as_number"].isna().all()
    value_cols = [load_mapping(s)["measurement"]["value"]["column"] for s in systems.paths]
    r = omop.report
    reported = r[(r["problem"] == "impossible value") & r["column"].isin(value_cols)]["rows"].sum()
    assert reported == m["value_as_number"].isna().sum() > 0


def test_links_merge_persons(systems):
    links = link_systems(systems.paths, method="deterministic")
    h = harmonise(systems.paths, links=links)
    n = h.connection.sql("select count(*) from person").fetchall()[0][0]
    assert n == links["cluster_id"].nunique()
    src = h.table("source_record")
    assert len(src) == len(systems.truth) and src["person_id"].nunique() == n
    # Records the links leave out stay persons of their own, with ids of their own.
    part = links[links["system"] != "xianyi"]
    h = harmonise(systems.paths, links=part)
    src = h.table("source_record")
    alone = (systems.truth["system"] == "xianyi").sum()
    assert src["person_id"].nunique() == part["cluster_id"].nunique() + alone


def test_database_file_and_fhir(systems, tmp_path, omop):
    path = tmp_path / "omop.duckdb"
    harmonise(systems.paths, database=path)
    con = duckdb.connect(str(path), read_only=True)
    assert con.sql("select count(*) from measurement").fetchall()[0][0] > 0
    pid = con.sql("select person_id from measurement limit 1").fetchall()[0][0]
    bundle = to_fhir_bundle(con, pid)
    back = read_fhir_bundle(bundle.model_dump_json())
    want = con.execute("select * from measurement where person_id = ?", [pid]).df()
    assert sorted(back["measurement"]["measurement_id"]) == sorted(want["measurement_id"])
    con.close()
    assert not list(tmp_path.glob(".*tmp"))


def test_missing_column_names_system_table_column(systems):
    spec = copy.deepcopy(load_mapping("zhongxin"))
    spec["measurement"]["value"] = {"column": "result_val"}
    with pytest.raises(MappingError, match=r"zhongxin.*lab_results.*result_val"):
        harmonise(systems.paths, mappings={"zhongxin": spec})


def test_missing_table(systems):
    spec = copy.deepcopy(load_mapping("renmin"))
    spec["visit"]["table"] = "门诊记录"
    with pytest.raises(MappingError, match=r"renmin.*门诊记录"):
        harmonise(systems.paths, mappings={"renmin": spec})


def test_unit_without_conversion(systems):
    spec = copy.deepcopy(load_mapping("zhongxin"))
    spec["measurement"]["unit"]["convert"] = ["mg/dL", "grains/L"]
    with pytest.raises(MappingError, match=r"zhongxin.*lab_results.*result_unit.*grains/L"):
        harmonise(systems.paths, mappings={"zhongxin": spec})


def test_unconverted_unit_is_reported(systems):
    # Forgetting a conversion the data needs is not an error, but no value is left unchecked.
    spec = copy.deepcopy(load_mapping("zhongxin"))
    spec["measurement"]["unit"]["convert"] = ["g/dL", "mL/min/1.73m2"]
    h = harmonise({"zhongxin": systems.paths["zhongxin"]}, mappings={"zhongxin": spec})
    r = h.report[h.report["problem"] == "unit without conversion"]
    assert len(r) > 0 and r["value"].str.startswith("mg/dL").all()
    m = h.table("measurement")
    assert m.loc[m["unit_source_value"] == "mg/dL", "value_as_number"].isna().all()
    assert r["rows"].sum() == (m["unit_source_value"] == "mg/dL").sum()


def test_unmapped_local_code_reported(systems):
    spec = copy.deepcopy(load_mapping("zhongxin"))
    del spec["condition"]["code"]["map"]["HTN01"]
    h = harmonise({"zhongxin": systems.paths["zhongxin"]}, mappings={"zhongxin": spec})
    r = h.report.set_index(["problem", "value"])["rows"]
    c = h.table("condition_occurrence")
    assert r[("unmapped code", "HTN01")] == (c["condition_source_value"] == "HTN01").sum() > 0
    assert pd.api.types.is_integer_dtype(h.report["rows"])


def test_every_diagnosis_the_systems_write_has_a_mapping():
    # A code added to the hospital systems' lists without a mapping would silently become
    # concept 0 in OMOP: the Central Hospital's local codes and the county's free text.
    local, text = (load_mapping(s)["condition"]["code"]["map"] for s in ("zhongxin", "xianyi"))
    assert {code: icd for icd, (_, code, _) in DIAGNOSES.items() if local.get(code) != icd} == {}
    unmapped = [t for icd, (_, _, alias) in DIAGNOSES.items() for t in alias.split("|")
                if t not in text]  # fmt: skip
    assert unmapped == []
