"""Calibration: each figure a card is calibrated to, beside its value in a built dataset.

A card lists its figures under ``calibration``: the target and its source, the statistic that
computes it from the tables, a tolerance, and ``holds_from``, the smallest size at which the
figure should fall within its tolerance (default ``small``; a tiny dataset of a few thousand
people, or a few provinces, cannot show a national share to half a point). A figure is
``pass`` or ``fail`` at a size that should hold it, ``too small`` below, and ``shown`` when
the card gives no tolerance.
"""

from __future__ import annotations

import textwrap
from collections.abc import Mapping

import pandas as pd

from healthlab.datasets.cards import SIZES, resolve
from healthlab.datasets.dataset import Dataset
from healthlab.errors import CardError

__all__ = ["calibration_report", "calibration_summary"]

_COLUMNS = ["figure", "target", "synthetic", "tolerance", "within", "status", "source"]


class _Tables(Mapping):
    """A dataset's tables by name, partitioned ones read only when asked for.

    A table the dataset lacks is looked up in the card's inputs (built at the same size and
    seed), so a statistic can join records to their population.
    """

    def __init__(self, dataset: Dataset):
        self.dataset = dataset

    def __getitem__(self, table: str) -> pd.DataFrame:
        if table in self.dataset.table_names:
            return self.dataset[table]
        from healthlab.datasets.build import load

        for item in self.dataset.card.get("inputs") or []:
            name = next(iter(item.values())) if isinstance(item, dict) else item
            upstream = load(name, size=self.dataset.size, seed=self.dataset.seed)
            if table in upstream.table_names:
                return upstream[table]
        return self.dataset[table]

    def __iter__(self):
        return iter(self.dataset.table_names)

    def __len__(self) -> int:
        return len(self.dataset.table_names)


def _holds_from(item: dict, name: str) -> str:
    size = item.get("holds_from", "small")
    if size not in SIZES:
        raise CardError(f"card {name!r}: holds_from of {item['figure']!r} must be one of {SIZES}")
    return size


def calibration_summary(dataset: Dataset) -> pd.DataFrame:
    """The card's calibration figures beside the values in ``dataset``.

    Returns
    -------
    pandas.DataFrame
        One row per figure: ``figure``, ``target``, ``synthetic``, ``tolerance``, ``within``
        (whether the synthetic value is within the tolerance, where one is given), ``status``
        (``pass``, ``fail``, ``too small`` for a size below the figure's ``holds_from``, or
        ``shown`` without a tolerance) and ``source``.

    Examples
    --------
    >>> from healthlab import datasets
    >>> summary = datasets.calibration_summary(datasets.load("facilities", size="tiny"))
    >>> sorted(set(summary["status"]) - {"pass", "fail", "too small", "shown"})
    []
    """
    rows = []
    rank = {s: i for i, s in enumerate(SIZES)}
    for item in dataset.card.get("calibration") or []:
        statistic = resolve(item["statistic"])
        value = float(statistic(_Tables(dataset), **(item.get("args") or {})))
        tolerance = item.get("tolerance")
        target = float(item["target"])
        within = None if tolerance is None else abs(value - target) <= float(tolerance)
        if within is None:
            status = "shown"
        elif rank.get(dataset.size, len(SIZES)) < rank[_holds_from(item, dataset.name)]:
            status = "too small"
        else:
            status = "pass" if within else "fail"
        rows.append(
            {
                "figure": item["figure"],
                "target": target,
                "synthetic": value,
                "tolerance": tolerance,
                "within": within,
                "status": status,
                "source": item["source"],
            }
        )
    return pd.DataFrame(rows, columns=_COLUMNS)


def _number(value) -> str:
    if value is None or value != value:  # None or NaN
        return ""
    value = float(value)
    if value.is_integer() or abs(value) >= 10_000:
        return f"{value:,.0f}"
    if abs(value) >= 1:
        return f"{value:,.2f}".rstrip("0").rstrip(".")
    return f"{value:.3g}"


def calibration_report(summary: pd.DataFrame, width: int = 100) -> str:
    """The summary as text that fits ``width`` columns: figures, then their sources.

    Counts print without decimals; each source is numbered and printed below the table.

    Examples
    --------
    >>> import pandas as pd
    >>> s = pd.DataFrame({"figure": ["Hospitals"], "target": [38355.0],
    ...     "synthetic": [38355.0], "tolerance": [0], "within": [True], "status": ["pass"],
    ...     "source": ["NHC bulletin 2023"]})
    >>> print(calibration_report(s))
       figure       target  synthetic  tolerance  status
    1  Hospitals    38,355     38,355          0  pass
    [1] NHC bulletin 2023
    """
    fig_w = max(6, min(44, int(summary["figure"].str.len().max() or 0)))
    lines = [f"   {'figure':<{fig_w}} {'target':>9}  {'synthetic':>9}  {'tolerance':>9}  status"]
    sources: list[str] = []
    for row in summary.itertuples(index=False):
        if row.source not in sources:
            sources.append(row.source)
        mark = sources.index(row.source) + 1
        figure = textwrap.shorten(str(row.figure), fig_w, placeholder="...")
        lines.append(
            f"{mark:<3}{figure:<{fig_w}} {_number(row.target):>9}  {_number(row.synthetic):>9}"
            f"  {_number(row.tolerance):>9}  {row.status}"
        )
    for i, source in enumerate(sources, 1):
        lines += textwrap.wrap(
            f"[{i}] {source}", width=width, subsequent_indent="    ", break_on_hyphens=False
        )
    return "\n".join(lines)
