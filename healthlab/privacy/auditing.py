"""Auditing access to health records: explain each access, flag the rest, rank what to review.

Three methods that hospitals and the literature use, run over an access log (the ``access_log``
dataset, or :func:`healthlab.synth.make_access_log`) and the clinical records it belongs to:

- explanation-based auditing (Fabbri and LeFevre): an access is explained when data elsewhere in
  the records give a reason for it: an encounter in the employee's department around that time
  (at a primary-care institution, whose general practitioners treat every department, an
  encounter in any department for its general practitioners and nurses; for a nurse, a stay or
  an emergency visit, where nurses work),
  a consultation asked of that department, an order the pharmacy or laboratory had to fill, or a
  duty of the employee's role (billing and medical records after a stay). The unexplained rest
  is what a compliance officer needs to read;
- the high-risk rules hospitals run (same surname, neighbour, co-worker, prominent patient,
  after hours, another department's workstation, unusual volume), with each rule's hit rate and
  the share of its hits that a clinical reason explains;
- an anomaly score per employee-day (scikit-learn's IsolationForest over volume, spread, timing,
  exports and the unexplained share).

:func:`review_queue` ranks accesses by a suspicion score built from all three, with reasons,
and :func:`queue_quality` measures it against the truth: the share of misuse in the top of the
queue and the workload it costs.

References
----------
Fabbri D, LeFevre K. Explanation-based auditing. Proc VLDB Endowment 2011;5(1):1-12.
Hedda M, Malin BA, Yan C, Fabbri D. Evaluating the effectiveness of auditing rules for
electronic health record systems. AMIA Annu Symp Proc 2017:866-875.
"""

from __future__ import annotations

import tempfile
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd

from healthlab.errors import InvalidParameterError
from healthlab.synth.access_log import LAB_TESTS
from healthlab.synth.access_staff import at_primary_care

__all__ = [
    "RULES",
    "AccessAudit",
    "ReviewQueue",
    "explain_accesses",
    "queue_quality",
    "review_queue",
    "rule_report",
]

#: Reasons an access can be explained by, in the order they are tried.
REASONS = ("treating_department", "consultation", "order", "role_duty")

#: The high-risk rules and the weight each adds to the review score.
RULES = {
    "same_surname": 1.0,
    "neighbour": 1.5,
    "coworker": 1.5,
    "prominent": 1.5,
    "after_hours": 0.5,
    "other_workstation": 0.75,
    "volume": 1.0,
}


@dataclass(frozen=True)
class AccessAudit:
    """Each access with its explanation and the rules it trips.

    ``accesses`` has one row per access: ``access_id``, ``staff_id``, ``person_id``, ``role``,
    ``reason`` (the first reason that explains it, missing when none does), ``explained`` and a
    boolean column per rule of :data:`RULES`.

    Examples
    --------
    >>> from healthlab import synth
    >>> from healthlab.privacy import explain_accesses
    >>> people = synth.make_population(500, seed=3)
    >>> records = synth.make_clinical(people, facilities=synth.make_facilities(seed=3), seed=3)
    >>> log = synth.make_access_log(records, population=people, days=30, seed=3)
    >>> audit = explain_accesses(log, records)
    >>> audit.accesses.columns[:6].tolist()
    ['access_id', 'staff_id', 'person_id', 'role', 'reason', 'explained']
    >>> audit.summary().columns.tolist(), 0 < audit.explained_share <= 1
    (['role', 'accesses', 'explained_share'], True)
    """

    accesses: pd.DataFrame

    @property
    def explained_share(self) -> float:
        """Share of accesses that a reason explains."""
        return float(self.accesses["explained"].mean()) if len(self.accesses) else float("nan")

    def summary(self) -> pd.DataFrame:
        """Accesses and the share explained, by role."""
        g = self.accesses.groupby("role", observed=True)["explained"]
        return pd.DataFrame({"accesses": g.size(), "explained_share": g.mean()}).reset_index()

    def _repr_html_(self) -> str:
        return (
            f"<p>{len(self.accesses):,} accesses, {self.explained_share:.1%} explained</p>"
            + self.summary().to_html(index=False, float_format=lambda v: f"{v:.3f}")
        )


