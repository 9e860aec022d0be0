"""Privacy-preserving linkage: keyed Bloom-filter encodings of identifiers, matched by Dice.

Each hospital encodes its patients' identifiers before they leave: every identifier is cut
into character bigrams (padded with ``_`` at both ends, and prefixed with the field's name so
that ``"12"`` in a birth date and in a phone number are different tokens), and each token
sets ``hashes`` bits of a record's filter of ``bits`` bits (a cryptographic long-term key,
CLK, Schnell et al. 2009). The bit positions of a token are drawn from a random generator
seeded with HMAC-SHA256 of the token under a secret ``key`` the hospitals share and the
linkage unit does not ("random hashing", Niedermeyer et al. 2014, which resists the attack on
double hashing). Without the key the positions cannot be recomputed.

Records are compared by the Dice coefficient of their filters,
``2 |A and B| / (|A| + |B|)``: similar strings share most bigrams, so a typo or a transposed
date lowers it a little, a different person a lot. Candidate pairs come from keyed hashes
(BLAKE2b in keyed mode) of the same blocking keys as the plaintext model (resident id, phone,
address key, surname and birth date, name and birth year), so the linkage unit never sees a
value. A pair
is linked when its Dice coefficient is at least ``threshold`` and each record is the other's
best match in that system; clusters are connected components.

Default parameters: ``bits=1024``, ``hashes=5`` per token (about a quarter of the bits set),
bigrams; fields name (pinyin),
sex, birth date, resident id, phone, address key. These resist frequency attacks only as far
as CLKs do; see the references before using them on real data.

References
----------
Schnell R, Bachteler T, Reiher J. Privacy-preserving record linkage using Bloom filters.
BMC Medical Informatics and Decision Making 2009;9:41.
Niedermeyer F, Steinmetzer S, Kroll M, Schnell R. Cryptanalysis of basic Bloom filters used
for privacy preserving record linkage. Journal of Privacy and Confidentiality 2014;6(2).
"""

from __future__ import annotations

import hashlib
import hmac

import numpy as np
import pandas as pd

from healthlab.errors import InvalidParameterError

__all__ = ["bloom_encode", "bloom_link", "dice", "keyed_hash"]

#: Identifier fields encoded into each record's filter.
FIELDS = ("name_py", "sex", "birth_date", "resident_id", "phone", "address_key")
#: Blocking keys (fields joined) hashed with the key.
BLOCKS = (("resident_id",), ("phone",), ("address_key",), ("surname_py", "birth_date"),
          ("name_py", "birth_year"))  # fmt: skip
_CHUNK = 100_000


def _key(key) -> bytes:
    if isinstance(key, str) and key:
        return key.encode("utf-8")
    if isinstance(key, bytes) and key:
        return key
    raise InvalidParameterError(
        f"key must be a non-empty str or bytes (the shared secret), got {key!r}"
    )


def keyed_hash(values: pd.Series, key) -> pd.Series:
    """A keyed hash (BLAKE2b-128 in keyed mode, a MAC) of each value, hex; missing kept missing.

    Examples
    --------
    >>> import pandas as pd
    >>> h = keyed_hash(pd.Series(["a", None, "a"]), "secret")
    >>> h[0] == h[2], h.isna().tolist()
    (True, [False, True, False])
    """
    k = hashlib.sha256(_key(key)).digest()  # BLAKE2b keys are at most 64 bytes
    s = pd.Series(values).astype("string")
    code, uniq = pd.factorize(s)
    digest = np.array([hashlib.blake2b(u.encode("utf-8"), key=k, digest_size=16).hexdigest()
                       for u in uniq] + [None], dtype=object)  # fmt: skip
    return pd.Series(digest[code], index=s.index, dtype="string")


def _positions(tokens, key: bytes, bits: int, hashes: int, cache: dict) -> np.ndarray:
    """Bit positions of each token: a generator seeded with the token's HMAC-SHA256."""
    for tok in tokens:  # distinct tokens only (bigrams: a few thousand in all)
        if tok not in cache:
            seed = hmac.new(key, tok.encode("utf-8"), hashlib.sha256).digest()
            cache[tok] = np.random.default_rng(list(seed)).integers(0, bits, hashes)
    return np.array([cache[t] for t in tokens], np.int64).reshape(len(tokens), hashes)


