"""Benchmark the platform: big builds on 1 and 2 workers, and questions in DuckDB and pandas.

Cases (each build runs in its own process under ``/usr/bin/time -v``; the load average from
``uptime`` is printed beside every figure, since the machine may be shared):

- ``clinical``: ``healthlab.platform.build("clinical", people)`` (one year of records, with
  the facility choice model, as the catalogue's card) with 1 and with 2 local workers:
  seconds, speedup, rows per second, peak memory of the largest worker process, size on
  disk; and whether the two builds hold the same bytes (their manifests' checksums).
- ``population``: ``build("population", people)`` with the default workers: seconds, rows per
  second, peak memory per worker (goal: under 4 GB), size on disk.
- ``questions``: three typical questions on a clinical build, in DuckDB over the Parquet
  files (:func:`healthlab.platform.connect`) and in pandas reading the same files (only the
  columns each question needs); median of ``--repeats`` runs each, side by side. pandas
  loads the columns once per run and the load is part of its time, as DuckDB's reading is.

Usage::

    flock /tmp/healthlab-heavy.lock python benchmarks/bench_platform.py clinical \\
        --people 10000000 --dir DATA_DIR --questions
    flock /tmp/healthlab-heavy.lock python benchmarks/bench_platform.py population \\
        --people 100000000 --dir DATA_DIR

Builds are written under ``--dir`` (never in the repository) and deleted afterwards unless
``--keep`` (``questions`` alone reads a kept ``<dir>/clinical-2w``).
"""

from __future__ import annotations

import argparse
import json
import re
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

import numpy as np


def uptime() -> str:
    return subprocess.run(["uptime"], capture_output=True, text=True).stdout.strip()


def timed_build(name: str, people: int, out: Path, workers: int | None) -> dict:
    """Build in a child process under /usr/bin/time -v; the report and the peak memory."""
    script = (
        "import json, sys; from healthlab import platform; "
        f"r = platform.build({name!r}, {people}, {str(out)!r}, workers={workers}); "
        "print('REPORT=' + json.dumps({'seconds': r.seconds, 'rows': r.rows, 'bytes': r.bytes, "
        "'where': r.where, 'tasks': r.tasks, 'peak_mb': r.peak_mb, "
        "'task_peaks': sorted({x['pid']: x['peak_mb'] for x in r.receipts}.values())}))"
    )
    before = uptime()
    result = subprocess.run(
        ["/usr/bin/time", "-v", sys.executable, "-c", script], capture_output=True, text=True
    )
    if result.returncode != 0:
        sys.exit(f"build failed:\n{result.stdout}\n{result.stderr}")
    report = json.loads(result.stdout.split("REPORT=", 1)[1].splitlines()[0])
    peak = re.search(r"Maximum resident set size \(kbytes\): (\d+)", result.stderr)
    report["max_rss_mb"] = int(peak[1]) / 1024 if peak else float("nan")
    report["uptime_before"], report["uptime_after"] = before, uptime()
    return report


def show(label: str, r: dict) -> None:
    rows = sum(r["rows"].values())
    print(f"{label}: {r['seconds']:,.1f} s on {r['where']} ({r['tasks']} tasks); "
          f"{rows:,} rows, {rows / r['seconds']:,.0f} rows/s; "
          f"{r['bytes'] / 2**30:,.2f} GiB on disk")  # fmt: skip
    print(f"  peak memory per worker (ru_maxrss of each worker process): "
          f"{', '.join(f'{p:,.0f}' for p in r['task_peaks'])} MiB; largest process of the "
          f"build (/usr/bin/time -v): {r['max_rss_mb']:,.0f} MiB")  # fmt: skip
    print(f"  load before: {r['uptime_before']}\n  load after:  {r['uptime_after']}")
    for table, n in r["rows"].items():
        print(f"    {table:<14} {n:>14,} rows")


def checksums(folder: Path) -> dict:
    manifest = json.loads((folder / "manifest.json").read_text())
    tables = manifest["tables"].items()
    return {t: [(f["file"], f["sha256"]) for f in m["files"]] for t, m in tables}


def case_clinical(args) -> None:
    print(f"clinical, {args.people:,} people, one year; {uptime()}")
    two = timed_build("clinical", args.people, args.dir / "clinical-2w", 2)
    show("2 workers", two)
    if args.questions:  # on this build, before the 1-worker one (figures come as they are made)
        case_questions(args)
    one = timed_build("clinical", args.people, args.dir / "clinical-1w", 1)
    show("1 worker", one)
    print(f"speedup 1 -> 2 workers: {one['seconds'] / two['seconds']:.2f}x (goal >= 1.7x)")
    same = checksums(args.dir / "clinical-1w") == checksums(args.dir / "clinical-2w")
    print(f"same bytes with 1 and 2 workers: {same}")
    shutil.rmtree(args.dir / "clinical-1w")
    if not args.keep:
        shutil.rmtree(args.dir / "clinical-2w")


