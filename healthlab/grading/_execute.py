"""Run one notebook in a Jupyter kernel of its own, cell by cell, whatever its cells do.

Used inside the sandbox for the student's notebook (run as ``python -I .../_execute.py
CONFIG.json``), by ``healthlab validate``, and for the instructor's source where the warm
reference server cannot be used (no ``fork``). Every cell runs even after one fails or times
out (a timed-out cell is interrupted), so each question is graded on its own; the outputs a
notebook may keep are capped, so a cell printing a gigabyte neither fills the memory of the
process that collects them nor the executed notebook. A kernel that dies ends the run: the
cells left are reported as not run. The returned status is plain JSON.

The runner is small on purpose: it starts ``ipykernel`` itself (no kernel manager, kernelspec
search or provisioner) and speaks the Jupyter messaging protocol over ZeroMQ directly, so it
imports only the standard library and ``pyzmq``. At every start that saves what papermill,
nbclient and jupyter_client cost to import (about a CPU second). Parameters are injected with
papermill's own ``parameterize_notebook`` (the grader does it before the notebook enters the
sandbox; :func:`execute` does it when given parameters). The kernel is an ordinary IPython
kernel of the environment, without its debugger (``debugpy``, which a graded run never uses
and which costs a fifth of a second at every kernel start).
"""

from __future__ import annotations

import datetime
import hashlib
import hmac
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

__all__ = ["execute", "parameterize"]

NOTE = "[healthlab: output beyond {cap:,} bytes was dropped]"
#: Seconds between writes of the executed notebook while it runs (and once at its end).
SAVE_EVERY = 5.0
#: Seconds a timed-out cell has to stop after it is interrupted (re-interrupted every 2 s).
INTERRUPT_GRACE = 10.0
#: Seconds to wait for a cell's last outputs once the kernel has replied.
IOPUB_GRACE = 4.0
DELIM = b"<IDS|MSG>"
#: Starts of a kernel that exits before it answers (none of the notebook has run, so a new
#: one is safe): the ports picked were free when looked at and taken when the kernel bound
#: them, by another kernel starting beside it or by an outgoing connection.
START_ATTEMPTS = 3
#: The kernel: ``ipykernel_launcher`` without the debugger (an import of it raises ImportError,
#: which ipykernel takes as "no debugger"). The working folder leaves the import path while
#: ipykernel loads and comes back when the shell starts, as with the launcher.
KERNEL = (
    "import sys\n"
    "sys.modules['debugpy'] = None\n"
    "if sys.path and sys.path[0] == '':\n"
    "    del sys.path[0]\n"
    "from ipykernel import kernelapp\n"
    "kernelapp.launch_new_instance()\n"
)
OUTPUTS = ("stream", "display_data", "execute_result", "error")


class KernelDied(Exception):
    """The kernel process ended."""


