"""Record linkage of any tables: :func:`link_frames`, one engine in DuckDB for every method.

The records of every source are put in one standard form (:mod:`healthlab.sharing.compare`)
and written to an embedded DuckDB database with a memory limit and a spill folder; from there
on every pair lives in DuckDB, never in pandas: blocking counts, training, scoring and
clustering are SQL (through splink for ``probabilistic`` and ``deterministic``, directly for
``bloom``). Only the records going in and the clusters coming out are DataFrames.

``probabilistic``
    A Fellegi-Sunter model in splink: ``u`` probabilities from a seeded random sample of pairs,
    the prior from deterministic rules (an identifier equal, or every name and date equal),
    ``m`` probabilities by expectation maximisation in sessions blocked on the chosen rules
    (each comparison trained in a session that does not block on it). With two sources or
    more, pairs at or above ``threshold`` are clustered by single best links
    (:func:`best_links`, the rule of splink's ``cluster_using_single_best_links``: a cluster
    holds at most one record of each source, which suits sources holding one record per
    person, like hospital systems); one source is deduplicated with connected components.
``deterministic``
    Two records are linked when an identifier column is equal, or every name, date and exact
    column is equal (on the names' pinyin/letter keys); clusters are connected components.
``bloom``
    Privacy-preserving linkage on keyed Bloom-filter encodings
    (:mod:`healthlab.sharing.bloom`): the linkage unit sees filters and keyed hashes of the
    blocking keys, never a value.
"""

from __future__ import annotations

import logging
import shutil
import tempfile
import weakref
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from healthlab._validation import check_seed
from healthlab.errors import InvalidParameterError
from healthlab.sharing.blocking import choose_blocking
from healthlab.sharing.compare import Compared, comparisons, parse_compare, prepare, sql_columns

__all__ = ["MEMORY_LIMIT", "METHODS", "LinkResult", "best_links", "link_frames"]

METHODS = ("probabilistic", "deterministic", "bloom")
#: DuckDB's memory limit during linkage; beyond it DuckDB spills to a temporary folder.
MEMORY_LIMIT = "1500MB"
#: Random pairs sampled to estimate the ``u`` probabilities.
U_PAIRS = 2e6


@dataclass
class LinkResult:
    """What :func:`link_frames` found.

    Attributes
    ----------
    clusters : pandas.DataFrame
        ``system``, ``local_id`` (text), ``cluster_id`` (integers from 0): one row per record
        of every source, in the sources' order; records of one entity share a ``cluster_id``.
        This is what :func:`~healthlab.sharing.linkage_quality` scores.
    method : str
        The method used.
    threshold : float
        Match probability (or Dice coefficient, for ``bloom``) at or above which pairs link.
    blocking : pandas.DataFrame
        Every blocking rule considered: ``rule``, ``keys``, ``pairs`` (candidate pairs it
        makes), ``largest_block``, ``chosen``, ``reason``.
    model : splink.Linker or None
        The trained splink model (``probabilistic``; its charts and parameters).

    Examples
    --------
    >>> import pandas as pd
    >>> from healthlab.sharing import link_frames
    >>> a = pd.DataFrame({"id": [1, 2, 3], "name": ["王伟", "李娜", "张敏"],
    ...                   "born": ["1980-01-02", "1975-06-30", "1990-12-01"]})
    >>> b = pd.DataFrame({"id": ["x", "y"], "name": ["Wang Wei", "Zhang Min"],
    ...                   "born": ["1980-02-01", "1990-12-01"]})
    >>> r = link_frames({"a": a, "b": b}, id_column="id",
    ...                 compare={"name": "name", "born": "date"}, method="deterministic")
    >>> r.clusters
      system local_id  cluster_id
    0      a        1           0
    1      a        2           1
    2      a        3           2
    3      b        x           3
    4      b        y           2
    >>> r.method, r.blocking.columns.tolist()
    ('deterministic', ['rule', 'keys', 'pairs', 'largest_block', 'chosen', 'reason'])
    """

    clusters: pd.DataFrame
    method: str
    threshold: float
    blocking: pd.DataFrame
    model: object | None = None
    _con: object = field(default=None, repr=False)
    _pairs_sql: str | None = field(default=None, repr=False)

    @property
    def chosen_blocking(self) -> list[str]:
        """The blocking rules used, as readable labels."""
        return self.blocking.loc[self.blocking["chosen"], "rule"].tolist()

    def pairs(self, low: float | None = None, high: float | None = None) -> pd.DataFrame:
        """The scored candidate pairs (from DuckDB), optionally only a band of scores.

        Columns ``system_l``, ``local_id_l``, ``system_r``, ``local_id_r`` and the score:
        ``match_probability`` and ``match_weight`` (probabilistic) or ``dice`` (bloom). Pairs
        scored below 0.01 were never kept. Only what falls in ``[low, high)`` is read.
        """
        if self._pairs_sql is None:
            raise InvalidParameterError(
                f"method {self.method!r} scores no pairs; use method='probabilistic' or 'bloom'"
            )
        score = "dice" if self.method == "bloom" else "match_probability"
        where = []
        if low is not None:
            where.append(f"{score} >= {float(low)!r}")
        if high is not None:
            where.append(f"{score} < {float(high)!r}")
        sql = f"SELECT * FROM ({self._pairs_sql})" + (
            f" WHERE {' AND '.join(where)}" if where else ""
        )
        return self._con.execute(sql).df()


