"""Tests of healthlab.allocation.geo: distances and travel-time tables."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from healthlab.allocation import e2sfca, haversine_km, travel_times
from healthlab.errors import InvalidParameterError


def test_haversine_matches_a_degree_of_latitude_and_is_symmetric():
    assert haversine_km(0, 0, 1, 0) == pytest.approx(111.195, rel=1e-4)
    a = haversine_km(30, 104, 39.9, 116.4)
    assert a == pytest.approx(haversine_km(39.9, 116.4, 30, 104))
    assert haversine_km(10, 20, 10, 20) == 0


def test_travel_times_keep_the_pairs_within_reach_in_chunks():
    rng = np.random.default_rng(0)
    towns = pd.DataFrame(
        {"origin": range(3000), "latitude": rng.uniform(29, 31, 3000),
         "longitude": rng.uniform(103, 105, 3000)}
    )  # fmt: skip
    clinics = pd.DataFrame(
        {"destination": range(900), "latitude": rng.uniform(29, 31, 900),
         "longitude": rng.uniform(103, 105, 900)}
    )  # fmt: skip
    every = travel_times(towns, clinics, max_minutes=None)
    near = travel_times(towns, clinics, max_minutes=30, speed_kmh=50, detour=1.2)
    assert len(every) == 3000 * 900
    assert near["cost"].max() <= 30 and len(near) < len(every)
    check = every.merge(near, on=["origin", "destination"], suffixes=("", "_near"))
    assert np.allclose(check["cost_near"], 1.2 * check["km"] / 50 * 60)
    demand = towns.assign(population=1000)[["origin", "population"]]
    supply = clinics.assign(capacity=10)[["destination", "capacity"]]
    access = e2sfca(demand, supply, near)
    assert len(access) == len(towns) and (access["access"] >= 0).all()


def test_travel_times_name_what_is_missing():
    with pytest.raises(InvalidParameterError, match="latitude"):
        travel_times(pd.DataFrame({"origin": [1]}), pd.DataFrame({"destination": [1]}))
    good = pd.DataFrame({"origin": [1], "latitude": [0.0], "longitude": [0.0]})
    with pytest.raises(InvalidParameterError, match="detour"):
        travel_times(good, good.rename(columns={"origin": "destination"}), detour=0.5)