class _Kernel:
    """An IPython kernel process and the two channels a run needs (shell and iopub)."""

    def __init__(self, *, cwd: str, env: dict[str, str] | None, start_timeout: float):
        self.key = uuid.uuid4().hex.encode()
        self.session = uuid.uuid4().hex
        self.folder = tempfile.mkdtemp(prefix="healthlab-kernel-")
        ports = _free_ports(5)
        names = ("shell_port", "iopub_port", "stdin_port", "control_port", "hb_port")
        info = {
            **dict(zip(names, ports)),
            "ip": "127.0.0.1",
            "transport": "tcp",
            "signature_scheme": "hmac-sha256",
            "key": self.key.decode(),
            "kernel_name": "python3",
        }
        connection = Path(self.folder, "kernel.json")
        connection.write_text(json.dumps(info), encoding="utf-8")
        # The kernel starts first: this process's own imports overlap with its start.
        self.proc = subprocess.Popen(
            [sys.executable, "-c", KERNEL, "-f", str(connection)],
            cwd=cwd,
            env=env,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
        )
        import zmq

        self.zmq = zmq
        self.context = zmq.Context()
        self.shell = self.context.socket(zmq.DEALER)
        self.shell.linger = 0
        self.shell.connect(f"tcp://127.0.0.1:{info['shell_port']}")
        self.iopub = self.context.socket(zmq.SUB)
        self.iopub.linger = 0
        self.iopub.setsockopt(zmq.SUBSCRIBE, b"")
        self.iopub.connect(f"tcp://127.0.0.1:{info['iopub_port']}")
        self.poller = zmq.Poller()
        self.poller.register(self.shell, zmq.POLLIN)
        self.poller.register(self.iopub, zmq.POLLIN)
        try:
            self._ready(start_timeout)
        except BaseException:
            self.close()
            raise

    def _ready(self, timeout: float) -> None:
        """Wait for a ``kernel_info_reply`` and for iopub to deliver (it drops until joined)."""
        deadline = time.monotonic() + timeout
        replied = published = False
        while not (replied and published):
            if self.proc.poll() is not None:
                raise KernelDied(f"the kernel exited ({self.proc.returncode}) before it was ready")
            if time.monotonic() > deadline:
                raise TimeoutError(f"the kernel was not ready after {timeout:g} s")
            if not replied or not published:
                self.send("kernel_info_request", {})
            for sock, _ in self.poller.poll(200):
                while True:
                    frames = self.recv(sock)
                    if frames is None:
                        break
                    if sock is self.shell:
                        replied = True
                    else:
                        published = True

    def send(self, msg_type: str, content: dict) -> str:
        msg_id = uuid.uuid4().hex
        header = {
            "msg_id": msg_id,
            "session": self.session,
            "username": "healthlab",
            "date": datetime.datetime.now(datetime.UTC).isoformat(),
            "msg_type": msg_type,
            "version": "5.3",
        }
        parts = [json.dumps(p).encode() for p in (header, {}, {}, content)]
        signature = hmac.new(self.key, digestmod=hashlib.sha256)
        for part in parts:
            signature.update(part)
        self.shell.send_multipart([DELIM, signature.hexdigest().encode(), *parts])
        return msg_id

    def recv(self, sock) -> tuple[dict, dict, bytes] | None:
        """One waiting message as (header, parent header, raw content), or None.

        The content stays raw: an output over the cap is dropped by its size, never decoded.
        What the kernel sends is the student's and is read as data only (its signature, which
        the student's code could forge anyway, is not checked).
        """
        try:
            frames = sock.recv_multipart(self.zmq.NOBLOCK)
        except self.zmq.Again:
            return None
        try:
            at = frames.index(DELIM)
            header, parent = json.loads(frames[at + 2]), json.loads(frames[at + 3])
            return header, parent, frames[at + 5]
        except (ValueError, IndexError):
            return {}, {}, b""

    def interrupt(self) -> None:
        if self.proc.poll() is None:
            os.kill(self.proc.pid, signal.SIGINT)

    def close(self) -> None:
        """Kill the kernel and whatever it started (its answers are on disk already)."""
        try:
            os.killpg(self.proc.pid, signal.SIGKILL)
        except OSError:
            pass
        self.proc.wait()
        self.context.destroy(linger=0)
        for name in os.listdir(self.folder):
            Path(self.folder, name).unlink()
        os.rmdir(self.folder)


def _start(*, cwd: str, env: dict[str, str] | None, start_timeout: float) -> _Kernel:
    """A ready kernel, started again on new ports if one exits before it answers."""
    attempt = 1
    while True:
        try:
            return _Kernel(cwd=cwd, env=env, start_timeout=start_timeout)
        except KernelDied as err:
            if attempt == START_ATTEMPTS:
                raise KernelDied(f"{err}, {START_ATTEMPTS} times") from None
            attempt += 1


def _free_ports(n: int) -> list[int]:
    sockets, ports = [], []
    for _ in range(n):
        s = socket.socket()
        s.bind(("127.0.0.1", 0))
        sockets.append(s)
        ports.append(s.getsockname()[1])
    for s in sockets:
        s.close()
    return ports


