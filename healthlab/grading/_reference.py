"""The reference run, from a warm process of the grader's own: the source's imports done once.

A kernel per student spends most of a reference run starting up: the kernel itself, papermill,
then the source's imports (pandas, matplotlib, healthlab). Here one server process per grading
worker imports what the instructor's source imports, once, and never runs a cell itself; for
each student it forks a child, which injects that student's parameters the way papermill does
and runs the source's code cells in an IPython shell of its own (fresh namespace, no history),
then exits. The answers the source's solutions record go to the answers file the grader names.

It is the trusted side only: the server is started by the grader, from the grader's
environment, and reads nothing the student's sandbox can write (the source notebook and the
prebuilt dataset cache, which the sandbox sees read-only). Student code never runs in it.

Run as ``python -m healthlab.grading._reference MODULE ...``: it reads one JSON request a line
on stdin and answers each with one JSON line on stdout; it ends when stdin closes.
"""

from __future__ import annotations

import ast
import contextlib
import importlib
import json
import os
import signal
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

__all__ = ["WarmReference", "source_imports"]

#: The server's environment beyond the grader's own: a non-interactive plotting backend and
#: one thread per numeric library, like the sandbox (fair sharing, and forking stays safe).
ENV = {
    "MPLBACKEND": "Agg",
    "OMP_NUM_THREADS": "1",
    "OPENBLAS_NUM_THREADS": "1",
    "MKL_NUM_THREADS": "1",
}


class CellTimeout(Exception):
    """A reference cell ran past its time limit."""


def source_imports(nb) -> list[str]:
    """The modules the code cells of ``nb`` import at their top level, in order.

    Examples
    --------
    >>> import nbformat
    >>> nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(
    ...     "import pandas as pd\\nfrom healthlab import datasets\\nx = 1")])
    >>> source_imports(nb)
    ['pandas', 'healthlab', 'healthlab.datasets']
    """
    found: list[str] = []
    for cell in nb.cells:
        if cell.cell_type != "code":
            continue
        code = "\n".join(
            "" if ln.lstrip().startswith(("%", "!")) else ln for ln in cell.source.split("\n")
        )
        try:
            tree = ast.parse(code)
        except SyntaxError:
            continue
        for node in tree.body:
            names: list[str] = []
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
                names = [node.module] + [f"{node.module}.{alias.name}" for alias in node.names]
            found += [n for n in names if n not in found]
    return found


def _numbering(cells) -> list[int | None]:
    from healthlab.grading._execute import _numbering

    return _numbering(cells)


def _run_child(request: dict) -> None:
    """In the forked child: run the source with the parameters; write the status; never return."""
    code = 0
    try:
        devnull = os.open(os.devnull, os.O_RDWR)
        for fd in (0, 1, 2):
            os.dup2(devnull, fd)
        os.chdir(request["cwd"])
        os.environ.update(request["env"])
        status = _run_cells(request)
        Path(request["status"]).write_text(json.dumps(status), encoding="utf-8")
    except BaseException as err:  # the grader reads a crash as a failed reference run
        with contextlib.suppress(Exception):
            Path(request["status"]).write_text(
                json.dumps({"crash": f"{type(err).__name__}: {str(err)[:500]}"}), encoding="utf-8"
            )
        code = 1
    os._exit(code)


def _run_cells(request: dict) -> dict[str, Any]:
    from papermill.iorw import load_notebook_node
    from papermill.parameterize import parameterize_notebook

    nb = load_notebook_node(request["source"])  # as papermill reads it, then injects
    if request["parameters"]:
        nb = parameterize_notebook(
            nb, request["parameters"], kernel_name="python3", language="python"
        )
    number = _numbering(nb.cells)
    shell = _SHELL
    timeout = float(request["cell_timeout"])

    def expire(signum, frame):
        raise CellTimeout(f"the cell ran past {timeout:g} s")

    signal.signal(signal.SIGALRM, expire)
    status: dict[str, Any] = {"errors": [], "timed_out": [], "dead_kernel": None}
    status["cells"] = sum(n is not None for n in number)
    started = time.monotonic()
    for index, cell in enumerate(nb.cells):
        if cell.cell_type != "code":
            continue
        signal.setitimer(signal.ITIMER_REAL, timeout)
        try:
            result = shell.run_cell(cell.source, store_history=True)
        finally:
            signal.setitimer(signal.ITIMER_REAL, 0)
        err = result.error_before_exec or result.error_in_exec
        if isinstance(err, CellTimeout):
            status["timed_out"].append(number[index])
        elif err is not None:
            status["errors"].append(
                {
                    "cell": number[index],
                    "ename": type(err).__name__[:200],
                    "evalue": str(err)[:500],
                }
            )
    status["seconds"] = round(time.monotonic() - started, 3)
    return status


