"""Record linkage across hospital systems: probabilistic (splink), exact-key, and clustering.

**Probabilistic.** A Fellegi-Sunter model in splink (DuckDB backend) compares each candidate
pair of records from different systems on six identifiers, each with levels suited to how
Chinese identifiers go wrong:

- *name*: the same characters; the same pinyin (a homophone typo in characters, or one
  system in characters and the other in pinyin), with a term-frequency adjustment so that
  a match on a common name (Wang Wei) counts for less than one on a rare name; pinyin
  Jaro-Winkler at least 0.92; the same surname and given names at Jaro-Winkler 0.8;
- *birth date*: equal; day and month swapped, or the year's last two digits swapped, or one
  day apart (the transpositions clerks make); the same year;
- *resident id*: equal; one character apart (a mistyped digit); different;
- *sex*, *phone*, *address* (street number, building and room): equal or not.

Missing values are their own null level and count neither way.

**Blocking.** Surnames are concentrated (Wang, Li and Zhang about 7% of people each), so no
rule blocks on the surname alone. Candidate pairs are those agreeing on any of: resident id;
phone; address key; surname and birth date; full pinyin name and birth year. Each rule keeps
blocks small, and together they miss a true pair only if every one of those fields is wrong.

**Training.** ``u`` probabilities by random sampling of pairs (seeded); ``m`` probabilities by
expectation maximisation in two sessions, blocked on resident id and on surname and birth date
(small blocks even at a million records), so that each comparison is trained in a session
that does not block on it; the prior from the pairs
that agree on the resident id.

**Clustering.** Each system holds one record per patient, so pairs at or above the threshold
are clustered with splink's single-best-link method: a cluster takes at most one record from
each system, and each record joins its best match. This scales to any number of systems.

**Exact key (deterministic).** Two records are linked when their resident ids are equal, or
when pinyin name, birth date and sex are all equal; clusters are connected components.
"""

from __future__ import annotations

import logging

import numpy as np
import pandas as pd

from healthlab.errors import InvalidParameterError
from healthlab.synth._blocks import check_seed

__all__ = [
    "clusters_from_pairs",
    "deterministic_link",
    "probabilistic_link",
    "settings",
]

#: Match probability at or above which a pair is linked, by default.
THRESHOLD = 0.9


def _comparisons():
    import splink.comparison_library as cl

    def null(col):
        return {"sql_condition": f'"{col}_l" IS NULL OR "{col}_r" IS NULL',
                "label_for_charts": "missing", "is_null_level": True}  # fmt: skip

    def exact(col, label="equal", tf=False):
        level = {"sql_condition": f'"{col}_l" = "{col}_r"', "label_for_charts": label}
        if tf:
            level["tf_adjustment_column"] = col
            level["tf_adjustment_weight"] = 1.0
        return level

    other = {"sql_condition": "ELSE", "label_for_charts": "different"}
    jw = "jaro_winkler_similarity"
    name = cl.CustomComparison(
        output_column_name="name",
        comparison_levels=[
            null("name_py"),
            exact("name_zh", "same characters"),
            exact("name_py", "same pinyin", tf=True),
            {"sql_condition": f"{jw}(name_py_l, name_py_r) >= 0.92",
             "label_for_charts": "JW>=0.92"},
            {"sql_condition": "surname_py_l = surname_py_r AND "
                              f"{jw}(given_py_l, given_py_r) >= 0.8",
             "label_for_charts": "same surname, given JW>=0.8"},
            other,
        ],
    )  # fmt: skip
    swapped = (
        "(substr(birth_date_l, 1, 4) = substr(birth_date_r, 1, 4) "
        "AND substr(birth_date_l, 6, 2) = substr(birth_date_r, 9, 2) "
        "AND substr(birth_date_l, 9, 2) = substr(birth_date_r, 6, 2)) "
        "OR (substr(birth_date_l, 1, 2) = substr(birth_date_r, 1, 2) "
        "AND substr(birth_date_l, 3, 1) = substr(birth_date_r, 4, 1) "
        "AND substr(birth_date_l, 4, 1) = substr(birth_date_r, 3, 1) "
        "AND substr(birth_date_l, 5) = substr(birth_date_r, 5)) "
        "OR abs(date_diff('day', CAST(birth_date_l AS DATE), CAST(birth_date_r AS DATE))) = 1"
    )
    birth = cl.CustomComparison(
        output_column_name="birth_date",
        comparison_levels=[
            null("birth_date"), exact("birth_date"),
            {"sql_condition": swapped, "label_for_charts": "transposed or one day apart"},
            {"sql_condition": "birth_year_l = birth_year_r", "label_for_charts": "same year"},
            other,
        ],
    )  # fmt: skip
    rid = cl.CustomComparison(
        output_column_name="resident_id",
        comparison_levels=[
            null("resident_id"), exact("resident_id"),
            {"sql_condition": "levenshtein(resident_id_l, resident_id_r) <= 1",
             "label_for_charts": "one character apart"},
            other,
        ],
    )  # fmt: skip
    simple = [
        cl.CustomComparison(output_column_name=c, comparison_levels=[null(c), exact(c), other])
        for c in ("sex", "phone", "address_key")
    ]
    return [name, birth, rid, *simple]


