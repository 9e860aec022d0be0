"""Patient identifiers of several systems, read through their mappings into one standard form.

Each system writes names, sexes, birth dates and addresses its own way. Linkage compares
them in one form, made here without a loop over records:

``name_zh``
    The name in Chinese characters where the system keeps characters, else missing.
``surname_py``, ``given_py``, ``name_py``
    The name in toneless lower-case pinyin. Names kept in characters are transliterated
    with healthlab's surname and given-name tables (a compound surname such as 欧阳 is
    recognised first), so a homophone typo in characters gives the same pinyin, as it
    would to a clerk reading it aloud.
``sex``
    ``F`` or ``M`` through the mapping's ``map``.
``birth_date``, ``birth_year``
    ISO date text (``YYYY-MM-DD``) parsed with the mapping's ``format``; the year.
``resident_id``, ``phone``
    Upper-cased, stripped; empty values are missing.
``address_key``
    The street number, building and room, read by the mapping's ``pattern`` (named groups
    ``number``, ``building``, ``room``) and joined as ``number-building-room``: the part of
    an address written the same way in characters and in pinyin.
"""

from __future__ import annotations

from functools import cache

import pandas as pd

from healthlab.sharing.spec import MappingError, check_mapping, field, load_mapping, read_table

__all__ = ["IDENTIFIER_COLUMNS", "TEXT", "read_identifiers", "standardise_identifiers"]

#: Text columns are Arrow strings: pandas runs their string methods (regular expressions
#: included) in Arrow, not value by value in Python.
TEXT = pd.StringDtype("pyarrow")
#: Whitespace as Python's ``\\s`` means it, written out: Arrow's regular expressions (RE2) then
#: run it (pandas hands a ``\\s`` pattern to Python's ``re``, value by value).
SPACE = "[" + "".join(c for c in map(chr, range(0x3001)) if c.isspace()) + "]"

IDENTIFIER_COLUMNS = ["system", "local_id", "name_zh", "surname_py", "given_py", "name_py",
                      "sex", "birth_date", "birth_year", "resident_id", "phone",
                      "address_key"]  # fmt: skip


@cache
def _pinyin_tables():
    from healthlab.synth.identities import given_name_table, surname_table

    s = surname_table()
    g = given_name_table().drop_duplicates("char")
    surname = dict(zip(s["char"], s["pinyin"].str.lower(), strict=True))
    given = dict(zip(g["char"], g["pinyin"].str.lower(), strict=True))
    compound = {c for c in surname if len(c) > 1}
    return surname, given, compound


def _text(values: pd.Series) -> pd.Series:
    out = values.astype(TEXT).str.strip()
    return out.mask(out == "")


def _chars_to_pinyin(names: pd.Series) -> tuple[pd.Series, pd.Series]:
    surname_map, given_map, compound = _pinyin_tables()
    two = names.str[:2].isin(compound)
    surname = names.str[:1].where(~two, names.str[:2])
    given = names.str[1:].where(~two, names.str[2:])
    sur_py = surname.map(surname_map).fillna(surname)
    given_py = pd.Series("", index=names.index, dtype=TEXT)
    for i in range(int(given.str.len().max() or 0)):  # characters of a given name: at most 3
        ch = given.str[i]
        given_py = given_py + ch.map(given_map).fillna(ch).fillna("")
    return sur_py.astype(TEXT), given_py.mask(given.isna())


def _extract(values: pd.Series, pattern: str) -> pd.DataFrame:
    """Named groups of ``pattern`` in each value (vectorised in Arrow when it can be)."""
    import pyarrow as pa
    import pyarrow.compute as pc

    try:
        found = pc.extract_regex(pa.array(values.astype(object), type=pa.string()), pattern)
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):  # not RE2, or no named groups
        return values.str.extract(pattern)
    names = [found.type.field(i).name for i in range(found.type.num_fields)]
    invalid = ~found.is_valid().to_numpy(zero_copy_only=False)
    out = pd.DataFrame(
        {n: found.field(n).to_numpy(zero_copy_only=False) for n in names}, index=values.index
    ).astype(TEXT)
    out.loc[invalid] = pd.NA
    return out


