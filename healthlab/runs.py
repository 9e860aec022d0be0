"""Run case-study notebooks with papermill, each in its own kernel, and write the run report.

:func:`run_notebooks` fans the notebooks out over a :class:`concurrent.futures.Executor` (a
process pool by default; a Dask ``Client.get_executor()`` works the same way, given a shared
folder). Each task is :func:`run_notebook`, a top-level function of one picklable
:class:`RunTask`; it executes the notebook with papermill in a fresh kernel whose environment
sets ``HEALTHLAB_ANSWERS`` to the run's own answers file, renders it to HTML with nbconvert and
returns a :class:`RunResult`. A failing notebook is a result like any other: it never stops the
others. The ``--out`` folder then holds::

    index.html          the report: status, duration, parameters, answers, links
    results.json        the same, for tools
    notebooks/NAME.ipynb   executed notebooks
    html/NAME.html      their renderings
    answers/NAME.jsonl  the answers each recorded
"""

from __future__ import annotations

import json
import os
import re
import time
from concurrent.futures import Executor, ProcessPoolExecutor, as_completed
from dataclasses import asdict, dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from healthlab.errors import InvalidParameterError

__all__ = [
    "RunReport",
    "RunResult",
    "RunTask",
    "find_notebooks",
    "longest_first",
    "notebooks_dir",
    "parse_parameter",
    "past_seconds",
    "run_notebook",
    "run_notebooks",
    "run_tasks",
]

KERNEL = "python3"
# A kernel that exits before it answers has run none of the notebook, so starting it again is
# safe. It happens now and then when several start at once: the ports the manager picked were
# free when it looked and taken (by another kernel or an outgoing connection) when the kernel
# bound them. Three tries make a lost race vanishingly rare; a kernel that cannot start at all
# still fails, with its own last words in the report.
START_ATTEMPTS = 3
_DIED_AT_START = "Kernel died before replying to kernel_info"
_ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")


def notebooks_dir() -> Path:
    """The case-study notebooks: ``$HEALTHLAB_NOTEBOOKS``, else the source tree's ``notebooks/``.

    Examples
    --------
    >>> notebooks_dir().name
    'notebooks'
    """
    configured = os.environ.get("HEALTHLAB_NOTEBOOKS")
    if configured:
        return Path(configured).expanduser()
    tree = Path(__file__).resolve().parent.parent / "notebooks"
    return tree if tree.is_dir() else Path.cwd() / "notebooks"


def find_notebooks(
    names: list[str] | tuple[str, ...] = (), folder: Path | None = None
) -> list[Path]:
    """The notebooks to run: paths as given, or names (or their number prefix) in ``folder``.

    With no names, every ``*.ipynb`` in the folder, in reading order.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> d = pathlib.Path(tempfile.mkdtemp())
    >>> for n in ("00-tour", "01-population-aging"): _ = (d / f"{n}.ipynb").write_text("{}")
    >>> [p.name for p in find_notebooks(["01"], d)], len(find_notebooks([], d))
    (['01-population-aging.ipynb'], 2)
    """
    folder = Path(folder) if folder is not None else notebooks_dir()
    available = sorted(folder.glob("*.ipynb")) if folder.is_dir() else []
    if not names:
        if not available:
            raise InvalidParameterError(f"no notebooks (*.ipynb) in {folder}")
        return available
    found = []
    for name in names:
        path = Path(name)
        if path.suffix == ".ipynb" and path.exists():
            found.append(path)
            continue
        stem = path.stem if path.suffix == ".ipynb" else name
        matches = [p for p in available if p.stem == stem] or [
            p for p in available if p.stem.startswith(f"{stem}-")
        ]
        if len(matches) != 1:
            known = ", ".join(p.stem for p in available) or "(none)"
            what = "matches several" if matches else "is not a notebook path or name"
            raise InvalidParameterError(f"{name!r} {what}; the notebooks in {folder}: {known}")
        found.append(matches[0])
    return found


def parse_parameter(text: str) -> tuple[str, Any]:
    """``name=value`` from the command line; the value is read as YAML (``2`` is a number).

    Examples
    --------
    >>> parse_parameter("seed=3"), parse_parameter("scenario=low"), parse_parameter("x=[1, 2]")
    (('seed', 3), ('scenario', 'low'), ('x', [1, 2]))
    """
    import yaml

    name, sep, value = text.partition("=")
    if not sep or not name.strip().isidentifier():
        raise InvalidParameterError(f"-p {text!r}: give a parameter as name=value, e.g. -p seed=3")
    try:
        return name.strip(), yaml.safe_load(value)
    except yaml.YAMLError:
        return name.strip(), value


