"""Run a student's notebook where its code cannot reach anything but its own folder.

The strongest isolation the machine allows is used, and named in every result:

``root``
    As real root: ``unshare`` gives the run new network, mount, pid, ipc and uts namespaces; its
    first process (:mod:`healthlab.grading._jail`) builds a private root holding only what the
    notebook needs and runs the notebook as a uid of its own (no account needed) with rlimits,
    no capabilities and no new privileges; a cgroup caps memory and processes where one can be
    made. No network, no source notebook, secret, gradebook, grades or other submission.
``userns``
    As an ordinary user where the kernel allows user namespaces: the same namespaces and private
    root, the same uid inside (without capabilities), rlimits.
``rlimits``
    Elsewhere: rlimits, a fresh working folder and a process group killed at the end. Student
    code can then read what the grading user can; the level says so.

In every case the untrusted side (the runner and the student's kernel) runs in processes of its
own, every process it started is killed when it ends, and what the grader takes back is plain
files, size-capped: the answers (JSON Lines), the run's status (JSON) and the executed notebook.
"""

from __future__ import annotations

import contextlib
import fcntl
import functools
import json
import os
import pwd
import resource
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import healthlab
from healthlab.errors import InvalidParameterError

__all__ = ["Limits", "SandboxResult", "isolation", "make_readable", "run_notebook"]

#: The uids sandboxes run as (as root): one per concurrent sandbox, never a real account.
UID_BASE, UID_COUNT = 2_100_000_000, 4096
ANSWERS, STATUS, EXECUTED, REPORT = "answers.jsonl", "status.json", "executed.ipynb", "report.json"
_NAMESPACES = ["--net", "--mount", "--pid", "--ipc", "--uts", "--fork", "--kill-child"]
_SYSTEM = ["/usr", "/etc", "/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32"]
_LEVELS = {
    "root": "root: own uid, network+mount+pid+ipc+uts namespaces, private root, rlimits",
    "userns": "user namespaces: network+mount+pid+ipc+uts namespaces, private root, rlimits "
    "(same uid, no capabilities)",
    "rlimits": "rlimits only: same user, no namespaces (student code can read what the "
    "grading user can)",
}


@dataclass(frozen=True)
class Limits:
    """What one submission may use.

    Parameters
    ----------
    cell_timeout : float
        Seconds a cell may run before it is interrupted.
    total_timeout : float, optional
        Seconds for the whole run (default: ``cell_timeout`` per code cell, plus 60).
    memory_mb : int
        Memory of each process (its data: heap and private mappings), in MB; with a cgroup,
        the run's total is capped at this plus 512.
    processes : int
        Processes and threads the run's uid may have (as root: its own uid).
    file_mb, disk_mb : int
        Largest file it may write; size of its home folder and of ``/tmp``.
    output_bytes : int
        Output the executed notebook keeps.

    Examples
    --------
    >>> from healthlab.grading import Limits
    >>> limits = Limits(cell_timeout=30, memory_mb=1024)
    >>> limits.total(4)  # 60 s plus 30 s for each of 4 code cells
    180.0
    >>> Limits(total_timeout=100).total(4), limits.processes
    (100.0, 256)
    >>> Limits(memory_mb=0)
    Traceback (most recent call last):
        ...
    healthlab.errors.InvalidParameterError: memory_mb=0: give a positive number
    """

    cell_timeout: float = 60.0
    total_timeout: float | None = None
    memory_mb: int = 2048
    processes: int = 256
    file_mb: int = 64
    disk_mb: int = 256
    output_bytes: int = 1_000_000
    open_files: int = 1024
    answers_bytes: int = 2_000_000

    def __post_init__(self) -> None:
        for name in ("cell_timeout", "memory_mb", "processes", "file_mb", "disk_mb"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int | float) or value <= 0:
                raise InvalidParameterError(f"{name}={value!r}: give a positive number")

    def total(self, code_cells: int) -> float:
        """The wall-time limit of a run of ``code_cells`` cells."""
        if self.total_timeout:
            return float(self.total_timeout)
        return 60.0 + self.cell_timeout * max(code_cells, 1)


