"""What to compare: the kinds of column :func:`~healthlab.sharing.link_frames` understands.

Each compared column has a *kind*; the kind says how its values are put in one standard form,
which blocking keys it offers, and the levels at which two values agree (a splink comparison;
missing values are their own level and count neither way):

``name``
    People's or place names, in Chinese characters or Latin letters. Levels: the same text
    (case and spaces aside); the same *key* (characters read as toneless pinyin with
    healthlab's surname and given-name tables, so a homophone typo or one system writing
    pinyin and another characters still agree; Latin letters lower-cased), with a
    term-frequency adjustment so that agreeing on a common name counts for less than on a
    rare one; key Jaro-Winkler at least 0.92; the same first syllable or word and
    Jaro-Winkler at least 0.8. Blocking keys: the key, and its first syllable or word.
``date``
    Dates (``datetime64`` or ISO ``YYYY-MM-DD`` text). Levels: equal; transposed (day and
    month swapped, or the year's last two digits); one day apart; the same year. Blocking
    keys: the date, and its year.
``identifier``
    Identity or phone numbers (upper-cased, spaces and dashes dropped). Levels: equal; one
    edit apart (a mistyped, missing, extra or swapped character). Blocking key: the value.
``address``
    Free-text addresses. Levels: the same text; token overlap (Jaccard of the sets of numbers
    and words) at least 0.7; at least 0.4. Blocking key: the text.
``exact``
    Any value: equal or not. Blocking key: the value.
``numeric``
    Numbers. Levels: equal; within each tolerance, relative to the larger magnitude by
    default (``{"kind": "numeric", "tolerances": [0.01, 0.1], "relative": True}``). No
    blocking key.

A kind is given as its name, or as a dict with ``kind`` and that kind's options.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from healthlab.errors import InvalidParameterError
from healthlab.sharing.identifiers import SPACE, TEXT

__all__ = ["KINDS", "Compared", "comparisons", "parse_compare", "prepare", "sql_columns"]

KINDS = ("name", "date", "identifier", "address", "exact", "numeric")
_OPTIONS = {"numeric": {"tolerances", "relative"}}
_CJK = "[\u3400-\u4dbf\u4e00-\u9fff]"  # the characters themselves: Arrow runs it
_SAFE = re.compile(r"[A-Za-z][A-Za-z0-9_]{0,40}")


@dataclass
class Compared:
    """One compared column: its name in the frames, its kind, and its name inside DuckDB."""

    column: str
    kind: str
    internal: str
    options: dict = field(default_factory=dict)

    @property
    def keys(self) -> list[tuple[str, str]]:
        """Blocking keys this column offers: (internal column, label), sharpest first."""
        c, k = self.internal, self.column
        return {
            "name": [(f"{c}__key", f"{k} (pinyin/letters)"), (f"{c}__first", f"{k} (first part)")],
            "date": [(c, k), (f"{c}__year", f"{k} (year)")],
            "identifier": [(c, k)],
            "address": [(c, k)],
            "exact": [(c, k)],
            "numeric": [],
        }[self.kind]


def parse_compare(compare, columns_of: dict[str, list]) -> list[Compared]:
    """Check ``compare`` (column to kind) against every frame's columns."""
    if not isinstance(compare, dict) or not compare:
        raise InvalidParameterError(
            f"compare must be a non-empty dict from column to kind, got {compare!r}; "
            f"the kinds are {list(KINDS)}"
        )
    out = []
    for i, (column, spec) in enumerate(compare.items()):
        options = dict(spec) if isinstance(spec, dict) else {"kind": spec}
        kind = options.pop("kind", None)
        if kind not in KINDS:
            raise InvalidParameterError(
                f"compare[{column!r}] has unknown kind {kind!r}; the kinds are {list(KINDS)}"
            )
        extra = set(options) - _OPTIONS.get(kind, set())
        if extra:
            raise InvalidParameterError(
                f"compare[{column!r}] (kind {kind!r}) has unknown options {sorted(extra)}; "
                f"it takes {sorted(_OPTIONS.get(kind, set())) or 'none'}"
            )
        for source, cols in columns_of.items():
            if column not in cols:
                raise InvalidParameterError(
                    f"compare names column {column!r}, which source {source!r} lacks; "
                    f"its columns are {list(cols)}"
                )
        internal = column if _SAFE.fullmatch(str(column)) else f"col{i}"
        if kind == "numeric":
            tol = options.setdefault("tolerances", [0.01, 0.1])
            options.setdefault("relative", True)
            ok = (
                isinstance(tol, list | tuple)
                and tol
                and all(
                    isinstance(t, int | float) and not isinstance(t, bool) and t > 0 for t in tol
                )
            )
            if not ok or list(tol) != sorted(tol):
                raise InvalidParameterError(
                    f"compare[{column!r}] tolerances must be increasing positive numbers, "
                    f"got {tol!r}"
                )
        out.append(Compared(str(column), kind, internal, options))
    if len({c.internal for c in out}) < len(out):
        raise InvalidParameterError(f"compare names a column twice: {list(compare)}")
    if all(c.kind == "numeric" for c in out):
        raise InvalidParameterError(
            "compare needs at least one column that is not numeric, to block on"
        )
    return out


