"""`--scheduler` on `healthlab run` (and grade): the work goes to a real Dask cluster."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest

from healthlab.cli import main

DATA = Path(__file__).parent / "data"
GOOD = DATA / "notebooks" / "fixture-exercises.ipynb"


def task_prefixes(address: str) -> set[str]:
    """Names of the functions the cluster's scheduler has run tasks of."""
    from distributed import Client

    with Client(address, set_as_default=False) as client:
        return set(
            client.run_on_scheduler(lambda dask_scheduler: list(dask_scheduler.task_prefixes))
        )


@pytest.mark.slow
def test_run_fans_notebooks_out_over_a_dask_cluster(dask_cluster, tmp_path, capsys):
    out = tmp_path / "run"
    with pytest.raises(SystemExit) as stop:
        main(["run", str(GOOD), "--size", "tiny", "--out", str(out), "--scheduler", dask_cluster])
    assert stop.value.code == 0, capsys.readouterr()
    results = json.loads((out / "results.json").read_text())
    assert [r["status"] for r in results["results"]] == ["passed"]
    assert "run_notebook" in task_prefixes(dask_cluster)


def test_run_refuses_jobs_with_a_scheduler(capsys):
    with pytest.raises(SystemExit) as stop:
        main(["run", str(GOOD), "--jobs", "2", "--scheduler", "tcp://127.0.0.1:8786"])
    assert stop.value.code == 2
    assert "either --jobs or --scheduler" in capsys.readouterr().err


@pytest.mark.slow
def test_grade_fans_submissions_out_over_a_dask_cluster(dask_cluster, tmp_path, capsys):
    import nbformat
    from grading_helpers import SECRET, SOURCE, solved, write_roster

    secret = tmp_path / "secret"
    secret.write_bytes(SECRET)
    roster = write_roster(tmp_path / "roster.csv", ["s001", "s002"])
    subs = tmp_path / "subs"
    subs.mkdir()
    for student in ("s001", "s002"):
        nbformat.write(solved(), subs / f"{student}.ipynb")
    grades = tmp_path / "grades"
    args = ["grade", str(SOURCE), "--roster", str(roster), "--secret-file", str(secret),
            "--submissions", str(subs), "--out", str(grades), "-p", "size=tiny",
            "--timeout", "60", "--memory", "1024", "--scheduler", dask_cluster]  # fmt: skip
    with pytest.raises(SystemExit) as stop:
        main(args)
    assert stop.value.code == 0, capsys.readouterr()
    assert "graded 2, skipped 0 (already graded), missing 0, unreadable 0, errors 0" in (
        capsys.readouterr().out
    )
    rows = list(csv.DictReader((grades / "grades.csv").read_text().splitlines()))
    assert [r["student_id"] for r in rows] == ["s001", "s002"]
    assert all(r["status"] == "graded" and r["total"] == r["max_total"] for r in rows)
    assert "grade_submission" in task_prefixes(dask_cluster)