@dataclass(frozen=True)
class RunTask:
    """One notebook to run: everything a worker needs, picklable.

    Examples
    --------
    >>> from healthlab.runs import RunTask
    >>> task = RunTask("notebooks/01-population-aging.ipynb", "runs/today", {"size": "tiny"})
    >>> task.name, task.kernel, task.timeout
    ('01-population-aging', 'python3', None)
    >>> RunTask(task.source, task.out, {"size": "small"}, label="aging-small").name
    'aging-small'
    """

    source: str
    out: str
    parameters: dict[str, Any] = field(default_factory=dict)
    timeout: float | None = None
    kernel: str = KERNEL
    label: str | None = None  # the name of its files; default the notebook's name

    @property
    def name(self) -> str:
        return self.label or Path(self.source).stem


@dataclass
class RunResult:
    """What happened to one notebook (paths relative to the run folder).

    Examples
    --------
    A notebook that cannot run is a result too, with the error that stopped it:

    >>> import pathlib, tempfile, nbformat
    >>> from healthlab.runs import RunTask, run_notebook
    >>> tmp = tempfile.TemporaryDirectory()
    >>> source = pathlib.Path(tmp.name) / "hello.ipynb"
    >>> nbformat.write(nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("1 + 1")]), source)
    >>> result = run_notebook(RunTask(str(source), tmp.name, kernel="no-such-kernel"))
    >>> result.name, result.status, result.passed, result.error["ename"]
    ('hello', 'failed', False, 'NoSuchKernel')
    >>> result.output, result.answers_file
    ('notebooks/hello.ipynb', 'answers/hello.jsonl')
    >>> tmp.cleanup()
    """

    name: str
    source: str
    status: str  # "passed" or "failed"
    seconds: float
    parameters: dict[str, Any]
    output: str
    html: str | None
    answers_file: str
    answers: dict[str, Any] = field(default_factory=dict)
    checks: dict[str, dict] = field(default_factory=dict)  # qid -> {"ok", "text", "points"}
    missing: list[str] = field(default_factory=list)  # declared but not answered
    error: dict[str, Any] | None = None  # cell, source, ename, evalue, traceback

    @property
    def passed(self) -> bool:
        return self.status == "passed"


def _kernel_manager(env: dict[str, str], cwd: Path):
    """A kernel-manager class whose kernels get ``env`` and ``cwd``, not this process's.

    Setting them per kernel, rather than in ``os.environ``, keeps runs that share a process
    (threads of a Dask worker) apart. The kernel's own stderr goes to ``cwd/kernel.log``.
    """
    from jupyter_client.manager import AsyncKernelManager

    class RunKernelManager(AsyncKernelManager):
        async def start_kernel(self, **kw):
            kw["env"] = {**os.environ, **kw.get("env", {}), **env}
            kw.setdefault("cwd", str(cwd))
            with open(cwd / "kernel.log", "ab") as log:  # the child keeps its own copy
                kw.setdefault("stderr", log)
                kw.setdefault("stdout", log)
                return await AsyncKernelManager.start_kernel(self, **kw)

    return RunKernelManager


def _died_at_start(exc: BaseException) -> bool:
    """Whether the kernel exited before it replied to anything (jupyter_client's words)."""
    return type(exc) is RuntimeError and str(exc).startswith(_DIED_AT_START)


def _tail(log: Path, lines: int = 6) -> str:
    """The last lines of a kernel's log, for an error message; says so when there are none."""
    try:
        text = log.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return "(no log)"
    kept = [line for line in text.splitlines() if line.strip()][-lines:]
    return " | ".join(kept) if kept else "(the log is empty)"


def _tags(cell: Any) -> list[str]:
    return cell.get("metadata", {}).get("tags", [])


