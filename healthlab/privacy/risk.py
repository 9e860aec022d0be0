"""Re-identification risk of a table: equivalence classes, k, l, t and the attacker's odds.

The threat model is the one of the statistical disclosure literature. The attacker knows some
attributes of a person -- the quasi-identifiers, such as sex, birth date and province -- and
looks for the records that match them. Records that share all quasi-identifier values form an
equivalence class; the smaller the class, the better the attacker's odds.

- A *prosecutor* knows the person is in the table: odds ``1/f`` for a class of ``f`` records.
- A *journalist* does not know; with a population table the odds are ``1/F`` for a class of
  ``F`` people in the population.
- A *marketer* re-identifies as many records as possible: expected share ``(1/n) sum f/F``.

l-diversity and t-closeness ask what the attacker learns of a sensitive attribute even
without singling the person out.

References
----------
Sweeney L. k-anonymity: a model for protecting privacy. Int J Uncertain Fuzz 2002;10(5):557-570.

El Emam K, Dankar FK. Protecting privacy using k-anonymity. JAMIA 2008;15(5):627-637.
"""

from __future__ import annotations

import html
import numbers
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from healthlab._validation import check_columns, check_frame, fraction
from healthlab.errors import InvalidParameterError
from healthlab.privacy import diversity
from healthlab.privacy._classes import check_roles, class_codes, column_codes, combine_codes
from healthlab.privacy._duckdb import check_relation_roles, is_relation, relation_counts

#: Class sizes whose share of records the report gives ("records in classes below ...").
SIZE_CUTS = (2, 3, 5, 11)


@dataclass(frozen=True)
class RiskReport:
    """Re-identification and attribute-disclosure risk of one table under one threat model.

    Attributes
    ----------
    quasi_identifiers, sensitive : tuple of str
        The attributes the attacker knows, and those to protect.
    n_records, k, classes : int
        Records; the smallest equivalence class (k-anonymity); the number of classes.
    sample_uniques : int
        Records alone in their class.
    share_below : dict
        Share of records in classes smaller than 2, 3, 5 and 11.
    class_size_histogram : pandas.DataFrame
        Classes and records by class size band.
    prosecutor_max, prosecutor_avg, prosecutor_share_above : float
        Highest and average prosecutor risk, and the share of records whose risk exceeds
        ``threshold``.
    l_distinct, l_entropy, recursive, t_closeness, t_distance : dict
        By sensitive attribute: distinct and entropy l-diversity; the largest l of recursive
        (c, l)-diversity; the t of t-closeness and the ground distance it used.
    journalist_max, marketer, population_records : float, float, int or None
        Filled when a population table is given.

    Examples
    --------
    >>> import pandas as pd
    >>> from healthlab.privacy import risk_report
    >>> df = pd.DataFrame({"sex": list("FFFMM"), "age": [30, 30, 30, 40, 40],
    ...                    "dx": ["flu", "flu", "cold", "flu", "cold"]})
    >>> report = risk_report(df, ["sex", "age"], sensitive=["dx"])
    >>> report.k, report.sample_uniques, report.prosecutor_max
    (2, 0, 0.5)
    >>> report.to_frame().loc[["k (smallest class)", "l-diversity (distinct), dx"], "value"]
    measure
    k (smallest class)            2
    l-diversity (distinct), dx    2
    Name: value, dtype: object
    """

    quasi_identifiers: tuple
    sensitive: tuple
    n_records: int
    k: int
    classes: int
    sample_uniques: int
    share_below: dict
    class_size_histogram: pd.DataFrame
    prosecutor_max: float
    prosecutor_avg: float
    prosecutor_share_above: float
    threshold: float
    l_distinct: dict = field(default_factory=dict)
    l_entropy: dict = field(default_factory=dict)
    recursive: dict = field(default_factory=dict)
    c: float = 2.0
    t_closeness: dict = field(default_factory=dict)
    t_distance: dict = field(default_factory=dict)
    journalist_max: float | None = None
    marketer: float | None = None
    population_records: int | None = None

    @property
    def threat_model(self) -> str:
        """The threat model in words: who attacks, knowing what, against which table."""
        qi = ", ".join(map(str, self.quasi_identifiers))
        text = (
            f"The attacker knows the quasi-identifiers ({qi}) of a target. Prosecutor model: "
            f"the attacker knows the target is among the {self.n_records:,} records of this "
            "sample."
        )
        if self.population_records is not None:
            text += (
                f" Journalist and marketer models: the attacker matches against a population "
                f"of {self.population_records:,} people without knowing who is in the sample."
            )
        if self.sensitive:
            text += f" Sensitive attributes to protect: {', '.join(map(str, self.sensitive))}."
        return text + " Missing values count as a value of their own."

    def to_frame(self) -> pd.DataFrame:
        """The report as a table with one row per measure."""
        rows = [
            ("records", self.n_records, "rows in the table"),
            ("equivalence classes", self.classes, "distinct quasi-identifier combinations"),
            ("k (smallest class)", self.k, "the table is k-anonymous for this k"),
            ("sample uniques", self.sample_uniques, "records alone in their class"),
        ]
        rows += [
            (f"share in classes < {cut}", self.share_below[cut], "share of records")
            for cut in SIZE_CUTS
        ]
        rows += [
            ("prosecutor risk, highest", self.prosecutor_max, "1/k"),
            ("prosecutor risk, average", self.prosecutor_avg, "classes / records"),
            (
                f"records with risk > {self.threshold:g}",
                self.prosecutor_share_above,
                "share of records",
            ),
        ]
        if self.population_records is not None:
            rows += [
                ("journalist risk, highest", self.journalist_max, "1 / smallest population class"),
                ("marketer risk", self.marketer, "expected share re-identified"),
            ]
        for s in self.sensitive:
            rows += [
                (f"l-diversity (distinct), {s}", self.l_distinct[s], "fewest distinct values"),
                (f"l-diversity (entropy), {s}", self.l_entropy[s], "exp(lowest entropy)"),
                (f"recursive (c={self.c:g}, l), {s}", self.recursive[s], "largest l"),
                (f"t-closeness, {s}", self.t_closeness[s], f"{self.t_distance[s]} distance EMD"),
            ]
        frame = pd.DataFrame(rows, columns=["measure", "value", "meaning"], dtype=object)
        return frame.set_index("measure")

    def _repr_html_(self) -> str:
        return f"<p>{html.escape(self.threat_model)}</p>" + self.to_frame().to_html()

    def __str__(self) -> str:
        return self.threat_model + "\n" + self.to_frame().to_string()


