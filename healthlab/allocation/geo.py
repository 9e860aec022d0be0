"""Distances and travel times between places, for spatial accessibility.

Floating-catchment methods (:func:`healthlab.allocation.e2sfca`) need a table of travel costs
from every demand point (a district's centre) to every supply point (a facility) within reach.
Without a road network, the great-circle distance times a detour factor over an average speed
is the usual first approximation; :func:`travel_times` builds that table, keeping only the
pairs within ``max_minutes`` so it stays small.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from healthlab._validation import check_frame, numeric, positive
from healthlab.errors import InvalidParameterError

__all__ = ["EARTH_RADIUS_KM", "haversine_km", "travel_times"]

#: Mean radius of the Earth (IUGG), in km.
EARTH_RADIUS_KM = 6371.0088


def haversine_km(lat1, lon1, lat2, lon2) -> np.ndarray:
    """Great-circle distance in km between points given in degrees (arrays broadcast).

    Examples
    --------
    >>> from healthlab.allocation import haversine_km
    >>> round(float(haversine_km(39.90, 116.40, 31.23, 121.47)))  # Beijing to Shanghai
    1067
    """
    p1, p2 = (
        np.radians(numeric(lat1, "lat1", allow_negative=True)),
        np.radians(numeric(lat2, "lat2", allow_negative=True)),
    )
    dlat = p2 - p1
    dlon = np.radians(numeric(lon2, "lon2", allow_negative=True)) - np.radians(
        numeric(lon1, "lon1", allow_negative=True)
    )
    a = np.sin(dlat / 2) ** 2 + np.cos(p1) * np.cos(p2) * np.sin(dlon / 2) ** 2
    return 2 * EARTH_RADIUS_KM * np.arcsin(np.sqrt(np.clip(a, 0.0, 1.0)))


def _points(frame, name: str, id_column: str) -> pd.DataFrame:
    check_frame(frame, name)
    missing = [c for c in (id_column, "latitude", "longitude") if c not in frame.columns]
    if missing:
        raise InvalidParameterError(
            f"{name} lacks the column(s) {missing}; give {id_column!r}, 'latitude', 'longitude'"
        )
    return frame


def travel_times(
    origins: pd.DataFrame,
    destinations: pd.DataFrame,
    *,
    speed_kmh: float = 40.0,
    detour: float = 1.3,
    max_minutes: float | None = 60.0,
    origin: str = "origin",
    destination: str = "destination",
) -> pd.DataFrame:
    """Travel time in minutes from each origin to each destination within reach.

    The time is ``detour * distance / speed``: the great-circle distance stretched by a
    detour factor (roads are not straight lines; about 1.2 to 1.4 in most road networks) at
    an average door-to-door speed.

    Parameters
    ----------
    origins, destinations : pandas.DataFrame
        Columns ``origin`` (or ``destination``), ``latitude`` and ``longitude`` (degrees).
    speed_kmh : float, default 40
        Average speed in km/h.
    detour : float, default 1.3
        Ratio of road distance to straight-line distance (at least 1).
    max_minutes : float, optional
        Keep only the pairs at most this far apart (``None`` keeps every pair).
    origin, destination : str
        Names of the id columns.

    Returns
    -------
    pandas.DataFrame
        ``origin``, ``destination``, ``km`` (straight line) and ``cost`` (minutes), the
        columns :func:`healthlab.allocation.e2sfca` reads.

    Examples
    --------
    >>> import pandas as pd
    >>> from healthlab.allocation import travel_times
    >>> towns = pd.DataFrame({"origin": ["a", "b"], "latitude": [30.0, 30.5],
    ...                       "longitude": [104.0, 104.0]})
    >>> clinics = pd.DataFrame({"destination": [1], "latitude": [30.1], "longitude": [104.0]})
    >>> travel_times(towns, clinics, max_minutes=60).round(1)
      origin  destination    km  cost
    0      a            1  11.1  21.7
    """
    o = _points(origins, "origins", origin)
    d = _points(destinations, "destinations", destination)
    speed = positive(speed_kmh, "speed_kmh")
    if not isinstance(detour, int | float) or detour < 1:
        raise InvalidParameterError(f"detour must be a number of at least 1, got {detour!r}")
    if max_minutes is not None:
        max_minutes = positive(max_minutes, "max_minutes")
    olat, olon = o["latitude"].to_numpy(float), o["longitude"].to_numpy(float)
    dlat, dlon = d["latitude"].to_numpy(float), d["longitude"].to_numpy(float)
    parts = []
    chunk = max(1, 2_000_000 // max(len(d), 1))  # bound the memory of the distance matrix
    for start in range(0, len(o), chunk):
        sl = slice(start, start + chunk)
        km = haversine_km(olat[sl, None], olon[sl, None], dlat[None, :], dlon[None, :])
        minutes = detour * km / speed * 60.0
        keep = np.ones_like(minutes, bool) if max_minutes is None else minutes <= max_minutes
        i, j = np.nonzero(keep)
        parts.append(
            pd.DataFrame(
                {
                    "origin": o[origin].to_numpy()[sl][i],
                    "destination": d[destination].to_numpy()[j],
                    "km": km[i, j],
                    "cost": minutes[i, j],
                }
            )
        )
    return pd.concat(parts, ignore_index=True)
