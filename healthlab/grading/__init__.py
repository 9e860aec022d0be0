"""Grading: per-student notebooks, a sandbox for their code, scores, a gradebook and feedback.

- :func:`assign` writes one notebook per roster student with their own seed (an HMAC of the
  course secret, the assignment and the student id);
- :func:`grade` runs every submission in a sandbox (:mod:`~healthlab.grading.sandbox`), runs
  the source with the same parameters for the reference answers, scores each question
  (:mod:`~healthlab.grading.score`), keeps a SQLite gradebook
  (:mod:`~healthlab.grading.gradebook`) and writes ``grades.csv``, feedback pages and a summary
  (:mod:`~healthlab.grading.feedback`);
- :func:`validate` lets a student check their notebook before submitting.

Imports are lazy: the sandbox's own processes import only what they run.
"""

from __future__ import annotations

import importlib

__all__ = ["GradeReport", "Limits", "assign", "derive_seed", "grade", "isolation", "validate"]

_WHERE = {
    "assign": "assign",
    "derive_seed": "assign",
    "grade": "grade",
    "GradeReport": "grade",
    "Limits": "sandbox",
    "isolation": "sandbox",
    "validate": "validate",
}


def __getattr__(name: str):
    if name in _WHERE:
        return getattr(importlib.import_module(f"healthlab.grading.{_WHERE[name]}"), name)
    raise AttributeError(f"module 'healthlab.grading' has no attribute {name!r}")
