"""The kinds of question a notebook asks, and each one's public self-check.

A self-check looks at the form of an answer only (its type, shape and plausible range, all of
which the question declares in the open); it never knows, and so never reveals, the right answer.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, ClassVar

from healthlab.errors import InvalidParameterError

from ._convert import is_series, records

__all__ = ["Choice", "Number", "Question", "SelfCheck", "Table", "Text", "Values"]


@dataclass(frozen=True)
class SelfCheck:
    """The verdict of a self-check: each item is ``(passed, what was checked)``.

    Examples
    --------
    >>> print(Number(points=1, low=0, high=1).self_check(0.4))
    ✓ a number
    ✓ within the plausible range 0 to 1
    """

    items: tuple[tuple[bool, str], ...]

    @property
    def ok(self) -> bool:
        """Whether every item passed."""
        return all(passed for passed, _ in self.items)

    def __str__(self) -> str:
        return "\n".join(f"{'✓' if passed else '✗'} {text}" for passed, text in self.items)


@dataclass(frozen=True)
class Question:
    """What every question has: its points. Subclasses add what its answer must look like.

    Examples
    --------
    Every kind of question is a ``Question``; its points are checked when it is made:

    >>> from healthlab import exercises
    >>> q = exercises.Number(points=2, low=0, high=10, unit="years")
    >>> isinstance(q, exercises.Question), q.points, q.kind, q.manual
    (True, 2, 'number', False)
    >>> q.describe()
    'a number in years, plausibly 0 to 10'
    >>> print(q.self_check(12))
    ✓ a number
    ✗ within the plausible range 0 to 10 years: check the units and the computation
    >>> exercises.Text(points=3, min_words=20).manual  # written answers are graded by hand
    True
    """

    points: float
    kind: ClassVar[str] = "question"
    manual: ClassVar[bool] = False  # graded by hand, counted apart from the automatic points

    def __post_init__(self) -> None:
        if (
            isinstance(self.points, bool)
            or not isinstance(self.points, int | float)
            or not self.points > 0
        ):
            raise InvalidParameterError(
                f"points={self.points!r}: a question's points must be a positive number"
            )

    def describe(self) -> str:
        """What the answer must be, in a few words (public)."""
        raise NotImplementedError

    def self_check(self, value: Any) -> SelfCheck:
        """Check the form of a recorded (JSON) answer; never its correctness."""
        raise NotImplementedError


def _range_text(low: float | None, high: float | None, unit: str = "") -> str:
    unit = f" {unit}" if unit else ""
    if low is not None and low == high:
        return f"exactly {low:g}{unit}"
    if low is not None and high is not None:
        return f"{low:g} to {high:g}{unit}"
    if low is not None:
        return f"at least {low:g}{unit}"
    return f"at most {high:g}{unit}"


def _check_range(low: Any, high: Any) -> None:
    for name, bound in (("low", low), ("high", high)):
        if bound is not None and (
            isinstance(bound, bool) or not isinstance(bound, int | float) or math.isnan(bound)
        ):
            raise InvalidParameterError(f"{name}={bound!r}: a bound must be a number or None")
    if low is not None and high is not None and low > high:
        raise InvalidParameterError(f"low={low!r} is above high={high!r}; swap them")


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


@dataclass(frozen=True)
class Number(Question):
    """A single number, with the range a plausible answer falls in (not the answer's tolerance).

    Examples
    --------
    >>> q = Number(points=2, low=60, high=90, unit="years")
    >>> q.self_check(120).ok, q.self_check("77").ok, q.self_check(77.3).ok
    (False, False, True)
    """

    low: float | None = None
    high: float | None = None
    unit: str = ""
    kind: ClassVar[str] = "number"

    def __post_init__(self) -> None:
        super().__post_init__()
        _check_range(self.low, self.high)

    def describe(self) -> str:
        text = f"a number in {self.unit}" if self.unit else "a number"
        if self.low is None and self.high is None:
            return text
        return f"{text}, plausibly {_range_text(self.low, self.high)}"

    def self_check(self, value: Any) -> SelfCheck:
        if value is None:
            return SelfCheck(((False, "a number: the answer is missing (NaN or None)"),))
        if not _is_number(value):
            got = "a list" if isinstance(value, list) else type(value).__name__
            hint = " (pass one number, e.g. float(x) or x.item())" if got != "str" else ""
            return SelfCheck(((False, f"a number: got {got}{hint}"),))
        items = [(True, "a number")]
        if self.low is not None or self.high is not None:
            inside = (self.low is None or value >= self.low) and (
                self.high is None or value <= self.high
            )
            bounds = _range_text(self.low, self.high, self.unit)
            # "at least 0 patients" says it whole; "within the plausible range at least" does not
            two_sided = self.low is not None and self.high is not None and self.low != self.high
            text = f"within the plausible range {bounds}" if two_sided else bounds
            if not inside:
                text += ": check the units and the computation"
            items.append((inside, text))
        return SelfCheck(tuple(items))


@dataclass(frozen=True)
class Choice(Question):
    """One of a fixed list of options.

    Examples
    --------
    >>> Choice(points=1, options=["rural", "urban"]).self_check("Rural").ok
    False
    """

    options: tuple = ()
    kind: ClassVar[str] = "choice"

    def __post_init__(self) -> None:
        super().__post_init__()
        options = tuple(self.options)
        if len(options) < 2 or len(set(options)) != len(options):
            raise InvalidParameterError(
                f"options={list(options)!r}: a choice needs at least two different options"
            )
        if not all(isinstance(o, str) or _is_number(o) for o in options):
            raise InvalidParameterError("each option must be a string or a number")
        object.__setattr__(self, "options", options)

    def describe(self) -> str:
        return "one of: " + ", ".join(map(str, self.options))

    def self_check(self, value: Any) -> SelfCheck:
        listed = ", ".join(repr(o) for o in self.options)
        if value in self.options and not isinstance(value, bool):
            return SelfCheck(((True, f"one of the options ({listed})"),))
        return SelfCheck(((False, f"one of the options: choose exactly one of {listed}"),))


@dataclass(frozen=True)
class Table(Question):
    """A table: a DataFrame (recorded as records) or a Series, with the columns it must have.

    A Series counts as a table of two columns: its index's name and its own name.

    Examples
    --------
    >>> q = Table(points=3, columns=["province", "gini"], rows=(2, None))
    >>> q.self_check([{"province": "Hebei", "gini": 0.3}, {"province": "Hunan", "gini": 0.2}]).ok
    True
    """

    columns: tuple = ()
    rows: tuple | None = None
    kind: ClassVar[str] = "table"

    def __post_init__(self) -> None:
        super().__post_init__()
        object.__setattr__(self, "columns", tuple(self.columns))
        if not all(isinstance(c, str) for c in self.columns):
            raise InvalidParameterError("columns must be strings")
        if self.rows is not None:
            rows = tuple(self.rows)
            if len(rows) != 2 or not all(r is None or isinstance(r, int) for r in rows):
                raise InvalidParameterError(
                    f"rows={self.rows!r}: give (fewest, most) rows, either may be None"
                )
            _check_range(*rows)
            object.__setattr__(self, "rows", rows)

    def describe(self) -> str:
        text = "a table (DataFrame or Series)"
        if self.columns:
            text += " with the columns " + ", ".join(self.columns)
        if self.rows is not None:
            text += f", {_range_text(*self.rows)} rows"
        return text

    def self_check(self, value: Any) -> SelfCheck:
        if not (is_series(value) or isinstance(value, list)):
            got = "nothing" if value is None else f"a {type(value).__name__}"
            return SelfCheck(((False, f"a table: got {got}; record a DataFrame or Series"),))
        rows = records(value) if is_series(value) or not value or _all_dicts(value) else None
        if rows is None:
            return SelfCheck(((False, "a table: got a list; record a DataFrame or Series"),))
        items = [(True, "a table")]
        if self.columns:
            have = set().union(*(row.keys() for row in rows)) if rows else set()
            missing = [c for c in self.columns if c not in have]
            text = "with the columns " + ", ".join(self.columns)
            if missing:
                text += f": missing {', '.join(missing)}"
                if is_series(value):
                    text += " (name a Series with .rename('...') and its index with .rename_axis)"
            items.append((not missing, text))
        if self.rows is not None:
            low, high = self.rows
            inside = (low is None or len(rows) >= low) and (high is None or len(rows) <= high)
            items.append((inside, f"{_range_text(low, high)} rows (it has {len(rows)})"))
        return SelfCheck(tuple(items))


def _all_dicts(value: list) -> bool:
    return all(isinstance(row, dict) for row in value)


@dataclass(frozen=True)
class Text(Question):
    """A written interpretation, graded by hand and counted apart.

    Examples
    --------
    >>> Text(points=2, min_words=3).self_check("Rural counties age faster.").ok
    True
    """

    min_words: int = 1
    kind: ClassVar[str] = "text"
    manual: ClassVar[bool] = True

    def __post_init__(self) -> None:
        super().__post_init__()
        if not isinstance(self.min_words, int) or self.min_words < 0:
            raise InvalidParameterError(f"min_words={self.min_words!r}: give a whole number >= 0")

    def describe(self) -> str:
        return f"a written answer of at least {self.min_words} words (graded by hand)"

    def self_check(self, value: Any) -> SelfCheck:
        if not isinstance(value, str):
            return SelfCheck(((False, "text: write the answer as a string in quotes"),))
        words = len(value.split())
        return SelfCheck(
            (
                (True, "text"),
                (words >= self.min_words, f"at least {self.min_words} words (it has {words})"),
            )
        )


@dataclass(frozen=True)
class Values(Question):
    """A list of numbers or strings (a list, tuple or numpy array), of a given length.

    ``low`` and ``high`` bound each number's plausible range, when given.

    Examples
    --------
    >>> q = Values(points=2, length=3, low=0)
    >>> q.self_check([1, 2, 3]).ok, q.self_check([1, 2]).ok, q.self_check([1, -2, 3]).ok
    (True, False, False)
    """

    length: int | None = None
    low: float | None = None
    high: float | None = None
    kind: ClassVar[str] = "values"

    def __post_init__(self) -> None:
        super().__post_init__()
        if self.length is not None and (not isinstance(self.length, int) or self.length < 0):
            raise InvalidParameterError(f"length={self.length!r}: give a whole number >= 0")
        _check_range(self.low, self.high)

    def describe(self) -> str:
        text = f"a list of {self.length} values" if self.length is not None else "a list of values"
        if self.low is not None or self.high is not None:
            text += f", each plausibly {_range_text(self.low, self.high)}"
        return text

    def self_check(self, value: Any) -> SelfCheck:
        if not isinstance(value, list):
            hint = " (for a Series, record s.tolist())" if is_series(value) else ""
            return SelfCheck(((False, f"a list of values: got {type(value).__name__}{hint}"),))
        flat = all(v is None or isinstance(v, str) or _is_number(v) for v in value)
        items = [(flat, "a list of single numbers or strings")]
        if self.length is not None:
            items.append((len(value) == self.length, f"{self.length} values (it has {len(value)})"))
        if self.low is not None or self.high is not None:
            numbers = [v for v in value if _is_number(v)]
            inside = len(numbers) == len(value) and all(
                (self.low is None or v >= self.low) and (self.high is None or v <= self.high)
                for v in numbers
            )
            items.append((inside, f"each a number {_range_text(self.low, self.high)}"))
        return SelfCheck(tuple(items))


KINDS: dict[str, type[Question]] = {
    cls.__name__: cls for cls in (Number, Choice, Table, Text, Values)
}
