"""Figures the case studies draw: the population pyramid and the Lorenz curve.

Each function draws on a matplotlib ``Axes`` (a new figure if none is given) and returns it, so
a notebook can add titles or combine panels. matplotlib is imported when a figure is drawn,
not when healthlab is imported.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from healthlab._validation import age_grid, check_columns, check_frame, numeric, positive
from healthlab.allocation.equity import concentration_curve, gini, lorenz_curve
from healthlab.errors import InvalidParameterError

__all__ = [
    "PALETTE",
    "concentration_plot",
    "finish",
    "lorenz_plot",
    "population_pyramid",
    "set_theme",
]

#: Colours of the two sexes (colour-blind safe pair).
SEX_COLOURS = {"M": "#4C72B0", "F": "#DD8452"}


def _axes(ax):
    import matplotlib.pyplot as plt

    if ax is None:
        _, ax = plt.subplots(figsize=(6, 5))
    return ax


def _pyramid_values(data, age, sex, value, share, name, width=None, open_age=None):
    check_frame(data, name)
    # One row per person (no count column, and people share an age and a sex): count them.
    rows = value not in data.columns and data.duplicated([age, sex]).any()
    check_columns(data, [age, sex] if rows else [age, sex, value], frame=name)
    counts = data[[age, sex]].assign(**{value: 1}) if rows else data[[age, sex, value]]
    numeric(counts[value], f"{name}[{value!r}]")
    bad = sorted(set(counts[sex].astype(str)) - {"F", "M"})
    if bad:
        raise InvalidParameterError(f"{name}[{sex!r}] must be coded 'F' or 'M', got {bad}")
    if rows and width is None:
        width, open_age = 5, 85 if open_age is None else open_age
    years = numeric(counts[age], f"{name}[{age!r}]")
    if width is not None or open_age is not None:
        step = positive(width if width is not None else 1, "width", integer=True)
        top = years.max() if open_age is None else positive(open_age, "open_age", integer=True)
        grouped = np.minimum(years, top) // step * step
        counts = counts.assign(**{age: np.where(years >= top, top, grouped)})
    wide = counts.pivot_table(
        index=age, columns=sex, values=value, aggfunc="sum", fill_value=0, observed=True
    )
    wide = wide.reindex(columns=["M", "F"], fill_value=0).sort_index().astype(float)
    index = wide.index.to_numpy(dtype=float)
    abridged = len(index) > 2 and index[0] == 0 and index[1] == 1 and index[2] == 5
    if width is not None or open_age is not None:  # every group to the open one, 0 if empty
        wide = wide.reindex(np.append(np.arange(0, top, step), top), fill_value=0.0)
    elif len(index) > 1 and not abridged:  # fill the ages nobody is in with 0
        step = np.gcd.reduce(np.diff(index).astype(np.int64))
        full = np.arange(index[0], index[-1] + step, step)
        wide = wide.reindex(full, fill_value=0.0)
    ages, widths = age_grid(wide.index.to_numpy(), f"{name}[{age!r}]", start_at_zero=False)
    if share:
        wide = 100 * wide / wide.to_numpy().sum()
    return wide, ages, widths


def _age_labels(ages: np.ndarray, widths: np.ndarray) -> tuple[np.ndarray, list[str]]:
    """Tick positions (group starts) and labels such as ``0-4`` and ``85+`` (the open group)."""
    labels = [
        f"{a:g}+" if not np.isfinite(w) else (f"{a:g}" if w == 1 else f"{a:g}-{a + w - 1:g}")
        for a, w in zip(ages, widths, strict=True)
    ]
    every = max(1, -(-len(ages) // 12))
    keep = [i for i in range(len(ages)) if i % every == 0 or i == len(ages) - 1]
    return ages[keep], [labels[i] for i in keep]


def population_pyramid(
    data: pd.DataFrame,
    *,
    compare: pd.DataFrame | None = None,
    age: str = "age",
    sex: str = "sex",
    value: str = "population",
    share: bool = True,
    compare_label: str = "compare",
    width: int | None = None,
    open_age: int | None = None,
    ax=None,
):
    """Draw a population pyramid: men to the left, women to the right, by age group.

    Parameters
    ----------
    data : pandas.DataFrame
        Either counts, with columns ``age`` (single years or groups), ``sex`` (``"F"``/``"M"``)
        and ``population`` (rows of the same age and sex are summed), or one row per person
        (no ``population`` column; a population dataset's table), counted by age and sex.
        Ages nobody is in are drawn as 0; the last group is open and labelled ``85+``.
    compare : pandas.DataFrame, optional
        A second population on the same grid drawn as an outline (for example the projection
        for 2050 over the census of 2020).
    age, sex, value : str
        Column names.
    share : bool, default True
        Plot percentages of the total (so populations of different sizes compare) rather than
        counts.
    compare_label : str, default "compare"
        Legend label of the ``compare`` outline (for example ``"2050"``).
    width, open_age : int, optional
        Group ages into ``width``-year groups with ``open_age`` and over as the last; person
        rows are grouped 0-4, 5-9, ..., 85+ unless told otherwise.
    ax : matplotlib.axes.Axes, optional

    Returns
    -------
    matplotlib.axes.Axes

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> import pandas as pd
    >>> from healthlab.plotting import population_pyramid
    >>> pop = pd.DataFrame({"age": [0, 5, 10] * 2, "sex": ["M"] * 3 + ["F"] * 3,
    ...                     "population": [30, 20, 10, 28, 21, 12]})
    >>> ax = population_pyramid(pop)
    >>> len(ax.patches), ax.get_xlabel()
    (6, 'Share of population (%)')
    >>> people = pd.DataFrame({"age": [3, 3, 40, 91, 97], "sex": ["F", "F", "M", "F", "M"]})
    >>> [t.get_text() for t in population_pyramid(people).get_yticklabels()][-2:]
    ['80-84', '85+']
    """
    wide, ages, widths = _pyramid_values(data, age, sex, value, share, "data", width, open_age)
    ax = _axes(ax)
    height = np.where(np.isfinite(widths), widths, widths[0] if len(widths) else 1.0)
    ax.barh(ages, -wide["M"], height=height, align="edge", color=SEX_COLOURS["M"], label="Men")
    ax.barh(ages, wide["F"], height=height, align="edge", color=SEX_COLOURS["F"], label="Women")
    if compare is not None:
        other, o_ages, _ = _pyramid_values(
            compare, age, sex, value, share, "compare", width, open_age
        )
        if not np.array_equal(o_ages, ages):
            raise InvalidParameterError(
                "compare must use the same age groups as data; aggregate one of them first"
            )
        edges = np.append(ages, ages[-1] + height[-1])
        for col, sign in (("M", -1), ("F", 1)):
            ax.stairs(
                sign * other[col].to_numpy(),
                edges,
                orientation="horizontal",
                color="black",
                linewidth=1.2,
                baseline=None,
                label=compare_label if col == "M" else None,
            )
    lim = np.nanmax(np.abs(ax.get_xlim()))
    ax.set_xlim(-lim, lim)
    ticks = ax.get_xticks()
    ax.set_xticks(ticks)
    ax.set_xticklabels([f"{abs(t):g}" for t in ticks])
    ax.axvline(0, color="white", linewidth=0.8)
    ax.set_xlabel("Share of population (%)" if share else "Population")
    ticks, labels = _age_labels(ages, widths)
    ax.set_yticks(ticks + height[0] / 2 if len(ticks) else ticks)
    ax.set_yticklabels(labels)
    ax.set_ylabel("Age")
    ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.12), ncol=3, frameon=False)
    return ax


def lorenz_plot(values, weights=None, *, label: str | None = None, ax=None):
    """Draw the Lorenz curve of a distribution with the line of equality; Gini in the legend.

    Call it again on the same ``ax`` to compare distributions (for example beds per 1,000
    before and after an allocation).

    Parameters
    ----------
    values : array-like
        Non-negative values of each unit (for example doctors per 1,000 by province).
    weights : array-like, optional
        Population of each unit.
    label : str, optional
        Legend label; the Gini coefficient is appended.
    ax : matplotlib.axes.Axes, optional

    Returns
    -------
    matplotlib.axes.Axes

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> from healthlab.plotting import lorenz_plot
    >>> ax = lorenz_plot([1, 2, 3, 10], label="beds")
    >>> ax.get_legend().get_texts()[-1].get_text()
    'beds (Gini 0.438)'
    """
    lc = lorenz_curve(values, weights)
    g = gini(values, weights)
    name = f"{label} (Gini {g:.3f})" if label else f"Gini {g:.3f}"
    return _share_curve(
        _axes(ax),
        lc["population_share"],
        lc["value_share"],
        name,
        "Cumulative share of population",
        "Cumulative share of the resource",
    )


def _share_curve(ax, x, y, label, xlabel, ylabel):
    """Draw a cumulative-share curve on the unit square, with the line of equality once."""
    if not any(line.get_label() == "Equality" for line in ax.get_lines()):
        ax.plot([0, 1], [0, 1], color="grey", linestyle="--", linewidth=1, label="Equality")
    ax.plot(x, y, marker=".", label=label)
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1)
    ax.set_aspect("equal")
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.legend(loc="upper left", frameon=False)
    return ax


def concentration_plot(health, rank_by, weights=None, *, label: str | None = None, ax=None):
    """Draw the concentration curve of a health variable against a socioeconomic ranking.

    A curve above the diagonal means the variable is concentrated among the poor.

    Parameters
    ----------
    health, rank_by, weights : array-like
        As in :func:`healthlab.allocation.concentration_index`.
    label : str, optional
    ax : matplotlib.axes.Axes, optional

    Returns
    -------
    matplotlib.axes.Axes

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> from healthlab.plotting import concentration_plot
    >>> ax = concentration_plot([1, 1, 0, 0], [1, 2, 3, 4], label="ill")
    >>> ax.get_lines()[-1].get_ydata().tolist()
    [0.0, 0.5, 1.0, 1.0, 1.0]
    """
    cc = concentration_curve(health, rank_by, weights)
    return _share_curve(
        _axes(ax),
        cc["population_share"],
        cc["health_share"],
        label or "health",
        "Cumulative share of population, poorest first",
        "Cumulative share of the health variable",
    )


# --------------------------------------------------------------------------- the shared look

#: The colour-blind-safe palette every case-study figure uses (seaborn's ``colorblind``, after
#: Okabe and Ito): blue, orange, green, vermilion, purple, brown, pink, grey, yellow, sky blue.
PALETTE = (
    "#0173B2",
    "#DE8F05",
    "#029E73",
    "#D55E00",
    "#CC78BC",
    "#CA9161",
    "#FBAFE4",
    "#949494",
    "#ECE133",
    "#56B4E9",
)


def set_theme(*, context: str = "notebook") -> None:
    """Give every figure of a session the look the case studies share.

    seaborn's ``whitegrid`` style with the colour-blind palette :data:`PALETTE`, a figure size
    that fits a notebook column, left-aligned bold titles (a title states the finding) and no
    top or right spines. Call it once, in a notebook's first code cell.

    Parameters
    ----------
    context : {"paper", "notebook", "talk", "poster"}, default "notebook"
        seaborn's scaling of fonts and lines.

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> from healthlab.plotting import PALETTE, set_theme
    >>> set_theme()
    >>> import matplotlib.pyplot as plt
    >>> from matplotlib.colors import to_hex
    >>> to_hex(plt.rcParams["axes.prop_cycle"].by_key()["color"][0]) == PALETTE[0].lower()
    True
    """
    import seaborn as sns

    if context not in ("paper", "notebook", "talk", "poster"):
        raise InvalidParameterError(
            f"context must be 'paper', 'notebook', 'talk' or 'poster', got {context!r}"
        )
    sns.set_theme(
        context=context,
        style="whitegrid",
        palette=list(PALETTE),
        rc={
            "figure.figsize": (7.0, 4.2),
            "figure.dpi": 100,
            "savefig.bbox": "tight",
            "axes.titlesize": "medium",
            "axes.titleweight": "bold",
            "axes.titlelocation": "left",
            "axes.spines.top": False,
            "axes.spines.right": False,
            "legend.frameon": False,
        },
    )


def finish(ax, title: str, *, xlabel: str | None = None, ylabel: str | None = None,
           source: str | None = None) -> None:  # fmt: skip
    """Title a figure with its finding, label its axes with units and name its source.

    The source goes in small grey type under the x-axis label (``"Source: ..."``), so a figure
    copied out of the notebook still says where its numbers come from. Returns nothing, so a
    notebook cell that ends with it prints no object.

    Parameters
    ----------
    ax : matplotlib.axes.Axes
    title : str
        The finding, for example ``"Rural China is older than urban China"``.
    xlabel, ylabel : str, optional
        Axis labels with units, for example ``"Age (years)"``.
    source : str, optional
        Where the data come from, for example ``"healthlab synthetic population (small, seed 0)"``.

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> import matplotlib.pyplot as plt
    >>> from healthlab.plotting import finish
    >>> fig, ax = plt.subplots()
    >>> finish(ax, "Beds rise with income", xlabel="Income quintile", source="synthetic")
    >>> ax.get_title(loc="left"), ax.get_xlabel(), ax.texts[-1].get_text()
    ('Beds rise with income', 'Income quintile', 'Source: synthetic')
    """
    if not isinstance(title, str) or not title.strip():
        raise InvalidParameterError("title must say what the figure shows, as a sentence")
    ax.set_title(title, loc="left")
    if xlabel is not None:
        ax.set_xlabel(xlabel)
    if ylabel is not None:
        ax.set_ylabel(ylabel)
    if source:
        # below the x-axis label (or below the legend a pyramid puts under the axes)
        legend = ax.get_legend()
        below = (
            legend if legend is not None and legend.get_bbox_to_anchor().y0 < ax.bbox.y0 else None
        )
        ax.annotate(
            f"Source: {source}",
            xy=(0, 0),
            xycoords=("axes fraction", below or ax.xaxis.label),
            xytext=(0, -3),
            textcoords="offset points",
            fontsize="x-small",
            color="#555555",
            ha="left",
            va="top",
        )