def case_population(args) -> None:
    print(f"population, {args.people:,} people; {uptime()}")
    out = args.dir / "population"
    r = timed_build("population", args.people, out, args.workers)
    show(f"{args.workers or 'default'} workers", r)
    print(f"peak under 4 GB per worker: {max(r['task_peaks']) < 4096}")
    if not args.keep:
        shutil.rmtree(out)


# --------------------------------------------------------------------------- questions

SQL = {
    "prevalence by province and age band": """
        select province, least(age // 10 * 10, 80) as band, count(*) as people,
               avg(diabetes::int) as diabetes, avg(hypertension::int) as hypertension
        from population group by 1, 2 order by 1, 2""",
    "admissions per 1,000 by month": """
        select month(admit_date) as month,
               1000.0 * count(*) / (select count(*) from population) as per_1000
        from encounters where encounter_type = 'inpatient' group by 1 order by 1""",
    "top 20 diagnoses by cost": """
        select d.icd10, any_value(d.description) as description, sum(e.cost_yuan) as cost
        from diagnoses d join encounters e using (encounter_id)
        where d.seq = 1 group by 1 order by 3 desc limit 20""",
}


def pandas_prevalence(folder: Path):
    import pandas as pd

    people = pd.read_parquet(folder / "population",
                             columns=["province", "age", "diabetes", "hypertension"])  # fmt: skip
    band = np.minimum(people["age"] // 10 * 10, 80).rename("band")
    g = people.groupby([people["province"].astype(str), band], observed=True)
    out = g.agg(people=("age", "size"), diabetes=("diabetes", "mean"),
                hypertension=("hypertension", "mean"))  # fmt: skip
    return out.reset_index()


def pandas_admissions(folder: Path):
    import pandas as pd
    import pyarrow.parquet as pq

    files = (folder / "population").rglob("*.parquet")
    n = sum(pq.ParquetFile(p).metadata.num_rows for p in files)
    enc = pd.read_parquet(folder / "encounters", columns=["encounter_type", "admit_date"],
                          filters=[("encounter_type", "==", "inpatient")])  # fmt: skip
    out = enc.groupby(enc["admit_date"].dt.month.rename("month")).size()
    return (1000.0 * out / n).rename("per_1000").reset_index()


def pandas_top_diagnoses(folder: Path):
    import pandas as pd

    diag = pd.read_parquet(folder / "diagnoses", columns=["encounter_id", "icd10", "description"],
                           filters=[("seq", "==", 1)])  # fmt: skip
    enc = pd.read_parquet(folder / "encounters", columns=["encounter_id", "cost_yuan"])
    joined = diag.merge(enc, on="encounter_id")
    g = joined.groupby(joined["icd10"].astype(str))
    out = g.agg(description=("description", "first"), cost=("cost_yuan", "sum"))
    return out.sort_values("cost", ascending=False).head(20).reset_index()


PANDAS = dict(zip(SQL, [pandas_prevalence, pandas_admissions, pandas_top_diagnoses]))


def case_questions(args) -> None:
    import resource

    from healthlab import platform

    folder = args.dir / "clinical-2w"
    manifest = platform.read_manifest(folder)
    rows = {t: m["rows"] for t, m in manifest["tables"].items()}
    print(f"questions on {folder} ({rows['population']:,} people, {rows['encounters']:,} "
          f"encounters, {rows['diagnoses']:,} diagnoses); median of {args.repeats}")  # fmt: skip
    print(f"  {uptime()}")
    for question, sql in SQL.items():
        duck, pand = [], []
        for _ in range(args.repeats):
            con = platform.connect(folder)
            start = time.perf_counter()
            a = con.sql(sql).df()
            duck.append(time.perf_counter() - start)
            con.close()
            start = time.perf_counter()
            b = PANDAS[question](folder)
            pand.append(time.perf_counter() - start)
        check = np.allclose(a.select_dtypes("number").to_numpy(float),
                            b[a.columns].select_dtypes("number").to_numpy(float))  # fmt: skip
        d, p = statistics.median(duck), statistics.median(pand)
        print(f"  {question:<38} DuckDB {d:7.2f} s   pandas {p:7.2f} s   "
              f"({p / d:4.1f}x)  same answer: {check}")  # fmt: skip
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"  peak memory of this process (mostly pandas): {peak:,.0f} MiB; {uptime()}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("case", choices=["clinical", "population", "questions"])
    parser.add_argument("--people", type=int, default=10_000_000)
    parser.add_argument("--workers", type=int, default=None)
    parser.add_argument("--dir", type=Path, default=Path("/tmp/healthlab-bench"))
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--keep", action="store_true", help="keep the builds for `questions`")
    parser.add_argument("--questions", action="store_true", help="clinical: also the questions")
    args = parser.parse_args()
    args.dir.mkdir(parents=True, exist_ok=True)
    print(f"disk: {shutil.disk_usage(args.dir).free / 2**30:,.0f} GiB free under {args.dir}")
    {"clinical": case_clinical, "population": case_population, "questions": case_questions}[
        args.case
    ](args)


if __name__ == "__main__":
    main()
