"""Turn a student's answer into plain JSON, and read tables back out of it.

Only the JSON is ever recorded or graded, so an object whose ``==`` or ``__float__`` lies gains
nothing: subclasses of the built-in types are read through the built-in methods.
"""

from __future__ import annotations

import math
from typing import Any

from healthlab.errors import AnswerError

__all__ = ["records", "to_json"]

ACCEPTED = (
    "a number, a string, True/False, None, a list or tuple, a dict with string keys, "
    "a numpy scalar or array, a pandas Series or DataFrame"
)


def to_json(value: Any) -> Any:
    """Convert an answer to plain JSON (bool, int, float, str, None, list, dict).

    bool, int, float (NaN becomes ``None``), str and None stay as they are; numpy scalars and
    arrays become Python numbers and lists; tuples become lists; dicts must have string keys.
    A pandas Series becomes ``{"index": [...], "values": [...], "name": ..., "index_name": ...}``
    and a DataFrame a list of records, one dict per row. A DataFrame whose index carries
    information (it has a name, or is not the default 0, 1, 2, ...) keeps it as columns, so
    ``df.groupby("province").mean()`` records its provinces. Missing values (NaN, ``pd.NA``,
    ``NaT``) become ``None``. Anything else is refused with an :class:`AnswerError`.

    Parameters
    ----------
    value : object
        The answer.

    Returns
    -------
    object
        The same answer as plain JSON.

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> to_json(np.float64(77.5)), to_json((1, float("nan")))
    (77.5, [1, None])
    >>> to_json(pd.Series([0.3, 0.4], index=pd.Index(["Hebei", "Hunan"], name="province"),
    ...                   name="gini"))
    {'index': ['Hebei', 'Hunan'], 'values': [0.3, 0.4], 'name': 'gini', 'index_name': 'province'}
    >>> to_json(pd.DataFrame({"province": ["Hebei"], "beds": [6.5]}))
    [{'province': 'Hebei', 'beds': 6.5}]
    """
    return _convert(value, "the answer")


def records(value: Any) -> list[dict[str, Any]]:
    """Read a recorded table (list of records, or a recorded Series) as a list of records.

    A recorded Series becomes records with two fields: its index (under the index's name, or
    ``"index"``) and its values (under its name, or ``"value"``).

    Parameters
    ----------
    value : list of dict or dict
        A table as :func:`to_json` records it.

    Returns
    -------
    list of dict

    Examples
    --------
    >>> records({"index": ["Hebei"], "values": [0.3], "name": "gini", "index_name": "province"})
    [{'province': 'Hebei', 'gini': 0.3}]
    """
    if is_series(value):
        key = value.get("index_name") or "index"
        name = value.get("name")
        field = name if isinstance(name, str) else "value"
        return [{key: i, field: v} for i, v in zip(value["index"], value["values"])]
    if isinstance(value, list) and all(isinstance(row, dict) for row in value):
        return value
    raise AnswerError(
        "not a recorded table: expected a list of records (a DataFrame) or a recorded Series"
    )


def is_series(value: Any) -> bool:
    """Whether a JSON value is a recorded pandas Series."""
    return isinstance(value, dict) and {"index", "values"} <= set(value) and len(value) <= 4


def _convert(value: Any, where: str) -> Any:
    if value is None or type(value) is bool:
        return value
    if isinstance(value, str):
        return str.__str__(value)
    if isinstance(value, int) and not isinstance(value, bool):
        return int.__int__(value)
    if isinstance(value, float):
        return _float(float.__float__(value), where)
    if isinstance(value, list | tuple):
        items = list.__iter__(value) if isinstance(value, list) else tuple.__iter__(value)
        return [_convert(item, f"{where}[{i}]") for i, item in enumerate(items)]
    if isinstance(value, dict):
        out = {}
        for key, item in dict.items(value):
            if not isinstance(key, str):
                raise AnswerError(
                    f"{where} is a dict with the key {key!r} ({type(key).__name__}); "
                    "JSON keys are strings: use str keys, e.g. {str(k): v for k, v in d.items()}"
                )
            out[str.__str__(key)] = _convert(item, f"{where}[{key!r}]")
        return out
    module = type(value).__module__.split(".")[0]
    if module == "numpy":
        return _numpy(value, where)
    if module == "pandas":
        return _pandas(value, where)
    raise AnswerError(
        f"cannot record {where}: it is a {type(value).__module__}.{type(value).__qualname__}. "
        f"Record {ACCEPTED}."
        + (" Dates: record them as text with str() or .isoformat()." if _is_date(value) else "")
    )


def _float(value: float, where: str) -> float | None:
    if math.isnan(value):
        return None
    if math.isinf(value):
        raise AnswerError(
            f"{where} is infinite, which JSON cannot hold; a division by zero is the usual cause"
        )
    return value


def _numpy(value: Any, where: str) -> Any:
    import numpy as np

    if isinstance(value, np.ndarray):
        return _convert(value.tolist(), where)
    if isinstance(value, np.generic):
        if isinstance(value, np.datetime64 | np.timedelta64):
            if np.isnat(value):
                return None
            return str(value)
        return _convert(value.item(), where)
    raise AnswerError(f"cannot record {where}: a numpy {type(value).__name__}. Record {ACCEPTED}.")


def _pandas(value: Any, where: str) -> Any:
    import pandas as pd

    if value is pd.NA or value is pd.NaT:
        return None
    if isinstance(value, pd.Series):
        return {
            "index": [_cell(v, f"{where}.index") for v in value.index.tolist()],
            "values": [_cell(v, f"{where}.values") for v in value.tolist()],
            "name": _label(value.name, f"{where}.name"),
            "index_name": _label(value.index.name, f"{where}.index.name"),
        }
    if isinstance(value, pd.DataFrame):
        frame = value
        default = isinstance(frame.index, pd.RangeIndex) and frame.index.equals(
            pd.RangeIndex(len(frame))
        )
        if not default or any(name is not None for name in frame.index.names):
            frame = frame.reset_index()
        for column in frame.columns:
            if not isinstance(column, str):
                raise AnswerError(
                    f"{where} has the column {column!r} ({type(column).__name__}); record a "
                    "DataFrame whose column names are strings (rename them, or use "
                    "df.columns = df.columns.map(str))"
                )
        return [
            {str(k): _cell(v, f"{where}[{k!r}]") for k, v in row.items()}
            for row in frame.to_dict("records")
        ]
    if isinstance(value, pd.Timestamp | pd.Timedelta | pd.Period):
        return str(value)
    raise AnswerError(f"cannot record {where}: a pandas {type(value).__name__}. Record {ACCEPTED}.")


def _cell(value: Any, where: str) -> Any:
    """One value of a Series or DataFrame; pandas' own missing markers become None."""
    try:
        import pandas as pd

        if value is pd.NA or value is pd.NaT:
            return None
        if isinstance(value, pd.Timestamp | pd.Timedelta | pd.Period):
            return str(value)
    except ImportError:  # pragma: no cover - pandas is a dependency
        pass
    return _convert(value, where)


def _label(value: Any, where: str) -> Any:
    if value is None or isinstance(value, str | int | float):
        return _convert(value, where)
    return str(value)


def _is_date(value: Any) -> bool:
    import datetime

    return isinstance(value, datetime.date | datetime.time | datetime.timedelta)
