"""Tests of healthlab.plotting: the figures hold the numbers they claim to show."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest

from healthlab.allocation import gini, lorenz_curve
from healthlab.errors import InvalidParameterError
from healthlab.plotting import concentration_plot, lorenz_plot, population_pyramid


@pytest.fixture(autouse=True)
def _close():
    yield
    plt.close("all")


def _pop(scale=1.0):
    ages = np.arange(0, 90, 5)
    return pd.DataFrame(
        {
            "age": np.tile(ages, 2),
            "sex": np.repeat(["M", "F"], 18),
            "population": scale * np.r_[np.linspace(100, 10, 18), np.linspace(95, 20, 18)],
        }
    )


def test_pyramid_bars_are_the_shares():
    pop = _pop()
    ax = population_pyramid(pop)
    bars = ax.patches
    assert len(bars) == 36
    total = pop["population"].sum()
    men = [b.get_width() for b in bars[:18]]
    women = [b.get_width() for b in bars[18:]]
    assert men == pytest.approx(-100 * pop.population[:18].to_numpy() / total)
    assert women == pytest.approx(100 * pop.population[18:].to_numpy() / total)
    assert [b.get_y() for b in bars[:18]] == pytest.approx(np.arange(0, 90, 5))
    assert all(not t.get_text().startswith("-") for t in ax.get_xticklabels())


def test_pyramid_counts_and_comparison_outline():
    fig, ax = plt.subplots()
    out = population_pyramid(_pop(), compare=_pop(2.0), share=False, compare_label="2050", ax=ax)
    assert out is ax
    assert ax.get_xlabel() == "Population"
    assert len(ax.patches) == 36 + 2  # bars plus the two outlines
    labels = [t.get_text() for t in ax.get_legend().get_texts()]
    assert sorted(labels) == ["2050", "Men", "Women"]


def test_pyramid_validation():
    with pytest.raises(InvalidParameterError, match="'F' or 'M'"):
        population_pyramid(_pop().assign(sex="x"))
    # An age nobody is in is a bar of 0, not an error.
    gap = population_pyramid(_pop().query("age != 40"), share=False)
    assert len(gap.patches) == len(population_pyramid(_pop()).patches)
    with pytest.raises(InvalidParameterError, match="same age groups"):
        population_pyramid(_pop(), compare=_pop().query("age < 85"))
    with pytest.raises(InvalidParameterError, match="lacks"):
        population_pyramid(_pop().rename(columns={"population": "n"}))


def test_lorenz_plot_draws_the_curve_and_gini():
    values, weights = [6.9, 4.8, 7.3, 5.5], [21, 100, 24, 126]
    ax = lorenz_plot(values, weights, label="beds")
    ax = lorenz_plot([1, 1, 1, 1], label="equal", ax=ax)
    lines = ax.get_lines()
    assert len(lines) == 3  # equality drawn once
    lc = lorenz_curve(values, weights)
    assert lines[1].get_xdata() == pytest.approx(lc["population_share"].to_numpy())
    assert lines[1].get_ydata() == pytest.approx(lc["value_share"].to_numpy())
    texts = [t.get_text() for t in ax.get_legend().get_texts()]
    assert texts[1] == f"beds (Gini {gini(values, weights):.3f})"
    assert texts[2] == "equal (Gini 0.000)"


def test_concentration_plot():
    ax = concentration_plot([0, 1, 1, 0], [4, 1, 2, 3])
    assert ax.get_lines()[-1].get_ydata().tolist() == [0.0, 0.5, 1.0, 1.0, 1.0]


def test_set_theme_uses_the_colour_blind_palette_and_finish_names_the_source():
    from matplotlib.colors import to_hex

    from healthlab.plotting import PALETTE, finish, set_theme

    set_theme()
    cycle = [to_hex(c) for c in plt.rcParams["axes.prop_cycle"].by_key()["color"]]
    assert cycle[:3] == [c.lower() for c in PALETTE[:3]]
    fig, ax = plt.subplots()
    assert finish(ax, "Rural China is older", xlabel="Age (years)", source="census") is None
    assert ax.get_title(loc="left") == "Rural China is older"
    assert ax.get_xlabel() == "Age (years)"
    assert [t.get_text() for t in ax.texts] == ["Source: census"]
    with pytest.raises(InvalidParameterError, match="title"):
        finish(ax, " ")
    with pytest.raises(InvalidParameterError, match="context"):
        set_theme(context="huge")


def test_pyramid_of_person_rows_labels_the_open_group():
    from healthlab.synth import make_population

    people = make_population(3000, seed=1)
    ax = population_pyramid(people, share=False)
    labels = [t.get_text() for t in ax.get_yticklabels()]
    assert labels[0] == "0-4" and labels[-1] == "85+" and "85-89" not in labels
    bars = ax.patches[: len(ax.patches) // 2]  # the men
    assert -sum(b.get_width() for b in bars) == (people["sex"] == "M").sum()
    single = population_pyramid(people, width=1, open_age=100)
    assert [t.get_text() for t in single.get_yticklabels()][-1] == "100+"
