"""Exchange: one patient's records as a FHIR R4B Bundle, and back.

:func:`to_fhir_bundle` turns a person's rows of the OMOP tables (as :func:`harmonise` writes
them) into a ``collection`` Bundle of a ``Patient``, their ``Encounter``\\ s, ``Condition``\\ s
(ICD-10) and ``Observation``\\ s (LOINC, values in UCUM units), validated by the
``fhir.resources`` R4B models. Resources refer to each other by ``urn:uuid:`` full URLs made
from the person and record ids (UUID version 5), so the same records always give the same
Bundle. :func:`read_fhir_bundle` validates a Bundle (an object, a dict, JSON text or a file)
and returns the OMOP rows again.
"""

from __future__ import annotations

import json
import os
import uuid
from pathlib import Path

import pandas as pd

from healthlab.errors import InvalidParameterError
from healthlab.sharing.omop import EHR, load_vocabulary

__all__ = ["read_fhir_bundle", "to_fhir_bundle"]

_NS = uuid.uuid5(uuid.NAMESPACE_URL, "https://healthlab.invalid/fhir")
_ICD10 = "http://hl7.org/fhir/sid/icd-10"
_LOINC = "http://loinc.org"
_UCUM = "http://unitsofmeasure.org"
_ACT = "http://terminology.hl7.org/CodeSystem/v3-ActCode"
_IDENT = "https://healthlab.invalid/fhir/person-source"
_CLASS = {9201: "IMP", 9202: "AMB", 9203: "EMER"}
_GENDER = {8507: "male", 8532: "female"}


def _urn(kind: str, ids: pd.Series) -> pd.Series:
    return ids.map(lambda i: f"urn:uuid:{uuid.uuid5(_NS, f'{kind}/{i}')}")


def _date(values: pd.Series) -> pd.Series:
    return pd.to_datetime(values).dt.strftime("%Y-%m-%d")


def _rows(tables: dict, name: str, person_id) -> pd.DataFrame:
    frame = tables.get(name)
    if frame is None:
        return pd.DataFrame(columns=["person_id"])
    if not isinstance(frame, pd.DataFrame):
        frame = frame.df()  # a DuckDB relation
    return frame[frame["person_id"] == person_id]