def _text(values: pd.Series) -> pd.Series:
    out = values.astype(TEXT).str.strip().str.replace(SPACE + "+", " ", regex=True)
    return out.mask(out == "")


def _name_keys(text: pd.Series) -> tuple[pd.Series, pd.Series]:
    """Pinyin (characters) or lower-case letters (Latin) of each name, and its first part."""
    from healthlab.sharing.identifiers import _chars_to_pinyin

    key = text.str.lower().str.replace(r"[^a-z]", "", regex=True)
    first = text.str.lower().str.extract(r"([a-z]+)", expand=False).astype(TEXT)
    cjk = text.str.contains(_CJK, regex=True).fillna(False).to_numpy(bool)
    if cjk.any():
        chars = text[cjk].str.replace("[^" + _CJK[1:], "", regex=True)
        sur, given = _chars_to_pinyin(chars)
        key[cjk] = (sur + given.fillna("")).str.replace(r"[^a-z]", "", regex=True)
        first[cjk] = sur
    return key.mask(key == ""), first.mask(first == "")


def _dates(values: pd.Series, column: str) -> pd.Series:
    if pd.api.types.is_datetime64_any_dtype(values):
        return values.dt.normalize()
    text = _text(values)
    parsed = pd.to_datetime(text, format="%Y-%m-%d", errors="coerce")
    bad = parsed.isna() & text.notna()
    if bad.sum() > 0.5 * max(text.notna().sum(), 1):
        example = text[bad].iloc[0]
        raise InvalidParameterError(
            f"column {column!r} (kind 'date') holds values such as {example!r} that are not "
            "ISO dates (YYYY-MM-DD); parse it with pandas.to_datetime(..., format=...) first"
        )
    return parsed


def prepare(frame: pd.DataFrame, compared: list[Compared], id_column: str) -> pd.DataFrame:
    """The columns DuckDB compares: ``local_id`` and each column's standard forms and keys."""
    out = pd.DataFrame({"local_id": frame[id_column].astype(TEXT).to_numpy()})
    for c in compared:
        values = frame[c.column].reset_index(drop=True)
        if c.kind == "name":
            text = _text(values)
            out[c.internal] = text.str.lower()
            out[f"{c.internal}__key"], out[f"{c.internal}__first"] = _name_keys(text)
        elif c.kind == "date":
            born = _dates(values, c.column)
            out[c.internal] = born.astype("datetime64[s]")
            out[f"{c.internal}__year"] = born.dt.year.astype("Int32")
        elif c.kind == "identifier":
            spaces_dashes = SPACE[:-1] + "-]"
            out[c.internal] = _text(values).str.upper().str.replace(spaces_dashes, "", regex=True)
        elif c.kind == "address":
            out[c.internal] = _text(values).str.lower()
        elif c.kind == "exact":
            out[c.internal] = _text(values)
        else:
            num = pd.to_numeric(values, errors="coerce")
            if num.isna().sum() > values.isna().sum():
                raise InvalidParameterError(
                    f"column {c.column!r} (kind 'numeric') holds values that are not numbers"
                )
            out[c.internal] = num.astype("float64")
    return out