def _as_tables(data) -> dict:
    """A loaded dataset or a mapping of tables, as a dict of its tables."""
    names = getattr(data, "table_names", None)
    if names is not None:
        return {t: data[t] for t in names}
    return dict(data) if isinstance(data, Mapping) else {}


def _tables(log, clinical) -> dict[str, pd.DataFrame]:
    log, clinical = _as_tables(log), _as_tables(clinical)
    for table in ("accesses", "staff", "patients", "consultations", "prominent", "workstations"):
        if table not in log:
            raise InvalidParameterError(
                f"the access log lacks the table {table!r}; pass the tables of "
                "healthlab.datasets.load('access_log', ...) or of make_access_log(...)"
            )
    for table in ("encounters", "medications", "observations"):
        if table not in clinical:
            raise InvalidParameterError(f"the clinical records lack the table {table!r}")
    return {
        "acc": log["accesses"],
        "staff": log["staff"],
        "patients": log["patients"],
        "cons": log["consultations"],
        "vip": log["prominent"],
        "ws": log["workstations"],
        "enc": clinical["encounters"][
            [
                "encounter_id",
                "person_id",
                "facility_id",
                "department",
                "encounter_type",
                "admit_date",
                "discharge_date",
            ]
        ].assign(primary_care=at_primary_care(clinical["encounters"])),
        "meds": clinical["medications"][["encounter_id", "date"]],
        "labs": clinical["observations"].loc[
            clinical["observations"]["loinc"].astype("string").isin(LAB_TESTS),
            ["encounter_id", "date"],
        ],
    }


_EXPLAIN = """
WITH a AS (
    SELECT a.access_id, a.staff_id, a.person_id, a.facility_id, a.time, a.workstation_id,
           s.department, s.role
    FROM acc a JOIN staff s USING (staff_id)
),
e AS (
    SELECT person_id, facility_id, CAST(department AS VARCHAR) AS department, encounter_id,
           CAST(admit_date AS TIMESTAMP) AS admit,
           CAST(discharge_date AS TIMESTAMP) + INTERVAL 1 DAY AS discharge,
           CAST(encounter_type AS VARCHAR) = 'inpatient' AS stay,
           CAST(encounter_type AS VARCHAR) = 'emergency' AS emergency, primary_care
    FROM enc WHERE facility_id IS NOT NULL
),
hits AS (
    SELECT a.access_id,
        CASE WHEN (a.role = 'doctor' OR (a.role = 'nurse' AND (e.stay OR e.emergency)))
                  AND (e.department = a.department
                       OR (e.primary_care AND a.department = 'general_practice'))
                  AND a.time >= e.admit - INTERVAL (? ) DAY
                  AND a.time < e.discharge + INTERVAL (?) DAY THEN 1
             WHEN a.role = 'billing' AND a.time >= e.admit
                  AND a.time < e.discharge + INTERVAL (CASE WHEN e.stay THEN ? ELSE 2 END) DAY
                  THEN 4
             WHEN a.role = 'records' AND e.stay AND a.time >= e.discharge - INTERVAL 1 DAY
                  AND a.time < e.discharge + INTERVAL (?) DAY THEN 4 END AS reason
    FROM a JOIN e ON e.person_id = a.person_id AND e.facility_id = a.facility_id
    UNION ALL
    SELECT a.access_id, 2 FROM a JOIN cons c
        ON c.person_id = a.person_id AND c.facility_id = a.facility_id
       AND CAST(c.department AS VARCHAR) = a.department
    WHERE a.role = 'doctor' AND a.time >= CAST(c.date AS TIMESTAMP) - INTERVAL 1 DAY
      AND a.time < CAST(c.date AS TIMESTAMP) + INTERVAL 8 DAY
    UNION ALL
    SELECT a.access_id, 3 FROM a
        JOIN e ON e.person_id = a.person_id AND e.facility_id = a.facility_id
        JOIN (SELECT encounter_id, date, 'pharmacist' AS role FROM meds
              UNION ALL SELECT encounter_id, date, 'technician' FROM labs) o
          ON o.encounter_id = e.encounter_id AND o.role = a.role
    WHERE a.time >= CAST(o.date AS TIMESTAMP) - INTERVAL 1 DAY
      AND a.time < CAST(o.date AS TIMESTAMP) + INTERVAL 4 DAY
),
best AS (SELECT access_id, min(reason) AS reason FROM hits WHERE reason IS NOT NULL GROUP BY 1),
day AS (
    SELECT staff_id, CAST(time AS DATE) AS d, count(DISTINCT person_id) AS n FROM a GROUP BY 1, 2
),
cut AS (
    SELECT role, quantile_cont(n, 0.995) AS q
    FROM day JOIN staff USING (staff_id) GROUP BY 1
)
SELECT a.access_id, a.staff_id, a.person_id, a.role, best.reason,
    coalesce(s.surname = p.surname, false) AS same_surname,
    coalesce(s.district = p.district AND s.street = p.street, false) AS neighbour,
    EXISTS (SELECT 1 FROM staff c WHERE c.person_id = a.person_id
            AND c.facility_id = a.facility_id AND c.staff_id <> a.staff_id) AS coworker,
    a.person_id IN (SELECT person_id FROM vip) AS prominent,
    (hour(a.time) >= 22 OR hour(a.time) < 6) AS after_hours,
    coalesce(CAST(w.department AS VARCHAR) <> a.department, false) AS other_workstation,
    day.n > cut.q AS volume
FROM a
LEFT JOIN best USING (access_id)
JOIN staff s ON s.staff_id = a.staff_id
LEFT JOIN patients p ON p.person_id = a.person_id
LEFT JOIN ws w ON w.workstation_id = a.workstation_id
JOIN day ON day.staff_id = a.staff_id AND day.d = CAST(a.time AS DATE)
JOIN cut ON cut.role = a.role
ORDER BY a.access_id
"""


