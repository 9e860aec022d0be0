"""One grading run over every hostile submission: each ends as it should, none harms another.

All submissions are graded in ONE run (two at a time, through the real sandbox, papermill and
kernels, at ``tiny``). A hostile cell sits after the answer to q2, so what a submission earned
before it (q1 and q2: 3 points) must survive, and nothing may be earned that was not.
"""

from __future__ import annotations

import json
import os
import sqlite3
from pathlib import Path

import nbformat
import pytest
from grading_helpers import (
    AUTO_POINTS,
    SECRET,
    SOURCE,
    hostile,
    insert,
    probe,
    replace,
    solved,
    write_roster,
)

from healthlab import grading
from healthlab.grading import sandbox
from healthlab.grading.assign import derive_seed

pytestmark = pytest.mark.slow

BEFORE = 3.0  # q1 (2) + q2 (1): answered before every hostile cell
LIMITS = grading.Limits(
    cell_timeout=20, memory_mb=1024, processes=200, file_mb=32, disk_mb=128, output_bytes=200_000
)


def _submissions(folder: Path, secret_file: Path, out: Path) -> dict[str, object]:
    """Every case: a notebook (or raw bytes) per student id."""
    other_seed = derive_seed(SECRET, SOURCE.stem, "correct")
    wrong = solved()
    wrong = replace(wrong, "q1", 'exercises.answer("q1", float(people["age"].mean()) + 5)')
    wrong = replace(
        wrong, "q2", 'exercises.answer("q2", str(people["sex"].value_counts().idxmin()))'
    )
    wrong = replace(
        wrong,
        "q3",
        'by_region = people.groupby("region", observed=True).size()'
        '.rename("people").reset_index()\nby_region["people"] += 1\n'
        'exercises.answer("q3", by_region)',
    )
    wrong = replace(wrong, "q5", 'exercises.answer("q5", [0, 0, 0, 0, 0])')
    some = replace(replace(solved(), "q2", wrong.cells[7].source), "q5", wrong.cells[13].source)
    seed_changed = solved()
    seed_changed.cells[1].source = 'seed = 12345  # my favourite seed\nsize = "tiny"'
    paths = {
        "source": str(SOURCE),
        "secret": str(secret_file),
        "other": str(folder / "correct.ipynb"),
        "roster": str(folder.parent / "roster.csv"),
        "gradebook": str(out / "gradebook.sqlite"),
    }
    return {
        "correct": solved(),
        "wrong": wrong,
        "some": some,
        "syntax": replace(solved(), "q2", "majority = (\nexercises.answer('q2', majority)"),
        "loop": hostile("while True:\n    pass"),
        "memory": hostile("blocks = []\nwhile True:\n    blocks.append(bytearray(1 << 26))"),
        "print_gb": hostile(
            'chunk = "x" * (1 << 20)\nfor _ in range(1024):\n    print(chunk, flush=True)'
        ),
        "huge_file": hostile(
            'with open("big.bin", "wb") as fh:\n    for _ in range(4096):\n'
            "        fh.write(bytes(1 << 20))"
        ),
        "fork_storm": hostile(
            "import os, time\nfor _ in range(100000):\n    if os.fork() == 0:\n"
            "        time.sleep(600)\n        os._exit(0)"
        ),
        "exit": hostile("import os\nos._exit(1)"),
        "background": hostile(
            'import subprocess\nsubprocess.Popen(["sleep", "600"], start_new_session=True)'
        ),
        "network": probe(
            "import urllib.request\ntry:\n"
            "    urllib.request.urlopen('http://example.com', timeout=5)\n"
            "    found.append('reached example.com')\nexcept Exception as err:\n"
            "    pass"
        ),
        "snoop": probe(
            f"paths = {json.dumps(paths)}\nfor name, path in paths.items():\n    try:\n"
            "        open(path, 'rb').read(1)\n        found.append(name)\n"
            "    except OSError:\n        pass"
        ),
        "tamper": probe(
            f"targets = [{json.dumps(paths['gradebook'])}, {json.dumps(str(out / 'grades.csv'))},"
            f" {json.dumps(str(out / 'planted.txt'))}]\nfor target in targets:\n    try:\n"
            "        with open(target, 'a') as fh:\n            fh.write('all marks to me')\n"
            "        found.append(target)\n    except OSError:\n        pass"
        ),
        "seed": seed_changed,
        "copier": insert(solved(), 1, f"seed = {other_seed}  # someone else's"),
        "liar": replace(
            replace(
                solved(),
                "q1",
                "class Always:\n    def __eq__(self, other):\n"
                "        return True\n\nexercises.answer('q1', Always())",
            ),
            "q5",
            "class Liar(float):\n    def __eq__(self, other):\n        return True\n\n"
            "exercises.answer('q5', [Liar(0)] * 5)",
        ),
        "corrupt": b'{"cells": [ this is not JSON',
        "stranger": solved(),
    }


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    base = tmp_path_factory.mktemp("grading")
    folder, out = base / "submissions", base / "grades"
    folder.mkdir()
    secret_file = base / "secret"
    secret_file.write_bytes(SECRET)
    cases = _submissions(folder, secret_file, out)
    roster_ids = [sid for sid in cases if sid != "stranger"] + ["absent"]
    roster = write_roster(base / "roster.csv", roster_ids)
    for sid, content in cases.items():
        target = folder / f"{sid}.ipynb"
        if isinstance(content, bytes):
            target.write_bytes(content)
        else:
            nbformat.write(content, target)
    report = grading.grade(
        SOURCE,
        roster=roster,
        secret_file=secret_file,
        submissions=folder,
        out=out,
        parameters={"size": "tiny"},
        jobs=2,
        limits=LIMITS,
    )
    with grading.gradebook.Gradebook(out / "gradebook.sqlite") as book:
        students = {s["student_id"]: s for s in book.students()}
        scores = {}
        for s in book.scores():
            scores.setdefault(s["student_id"], {})[s["question"]] = s
    return {
        "report": report,
        "students": students,
        "scores": scores,
        "out": out,
        "roster": roster_ids,
    }


