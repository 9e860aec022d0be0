"""Benchmark healthlab.demography and healthlab.allocation at the sizes users care about.

Cases (each repeated ``--repeats`` times; the median wall time is printed):

- ``lifetables``: single-year life tables (0-100+) with Chiang's confidence interval for 31
  provinces x 2 sexes (62 tables) through ``life_table(..., by=[...])``;
- ``projection``: single-year, two-sex cohort-component projection 2020-2050 under three
  fertility scenarios;
- ``e2sfca``: E2SFCA for 5,000 places x 500 facilities (2.5 million origin-destination pairs);
- ``beds``: beds needed for a 1% turn-away probability in 100,000 wards (Erlang B bisection);
- ``allocate``: integer allocation of beds and doctors over 31 provinces, both objectives.

Inputs are seeded numpy tables made here, so the script needs nothing but healthlab.

Usage: ``python benchmarks/bench_demography_allocation.py [--case NAME] [--repeats 3]``
"""

from __future__ import annotations

import argparse
import statistics
import time

import numpy as np
import pandas as pd

from healthlab.allocation import allocate_resources, beds_needed, e2sfca
from healthlab.demography import life_table, project_scenarios


def _rates(rng, ages):
    return 0.00005 * np.exp(0.092 * ages) + np.where(ages == 0, 0.004, 0) + 0.0003


def case_lifetables(rng):
    ages = np.arange(101)
    rows = []
    for p in range(31):
        for sex, k in (("F", 0.8), ("M", 1.0)):
            exposure = rng.integers(20_000, 600_000, 101).astype(float)
            deaths = rng.poisson(_rates(rng, ages) * k * exposure)
            rows.append(pd.DataFrame({"province": p, "sex": sex, "age": ages,
                                      "deaths": deaths, "exposure": exposure}))  # fmt: skip
    data = pd.concat(rows, ignore_index=True)
    return lambda: life_table(data, by=["province", "sex"])


def case_projection(rng):
    ages = np.arange(101)
    base = pd.DataFrame({"age": np.tile(ages, 2), "sex": np.repeat(["F", "M"], 101),
                         "population": rng.integers(2e6, 1.2e7, 202).astype(float)})  # fmt: skip
    mort = base[["age", "sex"]].assign(mx=np.tile(_rates(rng, ages), 2))
    fert = pd.DataFrame({"age": np.arange(15, 50), "asfr": 0.04})
    scenarios = {"low": {"tfr": 0.9}, "medium": {"tfr": 1.1}, "high": {"tfr": 1.5}}
    return lambda: project_scenarios(base, scenarios, mortality=mort, fertility=fert,
                                     start_year=2020, end_year=2050,
                                     mortality_improvement=0.01)  # fmt: skip


def case_e2sfca(rng):
    n_o, n_d = 5000, 500
    o = pd.DataFrame({"origin": np.arange(n_o), "population": rng.integers(100, 20000, n_o)})
    d = pd.DataFrame({"destination": np.arange(n_d), "capacity": rng.integers(5, 500, n_d)})
    xy_o, xy_d = rng.uniform(0, 300, (n_o, 2)), rng.uniform(0, 300, (n_d, 2))
    dist = np.sqrt(((xy_o[:, None, :] - xy_d[None, :, :]) ** 2).sum(-1))
    cost = pd.DataFrame({"origin": np.repeat(o["origin"].to_numpy(), n_d),
                         "destination": np.tile(d["destination"].to_numpy(), n_o),
                         "cost": dist.ravel()})  # fmt: skip
    return lambda: e2sfca(o, d, cost)


def case_beds(rng):
    lam = rng.uniform(0.5, 300, 100_000)
    los = rng.uniform(3, 12, 100_000)
    return lambda: beds_needed(lam, los, target=0.01)


def case_allocate(rng):
    regions = pd.DataFrame({"region": [f"p{i}" for i in range(31)],
                            "population": rng.integers(3_000_000, 120_000_000, 31)})  # fmt: skip
    regions["beds"] = (regions["population"] * rng.uniform(4.5, 8.5, 31) / 1000).round()
    regions["beds_need"] = (regions["population"] * 7.2 / 1000).round()
    regions["doctors"] = (regions["population"] * rng.uniform(2.3, 5.1, 31) / 1000).round()
    regions["doctors_need"] = (regions["population"] * 3.6 / 1000).round()

    def run():
        for objective in ("unmet", "equity"):
            allocate_resources(regions, budget=2e6, unit_costs={"beds": 1.0, "doctors": 4.0},
                               objective=objective)  # fmt: skip

    return run


CASES = {
    "lifetables": case_lifetables,
    "projection": case_projection,
    "e2sfca": case_e2sfca,
    "beds": case_beds,
    "allocate": case_allocate,
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--case", choices=sorted(CASES), action="append")
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    for name in args.case or list(CASES):
        fn = CASES[name](np.random.default_rng(20240601))
        times = []
        for _ in range(args.repeats):
            start = time.perf_counter()
            fn()
            times.append(time.perf_counter() - start)
        print(f"{name:<12} median {statistics.median(times):8.3f} s over {args.repeats} runs")


if __name__ == "__main__":
    main()
