"""A synthetic public roster (voter or insurance list) drawn from the same population.

The roster is what an attacker holds in a linkage attack (Sweeney, 2002): for part of the
population, the quasi-identifiers sex, birth date, province and district beside a roster
number, and no health data. Each eligible person is on it with probability ``coverage``;
with ``error_rate`` a share of rows has one quasi-identifier misrecorded (birth date off by a
few days, or another district of the province), as in real registers.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from healthlab._blocks import BLOCK_SIZE, block_rng
from healthlab._validation import check_seed
from healthlab.errors import InvalidParameterError
from healthlab.synth import _model as M
from healthlab.synth.population import _district_labels

__all__ = ["make_roster"]

_KINDS = ("voter", "insurance")
_COLUMNS = ("person_id", "sex", "age", "birth_date", "province", "province_code", "district",
            "insurance")  # fmt: skip


def _check(population, kind, coverage, error_rate):
    if not isinstance(population, pd.DataFrame):
        raise InvalidParameterError(
            f"population must be a DataFrame made by make_population, got "
            f"{type(population).__name__}"
        )
    missing = [c for c in _COLUMNS if c not in population]
    if missing:
        raise InvalidParameterError(f"population lacks the columns {missing} a roster needs")
    if kind not in _KINDS:
        raise InvalidParameterError(f"kind must be one of {_KINDS}, got {kind!r}")
    for name, value in (("coverage", coverage), ("error_rate", error_rate)):
        if isinstance(value, bool) or not isinstance(value, int | float) or not 0 <= value <= 1:
            raise InvalidParameterError(f"{name} must be a number in [0, 1], got {value!r}")


def make_roster(
    population: pd.DataFrame,
    *,
    kind: str = "voter",
    coverage: float = 0.7,
    error_rate: float = 0.0,
    seed: int = 0,
) -> pd.DataFrame:
    """Draw a synthetic roster of quasi-identifiers from ``population``.

    Parameters
    ----------
    population : pandas.DataFrame
        As made by :func:`healthlab.synth.make_population`.
    kind : {"voter", "insurance"}, default "voter"
        Who is eligible: people aged 18 and over (a voter list), or the insured (an insurance
        enrolment list, with the scheme).
    coverage : float, default 0.7
        Probability that an eligible person is on the roster.
    error_rate : float, default 0.0
        Share of rows with one quasi-identifier misrecorded: the birth date moved by 1-3 days
        (half of them) or the district replaced by another of the same province.
    seed : int, default 0
        Seed of the random draws (per block of 65,536 people of the population).

    Returns
    -------
    pandas.DataFrame
        One row per listed person, in the order of ``roster_id``: ``roster_id`` (a random
        62-bit number, not derived from ``person_id``, never a resident identity number),
        ``sex``, ``birth_date``, ``province``, ``province_code``, ``district``, ``scheme``
        (insurance rosters only; missing on voter rosters), ``misrecorded`` (truth: a
        quasi-identifier was changed) and ``true_person_id`` (the truth for scoring an
        attack: drop it before attacking).

    References
    ----------
    Sweeney L. k-anonymity: a model for protecting privacy. Int J Uncertain Fuzziness
    Knowl-Based Syst 2002;10:557-570.

    Examples
    --------
    >>> from healthlab.synth import make_population
    >>> from healthlab.synth.roster import make_roster
    >>> people = make_population(5000, seed=1)
    >>> roster = make_roster(people, coverage=0.5, seed=2)
    >>> bool(0.4 < len(roster) / (people["age"] >= 18).sum() < 0.6)
    True
    """
    seed = check_seed(seed)
    _check(population, kind, coverage, error_rate)
    labels, offset = _district_labels()
    n_districts = np.diff(np.append(offset, len(labels)))
    pieces = []
    key = (population["person_id"].to_numpy(np.int64) - 1) // BLOCK_SIZE
    bounds = np.flatnonzero(np.diff(key)) + 1
    for lo, hi in zip(np.r_[0, bounds], np.r_[bounds, len(population)], strict=True):
        if hi <= lo:
            continue
        frame = population.iloc[lo:hi]
        rng = block_rng(seed, "roster", int(key[lo]))
        n = hi - lo
        u = rng.random((4, n))
        ids = rng.integers(1, 2**62, n)
        if kind == "voter":
            eligible = frame["age"].to_numpy() >= 18
        else:
            eligible = (frame["insurance"].astype("string") != "none").to_numpy()
        keep = eligible & (u[0] < coverage)
        wrong = keep & (u[1] < error_rate)
        birth = frame["birth_date"].to_numpy("datetime64[ms]").copy()
        district = pd.Categorical(frame["district"], categories=labels).codes.astype(np.int64)
        prov = frame["province_code"].to_numpy()
        move_date = wrong & (u[2] < 0.5)
        shift = (1 + (u[3] * 3).astype(np.int64)) * np.where(u[3] < 0.5, -1, 1)
        birth = np.where(move_date, birth + shift.astype("timedelta64[D]"), birth)
        p_index = np.searchsorted(M.provinces()[1], prov)
        other = offset[p_index] + (u[3] * n_districts[p_index]).astype(np.int64)
        moved_district = wrong & ~move_date & (other != district)
        district = np.where(moved_district, other, district)
        pieces.append(pd.DataFrame({
            "roster_id": ids[keep],
            "sex": pd.Categorical(frame["sex"].to_numpy()[keep], categories=["F", "M"]),
            "birth_date": birth[keep],
            "province": pd.Categorical(frame["province"].to_numpy()[keep],
                                       categories=list(M.provinces()[0])),
            "province_code": prov[keep],
            "district": pd.Categorical.from_codes(district[keep], categories=labels),
            "scheme": (frame["insurance"].astype("string").to_numpy()[keep] if kind == "insurance"
                       else pd.array([pd.NA] * int(keep.sum()), dtype="string")),
            "misrecorded": (move_date | moved_district)[keep],
            "true_person_id": frame["person_id"].to_numpy()[keep],
        }))  # fmt: skip
    if not pieces:
        raise InvalidParameterError("population has no rows to draw a roster from")
    roster = pd.concat(pieces, ignore_index=True)
    roster["scheme"] = roster["scheme"].astype("string")
    return roster.sort_values("roster_id", ignore_index=True)