@dataclass
class SandboxResult:
    """How a sandboxed run ended and where its files are (all under ``folder``)."""

    isolation: str
    level: str
    report: dict[str, Any]
    status: dict[str, Any]
    folder: Path
    seconds: float
    cgroup: dict[str, Any] = field(default_factory=dict)

    @property
    def answers(self) -> Path:
        return self.folder / ANSWERS

    @property
    def executed(self) -> Path:
        return self.folder / EXECUTED

    def problems(self) -> list[str]:
        """What went wrong in the run, in words for the feedback page."""
        out = []
        if self.report.get("setup_error"):
            out.append(f"the sandbox could not start: {self.report['setup_error']}")
        if self.report.get("timed_out"):
            out.append(f"the run was stopped at its time limit ({self.report.get('limit')} s)")
        if self.status.get("error"):
            out.append(f"the notebook could not run to its end: {self.status['error']}")
        if self.status.get("dead_kernel") is not None:
            out.append(
                f"the kernel died in cell {self.status['dead_kernel']}; later cells did not run"
            )
        for cell in self.status.get("timed_out", []):
            out.append(f"cell {cell} was stopped at the per-cell time limit")
        for err in self.status.get("errors", []):
            out.append(f"cell {err['cell']} raised {err['ename']}: {err['evalue']}")
        if self.status.get("outputs_dropped"):
            out.append("the notebook printed more than the output limit; the rest was dropped")
        if self.report.get("left_running"):
            out.append(f"{self.report['left_running']} process(es) left running were killed")
        if self.cgroup.get("oom_kills"):
            out.append("the run reached its memory limit")
        if self.report.get("answers") == "missing":
            out.append("no answer was recorded")
        elif self.report.get("answers") not in (None, "copied"):
            out.append(f"the answers file was not read: {self.report['answers']}")
        return out


@functools.cache
def _probe(*flags: str) -> bool:
    if shutil.which("unshare") is None:
        return False
    try:
        done = subprocess.run(["unshare", *flags, "true"], capture_output=True, timeout=20)
    except (OSError, subprocess.TimeoutExpired):
        return False
    return done.returncode == 0


def isolation(requested: str = "auto") -> tuple[str, str]:
    """The isolation level to use, as ``(level, description)``.

    Parameters
    ----------
    requested : {"auto", "root", "userns", "rlimits"}
        ``auto`` picks the strongest the machine allows; a named level is used only if
        available (else an error says what is).

    Examples
    --------
    >>> level, words = isolation("rlimits")
    >>> level
    'rlimits'
    """
    if requested not in ("auto", *_LEVELS):
        raise InvalidParameterError(
            f"isolation={requested!r}: give one of 'auto', {', '.join(map(repr, _LEVELS))}"
        )
    available = ["rlimits"]
    if sys.platform.startswith("linux"):
        if os.geteuid() == 0 and _probe(*_NAMESPACES):
            available.insert(0, "root")
        if _probe("--user", "--map-root-user", *_NAMESPACES):
            available.insert(len(available) - 1, "userns")
    level = available[0] if requested == "auto" else requested
    if level not in available:
        raise InvalidParameterError(
            f"isolation {requested!r} is not available on this machine; available: {available}"
        )
    words = _LEVELS[level]
    if level == "root" and _cgroups_usable():
        words += ", cgroup memory+pids"
    return level, words


@functools.cache
def _cgroups_usable() -> bool:
    """Whether a memory and a pids cgroup can be made under this process's own."""
    made = []
    try:
        for path in _own_cgroups().values():
            probe = path / f"healthlab-probe-{os.getpid()}"
            probe.mkdir()
            made.append(probe)
    except OSError:
        return False
    finally:
        for probe in made:
            with contextlib.suppress(OSError):
                probe.rmdir()
    found = set(_own_cgroups())
    return {"memory", "pids"} <= found or "unified" in found


