"""FHIR R4B export of one patient's OMOP rows, validation, and the way back."""

import json

import pandas as pd
import pytest

from healthlab.errors import InvalidParameterError
from healthlab.sharing import read_fhir_bundle, to_fhir_bundle
from healthlab.sharing.omop import load_vocabulary


def _concept(vocab, code):
    c = load_vocabulary()["concept"]
    return int(c[(c["vocabulary_id"] == vocab) & (c["concept_code"] == code)]["concept_id"].iloc[0])


@pytest.fixture(scope="module")
def omop():
    d = pd.to_datetime
    person = pd.DataFrame(
        {
            "person_id": [1, 2],
            "gender_concept_id": [8532, 8507],
            "birth_datetime": d(["1950-02-03", "1960-03-04"]),
            "person_source_value": ["renmin:RM1", "renmin:RM2"],
        }
    )
    visit = pd.DataFrame(
        {
            "visit_occurrence_id": [10, 11, 12],
            "person_id": [1, 1, 2],
            "visit_concept_id": [9202, 9201, 9203],
            "visit_start_date": d(["2020-01-05", "2020-03-01", "2021-01-01"]),
            "visit_end_date": d(["2020-01-05", "2020-03-09", "2021-01-01"]),
            "visit_source_value": ["renmin:JZ1", "renmin:JZ2", "renmin:JZ3"],
        }
    )
    cond = pd.DataFrame(
        {
            "condition_occurrence_id": [100, 101],
            "person_id": [1, 1],
            "condition_concept_id": [_concept("ICD10", "I10"), 0],
            "condition_start_date": d(["2020-01-05", "2020-03-01"]),
            "visit_occurrence_id": [10, 11],
            "condition_source_value": ["I10.x00", "其他疾病Q99"],
        }
    )
    glucose, mmol = _concept("LOINC", "2345-7"), _concept("UCUM", "mmol/L")
    meas = pd.DataFrame(
        {
            "measurement_id": [5, 6],
            "person_id": [1, 1],
            "measurement_concept_id": [glucose, glucose],
            "measurement_date": d(["2020-01-05", "2020-03-01"]),
            "value_as_number": [6.1, None],
            "unit_concept_id": [mmol, mmol],
            "visit_occurrence_id": [10, 11],
            "measurement_source_value": ["血糖", "血糖"],
            "unit_source_value": ["mmol/L", "mmol/L"],
        }
    )
    return {"person": person, "visit_occurrence": visit, "condition_occurrence": cond,
            "measurement": meas}  # fmt: skip


def test_export_validates_and_codes(omop):
    b = to_fhir_bundle(omop, 1)
    kinds = [e.resource.get_resource_type() for e in b.entry]
    assert kinds == ["Patient", "Encounter", "Encounter", "Condition", "Condition",
                     "Observation", "Observation"]  # fmt: skip
    data = json.loads(b.model_dump_json())
    cond = [e["resource"] for e in data["entry"] if e["resource"]["resourceType"] == "Condition"]
    assert cond[0]["code"]["coding"][0] == {
        "system": "http://hl7.org/fhir/sid/icd-10",
        "code": "I10",
        "display": "原发性高血压",
    }
    assert "coding" not in cond[1]["code"] and cond[1]["code"]["text"] == "其他疾病Q99"
    obs = [e["resource"] for e in data["entry"] if e["resource"]["resourceType"] == "Observation"]
    assert obs[0]["valueQuantity"] == {
        "value": 6.1,
        "unit": "mmol/L",
        "system": "http://unitsofmeasure.org",
        "code": "mmol/L",
    }
    assert "dataAbsentReason" in obs[1]
    urls = {e["fullUrl"] for e in data["entry"]}
    refs = {r["subject"]["reference"] for r in obs + cond}
    assert refs <= urls
    # The same rows always give the same Bundle.
    assert to_fhir_bundle(omop, 1).model_dump_json() == b.model_dump_json()


def test_round_trip(omop, tmp_path):
    path = tmp_path / "bundle.json"
    path.write_text(to_fhir_bundle(omop, 1).model_dump_json(), encoding="utf-8")
    back = read_fhir_bundle(path)
    assert back["person"]["gender_concept_id"].tolist() == [8532]
    assert back["person"]["birth_datetime"].iloc[0] == pd.Timestamp("1950-02-03")
    v = back["visit_occurrence"]
    want = omop["visit_occurrence"].query("person_id == 1")
    assert v["visit_occurrence_id"].tolist() == want["visit_occurrence_id"].tolist()
    assert v["visit_concept_id"].tolist() == want["visit_concept_id"].tolist()
    assert v["visit_end_date"].tolist() == want["visit_end_date"].tolist()
    c = back["condition_occurrence"]
    assert c["condition_concept_id"].tolist() == omop["condition_occurrence"][
        "condition_concept_id"].tolist()  # fmt: skip
    assert c["visit_occurrence_id"].tolist() == [10, 11]
    m = back["measurement"]
    assert m["value_as_number"].iloc[0] == 6.1 and pd.isna(m["value_as_number"].iloc[1])
    assert m["unit_concept_id"].iloc[0] == omop["measurement"]["unit_concept_id"].iloc[0]
    assert (m["person_id"] == 1).all()


def test_person_without_records(omop):
    b = to_fhir_bundle(omop, 2)
    assert [e.resource.get_resource_type() for e in b.entry] == ["Patient", "Encounter"]


def test_errors(omop):
    with pytest.raises(InvalidParameterError, match="person_id 99"):
        to_fhir_bundle(omop, 99)
    bad = json.loads(to_fhir_bundle(omop, 1).model_dump_json())
    bad["entry"][0]["resource"]["birthDate"] = "1950-13-45"
    with pytest.raises(InvalidParameterError, match="not a valid FHIR R4B Bundle"):
        read_fhir_bundle(bad)
