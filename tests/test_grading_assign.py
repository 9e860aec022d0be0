"""assign: per-student seeds from the secret, parameters written in, solutions blanked."""

from __future__ import annotations

import json

import nbformat
import pytest
from grading_helpers import SECRET, SOURCE, write_roster

from healthlab import exercises
from healthlab.errors import GradingError, RosterError
from healthlab.grading import assign
from healthlab.grading.assign import derive_seed, read_roster


@pytest.fixture
def course(tmp_path):
    secret = tmp_path / "secret"
    secret.write_bytes(SECRET + b"\n")
    return write_roster(tmp_path / "roster.csv", ["s001", "s002", "s003"]), secret


def test_seeds_differ_by_student_and_assignment_and_need_the_secret():
    seeds = {derive_seed(SECRET, "a1", f"s{i:03d}") for i in range(500)}
    assert len(seeds) == 500
    assert derive_seed(SECRET, "a1", "s001") != derive_seed(SECRET, "a2", "s001")
    assert derive_seed(SECRET, "a1", "s001") != derive_seed(b"another secret", "a1", "s001")
    assert derive_seed(SECRET, "a1", "s001") == derive_seed(SECRET, "a1", "s001")


def test_assign_writes_one_blank_notebook_per_student(tmp_path, course):
    roster, secret = course
    manifest = json.loads(
        assign(
            SOURCE,
            roster=roster,
            secret_file=secret,
            out=tmp_path / "rel",
            parameters={"size": "tiny"},
        ).read_text()
    )
    assert [s["student_id"] for s in manifest["students"]] == ["s001", "s002", "s003"]
    for entry in manifest["students"]:
        nb = nbformat.read(tmp_path / "rel" / entry["file"], as_version=4)
        seed = derive_seed(SECRET, "grading-fixture", entry["student_id"])
        assert exercises.parameters(nb) == {"seed": seed, "size": "tiny"}
        assert entry["parameters"] == {"seed": seed, "size": "tiny"}
        text = nbformat.writes(nb)
        assert "BEGIN SOLUTION" not in text and "mean()" not in text
        assert "rules" not in nb.metadata.get("healthlab", {})
        assert "# the student's seed" in nb.cells[1].source  # comments kept
    first = (tmp_path / "rel" / "s001.ipynb").read_text()
    assign(
        SOURCE, roster=roster, secret_file=secret, out=tmp_path / "rel", parameters={"size": "tiny"}
    )
    assert (tmp_path / "rel" / "s001.ipynb").read_text() == first  # safe to run twice


def test_roster_columns_named_like_parameters_reach_the_notebook(tmp_path, course):
    _, secret = course
    roster = tmp_path / "r.csv"
    roster.write_text("student_id,size,name\ns001,tiny,Li\n")
    assign(SOURCE, roster=roster, secret_file=secret, out=tmp_path / "rel")
    nb = nbformat.read(tmp_path / "rel" / "s001.ipynb", as_version=4)
    assert exercises.parameters(nb)["size"] == "tiny"


@pytest.mark.parametrize(
    "text, message",
    [
        ("name\nLi\n", "no student_id column"),
        ("student_id\ns001\ns001\n", "appears twice"),
        ("student_id\n../etc/passwd\n", "must be letters"),
        ("student_id\n", "lists no student"),
    ],
)
def test_bad_rosters_say_what_to_fix(tmp_path, text, message):
    path = tmp_path / "roster.csv"
    path.write_text(text)
    with pytest.raises(RosterError, match=message):
        read_roster(path)


def test_a_short_secret_or_unknown_parameter_is_refused(tmp_path, course):
    roster, _ = course
    short = tmp_path / "short"
    short.write_text("abc")
    with pytest.raises(GradingError, match="at least 8"):
        assign(SOURCE, roster=roster, secret_file=short, out=tmp_path / "x")
    with pytest.raises(GradingError, match="no parameters"):
        assign(
            SOURCE,
            roster=roster,
            secret_file=course[1],
            out=tmp_path / "x",
            parameters={"sizes": "tiny"},
        )