def _error(exc: BaseException, nb: Any) -> dict[str, Any]:
    from papermill.exceptions import PapermillExecutionError

    if isinstance(exc, PapermillExecutionError):
        # exc.cell_index counts the cells papermill ran: no error banner, but the injected
        # parameters cell; the report gives the index in the source notebook
        cells = [c for c in nb.cells if "papermill-error-cell-tag" not in _tags(c)]
        injected = sum("injected-parameters" in _tags(c) for c in cells[: exc.cell_index])
        return {
            "cell": exc.cell_index - injected,
            "execution_count": exc.exec_count,
            "source": exc.source,
            "ename": exc.ename,
            "evalue": exc.evalue,
            "traceback": _ANSI.sub("", "\n".join(exc.traceback)),
        }
    return {
        "cell": None,
        "execution_count": None,
        "source": "",
        "ename": type(exc).__name__,
        "evalue": str(exc),
        "traceback": "",
    }


def _render(executed: Path, html: Path) -> None:
    import nbformat
    from nbconvert import HTMLExporter

    body, _ = HTMLExporter(template_name="lab").from_notebook_node(
        nbformat.read(executed, as_version=4)
    )
    _write_text(html, body)


def _write_text(path: Path, text: str) -> None:
    """Write through a temporary name, so a half-written file never replaces a good one."""
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)


def run_notebook(task: RunTask) -> RunResult:
    """Execute one notebook in a fresh kernel and render it; never raises for a failing notebook.

    Parameters
    ----------
    task : RunTask
        The notebook, the run folder and the parameters to inject.

    Returns
    -------
    RunResult

    Examples
    --------
    >>> import pathlib, tempfile, nbformat
    >>> from healthlab.runs import RunTask, run_notebook
    >>> tmp = tempfile.TemporaryDirectory()
    >>> nb = nbformat.v4.new_notebook(metadata={"kernelspec": {
    ...     "name": "python3", "language": "python", "display_name": "Python 3"}})
    >>> nb.cells = [nbformat.v4.new_code_cell("n = 2", metadata={"tags": ["parameters"]}),
    ...             nbformat.v4.new_code_cell("print(n * 21)")]
    >>> nbformat.write(nb, pathlib.Path(tmp.name) / "answer.ipynb")
    >>> task = RunTask(str(pathlib.Path(tmp.name) / "answer.ipynb"), tmp.name, {"n": 3})
    >>> result = run_notebook(task)
    >>> result.status, result.parameters, result.html
    ('passed', {'n': 3}, 'html/answer.html')
    >>> executed = nbformat.read(pathlib.Path(tmp.name) / result.output, as_version=4)
    >>> executed.cells[-1].outputs[0]["text"]
    '63\\n'
    >>> tmp.cleanup()
    """
    import nbformat
    import papermill

    from healthlab import exercises

    out = Path(task.out)
    name = task.name
    executed = out / "notebooks" / f"{name}.ipynb"
    html = out / "html" / f"{name}.html"
    answers = out / "answers" / f"{name}.jsonl"
    work = out / "work" / name
    for folder in (executed.parent, html.parent, answers.parent, work):
        folder.mkdir(parents=True, exist_ok=True)
    answers.unlink(missing_ok=True)

    started = time.perf_counter()
    error = None
    log = work / "kernel.log"
    for attempt in range(1, START_ATTEMPTS + 1):
        try:
            papermill.execute_notebook(
                task.source,
                str(executed),
                parameters=task.parameters,
                kernel_name=task.kernel,
                progress_bar=False,
                execution_timeout=task.timeout,
                kernel_manager_class=_kernel_manager(
                    {"HEALTHLAB_ANSWERS": str(answers.resolve())}, work.resolve()
                ),
            )
        except Exception as exc:  # the notebook failed: report it, never stop the others
            if _died_at_start(exc) and attempt < START_ATTEMPTS:
                with open(log, "a", encoding="utf-8") as f:
                    f.write(f"[healthlab] {exc} (attempt {attempt}); starting a new kernel\n")
                continue
            nb = nbformat.read(executed, as_version=4) if executed.exists() else None
            error = _error(exc, nb) if nb is not None else _error(exc, nbformat.v4.new_notebook())
            if _died_at_start(exc):
                error["evalue"] = (
                    f"{exc} ({START_ATTEMPTS} attempts); the kernel's last words, from "
                    f"{log.relative_to(out).as_posix()}: {_tail(log)}"
                )
        break
    seconds = time.perf_counter() - started

    rendered = None
    if executed.exists():
        try:
            _render(executed, html)
            rendered = html.relative_to(out).as_posix()
        except Exception as exc:  # a rendering failure must not hide the run's own result
            if error is None:
                error = _error(exc, None)
                error["evalue"] = f"rendering to HTML failed: {exc}"

    result = RunResult(
        name=name,
        source=str(task.source),
        status="failed" if error else "passed",
        seconds=round(seconds, 3),
        parameters=dict(task.parameters),
        output=executed.relative_to(out).as_posix(),
        html=rendered,
        answers_file=answers.relative_to(out).as_posix(),
        error=error,
    )
    if answers.exists():
        result.answers = exercises.read_answers(answers)
    try:
        declared = exercises.declaration(task.source).questions
    except Exception:  # a notebook without exercises: nothing to check
        declared = {}
    for qid, question in declared.items():
        if qid in result.answers:
            verdict = question.self_check(result.answers[qid])
            result.checks[qid] = {"ok": verdict.ok, "text": str(verdict), "points": question.points}
        else:
            result.missing.append(qid)
    return result


