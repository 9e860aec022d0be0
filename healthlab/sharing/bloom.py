"""Privacy-preserving linkage: keyed Bloom-filter encodings of identifiers, matched by Dice.

Each data holder encodes its records before they leave: every compared value is cut into
character bigrams (padded with ``_`` at both ends, and prefixed with the field's name so
that ``"12"`` in a birth date and in a phone number are different tokens), and each token
sets ``hashes`` bits of a record's filter of ``bits`` bits (a cryptographic long-term key,
CLK, Schnell et al. 2009). The bit positions of a token come from a keyed hash (BLAKE2b in
keyed mode) of the token under a secret ``key`` the holders share and the linkage unit does
not: each token gets its own independent positions ("random hashing", Niedermeyer et al.
2014, which resists the attack on double hashing).

In linkage each compared field is encoded in a filter of its own (:data:`FIELD_BITS` bits),
and two records are compared by the Dice coefficient ``2 |A and B| / (|A| + |B|)`` of their
filters over the fields *both* records have: similar strings share most bigrams, so a typo
or a transposed date lowers it a little, a different person a lot, and a field missing from
either record counts neither way, as in the other methods. (One filter for the whole record
would let a missing field weigh as a disagreement: a record without its resident id, whose
phone and address had changed, then fell below any threshold that kept precision, and most
of the pairs such a filter missed were of that kind.) The linkage unit learns which fields
each record has, not their values. Candidate pairs come from keyed hashes
(the first 64 bits of SHA-256 of the key and the value) of the blocking keys, so the linkage
unit never sees a value. Filters and hashes go to DuckDB; the pairs and their Dice
coefficients (``bit_count`` of the filters' words) are SQL. Pairs whose Dice coefficient is
at least ``threshold`` are clustered as in the probabilistic method: by single best links
(:func:`~healthlab.sharing.frames.best_links`), so that a cluster holds at most one record of
each source, when two sources or more are linked; by connected components when one source is
deduplicated.

**Hardening.** Identical values give identical filters, and frequent values frequent
filters: a frequency attack (:mod:`healthlab.sharing.bloom_attack`) exploits this. Three
hardenings from the literature are offered:

- *salt*: every token is hashed together with a stable attribute of the record (its birth
  year, say), so the same name in two birth years gives unrelated filters (Niedermeyer et al.
  2014); pairs whose salts differ can no longer match;
- *balance*: the filter is concatenated with its complement and the bits permuted with the
  key, so every filter has exactly half its bits set and the count of set bits says nothing
  (Schnell and Borgs 2016); unrelated balanced filters share half their set bits, so
  their Dice is rescaled to ``2 dice - 1`` (at least 0) to read like a plain one;
- *xor_fold*: the two halves of the filter are combined by exclusive or, so a set bit no
  longer says that a token's position is set (Schnell et al. 2016).

References
----------
Schnell R, Bachteler T, Reiher J. Privacy-preserving record linkage using Bloom filters.
BMC Medical Informatics and Decision Making 2009;9:41.
Niedermeyer F, Steinmetzer S, Kroll M, Schnell R. Cryptanalysis of basic Bloom filters used
for privacy preserving record linkage. Journal of Privacy and Confidentiality 2014;6(2).
Schnell R, Borgs C. Randomized response and balanced Bloom filters for privacy preserving
record linkage. IEEE ICDM Workshops 2016.
Schnell R, Borgs C, Encarnacao JL. Hardening encrypted patient names against cryptographic
attacks using cryptographic long-term keys. BMC Medical Informatics and Decision Making
2016;16:1-11 (XOR folding).
"""

from __future__ import annotations

import hashlib

import numpy as np
import pandas as pd

from healthlab.errors import InvalidParameterError
from healthlab.sharing.identifiers import TEXT

__all__ = ["bloom_encode", "bloom_link_records", "dice", "keyed_hash"]

_CHUNK = 100_000
#: Bits of each field's filter in linkage (:func:`bloom_link_records`).
FIELD_BITS = 256
_HARDENING = {"salt", "balance", "xor_fold"}


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
    s = pd.Series(values).astype(TEXT)
    code, uniq = pd.factorize(s)
    digest = np.array([hashlib.blake2b(u.encode("utf-8"), key=k, digest_size=16).hexdigest()
                       for u in uniq] + [None], dtype=object)  # fmt: skip
    return pd.Series(digest[code], index=s.index, dtype=TEXT)