def explain_accesses(
    log, clinical, *, before_days: int = 1, after_days: int = 7, duty_days: int = 30
) -> AccessAudit:
    """Explain each access from the clinical records, and flag the high-risk rules it trips.

    The reasons, tried in order: ``treating_department``, a doctor or nurse of the
    encounter's department at its facility, from ``before_days`` before the encounter to
    ``after_days`` after its end (at a primary-care institution, a township or community
    health centre or station, the general practitioners treat every department, so a doctor or
    nurse of ``general_practice`` there explains an encounter in any department; a nurse
    only by a stay or an emergency visit, where nurses work);
    ``consultation``, a doctor of a department consulted during a stay, in the week after;
    ``order``, the pharmacy or the laboratory around an order of the encounter; ``role_duty``,
    billing during and after an encounter, medical records after a stay.

    Parameters
    ----------
    log : mapping of str to pandas.DataFrame
        The access log's tables (``accesses``, ``staff``, ``patients``, ``consultations``,
        ``prominent``, ``workstations``).
    clinical : mapping of str to pandas.DataFrame
        The clinical records (``encounters``, ``medications``, ``observations``).
    before_days, after_days : int
        How long before an encounter and after its end its department's accesses count as
        care (preparing a visit; reading results and follow-up).
    duty_days : int
        How long after a stay billing and medical records may open it (billing may open a
        visit's record for two days).

    Returns
    -------
    AccessAudit

    Examples
    --------
    >>> from healthlab import synth
    >>> people = synth.make_population(2_000, seed=3)
    >>> records = synth.make_clinical(people, facilities=synth.make_facilities(seed=3), seed=3)
    >>> log = synth.make_access_log(records, population=people, days=90, seed=3)
    >>> audit = explain_accesses(log, records)
    >>> 0.9 < audit.explained_share < 1.0
    True
    """
    for name, value in (("before_days", before_days), ("after_days", after_days),
                        ("duty_days", duty_days)):  # fmt: skip
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            raise InvalidParameterError(
                f"{name} must be a whole number of days >= 0, got {value!r}"
            )
    tables = _tables(log, clinical)
    with tempfile.TemporaryDirectory(prefix="healthlab-audit-") as spill, duckdb.connect() as con:
        # Bounded working memory: beyond it DuckDB spills its joins and sorts to disk.
        con.execute(f"SET memory_limit = '{_MEMORY_LIMIT}'")
        con.execute(f"SET temp_directory = '{Path(spill).as_posix()}'")
        for name, frame in tables.items():
            con.register(name, frame)
        result = con.sql(_EXPLAIN, params=[before_days, after_days, duty_days, duty_days])
        columns = _fetch(result.to_arrow_reader(_CHUNK_ROWS), len(tables["acc"]))
    reason = columns.pop("reason")
    out = pd.DataFrame(
        {
            "access_id": columns.pop("access_id"),
            "staff_id": columns.pop("staff_id"),
            "person_id": columns.pop("person_id"),
            "role": columns.pop("role"),
            "reason": pd.Categorical.from_codes(reason.astype(np.int64) - 1, list(REASONS)),
            "explained": reason > 0,
            **columns,
        }
    )
    return AccessAudit(out)


