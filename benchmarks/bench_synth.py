"""Benchmark the population and clinical generators; prints figures.

Cases (each run in its own process under ``/usr/bin/time -v`` for its peak memory, single
process, ``--repeats`` times, median reported):

- ``floor``: draw the random numbers one million people need, with the very calls the
  generator makes (``healthlab.synth.population.draws``: 18 uniforms and 5 normals a person),
  block by block from the same per-block streams: the floor.
- ``population``: ``make_population(1_000_000)``, after a first small call that solves and
  caches the model's lookup tables (its time is printed as ``cold``).
- ``clinical``: the clinical records of one million people for one year written to Parquet
  partitions (``write_clinical(population, folder)``); the population is built first, untimed.
- ``clinical_facilities``: the same, with every encounter routed to a facility by the choice
  model (``facilities=make_facilities()``, as the catalogue's ``clinical`` card does); the
  facilities are built first, untimed.
- ``clinical_memory``: the same records built in memory, then each table written to one
  Parquet file.
- ``e0``: life expectancy from the life table of 10 million synthetic people, 2020 and 2023,
  against the published figures (not timed).

Usage: ``python benchmarks/bench_synth.py [--case NAME] [--repeats 3] [--people 1000000]``
"""

from __future__ import annotations

import argparse
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

CASES = ("floor", "population", "clinical", "clinical_facilities", "clinical_memory")


def run_case(case: str, people: int) -> float:
    """Run one case in this process; return its wall time in seconds."""
    from healthlab._blocks import BLOCK_SIZE, block_rng
    from healthlab.synth import make_clinical, make_facilities, make_population, write_clinical
    from healthlab.synth.population import draws

    if case == "floor":
        start = time.perf_counter()
        for b in range(-(-people // BLOCK_SIZE)):
            draws(min(BLOCK_SIZE, people - b * BLOCK_SIZE), block_rng(0, "population", b))
        return time.perf_counter() - start
    if case == "population":
        start = time.perf_counter()
        make_population(1000, seed=1)  # one-time work: lookup tables solved and cached
        print(f"cold_seconds={time.perf_counter() - start:.4f}")
        start = time.perf_counter()
        make_population(people, seed=0)
        return time.perf_counter() - start
    population = make_population(people, seed=0)
    facilities = make_facilities(seed=0) if case == "clinical_facilities" else None
    folder = Path(tempfile.mkdtemp(prefix="bench-synth-"))
    try:
        start = time.perf_counter()
        if case in ("clinical", "clinical_facilities"):
            write_clinical(population, folder, facilities=facilities, seed=0)
        else:
            tables = make_clinical(population, seed=0)
            for name, frame in tables.items():
                frame.to_parquet(folder / f"{name}.parquet", index=False)
        elapsed = time.perf_counter() - start
        size = sum(p.stat().st_size for p in folder.rglob("*.parquet"))
        print(f"parquet_mb={size / 1e6:.1f}")
        return elapsed
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def life_expectancy_check(people: int) -> None:
    from healthlab.synth import checks, make_population
    from healthlab.synth._model import year_figures

    for year in (2020, 2023):
        start = time.perf_counter()
        frame = make_population(people, year=year, seed=0)
        built = time.perf_counter() - start
        e0 = checks.life_expectancy({"population": frame})
        target = year_figures(year)["e0"]
        print(f"e0 {year}: synthetic {e0:.2f}, target {target:.2f}, gap {e0 - target:+.2f} "
              f"({people:,} people, built in {built:.1f} s)")  # fmt: skip


def measure(case: str, people: int, repeats: int) -> tuple[float, float]:
    """Median wall time (s) and peak resident memory (MB) over ``repeats`` processes."""
    times, peaks = [], []
    for _ in range(repeats):
        cmd = ["/usr/bin/time", "-v", sys.executable, __file__, "--inner", case,
               "--people", str(people)]  # fmt: skip
        done = subprocess.run(cmd, capture_output=True, text=True, check=True)
        times.append(float(re.search(r"^seconds=([\d.]+)", done.stdout, re.M).group(1)))
        cold = re.search(r"cold_seconds=([\d.]+)", done.stdout)
        if cold:
            print(f"  (one-time table set-up in that process: {float(cold.group(1)):.2f} s)")
        rss = re.search(r"Maximum resident set size \(kbytes\): (\d+)", done.stderr)
        peaks.append(int(rss.group(1)) / 1024)
    return statistics.median(times), statistics.median(peaks)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--case", choices=[*CASES, "e0", "all"], default="all")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--people", type=int, default=1_000_000)
    parser.add_argument("--e0-people", type=int, default=10_000_000)
    parser.add_argument("--inner", choices=CASES, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.inner:
        print(f"seconds={run_case(args.inner, args.people):.4f}")
        return
    cases = CASES if args.case == "all" else (() if args.case == "e0" else (args.case,))
    results = {}
    for case in cases:
        results[case] = measure(case, args.people, args.repeats)
        seconds, peak = results[case]
        print(f"{case:16s} {seconds:8.3f} s   peak {peak:8.0f} MB   "
              f"({args.people:,} people, median of {args.repeats})")  # fmt: skip
    if "floor" in results and "population" in results:
        floor, pop = results["floor"][0], results["population"][0]
        per_million = pop * 1e6 / args.people
        print(f"population / floor = {pop / floor:.2f} (target <= 5); "
              f"{per_million:.2f} s per million people (target < 2)")  # fmt: skip
    if args.case in ("all", "e0"):
        life_expectancy_check(args.e0_people)


if __name__ == "__main__":
    main()
