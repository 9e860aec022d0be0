"""The `healthlab` command: help, version, exit codes and one-line errors."""

from __future__ import annotations

import subprocess
import sys
from importlib.metadata import version

import pytest

from healthlab.cli import main


def run(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "healthlab", *args], capture_output=True, text=True, timeout=120
    )


def test_version_matches_package_metadata():
    result = run("--version")
    assert result.returncode == 0
    assert result.stdout.strip() == f"healthlab, version {version('healthlab')}"


def test_help_lists_the_command_groups():
    result = run("--help")
    assert result.returncode == 0
    assert "data" in result.stdout.split("Commands:")[1]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["frobnicate"], "No such command 'frobnicate'"),
        (["--frobnicate"], "No such option '--frobnicate'"),
        (["data", "build", "population", "--size", "huge"], "Invalid value for '--size'"),
        (["data", "build", "population", "--seed", "-4"], "Invalid value for '--seed'"),
        (["data", "build", "population", "--seed", "abc"], "a seed is a whole number"),
        (["data", "card", "populaton"], "did you mean 'population'"),
        (["data", "card", "no-such-dataset"], "no dataset named 'no-such-dataset'"),
        (["data", "card"], "Missing argument 'NAME'"),
    ],
)
def test_usage_errors_are_one_line_with_exit_code_2(args, message, capsys):
    with pytest.raises(SystemExit) as stop:
        main(args)
    assert stop.value.code == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1, f"expected one line, got {err!r}"
    assert err.startswith("healthlab: error: ")
    assert message in err


def test_the_entry_point_and_module_agree():
    result = run("frobnicate")
    assert result.returncode == 2
    assert result.stderr.startswith("healthlab: error: No such command")


def test_data_list_says_how_big_each_size_is(capsys):
    with pytest.raises(SystemExit) as stop:
        main(["data", "list"])
    assert stop.value.code == 0
    out = capsys.readouterr().out
    assert "population: Synthetic population of China" in out
    assert "  tiny    2,000 people" in out and "50,000 people" in out


def test_a_bare_group_prints_its_help():
    result = run("data")
    assert result.returncode == 0
    assert "build" in result.stdout and "calibration" in result.stdout


def test_data_build_shows_progress_and_where_it_cached(tmp_path):
    import os

    env = {**os.environ, "HEALTHLAB_HOME": str(tmp_path)}
    result = subprocess.run(
        [sys.executable, "-m", "healthlab", "data", "build", "population", "--size", "tiny"],
        capture_output=True,
        text=True,
        timeout=120,
        env=env,
    )
    assert result.returncode == 0, result.stderr
    # stderr is a pipe here, as in a log file: no progress bar, no carriage returns.
    assert "\r" not in result.stderr and "building" not in result.stderr
    assert "population: 2,000 rows" in result.stdout
    assert str(tmp_path) in result.stdout


CALIBRATION_CARD = """
name: toy_calibration
title: A small population to test the calibration command
description: The population generator at 3,000 people.
synthetic: Every row is synthetic.
generator: healthlab.synth:make_population
seed: 0
sizes:
  tiny: {n_people: 3000}
  small: {n_people: 3000}
tables:
  population: {columns: {person_id: {type: int64}}}
calibration:
  - figure: Share aged 65 and over (%)
    target: 13.5
    tolerance: 3
    source: NBS, 7th census communique No. 5 (2021)
    statistic: healthlab.synth.checks:share_aged
    args: {min_age: 65}
    holds_from: tiny
  - figure: People (a count)
    target: 3000
    tolerance: 0
    source: the card
    statistic: test_cli:row_count
  - figure: A figure set wrong on purpose
    target: 99
    tolerance: 1
    source: nowhere
    statistic: healthlab.synth.checks:share_aged
    args: {min_age: 65}
"""


def row_count(tables) -> float:
    """A calibration statistic that is a count (printed without decimals)."""
    return float(len(tables["population"]))


@pytest.fixture
def calibration_cards(tmp_path, monkeypatch):
    cards = tmp_path / "cards"
    cards.mkdir()
    (cards / "toy_calibration.yaml").write_text(CALIBRATION_CARD)
    monkeypatch.setenv("HEALTHLAB_CARDS", str(cards))
    monkeypatch.setenv("HEALTHLAB_HOME", str(tmp_path / "home"))
    return cards


def test_data_calibration_marks_small_sizes_and_fails_when_a_figure_is_off(
    calibration_cards, capsys
):
    with pytest.raises(SystemExit) as stop:
        main(["data", "calibration", "toy_calibration", "--size", "tiny"])
    out = capsys.readouterr().out
    assert stop.value.code == 0, out  # only figures that hold at tiny can fail there
    assert "too small" in out and "1 pass, 2 too small" in out
    assert all(len(line) <= 100 for line in out.splitlines())
    assert "3,000" in out and "3,000.000" not in out and " 13.5 " in out
    with pytest.raises(SystemExit) as stop:
        main(["data", "calibration", "toy_calibration", "--size", "small"])
    out = capsys.readouterr().out
    assert stop.value.code == 1
    assert "1 fail" in out and "toy_calibration: A figure set wrong on purpose" in out
