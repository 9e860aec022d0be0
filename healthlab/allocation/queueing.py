"""Queueing models of wards and clinics: Erlang B and C, M/M/c, beds for a target, simulation.

Patients arrive at random (a Poisson process of rate ``lambda``) and stay for an exponential
time of mean ``1/mu``; the offered load ``A = lambda / mu`` is the mean number of beds they would
occupy with no limit. With ``c`` beds:

- a *loss* ward turns away whoever finds every bed full (M/M/c/c). The probability is Erlang's
  B formula, ``B(c, A) = (A^c / c!) / sum_{k<=c} A^k / k!``, which is also the Poisson ratio
  ``P(N = c) / P(N <= c)`` for ``N ~ Poisson(A)`` -- the form used here, stable for thousands of
  beds. The occupancy is ``A (1 - B) / c``.
- a *waiting* ward queues them (M/M/c). The probability of waiting is Erlang's C formula,
  ``C = c B / (c - A (1 - B))`` for ``A < c``; the mean wait ``Wq = C / (c mu - lambda)``, the
  mean queue ``Lq = lambda Wq``, and ``P(wait > t) = C exp(-(c mu - lambda) t)``.

:func:`simulate_ward` checks these by discrete-event simulation with Ciw.
"""

from __future__ import annotations

import random

import numpy as np
import pandas as pd

from healthlab._validation import numeric, positive, probability
from healthlab.errors import InvalidParameterError

__all__ = ["beds_needed", "erlang_b", "erlang_c", "mmc", "simulate_ward"]


def _servers_load(servers, offered_load):
    c = np.asarray(servers)
    if c.dtype.kind not in "iuf" or (c != np.round(c)).any() or (c < 1).any():
        raise InvalidParameterError(
            f"servers must be whole numbers of at least 1, got {np.atleast_1d(c)[:3].tolist()}"
        )
    a = numeric(np.atleast_1d(offered_load), "offered_load").reshape(np.shape(offered_load))
    _broadcast(c, a, names=("servers", "offered_load"))
    return c.astype(float), a


def _broadcast(*arrays, names):
    """Broadcast arrays, or say clearly which lengths do not match."""
    try:
        return np.broadcast_arrays(*arrays)
    except ValueError:
        shapes = ", ".join(f"{n} {np.shape(a)}" for n, a in zip(names, arrays))
        raise InvalidParameterError(
            f"the inputs have mismatched lengths ({shapes}); give one value, or one per ward"
        ) from None


def _out(x, *inputs):
    return float(x) if all(np.ndim(i) == 0 for i in inputs) else x


def erlang_b(servers, offered_load):
    """Probability that an arrival finds every server busy and is turned away (Erlang B).

    Parameters
    ----------
    servers : int or array-like of int
        Number of servers (beds), at least 1.
    offered_load : float or array-like
        Offered load in erlangs, ``arrival_rate * mean_service_time``; broadcast with
        ``servers``.

    Returns
    -------
    float or numpy.ndarray

    References
    ----------
    Erlang AK. Solution of some problems in the theory of probabilities of significance in
    automatic telephone exchanges. Elektroteknikeren 1917;13:5-13.

    Examples
    --------
    >>> from healthlab.allocation import erlang_b
    >>> round(erlang_b(5, 4.0), 4)
    0.1991
    >>> erlang_b([1, 2], 1.0).round(4).tolist()
    [0.5, 0.2]
    """
    from scipy import stats

    c, a = _servers_load(servers, offered_load)
    with np.errstate(divide="ignore"):
        b = np.exp(stats.poisson.logpmf(c, a) - stats.poisson.logcdf(c, a))
    b = np.where(a == 0, 0.0, b)
    return _out(b, servers, offered_load)


def erlang_c(servers, offered_load):
    """Probability that an arrival has to wait in an M/M/c queue (Erlang C).

    Parameters
    ----------
    servers : int or array-like of int
        Number of servers (beds, doctors), at least 1.
    offered_load : float or array-like
        Offered load in erlangs; where it reaches ``servers`` the queue grows without bound and
        the probability is 1.

    Returns
    -------
    float or numpy.ndarray

    Examples
    --------
    >>> from healthlab.allocation import erlang_c
    >>> round(erlang_c(5, 4.0), 4)
    0.5541
    >>> erlang_c(2, 3.0)
    1.0
    """
    c, a = _servers_load(servers, offered_load)
    b = np.asarray(erlang_b(c, a))
    with np.errstate(divide="ignore", invalid="ignore"):
        p = np.where(a < c, c * b / (c - a * (1.0 - b)), 1.0)
    return _out(p, servers, offered_load)


