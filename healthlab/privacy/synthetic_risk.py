"""Privacy risk of synthetic data: singling-out, linkability and inference attacks.

Synthetic records are no one's, yet a generator can memorise and leak its training records.
The three attacks of the Article 29 Working Party's opinion on anonymisation are run against the
*original* records that trained the generator, and again against *control* records from the same
population that the generator never saw. What the attack achieves on the control records is
what the synthetic data teaches about anyone (generalisation); only the excess on the original
records is a leak. Each attack also has a *baseline*: the same attack with random guesses, which
it must beat to say anything at all.

``risk = (attack rate - control rate) / (1 - control rate)``, with Wilson 95% intervals for the
rates. Every attack is seeded.

References
----------
Giomi M, Boenisch F, Wehmeyer C, Tasnadi B. A unified framework for quantifying privacy risk in
synthetic data. Proc Priv Enh Technol 2023(2):312-328 (the anonymeter package).

Article 29 Data Protection Working Party. Opinion 05/2014 on anonymisation techniques. WP216.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from healthlab._validation import check_columns, check_frame, check_seed
from healthlab.errors import InvalidParameterError

_Z = 1.959963984540054  # 95%


def _wilson(successes: int, n: int) -> tuple[float, float, float]:
    p = successes / n
    denom = 1 + _Z**2 / n
    centre = (p + _Z**2 / (2 * n)) / denom
    half = _Z / denom * np.sqrt(p * (1 - p) / n + _Z**2 / (4 * n**2))
    low = 0.0 if successes == 0 else max(centre - half, 0.0)
    high = 1.0 if successes == n else min(centre + half, 1.0)
    return p, low, high


@dataclass(frozen=True)
class AttackResult:
    """Success rates of one attack on original, control and random-guess baseline.

    Attributes
    ----------
    attack : str
    n_attacks : int
    attack_rate, control_rate, baseline_rate : float
    risk : float
        ``(attack - control) / (1 - control)``, floored at 0.
    risk_ci : tuple of float
        Conservative 95% interval from the rates' Wilson intervals.
    rate_ci : dict
        Wilson 95% interval of each rate.

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> from healthlab.privacy import inference_risk
    >>> rng = np.random.default_rng(0)
    >>> def people(n):
    ...     return pd.DataFrame({"age": rng.integers(20, 90, n), "bmi": rng.normal(24, 4, n),
    ...                          "dx": rng.choice(["htn", "dm", "none"], n)})
    >>> original, control = people(400), people(400)
    >>> result = inference_risk(original, original.copy(), control, ["age", "bmi"], "dx")
    >>> result.attack, result.n_attacks, bool(result.informative)
    ('inference of dx', 400, True)
    >>> result.to_frame().index.tolist()
    ['attack on original', 'attack on control', 'random baseline', 'risk']
    """

    attack: str
    n_attacks: int
    attack_rate: float
    control_rate: float
    baseline_rate: float
    risk: float
    risk_ci: tuple
    rate_ci: dict

    @property
    def informative(self) -> bool:
        """Whether the attack beat random guessing (otherwise the risk says nothing)."""
        return self.attack_rate > self.rate_ci["baseline"][1]

    def to_frame(self) -> pd.DataFrame:
        """Rates, intervals and risk as a table."""
        rows = [
            ("attack on original", self.attack_rate, *self.rate_ci["attack"]),
            ("attack on control", self.control_rate, *self.rate_ci["control"]),
            ("random baseline", self.baseline_rate, *self.rate_ci["baseline"]),
            ("risk", self.risk, *self.risk_ci),
        ]
        return pd.DataFrame(rows, columns=["", "value", "ci_low", "ci_high"]).set_index("")

    def _repr_html_(self) -> str:
        note = "" if self.informative else " (no better than random guessing: not informative)"
        return f"<p>{self.attack}, {self.n_attacks} attacks{note}</p>" + self.to_frame().to_html()


def _result(name, n, main, control, base) -> AttackResult:
    a, c, b = _wilson(main, n), _wilson(control, n), _wilson(base, n)

    def risk(att, ctl):
        return max((att - ctl) / (1 - ctl), 0.0) if ctl < 1 else 0.0

    return AttackResult(
        attack=name,
        n_attacks=n,
        attack_rate=a[0],
        control_rate=c[0],
        baseline_rate=b[0],
        risk=risk(a[0], c[0]),
        risk_ci=(risk(a[1], c[2]), risk(a[2], c[1])),
        rate_ci={"attack": a[1:], "control": c[1:], "baseline": b[1:]},
    )


def _check(original, synthetic, control, columns, n_attacks):
    for name, frame in (("original", original), ("synthetic", synthetic), ("control", control)):
        check_frame(frame, name, allow_empty=True)
        check_columns(frame, columns, f"columns (in {name})")
    if isinstance(n_attacks, bool) or not isinstance(n_attacks, int) or n_attacks < 1:
        raise InvalidParameterError(f"n_attacks must be a whole number >= 1, got {n_attacks!r}")


def _is_num(s: pd.Series) -> bool:
    return pd.api.types.is_numeric_dtype(s) and not isinstance(s.dtype, pd.CategoricalDtype)


def _singles_out(table: pd.DataFrame, queries: list) -> np.ndarray:
    """For each query (a list of (column, op, value)), whether exactly one record matches."""
    out = np.empty(len(queries), dtype=bool)
    for start in range(0, len(queries), 256):  # chunks of queries, each vectorised over records
        chunk = queries[start : start + 256]
        match = np.ones((len(chunk), len(table)), dtype=bool)
        for j in range(max(len(q) for q in chunk)):
            for op in ("eq", "le", "ge"):
                rows = [i for i, q in enumerate(chunk) if j < len(q) and q[j][1] == op]
                for col in {chunk[i][j][0] for i in rows}:
                    sel = [i for i in rows if chunk[i][j][0] == col]
                    vals = np.array([chunk[i][j][2] for i in sel], dtype=object)[:, None]
                    x = table[col].to_numpy(dtype=object)[None, :]
                    cmp = x == vals if op == "eq" else (x <= vals if op == "le" else x >= vals)
                    match[sel] &= cmp.astype(bool)
        out[start : start + len(chunk)] = match.sum(axis=1) == 1
    return out


def singling_out_risk(
    original: pd.DataFrame,
    synthetic: pd.DataFrame,
    control: pd.DataFrame,
    *,
    columns=None,
    n_attacks: int = 500,
    n_cols: int = 1,
    seed: int = 0,
) -> AttackResult:
    """Singling-out attack: predicates read off the synthetic data that match one person.

    With ``n_cols=1`` each predicate is a value unique in the synthetic data (``col == v``) or
    an extreme (``col <= min``, ``col >= max``), each used once (so there may be fewer than
    ``n_attacks``); with more, a random synthetic record's values
    on ``n_cols`` random columns (``==`` for categories, ``<=`` or ``>=`` for numbers). A
    predicate succeeds when exactly one record matches. The original is sampled down to the
    control's size so both are judged on equal terms. The baseline draws predicate values at
    random from the synthetic columns' values.

    Parameters
    ----------
    original : pandas.DataFrame
        The records the generator was trained on.
    synthetic : pandas.DataFrame
        The generator's output.
    control : pandas.DataFrame
        Records from the same population that the generator never saw.
    columns : list of str, optional
        Columns predicates may use (default: all of the synthetic table's).
    n_attacks : int, default 500
    n_cols : int, default 1
        Conditions per predicate.
    seed : int, default 0

    Returns
    -------
    AttackResult

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> from healthlab.privacy import singling_out_risk
    >>> rng = np.random.default_rng(0)
    >>> def people(n):
    ...     return pd.DataFrame({"bmi": rng.normal(24, 4, n).round(1),
    ...                          "sex": rng.choice(["F", "M"], n)})
    >>> original, control = people(500), people(500)
    >>> leaked = singling_out_risk(original, original.copy(), control, n_attacks=100)
    >>> leaked.risk > 0.5
    True
    """
    rng = np.random.default_rng(check_seed(seed))
    cols = list(columns) if columns is not None else list(synthetic.columns)
    _check(original, synthetic, control, cols, n_attacks)
    n_ctl = len(control)
    ori = original.iloc[rng.choice(len(original), min(n_ctl, len(original)), replace=False)]
    pools = {c: synthetic[c].dropna().unique() for c in cols}
    queries = []
    if n_cols == 1:
        candidates = []
        for c in cols:
            counts = synthetic[c].value_counts()
            candidates += [[(c, "eq", v)] for v in counts.index[counts.to_numpy() == 1]]
            if _is_num(synthetic[c]):
                candidates += [[(c, "le", synthetic[c].min())], [(c, "ge", synthetic[c].max())]]
        if not candidates:
            raise InvalidParameterError("the synthetic table has no unique values to attack with")
        # distinct predicates only: repeating one would not add evidence
        pick = rng.choice(len(candidates), min(n_attacks, len(candidates)), replace=False)
        queries = [candidates[i] for i in pick]
    else:
        if not 1 <= n_cols <= len(cols):
            raise InvalidParameterError(f"n_cols must be in 1..{len(cols)}, got {n_cols!r}")
        rows = synthetic.iloc[rng.integers(0, len(synthetic), n_attacks)]
        for r in range(n_attacks):
            chosen = rng.choice(len(cols), n_cols, replace=False)
            q = []
            for j in chosen:
                c = cols[j]
                op = rng.choice(["le", "ge"]) if _is_num(synthetic[c]) else "eq"
                q.append((c, str(op), rows[c].iloc[r]))
            queries.append(q)
    baseline = [[(c, op, pools[c][rng.integers(len(pools[c]))]) for c, op, _ in q] for q in queries]
    main = int(_singles_out(ori, queries).sum())
    ctl = int(_singles_out(control, queries).sum())
    base = int(_singles_out(ori, baseline).sum())
    name = f"singling out ({'univariate' if n_cols == 1 else f'{n_cols} columns'})"
    return _result(name, len(queries), main, ctl, base)


def _nearest(reference: np.ndarray, n_neighbors: int):
    """A fitted Manhattan nearest-neighbour index (scikit-learn, imported when needed)."""
    from sklearn.neighbors import NearestNeighbors

    return NearestNeighbors(n_neighbors=n_neighbors, metric="manhattan").fit(reference)


def _encode(frames: list[pd.DataFrame], cols: list) -> list[np.ndarray]:
    """Gower-style coordinates: numbers over their range, categories one-hot at 1/2 (L1 = 1)."""
    both = pd.concat([f[cols] for f in frames], ignore_index=True)
    parts = []
    for c in cols:
        if _is_num(both[c]):
            x = both[c].astype(float)
            span = x.max() - x.min()
            parts.append(
                ((x.fillna(x.median()) - x.min()) / (span if span > 0 else 1.0)).to_frame()
            )
        else:
            parts.append(pd.get_dummies(both[c].astype(object), dummy_na=True, dtype=float) * 0.5)
    matrix = np.hstack([p.to_numpy(dtype=np.float64) for p in parts])
    bounds = np.cumsum([0] + [len(f) for f in frames])
    return [matrix[a:b] for a, b in zip(bounds[:-1], bounds[1:])]


def linkability_risk(
    original: pd.DataFrame,
    synthetic: pd.DataFrame,
    control: pd.DataFrame,
    aux_cols: tuple,
    *,
    n_attacks: int = 500,
    n_neighbors: int = 1,
    seed: int = 0,
) -> AttackResult:
    """Linkability attack: link two halves of a person's record through the synthetic data.

    The attacker holds a target's columns ``aux_cols[0]`` from one source and ``aux_cols[1]``
    from another. For each half it finds the ``n_neighbors`` nearest synthetic records (Gower
    distance); the halves are linked when the two sets share a record. The baseline links by
    drawing the neighbours at random.

    Parameters
    ----------
    original, synthetic, control : pandas.DataFrame
        As for :func:`singling_out_risk`.
    aux_cols : tuple of two lists of str
        The columns of each of the attacker's two sources.
    n_attacks : int, default 500
        Targets, drawn from the original (and as many from the control).
    n_neighbors : int, default 1
    seed : int, default 0

    Returns
    -------
    AttackResult

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> from healthlab.privacy import linkability_risk
    >>> rng = np.random.default_rng(0)
    >>> def people(n):
    ...     return pd.DataFrame({"age": rng.integers(20, 90, n), "bmi": rng.normal(24, 4, n),
    ...                          "sbp": rng.normal(130, 15, n)})
    >>> original, control = people(400), people(400)
    >>> result = linkability_risk(original, original.copy(), control, (["age", "bmi"], ["sbp"]))
    >>> result.risk > 0.5
    True
    """
    rng = np.random.default_rng(check_seed(seed))
    if not (isinstance(aux_cols, tuple | list) and len(aux_cols) == 2):
        raise InvalidParameterError(
            f"aux_cols must be two lists of columns, the attacker's two sources, got {aux_cols!r}"
        )
    cols_a, cols_b = list(aux_cols[0]), list(aux_cols[1])
    _check(original, synthetic, control, cols_a + cols_b, n_attacks)
    n = min(n_attacks, len(original), len(control))
    ori = original.iloc[rng.choice(len(original), n, replace=False)]
    ctl = control.iloc[rng.choice(len(control), n, replace=False)]

    def neighbours(cols):
        syn_x, ori_x, ctl_x = _encode([synthetic, ori, ctl], cols)
        nn = _nearest(syn_x, n_neighbors)
        return nn.kneighbors(ori_x, return_distance=False), nn.kneighbors(
            ctl_x, return_distance=False
        )

    (ori_a, ctl_a), (ori_b, ctl_b) = neighbours(cols_a), neighbours(cols_b)

    def linked(a, b):
        return int((a[:, :, None] == b[:, None, :]).any(axis=(1, 2)).sum())

    rand_a = rng.integers(0, len(synthetic), (n, n_neighbors))
    rand_b = rng.integers(0, len(synthetic), (n, n_neighbors))
    return _result(
        "linkability", n, linked(ori_a, ori_b), linked(ctl_a, ctl_b), linked(rand_a, rand_b)
    )


def inference_risk(
    original: pd.DataFrame,
    synthetic: pd.DataFrame,
    control: pd.DataFrame,
    aux_cols,
    secret: str,
    *,
    n_attacks: int = 500,
    tolerance: float = 0.05,
    seed: int = 0,
) -> AttackResult:
    """Inference attack: guess a secret attribute from the nearest synthetic record.

    The attacker knows a target's ``aux_cols`` and takes the secret of the closest synthetic
    record (Gower distance). A guess is right when it equals the secret (categories) or is
    within ``tolerance`` of it relatively (numbers). The baseline guesses a random synthetic
    record's secret.

    Parameters
    ----------
    original, synthetic, control : pandas.DataFrame
        As for :func:`singling_out_risk`.
    aux_cols : list of str
        What the attacker knows of the target.
    secret : str
        The attribute to infer; not in ``aux_cols``.
    n_attacks : int, default 500
    tolerance : float, default 0.05
        Relative error counted as a right guess of a number.
    seed : int, default 0

    Returns
    -------
    AttackResult

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> from healthlab.privacy import inference_risk
    >>> rng = np.random.default_rng(0)
    >>> def people(n):
    ...     return pd.DataFrame({"age": rng.integers(20, 90, n), "bmi": rng.normal(24, 4, n),
    ...                          "dx": rng.choice(["htn", "dm", "none"], n)})
    >>> original, control = people(400), people(400)
    >>> inference_risk(original, original.copy(), control, ["age", "bmi"], "dx").risk > 0.5
    True
    """
    rng = np.random.default_rng(check_seed(seed))
    cols = list(aux_cols)
    if secret in cols:
        raise InvalidParameterError(f"secret {secret!r} is also in aux_cols; remove it from one")
    _check(original, synthetic, control, [*cols, secret], n_attacks)
    n = min(n_attacks, len(original), len(control))
    ori = original.iloc[rng.choice(len(original), n, replace=False)]
    ctl = control.iloc[rng.choice(len(control), n, replace=False)]
    syn_x, ori_x, ctl_x = _encode([synthetic, ori, ctl], cols)
    nn = _nearest(syn_x, 1)
    truth_syn = synthetic[secret].to_numpy()
    numeric = _is_num(synthetic[secret])

    def right(guess, truth):
        if numeric:
            g, t = guess.astype(float), truth.astype(float)
            return int(np.sum(np.abs(g - t) <= tolerance * np.abs(t)))
        return int(np.sum(guess == truth))

    guess_o = truth_syn[nn.kneighbors(ori_x, return_distance=False)[:, 0]]
    guess_c = truth_syn[nn.kneighbors(ctl_x, return_distance=False)[:, 0]]
    guess_b = truth_syn[rng.integers(0, len(synthetic), n)]
    t_o, t_c = ori[secret].to_numpy(), ctl[secret].to_numpy()
    return _result(
        f"inference of {secret}", n, right(guess_o, t_o), right(guess_c, t_c), right(guess_b, t_o)
    )