def to_fhir_bundle(tables, person_id: int):
    """Export one person's records as a validated FHIR R4B ``collection`` Bundle.

    Parameters
    ----------
    tables : dict or duckdb.DuckDBPyConnection
        OMOP tables ``person``, ``visit_occurrence``, ``condition_occurrence`` and
        ``measurement`` (DataFrames), or a DuckDB connection holding them.
    person_id : int
        The person to export.

    Returns
    -------
    fhir.resources.R4B.bundle.Bundle
        ``Patient``, ``Encounter``, ``Condition`` and ``Observation`` entries. Codes come from
        the vocabulary (ICD-10, LOINC, UCUM); a record without a standard concept keeps its
        source value as the code's text.

    Examples
    --------
    >>> import pandas as pd
    >>> person = pd.DataFrame({"person_id": [1], "gender_concept_id": [8532],
    ...     "birth_datetime": pd.to_datetime(["1950-02-03"]), "person_source_value": ["a:1"]})
    >>> b = to_fhir_bundle({"person": person}, 1)
    >>> b.entry[0].resource.gender, str(b.entry[0].resource.birthDate)
    ('female', '1950-02-03')
    """
    from fhir.resources.R4B.bundle import Bundle

    if not isinstance(tables, dict):
        names = ("person", "visit_occurrence", "condition_occurrence", "measurement")
        con = tables
        tables = {t: con.execute(f"SELECT * FROM {t} WHERE person_id = ?", [person_id]).df()
                  for t in names}  # fmt: skip
    person = _rows(tables, "person", person_id)
    if len(person) != 1:
        raise InvalidParameterError(
            f"person_id {person_id!r} must name exactly one row of the person table; "
            f"it names {len(person)}"
        )
    concept = load_vocabulary()["concept"].set_index("concept_id")
    p = person.iloc[0]
    patient_url = _urn("Patient", pd.Series([person_id])).iloc[0]
    patient = {"resourceType": "Patient", "id": f"person-{person_id}",
               "gender": _GENDER.get(int(p["gender_concept_id"]), "unknown"),
               "birthDate": pd.Timestamp(p["birth_datetime"]).strftime("%Y-%m-%d"),
               "identifier": [{"system": _IDENT,
                               "value": str(p["person_source_value"])}]}  # fmt: skip
    entries = [{"fullUrl": patient_url, "resource": patient}]
    subject = {"reference": patient_url}

    visits = _rows(tables, "visit_occurrence", person_id)
    v_url = _urn("Encounter", visits["visit_occurrence_id"]) if len(visits) else pd.Series()
    visit_ref = dict(zip(visits.get("visit_occurrence_id", []), v_url, strict=True))
    if len(visits):
        enc = pd.DataFrame({
            "resourceType": "Encounter", "id": "visit-" + visits["visit_occurrence_id"].astype(str),
            "status": "finished", "start": _date(visits["visit_start_date"]),
            "end": _date(visits["visit_end_date"].fillna(visits["visit_start_date"])),
            "code": visits["visit_concept_id"].map(_CLASS).fillna("AMB"),
            "source": visits["visit_source_value"].astype(str),
        })  # fmt: skip
        entries += [
            {"fullUrl": url, "resource": {
                "resourceType": "Encounter", "id": r["id"], "status": "finished",
                "class": {"system": _ACT, "code": r["code"]}, "subject": subject,
                "period": {"start": r["start"], "end": r["end"]},
                "identifier": [{"system": _IDENT, "value": r["source"]}]}}
            for url, r in zip(v_url, enc.to_dict("records"), strict=True)
        ]  # fmt: skip

    cond = _rows(tables, "condition_occurrence", person_id)
    if len(cond):
        code = cond["condition_concept_id"].map(concept["concept_code"])
        c = pd.DataFrame({
            "id": "condition-" + cond["condition_occurrence_id"].astype(str),
            "code": code, "display": cond["condition_concept_id"].map(concept["concept_name"]),
            "text": cond["condition_source_value"].astype(str),
            "date": _date(cond["condition_start_date"]),
            "visit": cond["visit_occurrence_id"].map(visit_ref),
        })  # fmt: skip
        entries += [
            {"fullUrl": url, "resource": {
                "resourceType": "Condition", "id": r["id"], "subject": subject,
                "code": _codeable(_ICD10, r["code"], r["display"], r["text"]),
                "recordedDate": r["date"], "onsetDateTime": r["date"],
                **({"encounter": {"reference": r["visit"]}} if isinstance(r["visit"], str)
                   else {})}}
            for url, r in zip(_urn("Condition", cond["condition_occurrence_id"]),
                              c.to_dict("records"), strict=True)
        ]  # fmt: skip

    meas = _rows(tables, "measurement", person_id)
    if len(meas):
        m = pd.DataFrame({
            "id": "measurement-" + meas["measurement_id"].astype(str),
            "code": meas["measurement_concept_id"].map(concept["concept_code"]),
            "display": meas["measurement_concept_id"].map(concept["concept_name"]),
            "text": meas["measurement_source_value"].astype(str),
            "value": meas["value_as_number"],
            "unit": meas["unit_concept_id"].map(concept["concept_code"]),
            "unit_text": meas["unit_source_value"],
            "date": _date(meas["measurement_date"]),
            "visit": meas["visit_occurrence_id"].map(visit_ref),
        }).astype(object).where(lambda f: f.notna(), None)  # fmt: skip
        entries += [
            {"fullUrl": url, "resource": {
                "resourceType": "Observation", "id": r["id"], "status": "final",
                "category": [{"coding": [{"system": "http://terminology.hl7.org/CodeSystem/"
                                          "observation-category", "code": "laboratory"}]}],
                "code": _codeable(_LOINC, r["code"], r["display"], r["text"]),
                "subject": subject, "effectiveDateTime": r["date"],
                **_quantity(r),
                **({"encounter": {"reference": r["visit"]}} if r["visit"] else {})}}
            for url, r in zip(_urn("Observation", meas["measurement_id"]),
                              m.to_dict("records"), strict=True)
        ]  # fmt: skip
    return Bundle.model_validate({"resourceType": "Bundle", "type": "collection",
                                  "entry": entries})  # fmt: skip