def bloom_encode(ids: pd.DataFrame, *, key, bits: int = 1024, hashes: int = 5,
                 fields=FIELDS) -> np.ndarray:  # fmt: skip
    """A keyed Bloom filter (CLK) per record: an array of shape ``(n, bits // 64)``, uint64.

    Parameters
    ----------
    ids : pandas.DataFrame
        Standardised identifiers (:func:`~healthlab.sharing.identifiers.read_identifiers`).
    key : str or bytes
        The secret the data holders share.
    bits : int
        Filter length, a multiple of 64.
    hashes : int
        Bits set per token.
    fields : sequence of str
        Identifier columns encoded.

    Examples
    --------
    >>> import pandas as pd
    >>> ids = pd.DataFrame({"name_py": ["wangwei", "wangwie", "lina"]})
    >>> f = bloom_encode(ids, key="k", fields=["name_py"])
    >>> d = dice(f[[0, 0]], f[[1, 2]])
    >>> bool(d[0] > 0.6 > d[1])
    True
    """
    k = _key(key)
    if isinstance(bits, bool) or not isinstance(bits, int) or bits < 64 or bits % 64:
        raise InvalidParameterError(f"bits must be a positive multiple of 64, got {bits!r}")
    if isinstance(hashes, bool) or not isinstance(hashes, int) or not 1 <= hashes <= bits:
        raise InvalidParameterError(f"hashes must be an integer in [1, bits], got {hashes!r}")
    missing = [f for f in fields if f not in ids]
    if missing:
        raise InvalidParameterError(f"ids lacks the fields {missing}")
    n = len(ids)
    out = np.zeros((n, bits // 64), np.uint64)
    cache: dict = {}
    for lo in range(0, n, _CHUNK):  # fixed-size chunks of records bound the memory
        part = ids.iloc[lo : lo + _CHUNK]
        dense = np.zeros((len(part), bits), bool)
        for f in fields:  # a handful of fields
            text = "_" + part[f].astype("string") + "_"
            for i in range(max(int(text.str.len().max() or 0) - 1, 0)):  # bigram positions
                bigram = text.str[i : i + 2]
                code, uniq = pd.factorize(bigram)  # in Arrow: no Python strings per record
                ok = (bigram.str.len() == 2).fillna(False).to_numpy(bool) & (code >= 0)
                pos = _positions([f"{f}:{u}" for u in uniq], k, bits, hashes, cache)
                dense[np.repeat(np.flatnonzero(ok), hashes), pos[code[ok]].ravel()] = True
        out[lo : lo + len(part)] = np.packbits(dense, axis=1, bitorder="little").view(np.uint64)
    return out


def dice(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Dice coefficient of filter rows ``a[i]`` and ``b[i]``."""
    both = np.bitwise_count(a & b).sum(axis=1, dtype=np.int64)
    size = np.bitwise_count(a).sum(axis=1, dtype=np.int64) + np.bitwise_count(b).sum(
        axis=1, dtype=np.int64
    )
    return np.where(size > 0, 2 * both / np.maximum(size, 1), 0.0)


def _candidates(ids: pd.DataFrame, key) -> pd.DataFrame:
    sys_code = pd.factorize(ids["system"])[0]
    pairs = []
    for fields in BLOCKS:  # five blocking rules
        value = ids[fields[0]].astype("string")
        for f in fields[1:]:  # NA in any field makes the key NA
            value = value + "|" + ids[f].astype("string")
        code = pd.factorize(keyed_hash(value, key))[0]  # the linkage unit sees only hashes
        frame = pd.DataFrame({"row": np.arange(len(ids)), "sys": sys_code, "h": code})
        frame = frame[frame["h"] >= 0]
        m = frame.merge(frame, on="h", suffixes=("_l", "_r"))
        m = m[m["sys_l"] < m["sys_r"]]
        pairs.append(m[["row_l", "row_r"]])
    return pd.concat(pairs).drop_duplicates(ignore_index=True)


def bloom_link(ids: pd.DataFrame, *, key, threshold: float = 0.7, bits: int = 1024,
               hashes: int = 5) -> tuple[pd.DataFrame, pd.DataFrame]:  # fmt: skip
    """Link records of several systems on their keyed Bloom filters alone.

    Parameters
    ----------
    ids : pandas.DataFrame
        Standardised identifiers of every system.
    key : str or bytes
        The secret shared by the data holders.
    threshold : float
        Dice coefficient at or above which a mutually best pair is linked.
    bits, hashes
        Filter parameters (see :func:`bloom_encode`).

    Returns
    -------
    clusters : pandas.DataFrame
        ``system``, ``local_id``, ``cluster_id``.
    pairs : pandas.DataFrame
        Candidate pairs: ``system_l``, ``local_id_l``, ``system_r``, ``local_id_r``,
        ``dice``, ``linked``.

    Examples
    --------
    >>> from healthlab.sharing.example import make_city_systems
    >>> from healthlab.sharing.identifiers import read_identifiers
    >>> ids = read_identifiers(make_city_systems(200, seed=0).paths)
    >>> clusters, pairs = bloom_link(ids, key="shared secret")
    >>> len(clusters) == len(ids)
    True
    """
    from healthlab.sharing.linkage import clusters_from_pairs

    if not 0 < threshold <= 1:
        raise InvalidParameterError(f"threshold must be in (0, 1], got {threshold!r}")
    ids = ids.reset_index(drop=True)
    filters = bloom_encode(ids, key=key, bits=bits, hashes=hashes)
    cand = _candidates(ids, key)
    left, right = cand["row_l"].to_numpy(), cand["row_r"].to_numpy()
    score = dice(filters[left], filters[right])
    system = ids["system"].to_numpy(object)
    pairs = pd.DataFrame({"l": left, "r": right, "sys_l": system[left], "sys_r": system[right],
                          "dice": score})  # fmt: skip
    # Mutual best: the pair is the best of the left record in the right system and vice versa.
    best_l = pairs.groupby(["l", "sys_r"])["dice"].transform("max") == pairs["dice"]
    best_r = pairs.groupby(["r", "sys_l"])["dice"].transform("max") == pairs["dice"]
    pairs["linked"] = best_l & best_r & (pairs["dice"] >= threshold)
    local = ids["local_id"].to_numpy(object)
    out = pd.DataFrame({"system_l": pairs["sys_l"], "local_id_l": local[left],
                        "system_r": pairs["sys_r"], "local_id_r": local[right],
                        "dice": pairs["dice"], "linked": pairs["linked"]})  # fmt: skip
    hit = out[out["linked"]]
    clusters = clusters_from_pairs(ids, hit["system_l"], hit["local_id_l"], hit["system_r"],
                                   hit["local_id_r"])  # fmt: skip
    return clusters, out
