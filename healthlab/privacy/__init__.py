"""Privacy: re-identification risk, anonymisation, differential privacy, synthetic-data risk.

The work lives in modules of one concern each: ``risk`` (k, l, t, prosecutor, journalist and
marketer risk), ``attack`` (linkage), ``hierarchies``, ``generalize`` (full-domain
generalisation and suppression), ``lattice`` (optimal search), ``mondrian``,
``microaggregation``, ``audit`` (information loss), ``utility`` (workloads), ``dp``
(differential privacy with OpenDP), ``synthesizers`` (synthetic tables to attack),
``synthetic_risk`` (attacks on synthetic data), ``auditing`` (explanation-based auditing of
access logs, high-risk rules, anomaly scores, review queues) and ``security`` (data security
grading under GB/T 39725-2020).
"""

from healthlab.privacy.attack import LinkageResult, linkage_attack
from healthlab.privacy.audit import Anonymized, Audit
from healthlab.privacy.auditing import (
    AccessAudit,
    ReviewQueue,
    employee_day_scores,
    explain_accesses,
    queue_quality,
    review_queue,
    rule_report,
)
from healthlab.privacy.dp import (
    PrivacyBudget,
    PrivacyBudgetExceededError,
    PrivateTable,
    Release,
    privacy_utility_curve,
)
from healthlab.privacy.generalize import anonymize, generalize, suppress
from healthlab.privacy.hierarchies import (
    age_hierarchy,
    date_hierarchy,
    load_hierarchy,
    prefix_hierarchy,
    region_hierarchy,
)
from healthlab.privacy.lattice import SearchResult, optimal_generalization
from healthlab.privacy.microaggregation import microaggregate
from healthlab.privacy.mondrian import mondrian
from healthlab.privacy.risk import RiskReport, risk_report
from healthlab.privacy.security import data_grading, security_guide
from healthlab.privacy.synthesizers import synthesize
from healthlab.privacy.synthetic_risk import (
    AttackResult,
    inference_risk,
    linkability_risk,
    singling_out_risk,
)
from healthlab.privacy.utility import ModelUtility, StatisticError, model_utility, statistic_error

__all__ = [
    "AccessAudit",
    "Anonymized",
    "AttackResult",
    "Audit",
    "LinkageResult",
    "ModelUtility",
    "Release",
    "ReviewQueue",
    "RiskReport",
    "SearchResult",
    "StatisticError",
    "PrivacyBudget",
    "PrivacyBudgetExceededError",
    "PrivateTable",
    "age_hierarchy",
    "data_grading",
    "employee_day_scores",
    "explain_accesses",
    "anonymize",
    "date_hierarchy",
    "generalize",
    "inference_risk",
    "linkability_risk",
    "linkage_attack",
    "load_hierarchy",
    "microaggregate",
    "model_utility",
    "mondrian",
    "optimal_generalization",
    "prefix_hierarchy",
    "queue_quality",
    "review_queue",
    "privacy_utility_curve",
    "region_hierarchy",
    "risk_report",
    "rule_report",
    "security_guide",
    "singling_out_risk",
    "statistic_error",
    "suppress",
    "synthesize",
]
