"""How result objects show themselves in a notebook: as a table, never as a wall of text.

A result class defines ``to_frame()`` (one row per measure, or its main table); the mixin
:class:`TableView` turns it into the HTML Jupyter shows, headed by the class name. Results are
objects with named attributes, never values hidden in ``DataFrame.attrs`` (which pandas drops)
or loose dicts.

Examples
--------
>>> from dataclasses import dataclass
>>> import pandas as pd
>>> @dataclass
... class Demo(TableView):
...     value: float
...     def to_frame(self):
...         return pd.DataFrame({"measure": ["value"], "value": [self.value]})
>>> "<table" in Demo(1.5)._repr_html_()
True
"""

from __future__ import annotations

import html

import pandas as pd

__all__ = ["TableView", "fields_frame"]

#: Rows of a table shown in a notebook before it is cut.
MAX_ROWS = 12


def fields_frame(obj, names) -> pd.DataFrame:
    """``measure``, ``value`` for the scalar attributes ``names`` of ``obj``.

    Examples
    --------
    >>> from types import SimpleNamespace
    >>> fields_frame(SimpleNamespace(a=1, b="x"), ["a", "b"]).to_dict("list")
    {'measure': ['a', 'b'], 'value': [1, 'x']}
    """
    return pd.DataFrame({"measure": list(names), "value": [getattr(obj, n) for n in names]})


class TableView:
    """Mixin: ``_repr_html_`` from the class's ``to_frame()``."""

    def to_frame(self) -> pd.DataFrame:  # pragma: no cover - every user defines it
        raise NotImplementedError

    def _repr_html_(self) -> str:
        frame = self.to_frame()
        title = f"<p><b>{html.escape(type(self).__name__)}</b></p>"
        return title + frame.to_html(index=False, max_rows=MAX_ROWS, float_format="{:,.4g}".format)