def _positions(tokens, key: bytes, bits: int, hashes: int) -> np.ndarray:
    """Bit positions of each distinct token: ``hashes`` words of its keyed BLAKE2b digest."""
    k = hashlib.sha256(key).digest()
    raw = b"".join(hashlib.blake2b(t.encode("utf-8"), key=k, digest_size=4 * hashes).digest()
                   for t in tokens)  # fmt: skip
    return (np.frombuffer(raw, np.uint32).reshape(len(tokens), hashes) % bits).astype(np.int64)


def _distinct_rows(columns: list[pd.Series], n: int) -> tuple[np.ndarray, np.ndarray]:
    """A code per row, equal for rows equal in every column (missing equal to missing), and
    the first row of each code (codes number the rows' values in order of appearance)."""
    code = np.zeros(n, np.int64)
    for col in columns:  # factorize hashes, where numpy's unique would sort
        c, uniq = pd.factorize(col, use_na_sentinel=False)
        code = pd.factorize(code * len(uniq) + c)[0]  # below n * n: no overflow in int64
    return code, np.flatnonzero(~pd.Series(code).duplicated().to_numpy())


def _bigrams(text: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """Each bigram of the values padded with ``_``: its row, and the bigram as one integer.

    The integer holds the bigram's two code points (21 bits each), so that the bigrams are
    counted and matched in numpy, never as Python strings per record.
    """
    have = text.notna().to_numpy(bool)
    if not have.any():
        return np.zeros(0, np.int64), np.zeros(0, np.int64)
    padded = ("_" + text[have] + "_").to_numpy(dtype=str)  # UCS-4, zeros after each end
    points = padded.view(np.uint32).reshape(len(padded), -1).astype(np.int64)
    length = np.char.str_len(padded)
    valid = np.arange(points.shape[1] - 1) < (length - 1)[:, None]
    row, _ = np.nonzero(valid)
    code = points[:, :-1][valid] << 21 | points[:, 1:][valid]
    return np.flatnonzero(have)[row], code


def _chars(code: np.ndarray) -> list[str]:
    return [chr(c >> 21) + chr(c & 0x1FFFFF) for c in code.tolist()]


def _check_hardening(hardening) -> dict:
    if hardening is None:
        return {}
    if not isinstance(hardening, dict) or set(hardening) - _HARDENING:
        raise InvalidParameterError(
            f"hardening must be a dict with keys among {sorted(_HARDENING)}, got {hardening!r}"
        )
    return dict(hardening)


def bloom_encode(
    frame: pd.DataFrame,
    *,
    key,
    bits: int = 1024,
    hashes: int = 5,
    fields=None,
    salt: pd.Series | None = None,
    balance: bool = False,
    xor_fold: bool = False,
) -> np.ndarray:
    """A keyed Bloom filter (CLK) per record: an array of shape ``(n, words)``, uint64.

    Parameters
    ----------
    frame : pandas.DataFrame
        Values to encode, as text (missing values set no bits).
    key : str or bytes
        The secret the data holders share.
    bits : int
        Filter length, a multiple of 128.
    hashes : int
        Bits set per token (1 to 16).
    fields : sequence of str, optional
        Columns encoded; all of them by default.
    salt : pandas.Series, optional
        A stable attribute per record hashed with every token (see the module notes).
    balance, xor_fold : bool
        Hardenings: the filter and its permuted complement (twice as many bits); the two
        halves folded by exclusive or (half as many bits).

    Examples
    --------
    >>> import pandas as pd
    >>> names = pd.DataFrame({"name": ["wangwei", "wangwie", "lina"]})
    >>> f = bloom_encode(names, key="k")
    >>> d = dice(f[[0, 0]], f[[1, 2]])
    >>> bool(d[0] > 0.6 > d[1])
    True
    """
    k = _key(key)
    if isinstance(bits, bool) or not isinstance(bits, int) or bits < 128 or bits % 128:
        raise InvalidParameterError(f"bits must be a positive multiple of 128, got {bits!r}")
    if isinstance(hashes, bool) or not isinstance(hashes, int) or not 1 <= hashes <= 16:
        raise InvalidParameterError(f"hashes must be an integer from 1 to 16, got {hashes!r}")
    fields = list(frame.columns) if fields is None else list(fields)
    missing = [f for f in fields if f not in frame]
    if missing:
        raise InvalidParameterError(f"the frame lacks the fields {missing}")
    width = bits * (2 if balance else 1) // (2 if xor_fold else 1)
    perm = np.random.default_rng(list(hashlib.sha256(k + b"|balance").digest())).permutation(
        2 * bits
    )
    text = [frame[f].astype(TEXT).reset_index(drop=True) for f in fields]
    tag = None if salt is None else salt.astype(TEXT).fillna("").reset_index(drop=True)
    # A filter depends on the record's values (and salt) only: each distinct record is
    # encoded once and copied to the others (sexes, dates and names repeat a lot).
    record, first = _distinct_rows(text + ([] if tag is None else [tag]), len(frame))
    tag_code, tags = (None, None) if tag is None else pd.factorize(tag.iloc[first])
    distinct = np.zeros((len(first), width // 64), np.uint64)
    cache: dict = {}
    for lo in range(0, len(first), _CHUNK):  # fixed-size chunks of records bound the memory
        chunk = slice(lo, lo + _CHUNK)
        dense = np.zeros((len(first[chunk]), bits), bool)
        for f, values in zip(fields, text, strict=True):  # a handful of fields
            at, bigram = _bigrams(values.iloc[first[chunk]])
            # Tokens are named and hashed once per distinct token, not once per record.
            token, grams = pd.factorize(bigram)
            names = [f + ":" + g for g in _chars(grams)]
            if tag_code is not None:  # a token is the bigram with the record's salt
                token, pair = pd.factorize(tag_code[chunk][at] * len(grams) + token)
                plain = names
                names = [tags[p // len(grams)] + "|" + plain[p % len(grams)] for p in pair.tolist()]
            new = [t for t in names if t not in cache]
            if new:
                cache.update(zip(new, _positions(new, k, bits, hashes), strict=True))
            pos = np.array([cache[t] for t in names], np.int64).reshape(len(names), hashes)
            dense[np.repeat(at, hashes), pos[token].ravel()] = True
        if balance:
            dense = np.concatenate([dense, ~dense], axis=1)[:, perm]
        if xor_fold:
            half = dense.shape[1] // 2
            dense = dense[:, :half] ^ dense[:, half:]
        packed = np.packbits(np.ascontiguousarray(dense), axis=1, bitorder="little")
        distinct[chunk] = packed.view(np.uint64)
    return distinct[record]


def dice(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Dice coefficient of filter rows ``a[i]`` and ``b[i]``."""
    both = np.bitwise_count(a & b).sum(axis=1, dtype=np.int64)
    size = np.bitwise_count(a).sum(axis=1, dtype=np.int64) + np.bitwise_count(b).sum(
        axis=1, dtype=np.int64
    )
    return np.where(size > 0, 2 * both / np.maximum(size, 1), 0.0)


def _encode_sources(con, frames, compared, rules, key, hardening) -> list[int]:
    """The data holders' side: table ``bf`` of filters and hashed blocking keys, no values.

    Each compared field gets a filter of :data:`FIELD_BITS` bits of its own (columns
    ``f<field>_<word>`` and ``ones<field>``), and ``present`` has bit ``field`` set when the
    record has that field. Returns the words of each field's filter.
    """
    from healthlab.sharing.compare import bloom_columns, bloom_tokens

    salt_col = hardening.get("salt")
    salted = None
    if salt_col is not None:
        salted = next((c for c in compared if salt_col in (c.column, c.internal)), None)
        if salted is None:
            raise InvalidParameterError(
                f"hardening salt {salt_col!r} must be a compared column, one of "
                f"{[c.column for c in compared]}"
            )
    secret = hashlib.sha256(_key(key)).hexdigest()
    words: list[int] = []
    for i in range(len(frames)):
        cols = ", ".join(f'"{c}"' for c in ["__row", *bloom_columns(compared)])
        prepared = con.execute(f"SELECT {cols} FROM src_{i} ORDER BY __row").df()
        tokens = pd.DataFrame(bloom_tokens(prepared, compared))
        salt = None
        if salted is not None:
            values = prepared[salted.internal]
            salt = values.dt.year.astype("Int32") if salted.kind == "date" else values
        out = pd.DataFrame({"__row": prepared["__row"].to_numpy(), "src": i})
        present = np.zeros(len(tokens), np.int64)
        words = []
        for f, field in enumerate(tokens.columns):
            filters = bloom_encode(tokens[[field]], key=key, bits=FIELD_BITS, salt=salt,
                                   balance=bool(hardening.get("balance")),
                                   xor_fold=bool(hardening.get("xor_fold")))  # fmt: skip
            words.append(filters.shape[1])
            for j in range(filters.shape[1]):
                out[f"f{f}_{j}"] = filters[:, j]
            present |= tokens[field].notna().to_numpy(bool).astype(np.int64) << f
            del filters
        out["present"] = present
        del tokens
        con.register("__filters", out)
        hashed = ", ".join(
            "('0x' || left(sha256('{}' || '|' || {}), 16))::UBIGINT AS h{}".format(
                secret, " || '|' || ".join(f'CAST(p."{k}" AS VARCHAR)' for k in rule), j)
            for j, rule in enumerate(rules)
        )  # fmt: skip
        ones = ", ".join(
            " + ".join(f"bit_count(f.f{f}_{j})" for j in range(w)) + f" AS ones{f}"
            for f, w in enumerate(words)
        )
        sql = (f"SELECT f.*, {ones}, {hashed} FROM __filters f "
               f"JOIN src_{i} p USING (__row)")  # fmt: skip
        if i == 0:
            con.execute(f"CREATE TABLE bf AS {sql}")
        else:
            con.execute(f"INSERT INTO bf {sql}")
        con.unregister("__filters")
        del out, prepared
    return words


def _dice_sql(words: list[int], balanced: bool) -> str:
    """Dice of two records' filters over the fields both records have (``a`` and ``b``).

    Balanced filters have half their bits set, so unrelated values share half their set bits
    by chance: their Dice is rescaled, ``2 dice - 1`` (at least 0), to read like a plain one.
    """
    both, size = [], []
    for f, w in enumerate(words):
        shared = f"(((a.present & b.present) >> {f}) & 1)"
        common = " + ".join(f"bit_count(a.f{f}_{j} & b.f{f}_{j})" for j in range(w))
        both.append(f"{shared} * ({common})")
        size.append(f"{shared} * (a.ones{f} + b.ones{f})")
    dice = f"2.0 * ({' + '.join(both)}) / greatest({' + '.join(size)}, 1)"
    return f"greatest(2 * {dice} - 1, 0)" if balanced else dice


def bloom_link_records(con, frames, compared, rules, n, *, key, threshold, hardening, link):
    """The linkage unit's side: candidate pairs, Dice and links, in DuckDB.

    Returns the cluster label of each record (by ``__row``) and the SQL of the scored pairs.
    """
    from scipy.sparse import coo_matrix
    from scipy.sparse.csgraph import connected_components

    from healthlab.sharing.frames import _sources, best_links

    hardening = _check_hardening(hardening)
    words = _encode_sources(con, frames, compared, rules, key, hardening)
    order = "a.src < b.src" if link else "a.__row < b.__row"
    joins = " UNION ALL ".join(
        f"SELECT a.__row AS l, b.__row AS r FROM bf a JOIN bf b ON a.h{j} = b.h{j} AND {order}"
        for j in range(len(rules))
    )
    score = _dice_sql(words, bool(hardening.get("balance")))
    con.execute(f"""
        CREATE TABLE scored AS
        SELECT c.l, c.r, a.src AS src_l, b.src AS src_r, {score} AS dice
        FROM (SELECT DISTINCT l, r FROM ({joins})) c
        JOIN bf a ON a.__row = c.l JOIN bf b ON b.__row = c.r
    """)
    where = f"dice >= {float(threshold)!r}"
    hit = con.execute(f"SELECT l, r, dice FROM scored WHERE {where}").fetchnumpy()
    left, right = hit["l"].astype(np.int64), hit["r"].astype(np.int64)
    if link:
        label = best_links(left, right, hit["dice"], _sources(frames), n)
    else:
        graph = coo_matrix((np.ones(len(left)), (left, right)), shape=(n, n))
        _, label = connected_components(graph, directed=False)
    pairs_sql = (
        "SELECT sl.name AS system_l, a.local_id AS local_id_l, sr.name AS system_r, "
        "b.local_id AS local_id_r, s.dice FROM scored s "
        "JOIN records a ON a.__row = s.l JOIN records b ON b.__row = s.r "
        "JOIN sources sl ON sl.src = s.src_l JOIN sources sr ON sr.src = s.src_r"
    )
    return label, pairs_sql