_SHELL = None


def serve(modules: list[str]) -> int:
    """The server's loop: import ``modules``, then fork one child per request line."""
    global _SHELL
    os.environ.update(ENV)
    from IPython.core.interactiveshell import InteractiveShell
    from traitlets.config import Config

    config = Config()
    config.HistoryManager.enabled = False
    _SHELL = InteractiveShell.instance(config=config)
    _SHELL.display_formatter.active_types = ["text/plain"]  # nothing is shown anyway
    import papermill.iorw  # used by every child
    import papermill.parameterize  # noqa: F401

    for name in modules:
        with contextlib.suppress(Exception):
            importlib.import_module(name)
    out = sys.stdout
    out.write(json.dumps({"ready": True}) + "\n")
    out.flush()
    for line in sys.stdin:
        request = json.loads(line)
        pid = os.fork()
        if pid == 0:
            _run_child(request)
        deadline = time.monotonic() + float(request["total_timeout"])
        reply: dict[str, Any] = {"timed_out": False}
        while True:
            done, wait_status = os.waitpid(pid, os.WNOHANG)
            if done:
                reply["exit"] = os.waitstatus_to_exitcode(wait_status)
                break
            if time.monotonic() > deadline:
                os.kill(pid, signal.SIGKILL)
                os.waitpid(pid, 0)
                reply.update(exit=None, timed_out=True)
                break
            time.sleep(0.005)
        out.write(json.dumps(reply) + "\n")
        out.flush()
    return 0


class WarmReference:
    """A reference server: started once, used for every student of one source.

    Parameters
    ----------
    modules : list of str
        What to import before the first request (the source's own imports).

    Examples
    --------
    >>> import json, tempfile, nbformat
    >>> folder = Path(tempfile.mkdtemp())
    >>> nb = nbformat.v4.new_notebook(cells=[
    ...     nbformat.v4.new_code_cell("n = 1", metadata={"tags": ["parameters"]}),
    ...     nbformat.v4.new_code_cell("open('n.txt', 'w').write(str(n * 2))")])
    >>> nbformat.write(nb, folder / "source.ipynb")
    >>> with WarmReference([]) as warm:
    ...     status = warm.run(folder / "source.ipynb", {"n": 21}, cwd=folder, env={})
    >>> (folder / "n.txt").read_text(), status["errors"]
    ('42', [])
    """

    def __init__(self, modules: list[str]):
        self.modules = list(modules)
        self.lock = threading.Lock()
        self.proc = subprocess.Popen(
            # -P: no working folder on the import path (each run works in a folder of its own)
            [sys.executable, "-P", "-m", "healthlab.grading._reference", *self.modules],
            cwd=tempfile.gettempdir(),
            env={**os.environ, **ENV},
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
        )
        ready = self.proc.stdout.readline()
        if not ready:
            self.close()
            raise RuntimeError("the reference server did not start")

    def alive(self) -> bool:
        return self.proc.poll() is None

    def run(
        self,
        source: str | os.PathLike,
        parameters: dict[str, Any],
        *,
        cwd: str | os.PathLike,
        env: dict[str, str],
        cell_timeout: float = 600,
        total_timeout: float | None = None,
    ) -> dict[str, Any]:
        """Run ``source`` with ``parameters`` in a fresh child; the run's status (plain JSON)."""
        cwd = Path(cwd)
        status_file = cwd / ".reference-status.json"
        status_file.unlink(missing_ok=True)
        request = {
            "source": str(Path(source).resolve()),
            "parameters": parameters,
            "cwd": str(cwd),
            "env": env,
            "status": str(status_file),
            "cell_timeout": cell_timeout,
            "total_timeout": total_timeout or cell_timeout * 200,
        }
        with self.lock:
            self.proc.stdin.write(json.dumps(request) + "\n")
            self.proc.stdin.flush()
            line = self.proc.stdout.readline()
        if not line:
            raise RuntimeError("the reference server ended")
        reply = json.loads(line)
        try:
            status = json.loads(status_file.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            why = "its time limit" if reply.get("timed_out") else f"exit {reply.get('exit')}"
            status = {"errors": [], "timed_out": [], "dead_kernel": None, "cells": 0}
            status["error"] = f"the reference run ended without a status ({why})"
        finally:
            status_file.unlink(missing_ok=True)
        return status

    def close(self) -> None:
        with contextlib.suppress(OSError):
            self.proc.stdin.close()
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()

    def __enter__(self) -> WarmReference:
        return self

    def __exit__(self, *exc) -> None:
        self.close()


if __name__ == "__main__":
    sys.exit(serve(sys.argv[1:]))