def make_readable(folder: str | os.PathLike, *, recursive: bool = True) -> None:
    """Let the sandbox's uid read a folder this process built (the prebuilt dataset cache)."""
    paths = [Path(folder), *(Path(folder).rglob("*") if recursive else [])]
    for path in paths:
        with contextlib.suppress(OSError):
            if path.is_symlink() or path.stat().st_uid != os.geteuid():
                continue
            mode = path.stat().st_mode
            path.chmod(mode | (0o555 if path.is_dir() else 0o444))


def _package_paths() -> list[str]:
    """Python, the environment and healthlab: what the kernel must read (nothing else of it)."""
    package = Path(healthlab.__file__).resolve().parent
    paths = {sys.base_prefix, sys.prefix, str(package)}
    for cards in (package / "cards", package.parent / "datasets"):
        if cards.is_dir():
            paths.add(str(cards))
    extra = os.environ.get("HEALTHLAB_CARDS", "")
    paths.update(p for p in extra.split(os.pathsep) if p)
    return sorted(paths)


def _script(name: str) -> str:
    """The path of one of the sandbox's scripts (run by path: no package import, no cwd)."""
    return str(Path(__file__).resolve().parent / f"{name}.py")


def _environment(home: str, data: str, python: str) -> dict[str, str]:
    env = {
        "PATH": f"{Path(python).parent}:/usr/local/bin:/usr/bin:/bin",
        "HOME": home,
        "USER": "student",
        "LOGNAME": "student",
        "LANG": "C.UTF-8",
        "TMPDIR": "/tmp" if home.startswith("/home/") else home,
        "HEALTHLAB_HOME": data,
        "HEALTHLAB_ANSWERS": f"{home}/{ANSWERS}",
        "MPLBACKEND": "Agg",
        "MPLCONFIGDIR": f"{home}/.config/matplotlib",
        "PYTHONDONTWRITEBYTECODE": "1",
        "PYDEVD_DISABLE_FILE_VALIDATION": "1",
        "JUPYTER_PLATFORM_DIRS": "1",
        # The kernel imports the healthlab the grader runs (the one bound into the sandbox),
        # also when that is a checkout other than the one the environment was installed from.
        "PYTHONPATH": str(Path(healthlab.__file__).resolve().parent.parent),
    }
    threads = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")
    env.update(dict.fromkeys(threads, "1"))  # one thread each: fair sharing between jobs
    if os.environ.get("HEALTHLAB_CARDS"):
        env["HEALTHLAB_CARDS"] = os.environ["HEALTHLAB_CARDS"]
    return env


