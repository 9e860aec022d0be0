"""Names, resident-id numbers, phones and addresses that look real and can never be anyone's.

**Names.** Surnames are drawn from the frequency table in ``healthlab/data/names_zh.csv``
(Wang, Li and Zhang about 7% each, the top 100 holding 85.9%, as in the Ministry of Public
Security's counts); given names have one character (probability :data:`P_SINGLE`) or two, each
from the sex's character table, with characters typical of the person's birth cohort (before
1970, after 2000) weighted up three-fold and those of the other era down to a third.

**Resident-id numbers** have the 18-character format of GB 11643-1999: a six-digit area code,
the birth date ``YYYYMMDD``, a three-digit sequence (odd for men, even for women) and an ISO 7064
MOD 11-2 check character (``0``-``9`` or ``X``). The area code is the GB/T 2260 province code,
then ``00``, then a two-digit number for the district (``01``-``99``). In GB/T 2260 a county-level
code always sits under a prefecture code (``01``-``70`` or ``90``); a code with ``00`` in the
prefecture position and a non-zero county part does not exist, so no number made here was ever
issued to a person, although every one passes the check-character test and shows the province.

**Phones** have eleven digits like a mobile number but begin with ``100``: mobile numbers in
China's numbering plan begin with ``13`` to ``19``, and the ``10`` block is held for operators'
service codes, so no subscriber has one.

**Addresses** are a street, number, building and room in the person's district, in characters
(``address``) and in pinyin (``address_pinyin``); district labels of the form ``51-R41`` are
given synthetic names (:func:`district_names`).
"""

from __future__ import annotations

from functools import cache
from importlib import resources

import numpy as np
import pandas as pd

from healthlab._blocks import blocks
from healthlab._validation import check_seed
from healthlab.errors import InvalidParameterError
from healthlab.synth._reference import load_provinces

__all__ = [
    "P_SINGLE",
    "check_character",
    "district_names",
    "given_name_table",
    "draw_addresses",
    "make_identities",
    "surname_table",
    "surnames_and_streets",
    "valid_resident_id",
]

#: Probability that a given name has one character (assumption: single-character names were
#: common among people born in the 1980s-1990s and are now about one name in five).
P_SINGLE = 0.2

_WEIGHTS = np.array([7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2])
_CHECK = np.array(list("10X98765432"))

_STREETS = pd.DataFrame(
    {
        "zh": ["人民", "解放", "建设", "中山", "和平", "新华", "胜利", "长江", "黄河", "朝阳"]
        + ["文化", "光明", "幸福", "团结", "青年", "东风", "工业", "友谊", "学府", "迎宾"],
        "py": ["Renmin", "Jiefang", "Jianshe", "Zhongshan", "Heping", "Xinhua", "Shengli"]
        + ["Changjiang", "Huanghe", "Chaoyang", "Wenhua", "Guangming", "Xingfu", "Tuanjie"]
        + ["Qingnian", "Dongfeng", "Gongye", "Youyi", "Xuefu", "Yingbin"],
    }
)
# Synthetic district names: a stem, and past the first twenty a direction; 区 (district) for
# city districts and 县 (county) for counties.
_STEMS = pd.DataFrame(
    {
        "zh": ["东城", "西湖", "南山", "北塘", "新华", "长安", "青山", "白云", "河东", "清水"]
        + ["龙泉", "金山", "平安", "永宁", "安定", "太平", "宁远", "德化", "兴隆", "广宁"],
        "py": ["Dongcheng", "Xihu", "Nanshan", "Beitang", "Xinhua", "Chang'an", "Qingshan"]
        + ["Baiyun", "Hedong", "Qingshui", "Longquan", "Jinshan", "Ping'an", "Yongning"]
        + ["Anding", "Taiping", "Ningyuan", "Dehua", "Xinglong", "Guangning"],
    }
)
_DIRECTION = pd.DataFrame(
    {
        "zh": ["", "东", "西", "南", "北", "新", "中", "上", "下", "前"],
        "py": ["", " East", " West", " South", " North", " New", " Central", " Upper", " Lower"]
        + [" Front"],
    }
)
_SUFFIX = pd.DataFrame({"zh": ["路", "街", "大道"], "py": ["Road", "Street", "Avenue"]})


