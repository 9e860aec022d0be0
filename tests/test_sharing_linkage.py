"""Record linkage on tiny hospital systems, checked against the ground truth."""

import numpy as np
import pandas as pd
import pytest
from conftest import make_city

from healthlab.errors import InvalidParameterError
from healthlab.sharing import link_systems, linkage_quality
from healthlab.sharing.bloom import bloom_encode, dice, keyed_hash
from healthlab.sharing.evaluate import clerical_review
from healthlab.sharing.identifiers import read_identifiers
from healthlab.sharing.linkage import deterministic_link, probabilistic_link


@pytest.fixture(scope="module")
def systems(tmp_path_factory):
    return make_city(1500, tmp_path_factory.mktemp("sys"), n_systems=4, seed=3)


@pytest.fixture(scope="module")
def ids(systems):
    return read_identifiers(systems.paths)


@pytest.fixture(scope="module")
def probabilistic(ids):
    return probabilistic_link(ids, seed=0)


def _with_truth(ids, systems):
    noise = systems.noise.astype({"local_id": str})
    truth = systems.truth.astype({"local_id": str})
    return ids.merge(truth, on=["system", "local_id"]).merge(noise, on=["system", "local_id"])


def test_identifiers_standardised(ids, systems):
    assert len(ids) == len(systems.truth)
    t = _with_truth(ids, systems)
    clean = t[~t["name_typo"]]
    # One pinyin spelling per person across scripts and systems, where no typo was made.
    assert (clean.groupby("person_id")["name_py"].nunique() == 1).all()
    assert clean["name_py"].str.fullmatch(r"[a-z]+").all()
    ok = t[~t["birth_date_transposed"]]
    assert (ok.groupby("person_id")["birth_date"].nunique() == 1).all()
    assert t["sex"].isin(["F", "M"]).all() and t["address_key"].notna().all()
    missing = t["resident_id"].isna()
    assert missing.sum() == t["resident_id_missing"].sum()


def test_probabilistic_against_truth(probabilistic, systems, ids):
    clusters, pairs, _ = probabilistic
    q = linkage_quality(clusters, systems.truth)
    assert q["f1"] >= 0.98 and q["precision"] >= 0.99
    # At most one record of each system in a cluster, across four systems.
    assert not clusters.duplicated(["cluster_id", "system"]).any()
    assert clusters["system"].nunique() == 4 and len(clusters) == len(ids)
    assert pairs["match_probability"].between(0, 1).all()


def _true_pairs(clusters, truth) -> set:
    """The record pairs a clustering puts together that are one person in the truth."""
    keys = ["system", "local_id"]
    m = clusters.astype({"local_id": str}).merge(truth.astype({"local_id": str}), on=keys)
    m["record"] = list(zip(m["system"], m["local_id"], strict=True))
    pairs = m.merge(m, on=["cluster_id", "person_id"])
    return set(zip(pairs["record_x"], pairs["record_y"], strict=True)) - {
        (r, r) for r in m["record"]
    }


def test_probabilistic_finds_what_exact_keys_miss(probabilistic, systems, ids):
    exact_links = deterministic_link(ids)
    exact = linkage_quality(exact_links, systems.truth)
    prob = linkage_quality(probabilistic[0], systems.truth)
    assert exact["precision"] >= 0.99 and prob["precision"] >= 0.99
    # Weighing every field finds people whose keys all carry a mistake; it may in turn weigh
    # a shared resident id below a changed name and address (a record or so in this city).
    only_probabilistic = _true_pairs(probabilistic[0], systems.truth) - _true_pairs(
        exact_links, systems.truth
    )
    assert only_probabilistic
    assert prob["recall"] >= exact["recall"] - 0.005


def test_exact_key_perfect_without_noise(tmp_path):
    hs = make_city(400, tmp_path, noise=0, seed=1)
    q = linkage_quality(link_systems(hs.paths, method="deterministic"), hs.truth)
    assert q["f1"] == 1.0


def test_clerical_review(probabilistic, systems):
    review = clerical_review(probabilistic[1], low=0.05, high=0.99, truth=systems.truth)
    assert review["match_probability"].between(0.05, 0.99, inclusive="left").all()
    assert review["same_person"].dtype == bool
    d = (review["match_probability"] - 0.5).abs().to_numpy()
    assert np.all(np.diff(d) >= 0)


