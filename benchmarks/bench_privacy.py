"""Benchmark healthlab.privacy at the sizes users care about; prints figures.

Cases (each in its own process under ``/usr/bin/time -v`` for its peak memory):

- ``risk5``: the full risk report (k, class profile, l, recursive (c,l), t, prosecutor) on 1
  million patients, 5 quasi-identifiers (sex, age, province, urban, education) and 1 sensitive
  attribute (diagnosis);
- ``riskdate``: the same at province-and-birth-date detail (province, birth date, sex): several
  hundred thousand classes;
- ``riskduckdb``: the province-and-birth-date report again, from a Parquet file through a DuckDB
  relation (the route for tables larger than memory);
- ``mondrian``: Mondrian at k=5 on the 1 million patients (age, sex, province, urban, education);
- ``mondriandate``: Mondrian at k=5 at province-and-birth-date detail (birth date, sex, province);
- ``linkage``: Sweeney's linkage attack of the 1 million patients against a roster of 70% of
  them on (province, birth date, sex);
- ``lattice``: the optimal full-domain search over the whole Adult lattice (8 quasi-identifiers,
  ARX's hierarchies), k=5, suppression limit 2%, for each metric.

Each case runs ``--repeats`` times and reports the median. The patients come from
``healthlab.synth.make_population`` when it exists with the needed columns, otherwise from a
seeded numpy table generated here (the output says which).

Usage: ``python benchmarks/bench_privacy.py [--case NAME] [--repeats 5]``
"""

from __future__ import annotations

import argparse
import importlib.resources
import re
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path

import numpy as np
import pandas as pd
import yaml

CASES = ("risk5", "riskdate", "riskduckdb", "mondrian", "mondriandate", "linkage", "lattice")
N = 1_000_000
ADULT = Path(__file__).resolve().parent.parent / "tests" / "data" / "adult-arx"
ADULT_QIS = [
    "sex", "age", "race", "marital-status", "education", "native-country", "workclass", "occupation"
]  # fmt: skip


def seeded_patients(n: int, seed: int = 0) -> pd.DataFrame:
    """A plausible synthetic patient table: provinces by census population, ages, diagnoses."""
    rng = np.random.default_rng(seed)
    figures = yaml.safe_load(
        (importlib.resources.files("healthlab") / "data" / "china.yaml").read_text("utf-8")
    )
    prov = {k: v for k, v in figures["province_population_2020"].items() if isinstance(v, int)}
    names = np.array(list(prov))
    weights = np.array(list(prov.values()), dtype=float)
    age = np.minimum(rng.gamma(4.0, 10.5, n).astype(np.int64), 100)
    birth = pd.Timestamp("2020-11-01") - pd.to_timedelta(
        age * 365 + rng.integers(0, 365, n), unit="D"
    )
    education = np.array(["none", "primary", "junior", "senior", "college", "university"])
    dx = np.array(["none", "hypertension", "diabetes", "copd", "stroke", "ckd", "cancer", "chd"])
    risk = np.clip(age / 100, 0, 1)
    p_none = 1 - 0.8 * risk
    pick = np.where(rng.random(n) < p_none, 0, rng.integers(1, len(dx), n))
    return pd.DataFrame(
        {
            "sex": rng.choice(["F", "M"], n, p=[0.4876, 0.5124]),
            "age": age,
            "birth_date": birth,
            "province": names[rng.choice(len(names), n, p=weights / weights.sum())],
            "urban": rng.random(n) < 0.6389,
            "education": education[rng.integers(0, len(education), n)],
            "diagnosis": dx[pick],
        }
    )


def patients() -> tuple[pd.DataFrame, str]:
    """The 1-million-patient table, from healthlab.synth when it can provide one."""
    try:
        from healthlab.synth import make_population

        people = make_population(N, seed=0)
        if isinstance(people, dict):
            people = next(iter(people.values()))
        needed = {"sex", "province", "birth_date", "age"}
        if needed <= set(people.columns):
            extra = seeded_patients(len(people))
            for col in ("urban", "education", "diagnosis"):
                if col not in people.columns:
                    people[col] = extra[col].to_numpy()
            return people, "healthlab.synth.make_population (missing columns filled by numpy)"
    except Exception:
        pass
    return seeded_patients(N), "a seeded numpy table made in this benchmark"