@cache
def _names() -> pd.DataFrame:
    path = resources.files("healthlab") / "data" / "names_zh.csv"
    with path.open("rb") as handle:
        return pd.read_csv(handle, comment="#", dtype={"sex": "string", "era": "string"})


def surname_table() -> pd.DataFrame:
    """The surname table: ``char``, ``pinyin`` and ``share`` (fraction of people, sums to 1).

    Examples
    --------
    >>> from healthlab.synth.identities import surname_table
    >>> t = surname_table()
    >>> list(t["pinyin"][:3])
    ['Wang', 'Li', 'Zhang']
    """
    t = _names()
    s = t[t["kind"] == "surname"][["char", "pinyin", "weight"]].reset_index(drop=True)
    weight = s.pop("weight")
    s["share"] = weight / weight.sum()
    return s


def given_name_table() -> pd.DataFrame:
    """Given-name characters: ``char``, ``pinyin``, ``sex``, ``era``, ``weight``."""
    t = _names()
    return t[t["kind"] == "given"].drop(columns="kind").reset_index(drop=True)


def check_character(body) -> np.ndarray:
    """The GB 11643 (ISO 7064 MOD 11-2) check character of each 17-digit string in ``body``."""
    text = np.asarray(pd.Series(body, dtype=object).to_numpy(str), dtype="U17")
    # Each character as its code point, less that of "0": the digits as integers.
    digits = text.view(np.uint32).reshape(len(text), 17).astype(np.int64) - ord("0")
    return _CHECK[(digits * _WEIGHTS).sum(axis=1) % 11]


def valid_resident_id(ids) -> np.ndarray:
    """Whether each id has 17 digits and the right check character (``True``/``False``).

    Examples
    --------
    >>> from healthlab.synth.identities import valid_resident_id
    >>> valid_resident_id(["11000119900101002X", "110001199001010021"]).tolist()
    [False, False]
    """
    s = pd.Series(ids, dtype="string").fillna("")
    ok = s.str.fullmatch(r"\d{17}[\dX]").fillna(False).to_numpy(bool)
    out = np.zeros(len(s), bool)
    if ok.any():
        body = s[ok].str[:17].to_numpy(object)
        out[ok] = check_character(body) == s[ok].str[17].to_numpy(object)
    return out


