"""Table synthesisers to attack: resampling, independent marginals and sequential CART.

The privacy case study needs synthetic versions of a patient table whose leaks differ in a
known way, so that :mod:`healthlab.privacy.synthetic_risk` has something to find:

``"bootstrap"``
    Original rows drawn with replacement. Not synthetic at all: the baseline every attack
    should catch.
``"marginals"``
    Each column drawn on its own from its empirical distribution. Nothing of a person
    survives, and neither does any relation between columns.
``"cart"``
    Sequential classification and regression trees, as in the synthpop package (Nowok et al.
    2016): the first column is drawn from its marginal; each further column is predicted by a
    tree grown on the columns before it, and each synthetic row takes the value of a random
    training record in the leaf it falls into. ``min_leaf`` sets the smallest leaf: 1 lets the
    trees memorise records (a leak), larger leaves blur them into groups.

Every draw is seeded; the trees are grown with the same seed.

References
----------
Nowok B, Raab GM, Dibben C. synthpop: bespoke creation of synthetic data in R. J Stat Softw
2016;74(11):1-26.

Reiter JP. Using CART to generate partially synthetic public use microdata. J Off Stat
2005;21(3):441-462.
"""

from __future__ import annotations

import numbers

import numpy as np
import pandas as pd

from healthlab._validation import check_frame, check_seed
from healthlab.errors import InvalidParameterError

__all__ = ["METHODS", "synthesize"]

METHODS = ("bootstrap", "marginals", "cart")


def _as_numbers(values: pd.Series) -> np.ndarray:
    """A column as floats a tree can split on (categories by code, dates as days)."""
    if pd.api.types.is_datetime64_any_dtype(values):
        days = values.to_numpy("datetime64[D]").astype(np.int64).astype(float)
        return np.where(values.isna().to_numpy(), np.nan, days)
    if pd.api.types.is_bool_dtype(values):
        return values.to_numpy(dtype=float)
    if pd.api.types.is_numeric_dtype(values) and not isinstance(values.dtype, pd.CategoricalDtype):
        return values.to_numpy(dtype=float, na_value=np.nan)
    codes = pd.Series(pd.factorize(values, sort=True)[0], dtype=float)
    return codes.where(codes >= 0).to_numpy()


def _leaf_draw(tree, x_train, x_new, rng) -> np.ndarray:
    """For each new row, the position of a random training row in the same leaf."""
    leaf_train = tree.apply(x_train)
    leaf_new = tree.apply(x_new)
    order = np.argsort(leaf_train, kind="stable")
    sorted_leaves = leaf_train[order]
    start = np.searchsorted(sorted_leaves, leaf_new, side="left")
    count = np.searchsorted(sorted_leaves, leaf_new, side="right") - start
    return order[start + (rng.random(len(leaf_new)) * count).astype(np.int64)]


def _cart(df: pd.DataFrame, n: int, min_leaf: int, rng, seed: int) -> pd.DataFrame:
    from sklearn.tree import DecisionTreeClassifier, DecisionTreeRegressor

    cols = list(df.columns)
    numbers_ = {c: _as_numbers(df[c]) for c in cols}
    # Trees cannot take NaN in every scikit-learn version: a missing predictor is its own value.
    filled = {c: np.where(np.isnan(v), -1e12, v) for c, v in numbers_.items()}
    rows = {cols[0]: rng.integers(0, len(df), n)}  # the first column from its marginal
    x_syn = filled[cols[0]][rows[cols[0]]][:, None]
    for j, c in enumerate(cols[1:], start=1):
        x_train = np.column_stack([filled[p] for p in cols[:j]])
        target = df[c]
        numeric = pd.api.types.is_numeric_dtype(target) and not pd.api.types.is_bool_dtype(target)
        numeric = numeric and not isinstance(target.dtype, pd.CategoricalDtype)
        model = DecisionTreeRegressor if numeric else DecisionTreeClassifier
        tree = model(min_samples_leaf=min_leaf, random_state=seed)
        tree.fit(x_train, filled[c])
        rows[c] = _leaf_draw(tree, x_train, x_syn, rng)
        x_syn = np.column_stack([x_syn, filled[c][rows[c]]])
    return pd.DataFrame({c: df[c].iloc[rows[c]].to_numpy() for c in cols}, columns=cols).astype(
        df.dtypes.to_dict()
    )


def synthesize(
    df: pd.DataFrame,
    n: int | None = None,
    *,
    method: str = "cart",
    min_leaf: int = 5,
    seed: int = 0,
) -> pd.DataFrame:
    """Draw a synthetic version of a table (see the module notes for the methods).

    Parameters
    ----------
    df : pandas.DataFrame
        The records to learn from, one row per person. Columns are taken in their order by
        ``"cart"``: put the ones a reader cares most about first.
    n : int, optional
        Synthetic rows; as many as ``df`` has by default.
    method : {"bootstrap", "marginals", "cart"}, default "cart"
    min_leaf : int, default 5
        Smallest leaf of the CART trees (``"cart"`` only): 1 memorises records.
    seed : int, default 0

    Returns
    -------
    pandas.DataFrame
        ``n`` rows with the columns and dtypes of ``df`` and a fresh index; every value is
        one seen in ``df``.

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> from healthlab.privacy import synthesize
    >>> rng = np.random.default_rng(0)
    >>> age = rng.integers(20, 90, 1000)
    >>> df = pd.DataFrame({"age": age, "ill": rng.random(1000) < age / 100})
    >>> fake = synthesize(df, method="cart", min_leaf=20, seed=1)
    >>> fake.shape, bool(fake.loc[fake["age"] > 60, "ill"].mean() > fake["ill"].mean())
    ((1000, 2), True)
    """
    check_frame(df)
    seed = check_seed(seed)
    if method not in METHODS:
        raise InvalidParameterError(f"method must be one of {list(METHODS)}, got {method!r}")
    if len(df) == 0 or df.shape[1] == 0:
        raise InvalidParameterError("df needs rows and columns to learn from")
    if n is None:
        n = len(df)
    for name, value in (("n", n), ("min_leaf", min_leaf)):
        if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < 1:
            raise InvalidParameterError(f"{name} must be a whole number >= 1, got {value!r}")
    rng = np.random.default_rng(seed)
    if method == "bootstrap":
        return df.iloc[rng.integers(0, len(df), n)].reset_index(drop=True)
    if method == "marginals":
        picked = {c: df[c].iloc[rng.integers(0, len(df), n)].to_numpy() for c in df.columns}
        return pd.DataFrame(picked, columns=df.columns).astype(df.dtypes.to_dict())
    return _cart(df, int(n), int(min_leaf), rng, seed)
