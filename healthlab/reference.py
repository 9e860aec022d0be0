"""The public figures healthlab is calibrated to, with their sources, for notebooks to quote.

The figures live in ``healthlab/data/china.yaml`` (census 2020, NBS year-end population, NHC
bulletins on life expectancy and health resources, chronic-disease surveys, causes of death).
Each block there names its issuing body and document and a grade: ``primary`` (read in the
official release or a verbatim reprint), ``secondary`` (a page citing the official source) or
``derived`` (computed from other entries). Adding a figure is a data edit: put it in the file
with its source and grade and it appears here.

A figure is named by its path in the file, with years taken out of the name and kept as the
figure's year: ``life_expectancy_at_birth`` (years 2015-2024), ``census.age_share_pct.65+``
(2020), ``health_resources.beds_per_1000`` (2020-2023). Any unambiguous tail of the name
works too (``"beds_per_1000"``), and the file's ``aliases`` give short names (``"e0"``).

Examples
--------
>>> from healthlab import reference
>>> e0 = reference.figure("e0", year=2020)
>>> float(e0), e0.year, e0.grade
(77.93, 2020, 'secondary')
>>> round(e0 - 77.0, 2)
0.93
>>> reference.table("beds_per_1000")[["figure", "year", "value"]].head(2)
                           figure  year value
0  health_resources.beds_per_1000  2020  6.46
1  health_resources.beds_per_1000  2021   6.7
"""

from __future__ import annotations

import html
import re
from functools import cache

import pandas as pd

from healthlab import _yaml
from healthlab._validation import check_seed
from healthlab.errors import InvalidParameterError

__all__ = ["Figure", "figure", "table"]

_META = ("source", "grade", "note")
_YEAR = re.compile(r"^(19|20)\d\d$")
_YEAR_SUFFIX = re.compile(r"^(?P<stem>.+?)_(?P<year>(?:19|20)\d\d)(?P<rest>(?:_.+)?)$")
_UNITS = (
    ("_pct", "%"),
    ("_per_1000", "per 1,000"),
    ("_per_10000", "per 10,000"),
    ("_per_100k", "per 100,000"),
    ("_10k", "10,000s"),
    ("_billion", "billion"),
    ("_million", "million"),
    ("_yuan", "yuan"),
    ("_days", "days"),
)
_SECTION_UNITS = {"life_expectancy_at_birth": "years", "population_year_end": "10,000 persons"}


class Figure(float):
    """A published figure: a number that also carries its year, unit, source and grade.

    It behaves as a float in arithmetic and comparisons, so a notebook can write
    ``synthetic_e0 - reference.figure("e0", year=2020)``; ``str()`` quotes it with its source.

    Examples
    --------
    >>> from healthlab.reference import figure
    >>> print(figure("census.urban_pct"))
    census.urban_pct = 63.89 % (2020); NBS, 7th census communiques No. 1-8 (2021-05-11) [primary]
    """

    name: str
    year: int | None
    unit: str
    source: str
    grade: str
    note: str

    def __new__(cls, value, *, name, year=None, unit="", source="", grade="", note=""):
        self = super().__new__(cls, value)
        self.name, self.year, self.unit = name, year, unit
        self.source, self.grade, self.note = source, grade, note
        return self

    @property
    def value(self) -> float:
        """The number alone, as a plain float."""
        return float(self)

    def __repr__(self) -> str:
        return f"Figure({self.name!r}, {float(self)!r}, year={self.year!r})"

    def __str__(self) -> str:
        unit = f" {self.unit}" if self.unit else ""
        year = f" ({self.year})" if self.year is not None else ""
        return f"{self.name} = {float(self):,.12g}{unit}{year}; {self.source} [{self.grade}]"

    def _repr_html_(self) -> str:
        unit = f" {html.escape(self.unit)}" if self.unit else ""
        year = f" ({self.year})" if self.year is not None else ""
        return (
            f"<b>{html.escape(self.name)}</b> = {float(self):,.12g}{unit}{year}<br>"
            f"<small>{html.escape(self.source)} &middot; grade {html.escape(self.grade)}</small>"
        )

    def __reduce__(self):
        fields = {k: getattr(self, k) for k in ("name", "year", "unit", "source", "grade", "note")}
        return (_rebuild, (float(self), fields))


def _rebuild(value, fields):
    return Figure(value, **fields)


def _document() -> dict:
    return _yaml.package_data("china.yaml")


def _unit(name: str, section: str) -> str:
    for suffix, unit in _UNITS:
        if name.endswith(suffix) or f"{suffix}." in name:
            return unit
    return _SECTION_UNITS.get(section, "")


def _split_year(part: str) -> tuple[str, int | None]:
    """Take a year out of a name: ``"ncd_share_2019_pct"`` -> ``("ncd_share_pct", 2019)``."""
    m = _YEAR_SUFFIX.match(part)
    if not m:
        return part, None
    return m["stem"] + m["rest"], int(m["year"])


