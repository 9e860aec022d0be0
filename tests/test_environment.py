"""pyproject.toml, requirements.lock and environment.yml agree on every runtime dependency."""

from __future__ import annotations

import re
import sys
import tomllib
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tools"))
from write_environment import normalise, read_lock  # noqa: E402  (a script, not a package)


def declared(group: str | None = None) -> list[str]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    specs = project["dependencies"] if group is None else project["optional-dependencies"][group]
    return [normalise(re.match(r"[A-Za-z0-9._-]+", spec).group(0)) for spec in specs]


def environment_pins() -> dict[str, str]:
    env = yaml.safe_load((ROOT / "environment.yml").read_text())
    (pip_section,) = [d["pip"] for d in env["dependencies"] if isinstance(d, dict)]
    pins = {}
    for line in pip_section:
        if "==" in line:
            name, version = line.split("==")
            pins[normalise(name)] = version
    return pins


def test_every_dependency_is_pinned_in_the_lock():
    lock = read_lock(ROOT / "requirements.lock")
    for name in declared() + declared("dev"):
        assert name in lock, f"{name} is declared in pyproject.toml but not pinned in the lock"


def test_environment_yml_mirrors_the_lock():
    lock = read_lock(ROOT / "requirements.lock")
    env = environment_pins()
    for name in declared():
        assert env.get(name) == lock[name], (
            f"{name}: lock {lock[name]}, environment.yml {env.get(name)}"
        )
    assert env == lock, "environment.yml is stale: run `make lock`"


def test_installed_versions_are_the_pinned_ones():
    from importlib.metadata import PackageNotFoundError, version

    lock = read_lock(ROOT / "requirements.lock")
    for name in declared():
        try:
            installed = version(name)
        except PackageNotFoundError:
            raise AssertionError(
                f"{name} is not installed: run `make test` to sync .venv"
            ) from None
        assert installed == lock[name], f"{name}: installed {installed}, pinned {lock[name]}"
