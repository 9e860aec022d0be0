"""Building a dataset of any size into a folder of partitioned Parquet, on local cores or Dask.

The people are split into the generators' fixed blocks of 65,536; a *task* is a run of
consecutive blocks (``blocks_per_task``), and tasks go to an executor: local processes or the
workers of a Dask cluster. A task makes its blocks one at a time through the public
generators (:func:`healthlab.synth.make_population` with ``blocks=``, then
:func:`healthlab.synth.make_clinical` on those people), so a worker holds one block at a time
whatever the number of people, and the rows are those of one process making everything (the
block-seeding contract). Files are named by task, never by worker: the same arguments give the
same bytes however many workers made them.

A build is written into ``.<name>.partial`` beside the output folder; each task leaves a receipt
there when its files are in place. The manifest (every file with its rows and SHA-256) is
written last, and only then is the folder renamed to its final name: a folder with a manifest is
complete. A build that was killed is resumed by running it again: tasks with a receipt are
skipped, the others are made afresh.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import tempfile
import time
from collections.abc import Callable
from concurrent.futures import FIRST_EXCEPTION, wait
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from healthlab._blocks import BLOCK_SIZE  # the generators' unit of randomness: tasks are blocks
from healthlab.errors import ClusterError, InvalidParameterError, StoreError
from healthlab.platform import _tasks
from healthlab.platform._parts import PartWriter, write_json
from healthlab.platform.cluster import describe, executor
from healthlab.platform.store import MANIFEST, read_manifest

__all__ = ["BUILDS", "BuildReport", "build"]

#: What ``build`` can make: each name with the tables it writes.
BUILDS = {
    "population": ("population",),
    "clinical": ("population", "encounters", "diagnoses", "medications", "observations",
                 "outcomes", "person_years", "facilities", "risk_model"),
}  # fmt: skip

#: Blocks per task by default: the unit of work and of files (about 1 and 0.5 million people).
BLOCKS_PER_TASK = {"population": 16, "clinical": 8}

#: Partition keys of tables other than the clinical records (which have province and year).
_PARTITIONING = {"population": ["province"], "facilities": ["province"], "risk_model": []}


@dataclass
class BuildReport:
    """What a build made and how it ran.

    Examples
    --------
    >>> import tempfile
    >>> from healthlab import platform
    >>> with tempfile.TemporaryDirectory() as d:
    ...     report = platform.build("population", 1000, d + "/pop", workers=1, seed=3)
    ...     again = platform.build("population", 1000, d + "/pop", workers=1, seed=3)
    >>> report.name, report.people, report.rows, report.tasks, report.where
    ('population', 1000, {'population': 1000}, 1, 'this process')
    >>> again.tasks  # the same arguments again: the folder already holds this build
    0
    >>> print(report.summary())
    population: 1,000 rows
    1 tasks (0 resumed) on this process in ... s (... rows/s...); ... MiB on disk
    built in .../pop
    """

    path: Path
    name: str
    people: int
    rows: dict[str, int]
    bytes: int
    seconds: float
    where: str
    tasks: int
    resumed: int = 0
    #: The highest peak resident memory of any worker process (MiB).
    peak_mb: float | None = None
    receipts: list[dict] = field(default_factory=list, repr=False)

    @property
    def rows_per_second(self) -> float:
        return sum(self.rows.values()) / self.seconds if self.seconds else float("nan")

    def summary(self) -> str:
        """A few lines for the command line."""
        lines = [f"{t}: {n:,} rows" for t, n in self.rows.items()]
        if not self.tasks:
            lines.append(f"{self.path} already holds this build (same arguments): nothing to do")
            return "\n".join(lines)
        size = self.bytes / 2**20
        peak = "" if self.peak_mb is None else f", peak {self.peak_mb:,.0f} MiB per worker"
        lines.append(
            f"{self.tasks} tasks ({self.resumed} resumed) on {self.where} in {self.seconds:,.1f} s"
            f" ({self.rows_per_second:,.0f} rows/s{peak}); {size:,.1f} MiB on disk"
        )
        lines.append(f"built in {self.path}")
        return "\n".join(lines)


def _check(name, n_people, out, year, mess, blocks_per_task, seed) -> dict:
    from healthlab.synth import make_clinical, make_population

    if name not in BUILDS:
        raise InvalidParameterError(
            f"cannot build {name!r} block by block; choose one of {sorted(BUILDS)} "
            "(other datasets are small: `healthlab data build NAME --size SIZE`)"
        )
    if isinstance(n_people, bool) or not isinstance(n_people, int) or n_people < 1:
        raise InvalidParameterError(
            f"n_people must be a positive integer, got {n_people!r}; for example 10_000_000"
        )
    if out is None or not str(out):
        raise InvalidParameterError("out must be a folder to build into, for example 'hl-data'")
    bpt = BLOCKS_PER_TASK[name] if blocks_per_task is None else blocks_per_task
    if isinstance(bpt, bool) or not isinstance(bpt, int) or bpt < 1:
        raise InvalidParameterError(
            f"blocks_per_task must be a positive integer, got {blocks_per_task!r}"
        )
    # The generators check year, seed and mess; an empty population costs nothing.
    empty = make_population(0, year=year, seed=seed)
    probe = {"population": empty}
    if name == "clinical":
        probe.update(make_clinical(empty, mess=mess, seed=seed))
        probe["facilities"] = _tasks._facilities(seed)
    columns = {t: [str(c) for c in probe[t].columns] for t in BUILDS[name]}
    for table in BUILDS[name]:
        if "province" not in columns[table] and "person_id" in columns[table]:
            columns[table].append("province")  # each row placed by its person's province
    from healthlab import __version__

    blocks = -(-int(n_people) // BLOCK_SIZE)
    return {
        "name": name, "people": int(n_people), "year": int(year), "seed": int(seed),
        "mess": mess if name == "clinical" else None, "block_size": BLOCK_SIZE,
        "blocks": blocks, "blocks_per_task": bpt, "tasks": _tasks.layout(blocks, bpt),
        "tables": list(BUILDS[name]), "columns": columns, "version": __version__,
    }  # fmt: skip


def build(
    name: str,
    n_people: int,
    out,
    *,
    year: int = 2020,
    mess=True,
    workers: int | None = None,
    scheduler: str | None = None,
    blocks_per_task: int | None = None,
    force: bool = False,
    progress: Callable[[int, int], None] | None = None,
    seed: int = 0,
) -> BuildReport:
    """Build dataset ``name`` for ``n_people`` into ``out`` as Parquet partitioned by province.

    Tables are folders ``out/<table>/province=<name>/`` (clinical tables also ``year=<year>/``)
    of Parquet files, with ``out/manifest.json`` listing every file with its rows and SHA-256.
    Read them with :func:`healthlab.platform.connect`.

    Parameters
    ----------
    name : {"population", "clinical"}
        ``population`` writes the population table; ``clinical`` writes it too, with a year of
        clinical records (encounters, diagnoses, medications, observations, outcomes,
        person_years), the facilities they are routed to, and the ground-truth risk model, as
        the catalogue's ``clinical`` dataset makes them. Clinical tables gain the person's
        ``province`` where they lack it.
    n_people : int
        Number of people.
    out : str or pathlib.Path
        The folder to build; it must not exist, be empty, or hold an earlier build.
    year : int, default 2020
        The population's year (2020 to 2024); the clinical records cover it.
    mess : bool or dict, default True
        Mess in the clinical records (as :func:`healthlab.synth.make_clinical`).
    workers : int, optional
        Local worker processes; default the number of cores. Not with ``scheduler``.
    scheduler : str, optional
        Address of a Dask scheduler: run the tasks on its workers (which must see ``out``).
    blocks_per_task : int, optional
        Blocks of 65,536 people per task and per file (default 16 for population, 8 for
        clinical); the last tasks are smaller, so that workers finish together. Changes the
        files, never the rows.
    force : bool, default False
        Replace a complete earlier build with different arguments (else an error).
    progress : callable, optional
        Called as ``progress(people_done, people_total)`` as tasks finish.
    seed : int, default 0
        Seed of the generators; the same seed gives the same rows however the work is split.

    Returns
    -------
    BuildReport
        Rows per table, bytes, time, where it ran and the peak memory of the workers.

    Examples
    --------
    >>> import tempfile
    >>> from healthlab import platform
    >>> with tempfile.TemporaryDirectory() as d:
    ...     report = platform.build("population", 1000, d + "/pop", workers=1, seed=3)
    ...     con = platform.connect(d + "/pop")
    ...     con.execute("select count(*) from population").fetchone()[0]
    1000
    """
    plan = _check(name, n_people, out, year, mess, blocks_per_task, seed)
    out = Path(out).expanduser().absolute()
    began = time.perf_counter()
    with _lock(out):
        if (done := _existing(out, plan, force)) is not None:
            seconds = time.perf_counter() - began
            return _report(out, done, [], 0, seconds, "nothing (already built)")
        staging = _staging(out, plan)
        n_tasks = len(plan["tasks"])
        receipts = {t: r for t in range(n_tasks) if (r := _tasks.finished(staging, t))}
        resumed = len(receipts)
        if name == "clinical":
            _write_shared(staging, plan)
        todo = [t for t in range(n_tasks) if t not in receipts]
        where = "nothing (all tasks were done)"
        if todo:
            with executor(workers=workers, scheduler=scheduler) as pool:
                where = describe(pool)
                receipts.update(_run(pool, plan, todo, staging, progress))
        manifest = _finish(staging, out, plan, [receipts[t] for t in range(n_tasks)])
    seconds = time.perf_counter() - began
    return _report(out, manifest, list(receipts.values()), resumed, seconds, where)


@contextlib.contextmanager
def _lock(out: Path):
    """Hold ``.<name>.lock`` beside ``out``: two builds into one folder would spoil each other."""
    out.parent.mkdir(parents=True, exist_ok=True)
    path = out.parent / f".{out.name}.lock"
    try:
        import fcntl
    except ImportError:  # Windows: no lock; do not start two builds into one folder there
        yield
        return
    with open(path, "w") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise StoreError(
                f"another build into {out} is running (it holds {path}); wait for it to finish"
            ) from None
        try:
            yield
        finally:
            path.unlink(missing_ok=True)
            fcntl.flock(handle, fcntl.LOCK_UN)


def _run(pool, plan, todo, staging, progress) -> dict[int, dict]:
    """Submit the tasks in ``todo``; return their receipts. One failure stops the build."""
    people_of = {}
    for t in todo:
        first, last = _tasks.blocks_of(plan, t)
        people_of[t] = min(last * BLOCK_SIZE, plan["people"]) - first * BLOCK_SIZE
    done = plan["people"] - sum(people_of.values())
    futures = {pool.submit(_tasks.run_task, plan, t, str(staging)): t for t in todo}
    out, pending = {}, set(futures)
    while pending:
        finished, pending = wait(pending, return_when=FIRST_EXCEPTION)
        for future in finished:
            task = futures[future]
            try:
                out[task] = future.result()
            except Exception as err:
                for other in pending:
                    other.cancel()
                raise _task_error(task, plan, err) from err
            done += people_of[task]
            if progress is not None:
                progress(done, plan["people"])
    return out


def _task_error(task, plan, err) -> Exception:
    first, last = _tasks.blocks_of(plan, task)
    what = f"task {task} (blocks {first} to {last - 1}) failed: {type(err).__name__}: {err}"
    if isinstance(err, ModuleNotFoundError | ImportError):
        return ClusterError(f"{what}. Every worker needs healthlab installed, at the same version")
    return StoreError(f"{what}. Finished tasks are kept: run the same build again to resume")


def _write_shared(staging: Path, plan: dict) -> None:
    """The tables that are not made block by block: facilities and the risk model."""
    from healthlab.synth import make_clinical, make_population

    empty = make_population(0, year=plan["year"], seed=plan["seed"])
    categories = list(empty["province"].cat.categories)
    facilities = _tasks._facilities(plan["seed"])
    codes = pd.Categorical(facilities["province"], categories=categories).codes
    writer = PartWriter(staging, 0)
    writer.add("facilities", facilities.drop(columns="province"), codes, categories, None)
    risk = make_clinical(empty, mess=plan["mess"], seed=plan["seed"])["risk_model"]
    writer.add("risk_model", risk, None, None, None)
    receipt = {"task": "shared", "files": writer.close()}
    write_json(_tasks.receipt_path(staging, "shared"), receipt)


def _existing(out: Path, plan: dict, force: bool) -> dict | None:
    """The manifest of a complete build of the same plan at ``out``; refuse to clobber others."""
    if not out.exists():
        return None
    if not out.is_dir():
        raise StoreError(f"{out} is a file, not a folder; choose a folder to build into")
    manifest = read_manifest(out, missing_ok=True)
    if manifest is None:
        if any(out.iterdir()):
            raise StoreError(
                f"{out} is not empty and holds no healthlab build (no {MANIFEST}); choose a new "
                "or empty folder: a build never overwrites files it did not make"
            )
        return None
    if manifest.get("plan") == plan:
        return manifest
    if not force:
        raise StoreError(
            f"{out} holds a different build ({manifest['plan']['name']}, "
            f"{manifest['plan']['people']:,} people, seed {manifest['plan']['seed']}); "
            "pass force=True (--force) to replace it, or choose another folder"
        )
    return None


def _staging(out: Path, plan: dict) -> Path:
    """The partial folder beside ``out``: resumed when it was for the same plan, else fresh."""
    staging = out.parent / f".{out.name}.partial"
    plan_file = staging / "plan.json"
    try:
        same = json.loads(plan_file.read_text(encoding="utf-8")) == plan
    except (OSError, ValueError):
        same = False
    if not same:
        shutil.rmtree(staging, ignore_errors=True)
        staging.mkdir(parents=True)
        write_json(plan_file, plan)
    return staging


def _finish(staging: Path, out: Path, plan: dict, receipts: list[dict]) -> dict:
    """Write the manifest last, then move the build into place whole."""
    shared = _tasks.finished(staging, "shared") if plan["name"] == "clinical" else None
    files = [f for r in receipts for f in r["files"]] + (shared["files"] if shared else [])
    tables = {}
    for table in plan["tables"]:
        mine = sorted((f for f in files if f["file"].split("/", 1)[0] == table),
                      key=lambda f: f["file"])  # fmt: skip
        hive = bool(mine)
        if not mine:  # no rows at all (a handful of people): one empty file keeps the columns
            mine = _empty(staging, plan, table)
        tables[table] = {
            "partitioning": _PARTITIONING.get(table, ["province", "year"]),
            "hive": hive,
            "columns": plan["columns"][table],
            "rows": sum(f["rows"] for f in mine),
            "bytes": sum(f["bytes"] for f in mine),
            "files": mine,
        }
    manifest = {"format": 1, "plan": plan, "tables": tables}
    shutil.rmtree(staging / _tasks.RECEIPTS)
    (staging / "plan.json").unlink()
    write_json(staging / MANIFEST, manifest)
    old = None
    if out.exists():
        old = Path(tempfile.mkdtemp(prefix=f".{out.name}-old-", dir=out.parent))
        os.rmdir(old)
        os.replace(out, old)
    os.replace(staging, out)
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)
    return manifest


def _empty(staging: Path, plan: dict, table: str) -> list[dict]:
    from healthlab.synth import make_clinical, make_population

    empty = make_population(0, year=plan["year"], seed=plan["seed"])
    frame = empty if table == "population" else make_clinical(empty, seed=plan["seed"])[table]
    for key in _PARTITIONING.get(table, ["province", "year"]):
        frame = frame.assign(**{key: pd.Series(dtype="string" if key == "province" else "int32")})
    writer = PartWriter(staging, 0)
    writer.add(table, frame, None, None, None)
    return writer.close()


def _report(out, manifest, receipts, resumed, seconds, where) -> BuildReport:
    peaks = [r["peak_mb"] for r in receipts if r.get("peak_mb") is not None]
    tables = manifest["tables"]
    return BuildReport(
        path=out, name=manifest["plan"]["name"], people=manifest["plan"]["people"],
        rows={t: m["rows"] for t, m in tables.items()},
        bytes=sum(m["bytes"] for m in tables.values()), seconds=seconds, where=where,
        tasks=len(receipts) if receipts else 0, resumed=resumed,
        peak_mb=max(peaks) if peaks else None, receipts=receipts,
    )  # fmt: skip
