"""Score one recorded answer against the reference answer with the question's rule.

Answers and references are plain JSON (what ``exercises.answer`` recorded), so a value whose
``==`` lies was never recorded as itself: only its JSON is compared, here, by this process.
Messages say how an answer fared, never what the right answer is.

Rules (``metadata["healthlab"]["rules"]`` of the source notebook):

- ``{"tolerance": t}`` and/or ``{"rtol": r}``: numbers within ``t`` (absolute) or ``r`` (relative);
  also applied to each number in a table or a list;
- ``{"equals": true}``: the same value (text compared without case and surrounding spaces);
- ``{"key": "province", ...}``: a table's rows matched on that column (else on their order);
- ``{"order": false}``: a list compared as a multiset;
- ``{"manual": true}``: graded by hand, counted apart;
- ``{"function": "package.module.name"}``: ``name(answer, reference, rule)`` returns the fraction
  of the points earned (0 to 1), or ``(fraction, message)``.
"""

from __future__ import annotations

import importlib
import math
from collections import Counter
from dataclasses import dataclass
from typing import Any

__all__ = ["MISSING", "Score", "copied_from", "score_answer"]


class _Missing:
    def __repr__(self) -> str:
        return "MISSING"


#: Stands for an answer (or a reference) that was never recorded.
MISSING = _Missing()


@dataclass(frozen=True)
class Score:
    """The result for one question: ``status`` is correct, partial, wrong, missing or manual."""

    question: str
    points: float
    max_points: float
    status: str
    message: str

    @property
    def manual(self) -> bool:
        return self.status == "manual"


def score_answer(
    question: str,
    rule: dict[str, Any],
    points: float,
    answer: Any = MISSING,
    reference: Any = MISSING,
) -> Score:
    """Score ``answer`` against ``reference`` with ``rule``.

    Examples
    --------
    >>> score_answer("q1", {"tolerance": 0.5}, 2, 77.3, 77.6).message
    'within the tolerance'
    >>> score_answer("q1", {"tolerance": 0.5}, 2, 80.0, 77.6).status
    'wrong'
    >>> score_answer("q5", {"order": False}, 2, [3, 1, 2], [1, 2, 3]).points
    2.0
    """
    points = float(points)
    if rule.get("manual"):
        return Score(question, 0.0, points, "manual", "graded by hand")
    if answer is MISSING:
        return Score(question, 0.0, points, "missing", "no answer was recorded")
    if reference is MISSING:
        return Score(
            question,
            0.0,
            points,
            "ungraded",
            "the reference could not be computed; the instructor will grade it",
        )
    try:
        fraction, message = _fraction(rule, answer, reference)
    except Exception as err:  # a malformed answer scores nothing, and says why
        fraction, message = 0.0, f"the answer could not be compared ({type(err).__name__})"
    fraction = min(max(float(fraction), 0.0), 1.0)
    status = "correct" if fraction == 1 else "wrong" if fraction == 0 else "partial"
    return Score(question, round(points * fraction, 4), points, status, message)


def _fraction(rule: dict, answer: Any, reference: Any) -> tuple[float, str]:
    if "function" in rule:
        module, _, name = str(rule["function"]).rpartition(".")
        result = getattr(importlib.import_module(module), name)(answer, reference, rule)
        if isinstance(result, tuple):
            return float(result[0]), str(result[1])
        return float(result), "checked by the notebook's own rule"
    if _is_table(reference):
        return _table(rule, answer, reference)
    if isinstance(reference, list):
        return _values(rule, answer, reference)
    if _same(rule, answer, reference):
        return 1.0, "within the tolerance" if _is_number(reference) else "correct"
    if _is_number(reference) and not _is_number(answer):
        return 0.0, "not a number"
    return 0.0, "outside the tolerance" if _is_number(reference) else "not the expected answer"


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _same(rule: dict, a: Any, b: Any) -> bool:
    """Equal under the rule: numbers within tolerance, text without case, the rest exactly."""
    if _is_number(a) and _is_number(b):
        if math.isnan(a) or math.isnan(b):
            return False
        tol = float(rule.get("tolerance", 0.0))
        rtol = float(rule.get("rtol", 0.0 if "tolerance" in rule else 1e-9))
        return abs(a - b) <= max(tol, rtol * abs(b)) + 1e-12
    if isinstance(a, str) and isinstance(b, str):
        return a.strip().casefold() == b.strip().casefold()
    if type(a) is not type(b) and not (_is_number(a) and _is_number(b)):
        return False
    if isinstance(b, list):
        return len(a) == len(b) and all(_same(rule, x, y) for x, y in zip(a, b))
    if isinstance(b, dict):
        return a.keys() == b.keys() and all(_same(rule, a[k], b[k]) for k in b)
    return a == b


