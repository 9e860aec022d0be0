"""Course tracks: the shipped ones hold together, broken ones say where, and the site builds."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

from healthlab import courses

DATA = Path(__file__).parent / "data"
TRACKS = DATA / "curricula"
SHIPPED = courses.list_tracks()


def test_the_three_levels_ship():
    assert {"foundation", "practitioner", "advanced"} <= {p.stem for p in SHIPPED}


@pytest.mark.parametrize("path", SHIPPED, ids=[p.stem for p in SHIPPED])
def test_every_shipped_track_passes_check(path):
    track = courses.check_track(path)
    assert track.modules and track.hours > 0
    for module in track.modules:
        assert module.objectives and module.competencies
        assert module.parameters.get("size") in (None, "tiny", "small")


def test_competencies_carry_their_sources():
    defined = courses.competencies()
    assert [c for c in defined if c.startswith("AMIA-")] == [f"AMIA-F{i}" for i in range(1, 11)]
    assert [c for c in defined if c.startswith("IMIA-")] == [f"IMIA-{i}" for i in range(1, 5)]
    for spec in courses.frameworks().values():
        assert spec["source"] and spec["doi"] and spec["url"].startswith("https://")


@pytest.fixture
def fixture_notebooks(monkeypatch):
    monkeypatch.setenv("HEALTHLAB_NOTEBOOKS", str(DATA / "notebooks"))


def test_fixture_track_passes(fixture_notebooks):
    track = courses.check_track(TRACKS / "fixture-course.yaml")
    assert [m.id for m in track.modules] == ["first", "second"]
    assert track.hours == 3.5


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("missing-notebook", [(":6:", "module first: no notebook '99-nowhere'")]),
        (
            "unknown-parameter",
            [(":11:", "fixture-exercises has no parameter 'sclae'; its parameters: seed, size")],
        ),
        ("cycle", [(":10:", "prerequisites form a cycle: a -> c -> b -> a")]),
        (
            "unknown-competency",
            [(":10:", "competency 'AMIA-F99' is not defined in competencies.yaml")],
        ),
        (
            "bad-schema",
            [
                (":5:", "a module lacks 'objectives'"),
                (":8:", "hours must be a positive number"),
                (":9:", "unknown key 'objective'"),
            ],
        ),
    ],
)
def test_broken_tracks_name_file_line_and_problem(fixture_notebooks, name, expected):
    path = TRACKS / f"{name}.yaml"
    with pytest.raises(courses.TrackError) as caught:
        courses.check_track(path)
    problems = caught.value.problems
    for line, message in expected:
        assert any(p.startswith(f"{path}{line}") and message in p for p in problems), problems


def test_prerequisite_out_of_order_and_unknown_track(fixture_notebooks, tmp_path):
    text = (TRACKS / "fixture-course.yaml").read_text()
    swapped = text.replace("prerequisites: []", "prerequisites: [second]").replace(
        "prerequisites: [first]", "prerequisites: []"
    )
    path = tmp_path / "fixture-course.yaml"
    path.write_text(swapped)
    with pytest.raises(courses.TrackError, match="needs second, which comes after it"):
        courses.check_track(path)
    with pytest.raises(courses.TrackError, match="no track named 'nope'"):
        courses.check_track("nope")


def test_cli_check_exit_codes(fixture_notebooks):
    exe = Path(sys.executable).with_name("healthlab")
    good = subprocess.run(
        [exe, "course", "check", str(TRACKS / "fixture-course.yaml")],
        capture_output=True,
        text=True,
    )
    assert good.returncode == 0 and "ok  fixture-course: 2 modules" in good.stdout
    bad = subprocess.run(
        [exe, "course", "check", str(TRACKS / "cycle.yaml"), str(TRACKS / "bad-schema.yaml")],
        capture_output=True,
        text=True,
    )
    assert bad.returncode == 2
    assert "cycle.yaml:10: prerequisites form a cycle" in bad.stderr
    assert "bad-schema.yaml:8: module first: hours must be a positive number" in bad.stderr


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    mp = pytest.MonkeyPatch()
    mp.setenv("HEALTHLAB_NOTEBOOKS", str(DATA / "notebooks"))
    out = tmp_path_factory.mktemp("site") / "course"
    try:
        yield courses.build_site(TRACKS / "fixture-course.yaml", out, jobs=2)
    finally:
        mp.undo()


@pytest.mark.slow
def test_site_files(site):
    assert site.ok and site.seconds > 0
    out = site.out
    assert sorted(p.name for p in (out / "modules").iterdir()) == ["first.html", "second.html"]
    assert not (out / "run").exists()  # the executed sources (with solutions) stay out
    assert not list(out.parent.glob(".course*"))  # no half-built folder left beside it
    text = (out / "modules" / "first.html").read_text()
    assert "Answers are saved to healthlab-answers/fixture-exercises.jsonl" in text
    assert "YOUR CODE HERE" in text and ">idxmax<" not in text and "idxmax" not in text
    handout = nbformat.read(out / "notebooks" / "second.ipynb", as_version=4)
    assert "BEGIN SOLUTION" not in "".join(c.source for c in handout.cells)
    injected = [c for c in handout.cells if "injected-parameters" in c.metadata.get("tags", [])]
    assert "scale = 1.1" in injected[0].source


@pytest.mark.slow
def test_site_in_headless_chromium(site, browser):
    home = browser(site.index, size=(1280, 1600))
    text = home.text
    assert "A fixture course" in text and "2 modules · 3.5 hours" in text
    assert text.index("The first look") < text.index("The second look, older")  # in order
    assert "You will be able to: Read a table" in text
    assert "Competency matrix" in text and "AMIA-F8" in text
    assert 'id="matrix-table"' in home.dom and home.dom.count('class="yes"') == 4
    assert home.console == [], home.console
    assert home.screenshot.stat().st_size > 10_000
    for module, title in (("first", "The first look"), ("second", "The second look, older")):
        page = browser(site.out / "modules" / f"{module}.html")
        assert title in page.text and "A fixture source notebook" in page.text
        assert "Question 1 (2 points)" in page.text
        assert page.console == [], (module, page.console)


@pytest.mark.slow
def test_rebuild_replaces_the_site_whole(tmp_path, monkeypatch):
    monkeypatch.setenv("HEALTHLAB_NOTEBOOKS", str(DATA / "notebooks"))
    out = tmp_path / "course"
    out.mkdir()
    (out / "stale.html").write_text("old")
    rebuilt = courses.build_site(
        TRACKS / "fixture-course.yaml", out, size="tiny", jobs=2, solutions=True
    )
    assert not (out / "stale.html").exists()
    assert (out / "run" / "index.html").exists()  # an instructor's site keeps the run report
    assert ">idxmax<" in (out / "modules" / "first.html").read_text()
    assert rebuilt.ok
