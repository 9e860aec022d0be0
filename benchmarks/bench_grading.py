"""Grading speed: N submissions of a case-study notebook at ``tiny``, with 1 and 2 jobs.

Prints, for each number of jobs, the wall time of the whole ``grade`` run, and from the
gradebook the median per-submission times: building the student's data, the sandboxed run, the
notebook's own cells inside it, and the reference run.

What counts as what. The notebook's own run is its cells, imports included (a notebook that
imports pandas pays for it in any kernel). The per-submission overhead is the serial
(``--jobs 1``) wall time of the whole ``grade`` run divided by the number of submissions, minus
the notebook's own run, measured two ways: its cells alone (as timed inside the sandbox) and a
plain papermill run of the same notebook (papermill's own start and kernel start included) with
its data already built. Everything else counts as overhead: worker start, building each
student's data, the sandbox (its set-up, the runner, the student's kernel start), the reference
run, the gradebook and the feedback pages. Every submission is the solved notebook, so every
cell runs. Run it through the heavy-jobs lock:

    flock /tmp/healthlab-heavy.lock /usr/bin/time -v python benchmarks/bench_grading.py
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import nbformat

from healthlab import grading
from healthlab.grading.assign import inject_parameters, read_roster, student_parameters
from healthlab.grading.grade import needed_datasets
from healthlab.grading.gradebook import Gradebook

ROOT = Path(__file__).resolve().parent.parent


def load() -> str:
    return subprocess.run(["uptime"], capture_output=True, text=True).stdout.strip()


def solved(source: Path, values: dict) -> nbformat.NotebookNode:
    nb = nbformat.read(source, as_version=4)
    nb.metadata.pop("healthlab", None)
    return inject_parameters(nb, values)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--notebook", default=str(ROOT / "notebooks" / "00-tour.ipynb"))
    parser.add_argument("-n", type=int, default=100, help="submissions")
    parser.add_argument("--plain", type=int, default=5, help="plain papermill runs to time")
    parser.add_argument("--jobs", type=int, nargs="+", default=[1, 2], help="jobs to time")
    parser.add_argument(
        "--budget",
        type=float,
        help="minutes the --jobs 1 run may take: fewer submissions if N would take longer "
        "(estimated as the plain run plus 2 s each)",
    )
    args = parser.parse_args()
    source = Path(args.notebook)
    base = Path(tempfile.mkdtemp(prefix="bench-grading-"))
    os.environ["HEALTHLAB_HOME"] = str(base / "home")
    secret = base / "secret"
    secret.write_text("benchmark course secret")
    roster = base / "roster.csv"
    roster.write_text("student_id\n" + "".join(f"s{i:03d}\n" for i in range(args.n)))
    subs = base / "submissions"
    subs.mkdir()
    src = nbformat.read(source, as_version=4)
    params = {"size": "tiny"}
    values = {}
    for student in read_roster(roster):
        values[student.student_id] = student_parameters(
            src, student, secret.read_bytes(), assignment=source.stem, parameters=params
        )
        nbformat.write(
            solved(source, values[student.student_id]), subs / f"{student.student_id}.ipynb"
        )
    print(f"{args.n} submissions of {source.name} at tiny; isolation: {grading.isolation()[1]}")
    print(f"load before: {load()}")

    # The notebook's own run: plain papermill, kernel start included, data already built.
    import papermill

    from healthlab import datasets

    plain = []
    for sid in list(values)[: args.plain]:
        for name in needed_datasets(src):
            datasets.load(name, size="tiny", seed=values[sid]["seed"])
        folder = base / "plain" / sid
        folder.mkdir(parents=True)
        os.environ.update(HEALTHLAB_ANSWERS=str(folder / "a.jsonl"), MPLBACKEND="Agg")
        started = time.monotonic()
        papermill.execute_notebook(
            str(subs / f"{sid}.ipynb"),
            str(folder / "out.ipynb"),
            kernel_name="python3",
            cwd=str(folder),
            progress_bar=False,
        )
        plain.append(time.monotonic() - started)
    os.environ.pop("HEALTHLAB_ANSWERS", None)
    plain_run = statistics.median(plain) if plain else float("nan")
    if plain:
        print(f"plain papermill run (median of {len(plain)}): {plain_run:.2f} s")
    if args.budget and plain:
        estimate = (plain_run + 2.0) * args.n / 60
        fits = min(args.n, int(args.budget * 60 / (plain_run + 2.0)))
        if fits < args.n:
            print(
                f"{args.n} submissions at --jobs 1 would take about {estimate:.0f} min, over the "
                f"{args.budget:g} min budget: grading the first {fits} instead"
            )
            kept = sorted(values)[:fits]
            roster.write_text("student_id\n" + "".join(f"{sid}\n" for sid in kept))
            for sid in sorted(values)[fits:]:
                (subs / f"{sid}.ipynb").unlink()
            args.n = fits

    walls = {}
    for jobs in args.jobs:
        out = base / f"grades-{jobs}"
        started = time.monotonic()
        report = grading.grade(
            source,
            roster=roster,
            secret_file=secret,
            submissions=subs,
            out=out,
            parameters=params,
            jobs=jobs,
        )
        walls[jobs] = time.monotonic() - started
        assert len(report.graded) == args.n, report.summary()
        with Gradebook(out / "gradebook.sqlite") as book:
            students = book.students()
        assert all(s["total"] == s["max_total"] for s in students), "a solved notebook lost points"
        med = {
            k: statistics.median(s["timings"][k] for s in students)
            for k in ("prebuild", "sandbox", "cells", "reference")
        }
        print(
            f"\n--jobs {jobs}: {walls[jobs]:.1f} s for {args.n} ({walls[jobs] / args.n:.2f} s "
            f"per submission); load after: {load()}"
        )
        print("  median per submission: " + ", ".join(f"{k} {v:.2f} s" for k, v in med.items()))
        each = sum(s["seconds"] for s in students)
        rest = statistics.median(
            s["seconds"] - s["timings"]["sandbox"] - s["timings"]["reference"] for s in students
        )
        print(
            f"  one submission, all of it (median): "
            f"{statistics.median(s['seconds'] for s in students):.2f} s; "
            f"beyond the sandbox and the reference: {rest:.2f} s"
        )
        if jobs == 1:
            print(
                f"  the run beyond its submissions (worker and server starts, gradebook, "
                f"feedback): {walls[1] - each:.1f} s, {(walls[1] - each) / args.n:.2f} s each"
            )
        if jobs == 1:
            per = walls[1] / args.n
            print(
                f"  overhead (wall per submission minus the notebook's own run) beyond its cells: "
                f"{per - med['cells']:.2f} s; "
                f"beyond a plain papermill run: {per - plain_run:.2f} s"
            )
    if 1 in walls and 2 in walls:
        print(f"\nspeedup with 2 jobs: {walls[1] / walls[2]:.2f}x")


if __name__ == "__main__":
    sys.exit(main())