def _check_frames(frames, id_column) -> dict[str, pd.DataFrame]:
    if not isinstance(frames, dict) or not frames:
        raise InvalidParameterError(
            "frames must be a non-empty dict from source name to DataFrame, got "
            f"{type(frames).__name__}; pass one source to deduplicate it, two or more to link"
        )
    for name, frame in frames.items():
        if not isinstance(name, str) or not name:
            raise InvalidParameterError(f"source names must be non-empty text, got {name!r}")
        if not isinstance(frame, pd.DataFrame):
            raise InvalidParameterError(
                f"frames[{name!r}] must be a pandas DataFrame, got {type(frame).__name__}"
            )
        if frame.empty:
            raise InvalidParameterError(f"frames[{name!r}] has no rows; nothing to link")
        if id_column not in frame:
            raise InvalidParameterError(
                f"frames[{name!r}] lacks the id column {id_column!r}; its columns are "
                f"{list(frame.columns)}"
            )
        ids = frame[id_column]
        if ids.isna().any():
            raise InvalidParameterError(
                f"frames[{name!r}] has {int(ids.isna().sum())} records without an id in "
                f"{id_column!r}; every record needs one"
            )
        dup = ids.astype("string").duplicated()
        if dup.any():
            raise InvalidParameterError(
                f"frames[{name!r}] has duplicate ids in {id_column!r}, e.g. "
                f"{ids[dup].iloc[0]!r} ({int(dup.sum())} duplicates); ids must be unique "
                "within a source"
            )
    return frames


def _connect():
    import duckdb

    spill = tempfile.mkdtemp(prefix="healthlab-link-")
    con = duckdb.connect(
        config={
            "memory_limit": MEMORY_LIMIT,
            "temp_directory": spill,
            "preserve_insertion_order": False,
        }  # fmt: skip
    )
    weakref.finalize(con, shutil.rmtree, spill, True)
    return con


def _load(con, frames, compared: list[Compared], id_column: str) -> int:
    """Write each source's prepared records to DuckDB as ``src_<i>``; the view ``records``."""
    offset = 0
    derived = sql_columns(compared)
    for i, frame in enumerate(frames.values()):
        prepared = prepare(frame, compared, id_column)
        prepared.insert(0, "__row", np.arange(offset, offset + len(prepared), dtype=np.int64))
        offset += len(prepared)
        cols = ", ".join(
            [f'{derived[c]} AS "{c}"' if c in derived else f'"{c}"' for c in prepared]
            + [f'{sql} AS "{c}"' for c, sql in derived.items() if c not in prepared]
        )
        con.register("__incoming", prepared)
        con.execute(f"CREATE TABLE src_{i} AS SELECT {cols} FROM __incoming")
        con.unregister("__incoming")
        del prepared
    names = pd.DataFrame({"src": np.arange(len(frames)), "name": list(frames)})
    con.register("__names", names)
    con.execute("CREATE TABLE sources AS SELECT * FROM __names")
    con.unregister("__names")
    union = " UNION ALL ".join(f"SELECT {i} AS src, * FROM src_{i}" for i in range(len(frames)))
    con.execute(f"CREATE VIEW records AS {union}")
    return offset


