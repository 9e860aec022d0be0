"""Grading: per-student notebooks, a sandbox for their code, scores, a gradebook and feedback.

- :func:`assign` writes one notebook per roster student with their own seed (an HMAC of the
  course secret, the assignment and the student id);
- :func:`grade` runs every submission in a sandbox (:mod:`~healthlab.grading.sandbox`), runs
  the source with the same parameters for the reference answers, scores each question
  (:mod:`~healthlab.grading.score`), keeps a SQLite gradebook
  (:mod:`~healthlab.grading.gradebook`) and writes ``grades.csv``, feedback pages and a summary
  (:mod:`~healthlab.grading.feedback`);
- :func:`validate` lets a student check their notebook before submitting;
- :func:`example_course` writes a one-question course (source, roster, secret) to try them on.

The sandbox's own processes run ``_jail.py`` and ``_execute.py`` as scripts, so they import
nothing of this package beyond what they run.
"""

from healthlab.grading.assign import assign, derive_seed
from healthlab.grading.example import example_course
from healthlab.grading.grade import GradeReport, grade
from healthlab.grading.sandbox import Limits, isolation
from healthlab.grading.validate import validate

__all__ = [
    "GradeReport",
    "Limits",
    "assign",
    "derive_seed",
    "example_course",
    "grade",
    "isolation",
    "validate",
]
