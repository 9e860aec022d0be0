"""`healthlab run`: papermill in real kernels, in parallel, a failure reported, the HTML report."""

from __future__ import annotations

import json
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import nbformat
import pytest

from healthlab import exercises, runs
from healthlab.errors import InvalidParameterError

DATA = Path(__file__).parent / "data"
GOOD = DATA / "notebooks" / "fixture-exercises.ipynb"
FAILING = DATA / "broken" / "fixture-failing.ipynb"


@pytest.fixture(scope="module")
def report(tmp_path_factory):
    """Three notebooks on two threads of this process: two good ones and a failing one.

    Threads share ``os.environ``, so answers landing in each notebook's own file prove that the
    answers path reaches each kernel rather than the process (as on a Dask worker).
    """
    folder = tmp_path_factory.mktemp("notebooks")
    copy = nbformat.read(GOOD, as_version=4)
    copy.cells[2].source = copy.cells[2].source.replace("fixture-exercises", "fixture-twin")
    nbformat.write(copy, folder / "fixture-twin.ipynb")
    out = tmp_path_factory.mktemp("run")
    with ThreadPoolExecutor(2) as pool:
        return runs.run_notebooks(
            [GOOD, folder / "fixture-twin.ipynb", FAILING],
            size="tiny",
            parameters={"scale": 1.05},
            out=out,
            executor=pool,
        )


@pytest.mark.slow
def test_each_notebook_has_its_result_in_order(report):
    assert [r.name for r in report.results] == [
        "fixture-exercises",
        "fixture-twin",
        "fixture-failing",
    ]
    assert [r.status for r in report.results] == ["passed", "passed", "failed"]
    assert not report.ok
    good = report.results[0]
    assert set(good.answers) == {"q1", "q2", "q3", "q4", "q5"} and good.missing == []
    assert all(check["ok"] for check in good.checks.values())
    assert good.error is None and good.seconds > 0


@pytest.mark.slow
def test_parameters_reach_the_notebooks_that_have_them(report, tmp_path):
    good, _, failing = report.results
    assert good.parameters == {"scale": 1.05, "size": "tiny"}
    assert failing.parameters == {"size": "tiny"}  # it has no scale
    assert 77 < good.answers["q1"] < 81  # ages of mean 75, times 1.05
    with pytest.raises(InvalidParameterError, match="no notebook to run has the parameter typo"):
        runs.run_notebooks([GOOD], parameters={"typo": 1}, out=tmp_path)


@pytest.mark.slow
def test_each_kernel_gets_its_own_answers_file(report):
    for r in report.results:
        lines = (report.out / r.answers_file).read_text().splitlines()
        assert {json.loads(line)["notebook"] for line in lines} == {r.name}
        assert len(lines) == (5 if r.passed else 1)


@pytest.mark.slow
def test_the_files_of_a_run(report):
    out = report.out
    for result in report.results:
        executed = nbformat.read(out / result.output, as_version=4)
        assert any("injected-parameters" in c.metadata.get("tags", []) for c in executed.cells)
        assert (out / result.html).read_text().startswith("<!DOCTYPE html>")
        assert exercises.read_answers(out / result.answers_file) == result.answers
    saved = json.loads((out / "results.json").read_text())
    assert saved["ok"] is False
    assert [r["status"] for r in saved["results"]] == ["passed", "passed", "failed"]
    assert not list(out.rglob(".*.tmp"))  # nothing half-written left behind


@pytest.mark.slow
def test_a_failing_notebook_names_its_cell_and_error_and_keeps_its_answers(report):
    failed = report.results[2]
    assert failed.error["ename"] == "ZeroDivisionError"
    assert failed.error["cell"] == 3  # the fourth cell of the source notebook
    assert "ratio = 1 / 0" in failed.error["source"]
    assert "ZeroDivisionError" in failed.error["traceback"]
    assert "\x1b[" not in failed.error["traceback"]  # no terminal colours in the report
    assert failed.answers == {"q1": 3}  # recorded before the crash, not lost
    assert failed.html is not None  # a failed notebook is rendered too


