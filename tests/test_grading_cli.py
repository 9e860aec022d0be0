"""`healthlab assign`, `healthlab validate` and `healthlab grade` from the shell."""

from __future__ import annotations

import os
import subprocess
import sys

import nbformat
import pytest
from grading_helpers import SECRET, SOURCE, solved, write_roster


def run(*args: str, cwd=None, env=None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "healthlab", *args],
        capture_output=True,
        text=True,
        timeout=600,
        cwd=cwd,
        env=env,
    )


@pytest.fixture
def course(tmp_path):
    secret = tmp_path / "secret"
    secret.write_bytes(SECRET)
    return write_roster(tmp_path / "roster.csv", ["s001", "s002"]), secret


def test_assign_then_grade_a_corrupted_and_a_missing_submission(tmp_path, course):
    roster, secret = course
    done = run(
        "assign",
        str(SOURCE),
        "--roster",
        str(roster),
        "--secret-file",
        str(secret),
        "--out",
        str(tmp_path / "release"),
        "-p",
        "size=tiny",
    )
    assert done.returncode == 0, done.stderr
    assert "wrote 2 student notebooks" in done.stdout
    subs = tmp_path / "subs"
    subs.mkdir()
    (subs / "s001.ipynb").write_text("not a notebook")
    (subs / "notes.txt").write_text("hello")
    done = run(
        "grade",
        str(SOURCE),
        "--roster",
        str(roster),
        "--secret-file",
        str(secret),
        "--submissions",
        str(subs),
        "--out",
        str(tmp_path / "grades"),
        "-p",
        "size=tiny",
        "--jobs",
        "1",
        "--timeout",
        "30",
        "--memory",
        "1024",
    )
    assert done.returncode == 0, done.stderr
    assert "missing 1, unreadable 1" in done.stdout
    assert "no roster student for notes.txt" in done.stdout
    assert (tmp_path / "grades" / "grades.csv").read_text().count("\n") == 3


def test_grade_refuses_a_roster_without_student_ids(tmp_path, course):
    _, secret = course
    bad = tmp_path / "bad.csv"
    bad.write_text("name\nLi\n")
    done = run(
        "grade",
        str(SOURCE),
        "--roster",
        str(bad),
        "--secret-file",
        str(secret),
        "--submissions",
        str(tmp_path),
        "--out",
        str(tmp_path / "g"),
    )
    assert done.returncode == 1
    assert "no student_id column" in done.stderr


@pytest.mark.slow
def test_validate_says_which_questions_are_ready(tmp_path):
    nb = solved()
    nb.cells[1].source = 'seed = 3  # the seed\nsize = "tiny"  # how big'
    nb.cells[13].source = "oldest = ...  # YOUR CODE HERE\nexercises.answer('q5', oldest)"
    nbformat.write(nb, tmp_path / "mine.ipynb")
    scratch = tmp_path / "tmp"  # the run's temporary folders go here, to see none is left
    scratch.mkdir()
    env = {**os.environ, "TMPDIR": str(scratch)}
    done = run("validate", str(tmp_path / "mine.ipynb"), cwd=tmp_path, env=env)
    assert done.returncode == 1, done.stderr
    assert not [p.name for p in scratch.iterdir() if p.name.startswith("healthlab-validate-")]
    assert "ok   q1 (2 points): answered" in done.stdout
    assert "todo q5 (2 points): no answer recorded" in done.stdout
    assert "4 of 5 questions" in done.stdout
