"""How good a linkage is, against the ground truth: pairwise precision, recall, F1; review pairs."""

from __future__ import annotations

from dataclasses import dataclass, fields

import pandas as pd

from healthlab._results import TableView, fields_frame
from healthlab.errors import InvalidParameterError

__all__ = ["LinkageQuality", "clerical_review", "linkage_quality"]


def _pairs_count(sizes: pd.Series) -> int:
    return int((sizes * (sizes - 1) // 2).sum())


@dataclass(frozen=True)
class LinkageQuality(TableView):
    """Pairwise quality of a linkage against the truth.

    Attributes
    ----------
    precision, recall, f1 : float
        Of the record pairs put in one cluster, the share that are one person; of the pairs
        that are one person, the share put in one cluster; their harmonic mean.
    true_pairs, predicted_pairs, correct_pairs, records, clusters, people : int
        The counts behind them.

    Examples
    --------
    >>> q = LinkageQuality(1.0, 0.5, 2 / 3, 2, 1, 1, 3, 2, 2)
    >>> q.recall, q["recall"]
    (0.5, 0.5)
    """

    precision: float
    recall: float
    f1: float
    true_pairs: int
    predicted_pairs: int
    correct_pairs: int
    records: int
    clusters: int
    people: int

    def __getitem__(self, name: str):
        """A measure by name (``q["f1"]`` is ``q.f1``)."""
        if name not in {f.name for f in fields(self)}:
            raise KeyError(
                f"no measure {name!r}; the measures are {[f.name for f in fields(self)]}"
            )
        return getattr(self, name)

    def to_frame(self) -> pd.DataFrame:
        """One row per measure."""
        return fields_frame(self, [f.name for f in fields(self)])


def linkage_quality(clusters: pd.DataFrame, truth: pd.DataFrame) -> LinkageQuality:
    """Pairwise precision, recall and F1 of a clustering against the truth.

    A pair of records is *predicted* when both are in one cluster and *true* when both are
    the same person. Counting pairs by group sizes needs no list of pairs.

    Parameters
    ----------
    clusters : pandas.DataFrame or LinkResult
        ``system``, ``local_id``, ``cluster_id`` (or the result of
        :func:`~healthlab.sharing.link_frames`, whose ``clusters`` are used).
    truth : pandas.DataFrame
        ``system``, ``local_id``, ``person_id``, covering the same records.

    Returns
    -------
    LinkageQuality
        ``precision``, ``recall``, ``f1``, ``true_pairs``, ``predicted_pairs``,
        ``correct_pairs``, ``records``, ``clusters``, ``people``.

    Examples
    --------
    >>> import pandas as pd
    >>> truth = pd.DataFrame({"system": ["a", "b", "b"], "local_id": ["1", "7", "8"],
    ...                       "person_id": [1, 1, 2]})
    >>> found = truth.assign(cluster_id=[0, 0, 0]).drop(columns="person_id")
    >>> q = linkage_quality(found, truth)
    >>> q.recall, q.precision
    (1.0, 0.3333333333333333)
    """
    clusters = getattr(clusters, "clusters", clusters)
    need = {"clusters": (clusters, ["system", "local_id", "cluster_id"]),
            "truth": (truth, ["system", "local_id", "person_id"])}  # fmt: skip
    for name, (frame, cols) in need.items():
        missing = [c for c in cols if c not in frame]
        if missing:
            raise InvalidParameterError(f"{name} lacks the columns {missing}")
    both = clusters[["system", "local_id", "cluster_id"]].astype({"local_id": str}).merge(
        truth[["system", "local_id", "person_id"]].astype({"local_id": str}),
        on=["system", "local_id"], how="outer", indicator=True,
    )  # fmt: skip
    if (both["_merge"] != "both").any():
        lost = both[both["_merge"] != "both"].iloc[0]
        raise InvalidParameterError(
            f"clusters and truth must cover the same records; record {lost['system']}:"
            f"{lost['local_id']} is only in the {lost['_merge'].replace('_only', '')} frame"
        )
    predicted = _pairs_count(both.groupby("cluster_id").size())
    true = _pairs_count(both.groupby("person_id").size())
    correct = _pairs_count(both.groupby(["cluster_id", "person_id"]).size())
    precision = correct / predicted if predicted else 1.0
    recall = correct / true if true else 1.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return LinkageQuality(
        precision=precision,
        recall=recall,
        f1=f1,
        true_pairs=true,
        predicted_pairs=predicted,
        correct_pairs=correct,
        records=len(both),
        clusters=int(both["cluster_id"].nunique()),
        people=int(both["person_id"].nunique()),
    )


def clerical_review(
    pairs: pd.DataFrame, *, low: float = 0.3, high: float = 0.95, truth: pd.DataFrame | None = None
) -> pd.DataFrame:
    """The scored pairs a clerk should look at: match probability in ``[low, high)``.

    Parameters
    ----------
    pairs : pandas.DataFrame or LinkResult
        Scored pairs (``system_l``, ``local_id_l``, ``system_r``, ``local_id_r``,
        ``match_probability``), or a probabilistic :func:`~healthlab.sharing.link_frames`
        result, of which only the pairs in the band are read from DuckDB.
    low, high : float
        The band of match probability that is neither clearly a match nor clearly not.
    truth : pandas.DataFrame, optional
        With it, a ``same_person`` column says what the clerk would find.

    Returns
    -------
    pandas.DataFrame
        The pairs in the band, most uncertain (closest to 0.5) first.

    Examples
    --------
    >>> import pandas as pd
    >>> from healthlab.sharing import clerical_review
    >>> pairs = pd.DataFrame({"system_l": ["a", "a", "a"], "local_id_l": ["1", "2", "3"],
    ...                       "system_r": ["b", "b", "b"], "local_id_r": ["x", "x", "y"],
    ...                       "match_probability": [0.99, 0.4, 0.6]})
    >>> truth = pd.DataFrame({"system": ["a", "a", "a", "b", "b"],
    ...                       "local_id": ["1", "2", "3", "x", "y"], "person_id": [1, 2, 3, 1, 3]})
    >>> clerical_review(pairs, low=0.3, high=0.95, truth=truth)
      system_l local_id_l system_r local_id_r  match_probability  same_person
    0        a          2        b          x                0.4        False
    1        a          3        b          y                0.6         True
    """
    if not 0 <= low < high <= 1:
        raise InvalidParameterError(f"need 0 <= low < high <= 1, got low={low!r}, high={high!r}")
    if hasattr(pairs, "pairs"):
        if pairs.method != "probabilistic":
            raise InvalidParameterError(
                f"clerical review needs match probabilities; a {pairs.method!r} linkage has none"
            )
        pairs = pairs.pairs(low, high)
    if "match_probability" not in pairs:
        raise InvalidParameterError("pairs lacks the column 'match_probability'")
    band = pairs[(pairs["match_probability"] >= low) & (pairs["match_probability"] < high)].copy()
    if truth is not None:
        person = truth.astype({"local_id": str}).set_index(["system", "local_id"])["person_id"]
        left = person.reindex(pd.MultiIndex.from_arrays(
            [band["system_l"], band["local_id_l"].astype(str)])).to_numpy()  # fmt: skip
        right = person.reindex(pd.MultiIndex.from_arrays(
            [band["system_r"], band["local_id_r"].astype(str)])).to_numpy()  # fmt: skip
        band["same_person"] = left == right
    order = (band["match_probability"] - 0.5).abs().sort_values(kind="stable").index
    return band.loc[order].reset_index(drop=True)
