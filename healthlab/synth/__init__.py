"""Synthetic data generators: population, clinical records, and the worlds around them.

One dialect for every generator: the primary input comes first (a size such as ``n_people``,
or the data it builds on, such as ``population``), everything else by keyword, ``seed`` last.
``make_*`` returns the data; ``write_*`` writes it into a folder ``out`` and returns where it
wrote (a :class:`pathlib.Path`). Rates of errors and mess are overridden one way (``mess=``,
``noise=``): None or True for the defaults, False or 0 for none, a dict to change some. The
same seed gives the same rows on any machine and however the work is split.
"""

from healthlab.synth.access_log import make_access_log
from healthlab.synth.admissions import make_admissions_series
from healthlab.synth.clinical import make_clinical, write_clinical
from healthlab.synth.facilities import make_facilities
from healthlab.synth.identities import make_identities
from healthlab.synth.population import make_population, write_population
from healthlab.synth.roster import make_roster
from healthlab.synth.systems import (
    HospitalSystems,
    make_hospital_systems,
    system_paths,
    write_hospital_systems,
)

__all__ = [
    "make_access_log",
    "HospitalSystems",
    "make_admissions_series",
    "make_clinical",
    "make_facilities",
    "make_hospital_systems",
    "make_identities",
    "make_population",
    "make_roster",
    "system_paths",
    "write_clinical",
    "write_hospital_systems",
    "write_population",
]
