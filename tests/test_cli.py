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


def test_data_list_and_calibration_run(capsys):
    with pytest.raises(SystemExit) as stop:
        main(["data", "list"])
    assert stop.value.code == 0
    assert capsys.readouterr().out.strip()


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
    assert "building population (tiny)" in result.stderr  # the progress bar
    assert "population: 2,000 rows" in result.stdout
    assert str(tmp_path) in result.stdout
