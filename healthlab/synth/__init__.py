"""Synthetic data generators: population, clinical records, and the worlds around them."""

from healthlab.synth.clinical import make_clinical
from healthlab.synth.population import make_population
from healthlab.synth.roster import make_roster

__all__ = ["make_clinical", "make_population", "make_roster"]