def points(graded, sid, *questions):
    return sum(graded["scores"][sid][q]["points"] for q in questions)


def total(graded, sid):
    return graded["students"][sid]["total"]


def problems(graded, sid):
    return " | ".join(graded["students"][sid]["problems"])


def test_gradebook_holds_every_roster_student_and_passes_integrity_check(graded):
    assert sorted(graded["students"]) == sorted(graded["roster"])
    con = sqlite3.connect(graded["out"] / "gradebook.sqlite")
    assert con.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    assert graded["report"].errors == {}


def test_honest_submissions_score_what_they_earned(graded):
    assert total(graded, "correct") == AUTO_POINTS
    assert total(graded, "wrong") == 0
    assert points(graded, "some", "q1", "q3") == 5 and points(graded, "some", "q2", "q5") == 0
    assert total(graded, "some") == 5
    assert graded["scores"]["correct"]["q4"]["status"] == "manual"


def test_a_syntax_error_costs_only_its_own_question(graded):
    assert graded["scores"]["syntax"]["q2"]["points"] == 0
    assert total(graded, "syntax") == AUTO_POINTS - 1
    assert "SyntaxError" in problems(graded, "syntax")


@pytest.mark.parametrize(
    "sid, evidence",
    [
        ("loop", "time limit"),
        ("memory", "MemoryError"),
        ("print_gb", "output limit"),
        ("huge_file", "File too large"),
        ("fork_storm", "BlockingIOError"),
        ("exit", "kernel died"),
        ("background", "left running were killed"),
    ],
)
def test_hostile_cells_keep_what_was_earned_before_them(graded, sid, evidence):
    assert points(graded, sid, "q1", "q2") == BEFORE
    assert total(graded, sid) <= AUTO_POINTS
    assert evidence in problems(graded, sid)


