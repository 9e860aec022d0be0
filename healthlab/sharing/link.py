"""One call from hospital databases to linked patients: :func:`link_systems`."""

from __future__ import annotations

import pandas as pd

from healthlab._validation import check_seed
from healthlab.errors import InvalidParameterError
from healthlab.sharing.frames import METHODS
from healthlab.synth.systems import opened_systems

__all__ = ["COMPARE", "link_systems", "patient_frames"]

#: How the hospital systems' standardised identifiers are compared.
COMPARE = {"name": "name", "birth_date": "date", "sex": "exact", "resident_id": "identifier",
           "phone": "identifier", "address_key": "address"}  # fmt: skip


def link_systems(
    systems,
    *,
    method: str = "probabilistic",
    mappings: dict | None = None,
    threshold: float | None = None,
    key=None,
    seed: int = 0,
    result: bool = False,
):
    """Find the records of the same patient across hospital systems.

    Reads each system's patient table through its mapping, standardises the identifiers
    (:mod:`healthlab.sharing.identifiers`) and links them with :func:`link_frames`, the
    identifiers mapped to kinds by :data:`COMPARE`: the name (characters, or pinyin where the
    system keeps no characters), birth date, sex, resident id, phone and address key
    (street number, building and room).

    Parameters
    ----------
    systems : HospitalSystems, Dataset, folder or dict
        The hospital systems: :func:`healthlab.synth.make_hospital_systems` (or the catalogue's
        ``hospital_systems`` dataset), a folder :func:`healthlab.synth.write_hospital_systems`
        wrote, or a dict of system name to the path of its SQLite database.
    method : {"probabilistic", "deterministic", "bloom"}
        How to link (see :mod:`healthlab.sharing.frames`).
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
    result : bool
        Return the whole :class:`~healthlab.sharing.frames.LinkResult` (blocking report,
        scored pairs, model) instead of its clusters.

    Returns
    -------
    pandas.DataFrame
        ``system``, ``local_id``, ``cluster_id``: one row per patient record of every system;
        records of the same person share a ``cluster_id`` (integers from 0).

    Examples
    --------
    >>> from healthlab.synth import make_population, make_clinical, make_hospital_systems
    >>> people = make_population(300, seed=0)
    >>> hs = make_hospital_systems(people, make_clinical(people, seed=0), seed=0)
    >>> links = link_systems(hs, method="deterministic")
    >>> list(links.columns), len(links) == len(hs.truth)
    (['system', 'local_id', 'cluster_id'], True)
    """
    from healthlab.sharing.frames import link_frames
    from healthlab.sharing.identifiers import read_identifiers

    seed = check_seed(seed)
    if method not in METHODS:
        raise InvalidParameterError(f"method must be one of {list(METHODS)}, got {method!r}")
    with opened_systems(systems) as paths:
        ids = read_identifiers(paths, mappings)
    names = list(dict.fromkeys(ids["system"]))
    if len(names) < 2:
        raise InvalidParameterError(f"linkage needs records of two systems or more, got {names}")
    frames = patient_frames(ids)
    del ids
    out = link_frames(frames, id_column="local_id", compare=COMPARE, method=method,
                      threshold=threshold, key=key, seed=seed)  # fmt: skip
    return out if result else out.clusters


def patient_frames(ids: pd.DataFrame) -> dict[str, pd.DataFrame]:
    """Standardised identifiers split per system, in the columns of :data:`COMPARE`."""
    name = ids["name_zh"].fillna(ids["surname_py"] + " " + ids["given_py"].fillna(""))
    cols = pd.DataFrame({
        "local_id": ids["local_id"], "name": name, "birth_date": ids["birth_date"],
        "sex": ids["sex"], "resident_id": ids["resident_id"], "phone": ids["phone"],
        "address_key": ids["address_key"],
    })  # fmt: skip
    return {s: part.reset_index(drop=True) for s, part in cols.groupby(ids["system"], sort=False)}