#: DuckDB's working memory for the audit (it spills to a temporary folder beyond it).
_MEMORY_LIMIT = "4GB"

#: Rows fetched from DuckDB at a time: the audit of a year at a large system never sits in
#: memory twice (as DuckDB's result and as Python objects).
_CHUNK_ROWS = 1_000_000


def _fetch(reader, n: int) -> dict[str, np.ndarray]:
    """The audit query's rows, batch by batch, into one numpy array per column (``role`` as
    a categorical: a handful of names, not a Python string per access)."""
    out: dict[str, np.ndarray] = {}
    names: dict[str, int] = {}
    role = np.empty(n, np.int16)
    pos = 0
    for batch in reader:
        m = batch.num_rows
        for name, column in zip(batch.schema.names, batch.columns, strict=True):
            if name == "role":
                coded = column.dictionary_encode()
                seen = coded.dictionary.to_pylist()
                lookup = np.array([names.setdefault(v, len(names)) for v in seen], np.int16)
                role[pos : pos + m] = lookup[coded.indices.to_numpy(zero_copy_only=False)]
                continue
            if name == "reason":
                column = column.fill_null(0)
            values = column.to_numpy(zero_copy_only=False)
            if name not in out:
                out[name] = np.empty(n, values.dtype)
            out[name][pos : pos + m] = values
        pos += m
    if pos != n:
        raise RuntimeError(f"the audit returned {pos:,} rows for {n:,} accesses")
    order = sorted(names)
    recode = np.array([order.index(v) for v in names], np.int16)
    out["role"] = pd.Categorical.from_codes(recode[role] if n else role, order)
    return out


def rule_report(audit: AccessAudit, truth: pd.DataFrame | None = None) -> pd.DataFrame:
    """Each rule's hits, hit rate and the share of its hits a clinical reason explains.

    With ``truth`` (the log's ``truth`` table) it also gives the share of hits that are misuse
    and the share of misuse each rule catches.

    Examples
    --------
    >>> from healthlab import synth
    >>> people = synth.make_population(2_000, seed=3)
    >>> records = synth.make_clinical(people, facilities=synth.make_facilities(seed=3), seed=3)
    >>> log = synth.make_access_log(records, population=people, days=90, seed=3)
    >>> report = rule_report(explain_accesses(log, records), log["truth"])
    >>> list(report.columns)
    ['rule', 'hits', 'hit_rate', 'explained_share', 'misuse_share', 'misuse_caught']
    """
    acc = audit.accesses
    misuse = acc["access_id"].isin(truth["access_id"]) if truth is not None else None
    rows = []
    for rule in RULES:
        hit = acc[rule].to_numpy(bool)
        row = {
            "rule": rule,
            "hits": int(hit.sum()),
            "hit_rate": float(hit.mean()) if len(acc) else np.nan,
            "explained_share": float(acc["explained"][hit].mean()) if hit.any() else np.nan,
        }
        if misuse is not None:
            row["misuse_share"] = float(misuse[hit].mean()) if hit.any() else np.nan
            row["misuse_caught"] = float(hit[misuse].mean()) if misuse.any() else np.nan
        rows.append(row)
    return pd.DataFrame(rows)


def _aligned(audit: AccessAudit, log, column: str) -> np.ndarray:
    """The log's ``column`` for each row of the audit (both are in access order as made)."""
    acc = _as_tables(log)["accesses"]
    ids = audit.accesses["access_id"].to_numpy()
    own = acc["access_id"].to_numpy()
    values = acc[column]
    if len(own) == len(ids) and (own == ids).all():
        return values.to_numpy()
    order = np.argsort(own, kind="stable")
    at = np.minimum(np.searchsorted(own, ids, sorter=order), max(len(own) - 1, 0))
    if len(ids) and (not len(own) or (own[order[at]] != ids).any()):
        raise InvalidParameterError(
            "the audit names accesses the log does not have: audit the same log "
            "(explain_accesses(log, clinical)) that you pass here"
        )
    return values.to_numpy()[order[at]]