class _Run:
    """The cell loop: outputs capped, every cell run, the status kept as it goes."""

    def __init__(self, kernel: _Kernel, nb: dict, *, save_path, cell_timeout, output_cap):
        self.kernel = kernel
        self.nb = nb
        self.save_path = save_path
        self.cell_timeout = float(cell_timeout)
        self.output_cap = output_cap
        self.kept = 0
        self.dropped = False
        self.saved = time.monotonic()
        self.status: dict[str, Any] = {"errors": [], "timed_out": [], "dead_kernel": None}

    def run(self) -> None:
        cells = self.nb["cells"]
        number = _numbering(cells)
        self.status["cells"] = sum(n is not None for n in number)
        started = time.monotonic()
        try:
            for index, cell in enumerate(cells):
                if cell.get("cell_type") != "code":
                    continue
                ended = self._cell(cell, number[index])
                self._save_now_and_then()
                if ended:
                    break
        finally:
            self.status["seconds"] = round(time.monotonic() - started, 3)
            self.status["outputs_dropped"] = self.dropped
            self.save()

    def _cell(self, cell: dict, number: int | None) -> bool:
        """Run one cell; True when the run cannot go on (the kernel died or will not stop)."""
        cell["outputs"] = []
        cell["execution_count"] = None
        self.raised: list[tuple[str, str]] = []
        source = cell.get("source", "")
        code = "".join(source) if isinstance(source, list) else source
        kernel = self.kernel
        msg_id = kernel.send(
            "execute_request",
            {
                "code": code,
                "silent": False,
                "store_history": True,
                "user_expressions": {},
                "allow_stdin": False,
                "stop_on_error": False,
            },
        )
        deadline = time.monotonic() + self.cell_timeout
        interrupted_at = None
        replied = idle = False
        replied_at = 0.0
        while not (replied and idle):
            now = time.monotonic()
            if kernel.proc.poll() is not None:
                self.status["dead_kernel"] = number
                return True
            if replied and now - replied_at > IOPUB_GRACE:
                break  # the reply came; outputs still missing are lost, the run goes on
            if not replied and now > deadline:
                if interrupted_at is None:
                    interrupted_at = now
                    kernel.interrupt()
                elif now - interrupted_at > INTERRUPT_GRACE:
                    self.status["timed_out"].append(number)
                    self.status["error"] = (
                        f"cell {number} did not stop when interrupted; later cells did not run"
                    )
                    return True
                else:
                    kernel.interrupt()  # again: the first may have come mid-handler
                deadline = now + 2.0
            for sock, _ in kernel.poller.poll(200):
                while True:
                    got = kernel.recv(sock)
                    if got is None:
                        break
                    header, parent, content = got
                    if parent.get("msg_id") != msg_id:
                        continue
                    if sock is kernel.shell:
                        replied, replied_at = True, time.monotonic()
                    elif self._iopub(cell, header.get("msg_type"), content):
                        idle = True
        for ename, evalue in self.raised:
            if ename == "KeyboardInterrupt":
                self.status["timed_out"].append(number)
            else:
                self.status["errors"].append({"cell": number, "ename": ename, "evalue": evalue})
        return False

    def _iopub(self, cell: dict, msg_type: str | None, raw: bytes) -> bool:
        """Add one iopub message to the cell's outputs; True when the kernel went idle."""
        if msg_type == "error" and len(raw) < 1_000_000:  # in the status even when dropped
            try:
                content = json.loads(raw)
                self.raised.append(
                    (str(content.get("ename"))[:200], str(content.get("evalue"))[:500])
                )
            except (ValueError, AttributeError):
                pass
        if msg_type in OUTPUTS:
            size = len(raw) + 64
            if self.kept + size > self.output_cap:
                if not self.dropped:
                    self.dropped = True
                    note = NOTE.format(cap=self.output_cap) + "\n"
                    cell["outputs"].append(
                        {"output_type": "stream", "name": "stderr", "text": note}
                    )
                return False
            self.kept += size
        if msg_type not in (*OUTPUTS, "status", "execute_input", "clear_output"):
            return False
        try:
            content = json.loads(raw)
        except ValueError:
            return False
        if not isinstance(content, dict):
            return False
        if msg_type == "status":
            return content.get("execution_state") == "idle"
        if msg_type == "execute_input":
            cell["execution_count"] = content.get("execution_count")
        elif msg_type == "clear_output":
            cell["outputs"] = []
        elif msg_type == "stream":
            last = cell["outputs"][-1] if cell["outputs"] else None
            name, text = content.get("name"), str(content.get("text", ""))
            if last and last.get("output_type") == "stream" and last.get("name") == name:
                last["text"] += text
            else:
                cell["outputs"].append({"output_type": "stream", "name": name, "text": text})
        elif msg_type == "error":
            cell["outputs"].append(
                {
                    "output_type": "error",
                    "ename": str(content.get("ename")),
                    "evalue": str(content.get("evalue")),
                    "traceback": [str(t) for t in content.get("traceback", [])][:200],
                }
            )
        else:  # display_data, execute_result
            out = {
                "output_type": msg_type,
                "data": content.get("data", {}),
                "metadata": content.get("metadata", {}),
            }
            if msg_type == "execute_result":
                out["execution_count"] = content.get("execution_count")
            cell["outputs"].append(out)
        return False

    def _save_now_and_then(self) -> None:
        if time.monotonic() - self.saved >= SAVE_EVERY:
            self.save()

    def save(self) -> None:
        if self.save_path:
            Path(self.save_path).write_text(json.dumps(self.nb, indent=1), encoding="utf-8")
            self.saved = time.monotonic()


def _numbering(cells) -> list[int | None]:
    """Each cell's number among the notebook's own code cells (1-based; None for the rest)."""
    out, n = [], 0
    for cell in cells:
        injected = "injected-parameters" in cell.get("metadata", {}).get("tags", [])
        if cell.get("cell_type") == "code" and not injected:
            n += 1
            out.append(n)
        else:
            out.append(None)
    return out


