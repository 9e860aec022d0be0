"""Privacy: re-identification risk, anonymisation, differential privacy, synthetic-data risk."""

from healthlab.privacy.audit import Anonymized, Audit
from healthlab.privacy.generalize import anonymize, generalize, suppress
from healthlab.privacy.hierarchies import (
    age_hierarchy,
    date_hierarchy,
    load_hierarchy,
    prefix_hierarchy,
    region_hierarchy,
)
from healthlab.privacy.risk import RiskReport, risk_report

__all__ = [
    "Anonymized",
    "Audit",
    "RiskReport",
    "age_hierarchy",
    "anonymize",
    "date_hierarchy",
    "generalize",
    "load_hierarchy",
    "prefix_hierarchy",
    "region_hierarchy",
    "risk_report",
    "suppress",
]
