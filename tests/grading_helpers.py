"""Building submissions for the grading tests from the fixture source notebook."""

from __future__ import annotations

import copy
from pathlib import Path

import nbformat

SOURCE = Path(__file__).parent / "data" / "grading" / "grading-fixture.ipynb"
SECRET = b"a course secret for the grading tests"
#: Index of the cell that records q2 (hostile cells go right after it) and of each solution.
SOLUTION = {"q1": 5, "q2": 7, "q3": 9, "q4": 11, "q5": 13}
AUTO_POINTS = 8.0


def solved() -> nbformat.NotebookNode:
    """What a student who solved everything submits: the source without its rules."""
    nb = nbformat.read(SOURCE, as_version=4)
    nb.metadata.pop("healthlab", None)
    for cell in nb.cells:
        tags = cell.metadata.get("tags", [])
        if "solution" in tags:
            cell.metadata["tags"] = [t for t in tags if t != "solution"]
    return nb


def replace(nb, question: str, code: str) -> nbformat.NotebookNode:
    nb = copy.deepcopy(nb)
    nb.cells[SOLUTION[question]].source = code
    return nb


def insert(nb, after: int, code: str) -> nbformat.NotebookNode:
    nb = copy.deepcopy(nb)
    nb.cells.insert(after + 1, nbformat.v4.new_code_cell(code))
    return nb


def hostile(code: str) -> nbformat.NotebookNode:
    """All solutions, with ``code`` in a cell of its own after the cell answering q2."""
    return insert(solved(), SOLUTION["q2"], code)


def probe(code: str) -> nbformat.NotebookNode:
    """All solutions, but q4 (a written answer) records what ``code`` put in ``found``."""
    body = (
        "import json\nfound = []\n"
        + code
        + '\nexercises.answer("q4", "probe " + json.dumps(found) + " and a few more words")'
    )
    return replace(solved(), "q4", body)


def write_roster(path: Path, ids: list[str]) -> Path:
    path.write_text("student_id,name\n" + "".join(f"{i},Student {i}\n" for i in ids))
    return path


def half_credit_when_close(answer, reference, rule):
    """A rule's check function: full marks when equal, half within 10%."""
    if answer == reference:
        return 1.0
    return (0.5, "close, not exact") if abs(answer - reference) <= 0.1 * abs(reference) else 0.0
