"""The linkage attack: join a released table to an external roster on quasi-identifiers.

Sweeney bought the Cambridge, Massachusetts voter list and joined it to the "anonymised"
hospital discharge data of state employees on ZIP code, birth date and sex; the governor's
record was the only match. The attack needs no statistics: a released record whose
quasi-identifiers match exactly one person on the roster is re-identified, correctly if that
person is the one it describes. With healthlab's synthetic worlds the ground truth is known, so
the attack reports both.

References
----------
Sweeney L. Simple demographics often identify people uniquely. Carnegie Mellon University,
Data Privacy Working Paper 3, 2000.

Sweeney L. k-anonymity: a model for protecting privacy. Int J Uncertain Fuzz 2002;10(5):557-570.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from healthlab._validation import check_columns, check_frame
from healthlab.errors import InvalidParameterError
from healthlab.privacy._classes import column_codes, combine_codes


@dataclass(frozen=True)
class LinkageResult:
    """Who a linkage attack re-identified.

    Attributes
    ----------
    quasi_identifiers : tuple of str
    n_released, n_roster : int
    matched : int
        Released records with at least one roster match.
    unique : int
        Released records with exactly one roster match: the attacker names a person.
    correct : int or None
        Of those, how many name the right person (needs both id columns).
    links : pandas.DataFrame
        One row per uniquely matched released record: its index in the released table, the
        roster index, and the identifiers when given.

    Examples
    --------
    >>> import pandas as pd
    >>> from healthlab.privacy import linkage_attack
    >>> released = pd.DataFrame({"zip": ["100", "100", "200"], "sex": list("FMF"),
    ...                          "pid": [1, 2, 3]})
    >>> roster = pd.DataFrame({"zip": ["100", "100", "200", "200"], "sex": list("FMFF"),
    ...                        "pid": [1, 2, 3, 4]})
    >>> result = linkage_attack(released, roster, ["zip", "sex"],
    ...                         released_id="pid", roster_id="pid")
    >>> result.links
       released_index  roster_index  released_id  roster_id  correct
    0               0             0            1          1     True
    1               1             1            2          2     True
    >>> round(result.reidentification_rate, 3)
    0.667
    """

    quasi_identifiers: tuple
    n_released: int
    n_roster: int
    matched: int
    unique: int
    correct: int | None
    links: pd.DataFrame

    @property
    def reidentification_rate(self) -> float:
        """Share of released records re-identified (correctly when the truth is known)."""
        hits = self.unique if self.correct is None else self.correct
        return hits / self.n_released if self.n_released else 0.0

    def to_frame(self) -> pd.DataFrame:
        """The summary as a table."""
        rows = [
            ("released records", self.n_released),
            ("roster records", self.n_roster),
            ("matched at least once", self.matched),
            ("matched exactly once", self.unique),
            ("correctly re-identified", self.correct),
            ("re-identification rate", self.reidentification_rate),
        ]
        return pd.DataFrame(rows, columns=["figure", "value"], dtype=object).set_index("figure")

    def _repr_html_(self) -> str:
        qi = ", ".join(map(str, self.quasi_identifiers))
        return f"<p>Linkage on {qi}</p>" + self.to_frame().to_html()


def linkage_attack(
    released: pd.DataFrame,
    roster: pd.DataFrame,
    quasi_identifiers,
    *,
    released_id: str | None = None,
    roster_id: str | None = None,
) -> LinkageResult:
    """Re-identify released records by exact matching on quasi-identifiers with a roster.

    Parameters
    ----------
    released : pandas.DataFrame
        The de-identified table (for example discharge records without names).
    roster : pandas.DataFrame
        The attacker's external list with names (a voter or insurance roll).
    quasi_identifiers : list of str
        Columns present in both; values must be coded alike (generalise the roster the same way
        to attack a generalised release). Missing values match missing values.
    released_id, roster_id : str, optional
        The true person identifier in each table (known in synthetic data, never to a real
        attacker); with both, the result counts correct re-identifications.

    Returns
    -------
    LinkageResult

    Examples
    --------
    >>> import pandas as pd
    >>> from healthlab.privacy import linkage_attack
    >>> released = pd.DataFrame({"zip": ["100", "100", "200"], "sex": list("FMF"),
    ...                          "pid": [1, 2, 3]})
    >>> roster = pd.DataFrame({"zip": ["100", "100", "200", "200"], "sex": list("FMFF"),
    ...                        "pid": [1, 2, 3, 4]})
    >>> result = linkage_attack(released, roster, ["zip", "sex"],
    ...                         released_id="pid", roster_id="pid")
    >>> result.unique, result.correct
    (2, 2)
    """
    check_frame(released, "released", allow_empty=True)
    check_frame(roster, "roster", allow_empty=True)
    qis = check_columns(released, quasi_identifiers, "quasi_identifiers")
    check_columns(roster, qis, "quasi_identifiers (in roster)")
    if (released_id is None) != (roster_id is None):
        raise InvalidParameterError(
            "give both released_id and roster_id (the true identifier in each table) or neither"
        )
    if released_id is not None:
        check_columns(released, [released_id], "released_id")
        check_columns(roster, [roster_id], "roster_id")
    n_rel, n_ros = len(released), len(roster)
    coded = [column_codes(pd.concat([released[q], roster[q]], ignore_index=True)) for q in qis]
    joint, n_joint = combine_codes(coded)
    rel_key, ros_key = joint[:n_rel], joint[n_rel:]
    count = np.bincount(ros_key, minlength=n_joint)
    hits = count[rel_key]
    # For combinations seen once on the roster, the roster row that holds it.
    where = np.full(n_joint, -1, dtype=np.int64)
    where[ros_key] = np.arange(n_ros)
    single = np.flatnonzero(hits == 1)
    ros_rows = where[rel_key[single]]
    links = pd.DataFrame(
        {"released_index": released.index[single], "roster_index": roster.index[ros_rows]}
    )
    correct = None
    if released_id is not None:
        links["released_id"] = released[released_id].to_numpy()[single]
        links["roster_id"] = roster[roster_id].to_numpy()[ros_rows]
        links["correct"] = links["released_id"].to_numpy() == links["roster_id"].to_numpy()
        correct = int(links["correct"].sum())
    return LinkageResult(
        quasi_identifiers=tuple(qis),
        n_released=n_rel,
        n_roster=n_ros,
        matched=int((hits > 0).sum()),
        unique=int(single.size),
        correct=correct,
        links=links,
    )
