"""Access logs at medium: generation time, and how well auditing finds the misuse.

Prints the time to generate a year of accesses for the medium clinical records, the explained
share of legitimate and of misuse accesses, each rule's hit rate and explained share, and the
share of misuse in the top of the review queue. Run with ``python benchmarks/bench_access_log.py
[size]`` (default medium); peak memory with ``/usr/bin/time -v``.
"""

from __future__ import annotations

import sys
import time

import pandas as pd

from healthlab import datasets, privacy, synth


def main(size: str = "medium", seed: int = 0) -> None:
    population = datasets.load("population", size=size, seed=seed).frame
    loaded = datasets.load("clinical", size=size, seed=seed)
    clinical = {t: loaded[t] for t in loaded.table_names}
    times = []
    for _ in range(3 if size != "medium" else 1):
        t0 = time.perf_counter()
        log = synth.make_access_log(clinical, population=population, seed=seed)
        times.append(time.perf_counter() - t0)
    n = len(log["accesses"])
    print(f"size {size}: {len(population):,} people, {len(clinical['encounters']):,} encounters")
    print(f"generate: {sorted(times)[len(times) // 2]:.1f} s (runs {[round(t, 1) for t in times]})")
    print(f"  {n:,} accesses, {len(log['staff']):,} staff, {len(log['truth']):,} misuse accesses")
    print(log["rates"].to_string(index=False))
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
    main(*sys.argv[1:2])
