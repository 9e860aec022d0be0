"""Grade every submission of an assignment: sandboxed run, reference run, scores, gradebook.

For each roster student with a submission ``<student_id>.ipynb``:

1. their parameters are recomputed from the roster and the secret (never read from the file);
2. the datasets the notebook loads are built for those parameters, outside the sandbox, into a
   cache the sandbox reads but cannot write;
3. the submission runs in the sandbox (:mod:`healthlab.grading.sandbox`), every cell even after
   one fails; its answers come back as plain JSON;
4. after it has ended, the instructor's source runs with the same parameters in a process of
   its own, forked from a warm server of the grader's that has done the source's imports once
   (:mod:`healthlab.grading._reference`): what its solutions record are the reference answers;
5. each question is scored with its rule (:mod:`healthlab.grading.score`).

Work is spread over an executor (processes by default, or any ``concurrent.futures.Executor``,
e.g. a Dask cluster's); results are written to the gradebook by this process as they arrive,
one transaction per student, so nothing graded is lost if the run stops.
"""

from __future__ import annotations

import ast
import atexit
import concurrent.futures as cf
import contextlib
import hashlib
import multiprocessing
import os
import shutil
import tempfile
import threading
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import nbformat

from healthlab import exercises
from healthlab.errors import AnswersFileError, GradingError
from healthlab.grading import sandbox
from healthlab.grading.assign import read_roster, read_secret, student_parameters
from healthlab.grading.score import MISSING, copied_from, score_answer

__all__ = ["GradeReport", "GradeTask", "grade", "grade_submission"]

SUBMISSION_BYTES = 20_000_000
GRADEBOOK = "gradebook.sqlite"
_env_lock = threading.Lock()


@dataclass(frozen=True)
class GradeTask:
    """Everything one submission's grading needs (picklable, for any executor)."""

    student_id: str
    submission: str
    source: str
    parameters: dict[str, Any]
    data_home: str
    work: str
    limits: sandbox.Limits
    level: str
    rules: dict[str, dict]
    points: dict[str, float]
    datasets: tuple[str, ...] = ()
    run_id: str = ""


@dataclass
class GradeReport:
    """What a ``grade`` run did and where its outputs are.

    Examples
    --------
    >>> import pathlib, tempfile
    >>> from healthlab import grading
    >>> tmp = tempfile.TemporaryDirectory()
    >>> folder = pathlib.Path(tmp.name)
    >>> course = grading.example_course(folder)  # a one-question source, roster, secret
    >>> (folder / "submissions").mkdir()
    >>> report = grading.grade(course.source, roster=course.roster,
    ...                        secret_file=course.secret_file, submissions=folder / "submissions",
    ...                        out=folder / "grades", jobs=1)
    >>> report.graded, report.missing, report.gradebook.name
    ([], ['s001', 's002'], 'gradebook.sqlite')
    >>> print(report.summary())
    graded 0, skipped 0 (already graded), missing 2, unreadable 0, errors 0 in ... s
    isolation: ...
    grades: .../grades.csv; summary: .../summary.html
    >>> tmp.cleanup()
    """

    out: Path
    isolation: str
    graded: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)
    unreadable: list[str] = field(default_factory=list)
    errors: dict[str, str] = field(default_factory=dict)
    unmatched: dict[str, str] = field(default_factory=dict)
    flagged: dict[str, str] = field(default_factory=dict)
    seconds: float = 0.0

    @property
    def gradebook(self) -> Path:
        return self.out / GRADEBOOK

    def summary(self) -> str:
        lines = [
            f"graded {len(self.graded)}, skipped {len(self.skipped)} (already graded), "
            f"missing {len(self.missing)}, unreadable {len(self.unreadable)}, "
            f"errors {len(self.errors)} in {self.seconds:.1f} s",
            f"isolation: {self.isolation}",
        ]
        lines += [f"no roster student for {name}: {why}" for name, why in self.unmatched.items()]
        lines += [f"flagged {sid}: {why}" for sid, why in self.flagged.items()]
        lines += [f"error grading {sid}: {why}" for sid, why in self.errors.items()]
        lines.append(f"grades: {self.out / 'grades.csv'}; summary: {self.out / 'summary.html'}")
        return "\n".join(lines)


