"""The frequency attack on Bloom encodings of surnames, on the patients of tiny hospital systems."""

import pytest

from healthlab import datasets
from healthlab.errors import InvalidParameterError
from healthlab.sharing import attack_surnames
from healthlab.sharing.bloom_attack import frequency_attack, public_surnames
from healthlab.sharing.identifiers import read_identifiers


@pytest.fixture(scope="module")
def patients():
    # The catalogue's dataset is read as it is: no folder of databases to manage.
    ids = read_identifiers(datasets.load("hospital_systems", size="tiny"))
    return ids[ids["system"] != "zhongxin"]


def test_public_list():
    p = public_surnames()
    assert p["name"].is_unique and p["share"].is_monotonic_decreasing
    assert p["name"].head(3).tolist() == ["wang", "li", "zhang"]


def test_plain_encodings_leak_and_salting_stops_it(patients):
    kw = {"key": "hospitals' secret", "birth_year": patients["birth_year"]}
    plain = attack_surnames(patients["surname_py"], **kw)
    salted = attack_surnames(patients["surname_py"], hardening={"salt": True}, **kw)
    balanced = attack_surnames(patients["surname_py"], hardening={"balance": True}, **kw)
    folded = attack_surnames(patients["surname_py"], hardening={"xor_fold": True}, **kw)
    assert plain["records"] == len(patients)
    # A public list recovers a large share of surnames from plain encodings alone.
    assert plain["reidentified"] >= 0.2
    assert salted["reidentified"] < 0.1 < plain["reidentified"] - salted["reidentified"]
    assert salted["distinct_encodings"] > 5 * plain["distinct_encodings"]
    # Balancing and folding keep equal names equal: frequency alignment still works.
    for hardened in (balanced, folded):
        assert hardened["by_frequency"] == pytest.approx(plain["by_frequency"])
    again = attack_surnames(patients["surname_py"], **kw)
    assert again == plain


def test_attack_sees_only_filters(patients):
    import pandas as pd

    from healthlab.sharing.bloom import bloom_encode

    f = bloom_encode(pd.DataFrame({"s": patients["surname_py"]}), key="k")
    found = frequency_attack(f)
    assert list(found.columns) == ["by_frequency", "guess"] and len(found) == len(patients)
    with pytest.raises(InvalidParameterError, match="birth_year"):
        attack_surnames(patients["surname_py"], key="k", hardening={"salt": True})
    with pytest.raises(InvalidParameterError, match="hardening"):
        attack_surnames(patients["surname_py"], key="k", hardening={"pepper": True})
