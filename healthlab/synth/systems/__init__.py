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

:func:`make_hospital_systems` returns the tables as DataFrames (the catalogue's
``hospital_systems`` dataset caches them as Parquet), :func:`write_hospital_systems` writes them
as SQLite databases and the truth files into a folder, :func:`system_paths` lists that folder's
databases, and :func:`connect_duckdb` opens the databases together in DuckDB.
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from healthlab._validation import check_seed
from healthlab.errors import InvalidParameterError
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
    "make_hospital_systems",
    "opened_systems",
    "system_dictionary",
    "system_paths",
    "write_hospital_systems",
]


@dataclass(repr=False)
class HospitalSystems(Mapping):
    """Hospital systems' tables, each under its own schema, and the truth about them.

    A mapping from table name to DataFrame, the way the catalogue's ``hospital_systems``
    dataset holds them: ``<system>_<patients|encounters|diagnoses|labs>`` (columns under the
    system's own names) and the truth tables ``truth``, ``encounter_truth``, ``codes``,
    ``noise`` and ``dictionary``. :func:`write_hospital_systems` writes them as SQLite
    databases; :func:`healthlab.sharing.link_systems` and :func:`healthlab.sharing.harmonise`
    take the object itself. In a notebook it shows as a table of systems and their rows.

    Attributes
    ----------
    tables : dict
        Every table by name, as above.
    rates : dict
        The identifier error rates used.
    systems : list of str
        The systems' names, in the order of :data:`PROFILES`.
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
    dictionary : pandas.DataFrame
        Every column of every system: ``system``, ``table``, ``column``, ``type``,
        ``description``.

    Examples
    --------
    >>> from healthlab.synth import make_population, make_clinical, make_hospital_systems
    >>> people = make_population(300, seed=0)
    >>> hs = make_hospital_systems(people, make_clinical(people, seed=0), seed=0)
    >>> hs.systems, "renmin_patients" in hs
    (['renmin', 'zhongxin', 'xianyi'], True)
    """

    tables: dict[str, pd.DataFrame]
    rates: dict

    def __getitem__(self, name: str) -> pd.DataFrame:
        try:
            return self.tables[name]
        except KeyError:
            raise KeyError(f"no table {name!r}; the tables are {list(self.tables)}") from None

    def __iter__(self):
        return iter(self.tables)

    def __len__(self) -> int:
        return len(self.tables)

    @property
    def systems(self) -> list[str]:
        return list(dict.fromkeys(self.tables["dictionary"]["system"].astype(str)))

    truth = property(lambda self: self.tables["truth"])
    encounter_truth = property(lambda self: self.tables["encounter_truth"])
    codes = property(lambda self: self.tables["codes"])
    noise = property(lambda self: self.tables["noise"])
    dictionary = property(lambda self: self.tables["dictionary"])

    def summary(self) -> pd.DataFrame:
        """Rows per system and logical table (patients, encounters, diagnoses, labs)."""
        rows = [
            {"system": s, **{k: len(self.tables[f"{s}_{k}"]) for k in LOGICAL}}
            for s in self.systems
        ]
        return pd.DataFrame(rows, columns=["system", *LOGICAL])

    def __repr__(self) -> str:
        return f"<HospitalSystems {self.systems}: {len(self.truth):,} patient records>"

    def _repr_html_(self) -> str:
        return (
            f"<p><b>HospitalSystems</b>: {len(self.truth):,} patient records in "
            f"{len(self.systems)} systems</p>" + self.summary().to_html(index=False)
        )


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