def parameterize(notebook: str | os.PathLike, parameters: dict[str, Any]) -> str:
    """The notebook as JSON text with ``parameters`` injected the way papermill injects them.

    A cell tagged ``injected-parameters`` goes after the cell tagged ``parameters`` (papermill's
    own ``parameterize_notebook``).

    Examples
    --------
    >>> import json, tempfile, nbformat
    >>> path = Path(tempfile.mkdtemp()) / "nb.ipynb"
    >>> nbformat.write(nbformat.v4.new_notebook(cells=[
    ...     nbformat.v4.new_code_cell("seed = 0", metadata={"tags": ["parameters"]})]), path)
    >>> cells = json.loads(parameterize(path, {"seed": 7}))["cells"]
    >>> cells[1]["metadata"]["tags"], "seed = 7" in "".join(cells[1]["source"])
    (['injected-parameters'], True)
    """
    import nbformat
    from papermill.iorw import load_notebook_node
    from papermill.parameterize import parameterize_notebook

    nb = load_notebook_node(str(notebook))  # as papermill reads it, then injects
    nb = parameterize_notebook(nb, parameters, kernel_name="python3", language="python")
    return nbformat.writes(nb)


def execute(
    notebook: str | Path,
    output: str | Path,
    *,
    parameters: dict[str, Any],
    cwd: str | Path,
    env: dict[str, str] | None = None,
    cell_timeout: float = 60,
    output_cap: int = 1_000_000,
    start_timeout: float = 60,
) -> dict[str, Any]:
    """Execute ``notebook`` into ``output`` in a kernel of its own; return the run's status.

    Parameters
    ----------
    notebook, output : path
        The notebook to run and where the executed copy goes (written every few seconds and
        at the end).
    parameters : dict
        Injected after the cell tagged ``parameters``, as papermill does (none: run as is).
    cwd : path
        The kernel's working folder.
    env : dict, optional
        The kernel's whole environment (default: this process's).
    cell_timeout : float
        Seconds a cell may run before it is interrupted.
    output_cap : int
        Bytes of output the executed notebook keeps; the rest is dropped with a note.
    start_timeout : float
        Seconds the kernel may take to start.

    Returns
    -------
    dict
        ``cells`` (code cells run), ``errors`` (cell, ename, evalue), ``timed_out`` (cell
        numbers), ``dead_kernel`` (the cell it died in, or None), ``outputs_dropped``,
        ``seconds`` (the cells' wall time), and ``error`` when the run could not start or
        stopped early.

    Examples
    --------
    >>> import tempfile, nbformat
    >>> folder = Path(tempfile.mkdtemp())
    >>> nbformat.write(nbformat.v4.new_notebook(cells=[
    ...     nbformat.v4.new_code_cell("n = 1", metadata={"tags": ["parameters"]}),
    ...     nbformat.v4.new_code_cell("print(n * 2)"),
    ...     nbformat.v4.new_code_cell("1 / 0")]), folder / "nb.ipynb")
    >>> status = execute(folder / "nb.ipynb", folder / "out.ipynb", parameters={"n": 21},
    ...                  cwd=folder)
    >>> status["cells"], [(e["cell"], e["ename"]) for e in status["errors"]]
    (3, [(3, 'ZeroDivisionError')])
    >>> nbformat.read(folder / "out.ipynb", as_version=4).cells[2].outputs[0]["text"]
    '42\\n'
    """
    status: dict[str, Any] = {"errors": [], "timed_out": [], "dead_kernel": None, "cells": 0}
    try:
        text = (
            parameterize(notebook, parameters)
            if parameters
            else Path(notebook).read_text(encoding="utf-8")
        )
        nb = json.loads(text)
        if not isinstance(nb, dict) or not isinstance(nb.get("cells"), list):
            raise ValueError("not a notebook: no list of cells")
    except Exception as err:  # unreadable: say so, keep going
        status["error"] = f"{type(err).__name__}: {str(err)[:500]}"
        return status
    kernel = None
    run = None
    try:
        kernel = _start(cwd=str(cwd), env=env, start_timeout=start_timeout)
        run = _Run(kernel, nb, save_path=output, cell_timeout=cell_timeout, output_cap=output_cap)
        run.run()
    except Exception as err:  # the run could not start, or stopped early: say so
        status["error"] = f"{type(err).__name__}: {str(err)[:500]}"
    finally:
        if kernel is not None:
            kernel.close()
    if run is not None:
        status = {**run.status, **({"error": status["error"]} if "error" in status else {})}
    return status


def main(argv: list[str]) -> int:
    """``python -I _execute.py CONFIG.json``: run and write the status file."""
    config = json.loads(Path(argv[0]).read_text(encoding="utf-8"))
    status = execute(**config["execute"])
    Path(config["status"]).write_text(json.dumps(status), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
