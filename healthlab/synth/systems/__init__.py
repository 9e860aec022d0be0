"""Hospital information systems that do not share a schema, with the truth kept apart.

:func:`make_hospital_systems` splits clinical records across several hospital systems the way
a city's hospitals hold them. Each person has a home system (drawn with the systems' shares of
:data:`PROFILES`) and each encounter is seen there with probability ``P_HOME`` (0.75), otherwise
by one of the other systems. Every system keeps its own copy of each patient it saw, with its
own local id and its own clerk's errors (:data:`NOISE`), in its own schema: Chinese, English,
pinyin or pinyin-initial table and column names; dates as ``YYYY-MM-DD``, ``MM/DD/YYYY``,
``YYYYMMDD`` or ``YYYY年M月D日``; diagnoses in the ICD-10 national clinical edition, in a local
code list, in WHO ICD-10 or in free text; lab items by Chinese name or local code; glucose and
lipids in mmol/L or mg/dL. Each system is written as a real SQLite database. The ground truth
(which local records are the same person, what each local value means, which errors were
made) is returned and written beside the databases, never inside them.

:func:`make_hospital_system_tables` returns the same tables as DataFrames (the catalogue's
``hospital_systems`` dataset caches them as Parquet), :func:`write_hospital_systems` writes such
tables back to SQLite, and :func:`connect_duckdb` opens the databases together in DuckDB.
"""

from __future__ import annotations

import os
import sqlite3
import tempfile
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from healthlab.errors import InvalidParameterError
from healthlab.synth._blocks import check_seed
from healthlab.synth.identities import make_identities
from healthlab.synth.systems._build import P_HOME, build_tables, resolve_inputs
from healthlab.synth.systems._noise import NOISE, check_noise
from healthlab.synth.systems._schemas import LOGICAL, PROFILES, dictionary

__all__ = [
    "NOISE",
    "P_HOME",
    "PROFILES",
    "HospitalSystems",
    "connect_duckdb",
    "make_hospital_system_tables",
    "make_hospital_systems",
    "system_dictionary",
    "write_hospital_systems",
]


@dataclass
class HospitalSystems:
    """Hospital systems written to SQLite, and the truth about them.

    Attributes
    ----------
    paths : dict
        System name to the path of its SQLite database.
    truth : pandas.DataFrame
        ``system``, ``local_id``, ``person_id``: one row per patient record of every system.
    encounter_truth : pandas.DataFrame
        ``system``, ``local_encounter_id``, ``encounter_id`` (the clinical data's id).
    codes : pandas.DataFrame
        What each local value means: ``system``, ``table``, ``column``, ``local_value``,
        ``standard_system`` (sex, encounter_kind, ICD-10, LOINC, UCUM), ``standard_value``,
        ``meaning``, ``factor`` (for units: multiply to get the standard unit), ``context``
        (for units: the LOINC code of the item).
    noise : pandas.DataFrame
        ``system``, ``local_id`` and one bool column per kind of identifier error made.
    rates : dict
        The error rates used (as observed, for systems written from cached tables).
    dictionary : pandas.DataFrame
        Every column of every system: ``system``, ``table``, ``column``, ``type``,
        ``description``.
    folder : pathlib.Path
        Where the databases and the ``truth/`` folder are.
    """

    paths: dict[str, Path]
    truth: pd.DataFrame
    encounter_truth: pd.DataFrame
    codes: pd.DataFrame
    noise: pd.DataFrame
    rates: dict
    dictionary: pd.DataFrame
    folder: Path


def system_dictionary(n_systems: int = len(PROFILES)) -> pd.DataFrame:
    """The data dictionary of the first ``n_systems`` systems, as their IT departments give it.

    Examples
    --------
    >>> from healthlab.synth.systems import system_dictionary
    >>> d = system_dictionary(3)
    >>> sorted(d["system"].unique())
    ['renmin', 'xianyi', 'zhongxin']
    """
    _check_n(n_systems)
    rows = [row for p in PROFILES[:n_systems] for row in dictionary(p)]
    return pd.DataFrame(rows).astype("string")


def _check_n(n_systems) -> int:
    if isinstance(n_systems, bool) or not isinstance(n_systems, int):
        raise InvalidParameterError(f"n_systems must be an integer, got {n_systems!r}")
    if not 1 <= n_systems <= len(PROFILES):
        raise InvalidParameterError(
            f"n_systems must be between 1 and {len(PROFILES)} (one per schema profile), "
            f"got {n_systems}"
        )
    return n_systems


