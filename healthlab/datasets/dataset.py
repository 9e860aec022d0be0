"""A built dataset: a mapping from table name to table, with the card that describes them."""

from __future__ import annotations

import html
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from healthlab.errors import InvalidParameterError

__all__ = ["Dataset"]


@dataclass(eq=False)
class Dataset(Mapping):
    """A built dataset: its tables by name (a mapping), its card, and where it is cached.

    ``dataset["population"]`` is a table; ``list(dataset)`` the table names; ``dataset.frame``
    the one table of a single-table dataset. Tables of a partitioned size are Parquet files
    read through DuckDB (:meth:`relation`) and loaded into memory only when asked for.

    Examples
    --------
    >>> import pandas as pd
    >>> from healthlab.datasets import Dataset
    >>> ds = Dataset("toy", "tiny", 0, {}, {"people": pd.DataFrame({"age": [1, 2]})})
    >>> list(ds), len(ds["people"]), "people" in ds
    (['people'], 2, True)
    """

    name: str
    size: str
    seed: int
    card: dict
    tables: dict[str, pd.DataFrame] = field(repr=False)
    path: Path | None = None
    #: For sizes built as Parquet partitions (``partitioned: true`` in the card): table name to
    #: its partition files, in order. Such tables are read through DuckDB, not held in memory.
    partitions: dict[str, list[Path]] = field(default_factory=dict, repr=False)

    def __getitem__(self, table: str) -> pd.DataFrame:
        if table in self.partitions:
            return self.relation(table).df()
        try:
            return self.tables[table]
        except KeyError:
            raise KeyError(
                f"dataset {self.name!r} has no table {table!r}; it has {self.table_names}"
            ) from None

    def __iter__(self):
        return iter(self.table_names)

    def __len__(self) -> int:
        return len(self.table_names)

    def __contains__(self, table) -> bool:
        return table in self.tables or table in self.partitions

    @property
    def table_names(self) -> list[str]:
        """The tables' names, in memory ones first."""
        return list(self.tables) + list(self.partitions)

    def relation(self, table: str, connection=None):
        """A DuckDB relation over ``table`` (partitioned or in memory), for SQL at any size.

        Examples
        --------
        >>> import pandas as pd
        >>> ds = Dataset("toy", "tiny", 0, {}, {"people": pd.DataFrame({"age": [1, 2]})})
        >>> ds.relation("people").aggregate("sum(age) AS s").fetchall()
        [(3,)]
        """
        import duckdb

        con = connection if connection is not None else duckdb.connect()
        if table in self.partitions:
            files = [str(p) for p in self.partitions[table]]
            return con.read_parquet(files)
        return con.from_df(self[table])

    @property
    def frame(self) -> pd.DataFrame:
        """The one table of a single-table dataset."""
        names = self.table_names
        if len(names) != 1:
            raise InvalidParameterError(
                f"dataset {self.name!r} has {len(names)} tables ({names}); "
                "pick one with dataset[table_name]"
            )
        return self[names[0]]

    def summary(self) -> pd.DataFrame:
        """``table``, ``rows``, ``columns`` (partitioned tables: ``rows`` from the files)."""
        rows = [{"table": k, "rows": len(v), "columns": v.shape[1]} for k, v in self.tables.items()]
        for table, files in self.partitions.items():
            import pyarrow.parquet as pq

            meta = [pq.ParquetFile(f).metadata for f in files]
            rows.append(
                {
                    "table": table,
                    "rows": sum(m.num_rows for m in meta),
                    "columns": meta[0].num_columns if meta else 0,
                }
            )
        return pd.DataFrame(rows, columns=["table", "rows", "columns"])

    def __repr__(self) -> str:
        shapes = ", ".join(f"{k}: {v.shape[0]:,} rows" for k, v in self.tables.items())
        shapes += "".join(f", {k}: {len(v)} Parquet partitions" for k, v in self.partitions.items())
        return f"<Dataset {self.name} size={self.size} seed={self.seed} ({shapes})>"

    def _repr_html_(self) -> str:
        title = html.escape(str(self.card.get("title", "")))
        head = (
            f"<p><b>Dataset {html.escape(self.name)}</b> (size {self.size}, seed {self.seed})"
            f"{': ' + title if title else ''}</p>"
        )
        return head + self.summary().to_html(index=False)
