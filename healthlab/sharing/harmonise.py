"""Harmonisation: each hospital system's database, through its mapping, into OMOP tables in DuckDB.

:func:`harmonise` reads every system's four tables through its declarative mapping
(:mod:`healthlab.sharing.spec`) and writes one set of OMOP CDM v5.4 tables
(:mod:`healthlab.sharing.omop`) in DuckDB. The work is SQL: local values are joined to the
mapping's code maps, ICD-10 categories read by pattern, dates parsed with each system's format
(``try_strptime``), units converted with the vocabulary's factors, and codes joined to the
vocabulary's concepts.

Nothing is dropped silently. Every problem is counted in ``report`` with the system's own
table and column, so whoever maintains the mapping can find it:

``unmapped code``
    A local value the mapping does not translate, or a standard code not in the vocabulary.
    The row is kept with concept 0 and its source value, as OMOP does.
``unparseable date``
    A date that does not read with the mapping's format. A visit without a date cannot be an
    OMOP visit: it is left out, and so are its diagnoses and results (counted as such).
``missing value``, ``not a number``, ``unit without conversion``, ``impossible value``
    A lab result that is empty, is not numeric, is in a unit the mapping does not convert for its
    item, or lies outside the item's plausible range (after conversion). The row is kept
    with ``value_as_number`` empty and the value as written in ``value_source_value``.
``impossible value`` (birth dates)
    A birth date in the future or before 1900; ``visit before birth`` for a visit dated
    before the patient's birth date (kept).
``unknown patient``, ``unknown visit``
    A row whose patient or visit id is not in the system's own tables (left out).

Person ids: without ``links`` each patient record is its own OMOP person; with ``links``
(the output of :func:`~healthlab.sharing.link.link_systems`) records of one cluster become
one person, so the OMOP tables hold each patient once across hospitals (sex and birth date
of the person come from the record of the first system in alphabetical order). The table
``source_record`` (outside the CDM) keeps ``person_id``, ``system`` and ``local_id``.
The systems hold no medication tables, so ``drug_exposure`` is created empty.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from healthlab._results import TableView
from healthlab.errors import InvalidParameterError
from healthlab.sharing.omop import EHR, OMOP_TABLES, create_tables, load_vocabulary
from healthlab.sharing.spec import check_mapping, field, load_mapping, read_table
from healthlab.synth.systems import opened_systems

__all__ = ["Harmonised", "harmonise"]

_VISIT = {"IP": 9201, "OP": 9202, "ER": 9203}


@dataclass
class Harmonised(TableView):
    """OMOP tables in DuckDB and what harmonisation could not map.

    Attributes
    ----------
    connection : duckdb.DuckDBPyConnection
        Holds ``person``, ``observation_period``, ``visit_occurrence``,
        ``condition_occurrence``, ``drug_exposure``, ``measurement``, ``concept`` and
        ``source_record``.
    report : pandas.DataFrame
        ``system``, ``table``, ``column`` (the system's own names), ``problem``, ``value``
        (the local value, or an example), ``rows``.

    Examples
    --------
    >>> from healthlab.sharing import harmonise
    >>> from healthlab.synth import make_population, make_clinical, make_hospital_systems
    >>> people = make_population(200, seed=0)
    >>> h = harmonise(make_hospital_systems(people, make_clinical(people, seed=0), seed=0))
    >>> counts = h.to_frame()
    >>> counts["table"].tolist()
    ['person', 'visit_occurrence', 'condition_occurrence', 'measurement',
     'not mapped (see .report)']
    >>> bool(counts["rows"].iloc[-1] == h.report["rows"].sum())
    True
    >>> h.table("person").columns[:3].tolist()
    ['person_id', 'gender_concept_id', 'year_of_birth']
    """

    connection: object
    report: pd.DataFrame

    def table(self, name: str) -> pd.DataFrame:
        """One OMOP table as a DataFrame."""
        return self.connection.table(name).df()

    def to_frame(self) -> pd.DataFrame:
        """Rows of each OMOP table, and the source rows the report lists as not mapped."""
        tables = ["person", "visit_occurrence", "condition_occurrence", "measurement"]
        rows = [
            {
                "table": t,
                "rows": self.connection.execute(f"select count(*) from {t}").fetchall()[0][0],
            }
            for t in tables
        ]
        rows.append({"table": "not mapped (see .report)", "rows": int(self.report["rows"].sum())})
        return pd.DataFrame(rows)


def _register(con, name: str, frame: pd.DataFrame) -> None:
    con.register(f"_hl_{name}", frame)
    con.execute(f"CREATE OR REPLACE TEMP TABLE {name} AS SELECT * FROM _hl_{name}")
    con.unregister(f"_hl_{name}")


def _map_frame(mapping: dict | None, system: str) -> pd.DataFrame:
    items = list((mapping or {}).items())
    return pd.DataFrame({"system": system, "local": [str(k) for k, _ in items],
                         "standard": [str(v) for _, v in items]}, dtype="string")  # fmt: skip


_SECTIONS = {"person": ("id", "sex", "birth_date"), "visit": ("id", "person", "date", "kind"),
             "condition": ("visit", "code"),
             "measurement": ("visit", "item", "value", "unit")}  # fmt: skip


def _read_system(con, system: str, path, spec: dict):
    """Append one system's mapped columns (as text) to the ``raw_*`` tables; its code maps."""
    maps, meta = [], {}
    for section, keys in _SECTIONS.items():
        part = spec[section]
        cols = {k: field(part, k)["column"] for k in keys if field(part, k).get("column")}
        frame = read_table(path, part["table"], cols)
        for k in keys:
            if k not in frame:
                frame[k] = pd.Series(pd.NA, index=frame.index, dtype="string")
        frame.insert(0, "system", system)
        con.register("_hl_frame", frame[["system", *keys]])
        con.execute(f"INSERT INTO raw_{section} SELECT * FROM _hl_frame")
        con.unregister("_hl_frame")
        del frame  # one table of one system in memory at a time
        for k in keys:
            f = field(part, k)
            meta[(section, k)] = (part["table"], f.get("column"), f)
            if "map" in f:
                maps.append(_map_frame(f["map"], system).assign(field=f"{section}.{k}"))
    return maps, meta


def harmonise(systems, *, mappings: dict | None = None, links: pd.DataFrame | None = None,
              database=None) -> Harmonised:  # fmt: skip
    """Map every system's database into OMOP CDM tables in DuckDB, reporting what does not map.

    Parameters
    ----------
    systems : HospitalSystems, Dataset, folder or dict
        The hospital systems: :func:`healthlab.synth.make_hospital_systems` (or the catalogue's
        ``hospital_systems`` dataset), a folder :func:`healthlab.synth.write_hospital_systems`
        wrote, or a dict of system name to the path of its SQLite database.
    mappings : dict, optional
        System name to its mapping (shipped name, YAML path or dict); by default the shipped
        mapping named like the system.
    links : pandas.DataFrame, optional
        ``system``, ``local_id``, ``cluster_id`` from :func:`link_systems`: records of one
        cluster become one OMOP person.
    database : path-like, optional
        Also write the tables to this DuckDB file (built under a temporary name, then moved
        into place whole).

    Returns
    -------
    Harmonised
        ``connection`` (in memory) and ``report``.

    Raises
    ------
    healthlab.sharing.spec.MappingError
        When a mapping names a table or column that does not exist, or a unit without a
        conversion; the message names the system, table and column.

    Examples
    --------
    >>> from healthlab.synth import make_population, make_clinical, make_hospital_systems
    >>> people = make_population(200, seed=0)
    >>> h = harmonise(make_hospital_systems(people, make_clinical(people, seed=0), seed=0))
    >>> h.connection.sql("select count(*) from person").fetchall()[0][0] > 100
    True
    >>> list(h.report.columns)
    ['system', 'table', 'column', 'problem', 'value', 'rows']
    """
    with opened_systems(systems) as paths:
        return _harmonise(paths, mappings, links, database)


def _harmonise(paths, mappings, links, database) -> Harmonised:
    import duckdb

    if not isinstance(paths, dict) or not paths:
        raise InvalidParameterError(
            f"paths must be a non-empty dict from system name to database path, got {paths!r}"
        )
    specs = {s: load_mapping((mappings or {}).get(s, s)) for s in paths}
    for system, path in paths.items():  # check every mapping before reading anything
        check_mapping(specs[system], path, system)
    con = duckdb.connect()
    create_tables(con)
    for section, keys in _SECTIONS.items():
        cols = ", ".join(f'"{k}" VARCHAR' for k in ("system", *keys))
        con.execute(f"CREATE TEMP TABLE raw_{section} ({cols})")
    maps, metas = [], {}
    for system, path in paths.items():  # a handful of systems
        m, metas[system] = _read_system(con, system, path, specs[system])
        maps += m
    no_maps = pd.DataFrame(columns=["system", "local", "standard", "field"], dtype="string")
    _register(con, "code_map", pd.concat(maps, ignore_index=True) if maps else no_maps)
    _register(con, "spec", _spec_frame(specs, metas))
    voc = load_vocabulary()
    for name in ("measurement", "conversion"):
        _register(con, f"voc_{name}", voc[name])
    _register(con, "links", _links_frame(links))
    con.execute(_stage_sql(specs))
    con.execute(_SQL_OMOP)
    report = con.execute(_SQL_REPORT).df()
    for temp in ("raw_person", "raw_visit", "raw_condition", "raw_measurement", "st_person",
                 "st_visit", "st_condition", "st_measurement", "st_source", "v", "m"):  # fmt: skip
        con.execute(f"DROP TABLE IF EXISTS {temp}")
    report = report.sort_values(["system", "table", "problem", "rows"],
                                ascending=[True, True, True, False], ignore_index=True)  # fmt: skip
    if database is not None:
        _write(con, Path(database))
    return Harmonised(connection=con, report=report)


def _spec_frame(specs, metas) -> pd.DataFrame:
    rows = []
    for system, meta in metas.items():
        for (section, key), (table, column, f) in meta.items():
            rows.append({"system": system, "field": f"{section}.{key}", "tab": table,
                         "col": column, "fmt": f.get("format"), "pattern": f.get("pattern"),
                         "convert": ",".join(f.get("convert") or [])})  # fmt: skip
    return pd.DataFrame(rows).astype("string")


def _links_frame(links) -> pd.DataFrame:
    if links is None:
        return pd.DataFrame({"system": pd.Series(dtype="string"),
                             "local_id": pd.Series(dtype="string"),
                             "cluster_id": pd.Series(dtype="int64")})  # fmt: skip
    missing = [c for c in ("system", "local_id", "cluster_id") if c not in links]
    if missing:
        raise InvalidParameterError(f"links lacks the columns {missing}; pass link_systems' output")
    return links[["system", "local_id", "cluster_id"]].astype(
        {"system": "string", "local_id": "string", "cluster_id": "int64"}
    )


def _write(con, path: Path) -> None:
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.unlink(missing_ok=True)
    con.execute(f"ATTACH '{tmp}' AS hl_out")
    try:
        for table in [*OMOP_TABLES, "concept", "source_record"]:
            con.execute(f"CREATE TABLE hl_out.{table} AS SELECT * FROM {table}")
    finally:
        con.execute("DETACH hl_out")
    os.replace(tmp, path)


def _lit(value) -> str:
    """A SQL string literal (or NULL)."""
    return "NULL" if value is None else "'" + str(value).replace("'", "''") + "'"


def _join(alias: str, field_name: str, expr: str) -> str:
    return (f"LEFT JOIN code_map {alias} ON {alias}.system = r.system "
            f"AND {alias}.field = '{field_name}' AND {alias}.local = {expr}")  # fmt: skip


def _stage_sql(specs: dict) -> str:
    """Staging tables: each system's values read with its own formats, patterns and maps."""
    parts = {"person": [], "visit": [], "condition": [], "measurement": []}
    for system, spec in specs.items():  # one SELECT per system, with its literal formats
        where = f"WHERE r.system = {_lit(system)}"
        birth_fmt = _lit(field(spec["person"], "birth_date").get("format", "%Y-%m-%d"))
        parts["person"].append(
            f"SELECT r.system, r.id AS local_id, r.sex AS sex_src, ms.standard AS sex, "
            f"r.birth_date AS birth_src, CAST(try_strptime(r.birth_date, {birth_fmt}) AS DATE) "
            f"AS birth FROM raw_person r {_join('ms', 'person.sex', 'r.sex')} {where}"
        )
        date_fmt = _lit(field(spec["visit"], "date").get("format", "%Y-%m-%d"))
        parts["visit"].append(
            f"SELECT r.system, r.id AS visit_src, r.person AS local_id, r.date AS date_src, "
            f"CAST(try_strptime(r.date, {date_fmt}) AS DATE) AS visit_date, r.kind AS kind_src, "
            f"mk.standard AS kind FROM raw_visit r {_join('mk', 'visit.kind', 'r.kind')} {where}"
        )
        pattern = field(spec["condition"], "code").get("pattern")
        by_pattern = (f"nullif(regexp_extract(r.code, {_lit(pattern)}, 1), '')"
                      if pattern else "NULL")  # fmt: skip
        parts["condition"].append(
            f"SELECT r.system, r.visit AS visit_src, r.code AS code_src, "
            f"coalesce(mc.standard, {by_pattern}) AS code "
            f"FROM raw_condition r {_join('mc', 'condition.code', 'r.code')} {where}"
        )
        convert = field(spec["measurement"], "unit").get("convert") or []
        listed = f"r.unit IN ({', '.join(_lit(u) for u in convert)})" if convert else "false"
        parts["measurement"].append(
            f"SELECT r.system, r.visit AS visit_src, r.item AS item_src, mi.standard AS loinc, "
            f"r.value AS value_src, TRY_CAST(r.value AS DOUBLE) AS value, r.unit AS unit_src, "
            f"coalesce({listed}, false) AS unit_listed "
            f"FROM raw_measurement r {_join('mi', 'measurement.item', 'r.item')} {where}"
        )
    sql = "".join(
        f"CREATE TEMP TABLE st_{k} AS {' UNION ALL '.join(v)};\n" for k, v in parts.items()
    )
    return sql + _SQL_SOURCE


_SQL_SOURCE = """
CREATE TEMP TABLE st_source AS
SELECT row_number() OVER (ORDER BY p.system, p.local_id) AS record_no, p.*,
       l.cluster_id
FROM st_person p LEFT JOIN links l ON l.system = p.system AND l.local_id = p.local_id;
UPDATE st_source SET record_no = CASE WHEN cluster_id IS NOT NULL THEN cluster_id + 1
    ELSE (SELECT max(cluster_id) FROM links) + 1 + record_no END
WHERE (SELECT count(*) FROM links) > 0;
"""

_SQL_OMOP = f"""
INSERT INTO person
SELECT record_no, CASE arg_min(sex, system) WHEN 'M' THEN 8507 WHEN 'F' THEN 8532 ELSE 0 END,
       year(arg_min(birth, system)), month(arg_min(birth, system)), day(arg_min(birth, system)),
       CAST(arg_min(birth, system) AS TIMESTAMP),
       arg_min(system || ':' || local_id, system), arg_min(sex_src, system)
FROM st_source GROUP BY record_no;
CREATE OR REPLACE TABLE source_record AS
SELECT record_no AS person_id, system, local_id, birth FROM st_source;
CREATE TEMP TABLE v AS
SELECT row_number() OVER (ORDER BY s.system, visit_date, visit_src) AS visit_occurrence_id,
       p.person_id, s.*
FROM st_visit s JOIN source_record p ON p.system = s.system AND p.local_id = s.local_id
WHERE s.visit_date IS NOT NULL;
INSERT INTO visit_occurrence
SELECT visit_occurrence_id, person_id,
       CASE kind WHEN 'IP' THEN {_VISIT["IP"]} WHEN 'OP' THEN {_VISIT["OP"]}
                 WHEN 'ER' THEN {_VISIT["ER"]} ELSE 0 END,
       visit_date, visit_date, {EHR}, system || ':' || visit_src
FROM v;
INSERT INTO condition_occurrence
SELECT row_number() OVER (ORDER BY c.system, v.visit_occurrence_id, c.code_src),
       v.person_id, coalesce(k.concept_id, 0), v.visit_date, {EHR}, v.visit_occurrence_id,
       c.code_src
FROM st_condition c JOIN v ON v.system = c.system AND v.visit_src = c.visit_src
LEFT JOIN concept k ON k.vocabulary_id = 'ICD10' AND k.concept_code = c.code;
CREATE TEMP TABLE m AS
SELECT s.*, v.person_id, v.visit_occurrence_id, v.visit_date, vm.standard_unit,
       vm.plausible_low, vm.plausible_high,
       CASE WHEN s.unit_src = vm.standard_unit THEN 1.0
            WHEN s.unit_listed THEN cv.factor END AS factor
FROM st_measurement s JOIN v ON v.system = s.system AND v.visit_src = s.visit_src
LEFT JOIN voc_measurement vm ON vm.loinc = s.loinc
LEFT JOIN voc_conversion cv ON cv.loinc = s.loinc AND cv.from_unit = s.unit_src
     AND cv.to_unit = vm.standard_unit;
INSERT INTO measurement
SELECT row_number() OVER (ORDER BY m.system, m.visit_occurrence_id, m.item_src),
       m.person_id, coalesce(k.concept_id, 0), m.visit_date, {EHR},
       CASE WHEN m.value * m.factor BETWEEN m.plausible_low AND m.plausible_high
            THEN round(m.value * m.factor, 4) END,
       coalesce(u.concept_id, 0), m.visit_occurrence_id, m.item_src, m.unit_src, m.value_src
FROM m LEFT JOIN concept k ON k.vocabulary_id = 'LOINC' AND k.concept_code = m.loinc
LEFT JOIN concept u ON u.vocabulary_id = 'UCUM'
     AND u.concept_code = CASE WHEN m.factor IS NOT NULL THEN m.standard_unit ELSE m.unit_src END;
INSERT INTO observation_period
SELECT row_number() OVER (ORDER BY person_id), person_id, min(visit_date), max(visit_date), {EHR}
FROM v GROUP BY person_id;
"""

_SQL_REPORT = """
WITH problems AS (
  SELECT system, 'person.sex' AS field, 'unmapped code' AS problem, sex_src AS value
  FROM st_person WHERE sex IS NULL AND sex_src IS NOT NULL
  UNION ALL SELECT system, 'person.birth_date', 'unparseable date', birth_src
  FROM st_person WHERE birth IS NULL AND birth_src IS NOT NULL
  UNION ALL SELECT system, 'person.birth_date', 'impossible value', birth_src
  FROM st_person WHERE birth > current_date OR birth < DATE '1900-01-01'
  UNION ALL SELECT system, 'visit.date', 'unparseable date (visit left out)', date_src
  FROM st_visit WHERE visit_date IS NULL
  UNION ALL SELECT system, 'visit.kind', 'unmapped code', kind_src
  FROM st_visit WHERE kind IS NULL
  UNION ALL SELECT s.system, 'visit.person', 'unknown patient (visit left out)', s.local_id
  FROM st_visit s ANTI JOIN source_record p ON p.system = s.system AND p.local_id = s.local_id
  UNION ALL SELECT v.system, 'visit.date', 'visit before birth', v.date_src
  FROM v JOIN source_record p ON p.system = v.system AND p.local_id = v.local_id
  WHERE v.visit_date < p.birth
  UNION ALL SELECT c.system, 'condition.code', 'unmapped code', c.code_src
  FROM st_condition c LEFT JOIN concept k ON k.vocabulary_id = 'ICD10'
       AND k.concept_code = c.code WHERE k.concept_id IS NULL
  UNION ALL SELECT c.system, 'condition.visit', 'unknown visit (row left out)', c.visit_src
  FROM st_condition c ANTI JOIN v ON v.system = c.system AND v.visit_src = c.visit_src
  UNION ALL SELECT s.system, 'measurement.visit', 'unknown visit (row left out)', s.visit_src
  FROM st_measurement s ANTI JOIN v ON v.system = s.system AND v.visit_src = s.visit_src
  UNION ALL SELECT system, 'measurement.item', 'unmapped code', item_src
  FROM m WHERE loinc IS NULL OR loinc NOT IN (SELECT loinc FROM voc_measurement)
  UNION ALL SELECT system, 'measurement.value',
         CASE WHEN value_src IS NULL THEN 'missing value' ELSE 'not a number' END, value_src
  FROM m WHERE value IS NULL
  UNION ALL SELECT system, 'measurement.unit', 'unit without conversion',
         coalesce(unit_src, '(missing)') || ' for ' || loinc
  FROM m WHERE factor IS NULL AND standard_unit IS NOT NULL AND value IS NOT NULL
  UNION ALL SELECT system, 'measurement.value', 'impossible value',
         value_src || ' ' || coalesce(unit_src, '') || ' for ' || loinc
  FROM m WHERE NOT (value * factor BETWEEN plausible_low AND plausible_high)
)
SELECT p.system, s.tab AS "table", s.col AS "column", p.problem,
       coalesce(p.grp, any_value(p.value)) AS value, count(*) AS rows
FROM (SELECT *, CASE WHEN problem IN ('unmapped code', 'unit without conversion')
                     THEN coalesce(value, '(missing)') END AS grp FROM problems) p
JOIN spec s ON s.system = p.system AND s.field = p.field
GROUP BY p.system, s.tab, s.col, p.problem, p.grp
"""
