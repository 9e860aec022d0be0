"""Recording answers inside a notebook: ``start``, ``answer``, ``check`` and ``read_answers``.

Each ``answer`` call appends one JSON line to the answers file and syncs it to disk at once, so
answers survive a kernel that dies later. The file is JSON Lines, one object per call:
``{"notebook", "question", "value", "time"}``; the last record of a question wins.
"""

from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from healthlab.errors import AnswerError, AnswersFileError, InvalidParameterError

from ._convert import to_json
from ._questions import Question, SelfCheck

__all__ = ["ANSWERS_ENV", "Exercises", "answer", "answers_path", "check", "read_answers", "start"]

ANSWERS_ENV = "HEALTHLAB_ANSWERS"
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*$")
_current: Exercises | None = None


def answers_path(notebook: str) -> Path:
    """Where a notebook's answers go: ``$HEALTHLAB_ANSWERS``, else ``healthlab-answers/``.

    ``HEALTHLAB_ANSWERS`` names the answers file; when it names an existing folder, the file
    ``<notebook>.jsonl`` inside it. Without it, ``healthlab-answers/<notebook>.jsonl`` in the
    working folder (the notebook's folder in JupyterLab).

    Examples
    --------
    >>> import os
    >>> os.environ.pop("HEALTHLAB_ANSWERS", None) and None
    >>> answers_path("01-population-aging").as_posix()
    'healthlab-answers/01-population-aging.jsonl'
    """
    configured = os.environ.get(ANSWERS_ENV)
    if configured:
        path = Path(configured).expanduser()
        return path / f"{notebook}.jsonl" if path.is_dir() else path
    return Path("healthlab-answers") / f"{notebook}.jsonl"


@dataclass(frozen=True)
class Exercises:
    """A notebook's questions and the file its answers go to (what :func:`start` returns).

    Examples
    --------
    >>> import os, tempfile
    >>> from healthlab import exercises
    >>> tmp = tempfile.TemporaryDirectory()
    >>> os.environ["HEALTHLAB_ANSWERS"] = os.path.join(tmp.name, "a.jsonl")
    >>> ex = exercises.start("00-example", {
    ...     "q1": exercises.Number(points=2, low=0, high=10),
    ...     "q2": exercises.Text(points=3, min_words=5)})  # doctest: +ELLIPSIS
    00-example: 2 questions, 2 points, 3 more graded by hand. Answers are saved to ...a.jsonl
    >>> ex.points, ex.manual_points
    (2, 3)
    >>> ex.answer("q1", 4.5)
    q1 recorded (2 points). Self-check of its form, not its correctness:
      ✓ a number
      ✓ within the plausible range 0 to 10
    >>> ex.status()
    ✓ q1 (2 points)
    · q2 (3 points)
    {'q1': True, 'q2': False}
    >>> del os.environ["HEALTHLAB_ANSWERS"]; tmp.cleanup()
    """

    notebook: str
    questions: dict[str, Question]
    path: Path

    @property
    def points(self) -> float:
        """Points of the automatically graded questions."""
        return sum(q.points for q in self.questions.values() if not q.manual)

    @property
    def manual_points(self) -> float:
        """Points of the questions graded by hand (written answers), counted apart."""
        return sum(q.points for q in self.questions.values() if q.manual)

    def question(self, qid: str) -> Question:
        """The question ``qid``; an unknown id says which ids there are."""
        if qid not in self.questions:
            raise AnswerError(
                f"{self.notebook} has no question {qid!r}; its questions are "
                + ", ".join(self.questions)
            )
        return self.questions[qid]

    def answer(self, qid: str, value: Any) -> None:
        """Record ``value`` as the answer to ``qid`` and print its self-check."""
        question = self.question(qid)
        if value is Ellipsis:  # the student version's placeholder, not yet replaced
            print(f"{qid}: not answered yet; replace the ... above with your code and run again")
            return
        recorded = to_json(value)
        line = json.dumps(
            {
                "notebook": self.notebook,
                "question": qid,
                "value": recorded,
                "time": datetime.now(UTC).isoformat(timespec="seconds"),
            },
            ensure_ascii=False,
            allow_nan=False,
        )
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with open(self.path, "a", encoding="utf-8") as out:
            out.write(line + "\n")
            out.flush()
            os.fsync(out.fileno())
        print(_report(qid, question, question.self_check(recorded), "recorded"))

    def check(self, qid: str) -> None:
        """Print the self-check of the last answer recorded for ``qid``."""
        question = self.question(qid)
        answers = read_answers(self.path) if self.path.exists() else {}
        if qid not in answers:
            print(f"{qid}: no answer recorded yet; record one with exercises.answer({qid!r}, ...)")
            return
        print(_report(qid, question, question.self_check(answers[qid]), "last answer"))

    def status(self) -> dict[str, bool]:
        """Which questions have an answer recorded (printed as a short list too)."""
        answers = read_answers(self.path) if self.path.exists() else {}
        done = {qid: qid in answers for qid in self.questions}
        for qid, answered in done.items():
            print(f"{'✓' if answered else '·'} {qid} ({_points(self.questions[qid])})")
        return done

    def summary(self) -> str:
        """The line :func:`start` prints: questions, points, where answers go."""
        manual = f", {self.manual_points:g} more graded by hand" if self.manual_points else ""
        return (
            f"{self.notebook}: {len(self.questions)} question{_s(len(self.questions))}, "
            f"{self.points:g} point{_s(self.points)}{manual}. "
            f"Answers are saved to {self.path}"
        )