def _histogram(size: np.ndarray) -> pd.DataFrame:
    bands = [1, 2, 3, 5, 11, 21, 51, 101]
    labels = ["1", "2", "3-4", "5-10", "11-20", "21-50", "51-100", ">100"]
    idx = np.searchsorted(bands, size, side="right") - 1
    classes = np.bincount(idx, minlength=len(labels))
    records = np.bincount(idx, weights=size, minlength=len(labels)).astype(np.int64)
    out = pd.DataFrame({"classes": classes, "records": records}, index=labels)
    out.index.name = "class size"
    return out


def _population_sizes(df, population, qis, classes, n_classes) -> np.ndarray:
    """Population count ``F`` of each sample class, matching values across both tables."""
    check_frame(population, "population", allow_empty=True)
    check_columns(population, qis, "quasi_identifiers (in population)")
    n = len(df)
    coded = []
    for q in qis:
        both = pd.concat([df[q], population[q]], ignore_index=True)
        coded.append(column_codes(both))
    joint, n_joint = combine_codes(coded)
    pop_count = np.bincount(joint[n:], minlength=n_joint)
    first = np.zeros(n_classes, dtype=np.int64)
    first[classes[::-1]] = np.arange(n)[::-1]  # one record of each sample class
    big_f = pop_count[joint[:n][first]]
    absent = int((big_f == 0).sum())
    if absent:
        raise InvalidParameterError(
            f"population lacks {absent} of the sample's {n_classes} quasi-identifier combinations; "
            "the population must contain every person of the sample (pass the table the sample "
            "was drawn from, generalised the same way)"
        )
    return big_f


