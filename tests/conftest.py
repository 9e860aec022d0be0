"""Shared fixtures: every test session gets its own dataset cache, never the user's."""

from __future__ import annotations

import os
from pathlib import Path

import pytest


@pytest.fixture(scope="session", autouse=True)
def healthlab_home(tmp_path_factory):
    """Point HEALTHLAB_HOME at a temporary folder for the whole session."""
    home = tmp_path_factory.mktemp("healthlab-home")
    previous = os.environ.get("HEALTHLAB_HOME")
    os.environ["HEALTHLAB_HOME"] = str(home)
    yield home
    if previous is None:
        os.environ.pop("HEALTHLAB_HOME", None)
    else:
        os.environ["HEALTHLAB_HOME"] = previous


@pytest.fixture(scope="session")
def dask_cluster():
    """The address of a real Dask cluster on this machine (two worker processes)."""
    from distributed import LocalCluster

    with LocalCluster(
        n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None
    ) as cluster:
        yield cluster.scheduler_address


class Page:
    """What headless Chromium saw of a page: its text, its console messages, a screenshot."""

    def __init__(self, dom: str, console: list[str], screenshot):
        from html.parser import HTMLParser

        self.dom = dom
        self.console = console
        self.screenshot = screenshot
        chunks: list[str] = []

        class Text(HTMLParser):
            skip = 0

            def handle_starttag(self, tag, attrs):
                self.skip += tag in ("script", "style")

            def handle_endtag(self, tag):
                self.skip -= tag in ("script", "style") and self.skip > 0

            def handle_data(self, data):
                if not self.skip:
                    chunks.append(data)

        Text().feed(dom)
        self.text = " ".join(" ".join(chunks).split())


@pytest.fixture
def browser(tmp_path):
    """Open a local page in headless Chromium (Debian's ``chromium``): ``browser(path) -> Page``.

    Console messages (errors included) come from Chromium's own log on stderr. Without
    Chromium the test is skipped, except in CI (``.ci/run`` installs it and sets
    ``HEALTHLAB_REQUIRE_CHROMIUM=1``), where its absence fails.
    """
    import re
    import shutil
    import subprocess

    exe = shutil.which("chromium") or shutil.which("chromium-browser")
    if exe is None:
        if os.environ.get("HEALTHLAB_REQUIRE_CHROMIUM"):
            pytest.fail("chromium is not installed (apt-get install -y chromium)")
        pytest.skip("chromium is not installed (apt-get install -y chromium)")
    flags = [
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--no-first-run",
        "--hide-scrollbars",
    ]
    count = iter(range(1000))

    def open_page(path, *, size=(1280, 900)) -> Page:
        n = next(count)
        url = Path(path).resolve().as_uri()
        profile = tmp_path / f"chromium-{n}"
        dom = subprocess.run(
            [
                exe,
                *flags,
                f"--user-data-dir={profile}-dom",
                "--enable-logging=stderr",
                "--v=0",
                "--dump-dom",
                url,
            ],
            capture_output=True,
            text=True,
            timeout=120,
            check=True,
        )
        shot = tmp_path / f"screenshot-{n}.png"
        subprocess.run(
            [
                exe,
                *flags,
                f"--user-data-dir={profile}-shot",
                f"--screenshot={shot}",
                f"--window-size={size[0]},{size[1]}",
                url,
            ],
            capture_output=True,
            text=True,
            timeout=120,
            check=True,
        )
        console = re.findall(r":CONSOLE(?:\(\d+\)|:\d+)\] (.*)", dom.stderr)
        return Page(dom.stdout, console, shot)

    return open_page


def make_city(
    n_people: int,
    folder,
    *,
    n_systems: int = 4,
    noise=None,
    mess=False,
    odd_codes: float = 0.0,
    wrong_values: float = 0.0,
    seed: int = 0,
):
    """A city's people, clinical records and hospital systems, written as SQLite into ``folder``.

    Made with the synth generators (clean records unless ``mess``), the way the catalogue makes
    them; ``paths`` are the written databases. ``odd_codes`` of the diagnoses get a code outside
    the vocabulary (Q21.0) and ``wrong_values`` of the lab values are entered 100 times too
    large, for the tests of what harmonisation reports.
    """
    from types import SimpleNamespace

    import numpy as np

    from healthlab.synth import (
        make_clinical,
        make_hospital_systems,
        make_population,
        system_paths,
        write_hospital_systems,
    )

    people = make_population(n_people, provinces="Jiangxi", seed=seed)
    clinical = make_clinical(people, mess=mess, seed=seed)
    rng = np.random.default_rng(seed)
    dx, obs = clinical["diagnoses"].copy(), clinical["observations"].copy()
    dx["icd10"] = dx["icd10"].astype(object)
    dx.loc[rng.random(len(dx)) < odd_codes, "icd10"] = "Q21.0"
    wrong = rng.random(len(obs)) < wrong_values
    obs.loc[wrong, "value"] = obs.loc[wrong, "value"] * 100
    clinical = {**clinical, "diagnoses": dx, "observations": obs}
    systems = make_hospital_systems(people, clinical, n_systems=n_systems, noise=noise, seed=seed)
    paths = system_paths(write_hospital_systems(systems, folder))
    return SimpleNamespace(
        people=people,
        clinical=clinical,
        systems=systems,
        paths=paths,
        folder=paths[next(iter(paths))].parent,
        truth=systems.truth,
        encounter_truth=systems.encounter_truth,
        noise=systems.noise,
        codes=systems.codes,
    )


@pytest.fixture(scope="session")
def city(tmp_path_factory):
    """1,200 people of one province in four hospital systems (seed 5), shared by the tests."""
    return make_city(1200, tmp_path_factory.mktemp("city"), seed=5)
