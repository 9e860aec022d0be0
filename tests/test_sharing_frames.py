"""link_frames on tables the project makes: hospital systems and a register with a noisy copy."""

import numpy as np
import pandas as pd
import pytest

from healthlab import datasets
from healthlab.errors import InvalidParameterError
from healthlab.sharing import clerical_review, link_frames, linkage_quality
from healthlab.sharing.identifiers import read_identifiers
from healthlab.sharing.link import COMPARE, patient_frames
from healthlab.synth.identities import make_identities


@pytest.fixture(scope="module")
def systems():
    ds = datasets.load("hospital_systems", size="tiny")
    ids = read_identifiers(ds)
    return patient_frames(ids), ds["truth"].astype({"local_id": str}), ds["noise"]


@pytest.fixture(scope="module")
def probabilistic(systems):
    return link_frames(systems[0], id_column="local_id", compare=COMPARE, seed=0)


def _truth_of(truth, frames):
    return truth[truth["system"].isin(list(frames))]


def test_three_sources(probabilistic, systems):
    frames, truth, _ = systems
    q = linkage_quality(probabilistic, truth)
    assert q["f1"] >= 0.98 and q["precision"] >= 0.99
    c = probabilistic.clusters
    assert list(c.columns) == ["system", "local_id", "cluster_id"]
    assert len(c) == sum(len(f) for f in frames.values())
    assert not c.duplicated(["cluster_id", "system"]).any()  # one record per system
    pairs = probabilistic.pairs()
    assert pairs["match_probability"].between(0.01, 1).all()
    review = clerical_review(probabilistic, low=0.05, high=0.99, truth=truth)
    assert review["match_probability"].between(0.05, 0.99, inclusive="left").all()
    assert len(review) == len(probabilistic.pairs(0.05, 0.99))


def test_two_sources_and_reproducible(systems):
    frames, truth, _ = systems
    two = {s: frames[s] for s in ("renmin", "xianyi")}
    a = link_frames(two, id_column="local_id", compare=COMPARE, seed=1)
    b = link_frames(two, id_column="local_id", compare=COMPARE, seed=1)
    pd.testing.assert_frame_equal(a.clusters, b.clusters)
    assert linkage_quality(a, _truth_of(truth, two))["f1"] >= 0.98


def test_blocking_chosen_and_reported(probabilistic, systems):
    report = probabilistic.blocking
    assert set(report.columns) == {"rule", "keys", "pairs", "largest_block", "chosen", "reason"}
    chosen = report[report["chosen"]]
    assert 2 <= len(chosen) <= 7 and (chosen["reason"] == "kept").all()
    # Sex alone makes one huge block: considered, refused, and the reason says so.
    sex = report[report["rule"] == "sex"].iloc[0]
    assert not sex["chosen"] and "largest block" in sex["reason"]
    n = sum(len(f) for f in systems[0].values())
    assert (chosen["pairs"] <= max(50_000, 2 * n)).all()
    assert "resident_id" in probabilistic.chosen_blocking


def test_blocking_given(systems):
    frames, truth, _ = systems
    r = link_frames(frames, id_column="local_id", compare=COMPARE, method="deterministic",
                    blocking=["resident_id", ["name", "birth_date"]])  # fmt: skip
    assert r.blocking["reason"].eq("given").all() and len(r.blocking) == 2
    assert linkage_quality(r, truth)["precision"] >= 0.99
    with pytest.raises(InvalidParameterError, match="blocking rule"):
        link_frames(frames, id_column="local_id", compare=COMPARE, blocking=["nope"])


def test_deduplication(systems):
    frames, truth, _ = systems
    both = pd.concat(
        [
            frames[s].assign(local_id=s + ":" + frames[s]["local_id"])
            for s in ("renmin", "zhongxin")
        ],
        ignore_index=True,
    )
    r = link_frames({"pooled": both}, id_column="local_id", compare=COMPARE, seed=0)
    t = _truth_of(truth, ["renmin", "zhongxin"])
    t = t.assign(local_id=t["system"] + ":" + t["local_id"], system="pooled")
    q = linkage_quality(r, t)
    assert q["f1"] >= 0.97 and q["true_pairs"] > 100