def _splink(con, frames, compared, rules, link: bool):
    from splink import DuckDBAPI, Linker, SettingsCreator, block_on

    db = DuckDBAPI(con)
    inputs = [db.register(f"src_{i}", table_name=f"in_{i}", dataset_display_name=name)
              for i, name in enumerate(frames)]  # fmt: skip
    settings = SettingsCreator(
        link_type="link_only" if link else "dedupe_only",
        unique_id_column_name="__row",
        comparisons=comparisons(compared),
        blocking_rules_to_generate_predictions=[block_on(*r) for r in rules],
        retain_intermediate_calculation_columns=False,
        retain_matching_columns=True,
        additional_columns_to_retain=["local_id"],
    )
    return Linker(inputs, settings, log_level=logging.ERROR)


def _exact_rules(compared: list[Compared]) -> list[list[str]]:
    """Deterministic rules: an identifier equal; or every name key, date and exact value."""
    ids = [[c.internal] for c in compared if c.kind == "identifier"]
    together = [c.keys[0][0] for c in compared if c.kind in ("name", "date", "exact")]
    if not together:
        together = [c.keys[0][0] for c in compared if c.keys and c.kind != "identifier"]
    return ids + ([together] if together else [])


def _em_rules(rules: list[list[str]], blocking: pd.DataFrame, compared) -> list[list[str]]:
    """EM sessions: the cheapest chosen rules until every comparison is trained in one."""
    pairs = {tuple(k): p for k, p in zip(blocking["keys"], blocking["pairs"], strict=True)}
    owner = {k: c.internal for c in compared for k, _ in c.keys}
    need, out = {c.internal for c in compared}, []
    for rule in sorted(rules, key=lambda r: pairs.get(tuple(r), 0)):
        fixed = {owner[k] for k in rule}
        if need - fixed:
            out.append(rule)
            need &= fixed
        if not need:
            break
    return out


def _probabilistic(con, frames, compared, rules, report, link, threshold, seed, u_pairs, n):
    from splink import block_on

    linker = _splink(con, frames, compared, rules, link)
    t = linker.training
    exact = [block_on(*r) for r in _exact_rules(compared)]
    t.estimate_probability_two_random_records_match(exact, recall=0.9)
    t.estimate_u_using_random_sampling(max_pairs=u_pairs, seed=seed, num_chunks=1)
    for rule in _em_rules(rules, report, compared):
        t.estimate_parameters_using_expectation_maximisation(block_on(*rule))
    predict = linker.inference.predict(threshold_match_probability=0.01)
    if link:
        hit = con.execute(
            f'SELECT "__row_l", "__row_r", match_probability FROM {predict.physical_name} '
            f"WHERE match_probability >= {float(threshold)!r}"
        ).fetchnumpy()
        label = best_links(hit["__row_l"], hit["__row_r"], hit["match_probability"],
                           _sources(frames), n)  # fmt: skip
    else:
        clustered = linker.clustering.cluster_pairwise_predictions_at_threshold(
            predict, threshold_match_probability=threshold
        )
        label = _labels(con, clustered.physical_name, n)
    first = "local_id_l, local_id_r, match_weight, match_probability, __row_l, __row_r"
    if link:
        systems = "source_dataset_l AS system_l, source_dataset_r AS system_r"
        first += ", source_dataset_l, source_dataset_r"
    else:
        only = next(iter(frames)).replace("'", "''")
        systems = f"'{only}' AS system_l, '{only}' AS system_r"
    pairs_sql = (
        f"SELECT {systems}, local_id_l, local_id_r, match_weight, match_probability, "
        f"* EXCLUDE ({first}) FROM {predict.physical_name}"
    )
    return label, linker, pairs_sql


def _deterministic(con, frames, compared, link):
    linker = _splink(con, frames, compared, _exact_rules(compared), link)
    pairs = linker.inference.deterministic_link()
    clustered = linker.clustering.cluster_pairwise_predictions_at_threshold(pairs, None)
    return clustered.physical_name


