"""Federated analysis: hospitals that cannot pool rows still fit one model and one summary.

Each site keeps its rows. For **descriptive statistics** a site shares only aggregates per
column: the count, the sum, the sum of squares, the minimum, the maximum and counts in fixed
histogram bins. The coordinator adds them up; count, mean, standard deviation, minimum and
maximum are then exactly those of the pooled rows, and quantiles are read off the summed
histogram (accurate to a bin width).

For a **model**, :func:`federated_logistic` runs federated averaging (FedAvg, McMahan et al.
2017) with scikit-learn's :class:`~sklearn.linear_model.LogisticRegression`: each round the
coordinator sends the global coefficients, each site runs a few L-BFGS iterations from them on
its own rows, and the coordinator averages the sites' coefficients weighted by their row
counts. Features are standardised with the federated mean and standard deviation, so that no
site needs another's rows for that either. :func:`compare_federated` sets the federated model
beside a model each site fits alone and the model a pooled data set would give.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd

from healthlab._validation import check_seed, fraction
from healthlab.errors import InvalidParameterError

__all__ = ["compare_federated", "federated_logistic", "federated_summary"]


def _check_sites(sites, columns) -> dict[str, pd.DataFrame]:
    if not isinstance(sites, dict) or not sites:
        raise InvalidParameterError(
            "sites must be a non-empty dict from site name to DataFrame, "
            f"got {type(sites).__name__}"
        )
    for name, frame in sites.items():
        if not isinstance(frame, pd.DataFrame):
            raise InvalidParameterError(
                f"sites[{name!r}] must be a DataFrame, got {type(frame).__name__}"
            )
        missing = [c for c in columns if c not in frame.columns]
        if missing:
            raise InvalidParameterError(
                f"sites[{name!r}] has no column(s) {missing}; it has {list(frame.columns)}"
            )
    return sites


def federated_summary(sites: dict, columns, *, bins: int = 200, range_=None) -> pd.DataFrame:
    """Count, mean, sd, min, max and quartiles of columns, from aggregates each site shares.

    Parameters
    ----------
    sites : dict of str to pandas.DataFrame
        Each site's rows (they never leave the site: only per-column aggregates are used).
    columns : list of str
        Numeric columns to summarise; missing values are left out, as ``pandas`` does.
    bins : int
        Histogram bins shared for the quartiles.
    range_ : dict, optional
        Column to ``(low, high)`` of the histogram; by default the federated minimum and
        maximum, which the sites share first.

    Returns
    -------
    pandas.DataFrame
        One row per column: ``n``, ``mean``, ``sd`` (with ``n - 1``), ``min``, ``q25``,
        ``median``, ``q75``, ``max``, and ``sites`` (how many sites contributed).

    Examples
    --------
    >>> import pandas as pd
    >>> a = pd.DataFrame({"age": [60.0, 70.0]}); b = pd.DataFrame({"age": [80.0]})
    >>> s = federated_summary({"a": a, "b": b}, ["age"])
    >>> float(s.loc["age", "mean"]), int(s.loc["age", "n"])
    (70.0, 3)
    """
    columns = list(columns)
    _check_sites(sites, columns)
    if isinstance(bins, bool) or not isinstance(bins, int) or bins < 2:
        raise InvalidParameterError(f"bins must be an integer >= 2, got {bins!r}")
    values = {s: f[columns].apply(pd.to_numeric, errors="coerce") for s, f in sites.items()}
    # Round 1: each site shares n, sum, sum of squares, min, max per column.
    shared = pd.concat(
        {s: pd.DataFrame({"n": v.count(), "sum": v.sum(), "ss": (v**2).sum(),
                          "min": v.min(), "max": v.max()}) for s, v in values.items()}
    )  # fmt: skip
    n = shared["n"].groupby(level=1).sum()
    total = shared["sum"].groupby(level=1).sum()
    ss = shared["ss"].groupby(level=1).sum()
    mean = total / n
    var = (ss - n * mean**2) / (n - 1)
    out = pd.DataFrame(
        {"n": n, "mean": mean, "sd": np.sqrt(var.clip(lower=0)),
         "min": shared["min"].groupby(level=1).min(), "max": shared["max"].groupby(level=1).max()}
    ).reindex(columns)  # fmt: skip
    # Round 2: histogram counts over common edges; quartiles from the summed histogram.
    for col in columns:
        lo, hi = (range_ or {}).get(col, (out.loc[col, "min"], out.loc[col, "max"]))
        if not np.isfinite([lo, hi]).all() or hi <= lo:
            hi = lo + 1.0
        edges = np.linspace(lo, hi, bins + 1)
        counts = sum(np.histogram(v[col].dropna(), bins=edges)[0] for v in values.values())
        cum = np.cumsum(counts) / max(counts.sum(), 1)
        for name, q in (("q25", 0.25), ("median", 0.5), ("q75", 0.75)):
            out.loc[col, name] = np.interp(q, np.concatenate([[0], cum]), edges)
    out["sites"] = (shared["n"] > 0).groupby(level=1).sum().reindex(columns)
    out.index.name = "column"
    return out[["n", "mean", "sd", "min", "q25", "median", "q75", "max", "sites"]]


def _design(frame, features, target, centre, scale):
    x = (frame[features].to_numpy(float) - centre) / scale
    y = frame[target].to_numpy()
    return x, y


def _fit(x, y, coef, intercept, max_iter, c):
    from sklearn.linear_model import LogisticRegression

    model = LogisticRegression(C=c, max_iter=max_iter, warm_start=coef is not None)
    if coef is not None:
        model.coef_, model.intercept_ = coef.copy(), intercept.copy()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # a few iterations per round do not converge, by design
        model.fit(x, y)
    return model


def federated_logistic(
    sites: dict,
    features,
    target: str,
    *,
    rounds: int = 20,
    local_iter: int = 5,
    C: float = 1.0,
    site_fraction: float = 1.0,
    seed: int = 0,
):
    """Fit a logistic regression by federated averaging, without pooling any site's rows.

    Parameters
    ----------
    sites : dict of str to pandas.DataFrame
        Each site's rows, with the ``features`` and a binary ``target`` (0/1).
    features : list of str
        Numeric feature columns.
    target : str
        Binary outcome column.
    rounds : int
        Communication rounds.
    local_iter : int
        L-BFGS iterations each site runs per round, starting from the global coefficients.
    C : float
        Inverse regularisation strength, as in scikit-learn.
    site_fraction : float, default 1.0
        Share of the sites that take part in each round (McMahan et al.'s client fraction
        ``C``), drawn at random with ``seed``; at least one site a round. With every site
        taking part (the default) the fit does not depend on the seed.
    seed : int
        Seed of the draw of the sites that take part in each round.

    Returns
    -------
    sklearn.linear_model.LogisticRegression
        A fitted model on the original feature scale, with ``history_`` (the global
        coefficients after each round, a DataFrame) and ``scaling_`` (the federated means and
        standard deviations used).

    References
    ----------
    McMahan B, Moore E, Ramage D, Hampson S, Agüera y Arcas B. Communication-efficient learning
    of deep networks from decentralized data. AISTATS 2017.

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> rng = np.random.default_rng(0)
    >>> def site(n):
    ...     x = rng.normal(size=n); y = (rng.random(n) < 1 / (1 + np.exp(-2 * x))).astype(int)
    ...     return pd.DataFrame({"x": x, "y": y})
    >>> model = federated_logistic({"a": site(300), "b": site(200)}, ["x"], "y")
    >>> bool(model.coef_[0, 0] > 1)
    True
    """
    rng = np.random.default_rng(check_seed(seed))
    features = list(features)
    _check_sites(sites, [*features, target])
    for name, value in (("rounds", rounds), ("local_iter", local_iter)):
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise InvalidParameterError(f"{name} must be a positive integer, got {value!r}")
    for name, frame in sites.items():
        bad = ~frame[target].isin([0, 1])
        if bad.any():
            raise InvalidParameterError(
                f"sites[{name!r}][{target!r}] must be 0/1, found {frame[target][bad].iloc[0]!r}"
            )
    stats = federated_summary(sites, features)
    centre = stats["mean"].to_numpy(float)
    scale = np.where(stats["sd"].to_numpy(float) > 0, stats["sd"].to_numpy(float), 1.0)
    data = {s: _design(f, features, target, centre, scale) for s, f in sites.items()}
    weight = {s: len(d[1]) for s, d in data.items()}
    total = sum(weight.values())
    coef, intercept = np.zeros((1, len(features))), np.zeros(1)
    history = []
    names = list(data)
    share = fraction(site_fraction, "site_fraction")
    per_round = max(1, round(share * len(names)))
    for r in range(rounds):
        new_coef, new_int = np.zeros_like(coef), np.zeros_like(intercept)
        chosen = sorted(rng.choice(len(names), size=per_round, replace=False))
        taking_part = [names[i] for i in chosen]
        round_total = sum(weight[s] for s in taking_part)
        for s in taking_part:  # a handful of sites per round, not rows
            x, y = data[s]
            if len(np.unique(y)) < 2:  # a site with one class cannot fit; it sends back the model
                local_coef, local_int = coef, intercept
            else:
                m = _fit(x, y, coef, intercept, local_iter, C * total / weight[s])
                local_coef, local_int = m.coef_, m.intercept_
            new_coef += local_coef * weight[s] / round_total
            new_int += local_int * weight[s] / round_total
        coef, intercept = new_coef, new_int
        history.append([r + 1, *intercept, *coef[0]])
    from sklearn.linear_model import LogisticRegression

    model = LogisticRegression(C=C)
    model.classes_ = np.array([0, 1])
    model.coef_ = coef / scale
    model.intercept_ = intercept - (coef / scale) @ centre
    model.n_features_in_ = len(features)
    model.history_ = pd.DataFrame(history, columns=["round", "intercept", *features])
    model.scaling_ = stats[["mean", "sd"]]
    return model


def compare_federated(
    sites: dict,
    features,
    target: str,
    *,
    test_fraction: float = 0.3,
    rounds: int = 20,
    seed: int = 0,
) -> pd.DataFrame:
    """Federated, local-only and pooled logistic models, scored on every site's held-out rows.

    Each site's rows are split into training and test rows (``test_fraction``). The
    *local* model of each site is trained on that site's training rows only; the *pooled*
    model on all training rows together (what sharing the data would allow); the *federated*
    model by :func:`federated_logistic`. Each is scored on each site's test rows and on all
    test rows together (``site == "all"``).

    Parameters
    ----------
    sites, features, target
        As for :func:`federated_logistic`.
    test_fraction : float
        Share of each site's rows held out for testing.
    rounds : int
        FedAvg rounds.
    seed : int
        Seed of the train/test split.

    Returns
    -------
    pandas.DataFrame
        ``model`` (``local``, ``federated``, ``pooled``), ``site`` (test set), ``auc``,
        ``accuracy``, ``n_test``.

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> rng = np.random.default_rng(1)
    >>> def site(n, shift):
    ...     x = rng.normal(shift, 1, n); y = (rng.random(n) < 1 / (1 + np.exp(-x))).astype(int)
    ...     return pd.DataFrame({"x": x, "y": y})
    >>> res = compare_federated({"a": site(400, -1), "b": site(400, 1)}, ["x"], "y")
    >>> sorted(res["model"].unique())
    ['federated', 'local', 'pooled']
    """
    from sklearn.linear_model import LogisticRegression
    from sklearn.metrics import accuracy_score, roc_auc_score

    rng = np.random.default_rng(check_seed(seed))
    features = list(features)
    _check_sites(sites, [*features, target])
    if not 0 < test_fraction < 1:
        raise InvalidParameterError(f"test_fraction must be in (0, 1), got {test_fraction!r}")
    train, test = {}, {}
    for s, frame in sites.items():
        is_test = rng.random(len(frame)) < test_fraction
        train[s], test[s] = frame[~is_test], frame[is_test]
    models = {"federated": federated_logistic(train, features, target, rounds=rounds, seed=seed)}
    pooled = pd.concat(train.values())

    def plain(frame):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return LogisticRegression(max_iter=1000).fit(
                frame[features].to_numpy(float), frame[target].to_numpy()
            )

    models["pooled"] = plain(pooled)
    local = {s: plain(f) for s, f in train.items() if f[target].nunique() == 2}
    test["all"] = pd.concat(test.values())
    rows = []
    for t, frame in test.items():
        x, y = frame[features].to_numpy(float), frame[target].to_numpy()
        scored = dict(models)
        if t in local:
            scored["local"] = local[t]
        elif t == "all":  # each site's own model scores its own test rows
            p = np.concatenate([local[s].predict_proba(test[s][features].to_numpy(float))[:, 1]
                                for s in sites if s in local])  # fmt: skip
            keep = np.concatenate([test[s][target].to_numpy() for s in sites if s in local])
            rows.append(_score("local", t, keep, p, roc_auc_score, accuracy_score))
        for name, model in scored.items():
            p = model.predict_proba(x)[:, 1]
            rows.append(_score(name, t, y, p, roc_auc_score, accuracy_score))
    out = pd.DataFrame(rows)
    order = {"local": 0, "federated": 1, "pooled": 2}
    return out.sort_values(["site", "model"], key=lambda c: c.map(order) if c.name == "model"
                           else c).reset_index(drop=True)  # fmt: skip


def _score(model, site, y, p, auc, acc):
    two = len(np.unique(y)) == 2
    return {"model": model, "site": site, "auc": auc(y, p) if two else np.nan,
            "accuracy": acc(y, p >= 0.5), "n_test": len(y)}  # fmt: skip