def test_bloom_against_truth_and_plaintext(systems, probabilistic):
    bloom = linkage_quality(link_systems(systems.paths, method="bloom"), systems.truth)
    prob = linkage_quality(probabilistic[0], systems.truth)
    assert bloom["f1"] >= 0.95
    assert bloom["f1"] <= prob["f1"] + 0.01


def test_bloom_encoding_keyed(ids):
    a = bloom_encode(ids.head(50), key="k1")
    assert a.shape == (50, 16) and a.dtype == np.uint64
    np.testing.assert_array_equal(a, bloom_encode(ids.head(50), key="k1"))
    b = bloom_encode(ids.head(50), key="k2")
    assert (a != b).any()
    np.testing.assert_allclose(dice(a, a), 1.0)
    assert dice(a[:-1], a[1:]).max() < 0.9
    h = keyed_hash(ids["resident_id"].head(20), "k1")
    assert h.isna().equals(ids["resident_id"].head(20).isna())
    with pytest.raises(InvalidParameterError, match="key"):
        bloom_encode(ids.head(5), key="")
    with pytest.raises(InvalidParameterError, match="multiple of 128"):
        bloom_encode(ids.head(5), key="k", bits=100)


def _filter_by_definition(values: dict, key: bytes, bits: int, salt=None) -> np.ndarray:
    """One record's filter token by token: each bigram of ``_value_``, named by its field."""
    from healthlab.sharing.bloom import _positions

    tokens = []
    for f, v in values.items():
        if v is not None:
            text = f"_{v}_"
            tokens += [f + ":" + text[i : i + 2] for i in range(len(text) - 1)]
    if salt is not None:
        tokens = [f"{salt}|{t}" for t in tokens]
    on = np.zeros(bits, bool)
    if tokens:
        on[_positions(tokens, key, bits, 5).ravel()] = True
    return np.packbits(on, bitorder="little").view(np.uint64)


def test_bloom_encoding_is_the_definition():
    """Records encoded once per distinct value, bigrams as integers: the same filter bits."""
    frame = pd.DataFrame({
        "name": ["wangwei", "wangwei", None, "", "王伟", "𠀀b", "lina", "wangwei"],
        "born": ["19800102", "19800102", "19751230", None, None, "1", "19800102", "19800102"],
    })  # fmt: skip
    salt = pd.Series([1980, 1981, 1975, 1990, 1990, 2000, 1980, 1980])
    for kw in ({}, {"salt": salt}):
        got = bloom_encode(frame, key="k", bits=256, **kw)
        for r in range(len(frame)):
            values = {f: (None if pd.isna(v) else v) for f, v in frame.iloc[r].items()}
            tag = None if not kw else str(salt[r])
            expected = _filter_by_definition(values, b"k", 256, tag)
            np.testing.assert_array_equal(got[r], expected, err_msg=f"record {r}, {kw.keys()}")
    # Salting separates equal names of different birth years, and only those.
    salted = bloom_encode(frame, key="k", bits=256, salt=salt)
    assert (salted[0] != salted[1]).any() and (salted[0] == salted[7]).all()


def test_link_systems_contract(systems):
    out = link_systems(systems.paths, method="probabilistic", seed=0)
    assert list(out.columns) == ["system", "local_id", "cluster_id"]
    assert len(out) == len(systems.truth)
    again = link_systems(systems.paths, method="probabilistic", seed=0)
    pd.testing.assert_frame_equal(out, again)


def test_quality_counts():
    truth = pd.DataFrame({"system": list("aabbc"), "local_id": list("12345"),
                          "person_id": [1, 2, 1, 2, 1]})  # fmt: skip
    perfect = truth.rename(columns={"person_id": "cluster_id"})
    assert linkage_quality(perfect, truth)["f1"] == 1.0
    alone = perfect.assign(cluster_id=range(5))
    q = linkage_quality(alone, truth)
    assert q["recall"] == 0 and q["true_pairs"] == 4 and q["precision"] == 1.0
    with pytest.raises(InvalidParameterError, match="same records"):
        linkage_quality(perfect.head(4), truth)


def test_errors(systems):
    with pytest.raises(InvalidParameterError, match="method"):
        link_systems(systems.paths, method="fuzzy")
    with pytest.raises(InvalidParameterError, match="empty"):
        link_systems({})
    with pytest.raises(InvalidParameterError, match="two systems"):
        link_systems({"renmin": systems.paths["renmin"]})
