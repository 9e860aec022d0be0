"""Breaking down information barriers: harmonise, link, federate and exchange.

Hospital systems that do not share a schema are mapped to a common data model
(:func:`harmonise`, OMOP CDM v5.4 in DuckDB), their patients linked across systems
(:func:`link_systems`, probabilistic with splink, exact-key, or on keyed Bloom-filter
encodings), analysed together without pooling rows (:func:`federated_logistic`,
:func:`federated_summary`), and exchanged one patient at a time as FHIR R4B
(:func:`to_fhir_bundle`, :func:`read_fhir_bundle`).
"""

from healthlab.sharing.federated import compare_federated, federated_logistic, federated_summary
from healthlab.sharing.fhir import read_fhir_bundle, to_fhir_bundle

__all__ = [
    "compare_federated",
    "federated_logistic",
    "federated_summary",
    "read_fhir_bundle",
    "to_fhir_bundle",
]