def _blocking():
    from splink import block_on

    return [
        block_on("resident_id"),
        block_on("phone"),
        block_on("address_key"),
        block_on("surname_py", "birth_date"),
        block_on("name_py", "birth_year"),
    ]


def settings(blocking_rules=None):
    """The splink settings of healthlab's probabilistic model (see the module notes).

    Parameters
    ----------
    blocking_rules : list, optional
        Rules that generate the pairs to score; by default the model's five rules.

    Examples
    --------
    >>> s = settings()
    >>> s.link_type, len(s.comparisons), s.unique_id_column_name
    ('link_only', 6, 'local_id')
    """
    from splink import SettingsCreator

    return SettingsCreator(
        link_type="link_only",
        unique_id_column_name="local_id",
        comparisons=_comparisons(),
        blocking_rules_to_generate_predictions=blocking_rules or _blocking(),
        retain_intermediate_calculation_columns=False,
        retain_matching_columns=True,
    )


def _check(ids: pd.DataFrame) -> list[str]:
    from healthlab.sharing.identifiers import IDENTIFIER_COLUMNS

    if not isinstance(ids, pd.DataFrame):
        raise InvalidParameterError(
            f"ids must be a DataFrame from read_identifiers, got {type(ids).__name__}"
        )
    missing = [c for c in IDENTIFIER_COLUMNS if c not in ids]
    if missing:
        raise InvalidParameterError(f"ids lacks the columns {missing}; see read_identifiers")
    systems = list(dict.fromkeys(ids["system"]))
    if len(systems) < 2:
        raise InvalidParameterError(f"linkage needs records of two systems or more, got {systems}")
    return systems


def _linker(ids: pd.DataFrame, systems: list[str], blocking_rules=None):
    import duckdb
    from splink import DuckDBAPI, Linker

    db = DuckDBAPI(duckdb.connect())
    frames = [
        db.register(ids[ids["system"] == s].drop(columns="system").reset_index(drop=True),
                    dataset_display_name=s)
        for s in systems
    ]  # fmt: skip
    return Linker(frames, settings(blocking_rules), log_level=logging.ERROR)


def probabilistic_link(
    ids: pd.DataFrame,
    *,
    threshold: float = THRESHOLD,
    max_pairs: float = 2e6,
    keep_pairs: bool = True,
    seed: int = 0,
):
    """Train the splink model on the records, score candidate pairs, and cluster them.

    Parameters
    ----------
    ids : pandas.DataFrame
        Standardised identifiers (:func:`~healthlab.sharing.identifiers.read_identifiers`).
    threshold : float
        Match probability at or above which a pair is linked.
    max_pairs : float
        Pairs sampled to estimate the ``u`` probabilities.
    keep_pairs : bool
        Return the scored pairs as a DataFrame (``None`` otherwise, which saves time and
        memory when only the clusters are wanted).
    seed : int
        Seed of that sampling.

    Returns
    -------
    clusters : pandas.DataFrame
        ``system``, ``local_id``, ``cluster_id`` (one row per record).
    pairs : pandas.DataFrame or None
        Every candidate pair scored at a match probability of 0.01 or more: ``system_l``,
        ``local_id_l``, ``system_r``, ``local_id_r``, ``match_weight``, ``match_probability``
        and the compared values.
    linker : splink.Linker
        The trained model (for its charts and parameters).

    Examples
    --------
    >>> from healthlab.sharing.example import make_city_systems
    >>> from healthlab.sharing.identifiers import read_identifiers
    >>> ids = read_identifiers(make_city_systems(300, seed=0).paths)
    >>> clusters, pairs, linker = probabilistic_link(ids, seed=0)
    >>> len(clusters) == len(ids), bool(pairs["match_probability"].max() > 0.99)
    (True, True)
    """
    from splink import block_on

    seed = check_seed(seed)
    systems = _check(ids)
    if not 0 < threshold < 1:
        raise InvalidParameterError(f"threshold must be a probability in (0, 1), got {threshold!r}")
    linker = _linker(ids, systems)
    t = linker.training
    t.estimate_probability_two_random_records_match([block_on("resident_id")], recall=0.85)
    t.estimate_u_using_random_sampling(max_pairs=max_pairs, seed=seed)
    for rule in (block_on("resident_id"), block_on("surname_py", "birth_date")):
        t.estimate_parameters_using_expectation_maximisation(rule)
    predict = linker.inference.predict(threshold_match_probability=0.01)
    cl = linker.clustering.cluster_using_single_best_links(
        predict, duplicate_free_datasets=systems, threshold_match_probability=threshold
    )
    clusters = cl.as_pandas_dataframe()
    pairs = None
    if keep_pairs:
        pairs = predict.as_pandas_dataframe().rename(
            columns={"source_dataset_l": "system_l", "source_dataset_r": "system_r"}
        )
    clusters = clusters.rename(columns={"source_dataset": "system"})
    return _dense(clusters, ids), pairs, linker


