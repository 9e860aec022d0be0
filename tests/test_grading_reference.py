"""The reference run: forked from a warm server, a fresh namespace and the student's parameters."""

from __future__ import annotations

import json

import nbformat
import pytest

from healthlab.grading._reference import WarmReference, source_imports

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