def _make(clinical, population, identities, n_systems, noise, seed, sink=None):
    seed = check_seed(seed)
    _check_n(n_systems)
    rates = check_noise(noise)
    population, inputs = resolve_inputs(clinical, population)
    if identities is None:
        identities = make_identities(population, seed=seed)
    tables, truth, enc_truth, codes, noise_log = build_tables(
        population, identities, inputs, n_systems, rates, seed, sink=sink
    )
    return tables, truth, enc_truth, codes, noise_log, rates


def make_hospital_system_tables(
    population: pd.DataFrame,
    clinical,
    *,
    n_systems: int = 3,
    noise=None,
    seed: int = 0,
) -> dict[str, pd.DataFrame]:
    """The hospital systems' tables as DataFrames, with the truth tables (for the catalogue).

    The same data :func:`make_hospital_systems` writes to SQLite. Keys are
    ``<system>_<patients|encounters|diagnoses|labs>`` (columns under the system's own names),
    ``truth``, ``encounter_truth``, ``codes``, ``noise`` and ``dictionary``.

    Parameters
    ----------
    population : pandas.DataFrame
        Needs ``person_id``, ``sex``, ``birth_date``, ``district`` and ``province``.
    clinical : dict of pandas.DataFrame
        ``encounters`` (``encounter_id``, ``person_id``, a date, the kind), ``diagnoses``
        (``encounter_id``, ICD-10 code), ``observations`` (``encounter_id``, LOINC code,
        ``value``, ``unit``).
    n_systems : int
        How many systems (1 to 4).
    noise : dict or 0, optional
        Identifier error rates to change (see :data:`NOISE`); 0 for none.
    seed : int
        Seed of the random draws.

    Returns
    -------
    dict of str to pandas.DataFrame
    """
    tables, truth, enc_truth, codes, noise_log, _ = _make(
        clinical, population, None, n_systems, noise, seed
    )
    out = {f"{s}_{k}": frame for s, frames in tables.items() for k, frame in frames.items()}
    out.update(
        truth=truth,
        encounter_truth=enc_truth,
        codes=codes,
        noise=noise_log,
        dictionary=system_dictionary(n_systems),
    )
    return out


def make_hospital_systems(
    clinical,
    *,
    population: pd.DataFrame | None = None,
    identities: pd.DataFrame | None = None,
    n_systems: int = 3,
    noise=None,
    seed: int = 0,
    out=None,
) -> HospitalSystems:
    """Split clinical records across hospital systems, each a SQLite database of its own schema.

    See the package notes for the model. The databases are written as ``<out>/<system>.sqlite``;
    the truth as CSV files in ``<out>/truth/`` (``patients.csv``, ``encounters.csv``,
    ``codes.csv``, ``noise.csv``, ``dictionary.csv``), never inside a database. Each file is
    written to a temporary name and moved into place whole.

    Parameters
    ----------
    clinical : dict of pandas.DataFrame
        ``encounters``, ``diagnoses`` and ``observations`` as from ``make_clinical``; it may
        also hold the population as ``patients``.
    population : pandas.DataFrame, optional
        The people (``person_id``, ``sex``, ``birth_date``, ``province``, ``district``).
    identities : pandas.DataFrame, optional
        Names and identifiers from :func:`healthlab.synth.identities.make_identities`; made
        with ``seed`` when omitted.
    n_systems : int
        How many systems (1 to 4), taken in the order of :data:`PROFILES`.
    noise : dict or 0, optional
        Identifier error rates to change (see :data:`NOISE`); 0 for none.
    seed : int
        Seed of the random draws.
    out : str or path-like, optional
        Folder to write into (created if needed); a new temporary folder when omitted.

    Returns
    -------
    HospitalSystems
        ``paths``, ``truth``, ``encounter_truth``, ``codes``, ``noise``, ``rates``,
        ``dictionary``, ``folder``.

    Examples
    --------
    >>> import pandas as pd, sqlite3
    >>> from healthlab.synth.systems import make_hospital_systems
    >>> people = pd.DataFrame({"person_id": [1, 2], "sex": ["F", "M"],
    ...     "birth_date": pd.to_datetime(["1950-02-03", "1988-07-21"]),
    ...     "province": ["Jiangxi", "Jiangxi"], "district": ["a", "b"]})
    >>> enc = pd.DataFrame({"encounter_id": [10, 11, 12], "person_id": [1, 1, 2],
    ...     "date": pd.to_datetime(["2020-01-05", "2020-03-01", "2020-06-30"]),
    ...     "encounter_type": ["outpatient", "inpatient", "outpatient"]})
    >>> dx = pd.DataFrame({"encounter_id": [10, 11, 12], "icd10": ["I10", "E11.9", "J06.9"]})
    >>> hs = make_hospital_systems({"encounters": enc, "diagnoses": dx},
    ...                            population=people, seed=0)
    >>> sorted(hs.paths), len(hs.truth) >= 2
    (['renmin', 'xianyi', 'zhongxin'], True)
    """
    folder = Path(tempfile.mkdtemp(prefix="healthlab-systems-")) if out is None else Path(out)
    folder.mkdir(parents=True, exist_ok=True)
    paths = {}

    def sink(name, frames):  # write each system as soon as it is made, then let it go
        paths[name] = _write_sqlite(folder / f"{name}.sqlite", name, frames)

    _, truth, enc_truth, codes, noise_log, rates = _make(
        clinical, population, identities, n_systems, noise, seed, sink=sink
    )
    dictionary_frame = system_dictionary(n_systems)
    (folder / "truth").mkdir(exist_ok=True)
    for fname, frame in (("patients", truth), ("encounters", enc_truth), ("codes", codes),
                         ("noise", noise_log), ("dictionary", dictionary_frame)):  # fmt: skip
        _write_csv(frame, folder / "truth" / f"{fname}.csv")
    return HospitalSystems(
        paths=paths,
        truth=truth,
        encounter_truth=enc_truth,
        codes=codes,
        noise=noise_log,
        rates=rates,
        dictionary=dictionary_frame,
        folder=folder,
    )