@dataclass
class RunReport:
    """A finished run: its folder, its results in notebook order, and where the report is.

    Examples
    --------
    >>> import pathlib, tempfile, nbformat
    >>> from concurrent.futures import ThreadPoolExecutor
    >>> from healthlab.runs import RunTask, run_tasks
    >>> tmp = tempfile.TemporaryDirectory()
    >>> source = pathlib.Path(tmp.name) / "hello.ipynb"
    >>> nbformat.write(nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("1 + 1")]), source)
    >>> with ThreadPoolExecutor(1) as pool:
    ...     report = run_tasks([RunTask(str(source), tmp.name, kernel="no-such-kernel")],
    ...                        out=tmp.name, executor=pool)
    >>> report.ok, [r.status for r in report.results], report.index.name
    (False, ['failed'], 'index.html')
    >>> tmp.cleanup()
    """

    out: Path
    results: list[RunResult]
    seconds: float
    jobs: int

    @property
    def ok(self) -> bool:
        """Whether every notebook passed."""
        return all(r.passed for r in self.results)

    @property
    def index(self) -> Path:
        return self.out / "index.html"


def default_out() -> Path:
    """``runs/<timestamp>/`` in the working folder, never one that exists already."""
    stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
    out = Path("runs") / stamp
    n = 1
    while out.exists():
        n += 1
        out = Path("runs") / f"{stamp}-{n}"
    return out


def _timing_key(name: str, parameters: dict) -> tuple[str, str]:
    """How a notebook's time is filed: its name and its parameters (JSON, keys sorted)."""
    return str(name), json.dumps(parameters, sort_keys=True)


def past_seconds(out: str | Path) -> dict[tuple[str, str], float]:
    """How long each notebook took when it last passed in a run beside ``out``.

    Reads the ``results.json`` of the other run folders in ``out``'s parent (``runs/``),
    newest last, so the newest run's figure wins. Keys are ``(name, parameters as JSON)``: a
    notebook at ``tiny`` says nothing of its time at ``small``. Unreadable files are skipped.

    Examples
    --------
    >>> import json, pathlib, tempfile
    >>> from healthlab.runs import past_seconds
    >>> tmp = pathlib.Path(tempfile.mkdtemp())
    >>> (tmp / "earlier").mkdir()
    >>> _ = (tmp / "earlier" / "results.json").write_text(json.dumps({"results": [
    ...     {"name": "04-information-sharing", "status": "passed", "seconds": 61.5,
    ...      "parameters": {"size": "small"}}]}))
    >>> past_seconds(tmp / "now")
    {('04-information-sharing', '{"size": "small"}'): 61.5}
    """
    out = Path(out).resolve()
    seconds: dict[tuple[str, str], float] = {}
    found = []
    for path in out.parent.glob("*/results.json"):
        if path.parent.resolve() == out:
            continue
        try:
            found.append((path.stat().st_mtime, path))
        except OSError:
            continue
    for _, path in sorted(found):
        try:
            results = json.loads(path.read_text(encoding="utf-8"))["results"]
            for r in results:
                if r.get("status") == "passed":
                    seconds[_timing_key(r["name"], r.get("parameters", {}))] = float(r["seconds"])
        except (OSError, ValueError, KeyError, TypeError):
            continue  # a run that was killed midway, or an older format: no timings from it
    return seconds


