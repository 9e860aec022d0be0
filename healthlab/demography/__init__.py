"""Demography of aging: life tables, health expectancy, age structure, projection, burden.

No maintained Python package builds abridged life tables, Sullivan health expectancies or
cohort-component projections, so healthlab carries its own, written to the textbook formulas
and tested against published tables.

- :func:`life_table` -- Chiang's period life table with a confidence interval for ``ex``.
- :func:`sullivan_hale` -- healthy (disability-free) life expectancy by the Sullivan method.
- :func:`dependency_ratios`, :func:`median_age` -- age structure.
- :func:`project_population`, :func:`project_scenarios` -- cohort-component projection.
- :func:`lee_carter` -- Lee-Carter fit and forecast of mortality.
- :func:`project_service_demand` -- future patients, admissions and beds.
- :func:`age_counts`, :func:`death_rates`, :func:`age_prevalence`, :func:`service_rates`,
  :func:`fertility_schedule` -- from one row per person to the tables above;
  :func:`open_age_with_deaths` -- the oldest open age group a small population allows.
- :func:`reverse_survive` -- earlier populations rebuilt from a later one.
"""

from healthlab.demography.burden import project_service_demand
from healthlab.demography.health import sullivan_hale
from healthlab.demography.leecarter import LeeCarter, lee_carter
from healthlab.demography.lifetable import life_table
from healthlab.demography.projection import project_population, project_scenarios
from healthlab.demography.rates import (
    age_counts,
    age_prevalence,
    death_rates,
    fertility_schedule,
    open_age_with_deaths,
    service_rates,
)
from healthlab.demography.reconstruct import reverse_survive
from healthlab.demography.structure import dependency_ratios, median_age

__all__ = [
    "LeeCarter",
    "age_counts",
    "age_prevalence",
    "death_rates",
    "dependency_ratios",
    "fertility_schedule",
    "lee_carter",
    "life_table",
    "median_age",
    "open_age_with_deaths",
    "project_population",
    "project_scenarios",
    "project_service_demand",
    "reverse_survive",
    "service_rates",
    "sullivan_hale",
]