def _s(count: float) -> str:
    return "" if count == 1 else "s"


def _points(question: Question) -> str:
    return f"{question.points:g} point{_s(question.points)}"


def _report(qid: str, question: Question, verdict: SelfCheck, what: str) -> str:
    head = f"{qid} {what} ({_points(question)}). Self-check of its form, not its correctness:"
    body = "\n".join(f"  {line}" for line in str(verdict).splitlines())
    return f"{head}\n{body}"


def start(notebook: str, questions: dict[str, Question]) -> Exercises:
    """Declare a notebook's questions; ``answer`` and ``check`` then work on them.

    Parameters
    ----------
    notebook : str
        The notebook's name without ``.ipynb``, e.g. ``"01-population-aging"``.
    questions : dict of str to Question
        Question id to its kind: ``Number``, ``Choice``, ``Table``, ``Text`` or ``Values``.

    Returns
    -------
    Exercises

    Examples
    --------
    >>> import os, tempfile
    >>> from healthlab import exercises
    >>> os.environ["HEALTHLAB_ANSWERS"] = os.path.join(tempfile.mkdtemp(), "a.jsonl")
    >>> ex = exercises.start("00-example", {
    ...     "q1": exercises.Number(points=2, low=0, high=10)})  # doctest: +ELLIPSIS
    00-example: 1 question, 2 points. Answers are saved to ...a.jsonl
    >>> exercises.answer("q1", 4.5)
    q1 recorded (2 points). Self-check of its form, not its correctness:
      ✓ a number
      ✓ within the plausible range 0 to 10
    >>> exercises.read_answers(ex.path)
    {'q1': 4.5}
    >>> del os.environ["HEALTHLAB_ANSWERS"]
    """
    global _current
    if not isinstance(notebook, str) or not _NAME.match(notebook):
        raise InvalidParameterError(
            f"notebook={notebook!r}: give the notebook's file name without .ipynb, "
            "e.g. '01-population-aging'"
        )
    if not isinstance(questions, dict) or not questions:
        raise InvalidParameterError("questions: give a dict of question id to question kind")
    for qid, question in questions.items():
        if not isinstance(qid, str) or not qid:
            raise InvalidParameterError(f"question id {qid!r}: ids are non-empty strings")
        if not isinstance(question, Question):
            raise InvalidParameterError(
                f"question {qid!r} is a {type(question).__name__}; use exercises.Number, "
                "Choice, Table, Text or Values"
            )
    _current = Exercises(notebook, dict(questions), answers_path(notebook))
    print(_current.summary())
    return _current


def _started() -> Exercises:
    if _current is None:
        raise AnswerError("no questions declared yet: run the cell with exercises.start(...) first")
    return _current