def longest_first(tasks: list[RunTask], seconds: dict[tuple[str, str], float]) -> list[RunTask]:
    """The order to start tasks in: unknown ones first, then the known by time, longest first.

    With several jobs, a long notebook started last keeps the run going long after the others
    are done; started first, it runs beside them. A notebook never timed may be long, so it
    starts before the timed ones. Ties keep reading order.

    Examples
    --------
    >>> from healthlab.runs import RunTask, longest_first
    >>> tasks = [RunTask(f"{n}.ipynb", "out", {}) for n in ("00-a", "01-b", "02-c", "03-d")]
    >>> past = {("00-a", "{}"): 5.0, ("01-b", "{}"): 90.0, ("03-d", "{}"): 20.0}
    >>> [t.name for t in longest_first(tasks, past)]
    ['02-c', '01-b', '03-d', '00-a']
    """

    def key(item):
        position, task = item
        known = seconds.get(_timing_key(task.name, task.parameters))
        return (0, 0.0, position) if known is None else (1, -known, position)

    return [task for _, task in sorted(enumerate(tasks), key=key)]


def _tasks(paths, size, parameters, out, timeout) -> list[RunTask]:
    from healthlab import exercises

    wanted = dict(parameters or {})
    if size is not None:
        wanted["size"] = size
    tasks, used = [], set()
    for path in paths:
        declared = exercises.parameters(path)
        given = {k: v for k, v in wanted.items() if k in declared}
        used |= set(given)
        tasks.append(RunTask(str(path), str(out), given, timeout))
    unused = sorted(set(wanted) - used - {"size"})
    if unused:
        raise InvalidParameterError(
            f"no notebook to run has the parameter {', '.join(unused)}; "
            "see each notebook's parameters cell"
        )
    return tasks


def run_notebooks(
    notebooks: list[str | Path] | tuple = (),
    *,
    size: str | None = None,
    parameters: dict[str, Any] | None = None,
    jobs: int | None = None,
    out: str | Path | None = None,
    timeout: float | None = None,
    executor: Executor | None = None,
    progress: bool | None = None,
) -> RunReport:
    """Run notebooks with papermill, in parallel, and write their report to ``out/index.html``.

    Parameters
    ----------
    notebooks : list of str or Path, optional
        Paths, names or number prefixes (``"01"``); default every notebook in ``notebooks/``.
    size : str, optional
        The ``size`` parameter for every notebook (default: each notebook's own).
    parameters : dict, optional
        Parameters to inject, each into the notebooks whose parameters cell has it.
    jobs : int, optional
        How many notebooks at once (default: the number of cores). Ignored with ``executor``.
        They start longest first, by their times in earlier runs beside ``out``
        (:func:`longest_first`), so that a long notebook does not start last.
    out : str or Path, optional
        The run folder (default ``runs/<timestamp>/``).
    timeout : float, optional
        Seconds a cell may run before the notebook fails (default: no limit).
    executor : concurrent.futures.Executor, optional
        Where to run the tasks (default a process pool of ``jobs``); e.g. a Dask
        ``Client(address).get_executor()``, whose workers share the ``out`` folder.
    progress : bool, optional
        Show a progress bar (default: when stderr is a terminal).

    Returns
    -------
    RunReport

    Examples
    --------
    Any :class:`concurrent.futures.Executor` runs the notebooks; here a thread of this process:

    >>> import pathlib, tempfile, nbformat
    >>> from concurrent.futures import ThreadPoolExecutor
    >>> from healthlab.runs import run_notebooks
    >>> tmp = tempfile.TemporaryDirectory()
    >>> folder = pathlib.Path(tmp.name)
    >>> nb = nbformat.v4.new_notebook(metadata={"kernelspec": {
    ...     "name": "python3", "language": "python", "display_name": "Python 3"}})
    >>> nb.cells = [nbformat.v4.new_code_cell("n = 2", metadata={"tags": ["parameters"]}),
    ...             nbformat.v4.new_code_cell("assert n > 0, 'n must be positive'")]
    >>> nbformat.write(nb, folder / "check.ipynb")
    >>> with ThreadPoolExecutor(1) as pool:
    ...     report = run_notebooks([folder / "check.ipynb"], parameters={"n": -1},
    ...                            out=folder / "run", executor=pool)
    >>> report.ok, report.results[0].error["ename"], report.results[0].error["evalue"]
    (False, 'AssertionError', 'n must be positive')
    >>> sorted(p.name for p in report.out.iterdir() if p.is_file())
    ['index.html', 'results.json']
    >>> tmp.cleanup()
    """
    paths = find_notebooks([str(n) for n in notebooks])
    out = Path(out) if out is not None else default_out()
    out.mkdir(parents=True, exist_ok=True)
    tasks = _tasks(paths, size, parameters, out.resolve(), timeout)
    return run_tasks(tasks, out=out, jobs=jobs, executor=executor, progress=progress)


