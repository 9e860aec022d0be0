"""Clinical prediction: the analysis table of a readmission study, calibration and fairness.

A readmission model is fitted on *index* admissions: those that are not themselves
readmissions, that did not end in death, and whose 30 days after discharge lie inside the
period (otherwise a readmission could go unseen). :func:`readmission_cohort` builds that table
from the clinical records and the population, with the predictors named as the terms of the
generator's ground-truth model (``risk_model`` table), so a fitted model can be set beside the
truth. :func:`calibration_table` and :func:`group_metrics` are the two summaries a model needs
before anyone acts on it: does a predicted 20% mean 20%, and does the model work as well for
every group of patients?
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from healthlab._validation import check_frame, numeric
from healthlab.errors import InvalidParameterError

__all__ = [
    "CONDITIONS",
    "calibration_table",
    "group_metrics",
    "logit_coefficients",
    "readmission_cohort",
]

#: The chronic conditions of the synthetic population, in its column order.
CONDITIONS = ("hypertension", "diabetes", "copd", "ihd", "stroke", "cancer", "ckd", "dementia")


def _table(tables, name: str) -> pd.DataFrame:
    try:
        frame = tables[name]
    except (KeyError, TypeError):
        raise InvalidParameterError(
            f"clinical must hold the table {name!r} (pass datasets.load('clinical', ...))"
        ) from None
    return check_frame(frame, f"clinical[{name!r}]")


def readmission_cohort(clinical, population: pd.DataFrame) -> pd.DataFrame:
    """One row per index admission with complete follow-up: predictors, outcome and true risk.

    Parameters
    ----------
    clinical : Dataset or mapping
        The clinical records: tables ``encounters`` and ``outcomes`` (as from
        ``datasets.load("clinical", ...)``).
    population : pandas.DataFrame
        The people: ``person_id``, ``age``, ``sex``, ``insurance`` and the condition flags.

    Returns
    -------
    pandas.DataFrame
        ``encounter_id``, ``person_id``, ``admit_date``, ``facility_id``, ``age``, ``sex``,
        ``urban``, ``insurance``, ``length_of_stay`` and the predictors ``age_per_10y_over_65``
        (``(age - 65) / 10``), ``male``, ``conditions`` (how many of the eight),
        ``log_length_of_stay`` (``log(max(stay, 1))``), each condition (0/1), ``uninsured``;
        the outcome ``readmitted`` (0/1) and ``true_risk`` (the generator's probability).
        Duplicated encounter rows (realistic mess) are dropped.

    Examples
    --------
    >>> import pandas as pd
    >>> from healthlab.prediction import readmission_cohort
    >>> enc = pd.DataFrame({"encounter_id": [1, 2], "person_id": [7, 7],
    ...     "encounter_type": ["inpatient"] * 2, "length_of_stay": [5, 3],
    ...     "admit_date": pd.to_datetime(["2020-03-01", "2020-03-20"]),
    ...     "facility_id": [3, 3], "urban": [True, True]})
    >>> out = pd.DataFrame({"encounter_id": [1, 2], "person_id": [7, 7],
    ...     "died_in_hospital": [False, False], "readmitted_30d": [True, False],
    ...     "readmission_risk": [0.2, None], "followup_complete": [True, True],
    ...     "is_readmission": [False, True]})
    >>> people = pd.DataFrame({"person_id": [7], "age": [75], "sex": ["F"],
    ...     "insurance": ["resident"], "hypertension": [True], "diabetes": [False],
    ...     "copd": [True], "ihd": [False], "stroke": [False], "cancer": [False],
    ...     "ckd": [False], "dementia": [False]})
    >>> row = readmission_cohort({"encounters": enc, "outcomes": out}, people).iloc[0]
    >>> int(row["conditions"]), float(row["age_per_10y_over_65"]), int(row["readmitted"])
    (2, 1.0, 1)
    """
    enc = _table(clinical, "encounters")
    out = _table(clinical, "outcomes")
    check_frame(population, "population")
    need = ["person_id", "age", "sex", "insurance", *CONDITIONS]
    missing = [c for c in need if c not in population.columns]
    if missing:
        raise InvalidParameterError(f"population lacks the column(s) {missing}")
    index = out[
        ~out["is_readmission"].astype(bool)
        & ~out["died_in_hospital"].astype(bool)
        & out["followup_complete"].astype(bool)
    ]
    stays = enc.drop_duplicates("encounter_id")[
        ["encounter_id", "admit_date", "length_of_stay", "facility_id", "urban"]
    ]
    frame = index[["encounter_id", "person_id", "readmitted_30d", "readmission_risk"]].merge(
        stays, on="encounter_id", how="inner"
    )
    people = population[need].copy()
    people["sex"] = people["sex"].astype(str)
    people["insurance"] = people["insurance"].astype(str)
    frame = frame.merge(people, on="person_id", how="inner")
    flags = frame[list(CONDITIONS)].astype(int)
    los = frame["length_of_stay"].to_numpy(float)
    result = pd.DataFrame(
        {
            "encounter_id": frame["encounter_id"],
            "person_id": frame["person_id"],
            "admit_date": frame["admit_date"],
            "facility_id": frame["facility_id"],
            "age": frame["age"].astype(int),
            "sex": frame["sex"],
            "urban": frame["urban"].astype(bool),
            "insurance": frame["insurance"],
            "length_of_stay": frame["length_of_stay"].astype(int),
            "age_per_10y_over_65": (frame["age"].to_numpy(float) - 65) / 10,
            "male": (frame["sex"] == "M").astype(int),
            "conditions": flags.sum(axis=1),
            "log_length_of_stay": np.log(np.maximum(los, 1)),
        }
    )
    for name in CONDITIONS:
        result[name] = flags[name].to_numpy()
    result["uninsured"] = (frame["insurance"] == "none").astype(int).to_numpy()
    result["readmitted"] = frame["readmitted_30d"].astype(int).to_numpy()
    result["true_risk"] = frame["readmission_risk"].astype(float).to_numpy()
    return result.sort_values("encounter_id", ignore_index=True)


def _wilson(events: np.ndarray, n: np.ndarray, z: float = 1.959964) -> tuple:
    p = np.divide(events, n, out=np.zeros(len(n)), where=n > 0)
    centre = (p + z**2 / (2 * n)) / (1 + z**2 / n)
    half = z * np.sqrt(p * (1 - p) / n + z**2 / (4 * n**2)) / (1 + z**2 / n)
    return np.clip(centre - half, 0.0, 1.0), np.clip(centre + half, 0.0, 1.0)


def _check_pair(y_true, y_prob) -> tuple[np.ndarray, np.ndarray]:
    y = numeric(y_true, "y_true")
    p = numeric(y_prob, "y_prob")
    if len(y) != len(p):
        raise InvalidParameterError(
            f"y_true has {len(y)} values and y_prob {len(p)}; give one probability per outcome"
        )
    if not np.isin(y, (0, 1)).all():
        raise InvalidParameterError("y_true must hold 0 and 1 (or False and True)")
    if ((p < 0) | (p > 1)).any():
        raise InvalidParameterError("y_prob must hold probabilities between 0 and 1")
    return y, p


def calibration_table(y_true, y_prob, *, bins: int = 10) -> pd.DataFrame:
    """Observed against predicted risk in groups of patients ranked by their predicted risk.

    Patients are cut into ``bins`` groups of (about) equal size by predicted risk; a
    well-calibrated model has ``observed`` close to ``mean_predicted`` in every group.

    Parameters
    ----------
    y_true : array-like of 0/1
    y_prob : array-like of float
        Predicted probabilities.
    bins : int, default 10
        Number of risk groups (deciles by default); fewer when there are few patients.

    Returns
    -------
    pandas.DataFrame
        ``bin`` (1 = lowest risk), ``n``, ``mean_predicted``, ``observed`` and the 95% Wilson
        interval ``lower``, ``upper`` of the observed share.

    Examples
    --------
    >>> from healthlab.prediction import calibration_table
    >>> calibration_table([0, 0, 1, 0, 1, 1], [0.1, 0.2, 0.3, 0.6, 0.7, 0.9], bins=2)[
    ...     ["bin", "n", "mean_predicted", "observed"]].round(2)
       bin  n  mean_predicted  observed
    0    1  3            0.20      0.33
    1    2  3            0.73      0.67
    """
    y, p = _check_pair(y_true, y_prob)
    if not isinstance(bins, int) or bins < 1:
        raise InvalidParameterError(f"bins must be a whole number of at least 1, got {bins!r}")
    bins = min(bins, len(y))
    order = np.argsort(p, kind="stable")
    group = np.empty(len(y), int)
    group[order] = np.arange(len(y)) * bins // len(y)
    frame = pd.DataFrame({"bin": group + 1, "y": y, "p": p})
    out = frame.groupby("bin").agg(
        n=("y", "size"), mean_predicted=("p", "mean"), events=("y", "sum")
    )
    out["observed"] = out["events"] / out["n"]
    out["lower"], out["upper"] = _wilson(out["events"].to_numpy(), out["n"].to_numpy(float))
    return out.drop(columns="events").reset_index()


def group_metrics(y_true, y_prob, groups, *, threshold: float) -> pd.DataFrame:
    """How a risk model performs in each group of patients, at a decision threshold.

    Parameters
    ----------
    y_true : array-like of 0/1
    y_prob : array-like of float
    groups : array-like
        The group of each patient (for example urban/rural, or sex).
    threshold : float
        Patients with ``y_prob >= threshold`` are flagged for an intervention.

    Returns
    -------
    pandas.DataFrame
        One row per group: ``group``, ``n``, ``observed`` (readmission rate),
        ``mean_predicted``, ``o_to_e`` (observed over expected: 1 is calibrated in the large),
        ``auc`` (missing when the group has one outcome only), ``flagged`` (share flagged),
        ``sensitivity`` (share of the readmitted who were flagged), ``ppv`` (share of the
        flagged who were readmitted) and ``fpr`` (share of the others flagged).

    Examples
    --------
    >>> from healthlab.prediction import group_metrics
    >>> group_metrics([1, 0, 1, 0], [0.8, 0.3, 0.4, 0.6], ["a", "a", "b", "b"],
    ...               threshold=0.5)[["group", "sensitivity", "fpr"]]
      group  sensitivity  fpr
    0     a          1.0  0.0
    1     b          0.0  1.0
    """
    from sklearn.metrics import roc_auc_score

    y, p = _check_pair(y_true, y_prob)
    g = np.asarray(groups)
    if len(g) != len(y):
        raise InvalidParameterError(f"groups has {len(g)} values; give one per patient ({len(y)})")
    t = float(threshold)
    if not 0 <= t <= 1:
        raise InvalidParameterError(f"threshold must be a probability, got {threshold!r}")
    rows = []
    for name in pd.unique(g):
        sel = g == name
        yy, pp = y[sel], p[sel]
        flag = pp >= t
        pos, neg = yy == 1, yy == 0
        rows.append(
            {
                "group": name,
                "n": int(sel.sum()),
                "observed": yy.mean(),
                "mean_predicted": pp.mean(),
                "o_to_e": yy.sum() / pp.sum() if pp.sum() > 0 else np.nan,
                "auc": roc_auc_score(yy, pp) if pos.any() and neg.any() else np.nan,
                "flagged": flag.mean(),
                "sensitivity": flag[pos].mean() if pos.any() else np.nan,
                "ppv": yy[flag].mean() if flag.any() else np.nan,
                "fpr": flag[neg].mean() if neg.any() else np.nan,
            }
        )
    return pd.DataFrame(rows).sort_values("group", ignore_index=True)


def logit_coefficients(
    frame: pd.DataFrame, terms, *, outcome: str = "readmitted", truth: pd.DataFrame | None = None
) -> pd.DataFrame:
    """Fit a logistic regression by maximum likelihood (statsmodels) and tabulate its terms.

    A term that does not vary in ``frame`` (for example no uninsured patient in a small
    sample) cannot be estimated; it is left out and reported with a missing coefficient.

    Parameters
    ----------
    frame : pandas.DataFrame
        The ``terms`` (numeric or 0/1) and the 0/1 ``outcome``.
    terms : list of str
        Predictors; an intercept is added.
    outcome : str, default "readmitted"
    truth : pandas.DataFrame, optional
        The ground-truth model: ``term`` and ``coefficient`` (for example the clinical
        ``risk_model`` rows of one outcome); adds ``true`` and ``covered`` (the truth lies in
        the 95% interval).

    Returns
    -------
    pandas.DataFrame
        ``term`` (``intercept`` first), ``coefficient``, ``se``, ``lower``, ``upper`` (95%),
        ``p_value``, and with ``truth`` also ``true`` and ``covered``. ``attrs["converged"]``
        says whether the optimiser converged.

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> from healthlab.prediction import logit_coefficients
    >>> rng = np.random.default_rng(0)
    >>> x = rng.normal(size=4000)
    >>> y = (rng.random(4000) < 1 / (1 + np.exp(-(-1 + 0.8 * x)))).astype(int)
    >>> logit_coefficients(pd.DataFrame({"x": x, "y": y}), ["x"], outcome="y")[
    ...     ["term", "coefficient"]].round(1)
            term  coefficient
    0  intercept         -1.0
    1          x          0.8
    """
    import warnings

    import statsmodels.api as sm

    check_frame(frame, "frame")
    terms = [terms] if isinstance(terms, str) else list(terms)
    missing = [c for c in [*terms, outcome] if c not in frame.columns]
    if missing:
        raise InvalidParameterError(f"frame lacks the column(s) {missing}")
    y = numeric(frame[outcome], f"frame[{outcome!r}]")
    used = [t for t in terms if frame[t].nunique() > 1]
    X = sm.add_constant(frame[used].astype(float), has_constant="add")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fit = sm.Logit(y, X).fit(disp=0, maxiter=200)
        ci = fit.conf_int()
    names = ["intercept", *used]
    table = pd.DataFrame(
        {
            "term": names,
            "coefficient": fit.params.to_numpy(),
            "se": fit.bse.to_numpy(),
            "lower": ci.iloc[:, 0].to_numpy(),
            "upper": ci.iloc[:, 1].to_numpy(),
            "p_value": fit.pvalues.to_numpy(),
        }
    )
    dropped = pd.DataFrame({"term": [t for t in terms if t not in used]})
    table = pd.concat([table, dropped], ignore_index=True) if len(dropped) else table
    if truth is not None:
        true = truth.set_index("term")["coefficient"]
        table["true"] = table["term"].map(true).to_numpy()
        table["covered"] = (table["lower"] <= table["true"]) & (table["true"] <= table["upper"])
    table.attrs["converged"] = bool(fit.mle_retvals.get("converged", True))
    return table