def _walk(node, path: list[str], year, context: dict, out: list[dict]) -> None:
    if isinstance(node, dict):
        context = {**context, **{k: str(node[k]).strip() for k in _META if k in node}}
        columns = node.get("columns")
        for key, value in node.items():
            key = str(key)
            if key in _META or key == "columns":
                continue
            if key == "value":
                _walk(value, path, year, context, out)
                continue
            if _YEAR.match(key):
                _walk(value, path, int(key), context, out)
                continue
            part, found = _split_year(key)
            if isinstance(value, list) and columns and len(columns) == len(value):
                value = dict(zip(columns, value, strict=True))
            _walk(value, [*path, part], found if found is not None else year, context, out)
    elif isinstance(node, list):
        for item in node:
            _walk(item, path, year, context, out)
    elif isinstance(node, int | float) and not isinstance(node, bool):
        name = ".".join(path)
        out.append(
            {
                "figure": name,
                "year": year,
                "value": float(node),
                "unit": _unit(name, path[0]),
                "source": context.get("source", ""),
                "grade": context.get("grade", ""),
                "note": context.get("note", ""),
            }
        )


@cache
def _figures() -> pd.DataFrame:
    rows: list[dict] = []
    for section, node in _document().items():
        if section == "aliases":
            continue
        part, year = _split_year(section)
        _walk(node, [part], year, {}, rows)
    frame = pd.DataFrame(
        rows, columns=["figure", "year", "value", "unit", "source", "grade", "note"]
    )
    frame["year"] = frame["year"].astype("Int64")
    return frame


def _aliases() -> dict[str, str]:
    return {str(k): str(v) for k, v in (_document().get("aliases") or {}).items()}


def _matching(name: str) -> pd.DataFrame:
    frame = _figures()
    name = _aliases().get(name, name)
    exact = frame[frame["figure"] == name]
    if len(exact):
        return exact
    return frame[frame["figure"].str.endswith("." + name)]


def table(pattern: str | None = None, *, year: int | None = None, grade: str | None = None):
    """The reference figures as a table, optionally those whose name contains ``pattern``.

    Parameters
    ----------
    pattern : str, optional
        Keep figures whose name contains this text (case-insensitive), or that an alias names.
    year : int, optional
        Keep figures of this year.
    grade : {"primary", "secondary", "derived"}, optional
        Keep figures of this grade.

    Returns
    -------
    pandas.DataFrame
        One row per figure: ``figure``, ``year``, ``value``, ``unit``, ``source``, ``grade``,
        ``note``.

    Examples
    --------
    >>> from healthlab import reference
    >>> t = reference.table("life_expectancy_at_birth", year=2020)
    >>> t[["figure", "value", "unit"]].to_string(index=False)
    '                  figure  value  unit\\nlife_expectancy_at_birth  77.93 years'
    """
    frame = _figures().copy()
    # Whole numbers shown whole, others as given: census counts beside rates, neither in 1e+07.
    whole = [int(v) if float(v).is_integer() else v for v in frame["value"]]
    frame["value"] = pd.Series(whole, index=frame.index, dtype=object)
    if pattern is not None:
        target = _aliases().get(pattern, pattern)
        keep = frame["figure"].str.contains(re.escape(target), case=False)
        frame = frame[keep]
    if year is not None:
        frame = frame[frame["year"] == check_seed(year, "year")]
    if grade is not None:
        frame = frame[frame["grade"] == grade]
    return frame.reset_index(drop=True)


def figure(name: str, *, year: int | None = None, source: str | None = None) -> Figure:
    """One published figure by name (and year), with its source and grade.

    Parameters
    ----------
    name : str
        The figure's name as :func:`table` lists it, an unambiguous tail of it, or an alias
        (``"e0"``: life expectancy at birth).
    year : int, optional
        Which year; needed when the figure is given for several years, unless the latest is
        wanted (then omit it and the latest is returned).
    source : str, optional
        Text in the source, to choose between surveys that give the same figure.

    Returns
    -------
    Figure
        A float with ``name``, ``year``, ``unit``, ``source``, ``grade`` and ``note``.

    Raises
    ------
    InvalidParameterError
        No figure of that name (or year, or source); or several match and the call does not
        say which.

    Examples
    --------
    >>> from healthlab import reference
    >>> reference.figure("hypertension.adults_18plus_pct", source="Circulation")
    Figure('chronic_disease.hypertension.adults_18plus_pct', 23.2, year=None)
    """
    if not isinstance(name, str):
        raise InvalidParameterError(f"name must be a figure's name (a str), got {name!r}")
    found = _matching(name)
    if found.empty:
        close = table(name.rsplit(".", 1)[-1])["figure"].unique().tolist()[:8]
        hint = f"; names containing it: {close}" if close else ""
        raise InvalidParameterError(
            f"no reference figure named {name!r}{hint}. List them with healthlab.reference.table()"
        )
    if source is not None:
        found = found[found["source"].str.contains(source, case=False, regex=False)]
        if found.empty:
            raise InvalidParameterError(
                f"no figure {name!r} from a source containing {source!r}; its sources are "
                f"{sorted(set(_matching(name)['source']))}"
            )
    if year is not None:
        years = found["year"].dropna().astype(int).tolist()
        found = found[found["year"] == check_seed(year, "year")]
        if found.empty:
            raise InvalidParameterError(
                f"figure {name!r} is given for the years {sorted(set(years))}, not {year!r}"
            )
    elif found["year"].notna().any():
        found = found[found["year"] == found["year"].max()]
    if found["figure"].nunique() > 1 or len(found) > 1:
        options = found[["figure", "year", "source"]].to_dict("records")
        raise InvalidParameterError(
            f"{name!r} matches several figures {options}; give the full name, a year or a "
            "source= to choose one"
        )
    row = found.iloc[0]
    return Figure(
        row["value"],
        name=row["figure"],
        year=None if pd.isna(row["year"]) else int(row["year"]),
        unit=row["unit"],
        source=row["source"],
        grade=row["grade"],
        note=row["note"],
    )