def _codeable(system, code, display, text) -> dict:
    out = {"text": text}
    if isinstance(code, str):
        out["coding"] = [{"system": system, "code": code, "display": display}]
    return out


def _quantity(r) -> dict:
    if r["value"] is None:
        return {"dataAbsentReason": {"text": "no valid numeric value"}}
    q = {"value": float(r["value"])}
    if r["unit"]:
        q.update(unit=r["unit"], system=_UCUM, code=r["unit"])
    elif r["unit_text"]:
        q["unit"] = str(r["unit_text"])
    return {"valueQuantity": q}


def read_fhir_bundle(bundle) -> dict[str, pd.DataFrame]:
    """Validate a FHIR R4B Bundle and return its records as OMOP rows.

    Parameters
    ----------
    bundle : Bundle, dict, str or path-like
        A ``fhir.resources`` Bundle, its JSON as a dict or text, or a ``.json`` file.

    Returns
    -------
    dict of str to pandas.DataFrame
        ``person``, ``visit_occurrence``, ``condition_occurrence``, ``measurement``, with
        concept ids looked up in the vocabulary (0 where a code is not in it). Ids are read
        back from the resource ids :func:`to_fhir_bundle` writes.

    Raises
    ------
    InvalidParameterError
        When the Bundle does not validate against the FHIR R4B models.

    Examples
    --------
    >>> import pandas as pd
    >>> person = pd.DataFrame({"person_id": [7], "gender_concept_id": [8507],
    ...     "birth_datetime": pd.to_datetime(["1960-05-01"]), "person_source_value": ["b:9"]})
    >>> back = read_fhir_bundle(to_fhir_bundle({"person": person}, 7).model_dump_json())
    >>> int(back["person"].loc[0, "gender_concept_id"])
    8507
    """
    from fhir.resources.R4B.bundle import Bundle

    if not isinstance(bundle, Bundle | dict | str | os.PathLike):
        raise InvalidParameterError(
            "bundle must be a Bundle, a dict, JSON text or a path to a .json file, "
            f"got {type(bundle).__name__}"
        )
    try:
        if isinstance(bundle, Bundle):
            data = json.loads(bundle.model_dump_json())
        elif isinstance(bundle, dict):
            data = bundle
        elif isinstance(bundle, os.PathLike) or not bundle.lstrip().startswith("{"):
            data = json.loads(Path(bundle).read_text(encoding="utf-8"))
        else:
            data = json.loads(bundle)
        Bundle.model_validate(data)
    except ValueError as err:  # pydantic's ValidationError is a ValueError
        raise InvalidParameterError(f"bundle is not a valid FHIR R4B Bundle: {err}") from err
    concept = load_vocabulary()["concept"]
    code_id = dict(zip(zip(concept["vocabulary_id"], concept["concept_code"]),
                       concept["concept_id"], strict=True))  # fmt: skip
    res = pd.DataFrame([e["resource"] | {"_url": e.get("fullUrl")}
                        for e in data.get("entry", [])])  # fmt: skip
    if res.empty:
        return {t: pd.DataFrame() for t in ("person", "visit_occurrence",
                                             "condition_occurrence", "measurement")}  # fmt: skip
    kind = res["resourceType"]

    def ids(frame, prefix):
        return frame["id"].str.removeprefix(prefix).astype("int64").to_numpy()

    pat = res[kind == "Patient"]
    person_of = dict(zip(pat["_url"], ids(pat, "person-"), strict=True))
    birth = pd.to_datetime(pat["birthDate"])
    out = {"person": pd.DataFrame({
        "person_id": ids(pat, "person-"),
        "gender_concept_id": pat["gender"].map({v: k for k, v in _GENDER.items()}).fillna(0)
        .astype("int64").to_numpy(),
        "year_of_birth": birth.dt.year.to_numpy(), "month_of_birth": birth.dt.month.to_numpy(),
        "day_of_birth": birth.dt.day.to_numpy(), "birth_datetime": birth.to_numpy(),
        "person_source_value": pat["identifier"].map(lambda i: i[0]["value"]).to_numpy(),
    })}  # fmt: skip
    subject = (
        res.get("subject", pd.Series(index=res.index))
        .map(lambda s: person_of.get(s["reference"]) if isinstance(s, dict) else None)
        .astype("Int64")
    )
    enc = res[kind == "Encounter"]
    visit_of = dict(zip(enc["_url"], ids(enc, "visit-"), strict=True)) if len(enc) else {}
    encounter = (
        res.get("encounter", pd.Series(index=res.index, dtype=object))
        .map(lambda e: visit_of.get(e["reference"]) if isinstance(e, dict) else None)
        .astype("Int64")
    )
    back_class = {v: k for k, v in _CLASS.items()}
    out["visit_occurrence"] = pd.DataFrame({
        "visit_occurrence_id": ids(enc, "visit-"), "person_id": subject[enc.index].to_numpy(),
        "visit_concept_id": enc.get("class", pd.Series(dtype=object))
        .map(lambda c: back_class.get(c["code"], 0)).to_numpy(),
        "visit_start_date": pd.to_datetime(enc["period"].map(lambda p: p["start"])).to_numpy()
        if len(enc) else [],
        "visit_end_date": pd.to_datetime(enc["period"].map(lambda p: p["end"])).to_numpy()
        if len(enc) else [],
        "visit_type_concept_id": EHR,
        "visit_source_value": enc["identifier"].map(lambda i: i[0]["value"]).to_numpy()
        if len(enc) else [],
    })  # fmt: skip

    def coded(frame, vocab):
        code = frame["code"].map(lambda c: c.get("coding", [{}])[0].get("code"))
        return [code_id.get((vocab, c), 0) for c in code], frame["code"].map(lambda c: c["text"])

    cond = res[kind == "Condition"]
    cid, ctext = coded(cond, "ICD10") if len(cond) else ([], [])
    out["condition_occurrence"] = pd.DataFrame({
        "condition_occurrence_id": ids(cond, "condition-"),
        "person_id": subject[cond.index].to_numpy(), "condition_concept_id": cid,
        "condition_start_date": pd.to_datetime(cond["recordedDate"]).to_numpy()
        if len(cond) else [],
        "condition_type_concept_id": EHR,
        "visit_occurrence_id": encounter[cond.index].to_numpy(),
        "condition_source_value": list(ctext),
    })  # fmt: skip
    obs = res[kind == "Observation"]
    mid, mtext = coded(obs, "LOINC") if len(obs) else ([], [])
    vq = obs.get("valueQuantity", pd.Series(index=obs.index, dtype=object))
    vq = vq.map(lambda q: q if isinstance(q, dict) else {})
    out["measurement"] = pd.DataFrame({
        "measurement_id": ids(obs, "measurement-"), "person_id": subject[obs.index].to_numpy(),
        "measurement_concept_id": mid,
        "measurement_date": pd.to_datetime(obs["effectiveDateTime"]).to_numpy()
        if len(obs) else [],
        "measurement_type_concept_id": EHR,
        "value_as_number": vq.map(lambda q: q.get("value")).astype(float).to_numpy(),
        "unit_concept_id": [code_id.get(("UCUM", q.get("code")), 0) for q in vq],
        "visit_occurrence_id": encounter[obs.index].to_numpy(),
        "measurement_source_value": list(mtext),
    })  # fmt: skip
    return out
