"""`healthlab run`: each notebook's time, serial against two jobs, and the per-notebook overhead.

Prints (1) the overhead of one notebook run on an empty notebook (a parameters cell only):
kernel start plus papermill, and the HTML rendering apart, median of several runs; (2) every
notebook at ``small`` run one at a time, each one's time; (3) all of them with ``--jobs 2``.
Goals: overhead under 2 s; all notebooks at small under 3 minutes with 2 jobs. Run with
``python benchmarks/bench_runs.py [size] [repeats]`` under ``flock /tmp/healthlab-heavy.lock``;
it prints ``uptime`` beside the figures.
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import nbformat

from healthlab import runs


def _empty_notebook(folder: Path) -> Path:
    nb = nbformat.v4.new_notebook(
        cells=[
            nbformat.v4.new_code_cell(
                'seed = 0  # the seed\nsize = "small"  # how big',
                metadata={"tags": ["parameters"]},
            )
        ]
    )
    nb.metadata["kernelspec"] = {
        "name": "python3",
        "display_name": "Python 3",
        "language": "python",
    }
    path = folder / "empty.ipynb"
    nbformat.write(nb, path)
    return path


def overhead(repeats: int) -> None:
    import papermill
    from nbconvert import HTMLExporter

    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        path = _empty_notebook(tmp)
        runs.run_notebook(runs.RunTask(str(path), str(tmp / "warm")))  # imports, caches
        whole, kernel, render = [], [], []
        for i in range(repeats):
            t0 = time.perf_counter()
            result = runs.run_notebook(runs.RunTask(str(path), str(tmp / f"r{i}")))
            whole.append(time.perf_counter() - t0)
            assert result.passed, result.error
            t0 = time.perf_counter()
            papermill.execute_notebook(
                str(path), str(tmp / "pm.ipynb"), progress_bar=False, kernel_name="python3"
            )
            kernel.append(time.perf_counter() - t0)
            t0 = time.perf_counter()
            HTMLExporter(template_name="lab").from_filename(str(tmp / "pm.ipynb"))
            render.append(time.perf_counter() - t0)
    med = statistics.median
    print(f"overhead per notebook, empty notebook, median of {repeats}:")
    print(f"  kernel start + papermill   {med(kernel):5.2f} s  (runs {_r(kernel)})")
    print(f"  HTML rendering (nbconvert) {med(render):5.2f} s  (runs {_r(render)})")
    print(f"  run_notebook, all of it    {med(whole):5.2f} s  (runs {_r(whole)})")


def _r(values) -> list[float]:
    return [round(v, 2) for v in values]


def warm(size: str) -> None:
    """Build the catalogue's datasets first, so that no notebook's time includes a build."""
    from healthlab import datasets

    t0 = time.perf_counter()
    for name in datasets.list_datasets():
        if size in datasets.card(name)["sizes"]:
            datasets.load(name, size=size)
    print(f"\ncache warmed ({size}): {time.perf_counter() - t0:.1f} s")


def notebooks(size: str) -> None:
    warm(size)
    with tempfile.TemporaryDirectory() as tmp:
        serial = runs.run_notebooks(size=size, jobs=1, out=Path(tmp) / "serial")
        print(f"\nevery notebook at {size}, one at a time ({len(serial.results)} notebooks):")
        for r in serial.results:
            print(f"  {r.name:<32} {r.seconds:6.1f} s  {r.status}")
        print(f"  total (wall, like `make run` --jobs 1)  {serial.seconds:6.1f} s")
        parallel = runs.run_notebooks(size=size, jobs=2, out=Path(tmp) / "jobs2")
        print(f"\nthe same with --jobs 2: {parallel.seconds:.1f} s wall")
        for r in parallel.results:
            print(f"  {r.name:<32} {r.seconds:6.1f} s  {r.status}")
        print(f"speed-up: {serial.seconds / parallel.seconds:.2f}x")


def main() -> None:
    size = sys.argv[1] if len(sys.argv) > 1 else "small"
    repeats = int(sys.argv[2]) if len(sys.argv) > 2 else 5
    print("load:", subprocess.run(["uptime"], capture_output=True, text=True).stdout.strip())
    print(f"cores: {os.cpu_count()}")
    overhead(repeats)
    notebooks(size)
    print("load:", subprocess.run(["uptime"], capture_output=True, text=True).stdout.strip())


if __name__ == "__main__":
    main()