def best_links(left, right, score, source, n: int) -> np.ndarray:
    """Single-best-link clusters: at most one record of each source in a cluster.

    The rule of splink's ``cluster_using_single_best_links``, in rounds over arrays: every
    cluster starts as one record; in each round, two clusters are merged when the link
    between them is the best link of each (the highest score; ties go to the link of the
    lower record ids) among its links to clusters holding no record of a source it holds.
    Rounds go on until no two clusters can merge. (Splink runs each round as SQL over every
    record; here a round is a few sorts of the links only.)

    Parameters
    ----------
    left, right : array of int
        The records (0 to ``n - 1``) of each link.
    score : array of float
        Each link's score; higher is better.
    source : array of int
        The source (0 to 62) of every record, length ``n``.
    n : int
        Records in all.

    Returns
    -------
    numpy.ndarray
        A cluster label per record (records of one cluster share it).

    Examples
    --------
    >>> import numpy as np
    >>> # records 0 and 1 of source 0, 2 of source 1, 3 of source 2
    >>> best_links(np.array([0, 1, 2]), np.array([2, 2, 3]), np.array([0.9, 0.95, 0.8]),
    ...            np.array([0, 0, 1, 2]), 4).tolist()
    [0, 1, 1, 1]
    """
    left, right = np.asarray(left, np.int64), np.asarray(right, np.int64)
    order = np.lexsort((right, left, -np.asarray(score, np.float64)))
    nodes, ends = np.unique(np.concatenate([left[order], right[order]]), return_inverse=True)
    m = len(order)
    a, b = ends[:m], ends[m:]  # the linked records, numbered 0 to k - 1; the best link first
    label = np.arange(len(nodes), dtype=np.int64)  # each linked record's cluster
    held = np.left_shift(1, np.asarray(source, np.int64)[nodes])  # sources a cluster holds
    while len(a):
        ca, cb = label[a], label[b]
        ok = (ca != cb) & ((held[ca] & held[cb]) == 0)  # a link that fails now fails for good
        a, b, ca, cb = a[ok], b[ok], ca[ok], cb[ok]
        if not len(a):
            break
        # Links are sorted, so a cluster's first link (in link order) is its best one.
        first = np.unique(np.stack([ca, cb], axis=1).ravel(), return_index=True)
        best = np.empty(len(nodes), np.int64)
        best[first[0]] = first[1] // 2
        at = np.arange(len(a))
        mutual = (best[ca] == at) & (best[cb] == at)
        into = np.arange(len(nodes), dtype=np.int64)
        into[cb[mutual]] = ca[mutual]  # a cluster takes part in one merge at most per round
        held[ca[mutual]] |= held[cb[mutual]]
        label = into[label]
    out = np.arange(n, dtype=np.int64)
    out[nodes] = nodes[label]
    return out


def _sources(frames) -> np.ndarray:
    """The source (0, 1, ...) of every record, by ``__row``."""
    return np.repeat(np.arange(len(frames)), [len(f) for f in frames.values()])


def _labels(con, table: str, n: int) -> np.ndarray:
    """A cluster label per record (by ``__row``) from a splink cluster table."""
    label = np.arange(n, dtype=np.int64) + n  # a record no cluster holds stands alone
    got = con.execute(f'SELECT "__row", cluster_id FROM {table}').df()
    codes = pd.factorize(got["cluster_id"].astype("string"))[0]
    label[got["__row"].to_numpy(np.int64)] = codes
    return label


def _frame(con, frames, label: np.ndarray) -> pd.DataFrame:
    system = np.repeat(np.array(list(frames), dtype=object), [len(f) for f in frames.values()])
    local = con.execute(
        " UNION ALL ".join(
            f"(SELECT local_id FROM src_{i} ORDER BY __row)" for i in range(len(frames))
        )  # fmt: skip
    ).df()["local_id"]
    return pd.DataFrame({
        "system": pd.array(system, dtype="string"),
        "local_id": local.astype("string").to_numpy(),
        "cluster_id": pd.factorize(label)[0].astype("int64"),
    })  # fmt: skip


