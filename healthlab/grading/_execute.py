"""Run one notebook with papermill, cell by cell, whatever its cells do.

Used inside the sandbox for the student's notebook (run as
``python -I .../_execute.py CONFIG.json``), by ``healthlab validate``, and for the
instructor's source where the warm reference server cannot be used (no ``fork``). Every
cell runs even after one fails or times out (a timed-out cell
is interrupted), so each question is graded on its own; the outputs a notebook may keep are
capped, so a cell printing a gigabyte neither fills the memory of the process that collects them
nor the executed notebook. A kernel that dies ends the run: the cells left are reported as not
run. The returned status is plain JSON.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path
from typing import Any

__all__ = ["execute"]

ENGINE = "healthlab-grading"
NOTE = "[healthlab: output beyond {cap:,} bytes was dropped]"
#: Seconds between writes of the executed notebook while it runs (and once at its end).
SAVE_EVERY = 5.0
#: Optional imports of papermill and nbformat that running a local notebook never uses and
#: that cost seconds at every start (cloud storage clients, an IRI grammar); the sandboxed
#: runner (``main``) goes without them. The student's kernel is a process of its own and
#: keeps them all.
UNUSED = ("rfc3987_syntax", "pyarrow", "boto3", "botocore", "azure", "gcsfs", "github")


def _engine():
    """The papermill engine with capped outputs and per-cell recovery (built on first use)."""
    from nbclient.exceptions import CellTimeoutError, DeadKernelError
    from papermill.clientwrap import PapermillNotebookClient
    from papermill.engines import NBClientEngine, papermill_engines

    class Client(PapermillNotebookClient):
        def __init__(self, nb_man, *, output_cap: int, env: dict | None, save_path=None, **kw):
            super().__init__(nb_man, **kw)
            self.output_cap = output_cap
            self.save_path = save_path
            self.saved = time.monotonic()
            self.kernel_env = env
            self.kept = 0
            self.dropped = False
            self.status: dict[str, Any] = {"errors": [], "timed_out": [], "dead_kernel": None}

        def execute(self, **kwargs):
            if self.kernel_env is not None:
                kwargs["env"] = self.kernel_env
            return super().execute(**kwargs)

        def papermill_execute_cells(self):
            cells = self.nb.cells
            number = _numbering(cells)
            self.status["cells"] = sum(n is not None for n in number)
            started = time.monotonic()
            try:
                self._run_cells(cells, number)
            finally:
                self.status["seconds"] = round(time.monotonic() - started, 3)
                self.status["outputs_dropped"] = self.dropped

        def _run_cells(self, cells, number):
            for index, cell in enumerate(cells):
                try:
                    self.nb_man.cell_start(cell, index)
                    self.execute_cell(cell, index)
                except CellTimeoutError:  # interrupting failed to stop it: move on
                    self.status["timed_out"].append(number[index])
                except DeadKernelError:
                    self.status["dead_kernel"] = number[index]
                    break
                finally:
                    self.nb_man.cell_complete(cells[index], cell_index=index)
                    self._save_now_and_then()
                for out in cell.get("outputs", []):
                    if out.get("output_type") == "error":
                        if out.get("ename") == "KeyboardInterrupt":
                            self.status["timed_out"].append(number[index])
                        else:
                            self.status["errors"].append(
                                {
                                    "cell": number[index],
                                    "ename": str(out.get("ename"))[:200],
                                    "evalue": str(out.get("evalue"))[:500],
                                }
                            )

        def _save_now_and_then(self):
            """Write the executed notebook every few seconds (papermill writes it at the end)."""
            if self.save_path and time.monotonic() - self.saved >= SAVE_EVERY:
                from papermill.iorw import write_ipynb

                write_ipynb(self.nb, self.save_path)
                self.saved = time.monotonic()

        def process_message(self, msg, cell, cell_index):
            if msg.get("msg_type") in ("stream", "display_data", "execute_result", "error"):
                size = _size(msg.get("content", {}))
                if self.kept + size > self.output_cap:
                    if not self.dropped:
                        self.dropped = True
                        cell.outputs.append(
                            {
                                "output_type": "stream",
                                "name": "stderr",
                                "text": NOTE.format(cap=self.output_cap) + "\n",
                            }
                        )
                    return None
                self.kept += size
            return super().process_message(msg, cell, cell_index)

    class Engine(NBClientEngine):
        @classmethod
        def execute_managed_notebook(cls, nb_man, kernel_name, **kwargs):
            client = Client(
                nb_man,
                output_cap=kwargs.pop("output_cap"),
                env=kwargs.pop("env", None),
                save_path=kwargs.pop("save_path", None),
                timeout=kwargs.pop("execution_timeout", None),
                startup_timeout=kwargs.pop("start_timeout", 60),
                kernel_name=kernel_name,
                allow_errors=True,
                interrupt_on_timeout=True,
                shutdown_kernel="immediate",  # answers are on disk already; do not wait
                **{k: v for k, v in kwargs.items() if k in ("log_output",)},
            )
            try:
                return client.execute()
            finally:
                Engine.status = client.status

    papermill_engines.register(ENGINE, Engine)
    return Engine


def _numbering(cells) -> list[int | None]:
    """Each cell's number among the notebook's own code cells (1-based; None for the rest)."""
    out, n = [], 0
    for cell in cells:
        injected = "injected-parameters" in cell.get("metadata", {}).get("tags", [])
        if cell.cell_type == "code" and not injected:
            n += 1
            out.append(n)
        else:
            out.append(None)
    return out


def _size(content: dict) -> int:
    """Bytes an output message would add to the notebook (text and data payloads)."""
    total = len(content.get("text", "") or "")
    for value in (content.get("data") or {}).values():
        total += len(value) if isinstance(value, str) else len(json.dumps(value))
    total += sum(len(line) for line in content.get("traceback", []) or [])
    return total + 64


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
    """Execute ``notebook`` into ``output`` with papermill; return the run's status.

    Parameters
    ----------
    notebook, output : path
        The notebook to run and where the executed copy goes (written every few seconds and
        at the end).
    parameters : dict
        Injected by papermill after the cell tagged ``parameters``.
    cwd : path
        The kernel's working folder.
    env : dict, optional
        The kernel's whole environment (default: this process's).
    cell_timeout : float
        Seconds a cell may run before it is interrupted.
    output_cap : int
        Bytes of output the executed notebook keeps; the rest is dropped with a note.

    Returns
    -------
    dict
        ``cells`` (code cells run), ``errors`` (cell, ename, evalue), ``timed_out`` (cell
        indices), ``dead_kernel`` (the cell it died in, or None), ``outputs_dropped``, and
        ``error`` when the run could not start or stopped early.
    """
    import papermill
    from papermill.exceptions import PapermillExecutionError

    engine = _engine()
    engine.status = {"errors": [], "timed_out": [], "dead_kernel": None}
    status: dict[str, Any] = {}
    try:
        papermill.execute_notebook(
            str(notebook),
            str(output),
            parameters=parameters,
            engine_name=ENGINE,
            kernel_name="python3",
            progress_bar=False,
            request_save_on_cell_execute=False,  # twice a cell is slow: see SAVE_EVERY
            save_path=str(output),
            cwd=str(cwd),
            execution_timeout=cell_timeout,
            start_timeout=start_timeout,
            output_cap=output_cap,
            env=env,
        )
    except PapermillExecutionError:
        pass  # the errors are in the status, cell by cell
    except Exception as err:  # the run could not start, or stopped early: say so, keep going
        status["error"] = f"{type(err).__name__}: {str(err)[:500]}"
    status = {**engine.status, **status}
    status.setdefault("cells", 0)
    return status


def main(argv: list[str]) -> int:
    """``python -I _execute.py CONFIG.json``: run and write the status file."""
    for name in UNUSED:  # an import of one of them now raises ImportError, which is caught
        sys.modules.setdefault(name, None)
    config = json.loads(Path(argv[0]).read_text(encoding="utf-8"))
    status = execute(**config["execute"])
    Path(config["status"]).write_text(json.dumps(status), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
