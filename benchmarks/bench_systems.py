"""Time to build the hospital systems at the medium size, and its peak memory.

Builds the medium population and its clinical records once (not timed) and saves them as
Parquet; then, in a fresh process per run, loads them and times
``write_hospital_systems(make_hospital_systems(population, clinical), out)`` (identities,
routing, noise, codes and the SQLite files). Prints the median of the runs and the peak
resident memory of one run as ``/usr/bin/time -v`` reports it (the process holds the inputs
too).

    python benchmarks/bench_systems.py            # medium: 1,000,000 people, 3 runs
    python benchmarks/bench_systems.py --people 50000 --runs 2
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

import pandas as pd


def build_inputs(people: int, folder: Path, seed: int) -> None:
    from healthlab.synth.population import make_population

    try:
        from healthlab.synth.clinical import make_clinical
    except ImportError:
        sys.exit("healthlab.synth.clinical.make_clinical is not available yet")
    t = time.perf_counter()
    pop = make_population(people, seed=seed)
    clinical = make_clinical(pop, seed=seed)
    print(f"inputs: {people:,} people in {time.perf_counter() - t:.1f} s "
          + ", ".join(f"{k} {len(v):,}" for k, v in clinical.items()))  # fmt: skip
    pop.to_parquet(folder / "population.parquet")
    for name in ("encounters", "diagnoses", "observations"):
        clinical[name].to_parquet(folder / f"{name}.parquet")


def once(folder: Path, out: Path, seed: int) -> None:
    from healthlab.synth.systems import make_hospital_systems, system_paths, write_hospital_systems

    pop = pd.read_parquet(folder / "population.parquet")
    clinical = {n: pd.read_parquet(folder / f"{n}.parquet")
                for n in ("encounters", "diagnoses", "observations")}  # fmt: skip
    t = time.perf_counter()
    hs = make_hospital_systems(pop, clinical, seed=seed)
    paths = system_paths(write_hospital_systems(hs, out))
    elapsed = time.perf_counter() - t
    size = sum(p.stat().st_size for p in paths.values()) / 1e6
    print(f"BUILD {elapsed:.3f} s, {len(hs.truth):,} patient records, {size:.0f} MB of SQLite")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--people", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--once", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--out", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.once:
        once(args.once, args.out, args.seed)
        return
    work = Path(tempfile.mkdtemp(prefix="healthlab-bench-systems-"))
    try:
        build_inputs(args.people, work, args.seed)
        times, peaks = [], []
        for run in range(args.runs):
            cmd = [sys.executable, __file__, "--once", str(work), "--out", str(work / f"out{run}"),
                   "--seed", str(args.seed)]  # fmt: skip
            timed = Path("/usr/bin/time").is_file()
            proc = subprocess.run((["/usr/bin/time", "-v"] if timed else []) + cmd,
                                  capture_output=True, text=True, check=True)  # fmt: skip
            line = next(x for x in proc.stdout.splitlines() if x.startswith("BUILD"))
            print(f"run {run + 1}: {line}")
            times.append(float(line.split()[1]))
            peak = re.search(r"Maximum resident set size \(kbytes\): (\d+)", proc.stderr)
            if peak:
                peaks.append(int(peak.group(1)) / 1024)
        print(f"median build time of {args.runs} runs: {statistics.median(times):.1f} s "
              f"({args.people:,} people)")  # fmt: skip
        if peaks:
            print(f"peak memory (max RSS of a run, inputs included): {max(peaks):,.0f} MB")
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