def write_hospital_systems(tables, *, out=None) -> HospitalSystems:
    """Write tables of the ``hospital_systems`` dataset as SQLite databases and truth files.

    The catalogue caches the systems as Parquet tables; this turns a loaded dataset (or the dict
    :func:`make_hospital_system_tables` returns) back into the SQLite files and truth folder
    :func:`make_hospital_systems` writes, without building them again.

    Parameters
    ----------
    tables : mapping of str to pandas.DataFrame
        ``<system>_<patients|encounters|diagnoses|labs>``, ``truth``, ``encounter_truth``,
        ``codes``, ``noise`` and ``dictionary``; a :class:`healthlab.datasets.Dataset` works.
    out : str or path-like, optional
        Folder to write into; a new temporary folder when omitted.

    Returns
    -------
    HospitalSystems

    Examples
    --------
    >>> from healthlab import datasets
    >>> ds = datasets.load("hospital_systems", size="tiny")  # doctest: +SKIP
    >>> hs = write_hospital_systems(ds)  # doctest: +SKIP
    """
    get = tables.__getitem__
    try:
        dictionary_frame = get("dictionary")
        systems = list(dict.fromkeys(dictionary_frame["system"].astype(str)))
        frames = {s: {k: get(f"{s}_{k}") for k in LOGICAL} for s in systems}
        truths = {k: get(k) for k in ("truth", "encounter_truth", "codes", "noise")}
    except KeyError as err:
        raise InvalidParameterError(
            f"tables lack {err}; pass the tables of the hospital_systems dataset"
        ) from None
    folder = Path(tempfile.mkdtemp(prefix="healthlab-systems-")) if out is None else Path(out)
    folder.mkdir(parents=True, exist_ok=True)
    paths = {s: _write_sqlite(folder / f"{s}.sqlite", s, f) for s, f in frames.items()}
    (folder / "truth").mkdir(exist_ok=True)
    for fname, frame in (("patients", truths["truth"]), ("encounters", truths["encounter_truth"]),
                         ("codes", truths["codes"]), ("noise", truths["noise"]),
                         ("dictionary", dictionary_frame)):  # fmt: skip
        _write_csv(frame, folder / "truth" / f"{fname}.csv")
    rates = {k: float(truths["noise"][k].mean()) for k in NOISE if k in truths["noise"]}
    return HospitalSystems(
        paths=paths,
        truth=truths["truth"],
        encounter_truth=truths["encounter_truth"],
        codes=truths["codes"],
        noise=truths["noise"],
        rates=rates,
        dictionary=dictionary_frame,
        folder=folder,
    )


def _write_csv(frame: pd.DataFrame, path: Path) -> None:
    import pyarrow as pa
    import pyarrow.csv as pacsv

    tmp = path.with_name(f".{path.name}.tmp")
    pacsv.write_csv(pa.Table.from_pandas(frame, preserve_index=False), tmp)  # UTF-8
    os.replace(tmp, path)


