"""Synthetic data generators: population, clinical records, and the worlds around them.

Each ``make_*`` function takes its sizes first, everything else by keyword, and ``seed`` last;
the same seed gives the same rows on any machine and however the work is split.
"""

from healthlab.synth.access_log import make_access_log
from healthlab.synth.admissions import make_admissions_series
from healthlab.synth.clinical import make_clinical
from healthlab.synth.facilities import make_facilities
from healthlab.synth.identities import make_identities
from healthlab.synth.population import make_population
from healthlab.synth.roster import make_roster
from healthlab.synth.systems import make_hospital_systems, write_hospital_systems

__all__ = [
    "make_access_log",
    "make_admissions_series",
    "make_clinical",
    "make_facilities",
    "make_hospital_systems",
    "make_identities",
    "make_population",
    "make_roster",
    "write_hospital_systems",
]