def peak_mib() -> float:
    """Peak resident memory of this process so far (Linux reports KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def timed(fn, repeats: int) -> tuple[float, object]:
    print(f"peak memory before the timed calls (data loaded): {peak_mib():.0f} MiB")
    times, out = [], None
    for _ in range(repeats):
        start = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - start)
    tracemalloc.start()  # once more, untimed: memory the call itself allocates (numpy is traced)
    fn()
    traced = tracemalloc.get_traced_memory()[1] / 2**20
    tracemalloc.stop()
    print(f"memory allocated at peak by one call: {traced:.0f} MiB")
    return statistics.median(times), times, out


def run_case(case: str, repeats: int) -> None:
    from healthlab.privacy import linkage_attack, mondrian, optimal_generalization, risk_report

    if case == "lattice":
        df = pd.read_csv(ADULT / "adult.csv", sep=";")
        h = {q: ADULT / f"adult_hierarchy_{q}.csv" for q in ADULT_QIS}
        for metric in ("discernibility", "ncp", "precision"):
            med, times, res = timed(
                lambda m=metric: optimal_generalization(df, h, 5, suppression_limit=0.02, metric=m),
                repeats,
            )
            print(
                f"lattice {metric}: median {med:.2f} s over {repeats} "
                f"({', '.join(f'{t:.2f}' for t in times)}); nodes {len(res.nodes)}, "
                f"optimum {list(res.levels.values())}, suppressed {res.audit.records_suppressed}"
            )
        return
    df, source = patients()
    print(f"data: {len(df):,} patients from {source}")
    if case == "risk5":
        qis, sens = ["sex", "age", "province", "urban", "education"], ["diagnosis"]
    elif case == "riskdate":
        qis, sens = ["province", "birth_date", "sex"], ["diagnosis"]
    if case == "riskduckdb":
        import duckdb

        qis, sens = ["province", "birth_date", "sex"], ["diagnosis"]
        folder = Path(tempfile.mkdtemp(prefix="healthlab-bench-"))
        df.to_parquet(folder / "patients.parquet")
        rel = duckdb.connect().read_parquet(str(folder / "patients.parquet"))
        med, times, r = timed(lambda: risk_report(rel, qis, sens), repeats)
        shutil.rmtree(folder, ignore_errors=True)
    elif case in ("risk5", "riskdate"):
        med, times, r = timed(lambda: risk_report(df, qis, sens), repeats)
    if case in ("risk5", "riskdate", "riskduckdb"):
        print(
            f"{case}: median {med:.2f} s over {repeats} ({', '.join(f'{t:.2f}' for t in times)}); "
            f"classes {r.classes:,}, k {r.k}, sample uniques {r.sample_uniques:,}, "
            f"l {r.l_distinct['diagnosis']}, t {r.t_closeness['diagnosis']:.3f}"
        )
    elif case == "linkage":
        df = df.assign(pid=np.arange(len(df)))
        roster = df.sample(frac=0.7, random_state=0)[["pid", "province", "birth_date", "sex"]]
        qis = ["province", "birth_date", "sex"]
        med, times, r = timed(
            lambda: linkage_attack(df, roster, qis, released_id="pid", roster_id="pid"), repeats
        )
        print(
            f"linkage: median {med:.2f} s over {repeats} ({', '.join(f'{t:.2f}' for t in times)}); "
            f"unique matches {r.unique:,}, correct {r.correct:,} "
            f"({r.reidentification_rate:.1%} of {r.n_released:,} re-identified)"
        )
    elif case in ("mondrian", "mondriandate"):
        qis = ["age", "sex", "province", "urban", "education"]
        if case == "mondriandate":
            qis = ["birth_date", "sex", "province"]
        med, times, r = timed(lambda: mondrian(df, qis, 5), repeats)
        print(
            f"{case} k=5: median {med:.2f} s over {repeats} "
            f"({', '.join(f'{t:.2f}' for t in times)}); classes {r.audit.classes:,}, "
            f"smallest {r.audit.smallest_class}, NCP {r.audit.ncp:.4f}"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--case", choices=CASES)
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    if args.case:
        run_case(args.case, args.repeats)
        return
    for case in CASES:
        cmd = ["/usr/bin/time", "-v", sys.executable, __file__, "--case", case]
        cmd += ["--repeats", str(args.repeats)]
        done = subprocess.run(cmd, capture_output=True, text=True, check=False)
        print(done.stdout.strip())
        peak = re.search(r"Maximum resident set size \(kbytes\): (\d+)", done.stderr)
        if done.returncode:
            print(done.stderr[-2000:])
        if peak:
            print(f"{case}: peak memory {int(peak.group(1)) / 1024:.0f} MiB (whole process)")


if __name__ == "__main__":
    main()
