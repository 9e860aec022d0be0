"""Breaking down information barriers: harmonise, link, federate and exchange.

Hospital systems that do not share a schema are mapped to a common data model
(:func:`harmonise`, OMOP CDM v5.4 in DuckDB), their patients linked across systems
(:func:`link_systems`; any tables with :func:`link_frames`: probabilistic with splink,
exact-key, or on keyed Bloom-filter encodings, scored by :func:`linkage_quality`, reviewed
with :func:`clerical_review`; :func:`attack_surnames` shows what a frequency attack on
Bloom encodings of names recovers), analysed together without pooling rows
(:func:`federated_logistic`, :func:`federated_summary`, :func:`compare_federated`), and
exchanged one patient at a time as FHIR R4B (:func:`to_fhir_bundle`,
:func:`read_fhir_bundle`).
"""

from healthlab.sharing.bloom_attack import attack_surnames
from healthlab.sharing.evaluate import LinkageQuality, clerical_review, linkage_quality
from healthlab.sharing.federated import compare_federated, federated_logistic, federated_summary
from healthlab.sharing.fhir import read_fhir_bundle, to_fhir_bundle
from healthlab.sharing.frames import LinkResult, link_frames
from healthlab.sharing.harmonise import Harmonised, harmonise
from healthlab.sharing.link import link_systems

__all__ = [
    "Harmonised",
    "LinkResult",
    "LinkageQuality",
    "attack_surnames",
    "clerical_review",
    "compare_federated",
    "federated_logistic",
    "federated_summary",
    "harmonise",
    "link_frames",
    "link_systems",
    "linkage_quality",
    "read_fhir_bundle",
    "to_fhir_bundle",
]
