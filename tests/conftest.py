"""Shared fixtures: every test session gets its own dataset cache, never the user's."""

from __future__ import annotations

import os

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
