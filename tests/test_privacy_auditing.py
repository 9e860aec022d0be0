"""Auditing an access log against its truth: explanations, rules, anomalies, the review queue."""

from __future__ import annotations

import pytest

from healthlab import datasets, privacy
from healthlab.errors import InvalidParameterError


@pytest.fixture(scope="module")
def world():
    log = datasets.load("access_log", size="tiny")
    clinical = datasets.load("clinical", size="tiny")
    log = {t: log[t] for t in log.table_names}
    clinical = {t: clinical[t] for t in clinical.table_names}
    return log, clinical, privacy.explain_accesses(log, clinical)


def test_explanations_cover_care_and_not_misuse(world):
    log, _, audit = world
    misuse = audit.accesses["access_id"].isin(log["truth"]["access_id"])
    legit_explained = audit.accesses.loc[~misuse, "explained"].mean()
    misuse_explained = audit.accesses.loc[misuse, "explained"].mean()
    assert legit_explained >= 0.94
    assert misuse_explained < 0.05  # under 1% at medium (benchmarks/bench_access_log.py)
    reasons = set(audit.accesses["reason"].dropna())
    assert {"treating_department", "order", "role_duty"} <= reasons
    assert audit.summary()["explained_share"].between(0, 1).all()
    assert "explained" in audit._repr_html_()


def test_consultations_explain_the_consulted_department(world):
    log, clinical, _ = world
    without = dict(log, consultations=log["consultations"].iloc[:0])
    audit = privacy.explain_accesses(log, clinical)
    bare = privacy.explain_accesses(without, clinical)
    consulted = audit.accesses["reason"].eq("consultation")
    if consulted.any():
        assert not bare.accesses.loc[consulted.to_numpy(), "explained"].all() or (
            bare.accesses.loc[consulted.to_numpy(), "reason"].ne("consultation").all()
        )
    assert bare.explained_share <= audit.explained_share


def test_rule_report_shows_what_each_rule_costs(world):
    log, _, audit = world
    report = privacy.rule_report(audit, log["truth"]).set_index("rule")
    assert set(report.index) == set(privacy.auditing.RULES)
    # Night charting is legitimate: most after-hours hits have a clinical reason.
    assert report.loc["after_hours", "explained_share"] > 0.5
    # Same surname is common in China: most of its hits are care, not curiosity.
    assert report.loc["same_surname", "misuse_share"] < 0.5
    assert report.loc["volume", "misuse_caught"] > 0


def test_review_queue_puts_misuse_first(world):
    log, clinical, audit = world
    queue = privacy.review_queue(log, clinical, audit=audit, seed=0)
    assert queue.queue["score"].is_monotonic_decreasing
    quality = privacy.queue_quality(queue, log["truth"]).set_index("top_share")
    assert quality.loc[0.01, "recall"] >= 0.8
    assert quality["accesses_to_read"].is_monotonic_increasing
    top = queue.top(0.01)
    assert top.head(50)["reasons"].str.contains("unexplained").all()
    again = privacy.review_queue(log, clinical, audit=audit, seed=0)
    assert again.queue.equals(queue.queue)


def test_employee_day_scores(world):
    log, _, audit = world
    days = privacy.employee_day_scores(audit, log, seed=1)
    assert days["anomaly"].between(0, 1).all()
    misuse_staff = log["accesses"].loc[
        log["accesses"]["access_id"].isin(log["truth"]["access_id"]), "staff_id"
    ]
    flagged = days[days["staff_id"].isin(misuse_staff)]["anomaly"].mean()
    assert flagged > days["anomaly"].mean()


def test_a_log_without_its_tables_is_refused(world):
    log, clinical, _ = world
    with pytest.raises(InvalidParameterError, match="lacks the table 'staff'"):
        privacy.explain_accesses({"accesses": log["accesses"]}, clinical)
    with pytest.raises(InvalidParameterError, match="before_days"):
        privacy.explain_accesses(log, clinical, before_days=-1)