def test_find_notebooks_by_path_name_or_number(tmp_path):
    for name in ("00-tour", "01-population-aging", "01b-extra"):
        (tmp_path / f"{name}.ipynb").write_text("{}")
    assert [p.stem for p in runs.find_notebooks([], tmp_path)] == [
        "00-tour",
        "01-population-aging",
        "01b-extra",
    ]
    assert runs.find_notebooks(["00"], tmp_path)[0].stem == "00-tour"
    assert runs.find_notebooks(["01-population-aging.ipynb"], tmp_path)[0].stem == (
        "01-population-aging"
    )
    with pytest.raises(InvalidParameterError, match="'02' is not a notebook path or name"):
        runs.find_notebooks(["02"], tmp_path)
    with pytest.raises(InvalidParameterError, match="no notebooks"):
        runs.find_notebooks([], tmp_path / "empty")


def test_parse_parameter():
    assert runs.parse_parameter("rate=0.5") == ("rate", 0.5)
    assert runs.parse_parameter("flag=true") == ("flag", True)
    assert runs.parse_parameter("name=a b") == ("name", "a b")
    with pytest.raises(InvalidParameterError, match="name=value"):
        runs.parse_parameter("seed")


def test_default_out_is_a_new_timestamped_folder(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    first = runs.default_out()
    assert first.parent == Path("runs")
    first.mkdir(parents=True)
    assert runs.default_out() != first


@pytest.mark.slow
def test_cli_runs_in_processes_and_its_exit_code_says_whether_all_passed(tmp_path):
    exe = Path(sys.executable).with_name("healthlab")
    both = subprocess.run(
        [exe, "run", str(GOOD), str(FAILING), "--size", "tiny", "--jobs", "2", "--seed", "1"]
        + ["--out", str(tmp_path / "both")],
        capture_output=True,
        text=True,
    )
    assert both.returncode == 1, both.stderr
    assert "passed  fixture-exercises" in both.stdout
    assert "ZeroDivisionError in cell 4: division by zero" in both.stdout
    assert "1 of 2 passed" in both.stdout
    results = json.loads((tmp_path / "both" / "results.json").read_text())["results"]
    assert {r["parameters"]["seed"] for r in results} == {1}
    assert "Kernel is running" not in both.stderr  # kernel chatter stays in its log
    good = subprocess.run(
        [exe, "run", str(GOOD), "--size", "tiny", "--out", str(tmp_path / "good")],
        capture_output=True,
        text=True,
    )
    assert good.returncode == 0, good.stdout + good.stderr
    bad = subprocess.run([exe, "run", "no-such-notebook"], capture_output=True, text=True)
    assert bad.returncode == 2 and "is not a notebook path or name" in bad.stderr
    twice = subprocess.run(
        [exe, "run", str(GOOD), "--seed", "1", "-p", "seed=2"], capture_output=True, text=True
    )
    assert twice.returncode == 2 and "--seed 1 and -p seed=2 disagree" in twice.stderr


@pytest.mark.slow
def test_report_in_headless_chromium(report, browser, tmp_path):
    page = browser(report.index)
    assert "healthlab run: 1 failed" in page.text
    assert "fixture-exercises .ipynb · answers passed" in page.text
    assert "fixture-twin .ipynb · answers passed" in page.text
    assert "fixture-failing .ipynb · answers failed ZeroDivisionError in cell 4" in page.text
    assert "The failing cell: ratio = 1 / 0" in page.text
    assert page.console == []
    png = page.screenshot.read_bytes()
    assert png[:8] == b"\x89PNG\r\n\x1a\n" and len(png) > 10_000


@pytest.mark.slow
def test_the_browser_check_can_fail(browser, tmp_path):
    page_file = tmp_path / "broken.html"
    page_file.write_text("<p>x</p><script>console.error('boom'); missing();</script>")
    console = browser(page_file).console
    assert any("boom" in line for line in console)
    assert any("missing is not defined" in line for line in console)


def test_notebooks_start_longest_first_by_their_earlier_runs(tmp_path):
    # Three notebooks that log when they start, on one thread: the log is the start order.
    log = tmp_path / "started.txt"
    names = ["00-short", "01-long", "02-new"]
    for name in names:
        nb = nbformat.v4.new_notebook(metadata={"kernelspec": {
            "name": "python3", "language": "python", "display_name": "Python 3"}})  # fmt: skip
        nb.cells = [
            nbformat.v4.new_code_cell("n = 1", metadata={"tags": ["parameters"]}),
            nbformat.v4.new_code_cell(f"open({str(log)!r}, 'a').write({name!r} + '\\n')"),
        ]
        nbformat.write(nb, tmp_path / f"{name}.ipynb")
    runs_dir = tmp_path / "runs"
    (runs_dir / "earlier").mkdir(parents=True)
    earlier = [
        {"name": "00-short", "status": "passed", "seconds": 3.0, "parameters": {"n": 2}},
        {"name": "01-long", "status": "passed", "seconds": 80.0, "parameters": {"n": 2}},
        {"name": "00-short", "status": "passed", "seconds": 500.0, "parameters": {"n": 9}},
    ]  # the last is another setting of n: it says nothing of a run with n = 2
    (runs_dir / "earlier" / "results.json").write_text(json.dumps({"results": earlier}))
    with ThreadPoolExecutor(1) as pool:
        report = runs.run_notebooks(
            [tmp_path / f"{n}.ipynb" for n in names], parameters={"n": 2},
            out=runs_dir / "now", executor=pool,
        )  # fmt: skip
    assert report.ok
    assert log.read_text().split() == ["02-new", "01-long", "00-short"]
    assert [r.name for r in report.results] == names  # the report keeps reading order


def test_a_written_answer_is_previewed_as_one_line():
    from healthlab._run_report import _value

    answer = "\n    Rural counties have\n    fewer doctors.\n"
    assert _value(answer) == "'Rural counties have fewer doctors.'"
    assert _value("word " * 30).endswith("...'") and len(_value("word " * 30)) == 62


FLAKY_KERNEL = """\
import pathlib, sys
count = pathlib.Path(sys.argv[1])
started = int(count.read_text()) if count.exists() else 0
count.write_text(str(started + 1))
if started < int(sys.argv[2]):
    sys.exit("flaky kernel: its ports were taken")  # as ipykernel does when a bind fails
from ipykernel import kernelapp
sys.argv = [sys.argv[0], "-f", sys.argv[3]]
kernelapp.launch_new_instance()
"""


def _flaky_kernel(tmp_path, monkeypatch, deaths: int) -> Path:
    """A real kernel that exits before it answers the first ``deaths`` times it is started."""
    script = tmp_path / "flaky_kernel.py"
    script.write_text(FLAKY_KERNEL)
    count = tmp_path / "starts.txt"
    spec = tmp_path / "jupyter" / "kernels" / "flaky"
    spec.mkdir(parents=True)
    argv = [sys.executable, str(script), str(count), str(deaths), "{connection_file}"]
    spec.joinpath("kernel.json").write_text(
        json.dumps({"argv": argv, "display_name": "Flaky", "language": "python"})
    )
    monkeypatch.setenv("JUPYTER_PATH", str(tmp_path / "jupyter"))
    return count


def _hello(tmp_path) -> Path:
    nb = nbformat.v4.new_notebook(metadata={"kernelspec": {
        "name": "flaky", "language": "python", "display_name": "Flaky"}})  # fmt: skip
    nb.cells = [nbformat.v4.new_code_cell("print(6 * 7)")]
    path = tmp_path / "hello.ipynb"
    nbformat.write(nb, path)
    return path


def test_a_kernel_that_dies_before_it_answers_is_started_again(tmp_path, monkeypatch):
    count = _flaky_kernel(tmp_path, monkeypatch, deaths=1)
    result = runs.run_notebook(
        runs.RunTask(str(_hello(tmp_path)), str(tmp_path / "run"), {}, kernel="flaky")
    )
    assert result.passed, result.error
    assert count.read_text() == "2"
    executed = nbformat.read(tmp_path / "run" / result.output, as_version=4)
    assert executed.cells[-1].outputs[0]["text"] == "42\n"
    log = (tmp_path / "run" / "work" / "hello" / "kernel.log").read_text()
    assert "its ports were taken" in log and "(attempt 1); starting a new kernel" in log


def test_a_kernel_that_never_starts_fails_with_its_own_last_words(tmp_path, monkeypatch):
    count = _flaky_kernel(tmp_path, monkeypatch, deaths=99)
    result = runs.run_notebook(
        runs.RunTask(str(_hello(tmp_path)), str(tmp_path / "run"), {}, kernel="flaky")
    )
    assert result.status == "failed"
    assert count.read_text() == str(runs.START_ATTEMPTS)
    assert result.error["evalue"].startswith(
        "Kernel died before replying to kernel_info (3 attempts)"
    )
    assert "work/hello/kernel.log: flaky kernel: its ports were taken" in result.error["evalue"]
