"""Identifier noise: the errors registration clerks make, at documented rates.

Each patient record of each system gets each kind of error independently with the rate of
:data:`NOISE` (or the rates the caller gives):

``name_typo``
    In characters, the last given-name character is replaced by a homophone (the slip of a
    pinyin input method), or by another name character where it has none. In pinyin, one
    letter of the given name is replaced by another.
``birth_date_transposed``
    Day and month swapped where both are 12 or less and differ; otherwise the last two digits
    of the year swapped (1985 becomes 1958); where those are equal, the day moves by one.
``resident_id_missing``, ``resident_id_typo``
    The number is left empty; or one digit of its birth date or sequence is mistyped (the
    check character is kept, so most typos fail the check; the area code is never touched, so
    a mistyped number is still one that was never issued).
``phone_missing``, ``phone_changed``
    No phone; or a different (also reserved-range) number.
``address_changed``
    A different street address in the same district (the patient moved).
``sex_miscoded``
    The other sex.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from healthlab._validation import rates
from healthlab.synth.identities import draw_addresses, given_name_table

#: Default rate of each kind of identifier error, per patient record.
NOISE = {
    "name_typo": 0.03,
    "birth_date_transposed": 0.02,
    "resident_id_missing": 0.10,
    "resident_id_typo": 0.02,
    "phone_missing": 0.15,
    "phone_changed": 0.05,
    "address_changed": 0.10,
    "sex_miscoded": 0.005,
}


def check_noise(noise) -> dict[str, float]:
    """Rates from ``noise``: None or True (the defaults), 0 or False (none), or a dict of some."""
    return rates(noise, "noise", NOISE)


def _chars(strings: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Strings as a (n, width) array of single characters, and their lengths."""
    s = np.asarray(strings, dtype=str)
    width = max(int(np.char.str_len(s).max()) if len(s) else 1, 1)
    return s.astype(f"U{width}").view("U1").reshape(len(s), width), np.char.str_len(s)


def _join(chars: np.ndarray) -> np.ndarray:
    width = chars.shape[1]
    return np.ascontiguousarray(chars).view(f"U{width}").ravel().astype(object)


def _homophones(last: np.ndarray, rng) -> np.ndarray:
    """A character that sounds like each of ``last``, or another name character if none does."""
    g = given_name_table().drop_duplicates("char")
    by_py = g.groupby("pinyin")["char"].agg(list)
    alt = {c: next((x for x in by_py[p] if x != c), None) for c, p in zip(g["char"], g["pinyin"])}
    first = pd.Series(last, dtype=object).map(alt)
    pool = g["char"].to_numpy(object)
    idx = rng.integers(0, len(pool), len(last))
    idx = np.where(pool[idx] == last, (idx + 1) % len(pool), idx)
    return np.where(first.notna().to_numpy(), first.to_numpy(object), pool[idx])


def apply_noise(rec: pd.DataFrame, script: np.ndarray, rates: dict, rng) -> pd.DataFrame:
    """Noisy identifiers for each record, with one flag column per kind of error.

    ``rec`` holds the true identity of each record (``surname``, ``given_name``,
    ``name_pinyin``, ``sex``, ``birth_date``, ``resident_id``, ``phone``, ``address``,
    ``address_pinyin``, ``province_code``, ``district``); ``script`` says per record whether the
    system writes names in ``characters`` or ``pinyin``.
    """
    n = len(rec)
    flags = {k: rng.random(n) < rates[k] for k in NOISE}
    # Exclusive pairs: a missing id cannot also be mistyped, a missing phone not changed.
    flags["resident_id_typo"] &= ~flags["resident_id_missing"]
    flags["phone_changed"] &= ~flags["phone_missing"]
    out = pd.DataFrame(index=rec.index)
    # Names.
    given = rec["given_name"].to_numpy(object)
    typo = flags["name_typo"]
    last = pd.Series(given).str[-1].to_numpy(object)
    replaced = pd.Series(given).str[:-1].to_numpy(object) + _homophones(last, rng)
    chars_name = rec["surname"].to_numpy(object) + np.where(typo, replaced, given)
    py = rec["name_pinyin"].astype(str).str.split(" ", n=1, expand=True)
    sur_py = py[0].str.upper().to_numpy(object)
    given_py = py[1].to_numpy(object)
    if typo.any():
        arr, length = _chars(given_py)
        pos = 1 + (rng.random(n) * np.maximum(length - 1, 1)).astype(int)
        pos = np.minimum(pos, arr.shape[1] - 1)
        letters = np.array(list("abcdefghijklmnopqrstuvwxyz"))
        new = letters[rng.integers(0, 26, n)]
        new = np.where(new == arr[np.arange(n), pos], "x", new)
        arr[np.arange(n)[typo], pos[typo]] = new[typo]
        typo_py = _join(arr)
        given_py = np.where(typo & (length > 1), typo_py, given_py)
        flags["name_typo"] = typo & ((script == "characters") | (length > 1))
    out["name"] = np.where(script == "pinyin", sur_py + " " + given_py, chars_name)
    # Sex.
    sex = rec["sex"].astype(str).to_numpy()
    out["sex"] = np.where(flags["sex_miscoded"], np.where(sex == "M", "F", "M"), sex)
    # Birth dates.
    b = pd.to_datetime(rec["birth_date"])
    y, m, d = b.dt.year.to_numpy(), b.dt.month.to_numpy(), b.dt.day.to_numpy()
    swap_dm = (d <= 12) & (d != m)
    y_swapped = (y // 100) * 100 + (y % 10) * 10 + (y // 10) % 10
    year_ok = (y_swapped != y) & ~((m == 2) & (d == 29))
    day_shift = np.where(d >= 28, d - 1, d + 1)
    ny = np.where(swap_dm, y, np.where(year_ok, y_swapped, y))
    nm = np.where(swap_dm, d, m)
    nd = np.where(swap_dm, m, np.where(year_ok, d, day_shift))
    t = flags["birth_date_transposed"]
    moved = pd.to_datetime(
        pd.DataFrame({"year": np.where(t, ny, y), "month": np.where(t, nm, m),
                      "day": np.where(t, nd, d)})
    )  # fmt: skip
    out["birth_date"] = moved.to_numpy()
    # Resident ids.
    rid = rec["resident_id"].astype(str).to_numpy()
    arr, _ = _chars(rid)
    pos = rng.integers(6, 17, n)  # never the area code: its "00" keeps the id unissuable
    digit = rng.integers(0, 9, n).astype(str)
    cur = arr[np.arange(n), pos]
    digit = np.where(digit == cur, "9", digit)
    tt = flags["resident_id_typo"]
    arr[np.arange(n)[tt], pos[tt]] = digit[tt]
    rid_noisy = _join(arr)
    out["resident_id"] = np.where(flags["resident_id_missing"], None, rid_noisy)
    # Phones.
    new_phone = "100" + pd.Series(rng.integers(0, 10**8, n)).astype(str).str.zfill(8).to_numpy(
        object
    )
    phone = np.where(flags["phone_changed"], new_phone, rec["phone"].to_numpy(object))
    out["phone"] = np.where(flags["phone_missing"], None, phone)
    # Addresses.
    zh, pyaddr = draw_addresses(rec["province_code"].to_numpy(), rec["district"], rng)
    moved_a = flags["address_changed"]
    out["address"] = np.where(moved_a, zh, rec["address"].to_numpy(object))
    out["address_pinyin"] = np.where(moved_a, pyaddr, rec["address_pinyin"].to_numpy(object))
    for k in NOISE:
        out[f"noise_{k}"] = flags[k]
    return out