def mmc(arrival_rate, mean_service_time, servers, *, wait_target=None) -> pd.DataFrame:
    """Waiting time and occupancy of an M/M/c queue, for one or many wards at once.

    Parameters
    ----------
    arrival_rate : float or array-like
        Arrivals per unit of time (for example admissions per day).
    mean_service_time : float or array-like
        Mean time in service, in the same unit (for example length of stay in days).
    servers : int or array-like of int
        Servers (beds, doctors).
    wait_target : float, optional
        Also report ``p_wait_within``, the probability of waiting no longer than this.

    Returns
    -------
    pandas.DataFrame
        One row per ward: ``arrival_rate``, ``mean_service_time``, ``servers``,
        ``offered_load``, ``utilisation`` (``A / c``), ``p_wait``, ``mean_wait``,
        ``mean_queue`` and ``mean_time_in_system``; waits are infinite where ``A >= c``.

    References
    ----------
    Gross D, Shortle JF, Thompson JM, Harris CM. Fundamentals of Queueing Theory. 4th ed.
    Wiley; 2008. Section 2.3.

    Examples
    --------
    >>> from healthlab.allocation import mmc
    >>> mmc(4.0, 1.0, 5)[["utilisation", "p_wait", "mean_wait"]].round(4)
       utilisation  p_wait  mean_wait
    0          0.8  0.5541     0.5541
    """
    lam = numeric(np.atleast_1d(arrival_rate), "arrival_rate")
    s = numeric(np.atleast_1d(mean_service_time), "mean_service_time")
    c = np.atleast_1d(servers)
    lam, s, c = _broadcast(lam, s, c, names=("arrival_rate", "mean_service_time", "servers"))
    if (s <= 0).any():
        raise InvalidParameterError("mean_service_time must be above 0")
    a = lam * s
    p = np.asarray(erlang_c(c, a), dtype=float).reshape(a.shape)
    mu = 1.0 / s
    with np.errstate(divide="ignore", invalid="ignore"):
        stable = a < c
        wq = np.where(stable, p / (c * mu - lam), np.inf)
    out = pd.DataFrame(
        {
            "arrival_rate": lam,
            "mean_service_time": s,
            "servers": c.astype(int),
            "offered_load": a,
            "utilisation": np.minimum(a / c, 1.0),
            "p_wait": p,
            "mean_wait": wq,
            "mean_queue": lam * wq,
            "mean_time_in_system": wq + s,
        }
    )
    if wait_target is not None:
        t = positive(wait_target, "wait_target", allow_zero=True)
        with np.errstate(invalid="ignore"):
            out["p_wait_within"] = np.where(stable, 1.0 - p * np.exp(-(c * mu - lam) * t), 0.0)
    return out


def beds_needed(
    arrival_rate, mean_length_of_stay, *, target: float = 0.05, model: str = "loss"
) -> pd.DataFrame:
    """Fewest beds that keep the probability of turning a patient away (or of waiting) low.

    Parameters
    ----------
    arrival_rate : float or array-like
        Admissions per day (for example by province).
    mean_length_of_stay : float or array-like
        Mean length of stay in days.
    target : float, default 0.05
        Largest acceptable probability.
    model : {"loss", "wait"}, default "loss"
        ``"loss"``: the probability that an arriving patient finds no bed (Erlang B);
        ``"wait"``: the probability that an arriving patient must wait (Erlang C).

    Returns
    -------
    pandas.DataFrame
        One row per input: ``arrival_rate``, ``mean_length_of_stay``, ``offered_load``,
        ``beds``, ``probability`` (at that number of beds) and ``occupancy`` (mean share of
        beds in use).

    Examples
    --------
    >>> from healthlab.allocation import beds_needed
    >>> beds_needed([4.0, 40.0], 1.0, target=0.01)[["offered_load", "beds", "probability"]]
       offered_load  beds  probability
    0           4.0    10     0.005308
    1          40.0    53     0.008227
    """
    if model not in ("loss", "wait"):
        raise InvalidParameterError(f"model must be 'loss' or 'wait', got {model!r}")
    eps = probability(target, "target")
    lam = numeric(np.atleast_1d(arrival_rate), "arrival_rate")
    los = numeric(np.atleast_1d(mean_length_of_stay), "mean_length_of_stay")
    lam, los = _broadcast(lam, los, names=("arrival_rate", "mean_length_of_stay"))
    a = lam * los
    f = erlang_b if model == "loss" else erlang_c
    # B and C fall as beds are added: bisection on the whole vector at once
    lo = np.zeros_like(a)  # f(lo) > target (lo = 0 means "no beds")
    hi = np.ceil(a + 10 * np.sqrt(a) + 10)
    while (bad := np.asarray(f(hi, a)) > eps).any():
        hi = np.where(bad, hi * 2, hi)
    while ((hi - lo) > 1).any():
        mid = np.floor((lo + hi) / 2)
        ok = np.asarray(f(np.maximum(mid, 1), a)) <= eps
        ok &= mid >= 1
        hi = np.where(ok, mid, hi)
        lo = np.where(ok, lo, mid)
    prob = np.asarray(f(hi, a), dtype=float)
    occupancy = a * (1 - np.asarray(erlang_b(hi, a))) / hi if model == "loss" else a / hi
    return pd.DataFrame(
        {
            "arrival_rate": lam,
            "mean_length_of_stay": los,
            "offered_load": a,
            "beds": hi.astype(np.int64),
            "probability": prob,
            "occupancy": occupancy,
        }
    )