def make_hospital_systems(
    population: pd.DataFrame,
    clinical,
    *,
    identities: pd.DataFrame | None = None,
    n_systems: int = 3,
    noise=None,
    seed: int = 0,
) -> HospitalSystems:
    """Split clinical records across hospital systems, each with its own schema and errors.

    See the package notes for the model. Returns the systems' tables with the truth kept
    apart; :func:`write_hospital_systems` writes each system as a SQLite database. The
    catalogue's ``hospital_systems`` dataset caches the same tables.

    Parameters
    ----------
    population : pandas.DataFrame
        The people (``person_id``, ``sex``, ``birth_date``, ``province``, ``district``), as
        from :func:`healthlab.synth.make_population`.
    clinical : dict of pandas.DataFrame
        ``encounters`` (``encounter_id``, ``person_id``, a date, the kind), ``diagnoses``
        (``encounter_id``, ICD-10 code), ``observations`` (``encounter_id``, LOINC code,
        ``value``, ``unit``), as from :func:`healthlab.synth.make_clinical`.
    identities : pandas.DataFrame, optional
        Names and identifiers from :func:`healthlab.synth.identities.make_identities`; made
        with ``seed`` when omitted.
    n_systems : int
        How many systems (1 to 4), taken in the order of :data:`PROFILES`.
    noise : dict, bool or 0, optional
        Identifier error rates (see :data:`NOISE`): None or True for the defaults, False or 0
        for none, a dict to change some.
    seed : int
        Seed of the random draws.

    Returns
    -------
    HospitalSystems

    Examples
    --------
    >>> from healthlab.synth import make_population, make_clinical, make_hospital_systems
    >>> people = make_population(300, seed=0)
    >>> hs = make_hospital_systems(people, make_clinical(people, seed=0), seed=0)
    >>> hs.summary().columns.tolist()
    ['system', 'patients', 'encounters', 'diagnoses', 'labs']
    """
    seed = check_seed(seed)
    _check_n(n_systems)
    rates = check_noise(noise)
    population, inputs = resolve_inputs(clinical, population)
    if identities is None:
        identities = make_identities(population, seed=seed)
    tables, truth, enc_truth, codes, noise_log = build_tables(
        population, identities, inputs, n_systems, rates, seed
    )
    out = {f"{s}_{k}": frame for s, frames in tables.items() for k, frame in frames.items()}
    out.update(
        truth=truth,
        encounter_truth=enc_truth,
        codes=codes,
        noise=noise_log,
        dictionary=system_dictionary(n_systems),
    )
    return HospitalSystems(tables=out, rates=rates)


def write_hospital_systems(systems, out) -> Path:
    """Write hospital systems as SQLite databases, with the truth beside them, into ``out``.

    Each system becomes ``<out>/<system>.sqlite``; the truth goes to CSV files in
    ``<out>/truth/`` (``patients.csv``, ``encounters.csv``, ``codes.csv``, ``noise.csv``,
    ``dictionary.csv``), never inside a database. Each file is written to a temporary name and
    moved into place whole.

    Parameters
    ----------
    systems : HospitalSystems or mapping of str to pandas.DataFrame
        From :func:`make_hospital_systems`, or the catalogue's ``hospital_systems`` dataset.
    out : str or path-like
        Folder to write into (created if needed).

    Returns
    -------
    pathlib.Path
        The folder; :func:`system_paths` lists its databases.

    Examples
    --------
    >>> import tempfile
    >>> from healthlab.synth import make_population, make_clinical, make_hospital_systems
    >>> people = make_population(300, seed=0)
    >>> hs = make_hospital_systems(people, make_clinical(people, seed=0), seed=0)
    >>> with tempfile.TemporaryDirectory() as d:
    ...     sorted(system_paths(write_hospital_systems(hs, d)))
    ['renmin', 'xianyi', 'zhongxin']
    """
    if not isinstance(systems, Mapping) and not hasattr(systems, "__getitem__"):
        raise InvalidParameterError(
            f"systems must be the result of make_hospital_systems or the hospital_systems "
            f"dataset, got {type(systems).__name__}"
        )
    if out is None:
        raise InvalidParameterError("out must be a folder to write the databases into")
    get = systems.__getitem__
    try:
        dictionary_frame = get("dictionary")
        names = list(dict.fromkeys(dictionary_frame["system"].astype(str)))
        frames = {s: {k: get(f"{s}_{k}") for k in LOGICAL} for s in names}
        truths = {k: get(k) for k in ("truth", "encounter_truth", "codes", "noise")}
    except KeyError as err:
        raise InvalidParameterError(
            f"systems lack the table {err}; pass make_hospital_systems(...) or the tables of "
            "the hospital_systems dataset"
        ) from None
    folder = Path(out)
    folder.mkdir(parents=True, exist_ok=True)
    for s, f in frames.items():
        _write_sqlite(folder / f"{s}.sqlite", s, f)
    (folder / "truth").mkdir(exist_ok=True)
    for fname, frame in (("patients", truths["truth"]), ("encounters", truths["encounter_truth"]),
                         ("codes", truths["codes"]), ("noise", truths["noise"]),
                         ("dictionary", dictionary_frame)):  # fmt: skip
        _write_csv(frame, folder / "truth" / f"{fname}.csv")
    return folder