def answer(qid: str, value: Any) -> None:
    """Record ``value`` as the answer to question ``qid`` and print its self-check.

    The value is converted to plain JSON (see :func:`to_json`) and appended to the answers
    file at once. The self-check says whether the answer has the right type, shape and plausible
    range; it never says whether it is right.

    Examples
    --------
    >>> import os, tempfile
    >>> from healthlab import exercises
    >>> tmp = tempfile.TemporaryDirectory()
    >>> os.environ["HEALTHLAB_ANSWERS"] = os.path.join(tmp.name, "a.jsonl")
    >>> _ = exercises.start("00-example", {"q1": exercises.Values(points=2, length=3)})
    00-example: 1 question, 2 points. Answers are saved to ...a.jsonl
    >>> exercises.answer("q1", [1.5, 2.5])
    q1 recorded (2 points). Self-check of its form, not its correctness:
      ✓ a list of single numbers or strings
      ✗ 3 values (it has 2)
    >>> import numpy as np
    >>> exercises.answer("q1", np.array([1.5, 2.5, 4.0]))  # recorded as plain JSON
    q1 recorded (2 points). Self-check of its form, not its correctness:
      ✓ a list of single numbers or strings
      ✓ 3 values (it has 3)
    >>> exercises.read_answers(os.environ["HEALTHLAB_ANSWERS"])  # the last answer counts
    {'q1': [1.5, 2.5, 4.0]}
    >>> del os.environ["HEALTHLAB_ANSWERS"]; tmp.cleanup()
    """
    _started().answer(qid, value)


def check(qid: str) -> None:
    """Print again the self-check of the last answer recorded for question ``qid``.

    Examples
    --------
    >>> import os, tempfile
    >>> from healthlab import exercises
    >>> tmp = tempfile.TemporaryDirectory()
    >>> os.environ["HEALTHLAB_ANSWERS"] = os.path.join(tmp.name, "a.jsonl")
    >>> _ = exercises.start("00-example", {"q1": exercises.Number(points=2, low=0, high=10),
    ...                                    "q2": exercises.Choice(points=1, options=["a", "b"])})
    00-example: 2 questions, 3 points. Answers are saved to ...a.jsonl
    >>> exercises.check("q2")
    q2: no answer recorded yet; record one with exercises.answer('q2', ...)
    >>> exercises.answer("q1", 4.5)  # doctest: +ELLIPSIS
    q1 recorded (2 points). ...
    >>> exercises.check("q1")
    q1 last answer (2 points). Self-check of its form, not its correctness:
      ✓ a number
      ✓ within the plausible range 0 to 10
    >>> del os.environ["HEALTHLAB_ANSWERS"]; tmp.cleanup()
    """
    _started().check(qid)


def read_answers(path: str | os.PathLike) -> dict[str, Any]:
    """Read an answers file: question id to the last value recorded for it.

    Pure JSON parsing: nothing in the file is run or imported. A last line cut short (a kernel
    killed while writing) is ignored; any other line that is not a record is an error naming the
    file and line.

    Parameters
    ----------
    path : str or path-like
        The answers file (JSON Lines).

    Returns
    -------
    dict

    Examples
    --------
    >>> import pathlib, tempfile
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "a.jsonl"
    >>> _ = p.write_text('{"notebook": "n", "question": "q1", "value": 1, "time": "t"}\\n'
    ...                  '{"notebook": "n", "question": "q1", "value": 2, "time": "t"}\\n')
    >>> read_answers(p)
    {'q1': 2}
    """
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise AnswersFileError(f"no answers file at {path}") from None
    except (OSError, UnicodeDecodeError) as err:
        raise AnswersFileError(f"cannot read the answers file {path}: {err}") from None
    lines = text.split("\n")
    answers: dict[str, Any] = {}
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except json.JSONDecodeError as err:
            if number == len(lines):  # no newline after it: a write cut short
                continue
            raise AnswersFileError(f"{path}, line {number}: not JSON ({err.msg})") from None
        if not isinstance(record, dict) or not isinstance(record.get("question"), str):
            raise AnswersFileError(
                f"{path}, line {number}: not an answer record "
                '(expected {"notebook", "question", "value", "time"})'
            )
        answers[record["question"]] = record.get("value")
    return answers