@contextlib.contextmanager
def _claim_uid():
    """A uid no account and no other sandbox uses, held (by a lock file) while the run lasts."""
    locks = Path(tempfile.gettempdir()) / "healthlab-sandbox-uids"
    locks.mkdir(mode=0o700, exist_ok=True)
    for uid in range(UID_BASE, UID_BASE + UID_COUNT):
        try:
            pwd.getpwuid(uid)
            continue
        except KeyError:
            pass
        fd = os.open(locks / str(uid), os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            continue
        try:
            yield uid
        finally:
            os.close(fd)
        return
    raise RuntimeError("no free sandbox uid: too many sandboxes at once")


class _Cgroup:
    """A memory and pids cgroup (v1 or v2) nested under this process's own, where allowed."""

    def __init__(self, limits: Limits):
        self.dirs: dict[str, Path] = {}
        name = f"healthlab-{uuid.uuid4().hex[:12]}"
        memory = (limits.memory_mb + 512) << 20
        for controller, path in _own_cgroups().items():
            target = path / name
            try:
                target.mkdir()
            except OSError:
                continue
            try:
                if controller == "memory":
                    (target / "memory.limit_in_bytes").write_text(str(memory))
                elif controller == "pids":
                    (target / "pids.max").write_text(str(limits.processes))
                else:  # v2: both in one
                    (target / "memory.max").write_text(str(memory))
                    (target / "pids.max").write_text(str(limits.processes))
                    (target / "memory.swap.max").write_text("0")
            except OSError:
                pass
            self.dirs[controller] = target

    @property
    def controllers(self) -> list[str]:
        return sorted({"memory", "pids"} if "unified" in self.dirs else self.dirs)

    def join(self) -> None:
        """Move the calling process in (run in the child before exec)."""
        for target in self.dirs.values():
            with contextlib.suppress(OSError):
                (target / "cgroup.procs").write_text(str(os.getpid()))

    def close(self) -> dict[str, Any]:
        stats: dict[str, Any] = {}
        for controller, target in self.dirs.items():
            with contextlib.suppress(OSError, ValueError):
                if controller == "memory":
                    peak = target / "memory.max_usage_in_bytes"
                    stats["peak_mb"] = round(int(peak.read_text()) / 2**20, 1)
                    for line in (target / "memory.oom_control").read_text().splitlines():
                        if line.startswith("oom_kill "):
                            stats["oom_kills"] = int(line.split()[1])
                elif controller == "unified":
                    events = (target / "memory.events").read_text().split()
                    stats["oom_kills"] = int(events[events.index("oom_kill") + 1])
            for _ in range(50):
                with contextlib.suppress(OSError, ValueError):
                    for pid in (target / "cgroup.procs").read_text().split():
                        os.kill(int(pid), signal.SIGKILL)
                try:
                    target.rmdir()
                    break
                except OSError:
                    time.sleep(0.05)
        return stats


@functools.cache
def _own_cgroups() -> dict[str, Path]:
    """This process's memory and pids cgroup folders, when the hierarchy is mounted."""
    found: dict[str, Path] = {}
    try:
        lines = Path("/proc/self/cgroup").read_text().splitlines()
    except OSError:
        return found
    base = Path("/sys/fs/cgroup")
    for line in lines:
        _, controllers, path = line.split(":", 2)
        for controller in controllers.split(","):
            if controller in ("memory", "pids") and (base / controller).is_dir():
                found[controller] = base / controller / path.lstrip("/")
        if controllers == "" and (base / "cgroup.controllers").is_file():
            own = base / path.lstrip("/")
            enabled = (own / "cgroup.subtree_control").read_text().split() if own.is_dir() else []
            if {"memory", "pids"} <= set(enabled):
                found["unified"] = own
    return found


def _read_json(path: Path, cap: int) -> dict:
    try:
        if path.stat().st_size > cap:
            return {}
        value = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return value if isinstance(value, dict) else {}


def _clean_status(raw: dict) -> dict[str, Any]:
    """The run status the untrusted side wrote, kept only in its expected shape."""

    def ints(values):
        return [v for v in values if isinstance(v, int)][:100] if isinstance(values, list) else []

    errors = []
    for err in raw.get("errors", [])[:100] if isinstance(raw.get("errors"), list) else []:
        if isinstance(err, dict) and isinstance(err.get("cell"), int):
            errors.append(
                {
                    "cell": err["cell"],
                    "ename": str(err.get("ename"))[:100],
                    "evalue": str(err.get("evalue"))[:300],
                }
            )
    dead = raw.get("dead_kernel")
    return {
        "cells": raw.get("cells") if isinstance(raw.get("cells"), int) else 0,
        "errors": errors,
        "timed_out": sorted(set(ints(raw.get("timed_out")))),
        "dead_kernel": dead if isinstance(dead, int) else None,
        "outputs_dropped": raw.get("outputs_dropped") is True,
        "error": str(raw["error"])[:500] if raw.get("error") else None,
        "seconds": raw["seconds"] if isinstance(raw.get("seconds"), int | float) else None,
    }


def run_notebook(
    notebook: str | os.PathLike,
    *,
    parameters: dict[str, Any],
    data_home: str | os.PathLike,
    folder: str | os.PathLike,
    limits: Limits | None = None,
    level: str = "auto",
) -> SandboxResult:
    """Run a (student's) notebook in the sandbox; its files come back into ``folder``.

    Parameters
    ----------
    notebook : path
        The notebook to run (read by this process, copied into the sandbox).
    parameters : dict
        Injected after its ``parameters`` cell (papermill's way), by this process.
    data_home : path
        A ``HEALTHLAB_HOME`` holding the datasets it needs, prebuilt; seen read-only.
    folder : path
        An empty folder of the grader's where the answers, status and executed notebook go.
    limits : Limits, optional
    level : {"auto", "root", "userns", "rlimits"}

    Returns
    -------
    SandboxResult
    """
    limits = limits or Limits()
    level, words = isolation(level)
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    folder.chmod(0o700)
    started = time.monotonic()
    body = _parameterized(Path(notebook), parameters)
    try:
        cells = sum(c.get("cell_type") == "code" for c in json.loads(body).get("cells", []))
    except (ValueError, AttributeError):
        cells = 1
    total = limits.total(cells)
    if level == "rlimits":
        report, cg = _run_plain(body, Path(data_home), folder, limits, total)
    else:
        report, cg = _run_jailed(body, Path(data_home), folder, limits, total, level)
        if level == "root" and not cg:
            words = _LEVELS["root"]  # the cgroup could not be made this time
    report["limit"] = total
    status = _clean_status(_read_json(folder / STATUS, 1_000_000))
    return SandboxResult(
        words,
        level,
        report,
        status,
        folder,
        round(time.monotonic() - started, 3),
        cg.get("stats", {}),
    )


def _parameterized(notebook: Path, parameters: dict) -> bytes:
    """The notebook with its parameters injected, by this (trusted) process, as bytes.

    The runner in the sandbox then needs no papermill. A file that is not a notebook goes in
    as it is: the runner says it cannot read it.
    """
    from healthlab.grading._execute import parameterize

    if not parameters:
        return notebook.read_bytes()
    try:
        return parameterize(notebook, parameters).encode()
    except Exception:  # not a notebook: the run reports it
        return notebook.read_bytes()


def _run_config(home: str, limits: Limits) -> dict:
    return {
        "execute": {
            "notebook": f"{home}/notebook.ipynb",
            "output": f"{home}/{EXECUTED}",
            "parameters": {},  # injected already
            "cwd": home,
            "cell_timeout": limits.cell_timeout,
            "output_cap": limits.output_bytes,
        },
        "status": f"{home}/{STATUS}",
    }


def _rlimits(limits: Limits, total: float) -> dict[str, float]:
    return {
        "data": limits.memory_mb,  # heap and private mappings: what a memory bomb grows
        "memory": limits.memory_mb * 2 + 2048,  # address space, backstop (kernels map ~1.4 GB)
        "processes": limits.processes,
        "file_mb": limits.file_mb,
        "cpu_seconds": int(total) + 5,
        "open_files": limits.open_files,
    }


def _run_jailed(body, data_home, folder, limits, total, level):
    home = "/home/student"
    scratch = Path(tempfile.mkdtemp(prefix="healthlab-sandbox-"))
    (scratch / "root").mkdir()
    notebook = scratch / "notebook.ipynb"
    notebook.write_bytes(body)
    out = folder
    rlimits = _rlimits(limits, total)
    if level == "userns":
        rlimits.pop("processes")  # counted per uid, and the uid is the grader's own here
    stack = contextlib.ExitStack()
    with stack:
        uid = stack.enter_context(_claim_uid()) if level == "root" else 0
        config = {
            "root": str(scratch / "root"),
            "out": str(out),
            "notebook": str(Path(notebook).resolve()),
            "uid": uid,
            "gid": uid,
            "system": [p for p in _SYSTEM if os.path.lexists(p)],
            "readonly": _package_paths(),
            "data": str(Path(data_home).resolve()),
            "disk_mb": limits.disk_mb,
            "python": sys.executable,
            "script": _script("_execute"),
            "env": _environment(home, "/data/healthlab", sys.executable),
            "limits": rlimits,
            "total_timeout": total,
            "run": _run_config(home, limits),
            "collect": [
                ["answers", f"{home}/{ANSWERS}", limits.answers_bytes],
                ["status", f"{home}/{STATUS}", 1_000_000],
                ["executed", f"{home}/{EXECUTED}", limits.output_bytes * 2 + 2_000_000],
                ["run.log", f"{home}/.run.log", 200_000],
            ],
        }
        (scratch / "config.json").write_text(json.dumps(config))
        cgroup = _Cgroup(limits) if level == "root" else None
        cmd = ["unshare", *_NAMESPACES]
        if level == "userns":
            cmd[1:1] = ["--user", "--map-root-user"]
        cmd += [sys.executable, "-I", _script("_jail"), str(scratch / "config.json")]
        log = open(scratch / "jail.log", "wb")
        try:
            proc = subprocess.Popen(
                cmd,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=log,
                start_new_session=True,
                preexec_fn=cgroup.join if cgroup and cgroup.dirs else None,
            )
            try:
                proc.wait(timeout=total + 30)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()
        finally:
            log.close()
            stats = cgroup.close() if cgroup else {}
        report = _read_json(out / REPORT, 100_000)
        # Renamed so the names the reports use match: the collected files keep their own.
        for name, final in (("answers", ANSWERS), ("status", STATUS), ("executed", EXECUTED)):
            if (out / name).exists():
                (out / name).replace(out / final)
        if not report:
            tail = (scratch / "jail.log").read_bytes()[-2000:].decode("utf-8", "replace")
            report = {"setup_error": f"the sandbox ended without a report: {tail.strip()}"}
        shutil.rmtree(scratch, ignore_errors=True)
    info = {"controllers": cgroup.controllers, "stats": stats} if cgroup and cgroup.dirs else {}
    return report, info


def _run_plain(body, data_home, folder, limits, total):
    """The ``rlimits`` level: a fresh folder, rlimits, a process group killed at the end."""
    home = Path(tempfile.mkdtemp(prefix="healthlab-sandbox-"))
    (home / "notebook.ipynb").write_bytes(body)
    (home / ".run.json").write_text(json.dumps(_run_config(str(home), limits)))
    rlimits = _rlimits(limits, total)
    rlimits.pop("processes")

    def limit():
        for name, value in rlimits.items():
            which, unit = {
                "memory": (resource.RLIMIT_AS, 1 << 20),
                "data": (resource.RLIMIT_DATA, 1 << 20),
                "file_mb": (resource.RLIMIT_FSIZE, 1 << 20),
                "cpu_seconds": (resource.RLIMIT_CPU, 1),
                "open_files": (resource.RLIMIT_NOFILE, 1),
            }[name]
            resource.setrlimit(which, (int(value * unit), int(value * unit)))
        resource.setrlimit(resource.RLIMIT_CORE, (0, 0))

    env = _environment(str(home), str(Path(data_home).resolve()), sys.executable)
    started = time.monotonic()
    report: dict[str, Any] = {"timed_out": False}
    with open(home / ".run.log", "wb") as log:
        proc = subprocess.Popen(
            [sys.executable, "-I", _script("_execute"), str(home / ".run.json")],
            cwd=home,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=log,
            start_new_session=True,
            preexec_fn=limit,
        )
        try:
            report["exit"] = proc.wait(timeout=total)
        except subprocess.TimeoutExpired:
            report["timed_out"] = True
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
    report["seconds"] = round(time.monotonic() - started, 3)
    caps = {
        ANSWERS: limits.answers_bytes,
        STATUS: 1_000_000,
        EXECUTED: limits.output_bytes * 2 + 2_000_000,
    }
    for name, cap in caps.items():
        source = home / name
        key = {ANSWERS: "answers", STATUS: "status", EXECUTED: "executed"}[name]
        if source.is_symlink() or not source.is_file():
            report[key] = "missing"
        elif source.stat().st_size > cap:
            report[key] = f"too large ({source.stat().st_size:,} bytes, cap {cap:,})"
        else:
            shutil.copyfile(source, folder / name)
            report[key] = "copied"
    shutil.rmtree(home, ignore_errors=True)
    return report, {}


def describe(result: SandboxResult) -> dict[str, Any]:
    """A plain-JSON account of a run, for the gradebook."""
    out = asdict(result)
    out["folder"] = str(result.folder)
    return out