def system_paths(folder) -> dict[str, Path]:
    """The SQLite database of each system in a folder :func:`write_hospital_systems` wrote.

    Systems come in the order of :data:`PROFILES`.

    Examples
    --------
    >>> import tempfile
    >>> with tempfile.TemporaryDirectory() as d:
    ...     system_paths(d)
    Traceback (most recent call last):
    ...
    healthlab.errors.InvalidParameterError: no hospital system databases (*.sqlite) in ...
    """
    folder = Path(folder)
    if not folder.is_dir():
        raise InvalidParameterError(
            f"{folder} is not a folder; pass the folder write_hospital_systems wrote"
        )
    order = [p["name"] for p in PROFILES]
    found = {p.stem: p for p in folder.glob("*.sqlite")}
    if not found:
        raise InvalidParameterError(
            f"no hospital system databases (*.sqlite) in {folder}; write them with "
            "healthlab.synth.write_hospital_systems(systems, out)"
        )
    rank = {name: i for i, name in enumerate(order)}
    return {k: found[k] for k in sorted(found, key=lambda k: (rank.get(k, len(order)), k))}


@contextlib.contextmanager
def opened_systems(systems):
    """Paths of the systems' SQLite databases, for as long as the ``with`` block runs.

    ``systems`` is a dict of system name to database path, a folder written by
    :func:`write_hospital_systems`, a :class:`HospitalSystems` or the catalogue's
    ``hospital_systems`` dataset; the last two are written to a temporary folder that is
    removed when the block ends.

    Examples
    --------
    >>> from healthlab.synth import make_population, make_clinical, make_hospital_systems
    >>> people = make_population(300, seed=0)
    >>> hs = make_hospital_systems(people, make_clinical(people, seed=0), seed=0)
    >>> with opened_systems(hs) as paths:
    ...     sorted(paths)
    ['renmin', 'xianyi', 'zhongxin']
    """
    if isinstance(systems, dict) and not systems:
        raise InvalidParameterError(
            "systems is an empty dict; give each system's name and the path of its database"
        )
    if isinstance(systems, dict) and all(
        isinstance(v, str | os.PathLike) for v in systems.values()
    ):
        for name, path in systems.items():
            if not Path(path).is_file():
                raise InvalidParameterError(
                    f"the database of system {name!r} is not there: {Path(path)}; write the "
                    "systems with healthlab.synth.write_hospital_systems(systems, out)"
                )
        yield {k: Path(v) for k, v in systems.items()}
    elif isinstance(systems, str | os.PathLike):
        yield system_paths(systems)
    elif isinstance(systems, Mapping) or hasattr(systems, "table_names"):
        with tempfile.TemporaryDirectory(prefix="healthlab-systems-") as folder:
            yield system_paths(write_hospital_systems(systems, folder))
    else:
        raise InvalidParameterError(
            "systems must be a dict of system name to SQLite path, a folder written by "
            "write_hospital_systems, make_hospital_systems(...) or the hospital_systems "
            f"dataset; got {type(systems).__name__}"
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
