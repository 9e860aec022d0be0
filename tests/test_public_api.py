"""The public API keeps the README's promise: every public name has a runnable example.

Each subpackage's ``__all__`` is walked; every function and class it exports must carry an
``Examples`` section with at least one ``>>>`` line that is not skipped (pytest runs them all
with ``--doctest-modules``, so an example that is there is also an example that works).
"""

from __future__ import annotations

import importlib
import inspect
import pkgutil

import pytest

import healthlab

#: Public modules and subpackages whose ``__all__`` is the public API.
PUBLIC = sorted(
    m.name
    for m in pkgutil.iter_modules(healthlab.__path__, "healthlab.")
    if not m.name.rsplit(".", 1)[1].startswith("_") and m.name not in ("healthlab.cli",)
)


def _public_objects():
    for name in PUBLIC:
        module = importlib.import_module(name)
        for attr in getattr(module, "__all__", []):
            obj = getattr(module, attr)
            if inspect.isfunction(obj) or inspect.isclass(obj):
                if issubclass(obj, BaseException) if inspect.isclass(obj) else False:
                    continue  # errors are documented by what raises them
                yield f"{name}.{attr}", obj


def _has_example(doc: str | None) -> bool:
    if not doc or "Examples" not in doc:
        return False
    runnable = [
        line
        for line in doc.split("Examples", 1)[1].splitlines()
        if line.strip().startswith(">>>") and "doctest: +SKIP" not in line
    ]
    return bool(runnable)


def test_every_subpackage_says_what_it_is():
    missing = [n for n in PUBLIC if not (importlib.import_module(n).__doc__ or "").strip()]
    assert not missing, f"these modules have no docstring: {missing}"


def test_every_public_function_and_class_has_a_runnable_example():
    missing = sorted(
        {qual for qual, obj in _public_objects() if not _has_example(inspect.getdoc(obj))}
    )
    assert not missing, (
        "public functions and classes without a runnable Examples section (one `>>>` line "
        "not marked +SKIP):\n  " + "\n  ".join(missing)
    )


@pytest.mark.parametrize("name", PUBLIC)
def test_all_names_exist(name):
    module = importlib.import_module(name)
    for attr in getattr(module, "__all__", []):
        assert hasattr(module, attr), f"{name}.__all__ lists {attr!r}, which it does not define"
