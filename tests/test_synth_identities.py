"""Synthetic identities: names as concentrated as in life, ids valid in form and never real."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from healthlab.errors import InvalidParameterError
from healthlab.synth.identities import (
    check_character,
    make_identities,
    surname_table,
    valid_resident_id,
)

N = 60_000


@pytest.fixture(scope="module")
def people():
    rng = np.random.default_rng(2)
    return pd.DataFrame(
        {"person_id": np.arange(N) + 100, "sex": rng.choice(["F", "M"], N),
         "birth_date": pd.Timestamp("1925-01-01")
         + pd.to_timedelta(rng.integers(0, 36_000, N), "D"),
         "province": rng.choice(["Beijing", "Jiangxi", "Xinjiang", "Guangdong"], N),
         "district": pd.Series(rng.integers(1, 60, N)).astype(str).radd("区")}
    )  # fmt: skip


@pytest.fixture(scope="module")
def ids(people):
    return make_identities(people, seed=4)


def test_surnames_are_as_concentrated_as_in_life(ids):
    share = ids["surname"].value_counts(normalize=True)
    for name, target in (("王", 0.0725), ("李", 0.0719), ("张", 0.0683)):
        assert abs(share[name] - target) < 4 * np.sqrt(target / N), name
    top100 = set(surname_table()["char"][:100])
    assert abs(ids["surname"].isin(top100).mean() - 0.859) < 0.01


def test_names_in_characters_and_pinyin(ids):
    assert (ids["name"] == ids["surname"] + ids["given_name"]).all()
    assert ids["given_name"].str.len().between(1, 2).all()
    assert ids["name_pinyin"].str.fullmatch(r"[A-Z][a-z]+ [A-Z][a-z]+").all()


def test_check_character_matches_the_standard_example():
    # The worked example of GB 11643-1999.
    assert valid_resident_id(["11010519491231002X"]).tolist() == [True]
    assert check_character(["11010519491231002"]).tolist() == ["X"]
    assert valid_resident_id(["110105194912310021", None, "abc"]).tolist() == [False] * 3


def test_resident_ids_valid_unique_and_never_issued(people, ids):
    rid = ids["resident_id"]
    assert valid_resident_id(rid).all()
    assert rid.is_unique
    # Area code: province, "00" (no prefecture), a non-zero county: not a GB/T 2260 code.
    assert (rid.str[2:4] == "00").all() and (rid.str[4:6] != "00").all()
    assert (rid.str[6:14] == people["birth_date"].dt.strftime("%Y%m%d")).all()
    odd = rid.str[16].astype(int) % 2 == 1
    assert (odd == (people["sex"] == "M")).all()
    code = {"Beijing": "11", "Jiangxi": "36", "Xinjiang": "65", "Guangdong": "44"}
    assert (rid.str[:2] == people["province"].map(code)).all()


def test_phone_and_address(people, ids):
    assert ids["phone"].str.fullmatch(r"100\d{8}").all()
    zh = {
        "Beijing": "北京市",
        "Jiangxi": "江西省",
        "Xinjiang": "新疆维吾尔自治区",
        "Guangdong": "广东省",
    }
    prefix = people["province"].map(zh) + people["district"]
    starts = np.char.startswith(ids["address"].to_numpy(str), prefix.to_numpy(str))
    assert starts.all()
    ends = np.char.endswith(ids["address_pinyin"].to_numpy(str), people["province"].to_numpy(str))
    assert ends.all()


def test_reproducible_and_checked(people, ids):
    again = make_identities(people.iloc[:1000], seed=4)
    pd.testing.assert_frame_equal(again, make_identities(people.iloc[:1000], seed=4))
    assert not again["name"].equals(make_identities(people.iloc[:1000], seed=5)["name"])
    assert ids["person_id"].tolist() == people["person_id"].tolist()
    with pytest.raises(InvalidParameterError, match="district"):
        make_identities(people.drop(columns="district"))
    with pytest.raises(InvalidParameterError, match="province"):
        make_identities(people.assign(province="Atlantis").iloc[:5])


def test_district_labels_get_readable_names():
    from healthlab.synth.identities import district_names

    zh, py = district_names(["51-C7", "51-R47", "free label", None])
    assert zh.tolist()[:3] == ["白云区", "白云西县", "free label"]
    assert py.tolist()[:2] == ["Baiyun District", "Baiyun West County"]


def test_works_on_the_synthetic_population():
    from healthlab.synth import population

    people = population.make_population(3000, seed=1)
    ids = make_identities(people, seed=1)
    assert valid_resident_id(ids["resident_id"]).all() and ids["resident_id"].is_unique
    code = people["province_code"].astype(int).astype(str).str.zfill(2)
    assert (ids["resident_id"].str[:2] == code.to_numpy()).all()
