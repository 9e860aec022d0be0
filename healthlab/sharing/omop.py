"""The OMOP CDM v5.4 subset healthlab harmonises into, and its small synthetic vocabulary.

Six clinical tables of the OMOP Common Data Model v5.4 (``person``, ``observation_period``,
``visit_occurrence``, ``condition_occurrence``, ``drug_exposure``, ``measurement``) with the
columns a first analysis needs, and a ``concept`` table standing in for the OHDSI
vocabularies. Gender, visit and type concepts carry their OMOP standard ids (8507 male, 8532
female; 9201 inpatient, 9202 outpatient, 9203 emergency room; 32817 EHR). ICD-10 categories,
LOINC lab items and UCUM units get ids above 2,000,000,000, the range OMOP leaves to local
concepts, so they can never be mistaken for an Athena concept. ``concept_id`` 0 means "no
matching concept", as in OMOP: the source value is kept beside it.

The vocabulary ships as three CSV files in ``healthlab/sharing/vocabulary/``: ``concept.csv``,
``measurement.csv`` (the standard unit and plausible range of each LOINC item) and
``conversion.csv`` (unit conversion factors per item).
"""

from __future__ import annotations

from functools import cache
from importlib import resources

import pandas as pd

__all__ = ["OMOP_TABLES", "create_tables", "load_vocabulary"]

#: Each table of the subset: column name to DuckDB type, in CDM order.
OMOP_TABLES = {
    "person": {
        "person_id": "BIGINT", "gender_concept_id": "INTEGER", "year_of_birth": "INTEGER",
        "month_of_birth": "INTEGER", "day_of_birth": "INTEGER", "birth_datetime": "TIMESTAMP",
        "person_source_value": "VARCHAR", "gender_source_value": "VARCHAR",
    },
    "observation_period": {
        "observation_period_id": "BIGINT", "person_id": "BIGINT",
        "observation_period_start_date": "DATE", "observation_period_end_date": "DATE",
        "period_type_concept_id": "INTEGER",
    },
    "visit_occurrence": {
        "visit_occurrence_id": "BIGINT", "person_id": "BIGINT", "visit_concept_id": "INTEGER",
        "visit_start_date": "DATE", "visit_end_date": "DATE", "visit_type_concept_id": "INTEGER",
        "visit_source_value": "VARCHAR",
    },
    "condition_occurrence": {
        "condition_occurrence_id": "BIGINT", "person_id": "BIGINT",
        "condition_concept_id": "INTEGER", "condition_start_date": "DATE",
        "condition_type_concept_id": "INTEGER", "visit_occurrence_id": "BIGINT",
        "condition_source_value": "VARCHAR",
    },
    "drug_exposure": {
        "drug_exposure_id": "BIGINT", "person_id": "BIGINT", "drug_concept_id": "INTEGER",
        "drug_exposure_start_date": "DATE", "drug_exposure_end_date": "DATE",
        "drug_type_concept_id": "INTEGER", "visit_occurrence_id": "BIGINT",
        "drug_source_value": "VARCHAR",
    },
    "measurement": {
        "measurement_id": "BIGINT", "person_id": "BIGINT", "measurement_concept_id": "INTEGER",
        "measurement_date": "DATE", "measurement_type_concept_id": "INTEGER",
        "value_as_number": "DOUBLE", "unit_concept_id": "INTEGER", "visit_occurrence_id": "BIGINT",
        "measurement_source_value": "VARCHAR", "unit_source_value": "VARCHAR",
        "value_source_value": "VARCHAR",
    },
}  # fmt: skip

#: Type concept of records taken from an electronic health record.
EHR = 32817


def _csv(name: str) -> pd.DataFrame:
    path = resources.files("healthlab") / "sharing" / "vocabulary" / f"{name}.csv"
    with path.open("rb") as handle:
        return pd.read_csv(handle, dtype={"concept_code": "string", "loinc": "string"})


@cache
def _vocabulary() -> dict[str, pd.DataFrame]:
    return {name: _csv(name) for name in ("concept", "measurement", "conversion")}


def load_vocabulary() -> dict[str, pd.DataFrame]:
    """The synthetic vocabulary: ``concept``, ``measurement`` and ``conversion`` tables.

    Returns
    -------
    dict of str to pandas.DataFrame
        ``concept`` (``concept_id``, ``concept_name``, ``domain_id``, ``vocabulary_id``,
        ``concept_code``); ``measurement`` (``loinc``, ``standard_unit``, ``plausible_low``,
        ``plausible_high``); ``conversion`` (``loinc``, ``from_unit``, ``to_unit``,
        ``factor``: multiply a value in ``from_unit`` by it to get ``to_unit``).

    Examples
    --------
    >>> v = load_vocabulary()
    >>> int(v["concept"].set_index("concept_code").loc["F", "concept_id"])
    8532
    """
    return {k: v.copy() for k, v in _vocabulary().items()}


def create_tables(con) -> None:
    """Create the empty OMOP tables and the ``concept`` table in a DuckDB connection."""
    for table, columns in OMOP_TABLES.items():
        cols = ", ".join(f"{c} {t}" for c, t in columns.items())
        con.execute(f"CREATE OR REPLACE TABLE {table} ({cols})")
    concept = _vocabulary()["concept"]
    con.register("_hl_concept", concept)
    con.execute("CREATE OR REPLACE TABLE concept AS SELECT * FROM _hl_concept")
    con.unregister("_hl_concept")