def _province_codes(people: pd.DataFrame) -> np.ndarray:
    prov = load_provinces()
    if "province_code" in people:
        code = pd.to_numeric(people["province_code"], errors="coerce").to_numpy(float)
        code = np.where(code >= 100, code // 10_000, code)
    elif "province" in people:
        code = people["province"].map(prov.set_index("province")["province_code"]).to_numpy(float)
    else:
        raise InvalidParameterError(
            "population needs a `province` (English name) or `province_code` column"
        )
    bad = ~np.isin(code, prov["province_code"].to_numpy())
    if bad.any():
        example = (people["province_code"] if "province_code" in people else people["province"])[
            bad
        ].iloc[0]
        raise InvalidParameterError(
            f"population has {bad.sum()} rows with an unknown province, for example {example!r}; "
            "use the 31 English names of the census tables or their GB/T 2260 codes"
        )
    return code.astype("int64")


def _district_number(district: pd.Series) -> np.ndarray:
    """A stable number 1-99 for each district label (the same label, the same number)."""
    labels = district.astype("string").fillna("").to_numpy(object)
    return (pd.util.hash_array(labels) % 99 + 1).astype("int64")


@cache
def _given_pools() -> tuple[pd.DataFrame, np.ndarray]:
    """Given-name characters and the cumulative weights of the six pools (sex x cohort)."""
    g = given_name_table()
    # Six pools: sex (F, M) x cohort (old, middle, young); a row of weights over all characters.
    is_m = (g["sex"] == "M").to_numpy()
    era = g["era"].to_numpy(object)
    w = g["weight"].to_numpy(float)
    pools = []
    for want_m in (False, True):
        for c in ("old", "any", "young"):
            boost = np.where(era == c, 3.0, np.where(era == "any", 1.0, 1 / 3))
            if c == "any":
                boost = np.ones(len(g))
            pw = w * boost * (is_m == want_m)
            pools.append(np.cumsum(pw) / pw.sum())
    return g, np.vstack(pools)


def _draw_given(rng, n, sex_m, cohort) -> tuple[np.ndarray, np.ndarray]:
    """Draw one given-name character per row: (characters, pinyin)."""
    g, cdf = _given_pools()
    group = sex_m.astype(int) * 3 + cohort
    idx = (cdf[group] < rng.random(n)[:, None]).sum(axis=1)
    idx = np.minimum(idx, len(g) - 1)
    return g["char"].to_numpy(object)[idx], g["pinyin"].to_numpy(object)[idx]


def district_names(district) -> tuple[np.ndarray, np.ndarray]:
    """Readable names, in characters and pinyin, for district labels such as ``"51-R41"``.

    A label ``<province>-<C|R><n>`` (city district or rural county number ``n``) becomes a
    synthetic name such as ``青山区`` / ``Qingshan District`` or ``龙泉东县`` / ``Longquan East
    County``; any other label is kept as it is.
    """
    codes, uniques = pd.factorize(pd.Series(district).astype("string").fillna(""))
    labels = pd.Series(uniques, dtype="string")
    parts = labels.str.extract(r"^\d+-([CR])(\d+)$")
    ok = parts[0].notna().to_numpy()
    n = pd.to_numeric(parts[1], errors="coerce").fillna(0).to_numpy(int)
    stem, way = n % len(_STEMS), (n // len(_STEMS)) % len(_DIRECTION)
    city = (parts[0] == "C").fillna(False).to_numpy(bool)
    zh = (
        _STEMS["zh"].to_numpy(object)[stem]
        + _DIRECTION["zh"].to_numpy(object)[way]
        + np.where(city, "区", "县")
    )
    py = (
        _STEMS["py"].to_numpy(object)[stem]
        + _DIRECTION["py"].to_numpy(object)[way]
        + np.where(city, " District", " County")
    )
    raw = labels.to_numpy(object)
    return np.where(ok, zh, raw)[codes], np.where(ok, py, raw)[codes]


def draw_streets(n: int, rng: np.random.Generator) -> np.ndarray:
    """``n`` random street names in pinyin (``"Renmin Road"``), as :func:`draw_addresses` has them.

    Examples
    --------
    >>> import numpy as np
    >>> streets = draw_streets(3, np.random.default_rng(0))
    >>> len(streets), all(" " in s for s in streets)
    (3, True)
    """
    st = rng.integers(0, len(_STREETS), n)
    sf = rng.choice(len(_SUFFIX), n, p=[0.6, 0.3, 0.1])
    return _STREETS["py"].to_numpy(object)[st] + " " + _SUFFIX["py"].to_numpy(object)[sf]


def draw_addresses(province_code, district, rng: np.random.Generator):
    """Random street addresses in the given districts: (characters, pinyin) arrays.

    ``province_code`` holds two-digit GB/T 2260 codes, ``district`` the district labels.
    """
    code = np.asarray(province_code)
    n = len(code)
    prov = load_provinces().set_index("province_code")
    st = rng.integers(0, len(_STREETS), n)
    sf = rng.choice(len(_SUFFIX), n, p=[0.6, 0.3, 0.1])
    num, bld, room = rng.integers(1, 400, n), rng.integers(1, 30, n), rng.integers(101, 2600, n)
    dist, dist_py = district_names(district)
    s_num, s_bld, s_room = (pd.Series(v).astype(str).to_numpy(object) for v in (num, bld, room))
    street_zh = _STREETS["zh"].to_numpy(object)[st] + _SUFFIX["zh"].to_numpy(object)[sf]
    street_py = _STREETS["py"].to_numpy(object)[st] + " " + _SUFFIX["py"].to_numpy(object)[sf]
    address = prov.loc[code, "name_zh"].to_numpy(object) + dist + street_zh
    address = address + s_num + "号" + s_bld + "栋" + s_room + "室"
    address_py = "Room " + s_room + ", Building " + s_bld + ", No. " + s_num + " " + street_py
    address_py = address_py + ", " + dist_py + ", " + prov.loc[code, "province"].to_numpy(object)
    return address, address_py


def _identities_block(people: pd.DataFrame, rng: np.random.Generator) -> pd.DataFrame:
    n = len(people)
    sur = surname_table()
    pick = rng.choice(len(sur), size=n, p=sur["share"].to_numpy())
    birth = pd.to_datetime(people["birth_date"])
    year = birth.dt.year.to_numpy()
    cohort = np.where(year < 1970, 0, np.where(year >= 2000, 2, 1))
    sex_m = (people["sex"].astype("string") == "M").to_numpy(bool)
    c1, p1 = _draw_given(rng, n, sex_m, cohort)
    c2, p2 = _draw_given(rng, n, sex_m, cohort)
    single = rng.random(n) < P_SINGLE
    given = np.where(single, c1, c1 + c2)
    given_py = np.where(single, p1, p1 + pd.Series(p2).str.lower().to_numpy(object))
    surname = sur["char"].to_numpy(object)[pick]
    surname_py = sur["pinyin"].to_numpy(object)[pick]
    # Resident id: province code, "00", district 01-99 (an area code GB/T 2260 never assigns).
    code = _province_codes(people)
    district = _district_number(people["district"])
    area = pd.Series(code * 10_000 + district).astype(str).str.zfill(6).to_numpy(object)
    seq = rng.integers(0, 500, n) * 2 + sex_m
    body = area + birth.dt.strftime("%Y%m%d").to_numpy(object)
    body = body + pd.Series(seq).astype(str).str.zfill(3).to_numpy(object)
    phone = "100" + pd.Series(rng.integers(0, 10**8, n)).astype(str).str.zfill(8).to_numpy(object)
    address, address_py = draw_addresses(code, people["district"], rng)
    return pd.DataFrame(
        {
            "person_id": people["person_id"].to_numpy(),
            "surname": surname,
            "given_name": given,
            "name": surname + given,
            "name_pinyin": surname_py + " " + given_py,
            "_body": body,
            "phone": phone,
            "address": address,
            "address_pinyin": address_py,
        }
    )


def make_identities(population: pd.DataFrame, *, seed: int = 0) -> pd.DataFrame:
    """A synthetic identity for each person: name, resident-id number, phone and address.

    See the module notes for the generative model and why no identifier can be a real
    person's. Rows are drawn in fixed blocks, so a person's identity depends only on the seed
    and their row's position.

    Parameters
    ----------
    population : pandas.DataFrame
        Needs ``person_id``, ``sex`` (``"F"``/``"M"``), ``birth_date``, ``district`` and
        ``province`` (English name) or ``province_code`` (GB/T 2260, two or six digits).
    seed : int
        Seed of the random draws.

    Returns
    -------
    pandas.DataFrame
        One row per person: ``person_id``, ``surname``, ``given_name``, ``name`` (characters),
        ``name_pinyin`` (``"Wang Xiuying"``), ``resident_id`` (18 characters, unique),
        ``phone`` (11 digits), ``address``, ``address_pinyin``.

    References
    ----------
    GB 11643-1999, Citizen identification number; GB/T 2260, Codes for the administrative
    divisions of the People's Republic of China; ISO 7064:2003, MOD 11-2.

    Examples
    --------
    >>> import pandas as pd
    >>> from healthlab.synth.identities import make_identities, valid_resident_id
    >>> people = pd.DataFrame({"person_id": [1, 2], "sex": ["F", "M"],
    ...     "birth_date": pd.to_datetime(["1958-03-02", "2001-11-30"]),
    ...     "province": ["Jiangxi", "Beijing"], "district": ["D01", "D02"]})
    >>> ids = make_identities(people, seed=1)
    >>> valid_resident_id(ids["resident_id"]).all(), ids["resident_id"].str[2:4].tolist()
    (np.True_, ['00', '00'])
    """
    seed = check_seed(seed)
    if not isinstance(population, pd.DataFrame):
        raise InvalidParameterError(
            f"population must be a pandas DataFrame, got {type(population).__name__}"
        )
    needed = ["person_id", "sex", "birth_date", "district"]
    missing = [c for c in needed if c not in population]
    if missing:
        raise InvalidParameterError(
            f"population lacks the columns {missing}; make_identities needs {needed} and "
            "`province` or `province_code`"
        )
    parts = [
        _identities_block(population.iloc[start:stop], rng)
        for start, stop, rng in blocks(len(population), seed, "identities")
    ]
    if not parts:
        parts = [_identities_block(population.iloc[:0], np.random.default_rng(seed))]
    out = pd.concat(parts, ignore_index=True)
    body = out.pop("_body").to_numpy(object)
    body = _deduplicate(body)
    resident_id = body + check_character(body) if len(body) else body
    out.insert(5, "resident_id", resident_id)
    text = [c for c in out.columns if c != "person_id"]
    return out.astype({c: "string" for c in text})


def surnames_and_streets(population: pd.DataFrame, *, seed: int = 0) -> pd.DataFrame:
    """Each person's surname and home street as :func:`make_identities` draws them, fast.

    The same random draws in the same order, without building the names, numbers and
    addresses nobody asked for: what an access log's patient index needs for a million people.

    Parameters
    ----------
    population : pandas.DataFrame
        Needs ``person_id``; the rows in the order given to :func:`make_identities`.
    seed : int
        Seed of the random draws, as for :func:`make_identities`.

    Returns
    -------
    pandas.DataFrame
        ``person_id``, ``surname`` (characters) and ``street`` (pinyin, ``"Renmin Road"``),
        object columns.

    Examples
    --------
    >>> import pandas as pd
    >>> people = pd.DataFrame({"person_id": [1, 2], "sex": ["F", "M"],
    ...     "birth_date": pd.to_datetime(["1958-03-02", "2001-11-30"]),
    ...     "province": ["Jiangxi", "Beijing"], "district": ["D01", "D02"]})
    >>> fast = surnames_and_streets(people, seed=1)
    >>> full = make_identities(people, seed=1)
    >>> fast["surname"].tolist() == full["surname"].tolist()
    True
    >>> all(street in address for street, address in zip(fast["street"], full["address_pinyin"]))
    True
    """
    seed = check_seed(seed)
    sur = surname_table()
    n_all = len(population)
    surname = np.empty(n_all, dtype=object)
    street = np.empty(n_all, dtype=object)
    streets, suffixes = _STREETS["py"].to_numpy(object), _SUFFIX["py"].to_numpy(object)
    for start, stop, rng in blocks(n_all, seed, "identities"):
        n = stop - start
        # The draws of _identities_block and draw_addresses, in their order.
        pick = rng.choice(len(sur), size=n, p=sur["share"].to_numpy())
        for _ in range(3):  # two given-name characters, single or double
            rng.random(n)
        rng.integers(0, 500, n)  # id sequence
        rng.integers(0, 10**8, n)  # phone
        st = rng.integers(0, len(_STREETS), n)
        sf = rng.choice(len(_SUFFIX), n, p=[0.6, 0.3, 0.1])
        surname[start:stop] = sur["char"].to_numpy(object)[pick]
        street[start:stop] = streets[st] + " " + suffixes[sf]
    return pd.DataFrame(
        {"person_id": population["person_id"].to_numpy(), "surname": surname, "street": street}
    )


def _deduplicate(body: np.ndarray) -> np.ndarray:
    """Make id bodies unique by stepping the sequence by 2 (keeping the sex parity)."""
    s = pd.Series(body, dtype=object)
    for step in range(1, 500):
        dup = s.duplicated().to_numpy()
        if not dup.any():
            break
        seq = (s[dup].str[14:17].astype(int) + 2 * step) % 1000
        s[dup] = s[dup].str[:14] + seq.astype(str).str.zfill(3)
    return s.to_numpy(object)