def test_cells_after_a_timeout_or_an_error_still_count(graded):
    for sid in ("loop", "memory", "huge_file", "background"):
        assert total(graded, sid) == AUTO_POINTS, (sid, problems(graded, sid))
    assert total(graded, "exit") == BEFORE  # nothing runs once the kernel is gone


def test_no_network_and_nothing_private_is_readable_or_writable(graded):
    for sid in ("network", "snoop", "tamper"):
        recorded = graded["scores"][sid]["q4"]["answer"]
        assert recorded.startswith("probe [] "), (sid, recorded)
        assert total(graded, sid) == AUTO_POINTS
    out = graded["out"]
    assert not (out / "planted.txt").exists()
    assert "all marks to me" not in (out / "grades.csv").read_text()


def test_no_sandbox_process_survives_the_run(graded):
    if not graded["report"].isolation.startswith("root"):
        pytest.skip("sandbox uids are used as root only")
    left = []
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            uid = os.stat(f"/proc/{pid}").st_uid
        except FileNotFoundError:
            continue
        if sandbox.UID_BASE <= uid < sandbox.UID_BASE + sandbox.UID_COUNT:
            left.append(pid)
    assert left == []


def test_the_seed_is_the_rosters_not_the_submissions(graded):
    seeds = {sid: s["parameters"]["seed"] for sid, s in graded["students"].items()}
    assert seeds["seed"] == derive_seed(SECRET, SOURCE.stem, "seed") != 12345
    assert total(graded, "seed") == AUTO_POINTS
    assert len(set(seeds.values())) == len(seeds)


def test_answers_matching_another_students_reference_are_flagged(graded):
    assert "correct" in (graded["students"]["copier"]["flagged"] or "")
    assert total(graded, "copier") < AUTO_POINTS
    flagged = {s for s, row in graded["students"].items() if row["flagged"]}
    assert flagged == {"copier"}


def test_a_lying_equality_gains_nothing(graded):
    assert graded["scores"]["liar"]["q1"]["status"] == "missing"
    assert graded["scores"]["liar"]["q5"]["points"] == 0
    assert total(graded, "liar") == AUTO_POINTS - 4


def test_unreadable_missing_and_unknown_files_are_reported(graded):
    report = graded["report"]
    assert graded["students"]["corrupt"]["status"] == "unreadable"
    assert "not a readable notebook" in graded["students"]["corrupt"]["reason"]
    assert graded["students"]["absent"]["status"] == "missing"
    assert report.missing == ["absent"] and report.unreadable == ["corrupt"]
    assert "stranger.ipynb" in report.unmatched


def test_grades_csv_has_one_row_per_roster_student(graded):
    import csv

    rows = list(csv.DictReader((graded["out"] / "grades.csv").read_text().splitlines()))
    assert [r["student_id"] for r in rows] == sorted(graded["roster"])
    by_id = {r["student_id"]: r for r in rows}
    assert by_id["correct"]["total"] == "8" and by_id["correct"]["q4"] == ""
    assert by_id["absent"]["total"] == "0" and by_id["absent"]["reason"] == "no submission"
    assert by_id["copier"]["reason"].startswith("flagged")


def test_feedback_pages_reveal_no_reference_answer(graded):
    pages = graded["out"] / "feedback"
    assert sorted(p.stem for p in pages.glob("*.html")) == sorted(graded["roster"])
    for sid in ("correct", "wrong", "some"):
        page = (pages / f"{sid}.html").read_text()
        reference = graded["scores"][sid]["q1"]["reference"]
        assert f"{reference}" not in page and f"{reference:.2f}" not in page
        assert "q1" in page
    summary = (graded["out"] / "summary.html").read_text()
    assert graded["report"].isolation.split(":")[0] in summary
    assert "copier" in summary and "Flagged" in summary