#: Rows converted to Python objects and inserted at a time when writing SQLite.
_CHUNK = 100_000


def _write_sqlite(path: Path, system: str, frames: dict[str, pd.DataFrame]) -> Path:
    """Write one system's tables to ``path`` (via a temporary file), with keys and indexes."""
    profile = next(p for p in PROFILES if p["name"] == system)
    types = {(r["table"], r["column"]): r["type"] for r in dictionary(profile)}
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.unlink(missing_ok=True)
    con = sqlite3.connect(tmp)
    # The file is a temporary one moved into place only when complete, so no journal is needed.
    con.execute("PRAGMA journal_mode = OFF")
    con.execute("PRAGMA synchronous = OFF")
    try:
        for logical, frame in frames.items():
            table, cols = profile["tables"][logical]
            cols = [c for c in cols if c is not None]
            key = LOGICAL[logical][0]
            decl = []
            for c in cols:
                pk = (
                    " PRIMARY KEY" if logical in ("patients", "encounters") and c == cols[0] else ""
                )
                decl.append(f'"{c}" {types[(table, c)]}{pk}')
            con.execute(f'CREATE TABLE "{table}" ({", ".join(decl)})')
            marks = ", ".join("?" * len(cols))
            for lo in range(0, len(frame), _CHUNK):  # Python objects for one chunk at a time
                part = frame.iloc[lo : lo + _CHUNK]
                columns = [
                    part[c].astype(object).where(part[c].notna(), None).to_numpy() for c in cols
                ]
                con.executemany(
                    f'INSERT INTO "{table}" VALUES ({marks})', zip(*columns, strict=True)
                )
            if logical != "patients":
                ref = cols[1] if logical == "encounters" else cols[0]
                con.execute(f'CREATE INDEX "ix_{table}_{key}" ON "{table}" ("{ref}")')
        con.commit()
    finally:
        con.close()
    os.replace(tmp, path)
    return path


def connect_duckdb(paths: dict, connection=None):
    """A DuckDB connection with each system's database as a schema named after the system.

    DuckDB attaches each SQLite file through its ``sqlite`` extension. Where that extension
    cannot be loaded (it is downloaded on first use, so an offline machine may lack it), the
    tables are copied from SQLite into DuckDB instead: the same schemas, tables and columns.

    Returns
    -------
    tuple
        ``(connection, route)`` with route ``"attach"`` or ``"copy"``.

    Examples
    --------
    >>> con, route = connect_duckdb(hs.paths)  # doctest: +SKIP
    >>> con.execute('select count(*) from renmin."患者信息"').fetchone()  # doctest: +SKIP
    """
    import duckdb

    con = connection if connection is not None else duckdb.connect()
    try:
        con.execute("LOAD sqlite")
        route = "attach"
    except duckdb.Error:
        try:
            con.execute("INSTALL sqlite")
            con.execute("LOAD sqlite")
            route = "attach"
        except duckdb.Error:
            route = "copy"
    for name, path in paths.items():
        if route == "attach":
            con.execute(f"ATTACH '{Path(path)}' AS \"{name}\" (TYPE sqlite, READ_ONLY)")
            continue
        con.execute(f'CREATE SCHEMA IF NOT EXISTS "{name}"')
        src = sqlite3.connect(f"file:{Path(path)}?mode=ro", uri=True)
        try:
            tables = [
                r[0] for r in src.execute("SELECT name FROM sqlite_master WHERE type='table'")
            ]
            for table in tables:
                frame = pd.read_sql_query(f'SELECT * FROM "{table}"', src)
                con.register("_healthlab_copy", frame)
                con.execute(f'CREATE TABLE "{name}"."{table}" AS SELECT * FROM _healthlab_copy')
                con.unregister("_healthlab_copy")
        finally:
            src.close()
    return con, route


# --------------------------------------------------------------------------- card statistics


def noise_rate(tables, *, kind: str) -> float:
    """Share of patient records with identifier error ``kind`` (a calibration statistic)."""
    return float(tables["noise"][kind].mean())


def surname_share(tables, *, surname: str = "王") -> float:
    """Percent of the City People's Hospital's patients with ``surname`` (in characters)."""
    names = tables["renmin_patients"]["姓名"].astype("string")
    return float(names.str.startswith(surname).mean() * 100)
