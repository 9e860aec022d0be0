"""The same rows on any machine: every card's tables at tiny match their pinned fingerprints."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import pytest

from healthlab import datasets

ROOT = Path(__file__).resolve().parent.parent
PINNED = ROOT / "tests" / "data" / "fingerprints.json"


def _tool():
    spec = importlib.util.spec_from_file_location(
        "fingerprints", ROOT / "tools" / "fingerprints.py"
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.slow
def test_every_card_builds_the_pinned_rows_at_tiny():
    tool = _tool()
    pinned = json.loads(PINNED.read_text(encoding="utf-8"))
    now = {
        name: datasets.fingerprint(datasets.load(name, size="tiny"))
        for name in datasets.list_datasets()
        if "tiny" in datasets.card(name)["sizes"]
    }
    changed = tool.differences(pinned, now)
    assert not changed, (
        "the tiny datasets no longer match tests/data/fingerprints.json:\n  "
        + "\n  ".join(changed)
        + "\nIf you changed a generator (or a card) on purpose, run\n"
        "    .venv/bin/python tools/fingerprints.py --update\n"
        "and commit tests/data/fingerprints.json with your change. If you did not, the rows "
        "now depend on something they must not (the machine, the order of work, a global seed)."
    )


def test_the_tool_names_each_kind_of_change():
    tool = _tool()
    table = {"rows": 2, "columns": {"a": "int64"}, "sha256": "x"}
    pinned = {"d": {"t": table}}
    assert tool.differences(pinned, pinned) == []
    assert tool.differences(pinned, {"d": {"t": {**table, "sha256": "y"}}}) == [
        "d.t: same shape, different values"
    ]
    assert tool.differences(pinned, {"d": {"t": {**table, "rows": 3}}}) == ["d.t: 2 rows, now 3"]
    assert tool.differences(pinned, {}) == ["d: dataset no longer built"]