def sql_columns(compared: list[Compared]) -> dict[str, str]:
    """Columns DuckDB derives when it loads the prepared records: dates, address tokens."""
    out = {}
    for c in compared:
        if c.kind == "date":
            out[c.internal] = f'CAST("{c.internal}" AS DATE)'
        elif c.kind == "address":
            tokens = f"regexp_extract_all(\"{c.internal}\", '[0-9]+|[^[:space:][:punct:]0-9]+')"
            out[f"{c.internal}__tokens"] = f"list_distinct({tokens})"
            bits = "list_transform({}, lambda t: (1::UBIGINT << (hash(t) % 64)::INTEGER))"
            sig = f"list_reduce(list_append({bits.format(tokens)}, 0::UBIGINT), lambda a, b: a | b)"
            out[f"{c.internal}__sig"] = sig
            out[f"{c.internal}__ntok"] = f"len(list_distinct({tokens}))"
            # No two of the record's tokens share a bit of the signature (see _overlap_sql).
            out[f"{c.internal}__clean"] = f"bit_count({sig}) = len(list_distinct({tokens}))"
    return out


def _overlap_sql(x: str, t: float) -> str:
    """Jaccard of two records' address tokens at least ``t``, computed cheaply and exactly.

    ``common / (n_l + n_r - common) >= t`` is ``common * (q + p) >= p * (n_l + n_r)`` for
    ``t = p / q``: integers, and one list intersection. Before it, cheap tests that no pair
    passing it can fail: some bit of the 64-bit token signatures in common; at most
    ``min(n_l, n_r)`` tokens in common; and, when no two tokens of one of the records share
    a bit, at most as many tokens in common as bits in common.
    """
    from fractions import Fraction

    p, q = Fraction(str(t)).limit_denominator(1000).as_integer_ratio()
    a, b = f'"{x}__tokens_l"', f'"{x}__tokens_r"'
    na, nb = f'"{x}__ntok_l"', f'"{x}__ntok_r"'
    both = f'bit_count("{x}__sig_l" & "{x}__sig_r")'
    need = f"{p} * ({na} + {nb})"
    return (
        f"{both} > 0 AND {q + p} * least({na}, {nb}) >= {need} AND "
        f'({q + p} * {both} >= {need} OR NOT ("{x}__clean_l" OR "{x}__clean_r")) AND '
        f"{q + p} * len(list_intersect({a}, {b})) >= {need}"
    )


def _null(col):
    return {"sql_condition": f'"{col}_l" IS NULL OR "{col}_r" IS NULL',
            "label_for_charts": "missing", "is_null_level": True}  # fmt: skip


_ELSE = {"sql_condition": "ELSE", "label_for_charts": "different"}


