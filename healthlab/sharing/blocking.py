"""Blocking: which pairs of records are compared at all, chosen so that no rule makes huge blocks.

A blocking rule is a set of keys (:attr:`~healthlab.sharing.compare.Compared.keys`); two records
are a candidate pair when they agree on every key of at least one rule. With ``blocking=None``
:func:`choose_blocking` counts, in DuckDB and without making a single pair, how many pairs each
possible rule would make and how big its largest block is (the records sharing one key value,
across sources), then keeps:

1. every single key whose rule makes at most :data:`PAIRS_PER_RECORD` pairs per record and no
   block of more than :data:`MAX_BLOCK` pairs (the sharpest :data:`MAX_SINGLE` of them);
2. then, among two keys of different columns (neither already kept alone), the cheapest
   acceptable pairs, up to :data:`MAX_DOUBLE`.

Each kept rule stands in for the others when its own fields are wrong, so a true pair is missed
only when every rule has an error in it. The counts of every rule considered, and why each was
kept or not, are in :attr:`LinkResult.blocking <healthlab.sharing.frames.LinkResult>`.
"""

from __future__ import annotations

import itertools

import pandas as pd

from healthlab.errors import InvalidParameterError

__all__ = ["MAX_BLOCK", "MAX_DOUBLE", "MAX_SINGLE", "PAIRS_PER_RECORD", "choose_blocking"]

#: Largest block (pairs of records sharing one key value) a rule may make.
MAX_BLOCK = 20_000
#: Pairs a rule may make per record (or 50,000 in all, on small data).
PAIRS_PER_RECORD = 2.0
#: Single-key rules kept at most; two-key rules kept at most.
MAX_SINGLE, MAX_DOUBLE = 4, 3


def count_pairs(con, keys: list[str], link: bool) -> tuple[int, int]:
    """Pairs a rule on ``keys`` makes over the view ``records``, and its largest block."""
    cols = ", ".join(f'"{k}"' for k in keys)
    notnull = " AND ".join(f'"{k}" IS NOT NULL' for k in keys)
    pair = "(t * t - s2) / 2" if link else "t * (t - 1) / 2"
    sql = f"""
        WITH c AS (SELECT {cols}, src, count(*)::HUGEINT AS n FROM records
                   WHERE {notnull} GROUP BY ALL),
             b AS (SELECT sum(n) AS t, sum(n * n) AS s2 FROM c GROUP BY {cols})
        SELECT coalesce(sum({pair}), 0)::BIGINT, coalesce(max({pair}), 0)::BIGINT FROM b
    """
    pairs, largest = con.execute(sql).fetchall()[0]
    return int(pairs), int(largest)


def _label(keys, labels) -> str:
    return " + ".join(labels[k] for k in keys)


def choose_blocking(con, compared, n_records: int, *, link: bool, blocking=None):
    """Blocking rules (lists of internal key columns) and the report of every rule counted.

    Parameters
    ----------
    con : duckdb.DuckDBPyConnection
        With a view ``records`` of every source's prepared records and a ``src`` column.
    compared : list of Compared
        The compared columns.
    n_records : int
        Records in all.
    link : bool
        Pairs across sources only (linkage) or within the one source (deduplication).
    blocking : list, optional
        Rules given by the caller: each a column name or a list of column names (blocked on
        each column's first key), used as they are.

    Returns
    -------
    rules : list of list of str
    report : pandas.DataFrame
        ``rule``, ``keys``, ``pairs``, ``largest_block``, ``chosen``, ``reason``.
    """
    labels = {k: lab for c in compared for k, lab in c.keys}
    column_of = {k: c.column for c in compared for k, _ in c.keys}
    rows = []
    if blocking is not None:
        first = {c.column: c.keys[0][0] for c in compared if c.keys}
        if not isinstance(blocking, list | tuple) or not blocking:
            raise InvalidParameterError(
                f"blocking must be None (choose) or a non-empty list of rules, got {blocking!r}"
            )
        rules = []
        for rule in blocking:
            cols = [rule] if isinstance(rule, str) else list(rule)
            unknown = [c for c in cols if c not in first]
            if unknown or not cols:
                raise InvalidParameterError(
                    f"blocking rule {rule!r} names {unknown or 'no'} columns; a rule lists "
                    f"compared columns that have a blocking key: {sorted(first)}"
                )
            keys = [first[c] for c in cols]
            pairs, largest = count_pairs(con, keys, link)
            rules.append(keys)
            rows.append((_label(keys, labels), keys, pairs, largest, True, "given"))
        return rules, pd.DataFrame(rows, columns=_COLUMNS)
    budget = max(50_000, int(PAIRS_PER_RECORD * n_records))

    def judge(keys):
        pairs, largest = count_pairs(con, keys, link)
        if largest > MAX_BLOCK:
            return pairs, largest, f"largest block {largest:,} pairs > {MAX_BLOCK:,}"
        if pairs > budget:
            return pairs, largest, f"{pairs:,} pairs > budget {budget:,}"
        return pairs, largest, None

    singles = []
    for keys in ([k] for k in labels):
        pairs, largest, why = judge(keys)
        singles.append([keys, pairs, largest, why])
    ok = sorted((s for s in singles if s[3] is None), key=lambda s: s[1])
    kept = {s[0][0] for s in ok[:MAX_SINGLE]}
    for s in singles:
        if s[3] is None:
            s[3] = "kept" if s[0][0] in kept else f"not needed: {MAX_SINGLE} sharper keys kept"
        rows.append((_label(s[0], labels), s[0], s[1], s[2], s[0][0] in kept, s[3]))
    rest = [k for k in labels if k not in kept]
    doubles = []
    for a, b in itertools.combinations(rest, 2):
        if column_of[a] != column_of[b]:
            pairs, largest, why = judge([a, b])
            doubles.append([[a, b], pairs, largest, why])
    chosen_doubles = []
    for d in sorted(doubles, key=lambda d: d[1]):
        if d[3] is not None:
            continue
        if len(chosen_doubles) >= MAX_DOUBLE:
            d[3] = f"not needed: {MAX_DOUBLE} cheaper pairs of keys kept"
            continue
        chosen_doubles.append(d[0])
        d[3] = "kept"
    for d in doubles:
        rows.append((_label(d[0], labels), d[0], d[1], d[2], d[0] in chosen_doubles, d[3]))
    rules = [[k] for k in labels if k in kept] + chosen_doubles
    if not rules:
        raise InvalidParameterError(
            "no blocking rule on the compared columns keeps blocks small enough "
            f"(largest block at most {MAX_BLOCK:,} pairs, at most {budget:,} pairs); compare "
            "more identifying columns, or give blocking= rules yourself"
        )
    report = pd.DataFrame(rows, columns=_COLUMNS)
    return rules, report.sort_values(["chosen", "pairs"], ascending=[False, True],
                                     ignore_index=True)  # fmt: skip


_COLUMNS = ["rule", "keys", "pairs", "largest_block", "chosen", "reason"]