def standardise_identifiers(raw: pd.DataFrame, spec: dict, system: str) -> pd.DataFrame:
    """Identifiers of one system (columns under logical names) in the standard form.

    Parameters
    ----------
    raw : pandas.DataFrame
        ``local_id``, ``name``, ``sex``, ``birth_date`` and, where mapped, ``resident_id``,
        ``phone``, ``address``, as text.
    spec : dict
        The system's mapping (its ``person`` section is used).
    system : str
        The system's name, written in the ``system`` column.

    Returns
    -------
    pandas.DataFrame
        The columns of :data:`IDENTIFIER_COLUMNS`.
    """
    person = spec["person"]
    out = pd.DataFrame({"system": system, "local_id": _text(raw["local_id"])}, index=raw.index)
    name = _text(raw.get("name", pd.Series(pd.NA, index=raw.index)))
    script = field(person, "name").get("script", "characters")
    if script == "pinyin":
        parts = name.str.lower().str.split(" ", n=1)
        out["name_zh"] = pd.Series(pd.NA, index=raw.index, dtype=TEXT)
        out["surname_py"] = parts.str[0].astype(TEXT)
        out["given_py"] = parts.str[1].str.replace(" ", "", regex=False).astype(TEXT)
    elif script == "characters":
        out["name_zh"] = name.str.replace(" ", "", regex=False)
        out["surname_py"], out["given_py"] = _chars_to_pinyin(out["name_zh"])
    else:
        raise MappingError(
            f"system {system!r}, table {person['table']!r}: name script must be 'characters' "
            f"or 'pinyin', got {script!r}"
        )
    out["name_py"] = out["surname_py"] + out["given_py"].fillna("")
    sex = field(person, "sex")
    out["sex"] = _text(raw["sex"]).map(sex.get("map", {"F": "F", "M": "M"})).astype(TEXT)
    fmt = field(person, "birth_date").get("format", "%Y-%m-%d")
    born = pd.to_datetime(_text(raw["birth_date"]), format=fmt, errors="coerce")
    out["birth_date"] = born.dt.strftime("%Y-%m-%d").astype(TEXT)
    out["birth_year"] = born.dt.year.astype("Int64").astype(TEXT)
    for key in ("resident_id", "phone"):
        col = raw[key] if key in raw else pd.Series(pd.NA, index=raw.index)
        out[key] = _text(col).str.upper().str.replace(SPACE, "", regex=True)
    address = _text(raw["address"]) if "address" in raw else None
    pattern = field(person, "address").get("pattern")
    if address is not None and pattern:
        parts = _extract(address, pattern)
        if {"number", "building", "room"} <= set(parts.columns):
            key = parts["number"] + "-" + parts["building"] + "-" + parts["room"]
        else:  # groups of another pattern, joined in order; missing if any is
            key = parts.iloc[:, 0].astype(TEXT)
            for c in parts.columns[1:]:
                key = key + "-" + parts[c].astype(TEXT)
        out["address_key"] = key.astype(TEXT)
    else:
        out["address_key"] = address
    return out[IDENTIFIER_COLUMNS].reset_index(drop=True)


def read_identifiers(systems, mappings: dict | None = None) -> pd.DataFrame:
    """Read and standardise the patient identifiers of every system.

    Parameters
    ----------
    systems : HospitalSystems, Dataset, folder or dict
        The hospital systems (as :func:`healthlab.sharing.link_systems` takes them), or a
        dict of system name to its SQLite database.
    mappings : dict, optional
        System name to its mapping (a shipped name, a YAML path or a dict); by default the
        shipped mapping of the same name.

    Returns
    -------
    pandas.DataFrame
        One row per patient record, the columns of :data:`IDENTIFIER_COLUMNS`.

    Examples
    --------
    >>> from healthlab.synth import make_population, make_clinical, make_hospital_systems
    >>> people = make_population(300, seed=0)
    >>> ids = read_identifiers(make_hospital_systems(people, make_clinical(people, seed=0)))
    >>> ids["system"].unique().tolist()
    ['renmin', 'zhongxin', 'xianyi']
    """
    from healthlab.synth.systems import opened_systems

    with opened_systems(systems) as paths:
        return _read_identifiers(paths, mappings)


def _read_identifiers(paths: dict, mappings) -> pd.DataFrame:
    frames = []
    for system, path in paths.items():  # one pass per system, a handful
        spec = load_mapping((mappings or {}).get(system, system))
        check_mapping(spec, path, system)
        person = spec["person"]
        cols = {"local_id": person["id"]}
        for key in ("name", "sex", "birth_date", "resident_id", "phone", "address"):
            col = field(person, key).get("column")
            if col is not None:
                cols[key] = col
        raw = read_table(path, person["table"], cols)
        frames.append(standardise_identifiers(raw, spec, system))
    out = pd.concat(frames, ignore_index=True)
    dup = out.duplicated(["system", "local_id"])
    if dup.any():
        row = out[dup].iloc[0]
        raise MappingError(
            f"system {row['system']!r}: patient id {row['local_id']!r} appears more than once; "
            "the mapped person id column must be the table's key"
        )
    return out.astype({c: TEXT for c in IDENTIFIER_COLUMNS})