def link_frames(
    frames: dict,
    *,
    id_column: str,
    compare: dict,
    method: str = "probabilistic",
    blocking=None,
    threshold: float | None = None,
    key=None,
    hardening: dict | None = None,
    seed: int = 0,
) -> LinkResult:
    """Find the records of the same entity across tables (or within one table).

    Parameters
    ----------
    frames : dict of str to pandas.DataFrame
        Source name to its records. Two sources or more are linked (each source holding at
        most one record per entity); one source is deduplicated.
    id_column : str
        The column holding each record's id, unique within its source.
    compare : dict
        Column to kind: ``"name"``, ``"date"``, ``"identifier"``, ``"address"``, ``"exact"``
        or ``"numeric"``, or a dict with ``kind`` and its options (see
        :mod:`healthlab.sharing.compare`). Every source must have these columns.
    method : {"probabilistic", "deterministic", "bloom"}
        How to link (see the module notes).
    blocking : list, optional
        Blocking rules, each a column or a list of columns; chosen from the counts so that no
        rule makes huge blocks when omitted (:mod:`healthlab.sharing.blocking`). What was
        chosen and why is in the result's ``blocking``.
    threshold : float, optional
        Match probability (default 0.9) or, for ``bloom``, Dice coefficient (default 0.7) at
        or above which a pair is linked.
    key : str or bytes, optional
        For ``bloom``: the secret the data holders share. By default a key made from
        ``seed``: fine for teaching, never for real data.
    hardening : dict, optional
        For ``bloom``: ``salt`` (a compared column whose value salts every token, e.g. a
        birth date, of which the year is used), ``balance`` and ``xor_fold`` (bool); see
        :func:`~healthlab.sharing.bloom.bloom_encode`.
    seed : int
        Seed of the sampling in training (and of the default Bloom key).

    Returns
    -------
    LinkResult
        ``clusters`` (``system``, ``local_id``, ``cluster_id``), the ``blocking`` report, the
        scored ``pairs()`` and the splink ``model``.

    Examples
    --------
    >>> import pandas as pd
    >>> a = pd.DataFrame({"id": [1, 2, 3], "name": ["王伟", "李娜", "张敏"],
    ...                   "born": ["1980-01-02", "1975-06-30", "1990-12-01"]})
    >>> b = pd.DataFrame({"id": ["x", "y"], "name": ["Wang Wei", "Zhang Min"],
    ...                   "born": ["1980-02-01", "1990-12-01"]})
    >>> r = link_frames({"a": a, "b": b}, id_column="id",
    ...                 compare={"name": "name", "born": "date"}, method="deterministic")
    >>> r.clusters["cluster_id"].tolist()
    [0, 1, 2, 3, 2]
    """
    return _link_frames(frames, id_column=id_column, compare=compare, method=method,
                        blocking=blocking, threshold=threshold, key=key, hardening=hardening,
                        seed=seed)  # fmt: skip


def _link_frames(frames, *, id_column, compare, method, blocking, threshold, key, hardening,
                 seed, u_pairs=U_PAIRS):  # fmt: skip
    seed = check_seed(seed)
    if method not in METHODS:
        raise InvalidParameterError(f"method must be one of {list(METHODS)}, got {method!r}")
    default = 0.7 if method == "bloom" else 0.9
    threshold = default if threshold is None else threshold
    if (
        isinstance(threshold, bool)
        or not isinstance(threshold, int | float)
        or not (0 < threshold < 1)
    ):
        raise InvalidParameterError(f"threshold must be a number in (0, 1), got {threshold!r}")
    if method != "bloom" and (key is not None or hardening is not None):
        raise InvalidParameterError("key and hardening apply to method='bloom' only")
    frames = _check_frames(frames, id_column)
    compared = parse_compare(compare, {s: list(f.columns) for s, f in frames.items()})
    link = len(frames) > 1
    con = _connect()
    n = _load(con, frames, compared, id_column)
    rules, report = choose_blocking(con, compared, n, link=link, blocking=blocking)
    model = pairs_sql = None
    if method == "probabilistic":
        label, model, pairs_sql = _probabilistic(
            con, frames, compared, rules, report, link, threshold, seed, u_pairs, n
        )
        clusters = _frame(con, frames, label)
    elif method == "deterministic":
        label = _labels(con, _deterministic(con, frames, compared, link), n)
        clusters = _frame(con, frames, label)
    else:
        from healthlab.sharing.bloom import bloom_link_records

        key = key if key is not None else f"healthlab-teaching-key-{seed}"
        label, pairs_sql = bloom_link_records(
            con, frames, compared, rules, n, key=key, threshold=threshold,
            hardening=hardening, link=link,
        )  # fmt: skip
        clusters = _frame(con, frames, label)
    return LinkResult(clusters, method, float(threshold), report, model, con, pairs_sql)