def simulate_ward(
    arrival_rate: float,
    mean_service_time: float,
    servers: int,
    *,
    model: str = "wait",
    horizon: float = 2000.0,
    warmup: float = 200.0,
    replications: int = 10,
    conf_level: float = 0.95,
    seed: int = 0,
) -> pd.DataFrame:
    """Simulate a ward with Ciw and compare it with the Erlang formulas.

    Each replication runs an M/M/c queue (``model="wait"``) or an M/M/c/c loss ward
    (``model="loss"``) until ``horizon`` and discards arrivals before ``warmup``. Replications
    have their own random streams spawned from ``seed``; Ciw draws from Python's ``random``
    module and its own generator, whose states are saved before and restored after.

    Parameters
    ----------
    arrival_rate, mean_service_time : float
        Arrivals per unit of time and the mean stay, in the same unit.
    servers : int
        Beds (or doctors).
    model : {"wait", "loss"}, default "wait"
    horizon, warmup : float
        Length of each run and of its warm-up, in the same unit.
    replications : int, default 10
    conf_level : float, default 0.95
        Level of the t interval across replications.
    seed : int, default 0

    Returns
    -------
    pandas.DataFrame
        One row per measure: ``measure`` (``p_wait`` and ``mean_wait``, or ``p_turned_away``),
        ``mean``, ``lower``, ``upper`` (across replications) and ``theory`` (Erlang).

    References
    ----------
    Palmer GI, Knight VA, Harper PR, Hawa AL. Ciw: an open-source discrete event simulation
    library. J Simul 2019;13(1):68-82.

    Examples
    --------
    >>> from healthlab.allocation import simulate_ward
    >>> res = simulate_ward(4.0, 1.0, 5, model="loss", horizon=300, warmup=30,
    ...                     replications=3, seed=1)
    >>> res[["measure", "theory"]].round(4)
             measure  theory
    0  p_turned_away  0.1991
    """
    import ciw
    from scipy import stats

    if model not in ("wait", "loss"):
        raise InvalidParameterError(f"model must be 'wait' or 'loss', got {model!r}")
    lam = positive(arrival_rate, "arrival_rate")
    s = positive(mean_service_time, "mean_service_time")
    c = positive(servers, "servers", integer=True)
    h = positive(horizon, "horizon")
    w = positive(warmup, "warmup", allow_zero=True)
    reps = positive(replications, "replications", integer=True)
    level = probability(conf_level, "conf_level")
    if w >= h:
        raise InvalidParameterError(f"warmup ({w}) must be shorter than horizon ({h})")
    if reps < 2:
        raise InvalidParameterError("replications must be at least 2 for an interval")
    if model == "wait" and lam * s >= c:
        raise InvalidParameterError(
            f"offered load {lam * s:g} >= servers {c}: the queue grows without bound"
        )
    seeds = [int(ss.generate_state(1)[0]) for ss in np.random.SeedSequence(seed).spawn(reps)]
    network = ciw.create_network(
        arrival_distributions=[ciw.dists.Exponential(rate=lam)],
        service_distributions=[ciw.dists.Exponential(rate=1.0 / s)],
        number_of_servers=[c],
        queue_capacities=[0 if model == "loss" else float("inf")],
    )
    saved_random = random.getstate()
    saved_rng = getattr(ciw, "rng", None)
    rows = []
    try:
        for z in seeds:
            ciw.seed(z)
            sim = ciw.Simulation(network)
            sim.simulate_until_max_time(h)
            rec = pd.DataFrame(sim.get_all_records())
            rec = rec[rec["arrival_date"] >= w]
            if model == "loss":
                rows.append({"p_turned_away": (rec["record_type"] == "rejection").mean()})
            else:
                served = rec[rec["record_type"] == "service"]
                rows.append(
                    {
                        "p_wait": (served["waiting_time"] > 1e-12).mean(),
                        "mean_wait": served["waiting_time"].mean(),
                    }
                )
    finally:
        random.setstate(saved_random)
        if saved_rng is not None:
            ciw.rng = saved_rng
    reps_frame = pd.DataFrame(rows)
    t = stats.t.ppf(0.5 + level / 2, reps - 1)
    mean = reps_frame.mean()
    half = t * reps_frame.std(ddof=1) / np.sqrt(reps)
    if model == "loss":
        theory = {"p_turned_away": erlang_b(c, lam * s)}
    else:
        pw = erlang_c(c, lam * s)
        theory = {"p_wait": pw, "mean_wait": pw / (c / s - lam)}
    return pd.DataFrame(
        {
            "measure": list(mean.index),
            "mean": mean.to_numpy(),
            "lower": (mean - half).to_numpy(),
            "upper": (mean + half).to_numpy(),
            "theory": [theory[m] for m in mean.index],
        }
    )
