"""Questions, answers and self-checks inside a case-study notebook; source and student versions.

In a notebook, right after the ``parameters`` cell::

    from healthlab import exercises
    ex = exercises.start("01-population-aging", {
        "q1": exercises.Number(points=2, low=60, high=90, unit="years"),
        "q2": exercises.Choice(points=1, options=["rural", "urban"]),
        "q3": exercises.Table(points=3, columns=["province", "gini"]),
        "q4": exercises.Text(points=2, min_words=20),
        "q5": exercises.Values(points=2, length=5),
    })
    exercises.answer("q1", e0)   # recorded at once; prints the public self-check
    exercises.check("q1")        # the self-check again

Answers go to ``$HEALTHLAB_ANSWERS`` (default ``healthlab-answers/<notebook>.jsonl``) as JSON
Lines; :func:`read_answers` reads them back. For instructors and tools, :func:`check_source`
checks a source notebook against the contract and :func:`student_version` blanks its solutions.
"""

from ._convert import records, to_json
from ._questions import Choice, Number, Question, SelfCheck, Table, Text, Values
from ._record import (
    ANSWERS_ENV,
    Exercises,
    answer,
    answers_path,
    check,
    read_answers,
    start,
)
from ._source import Declaration, check_source, declaration, parameters, student_version

__all__ = [
    "ANSWERS_ENV",
    "Choice",
    "Declaration",
    "Exercises",
    "Number",
    "Question",
    "SelfCheck",
    "Table",
    "Text",
    "Values",
    "answer",
    "answers_path",
    "check",
    "check_source",
    "declaration",
    "parameters",
    "read_answers",
    "records",
    "start",
    "student_version",
    "to_json",
]