def risk_report(
    df: pd.DataFrame,
    quasi_identifiers,
    sensitive=(),
    *,
    population: pd.DataFrame | None = None,
    threshold: float = 0.2,
    c: float = 2.0,
) -> RiskReport:
    """Measure the re-identification and attribute-disclosure risk of a table.

    Records sharing every quasi-identifier value form an equivalence class; missing values are
    a value of their own. From the class sizes come k-anonymity, the class-size profile and the
    prosecutor risk; from the sensitive values within classes, l-diversity and t-closeness
    (ordered earth mover's distance for numbers and ordered categoricals, equal distance
    otherwise). With a population table (the people the sample was drawn from) the report adds
    journalist and marketer risk. Everything is computed for all classes at once.

    Parameters
    ----------
    df : pandas.DataFrame or duckdb.DuckDBPyRelation
        The table to release, one row per person. A DuckDB relation (for example a dataset's
        ``relation(...)`` over Parquet) is reduced in SQL to class and pair counts, for tables
        larger than memory.
    quasi_identifiers : list of str
        Columns an attacker could know from elsewhere.
    sensitive : list of str, optional
        Columns to protect; none may also be a quasi-identifier.
    population : pandas.DataFrame or duckdb.DuckDBPyRelation, optional
        The population the sample was drawn from, with the same quasi-identifier columns (a
        relation on the same connection when ``df`` is one).
    threshold : float, default 0.2
        Prosecutor risk above which a record counts as at risk (0.2: classes smaller than 5).
    c : float, default 2.0
        The constant of recursive (c, l)-diversity.

    Returns
    -------
    RiskReport
        Renders as a table in a notebook; ``to_frame()`` gives the same as a DataFrame.

    References
    ----------
    Sweeney L. k-anonymity: a model for protecting privacy. 2002.
    Machanavajjhala A et al. l-diversity: privacy beyond k-anonymity. 2007.
    Li N, Li T, Venkatasubramanian S. t-closeness. 2007.
    El Emam K, Dankar FK. Protecting privacy using k-anonymity. JAMIA 2008.

    Examples
    --------
    >>> import pandas as pd
    >>> from healthlab.privacy import risk_report
    >>> df = pd.DataFrame({"sex": list("FFFMM"), "age": [30, 30, 30, 40, 40],
    ...                    "dx": ["flu", "flu", "cold", "flu", "cold"]})
    >>> report = risk_report(df, ["sex", "age"], sensitive=["dx"])
    >>> report.k, report.classes, report.l_distinct["dx"]
    (2, 2, 2)
    """
    threshold = fraction(threshold, "threshold")
    if isinstance(c, bool) or not isinstance(c, numbers.Real) or not c > 0:
        raise InvalidParameterError(f"c must be a positive number, got {c!r}; c=2 is common")
    if is_relation(df):
        qis, sens = check_relation_roles(df, quasi_identifiers, sensitive)
        size, pairs, figures = relation_counts(df, qis, sens, population)
    else:
        qis, sens = check_roles(df, quasi_identifiers, sensitive)
        if len(df) == 0:
            raise InvalidParameterError("df has no rows; a risk report needs at least one record")
        classes, n_classes = class_codes(df, qis)
        size = np.bincount(classes, minlength=n_classes)
        pairs = {s: diversity.pairs(classes, n_classes, df[s]) for s in sens}
        figures = None
        if population is not None:
            big_f = _population_sizes(df, population, qis, classes, n_classes)
            figures = (int(big_f.min()), float((size / big_f).sum()), len(population))
    n, n_classes = int(size.sum()), len(size)
    report = dict(
        quasi_identifiers=tuple(qis),
        sensitive=tuple(sens),
        n_records=n,
        k=int(size.min()),
        classes=n_classes,
        sample_uniques=int((size == 1).sum()),
        share_below={cut: float(size[size < cut].sum() / n) for cut in SIZE_CUTS},
        class_size_histogram=_histogram(size),
        prosecutor_max=float(1.0 / size.min()),
        prosecutor_avg=float(n_classes / n),
        prosecutor_share_above=float(size[1.0 / size > threshold].sum() / n),
        threshold=threshold,
        c=float(c),
    )
    for key in ("l_distinct", "l_entropy", "recursive", "t_closeness", "t_distance"):
        report[key] = {}
    for s, p in pairs.items():
        report["l_distinct"][s] = diversity.l_distinct(p)
        report["l_entropy"][s] = diversity.l_entropy(p)
        report["recursive"][s] = diversity.l_recursive(p, c)
        report["t_distance"][s] = "ordered" if p.ordered else "equal"
        report["t_closeness"][s] = diversity.t_ordered(p) if p.ordered else diversity.t_equal(p)
    if figures is not None:
        smallest, marketer_sum, n_population = figures
        report["journalist_max"] = 1.0 / smallest
        report["marketer"] = marketer_sum / n
        report["population_records"] = n_population
    return RiskReport(**report)


def class_size(df: pd.DataFrame, quasi_identifiers) -> pd.Series:
    """The size of each record's equivalence class (its prosecutor risk is ``1 / size``).

    Examples
    --------
    >>> import pandas as pd
    >>> from healthlab.privacy.risk import class_size
    >>> class_size(pd.DataFrame({"sex": list("FFM")}), ["sex"]).tolist()
    [2, 2, 1]
    """
    check_frame(df, "df", allow_empty=True)
    qis = check_columns(df, quasi_identifiers, "quasi_identifiers")
    classes, n_classes = class_codes(df, qis)
    size = np.bincount(classes, minlength=n_classes)
    return pd.Series(size[classes], index=df.index, name="class_size")
