"""Fingerprints of built datasets: proof that the same name, size and seed give the same rows.

A table's fingerprint is its shape, its columns with their dtypes, and a SHA-256 over
:func:`pandas.util.hash_pandas_object` of its rows (values only, in order). Two machines that
build the same dataset get the same fingerprints; a generator that changes, even by one value,
changes them. ``tests/data/fingerprints.json`` pins every card's tables at ``tiny``;
``tools/fingerprints.py --update`` writes it again after a deliberate change.
"""

from __future__ import annotations

import hashlib

import pandas as pd

__all__ = ["fingerprint", "table_fingerprint"]


def table_fingerprint(frame: pd.DataFrame) -> dict:
    """``rows``, ``columns`` (name to dtype) and ``sha256`` of one table.

    Examples
    --------
    >>> import pandas as pd
    >>> from healthlab.datasets import table_fingerprint
    >>> a = table_fingerprint(pd.DataFrame({"age": [1, 2]}))
    >>> a["rows"], a["columns"], a == table_fingerprint(pd.DataFrame({"age": [1, 2]}))
    (2, {'age': 'int64'}, True)
    >>> a == table_fingerprint(pd.DataFrame({"age": [1, 3]}))
    False
    """
    hashed = pd.util.hash_pandas_object(frame, index=False).to_numpy()
    return {
        "rows": len(frame),
        "columns": {str(c): str(t) for c, t in frame.dtypes.items()},
        "sha256": hashlib.sha256(hashed.tobytes()).hexdigest(),
    }


def fingerprint(dataset) -> dict[str, dict]:
    """The fingerprint of every table of a built dataset, by table name.

    Examples
    --------
    >>> from healthlab import datasets
    >>> prints = datasets.fingerprint(datasets.load("admissions_series", size="tiny"))
    >>> sorted(prints), len(prints["admissions"]["sha256"])
    (['admissions'], 64)
    """
    return {table: table_fingerprint(dataset[table]) for table in dataset}
