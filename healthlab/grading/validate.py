"""Before submitting, and before assigning: run a notebook and check what it answers.

:func:`validate` is for students: it runs their notebook top to bottom and says, question by
question, whether an answer was recorded and passes the public self-check (form only, never
correctness). :func:`validate_source` is for instructors (``assign --validate``): the source's
own solutions must each record an answer that passes its self-check and its rule.
"""

from __future__ import annotations

import os
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from healthlab import exercises
from healthlab.errors import AnswersFileError, GradingError
from healthlab.grading.score import score_answer

__all__ = ["QuestionCheck", "validate", "validate_source"]


@dataclass(frozen=True)
class QuestionCheck:
    """One question's verdict: answered, and whether the self-check passed."""

    question: str
    points: float
    answered: bool
    passed: bool
    detail: str


def _run(notebook: Path, parameters: dict[str, Any] | None, cell_timeout: float):
    from healthlab.grading._execute import execute

    # The run's files are read here and then removed: a student's check leaves nothing behind.
    with tempfile.TemporaryDirectory(prefix="healthlab-validate-") as tmp:
        folder = Path(tmp)
        env = {**os.environ, "HEALTHLAB_ANSWERS": str(folder / "answers.jsonl"),
               "MPLBACKEND": "Agg"}  # fmt: skip
        status = execute(
            notebook,
            folder / "executed.ipynb",
            parameters=parameters or {},
            cwd=notebook.parent,
            env=env,
            cell_timeout=cell_timeout,
        )
        try:
            answers = exercises.read_answers(folder / "answers.jsonl")
        except AnswersFileError:
            answers = {}
    return answers, status


def validate(
    notebook: str | os.PathLike,
    *,
    parameters: dict[str, Any] | None = None,
    cell_timeout: float = 600,
) -> tuple[list[QuestionCheck], dict[str, Any]]:
    """Run a student's notebook; for each question, whether it is answered and well formed.

    Returns
    -------
    checks : list of QuestionCheck
    status : dict
        How the run went: cells that raised (``errors``), timed out, a dead kernel.

    Examples
    --------
    A student's notebook, as :func:`assign` wrote it, checked before anything is filled in:

    >>> import pathlib, tempfile
    >>> from healthlab import grading
    >>> tmp = tempfile.TemporaryDirectory()
    >>> folder = pathlib.Path(tmp.name)
    >>> course = grading.example_course(folder)  # a one-question source, roster, secret
    >>> _ = grading.assign(course.source, roster=course.roster,
    ...                    secret_file=course.secret_file, out=folder / "release")
    >>> checks, status = grading.validate(folder / "release" / "s001.ipynb")
    >>> [(c.question, c.answered, c.detail) for c in checks], status["errors"]
    ([('q1', False, 'no answer recorded')], [])
    >>> tmp.cleanup()
    """
    notebook = Path(notebook)
    decl = exercises.declaration(notebook)
    answers, status = _run(notebook, parameters, cell_timeout)
    checks = []
    for qid, question in decl.questions.items():
        if qid not in answers:
            checks.append(QuestionCheck(qid, question.points, False, False, "no answer recorded"))
            continue
        verdict = question.self_check(answers[qid])
        checks.append(QuestionCheck(qid, question.points, True, verdict.ok, str(verdict)))
    return checks, status


def validate_source(
    source: str | os.PathLike,
    parameters: dict[str, Any],
    *,
    declaration=None,
    cell_timeout: float = 600,
) -> None:
    """Run the source for one student's parameters; raise if a solution fails its checks."""
    source = Path(source)
    decl = declaration or exercises.check_source(source)
    answers, status = _run(source, parameters, cell_timeout)
    problems = [f"cell {e['cell']} raised {e['ename']}: {e['evalue']}" for e in status["errors"]]
    problems += [f"cell {c} timed out" for c in status["timed_out"]]
    for qid, question in decl.questions.items():
        if qid not in answers:
            problems.append(f"{qid}: the solution recorded no answer")
            continue
        verdict = question.self_check(answers[qid])
        if not verdict.ok:
            problems.append(f"{qid}: the solution fails its own self-check:\n{verdict}")
        rule = decl.rules.get(qid, {})
        scored = score_answer(qid, rule, question.points, answers[qid], answers[qid])
        if not question.manual and scored.status != "correct":
            problems.append(f"{qid}: the solution does not pass its own rule ({scored.message})")
    if problems:
        listed = "\n".join(f"  - {p}" for p in problems)
        raise GradingError(f"{source.name} does not validate with {parameters}:\n{listed}")