def _employee_days(audit: AccessAudit, log) -> tuple[pd.DataFrame, np.ndarray]:
    """One row per employee-day with its features, and each access's row in it."""
    acc = audit.accesses
    day = _aligned(audit, log, "time").astype("datetime64[D]").astype(np.int64)
    staff = acc["staff_id"].to_numpy(np.int64)
    first = int(day.min()) if len(day) else 0
    span = int(day.max()) - first + 1 if len(day) else 1
    groups, inverse = np.unique(staff * span + (day - first), return_inverse=True)
    inverse = inverse.reshape(-1).astype(np.int64)
    n = len(groups)
    count = np.bincount(inverse, minlength=n)

    def total(flags) -> np.ndarray:
        return np.bincount(inverse, weights=np.asarray(flags, float), minlength=n)

    action = pd.Categorical(_aligned(audit, log, "action"))
    out = np.isin(np.asarray(action.categories, dtype=object), ["print", "export"])
    printed = np.append(out, False)[action.codes]
    person = acc["person_id"].to_numpy(np.int64)
    width = int(person.max()) + 1 if len(person) else 1
    pairs = np.sort(inverse * width + person)  # a sort and a diff: faster than a hash set
    new = np.concatenate([[True], pairs[1:] != pairs[:-1]]) if len(pairs) else pairs > 0
    patients = np.bincount(pairs[new] // width, minlength=n)
    days = pd.DataFrame(
        {
            "staff_id": groups // span,
            "day": ((groups % span + first) * 86_400).astype("datetime64[s]"),
            "accesses": count,
            "patients": patients,
            "printed_or_exported": total(printed).astype(np.int64),
            "night_share": total(acc["after_hours"]) / count,
            "unexplained_share": total(~acc["explained"].to_numpy(bool)) / count,
            "other_workstation_share": total(acc["other_workstation"]) / count,
        }
    )
    return days, inverse


def employee_day_scores(audit: AccessAudit, log, *, seed: int = 0) -> pd.DataFrame:
    """An IsolationForest anomaly score per employee-day (higher is more unusual, 0 to 1).

    Examples
    --------
    >>> from healthlab import synth
    >>> people = synth.make_population(2_000, seed=3)
    >>> records = synth.make_clinical(people, facilities=synth.make_facilities(seed=3), seed=3)
    >>> log = synth.make_access_log(records, population=people, days=90, seed=3)
    >>> days = employee_day_scores(explain_accesses(log, records), log, seed=0)
    >>> bool(days["anomaly"].between(0, 1).all())
    True
    """
    days, _ = _employee_days(audit, log)
    return _scores(days, seed)


def _scores(days: pd.DataFrame, seed: int) -> pd.DataFrame:
    """``days`` with the IsolationForest ``anomaly`` of each employee-day (0 to 1)."""
    from sklearn.ensemble import IsolationForest

    features = days[
        ["accesses", "patients", "printed_or_exported", "night_share", "unexplained_share",
         "other_workstation_share"]
    ].to_numpy(float)  # fmt: skip
    features[:, :3] = np.log1p(features[:, :3])
    forest = IsolationForest(n_estimators=100, max_samples=min(len(days), 4096), random_state=seed)
    forest.fit(features)
    raw = -forest.score_samples(features)  # larger is more anomalous
    lo, hi = raw.min(), raw.max()
    days["anomaly"] = (raw - lo) / (hi - lo) if hi > lo else 0.0
    return days


@dataclass(frozen=True)
class ReviewQueue:
    """Accesses ranked by suspicion: ``queue`` has ``access_id``, ``score`` and ``reasons``.

    Examples
    --------
    >>> from healthlab import synth
    >>> from healthlab.privacy import review_queue
    >>> people = synth.make_population(500, seed=3)
    >>> records = synth.make_clinical(people, facilities=synth.make_facilities(seed=3), seed=3)
    >>> log = synth.make_access_log(records, population=people, days=30, seed=3)
    >>> queue = review_queue(log, records, seed=0)
    >>> top = queue.top(0.01)  # the first 1% of the accesses, most suspicious first
    >>> len(top) == -(-len(queue.queue) // 100), bool(top["score"].is_monotonic_decreasing)
    (True, True)
    """

    queue: pd.DataFrame

    def top(self, share: float) -> pd.DataFrame:
        """The first ``share`` of the queue (what a compliance officer would read)."""
        return self.queue.head(max(1, int(np.ceil(share * len(self.queue)))))

    def _repr_html_(self) -> str:
        return f"<p>{len(self.queue):,} accesses ranked</p>" + self.queue.head(10).to_html(
            index=False, float_format=lambda v: f"{v:.2f}"
        )


def review_queue(log, clinical, *, audit: AccessAudit | None = None, seed: int = 0) -> ReviewQueue:
    """Rank every access by suspicion, with the reasons behind its score.

    The score adds 2 for an access no reason explains, each tripped rule's weight (
    :data:`RULES`) and twice its employee-day's anomaly score; an explained access keeps a
    tenth of it. Ties keep log order.

    Examples
    --------
    >>> from healthlab import synth
    >>> people = synth.make_population(2_000, seed=3)
    >>> records = synth.make_clinical(people, facilities=synth.make_facilities(seed=3), seed=3)
    >>> log = synth.make_access_log(records, population=people, days=90, seed=3)
    >>> queue = review_queue(log, records, seed=0)
    >>> list(queue.queue.columns)
    ['access_id', 'staff_id', 'person_id', 'score', 'reasons']
    """
    audit = audit if audit is not None else explain_accesses(log, clinical)
    acc = audit.accesses
    days, day_of = _employee_days(audit, log)
    anomaly = _scores(days, seed)["anomaly"].to_numpy()[day_of]
    explained = acc["explained"].to_numpy(bool)
    score = 2.0 * ~explained + 2.0 * anomaly
    # Reasons as a bit mask per access, spelt out once per combination that occurs.
    mask = (~explained).astype(np.int64)
    for bit, (rule, weight) in enumerate(RULES.items(), start=1):
        hit = acc[rule].to_numpy(bool)
        score = score + weight * hit
        mask |= hit.astype(np.int64) << bit
    score = np.where(explained, score / 10, score)
    names = ["unexplained", *RULES]
    combos, codes = np.unique(mask, return_inverse=True)
    labels = [", ".join(n for b, n in enumerate(names) if int(c) >> b & 1) for c in combos]
    reasons = pd.array(np.asarray(labels, dtype=object), dtype="string")
    reasons = reasons.take(codes.reshape(-1)) if len(labels) else pd.array([], dtype="string")
    queue = pd.DataFrame(
        {
            "access_id": acc["access_id"].to_numpy(),
            "staff_id": acc["staff_id"].to_numpy(),
            "person_id": acc["person_id"].to_numpy(),
            "score": score,
            "reasons": pd.array(reasons, dtype="string"),
        }
    )
    queue = queue.sort_values("score", ascending=False, kind="stable").reset_index(drop=True)
    return ReviewQueue(queue)


def queue_quality(queue: ReviewQueue, truth: pd.DataFrame, *, shares=(0.001, 0.005, 0.01, 0.05)):
    """Recall of misuse and the workload at the top of the queue, against the truth.

    Examples
    --------
    >>> from healthlab import synth
    >>> people = synth.make_population(2_000, seed=3)
    >>> records = synth.make_clinical(people, facilities=synth.make_facilities(seed=3), seed=3)
    >>> log = synth.make_access_log(records, population=people, days=90, seed=3)
    >>> quality = queue_quality(review_queue(log, records), log["truth"])
    >>> list(quality.columns)
    ['top_share', 'accesses_to_read', 'misuse_found', 'recall', 'precision']
    """
    misuse = queue.queue["access_id"].isin(truth["access_id"]).to_numpy()
    total = misuse.sum()
    rows = []
    for share in shares:
        if not 0 < share <= 1:
            raise InvalidParameterError(f"each share must lie in (0, 1], got {share!r}")
        n = max(1, int(np.ceil(share * len(misuse))))
        found = int(misuse[:n].sum())
        rows.append(
            {
                "top_share": share,
                "accesses_to_read": n,
                "misuse_found": found,
                "recall": found / total if total else np.nan,
                "precision": found / n,
            }
        )
    return pd.DataFrame(rows)