def needed_datasets(nb: nbformat.NotebookNode) -> tuple[str, ...]:
    """Datasets a notebook loads: ``metadata.healthlab.datasets``, else its ``load("name")`` calls.

    Examples
    --------
    >>> nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(
    ...     'people = datasets.load("population", size=size, seed=seed).frame')])
    >>> needed_datasets(nb)
    ('population',)
    """
    listed = nb.metadata.get("healthlab", {}).get("datasets")
    if isinstance(listed, list):
        return tuple(str(name) for name in listed)
    found: list[str] = []
    for cell in nb.cells:
        if cell.cell_type != "code":
            continue
        try:
            code = "\n".join(
                "" if ln.lstrip().startswith(("%", "!")) else ln for ln in cell.source.split("\n")
            )
            tree = ast.parse(code)
        except SyntaxError:
            continue
        for node in ast.walk(tree):
            if (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Attribute | ast.Name)
                and getattr(node.func, "attr", getattr(node.func, "id", "")) == "load"
                and node.args
                and isinstance(node.args[0], ast.Constant)
                and isinstance(node.args[0].value, str)
                and node.args[0].value not in found
            ):
                found.append(node.args[0].value)
    return tuple(found)


@contextlib.contextmanager
def _healthlab_home(path: str):
    with _env_lock:
        previous = os.environ.get("HEALTHLAB_HOME")
        os.environ["HEALTHLAB_HOME"] = path
        try:
            yield
        finally:
            if previous is None:
                os.environ.pop("HEALTHLAB_HOME", None)
            else:
                os.environ["HEALTHLAB_HOME"] = previous


def _prebuild(task: GradeTask) -> None:
    """Build the datasets the notebook loads, for this student's parameters, into the cache."""
    from healthlab import datasets

    size = task.parameters.get("size", "small")
    home = Path(task.data_home)
    with _healthlab_home(task.data_home):
        for name in task.datasets:
            if name in datasets.list_datasets():
                built = datasets.load(name, size=size, seed=task.parameters["seed"])
                if built.path is not None:  # its folder and the folders above it
                    sandbox.make_readable(built.path)
                    for parent in Path(built.path).parents:
                        sandbox.make_readable(parent, recursive=False)
                        if parent == home:
                            break


def _read_submission(path: str) -> tuple[bytes | None, str]:
    """The submission normalised by nbformat, or None and why it cannot be graded."""
    try:
        raw = Path(path).read_bytes()
    except OSError as err:
        return None, f"cannot read the file: {err.strerror}"
    if len(raw) > SUBMISSION_BYTES:
        return None, f"the file is {len(raw):,} bytes, over the {SUBMISSION_BYTES:,} limit"
    try:
        nb = nbformat.reads(raw.decode("utf-8"), as_version=4)
        nbformat.validate(nb)
    except Exception as err:  # not JSON, not a notebook, not valid
        return None, f"not a readable notebook ({type(err).__name__}: {str(err)[:200]})"
    if not any("parameters" in c.get("metadata", {}).get("tags", []) for c in nb.cells):
        return None, "the notebook lost its cell tagged 'parameters'; submit the assigned file"
    return nbformat.writes(nb).encode(), ""


#: This process's reference servers, by (run, source path, source hash, PATH). A server
#: belongs to one ``grade`` run: a later run never uses it (it closes it on first use), and
#: every server a run started is shut down when the run ends (see :func:`_close_servers`).
_warm: dict[tuple, Any] = {}
_warm_lock = threading.Lock()
_atexit_registered = False


def _warm_reference(task: GradeTask):
    """This process's reference server for the task's run and source (started on first use)."""
    global _atexit_registered
    from healthlab.grading._reference import WarmReference, source_imports

    if not hasattr(os, "fork"):
        return None
    source = Path(task.source)
    sha = hashlib.sha256(source.read_bytes()).hexdigest()
    key = (task.run_id, str(source), sha, os.environ.get("PATH"))
    with _warm_lock:
        warm = _warm.get(key)
        if warm is not None and warm.alive():
            return warm
        for old in list(_warm):  # an earlier run's, another source's, or one that ended
            _warm.pop(old).close()
        try:
            warm = WarmReference(source_imports(nbformat.read(source, as_version=4)))
        except (OSError, RuntimeError):
            return None
        _warm[key] = warm
        if not _atexit_registered:  # a pool's worker process: its servers end with it
            atexit.register(_close_servers)
            _atexit_registered = True
        return warm


def _close_servers(run_id: str | None = None) -> int:
    """Shut down this process's reference servers (of ``run_id``, or all); how many there were.

    Each server is closed and waited for, so none outlives the run that started it.
    """
    with _warm_lock:
        keys = [k for k in _warm if run_id is None or k[0] == run_id]
        for key in keys:
            _warm.pop(key).close()
    return len(keys)


