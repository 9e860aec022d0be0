"""The catalogue: cards, builds, the cache, and the promises every card keeps."""

from __future__ import annotations

import textwrap
import warnings
import zipfile
from pathlib import Path

import pandas as pd
import pytest

import healthlab
from healthlab import datasets
from healthlab.errors import (
    CacheRebuiltWarning,
    CardError,
    InvalidParameterError,
    UnknownDatasetError,
)

ROOT = Path(__file__).resolve().parent.parent

GENERATOR = """
import numpy as np
import pandas as pd

CALLS = []

def make_toy(n_rows, *, seed=0):
    CALLS.append((n_rows, seed))
    rng = np.random.default_rng(seed)
    return pd.DataFrame({"toy_id": np.arange(n_rows), "value": rng.normal(size=n_rows)})

def make_two(toy, *, seed=0, scale=None):
    factor = 2 if scale is None else len(scale)
    return {"left": toy[["toy_id"]], "right": toy.assign(double=toy["value"] * factor)}

def make_parts(n_rows, *, seed=0):
    raise AssertionError("a partitioned size is built by write_parts")

def write_parts(n_rows, *, out, seed=0):
    for part in range(3):
        rng = np.random.default_rng([seed, part])
        frame = pd.DataFrame({"toy_id": np.arange(part, n_rows, 3), "value": 0.0})
        frame["value"] = rng.normal(size=len(frame))
        (out / "toy").mkdir(exist_ok=True)
        frame.to_parquet(out / "toy" / f"part-{part:05d}.parquet")

def mean_value(tables, *, table):
    return float(tables[table]["value"].mean())
"""

TOY_CARD = """
name: {name}
title: A toy dataset for the catalogue's tests
description: Normal values.
synthetic: Every row is synthetic.
generator: {generator}
seed: 3
sizes:
  tiny: {{n_rows: 50}}
  small: {{n_rows: 200}}
tables:
  toy:
    description: one row per draw
    columns:
      toy_id: {{type: int64, description: row number}}
{extra_columns}
calibration:
  - figure: mean value
    target: 0.0
    tolerance: 0.5
    source: the normal distribution
    statistic: toy_generators:mean_value
    args: {{table: toy}}
"""


@pytest.fixture
def toy_cards(tmp_path, monkeypatch):
    """A card folder with toy datasets whose generator lives in a module on sys.path."""
    code = tmp_path / "code"
    code.mkdir()
    (code / "toy_generators.py").write_text(GENERATOR)
    monkeypatch.syspath_prepend(str(code))
    cards = tmp_path / "cards"
    cards.mkdir()

    def write(name, generator="toy_generators:make_toy", extra="      value: {type: float64}"):
        text = TOY_CARD.format(name=name, generator=generator, extra_columns=extra)
        (cards / f"{name}.yaml").write_text(textwrap.dedent(text))

    write("toy")
    write("toy_missing_column", extra="      value: {type: float64}\n      ghost: {type: string}")
    write("toy_undocumented", extra="")
    write("toy_no_generator", generator="toy_generators:make_nothing")
    write("toy_parts", generator="toy_generators:make_parts")
    text = (cards / "toy_parts.yaml").read_text()
    (cards / "toy_parts.yaml").write_text(
        text.replace("{n_rows: 200}", "{n_rows: 90, partitioned: true}")
    )
    write("toy_parts_unable")
    text = (cards / "toy_parts_unable.yaml").read_text()
    (cards / "toy_parts_unable.yaml").write_text(
        text.replace("{n_rows: 200}", "{n_rows: 9, partitioned: true}")
    )
    (cards / "toy_pair.yaml").write_text(
        textwrap.dedent(
            """
            name: toy_pair
            title: Two tables from one input
            description: d
            synthetic: s
            generator: toy_generators:make_two
            inputs: [toy]
            sizes: {tiny: {}}
            tables:
              left: {columns: {toy_id: {type: int64}}}
              right: {columns: {toy_id: {type: int64}, value: {type: float64},
                      double: {type: float64}}}
            """
        )
    )
    (cards / "toy_keyword.yaml").write_text(
        textwrap.dedent(
            """
            name: toy_keyword
            title: Two tables, one input by keyword
            description: d
            synthetic: s
            generator: toy_generators:make_two
            inputs: [toy, {scale: toy}]
            sizes: {tiny: {}}
            tables:
              left: {columns: {toy_id: {type: int64}}}
              right: {columns: {toy_id: {type: int64}, value: {type: float64},
                      double: {type: float64}}}
            """
        )
    )
    monkeypatch.setenv("HEALTHLAB_CARDS", str(cards))
    monkeypatch.setenv("HEALTHLAB_HOME", str(tmp_path / "home"))
    import toy_generators

    toy_generators.CALLS.clear()
    return toy_generators


