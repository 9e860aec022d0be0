"""A small course to try the grading commands on: a one-question source, a roster and a secret.

The examples of :func:`~healthlab.grading.assign`, :func:`~healthlab.grading.validate`,
:func:`~healthlab.grading.grade` and :class:`~healthlab.grading.GradeReport` all start from
it, and an instructor can read it as the smallest source notebook the grading contract accepts.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import nbformat

__all__ = ["example_course"]

SECRET = b"a course secret of at least 8 bytes"


@dataclass(frozen=True)
class ExampleCourse:
    """The files :func:`example_course` wrote, and what they hold."""

    folder: Path
    source: Path
    roster: Path
    secret_file: Path
    students: tuple[str, ...]
    secret: bytes = SECRET


def _source() -> nbformat.NotebookNode:
    v4 = nbformat.v4
    nb = v4.new_notebook(
        metadata={
            "kernelspec": {"name": "python3", "language": "python", "display_name": "Python 3"},
            "healthlab": {"rules": {"q1": {"tolerance": 0.01}}},
        }
    )
    nb.cells = [
        v4.new_code_cell('seed = 0\nsize = "tiny"', metadata={"tags": ["parameters"]}),
        v4.new_code_cell(
            "from healthlab import exercises\n"
            'ex = exercises.start("mean-age", '
            '{"q1": exercises.Number(points=2, low=0, high=100)})'
        ),
        v4.new_markdown_cell("**Question 1 (2 points).** The mean age of the sample."),
        v4.new_code_cell(
            "import random\n"
            "rng = random.Random(seed)\n"
            "ages = [rng.randint(20, 80) for _ in range(50)]\n"
            "# BEGIN SOLUTION\n"
            "mean_age = sum(ages) / len(ages)\n"
            "# END SOLUTION\n"
            'exercises.answer("q1", mean_age)',
            metadata={"tags": ["solution"]},
        ),
    ]
    return nb


def example_course(
    folder: str | os.PathLike, *, students: tuple[str, ...] = ("s001", "s002")
) -> ExampleCourse:
    """Write a one-question assignment into ``folder``: its source, a roster and a secret.

    The source ``mean-age.ipynb`` has what every gradable notebook has: a cell tagged
    ``parameters`` (``seed`` and ``size``), a cell declaring the question (``q1``, a number
    worth 2 points), the question in words, and a cell tagged ``solution`` whose code between
    ``# BEGIN SOLUTION`` and ``# END SOLUTION`` computes the answer it records; its rule scores
    an answer within 1% of the reference as correct. The sample it averages is drawn from the
    student's ``seed``, so every student has an answer of their own. ``roster.csv`` lists the
    students and ``secret`` holds the course secret their seeds derive from.

    Parameters
    ----------
    folder : path
        Where the files go (created if needed; files of the same names are replaced).
    students : tuple of str
        The roster's student ids.

    Returns
    -------
    ExampleCourse
        ``folder``, ``source``, ``roster`` and ``secret_file`` (paths), ``students`` and
        ``secret`` (the bytes in the secret file, without its newline).

    Examples
    --------
    >>> import tempfile, nbformat
    >>> from healthlab import grading
    >>> tmp = tempfile.TemporaryDirectory()
    >>> course = grading.example_course(tmp.name)
    >>> course.source.name, course.roster.read_text().split()
    ('mean-age.ipynb', ['student_id', 's001', 's002'])
    >>> print(nbformat.read(course.source, as_version=4).cells[3].source)
    import random
    rng = random.Random(seed)
    ages = [rng.randint(20, 80) for _ in range(50)]
    # BEGIN SOLUTION
    mean_age = sum(ages) / len(ages)
    # END SOLUTION
    exercises.answer("q1", mean_age)
    >>> tmp.cleanup()
    """
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    course = ExampleCourse(
        folder=folder,
        source=folder / "mean-age.ipynb",
        roster=folder / "roster.csv",
        secret_file=folder / "secret",
        students=tuple(students),
    )
    nbformat.write(_source(), course.source)
    course.roster.write_text("student_id\n" + "".join(f"{s}\n" for s in course.students))
    course.secret_file.write_bytes(course.secret + b"\n")
    return course