def _reference(task: GradeTask, work: Path) -> tuple[dict[str, Any], list[str]]:
    """Run the source with the student's parameters in a process of its own; its answers.

    The process is forked from this worker's warm reference server (the source's imports done
    once, :mod:`healthlab.grading._reference`); where processes cannot be forked, a kernel of
    its own runs the source through papermill.
    """
    ref = work / "reference"
    ref.mkdir()
    env = {"HEALTHLAB_HOME": task.data_home, "HEALTHLAB_ANSWERS": str(ref / "answers.jsonl")}
    timeout = max(task.limits.cell_timeout, 600)
    warm = _warm_reference(task)
    if warm is not None:
        status = warm.run(task.source, task.parameters, cwd=ref, env=env, cell_timeout=timeout)
    else:
        from healthlab.grading._execute import execute

        status = execute(
            task.source,
            ref / "executed.ipynb",
            parameters=task.parameters,
            cwd=ref,
            env={**os.environ, **env, "MPLBACKEND": "Agg"},
            cell_timeout=timeout,
        )
    problems = [f"reference: cell {e['cell']} raised {e['ename']}" for e in status["errors"]]
    if status.get("error"):
        problems.append(f"reference: {status['error']}")
    try:
        return exercises.read_answers(ref / "answers.jsonl"), problems
    except AnswersFileError as err:
        return {}, [*problems, f"reference: {err}"]


def grade_submission(task: GradeTask) -> dict[str, Any]:
    """Grade one submission; return its gradebook row and scores (plain, picklable)."""
    started = time.monotonic()
    work = Path(task.work)
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True, mode=0o700)
    row: dict[str, Any] = {"student_id": task.student_id, "parameters": task.parameters}
    try:
        raw, why = _read_submission(task.submission)
        row["submission_sha256"] = hashlib.sha256(Path(task.submission).read_bytes()).hexdigest()
        if raw is None:
            row.update(status="unreadable", reason=why)
            scores = [score_answer(q, task.rules.get(q, {}), p) for q, p in task.points.items()]
            return {"row": row, "scores": [_plain(s, None, None) for s in scores]}
        (work / "submission.ipynb").write_bytes(raw)
        clock = time.monotonic()
        _prebuild(task)
        timings = {"prebuild": round(time.monotonic() - clock, 3)}
        result = sandbox.run_notebook(
            work / "submission.ipynb",
            parameters=task.parameters,
            data_home=task.data_home,
            folder=work / "run",
            limits=task.limits,
            level=task.level,
        )
        timings["sandbox"] = result.seconds
        timings["cells"] = result.status.get("seconds")
        problems = result.problems()
        answers: dict[str, Any] = {}
        if result.answers.is_file():
            try:
                answers = exercises.read_answers(result.answers)
            except AnswersFileError as err:
                problems.append(f"the answers file could not be read: {err}")
        clock = time.monotonic()
        reference, ref_problems = _reference(task, work)  # the student's run has ended
        timings["reference"] = round(time.monotonic() - clock, 3)
        scores = []
        for qid, points in task.points.items():
            s = score_answer(
                qid,
                task.rules.get(qid, {}),
                points,
                answers.get(qid, MISSING),
                reference.get(qid, MISSING),
            )
            scores.append(_plain(s, answers.get(qid), reference.get(qid)))
        row.update(
            status="graded",
            reason="; ".join(problems[:3]) or None,
            isolation=result.isolation,
            problems=problems + ref_problems,
            timings=timings,
            total=sum(s["points"] for s in scores if s["status"] != "manual"),
        )
        return {"row": row, "scores": scores}
    finally:
        row["seconds"] = round(time.monotonic() - started, 3)
        shutil.rmtree(work, ignore_errors=True)


def _plain(score, answer, reference) -> dict[str, Any]:
    return {
        "question": score.question,
        "points": score.points,
        "max_points": score.max_points,
        "status": score.status,
        "message": score.message,
        "answer": answer,
        "reference": reference,
    }


def _submissions(folder: Path, roster_ids: set[str]) -> tuple[dict[str, Path], dict[str, str]]:
    found, unmatched = {}, {}
    if not folder.is_dir():
        raise GradingError(f"the submissions folder {folder} does not exist")
    for path in sorted(folder.iterdir()):
        if path.name.startswith("."):
            continue
        if path.suffix != ".ipynb" or not path.is_file():
            unmatched[path.name] = "not a notebook (<student_id>.ipynb)"
        elif path.stem not in roster_ids:
            unmatched[path.name] = f"no student {path.stem!r} on the roster"
        else:
            found[path.stem] = path
    return found, unmatched


