"""Access logs at medium: generation time, and how well auditing finds the misuse.

Prints the time to generate a year of accesses for the medium clinical records (with a
progress bar), the staff it made, the explained share of legitimate and of misuse accesses,
each rule's hit rate and explained share, and the share of misuse in the top of the review
queue. Run with ``python benchmarks/bench_access_log.py [size] [--runs N] [--generate-only]``
(default medium, one run); peak memory with ``/usr/bin/time -v``.
"""

from __future__ import annotations

import argparse
import time

import pandas as pd
from tqdm import tqdm

from healthlab import datasets, privacy, synth


def generate(clinical, population, seed: int):
    """One generation with a progress bar; (log, wall seconds, CPU seconds)."""
    bar = tqdm(desc="access log", unit="step")

    def progress(done: int, total: int) -> None:
        bar.total = total
        bar.update(done - bar.n)

    t0, c0 = time.perf_counter(), time.process_time()
    log = synth.make_access_log(clinical, population=population, progress=progress, seed=seed)
    seconds, cpu = time.perf_counter() - t0, time.process_time() - c0
    bar.close()
    return log, seconds, cpu


def main(size: str = "medium", runs: int = 1, generate_only: bool = False, seed: int = 0):
    population = datasets.load("population", size=size, seed=seed).frame
    loaded = datasets.load("clinical", size=size, seed=seed)
    clinical = {t: loaded[t] for t in loaded.table_names}
    times, cpus, log = [], [], None
    for _ in range(runs):
        log = None  # one log in memory at a time
        log, seconds, cpu = generate(clinical, population, seed)
        times.append(seconds)
        cpus.append(cpu)
    n = len(log["accesses"])
    print(f"size {size}: {len(population):,} people, {len(clinical['encounters']):,} encounters")
    print(f"generate: {sorted(times)[len(times) // 2]:.1f} s (runs {[round(t, 1) for t in times]})")
    print(f"  CPU: {sorted(cpus)[len(cpus) // 2]:.1f} s (runs {[round(t, 1) for t in cpus]})")
    print(f"  {n:,} accesses, {len(log['staff']):,} staff, {len(log['truth']):,} misuse accesses")
    print("  staff by role:", log["staff"]["role"].value_counts().sort_index().to_dict())
    print(log["rates"].to_string(index=False))
    if generate_only:
        return
    t0 = time.perf_counter()
    audit = privacy.explain_accesses(log, clinical)
    print(f"explain: {time.perf_counter() - t0:.1f} s")
    misuse = audit.accesses["access_id"].isin(log["truth"]["access_id"])
    print(f"  legitimate explained: {audit.accesses.loc[~misuse, 'explained'].mean():.2%}")
    print(f"  misuse explained away: {audit.accesses.loc[misuse, 'explained'].mean():.2%}")
    with pd.option_context("display.width", 120):
        print(privacy.rule_report(audit, log["truth"]).round(4).to_string(index=False))
    t0 = time.perf_counter()
    queue = privacy.review_queue(log, clinical, audit=audit, seed=seed)
    print(f"review queue: {time.perf_counter() - t0:.1f} s")
    print(privacy.queue_quality(queue, log["truth"]).round(4).to_string(index=False))


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("size", nargs="?", default="medium")
    parser.add_argument("--runs", type=int, default=1, help="generations to time (median)")
    parser.add_argument("--generate-only", action="store_true", help="skip the auditing")
    args = parser.parse_args()
    main(args.size, args.runs, args.generate_only)