def test_deterministic_and_bloom(systems, probabilistic):
    frames, truth, _ = systems
    exact = linkage_quality(
        link_frames(frames, id_column="local_id", compare=COMPARE, method="deterministic"), truth
    )
    bloom = link_frames(frames, id_column="local_id", compare=COMPARE, method="bloom", seed=0)
    prob = linkage_quality(probabilistic, truth)
    assert exact["precision"] >= 0.99 and prob["recall"] > exact["recall"]
    assert linkage_quality(bloom, truth)["f1"] >= 0.99
    assert bloom.pairs()["dice"].between(0, 1).all()
    with pytest.raises(InvalidParameterError, match="match probabilities"):
        clerical_review(bloom)


@pytest.mark.parametrize("hardening", [{"salt": "birth_date"}, {"balance": True},
                                       {"xor_fold": True}])  # fmt: skip
def test_bloom_hardenings_still_link(systems, hardening):
    frames, truth, _ = systems
    r = link_frames(frames, id_column="local_id", compare=COMPARE, method="bloom",
                    hardening=hardening, seed=0)  # fmt: skip
    assert linkage_quality(r, truth)["f1"] >= 0.95


def test_bloom_missing_field_counts_neither_way(systems):
    """A record and its copy without resident id and phone score Dice 1 and link."""
    frames, _, _ = systems
    one = frames["renmin"]
    copy = one.assign(resident_id=None, phone=None)
    r = link_frames({"a": one, "b": copy}, id_column="local_id", compare=COMPARE,
                    method="bloom", seed=0)  # fmt: skip
    same = r.pairs().query("local_id_l == local_id_r")
    assert len(same) == len(one) and (same["dice"] == 1).all()
    truth = pd.DataFrame({"system": ["a"] * len(one) + ["b"] * len(one),
                          "local_id": pd.concat([one["local_id"]] * 2, ignore_index=True),
                          "person_id": list(range(len(one))) * 2})  # fmt: skip
    assert linkage_quality(r, truth)["f1"] >= 0.995


@pytest.mark.parametrize("threshold", [0.65, 0.7, 0.75])
def test_bloom_threshold_not_knife_edge(systems, threshold):
    """F1 stays high on a band of thresholds around the default Dice of 0.7."""
    frames, truth, _ = systems
    r = link_frames(frames, id_column="local_id", compare=COMPARE, method="bloom",
                    threshold=threshold, seed=0)  # fmt: skip
    assert linkage_quality(r, truth)["f1"] >= 0.99


@pytest.fixture(scope="module")
def register():
    """A register of people and a copy of it with typos of every kind, and the truth."""
    people = datasets.load("population", size="tiny").frame
    ident = make_identities(people, seed=0)
    table = pd.DataFrame({
        "id": ident["person_id"], "name": ident["name"], "born": people["birth_date"],
        "sex": people["sex"], "rid": ident["resident_id"], "address": ident["address"],
        "bmi": people["bmi"].round(1),
    })  # fmt: skip
    rng = np.random.default_rng(7)
    copy = table.copy()
    n = len(copy)
    typo = rng.random(n) < 0.05
    copy.loc[typo, "name"] = copy.loc[typo, "name"].str[:-1] + "伟"
    flip = rng.random(n) < 0.03
    born = copy["born"]
    swapped = pd.to_datetime(
        {"year": born.dt.year, "month": born.dt.day.clip(upper=12), "day": born.dt.month}
    )
    copy.loc[flip, "born"] = swapped[flip]
    edit = rng.random(n) < 0.05
    copy.loc[edit, "rid"] = copy.loc[edit, "rid"].str[:10] + "0" + copy.loc[edit, "rid"].str[11:]
    moved = rng.random(n) < 0.05
    copy.loc[moved, "address"] = copy.loc[moved, "address"].str.replace(r"\d+室", "1室", regex=True)
    copy["bmi"] = (copy["bmi"] * rng.uniform(0.995, 1.005, n)).round(2)
    copy["id"] = "c" + copy["id"].astype(str)
    truth = pd.concat([
        pd.DataFrame({"system": "register", "local_id": table["id"].astype(str),
                      "person_id": table["id"]}),
        pd.DataFrame({"system": "copy", "local_id": copy["id"], "person_id": table["id"]}),
    ])  # fmt: skip
    return table, copy, truth, {"typo": typo, "flip": flip, "edit": edit}