def grade(
    source: str | os.PathLike,
    *,
    roster: str | os.PathLike,
    secret_file: str | os.PathLike,
    submissions: str | os.PathLike,
    out: str | os.PathLike,
    parameters: dict[str, Any] | None = None,
    assignment: str | None = None,
    jobs: int | None = None,
    limits: sandbox.Limits | None = None,
    force: bool = False,
    isolation: str = "auto",
    executor: cf.Executor | None = None,
    progress: bool = False,
) -> GradeReport:
    """Grade every ``submissions/<student_id>.ipynb`` against ``source`` into ``out``.

    Parameters
    ----------
    source : path
        The instructor's source notebook (solutions and rules).
    roster, secret_file : path
        The roster CSV and the course secret used at ``assign``.
    submissions : path
        The folder of submitted notebooks.
    out : path
        The grades folder: ``gradebook.sqlite``, ``grades.csv``, ``summary.html`` and
        ``feedback/<student_id>.html``.
    parameters : dict, optional
        The parameters given to ``assign`` (e.g. ``{"size": "tiny"}``).
    jobs : int, optional
        Submissions graded at once (default: the number of cores).
    limits : Limits, optional
        Time, memory, process, file and output limits of each submission.
    force : bool
        Grade again students already graded on the same submission.
    isolation : {"auto", "root", "userns", "rlimits"}
        The sandbox level (``auto``: the strongest available).
    executor : concurrent.futures.Executor, optional
        Where submissions run (default: a pool of ``jobs`` processes).
    progress : bool
        Show a progress bar on stderr.

    Returns
    -------
    GradeReport

    Examples
    --------
    Every roster student gets a row: here one submission is not a notebook, one is missing,
    and one file names no student on the roster (real submissions run in the sandbox):

    >>> import pathlib, tempfile
    >>> from healthlab import grading
    >>> tmp = tempfile.TemporaryDirectory()
    >>> folder = pathlib.Path(tmp.name)
    >>> course = grading.example_course(folder)  # a one-question source, roster, secret
    >>> import pandas as pd
    >>> (folder / "submissions").mkdir()
    >>> _ = (folder / "submissions" / "s001.ipynb").write_text("{ not a notebook")
    >>> _ = (folder / "submissions" / "s003.ipynb").write_text("{}")
    >>> report = grading.grade(course.source, roster=course.roster,
    ...                        secret_file=course.secret_file, submissions=folder / "submissions",
    ...                        out=folder / "grades", jobs=1)
    >>> report.unreadable, report.missing, report.unmatched
    (['s001'], ['s002'], {'s003.ipynb': "no student 's003' on the roster"})
    >>> grades = pd.read_csv(folder / "grades" / "grades.csv")
    >>> grades[["student_id", "total", "max_total", "status"]]
      student_id  total  max_total      status
    0       s001      0          2  unreadable
    1       s002      0          2     missing
    >>> tmp.cleanup()
    """
    from healthlab.grading import feedback
    from healthlab.grading.gradebook import Gradebook

    started = time.monotonic()
    source = Path(source).resolve()
    assignment = assignment or source.stem
    decl = exercises.check_source(source)
    src = nbformat.read(source, as_version=4)
    students = read_roster(roster)
    secret = read_secret(secret_file)
    limits = limits or sandbox.Limits()
    level, words = sandbox.isolation(isolation)
    out = Path(out).resolve()
    out.mkdir(parents=True, exist_ok=True)
    out.chmod(0o700)
    data_home = out / ".data"
    data_home.mkdir(exist_ok=True)
    source_sha = hashlib.sha256(source.read_bytes()).hexdigest()
    found, unmatched = _submissions(Path(submissions).resolve(), {s.student_id for s in students})
    report = GradeReport(out=out, isolation=words, unmatched=unmatched)
    run_id = time.strftime("%Y%m%dT%H%M%S") + "-" + uuid.uuid4().hex[:6]
    work = Path(tempfile.mkdtemp(prefix="healthlab-grading-"))
    points = {q: float(v.points) for q, v in decl.questions.items()}
    with Gradebook(out / GRADEBOOK) as book:
        book.set_meta(
            assignment=assignment,
            source=source.name,
            source_sha256=source_sha,
            questions={q: {"kind": v.kind, "points": v.points} for q, v in decl.questions.items()},
            rules=decl.rules,
        )
        book.start_run(run_id, words, jobs or os.cpu_count() or 1)
        book.unmatched(unmatched, run_id)
        tasks = []
        loads = needed_datasets(src)
        for student in students:
            sid = student.student_id
            values = student_parameters(
                src, student, secret, assignment=assignment, parameters=parameters
            )
            if sid not in found:
                book.record(
                    {
                        "student_id": sid,
                        "status": "missing",
                        "reason": "no submission",
                        "parameters": values,
                        "source_sha256": source_sha,
                        "max_total": _auto_total(decl),
                        "manual_max": _manual_total(decl),
                    },
                    [
                        _plain(score_answer(q, decl.rules.get(q, {}), p), None, None)
                        for q, p in points.items()
                    ],
                )
                report.missing.append(sid)
                continue
            sha = hashlib.sha256(found[sid].read_bytes()).hexdigest()
            if not force and book.is_done(sid, sha, source_sha):
                report.skipped.append(sid)
                continue
            tasks.append(
                GradeTask(
                    student_id=sid,
                    submission=str(found[sid]),
                    source=str(source),
                    parameters=values,
                    data_home=str(data_home),
                    work=str(work / sid),
                    limits=limits,
                    level=level,
                    rules=decl.rules,
                    points=points,
                    datasets=loads,
                    run_id=run_id,
                )
            )
        try:
            _run_all(tasks, executor, jobs, progress, book, report, decl, source_sha, run_id)
        finally:
            shutil.rmtree(work, ignore_errors=True)
        report.flagged = _flag(book)
        book.finish_run(run_id, len(report.graded), len(report.skipped))
        book.check()
        feedback.write_outputs(book, out, decl, isolation=words)
    report.seconds = round(time.monotonic() - started, 1)
    return report


