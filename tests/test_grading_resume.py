"""An interrupted or failed run loses nothing graded; the next run grades only what is left."""

from __future__ import annotations

import concurrent.futures as cf

import nbformat
import pytest
from grading_helpers import AUTO_POINTS, SECRET, SOURCE, solved, write_roster

from healthlab import grading
from healthlab.grading.gradebook import Gradebook

pytestmark = pytest.mark.slow


class LosesOneWorker(cf.ThreadPoolExecutor):
    """An executor whose worker for student ``b`` is lost (any Executor may be passed)."""

    def submit(self, fn, task, *args, **kwargs):
        if task.student_id == "b":
            future = cf.Future()
            future.set_exception(RuntimeError("worker lost"))
            return future
        return super().submit(fn, task, *args, **kwargs)


def test_resume_after_a_lost_worker(tmp_path):
    roster = write_roster(tmp_path / "roster.csv", ["a", "b"])
    secret = tmp_path / "secret"
    secret.write_bytes(SECRET)
    subs = tmp_path / "subs"
    subs.mkdir()
    for sid in ("a", "b"):
        nbformat.write(solved(), subs / f"{sid}.ipynb")
    args = dict(
        roster=roster,
        secret_file=secret,
        submissions=subs,
        out=tmp_path / "grades",
        parameters={"size": "tiny"},
        limits=grading.Limits(cell_timeout=60),
    )
    with LosesOneWorker(1) as pool:
        first = grading.grade(SOURCE, executor=pool, **args)
    assert first.graded == ["a"] and "worker lost" in first.errors["b"]
    with Gradebook(tmp_path / "grades" / "gradebook.sqlite") as book:
        assert book.student("a")["total"] == AUTO_POINTS
        assert book.student("b")["status"] == "error"

    second = grading.grade(SOURCE, jobs=1, **args)
    assert second.skipped == ["a"] and second.graded == ["b"]
    third = grading.grade(SOURCE, jobs=1, **args)
    assert third.skipped == ["a", "b"] and third.graded == []
    with Gradebook(tmp_path / "grades" / "gradebook.sqlite") as book:
        assert [s["total"] for s in book.students()] == [AUTO_POINTS, AUTO_POINTS]
        assert book.check() == "ok"
