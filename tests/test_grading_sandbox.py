"""The sandbox at each isolation level this machine offers, and its limits on the whole run."""

from __future__ import annotations

import json
import socket
import tempfile
import time
from pathlib import Path

import nbformat
import pytest

import healthlab
from healthlab.grading import sandbox

pytestmark = pytest.mark.slow


def notebook(path, *cells):
    nb = nbformat.v4.new_notebook(
        cells=[nbformat.v4.new_code_cell("seed = 0", metadata={"tags": ["parameters"]})]
        + [nbformat.v4.new_code_cell(c) for c in cells],
        metadata={
            "kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"}
        },
    )
    nbformat.write(nb, path)
    return path


PROBE = """
import json, os, socket
found = {"seed": seed, "uid": os.getuid()}
try:
    open(SECRET).read()
    found["secret"] = "read"
except OSError as err:
    found["secret"] = type(err).__name__
try:
    socket.create_connection(("192.0.2.1", 80), timeout=2)
    found["network"] = "connected"
except OSError as err:
    found["network"] = type(err).__name__
import healthlab
found["healthlab"] = healthlab.__file__
import pyarrow  # the runner goes without it, the student's kernel does not
found["pyarrow"] = pyarrow.__name__
with open(os.environ["HEALTHLAB_ANSWERS"], "a") as fh:
    fh.write(json.dumps({"question": "probe", "value": found}) + "\\n")
"""


def levels():
    out = []
    for level in ("root", "userns", "rlimits"):
        try:
            sandbox.isolation(level)
            out.append(level)
        except Exception:
            pass
    return out


@pytest.mark.parametrize("level", levels())
def test_each_level_runs_the_notebook_and_says_what_it_allowed(tmp_path, level):
    secret = tmp_path / "secret"
    secret.write_text("the course secret")
    nb = notebook(tmp_path / "nb.ipynb", PROBE.replace("SECRET", repr(str(secret))))
    result = sandbox.run_notebook(
        nb,
        parameters={"seed": 7},
        data_home=tmp_path,
        folder=tmp_path / "out",
        level=level,
        limits=sandbox.Limits(cell_timeout=60),
    )
    found = json.loads(result.answers.read_text())["value"]
    assert found["seed"] == 7
    assert found["healthlab"] == healthlab.__file__  # the grader's own package, not another
    assert found["pyarrow"] == "pyarrow"
    named = {"root": "root:", "userns": "user namespaces:", "rlimits": "rlimits only:"}
    assert result.level == level and result.isolation.startswith(named[level])
    if level == "rlimits":
        assert "can read what the grading user can" in result.isolation
    else:
        assert found["secret"] in ("FileNotFoundError", "PermissionError")
        assert found["network"] == "OSError"
    if level == "root":
        assert found["uid"] >= sandbox.UID_BASE


def test_the_whole_run_stops_at_its_total_limit(tmp_path):
    nb = notebook(tmp_path / "nb.ipynb", "import time\ntime.sleep(600)", "print('never')")
    started = time.monotonic()
    result = sandbox.run_notebook(
        nb,
        parameters={},
        data_home=tmp_path,
        folder=tmp_path / "o",
        limits=sandbox.Limits(cell_timeout=300, total_timeout=8),
    )
    assert time.monotonic() - started < 60
    assert result.report["timed_out"] is True
    assert any("time limit" in p for p in result.problems())


def test_an_oversized_or_linked_answers_file_is_not_read(tmp_path):
    big = notebook(
        tmp_path / "big.ipynb",
        "import os\nopen(os.environ['HEALTHLAB_ANSWERS'], 'w').write('x' * 3_000_000)",
    )
    result = sandbox.run_notebook(big, parameters={}, data_home=tmp_path, folder=tmp_path / "o1")
    assert not result.answers.exists()
    assert any("too large" in p for p in result.problems())
    link = notebook(
        tmp_path / "link.ipynb",
        "import os\nos.symlink('/etc/hostname', os.environ['HEALTHLAB_ANSWERS'])",
    )
    result = sandbox.run_notebook(link, parameters={}, data_home=tmp_path, folder=tmp_path / "o2")
    assert not result.answers.exists()
    assert any("not a regular file" in p or "no answer" in p for p in result.problems())


def test_a_cell_that_ignores_interrupts_ends_the_run_with_a_reason(tmp_path):
    from healthlab.grading._execute import INTERRUPT_GRACE, execute

    nb = notebook(
        tmp_path / "nb.ipynb",
        "print(seed)",
        "import signal\nsignal.signal(signal.SIGINT, signal.SIG_IGN)\nwhile True:\n    pass",
        "print('never')",
    )
    started = time.monotonic()
    status = execute(
        nb, tmp_path / "out.ipynb", parameters={"seed": 5}, cwd=tmp_path, cell_timeout=2
    )
    assert time.monotonic() - started < 2 + INTERRUPT_GRACE + 30
    assert status["timed_out"] == [3]
    assert "did not stop when interrupted" in status["error"]
    cells = nbformat.read(tmp_path / "out.ipynb", as_version=4).cells
    assert cells[2].outputs[0]["text"] == "5\n"  # the injected parameter, then the cells before
    assert cells[-1].outputs == []


@pytest.fixture
def held_port():
    """A port a socket here holds while the test runs."""
    with socket.socket() as held:
        held.bind(("127.0.0.1", 0))
        held.listen()
        yield held.getsockname()[1]


def _taking_ports(monkeypatch, port: int, times: int) -> list[int]:
    """Hand the first ``times`` kernels a shell port already taken, as a lost race would."""
    from healthlab.grading import _execute

    real, calls = _execute._free_ports, []

    def picked(n):
        calls.append(n)
        ports = real(n)
        return [port, *ports[1:]] if len(calls) <= times else ports

    monkeypatch.setattr(_execute, "_free_ports", picked)
    return calls


def test_a_kernel_whose_port_is_taken_is_started_again_on_new_ports(
    tmp_path, monkeypatch, held_port
):
    from healthlab.grading._execute import execute

    calls = _taking_ports(monkeypatch, held_port, times=1)
    nb = notebook(tmp_path / "nb.ipynb", "print(seed * 2)")
    status = execute(nb, tmp_path / "out.ipynb", parameters={"seed": 21}, cwd=tmp_path)
    assert len(calls) == 2 and "error" not in status, status
    assert (
        nbformat.read(tmp_path / "out.ipynb", as_version=4).cells[-1].outputs[0]["text"] == "42\n"
    )


def test_a_kernel_that_never_starts_is_reported_and_leaves_nothing(
    tmp_path, monkeypatch, held_port
):
    from healthlab.grading import _execute

    calls = _taking_ports(monkeypatch, held_port, times=99)
    before = set(Path(tempfile.gettempdir()).glob("healthlab-kernel-*"))
    nb = notebook(tmp_path / "nb.ipynb", "print(seed)")
    status = _execute.execute(nb, tmp_path / "out.ipynb", parameters={"seed": 1}, cwd=tmp_path)
    assert len(calls) == _execute.START_ATTEMPTS
    assert status["error"].startswith(
        "KernelDied: the kernel exited (1) before it was ready, 3 times"
    )
    assert set(Path(tempfile.gettempdir()).glob("healthlab-kernel-*")) == before