KINDS = {"name": "name", "born": "date", "sex": "exact", "rid": "identifier",
         "address": "address", "bmi": {"kind": "numeric", "tolerances": [0.01, 0.05]}}  # fmt: skip


def test_copy_with_typos_every_kind(register):
    table, copy, truth, made = register
    r = link_frames({"register": table, "copy": copy}, id_column="id", compare=KINDS, seed=0)
    assert linkage_quality(r, truth)["f1"] > 0.99
    pairs = r.pairs(0.5)
    pairs = pairs[pairs["local_id_r"] == "c" + pairs["local_id_l"]].set_index("local_id_l")
    ids = table["id"].astype(str)
    # Each error lands at the level made for it (levels count down from the top, 'different'
    # is 0; names: 4 equal, 3 same key, 2 JW >= 0.92, 1 same first part and JW >= 0.8).
    changed = made["typo"] & ~table["name"].str.endswith("伟")
    typo = pairs.loc[pairs.index.intersection(ids[changed]), "gamma_name"]
    assert (typo <= 3).all() and (typo >= 1).mean() >= 0.5 and len(typo) > 20
    flip = ids[
        made["flip"]
        & (table["born"].dt.day <= 12)
        & (table["born"].dt.day != table["born"].dt.month)
    ]
    assert (pairs.loc[pairs.index.intersection(flip), "gamma_born"] == 3).all()
    edit = ids[made["edit"] & (table["rid"].str[10] != "0")]
    assert (pairs.loc[pairs.index.intersection(edit), "gamma_rid"] == 1).all()
    assert pairs["gamma_bmi"].isin([1, 2, 3]).all()  # within 1% (or equal)
    assert pairs["gamma_address"].isin([-1, 1, 2, 3]).all()
    assert (pairs["gamma_sex"] == 1).all()


def test_bad_input(register):
    table, copy, _, _ = register
    frames = {"register": table, "copy": copy}
    kw = {"id_column": "id", "compare": {"name": "name", "born": "date"}}
    with pytest.raises(InvalidParameterError, match="unknown kind 'fuzzy'"):
        link_frames(frames, id_column="id", compare={"name": "fuzzy"})
    with pytest.raises(InvalidParameterError, match="source 'copy' lacks"):
        link_frames({"register": table, "copy": copy.drop(columns="born")}, **kw)
    with pytest.raises(InvalidParameterError, match="duplicate ids"):
        link_frames({"register": table, "copy": pd.concat([copy, copy.head(2)])}, **kw)
    with pytest.raises(InvalidParameterError, match="has no rows"):
        link_frames({"register": table, "copy": copy.head(0)}, **kw)
    with pytest.raises(InvalidParameterError, match="lacks the id column"):
        link_frames(frames, id_column="key", compare={"name": "name"})
    with pytest.raises(InvalidParameterError, match="non-empty dict"):
        link_frames({}, **kw)
    with pytest.raises(InvalidParameterError, match="method"):
        link_frames(frames, method="fuzzy", **kw)
    with pytest.raises(InvalidParameterError, match="threshold"):
        link_frames(frames, threshold=1.5, **kw)
    with pytest.raises(InvalidParameterError, match="bloom"):
        link_frames(frames, key="secret", **kw)
    with pytest.raises(InvalidParameterError, match="tolerances"):
        bad = {"kind": "numeric", "tolerances": [-1]}
        link_frames(frames, id_column="id", compare={"name": "name", "bmi": bad})
    with pytest.raises(InvalidParameterError, match="not ISO dates"):
        link_frames(frames, id_column="id", compare={"name": "name", "sex": "date"})