def test_round_trip_and_cache_hit(toy_cards):
    first = datasets.load("toy", size="tiny")
    assert first.seed == 3  # the card's default
    assert first.frame.shape == (50, 2)
    assert toy_cards.CALLS == [(50, 3)]
    second = datasets.load("toy", size="tiny")
    assert toy_cards.CALLS == [(50, 3)], "a cached dataset must not be built again"
    pd.testing.assert_frame_equal(first.frame, second.frame)
    assert (second.path / "manifest.json").is_file()


def test_cache_is_keyed_by_size_seed_and_version(toy_cards):
    a = datasets.load("toy", size="tiny", seed=1)
    b = datasets.load("toy", size="tiny", seed=2)
    c = datasets.load("toy", size="small", seed=1)
    assert len({a.path, b.path, c.path}) == 3
    assert healthlab.__version__ in a.path.parts
    assert not a.frame.equals(b.frame)
    assert len(c.frame) == 200


def test_corrupted_cache_file_is_rebuilt(toy_cards):
    good = datasets.load("toy", size="tiny")
    parquet = good.path / "toy.parquet"
    parquet.write_bytes(parquet.read_bytes()[: parquet.stat().st_size // 2])
    with pytest.warns(CacheRebuiltWarning, match="toy.parquet does not match its checksum"):
        again = datasets.load("toy", size="tiny")
    assert len(toy_cards.CALLS) == 2, "a damaged cache entry must be rebuilt"
    pd.testing.assert_frame_equal(good.frame, again.frame)
    # And the rebuilt entry is whole again.
    datasets.load("toy", size="tiny")
    assert len(toy_cards.CALLS) == 2


def test_cache_entry_without_manifest_is_rebuilt(toy_cards):
    good = datasets.load("toy", size="tiny")
    (good.path / "manifest.json").unlink()
    with pytest.warns(CacheRebuiltWarning, match="no manifest"):
        datasets.load("toy", size="tiny")
    assert len(toy_cards.CALLS) == 2


def test_a_load_beside_a_rebuild_waits_for_it_and_finds_it_whole(toy_cards):
    """A load that catches a rebuild between its two renames neither warns nor builds again."""
    import threading
    import time

    from healthlab.datasets.cache import entry_lock

    good = datasets.load("toy", size="tiny")
    parquet = good.path / "toy.parquet"
    moved = parquet.with_name("toy.parquet.aside")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", CacheRebuiltWarning)
        with entry_lock(good.path):  # a rebuild holds the lock, its files are half in place
            parquet.rename(moved)
            loaded = []

            def read():
                loaded.append(datasets.load("toy", size="tiny"))

            reader = threading.Thread(target=read)
            reader.start()
            time.sleep(0.5)
            moved.rename(parquet)  # the rebuild's entry is in place; then it lets go
        reader.join(timeout=30)
    assert not [w for w in caught if issubclass(w.category, CacheRebuiltWarning)]
    assert len(toy_cards.CALLS) == 1, "the entry was whole once the rebuild ended"
    pd.testing.assert_frame_equal(loaded[0].frame, good.frame)


def test_unknown_name_says_what_exists(toy_cards):
    with pytest.raises(UnknownDatasetError, match="no dataset named 'toys'.*toy"):
        datasets.load("toys")
    with pytest.raises(UnknownDatasetError):
        datasets.card("toys")


def test_bad_size_and_seed(toy_cards):
    with pytest.raises(InvalidParameterError, match="size must be one of"):
        datasets.load("toy", size="huge")
    with pytest.raises(InvalidParameterError, match="has no size 'medium'"):
        datasets.load("toy", size="medium")
    with pytest.raises(InvalidParameterError, match="seed must be a non-negative integer"):
        datasets.load("toy", size="tiny", seed=-1)


def test_inputs_feed_the_generator(toy_cards):
    pair = datasets.load("toy_pair", size="tiny")
    assert set(pair.tables) == {"left", "right"}
    assert len(pair["right"]) == 50
    with pytest.raises(InvalidParameterError, match="pick one"):
        _ = pair.frame
    with pytest.raises(KeyError, match="has no table 'middle'"):
        pair["middle"]
    keyword = datasets.load("toy_keyword", size="tiny")
    assert (keyword["right"]["double"] == keyword["right"]["value"] * 50).all()


def test_partitioned_size_is_read_through_duckdb(toy_cards):
    ds = datasets.load("toy_parts", size="small")
    assert ds.tables == {} and len(ds.partitions["toy"]) == 3
    counted = ds.relation("toy").aggregate("count(*) AS n").fetchall()[0][0]
    assert counted == 90
    assert sorted(ds["toy"]["toy_id"]) == list(range(90))
    summary = datasets.calibration_summary(ds)
    assert summary.loc[0, "within"]
    again = datasets.load("toy_parts", size="small")
    assert again.partitions == ds.partitions
    part = ds.partitions["toy"][1]
    part.write_bytes(b"not parquet")
    with pytest.warns(CacheRebuiltWarning):
        rebuilt = datasets.load("toy_parts", size="small")
    assert rebuilt.relation("toy").aggregate("count(*)").fetchall()[0][0] == 90
    with pytest.raises(CardError, match="has no write_toy to write partitions"):
        datasets.load("toy_parts_unable", size="small")


def test_calibration_summary(toy_cards):
    summary = datasets.calibration_summary(datasets.load("toy", size="small"))
    assert list(summary.columns) == [
        "figure",
        "target",
        "synthetic",
        "tolerance",
        "within",
        "status",
        "source",
    ]
    assert summary.loc[0, "within"] and summary.loc[0, "status"] == "pass"  # small holds it
    tiny = datasets.calibration_summary(datasets.load("toy", size="tiny"))
    assert tiny.loc[0, "status"] == "too small"
    assert abs(summary.loc[0, "synthetic"]) < 0.5


def test_check_card_finds_disagreements(toy_cards):
    assert datasets.check_card("toy") == []
    assert datasets.check_card("toy_pair") == []
    assert datasets.check_card("toy_missing_column") == [
        "toy_missing_column.toy: card documents column 'ghost', not produced"
    ]
    assert datasets.check_card("toy_undocumented") == [
        "toy_undocumented.toy: column 'value' is produced but not in the card"
    ]
    (problem,) = datasets.check_card("toy_no_generator")
    assert "has no 'make_nothing'" in problem


def test_malformed_card_is_refused(tmp_path, monkeypatch):
    (tmp_path / "broken.yaml").write_text("name: broken\ntitle: [unclosed\n")
    monkeypatch.setenv("HEALTHLAB_CARDS", str(tmp_path))
    with pytest.raises(CardError, match="broken.yaml is not valid YAML"):
        datasets.list_datasets()
    (tmp_path / "broken.yaml").write_text("name: broken\ntitle: t\n")
    other = tmp_path / "other"
    other.mkdir()
    (other / "broken.yaml").write_text("name: broken\ntitle: t\n")
    monkeypatch.setenv("HEALTHLAB_CARDS", str(other))
    with pytest.raises(CardError, match="lacks the keys"):
        datasets.list_datasets()


# ------------------------------------------------------------------ every real card


@pytest.mark.parametrize("name", datasets.list_datasets())
def test_every_card_agrees_with_its_generator(name):
    spec = datasets.card(name)
    assert spec["synthetic"].strip(), "every card says the data is synthetic"
    assert "tiny" in spec["sizes"] and "small" in spec["sizes"]
    for table in spec["tables"].values():
        for column, meta in table["columns"].items():
            assert isinstance(meta, dict) and meta.get("type"), f"{name}.{column} needs a type"
    for item in spec.get("calibration") or []:
        assert item.get("source"), f"{name}: calibration figure {item['figure']!r} needs a source"
    assert datasets.check_card(name, size="tiny") == []


@pytest.mark.parametrize("name", datasets.list_datasets())
def test_every_dataset_is_reproducible(name):
    first = datasets.build(name, size="tiny", seed=11)
    second = datasets.build(name, size="tiny", seed=11)
    for table in first.tables:
        pd.testing.assert_frame_equal(first[table], second[table])


def test_cards_ship_in_the_wheel(tmp_path):
    """Cards in datasets/ are inside the built wheel, where an installed healthlab finds them."""
    import subprocess
    import sys

    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--quiet",
            "--no-deps",
            "-w",
            str(tmp_path),
            str(ROOT),
        ],
        check=True,
    )
    (wheel,) = tmp_path.glob("healthlab-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    for path in (ROOT / "datasets").glob("*.yaml"):
        assert f"healthlab/cards/{path.name}" in names
    assert "healthlab/data/china.yaml" in names


def test_concurrent_builds_of_one_entry_all_succeed(toy_cards):
    """Students starting the same notebook at once build the same dataset side by side."""
    from concurrent.futures import ThreadPoolExecutor

    with warnings.catch_warnings(record=True) as caught, ThreadPoolExecutor(4) as pool:
        warnings.simplefilter("always", CacheRebuiltWarning)
        jobs = [datasets.build if i % 2 else datasets.load for i in range(12)]
        results = list(pool.map(lambda job: job("toy", size="small"), jobs))
    # A load beside a rebuild waits for it rather than calling the entry damaged.
    assert not [w for w in caught if issubclass(w.category, CacheRebuiltWarning)]
    for result in results:
        pd.testing.assert_frame_equal(result.frame, results[0].frame)
    assert datasets.load("toy", size="small").frame.equals(results[0].frame)
    leftovers = [p.name for p in results[0].path.parent.iterdir() if p.name.startswith(".")]
    assert [name.split("-")[:2] for name in leftovers] == [[".small", "seed3"]]
    assert leftovers[0].endswith(".lock")


def test_a_dataset_is_a_mapping_of_its_tables(toy_cards):
    ds = datasets.load("toy_pair", size="tiny")
    assert list(ds) == ["left", "right"] and len(ds) == 2 and "left" in ds
    assert dict(ds.items())["right"].equals(ds["right"])
    assert "<table" in ds._repr_html_() and ds.summary()["rows"].tolist() == [50, 50]


def test_unknown_names_get_a_did_you_mean(toy_cards):
    with pytest.raises(UnknownDatasetError, match="did you mean 'toy_pair'"):
        datasets.load("toy_pairs", size="tiny")


def test_broken_cards_are_named_with_their_path_and_missing_folders_reported(
    toy_cards, tmp_path, monkeypatch
):
    import os

    bad = tmp_path / "more"
    bad.mkdir()
    (bad / "broken.yaml").write_text("name: broken\ntitle: [unclosed\n")
    monkeypatch.setenv("HEALTHLAB_CARDS", os.environ["HEALTHLAB_CARDS"] + os.pathsep + str(bad))
    with pytest.raises(CardError, match=str(bad / "broken.yaml")):
        datasets.list_datasets()
    monkeypatch.setenv("HEALTHLAB_CARDS", str(tmp_path / "no-such-folder"))
    with pytest.raises(CardError, match="no-such-folder.*not a folder"):
        datasets.list_datasets()
