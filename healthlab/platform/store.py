"""The analytical store: DuckDB over a built folder of partitioned Parquet.

A folder made by :func:`healthlab.platform.build` holds one sub-folder per table, Hive-style
partitions below it (``province=Beijing/year=2020/``) and ``manifest.json``, written last, that
lists every file with its rows and SHA-256. :func:`connect` opens an in-memory DuckDB
database with one view per table over exactly the files of the manifest; the partition keys
come back as ordinary columns, so ``WHERE province = 'Hubei'`` reads only Hubei's files.
"""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd

from healthlab.errors import InvalidParameterError, StoreError
from healthlab.platform._parts import digest

__all__ = ["FORMATS", "connect", "format_result", "query", "read_manifest"]

MANIFEST = "manifest.json"
#: Output formats of :func:`format_result`.
FORMATS = ("table", "csv", "json")
#: Rows a ``table`` result shows at most (scripts take csv or json, which show all).
SHOW_ROWS = 60
_HIVE_TYPES = {"province": "VARCHAR", "year": "INTEGER"}


def read_manifest(path, *, missing_ok: bool = False) -> dict | None:
    """The manifest of the build at ``path`` (None when it has none and ``missing_ok``).

    Examples
    --------
    >>> import tempfile
    >>> from healthlab import platform
    >>> with tempfile.TemporaryDirectory() as d:
    ...     _ = platform.build("population", 500, d + "/pop", workers=1, seed=3)
    ...     manifest = platform.read_manifest(d + "/pop")
    ...     platform.read_manifest(d, missing_ok=True) is None  # not a build
    True
    >>> manifest["plan"]["people"], manifest["tables"]["population"]["rows"]
    (500, 500)
    >>> sorted(manifest["tables"]["population"]["files"][0])
    ['bytes', 'file', 'rows', 'sha256']
    """
    file = Path(path) / MANIFEST
    try:
        manifest = json.loads(file.read_text(encoding="utf-8"))
        if not isinstance(manifest.get("tables"), dict) or "plan" not in manifest:
            raise ValueError("it lacks its tables or plan")
        return manifest
    except FileNotFoundError:
        if missing_ok:
            return None
        partial = Path(path).parent / f".{Path(path).name}.partial"
        hint = (
            f" A build into it was started and did not finish ({partial} holds its parts): "
            "run the same `healthlab data build` again to complete it."
            if partial.exists()
            else " Build one with `healthlab data build NAME --people N --out DIR`."
        )
        raise StoreError(
            f"{path} holds no complete healthlab build (no {MANIFEST}).{hint}"
        ) from None
    except (OSError, ValueError, AttributeError) as err:
        raise StoreError(f"cannot read {file}: {err}; build the folder again") from err


def _check_files(root: Path, manifest: dict, verify: bool) -> None:
    for table, meta in manifest["tables"].items():
        for f in meta["files"]:
            path = root / f["file"]
            try:
                size = path.stat().st_size
            except OSError:
                raise StoreError(
                    f"{path} (table {table}) is listed in the manifest but missing; the build "
                    "is damaged: build it again with --force"
                ) from None
            if size != f["bytes"] or (verify and digest(path) != f["sha256"]):
                raise StoreError(
                    f"{path} (table {table}) does not match the manifest (size or checksum); "
                    "the build is damaged: build it again with --force"
                )


def _quote(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def connect(path, *, verify: bool = False):
    """A DuckDB connection with a view per table of the build at ``path``.

    Parameters
    ----------
    path : str or pathlib.Path
        A folder made by :func:`healthlab.platform.build` (or ``healthlab data build``).
    verify : bool, default False
        Also compare every file's SHA-256 with the manifest (reads every byte); by default
        only that every file is there with its size.

    Returns
    -------
    duckdb.DuckDBPyConnection
        An in-memory database; ``con.sql("SELECT ...").df()`` returns pandas. Views have the
        generator's columns in its order; partition keys (``province``, ``year``) are columns.

    Raises
    ------
    StoreError
        If the folder holds no complete build (a build that was interrupted has no manifest)
        or its files do not match the manifest.

    Examples
    --------
    >>> import tempfile
    >>> from healthlab import platform
    >>> with tempfile.TemporaryDirectory() as d:
    ...     _ = platform.build("population", 500, d + "/pop", workers=1)
    ...     con = platform.connect(d + "/pop")
    ...     con.execute("select count(*) from population where age >= 65").fetchone()[0] > 0
    True
    """
    import duckdb

    root = Path(path).expanduser().absolute()
    manifest = read_manifest(root)
    _check_files(root, manifest, verify)
    con = duckdb.connect()
    for table, meta in manifest["tables"].items():
        files = ", ".join(_quote(str(root / f["file"])) for f in meta["files"])
        hive = {k: _HIVE_TYPES[k] for k in meta["partitioning"]}
        options = "hive_partitioning = false"
        if hive and meta.get("hive", True):
            types = ", ".join(f"{_quote(k)}: {v}" for k, v in hive.items())
            options = f"hive_partitioning = true, hive_types = {{{types}}}"
        columns = ", ".join(dict.fromkeys(f'"{c}"' for c in [*meta["columns"], *hive]))
        con.execute(
            f'CREATE VIEW "{table}" AS SELECT {columns} FROM read_parquet([{files}], {options})'
        )
    return con


def query(path, sql: str) -> pd.DataFrame:
    """Run ``sql`` against the build at ``path``; the result as a DataFrame.

    Examples
    --------
    >>> import tempfile
    >>> from healthlab import platform
    >>> with tempfile.TemporaryDirectory() as d:
    ...     _ = platform.build("population", 300, d + "/pop", workers=1)
    ...     platform.query(d + "/pop", "select count(*) as n from population")["n"].item()
    300
    """
    import duckdb

    if not isinstance(sql, str) or not sql.strip():
        raise InvalidParameterError(f"the query must be SQL text, got {sql!r}")
    con = connect(path)
    try:
        result = con.sql(sql)
        return result.df() if result is not None else pd.DataFrame()
    except duckdb.Error as err:
        views = [row[0] for row in con.sql("select view_name from duckdb_views() "
                                           "where not internal order by 1").fetchall()]  # fmt: skip
        message = " ".join(str(err).split())  # DuckDB's message on one line
        raise InvalidParameterError(
            f"the query failed: {message}. The tables are {views}; `DESCRIBE <table>` lists columns"
        ) from err
    finally:
        con.close()


def format_result(frame: pd.DataFrame, format: str = "table") -> str:
    """``frame`` as text: an aligned ``table`` for reading, or ``csv`` / ``json`` for scripts.

    ``json`` is a list of records (dates in ISO 8601, missing values null); ``table`` shows at
    most :data:`SHOW_ROWS` rows and says how many there are.

    Examples
    --------
    >>> import pandas as pd
    >>> print(format_result(pd.DataFrame({"province": ["Hubei"], "n": [3]}), "csv"), end="")
    province,n
    Hubei,3
    """
    if format not in FORMATS:
        raise InvalidParameterError(f"format must be one of {FORMATS}, got {format!r}")
    if format == "csv":
        return frame.to_csv(index=False)
    if format == "json":
        return frame.to_json(orient="records", date_format="iso", force_ascii=False) + "\n"
    if frame.empty:
        return f"(no rows; columns: {', '.join(map(str, frame.columns))})\n"
    text = frame.head(SHOW_ROWS).to_string(index=False)
    more = len(frame) - SHOW_ROWS
    note = f"\n({len(frame):,} rows; showing {SHOW_ROWS}: use --format csv for all)" * (more > 0)
    return text + note + "\n"