def deterministic_link(ids: pd.DataFrame) -> pd.DataFrame:
    """Link records that agree exactly on a key: resident id, or pinyin name + birth date + sex.

    Runs splink's deterministic linkage on the two key rules and clusters the links as
    connected components.

    Returns
    -------
    pandas.DataFrame
        ``system``, ``local_id``, ``cluster_id``.

    Examples
    --------
    >>> from healthlab.sharing.example import make_city_systems
    >>> from healthlab.sharing.identifiers import read_identifiers
    >>> ids = read_identifiers(make_city_systems(200, seed=0).paths)
    >>> out = deterministic_link(ids)
    >>> len(out) == len(ids)
    True
    """
    from splink import block_on

    systems = _check(ids)
    keys = [block_on("resident_id"), block_on("name_py", "birth_date", "sex")]
    linker = _linker(ids, systems, blocking_rules=keys)
    pairs = linker.inference.deterministic_link().as_pandas_dataframe()
    return clusters_from_pairs(
        ids,
        pairs["source_dataset_l"], pairs["local_id_l"],
        pairs["source_dataset_r"], pairs["local_id_r"],
    )  # fmt: skip


def _dense(clusters: pd.DataFrame, ids: pd.DataFrame) -> pd.DataFrame:
    """Clusters in the records' order, numbered 0, 1, 2... by first appearance."""
    out = ids[["system", "local_id"]].merge(
        clusters[["system", "local_id", "cluster_id"]].astype({"local_id": "string"}),
        on=["system", "local_id"], how="left", validate="one_to_one",
    )  # fmt: skip
    alone = out["cluster_id"].isna()
    out.loc[alone, "cluster_id"] = "single:" + out["system"] + ":" + out["local_id"]
    out["cluster_id"] = pd.factorize(out["cluster_id"].astype(str))[0].astype("int64")
    return out


def clusters_from_pairs(ids, system_l, local_l, system_r, local_r) -> pd.DataFrame:
    """Connected components of linked pairs: ``system``, ``local_id``, ``cluster_id``.

    Examples
    --------
    >>> import pandas as pd
    >>> ids = pd.DataFrame({"system": ["a", "a", "b"], "local_id": ["1", "2", "9"]})
    >>> clusters_from_pairs(ids, ["a"], ["2"], ["b"], ["9"])["cluster_id"].tolist()
    [0, 1, 1]
    """
    from scipy.sparse import coo_matrix
    from scipy.sparse.csgraph import connected_components

    key = pd.MultiIndex.from_frame(ids[["system", "local_id"]].astype(str))
    left = key.get_indexer(pd.MultiIndex.from_arrays([np.asarray(system_l, str),
                                                      np.asarray(local_l, str)]))  # fmt: skip
    right = key.get_indexer(pd.MultiIndex.from_arrays([np.asarray(system_r, str),
                                                       np.asarray(local_r, str)]))  # fmt: skip
    n = len(ids)
    graph = coo_matrix((np.ones(len(left)), (left, right)), shape=(n, n))
    _, label = connected_components(graph, directed=False)
    out = ids[["system", "local_id"]].copy()
    out["cluster_id"] = pd.factorize(label)[0].astype("int64")
    return out.reset_index(drop=True)
