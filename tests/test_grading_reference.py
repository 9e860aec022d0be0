"""The reference run: forked from a warm server, a fresh namespace and the student's parameters."""

from __future__ import annotations

import concurrent.futures as cf
import json
import os
import uuid
from pathlib import Path

import nbformat
import pytest

from healthlab import grading
from healthlab.grading._reference import WarmReference, source_imports
from healthlab.grading.grade import _warm
from healthlab.grading.gradebook import Gradebook

SOURCE = [
    ("seed = 0\nsize = 'small'", ["parameters"]),
    ("import json, os\nimport healthlab.exercises as ex\nfrom collections import Counter", []),
    ("import sys\ncounter = sys.modules['json']\nseen = getattr(counter, 'seen', [])", []),
    ("seen.append(seed)\ncounter.seen = seen", []),
    (
        "with open(os.environ['HEALTHLAB_ANSWERS'], 'a') as fh:\n"
        "    fh.write(json.dumps({'seed': seed, 'size': size, 'seen': seen}) + '\\n')",
        [],
    ),
    ("1 / 0", []),
    ("import time\nif seed == 3:\n    time.sleep(60)", []),
    ("print('after the failing cells')\nopen('last.txt', 'w').write('ran')", []),
]


@pytest.fixture(scope="module")
def source(tmp_path_factory):
    folder = tmp_path_factory.mktemp("reference")
    nb = nbformat.v4.new_notebook(
        cells=[nbformat.v4.new_code_cell(c, metadata={"tags": t}) for c, t in SOURCE]
    )
    nbformat.write(nb, folder / "source.ipynb")
    return folder / "source.ipynb"


def run(warm, source, tmp_path, name, parameters, **kw):
    folder = tmp_path / name
    folder.mkdir()
    env = {"HEALTHLAB_ANSWERS": str(folder / "answers.jsonl")}
    status = warm.run(source, parameters, cwd=folder, env=env, **kw)
    lines = (folder / "answers.jsonl").read_text().splitlines()
    return status, [json.loads(line) for line in lines], folder


def test_the_source_imports_are_what_the_server_loads(source):
    nb = nbformat.read(source, as_version=4)
    assert source_imports(nb) == [
        "json",
        "os",
        "healthlab.exercises",
        "collections",
        "collections.Counter",
        "sys",
        "time",
    ]


def test_each_run_gets_its_parameters_and_a_fresh_process(source, tmp_path):
    with WarmReference(source_imports(nbformat.read(source, as_version=4))) as warm:
        first, answers1, folder1 = run(warm, source, tmp_path, "a", {"seed": 11, "size": "tiny"})
        second, answers2, _ = run(warm, source, tmp_path, "b", {"seed": 12})
    # Module state one run changed (json.seen) is gone in the next: each run is a new process.
    assert answers1 == [{"seed": 11, "size": "tiny", "seen": [11]}]
    assert answers2 == [{"seed": 12, "size": "small", "seen": [12]}]
    # Cells are numbered among the source's own code cells (the injected one is not counted).
    assert first["cells"] == len(SOURCE)
    assert first["errors"] == [
        {"cell": 6, "ename": "ZeroDivisionError", "evalue": "division by zero"}
    ]
    assert first["timed_out"] == [] and (folder1 / "last.txt").read_text() == "ran"
    assert second["errors"] == first["errors"]


def test_a_cell_past_its_limit_is_stopped_and_the_rest_still_run(source, tmp_path):
    with WarmReference([]) as warm:
        status, answers, folder = run(warm, source, tmp_path, "slow", {"seed": 3}, cell_timeout=2)
    assert status["timed_out"] == [7]
    assert answers[0]["seed"] == 3 and (folder / "last.txt").read_text() == "ran"


def test_a_run_past_its_total_limit_is_killed(source, tmp_path):
    with WarmReference([]) as warm:
        folder = tmp_path / "killed"
        folder.mkdir()
        env = {"HEALTHLAB_ANSWERS": str(folder / "answers.jsonl")}
        status = warm.run(source, {"seed": 3}, cwd=folder, env=env, total_timeout=2)
        assert "time limit" in status["error"]
        again, answers, _ = run(warm, source, tmp_path, "after", {"seed": 4})  # still serving
    assert answers[0]["seed"] == 4 and again["timed_out"] == []


def _still_running(token: str) -> list[str]:
    """Processes other than this one whose environment holds ``token``: what a run left."""
    found = []
    for pid in os.listdir("/proc"):
        if not pid.isdigit() or int(pid) == os.getpid():
            continue
        try:
            environ = Path(f"/proc/{pid}/environ").read_bytes()
            cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
        except OSError:
            continue
        command = cmdline.replace(b"\0", b" ").decode(errors="replace")
        # multiprocessing's resource tracker serves this process until it exits, by design.
        if token.encode() in environ and "resource_tracker" not in command:
            found.append(command)
    return found


@pytest.mark.slow
@pytest.mark.parametrize("pool", ["processes", "threads"])
def test_no_reference_server_outlives_its_grade_run(tmp_path, monkeypatch, pool):
    # Every process the run starts inherits this variable (the sandbox's do not: it gives them
    # an environment of their own, and kills them itself).
    token = f"run-{uuid.uuid4().hex}"
    monkeypatch.setenv("HEALTHLAB_TEST_RUN", token)
    course = grading.example_course(tmp_path, students=("s001",))
    grading.assign(
        course.source, roster=course.roster, secret_file=course.secret_file, out=tmp_path / "rel"
    )
    (tmp_path / "subs").mkdir()
    (tmp_path / "subs" / "s001.ipynb").write_bytes((tmp_path / "rel" / "s001.ipynb").read_bytes())
    args = dict(
        roster=course.roster,
        secret_file=course.secret_file,
        submissions=tmp_path / "subs",
        out=tmp_path / "grades",
        jobs=1,
    )
    executor = cf.ThreadPoolExecutor(1) if pool == "threads" else None
    for force in (False, True):  # two runs: the second starts servers of its own again
        report = grading.grade(course.source, executor=executor, force=force, **args)
        assert report.graded == ["s001"], report.summary()
        with Gradebook(tmp_path / "grades" / "gradebook.sqlite") as book:
            (score,) = book.scores()
        assert isinstance(score["reference"], float)  # the server did run the source
        assert _still_running(token) == []
        assert _warm == {}  # nothing kept for the next run
    if executor is not None:
        executor.shutdown()