def run_tasks(
    tasks: list[RunTask],
    *,
    out: str | Path,
    jobs: int | None = None,
    executor: Executor | None = None,
    progress: bool | None = None,
) -> RunReport:
    """Run prepared tasks (each with its own parameters) and write the report into ``out``.

    :func:`run_notebooks` prepares the tasks from notebook names; a course build prepares one
    per module. Names (``RunTask.name``) must be unique. See :func:`run_notebooks`.

    Examples
    --------
    One notebook run twice with different parameters, each task under its own label:

    >>> import pathlib, tempfile, nbformat
    >>> from concurrent.futures import ThreadPoolExecutor
    >>> from healthlab.runs import RunTask, run_tasks
    >>> tmp = tempfile.TemporaryDirectory()
    >>> source = str(pathlib.Path(tmp.name) / "square.ipynb")
    >>> nb = nbformat.v4.new_notebook(metadata={"kernelspec": {
    ...     "name": "python3", "language": "python", "display_name": "Python 3"}})
    >>> nb.cells = [nbformat.v4.new_code_cell("n = 2", metadata={"tags": ["parameters"]}),
    ...             nbformat.v4.new_code_cell("print(n * n)")]
    >>> nbformat.write(nb, source)
    >>> tasks = [RunTask(source, tmp.name, {"n": n}, label=f"square-{n}") for n in (3, 4)]
    >>> with ThreadPoolExecutor(2) as pool:
    ...     report = run_tasks(tasks, out=tmp.name, executor=pool)
    >>> [(r.name, r.status) for r in report.results]
    [('square-3', 'passed'), ('square-4', 'passed')]
    >>> tmp.cleanup()
    """
    import sys

    from tqdm import tqdm

    from healthlab._run_report import render

    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    names = [t.name for t in tasks]
    if len(set(names)) != len(names):
        raise InvalidParameterError(f"two tasks share a name: {names}; give each a label")
    if not tasks:
        raise InvalidParameterError("no notebooks to run")
    jobs = jobs or os.cpu_count() or 1
    if jobs < 1:
        raise InvalidParameterError(f"jobs={jobs}: give at least 1")
    if progress is None:
        progress = sys.stderr.isatty()

    started = time.perf_counter()
    own = executor is None
    if own:
        import multiprocessing

        executor = ProcessPoolExecutor(
            max_workers=min(jobs, len(tasks)), mp_context=multiprocessing.get_context("spawn")
        )
    results: dict[str, RunResult] = {}
    bar = tqdm(total=len(tasks), desc="notebooks", unit="nb", disable=not progress)
    try:
        order = longest_first(tasks, past_seconds(out))
        futures = {executor.submit(run_notebook, task): task for task in order}
        for future in as_completed(futures):
            task = futures[future]
            try:
                result = future.result()
            except Exception as exc:  # the worker itself died: still a result, never a stop
                result = _lost(task, exc)
            results[task.name] = result
            bar.set_postfix_str(f"{result.name} {result.status}")
            bar.update()
    finally:
        bar.close()
        if own:
            executor.shutdown()
    report = RunReport(
        out=out,
        results=[results[t.name] for t in tasks],
        seconds=round(time.perf_counter() - started, 3),
        jobs=jobs,
    )
    _write_text(
        out / "results.json",
        json.dumps(
            {
                "ok": report.ok,
                "seconds": report.seconds,
                "jobs": jobs,
                "results": [asdict(r) for r in report.results],
            },
            indent=1,
            ensure_ascii=False,
        ),
    )
    _write_text(report.index, render(report))
    return report


def _lost(task: RunTask, exc: BaseException) -> RunResult:
    out = Path(task.out)
    return RunResult(
        name=task.name,
        source=task.source,
        status="failed",
        seconds=0.0,
        parameters=dict(task.parameters),
        output=(out / "notebooks" / f"{task.name}.ipynb").relative_to(out).as_posix(),
        html=None,
        answers_file=(out / "answers" / f"{task.name}.jsonl").relative_to(out).as_posix(),
        error={
            "cell": None,
            "execution_count": None,
            "source": "",
            "ename": type(exc).__name__,
            "evalue": f"the worker running this notebook failed: {exc}",
            "traceback": "",
        },
    )
