"""The linkage of standardised hospital identifiers, by method, over :func:`link_frames`.

These take the identifiers of :func:`~healthlab.sharing.identifiers.read_identifiers` (all
systems in one frame) and return what a case study looks at; the work is done by
:func:`~healthlab.sharing.frames.link_frames`, the one engine, with the identifiers compared
as :data:`healthlab.sharing.link.COMPARE` says.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from healthlab.errors import InvalidParameterError

__all__ = ["clusters_from_pairs", "deterministic_link", "probabilistic_link"]


def _frames(ids: pd.DataFrame) -> dict:
    from healthlab.sharing.identifiers import IDENTIFIER_COLUMNS
    from healthlab.sharing.link import patient_frames

    if not isinstance(ids, pd.DataFrame):
        raise InvalidParameterError(
            f"ids must be a DataFrame from read_identifiers, got {type(ids).__name__}"
        )
    missing = [c for c in IDENTIFIER_COLUMNS if c not in ids]
    if missing:
        raise InvalidParameterError(f"ids lacks the columns {missing}; see read_identifiers")
    frames = patient_frames(ids)
    if len(frames) < 2:
        raise InvalidParameterError(
            f"linkage needs records of two systems or more, got {list(frames)}"
        )
    return frames


def probabilistic_link(ids: pd.DataFrame, *, threshold: float = 0.9, max_pairs: float = 2e6,
                       keep_pairs: bool = True, seed: int = 0):  # fmt: skip
    """Train the splink model on the records, score candidate pairs, and cluster them.

    Parameters
    ----------
    ids : pandas.DataFrame
        Standardised identifiers (:func:`~healthlab.sharing.identifiers.read_identifiers`).
    threshold : float
        Match probability at or above which a pair is linked.
    max_pairs : float
        Random pairs sampled to estimate the ``u`` probabilities.
    keep_pairs : bool
        Return the scored pairs as a DataFrame (``None`` otherwise).
    seed : int
        Seed of that sampling.

    Returns
    -------
    clusters : pandas.DataFrame
        ``system``, ``local_id``, ``cluster_id`` (one row per record).
    pairs : pandas.DataFrame or None
        Every candidate pair scored at a match probability of 0.01 or more: ``system_l``,
        ``local_id_l``, ``system_r``, ``local_id_r``, ``match_weight``, ``match_probability``
        and the compared values of both records (``name_py_l`` and ``name_py_r`` are the
        names' pinyin).
    model : splink.Linker
        The trained model (for its charts and parameters).

    Examples
    --------
    >>> from healthlab.synth import make_population, make_clinical, make_hospital_systems
    >>> from healthlab.sharing.identifiers import read_identifiers
    >>> people = make_population(300, seed=0)
    >>> ids = read_identifiers(make_hospital_systems(people, make_clinical(people, seed=0)))
    >>> clusters, pairs, model = probabilistic_link(ids, seed=0)
    >>> len(clusters) == len(ids), bool(pairs["match_probability"].max() > 0.99)
    (True, True)
    """
    from healthlab.sharing.frames import _link_frames
    from healthlab.sharing.link import COMPARE

    out = _link_frames(_frames(ids), id_column="local_id", compare=COMPARE,
                       method="probabilistic", blocking=None, threshold=threshold, key=None,
                       hardening=None, seed=seed, u_pairs=max_pairs)  # fmt: skip
    pairs = None
    if keep_pairs:
        pairs = out.pairs()
        pairs["name_py_l"], pairs["name_py_r"] = pairs["name__key_l"], pairs["name__key_r"]
    return out.clusters, pairs, out.model


def deterministic_link(ids: pd.DataFrame) -> pd.DataFrame:
    """Link records that agree exactly on a key: an identifier, or name + birth date + sex.

    Returns
    -------
    pandas.DataFrame
        ``system``, ``local_id``, ``cluster_id``.

    Examples
    --------
    >>> from healthlab.synth import make_population, make_clinical, make_hospital_systems
    >>> from healthlab.sharing.identifiers import read_identifiers
    >>> people = make_population(200, seed=0)
    >>> ids = read_identifiers(make_hospital_systems(people, make_clinical(people, seed=0)))
    >>> out = deterministic_link(ids)
    >>> len(out) == len(ids)
    True
    """
    from healthlab.sharing.frames import link_frames
    from healthlab.sharing.link import COMPARE

    return link_frames(_frames(ids), id_column="local_id", compare=COMPARE,
                       method="deterministic").clusters  # fmt: skip


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
