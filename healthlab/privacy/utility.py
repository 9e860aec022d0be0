"""Utility as a workload: what an anonymised table is still good for.

Two workloads a health researcher runs on a release:

- a **model**: train the same scikit-learn estimator on the original and on the released rows
  and compare their accuracy on held-out rows, next to the majority-class baseline that any
  release, however useless, achieves;
- **key statistics**: a prevalence (or mean) by subgroup -- province, age band -- computed on
  the original and on the release, and their difference.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from healthlab._results import TableView
from healthlab._validation import check_columns, check_frame, check_seed, fraction
from healthlab.errors import InvalidParameterError


@dataclass(frozen=True)
class ModelUtility:
    """Accuracy of one model trained on original and on released rows.

    Attributes
    ----------
    scores : pandas.DataFrame
        Rows ``original``, ``released``, ``majority baseline``; columns accuracy, balanced
        accuracy and the number of test rows.

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> from healthlab.privacy import model_utility
    >>> rng = np.random.default_rng(0)
    >>> df = pd.DataFrame({"age": rng.integers(20, 80, 400)})
    >>> df["ill"] = (df["age"] + rng.normal(0, 10, 400) > 60).astype(int)
    >>> band = df.assign(age=(df["age"] // 20 * 20).astype(str))
    >>> utility = model_utility(df, band, "ill", ["age"])
    >>> utility.target, utility.to_frame().index.tolist()
    ('ill', ['original', 'released', 'majority baseline'])
    >>> utility.scores.columns.tolist()
    ['accuracy', 'balanced_accuracy', 'test_rows']
    """

    target: str
    scores: pd.DataFrame

    def to_frame(self) -> pd.DataFrame:
        """The scores table."""
        return self.scores

    def _repr_html_(self) -> str:
        return f"<p>Predicting {self.target}</p>" + self.scores.to_html()


def _default_model(frame: pd.DataFrame):
    # scikit-learn is imported when a model is fitted: it takes seconds to import
    from sklearn.compose import ColumnTransformer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import OneHotEncoder, StandardScaler

    numeric = [c for c in frame.columns if pd.api.types.is_numeric_dtype(frame[c])]
    other = [c for c in frame.columns if c not in numeric]
    prep = ColumnTransformer(
        [
            ("num", StandardScaler(), numeric),
            ("cat", OneHotEncoder(handle_unknown="ignore"), other),
        ]
    )
    return make_pipeline(prep, LogisticRegression(max_iter=1000))


def _fit_score(model, train: pd.DataFrame, test: pd.DataFrame, features, target):
    from sklearn.base import clone
    from sklearn.metrics import accuracy_score, balanced_accuracy_score

    x_train = train[features].astype({c: object for c in features if not _num(train[c])})
    x_test = test[features].astype({c: object for c in features if not _num(test[c])})
    fitted = clone(model if model is not None else _default_model(x_train))
    fitted.fit(x_train, train[target])
    pred = fitted.predict(x_test)
    return accuracy_score(test[target], pred), balanced_accuracy_score(test[target], pred)


def _num(s: pd.Series) -> bool:
    return pd.api.types.is_numeric_dtype(s) and not isinstance(s.dtype, pd.CategoricalDtype)


def model_utility(
    original: pd.DataFrame,
    released: pd.DataFrame,
    target: str,
    features,
    *,
    model=None,
    test_size: float = 0.3,
    seed: int = 0,
) -> ModelUtility:
    """Train the same model on original and released rows; compare with the majority baseline.

    The records are split once (by the original's index) into training and test rows. The
    original model learns from the original training rows and is scored on the original test
    rows; the released model learns from the released versions of the training rows (those not
    suppressed) and is scored on the released test rows, as a user of the release would.

    Parameters
    ----------
    original, released : pandas.DataFrame
        The released table keeps the original's index (suppressed rows are simply absent).
    target : str
        The column to predict (a class label).
    features : list of str
    model : scikit-learn estimator, optional
        Cloned for each fit; default: logistic regression on scaled numbers and one-hot
        categories.
    test_size : float, default 0.3
    seed : int, default 0
        Seeds the split.

    Returns
    -------
    ModelUtility

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> from healthlab.privacy import model_utility
    >>> rng = np.random.default_rng(0)
    >>> df = pd.DataFrame({"age": rng.integers(20, 80, 400)})
    >>> df["ill"] = (df["age"] + rng.normal(0, 10, 400) > 60).astype(int)
    >>> band = df.assign(age=(df["age"] // 20 * 20).astype(str))
    >>> scores = model_utility(df, band, "ill", ["age"]).scores
    >>> bool(scores.loc["released", "accuracy"] > scores.loc["majority baseline", "accuracy"])
    True
    """
    rng = np.random.default_rng(check_seed(seed))
    check_frame(original, "original", allow_empty=True)
    check_frame(released, "released", allow_empty=True)
    cols = check_columns(original, features, "features")
    check_columns(released, cols, "features (in released)")
    check_columns(original, [target], "target")
    check_columns(released, [target], "target (in released)")
    if target in cols:
        raise InvalidParameterError(f"target {target!r} is also a feature; remove it from features")
    test_size = fraction(test_size, "test_size")
    if not released.index.isin(original.index).all():
        raise InvalidParameterError(
            "released has index labels not in original; keep the original's index when "
            "anonymising (healthlab's anonymisers do)"
        )
    is_test = pd.Series(rng.random(len(original)) < test_size, index=original.index)
    o_train, o_test = original[~is_test], original[is_test]
    r_test_mask = is_test.reindex(released.index).to_numpy()
    r_train, r_test = released[~r_test_mask], released[r_test_mask]
    acc_o, bal_o = _fit_score(model, o_train, o_test, cols, target)
    acc_r, bal_r = _fit_score(model, r_train, r_test, cols, target)
    majority = o_train[target].mode().iloc[0]
    base = o_test[target] == majority
    scores = pd.DataFrame(
        {
            "accuracy": [acc_o, acc_r, float(base.mean())],
            "balanced_accuracy": [bal_o, bal_r, 0.5 if o_test[target].nunique() == 2 else np.nan],
            "test_rows": [len(o_test), len(r_test), len(o_test)],
        },
        index=["original", "released", "majority baseline"],
    )
    return ModelUtility(target, scores)


@dataclass(frozen=True)
class StatisticError(TableView):
    """How far a released table moves a subgroup statistic from the original.

    Attributes
    ----------
    table : pandas.DataFrame
        One row per subgroup: ``n_original``, ``n_released``, ``original``, ``released`` and
        ``abs_error``.
    mean_abs_error, max_abs_error : float
        Over the subgroups.

    Examples
    --------
    >>> import pandas as pd
    >>> from healthlab.privacy import statistic_error
    >>> df = pd.DataFrame({"prov": list("AABB"), "ill": [1, 0, 1, 1]})
    >>> error = statistic_error(df, df.iloc[[0, 2, 3]], "ill", "prov")
    >>> error.table
          n_original  n_released  original  released  abs_error
    prov
    A              2           1       0.5       1.0        0.5
    B              2           2       1.0       1.0        0.0
    >>> error.mean_abs_error, error.max_abs_error
    (0.25, 0.5)
    """

    table: pd.DataFrame
    mean_abs_error: float
    max_abs_error: float

    def __getitem__(self, column: str) -> pd.Series:
        """A column of :attr:`table` (``error["abs_error"]``)."""
        return self.table[column]

    def to_frame(self) -> pd.DataFrame:
        """The subgroups with their errors."""
        return self.table


def statistic_error(
    original: pd.DataFrame, released: pd.DataFrame, outcome: str, by
) -> StatisticError:
    """Error of a subgroup statistic (prevalence of a 0/1 outcome, or a mean) in a release.

    Subgroups are those of the original table (for example province and age band), found for
    the released rows through their index, so that suppression and perturbation of the outcome
    both show; a subgroup wholly suppressed has no released value.

    Returns
    -------
    StatisticError
        ``table``: one row per subgroup, records in each table, the statistic in each, the
        absolute error; ``mean_abs_error`` and ``max_abs_error``.

    Examples
    --------
    >>> import pandas as pd
    >>> from healthlab.privacy import statistic_error
    >>> df = pd.DataFrame({"prov": list("AABB"), "ill": [1, 0, 1, 1]})
    >>> statistic_error(df, df.iloc[[0, 2, 3]], "ill", "prov")["abs_error"].tolist()
    [0.5, 0.0]
    """
    check_frame(original, "original", allow_empty=True)
    check_frame(released, "released", allow_empty=True)
    by = check_columns(original, by, "by")
    check_columns(original, [outcome], "outcome")
    check_columns(released, [outcome], "outcome (in released)")
    if not released.index.isin(original.index).all():
        raise InvalidParameterError("released must keep the original's index labels")
    groups = original.loc[released.index, by]
    orig = original.groupby(by, dropna=False, observed=True)[outcome].agg(["size", "mean"])
    rel = (
        released[[outcome]]
        .astype(float)
        .join(groups)
        .groupby(by, dropna=False, observed=True)[outcome]
        .agg(["size", "mean"])
    )
    out = pd.DataFrame(
        {
            "n_original": orig["size"],
            "n_released": rel["size"].reindex(orig.index).fillna(0).astype(np.int64),
            "original": orig["mean"],
            "released": rel["mean"].reindex(orig.index),
        }
    )
    out["abs_error"] = (out["released"] - out["original"]).abs()
    return StatisticError(
        table=out,
        mean_abs_error=float(out["abs_error"].mean()),
        max_abs_error=float(out["abs_error"].max()),
    )