def _levels(c: Compared) -> list[dict]:
    x = c.internal
    eq = {"sql_condition": f'"{x}_l" = "{x}_r"', "label_for_charts": "equal"}
    if c.kind == "name":
        key, first = f"{x}__key", f"{x}__first"
        jw = f'jaro_winkler_similarity("{key}_l", "{key}_r")'
        return [
            _null(key), eq,
            {"sql_condition": f'"{key}_l" = "{key}_r"', "label_for_charts": "same key",
             "tf_adjustment_column": key, "tf_adjustment_weight": 1.0},
            {"sql_condition": f"{jw} >= 0.92", "label_for_charts": "Jaro-Winkler >= 0.92"},
            {"sql_condition": f'"{first}_l" = "{first}_r" AND {jw} >= 0.8',
             "label_for_charts": "same first part, Jaro-Winkler >= 0.8"},
        ]  # fmt: skip
    if c.kind == "date":
        lt, rt = f'"{x}_l"', f'"{x}_r"'
        flipped = (
            f"(year({lt}) = year({rt}) AND month({lt}) = day({rt}) AND day({lt}) = month({rt})) OR "
            f"(month({lt}) = month({rt}) AND day({lt}) = day({rt}) AND "
            f"year({lt}) // 100 = year({rt}) // 100 AND "
            f"year({lt}) % 100 = (year({rt}) % 10) * 10 + (year({rt}) // 10) % 10)"
        )
        return [
            _null(x), eq,
            {"sql_condition": flipped, "label_for_charts": "transposed"},
            {"sql_condition": f"abs(date_diff('day', {lt}, {rt})) = 1",
             "label_for_charts": "one day apart"},
            {"sql_condition": f"year({lt}) = year({rt})", "label_for_charts": "same year"},
        ]  # fmt: skip
    if c.kind == "identifier":
        lt, rt = f'"{x}_l"', f'"{x}_r"'
        half = f"least(length({lt}), length({rt})) // 2"
        # One edit leaves the first or the last half alone: a cheap test before the distance.
        near = (
            f"abs(length({lt}) - length({rt})) <= 1 AND "
            f"(left({lt}, {half}) = left({rt}, {half}) OR "
            f"right({lt}, {half}) = right({rt}, {half})) "
            f"AND damerau_levenshtein({lt}, {rt}) <= 1"
        )
        return [_null(x), eq, {"sql_condition": near, "label_for_charts": "one edit apart"}]
    if c.kind == "address":
        return [_null(x), eq] + [
            {"sql_condition": _overlap_sql(x, t), "label_for_charts": f"tokens overlap >= {t}"}
            for t in (0.7, 0.4)
        ]
    if c.kind == "exact":
        return [_null(x), eq]
    scale = f'greatest(abs("{x}_l"), abs("{x}_r"))' if c.options["relative"] else "1"
    return [_null(x), eq] + [
        {"sql_condition": f'abs("{x}_l" - "{x}_r") <= {float(t)!r} * {scale}',
         "label_for_charts": f"within {t}{' (relative)' if c.options['relative'] else ''}"}
        for t in c.options["tolerances"]
    ]  # fmt: skip


def comparisons(compared: list[Compared]) -> list:
    """The splink comparison of each compared column (see the module notes)."""
    import splink.comparison_library as cl

    return [
        cl.CustomComparison(output_column_name=c.internal,
                            comparison_levels=[*_levels(c), _ELSE])
        for c in compared
    ]  # fmt: skip


def bloom_columns(compared: list[Compared]) -> list[str]:
    """The prepared columns :func:`bloom_tokens` reads (a name's key besides the name)."""
    out = []
    for c in compared:
        out += [c.internal, f"{c.internal}__key"] if c.kind == "name" else [c.internal]
    return out


def bloom_tokens(prepared: pd.DataFrame, compared: list[Compared]) -> dict[str, pd.Series]:
    """The text each compared column contributes to a record's Bloom filter, per field."""
    out = {}
    for c in compared:
        col = prepared[c.internal]
        if c.kind == "name":
            out[c.internal] = prepared[f"{c.internal}__key"]
        elif c.kind == "date":  # strftime works value by value: once per distinct date
            code, days = pd.factorize(col)
            text = pd.array([*days.strftime("%Y%m%d"), None], dtype=TEXT)
            out[c.internal] = pd.Series(text[code], index=col.index)
        elif c.kind == "numeric":
            out[c.internal] = pd.Series(np.round(col, 2)).astype(TEXT)
        else:
            out[c.internal] = col.astype(TEXT)
    return out