def _auto_total(decl) -> float:
    return float(sum(q.points for q in decl.questions.values() if not q.manual))


def _manual_total(decl) -> float:
    return float(sum(q.points for q in decl.questions.values() if q.manual))


def _run_all(tasks, executor, jobs, progress, book, report, decl, source_sha, run_id) -> None:
    if not tasks:
        return
    own = executor is None
    if own:
        workers = max(1, min(jobs or os.cpu_count() or 1, len(tasks)))
        executor = cf.ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("spawn"))
    bar = None
    if progress:
        from tqdm import tqdm

        bar = tqdm(total=len(tasks), desc="grading", unit="submission")
    try:
        futures = {executor.submit(grade_submission, t): t for t in tasks}
        for future in cf.as_completed(futures):
            task = futures[future]
            try:
                result = future.result()
            except Exception as err:  # the grader's own failure: recorded, retried next run
                why = f"{type(err).__name__}: {str(err)[:300]}"
                report.errors[task.student_id] = why
                result = {
                    "row": {
                        "student_id": task.student_id,
                        "status": "error",
                        "reason": why,
                        "parameters": task.parameters,
                    },
                    "scores": [],
                }
            row = result["row"]
            row.update(
                source_sha256=source_sha,
                run_id=run_id,
                max_total=_auto_total(decl),
                manual_max=_manual_total(decl),
            )
            book.record(row, result["scores"])
            status = row["status"]
            if status == "graded":
                report.graded.append(task.student_id)
            elif status == "unreadable":
                report.unreadable.append(task.student_id)
            if bar is not None:
                bar.update(1)
    finally:
        if bar is not None:
            bar.close()
        if own:  # its workers close their reference servers as they exit
            executor.shutdown(wait=True, cancel_futures=True)
        _close_servers(run_id)  # servers this process started (an executor of threads)


def _flag(book) -> dict[str, str]:
    """Flag students whose answers match another student's reference rather than their own."""
    rules = book.meta().get("rules", {})
    answers: dict[str, dict] = {}
    references: dict[str, dict] = {}
    for s in book.scores():
        if s["status"] in ("manual", "missing", "ungraded"):
            continue
        if s["answer"] is not None:
            answers.setdefault(s["student_id"], {})[s["question"]] = s["answer"]
        if s["reference"] is not None:
            references.setdefault(s["student_id"], {})[s["question"]] = s["reference"]
    flags = {}
    for sid in answers:
        found = copied_from(sid, answers[sid], references, rules)
        if found:
            flags[sid] = found
    book.flag({s["student_id"]: flags.get(s["student_id"]) for s in book.students()})
    return flags