def test_address_overlap_levels_equal_plain_jaccard():
    # The fast token-overlap test (signature, length and integer bounds before one list
    # intersection) must give the plain Jaccard's answer on every pair, including records
    # whose many tokens share bits of the 64-bit signature.
    import duckdb

    from healthlab.sharing.compare import Compared, _overlap_sql, sql_columns

    rng = np.random.default_rng(0)
    words = np.array([f"w{i}" for i in range(20)] + [str(i) for i in range(20)])
    texts = []
    for _ in range(100):  # a text and variants: a token dropped, one added, one changed
        base = list(rng.choice(words, size=rng.integers(0, 20), replace=False))
        texts += [" ".join(base), "-".join(base[1:]), " ".join([*base, "w99"]),
                  " ".join([*base[:-1], "9"])]  # fmt: skip
    texts += ["12-3-401", "12 3 401", "401-3-12", "12-3-402", "...", "号 12 号"]
    con = duckdb.connect()
    con.register("raw", pd.DataFrame({"a": texts}))
    derived = sql_columns([Compared("a", "address", "a")])
    made = ", ".join(f"{v} AS {k}" for k, v in derived.items())
    con.execute(f"CREATE TABLE t AS SELECT a, {made} FROM raw")
    assert con.execute("SELECT count(*) FROM t WHERE NOT a__clean").fetchone()[0] > 20
    cols = ", ".join(f"l.{k} AS {k}_l, r.{k} AS {k}_r" for k in derived)
    con.execute(f"CREATE TABLE p AS SELECT {cols} FROM t l, t r")
    common = "len(list_intersect(a__tokens_l, a__tokens_r))"
    plain = f"{common} / greatest(len(a__tokens_l) + len(a__tokens_r) - {common}, 1)"
    for t in (0.7, 0.4):
        fast = con.execute(f"SELECT coalesce({_overlap_sql('a', t)}, false) FROM p").fetchnumpy()
        slow = con.execute(f"SELECT {plain} >= {t} FROM p").fetchnumpy()
        got, want = next(iter(fast.values())), next(iter(slow.values()))
        assert 500 < want.sum() < len(want) // 2 and (got == want).all()


def test_best_links_same_clusters_as_splink(probabilistic):
    # best_links runs splink's single-best-link rule over arrays: on the trained model's
    # scored pairs it must give splink's own clusters.
    from healthlab.sharing.frames import best_links

    model, frames = probabilistic.model, ["renmin", "zhongxin", "xianyi"]
    predict = model.inference.predict(threshold_match_probability=0.01)
    theirs = model.clustering.cluster_using_single_best_links(
        predict, duplicate_free_datasets=frames, threshold_match_probability=0.9
    ).as_pandas_dataframe()
    con = probabilistic._con
    hit = con.execute(
        f'SELECT "__row_l", "__row_r", match_probability FROM {predict.physical_name} '
        "WHERE match_probability >= 0.9"
    ).fetchnumpy()
    source = con.execute("SELECT src FROM records ORDER BY __row").fetchnumpy()["src"]
    ours = best_links(hit["__row_l"], hit["__row_r"], hit["match_probability"], source,
                      len(source))  # fmt: skip
    theirs = theirs.sort_values("__row")
    assert len(theirs) == len(source) and len(hit["__row_l"]) > 100
    a, b = pd.factorize(ours)[0], pd.factorize(theirs["cluster_id"].astype(str))[0]
    assert (pd.crosstab(a, b).gt(0).sum(axis=1) == 1).all()  # the same partition
    assert len(set(a)) == len(set(b)) < len(source)
