"""One call from hospital databases to linked patients: :func:`link_systems`."""

from __future__ import annotations

import pandas as pd

from healthlab.errors import InvalidParameterError
from healthlab.synth._blocks import check_seed

__all__ = ["METHODS", "link_systems"]

METHODS = ("probabilistic", "deterministic", "bloom")


def link_systems(
    paths: dict,
    *,
    method: str = "probabilistic",
    mappings: dict | None = None,
    threshold: float | None = None,
    key=None,
    seed: int = 0,
) -> pd.DataFrame:
    """Find the records of the same patient across hospital systems.

    Reads each system's patient table through its mapping, standardises the identifiers
    (:mod:`healthlab.sharing.identifiers`) and links them:

    - ``"probabilistic"``: the splink Fellegi-Sunter model trained by EM, clustered with
      at most one record per system (:func:`~healthlab.sharing.linkage.probabilistic_link`);
    - ``"deterministic"``: exact keys, resident id or name + birth date + sex
      (:func:`~healthlab.sharing.linkage.deterministic_link`);
    - ``"bloom"``: keyed Bloom-filter encodings matched by Dice similarity, as a linkage unit
      that never sees an identifier would (:func:`~healthlab.sharing.bloom.bloom_link`).

    Parameters
    ----------
    paths : dict
        System name to the path of its SQLite database (``make_hospital_systems(...).paths``).
    method : {"probabilistic", "deterministic", "bloom"}
        How to link.
    mappings : dict, optional
        System name to its mapping (shipped name, YAML path or dict); by default the shipped
        mapping named like the system.
    threshold : float, optional
        Match probability (probabilistic, default 0.9) or Dice coefficient (bloom, default
        0.7) at or above which a pair is linked.
    key : str or bytes, optional
        The secret shared by the hospitals for ``"bloom"``. When omitted, a key made from
        ``seed`` is used: fine for teaching, never for real data.
    seed : int
        Seed of the sampling in model training.

    Returns
    -------
    pandas.DataFrame
        ``system``, ``local_id``, ``cluster_id``: one row per patient record of every system;
        records of the same person share a ``cluster_id`` (integers from 0).

    Examples
    --------
    >>> from healthlab.sharing.example import make_city_systems
    >>> hs = make_city_systems(300, seed=0)
    >>> links = link_systems(hs.paths, method="deterministic")
    >>> list(links.columns), len(links) == len(hs.truth)
    (['system', 'local_id', 'cluster_id'], True)
    """
    from healthlab.sharing.identifiers import read_identifiers

    seed = check_seed(seed)
    if method not in METHODS:
        raise InvalidParameterError(f"method must be one of {list(METHODS)}, got {method!r}")
    if threshold is not None and not 0 < threshold < 1:
        raise InvalidParameterError(f"threshold must be in (0, 1), got {threshold!r}")
    ids = read_identifiers(paths, mappings)
    if method == "deterministic":
        from healthlab.sharing.linkage import deterministic_link

        return deterministic_link(ids)
    if method == "bloom":
        from healthlab.sharing.bloom import bloom_link

        key = key if key is not None else f"healthlab-teaching-key-{seed}"
        return bloom_link(ids, key=key, **({"threshold": threshold} if threshold else {}))[0]
    from healthlab.sharing.linkage import probabilistic_link

    kw = {"threshold": threshold} if threshold else {}
    return probabilistic_link(ids, seed=seed, keep_pairs=False, **kw)[0]
