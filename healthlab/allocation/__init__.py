"""Allocation and equity of health resources.

- Equity: :func:`gini`, :func:`theil`, :func:`theil_decomposition`,
  :func:`concentration_index`, :func:`lorenz_curve`, :func:`concentration_curve`.
- Spatial accessibility: :func:`two_step_fca`, :func:`e2sfca`, with travel times from
  :func:`travel_times` (great-circle distance, detour and speed; :func:`haversine_km`).
- Queueing: :func:`erlang_b`, :func:`erlang_c`, :func:`mmc`, :func:`beds_needed`,
  :func:`simulate_ward`.
- Optimisation: :func:`allocate_resources` (beds and doctors under a budget).
- Forecasting: :func:`forecast_rates` (Poisson/negative-binomial GLM with a population offset)
  and :func:`forecast_sarimax`.
"""

from healthlab.allocation.access import (
    E2SFCA_STEPS,
    e2sfca,
    gaussian_decay,
    step_decay,
    two_step_fca,
)
from healthlab.allocation.equity import (
    TheilDecomposition,
    concentration_curve,
    concentration_index,
    gini,
    lorenz_curve,
    theil,
    theil_decomposition,
)
from healthlab.allocation.forecast import RateForecast, forecast_rates, forecast_sarimax
from healthlab.allocation.geo import EARTH_RADIUS_KM, haversine_km, travel_times
from healthlab.allocation.optimise import Allocation, allocate_resources
from healthlab.allocation.queueing import beds_needed, erlang_b, erlang_c, mmc, simulate_ward

__all__ = [
    "E2SFCA_STEPS",
    "EARTH_RADIUS_KM",
    "Allocation",
    "RateForecast",
    "TheilDecomposition",
    "allocate_resources",
    "beds_needed",
    "concentration_curve",
    "concentration_index",
    "e2sfca",
    "erlang_b",
    "erlang_c",
    "forecast_rates",
    "forecast_sarimax",
    "gaussian_decay",
    "gini",
    "haversine_km",
    "lorenz_curve",
    "mmc",
    "simulate_ward",
    "step_decay",
    "theil",
    "theil_decomposition",
    "travel_times",
    "two_step_fca",
]