def _is_table(value: Any) -> bool:
    series = isinstance(value, dict) and {"index", "values"} <= set(value)
    records = isinstance(value, list) and value and all(isinstance(r, dict) for r in value)
    return bool(series or records)


def _rows(value: Any, keys: list[str]) -> dict[Any, dict]:
    """Rows of a table (records) or series, keyed on ``keys`` (or their position)."""
    if isinstance(value, dict) and {"index", "values"} <= set(value):
        return {_hashable(i): {"value": v} for i, v in zip(value["index"], value["values"])}
    if not isinstance(value, list) or not all(isinstance(r, dict) for r in value):
        raise TypeError("not a table")
    if not keys:
        return {i: row for i, row in enumerate(value)}
    return {_hashable([row.get(k) for k in keys]): row for row in value}


def _hashable(value: Any) -> Any:
    if isinstance(value, list):
        return tuple(_hashable(v) for v in value)
    if isinstance(value, str):
        return value.strip().casefold()
    if _is_number(value) and float(value).is_integer():
        return int(value)
    return value


def _table(rule: dict, answer: Any, reference: Any) -> tuple[float, str]:
    key = rule.get("key")
    keys = [key] if isinstance(key, str) else list(key or [])
    try:
        got = _rows(answer, keys)
    except TypeError:
        return 0.0, "not a table"
    want = _rows(reference, keys)
    right = 0
    for k, row in want.items():
        mine = got.get(k)
        if mine is not None and all(c in mine and _same(rule, mine[c], row[c]) for c in row):
            right += 1
    total = max(len(want), len(got))
    return right / total, f"{right} of {total} rows match"


def _values(rule: dict, answer: Any, reference: list) -> tuple[float, str]:
    if not isinstance(answer, list):
        return 0.0, "not a list of values"
    total = max(len(answer), len(reference))
    if rule.get("order", True) is False:
        if all(_is_number(v) for v in answer + reference):
            answer, reference = sorted(answer), sorted(reference)
        else:
            mine = Counter(_hashable(v) for v in answer)
            right = sum((mine & Counter(_hashable(v) for v in reference)).values())
            return right / max(total, 1), f"{right} of {total} values match"
    right = sum(_same(rule, a, b) for a, b in zip(answer, reference))
    return right / max(total, 1), f"{right} of {total} values match"


def copied_from(
    student: str, answers: dict[str, Any], references: dict[str, dict], rules: dict[str, dict]
) -> str | None:
    """Whose reference answers a student's answers match rather than their own, if anyone's.

    Only questions whose references differ between the two students count; a match on at
    least half of them (and on more than match the student's own) is reported.

    Examples
    --------
    >>> refs = {"a": {"q1": 70.1, "q2": [1, 2]}, "b": {"q1": 71.5, "q2": [3, 4]}}
    >>> copied_from("a", {"q1": 71.5, "q2": [3, 4]}, refs, {"q1": {"tolerance": 0.01}})
    "matches student b's reference answers on 2 of 2 questions"
    >>> copied_from("b", {"q1": 71.5, "q2": [3, 4]}, refs, {}) is None
    True
    """
    own = references.get(student, {})
    best = None
    for other, theirs in references.items():
        if other == student:
            continue
        differing = [
            q
            for q in theirs
            if q in own and q in answers and not _same(rules.get(q, {}), own[q], theirs[q])
        ]
        if not differing:
            continue
        hits = sum(_same(rules.get(q, {}), answers[q], theirs[q]) for q in differing)
        mine = sum(_same(rules.get(q, {}), answers[q], own[q]) for q in differing)
        if hits > mine and hits * 2 >= len(differing) and (best is None or hits > best[1]):
            best = (other, hits, len(differing))
    if best is None:
        return None
    return f"matches student {best[0]}'s reference answers on {best[1]} of {best[2]} questions"
